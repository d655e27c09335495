// SPDX-License-Identifier: Apache-2.0
#include "engine/specgen/specgen.h"

#include <fmt/format.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "runtime/base/file.h"
#include "runtime/base/strings.h"
#include "runtime/caps/names.h"

namespace mydocker::engine::specgen {
namespace {

using base::ErrorCode;
using json = nlohmann::json;

constexpr std::string_view kDefaultPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
constexpr std::string_view kInitPath = "/sbin/docker-init";

std::string env_key(std::string_view e) {
  return std::string(e.substr(0, e.find('=')));
}

bool has_elements(const std::optional<std::vector<std::string>>& v) {
  return v && !v->empty();
}

// container.ReplaceOrAppendEnvValues: overrides replace a default with the same key in place,
// others are appended; a bare "KEY" (no '=') removes KEY.
std::vector<std::string> replace_or_append(std::vector<std::string> defaults,
                                           const std::vector<std::string>& overrides) {
  std::vector<bool> removed(defaults.size(), false);
  for (const auto& o : overrides) {
    std::string key = env_key(o);
    bool bare = o.find('=') == std::string::npos;
    bool found = false;
    for (size_t i = 0; i < defaults.size(); ++i) {
      if (!removed[i] && env_key(defaults[i]) == key) {
        found = true;
        if (bare) {
          removed[i] = true;
        } else {
          defaults[i] = o;
        }
      }
    }
    if (!found && !bare) {
      defaults.push_back(o);
      removed.push_back(false);
    }
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < defaults.size(); ++i) {
    if (!removed[i]) {
      out.push_back(defaults[i]);
    }
  }
  return out;
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

// "All" capabilities, for Privileged and CapAdd ALL: those this process may still grant (its
// bounding set, which is every capability the kernel knows for a normal root daemon). A cap
// missing from the daemon's bounding set could never be granted and would fail the start.
std::vector<std::string> all_capabilities() {
  std::vector<std::string> out;
  for (int i = 0; i <= runtime::caps::kLastKnownCap; ++i) {
    if (::prctl(PR_CAPBSET_READ, static_cast<unsigned long>(i), 0UL, 0UL, 0UL) == 1) {
      out.push_back(runtime::caps::to_name(i));
    }
  }
  return out;
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// moby oci/caps TweakCapabilities.
base::Result<std::vector<std::string>> capabilities(const HostConfig& hc) {
  if (hc.privileged) {
    return all_capabilities();
  }
  std::vector<std::string> add =
      MYDOCKER_TRY(normalize_capabilities(hc.cap_add.value_or(std::vector<std::string>{})));
  std::vector<std::string> drop =
      MYDOCKER_TRY(normalize_capabilities(hc.cap_drop.value_or(std::vector<std::string>{})));
  if (add.empty() && drop.empty()) {
    return default_capabilities();
  }
  std::vector<std::string> caps;
  if (contains(add, "ALL")) {
    for (const auto& c : all_capabilities()) {
      if (!contains(drop, c)) {
        caps.push_back(c);
      }
    }
  } else if (contains(drop, "ALL")) {
    for (const auto& c : add) {
      if (!contains(caps, c)) {
        caps.push_back(c);
      }
    }
  } else {
    for (const auto& c : default_capabilities()) {
      if (!contains(drop, c)) {
        caps.push_back(c);
      }
    }
    for (const auto& c : add) {
      if (!contains(caps, c)) {
        caps.push_back(c);
      }
    }
  }
  return caps;
}

// Fields of a colon-separated /etc/passwd or /etc/group line.
std::vector<std::string> fields(std::string_view line) {
  return base::split(line, ':');
}

std::vector<std::vector<std::string>> entries(std::string_view text, size_t min_fields) {
  std::vector<std::vector<std::string>> out;
  for (const auto& raw : base::split(text, '\n')) {
    std::string_view line = base::trim(raw);
    if (line.empty() || line[0] == '#') {
      continue;
    }
    auto f = fields(line);
    if (f.size() >= min_fields) {
      out.push_back(std::move(f));
    }
  }
  return out;
}

std::optional<uint32_t> parse_id(std::string_view s) {
  auto v = base::parse_uint64(s);
  if (!v || *v > 0xffffffffULL) {
    return std::nullopt;
  }
  return static_cast<uint32_t>(*v);
}

// Docker's tmpfs option merge (pkg/mount MergeTmpfsOptions): a later flag overrides its
// opposite, a later key=value its key.
std::vector<std::string> merge_tmpfs_options(const std::vector<std::string>& options) {
  static const std::vector<std::pair<std::string_view, std::string_view>> kOpposites = {
      {"ro", "rw"},
      {"exec", "noexec"},
      {"suid", "nosuid"},
      {"dev", "nodev"},
      {"atime", "noatime"},
      {"diratime", "nodiratime"},
      {"relatime", "norelatime"},
      {"strictatime", "nostrictatime"},
      {"sync", "async"},
  };
  auto opposite = [&](std::string_view o) -> std::string_view {
    for (const auto& [a, b] : kOpposites) {
      if (o == a) {
        return b;
      }
      if (o == b) {
        return a;
      }
    }
    return {};
  };
  std::vector<std::string> out;
  for (const auto& o : options) {
    if (o.empty()) {
      continue;
    }
    auto eq = o.find('=');
    if (eq != std::string::npos) {
      std::string key = o.substr(0, eq + 1);
      out.erase(std::remove_if(out.begin(), out.end(),
                               [&](const std::string& x) { return x.rfind(key, 0) == 0; }),
                out.end());
    } else {
      std::string_view opp = opposite(o);
      out.erase(std::remove_if(out.begin(), out.end(),
                               [&](const std::string& x) { return x == o || x == opp; }),
                out.end());
    }
    out.push_back(o);
  }
  return out;
}

json mount(std::string_view dest, std::string_view type, std::string_view source,
           std::vector<std::string> options) {
  return {{"destination", dest}, {"type", type}, {"source", source}, {"options", options}};
}

// runc's AllowedDevices as cgroup rules, after a deny-all: what every container may use.
json default_device_rules() {
  auto rule = [](const char* type, std::optional<int64_t> major, std::optional<int64_t> minor,
                 const char* access) {
    json r = {{"allow", true}, {"type", type}, {"access", access}};
    if (major) {
      r["major"] = *major;
    }
    if (minor) {
      r["minor"] = *minor;
    }
    return r;
  };
  return json::array({
      {{"allow", false}, {"access", "rwm"}},
      rule("c", std::nullopt, std::nullopt, "m"),  // mknod of any char device
      rule("b", std::nullopt, std::nullopt, "m"),  // mknod of any block device
      rule("c", 1, 3, "rwm"),                      // /dev/null
      rule("c", 1, 5, "rwm"),                      // /dev/zero
      rule("c", 1, 7, "rwm"),                      // /dev/full
      rule("c", 1, 8, "rwm"),                      // /dev/random
      rule("c", 1, 9, "rwm"),                      // /dev/urandom
      rule("c", 5, 0, "rwm"),                      // /dev/tty
      rule("c", 5, 1, "rwm"),                      // /dev/console
      rule("c", 5, 2, "rwm"),                      // /dev/ptmx
      rule("c", 136, std::nullopt, "rwm"),         // /dev/pts/*
      rule("c", 10, 200, "rwm"),                   // /dev/net/tun
  });
}

base::Result<json> namespaces(const HostConfig& hc) {
  auto unsupported = [](std::string_view what, std::string_view mode) {
    return base::make_error(ErrorCode::NotImplemented, "{} mode `{}` is not supported", what, mode);
  };
  json ns = json::array();
  if (hc.pid_mode != "host") {
    if (!hc.pid_mode.empty()) {
      return unsupported("PID", hc.pid_mode);
    }
    ns.push_back({{"type", "pid"}});
  }
  if (hc.network_mode != "host") {
    // container:<ref>: the daemon names the other container's namespace in "path" at start.
    ns.push_back({{"type", "network"}});
  }
  if (hc.ipc_mode != "host") {
    if (hc.ipc_mode.rfind("container:", 0) == 0) {
      return unsupported("IPC", hc.ipc_mode);
    }
    ns.push_back({{"type", "ipc"}});
  }
  if (hc.uts_mode != "host") {
    ns.push_back({{"type", "uts"}});
  }
  ns.push_back({{"type", "mount"}});
  if (hc.cgroupns_mode == "private") {
    ns.push_back({{"type", "cgroup"}});
  }
  return ns;
}

json resources(const HostConfig& hc) {
  json r = json::object();
  r["devices"] =
      hc.privileged ? json::array({{{"allow", true}, {"access", "rwm"}}}) : default_device_rules();
  json mem = json::object();
  if (hc.memory != 0) {
    mem["limit"] = hc.memory;
  }
  if (hc.memory_reservation != 0) {
    mem["reservation"] = hc.memory_reservation;
  }
  if (hc.memory_swap != 0) {
    mem["swap"] = hc.memory_swap;
  } else if (hc.memory > 0) {
    mem["swap"] = hc.memory * 2;  // dockerd's default, in case the record predates it
  }
  if (auto it = hc.extra.find("MemorySwappiness"); it != hc.extra.end() && it->is_number()) {
    int64_t s = it->get<int64_t>();
    if (s >= 0) {
      mem["swappiness"] = s;
    }
  }
  if (hc.extra.value("OomKillDisable", false)) {
    mem["disableOOMKiller"] = true;
  }
  if (!mem.empty()) {
    r["memory"] = mem;
  }
  json cpu = json::object();
  if (hc.cpu_shares > 0) {
    cpu["shares"] = hc.cpu_shares;
  }
  if (hc.nano_cpus > 0) {
    // dockerd: period 100ms, quota = NanoCPUs * period / 1e9.
    constexpr int64_t kPeriod = 100000;
    cpu["period"] = kPeriod;
    cpu["quota"] = hc.nano_cpus * kPeriod / 1000000000;
  } else {
    if (hc.cpu_period != 0) {
      cpu["period"] = hc.cpu_period;
    }
    if (hc.cpu_quota != 0) {
      cpu["quota"] = hc.cpu_quota;
    }
  }
  if (!hc.cpuset_cpus.empty()) {
    cpu["cpus"] = hc.cpuset_cpus;
  }
  if (!hc.cpuset_mems.empty()) {
    cpu["mems"] = hc.cpuset_mems;
  }
  if (!cpu.empty()) {
    r["cpu"] = cpu;
  }
  if (hc.pids_limit && *hc.pids_limit > 0) {
    r["pids"] = {{"limit", *hc.pids_limit}};
  }
  return r;
}

base::Result<json> rlimits(const Input& in) {
  std::vector<Ulimit> merged = in.default_ulimits;
  for (const auto& u : in.host_config->ulimits) {
    auto it = std::find_if(merged.begin(), merged.end(),
                           [&](const Ulimit& m) { return m.name == u.name; });
    if (it != merged.end()) {
      *it = u;
    } else {
      merged.push_back(u);
    }
  }
  static const std::vector<std::string_view> kNames = {
      "as",   "core",   "cpu",   "data", "fsize",  "locks",  "memlock",    "msgqueue",
      "nice", "nofile", "nproc", "rss",  "rtprio", "rttime", "sigpending", "stack"};
  json out = json::array();
  for (const auto& u : merged) {
    if (std::find(kNames.begin(), kNames.end(), u.name) == kNames.end()) {
      return base::make_error(ErrorCode::InvalidArgument, "invalid ulimit type: {}", u.name);
    }
    // -1 is unlimited; the cast gives RLIM_INFINITY, as Go's uint64(-1) does for Docker.
    out.push_back({{"type", "RLIMIT_" + upper(u.name)},
                   {"hard", static_cast<uint64_t>(u.hard)},
                   {"soft", static_cast<uint64_t>(u.soft)}});
  }
  return out;
}

// The host's device nodes under `dir`, for a privileged container (runc's HostDevices, which
// dockerd hands to the runtime): char and block devices, not the per-container ones (pts,
// shm, mqueue, console, ptmx) nor symlinks.
void host_devices(const std::string& dir, json& out, int depth = 0) {
  static const std::vector<std::string_view> kSkipDirs = {"pts",  "shm",         "fd",   "mqueue",
                                                          ".lxc", ".lxd-mounts", ".udev"};
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    std::string path = entry.path().string();
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
      continue;
    }
    if (S_ISDIR(st.st_mode)) {
      if (depth < 8 && std::find(kSkipDirs.begin(), kSkipDirs.end(), name) == kSkipDirs.end()) {
        host_devices(path, out, depth + 1);
      }
      continue;
    }
    if ((!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) || name == "console" || name == "ptmx") {
      continue;
    }
    out.push_back({{"path", path},
                   {"type", S_ISCHR(st.st_mode) ? "c" : "b"},
                   {"major", major(st.st_rdev)},
                   {"minor", minor(st.st_rdev)},
                   {"fileMode", st.st_mode & 07777},
                   {"uid", st.st_uid},
                   {"gid", st.st_gid}});
  }
}

std::string read_or_empty(const std::string& path) {
  auto r = base::read_file(path);
  return r ? *r : std::string();
}

}  // namespace

base::Result<void> validate_network_mode(const ContainerConfig& config, const HostConfig& hc) {
  const std::string& mode = hc.network_mode;
  auto conflict = [](std::string_view what) {
    return base::make_error(ErrorCode::InvalidArgument, "conflicting options: {}", what);
  };
  auto non_empty = [](const json& extra, const char* key) {
    auto it = extra.find(key);
    return it != extra.end() && ((it->is_array() || it->is_object()) ? !it->empty()
                                 : it->is_string()                   ? !it->empty()
                                 : it->is_boolean()                  ? it->get<bool>()
                                                                     : false);
  };
  bool container = mode.rfind("container:", 0) == 0 || mode == "container";
  if (container && (mode.size() <= std::string_view("container:").size())) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "Invalid network mode: invalid container format container:<name|id>");
  }
  if (container) {
    if (!config.hostname.empty()) {
      return conflict("hostname and the network mode");
    }
    if (non_empty(hc.extra, "Links")) {
      return conflict(
          "container type network can't be used with links. This would result in undefined "
          "behavior");
    }
    if (non_empty(hc.extra, "Dns")) {
      return conflict("dns and the network mode");
    }
    if (non_empty(hc.extra, "ExtraHosts")) {
      return conflict("custom host-to-IP mapping and the network mode");
    }
  }
  if ((container || mode == "host") && non_empty(config.extra, "MacAddress")) {
    return conflict("mac-address and the network mode");
  }
  if (container) {
    if (non_empty(hc.extra, "PortBindings") || non_empty(hc.extra, "PublishAllPorts")) {
      return conflict("port publishing and the container type network mode");
    }
    if (!config.exposed_ports.empty()) {
      return conflict("port exposing and the container type network mode");
    }
  }
  if (mode == "host" && non_empty(hc.extra, "Links")) {
    return conflict(
        "host type networking can't be used with links. This would result in undefined "
        "behavior");
  }
  return base::ok();
}

