// SPDX-License-Identifier: Apache-2.0
// mydocker-shim <state-dir>/shim.json: the per-container monitor (engine/shim/proto.h draws
// its exchange with the daemon). One shim per container, single-threaded, small: it creates
// and starts the container through the runtime library, copies the container's output into
// the json-file log, reaps the init, records how it ended in exit.json and removes the
// runtime state. It outlives the daemon (setsid, no parent-death signal, SIGPIPE ignored), so
// a daemon restarted after kill -9 finds its containers still running.
//
// Stdin is /dev/null for now; an interactive stdin (attach) would be one more fd in the poll
// loop below, fed from a socket in the state dir.
#include <fcntl.h>
#include <malloc.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "engine/logs/json_file.h"
#include "engine/shim/proto.h"
#include "runtime/base/file.h"
#include "runtime/process/console.h"
#include "runtime/state/container.h"

namespace {

namespace base = mydocker::base;
namespace logs = mydocker::engine::logs;
namespace rt = mydocker::runtime;
namespace shim = mydocker::engine::shim;
using base::ErrorCode;

// The shim's own stderr (the daemon's), kept aside while fds 1 and 2 go to the container.
int g_diag_fd = 2;

void diag(const std::string& msg) {
  std::string line = "mydocker-shim: " + msg + "\n";
  (void)base::write_all(g_diag_fd, line);
}

// MYDOCKER_RUNTIME_TIMING=1 (as the runtime's own phase timer): one line per shim phase on
// the shim's stderr.
class PhaseTimer {
 public:
  PhaseTimer()
      : on_(std::getenv("MYDOCKER_RUNTIME_TIMING") != nullptr),
        last_(std::chrono::steady_clock::now()) {}
  void mark(const char* phase) {
    if (!on_) {
      return;
    }
    auto now = std::chrono::steady_clock::now();
    diag(fmt::format("timing: {:<24} {:8.3f} ms", phase,
                     std::chrono::duration<double, std::milli>(now - last_).count()));
    last_ = now;
  }

 private:
  bool on_;
  std::chrono::steady_clock::time_point last_;
};

PhaseTimer& timer() {
  static PhaseTimer t;
  return t;
}

// One line on fd 3, then closed: the daemon waits for exactly this. A daemon that died in
// the meantime makes the write fail with EPIPE (SIGPIPE is ignored); the shim carries on.
void report(const shim::ReadyMessage& msg) {
  static bool done = false;
  if (done) {
    return;
  }
  done = true;
  (void)base::write_all(shim::kReadyFd, msg.to_json().dump() + "\n");
  ::close(shim::kReadyFd);
}

// What the shim needs from config.json beyond what the runtime does with it.
struct SpecFacts {
  bool new_netns = false;     // a new network namespace: its `lo` starts down
  bool memory_limit = false;  // OOM kills are only worth looking for under a limit
};

SpecFacts spec_facts(const std::string& bundle) {
  SpecFacts f;
  auto text = base::read_file(bundle + "/config.json");
  if (!text) {
    return f;  // the runtime reports it
  }
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return f;
  }
  auto lnx = j.find("linux");
  if (lnx == j.end() || !lnx->is_object()) {
    return f;
  }
  auto ns = lnx->find("namespaces");
  if (ns != lnx->end() && ns->is_array()) {
    for (const auto& n : *ns) {
      if (n.is_object() && n.value("type", "") == "network" && n.value("path", "").empty()) {
        f.new_netns = true;
      }
    }
  }
  auto res = lnx->find("resources");
  if (res != lnx->end() && res->is_object()) {
    auto mem = res->find("memory");
    f.memory_limit = mem != res->end() && mem->is_object() && mem->contains("limit") &&
                     (*mem)["limit"].is_number() && (*mem)["limit"].get<int64_t>() > 0;
  }
  return f;
}

