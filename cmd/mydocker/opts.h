// SPDX-License-Identifier: Apache-2.0
// docker's flag values -> Engine API fields (pure; the file reader is a parameter).
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/error.h"

namespace mydocker::cli {

using Json = nlohmann::json;
using ReadFileFn = std::function<base::Result<std::string>(const std::string& path)>;
using GetEnvFn = std::function<std::optional<std::string>(const std::string& name)>;

// go-units RAMInBytes: "512m" -> 536870912, "1.5g", "100", "64kb"; binary units.
base::Result<int64_t> parse_ram_bytes(std::string_view s);
// --cpus "1.5" -> 1500000000 NanoCpus (at most 9 decimals, as docker's ParseCPUs).
base::Result<int64_t> parse_nano_cpus(std::string_view s);
// --ulimit "nofile=1024:2048" -> {"Name":"nofile","Soft":1024,"Hard":2048}.
base::Result<Json> parse_ulimit(std::string_view s);
// --restart "on-failure:3" -> {"Name":"on-failure","MaximumRetryCount":3}.
base::Result<Json> parse_restart_policy(std::string_view s);
// --env-file content -> "K=V" entries (comments and blank lines skipped; a bare name takes
// its value from the environment, or is dropped when unset).
base::Result<std::vector<std::string>> parse_env_file(std::string_view content,
                                                      const GetEnvFn& getenv);
// -e "K" with no '=': "K=<value>" when set in the environment, else "K" unchanged.
std::string expand_env_arg(const std::string& arg, const GetEnvFn& getenv);

// The flags of run/create (and the image and command after them).
struct RunOptions {
  bool detach = false;
  bool rm = false;
  bool tty = false;
  bool interactive = false;
  std::vector<std::string> attach;  // -a: stdin, stdout, stderr (any case)
  std::string detach_keys;
  bool sig_proxy = true;
  std::string name;
  std::vector<std::string> env;
  std::vector<std::string> env_files;
  std::string workdir;
  std::string user;
  std::string hostname;
  std::vector<std::string> labels;
  std::optional<std::string> entrypoint;
  std::string restart;
  std::string memory;
  std::string memory_swap;
  std::string cpus;
  std::optional<int64_t> cpu_shares;
  std::string cpuset_cpus;
  std::optional<int64_t> pids_limit;
  bool read_only = false;
  std::vector<std::string> tmpfs;
  std::vector<std::string> cap_add;
  std::vector<std::string> cap_drop;
  std::vector<std::string> security_opt;
  bool privileged = false;
  std::vector<std::string> ulimits;
  bool init = false;
  std::string shm_size;
  std::string network;
  std::string ip;                            // --ip (the --network's endpoint)
  std::vector<std::string> network_aliases;  // --network-alias
  std::vector<std::string> publish;          // -p [ip:][hostPort:]containerPort[/proto]
  bool publish_all = false;                  // -P
  std::vector<std::string> add_hosts;        // --add-host name:ip
  std::vector<std::string> dns;              // --dns
  std::vector<std::string> expose;           // --expose port[/proto]
  std::string stop_signal;
  std::optional<int> stop_timeout;
  std::string image;
  std::vector<std::string> command;
  std::string pull = "missing";  // --pull: always, missing, never
  std::string platform;          // --platform: create's ?platform= and the pull's
  bool quiet = false;            // -q: no pull output
};

// The POST /containers/create body for `opts`. `server_auto_remove`: put --rm into
// HostConfig.AutoRemove (detached runs); the foreground run removes the container itself
// after it has read all output.
base::Result<Json> build_create_body(const RunOptions& opts, bool server_auto_remove,
                                     const ReadFileFn& read_file, const GetEnvFn& getenv);

// The flags of exec (and the container and command after them).
struct ExecFlags {
  bool detach = false;
  bool interactive = false;
  bool tty = false;
  bool privileged = false;
  std::string user;
  std::string workdir;
  std::string detach_keys;
  std::vector<std::string> env;
  std::vector<std::string> env_files;
  std::string container;
  std::vector<std::string> command;
};

// Docker's ExecConfig body (the CLI's parseExec): stdout and stderr attached unless -d, stdin
// with -i; env files first, then -e (a bare name takes its value from the environment).
base::Result<Json> build_exec_config(const ExecFlags& flags, const ReadFileFn& read_file,
                                     const GetEnvFn& getenv);

// The update body from update's flags (only the set ones).
struct UpdateOptions {
  std::string memory;
  std::string memory_swap;
  std::string cpus;
  std::optional<int64_t> cpu_shares;
  std::optional<int64_t> cpu_period;
  std::optional<int64_t> cpu_quota;
  std::string cpuset_cpus;
  std::optional<int64_t> pids_limit;
  std::string restart;
};
base::Result<Json> build_update_body(const UpdateOptions& opts);

// docker's exit status for a failed start (runStartContainerErr): 127 when the command was
// not found, 126 when it cannot be executed, else 125.
int start_error_exit_code(std::string_view message);

// --since/--until: a duration ("10m", "1h30m", "45s") becomes now minus it as Unix seconds;
// RFC 3339 becomes Unix seconds; anything else passes through for the daemon to judge.
std::string parse_time_arg(std::string_view s, int64_t now);

}  // namespace mydocker::cli
