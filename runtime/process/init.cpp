// SPDX-License-Identifier: Apache-2.0
#include "runtime/process/init.h"

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "runtime/base/file.h"
#include "runtime/base/scope_exit.h"
#include "runtime/base/strings.h"
#include "runtime/caps/caps.h"
#include "runtime/process/console.h"
#include "runtime/process/lookup.h"
#include "runtime/process/sync.h"

namespace mydocker::runtime::process {

namespace {

using base::ErrorCode;
using spec::NamespaceType;

// ---- child side -------------------------------------------------------------------------
// Everything below `[[noreturn]]` runs in the cloned child: no spdlog, no threads; errors
// go to the parent as one "error: ..." line and the child exits.

[[noreturn]] void child_fail(int sync_fd, const base::Error& err) {
  (void)send_sync(sync_fd, SyncMessage{SyncType::Error, err.to_string()});
  ::_exit(1);
}

#define CHILD_TRY(sync_fd, expr)                        \
  do {                                                  \
    auto&& child_try_result_ = (expr);                  \
    if (!child_try_result_.has_value()) {               \
      child_fail((sync_fd), child_try_result_.error()); \
    }                                                   \
  } while (0)

void reset_signals() {
  sigset_t all;
  sigemptyset(&all);
  ::sigprocmask(SIG_SETMASK, &all, nullptr);
  // The parent (run) may ignore or handle signals; the container starts from the defaults.
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) {
      ::signal(sig, SIG_DFL);
    }
  }
}

base::Result<void> wait_for_go(int sync_fd) {
  SyncMessage m = MYDOCKER_TRY(recv_sync(sync_fd));
  if (m.type != SyncType::Go) {
    return base::make_error(ErrorCode::Internal, "expected `go` from the parent");
  }
  return base::ok();
}

base::Result<void> join_cgroups_self(const std::vector<std::string>& tasks) {
  for (const auto& t : tasks) {
    MYDOCKER_TRY_CTX(base::write_file(t, "0"), "join cgroup `{}`", t);
  }
  return base::ok();
}

base::Result<void> join_namespaces(const std::vector<std::pair<NamespaceType, int>>& fds) {
  // The user namespace first: joining it grants the capabilities the other setns need.
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& [type, fd] : fds) {
      bool is_user = type == NamespaceType::User;
      if (is_user != (pass == 0) || type == NamespaceType::Pid) {
        continue;
      }
      if (::setns(fd, 0) < 0) {
        return base::sys_error("linux.namespaces: join the `{}` namespace",
                               spec::namespace_type_name(type));
      }
    }
  }
  return base::ok();
}

base::Result<void> apply_rlimits(const std::vector<spec::Rlimit>& rlimits) {
  for (const auto& rl : rlimits) {
    rlimit v{rl.soft, rl.hard};
    if (::setrlimit(static_cast<__rlimit_resource>(rl.resource), &v) < 0) {
      return base::sys_error("process.rlimits: set rlimit `{}` to soft {} hard {}", rl.type,
                             rl.soft, rl.hard);
    }
  }
  return base::ok();
}

base::Result<void> apply_sysctl(const std::map<std::string, std::string>& sysctl) {
  for (const auto& [key, value] : sysctl) {
    std::string path = "/proc/sys/" + key;
    for (size_t i = 10; i < path.size(); ++i) {
      if (path[i] == '.') {
        path[i] = '/';
      }
    }
    MYDOCKER_TRY_CTX(base::write_file(path, value), "linux.sysctl: `{}` = `{}`", key, value);
  }
  return base::ok();
}

