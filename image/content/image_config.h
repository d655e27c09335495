// SPDX-License-Identifier: Apache-2.0
// The image configuration document (OCI "application/vnd.oci.image.config.v1+json" and
// Docker's "application/vnd.docker.container.image.v1+json"; Docker's is a superset).
//
// The image ID is the sha256 of the config bytes *as stored*: keep the original bytes and
// hash those; serialize() is for documents we create (import, commit, build), and is
// deterministic (sorted keys, compact) so such an ID is stable.
//
// Round trips are lossless at the JSON level: fields not modelled here go to `extra` (at
// both levels), and fields that were JSON null are kept as null in `extra` (Docker writes
// "Cmd": null, and a null must not turn into a missing key or an empty list).
//
// Parse errors are InvalidArgument naming the field and value:
//   "invalid image config: `rootfs.type` is `foo`, want `layers`"
//   "invalid image config: `rootfs.diff_ids[0]`: invalid digest `sha256:zz`"
//   "invalid image config: `config.Env` is 3, want an array of strings"
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "image/digest/digest.h"
#include "runtime/base/error.h"

namespace mydocker::image::content {

// "config" of an image config: the defaults a container starts from. JSON names are Docker's
// (User, Env, Cmd, ...), which the OCI spec adopted.
struct RunConfig {
  std::string user;                                    // User
  std::set<std::string> exposed_ports;                 // ExposedPorts {"80/tcp": {}}
  std::vector<std::string> env;                        // Env ["K=V"]
  std::optional<std::vector<std::string>> entrypoint;  // Entrypoint
  std::optional<std::vector<std::string>> cmd;         // Cmd
  std::set<std::string> volumes;                       // Volumes {"/data": {}}
  std::string working_dir;                             // WorkingDir
  std::map<std::string, std::string> labels;           // Labels
  std::string stop_signal;                             // StopSignal
  std::optional<bool> args_escaped;                    // ArgsEscaped
  std::vector<std::string> on_build;                   // OnBuild (Docker)
  std::vector<std::string> shell;                      // Shell (Docker)
  std::optional<nlohmann::json> healthcheck;           // Healthcheck (Docker), kept as is
  // Hostname, Tty, StopTimeout, ... and explicit nulls.
  nlohmann::json extra = nlohmann::json::object();

  static base::Result<RunConfig> from_json(const nlohmann::json& j);
  nlohmann::json to_json() const;
  bool operator==(const RunConfig&) const = default;
};

struct HistoryEntry {
  std::string created;  // RFC 3339, as written
  std::string created_by;
  std::string author;
  std::string comment;
  bool empty_layer = false;
  nlohmann::json extra = nlohmann::json::object();
  bool operator==(const HistoryEntry&) const = default;
};

struct RootFs {
  std::string type = "layers";
  std::vector<DiffId> diff_ids;
  bool operator==(const RootFs&) const = default;
};

struct ImageConfig {
  std::string created;  // RFC 3339 (nanoseconds kept as text); "" when absent
  std::string author;
  std::string architecture;              // required
  std::string os;                        // required
  std::string os_version;                // "os.version"
  std::vector<std::string> os_features;  // "os.features"
  std::string variant;
  std::optional<RunConfig> config;
  RootFs rootfs;  // required
  std::vector<HistoryEntry> history;
  // Docker-only top-level fields.
  std::string parent;                         // "parent": the build parent's image ID, "" when none
  std::string comment;                        // "comment": e.g. "Imported from -"
  std::string container;                      // "container"
  std::optional<RunConfig> container_config;  // "container_config"
  std::string docker_version;                 // "docker_version"
  nlohmann::json extra = nlohmann::json::object();

  static base::Result<ImageConfig> parse(std::string_view bytes);
  static base::Result<ImageConfig> from_json(const nlohmann::json& j);
  nlohmann::json to_json() const;
  std::string serialize() const;
  // `created` as Unix seconds; 0 when absent or unparseable.
  int64_t created_unix() const;
  bool operator==(const ImageConfig&) const = default;
};

// RFC 3339 ("2026-11-29T17:11:48.138651832Z", offsets allowed) -> Unix seconds.
std::optional<int64_t> parse_rfc3339(std::string_view text);
// The same with the fraction kept: {seconds, nanoseconds} (for ordering by creation time).
std::optional<std::pair<int64_t, int32_t>> parse_rfc3339_ns(std::string_view text);
// Unix time (seconds + nanoseconds) -> "2026-11-29T17:11:48.138651832Z" like Go's
// time.RFC3339Nano (trailing zeros of the fraction trimmed).
std::string format_rfc3339_nano(int64_t seconds, int32_t nanos);

}  // namespace mydocker::image::content
