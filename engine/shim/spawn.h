// SPDX-License-Identifier: Apache-2.0
// The daemon's side of a shim (engine/shim/proto.h draws the exchange): spawn one for a
// container, or re-attach to one that outlived a daemon restart.
//
// mydockerd is multithreaded, so it never forks without exec: spawn() uses posix_spawn with
// the ready pipe dup'ed to fd 3 and every other descriptor close-on-exec.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "engine/shim/proto.h"
#include "runtime/base/error.h"
#include "runtime/base/fd.h"

namespace mydocker::engine::shim {

// A running shim. Owns a pidfd on it (readable once it exits). When the shim is our child
// (spawned by this daemon), reap() collects it; after a restart it is not, and the nearest
// subreaper collects it.
class Shim {
 public:
  Shim() = default;
  Shim(Shim&&) noexcept = default;
  Shim& operator=(Shim&&) noexcept = default;

  pid_t pid() const { return static_cast<pid_t>(pid_.pid); }
  int64_t container_pid() const { return container_pid_; }
  const base::Fd& pidfd() const { return pidfd_; }
  bool is_child() const { return is_child_; }
  // Collects the exited shim if it is our child (non-blocking; idempotent).
  void reap();

 private:
  friend base::Result<Shim> spawn(const std::string&, ShimConfig, std::chrono::milliseconds,
                                  std::vector<base::Fd>);
  friend base::Result<Shim> attach(const std::string&);
  ShimPid pid_;
  int64_t container_pid_ = 0;
  base::Fd pidfd_;
  bool is_child_ = false;
};

// Writes <state_dir>/shim.json, spawns `shim_path` and waits (up to `timeout`) for its ready
// line. `attach_conns[i]` becomes the shim's fd kFirstAttachFd + i, described by
// config.attaches[i] (whose fd spawn() fills in); they are closed here either way. On a container
// start failure: the shim is reaped, nothing is left in state_dir but the config, and the error
// carries the shim's message (code Internal, or NotFound when the executable was not found,
// PermissionDenied when it is not executable).
base::Result<Shim> spawn(const std::string& shim_path, ShimConfig config,
                         std::chrono::milliseconds timeout = std::chrono::seconds(30),
                         std::vector<base::Fd> attach_conns = {});

// Re-attaches to the shim recorded in <state_dir>/shim.pid. NotFound when it is gone (then
// read_exit() tells how the container ended).
base::Result<Shim> attach(const std::string& state_dir);

}  // namespace mydocker::engine::shim