// Sets IFF_UP on `lo` in the network namespace of `pid`. A socket belongs to the namespace it
// was created in, so: enter, make the socket, come back, and do the ioctl from home (no fork,
// no thread).
base::Result<void> bring_up_loopback(pid_t pid) {
  base::Fd home = MYDOCKER_TRY(base::Fd::open("/proc/self/ns/net", O_RDONLY));
  base::Fd theirs =
      MYDOCKER_TRY(base::Fd::open("/proc/" + std::to_string(pid) + "/ns/net", O_RDONLY));
  if (::setns(theirs.get(), CLONE_NEWNET) < 0) {
    return base::sys_error("enter the container's network namespace");
  }
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int socket_errno = errno;
  if (::setns(home.get(), CLONE_NEWNET) < 0) {
    // Staying in the container's namespace would be harmless for the rest of the shim (it
    // does no networking), but say so.
    diag("cannot return to the host network namespace: " + std::string(std::strerror(errno)));
  }
  if (s < 0) {
    errno = socket_errno;
    return base::sys_error("socket in the container's network namespace");
  }
  base::Fd sock = base::Fd::adopt(s);
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, "lo", 3);
  if (::ioctl(sock.get(), SIOCGIFFLAGS, &ifr) < 0) {
    return base::sys_error("read the flags of `lo`");
  }
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  if (::ioctl(sock.get(), SIOCSIFFLAGS, &ifr) < 0) {
    return base::sys_error("bring `lo` up");
  }
  return base::ok();
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  if (WIFSIGNALED(status)) {
    return 128 + WTERMSIG(status);
  }
  return 255;
}

// A source of container output: a pipe (stdout, stderr) or the pty master.
struct Source {
  base::Fd fd;
  const char* stream = "stdout";
};

class Shim {
 public:
  Shim(shim::ShimConfig config, shim::ShimPid me) : config_(std::move(config)), me_(me) {}

  // Everything up to the ready line. Returns false when the container did not start (the
  // error has been reported).
  bool start();
  // The container runs: copy output until the init exits, then clean up. Returns the
  // shim's exit code.
  int supervise();

  void signal_fd(base::Fd fd) { signal_fd_ = std::move(fd); }

 private:
  base::Result<void> setup_stdio();
  base::Result<void> create_and_start();
  void pump(Source& src, bool draining);
  void log(const char* stream, std::string_view data);

  shim::ShimConfig config_;
  shim::ShimPid me_;
  std::optional<logs::JsonFileWriter> writer_;
  bool log_failed_ = false;
  SpecFacts facts_;
  std::optional<rt::Container> container_;
  base::Fd signal_fd_;
  base::Fd dev_null_;
  base::Fd stdout_write_;
  base::Fd stderr_write_;
  base::Fd console_ours_;
  base::Fd console_theirs_;
  Source sources_[2];
  size_t n_sources_ = 0;
};

base::Result<void> Shim::setup_stdio() {
  dev_null_ = MYDOCKER_TRY(base::Fd::open("/dev/null", O_RDWR));
  if (::dup2(dev_null_.get(), 0) < 0) {
    return base::sys_error("stdin from /dev/null");
  }
  if (config_.tty) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) {
      return base::sys_error("socketpair for the console");
    }
    console_ours_ = base::Fd::adopt(fds[0]);
    console_theirs_ = base::Fd::adopt(fds[1]);
    // The init's stdio becomes the pty's slave; keep ours off the daemon's stderr anyway.
    ::dup2(dev_null_.get(), 1);
    ::dup2(dev_null_.get(), 2);
    return base::ok();
  }
  if (config_.log_path.empty()) {
    // Log driver none: nothing to copy, nothing to poll.
    ::dup2(dev_null_.get(), 1);
    ::dup2(dev_null_.get(), 2);
    return base::ok();
  }
  base::Pipe out = MYDOCKER_TRY(base::make_pipe());
  base::Pipe err = MYDOCKER_TRY(base::make_pipe());
  // dup2 clears O_CLOEXEC on 1 and 2: the init inherits them through clone and exec.
  if (::dup2(out.write.get(), 1) < 0 || ::dup2(err.write.get(), 2) < 0) {
    return base::sys_error("container stdio");
  }
  stdout_write_ = std::move(out.write);
  stderr_write_ = std::move(err.write);
  sources_[0] = Source{std::move(out.read), "stdout"};
  sources_[1] = Source{std::move(err.read), "stderr"};
  n_sources_ = 2;
  return base::ok();
}

