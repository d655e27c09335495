// SPDX-License-Identifier: Apache-2.0
// The durable container record, in Docker's on-disk shape:
//
//   <data-root>/containers/<id>/config.v2.json   {"ID", "Created", "Path", "Args", "State",
//                                                 "Image", "Name", "RestartCount", "Driver",
//                                                 "LogPath", "HostnamePath", "HostsPath",
//                                                 "ResolvConfPath", "Config",
//                                                 "HasBeenStartedBefore",
//                                                 "HasBeenManuallyStopped", ...}
//   <data-root>/containers/<id>/hostconfig.json  HostConfig
//
// save() writes both (temp + fsync + rename each, then one fsync of the directory);
// hostconfig.json first, so a config.v2.json on disk always has its host config. The hot
// path (start, exit) rewrites only config.v2.json (save_state). A record that cannot be
// read back (missing file, bad JSON, a field of the wrong type) is "damaged": set_aside()
// renames its directory to <id>.damaged so the daemon starts without it.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/daemon.h"
#include "runtime/base/error.h"

namespace mydocker::engine::store {

struct Record {
  ContainerInfo info;  // size fields unused
  bool has_been_started_before = false;
  bool has_been_manually_stopped = false;
};

nlohmann::json config_v2_json(const Record& r);  // without HostConfig
// InvalidArgument naming the field for a malformed document.
base::Result<Record> from_json(const nlohmann::json& config_v2, const nlohmann::json& host_config);

inline constexpr const char* kConfigFile = "config.v2.json";
inline constexpr const char* kHostConfigFile = "hostconfig.json";

// Writes both files in `dir` (which must exist), durably.
base::Result<void> save(const std::string& dir, const Record& r);
// Writes config.v2.json only: for changes that leave the host config alone (state, name,
// counters). The file is fsynced before its rename either way (never torn or empty after a
// host crash); sync_dir false skips the directory fsync, so a host crash may bring back the
// previous record: for intermediate states the restore rules recover from (local_daemon.h).
base::Result<void> save_state(const std::string& dir, const Record& r, bool sync_dir);
// Reads both files of `dir`. NotFound when config.v2.json is absent; InvalidArgument when
// damaged.
base::Result<Record> load(const std::string& dir);
// Renames `dir` to `<dir>.damaged` (a former one of that name is replaced). Returns the new
// path.
base::Result<std::string> set_aside(const std::string& dir);

// Docker's State object of inspect: {"Status","Running","Paused","Restarting","OOMKilled",
// "Dead","Pid","ExitCode","Error","StartedAt","FinishedAt"}.
nlohmann::json state_json(const ContainerState& s);

}  // namespace mydocker::engine::store