const std::vector<std::string>& default_capabilities() {
  // moby oci/caps/defaults.go DefaultCapabilities, in its order.
  static const std::vector<std::string> caps = {
      "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
      "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
      "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
      "CAP_KILL",    "CAP_AUDIT_WRITE",
  };
  return caps;
}

void merge_image_config(ContainerConfig& config, const image::content::RunConfig& image) {
  if (config.user.empty()) {
    config.user = image.user;
  }
  if (config.exposed_ports.empty()) {
    for (const auto& p : image.exposed_ports) {
      config.exposed_ports[p] = true;
    }
  }
  if (!has_elements(config.env)) {
    if (!image.env.empty()) {
      config.env = image.env;
    }
  } else {
    for (const auto& e : image.env) {
      std::string key = env_key(e);
      bool found = std::any_of(config.env->begin(), config.env->end(),
                               [&](const std::string& u) { return env_key(u) == key; });
      if (!found) {
        config.env->push_back(e);
      }
    }
  }
  for (const auto& [k, v] : image.labels) {
    config.labels.emplace(k, v);  // the client's value wins
  }
  if (!has_elements(config.entrypoint)) {
    if (!has_elements(config.cmd)) {
      config.cmd = image.cmd;
    }
    if (!config.entrypoint) {
      config.entrypoint = image.entrypoint;
    }
  }
  if (config.working_dir.empty()) {
    config.working_dir = image.working_dir;
  }
  if (!config.volumes || config.volumes->empty()) {
    if (!image.volumes.empty()) {
      config.volumes = std::map<std::string, bool>{};
      for (const auto& v : image.volumes) {
        (*config.volumes)[v] = true;
      }
    }
  } else {
    for (const auto& v : image.volumes) {
      (*config.volumes)[v] = true;
    }
  }
  if (config.stop_signal.empty()) {
    config.stop_signal = image.stop_signal;
  }
  if (config.entrypoint && config.entrypoint->size() == 1 && (*config.entrypoint)[0].empty()) {
    config.entrypoint.reset();
  }
}

