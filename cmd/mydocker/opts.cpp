// SPDX-License-Identifier: Apache-2.0
#include "cmd/mydocker/opts.h"

#include <time.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>

#include "runtime/base/strings.h"

namespace mydocker::cli {

namespace {

using base::ErrorCode;

base::Error invalid(std::string msg) {
  return base::Error(ErrorCode::InvalidArgument, std::move(msg));
}

bool is_space(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}

}  // namespace

base::Result<int64_t> parse_ram_bytes(std::string_view s) {
  auto bad = [&] { return invalid(fmt::format("invalid size: '{}'", s)); };
  size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) {
    ++i;
  }
  std::string_view num = s.substr(0, i);
  if (num.empty() || num.front() == '.' || num.back() == '.' || num.find("..") != num.npos) {
    return bad();
  }
  std::string_view rest = s.substr(i);
  if (!rest.empty() && rest.front() == ' ') {
    rest.remove_prefix(1);
  }
  double mult = 1;
  if (!rest.empty()) {
    static constexpr std::string_view kUnits = "kmgtp";
    size_t u = kUnits.find(static_cast<char>(std::tolower(static_cast<unsigned char>(rest[0]))));
    if (u != std::string_view::npos) {
      mult = std::pow(1024.0, static_cast<double>(u + 1));
      rest.remove_prefix(1);
    }
    if (!rest.empty() && (rest[0] == 'i' || rest[0] == 'I')) {
      rest.remove_prefix(1);
    }
    if (!rest.empty() && (rest[0] == 'b' || rest[0] == 'B')) {
      rest.remove_prefix(1);
    }
    if (!rest.empty()) {
      return bad();
    }
  }
  double value = std::strtod(std::string(num).c_str(), nullptr);
  double bytes = value * mult;
  if (!std::isfinite(bytes) || bytes >= 9.2e18) {
    return bad();
  }
  return static_cast<int64_t>(bytes);
}

base::Result<int64_t> parse_nano_cpus(std::string_view s) {
  auto bad = [&] { return invalid(fmt::format("failed to parse {} as a rational number", s)); };
  size_t dot = s.find('.');
  std::string_view whole = s.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? "" : s.substr(dot + 1);
  if ((whole.empty() && frac.empty()) || s == ".") {
    return bad();
  }
  auto w = whole.empty() ? std::optional<int64_t>(0) : base::parse_int64(whole);
  if (!w || *w < 0 || *w > 1'000'000'000) {
    return bad();
  }
  for (char c : frac) {
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      return bad();
    }
  }
  std::string digits(frac);
  while (digits.size() > 9 && digits.back() == '0') {
    digits.pop_back();
  }
  if (digits.size() > 9) {
    return invalid("value is too precise");
  }
  digits.resize(9, '0');
  return *w * 1'000'000'000 + *base::parse_int64(digits);
}

base::Result<Json> parse_ulimit(std::string_view s) {
  static constexpr std::array<std::string_view, 15> kNames = {
      "core",   "cpu",   "data", "fsize",  "locks",      "memlock", "msgqueue", "nice",
      "nofile", "nproc", "rss",  "rtprio", "sigpending", "stack",   "rttime"};
  size_t eq = s.find('=');
  if (eq == std::string_view::npos) {
    return invalid(fmt::format("invalid ulimit argument: {}", s));
  }
  std::string name(s.substr(0, eq));
  bool known = false;
  for (auto n : kNames) {
    known = known || n == name;
  }
  if (!known) {
    return invalid(fmt::format("invalid ulimit type: {}", name));
  }
  std::string_view limits = s.substr(eq + 1);
  size_t colon = limits.find(':');
  auto soft = base::parse_int64(limits.substr(0, colon));
  if (!soft) {
    return invalid(fmt::format("invalid ulimit soft value {}", limits.substr(0, colon)));
  }
  int64_t hard = *soft;
  if (colon != std::string_view::npos) {
    auto h = base::parse_int64(limits.substr(colon + 1));
    if (!h) {
      return invalid(fmt::format("invalid ulimit hard value {}", limits.substr(colon + 1)));
    }
    hard = *h;
    if (*soft > hard) {
      return invalid(fmt::format(
          "ulimit soft limit must be less than or equal to hard limit: {} > {}", *soft, hard));
    }
  }
  return Json{{"Name", name}, {"Soft", *soft}, {"Hard", hard}};
}

