// SPDX-License-Identifier: Apache-2.0
#include "cmd/mydocker-shim/streams.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace mydocker::cmd::shim {

namespace {

// One read of container output. Large reads keep the syscalls per GiB low; the buffer is
// shared by every stream of the shim (one thread).
constexpr size_t kChunk = 128 * 1024;
constexpr size_t kHeader = 8;
// Reads of one source per wake-up before the others get their turn.
constexpr int kChunksPerWake = 8;
// Reads of one source when draining an exited process (a leftover writer must not hold the
// shim forever).
constexpr int kDrainChunks = 256;
// A client holding more unsent bytes than this pauses its process's output; under the low
// mark the output resumes.
constexpr size_t kClientHigh = 512 * 1024;
constexpr size_t kClientLow = 128 * 1024;
// Stdin bytes the process has not taken yet: above this its clients are not read.
constexpr size_t kStdinHigh = 256 * 1024;
// A finishing client that takes no output for this long is dropped.
constexpr auto kFlushGrace = std::chrono::seconds(10);
// Quiet this long, the shared read buffer is freed (allocated again on the next read).
constexpr std::chrono::milliseconds kIdleRelease{5000};
// A buffer that grew under a burst is given back once empty.
constexpr size_t kKeepCapacity = 64 * 1024;

using Clock = std::chrono::steady_clock;

void set_nonblocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0 && (flags & O_NONBLOCK) == 0) {
    ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  }
}

void release_if_large(std::string& s) {
  if (s.capacity() > kKeepCapacity) {
    std::string().swap(s);
  }
}

}  // namespace

// ---- Proc's watches ------------------------------------------------------------------------

class Proc::Source final : public Watch {
 public:
  Source(Proc* proc, int fd, uint8_t stream) : proc_(proc), fd_(fd), stream_(stream) {}
  void handle(uint32_t events) override {
    if (!closed_ && !proc_->finished_) {
      proc_->on_output(*this, events);
    }
  }
  void arm(Streams& s) {
    if (!armed_ && !closed_) {
      armed_ = s.add(this, fd_, EPOLLIN).has_value();
    }
  }
  void disarm(Streams& s) {
    if (armed_) {
      s.remove(fd_);
      armed_ = false;
    }
  }
  void close(Streams& s) {
    disarm(s);
    closed_ = true;
  }
  int fd() const { return fd_; }
  uint8_t stream() const { return stream_; }
  bool closed() const { return closed_; }

 private:
  Proc* proc_;
  int fd_;  // owned by the Proc's ProcIo
  uint8_t stream_;
  bool armed_ = false;
  bool closed_ = false;
};

class Proc::Stdin final : public Watch {
 public:
  explicit Stdin(Proc* proc) : proc_(proc) {}
  void handle(uint32_t events) override {
    if (!proc_->finished_) {
      proc_->on_stdin_writable(events);
    }
  }
  size_t queued() const { return queue_.size() - off_; }
  std::string queue_;
  size_t off_ = 0;
  bool armed_ = false;

 private:
  Proc* proc_;
};

// ---- Proc -----------------------------------------------------------------------------------

Proc::Proc(Streams& s, ProcIo io) : s_(s), io_(std::move(io)) {
  has_stdin_ = io_.in.valid();
  stdin_ = std::make_unique<Stdin>(this);
  if (io_.in) {
    set_nonblocking(io_.in.get());
  }
  if (io_.out) {
    set_nonblocking(io_.out.get());
    out_ = std::make_unique<Source>(this, io_.out.get(), 1);
    out_->arm(s_);
  }
  if (io_.err) {
    set_nonblocking(io_.err.get());
    err_ = std::make_unique<Source>(this, io_.err.get(), 2);
    err_->arm(s_);
  }
}

Proc::~Proc() = default;

void Proc::on_output(Source& src, uint32_t /*events*/) {
  pump(src, false);
}

