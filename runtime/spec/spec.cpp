// SPDX-License-Identifier: Apache-2.0
// config.json -> typed Spec. Every reader takes the JSON value and its path
// ("process.capabilities.bounding[2]") so that any error names both the field and the value.
// Unknown keys are ignored (the OCI spec allows extensions); null counts as absent, as Go's
// encoding/json (and so runc) treats it.
#include "runtime/spec/spec.h"

#include <sched.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "runtime/base/file.h"
#include "runtime/base/strings.h"
#include "runtime/caps/names.h"

namespace mydocker::runtime::spec {
namespace {

using base::ErrorCode;
using base::Result;
using json = nlohmann::json;

// ---- error text -------------------------------------------------------------------------

// The offending value as the user wrote it, short enough for one line.
std::string show(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  constexpr size_t kMax = 60;
  if (s.size() > kMax) {
    s.resize(kMax);
    s += "...";
  }
  return s;
}

template <typename... Args>
base::Error invalid(const std::string& path, fmt::format_string<Args...> f, Args&&... args) {
  return base::make_error(ErrorCode::InvalidArgument, "`{}`: {}", path,
                          fmt::format(f, std::forward<Args>(args)...));
}

std::string key_path(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
}

std::string index_path(const std::string& path, size_t i) {
  return fmt::format("{}[{}]", path, i);
}

// ---- typed readers ----------------------------------------------------------------------

// The member `key` of object `obj`, or nullptr when absent or null.
const json* field(const json& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    return nullptr;
  }
  return &*it;
}

Result<void> expect_object(const json& v, const std::string& path) {
  if (!v.is_object()) {
    return invalid(path, "expected an object, got `{}`", show(v));
  }
  return base::ok();
}

Result<void> expect_array(const json& v, const std::string& path) {
  if (!v.is_array()) {
    return invalid(path, "expected an array, got `{}`", show(v));
  }
  return base::ok();
}

Result<std::string> as_string(const json& v, const std::string& path) {
  if (!v.is_string()) {
    return invalid(path, "expected a string, got `{}`", show(v));
  }
  return v.get<std::string>();
}

Result<bool> as_bool(const json& v, const std::string& path) {
  if (!v.is_boolean()) {
    return invalid(path, "expected true or false, got `{}`", show(v));
  }
  return v.get<bool>();
}

// An integer that fits T. JSON floats (1.5, 1e3, and integers beyond 64 bits) are refused:
// Go's encoding/json refuses them for integer fields too.
template <typename T>
Result<T> as_int(const json& v, const std::string& path) {
  if (v.is_number_unsigned()) {
    auto u = v.get<uint64_t>();
    if (std::in_range<T>(u)) {
      return static_cast<T>(u);
    }
  } else if (v.is_number_integer()) {
    auto i = v.get<int64_t>();
    if (std::in_range<T>(i)) {
      return static_cast<T>(i);
    }
  } else {
    return invalid(path, "expected an integer, got `{}`", show(v));
  }
  return invalid(path, "expected an integer in [{}, {}], got `{}`", std::numeric_limits<T>::min(),
                 std::numeric_limits<T>::max(), show(v));
}

Result<std::vector<std::string>> as_strings(const json& v, const std::string& path) {
  MYDOCKER_TRY(expect_array(v, path));
  std::vector<std::string> out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    out.push_back(MYDOCKER_TRY(as_string(v[i], index_path(path, i))));
  }
  return out;
}

Result<std::map<std::string, std::string>> as_string_map(const json& v, const std::string& path) {
  MYDOCKER_TRY(expect_object(v, path));
  std::map<std::string, std::string> out;
  for (const auto& [k, val] : v.items()) {
    out[k] = MYDOCKER_TRY(as_string(val, key_path(path, k)));
  }
  return out;
}

// Optional-field helpers: leave `out` untouched when the key is absent.
Result<void> opt_string(const json& obj, std::string_view key, const std::string& path,
                        std::string& out) {
  if (const json* f = field(obj, key)) {
    out = MYDOCKER_TRY(as_string(*f, key_path(path, key)));
  }
  return base::ok();
}

Result<void> opt_bool(const json& obj, std::string_view key, const std::string& path, bool& out) {
  if (const json* f = field(obj, key)) {
    out = MYDOCKER_TRY(as_bool(*f, key_path(path, key)));
  }
  return base::ok();
}

template <typename T>
Result<void> opt_int(const json& obj, std::string_view key, const std::string& path, T& out) {
  if (const json* f = field(obj, key)) {
    out = MYDOCKER_TRY(as_int<T>(*f, key_path(path, key)));
  }
  return base::ok();
}

template <typename T>
Result<void> opt_int(const json& obj, std::string_view key, const std::string& path,
                     std::optional<T>& out) {
  if (const json* f = field(obj, key)) {
    out = MYDOCKER_TRY(as_int<T>(*f, key_path(path, key)));
  }
  return base::ok();
}

Result<void> opt_strings(const json& obj, std::string_view key, const std::string& path,
                         std::vector<std::string>& out) {
  if (const json* f = field(obj, key)) {
    out = MYDOCKER_TRY(as_strings(*f, key_path(path, key)));
  }
  return base::ok();
}

Result<const json*> required(const json& obj, std::string_view key, const std::string& path) {
  const json* f = field(obj, key);
  if (f == nullptr) {
    return base::make_error(ErrorCode::InvalidArgument, "`{}`: required field is missing",
                            key_path(path, key));
  }
  return f;
}

Result<std::string> req_string(const json& obj, std::string_view key, const std::string& path) {
  const json* f = MYDOCKER_TRY(required(obj, key, path));
  return as_string(*f, key_path(path, key));
}