// Terminal (when asked), args[0] lookup, cwd, credentials, caps, seccomp: the part the
// container's init and an exec'd process share. Returns the resolved executable path.
base::Result<std::string> setup_process(const spec::Process& p, const ConsoleTarget& console,
                                        base::Fd& console_sock,
                                        const std::optional<seccomp::Program>& filter) {
  if (p.terminal) {
    if (!console_sock) {
      if (console.socket_fd >= 0) {
        console_sock = base::Fd::adopt(console.socket_fd);
      } else if (!console.socket_path.empty()) {
        console_sock = MYDOCKER_TRY(connect_unix(console.socket_path));
      } else {
        return base::make_error(ErrorCode::InvalidArgument,
                                "process.terminal: a terminal needs a console socket "
                                "(--console-socket)");
      }
    }
    Pty pty = MYDOCKER_TRY_CTX(open_pty(), "process.terminal");
    MYDOCKER_TRY_CTX(send_fd(console_sock.get(), pty.master.get(), "/dev/ptmx"),
                     "process.terminal");
    pty.master.reset();
    console_sock.reset();
    MYDOCKER_TRY_CTX(make_controlling_terminal(pty.slave.get(), p.console_size),
                     "process.terminal");
    if (pty.slave.get() <= 2) {
      (void)pty.slave.release();
    }
  }
  if (p.args.empty()) {
    return base::make_error(ErrorCode::InvalidArgument, "process.args: must not be empty");
  }
  std::string exe = MYDOCKER_TRY(resolve_executable("/", p.args[0], p.env, p.cwd));
  if (::chdir(p.cwd.c_str()) < 0) {
    return base::sys_error("process.cwd: chdir to `{}`", p.cwd);
  }
  // Without noNewPrivileges, loading a filter needs CAP_SYS_ADMIN: do it while we have it
  // (runc does the same); with it, as late as possible, so the filter sees fewer of our calls.
  if (filter && !p.no_new_privileges) {
    MYDOCKER_TRY_CTX(seccomp::load(*filter), "linux.seccomp");
  }
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) {
    return base::sys_error("prctl PR_SET_KEEPCAPS");
  }
  std::vector<gid_t> groups(p.user.additional_gids.begin(), p.user.additional_gids.end());
  if (::setgroups(groups.size(), groups.data()) < 0 && !(groups.empty() && errno == EPERM)) {
    return base::sys_error("process.user.additionalGids: setgroups");
  }
  if (::setresgid(p.user.gid, p.user.gid, p.user.gid) < 0) {
    return base::sys_error("process.user.gid: setgid {}", p.user.gid);
  }
  if (::setresuid(p.user.uid, p.user.uid, p.user.uid) < 0) {
    return base::sys_error("process.user.uid: setuid {}", p.user.uid);
  }
  ::umask(p.user.umask ? static_cast<mode_t>(*p.user.umask) : 022);
  if (p.capabilities) {
    MYDOCKER_TRY_CTX(caps::apply(*p.capabilities), "process.capabilities");
  }
  if (p.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
    return base::sys_error("process.noNewPrivileges: prctl PR_SET_NO_NEW_PRIVS");
  }
  if (filter && p.no_new_privileges) {
    MYDOCKER_TRY_CTX(seccomp::load(*filter), "linux.seccomp");
  }
  return exe;
}

[[noreturn]] void exec_process(const std::string& exe, const spec::Process& p) {
  std::vector<char*> argv;
  for (const auto& a : p.args) {
    argv.push_back(const_cast<char*>(a.c_str()));
  }
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : p.env) {
    envp.push_back(const_cast<char*>(e.c_str()));
  }
  envp.push_back(nullptr);
  // Nothing but 0/1/2 may cross into the container (CVE-2024-21626 leaked a host fd).
  ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
  ::execve(exe.c_str(), argv.data(), envp.data());
  int err = errno;
  std::string msg = fmt::format("mydocker-runtime: exec `{}`: {}\n", exe, std::strerror(err));
  (void)base::write_all(2, msg);
  ::_exit(err == ENOENT ? 127 : 126);
}

struct InitPrivate {
  std::vector<std::pair<NamespaceType, int>> join_fds;
  bool new_user_ns = false;
  bool unshare_cgroup = false;
};