base::Result<Json> parse_restart_policy(std::string_view s) {
  size_t colon = s.find(':');
  std::string name(s.substr(0, colon));
  int64_t count = 0;
  if (colon != std::string_view::npos) {
    if (name.empty()) {
      return invalid("invalid restart policy format: no policy provided before colon");
    }
    std::string_view v = s.substr(colon + 1);
    if (!v.empty()) {
      auto c = base::parse_int64(v);
      if (!c) {
        return invalid("invalid restart policy format: maximum retry count must be an integer");
      }
      count = *c;
    }
  }
  if (name.empty()) {
    name = "no";
  }
  if (name != "no" && name != "always" && name != "on-failure" && name != "unless-stopped") {
    return invalid(fmt::format(
        "invalid restart policy: unknown policy '{}'; use one of 'no', 'always', 'on-failure', "
        "or 'unless-stopped'",
        name));
  }
  if (count != 0 && name != "on-failure") {
    return invalid(
        "invalid restart policy: maximum retry count can only be used with "
        "'on-failure'");
  }
  if (count < 0) {
    return invalid("invalid restart policy: maximum retry count cannot be negative");
  }
  return Json{{"Name", name}, {"MaximumRetryCount", count}};
}

base::Result<std::vector<std::string>> parse_env_file(std::string_view content,
                                                      const GetEnvFn& getenv) {
  std::vector<std::string> out;
  if (content.starts_with("\xEF\xBB\xBF")) {
    content.remove_prefix(3);  // UTF-8 BOM
  }
  for (const auto& raw : base::split(content, '\n')) {
    std::string_view line = raw;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    while (!line.empty() && is_space(line.front())) {
      line.remove_prefix(1);
    }
    if (line.empty() || line.front() == '#') {
      continue;
    }
    size_t eq = line.find('=');
    std::string_view var = line.substr(0, eq);
    for (char c : var) {
      if (is_space(c)) {
        return invalid(fmt::format("variable '{}' contains whitespaces", var));
      }
    }
    if (var.empty()) {
      return invalid(fmt::format("no variable name on line '{}'", line));
    }
    if (eq != std::string_view::npos) {
      out.emplace_back(line);
    } else if (auto v = getenv(std::string(var))) {
      out.push_back(fmt::format("{}={}", var, *v));
    }
  }
  return out;
}

std::string expand_env_arg(const std::string& arg, const GetEnvFn& getenv) {
  if (arg.find('=') != std::string::npos) {
    return arg;
  }
  if (auto v = getenv(arg)) {
    return arg + "=" + *v;
  }
  return arg;
}

namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && s.size() <= 5 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// docker's nat.ParsePortSpec for one -p value (no ranges): adds the exposed port and its
// binding.
base::Result<void> add_publish(const std::string& spec, Json& exposed, Json& bindings) {
  std::string rest = spec;
  std::string proto = "tcp";
  if (auto slash = rest.rfind('/'); slash != std::string::npos) {
    proto = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  if (proto != "tcp" && proto != "udp" && proto != "sctp") {
    return invalid(fmt::format("invalid proto: {}", proto));
  }
  std::string ip, host_port, container_port;
  auto last = rest.rfind(':');
  if (last == std::string::npos) {
    container_port = rest;
  } else {
    container_port = rest.substr(last + 1);
    std::string front = rest.substr(0, last);
    auto mid = front.rfind(':');
    if (mid == std::string::npos) {
      host_port = front;
    } else {
      ip = front.substr(0, mid);
      host_port = front.substr(mid + 1);
    }
  }
  if (!all_digits(container_port) || std::stoul(container_port) == 0 ||
      std::stoul(container_port) > 65535) {
    return invalid(fmt::format("invalid containerPort: {}", container_port));
  }
  if (!host_port.empty() && (!all_digits(host_port) || std::stoul(host_port) > 65535)) {
    return invalid(fmt::format("invalid hostPort: {}", host_port));
  }
  if (!ip.empty()) {
    int dots = 0;
    bool ok = true;
    for (char c : ip) {
      dots += c == '.';
      ok = ok && ((c >= '0' && c <= '9') || c == '.');
    }
    if (!ok || dots != 3) {
      return invalid(fmt::format("invalid IP address: {}", ip));
    }
  }
  std::string key = std::to_string(std::stoul(container_port)) + "/" + proto;
  exposed[key] = Json::object();
  bindings[key].push_back(Json{{"HostIp", ip}, {"HostPort", host_port}});
  return {};
}

}  // namespace