Result<bool> req_bool(const json& obj, std::string_view key, const std::string& path) {
  const json* f = MYDOCKER_TRY(required(obj, key, path));
  return as_bool(*f, key_path(path, key));
}

Result<std::vector<std::string>> req_strings(const json& obj, std::string_view key,
                                             const std::string& path) {
  const json* f = MYDOCKER_TRY(required(obj, key, path));
  return as_strings(*f, key_path(path, key));
}

template <typename T>
Result<T> req_int(const json& obj, std::string_view key, const std::string& path) {
  const json* f = MYDOCKER_TRY(required(obj, key, path));
  return as_int<T>(*f, key_path(path, key));
}

// Calls read(element, element_path) for each element of the array at obj[key], if present.
template <typename F>
Result<void> each(const json& obj, std::string_view key, const std::string& path, F&& read) {
  const json* f = field(obj, key);
  if (f == nullptr) {
    return base::ok();
  }
  std::string p = key_path(path, key);
  MYDOCKER_TRY(expect_array(*f, p));
  for (size_t i = 0; i < f->size(); ++i) {
    MYDOCKER_TRY(read((*f)[i], index_path(p, i)));
  }
  return base::ok();
}

// ---- value checks -----------------------------------------------------------------------

bool is_absolute(std::string_view p) {
  return !p.empty() && p.front() == '/';
}

// True when `p`, read lexically from the root, climbs above it ("../x", "/a/../../b").
bool escapes_root(std::string_view p) {
  int depth = 0;
  for (const std::string& c : base::split(p, '/')) {
    if (c.empty() || c == ".") {
      continue;
    }
    if (c == "..") {
      if (--depth < 0) {
        return true;
      }
    } else {
      ++depth;
    }
  }
  return false;
}

// cpuset list syntax: "0-3,5,7-8".
bool valid_cpu_list(std::string_view s) {
  if (s.empty()) {
    return true;
  }
  for (const std::string& part : base::split(s, ',')) {
    auto dash = part.find('-');
    if (dash == std::string::npos) {
      if (!base::parse_uint64(part)) {
        return false;
      }
      continue;
    }
    auto lo = base::parse_uint64(std::string_view(part).substr(0, dash));
    auto hi = base::parse_uint64(std::string_view(part).substr(dash + 1));
    if (!lo || !hi || *lo > *hi) {
      return false;
    }
  }
  return true;
}

struct RlimitName {
  std::string_view name;
  int resource;
};

constexpr std::array<RlimitName, 16> kRlimits = {{
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
}};

struct NamespaceName {
  std::string_view name;
  NamespaceType type;
  int flag;
};

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

constexpr std::array<NamespaceName, 8> kNamespaces = {{
    {"pid", NamespaceType::Pid, CLONE_NEWPID},
    {"network", NamespaceType::Network, CLONE_NEWNET},
    {"mount", NamespaceType::Mount, CLONE_NEWNS},
    {"ipc", NamespaceType::Ipc, CLONE_NEWIPC},
    {"uts", NamespaceType::Uts, CLONE_NEWUTS},
    {"user", NamespaceType::User, CLONE_NEWUSER},
    {"cgroup", NamespaceType::Cgroup, CLONE_NEWCGROUP},
    {"time", NamespaceType::Time, CLONE_NEWTIME},
}};

constexpr std::array<std::string_view, 9> kSeccompActions = {
    "SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_TRAP",  "SCMP_ACT_ERRNO",        "SCMP_ACT_TRACE",
    "SCMP_ACT_ALLOW", "SCMP_ACT_LOG",          "SCMP_ACT_NOTIFY",
};

constexpr std::array<std::string_view, 7> kSeccompOps = {
    "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",        "SCMP_CMP_EQ",
    "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ",
};

constexpr std::array<std::string_view, 19> kSeccompArches = {
    "SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",         "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",     "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_S390",        "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",  "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",
};

