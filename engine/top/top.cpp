// SPDX-License-Identifier: Apache-2.0
#include "engine/top/top.h"

#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>

#include "runtime/base/fd.h"
#include "runtime/base/file.h"
#include "runtime/base/strings.h"

extern char** environ;  // NOLINT: POSIX

namespace mydocker::engine::top {
namespace {

std::string user_name(uid_t uid) {
  struct passwd pw {};
  struct passwd* res = nullptr;
  char buf[1024];
  if (::getpwuid_r(uid, &pw, buf, sizeof buf, &res) == 0 && res != nullptr) {
    return res->pw_name;
  }
  return std::to_string(uid);
}

std::string tty_name(int64_t tty_nr) {
  if (tty_nr == 0) {
    return "?";
  }
  auto major = static_cast<unsigned>((tty_nr >> 8) & 0xfff);
  auto minor = static_cast<unsigned>((tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00));
  if (major == 136) {
    return "pts/" + std::to_string(minor);
  }
  if (major == 4) {
    return "tty" + std::to_string(minor);
  }
  return "?";
}

std::string cpu_time(int64_t ticks, int64_t hz) {
  int64_t secs = ticks / hz;
  int64_t days = secs / 86400;
  secs %= 86400;
  std::string hms = fmt::format("{:02}:{:02}:{:02}", secs / 3600, (secs / 60) % 60, secs % 60);
  return days > 0 ? fmt::format("{}-{}", days, hms) : hms;
}

std::string start_time(time_t started, time_t now) {
  struct tm tm {};
  ::localtime_r(&started, &tm);
  char buf[32];
  if (now - started < 24 * 3600) {
    std::strftime(buf, sizeof buf, "%H:%M", &tm);
  } else if (now - started < 365 * 24 * 3600) {
    std::strftime(buf, sizeof buf, "%b%d", &tm);
  } else {
    std::strftime(buf, sizeof buf, "%Y", &tm);
  }
  return buf;
}

}  // namespace

TopResult ps_ef(const std::vector<pid_t>& pids, const std::string& proc) {
  TopResult r;
  r.titles = {"UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"};
  int64_t hz = ::sysconf(_SC_CLK_TCK);
  double uptime = 0;
  if (auto up = base::read_file(proc + "/uptime")) {
    uptime = std::strtod(up->c_str(), nullptr);
  }
  time_t now = ::time(nullptr);
  time_t boot = now - static_cast<time_t>(uptime);
  for (pid_t pid : pids) {
    std::string dir = proc + "/" + std::to_string(pid);
    auto stat = base::read_file(dir + "/stat");
    if (!stat) {
      continue;
    }
    // Fields after the command (which may hold spaces and parentheses) start after the last ')'.
    auto close = stat->rfind(')');
    auto open = stat->find('(');
    if (close == std::string::npos || open == std::string::npos) {
      continue;
    }
    std::string comm = stat->substr(open + 1, close - open - 1);
    auto f = base::split(base::trim(std::string_view(*stat).substr(close + 1)), ' ');
    if (f.size() < 20) {
      continue;
    }
    // f[0] = state (field 3); field N is f[N-3].
    int64_t ppid = base::parse_int64(f[1]).value_or(0);
    int64_t tty_nr = base::parse_int64(f[4]).value_or(0);
    int64_t utime = base::parse_int64(f[11]).value_or(0);
    int64_t stime = base::parse_int64(f[12]).value_or(0);
    int64_t starttime = base::parse_int64(f[19]).value_or(0);
    uid_t uid = 0;
    if (auto status = base::read_file(dir + "/status")) {
      for (const auto& line : base::split(*status, '\n')) {
        if (line.starts_with("Uid:")) {
          auto parts = base::split(base::trim(std::string_view(line).substr(4)), '\t');
          if (!parts.empty()) {
            uid = static_cast<uid_t>(base::parse_uint64(parts[0]).value_or(0));
          }
        }
      }
    }
    std::string cmd;
    if (auto cl = base::read_file(dir + "/cmdline"); cl && !cl->empty()) {
      cmd = *cl;
      while (!cmd.empty() && cmd.back() == '\0') {
        cmd.pop_back();
      }
      std::replace(cmd.begin(), cmd.end(), '\0', ' ');
    } else {
      cmd = "[" + comm + "]";
    }
    double elapsed = uptime - static_cast<double>(starttime) / static_cast<double>(hz);
    int64_t c = 0;
    if (elapsed > 0) {
      c = static_cast<int64_t>(static_cast<double>(utime + stime) / static_cast<double>(hz) *
                               100.0 / elapsed);
    }
    time_t started = boot + static_cast<time_t>(starttime / hz);
    r.processes.push_back({user_name(uid), std::to_string(pid), std::to_string(ppid),
                           std::to_string(c), start_time(started, now), tty_name(tty_nr),
                           cpu_time(utime + stime, hz), cmd});
  }
  return r;
}

base::Result<TopResult> parse_ps_output(std::string_view output, const std::vector<pid_t>& pids) {
  TopResult r;
  auto lines = base::split(output, '\n');
  if (lines.empty()) {
    return base::make_error(base::ErrorCode::Internal, "Couldn't find PID field in ps output");
  }
  auto fields = [](std::string_view line) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) {
        ++i;
      }
      size_t j = i;
      while (j < line.size() && line[j] != ' ' && line[j] != '\t') {
        ++j;
      }
      if (j > i) {
        out.emplace_back(line.substr(i, j - i));
      }
      i = j;
    }
    return out;
  };
  r.titles = fields(lines[0]);
  auto pid_col = std::find(r.titles.begin(), r.titles.end(), "PID");
  if (pid_col == r.titles.end()) {
    return base::make_error(base::ErrorCode::Internal, "Couldn't find PID field in ps output");
  }
  size_t pid_index = static_cast<size_t>(pid_col - r.titles.begin());
  for (size_t i = 1; i < lines.size(); ++i) {
    auto f = fields(lines[i]);
    if (f.empty() || f.size() <= pid_index) {
      continue;
    }
    auto pid = base::parse_int64(f[pid_index]);
    if (!pid || std::find(pids.begin(), pids.end(), static_cast<pid_t>(*pid)) == pids.end()) {
      continue;
    }
    if (f.size() > r.titles.size()) {
      std::vector<std::string> rest(f.begin() + static_cast<std::ptrdiff_t>(r.titles.size() - 1),
                                    f.end());
      f.resize(r.titles.size() - 1);
      f.push_back(base::join(rest, " "));
    }
    r.processes.push_back(std::move(f));
  }
  return r;
}

