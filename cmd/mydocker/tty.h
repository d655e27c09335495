// SPDX-License-Identifier: Apache-2.0
// The terminal and signal side of the interactive verbs (run -it, start -ai, attach, exec).
//
// Raw mode follows moby/term's MakeRaw (cfmakeraw): no echo, no line editing, no signals from
// the keyboard (Ctrl-C is a byte for the container), no output processing. The saved state
// lives in one process-wide slot so that every way out restores it: the RawTerminal guard's
// destructor, an atexit hook, and the signal thread before a signal ends the process.
#pragma once

#include <functional>
#include <optional>
#include <thread>
#include <utility>

#include "runtime/base/error.h"
#include "runtime/base/fd.h"

namespace mydocker::cli {

// (rows, columns) of the terminal on `fd`; nullopt when it is not a terminal or reports 0x0.
std::optional<std::pair<int, int>> terminal_size(int fd);

// Restores the terminal saved by RawTerminal, if raw mode is on. Idempotent; async-signal-safe.
void restore_terminal();

class RawTerminal {
 public:
  // Switches the terminal on `fd` to raw mode. Errors: not a terminal, tcsetattr failures.
  static base::Result<RawTerminal> enable(int fd);
  RawTerminal(RawTerminal&& other) noexcept : active_(std::exchange(other.active_, false)) {}
  RawTerminal& operator=(RawTerminal&&) = delete;
  RawTerminal(const RawTerminal&) = delete;
  ~RawTerminal() {
    if (active_) {
      restore_terminal();
    }
  }

 private:
  RawTerminal() = default;
  bool active_ = true;
};

// Restores the terminal, then ends the process by SIGPIPE (stdout went away while streaming).
[[noreturn]] void die_of_sigpipe();

// Handles SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGWINCH on a thread of its
// own (signalfd), and ignores SIGPIPE (see die_of_sigpipe). The constructor blocks them in the
// calling thread, so it must run before any other thread starts (threads inherit the mask; a thread
// with them unblocked would die of the default action, terminal raw and container left behind).
class SignalRelay {
 public:
  struct Handlers {
    // Set: docker's --sig-proxy, the signal is forwarded (kill) and the CLI lives on. Unset:
    // the terminal is restored and the signal's default action ends the CLI.
    std::function<void(int sig)> proxy;
    // Set: the window size changed.
    std::function<void()> winch;
  };

  SignalRelay();
  ~SignalRelay();
  SignalRelay(const SignalRelay&) = delete;
  SignalRelay& operator=(const SignalRelay&) = delete;

  // Starts the thread (once). Handlers run on it.
  base::Result<void> start(Handlers handlers);

 private:
  void loop();

  Handlers handlers_;
  base::Fd signal_fd_;
  base::Fd stop_fd_;  // eventfd: the destructor's wake-up
  std::thread thread_;
};

}  // namespace mydocker::cli