constexpr std::array<std::string_view, 4> kSeccompFlags = {
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

constexpr std::array<std::string_view, 9> kPropagations = {
    "private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable", "",
};

template <typename Table>
bool contains(const Table& table, std::string_view s) {
  return std::find(table.begin(), table.end(), s) != table.end();
}

// ---- sections ---------------------------------------------------------------------------

Result<User> read_user(const json& v, const std::string& path) {
  MYDOCKER_TRY(expect_object(v, path));
  User u;
  MYDOCKER_TRY(opt_int(v, "uid", path, u.uid));
  MYDOCKER_TRY(opt_int(v, "gid", path, u.gid));
  MYDOCKER_TRY(opt_int(v, "umask", path, u.umask));
  if (u.umask && *u.umask > 0777) {
    return invalid(key_path(path, "umask"), "umask `{:o}` (octal) is not a permission mask",
                   *u.umask);
  }
  auto on_additional_gids = [&](const json& g, const std::string& p) -> Result<void> {
    u.additional_gids.push_back(MYDOCKER_TRY(as_int<uint32_t>(g, p)));
    return base::ok();
  };
  MYDOCKER_TRY(each(v, "additionalGids", path, on_additional_gids));
  return u;
}

Result<void> read_cap_list(const json& obj, std::string_view key, const std::string& path,
                           std::vector<std::string>& out) {
  MYDOCKER_TRY(opt_strings(obj, key, path, out));
  for (size_t i = 0; i < out.size(); ++i) {
    if (!caps::from_name(out[i])) {
      return invalid(index_path(key_path(path, key), i), "unknown capability `{}`", out[i]);
    }
  }
  return base::ok();
}

Result<Capabilities> read_capabilities(const json& v, const std::string& path) {
  MYDOCKER_TRY(expect_object(v, path));
  Capabilities c;
  MYDOCKER_TRY(read_cap_list(v, "bounding", path, c.bounding));
  MYDOCKER_TRY(read_cap_list(v, "effective", path, c.effective));
  MYDOCKER_TRY(read_cap_list(v, "inheritable", path, c.inheritable));
  MYDOCKER_TRY(read_cap_list(v, "permitted", path, c.permitted));
  MYDOCKER_TRY(read_cap_list(v, "ambient", path, c.ambient));
  return c;
}

Result<Rlimit> read_rlimit(const json& v, const std::string& path) {
  MYDOCKER_TRY(expect_object(v, path));
  Rlimit r;
  r.type = MYDOCKER_TRY(req_string(v, "type", path));
  auto it = std::find_if(kRlimits.begin(), kRlimits.end(),
                         [&](const RlimitName& n) { return n.name == r.type; });
  if (it == kRlimits.end()) {
    return invalid(key_path(path, "type"), "unknown rlimit `{}`", r.type);
  }
  r.resource = it->resource;
  r.hard = MYDOCKER_TRY(req_int<uint64_t>(v, "hard", path));
  r.soft = MYDOCKER_TRY(req_int<uint64_t>(v, "soft", path));
  if (r.soft > r.hard) {
    return invalid(path, "soft limit {} of `{}` exceeds its hard limit {}", r.soft, r.type, r.hard);
  }
  return r;
}

// `path` is "process" inside config.json and "" for a bare process.json.
Result<Process> read_process(const json& v, const std::string& path) {
  MYDOCKER_TRY(expect_object(v, path.empty() ? std::string("(top level)") : path));
  Process p;
  MYDOCKER_TRY(opt_bool(v, "terminal", path, p.terminal));
  if (const json* cs = field(v, "consoleSize")) {
    std::string cp = key_path(path, "consoleSize");
    MYDOCKER_TRY(expect_object(*cs, cp));
    ConsoleSize size;
    size.height = MYDOCKER_TRY(req_int<uint32_t>(*cs, "height", cp));
    size.width = MYDOCKER_TRY(req_int<uint32_t>(*cs, "width", cp));
    p.console_size = size;
  }
  if (const json* u = field(v, "user")) {
    p.user = MYDOCKER_TRY(read_user(*u, key_path(path, "user")));
  }
  MYDOCKER_TRY(opt_strings(v, "args", path, p.args));
  if (p.args.empty()) {
    return invalid(key_path(path, "args"), "must name the program to run, got `{}`",
                   field(v, "args") ? show(v["args"]) : std::string("null"));
  }
  MYDOCKER_TRY(opt_strings(v, "env", path, p.env));
  p.cwd = MYDOCKER_TRY(req_string(v, "cwd", path));
  if (!is_absolute(p.cwd)) {
    return invalid(key_path(path, "cwd"), "must be an absolute path, got `{}`", p.cwd);
  }
  if (const json* c = field(v, "capabilities")) {
    p.capabilities = MYDOCKER_TRY(read_capabilities(*c, key_path(path, "capabilities")));
  }
  std::set<int> seen_rlimits;
  auto on_rlimits = [&](const json& r, const std::string& rp) -> Result<void> {
    Rlimit rl = MYDOCKER_TRY(read_rlimit(r, rp));
    if (!seen_rlimits.insert(rl.resource).second) {
      return invalid(key_path(rp, "type"), "duplicate rlimit `{}`", rl.type);
    }
    p.rlimits.push_back(std::move(rl));
    return base::ok();
  };
  MYDOCKER_TRY(each(v, "rlimits", path, on_rlimits));
  MYDOCKER_TRY(opt_bool(v, "noNewPrivileges", path, p.no_new_privileges));
  MYDOCKER_TRY(opt_int(v, "oomScoreAdj", path, p.oom_score_adj));
  if (p.oom_score_adj && (*p.oom_score_adj < -1000 || *p.oom_score_adj > 1000)) {
    return invalid(key_path(path, "oomScoreAdj"), "must be in [-1000, 1000], got `{}`",
                   *p.oom_score_adj);
  }
  MYDOCKER_TRY(opt_string(v, "apparmorProfile", path, p.apparmor_profile));
  MYDOCKER_TRY(opt_string(v, "selinuxLabel", path, p.selinux_label));
  return p;
}

Result<Mount> read_mount(const json& v, const std::string& path) {
  MYDOCKER_TRY(expect_object(v, path));
  Mount m;
  std::string dp = key_path(path, "destination");
  m.destination = MYDOCKER_TRY(req_string(v, "destination", path));
  // A relative destination is accepted and taken relative to "/", as runc does for
  // compatibility with old bundles; but a destination climbing above the root is refused here
  // (the mount code also resolves symlinks safely, which no lexical check can).
  if (m.destination.empty()) {
    return invalid(dp, "must not be empty");
  }
  if (escapes_root(m.destination)) {
    return invalid(dp, "`{}` escapes the container's root filesystem", m.destination);
  }
  MYDOCKER_TRY(opt_string(v, "type", path, m.type));
  MYDOCKER_TRY(opt_string(v, "source", path, m.source));
  MYDOCKER_TRY(opt_strings(v, "options", path, m.options));
  return m;
}

Result<IdMapping> read_id_mapping(const json& v, const std::string& path) {
  MYDOCKER_TRY(expect_object(v, path));
  IdMapping m;
  m.container_id = MYDOCKER_TRY(req_int<uint32_t>(v, "containerID", path));
  m.host_id = MYDOCKER_TRY(req_int<uint32_t>(v, "hostID", path));
  m.size = MYDOCKER_TRY(req_int<uint32_t>(v, "size", path));
  if (m.size == 0) {
    return invalid(key_path(path, "size"), "must be at least 1, got `0`");
  }
  return m;
}

Result<Device> read_device(const json& v, const std::string& path) {
  MYDOCKER_TRY(expect_object(v, path));
  Device d;
  std::string pp = key_path(path, "path");
  d.path = MYDOCKER_TRY(req_string(v, "path", path));
  if (!is_absolute(d.path)) {
    return invalid(pp, "must be an absolute path, got `{}`", d.path);
  }
  if (escapes_root(d.path)) {
    return invalid(pp, "`{}` escapes the container's root filesystem", d.path);
  }
  std::string tp = key_path(path, "type");
  std::string type = MYDOCKER_TRY(req_string(v, "type", path));
  if (type.size() != 1 || std::string_view("cbup").find(type[0]) == std::string_view::npos) {
    return invalid(tp, "unknown device type `{}` (want c, b, u or p)", type);
  }
  d.type = type[0];
  if (d.type != 'p') {
    // A node without numbers would silently become 0:0; make the bundle say what it means.
    MYDOCKER_TRY(required(v, "major", path));
    MYDOCKER_TRY(required(v, "minor", path));
  }
  MYDOCKER_TRY(opt_int(v, "major", path, d.major));
  MYDOCKER_TRY(opt_int(v, "minor", path, d.minor));
  if (d.major < 0 || d.minor < 0) {
    return invalid(path, "negative device number {}:{}", d.major, d.minor);
  }
  MYDOCKER_TRY(opt_int(v, "fileMode", path, d.file_mode));
  if (d.file_mode && *d.file_mode > 07777) {
    return invalid(key_path(path, "fileMode"), "`{:o}` (octal) is not a file mode", *d.file_mode);
  }
  MYDOCKER_TRY(opt_int(v, "uid", path, d.uid));
  MYDOCKER_TRY(opt_int(v, "gid", path, d.gid));
  return d;
}

Result<DeviceRule> read_device_rule(const json& v, const std::string& path) {
  MYDOCKER_TRY(expect_object(v, path));
  DeviceRule r;
  r.allow = MYDOCKER_TRY(req_bool(v, "allow", path));
  MYDOCKER_TRY(opt_string(v, "type", path, r.type));
  if (r.type.empty()) {
    r.type = "a";
  }
  if (r.type != "a" && r.type != "c" && r.type != "b") {
    return invalid(key_path(path, "type"), "unknown device type `{}` (want a, c or b)", r.type);
  }
  MYDOCKER_TRY(opt_int(v, "major", path, r.major));
  MYDOCKER_TRY(opt_int(v, "minor", path, r.minor));
  // -1 is the wildcard in runc's Go types; anything more negative is nonsense.
  if ((r.major && *r.major < -1) || (r.minor && *r.minor < -1)) {
    return invalid(path, "negative device number in `{}`", show(v));
  }
  MYDOCKER_TRY(opt_string(v, "access", path, r.access));
  if (r.access.empty()) {
    r.access = "rwm";
  }
  if (r.access.find_first_not_of("rwm") != std::string::npos) {
    return invalid(key_path(path, "access"), "`{}` is not a subset of `rwm`", r.access);
  }
  return r;
}

// memory values: -1 means unlimited; 0 and absent mean unset.
Result<void> check_memory_value(const std::optional<int64_t>& v, const std::string& path) {
  if (v && *v < -1) {
    return invalid(path, "must be -1 (unlimited) or a number of bytes, got `{}`", *v);
  }
  return base::ok();
}

Result<Memory> read_memory(const json& v, const std::string& path) {
  MYDOCKER_TRY(expect_object(v, path));
  Memory m;
  MYDOCKER_TRY(opt_int(v, "limit", path, m.limit));
  MYDOCKER_TRY(opt_int(v, "reservation", path, m.reservation));
  MYDOCKER_TRY(opt_int(v, "swap", path, m.swap));
  MYDOCKER_TRY(opt_int(v, "swappiness", path, m.swappiness));
  if (field(v, "disableOOMKiller") != nullptr) {
    bool b = false;
    MYDOCKER_TRY(opt_bool(v, "disableOOMKiller", path, b));
    m.disable_oom_killer = b;
  }
  MYDOCKER_TRY(check_memory_value(m.limit, key_path(path, "limit")));
  MYDOCKER_TRY(check_memory_value(m.reservation, key_path(path, "reservation")));
  MYDOCKER_TRY(check_memory_value(m.swap, key_path(path, "swap")));
  if (m.swappiness && *m.swappiness > 100) {
    return invalid(key_path(path, "swappiness"), "must be in [0, 100], got `{}`", *m.swappiness);
  }
  // swap is memory+swap (cgroup v1 memsw), so it can never be below the memory limit.
  if (m.limit && m.swap && *m.limit > 0 && *m.swap > 0 && *m.swap < *m.limit) {
    return invalid(key_path(path, "swap"), "memory+swap limit `{}` is below the memory limit `{}`",
                   *m.swap, *m.limit);
  }
  return m;
}

Result<Cpu> read_cpu(const json& v, const std::string& path) {
  MYDOCKER_TRY(expect_object(v, path));
  Cpu c;
  MYDOCKER_TRY(opt_int(v, "shares", path, c.shares));
  MYDOCKER_TRY(opt_int(v, "quota", path, c.quota));
  MYDOCKER_TRY(opt_int(v, "period", path, c.period));
  MYDOCKER_TRY(opt_int(v, "realtimeRuntime", path, c.realtime_runtime));
  MYDOCKER_TRY(opt_int(v, "realtimePeriod", path, c.realtime_period));
  MYDOCKER_TRY(opt_string(v, "cpus", path, c.cpus));
  MYDOCKER_TRY(opt_string(v, "mems", path, c.mems));
  // The kernel's CFS bounds (kernel/sched/core.c): quota and period from 1ms, period to 1s.
  if (c.quota && *c.quota != -1 && *c.quota != 0 && *c.quota < 1000) {
    return invalid(key_path(path, "quota"),
                   "must be -1 (unlimited) or at least 1000 (µs), got `{}`", *c.quota);
  }
  if (c.period && *c.period != 0 && (*c.period < 1000 || *c.period > 1000000)) {
    return invalid(key_path(path, "period"), "must be in [1000, 1000000] (µs), got `{}`",
                   *c.period);
  }
  if (!valid_cpu_list(c.cpus)) {
    return invalid(key_path(path, "cpus"), "`{}` is not a CPU list like `0-3,5`", c.cpus);
  }
  if (!valid_cpu_list(c.mems)) {
    return invalid(key_path(path, "mems"), "`{}` is not a memory node list like `0-1`", c.mems);
  }
  return c;
}

Result<void> check_weight(const std::optional<uint16_t>& w, const std::string& path) {
  // 0 means unset; the blkio controller takes 10..1000.
  if (w && *w != 0 && (*w < 10 || *w > 1000)) {
    return invalid(path, "must be in [10, 1000], got `{}`", *w);
  }
  return base::ok();
}

Result<void> read_throttles(const json& v, std::string_view key, const std::string& path,
                            std::vector<ThrottleDevice>& out) {
  return each(v, key, path, [&](const json& t, const std::string& tp) -> Result<void> {
    MYDOCKER_TRY(expect_object(t, tp));
    ThrottleDevice d;
    d.major = MYDOCKER_TRY(req_int<int64_t>(t, "major", tp));
    d.minor = MYDOCKER_TRY(req_int<int64_t>(t, "minor", tp));
    MYDOCKER_TRY(opt_int(t, "rate", tp, d.rate));
    out.push_back(d);
    return base::ok();
  });
}

Result<BlockIo> read_block_io(const json& v, const std::string& path) {
  MYDOCKER_TRY(expect_object(v, path));
  BlockIo b;
  MYDOCKER_TRY(opt_int(v, "weight", path, b.weight));
  MYDOCKER_TRY(opt_int(v, "leafWeight", path, b.leaf_weight));
  MYDOCKER_TRY(check_weight(b.weight, key_path(path, "weight")));
  MYDOCKER_TRY(check_weight(b.leaf_weight, key_path(path, "leafWeight")));
  auto on_weight_device = [&](const json& w, const std::string& wp) -> Result<void> {
    MYDOCKER_TRY(expect_object(w, wp));
    WeightDevice d;
    d.major = MYDOCKER_TRY(req_int<int64_t>(w, "major", wp));
    d.minor = MYDOCKER_TRY(req_int<int64_t>(w, "minor", wp));
    MYDOCKER_TRY(opt_int(w, "weight", wp, d.weight));
    MYDOCKER_TRY(opt_int(w, "leafWeight", wp, d.leaf_weight));
    MYDOCKER_TRY(check_weight(d.weight, key_path(wp, "weight")));
    MYDOCKER_TRY(check_weight(d.leaf_weight, key_path(wp, "leafWeight")));
    b.weight_device.push_back(d);
    return base::ok();
  };
  MYDOCKER_TRY(each(v, "weightDevice", path, on_weight_device));
  MYDOCKER_TRY(read_throttles(v, "throttleReadBpsDevice", path, b.throttle_read_bps_device));
  MYDOCKER_TRY(read_throttles(v, "throttleWriteBpsDevice", path, b.throttle_write_bps_device));
  MYDOCKER_TRY(read_throttles(v, "throttleReadIOPSDevice", path, b.throttle_read_iops_device));
  MYDOCKER_TRY(read_throttles(v, "throttleWriteIOPSDevice", path, b.throttle_write_iops_device));
  return b;
}

Result<Resources> read_resources(const json& v, const std::string& path) {
  MYDOCKER_TRY(expect_object(v, path));
  Resources r;
  auto on_devices = [&](const json& d, const std::string& dp) -> Result<void> {
    r.devices.push_back(MYDOCKER_TRY(read_device_rule(d, dp)));
    return base::ok();
  };
  MYDOCKER_TRY(each(v, "devices", path, on_devices));
  if (const json* m = field(v, "memory")) {
    r.memory = MYDOCKER_TRY(read_memory(*m, key_path(path, "memory")));
  }
  if (const json* c = field(v, "cpu")) {
    r.cpu = MYDOCKER_TRY(read_cpu(*c, key_path(path, "cpu")));
  }
  if (const json* p = field(v, "pids")) {
    std::string pp = key_path(path, "pids");
    MYDOCKER_TRY(expect_object(*p, pp));
    Pids pids;
    pids.limit = MYDOCKER_TRY(req_int<int64_t>(*p, "limit", pp));
    // Docker writes -1 for unlimited and runc treats 0 as unset; below that is a mistake.
    if (pids.limit < -1) {
      return invalid(key_path(pp, "limit"), "must be -1 (unlimited) or a positive number, got `{}`",
                     pids.limit);
    }
    r.pids = pids;
  }
  if (const json* b = field(v, "blockIO")) {
    r.block_io = MYDOCKER_TRY(read_block_io(*b, key_path(path, "blockIO")));
  }
  if (const json* u = field(v, "unified")) {
    r.unified = MYDOCKER_TRY(as_string_map(*u, key_path(path, "unified")));
    for (const auto& [k, val] : r.unified) {
      // Keys are file names in the container's cgroup directory: no path tricks.
      if (k.empty() || k.find('/') != std::string::npos || k == "." || k == "..") {
        return invalid(key_path(key_path(path, "unified"), k), "`{}` is not a cgroup file name", k);
      }
    }
  }
  return r;
}

Result<Seccomp> read_seccomp(const json& v, const std::string& path) {
  MYDOCKER_TRY(expect_object(v, path));
  Seccomp s;
  std::string dp = key_path(path, "defaultAction");
  s.default_action = MYDOCKER_TRY(req_string(v, "defaultAction", path));
  if (!contains(kSeccompActions, s.default_action)) {
    return invalid(dp, "unknown seccomp action `{}`", s.default_action);
  }
  MYDOCKER_TRY(opt_int(v, "defaultErrnoRet", path, s.default_errno_ret));
  MYDOCKER_TRY(opt_strings(v, "architectures", path, s.architectures));
  for (size_t i = 0; i < s.architectures.size(); ++i) {
    if (!contains(kSeccompArches, s.architectures[i])) {
      return invalid(index_path(key_path(path, "architectures"), i),
                     "unknown seccomp architecture `{}`", s.architectures[i]);
    }
  }
  MYDOCKER_TRY(opt_strings(v, "flags", path, s.flags));
  for (size_t i = 0; i < s.flags.size(); ++i) {
    if (!contains(kSeccompFlags, s.flags[i])) {
      return invalid(index_path(key_path(path, "flags"), i), "unknown seccomp flag `{}`",
                     s.flags[i]);
    }
  }
  auto on_syscalls = [&](const json& sc, const std::string& sp) -> Result<void> {
    MYDOCKER_TRY(expect_object(sc, sp));
    SeccompSyscall call;
    std::string np = key_path(sp, "names");
    call.names = MYDOCKER_TRY(req_strings(sc, "names", sp));
    if (call.names.empty()) {
      return invalid(np, "must name at least one syscall, got `[]`");
    }
    std::string ap = key_path(sp, "action");
    call.action = MYDOCKER_TRY(req_string(sc, "action", sp));
    if (!contains(kSeccompActions, call.action)) {
      return invalid(ap, "unknown seccomp action `{}`", call.action);
    }
    MYDOCKER_TRY(opt_int(sc, "errnoRet", sp, call.errno_ret));
    auto on_args = [&](const json& a, const std::string& argp) -> Result<void> {
      MYDOCKER_TRY(expect_object(a, argp));
      SeccompArg arg;
      arg.index = MYDOCKER_TRY(req_int<uint32_t>(a, "index", argp));
      // Syscalls have at most six arguments (seccomp_data.args[6]).
      if (arg.index > 5) {
        return invalid(key_path(argp, "index"), "must be in [0, 5], got `{}`", arg.index);
      }
      arg.value = MYDOCKER_TRY(req_int<uint64_t>(a, "value", argp));
      MYDOCKER_TRY(opt_int(a, "valueTwo", argp, arg.value_two));
      std::string op = key_path(argp, "op");
      arg.op = MYDOCKER_TRY(req_string(a, "op", argp));
      if (!contains(kSeccompOps, arg.op)) {
        return invalid(op, "unknown seccomp operator `{}`", arg.op);
      }
      call.args.push_back(std::move(arg));
      return base::ok();
    };
    MYDOCKER_TRY(each(sc, "args", sp, on_args));
    s.syscalls.push_back(std::move(call));
    return base::ok();
  };
  MYDOCKER_TRY(each(v, "syscalls", path, on_syscalls));
  return s;
}

Result<Linux> read_linux(const json& v, const std::string& path) {
  MYDOCKER_TRY(expect_object(v, path));
  Linux l;
  auto on_namespaces = [&](const json& n, const std::string& np) -> Result<void> {
    MYDOCKER_TRY(expect_object(n, np));
    std::string tp = key_path(np, "type");
    std::string type = MYDOCKER_TRY(req_string(n, "type", np));
    auto it = std::find_if(kNamespaces.begin(), kNamespaces.end(),
                           [&](const NamespaceName& nn) { return nn.name == type; });
    if (it == kNamespaces.end()) {
      return invalid(tp, "unknown namespace type `{}`", type);
    }
    for (const Namespace& prev : l.namespaces) {
      if (prev.type == it->type) {
        return invalid(tp, "duplicate namespace `{}`", type);
      }
    }
    Namespace ns{it->type, {}};
    MYDOCKER_TRY(opt_string(n, "path", np, ns.path));
    if (!ns.path.empty() && !is_absolute(ns.path)) {
      return invalid(key_path(np, "path"), "must be an absolute path, got `{}`", ns.path);
    }
    l.namespaces.push_back(std::move(ns));
    return base::ok();
  };
  MYDOCKER_TRY(each(v, "namespaces", path, on_namespaces));
  auto on_uid_mappings = [&](const json& m, const std::string& mp) -> Result<void> {
    l.uid_mappings.push_back(MYDOCKER_TRY(read_id_mapping(m, mp)));
    return base::ok();
  };
  MYDOCKER_TRY(each(v, "uidMappings", path, on_uid_mappings));
  auto on_gid_mappings = [&](const json& m, const std::string& mp) -> Result<void> {
    l.gid_mappings.push_back(MYDOCKER_TRY(read_id_mapping(m, mp)));
    return base::ok();
  };
  MYDOCKER_TRY(each(v, "gidMappings", path, on_gid_mappings));
  auto on_devices = [&](const json& d, const std::string& dp) -> Result<void> {
    l.devices.push_back(MYDOCKER_TRY(read_device(d, dp)));
    return base::ok();
  };
  MYDOCKER_TRY(each(v, "devices", path, on_devices));
  MYDOCKER_TRY(opt_string(v, "cgroupsPath", path, l.cgroups_path));
  if (const json* r = field(v, "resources")) {
    l.resources = MYDOCKER_TRY(read_resources(*r, key_path(path, "resources")));
  }
  if (const json* s = field(v, "sysctl")) {
    l.sysctl = MYDOCKER_TRY(as_string_map(*s, key_path(path, "sysctl")));
  }
  if (const json* s = field(v, "seccomp")) {
    l.seccomp = MYDOCKER_TRY(read_seccomp(*s, key_path(path, "seccomp")));
  }
  MYDOCKER_TRY(opt_string(v, "rootfsPropagation", path, l.rootfs_propagation));
  if (!contains(kPropagations, l.rootfs_propagation)) {
    return invalid(key_path(path, "rootfsPropagation"), "unknown propagation `{}`",
                   l.rootfs_propagation);
  }
  MYDOCKER_TRY(opt_strings(v, "maskedPaths", path, l.masked_paths));
  MYDOCKER_TRY(opt_strings(v, "readonlyPaths", path, l.readonly_paths));
  MYDOCKER_TRY(opt_string(v, "mountLabel", path, l.mount_label));
  return l;
}

Result<void> read_hooks(const json& v, std::string_view key, const std::string& path,
                        std::vector<Hook>& out) {
  return each(v, key, path, [&](const json& h, const std::string& hp) -> Result<void> {
    MYDOCKER_TRY(expect_object(h, hp));
    Hook hook;
    std::string pp = key_path(hp, "path");
    hook.path = MYDOCKER_TRY(req_string(h, "path", hp));
    if (!is_absolute(hook.path)) {
      return invalid(pp, "must be an absolute path, got `{}`", hook.path);
    }
    MYDOCKER_TRY(opt_strings(h, "args", hp, hook.args));
    MYDOCKER_TRY(opt_strings(h, "env", hp, hook.env));
    MYDOCKER_TRY(opt_int(h, "timeout", hp, hook.timeout));
    if (hook.timeout && *hook.timeout < 1) {
      return invalid(key_path(hp, "timeout"), "must be at least 1 second, got `{}`", *hook.timeout);
    }
    out.push_back(std::move(hook));
    return base::ok();
  });
}

// Checks that need more than one field.
Result<void> check_consistency(const Spec& s) {
  if ((!s.hostname.empty() || !s.domainname.empty()) && !s.has_namespace(NamespaceType::Uts)) {
    return invalid(s.hostname.empty() ? "domainname" : "hostname",
                   "`{}` needs a private uts namespace (add it to `linux.namespaces`)",
                   s.hostname.empty() ? s.domainname : s.hostname);
  }
  if (!s.has_namespace(NamespaceType::User)) {
    if (!s.linux.uid_mappings.empty()) {
      return invalid("linux.uidMappings",
                     "id mappings need a user namespace in `linux.namespaces`");
    }
    if (!s.linux.gid_mappings.empty()) {
      return invalid("linux.gidMappings",
                     "id mappings need a user namespace in `linux.namespaces`");
    }
  }
  return base::ok();
}

Result<Spec> read_spec(const json& v) {
  if (!v.is_object()) {
    return base::make_error(ErrorCode::InvalidArgument, "expected a JSON object, got `{}`",
                            show(v));
  }
  Spec s;
  s.oci_version = MYDOCKER_TRY(req_string(v, "ociVersion", ""));
  if (s.oci_version.empty()) {
    return invalid("ociVersion", "must not be empty");
  }
  if (const json* p = field(v, "process")) {
    s.process = MYDOCKER_TRY(read_process(*p, "process"));
  }
  const json* root = MYDOCKER_TRY(required(v, "root", ""));
  MYDOCKER_TRY(expect_object(*root, "root"));
  s.root.path = MYDOCKER_TRY(req_string(*root, "path", "root"));
  if (s.root.path.empty()) {
    return invalid("root.path", "must not be empty");
  }
  MYDOCKER_TRY(opt_bool(*root, "readonly", "root", s.root.readonly));
  MYDOCKER_TRY(opt_string(v, "hostname", "", s.hostname));
  MYDOCKER_TRY(opt_string(v, "domainname", "", s.domainname));
  auto on_mounts = [&](const json& m, const std::string& mp) -> Result<void> {
    s.mounts.push_back(MYDOCKER_TRY(read_mount(m, mp)));
    return base::ok();
  };
  MYDOCKER_TRY(each(v, "mounts", "", on_mounts));
  if (const json* l = field(v, "linux")) {
    s.linux = MYDOCKER_TRY(read_linux(*l, "linux"));
  }
  if (const json* h = field(v, "hooks")) {
    MYDOCKER_TRY(expect_object(*h, "hooks"));
    MYDOCKER_TRY(read_hooks(*h, "prestart", "hooks", s.hooks.prestart));
    MYDOCKER_TRY(read_hooks(*h, "createRuntime", "hooks", s.hooks.create_runtime));
    MYDOCKER_TRY(read_hooks(*h, "createContainer", "hooks", s.hooks.create_container));
    MYDOCKER_TRY(read_hooks(*h, "startContainer", "hooks", s.hooks.start_container));
    MYDOCKER_TRY(read_hooks(*h, "poststart", "hooks", s.hooks.poststart));
    MYDOCKER_TRY(read_hooks(*h, "poststop", "hooks", s.hooks.poststop));
  }
  if (const json* a = field(v, "annotations")) {
    s.annotations = MYDOCKER_TRY(as_string_map(*a, "annotations"));
  }
  MYDOCKER_TRY(check_consistency(s));
  return s;
}

// ---- JSON syntax ------------------------------------------------------------------------

// Records where nlohmann's parser gave up; everything else is accepted and dropped. Used only
// on the error path, to turn "it is discarded" into "broken JSON at byte N: why".
class ErrorLocator : public nlohmann::json_sax<json> {
 public:
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    position_ = position;
    // what() is "[json.exception.parse_error.101] parse error at line 1, column 9: <why>".
    std::string_view what = ex.what();
    auto col = what.find("column ");
    auto colon = col == std::string_view::npos ? col : what.find(": ", col);
    reason_ = std::string(colon == std::string_view::npos ? what : what.substr(colon + 2));
    return false;
  }

  size_t position() const { return position_; }
  const std::string& reason() const { return reason_; }

 private:
  size_t position_ = 0;
  std::string reason_ = "unknown error";
};

