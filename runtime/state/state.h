// SPDX-License-Identifier: Apache-2.0
// The runtime's state directory and state.json.
//
//   <root>/                          --root, default /run/mydocker-runtime (tmpfs: state is
//   └── <id>/                        volatile, like runc's /run/runc)
//       ├── state.json               OCI state + private fields, written atomically by
//       │                            `create` once the init is ready
//       ├── config.json              the spec as `create` loaded it (exec reads its caps,
//       │                            seccomp and noNewPrivileges; the bundle may change)
//       └── exec.fifo                present from create until start: the init blocks opening
//                                    it for writing; `start` reads one byte and unlinks it
//
// A directory without state.json is a container being created (or a create that crashed).
// Status is never stored as truth: state.json says "created", and status() derives the
// present one from the init process (pid + start time, so a reused pid is not mistaken for
// it), the fifo, and the cgroup freezer.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "runtime/base/error.h"

namespace mydocker::runtime::state {

enum class Status { Creating, Created, Running, Paused, Stopped };
std::string_view status_name(Status s);  // "created", ... (runc's words, "paused" included)

// Container ids as runc accepts them: [A-Za-z0-9_+.-]+, not "." or "..", at most 1024 bytes.
// InvalidArgument "invalid container id `a/b`".
base::Result<void> validate_id(std::string_view id);

struct State {
  // OCI state (state-schema.json).
  std::string oci_version;
  std::string id;
  Status status = Status::Created;
  pid_t pid = 0;
  std::string bundle;
  std::map<std::string, std::string> annotations;
  // Private (under "mydocker" in state.json; never in `state` output).
  uint64_t init_start_time = 0;  // /proc/<pid>/stat field 22 at create
  std::string cgroups_path;      // as given to cgroups::make_manager
  std::string created;           // RFC 3339, UTC
  uint32_t owner = 0;            // uid that ran create (for `list`)
};

// state.json text (public + private fields).
std::string to_json(const State& s);
// The OCI state a `state` command prints: ociVersion, id, status, pid, bundle, annotations.
std::string to_oci_json(const State& s);
// Parses state.json. InvalidArgument naming the field when malformed.
base::Result<State> from_json(std::string_view text);

// What the caller observed about the container right now.
struct Observed {
  bool init_alive = false;   // pid runs and has the recorded start time (not a zombie)
  bool fifo_exists = false;  // exec.fifo still there: start has not run
  bool frozen = false;       // the cgroup freezer says FROZEN
};
Status derive_status(const Observed& o);

class Paths {
 public:
  Paths(std::string root, std::string id) : root_(std::move(root)), id_(std::move(id)) {}
  const std::string& root() const { return root_; }
  const std::string& id() const { return id_; }
  std::string dir() const { return root_ + "/" + id_; }
  std::string state_json() const { return dir() + "/state.json"; }
  std::string config_json() const { return dir() + "/config.json"; }
  std::string exec_fifo() const { return dir() + "/exec.fifo"; }

 private:
  std::string root_;
  std::string id_;
};

// Atomic but not durable replace: temp file in the same dir + rename, no fsync. The state dir
// is volatile (tmpfs /run, gone after a reboot, as runc's), and two fsyncs cost more than the
// whole rest of `create` on a disk-backed --root.
base::Result<void> write_file_replace(const std::string& path, std::string_view data,
                                      mode_t mode = 0644);

// Current UTC time as RFC 3339 with nanoseconds ("2026-11-29T19:00:00.123456789Z").
std::string now_rfc3339();

}  // namespace mydocker::runtime::state
