// SPDX-License-Identifier: Apache-2.0
#include "runtime/spec/signals.h"

#include <array>
#include <cctype>
#include <csignal>

#include "runtime/base/strings.h"

namespace mydocker::runtime {
namespace {

struct SignalName {
  std::string_view name;  // without "SIG"
  int number;
};

// The first entry for a number is its canonical name; IOT, CLD and POLL are aliases.
constexpr std::array<SignalName, 34> kSignals = {{
    {"HUP", SIGHUP},       {"INT", SIGINT},     {"QUIT", SIGQUIT}, {"ILL", SIGILL},
    {"TRAP", SIGTRAP},     {"ABRT", SIGABRT},   {"IOT", SIGIOT},   {"BUS", SIGBUS},
    {"FPE", SIGFPE},       {"KILL", SIGKILL},   {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},     {"PIPE", SIGPIPE},   {"ALRM", SIGALRM}, {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},   {"CLD", SIGCHLD},  {"CONT", SIGCONT},
    {"STOP", SIGSTOP},     {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},
    {"URG", SIGURG},       {"XCPU", SIGXCPU},   {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM},
    {"PROF", SIGPROF},     {"WINCH", SIGWINCH}, {"IO", SIGIO},     {"POLL", SIGPOLL},
    {"PWR", SIGPWR},       {"SYS", SIGSYS},
}};

// The kernel's real-time range. glibc's SIGRTMIN is a function (it reserves 32 and 33 for
// NPTL); container signals are sent across processes, so use the values Docker and runc (Go,
// no libc) accept: 34..64, which is also what glibc reports to programs.
constexpr int kRtMin = 34;
constexpr int kRtMax = 64;

base::Error invalid_signal(std::string_view name) {
  return base::make_error(base::ErrorCode::InvalidArgument, "invalid signal `{}`", name);
}

// "RTMIN", "RTMIN+3", "RTMAX-1" (already upper-cased, without "SIG").
std::optional<int> parse_realtime(std::string_view s) {
  int base_sig = 0;
  int sign = 0;
  if (s.substr(0, 5) == "RTMIN") {
    base_sig = kRtMin;
    sign = 1;
  } else if (s.substr(0, 5) == "RTMAX") {
    base_sig = kRtMax;
    sign = -1;
  } else {
    return std::nullopt;
  }
  std::string_view rest = s.substr(5);
  if (rest.empty()) {
    return base_sig;
  }
  // RTMIN counts up and RTMAX counts down, as in kill -l.
  if ((sign > 0 && rest[0] != '+') || (sign < 0 && rest[0] != '-')) {
    return std::nullopt;
  }
  auto n = base::parse_uint64(rest.substr(1));
  if (!n || *n > static_cast<uint64_t>(kRtMax - kRtMin)) {
    return std::nullopt;
  }
  return base_sig + sign * static_cast<int>(*n);
}

}  // namespace

base::Result<int> parse_signal(std::string_view name) {
  if (name.empty()) {
    return invalid_signal(name);
  }
  if (std::isdigit(static_cast<unsigned char>(name[0])) != 0) {
    auto n = base::parse_uint64(name);
    if (!n || *n < 1 || *n > static_cast<uint64_t>(kRtMax)) {
      return invalid_signal(name);
    }
    return static_cast<int>(*n);
  }
  std::string upper;
  upper.reserve(name.size());
  for (char c : name) {
    upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  std::string_view s = upper;
  if (s.substr(0, 3) == "SIG") {
    s.remove_prefix(3);
  }
  for (const SignalName& sig : kSignals) {
    if (sig.name == s) {
      return sig.number;
    }
  }
  if (auto rt = parse_realtime(s)) {
    return *rt;
  }
  return invalid_signal(name);
}

std::string signal_name(int sig) {
  for (const SignalName& s : kSignals) {
    if (s.number == sig) {
      return fmt::format("SIG{}", s.name);
    }
  }
  if (sig == kRtMin) {
    return "SIGRTMIN";
  }
  if (sig == kRtMax) {
    return "SIGRTMAX";
  }
  // Lower half counts from RTMIN, upper half back from RTMAX, as bash's kill -l.
  if (sig > kRtMin && sig < kRtMax) {
    if (sig - kRtMin <= (kRtMax - kRtMin) / 2) {
      return fmt::format("SIGRTMIN+{}", sig - kRtMin);
    }
    return fmt::format("SIGRTMAX-{}", kRtMax - sig);
  }
  return std::to_string(sig);
}

}  // namespace mydocker::runtime