base::Result<void> Shim::create_and_start() {
  rt::CreateOptions options;
  options.root = config_.runtime_root;
  options.console_fd = console_theirs_ ? console_theirs_.get() : -1;
  // The create/start split is only needed to bring `lo` up before the process runs.
  options.hold = facts_.new_netns;
  timer().mark("shim setup");
  auto c = rt::Container::create(config_.id, config_.bundle, options);
  timer().mark("runtime create");
  // The init holds its copies now; ours must go, or the pipes never report EOF.
  ::dup2(dev_null_.get(), 1);
  ::dup2(g_diag_fd, 2);
  stdout_write_.reset();
  stderr_write_.reset();
  console_theirs_.reset();
  if (!c) {
    return std::move(c).error();
  }
  container_ = std::move(*c);
  auto started = [&]() -> base::Result<void> {
    // Opened only now: a container that fails to create leaves no log behind.
    if (!config_.log_path.empty()) {
      writer_ = MYDOCKER_TRY(logs::JsonFileWriter::open(
          config_.log_path, {config_.log_max_size, config_.log_max_files}));
    }
    if (config_.tty) {
      base::Fd master = MYDOCKER_TRY_CTX(rt::process::recv_fd(console_ours_.get()),
                                         "receive the container's pty");
      console_ours_.reset();
      sources_[0] = Source{std::move(master), "stdout"};
      n_sources_ = 1;
    }
    if (facts_.new_netns) {
      MYDOCKER_TRY(bring_up_loopback(container_->pid()));
      timer().mark("lo up");
      MYDOCKER_TRY(container_->start());
      timer().mark("runtime start");
    }
    return base::ok();
  }();
  if (!started) {
    (void)container_->destroy(true);
    container_.reset();
    return std::move(started).error();
  }
  return base::ok();
}

bool Shim::start() {
  facts_ = spec_facts(config_.bundle);
  auto stdio = setup_stdio();
  if (!stdio) {
    report({0, stdio.error().to_string()});
    return false;
  }
  auto created = create_and_start();
  if (!created) {
    report({0, created.error().to_string()});
    return false;
  }
  for (size_t i = 0; i < n_sources_; ++i) {
    ::fcntl(sources_[i].fd.get(), F_SETFL, O_NONBLOCK);
  }
  me_.container_pid = container_->pid();
  auto written = shim::write_pid(config_.state_dir, me_);
  if (!written) {
    // Without shim.pid a restarted daemon cannot find us: better no container than a lost one.
    (void)container_->destroy(true);
    report({0, "record the shim: " + written.error().to_string()});
    return false;
  }
  timer().mark("shim.pid");
  report({container_->pid(), ""});
  timer().mark("ready");
  // The shim lives as long as the container, one per container: hand back the heap the
  // spec, the seccomp compile and the runtime's set-up used (most of the shim's private
  // memory otherwise; glibc keeps freed chunks mapped).
  ::malloc_trim(0);
  return true;
}

void Shim::log(const char* stream, std::string_view data) {
  if (!writer_) {
    return;
  }
  auto r = writer_->write(stream, data);
  // A full disk must not stall the container: drop output, say so once.
  if (!r && !log_failed_) {
    log_failed_ = true;
    diag(r.error().to_string());
  }
}

void Shim::pump(Source& src, bool draining) {
  char buf[64 * 1024];
  for (;;) {
    ssize_t n = ::read(src.fd.get(), buf, sizeof buf);
    if (n > 0) {
      log(src.stream, std::string_view(buf, static_cast<size_t>(n)));
      if (!draining && static_cast<size_t>(n) < sizeof buf) {
        return;  // back to poll: the other stream gets its turn
      }
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && errno == EAGAIN) {
      return;
    }
    // EOF, or EIO from a pty master whose slave side is closed.
    src.fd.reset();
    return;
  }
}

