// SPDX-License-Identifier: Apache-2.0
#include "engine/shim/spawn.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "runtime/base/file.h"
#include "runtime/base/scope_exit.h"

extern char** environ;

namespace mydocker::engine::shim {

namespace {

using base::ErrorCode;
using Clock = std::chrono::steady_clock;

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

base::Result<base::Fd> open_pidfd(pid_t pid) {
  long fd = ::syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) {
    if (errno == ESRCH) {
      return base::make_error(ErrorCode::NotFound, "shim `{}` is gone", pid);
    }
    return base::sys_error("pidfd_open `{}`", pid);
  }
  return base::Fd::adopt(static_cast<int>(fd));
}

// Blocks until `pid` (our child) is collected; returns its wait status.
int reap_child(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) {
    return fmt::format("exit status {}", WEXITSTATUS(status));
  }
  if (WIFSIGNALED(status)) {
    return fmt::format("signal {}", WTERMSIG(status));
  }
  return fmt::format("status {}", status);
}

// Docker decides by the runtime's wording (daemon/start.go): a missing command is 127 and
// NotFound, one that cannot be executed 126 and PermissionDenied.
ErrorCode code_for_start_error(const std::string& text) {
  if (text.find("executable file not found") != std::string::npos ||
      text.find("no such file or directory") != std::string::npos) {
    return ErrorCode::NotFound;
  }
  if (text.find("permission denied") != std::string::npos) {
    return ErrorCode::PermissionDenied;
  }
  return ErrorCode::Internal;
}

// Reads up to the first "\n" (or EOF) from `fd`, waiting at most until `deadline`.
// nullopt on timeout.
base::Result<std::optional<std::string>> read_ready_line(int fd, Clock::time_point deadline) {
  std::string line;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      return std::optional<std::string>();
    }
    pollfd p{fd, POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count() + 1, INT32_MAX)));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return base::sys_error("poll the shim's ready pipe");
    }
    if (n == 0) {
      continue;
    }
    char buf[4096];
    ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN) {
        continue;
      }
      return base::sys_error("read the shim's ready pipe");
    }
    if (r == 0) {
      return std::optional<std::string>(line);
    }
    line.append(buf, static_cast<size_t>(r));
    size_t nl = line.find('\n');
    if (nl != std::string::npos) {
      line.resize(nl);
      return std::optional<std::string>(line);
    }
    if (line.size() > 1 << 20) {
      return base::make_error(ErrorCode::Internal, "the shim's ready line is too long");
    }
  }
}

}  // namespace

void Shim::reap() {
  if (!is_child_ || !pidfd_) {
    return;
  }
  siginfo_t info{};
  // P_PIDFD cannot hit a recycled pid; ECHILD once collected keeps this idempotent.
  if (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd_.get()), &info,
               WEXITED | WNOHANG) < 0 &&
      errno == EINVAL) {
    int status;
    ::waitpid(pid(), &status, WNOHANG);
  }
}