void Proc::pump(Source& src, bool draining) {
  char* buf = s_.chunk();
  const int max = draining ? kDrainChunks : kChunksPerWake;
  for (int i = 0; i < max; ++i) {
    if (!draining && output_paused_) {
      return;
    }
    ssize_t n = ::read(src.fd(), buf + kHeader, kChunk);
    if (n > 0) {
      deliver(src.stream(), buf, static_cast<size_t>(n), draining);
      if (!draining && static_cast<size_t>(n) < kChunk) {
        return;  // the pipe is empty for now: back to epoll, the other stream gets its turn
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
    src.close(s_);
    return;
  }
}

void Proc::deliver(uint8_t stream, char* frame, size_t n, bool draining) {
  std::string_view data(frame + kHeader, n);
  if (io_.log) {
    io_.log(stream == 1 ? "stdout" : "stderr", data);
  }
  if (clients_.empty()) {
    return;
  }
  std::string_view out = data;
  if (!io_.tty) {
    // Docker's multiplexed stream: [stream, 0, 0, 0, size big-endian] then the bytes.
    frame[0] = static_cast<char>(stream);
    frame[1] = frame[2] = frame[3] = 0;
    auto size = static_cast<uint32_t>(n);
    frame[4] = static_cast<char>(size >> 24);
    frame[5] = static_cast<char>(size >> 16);
    frame[6] = static_cast<char>(size >> 8);
    frame[7] = static_cast<char>(size);
    out = std::string_view(frame, n + kHeader);
  }
  bool over = false;
  scratch_.assign(clients_.begin(), clients_.end());
  for (Client* c : scratch_) {
    if (c->dead_ || c->proc_ != this || !c->wants(stream)) {
      continue;
    }
    c->send(out);
    if (!c->dead_ && c->pending() > kClientHigh) {
      over = true;
    }
  }
  if (over && !draining) {
    pause_output();
  }
}

void Proc::pause_output() {
  if (output_paused_) {
    return;
  }
  output_paused_ = true;
  // Out of the epoll set rather than interest 0: a pipe whose writer is gone reports EPOLLHUP
  // whatever the interest.
  if (out_) {
    out_->disarm(s_);
  }
  if (err_) {
    err_->disarm(s_);
  }
}

void Proc::maybe_resume_output() {
  if (!output_paused_ || finished_) {
    return;
  }
  for (Client* c : clients_) {
    if (!c->dead_ && c->pending() > kClientLow) {
      return;
    }
  }
  output_paused_ = false;
  if (out_) {
    out_->arm(s_);
  }
  if (err_) {
    err_->arm(s_);
  }
}

void Proc::write_stdin(std::string_view data) {
  if (!io_.in || data.empty()) {
    return;  // stdin closed (or never open): input is dropped, as a closed pipe would
  }
  if (stdin_->queued() == 0) {
    for (;;) {
      ssize_t w = ::write(io_.in.get(), data.data(), data.size());
      if (w >= 0) {
        data.remove_prefix(static_cast<size_t>(w));
        if (data.empty()) {
          return;
        }
        continue;
      }
      if (errno == EINTR) {
        continue;
      }
      if (errno == EAGAIN) {
        break;
      }
      // EPIPE: the process closed its stdin (or exited); EIO: the pty is gone.
      close_stdin();
      return;
    }
  }
  if (stdin_->off_ > 0 && stdin_->off_ >= stdin_->queue_.size() / 2) {
    stdin_->queue_.erase(0, stdin_->off_);
    stdin_->off_ = 0;
  }
  stdin_->queue_.append(data);
  if (!stdin_->armed_) {
    stdin_->armed_ = s_.add(stdin_.get(), io_.in.get(), EPOLLOUT).has_value();
  }
  if (stdin_->queued() > kStdinHigh) {
    set_stdin_paused(true);
  }
}

void Proc::on_stdin_writable(uint32_t /*events*/) {
  if (!io_.in) {
    return;
  }
  while (stdin_->queued() > 0) {
    ssize_t w = ::write(io_.in.get(), stdin_->queue_.data() + stdin_->off_, stdin_->queued());
    if (w >= 0) {
      stdin_->off_ += static_cast<size_t>(w);
      continue;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN) {
      break;
    }
    close_stdin();
    return;
  }
  if (stdin_->queued() == 0) {
    stdin_->queue_.clear();
    stdin_->off_ = 0;
    release_if_large(stdin_->queue_);
    if (stdin_->armed_) {
      s_.remove(io_.in.get());
      stdin_->armed_ = false;
    }
    if (close_stdin_when_flushed_) {
      close_stdin();
      return;
    }
  }
  if (stdin_->queued() < kStdinHigh / 2) {
    set_stdin_paused(false);
  }
}

void Proc::stdin_ended() {
  if (stdin_->queued() == 0) {
    close_stdin();
  } else {
    close_stdin_when_flushed_ = true;
  }
}

void Proc::close_stdin() {
  if (stdin_->armed_) {
    s_.remove(io_.in.get());
    stdin_->armed_ = false;
  }
  stdin_->queue_.clear();
  stdin_->off_ = 0;
  release_if_large(stdin_->queue_);
  io_.in.reset();
  set_stdin_paused(false);
}

void Proc::set_stdin_paused(bool paused) {
  if (stdin_paused_ == paused) {
    return;
  }
  stdin_paused_ = paused;
  // A copy: this may run while deliver() walks scratch_.
  std::vector<Client*> clients = clients_;
  for (Client* c : clients) {
    if (!c->dead_ && c->proc_ == this) {
      c->update_interest();
    }
  }
}

// ---- Client ---------------------------------------------------------------------------------

Client::Client(Streams& s, Proc* proc, base::Fd fd, const engine::shim::AttachSpec& spec)
    : s_(s), proc_(proc), fd_(std::move(fd)), spec_(spec) {}

bool Client::wants(uint8_t stream) const {
  if (proc_ != nullptr && proc_->tty()) {
    return spec_.stdout_stream;  // one stream with a tty
  }
  return stream == 1 ? spec_.stdout_stream : spec_.stderr_stream;
}

bool Client::reads_stdin() const {
  return spec_.stdin_stream && proc_ != nullptr && proc_->has_stdin_;
}

void Client::send(std::string_view data) {
  if (dead_) {
    return;
  }
  if (pending() == 0) {
    ssize_t w;
    do {
      w = ::write(fd_.get(), data.data(), data.size());
    } while (w < 0 && errno == EINTR);
    if (w < 0) {
      if (errno != EAGAIN) {
        drop();  // EPIPE, ECONNRESET: the client is gone
        return;
      }
      w = 0;
    }
    if (static_cast<size_t>(w) == data.size()) {
      return;
    }
    out_.assign(data.data() + w, data.size() - static_cast<size_t>(w));
    out_off_ = 0;
    update_interest();
    return;
  }
  if (out_off_ > 0 && out_off_ >= out_.size() / 2) {
    out_.erase(0, out_off_);
    out_off_ = 0;
  }
  out_.append(data);
}

void Client::flush() {
  while (pending() > 0) {
    ssize_t w = ::write(fd_.get(), out_.data() + out_off_, pending());
    if (w > 0) {
      out_off_ += static_cast<size_t>(w);
      deadline_ = Clock::now() + kFlushGrace;
      continue;
    }
    if (w < 0 && errno == EINTR) {
      continue;
    }
    if (w < 0 && errno == EAGAIN) {
      break;
    }
    drop();
    return;
  }
  if (pending() == 0) {
    out_.clear();
    out_off_ = 0;
    release_if_large(out_);
    if (finishing_) {
      s_.bury(this);
      return;
    }
  }
  update_interest();
  if (proc_ != nullptr) {
    proc_->maybe_resume_output();
  }
}

void Client::handle(uint32_t events) {
  if (dead_) {
    return;
  }
  if (events & EPOLLERR) {
    drop();
    return;
  }
  if (events & EPOLLOUT) {
    flush();
    if (dead_) {
      return;
    }
  }
  if ((events & (EPOLLIN | EPOLLHUP)) && reading_) {
    on_input();
    if (dead_) {
      return;
    }
  }
  if (events & EPOLLHUP) {
    drop();  // both directions are gone: nothing can be delivered any more
  }
}

void Client::on_input() {
  char* buf = s_.chunk() + kHeader;
  for (int i = 0; i < kChunksPerWake; ++i) {
    if (reads_stdin() && proc_->stdin_paused()) {
      return;
    }
    ssize_t n = ::read(fd_.get(), buf, kChunk);
    if (n > 0) {
      if (reads_stdin()) {
        feed_stdin(buf, static_cast<size_t>(n));
        if (dead_ || finishing_) {
          return;
        }
      }
      // Anything else a client sends is ignored.
      if (static_cast<size_t>(n) < kChunk) {
        return;
      }
      continue;
    }
    if (n == 0) {
      input_ended();
      return;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN) {
      return;
    }
    drop();
    return;
  }
}

void Client::feed_stdin(const char* data, size_t n) {
  const std::string& keys = spec_.detach_keys;
  // Docker applies the detach keys to a tty's input only (its escape proxy); without a tty
  // every byte goes to the process.
  if (keys.empty() || !proc_->tty()) {
    proc_->write_stdin(std::string_view(data, n));
    return;
  }
  std::string pass;
  pass.reserve(n + detach_match_);
  for (size_t i = 0; i < n; ++i) {
    char c = data[i];
    if (c == keys[detach_match_]) {
      if (++detach_match_ == keys.size()) {
        // The sequence itself is not forwarded; this client goes, the process stays.
        proc_->write_stdin(pass);
        detach_match_ = 0;
        finish();
        return;
      }
      continue;
    }
    if (detach_match_ > 0) {
      // A partial match that did not complete: those bytes were input after all.
      pass.append(keys, 0, detach_match_);
      detach_match_ = 0;
      if (c == keys[0]) {
        detach_match_ = 1;
        continue;
      }
    }
    pass.push_back(c);
  }
  proc_->write_stdin(pass);
}

void Client::input_ended() {
  reading_ = false;
  if (!reads_stdin()) {
    update_interest();  // a half-close without stdin: keep streaming output
    return;
  }
  if (detach_match_ > 0) {
    proc_->write_stdin(std::string_view(spec_.detach_keys).substr(0, detach_match_));
    detach_match_ = 0;
  }
  if (!proc_->tty() && proc_->io_.stdin_once) {
    proc_->stdin_ended();
    update_interest();
    return;
  }
  finish();
}

void Client::finish() {
  if (finishing_ || dead_) {
    return;
  }
  finishing_ = true;
  reading_ = false;
  ++s_.closing_;
  deadline_ = Clock::now() + kFlushGrace;
  if (proc_ != nullptr) {
    Proc* p = proc_;
    proc_ = nullptr;
    p->clients_.erase(std::find(p->clients_.begin(), p->clients_.end(), this));
    p->maybe_resume_output();
  }
  if (pending() == 0) {
    s_.bury(this);
    return;
  }
  update_interest();
}

void Client::drop() {
  if (dead_) {
    return;
  }
  // A stdin stream that ends by the client vanishing ends like an EOF (Docker's stdin copy
  // returns either way).
  if (reading_ && reads_stdin() && !proc_->tty() && proc_->io_.stdin_once) {
    proc_->stdin_ended();
  }
  out_.clear();
  out_off_ = 0;
  s_.bury(this);
}

void Client::update_interest() {
  if (dead_) {
    return;
  }
  uint32_t want = 0;
  if (reading_ && !finishing_ && !(reads_stdin() && proc_->stdin_paused())) {
    want |= EPOLLIN;
  }
  if (pending() > 0) {
    want |= EPOLLOUT;
  }
  if (!registered_) {
    auto added = s_.add(this, fd_.get(), want);
    if (!added) {
      diag("attach: " + added.error().to_string());
      drop();
      return;
    }
    registered_ = true;
  } else if (want != interest_) {
    s_.modify(this, fd_.get(), want);
  }
  interest_ = want;
}

// ---- Streams --------------------------------------------------------------------------------

Streams::Streams() : epoll_(base::Fd::adopt(::epoll_create1(EPOLL_CLOEXEC))) {}

Streams::~Streams() = default;

base::Result<void> Streams::add(Watch* w, int fd, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = w;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) < 0) {
    return base::sys_error("epoll add fd {}", fd);
  }
  return base::ok();
}