[[noreturn]] void init_main(const InitConfig& cfg, const InitPrivate& priv, int sync_fd) {
  reset_signals();
  const spec::Spec& s = *cfg.spec;
  const spec::Process& p = *s.process;
  CHILD_TRY(sync_fd, wait_for_go(sync_fd));
  CHILD_TRY(sync_fd, join_cgroups_self(cfg.cgroup_tasks));
  if (priv.new_user_ns) {
    // The parent mapped our ids; become the namespace's root before anything else.
    if (::setresgid(0, 0, 0) < 0 || ::setresuid(0, 0, 0) < 0) {
      child_fail(sync_fd, base::sys_error("become root in the user namespace"));
    }
  }
  CHILD_TRY(sync_fd, join_namespaces(priv.join_fds));
  if (priv.unshare_cgroup && ::unshare(CLONE_NEWCGROUP) < 0) {
    child_fail(sync_fd, base::sys_error("linux.namespaces: unshare the `cgroup` namespace"));
  }
  if (!s.hostname.empty() && ::sethostname(s.hostname.data(), s.hostname.size()) < 0) {
    child_fail(sync_fd, base::sys_error("hostname: set `{}`", s.hostname));
  }
  if (!s.domainname.empty() && ::setdomainname(s.domainname.data(), s.domainname.size()) < 0) {
    child_fail(sync_fd, base::sys_error("domainname: set `{}`", s.domainname));
  }
  CHILD_TRY(sync_fd, mount::prepare_rootfs(s, cfg.mounts));
  // The console socket is a host path: connect before pivot_root hides the host.
  base::Fd console_sock;
  if (p.terminal && !cfg.console.socket_path.empty()) {
    auto c = connect_unix(cfg.console.socket_path);
    CHILD_TRY(sync_fd, c);
    console_sock = std::move(*c);
  }
  CHILD_TRY(sync_fd, mount::pivot_into(s.root.path));
  // Sysctls before finalize_rootfs: it makes /proc/sys read-only (readonlyPaths).
  CHILD_TRY(sync_fd, apply_sysctl(s.linux.sysctl));
  CHILD_TRY(sync_fd, mount::finalize_rootfs(s));
  if (p.oom_score_adj) {
    auto r = base::write_file("/proc/self/oom_score_adj", std::to_string(*p.oom_score_adj));
    if (!r) {
      child_fail(sync_fd, std::move(r).error().wrap(
                              fmt::format("process.oomScoreAdj: `{}`", *p.oom_score_adj)));
    }
  }
  CHILD_TRY(sync_fd, apply_rlimits(p.rlimits));
  auto exe = setup_process(p, cfg.console, console_sock, cfg.seccomp);
  CHILD_TRY(sync_fd, exe);
  CHILD_TRY(sync_fd, send_sync(sync_fd, SyncMessage{SyncType::Ready, ""}));
  if (cfg.exec_fifo_fd >= 0) {
    // Blocks until `start` opens the other end; the byte tells `start` we are past it.
    std::string self_fd = fmt::format("/proc/self/fd/{}", cfg.exec_fifo_fd);
    int w = ::open(self_fd.c_str(), O_WRONLY | O_CLOEXEC);
    if (w < 0 || ::write(w, "0", 1) != 1) {
      std::string msg =
          fmt::format("mydocker-runtime: open the exec fifo: {}\n", std::strerror(errno));
      (void)base::write_all(2, msg);
      ::_exit(1);
    }
    ::close(w);
  }
  exec_process(*exe, p);
}

[[noreturn]] void exec_main(const ExecConfig& cfg, const InitPrivate& priv, int sync_fd) {
  reset_signals();
  CHILD_TRY(sync_fd, wait_for_go(sync_fd));
  // Host paths: use them before joining the container's mount namespace hides them.
  CHILD_TRY(sync_fd, join_cgroups_self(cfg.cgroup_tasks));
  base::Fd console_sock;
  if (cfg.process.terminal && !cfg.console.socket_path.empty()) {
    auto c = connect_unix(cfg.console.socket_path);
    CHILD_TRY(sync_fd, c);
    console_sock = std::move(*c);
  }
  CHILD_TRY(sync_fd, join_namespaces(priv.join_fds));
  CHILD_TRY(sync_fd, apply_rlimits(cfg.process.rlimits));
  auto exe = setup_process(cfg.process, cfg.console, console_sock, cfg.seccomp);
  CHILD_TRY(sync_fd, exe);
  exec_process(*exe, cfg.process);
}

// ---- parent side ------------------------------------------------------------------------

