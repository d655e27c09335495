// SPDX-License-Identifier: Apache-2.0
// mydocker-shim <state-dir>/shim.json: the per-container monitor (engine/shim/proto.h draws
// its exchange with the daemon). One shim per container, single-threaded, small: it creates
// and starts the container through the runtime library, copies the container's output into
// the json-file log, reaps the init, records how it ended in exit.json and removes the
// runtime state. It outlives the daemon (setsid, no parent-death signal, SIGPIPE ignored), so
// a daemon restarted after kill -9 finds its containers still running.
//
// Streams (cmd/mydocker-shim/streams.h): clients attached at spawn (inherited descriptors)
// or through the control socket <state-dir>/shim.sock get the container's output and feed
// its stdin; exec'd processes are started from the control socket too, and their stdio is
// served the same way (without a log). The init's and each exec's exit is recorded
// (exit.json, exec-<id>.json) before their connections close.
#include <fcntl.h>
#include <malloc.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cmd/mydocker-shim/streams.h"
#include "engine/logs/json_file.h"
#include "engine/shim/proto.h"
#include "runtime/base/file.h"
#include "runtime/process/console.h"
#include "runtime/state/container.h"

namespace mydocker::cmd::shim {

namespace {
// The shim's own stderr (the daemon's), kept aside while fds 1 and 2 go to the container.
int g_diag_fd = 2;
}  // namespace

void diag(const std::string& msg) {
  std::string line = "mydocker-shim: " + msg + "\n";
  (void)base::write_all(g_diag_fd, line);
}

namespace {

namespace logs = engine::logs;
namespace rt = runtime;
namespace proto = engine::shim;
using base::ErrorCode;

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
void report(const proto::ReadyMessage& msg) {
  static bool done = false;
  if (done) {
    return;
  }
  done = true;
  (void)base::write_all(proto::kReadyFd, msg.to_json().dump() + "\n");
  ::close(proto::kReadyFd);
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

// Pipe buffer of the init's stdio (fewer wake-ups per MiB streamed). The pages are only used
// while data waits in them.
constexpr int kOutputPipeSize = 1 << 20;

// Most a control request can be (an exec's process with its environment).
constexpr size_t kMaxRequest = 1 << 20;

proto::ControlReply reply_error(const base::Error& e) {
  proto::ControlReply r;
  r.error = e.to_string();
  r.code = static_cast<int>(e.code());
  return r;
}

proto::ControlReply reply_error(ErrorCode code, std::string message) {
  return reply_error(base::Error(code, std::move(message)));
}

// <state-dir>/shim.sock, mode 0600. A path too long for sun_path is bound through an O_PATH
// descriptor of the directory, as the daemon connects to it.
base::Result<base::Fd> listen_control(const std::string& state_dir) {
  std::string path = state_dir + "/" + proto::kControlSocket;
  ::unlink(path.c_str());  // a previous run's
  int s = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s < 0) {
    return base::sys_error("control socket");
  }
  base::Fd sock = base::Fd::adopt(s);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  base::Fd dir;
  std::string bind_path = path;
  if (bind_path.size() >= sizeof addr.sun_path) {
    dir = MYDOCKER_TRY(base::Fd::open(state_dir, O_PATH | O_DIRECTORY));
    bind_path = fmt::format("/proc/self/fd/{}/{}", dir.get(), proto::kControlSocket);
  }
  std::memcpy(addr.sun_path, bind_path.c_str(), bind_path.size() + 1);
  mode_t old = ::umask(0177);
  int rc = ::bind(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  ::umask(old);
  if (rc < 0) {
    return base::sys_error("bind `{}`", path);
  }
  if (::listen(sock.get(), 128) < 0) {
    auto err = base::sys_error("listen on `{}`", path);
    ::unlink(path.c_str());
    return err;
  }
  return sock;
}

class Shim {
 public:
  Shim(proto::ShimConfig config, proto::ShimPid me, std::vector<base::Fd> inherited)
      : config_(std::move(config)), me_(me), inherited_(std::move(inherited)) {}

  // Everything up to the ready line. Returns false when the container did not start (the
  // error has been reported).
  bool start();
  // The container runs: serve its streams and control requests until the init exits, then
  // clean up. Returns the shim's exit code.
  int supervise();

  void signal_fd(base::Fd fd) { signal_fd_ = std::move(fd); }

 private:
  // Adapters from epoll events to the shim's handlers.
  class Handler final : public Watch {
   public:
    Handler(Shim* shim, void (Shim::*fn)()) : shim_(shim), fn_(fn) {}
    void handle(uint32_t) override { (shim_->*fn_)(); }

   private:
    Shim* shim_;
    void (Shim::*fn_)();
  };
  // An accepted control connection whose request has not arrived yet.
  class ControlConn final : public Watch {
   public:
    ControlConn(Shim* shim, base::Fd fd) : fd_(std::move(fd)), shim_(shim) {}
    void handle(uint32_t events) override {
      if (fd_ && (shim_->serve_control(fd_.get()) || (events & (EPOLLHUP | EPOLLERR)))) {
        shim_->end_control_conn(this);
      }
    }
    base::Fd fd_;

   private:
    Shim* shim_;
  };

  base::Result<void> setup_stdio();
  base::Result<void> create_and_start();
  void log(const char* stream, std::string_view data);
  void on_signal();
  void exec_exited(Proc* p, int status);
  void on_accept();
  // Reads and answers one request on `fd`; false when it has not arrived yet.
  bool serve_control(int fd);
  void end_control_conn(ControlConn* c);
  void close_control();
  proto::ControlReply handle(const proto::ControlRequest& req, base::Fd conn);
  proto::ControlReply resize(const proto::ControlRequest& req);
  proto::ControlReply exec(const proto::ControlRequest& req, base::Fd conn);
  base::Result<void> restore_stdio();

  proto::ShimConfig config_;
  proto::ShimPid me_;
  std::vector<base::Fd> inherited_;
  std::optional<logs::JsonFileWriter> writer_;
  bool log_failed_ = false;
  SpecFacts facts_;
  std::optional<rt::Container> container_;
  pid_t init_pid_ = 0;
  std::optional<int> init_status_;
  bool exiting_ = false;
  base::Fd signal_fd_;
  base::Fd dev_null_;
  base::Fd stdin_read_;
  base::Fd stdin_write_;
  base::Fd stdout_read_;
  base::Fd stdout_write_;
  base::Fd stderr_read_;
  base::Fd stderr_write_;
  base::Fd console_ours_;
  base::Fd console_theirs_;
  base::Fd master_;
  base::Fd listener_;
  Streams streams_;
  std::unique_ptr<Handler> signal_watch_;
  std::unique_ptr<Handler> listen_watch_;
  std::vector<std::unique_ptr<ControlConn>> control_conns_;
};

base::Result<void> Shim::setup_stdio() {
  dev_null_ = MYDOCKER_TRY(base::Fd::open("/dev/null", O_RDWR));
  if (config_.open_stdin && !config_.tty) {
    base::Pipe in = MYDOCKER_TRY(base::make_pipe());
    ::fcntl(in.write.get(), F_SETPIPE_SZ, kOutputPipeSize);
    if (::dup2(in.read.get(), 0) < 0) {
      return base::sys_error("container stdin");
    }
    stdin_read_ = std::move(in.read);
    stdin_write_ = std::move(in.write);
  } else if (::dup2(dev_null_.get(), 0) < 0) {
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
  // Pipes even without a log: a client may attach later.
  base::Pipe out = MYDOCKER_TRY(base::make_pipe());
  base::Pipe err = MYDOCKER_TRY(base::make_pipe());
  // Larger pipes: fewer wake-ups of the shim per MiB of output (the kernel caps this at
  // /proc/sys/fs/pipe-max-size; a refusal just leaves the default).
  ::fcntl(out.read.get(), F_SETPIPE_SZ, kOutputPipeSize);
  ::fcntl(err.read.get(), F_SETPIPE_SZ, kOutputPipeSize);
  // dup2 clears O_CLOEXEC on 1 and 2: the init inherits them through clone and exec.
  if (::dup2(out.write.get(), 1) < 0 || ::dup2(err.write.get(), 2) < 0) {
    return base::sys_error("container stdio");
  }
  stdout_write_ = std::move(out.write);
  stderr_write_ = std::move(err.write);
  stdout_read_ = std::move(out.read);
  stderr_read_ = std::move(err.read);
  return base::ok();
}

// Our 0/1/2 back to /dev/null and the daemon's stderr once a child holds its copies (ours
// would keep its pipes from reporting EOF).
base::Result<void> Shim::restore_stdio() {
  if (::dup2(dev_null_.get(), 0) < 0 || ::dup2(dev_null_.get(), 1) < 0 ||
      ::dup2(g_diag_fd, 2) < 0) {
    return base::sys_error("restore the shim's stdio");
  }
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
  (void)restore_stdio();
  stdin_read_.reset();
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
      master_ = MYDOCKER_TRY_CTX(rt::process::recv_fd(console_ours_.get()),
                                 "receive the container's pty");
      console_ours_.reset();
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
  auto fail = [&](const std::string& msg) {
    ::unlink((config_.state_dir + "/" + proto::kControlSocket).c_str());
    report({0, msg});
    return false;
  };
  if (!streams_.valid()) {
    return fail("epoll: " + std::string(std::strerror(errno)));
  }
  // Before the container starts: the daemon may connect as soon as it learns the container
  // runs.
  auto listener = listen_control(config_.state_dir);
  if (!listener) {
    return fail(listener.error().to_string());
  }
  listener_ = std::move(*listener);
  auto stdio = setup_stdio();
  if (!stdio) {
    return fail(stdio.error().to_string());
  }
  auto created = create_and_start();
  if (!created) {
    return fail(created.error().to_string());
  }
  init_pid_ = container_->pid();
  me_.container_pid = container_->pid();
  auto written = proto::write_pid(config_.state_dir, me_);
  if (!written) {
    // Without shim.pid a restarted daemon cannot find us: better no container than a lost one.
    (void)container_->destroy(true);
    return fail("record the shim: " + written.error().to_string());
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

void Shim::on_signal() {
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
    if (r == init_pid_) {
      init_status_ = st;
      continue;
    }
    Proc* p = streams_.find_proc(r);
    if (p != nullptr && !p->exec_id().empty()) {
      exec_exited(p, st);
    }
  }
}

// Output first, then the exit file, then the connection closes: a client that sees EOF can
// read how the process ended at once.
void Shim::exec_exited(Proc* p, int status) {
  timer().mark("exec exited");
  streams_.drain(p);
  proto::ExecExit e;
  e.exit_code = exit_code_of(status);
  auto written = proto::write_exec_exit(config_.state_dir, p->exec_id(), e);
  if (!written) {
    diag(written.error().to_string());
  }
  streams_.finish(p);
  if (streams_.exec_count() == 0) {
    // An exec's set-up (its process spec, the runtime's work) leaves freed heap behind;
    // the shim lives on with the container: hand it back (after the client has its EOF).
    ::malloc_trim(0);
  }
}

void Shim::on_accept() {
  for (;;) {
    int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      if (errno == EINTR) {
        continue;
      }
      return;  // EAGAIN, or a connection that went away
    }
    base::Fd conn = base::Fd::adopt(fd);
    // The client writes its request right after connecting: usually it is here already.
    if (serve_control(conn.get())) {
      continue;
    }
    auto c = std::make_unique<ControlConn>(this, std::move(conn));
    if (streams_.add(c.get(), c->fd_.get(), EPOLLIN)) {
      control_conns_.push_back(std::move(c));
    }
  }
}

void Shim::end_control_conn(ControlConn* c) {
  streams_.remove(c->fd_.get());
  c->fd_.reset();
  for (auto it = control_conns_.begin(); it != control_conns_.end(); ++it) {
    if (it->get() == c) {
      streams_.retire(std::move(*it));
      control_conns_.erase(it);
      break;
    }
  }
}

bool Shim::serve_control(int fd) {
  ssize_t len = ::recv(fd, nullptr, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
  if (len < 0) {
    return errno != EAGAIN && errno != EINTR;
  }
  if (len == 0) {
    // The client left (or sent an empty message, which is no request).
    char c;
    (void)::recv(fd, &c, 1, MSG_DONTWAIT);
    return true;
  }
  proto::ControlReply reply;
  base::Fd conn;
  std::string data(static_cast<size_t>(std::min<ssize_t>(len, kMaxRequest)), '\0');
  iovec iov{data.data(), data.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(4 * sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n = ::recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  if (n < 0) {
    return errno != EAGAIN && errno != EINTR;
  }
  bool extra_fds = false;
  for (cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm != nullptr; cm = CMSG_NXTHDR(&msg, cm)) {
    if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) {
      continue;
    }
    size_t count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int got;
      std::memcpy(&got, CMSG_DATA(cm) + i * sizeof(int), sizeof got);
      if (!conn) {
        conn = base::Fd::adopt(got);
      } else {
        ::close(got);
        extra_fds = true;
      }
    }
  }
  if (msg.msg_flags & MSG_TRUNC) {
    reply = reply_error(ErrorCode::InvalidArgument, "control request too long");
  } else if (extra_fds) {
    reply = reply_error(ErrorCode::InvalidArgument, "control request: more than one descriptor");
  } else {
    data.resize(static_cast<size_t>(n));
    auto j = nlohmann::json::parse(data, nullptr, false);
    auto req = j.is_discarded() ? base::Result<proto::ControlRequest>(base::make_error(
                                      ErrorCode::InvalidArgument, "control request: not JSON"))
                                : proto::ControlRequest::from_json(j);
    reply = req ? handle(*req, std::move(conn)) : reply_error(req.error());
  }
  std::string out = reply.to_json().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  (void)::send(fd, out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  return true;
}

proto::ControlReply Shim::handle(const proto::ControlRequest& req, base::Fd conn) {
  if (exiting_ || streams_.init() == nullptr) {
    return reply_error(ErrorCode::Conflict,
                       fmt::format("container `{}` is not running", config_.id));
  }
  if (req.op == "resize") {
    return resize(req);
  }
  if (req.op == "exec") {
    return exec(req, std::move(conn));
  }
  if (!conn) {
    return reply_error(ErrorCode::InvalidArgument, "attach: no connection");
  }
  streams_.attach(streams_.init(), std::move(conn), req.attach);
  return {};
}

proto::ControlReply Shim::resize(const proto::ControlRequest& req) {
  Proc* p = req.exec_id.empty() ? streams_.init() : streams_.find_exec(req.exec_id);
  if (p == nullptr) {
    return reply_error(ErrorCode::NotFound, fmt::format("no such exec: {}", req.exec_id));
  }
  if (p->pty_master() < 0) {
    return reply_error(ErrorCode::Conflict,
                       req.exec_id.empty() ? fmt::format("container `{}` has no tty", config_.id)
                                           : fmt::format("exec `{}` has no tty", req.exec_id));
  }
  winsize ws{};
  ws.ws_row = static_cast<unsigned short>(req.height);
  ws.ws_col = static_cast<unsigned short>(req.width);
  if (::ioctl(p->pty_master(), TIOCSWINSZ, &ws) < 0) {
    return reply_error(base::sys_error("resize the tty"));
  }
  return {};
}

proto::ControlReply Shim::exec(const proto::ControlRequest& req, base::Fd conn) {
  timer().mark("exec request");
  const proto::ExecSpec& spec = req.exec;
  if (streams_.find_exec(spec.id) != nullptr ||
      base::path_exists(config_.state_dir + "/exec-" + spec.id + ".json")) {
    return reply_error(ErrorCode::Conflict, fmt::format("exec `{}` was already started", spec.id));
  }
  auto process = rt::spec::parse_process(spec.process.dump());
  if (!process) {
    return reply_error(process.error());
  }
  ProcIo io;
  io.exec_id = spec.id;
  io.tty = process->terminal;
  io.stdin_once = true;  // Docker closes an exec's stdin when its client's stdin ends
  rt::ExecOptions options;
  options.process = std::move(*process);
  base::Fd console_ours, console_theirs;
  base::Fd child_in, child_out, child_err;
  if (io.tty) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) {
      return reply_error(base::sys_error("socketpair for the exec's console"));
    }
    console_ours = base::Fd::adopt(fds[0]);
    console_theirs = base::Fd::adopt(fds[1]);
    options.console_fd = console_theirs.get();
  } else {
    auto make = [](base::Fd& ours, base::Fd& theirs, bool ours_is_write) -> base::Result<void> {
      base::Pipe p = MYDOCKER_TRY(base::make_pipe());
      ours = std::move(ours_is_write ? p.write : p.read);
      theirs = std::move(ours_is_write ? p.read : p.write);
      return base::ok();
    };
    base::Result<void> made = base::ok();
    // Stdin nobody can feed (no connection, or one without stdin) is /dev/null: EOF at once
    // rather than a process waiting forever.
    if (spec.open_stdin && conn && req.attach.stdin_stream) {
      made = make(io.in, child_in, true);
    }
    // Without a connection nobody reads the output: /dev/null, nothing to copy.
    if (made && conn) {
      made = make(io.out, child_out, false);
      if (made) {
        made = make(io.err, child_err, false);
      }
    }
    if (!made) {
      return reply_error(made.error());
    }
    int in = child_in ? child_in.get() : dev_null_.get();
    int out = child_out ? child_out.get() : dev_null_.get();
    int err = child_err ? child_err.get() : dev_null_.get();
    if (::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) {
      auto e = base::sys_error("the exec's stdio");
      (void)restore_stdio();
      return reply_error(e);
    }
  }
  timer().mark("exec prepared");
  auto pid = container_->exec(options);
  timer().mark("runtime exec");
  if (!io.tty) {
    (void)restore_stdio();
  }
  console_theirs.reset();
  child_in.reset();
  child_out.reset();
  child_err.reset();
  if (!pid) {
    return reply_error(pid.error());
  }
  io.pid = *pid;
  if (io.tty) {
    // The process sent its pty master before it exec'd, so it is here already.
    auto master = rt::process::recv_fd(console_ours.get());
    if (!master) {
      ::kill(*pid, SIGKILL);  // reaped as an orphan by on_signal
      return reply_error(master.error().wrap("receive the exec's pty"));
    }
    io.out = std::move(*master);
    if (spec.open_stdin && conn && req.attach.stdin_stream) {
      auto in = io.out.dup();
      if (in) {
        io.in = std::move(*in);
      }
    }
  }
  Proc* p = streams_.add_proc(std::move(io));
  if (conn) {
    streams_.attach(p, std::move(conn), req.attach);
  }
  proto::ControlReply r;
  r.pid = *pid;
  return r;
}

void Shim::close_control() {
  if (listener_) {
    streams_.remove(listener_.get());
    listener_.reset();
    ::unlink((config_.state_dir + "/" + proto::kControlSocket).c_str());
  }
  while (!control_conns_.empty()) {
    end_control_conn(control_conns_.back().get());
  }
}

int Shim::supervise() {
  signal_watch_ = std::make_unique<Handler>(this, &Shim::on_signal);
  listen_watch_ = std::make_unique<Handler>(this, &Shim::on_accept);
  if (!streams_.add(signal_watch_.get(), signal_fd_.get(), EPOLLIN) ||
      !streams_.add(listen_watch_.get(), listener_.get(), EPOLLIN)) {
    diag("epoll: " + std::string(std::strerror(errno)));
  }
  ProcIo io;
  io.pid = init_pid_;
  io.tty = config_.tty;
  io.stdin_once = config_.stdin_once;
  if (config_.tty) {
    if (config_.open_stdin) {
      auto in = master_.dup();
      if (in) {
        io.in = std::move(*in);
      }
    }
    io.out = std::move(master_);
  } else {
    io.out = std::move(stdout_read_);
    io.err = std::move(stderr_read_);
    io.in = std::move(stdin_write_);
  }
  io.log = [this](const char* stream, std::string_view data) { log(stream, data); };
  Proc* init = streams_.add_proc(std::move(io));
  for (size_t i = 0; i < inherited_.size(); ++i) {
    if (inherited_[i]) {
      streams_.attach(init, std::move(inherited_[i]), config_.attaches[i]);
    }
  }
  inherited_.clear();

  while (!init_status_) {
    streams_.run_once(-1);
  }
  exiting_ = true;
  const std::string finished_at = logs::format_time(logs::now_nanos());
  // No new requests; queued ones see the connection close (the daemon: Unavailable).
  close_control();
  // With a pid namespace every other process died with the init; without one, a daemonized
  // leftover may hold the pipes open: take what is buffered, do not wait for EOF.
  streams_.drain(init);
  if (writer_) {
    auto flushed = writer_->flush();
    if (!flushed && !log_failed_) {
      diag(flushed.error().to_string());
    }
  }
  proto::ExitStatus exit;
  exit.exit_code = exit_code_of(*init_status_);
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
  // Exec'd processes die with the container (destroy killed what the pid namespace did
  // not): collect them and record their ends too.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (streams_.exec_count() > 0) {
    on_signal();
    if (streams_.exec_count() == 0 || std::chrono::steady_clock::now() > deadline) {
      break;
    }
    ::usleep(1000);
  }
  auto written = proto::write_exit(config_.state_dir, exit);
  timer().mark("exit.json");
  // Now the clients may go: what they still hold is flushed first (bounded by a deadline).
  while (Proc* p = streams_.find_proc_any()) {
    streams_.finish(p);
  }
  while (!streams_.quiet()) {
    streams_.run_once(-1);
  }
  if (!written) {
    diag(written.error().to_string());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace mydocker::cmd::shim

int main(int argc, char** argv) {
  namespace base = mydocker::base;
  namespace proto = mydocker::engine::shim;
  namespace shim = mydocker::cmd::shim;
  if (argc != 2) {
    std::fprintf(stderr, "usage: mydocker-shim <state-dir>/shim.json\n");
    return 2;
  }
  ::fcntl(proto::kReadyFd, F_SETFD, FD_CLOEXEC);
  auto config = proto::read_config(argv[1]);
  if (!config) {
    shim::report({0, "mydocker-shim: " + config.error().to_string()});
    return 1;
  }
  // fd 3 is the ready pipe, 4.. the inherited attach connections; anything else above stderr
  // is a stray the container must not inherit (the daemon spawns with everything
  // close-on-exec, this is the belt to that).
  const int first_stray = proto::kFirstAttachFd + static_cast<int>(config->attaches.size());
  ::close_range(static_cast<unsigned>(first_stray), ~0U, 0);
  std::vector<base::Fd> inherited;
  for (const auto& a : config->attaches) {
    if (::fcntl(a.fd, F_SETFD, FD_CLOEXEC) < 0) {
      inherited.emplace_back();  // not there: nothing to serve
      continue;
    }
    inherited.push_back(base::Fd::adopt(a.fd));
  }
  int diag_fd = ::fcntl(2, F_DUPFD_CLOEXEC, first_stray);
  if (diag_fd >= 0) {
    shim::g_diag_fd = diag_fd;
  }
  shim::timer().mark("exec to main");
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
    shim::report({0, "mydocker-shim: signalfd: " + std::string(std::strerror(errno))});
    return 1;
  }
  // As containerd runs runc: in the bundle (relative paths in config.json), and not pinning
  // the daemon's working directory for the container's lifetime.
  if (::chdir(config->bundle.c_str()) < 0 && ::chdir("/") < 0) {
    shim::diag("chdir: " + std::string(std::strerror(errno)));
  }
  proto::ShimPid me;
  me.pid = ::getpid();
  auto start_time = proto::process_start_time(me.pid);
  me.start_time = start_time ? *start_time : 0;
  // shim.pid is written once, when the container runs: a new file is a cheap rename, while
  // replacing one on ext4 flushes the data first (auto_da_alloc), ~1 ms on the start path.
  shim::Shim s(std::move(*config), me, std::move(inherited));
  s.signal_fd(base::Fd::adopt(sfd));
  if (!s.start()) {
    return 1;
  }
  return s.supervise();
}
