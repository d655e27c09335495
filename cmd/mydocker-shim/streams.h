// SPDX-License-Identifier: Apache-2.0
// The shim's streams: the processes whose stdio it holds (the container's init and exec'd
// processes) and the client connections attached to them, served from one epoll loop on one
// thread (engine/shim/proto.h draws the exchange with the daemon).
//
//   container output (pipe / pty master) --read 128 KiB--> log sink (init only)
//                                                     \--> each attached client: raw (tty)
//                                                          or 8-byte framed; non-blocking,
//                                                          a bounded buffer per client
//   client input --detach keys (tty)--> process stdin (pipe write end / pty master)
//
// Backpressure instead of loss or growth: while any client of a process holds more than
// kClientHigh unsent bytes, the process's output is not read (its writes block, as under
// Docker's attach); stdin bytes the process does not take stop the reading of its clients.
//
// A client's stdin ending (EOF, or the client gone) closes the process's stdin when the
// process is "stdin once" and has no tty (Docker's CloseStdin && !TTY); otherwise it ends
// that client's attach (its pending output is flushed, then the connection closed), as
// Docker closes the attach's output when its stdin copy ends. Clients that do not stream
// stdin may half-close freely (the docker CLI does at once); what they send is discarded.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/shim/proto.h"
#include "runtime/base/fd.h"

namespace mydocker::cmd::shim {

// One line on the shim's own stderr (the daemon's).
void diag(const std::string& msg);

// Something in the epoll set; its events come back to handle().
class Watch {
 public:
  virtual ~Watch() = default;
  virtual void handle(uint32_t events) = 0;
};

class Streams;
class Proc;
class Client;

// What a process's stdio is, as the shim holds it.
struct ProcIo {
  std::string exec_id;  // "" for the init
  pid_t pid = 0;
  bool tty = false;
  base::Fd out;  // stdout pipe read end, or the pty master; may be invalid (output discarded)
  base::Fd err;  // stderr pipe read end (never with a tty)
  base::Fd in;   // stdin pipe write end, or a dup of the pty master; invalid: stdin not open
  bool stdin_once = false;  // a client's stdin EOF closes `in` (without a tty)
  // Every chunk of output goes here too (the init's json-file log). stream: "stdout"/"stderr".
  std::function<void(const char* stream, std::string_view data)> log;
};

// A process served by the shim. Created by Streams::add_proc, ended by Streams::finish.
class Proc {
 public:
  ~Proc();
  const std::string& exec_id() const { return io_.exec_id; }
  pid_t pid() const { return io_.pid; }
  bool tty() const { return io_.tty; }
  // The pty master (TIOCSWINSZ), or -1.
  int pty_master() const { return io_.tty ? io_.out.get() : -1; }

 private:
  friend class Streams;
  friend class Client;
  class Source;
  class Stdin;
  Proc(Streams& s, ProcIo io);

  void on_output(Source& src, uint32_t events);
  // Reads chunks from `src`: a few per call, or (draining) until EAGAIN/EOF.
  void pump(Source& src, bool draining);
  void deliver(uint8_t stream, char* frame, size_t n, bool draining);
  void pause_output();
  void maybe_resume_output();
  // Stdin from clients.
  void write_stdin(std::string_view data);
  void on_stdin_writable(uint32_t events);
  void stdin_ended();  // a stdin_once client's input ended
  void close_stdin();
  bool stdin_paused() const { return stdin_paused_; }
  void set_stdin_paused(bool paused);

  Streams& s_;
  ProcIo io_;
  std::unique_ptr<Source> out_;
  std::unique_ptr<Source> err_;
  std::unique_ptr<Stdin> stdin_;
  std::vector<Client*> clients_;
  std::vector<Client*> scratch_;  // a copy of clients_ to iterate while clients may leave
  bool has_stdin_ = false;        // stdin was opened (clients may feed it)
  bool output_paused_ = false;
  bool stdin_paused_ = false;
  bool close_stdin_when_flushed_ = false;
  bool finished_ = false;
};

// One attached connection.
class Client final : public Watch {
 public:
  void handle(uint32_t events) override;

 private:
  friend class Streams;
  friend class Proc;
  Client(Streams& s, Proc* proc, base::Fd fd, const engine::shim::AttachSpec& spec);

  bool wants(uint8_t stream) const;
  bool reads_stdin() const;
  // Queues `data` (or writes it at once when nothing is queued).
  void send(std::string_view data);
  size_t pending() const { return out_.size() - out_off_; }
  void flush();
  void on_input();
  void feed_stdin(const char* data, size_t n);
  void input_ended();
  // Stop taking output and input; flush what is queued, then close.
  void finish();
  // Gone at once (vanished peer, write error).
  void drop();
  void update_interest();

  Streams& s_;
  Proc* proc_;  // nullptr once finishing
  base::Fd fd_;
  engine::shim::AttachSpec spec_;
  std::string out_;
  size_t out_off_ = 0;
  size_t detach_match_ = 0;  // bytes of the detach sequence seen so far (held back)
  bool reading_ = true;      // input not at EOF
  bool finishing_ = false;
  bool dead_ = false;
  uint32_t interest_ = 0;
  bool registered_ = false;
  std::chrono::steady_clock::time_point deadline_;
};

class Streams {
 public:
  Streams();
  ~Streams();
  Streams(const Streams&) = delete;
  Streams& operator=(const Streams&) = delete;

  base::Result<void> add(Watch* w, int fd, uint32_t events);
  void modify(Watch* w, int fd, uint32_t events);
  void remove(int fd);

  bool valid() const { return epoll_.valid(); }
  // Frees `w` once the current batch of events is handled (it may still be in it).
  void retire(std::unique_ptr<Watch> w);

  Proc* add_proc(ProcIo io);
  Proc* find_proc(pid_t pid);
  Proc* find_exec(const std::string& exec_id);
  Proc* init() const { return init_; }
  Proc* find_proc_any() { return procs_.empty() ? nullptr : procs_.front().get(); }
  void attach(Proc* proc, base::Fd conn, const engine::shim::AttachSpec& spec);
  // The process exited: read what its output pipes hold (not waiting for EOF: a leftover
  // process may keep them open), deliver it to the log and clients regardless of their
  // buffers' bounds.
  void drain(Proc* proc);
  // After the exit is recorded: its clients flush and close, its stdin closes, the process
  // is forgotten.
  void finish(Proc* proc);
  size_t exec_count() const;

  // One epoll_wait (at most `timeout_ms`, shortened by client flush deadlines) and the
  // handlers of what it returned.
  void run_once(int timeout_ms);
  // No client is still flushing.
  bool quiet() const { return closing_ == 0; }

 private:
  friend class Proc;
  friend class Client;
  char* chunk();  // the shared read buffer: 8 header bytes + kChunk
  void bury(Client* c);
  void expire_clients();

  base::Fd epoll_;
  std::list<std::unique_ptr<Proc>> procs_;
  std::list<std::unique_ptr<Client>> clients_;
  std::vector<std::unique_ptr<Proc>> dead_procs_;
  std::vector<std::unique_ptr<Watch>> retired_;
  Proc* init_ = nullptr;
  struct ChunkUnmap {
    void operator()(char* p) const;
  };
  std::unique_ptr<char, ChunkUnmap> chunk_;
  size_t closing_ = 0;
  bool dispatching_ = false;
};

}  // namespace mydocker::cmd::shim