base::Result<Json> build_create_body(const RunOptions& o, bool server_auto_remove,
                                     const ReadFileFn& read_file, const GetEnvFn& getenv) {
  Json hc = Json::object();
  Json body = Json::object();
  auto flag_error = [](std::string_view flag, std::string_view value, const base::Error& e) {
    return invalid(
        fmt::format("invalid argument \"{}\" for \"{}\" flag: {}", value, flag, e.message()));
  };

  std::vector<std::string> env;
  for (const auto& path : o.env_files) {
    auto content = read_file(path);
    if (!content) {
      return invalid(fmt::format("open {}: {}", path, content.error().to_string()));
    }
    for (auto& e : MYDOCKER_TRY(parse_env_file(*content, getenv))) {
      env.push_back(std::move(e));
    }
  }
  for (const auto& e : o.env) {
    env.push_back(expand_env_arg(e, getenv));
  }

  body["Hostname"] = o.hostname;
  body["User"] = o.user;
  // docker's parse(): -a picks the streams (stdout and stderr without it), -i adds stdin;
  // a detached run attaches nothing. StdinOnce: the attached client's EOF closes stdin.
  bool attach_stdin = o.interactive;
  bool attach_stdout = o.attach.empty();
  bool attach_stderr = o.attach.empty();
  for (const auto& a : o.attach) {
    std::string s = base::ascii_lower(a);
    if (s == "stdin") {
      attach_stdin = true;
    } else if (s == "stdout") {
      attach_stdout = true;
    } else if (s == "stderr") {
      attach_stderr = true;
    } else {
      return invalid("valid streams are STDIN, STDOUT and STDERR");
    }
  }
  if (o.detach) {
    attach_stdin = attach_stdout = attach_stderr = false;
  }
  body["AttachStdin"] = attach_stdin;
  body["AttachStdout"] = attach_stdout;
  body["AttachStderr"] = attach_stderr;
  body["Tty"] = o.tty;
  body["OpenStdin"] = o.interactive;
  body["StdinOnce"] = o.interactive && attach_stdin;
  body["Env"] = env;
  if (!o.command.empty()) {
    body["Cmd"] = o.command;
  }
  body["Image"] = o.image;
  body["WorkingDir"] = o.workdir;
  if (o.entrypoint) {
    body["Entrypoint"] = Json::array({*o.entrypoint});
  }
  Json labels = Json::object();
  for (const auto& l : o.labels) {
    size_t eq = l.find('=');
    labels[l.substr(0, eq)] = eq == std::string::npos ? "" : l.substr(eq + 1);
  }
  body["Labels"] = labels;
  if (!o.stop_signal.empty()) {
    body["StopSignal"] = o.stop_signal;
  }
  if (o.stop_timeout) {
    body["StopTimeout"] = *o.stop_timeout;
  }

  if (!o.memory.empty()) {
    auto m = parse_ram_bytes(o.memory);
    if (!m) {
      return flag_error("-m, --memory", o.memory, m.error());
    }
    hc["Memory"] = *m;
  }
  if (!o.memory_swap.empty()) {
    if (o.memory_swap == "-1") {
      hc["MemorySwap"] = -1;
    } else {
      auto m = parse_ram_bytes(o.memory_swap);
      if (!m) {
        return flag_error("--memory-swap", o.memory_swap, m.error());
      }
      hc["MemorySwap"] = *m;
    }
  }
  if (!o.cpus.empty()) {
    auto n = parse_nano_cpus(o.cpus);
    if (!n) {
      return flag_error("--cpus", o.cpus, n.error());
    }
    hc["NanoCpus"] = *n;
  }
  if (o.cpu_shares) {
    hc["CpuShares"] = *o.cpu_shares;
  }
  if (!o.cpuset_cpus.empty()) {
    hc["CpusetCpus"] = o.cpuset_cpus;
  }
  if (o.pids_limit) {
    hc["PidsLimit"] = *o.pids_limit;
  }
  if (!o.shm_size.empty()) {
    auto m = parse_ram_bytes(o.shm_size);
    if (!m) {
      return flag_error("--shm-size", o.shm_size, m.error());
    }
    hc["ShmSize"] = *m;
  }
  if (!o.ulimits.empty()) {
    Json arr = Json::array();
    for (const auto& u : o.ulimits) {
      auto j = parse_ulimit(u);
      if (!j) {
        return flag_error("--ulimit", u, j.error());
      }
      arr.push_back(*j);
    }
    hc["Ulimits"] = arr;
  }
  if (!o.tmpfs.empty()) {
    Json t = Json::object();
    for (const auto& spec : o.tmpfs) {
      size_t colon = spec.find(':');
      std::string path = spec.substr(0, colon);
      if (path.empty() || path.front() != '/') {
        return invalid(
            fmt::format("invalid argument \"{}\" for \"--tmpfs\" flag: invalid mount "
                        "path: '{}' mount path must be absolute",
                        spec, path));
      }
      t[path] = colon == std::string::npos ? "" : spec.substr(colon + 1);
    }
    hc["Tmpfs"] = t;
  }
  if (!o.restart.empty()) {
    auto p = parse_restart_policy(o.restart);
    if (!p) {
      return std::move(p).error();
    }
    if (o.rm && (*p)["Name"] != "no") {
      return invalid("conflicting options: cannot specify both --restart and --rm");
    }
    hc["RestartPolicy"] = *p;
  }
  std::vector<std::string> secopts;
  for (const auto& s : o.security_opt) {
    std::string key;
    std::string value;
    size_t sep = s.find_first_of("=:");
    if (sep != std::string::npos) {
      key = s.substr(0, sep);
      value = s.substr(sep + 1);
    }
    if (key == "seccomp" && value != "unconfined" && !value.empty()) {
      auto content = read_file(value);
      if (!content) {
        return invalid(fmt::format("opening seccomp profile ({}) failed: {}", value,
                                   content.error().to_string()));
      }
      Json profile = Json::parse(*content, nullptr, false);
      if (profile.is_discarded()) {
        return invalid(
            fmt::format("compacting json for seccomp profile ({}) failed: invalid JSON", value));
      }
      secopts.push_back("seccomp=" + profile.dump());
    } else {
      secopts.push_back(s);
    }
  }
  if (!secopts.empty()) {
    hc["SecurityOpt"] = secopts;
  }
  if (!o.cap_add.empty()) {
    hc["CapAdd"] = o.cap_add;
  }
  if (!o.cap_drop.empty()) {
    hc["CapDrop"] = o.cap_drop;
  }
  hc["Privileged"] = o.privileged;
  hc["ReadonlyRootfs"] = o.read_only;
  if (o.init) {
    hc["Init"] = true;
  }
  hc["AutoRemove"] = o.rm && server_auto_remove;
  hc["NetworkMode"] = o.network.empty() ? "default" : o.network;
  if (!hc.contains("RestartPolicy")) {
    hc["RestartPolicy"] = Json{{"Name", "no"}, {"MaximumRetryCount", 0}};
  }
  if (!o.add_hosts.empty()) {
    for (const auto& h : o.add_hosts) {
      if (h.find(':') == std::string::npos) {
        return invalid(fmt::format("bad format for add-host: \"{}\"", h));
      }
    }
    hc["ExtraHosts"] = o.add_hosts;
  }
  if (!o.dns.empty()) {
    hc["Dns"] = o.dns;
  }
  if (!o.publish.empty() || !o.expose.empty() || o.publish_all) {
    Json exposed = body.value("ExposedPorts", Json::object());
    Json bindings = Json::object();
    for (const auto& e : o.expose) {
      std::string key = e.find('/') == std::string::npos ? e + "/tcp" : e;
      if (!all_digits(key.substr(0, key.find('/')))) {
        return invalid(fmt::format("invalid range format for --expose: {}", e));
      }
      exposed[key] = Json::object();
    }
    for (const auto& p : o.publish) {
      MYDOCKER_TRY(add_publish(p, exposed, bindings));
    }
    body["ExposedPorts"] = exposed;
    hc["PortBindings"] = bindings;
    hc["PublishAllPorts"] = o.publish_all;
  }
  body["HostConfig"] = hc;
  // docker's NetworkingConfig: the endpoint settings of the --network (user networks only).
  if (!o.ip.empty() || !o.network_aliases.empty()) {
    std::string net = o.network.empty() ? "default" : o.network;
    Json ep = Json::object();
    if (!o.network_aliases.empty()) {
      ep["Aliases"] = o.network_aliases;
    }
    if (!o.ip.empty()) {
      ep["IPAMConfig"] = Json{{"IPv4Address", o.ip}};
    }
    body["NetworkingConfig"] = Json{{"EndpointsConfig", Json{{net, ep}}}};
  }
  return body;
}

