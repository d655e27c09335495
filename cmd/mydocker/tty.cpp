// SPDX-License-Identifier: Apache-2.0
#include "cmd/mydocker/tty.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdlib>

namespace mydocker::cli {

namespace {

// The one saved terminal state. Written before `g_raw` turns true, read after it was taken.
struct termios g_saved {};
int g_raw_fd = -1;
std::atomic<bool> g_raw{false};
std::atomic<bool> g_atexit_registered{false};

constexpr std::array<int, 7> kSignals = {SIGINT,  SIGTERM, SIGHUP,  SIGQUIT,
                                         SIGUSR1, SIGUSR2, SIGWINCH};

sigset_t relayed_set() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : kSignals) {
    sigaddset(&set, s);
  }
  return set;
}

}  // namespace

std::optional<std::pair<int, int>> terminal_size(int fd) {
  struct winsize ws {};
  if (::ioctl(fd, TIOCGWINSZ, &ws) != 0 || (ws.ws_row == 0 && ws.ws_col == 0)) {
    return std::nullopt;
  }
  return std::pair<int, int>{ws.ws_row, ws.ws_col};
}

void restore_terminal() {
  if (g_raw.exchange(false)) {
    ::tcsetattr(g_raw_fd, TCSANOW, &g_saved);
  }
}

base::Result<RawTerminal> RawTerminal::enable(int fd) {
  if (g_raw.load()) {
    return base::make_error(base::ErrorCode::FailedPrecondition, "the terminal is already raw");
  }
  struct termios t {};
  if (::tcgetattr(fd, &t) != 0) {
    return base::sys_error("get the terminal attributes");
  }
  g_saved = t;
  g_raw_fd = fd;
  // moby/term MakeRaw, which is cfmakeraw.
  t.c_iflag &=
      ~static_cast<tcflag_t>(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
  t.c_oflag &= ~static_cast<tcflag_t>(OPOST);
  t.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
  t.c_cflag &= ~static_cast<tcflag_t>(CSIZE | PARENB);
  t.c_cflag |= CS8;
  t.c_cc[VMIN] = 1;
  t.c_cc[VTIME] = 0;
  if (!g_atexit_registered.exchange(true)) {
    std::atexit(restore_terminal);
  }
  g_raw.store(true);
  if (::tcsetattr(fd, TCSANOW, &t) != 0) {
    auto e = base::sys_error("set the terminal to raw mode");
    g_raw.store(false);
    return e;
  }
  return RawTerminal();
}

SignalRelay::SignalRelay() {
  sigset_t set = relayed_set();
  ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // A closed stdout is seen as a failed write (the copy stops, the terminal is restored, and
  // then the CLI ends by SIGPIPE as it would have: die_of_sigpipe()).
  ::signal(SIGPIPE, SIG_IGN);
}

void die_of_sigpipe() {
  restore_terminal();
  ::signal(SIGPIPE, SIG_DFL);
  ::raise(SIGPIPE);
  ::_exit(128 + SIGPIPE);
}

SignalRelay::~SignalRelay() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    (void)!::write(stop_fd_.get(), &one, sizeof(one));
    thread_.join();
  }
}

base::Result<void> SignalRelay::start(Handlers handlers) {
  if (thread_.joinable()) {
    return base::make_error(base::ErrorCode::FailedPrecondition, "the signal relay runs already");
  }
  handlers_ = std::move(handlers);
  sigset_t set = relayed_set();
  int sfd = ::signalfd(-1, &set, SFD_CLOEXEC);
  if (sfd < 0) {
    return base::sys_error("signalfd");
  }
  signal_fd_ = base::Fd::adopt(sfd);
  int efd = ::eventfd(0, EFD_CLOEXEC);
  if (efd < 0) {
    return base::sys_error("eventfd");
  }
  stop_fd_ = base::Fd::adopt(efd);
  thread_ = std::thread([this] { loop(); });
  return base::ok();
}

void SignalRelay::loop() {
  for (;;) {
    std::array<pollfd, 2> fds{{{signal_fd_.get(), POLLIN, 0}, {stop_fd_.get(), POLLIN, 0}}};
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      return;
    }
    if (fds[1].revents != 0) {
      return;
    }
    struct signalfd_siginfo info {};
    if (::read(signal_fd_.get(), &info, sizeof(info)) != static_cast<ssize_t>(sizeof(info))) {
      continue;
    }
    int sig = static_cast<int>(info.ssi_signo);
    if (sig == SIGWINCH) {
      if (handlers_.winch) {
        handlers_.winch();
      }
      continue;
    }
    if (handlers_.proxy) {
      handlers_.proxy(sig);
      continue;
    }
    // Not proxied: the CLI ends as the signal says, with the terminal given back first.
    restore_terminal();
    ::signal(sig, SIG_DFL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    ::pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
    ::raise(sig);
    // Still here: the default action is to ignore it (none of ours) or it was caught.
    ::_exit(128 + sig);
  }
}

}  // namespace mydocker::cli
