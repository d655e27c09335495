// SPDX-License-Identifier: Apache-2.0
// tty_bench ROUNDS -- COMMAND...: keystroke round trip through a terminal.
//
// Runs COMMAND on a new pty (we hold the master, as a terminal emulator does), waits for it
// to echo a probe byte, then ROUNDS times writes one byte and times how long until a byte
// comes back. COMMAND must echo every byte it reads without line buffering, e.g.
// `sh -c 'stty raw -echo; exec head -c N'` locally, or the same inside `mydocker run -it`.
// Prints the median and p90 round trip in microseconds, one line, machine-readable.
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// Reads whatever is there within `timeout_ms`; the number of bytes read (0: none).
ssize_t read_some(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) {
    return 0;
  }
  char buf[4096];
  ssize_t n = ::read(fd, buf, sizeof buf);
  return n > 0 ? n : -1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4 || std::strcmp(argv[2], "--") != 0) {
    std::fprintf(stderr, "usage: tty_bench ROUNDS -- COMMAND...\n");
    return 2;
  }
  const int rounds = std::atoi(argv[1]);
  winsize ws{};
  ws.ws_row = 24;
  ws.ws_col = 80;
  int master = -1;
  pid_t pid = ::forkpty(&master, nullptr, nullptr, &ws);
  if (pid < 0) {
    std::perror("forkpty");
    return 1;
  }
  if (pid == 0) {
    ::execvp(argv[3], argv + 3);
    std::perror("exec");
    ::_exit(127);
  }
  // Until COMMAND is up and echoing: probe every 50 ms for up to 30 s, then drain.
  bool up = false;
  for (int i = 0; i < 600 && !up; ++i) {
    (void)::write(master, "x", 1);
    up = read_some(master, 50) > 0;
  }
  if (!up) {
    std::fprintf(stderr, "tty_bench: no echo from the command\n");
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return 1;
  }
  while (read_some(master, 200) > 0) {
  }
  std::vector<double> us;
  us.reserve(static_cast<size_t>(rounds));
  for (int i = 0; i < rounds; ++i) {
    auto t0 = Clock::now();
    if (::write(master, "k", 1) != 1) {
      break;
    }
    ssize_t n = read_some(master, 5000);
    if (n <= 0) {
      std::fprintf(stderr, "tty_bench: no echo in round %d\n", i);
      break;
    }
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  // COMMAND ends once it read its byte count; a hangup ends it otherwise.
  ::close(master);
  int status = 0;
  for (int i = 0; i < 100; ++i) {
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      pid = 0;
      break;
    }
    ::usleep(50 * 1000);
  }
  if (pid != 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  if (us.size() != static_cast<size_t>(rounds)) {
    return 1;
  }
  std::sort(us.begin(), us.end());
  std::printf("median_us=%.1f p90_us=%.1f rounds=%d\n", us[us.size() / 2], us[us.size() * 9 / 10],
              rounds);
  return 0;
}
