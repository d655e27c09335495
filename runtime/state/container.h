// SPDX-License-Identifier: Apache-2.0
// The runtime's facade: one OCI container from a bundle, through its lifecycle.
// cmd/mydocker-runtime is argument parsing over this; the daemon's shim calls it directly.
//
//   Container::create(id, bundle)   -> status created: the init is cloned, its namespaces,
//                                      cgroup, rootfs, credentials and filters are in place,
//                                      and it waits on <root>/<id>/exec.fifo
//   start()                         -> running: the init execs process.args
//   kill(sig) / pause() / resume()  -> signals; cgroup freezer
//   exec(process)                   -> another process in the running container
//   destroy(force)                  -> nothing left: no process, cgroup, state dir or mount
//                                      (every mount lives in the container's mount namespace)
//
// The state directory is drawn in runtime/state/state.h, the parent/init exchange in
// runtime/process/sync.h.
//
// Process model: the caller must be single-threaded when it calls create(), exec() and run()
// (they clone/fork and the child runs C++ until execve). create() leaves the init as the
// caller's child; when the caller exits, the init is reparented to the nearest subreaper (or
// pid 1). Whoever wants the container's exit status must be that subreaper: set
// PR_SET_CHILD_SUBREAPER before create(), as containerd's shim does, and reap it with waitpid.
// A zombie init counts as stopped.
//
// Errors: InvalidArgument (bundle, id, values) naming the field and value; AlreadyExists
// "container `X` already exists"; NotFound "container `X` does not exist"; Conflict for a
// lifecycle move the status forbids ("container `X` is not in created state: running");
// PermissionDenied for what the host cannot grant. A failed create() leaves nothing behind.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/error.h"
#include "runtime/cgroups/manager.h"
#include "runtime/spec/spec.h"
#include "runtime/state/state.h"

namespace mydocker::runtime {

inline constexpr std::string_view kDefaultRoot = "/run/mydocker-runtime";

struct CreateOptions {
  std::string root = std::string(kDefaultRoot);
  // runc's --console-socket: where the pty master goes when process.terminal is true.
  std::string console_socket;
  // Instead of a path: a connected unix socket the caller owns (run's internal relay).
  int console_fd = -1;
  std::string pid_file;  // written (atomically) with the init's pid once created
  // false: no create/start split, the init execs as soon as it is ready (run uses this; the
  // container is then "running" when create() returns).
  bool hold = true;
};

// What `exec` changes relative to the container's own process (runc exec's flags).
struct ExecOverrides {
  std::vector<std::string> args;    // required unless a process.json is given
  std::vector<std::string> env;     // K=V, appended (a later K wins)
  std::string cwd;                  // empty: the container's cwd
  std::optional<std::string> user;  // "uid" or "uid:gid"
  std::vector<uint32_t> additional_gids;
  std::optional<bool> tty;
  bool no_new_privileges = false;  // only ever tightens
};

// The process an exec runs: process_json (runc --process) when given, else the container's
// process with `args` and the overrides. InvalidArgument naming the flag or field.
base::Result<spec::Process> build_exec_process(const spec::Spec& container,
                                               const std::optional<std::string>& process_json,
                                               const ExecOverrides& overrides);

struct ExecOptions {
  spec::Process process;  // from build_exec_process
  std::string console_socket;
  int console_fd = -1;
  std::string pid_file;
};

class Container {
 public:
  static base::Result<Container> create(const std::string& id, const std::string& bundle,
                                        const CreateOptions& options);
  // NotFound "container `X` does not exist".
  static base::Result<Container> load(const std::string& root, const std::string& id);
  // Every container under root, status derived; unreadable entries are skipped.
  static base::Result<std::vector<state::State>> list(const std::string& root);

  Container(Container&&) noexcept;
  Container& operator=(Container&&) noexcept;
  ~Container();

  const std::string& id() const { return state_.id; }
  pid_t pid() const { return state_.pid; }
  // The recorded state with the status derived now.
  base::Result<state::State> state();
  // The spec create() loaded (from <root>/<id>/config.json).
  base::Result<spec::Spec> spec() const;

  // created -> running. Conflict in any other status.
  base::Result<void> start();
  // Conflict "container `X` is not running" once stopped. all: every process of the cgroup.
  base::Result<void> kill(int signal, bool all = false);
  base::Result<void> pause();
  base::Result<void> resume();
  base::Result<cgroups::Stats> stats();
  // Every process of the container (its cgroup), sorted.
  base::Result<std::vector<pid_t>> processes();
  // runc update: `resources_json` is a linux.resources object; it is validated as part of the
  // container's spec and applied to the running cgroup. InvalidArgument naming the field.
  base::Result<void> update(std::string_view resources_json);
  // Starts a process in the container; returns its pid (the caller's child, to be waited).
  base::Result<pid_t> exec(const ExecOptions& options);
  // Stopped or created: removes everything. Running/paused: Conflict unless force, which
  // SIGKILLs every process of the cgroup and waits for the init to die first.
  base::Result<void> destroy(bool force = false);

 private:
  Container(state::Paths paths, state::State st);
  base::Result<cgroups::Manager*> cgroup();
  state::Paths paths_;
  state::State state_;
  std::unique_ptr<cgroups::Manager> cgroup_;
};

struct RunOptions {
  CreateOptions create;
  bool detach = false;  // create + start, return 0 without waiting (runc run -d)
};

// runc run: create + start, then (unless detach) forward signals to the init, relay the
// terminal (process.terminal without a console socket: an internal pty relay to our
// stdin/stdout, raw mode when stdin is a tty), wait, delete, and return the exit code
// (128 + signal for a killed init: SIGKILL -> 137). Sets PR_SET_CHILD_SUBREAPER.
base::Result<int> run(const std::string& id, const std::string& bundle, const RunOptions& options);

// Waits for `pid` (our child) while forwarding SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1,
// SIGUSR2 to it and, when pty_master is valid, relaying it to/from our stdin/stdout.
// Returns the shell-style exit code. Used by run and by the exec command. The forwarded
// signals stay blocked and SIGPIPE ignored afterwards (the CLI exits; a long-lived caller
// restores its own mask).
base::Result<int> supervise(pid_t pid, int pty_master);

// Blocks the signals supervise() forwards (call before spawning, so none is lost; the
// container's processes start with an empty mask).
void block_forwarded_signals();

}  // namespace mydocker::runtime
