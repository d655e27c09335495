// SPDX-License-Identifier: Apache-2.0
// The pieces every verb of the mydocker CLI shares: the client, error reporting, exit codes.
//
// Each verb file registers its subcommand(s) with CLI11 and returns the action main runs when
// that subcommand was parsed. Actions return the process exit status.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/client/client.h"
#include "image/reference/reference.h"
#include "runtime/base/error.h"

namespace mydocker::cli {

struct Globals {
  std::optional<std::string> host;  // -H/--host
  bool debug = false;
};

using Action = std::function<int()>;

// Collects (subcommand, action) pairs; main runs the action of the parsed subcommand.
class Registry {
 public:
  explicit Registry(Globals& globals) : globals_(globals) {}
  Globals& globals() { return globals_; }
  void add(CLI::App* app, Action action) { entries_.push_back({app, std::move(action)}); }
  // The action of the deepest parsed subcommand, if any.
  std::optional<Action> selected() const;

 private:
  Globals& globals_;
  std::vector<std::pair<CLI::App*, Action>> entries_;
};

// The client for -H / MYDOCKER_HOST / DOCKER_HOST (errors: a bad or unsupported host).
base::Result<api::client::Client> make_client(const Globals& globals);

// Prints `e` as docker does (the message alone, on stderr) and returns `code`.
int report(const base::Error& e, int code = 1);
// Writes all of `data` to stdout (fflush'd: output streams as it arrives).
void write_out(std::string_view data);
void write_err(std::string_view data);
// The current Unix time.
int64_t unix_now();
// True when fd refers to a terminal.
bool is_terminal(int fd);
// Reads a whole file (for --env-file and seccomp profiles).
base::Result<std::string> read_text_file(const std::string& path);
std::optional<std::string> get_env(const std::string& name);

// Prints `warning` and docker's "Are you sure you want to continue? [y/N] "; true on y/Y.
bool confirm(const std::string& warning);
// Prints a prune answer's deleted items under `title` and returns SpaceReclaimed.
uint64_t print_pruned(const api::client::Json& r, const char* list_key, const char* title);

// The current time as "sec.nanosec", the form docker's --since takes.
std::string unix_now_nanos();

// A repeatable option taking one value per occurrence (`-e A -e B`).
CLI::Option* add_multi(CLI::App* app, const std::string& names, std::vector<std::string>& out,
                       const std::string& help);

// The X-Registry-Auth value for `ref`'s registry from the docker config file (login.cpp):
// "e30=" ({}) when there are no stored credentials. A config file that cannot be read, or that
// names a credential helper for the registry (not supported), is a warning on stderr and no
// credentials.
std::string registry_auth_for(const image::reference::Reference& ref);

// Pulls `ref` (tagged or by digest) through POST /images/create with the stored credentials,
// rendering the daemon's progress stream on `out` (stdout for pull, stderr for run/create) as
// docker does, or nowhere when `out` is null (pull.cpp). Errors: the request's, or the stream's
// in-band error (Internal, its message as sent).
base::Result<void> pull_image(const api::client::Client& client,
                              const image::reference::Reference& ref, const std::string& platform,
                              std::FILE* out);
// Renders a progress stream response of `path` on `out` (null: discarded); calls `aux` with
// the aux objects (pull.cpp).
base::Result<void> stream_progress(const api::client::Client& client, std::string_view path,
                                   const api::client::Query& query,
                                   const api::client::Headers& headers, std::FILE* out,
                                   const std::function<void(const api::client::Json&)>& aux);

// The verbs; each registers under `parent` (the root app, or a group such as `container`).
void register_run(CLI::App& parent, Registry& reg);     // run.cpp
void register_create(CLI::App& parent, Registry& reg);  // run.cpp
void register_container_verbs(CLI::App& parent, Registry& reg,
                              bool in_group);                                     // containers.cpp
void register_ps(CLI::App& parent, Registry& reg, const std::string& name);       // ps.cpp
void register_logs(CLI::App& parent, Registry& reg);                              // logs.cpp
void register_inspect(CLI::App& parent, Registry& reg, const std::string& type);  // inspect.cpp
void register_image_verbs(CLI::App& parent, Registry& reg, bool in_group);        // images.cpp
void register_system_verbs(CLI::App& parent, Registry& reg, bool in_group);       // system.cpp
void register_container_prune(CLI::App& parent, Registry& reg);                   // containers.cpp
void register_image_prune(CLI::App& parent, Registry& reg);                       // images.cpp
void register_attach(CLI::App& parent, Registry& reg);                            // attach.cpp
void register_exec(CLI::App& parent, Registry& reg);                              // exec.cpp
void register_pull(CLI::App& parent, Registry& reg);                              // pull.cpp
void register_push(CLI::App& parent, Registry& reg);                              // push.cpp
void register_login(CLI::App& parent, Registry& reg);                             // login.cpp
void register_logout(CLI::App& parent, Registry& reg);                            // login.cpp
void register_events(CLI::App& parent, Registry& reg);                            // events.cpp
void register_stats(CLI::App& parent, Registry& reg);                             // stats.cpp
void register_build(CLI::App& parent, Registry& reg);                             // build.cpp
// `network` with create, ls, inspect, rm, connect, disconnect, prune; and `port` (network.cpp).
void register_network(CLI::App& parent, Registry& reg);
void register_port(CLI::App& parent, Registry& reg);
// `builder` with `build` and `prune` (build.cpp).
void register_builder(CLI::App& parent, Registry& reg);

}  // namespace mydocker::cli