void kill_and_reap(pid_t pid) {
  ::kill(pid, SIGKILL);
  int status;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

base::Result<void> write_id_map(pid_t pid, const char* file,
                                const std::vector<spec::IdMapping>& maps, const char* field) {
  std::string text;
  for (const auto& m : maps) {
    text += fmt::format("{} {} {}\n", m.container_id, m.host_id, m.size);
  }
  MYDOCKER_TRY_CTX(base::write_file(fmt::format("/proc/{}/{}", pid, file), text),
                   "linux.{}: write `{}`", field, base::trim(text));
  return base::ok();
}

// Waits for "ready" (or for EOF when `eof_is_success`, the exec case).
base::Result<void> await_child(int sync_fd, pid_t pid, bool eof_is_success) {
  auto m = recv_sync(sync_fd);
  if (m && m->type == SyncType::Ready) {
    return base::ok();
  }
  if (m && m->type == SyncType::Error) {
    return base::Error(ErrorCode::FailedPrecondition, m->detail);
  }
  if (!m && m.error().code() == ErrorCode::Unavailable) {
    if (eof_is_success) {
      return base::ok();
    }
    int status = 0;
    pid_t r;
    do {
      r = ::waitpid(pid, &status, 0);
    } while (r < 0 && errno == EINTR);
    return base::make_error(ErrorCode::Internal,
                            "the container init exited (status {}) before it was ready",
                            WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  }
  if (!m) {
    return std::move(m).error();
  }
  return base::make_error(ErrorCode::Internal, "unexpected sync message from the child");
}

// Joins the pid namespace of `ns_fd` for our future children only, and goes back afterwards
// so a long-lived caller (the shim) keeps its own.
class PidNsForChildren {
 public:
  static base::Result<PidNsForChildren> enter(int ns_fd) {
    PidNsForChildren p;
    if (ns_fd < 0) {
      return p;
    }
    p.saved_ = MYDOCKER_TRY(base::Fd::open("/proc/self/ns/pid_for_children", O_RDONLY));
    if (::setns(ns_fd, CLONE_NEWPID) < 0) {
      return base::sys_error("linux.namespaces: join the `pid` namespace");
    }
    return p;
  }
  PidNsForChildren() = default;
  PidNsForChildren(PidNsForChildren&&) = default;
  PidNsForChildren& operator=(PidNsForChildren&&) = default;
  PidNsForChildren(const PidNsForChildren&) = delete;
  PidNsForChildren& operator=(const PidNsForChildren&) = delete;
  ~PidNsForChildren() {
    if (saved_) {
      ::setns(saved_.get(), CLONE_NEWPID);
    }
  }

 private:
  base::Fd saved_;
};

bool same_namespace(const std::string& a, const std::string& b) {
  struct stat sa {
  }, sb{};
  if (::stat(a.c_str(), &sa) != 0 || ::stat(b.c_str(), &sb) != 0) {
    return false;
  }
  return sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev;
}

}  // namespace

std::vector<std::string> self_join_tasks(const std::vector<std::string>& dirs, bool new_user_ns) {
  std::vector<std::string> tasks;
  if (new_user_ns) {
    return {};
  }
  for (const auto& dir : dirs) {
    if (!base::path_exists(dir)) {
      continue;
    }
    std::string t = dir + "/tasks";
    if (!base::path_exists(t)) {
      return {};
    }
    tasks.push_back(std::move(t));
  }
  return tasks;
}

base::Result<pid_t> spawn_init(const InitConfig& config, const BeforeGo& before_go) {
  MYDOCKER_CHECK(config.spec != nullptr && config.spec->process.has_value());
  const spec::Spec& s = *config.spec;
  InitPrivate priv;
  std::vector<base::Fd> owned_fds;
  base::Fd pid_ns_fd;
  unsigned long flags = SIGCHLD;
  bool has_mount_ns = false;
  for (const auto& ns : s.linux.namespaces) {
    has_mount_ns = has_mount_ns || ns.type == NamespaceType::Mount;
    if (ns.path.empty()) {
      if (ns.type == NamespaceType::Cgroup) {
        // Unshared by the child once the parent has put it in its cgroup, so the namespace's
        // root is the container's cgroup.
        priv.unshare_cgroup = true;
      } else {
        flags |= static_cast<unsigned long>(spec::namespace_clone_flag(ns.type));
        priv.new_user_ns = priv.new_user_ns || ns.type == NamespaceType::User;
      }
      continue;
    }
    base::Fd fd =
        MYDOCKER_TRY_CTX(base::Fd::open(ns.path, O_RDONLY), "linux.namespaces: `{}` namespace path",
                         spec::namespace_type_name(ns.type));
    if (ns.type == NamespaceType::Pid) {
      pid_ns_fd = std::move(fd);
    } else {
      priv.join_fds.emplace_back(ns.type, fd.get());
      owned_fds.push_back(std::move(fd));
    }
  }
  if (!has_mount_ns) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "linux.namespaces: a `mount` namespace is required");
  }
  if (s.process->terminal && config.console.empty()) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "process.terminal: a terminal needs a console socket "
                            "(--console-socket)");
  }
  SyncPair sync = MYDOCKER_TRY(make_sync_pair());
  pid_t pid;
  {
    PidNsForChildren pid_ns = MYDOCKER_TRY(PidNsForChildren::enter(pid_ns_fd.get()));
    // A raw clone: glibc's clone() wants a separate stack, fork() cannot take CLONE_NEW*.
    // Without CLONE_VM the child gets a copy of our memory, as with fork.
    pid = static_cast<pid_t>(::syscall(SYS_clone, flags, nullptr, nullptr, nullptr, nullptr));
    if (pid == 0) {
      sync.parent.reset();
      init_main(config, priv, sync.child.get());
    }
  }
  if (pid < 0) {
    return base::sys_error("clone the container init");
  }
  sync.child.reset();
  base::ScopeExit reap([pid] { kill_and_reap(pid); });
  if (priv.new_user_ns) {
    MYDOCKER_TRY(write_id_map(pid, "uid_map", s.linux.uid_mappings, "uidMappings"));
    MYDOCKER_TRY(write_id_map(pid, "gid_map", s.linux.gid_mappings, "gidMappings"));
  }
  if (before_go) {
    MYDOCKER_TRY(before_go(pid));
  }
  MYDOCKER_TRY_CTX(send_sync(sync.parent.get(), SyncMessage{SyncType::Go, ""}),
                   "start the container init");
  MYDOCKER_TRY(await_child(sync.parent.get(), pid, false));
  reap.dismiss();
  return pid;
}