void Streams::modify(Watch* w, int fd, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = w;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev);
}

void Streams::remove(int fd) {
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
}

void Streams::retire(std::unique_ptr<Watch> w) {
  retired_.push_back(std::move(w));
}

void Streams::ChunkUnmap::operator()(char* p) const {
  ::munmap(p, kHeader + kChunk);
}

char* Streams::chunk() {
  if (!chunk_) {
    // Mapped on its own (not from malloc, whose thresholds move): freeing it returns it.
    void* p = ::mmap(nullptr, kHeader + kChunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
    if (p == MAP_FAILED) {
      diag("mmap the read buffer: " + std::string(std::strerror(errno)));
      ::abort();
    }
    chunk_.reset(static_cast<char*>(p));
  }
  return chunk_.get();
}

Proc* Streams::add_proc(ProcIo io) {
  bool is_init = io.exec_id.empty();
  procs_.push_back(std::unique_ptr<Proc>(new Proc(*this, std::move(io))));
  Proc* p = procs_.back().get();
  if (is_init) {
    init_ = p;
  }
  return p;
}

Proc* Streams::find_proc(pid_t pid) {
  for (auto& p : procs_) {
    if (p->pid() == pid) {
      return p.get();
    }
  }
  return nullptr;
}

Proc* Streams::find_exec(const std::string& exec_id) {
  for (auto& p : procs_) {
    if (!p->exec_id().empty() && p->exec_id() == exec_id) {
      return p.get();
    }
  }
  return nullptr;
}

size_t Streams::exec_count() const {
  return procs_.size() - (init_ != nullptr ? 1 : 0);
}

void Streams::attach(Proc* proc, base::Fd conn, const engine::shim::AttachSpec& spec) {
  set_nonblocking(conn.get());
  clients_.push_back(std::unique_ptr<Client>(new Client(*this, proc, std::move(conn), spec)));
  Client* c = clients_.back().get();
  proc->clients_.push_back(c);
  c->update_interest();
}

void Streams::drain(Proc* proc) {
  for (Proc::Source* src : {proc->out_.get(), proc->err_.get()}) {
    if (src != nullptr && !src->closed()) {
      proc->pump(*src, true);
    }
  }
}

void Streams::finish(Proc* proc) {
  std::vector<Client*> clients = proc->clients_;
  for (Client* c : clients) {
    if (!c->dead_) {
      c->finish();
    }
  }
  proc->close_stdin();
  if (proc->out_) {
    proc->out_->close(*this);
  }
  if (proc->err_) {
    proc->err_->close(*this);
  }
  proc->finished_ = true;
  if (init_ == proc) {
    init_ = nullptr;
  }
  for (auto it = procs_.begin(); it != procs_.end(); ++it) {
    if (it->get() == proc) {
      dead_procs_.push_back(std::move(*it));
      procs_.erase(it);
      break;
    }
  }
  if (!dispatching_) {
    dead_procs_.clear();
  }
}

void Streams::bury(Client* c) {
  if (c->dead_) {
    return;
  }
  c->dead_ = true;
  if (c->registered_) {
    remove(c->fd_.get());
    c->registered_ = false;
  }
  if (c->finishing_) {
    --closing_;
  }
  if (c->proc_ != nullptr) {
    Proc* p = c->proc_;
    c->proc_ = nullptr;
    p->clients_.erase(std::find(p->clients_.begin(), p->clients_.end(), c));
    p->maybe_resume_output();
  }
  if (c->finishing_ && c->pending() == 0) {
    // An orderly end: our FIN goes after the last output, and unread input is taken first
    // (closing a TCP socket with unread input sends a reset, which can discard the output
    // still in flight to the client).
    ::shutdown(c->fd_.get(), SHUT_WR);
    char sink[4096];
    for (int i = 0; i < 16 && ::read(c->fd_.get(), sink, sizeof sink) > 0; ++i) {
    }
  }
  c->fd_.reset();
  release_if_large(c->out_);
}

void Streams::expire_clients() {
  if (closing_ == 0) {
    return;
  }
  auto now = Clock::now();
  for (auto& c : clients_) {
    if (!c->dead_ && c->finishing_ && c->deadline_ <= now) {
      c->drop();
    }
  }
}

void Streams::run_once(int timeout_ms) {
  expire_clients();
  if (closing_ > 0) {
    auto now = Clock::now();
    for (auto& c : clients_) {
      if (!c->dead_ && c->finishing_) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(c->deadline_ - now);
        int ms = static_cast<int>(std::max<int64_t>(left.count() + 1, 0));
        timeout_ms = timeout_ms < 0 ? ms : std::min(timeout_ms, ms);
      }
    }
  }
  // An idle shim gives its read buffer back (it is mapped on its own, so freeing returns it
  // to the kernel): most containers are quiet most of the time.
  bool idle_wait = false;
  if (chunk_ && (timeout_ms < 0 || timeout_ms > kIdleRelease.count())) {
    timeout_ms = static_cast<int>(kIdleRelease.count());
    idle_wait = true;
  }
  epoll_event events[32];
  int n = ::epoll_wait(epoll_.get(), events, 32, timeout_ms);
  if (n == 0 && idle_wait) {
    chunk_.reset();
    return;
  }
  if (n < 0) {
    if (errno != EINTR) {
      diag("epoll_wait: " + std::string(std::strerror(errno)));
      ::usleep(100 * 1000);
    }
    return;
  }
  dispatching_ = true;
  for (int i = 0; i < n; ++i) {
    static_cast<Watch*>(events[i].data.ptr)->handle(events[i].events);
  }
  dispatching_ = false;
  dead_procs_.clear();
  retired_.clear();
  clients_.remove_if([](const std::unique_ptr<Client>& c) { return c->dead_; });
}

}  // namespace mydocker::cmd::shim
