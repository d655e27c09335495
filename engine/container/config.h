// SPDX-License-Identifier: Apache-2.0
// A container's configuration as Docker's API carries it: `Config` (ContainerConfig) and
// `HostConfig` of `POST /containers/create`. The same JSON shapes are the durable record
// (config.v2.json / hostconfig.json) and what inspect returns, so one parser and one printer
// serve the API and the store.
//
// Typed fields are the ones mydocker acts on. Every other field a client sends is kept
// verbatim in `extra` and printed back (Docker echoes unknown-to-us fields such as Dns or
// Devices in inspect), so nothing a client set is silently lost.
//
// Parsing follows Go's encoding/json as dockerd uses it: unknown keys are ignored, `null`
// means "not set", a type mismatch is an InvalidArgument whose message copies dockerd's
// (transcript 028): "json: cannot unmarshal number into Go struct field
// ContainerConfigWrapper.Image of type string" (the API layer answers it with dockerd's
// status). Value checks (memory too small, bad restart policy, ...) are separate:
// validate_host_config().
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/error.h"

namespace mydocker::engine {

struct ContainerConfig {
  std::string hostname;
  std::string domainname;
  std::string user;
  bool attach_stdin = false;
  bool attach_stdout = false;
  bool attach_stderr = false;
  bool tty = false;
  bool open_stdin = false;
  bool stdin_once = false;
  std::optional<std::vector<std::string>> env;         // null when not set
  std::optional<std::vector<std::string>> cmd;         // null when not set
  std::optional<std::vector<std::string>> entrypoint;  // null: image's; [""] or []: none
  std::string image;                                   // as the client named it
  std::string working_dir;
  std::map<std::string, std::string> labels;
  std::string stop_signal;                    // "" -> image's, else SIGTERM
  std::optional<int64_t> stop_timeout;        // seconds; null -> 10
  std::map<std::string, bool> exposed_ports;  // "80/tcp" (kept for inspect; networking later)
  std::optional<std::map<std::string, bool>> volumes;
  nlohmann::json extra = nlohmann::json::object();  // other keys, verbatim

  static base::Result<ContainerConfig> from_json(const nlohmann::json& j);
  nlohmann::json to_json() const;  // Docker's inspect shape ("Config")
};

struct RestartPolicy {
  std::string name;  // "", "no", "always", "unless-stopped", "on-failure"
  int64_t maximum_retry_count = 0;
};

struct Ulimit {
  std::string name;  // "nofile" (no RLIMIT_ prefix, as Docker)
  int64_t soft = 0;
  int64_t hard = 0;
};

struct HostConfig {
  // Resources
  int64_t memory = 0;       // bytes; 0 unlimited
  int64_t memory_swap = 0;  // bytes; -1 unlimited swap; 0 unset (2 x memory when memory set)
  int64_t memory_reservation = 0;
  int64_t nano_cpus = 0;
  int64_t cpu_shares = 0;
  int64_t cpu_period = 0;
  int64_t cpu_quota = 0;
  std::string cpuset_cpus;
  std::string cpuset_mems;
  std::optional<int64_t> pids_limit;  // null/0/-1: unlimited
  std::vector<Ulimit> ulimits;        // printed as null when empty and never set
  bool ulimits_set = false;
  // Security and filesystem
  bool privileged = false;
  bool readonly_rootfs = false;
  std::optional<std::vector<std::string>> cap_add;
  std::optional<std::vector<std::string>> cap_drop;
  std::optional<std::vector<std::string>>
      security_opt;                          // "no-new-privileges[:true]", "seccomp=..."
  std::map<std::string, std::string> tmpfs;  // path -> mount options
  bool tmpfs_set = false;
  std::optional<bool> init;
  int64_t shm_size = 0;                                    // 0 -> 64 MiB (filled at create)
  std::optional<std::vector<std::string>> masked_paths;    // filled at create (Docker's)
  std::optional<std::vector<std::string>> readonly_paths;  // filled at create (Docker's)
  // Lifecycle and logging
  bool auto_remove = false;
  RestartPolicy restart_policy;
  std::string log_type = "json-file";             // json-file | none
  std::map<std::string, std::string> log_config;  // max-size, max-file
  // Namespaces
  std::string network_mode = "default";  // default | bridge | none | host (until networking)
  std::string ipc_mode;                  // filled at create: "private"
  std::string pid_mode;                  // "" | host
  std::string uts_mode;
  std::string cgroupns_mode;  // filled at create: "host" on cgroup v1, "private" on v2
  std::string cgroup_parent;
  nlohmann::json extra = nlohmann::json::object();  // other keys, verbatim