base::Result<Shim> spawn(const std::string& shim_path, ShimConfig config,
                         std::chrono::milliseconds timeout, std::vector<base::Fd> attach_conns) {
  if (attach_conns.size() != config.attaches.size()) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "spawn shim: {} attach connections for {} attach specs",
                            attach_conns.size(), config.attaches.size());
  }
  for (size_t i = 0; i < config.attaches.size(); ++i) {
    config.attaches[i].fd = kFirstAttachFd + static_cast<int>(i);
  }
  // The dup2 sources must lie above every target (3 .. kFirstAttachFd + n - 1): a source
  // that is also a target would be overwritten before it is copied, and dup2(x, x) would
  // keep O_CLOEXEC.
  const int first_free = kFirstAttachFd + static_cast<int>(attach_conns.size());
  auto lift = [first_free](base::Fd& fd) -> base::Result<void> {
    if (fd.get() >= first_free) {
      return base::ok();
    }
    int moved = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, first_free);
    if (moved < 0) {
      return base::sys_error("dup a descriptor for the shim");
    }
    fd.reset(moved);
    return base::ok();
  };
  for (auto& conn : attach_conns) {
    if (!conn) {
      return base::make_error(ErrorCode::InvalidArgument,
                              "spawn shim: an invalid attach connection");
    }
    MYDOCKER_TRY(lift(conn));
  }
  MYDOCKER_TRY(base::mkdir_all(config.state_dir, 0700));
  // A state dir reused by a restart must not show the previous run's shim or exit.
  ::unlink((config.state_dir + "/" + kExitFile).c_str());
  ::unlink((config.state_dir + "/" + kShimPidFile).c_str());
  ::unlink((config.state_dir + "/" + kControlSocket).c_str());
  MYDOCKER_TRY(write_config(config.state_dir, config));
  std::string config_path = config.state_dir + "/" + kShimConfigFile;

  base::Pipe ready = MYDOCKER_TRY(base::make_pipe());
  MYDOCKER_TRY(lift(ready.write));

  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  base::ScopeExit free_actions([&] { ::posix_spawn_file_actions_destroy(&actions); });
  posix_spawnattr_t attr;
  ::posix_spawnattr_init(&attr);
  base::ScopeExit free_attr([&] { ::posix_spawnattr_destroy(&attr); });

  // The shim's own stdio: nothing in, nothing out (it reports on fd 3 and in files); stderr
  // stays the daemon's for the rare diagnostic.
  ::posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  ::posix_spawn_file_actions_adddup2(&actions, ready.write.get(), kReadyFd);
  for (size_t i = 0; i < attach_conns.size(); ++i) {
    ::posix_spawn_file_actions_adddup2(&actions, attach_conns[i].get(),
                                       kFirstAttachFd + static_cast<int>(i));
  }
  // The daemon blocks and handles signals; the shim starts from the defaults.
  sigset_t empty;
  sigemptyset(&empty);
  sigset_t all;
  sigfillset(&all);
  sigdelset(&all, SIGKILL);
  sigdelset(&all, SIGSTOP);
  ::posix_spawnattr_setsigmask(&attr, &empty);
  ::posix_spawnattr_setsigdefault(&attr, &all);
  ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::string arg0 = shim_path;
  std::vector<char*> argv = {arg0.data(), config_path.data(), nullptr};
  pid_t pid = 0;
  int err = ::posix_spawn(&pid, shim_path.c_str(), &actions, &attr, argv.data(), environ);
  if (err != 0) {
    return base::sys_error_n(err, "spawn shim `{}`", shim_path);
  }
  ready.write.reset();
  // The shim holds the connections now; ours go, so a shim exit closes them.
  attach_conns.clear();
  // pidfd before anything can reap it: the pid is ours until we wait.
  auto pidfd = open_pidfd(pid);
  auto fail_cleanup = [&] {
    ::unlink((config.state_dir + "/" + kShimPidFile).c_str());
    ::unlink((config.state_dir + "/" + kExitFile).c_str());
    ::unlink((config.state_dir + "/" + kControlSocket).c_str());
  };
  if (!pidfd) {
    ::kill(pid, SIGKILL);
    reap_child(pid);
    fail_cleanup();
    return std::move(pidfd).error();
  }

  auto line = read_ready_line(ready.read.get(), Clock::now() + timeout);
  if (!line || !line->has_value()) {
    // Killing the shim orphans a container it may have created; its cgroup and state are
    // found by the runtime's listing, not lost.
    ::kill(pid, SIGKILL);
    reap_child(pid);
    fail_cleanup();
    if (!line) {
      return std::move(line).error();
    }
    return base::make_error(ErrorCode::Unavailable,
                            "shim for container `{}` did not report within {} ms", config.id,
                            timeout.count());
  }
  std::string text = std::move(**line);
  ReadyMessage msg;
  auto j = nlohmann::json::parse(text, nullptr, false);
  auto parsed = j.is_discarded()
                    ? base::Result<ReadyMessage>(base::make_error(ErrorCode::Internal, "not JSON"))
                    : ReadyMessage::from_json(j);
  if (!parsed) {
    int status = reap_child(pid);
    fail_cleanup();
    if (text.empty()) {
      return base::make_error(ErrorCode::Internal,
                              "shim for container `{}` exited ({}) before reporting", config.id,
                              describe_status(status));
    }
    return base::make_error(ErrorCode::Internal, "shim for container `{}`: bad ready line `{}`",
                            config.id, text);
  }
  msg = std::move(*parsed);
  if (!msg.error.empty()) {
    // The shim exits right after reporting a failure.
    reap_child(pid);
    fail_cleanup();
    return base::Error(code_for_start_error(msg.error), msg.error);
  }
  Shim shim;
  shim.pid_.pid = pid;
  shim.pid_.container_pid = msg.pid;
  auto start = process_start_time(pid);
  shim.pid_.start_time = start ? *start : 0;
  shim.container_pid_ = msg.pid;
  shim.pidfd_ = std::move(*pidfd);
  shim.is_child_ = true;
  return shim;
}

base::Result<Shim> attach(const std::string& state_dir) {
  ShimPid recorded = MYDOCKER_TRY(read_pid(state_dir));
  auto gone = [&] {
    return base::make_error(ErrorCode::NotFound, "shim `{}` of `{}` is gone", recorded.pid,
                            state_dir);
  };
  auto before = read_process_stat(recorded.pid);
  if (!before) {
    if (before.error().code() == ErrorCode::NotFound) {
      return gone();
    }
    return std::move(before).error();
  }
  // A zombie shim has finished (nobody reaped it yet: pid 1 may not reap orphans).
  if (before->start_time != recorded.start_time || before->state == 'Z' || before->state == 'X') {
    return gone();
  }
  auto pidfd = open_pidfd(static_cast<pid_t>(recorded.pid));
  if (!pidfd) {
    if (pidfd.error().code() == ErrorCode::NotFound) {
      return gone();
    }
    return std::move(pidfd).error();
  }
  // The pid could have been recycled between the check and pidfd_open: check again, now
  // that the pidfd pins the process.
  auto after = read_process_stat(recorded.pid);
  if (!after || after->start_time != recorded.start_time) {
    return gone();
  }
  Shim shim;
  shim.pid_ = recorded;
  shim.container_pid_ = recorded.container_pid;
  shim.pidfd_ = std::move(*pidfd);
  shim.is_child_ = false;
  return shim;
}

}  // namespace mydocker::engine::shim