base::Result<Json> build_update_body(const UpdateOptions& o) {
  Json b = Json::object();
  if (!o.memory.empty()) {
    b["Memory"] = MYDOCKER_TRY(parse_ram_bytes(o.memory));
  }
  if (!o.memory_swap.empty()) {
    b["MemorySwap"] = o.memory_swap == "-1" ? -1 : MYDOCKER_TRY(parse_ram_bytes(o.memory_swap));
  }
  if (!o.cpus.empty()) {
    b["NanoCpus"] = MYDOCKER_TRY(parse_nano_cpus(o.cpus));
  }
  if (o.cpu_shares) {
    b["CpuShares"] = *o.cpu_shares;
  }
  if (o.cpu_period) {
    b["CpuPeriod"] = *o.cpu_period;
  }
  if (o.cpu_quota) {
    b["CpuQuota"] = *o.cpu_quota;
  }
  if (!o.cpuset_cpus.empty()) {
    b["CpusetCpus"] = o.cpuset_cpus;
  }
  if (o.pids_limit) {
    b["PidsLimit"] = *o.pids_limit;
  }
  if (!o.restart.empty()) {
    b["RestartPolicy"] = MYDOCKER_TRY(parse_restart_policy(o.restart));
  }
  if (b.empty()) {
    return invalid("you must provide one or more flags when using this command");
  }
  return b;
}