int Shim::supervise() {
  const pid_t init = container_->pid();
  std::optional<int> status;
  while (!status) {
    pollfd fds[3];
    nfds_t n = 0;
    fds[n++] = pollfd{signal_fd_.get(), POLLIN, 0};
    Source* polled[3] = {nullptr, nullptr, nullptr};
    for (size_t i = 0; i < n_sources_; ++i) {
      if (sources_[i].fd) {
        polled[n] = &sources_[i];
        fds[n++] = pollfd{sources_[i].fd.get(), POLLIN, 0};
      }
    }
    if (::poll(fds, n, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      diag("poll: " + std::string(std::strerror(errno)));
      ::sleep(1);
      continue;
    }
    for (nfds_t i = 1; i < n; ++i) {
      if (fds[i].revents != 0) {
        pump(*polled[i], false);
      }
    }
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo si{};
      while (::read(signal_fd_.get(), &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
      }
      // As a subreaper we also collect orphans the container leaves (no pid namespace).
      for (;;) {
        int st = 0;
        pid_t r = ::waitpid(-1, &st, WNOHANG);
        if (r <= 0) {
          break;
        }
        if (r == init) {
          status = st;
        }
      }
    }
  }
  const std::string finished_at = logs::format_time(logs::now_nanos());
  // With a pid namespace every other process died with the init; without one, a daemonized
  // leftover may hold the pipes open: take what is buffered, do not wait for EOF.
  for (size_t i = 0; i < n_sources_; ++i) {
    if (sources_[i].fd) {
      pump(sources_[i], true);
    }
  }
  if (writer_) {
    auto flushed = writer_->flush();
    if (!flushed && !log_failed_) {
      diag(flushed.error().to_string());
    }
  }
  shim::ExitStatus exit;
  exit.exit_code = exit_code_of(*status);
  exit.finished_at = finished_at;
  if (facts_.memory_limit) {
    auto stats = container_->stats();
    exit.oom_killed = stats && stats->oom_events > 0;
  }
  timer().mark("container ran, drained");
  auto destroyed = container_->destroy(true);
  timer().mark("runtime destroy");
  if (!destroyed) {
    diag("destroy container `" + config_.id + "`: " + destroyed.error().to_string());
  }
  auto written = shim::write_exit(config_.state_dir, exit);
  timer().mark("exit.json");
  if (!written) {
    diag(written.error().to_string());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: mydocker-shim <state-dir>/shim.json\n");
    return 2;
  }
  // fd 3 is the ready pipe; anything else above stderr is a stray the container must not
  // inherit (the daemon spawns with everything close-on-exec, this is the belt to that).
  ::close_range(shim::kReadyFd + 1, ~0U, 0);
  ::fcntl(shim::kReadyFd, F_SETFD, FD_CLOEXEC);
  int diag_fd = ::fcntl(2, F_DUPFD_CLOEXEC, shim::kReadyFd + 1);
  if (diag_fd >= 0) {
    g_diag_fd = diag_fd;
  }
  timer().mark("exec to main");
  // Our own session: a terminal hangup or a signal to the daemon's process group does not
  // reach us (or the container).
  ::setsid();
  // Orphans of the container (and the init itself, should our parent change) come to us.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  // Signals meant to stop a process do not stop the shim: the container is stopped through
  // the runtime, and the shim ends when the init does. The init resets all dispositions.
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGTTIN, SIGTTOU}) {
    ::signal(sig, SIG_IGN);
  }
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &chld, nullptr);
  int sfd = ::signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) {
    report({0, "mydocker-shim: signalfd: " + std::string(std::strerror(errno))});
    return 1;
  }

  auto config = shim::read_config(argv[1]);
  if (!config) {
    report({0, "mydocker-shim: " + config.error().to_string()});
    return 1;
  }
  // As containerd runs runc: in the bundle (relative paths in config.json), and not pinning
  // the daemon's working directory for the container's lifetime.
  if (::chdir(config->bundle.c_str()) < 0 && ::chdir("/") < 0) {
    diag("chdir: " + std::string(std::strerror(errno)));
  }
  shim::ShimPid me;
  me.pid = ::getpid();
  auto start_time = shim::process_start_time(me.pid);
  me.start_time = start_time ? *start_time : 0;
  // shim.pid is written once, when the container runs: a new file is a cheap rename, while
  // replacing one on ext4 flushes the data first (auto_da_alloc), ~1 ms on the start path.
  Shim s(std::move(*config), me);
  s.signal_fd(base::Fd::adopt(sfd));
  if (!s.start()) {
    return 1;
  }
  return s.supervise();
}