Result<json> parse_json(std::string_view text) {
  json v = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (!v.is_discarded()) {
    return v;
  }
  ErrorLocator locator;
  json::sax_parse(text.begin(), text.end(), &locator);
  return base::make_error(ErrorCode::InvalidArgument, "broken JSON at byte {}: {}",
                          locator.position(), locator.reason());
}

}  // namespace

std::string_view namespace_type_name(NamespaceType t) {
  for (const NamespaceName& n : kNamespaces) {
    if (n.type == t) {
      return n.name;
    }
  }
  return "unknown";
}

int namespace_clone_flag(NamespaceType t) {
  for (const NamespaceName& n : kNamespaces) {
    if (n.type == t) {
      return n.flag;
    }
  }
  return 0;
}

bool Spec::has_namespace(NamespaceType t) const {
  return find_namespace(t) != nullptr;
}

const Namespace* Spec::find_namespace(NamespaceType t) const {
  for (const Namespace& n : linux.namespaces) {
    if (n.type == t) {
      return &n;
    }
  }
  return nullptr;
}

Result<Spec> parse(std::string_view json_text) {
  auto v = parse_json(json_text);
  if (!v) {
    return std::move(v).error().wrap("config.json");
  }
  auto s = read_spec(*v);
  if (!s) {
    return std::move(s).error().wrap("config.json");
  }
  return s;
}