int start_error_exit_code(std::string_view message) {
  if (message.find("executable file not found") != std::string_view::npos ||
      message.find("no such file or directory") != std::string_view::npos ||
      message.find("system cannot find the file specified") != std::string_view::npos) {
    return 127;
  }
  if (message.find("permission denied") != std::string_view::npos ||
      message.find("is a directory") != std::string_view::npos) {
    return 126;
  }
  return 125;
}

std::string parse_time_arg(std::string_view s, int64_t now) {
  // A Go duration: one or more <number><unit> with units h, m, s, ms.
  {
    double total = 0;
    size_t i = 0;
    bool ok = !s.empty();
    while (ok && i < s.size()) {
      size_t j = i;
      while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '.')) {
        ++j;
      }
      if (j == i) {
        ok = false;
        break;
      }
      double n = std::strtod(std::string(s.substr(i, j - i)).c_str(), nullptr);
      size_t k = j;
      while (k < s.size() && std::isalpha(static_cast<unsigned char>(s[k]))) {
        ++k;
      }
      std::string_view unit = s.substr(j, k - j);
      if (unit == "h") {
        total += n * 3600;
      } else if (unit == "m") {
        total += n * 60;
      } else if (unit == "s") {
        total += n;
      } else if (unit == "ms") {
        total += n / 1000;
      } else {
        ok = false;
      }
      i = k;
    }
    if (ok) {
      return fmt::format("{}", now - static_cast<int64_t>(total));
    }
  }
  // RFC 3339 (UTC "Z" or a numeric offset), fractions dropped.
  struct tm tm {};
  std::string str(s);
  const char* end = strptime(str.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end != nullptr) {
    int64_t t = timegm(&tm);
    std::string_view rest(end);
    if (!rest.empty() && rest.front() == '.') {
      size_t k = 1;
      while (k < rest.size() && std::isdigit(static_cast<unsigned char>(rest[k]))) {
        ++k;
      }
      rest.remove_prefix(k);
    }
    if (rest == "Z" || rest.empty()) {
      return fmt::format("{}", t);
    }
    if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
      auto hh = base::parse_int64(rest.substr(1, 2));
      auto mm = base::parse_int64(rest.substr(4, 2));
      if (hh && mm) {
        int64_t off = (*hh * 3600 + *mm * 60) * (rest[0] == '+' ? 1 : -1);
        return fmt::format("{}", t - off);
      }
    }
  }
  return str;
}

base::Result<Json> build_exec_config(const ExecFlags& f, const ReadFileFn& read_file,
                                     const GetEnvFn& getenv) {
  Json c = Json::object();
  c["User"] = f.user;
  c["Privileged"] = f.privileged;
  c["Tty"] = f.tty;
  c["AttachStdin"] = !f.detach && f.interactive;
  c["AttachStdout"] = !f.detach;
  c["AttachStderr"] = !f.detach;
  c["Detach"] = false;
  c["DetachKeys"] = f.detach_keys;
  std::vector<std::string> env;
  for (const auto& path : f.env_files) {
    auto content = read_file(path);
    if (!content) {
      return base::make_error(base::ErrorCode::InvalidArgument, "open {}: {}", path,
                              content.error().to_string());
    }
    for (auto& e : MYDOCKER_TRY(parse_env_file(*content, getenv))) {
      env.push_back(std::move(e));
    }
  }
  for (const auto& e : f.env) {
    env.push_back(expand_env_arg(e, getenv));
  }
  c["Env"] = env;
  c["WorkingDir"] = f.workdir;
  c["Cmd"] = f.command;
  return c;
}

}  // namespace mydocker::cli