base::Result<void> validate_ps_args(std::string_view ps_args) {
  // Docker's validatePSArgs: a `<key>=PID...` column rename is only allowed for pid, since
  // the PID column is how rows are matched to the container.
  std::string s = " " + std::string(ps_args);
  for (size_t eq = s.find('='); eq != std::string::npos; eq = s.find('=', eq + 1)) {
    size_t v = eq + 1;
    while (v < s.size() && (s[v] == ' ' || s[v] == '\t')) {
      ++v;
    }
    if (s.compare(v, 3, "PID") != 0) {
      continue;
    }
    size_t k = eq;
    while (k > 0 && s[k - 1] != ' ' && s[k - 1] != '\t') {
      --k;
    }
    if (k == 0 || (s[k - 1] != ' ' && s[k - 1] != '\t')) {
      continue;
    }
    std::string key = s.substr(k, eq - k);
    size_t vend = v;
    while (vend < s.size() && s[vend] != ' ' && s[vend] != '\t') {
      ++vend;
    }
    if (key != "pid") {
      return base::make_error(base::ErrorCode::Internal, "specifying \"{}={}\" is not allowed", key,
                              s.substr(v, vend - v));
    }
  }
  return base::ok();
}

base::Result<TopResult> run_ps(std::string_view ps_args, const std::vector<pid_t>& pids) {
  MYDOCKER_TRY(validate_ps_args(ps_args));
  std::vector<std::string> args = {"ps"};
  for (const auto& a : base::split(ps_args, ' ')) {
    if (!a.empty()) {
      args.push_back(a);
    }
  }
  auto out = MYDOCKER_TRY(base::make_pipe());
  auto err = MYDOCKER_TRY(base::make_pipe());
  posix_spawn_file_actions_t fa;
  ::posix_spawn_file_actions_init(&fa);
  ::posix_spawn_file_actions_adddup2(&fa, out.write.get(), 1);
  ::posix_spawn_file_actions_adddup2(&fa, err.write.get(), 2);
  ::posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, "ps", &fa, nullptr, argv.data(), environ);
  ::posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    return base::sys_error_n(rc, "Error running ps");
  }
  out.write.reset();
  err.write.reset();
  // Read both pipes without deadlocking on a full stderr.
  std::string out_text;
  std::string err_text;
  struct pollfd pfds[2] = {{out.read.get(), POLLIN, 0}, {err.read.get(), POLLIN, 0}};
  int open_fds = 2;
  while (open_fds > 0) {
    if (::poll(pfds, 2, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      break;
    }
    for (auto& p : pfds) {
      if (p.fd >= 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        char buf[8192];
        ssize_t n = ::read(p.fd, buf, sizeof buf);
        if (n > 0) {
          (&p == &pfds[0] ? out_text : err_text).append(buf, static_cast<size_t>(n));
        } else if (n == 0 || errno != EINTR) {
          p.fd = -1;
          --open_fds;
        }
      }
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    // dockerd words it "ps: " and the first line of ps's stderr (or the exit status).
    std::string first(base::trim(err_text.substr(0, err_text.find('\n'))));
    if (first.empty()) {
      first = WIFEXITED(status) ? fmt::format("exit status {}", WEXITSTATUS(status))
                                : fmt::format("signal: {}", WTERMSIG(status));
    }
    return base::make_error(base::ErrorCode::Internal, "ps: {}", first);
  }
  return parse_ps_output(out_text, pids);
}

}  // namespace mydocker::engine::top