Result<Process> parse_process(std::string_view json_text) {
  auto v = parse_json(json_text);
  if (!v) {
    return std::move(v).error().wrap("process.json");
  }
  auto p = read_process(*v, "");
  if (!p) {
    return std::move(p).error().wrap("process.json");
  }
  return p;
}

Result<Spec> load_bundle(const std::string& bundle_dir) {
  std::error_code ec;
  std::filesystem::path bundle = std::filesystem::absolute(bundle_dir, ec);
  if (ec) {
    return base::sys_error_n(ec.value(), "bundle `{}`", bundle_dir);
  }
  bundle = bundle.lexically_normal();
  std::string config = (bundle / "config.json").string();
  auto text = base::read_file(config);
  if (!text) {
    if (text.error().sys_errno() == ENOENT) {
      return base::make_error(ErrorCode::NotFound, "bundle `{}`: no config.json", bundle_dir);
    }
    return std::move(text).error().wrap(fmt::format("bundle `{}`", bundle_dir));
  }
  Spec s = MYDOCKER_TRY(parse(*text));
  std::filesystem::path root(s.root.path);
  if (root.is_relative()) {
    root = bundle / root;
  }
  s.root.path = root.lexically_normal().string();
  // lexically_normal keeps a trailing slash ("rootfs/"); drop it so the path compares cleanly.
  while (s.root.path.size() > 1 && s.root.path.back() == '/') {
    s.root.path.pop_back();
  }
  struct stat st {};
  if (::stat(s.root.path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return base::make_error(ErrorCode::NotFound, "root.path `{}` does not exist", s.root.path);
    }
    return base::sys_error("root.path `{}`", s.root.path);
  }
  if (!S_ISDIR(st.st_mode)) {
    return base::make_error(ErrorCode::InvalidArgument, "root.path `{}` is not a directory",
                            s.root.path);
  }
  return s;
}

