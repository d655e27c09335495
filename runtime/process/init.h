// SPDX-License-Identifier: Apache-2.0
// Starting processes inside containers: the container's init (spawn_init, for `create`) and
// an extra process in a running container (spawn_exec, for `exec`). The protocol between
// parent and child is drawn in runtime/process/sync.h.
//
// Everything that can fail without the container existing is done by the caller BEFORE
// these functions (spec parsing, mount::plan, seccomp::compile, validate_process): the child
// only applies prepared data. The caller must be single-threaded (the child is a clone(2)
// copy of it and must not meet a lock another thread held).
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "runtime/base/error.h"
#include "runtime/mount/rootfs.h"
#include "runtime/seccomp/seccomp.h"
#include "runtime/spec/spec.h"

namespace mydocker::runtime::process {

// Where a terminal's master goes (process.terminal): a console socket path (runc's
// --console-socket) or an already-connected socket fd the caller owns (run's internal
// relay). Neither: the process must not ask for a terminal.
struct ConsoleTarget {
  std::string socket_path;
  int socket_fd = -1;
  bool empty() const { return socket_path.empty() && socket_fd < 0; }
};

struct InitConfig {
  const spec::Spec* spec = nullptr;  // must outlive spawn_init (process must be set)
  std::vector<mount::MountOp> mounts;
  std::optional<seccomp::Program> seccomp;
  // An O_PATH fd of the exec fifo (the caller's; inherited through clone, so the init needs
  // no access to the state dir): the init blocks reopening it for writing until `start`
  // reads. -1: the init execs right after "ready" (no create/start split).
  int exec_fifo_fd = -1;
  ConsoleTarget console;
  // cgroup v1 `tasks` files the child writes "0" to, joining its cgroups itself (see
  // self_join_tasks()). Empty: the parent joins it (BeforeGo).
  std::vector<std::string> cgroup_tasks;
};

// Called in the parent once the child exists (and its id maps are written), before "go":
// the place to put the child into its cgroup.
using BeforeGo = std::function<base::Result<void>(pid_t)>;

// Clones the init into its new namespaces and runs the ladder up to "ready". Returns the
// init's pid (a child of the caller). On any error the child has been killed and reaped and
// the error names the failing step (the child's own message when it failed).
base::Result<pid_t> spawn_init(const InitConfig& config, const BeforeGo& before_go);

struct ExecConfig {
  pid_t target_pid = 0;   // the container's init: namespaces come from /proc/<pid>/ns
  spec::Process process;  // args, env, cwd, user, caps, rlimits, terminal, noNewPrivileges
  std::optional<seccomp::Program> seccomp;
  ConsoleTarget console;
  std::vector<std::string> cgroup_tasks;  // as InitConfig::cgroup_tasks
};

// The `tasks` files through which a process may move itself into the cgroup dirs `dirs`, or
// empty when it cannot (a cgroup2 dir: no `tasks`; a new user namespace: the files belong to
// the host's root). Why bother: moving another process (cgroup.procs, pid) takes the kernel's
// global cgroup_threadgroup_rwsem for writing, which waits for an RCU grace period (8-15 ms
// on this host, the largest single cost of `create`); a single-threaded process writing "0"
// to `tasks` moves only itself and skips that lock. Missing dirs (optional named hierarchies
// the manager did not make) are left out.
std::vector<std::string> self_join_tasks(const std::vector<std::string>& dirs, bool new_user_ns);

// Forks a process that joins the namespaces of target_pid (user first; the pid namespace
// through the parent's pid_for_children, restored afterwards), applies the process and
// execs. Returns its pid once execve succeeded (the sync socket closed on exec); the caller
// waits for it.
base::Result<pid_t> spawn_exec(const ExecConfig& config, const BeforeGo& before_go);

}  // namespace mydocker::runtime::process
