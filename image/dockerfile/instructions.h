// SPDX-License-Identifier: Apache-2.0
// Typed Dockerfile instructions and stages, from the parser's nodes, with Docker's checks and
// error texts (BuildKit's frontend/dockerfile/instructions): argument counts, each
// instruction's flags ("unknown flag: foo", "missing a value on flag: from", ...), FROM's
// `AS name`, HEALTHCHECK's durations, ONBUILD's forbidden triggers.
//
// Values are as written (quotes still in ENV/LABEL/ARG values, `$VAR` unexpanded): the builder
// expands them per step with expand_instruction() and the environment in effect.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "image/dockerfile/expand.h"
#include "image/dockerfile/parser.h"
#include "runtime/base/error.h"

namespace mydocker::image::dockerfile {

// RUN/CMD/ENTRYPOINT: exec form (`args` as given) or shell form (`args` is one string, to run
// with the stage's SHELL).
struct CommandLine {
  std::vector<std::string> args;
  bool prepend_shell = true;   // shell form
  std::vector<Heredoc> files;  // RUN's heredocs
};

struct KeyValue {
  std::string key;
  std::string value;
};

struct ArgDef {
  std::string key;
  std::optional<std::string> value;  // the default, unexpanded
};

// A COPY/ADD source given inline as a heredoc (`COPY <<EOF /dest`).
struct SourceContent {
  std::string path;  // the heredoc's name: the file name in the destination
  std::string data;  // already chomped for `<<-`
  bool expand = true;
};

struct SourcesAndDest {
  std::vector<std::string> sources;
  std::vector<SourceContent> contents;
  std::string dest;
};

struct FromCmd {
  std::string base;        // image, `scratch` or a previous stage's name
  std::string stage_name;  // lower case, "" when no `AS`
  std::string platform;
};
struct RunCmd {
  CommandLine cmd;
  std::vector<std::string> mounts;  // `--mount` values, unparsed
  std::string network;              // "", "default", "none" or "host"
  std::string security;             // "", "sandbox" or "insecure"
};
struct CmdCmd {
  CommandLine cmd;
};
struct EntrypointCmd {
  CommandLine cmd;  // empty args (`ENTRYPOINT []`) resets it
};
struct ShellCmd {
  std::vector<std::string> shell;
};
struct CopyCmd {
  SourcesAndDest paths;
  std::string from, chown, chmod;
  bool link = false;
  bool parents = false;
  std::vector<std::string> excludes;
};
struct AddCmd {
  SourcesAndDest paths;
  std::string chown, chmod, checksum;
  bool link = false;
  bool keep_git_dir = false;
  std::optional<bool> unpack;
  std::vector<std::string> excludes;
};
struct EnvCmd {
  std::vector<KeyValue> env;
};
struct LabelCmd {
  std::vector<KeyValue> labels;
};
struct ArgCmd {
  std::vector<ArgDef> args;
};
struct WorkdirCmd {
  std::string path;
};
struct UserCmd {
  std::string user;
};
struct ExposeCmd {
  std::vector<std::string> ports;  // sorted, as Docker keeps them
};
struct VolumeCmd {
  std::vector<std::string> volumes;
};
struct StopSignalCmd {
  std::string signal;
};
struct HealthcheckCmd {
  // Docker's HealthConfig.Test: {"NONE"}, {"CMD", args...} or {"CMD-SHELL", command}.
  std::vector<std::string> test;
  int64_t interval_ns = 0, timeout_ns = 0, start_period_ns = 0, start_interval_ns = 0;
  int retries = 0;
};
struct OnbuildCmd {
  std::string expression;  // the trigger as written (what goes into the image's OnBuild)
  Node trigger;            // parsed; typed by parse_instruction() when it fires
};
struct MaintainerCmd {
  std::string maintainer;
};

using Command = std::variant<FromCmd, RunCmd, CmdCmd, EntrypointCmd, ShellCmd, CopyCmd, AddCmd,
                             EnvCmd, LabelCmd, ArgCmd, WorkdirCmd, UserCmd, ExposeCmd, VolumeCmd,
                             StopSignalCmd, HealthcheckCmd, OnbuildCmd, MaintainerCmd>;

struct Instruction {
  Command cmd;
  std::string keyword;   // upper case: "RUN"
  std::string original;  // the logical line, for "Step 2/5 : RUN ..." and the history
  int line = 0;          // first line
  int end_line = 0;

