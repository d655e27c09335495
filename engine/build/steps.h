// SPDX-License-Identifier: Apache-2.0
// The pure half of the build executor: how each Dockerfile instruction changes a stage's
// config, and the texts Docker's classic builder records for it (moby builder/dockerfile
// dispatchers.go and internals.go, Docker 20.10). No I/O: builder.cpp applies these to images
// and containers; the unit tests check them without root.
//
// Docker commits every step. The image's "config" is the stage's run config after the step;
// its "container_config" is the same config with Cmd replaced by a no-op comment
// (`["/bin/sh", "-c", "#(nop) ", "LABEL a=b"]`, or the one-word form `"#(nop) COPY ..."` for
// WORKDIR, COPY and ADD), whose words joined by spaces are the history's created_by. RUN's
// container_config Cmd is the command itself, prefixed with `|N K=V ...` when build args are in
// effect, and without entrypoint.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "image/content/image_config.h"
#include "image/dockerfile/instructions.h"
#include "runtime/base/error.h"

namespace mydocker::engine::build {

using image::content::RunConfig;

// Docker's default PATH, added to a stage's Env when its base has none.
inline constexpr std::string_view kDefaultPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// A stage's state between steps (moby's dispatchState, without the image ID).
struct StageState {
  RunConfig config;
  std::string maintainer;
  bool cmd_set = false;  // a CMD with arguments ran in this stage (ENTRYPOINT keeps Cmd then)
};

// The state at FROM: a copy of the base's config (none for scratch) with Docker's default PATH
// when it has none, no stdin, and no OnBuild (the triggers are run, not inherited).
StageState begin_stage(const std::optional<RunConfig>& base);

// The shell in effect: SHELL's, else {"/bin/sh", "-c"}.
std::vector<std::string> shell_of(const RunConfig& config);

// What a metadata step commits: the comment (created_by's text after "#(nop) ") and the notes
// Docker prints while dispatching ("Note: overriding previous HEALTHCHECK: [...]\n").
struct MetaStep {
  std::string comment;
  std::vector<std::string> notes;
};

// Applies one expanded metadata instruction (ENV, LABEL, MAINTAINER, CMD, ENTRYPOINT,
// HEALTHCHECK, EXPOSE, USER, VOLUME, STOPSIGNAL, SHELL, ONBUILD, ARG) to `state`. Errors are
// Docker's ("VOLUME specified can not be an empty string", "Invalid signal: X", "invalid
// containerPort: x"); `state` is unchanged then. Other instructions: InvalidArgument.
base::Result<MetaStep> apply_metadata(StageState& state,
                                      const image::dockerfile::Instruction& instruction);

// WORKDIR's new directory: `requested` (absolute, or relative to `current`), cleaned.
std::string normalize_workdir(std::string_view current, std::string_view requested);

// The container_config of a commit: `config` with Cmd = shell + ["#(nop) ", comment] (two
// words) or shell + ["#(nop) " + comment] (one word).
RunConfig comment_config(const RunConfig& config, std::string_view comment, bool one_word);

// RUN: what runs and what is recorded.
struct RunStep {
  std::vector<std::string> cmd;       // the process (shell form: the shell + the command)
  std::vector<std::string> save_cmd;  // history/cache: "|N", "K=V"..., then cmd
  std::vector<std::string> env;       // the container's Env: the stage's plus the build args
  RunConfig container_config;         // recorded with the commit (Cmd = save_cmd)
};
// `args`: plan_run()'s result. `run_args`: the build args in effect that no ENV overrides
// (StageScope::run_args()); `declared`: the args an ARG of this stage (or the global scope)
// declared, so a predefined proxy arg that no ARG names stays out of the history, as Docker.
RunStep plan_run_step(const StageState& state, std::vector<std::string> args,
                      const std::map<std::string, std::string, std::less<>>& run_args,
                      const std::set<std::string, std::less<>>& declared);

// The error of a RUN that exited non-zero: "The command '/bin/sh -c exit 3' returned a
// non-zero code: 3" (the command's words joined by spaces, as moby's dispatchRun).
std::string run_failed_message(const std::vector<std::string>& cmd, int64_t code);

// The image config's "config" object as Docker writes a container.Config: the typed fields
// plus Docker's always-present keys (Hostname, Domainname, User, Attach*, Tty, OpenStdin,
// StdinOnce, Env, Cmd, Image, Volumes, WorkingDir, Entrypoint, OnBuild, Labels) with their
// zero values, and Image = `image` (the parent step's ID).
RunConfig docker_config(RunConfig config, const std::string& image);

// Go's formatting, for the texts Docker builds with fmt:
std::string go_duration(int64_t ns);                           // time.Duration.String()
std::string go_quote_list(const std::vector<std::string>& v);  // %q of []string: ["a" "b"]
std::string go_list(const std::vector<std::string>& v);        // %v of []string: [a b]

// EXPOSE's words -> "80/tcp" keys (nat.ParsePortSpecs: ranges expanded, protocol lower case).
// Errors: "invalid containerPort: x", "invalid proto: x", "invalid range specified for port: x".
base::Result<std::vector<std::string>> parse_exposed_ports(const std::vector<std::string>& words);

// Docker's HealthConfig as the image config stores it ({"Test": [...], "Interval": ns, ...},
// zero durations and retries left out).
nlohmann::json healthcheck_json(const image::dockerfile::HealthcheckCmd& hc);

}  // namespace mydocker::engine::build