base::Result<Command> resolve_command(const ContainerConfig& config,
                                      const image::content::RunConfig* image) {
  ContainerConfig merged = config;
  if (image != nullptr) {
    merge_image_config(merged, *image);
  } else if (merged.entrypoint && merged.entrypoint->size() == 1 &&
             (*merged.entrypoint)[0].empty()) {
    merged.entrypoint.reset();
  }
  std::vector<std::string> all;
  if (merged.entrypoint) {
    all = *merged.entrypoint;
  }
  if (merged.cmd) {
    all.insert(all.end(), merged.cmd->begin(), merged.cmd->end());
  }
  if (all.empty()) {
    return base::make_error(ErrorCode::InvalidArgument, "No command specified");
  }
  Command c;
  c.path = all[0];
  c.args.assign(all.begin() + 1, all.end());
  return c;
}

base::Result<ResolvedUser> resolve_user(std::string_view user, std::string_view passwd,
                                        std::string_view group) {
  ResolvedUser out;
  std::string user_spec(user);
  std::string group_spec;
  if (auto colon = user_spec.find(':'); colon != std::string::npos) {
    group_spec = user_spec.substr(colon + 1);
    user_spec.resize(colon);
  }
  auto users = entries(passwd, 6);
  std::string matched_name;
  if (!user_spec.empty()) {
    auto numeric = parse_id(user_spec);
    bool found = false;
    for (const auto& e : users) {
      // runc matches a name first, then a numeric uid.
      if (e[0] == user_spec || (numeric && parse_id(e[2]) == numeric)) {
        auto uid = parse_id(e[2]);
        auto gid = parse_id(e[3]);
        if (!uid || !gid) {
          continue;
        }
        out.uid = *uid;
        out.gid = *gid;
        out.home = e[5].empty() ? "/" : e[5];
        matched_name = e[0];
        found = true;
        break;
      }
    }
    if (!found) {
      if (!numeric) {
        return base::make_error(ErrorCode::InvalidArgument,
                                "unable to find user {}: no matching entries in passwd file",
                                user_spec);
      }
      out.uid = *numeric;
    }
  }
  auto groups = entries(group, 3);
  if (!group_spec.empty()) {
    auto numeric = parse_id(group_spec);
    bool found = false;
    for (const auto& g : groups) {
      if (g[0] == group_spec || (numeric && parse_id(g[2]) == numeric)) {
        if (auto gid = parse_id(g[2])) {
          out.gid = *gid;
          found = true;
          break;
        }
      }
    }
    if (!found) {
      if (!numeric) {
        return base::make_error(ErrorCode::InvalidArgument,
                                "unable to find group {}: no matching entries in group file",
                                group_spec);
      }
      out.gid = *numeric;
    }
  } else if (!matched_name.empty()) {
    for (const auto& g : groups) {
      if (g.size() < 4) {
        continue;
      }
      for (const auto& member : base::split(g[3], ',')) {
        if (base::trim(member) == matched_name) {
          if (auto gid = parse_id(g[2]);
              gid && std::find(out.additional_gids.begin(), out.additional_gids.end(), *gid) ==
                         out.additional_gids.end()) {
            out.additional_gids.push_back(*gid);
          }
        }
      }
    }
  }
  return out;
}