  template <typename T>
  const T* as() const {
    return std::get_if<T>(&cmd);
  }
  template <typename T>
  T* as() {
    return std::get_if<T>(&cmd);
  }
};

struct Stage {
  std::string name;  // lower case; "" when unnamed
  std::string base;  // FROM's image (unexpanded)
  std::string platform;
  std::string source;  // the FROM line, trimmed
  int line = 0;
  std::vector<Instruction> commands;  // after FROM
};

struct Dockerfile {
  std::vector<Directive> directives;
  char escape = '\\';
  std::vector<Instruction> meta_args;  // ARGs before the first FROM: the global scope
  std::vector<Stage> stages;
  std::vector<Warning> warnings;
};

// One node -> one instruction. Errors: "dockerfile parse error line N: ...".
base::Result<Instruction> parse_instruction(const Node& node);

// The whole file: parse_ast() then parse_instruction() per node, split into stages at FROM.
// An instruction other than ARG before the first FROM: "no build stage in current context".
base::Result<Dockerfile> parse_dockerfile(std::string_view text);

// The ONBUILD triggers of a base image (its config's OnBuild strings), parsed as the instructions
// they run as when a build starts FROM it; ONBUILD, FROM and MAINTAINER are refused with
// Docker's texts. Lines in errors are the trigger's own.
base::Result<std::vector<Instruction>> parse_triggers(const std::vector<std::string>& onbuild);

// Whether Docker's builder substitutes variables in this instruction's arguments (ADD COPY ENV
// EXPOSE FROM LABEL STOPSIGNAL USER VOLUME WORKDIR ARG; ONBUILD's trigger only when it fires).
bool expands_variables(const Instruction& instruction);

// Substitutes variables in the fields Docker expands (ENV keys and values, LABEL keys and
// values, ARG names and defaults, COPY/ADD sources, destination, --from/--chown/--chmod/
// --checksum and heredoc bodies whose delimiter is unquoted (quotes kept there), WORKDIR, USER,
// STOPSIGNAL, VOLUME paths, EXPOSE (split into words), FROM's image and --platform); a no-op
// for the others. `escape` is the Dockerfile's escape character.
base::Result<void> expand_instruction(Instruction& instruction, const Env& env, char escape);

// Docker's global scope (the classic builder's meta args): the ARGs before the first FROM, in
// order, each default expanded with the ones before it; a build arg of the same name replaces
// the default. An ARG with neither a default nor a build arg stays unset. The result is what
// FROM's image and --platform expand with, and what a bare `ARG NAME` inside a stage picks up.
base::Result<Env> resolve_meta_args(const Dockerfile& dockerfile, const Env& build_args);

// How a RUN (or a CMD/ENTRYPOINT at run time) executes, heredocs included, as BuildKit turns
// it into a process:
//  - exec form: the args as given;
//  - shell form: `shell` (the stage's SHELL, default {"/bin/sh", "-c"}) + the command;
//  - `RUN <<EOF` alone: the (chomped) heredoc body is the shell command; when it starts with
//    `#!` it is written as an executable `script` at `script_path` (a private read-only mount
//    in /dev/pipes/) and that path is the command;
//  - heredocs inside a longer command (`RUN python3 <<EOF`, `RUN <<A cat && <<B cat`): the
//    line and the bodies are rejoined into one script for the shell to read as heredocs.
struct RunPlan {
  std::vector<std::string> args;
  std::string script_path;  // empty unless a `#!` heredoc is run as a file
  std::string script;
};
base::Result<RunPlan> plan_run(const CommandLine& cmd, const std::vector<std::string>& shell);

// Go's time.ParseDuration, in nanoseconds ("1m30s", "500ms", "1.5h").
base::Result<int64_t> parse_go_duration(std::string_view s);

// One instruction in dump()'s line format: `LINE[-END] KEYWORD {json of its fields}`.
std::string dump_instruction(const Instruction& instruction);

// A stable, line-per-instruction text of the parse (the golden tests' format):
//   directive escape=` (line 1)
//   escape `
//   meta 2 ARG {"args":[...]}
//   stage 0 3 FROM {"base":"busybox","name":"build"}
//     4-6 RUN {"shell":["..."],"files":[...]}
//   warning 7: Empty continuation line found in: ...
std::string dump(const Dockerfile& dockerfile);

}  // namespace mydocker::image::dockerfile
