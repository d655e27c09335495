// SPDX-License-Identifier: Apache-2.0
// mydockerd's configuration: command-line flags plus daemon.json, with dockerd's names.
//
//   flag                       daemon.json key        default
//   -H, --host (repeatable)    hosts                  unix:///run/mydocker.sock
//   --data-root                data-root              /var/lib/mydocker
//   --exec-root                exec-root              /run/mydocker
//   -l, --log-level            log-level              info (debug|info|warn|error|fatal)
//   -D, --debug                debug                  false (true -> log level debug)
//   --config-file              -                      /etc/mydocker/daemon.json
//   -p, --pidfile              pidfile                <exec-root>/mydockerd.pid
//   -s, --storage-driver       storage-driver         "" (overlay2 when supported, else vfs)
//   --live-restore[=false]     live-restore           true (containers outlive the daemon)
//   --default-ulimit n=s[:h]   default-ulimits        none
//   ({"nofile":{"Name":..,"Soft":..,"Hard":..}})
//   --registry-mirror          registry-mirrors       none (docker.io pull mirrors, in order)
//   --registry-host-mirror h=u registry-host-mirrors  none ({"host[:port]": [urls]}: pull
//                                                     mirrors of other registries; not Docker's)
//   --insecure-registry        insecure-registries    none (host[:port] or CIDR: http and
//                                                     unverified https allowed)
//   --log-driver               log-driver             json-file (the only one)
//   --log-opt k=v              log-opts               none (max-size, max-file, ...)
//   -G, --group                group                  mydocker (socket group when it exists)
//   --cgroup-parent            cgroup-parent          /mydocker
//   --shim-path                shim-path              "" (mydocker-shim next to mydockerd)
//   -b, --bridge               bridge                 mydocker0 (the default network's Linux
//                                                     bridge, created when missing; "none":
//                                                     no default bridge, loopback only)
//   --bip                      bip                    "" (the default bridge's address/subnet,
//                                                     e.g. 10.99.0.1/24; "" picks a free pool)
//
// As dockerd: a missing default config file is fine, a missing explicit one is an error; a
// directive given both as a flag and in the file is refused ("the following directives are
// specified both as a flag and in the configuration file: ..."), so is an unknown key ("the
// following directives don't match any configuration option: ..."); a wrong type or value
// names the key. Every error is InvalidArgument (NotFound for a missing explicit file).
//
// The pidfile default differs from dockerd's /var/run/docker.pid: it lives in the exec root
// (docs/architecture.md's volatile tree), so private daemons with their own exec root never
// share it. live-restore defaults to true (dockerd: false) because containers are run by
// per-container shims and outliving the daemon costs nothing.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/error.h"

namespace mydocker::cmd::mydockerd {

inline constexpr const char* kDefaultConfigFile = "/etc/mydocker/daemon.json";
inline constexpr const char* kDefaultHost = "unix:///run/mydocker.sock";

struct DefaultUlimit {
  std::string name;  // "nofile" (no RLIMIT_ prefix, as Docker)
  int64_t soft = 0;
  int64_t hard = 0;
};

struct Config {
  std::vector<std::string> hosts;  // as given ("unix:///path"); empty -> kDefaultHost
  std::string data_root = "/var/lib/mydocker";
  std::string exec_root = "/run/mydocker";
  std::string log_level = "info";
  bool debug = false;
  std::string pidfile;  // "" -> <exec_root>/mydockerd.pid
  std::string storage_driver;
  bool live_restore = true;
  std::vector<DefaultUlimit> default_ulimits;
  std::vector<std::string> registry_mirrors;
  std::map<std::string, std::vector<std::string>> registry_host_mirrors;
  std::vector<std::string> insecure_registries;
  std::string log_driver = "json-file";
  std::map<std::string, std::string> log_opts;
  std::string group = "mydocker";
  std::string cgroup_parent = "/mydocker";
  std::string shim_path;
  std::string bridge = "mydocker0";
  std::string bip;

  // Derived after validation.
  std::vector<std::string> socket_paths() const;  // the paths of hosts (default when empty)
  std::string pidfile_path() const;               // pidfile or the default
  std::string effective_log_level() const;        // "debug" when debug, else log_level
};

// The command line as parsed, before the file is read.
struct CommandLine {
  Config config;
  // daemon.json names of the flags given explicitly -> the value as given (for the error).
  std::map<std::string, std::string> set_keys;
  std::string config_file = kDefaultConfigFile;
  bool config_file_explicit = false;
  // --help / --version: print `output` to stdout and exit 0 without starting.
  bool exit_now = false;
  std::string output;
};

// argv[0] is the program name. InvalidArgument with CLI11's message for a bad flag.
base::Result<CommandLine> parse_command_line(const std::vector<std::string>& args);

// Applies a daemon.json text over `config`: refuses keys in `flag_keys`, unknown keys, and
// wrong types or values. `file` names the file in errors.
base::Result<void> apply_config_file(std::string_view text, std::string_view file,
                                     const std::map<std::string, std::string>& flag_keys,
                                     Config& config);

// Validates the merged configuration (hosts, log level, ulimits, storage driver, log opts).
base::Result<void> validate(const Config& config);

// parse_command_line + reading the config file + apply_config_file + validate.
base::Result<CommandLine> load(const std::vector<std::string>& args);

// "name=soft[:hard]" (hard defaults to soft). InvalidArgument naming the value.
base::Result<DefaultUlimit> parse_ulimit(std::string_view text);

// "unix:///path" -> "/path"; "unix://" -> the default socket. InvalidArgument for other
// schemes ("tcp://" hosts are not supported yet).
base::Result<std::string> socket_path_of(std::string_view host);

}  // namespace mydocker::cmd::mydockerd