base::Result<nlohmann::json> generate(const Input& in) {
  if (in.config == nullptr || in.host_config == nullptr) {
    return base::make_error(ErrorCode::InvalidArgument, "specgen: config and host config needed");
  }
  const HostConfig& hc = *in.host_config;
  ContainerConfig cfg = *in.config;
  if (in.image != nullptr) {
    merge_image_config(cfg, *in.image);
  }
  Command cmd = MYDOCKER_TRY(resolve_command(cfg, nullptr));
  SecurityOptions sec =
      MYDOCKER_TRY(parse_security_opts(hc.security_opt.value_or(std::vector<std::string>{})));
  std::vector<std::string> caps = MYDOCKER_TRY(capabilities(hc));

  // process
  std::vector<std::string> args;
  bool init = hc.init.value_or(false);
  if (init) {
    if (in.init_path.empty()) {
      return base::make_error(ErrorCode::InvalidArgument,
                              "--init: no init binary (docker-init) is configured");
    }
    args = {std::string(kInitPath), "--"};
  }
  args.push_back(cmd.path);
  args.insert(args.end(), cmd.args.begin(), cmd.args.end());

  ResolvedUser user;
  if (!cfg.user.empty()) {
    std::string passwd = read_or_empty(in.rootfs + "/etc/passwd");
    std::string group = read_or_empty(in.rootfs + "/etc/group");
    user = MYDOCKER_TRY(resolve_user(cfg.user, passwd, group));
  } else {
    // root: HOME from /etc/passwd when the image has one, as runc does.
    auto r = resolve_user("0", read_or_empty(in.rootfs + "/etc/passwd"), "");
    if (r) {
      user.home = r->home;
    }
  }
  // HostConfig.GroupAdd (--group-add): names from the container's /etc/group, or numbers.
  if (auto it = hc.extra.find("GroupAdd"); it != hc.extra.end() && it->is_array()) {
    std::string group = read_or_empty(in.rootfs + "/etc/group");
    for (const auto& g : *it) {
      if (!g.is_string()) {
        continue;
      }
      auto r = MYDOCKER_TRY(resolve_user("0:" + g.get<std::string>(), "", group));
      if (std::find(user.additional_gids.begin(), user.additional_gids.end(), r.gid) ==
          user.additional_gids.end()) {
        user.additional_gids.push_back(r.gid);
      }
    }
  }
  std::vector<std::string> defaults = {"PATH=" + std::string(kDefaultPath),
                                       "HOSTNAME=" + in.hostname};
  if (cfg.tty) {
    defaults.push_back("TERM=xterm");
  }
  std::vector<std::string> env =
      replace_or_append(std::move(defaults), cfg.env.value_or(std::vector<std::string>{}));
  if (std::none_of(env.begin(), env.end(),
                   [](const std::string& e) { return env_key(e) == "HOME"; })) {
    env.push_back("HOME=" + user.home);
  }
  json limits = MYDOCKER_TRY(rlimits(in));
  json juser = {{"uid", user.uid}, {"gid", user.gid}};
  if (!user.additional_gids.empty()) {
    juser["additionalGids"] = user.additional_gids;
  }
  json process = {
      {"terminal", cfg.tty},
      {"user", juser},
      {"args", args},
      {"env", env},
      {"cwd", cfg.working_dir.empty() ? "/" : cfg.working_dir},
      {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}}},
      {"rlimits", limits},
      {"noNewPrivileges", sec.no_new_privileges},
  };
  if (int64_t oom = hc.extra.value("OomScoreAdj", int64_t{0}); oom != 0) {
    process["oomScoreAdj"] = oom;
  }

  // mounts: the defaults (moby oci.DefaultSpec), minus those a container mount replaces.
  std::vector<std::string> ro = {"ro"};
  std::vector<std::string> sys_opts = {"nosuid", "noexec", "nodev"};
  std::vector<std::string> cgroup_opts = {"nosuid", "noexec", "nodev"};
  if (!hc.privileged) {
    sys_opts.push_back("ro");
    cgroup_opts.push_back("ro");
  }
  std::vector<json> defaults_mounts = {
      mount("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}),
      mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      mount("/dev/pts", "devpts", "devpts",
            {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
      mount("/sys", "sysfs", "sysfs", sys_opts),
      mount("/sys/fs/cgroup", "cgroup", "cgroup", cgroup_opts),
      mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
  };
  if (hc.ipc_mode == "host") {
    defaults_mounts.push_back(mount("/dev/shm", "bind", "/dev/shm", {"rbind", "rprivate"}));
  } else if (hc.ipc_mode != "none") {
    int64_t shm = hc.shm_size > 0 ? hc.shm_size : 64 * 1024 * 1024;
    defaults_mounts.push_back(
        mount("/dev/shm", "tmpfs", "shm",
              {"nosuid", "noexec", "nodev", "mode=1777", fmt::format("size={}", shm)}));
  }
  std::vector<json> user_mounts;
  std::vector<std::string> bind_opts = {"rbind", "rprivate"};
  if (hc.readonly_rootfs) {
    bind_opts.push_back("ro");
  }
  if (!in.resolv_conf_path.empty()) {
    user_mounts.push_back(mount("/etc/resolv.conf", "bind", in.resolv_conf_path, bind_opts));
  }
  if (!in.hostname_path.empty()) {
    user_mounts.push_back(mount("/etc/hostname", "bind", in.hostname_path, bind_opts));
  }
  if (!in.hosts_path.empty()) {
    user_mounts.push_back(mount("/etc/hosts", "bind", in.hosts_path, bind_opts));
  }
  for (const auto& [dest, data] : hc.tmpfs) {
    if (dest.empty() || dest[0] != '/') {
      return base::make_error(ErrorCode::InvalidArgument,
                              "invalid mount config for type \"tmpfs\": invalid mount path: '{}' "
                              "mount path must be absolute",
                              dest);
    }
    std::vector<std::string> opts = {"noexec", "nosuid", "nodev"};
    for (const auto& o : base::split(data, ',')) {
      opts.push_back(o);
    }
    user_mounts.push_back(mount(dest, "tmpfs", "tmpfs", merge_tmpfs_options(opts)));
  }
  if (init) {
    user_mounts.push_back(mount(kInitPath, "bind", in.init_path, {"bind", "ro"}));
  }
  // Parents before children, as dockerd sorts container mounts.
  std::stable_sort(user_mounts.begin(), user_mounts.end(), [](const json& a, const json& b) {
    auto depth = [](const json& m) {
      const auto& d = m["destination"].get_ref<const std::string&>();
      return std::count(d.begin(), d.end(), '/');
    };
    return depth(a) < depth(b);
  });
  json mounts = json::array();
  for (auto& m : defaults_mounts) {
    bool replaced = std::any_of(user_mounts.begin(), user_mounts.end(), [&](const json& u) {
      return u["destination"] == m["destination"];
    });
    if (!replaced) {
      mounts.push_back(std::move(m));
    }
  }
  for (auto& m : user_mounts) {
    mounts.push_back(std::move(m));
  }

  // linux
  json linux = json::object();
  linux["namespaces"] = MYDOCKER_TRY(namespaces(hc));
  linux["resources"] = resources(hc);
  if (hc.privileged) {
    json devices = json::array();
    host_devices("/dev", devices);
    if (!devices.empty()) {
      linux["devices"] = std::move(devices);
    }
  }
  if (!in.cgroups_path.empty()) {
    linux["cgroupsPath"] = in.cgroups_path;
  }
  if (!hc.privileged) {
    static const std::vector<std::string> kMasked = {
        "/proc/asound",        "/proc/acpi",       "/proc/kcore",       "/proc/keys",
        "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
        "/proc/scsi",          "/sys/firmware"};
    static const std::vector<std::string> kReadonly = {"/proc/bus", "/proc/fs", "/proc/irq",
                                                       "/proc/sys", "/proc/sysrq-trigger"};
    linux["maskedPaths"] = hc.masked_paths.value_or(kMasked);
    linux["readonlyPaths"] = hc.readonly_paths.value_or(kReadonly);
  }
  if (auto it = hc.extra.find("Sysctls"); it != hc.extra.end() && it->is_object() && !it->empty()) {
    linux["sysctl"] = *it;
  }
  if (!hc.privileged && sec.seccomp_profile != "unconfined") {
    json profile;
    if (sec.seccomp_profile.empty()) {
      profile = default_seccomp_profile();
    } else {
      profile = json::parse(sec.seccomp_profile, nullptr, false);
      if (profile.is_discarded()) {
        return base::make_error(ErrorCode::InvalidArgument,
                                "Decoding seccomp profile failed: invalid JSON");
      }
    }
    linux["seccomp"] = MYDOCKER_TRY(seccomp_from_docker_profile(profile, caps));
  }

  json spec = {
      {"ociVersion", "1.0.2-dev"},
      {"process", process},
      {"root", {{"path", in.rootfs}, {"readonly", hc.readonly_rootfs}}},
      {"mounts", mounts},
      {"linux", linux},
  };
  if (hc.uts_mode != "host") {
    spec["hostname"] = in.hostname;
    if (!cfg.domainname.empty()) {
      spec["domainname"] = cfg.domainname;
    }
  }
  return spec;
}

}  // namespace mydocker::engine::specgen