  static base::Result<HostConfig> from_json(const nlohmann::json& j);
  nlohmann::json to_json() const;  // Docker's inspect shape ("HostConfig"), all keys present
};

// The body of POST /containers/create: Config fields at the top level plus "HostConfig" (and
// "NetworkingConfig", kept in extra). InvalidArgument for a malformed body or type mismatch,
// worded as dockerd words it.
struct CreateBody {
  ContainerConfig config;
  HostConfig host_config;
};
base::Result<CreateBody> parse_create_body(std::string_view body);

// The body of POST /containers/{id}/update (container.UpdateConfig: the Resources fields plus
// RestartPolicy; other keys are ignored, as Go ignores them). Type mismatches are worded
// "json: cannot unmarshal string into Go struct field UpdateConfig.Memory of type int64".
// Unset fields stay zero / null, which apply_update reads as "unchanged".
base::Result<HostConfig> parse_update_body(std::string_view body);

// dockerd's container.UpdateContainer: non-zero resources of `update` replace the current
// ones (PidsLimit when present: 0 or -1 -> unlimited), a non-empty RestartPolicy name replaces
// the policy. InvalidArgument with dockerd's wording for a conflict ("Conflicting options: CPU
// Period cannot be updated as NanoCPUs has already been set", "Restart policy cannot be
// updated because AutoRemove is enabled for the container", ...); `current` is unchanged
// then. Run validate_host_config on the result before applying it.
base::Result<void> apply_update(HostConfig& current, const HostConfig& update);

// Value checks dockerd makes at create (and update for resources), with its wording, e.g.
// "Minimum memory limit allowed is 6MB", "invalid restart policy ..." (InvalidArgument).
base::Result<void> validate_host_config(const HostConfig& hc);

// Fills what Docker fills at create when the client left it unset: ShmSize 64 MiB,
// MaskedPaths/ReadonlyPaths (Docker's defaults unless privileged), IpcMode "private",
// CgroupnsMode, NetworkMode "default" -> kept as given, LogConfig defaults.
void apply_create_defaults(HostConfig& hc, bool cgroup_v2);

// docker's size syntax for log-opts and --shm-size: "10m", "1g", "512k", "100" (bytes).
base::Result<int64_t> parse_size(std::string_view text);

// Value checks dockerd makes on Config at create: an absolute WorkingDir ("the working
// directory 'x' is invalid, it needs to be an absolute path"), no empty or "=x" Env entry
// ("invalid environment variable: =x"), a known StopSignal ("Invalid signal: SIGFOO").
// InvalidArgument.
base::Result<void> validate_config(const ContainerConfig& config);

// CapAdd/CapDrop entries as Docker normalizes them: upper-cased, "CAP_" prefixed unless "ALL";
// InvalidArgument "unknown capability: \"CAP_FOO\"" for a name the kernel headers do not know.
base::Result<std::vector<std::string>> normalize_capabilities(const std::vector<std::string>& caps);

// HostConfig.SecurityOpt as dockerd reads it (daemon parseSecurityOpt): "no-new-privileges",
// "no-new-privileges=true|false" (or ':'), "seccomp=unconfined|<profile JSON>",
// "apparmor=...", "label=..."; anything else is InvalidArgument
// "invalid --security-opt 1: \"x\"" / "invalid --security-opt 2: \"x\"".
struct SecurityOptions {
  bool no_new_privileges = false;
  std::string seccomp_profile;  // "" -> the default profile; "unconfined"; else profile JSON
  std::string apparmor_profile;
  std::vector<std::string> label_opts;
};
base::Result<SecurityOptions> parse_security_opts(const std::vector<std::string>& opts);

}  // namespace mydocker::engine