std::string default_spec_json(bool terminal) {
  // runc spec's layout with Docker's default capability set (moby oci/caps/defaults.go).
  using ojson = nlohmann::ordered_json;
  const ojson caps = {
      "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
      "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
      "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
      "CAP_KILL",    "CAP_AUDIT_WRITE",
  };
  ojson env = ojson::array({"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"});
  if (terminal) {
    env.push_back("TERM=xterm");
  }
  ojson spec = {
      {"ociVersion", "1.0.2-dev"},
      {"process",
       {
           {"terminal", terminal},
           {"user", {{"uid", 0}, {"gid", 0}}},
           {"args", {"sh"}},
           {"env", env},
           {"cwd", "/"},
           {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}}},
           {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}}},
           {"noNewPrivileges", true},
       }},
      {"root", {{"path", "rootfs"}, {"readonly", true}}},
      {"hostname", "mydocker"},
      {"mounts",
       {
           {{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
           {{"destination", "/dev"},
            {"type", "tmpfs"},
            {"source", "tmpfs"},
            {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
           {{"destination", "/dev/pts"},
            {"type", "devpts"},
            {"source", "devpts"},
            {"options",
             {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}}},
           {{"destination", "/dev/shm"},
            {"type", "tmpfs"},
            {"source", "shm"},
            {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}},
           {{"destination", "/dev/mqueue"},
            {"type", "mqueue"},
            {"source", "mqueue"},
            {"options", {"nosuid", "noexec", "nodev"}}},
           {{"destination", "/sys"},
            {"type", "sysfs"},
            {"source", "sysfs"},
            {"options", {"nosuid", "noexec", "nodev", "ro"}}},
           {{"destination", "/sys/fs/cgroup"},
            {"type", "cgroup"},
            {"source", "cgroup"},
            {"options", {"nosuid", "noexec", "nodev", "relatime", "ro"}}},
       }},
      {"linux",
       {
           {"resources", {{"devices", {{{"allow", false}, {"access", "rwm"}}}}}},
           {"namespaces",
            {{{"type", "pid"}},
             {{"type", "network"}},
             {{"type", "ipc"}},
             {{"type", "uts"}},
             {{"type", "mount"}}}},
           {"maskedPaths",
            {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
             "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
             "/proc/scsi"}},
           {"readonlyPaths",
            {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}},
       }},
  };
  return spec.dump(1, '\t') + "\n";
}

}  // namespace mydocker::runtime::spec