base::Result<pid_t> spawn_exec(const ExecConfig& config, const BeforeGo& before_go) {
  if (config.process.terminal && config.console.empty()) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "process.terminal: a terminal needs a console socket "
                            "(--console-socket)");
  }
  InitPrivate priv;
  std::vector<base::Fd> owned_fds;
  base::Fd pid_ns_fd;
  // Namespaces we already share are skipped: setns into one's own user namespace fails.
  const std::pair<NamespaceType, const char*> kinds[] = {
      {NamespaceType::User, "user"},   {NamespaceType::Pid, "pid"},
      {NamespaceType::Ipc, "ipc"},     {NamespaceType::Uts, "uts"},
      {NamespaceType::Network, "net"}, {NamespaceType::Cgroup, "cgroup"},
      {NamespaceType::Mount, "mnt"},
  };
  for (const auto& [type, name] : kinds) {
    std::string theirs = fmt::format("/proc/{}/ns/{}", config.target_pid, name);
    if (same_namespace(theirs, fmt::format("/proc/self/ns/{}", name))) {
      continue;
    }
    base::Fd fd = MYDOCKER_TRY_CTX(base::Fd::open(theirs, O_RDONLY),
                                   "join the container's `{}` namespace", name);
    if (type == NamespaceType::Pid) {
      pid_ns_fd = std::move(fd);
    } else {
      priv.join_fds.emplace_back(type, fd.get());
      owned_fds.push_back(std::move(fd));
    }
  }
  SyncPair sync = MYDOCKER_TRY(make_sync_pair());
  pid_t pid;
  {
    PidNsForChildren pid_ns = MYDOCKER_TRY(PidNsForChildren::enter(pid_ns_fd.get()));
    pid = ::fork();
    if (pid == 0) {
      sync.parent.reset();
      exec_main(config, priv, sync.child.get());
    }
  }
  if (pid < 0) {
    return base::sys_error("fork the exec process");
  }
  sync.child.reset();
  base::ScopeExit reap([pid] { kill_and_reap(pid); });
  if (before_go) {
    MYDOCKER_TRY(before_go(pid));
  }
  MYDOCKER_TRY_CTX(send_sync(sync.parent.get(), SyncMessage{SyncType::Go, ""}),
                   "start the exec process");
  MYDOCKER_TRY(await_child(sync.parent.get(), pid, true));
  reap.dismiss();
  return pid;
}

}  // namespace mydocker::runtime::process
