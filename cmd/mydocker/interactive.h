// SPDX-License-Identifier: Apache-2.0
// What run, start -a, attach and exec share: the streams of a hijacked connection wired to the
// CLI's stdio (raw terminal, detach keys, window size), and the wait for the exit status.
//
// The order of a foreground run is docker's: create, attach (hijack) BEFORE start, the wait
// registered before start (condition next-exit, or removed with --rm), start, resize, stream;
// the exit code is the container's. Output that the container writes before the stream is
// read waits in the socket, so nothing is lost.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "api/client/client.h"
#include "cmd/mydocker/tty.h"

namespace mydocker::cli {

// The streams of one attach or exec, as the docker CLI wires them.
struct StreamSpec {
  bool tty = false;
  bool stdin_ = false;
  bool stdout_ = true;
  bool stderr_ = true;
  std::string detach_keys;  // as given (--detach-keys); "" -> ctrl-p,ctrl-q
};

// docker's CheckTty: "the input device is not a TTY" when a tty is asked for, stdin is
// attached, and stdin is not a terminal.
base::Result<void> check_tty(bool attach_stdin, bool tty);

// The escape sequence the client watches (the daemon's default, or --detach-keys; an
// invalid value falls back to the default, as docker's CLI does: the daemon refuses it first).
std::string client_detach_keys(const std::string& flag);

// Raw mode on stdin when the spec has a tty and stdin is attached and is a terminal.
std::optional<RawTerminal> enter_raw_mode(const StreamSpec& spec);

// Copies between the connection and stdin/stdout/stderr (stderr goes to stdout with a tty).
base::Result<api::client::PumpEnd> stream_stdio(api::client::HijackedConnection& conn,
                                                const StreamSpec& spec);

// Sends the terminal size of stdout to the container's (or exec's) tty, plus (dh, dw): attach
// bumps it once so the shell redraws. A failure is retried in the background 10 times (10 ms
// more each time), then "failed to resize tty, using default size", as docker's initTtySize.
class TtyResizer {
 public:
  TtyResizer(api::client::Client client, std::string id, bool exec)
      : client_(std::move(client)), id_(std::move(id)), exec_(exec) {}
  ~TtyResizer();
  TtyResizer(const TtyResizer&) = delete;
  TtyResizer& operator=(const TtyResizer&) = delete;
  // The first resize (with retries).
  void init(int dh = 0, int dw = 0);
  // One resize (SIGWINCH). Thread-safe.
  base::Result<void> resize(int dh = 0, int dw = 0) const;

 private:
  api::client::Client client_;
  std::string id_;
  bool exec_;
  std::thread retry_;
};

// POST /containers/{id}/wait on its own thread; the constructor returns once the response
// head arrived (the daemon registered the waiter) or after 5 s.
class ExitWaiter {
 public:
  ExitWaiter(const api::client::Client& client, const std::string& id,
             const std::string& condition);
  ~ExitWaiter();  // cancels a wait still pending
  ExitWaiter(const ExitWaiter&) = delete;
  ExitWaiter& operator=(const ExitWaiter&) = delete;

  // Blocks for the status: the container's exit code; 125 when the wait failed (its error
  // printed as "mydocker: <message>").
  int exit_code();
  // Unblocks and ends the wait (detach).
  void cancel();

 private:
  struct State;
  std::shared_ptr<State> st_;
  std::thread thread_;
};

// docker's name for a forwarded signal ("INT"), or the number.
std::string signal_arg(int sig);

// The foreground part of `run` (after create): returns the CLI's exit status.
struct RunAttach {
  StreamSpec spec;
  bool sig_proxy = true;
  bool auto_remove = false;  // the daemon removes it: wait for condition=removed
};
int run_attached(const api::client::Client& client, const std::string& id, const RunAttach& ra);

// `start -a` / `start -i` of one container.
int start_attached(const api::client::Client& client, const std::string& ref, bool interactive,
                   const std::string& detach_keys);

}  // namespace mydocker::cli
