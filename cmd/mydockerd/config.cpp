// SPDX-License-Identifier: Apache-2.0
#include "cmd/mydockerd/config.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>

#include "runtime/base/file.h"
#include "runtime/base/strings.h"

namespace mydocker::cmd::mydockerd {

namespace {

using base::ErrorCode;
using nlohmann::json;

#ifndef MYDOCKER_VERSION
#define MYDOCKER_VERSION "0.1.0"
#endif

// Docker's ulimit names (moby/go-units ulimit.go).
const std::set<std::string>& ulimit_names() {
  static const std::set<std::string> kNames = {
      "core",   "cpu",   "data", "fsize",  "locks",  "memlock",    "msgqueue", "nice",
      "nofile", "nproc", "rss",  "rtprio", "rttime", "sigpending", "stack"};
  return kNames;
}

// The json-file driver's options (moby daemon/logger/jsonfilelog).
const std::set<std::string>& log_opt_names() {
  static const std::set<std::string> kNames = {"max-size",     "max-file", "compress",  "labels",
                                               "labels-regex", "env",      "env-regex", "tag"};
  return kNames;
}

const std::set<std::string>& log_levels() {
  static const std::set<std::string> kLevels = {"debug", "info", "warn", "error", "fatal"};
  return kLevels;
}

// "10m", "1g", "512k", "100": go-units RAMInBytes-like, as json-file's max-size.
bool valid_size(std::string_view s) {
  if (s.empty()) {
    return false;
  }
  size_t digits = 0;
  while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') {
    ++digits;
  }
  if (digits == 0) {
    return false;
  }
  std::string unit = base::ascii_lower(s.substr(digits));
  static const std::set<std::string> kUnits = {"",    "b", "k",  "kb",  "kib", "m",  "mb",
                                               "mib", "g", "gb", "gib", "t",   "tb", "tib"};
  return kUnits.count(unit) != 0;
}

base::Result<void> check_log_opt(const std::string& key, const std::string& value) {
  if (log_opt_names().count(key) == 0) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "unknown log opt '{}' for json-file log driver", key);
  }
  if (key == "max-size" && !valid_size(value)) {
    return base::make_error(ErrorCode::InvalidArgument, "invalid size: '{}'", value);
  }
  if (key == "max-file") {
    auto n = base::parse_int64(value);
    if (!n || *n < 1) {
      return base::make_error(ErrorCode::InvalidArgument, "max-file cannot be less than 1: `{}`",
                              value);
    }
  }
  if (key == "compress" && value != "true" && value != "false") {
    return base::make_error(ErrorCode::InvalidArgument, "invalid value for compress: `{}`", value);
  }
  return base::ok();
}

base::Result<std::pair<std::string, std::string>> split_kv(std::string_view text,
                                                           std::string_view what) {
  size_t eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return base::make_error(ErrorCode::InvalidArgument, "invalid {} `{}`: expected key=value", what,
                            text);
  }
  return std::pair<std::string, std::string>(std::string(text.substr(0, eq)),
                                             std::string(text.substr(eq + 1)));
}

std::string type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "bool";
    case json::value_t::string:
      return "string";
    case json::value_t::array:
      return "array";
    case json::value_t::object:
      return "object";
    default:
      return "number";
  }
}

base::Error type_error(std::string_view key, std::string_view want, const json& got) {
  return base::make_error(ErrorCode::InvalidArgument,
                          "invalid value for `{}`: expected {}, got {} {}", key, want,
                          type_name(got), got.dump());
}

base::Result<std::string> get_string(std::string_view key, const json& v) {
  if (!v.is_string()) {
    return type_error(key, "a string", v);
  }
  return v.get<std::string>();
}

base::Result<bool> get_bool(std::string_view key, const json& v) {
  if (!v.is_boolean()) {
    return type_error(key, "a boolean", v);
  }
  return v.get<bool>();
}

base::Result<std::vector<std::string>> get_strings(std::string_view key, const json& v) {
  if (!v.is_array()) {
    return type_error(key, "an array of strings", v);
  }
  std::vector<std::string> out;
  for (const auto& e : v) {
    if (!e.is_string()) {
      return type_error(key, "an array of strings", v);
    }
    out.push_back(e.get<std::string>());
  }
  return out;
}

base::Result<std::map<std::string, std::string>> get_string_map(std::string_view key,
                                                                const json& v) {
  if (!v.is_object()) {
    return type_error(key, "an object of strings", v);
  }
  std::map<std::string, std::string> out;
  for (const auto& [k, e] : v.items()) {
    if (!e.is_string()) {
      return base::make_error(ErrorCode::InvalidArgument,
                              "invalid value for `{}`: `{}` must be a string, got {} {}", key, k,
                              type_name(e), e.dump());
    }
    out[k] = e.get<std::string>();
  }
  return out;
}

// {"host[:port]": ["https://mirror", ...]} (registry-host-mirrors).
base::Result<std::map<std::string, std::vector<std::string>>> get_host_mirrors(std::string_view key,
                                                                               const json& v) {
  if (!v.is_object()) {
    return type_error(key, "an object of string arrays", v);
  }
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& [k, e] : v.items()) {
    auto list = get_strings(fmt::format("{}.{}", key, k), e);
    if (!list) {
      return std::move(list).error();
    }
    out[k] = std::move(*list);
  }
  return out;
}

// Docker's ValidateMirror, plus http/https only: "invalid mirror: ...".
base::Result<void> check_mirror(std::string_view key, const std::string& m) {
  size_t sep = m.find("://");
  std::string scheme = sep == std::string::npos ? "" : m.substr(0, sep);
  if (scheme != "http" && scheme != "https") {
    return base::make_error(ErrorCode::InvalidArgument,
                            "invalid value for `{}`: invalid mirror: unsupported scheme \"{}\" in "
                            "\"{}\"",
                            key, scheme, m);
  }
  std::string rest = m.substr(sep + 3);
  std::string authority = rest.substr(0, rest.find('/'));
  if (authority.empty() || authority.find('@') != std::string::npos ||
      rest.find_first_of("?#") != std::string::npos) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "invalid value for `{}`: invalid mirror: `{}` must be "
                            "scheme://host[:port][/path] without user info, query or fragment",
                            key, m);
  }
  return base::ok();
}

base::Result<int64_t> get_int(std::string_view key, const json& v) {
  if (!v.is_number_integer()) {
    return type_error(key, "an integer", v);
  }
  return v.get<int64_t>();
}

// {"nofile": {"Name": "nofile", "Soft": 1024, "Hard": 2048}} (dockerd's units.Ulimit map).
base::Result<std::vector<DefaultUlimit>> get_ulimits(const json& v) {
  if (!v.is_object()) {
    return type_error("default-ulimits", "an object", v);
  }
  std::vector<DefaultUlimit> out;
  for (const auto& [name, u] : v.items()) {
    std::string key = "default-ulimits." + name;
    if (!u.is_object()) {
      return type_error(key, "an object with Name, Soft and Hard", u);
    }
    DefaultUlimit ul;
    ul.name = name;
    for (const auto& [field, fv] : u.items()) {
      if (field == "Name") {
        ul.name = MYDOCKER_TRY(get_string(key + ".Name", fv));
      } else if (field == "Soft") {
        ul.soft = MYDOCKER_TRY(get_int(key + ".Soft", fv));
      } else if (field == "Hard") {
        ul.hard = MYDOCKER_TRY(get_int(key + ".Hard", fv));
      } else {
        return base::make_error(ErrorCode::InvalidArgument,
                                "invalid value for `{}`: unknown field `{}`", key, field);
      }
    }
    if (ul.name != name) {
      return base::make_error(ErrorCode::InvalidArgument,
                              "invalid value for `{}`: Name `{}` does not match the key", key,
                              ul.name);
    }
    out.push_back(std::move(ul));
  }
  return out;
}

std::string join_set(const std::vector<std::string>& items) {
  return base::join(items, ", ");
}

}  // namespace

std::vector<std::string> Config::socket_paths() const {
  std::vector<std::string> out;
  for (const auto& h : hosts.empty() ? std::vector<std::string>{kDefaultHost} : hosts) {
    auto p = socket_path_of(h);
    if (p) {
      out.push_back(*p);
    }
  }
  return out;
}

std::string Config::pidfile_path() const {
  return pidfile.empty() ? exec_root + "/mydockerd.pid" : pidfile;
}

std::string Config::effective_log_level() const {
  return debug ? "debug" : log_level;
}

base::Result<std::string> socket_path_of(std::string_view host) {
  constexpr std::string_view kUnix = "unix://";
  if (host.substr(0, kUnix.size()) == kUnix) {
    std::string_view path = host.substr(kUnix.size());
    if (path.empty()) {
      return std::string(std::string_view(kDefaultHost).substr(kUnix.size()));
    }
    if (path.front() != '/') {
      return base::make_error(ErrorCode::InvalidArgument,
                              "invalid host `{}`: the socket path must be absolute", host);
    }
    return std::string(path);
  }
  size_t scheme = host.find("://");
  if (scheme != std::string_view::npos) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "invalid host `{}`: {} hosts are not supported yet (only unix://)",
                            host, host.substr(0, scheme));
  }
  return base::make_error(ErrorCode::InvalidArgument,
                          "invalid host `{}`: expected unix:///path/to/socket", host);
}

base::Result<DefaultUlimit> parse_ulimit(std::string_view text) {
  auto kv = MYDOCKER_TRY(split_kv(text, "ulimit"));
  DefaultUlimit ul;
  ul.name = kv.first;
  std::vector<std::string> parts = base::split(kv.second, ':');
  if (parts.empty() || parts.size() > 2) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "invalid ulimit argument: `{}`: expected name=soft[:hard]", text);
  }
  auto soft = base::parse_int64(parts[0]);
  auto hard = parts.size() == 2 ? base::parse_int64(parts[1]) : soft;
  if (!soft || !hard) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "invalid ulimit argument: `{}`: limits must be integers", text);
  }
  ul.soft = *soft;
  ul.hard = *hard;
  return ul;
}

base::Result<CommandLine> parse_command_line(const std::vector<std::string>& args) {
  CommandLine cl;
  Config& c = cl.config;
  CLI::App app{"mydockerd: a Docker-compatible container engine daemon", "mydockerd"};
  app.set_version_flag("-v,--version", std::string("mydockerd version ") + MYDOCKER_VERSION);
  std::vector<std::string> ulimits;
  std::vector<std::string> log_opts;
  std::vector<std::string> host_mirrors;
  std::string live_restore;

  // Each option records the daemon.json key it overlaps, for the conflict check.
  std::vector<std::pair<CLI::Option*, std::string>> keyed;
  auto key = [&](CLI::Option* o, std::string k) {
    keyed.emplace_back(o, std::move(k));
    return o;
  };
  key(app.add_option("-H,--host", c.hosts, "Daemon socket(s) to listen on (unix:///path)"),
      "hosts");
  key(app.add_option("--data-root", c.data_root, "Root directory of persistent state"),
      "data-root");
  key(app.add_option("--exec-root", c.exec_root, "Root directory for execution state files"),
      "exec-root");
  key(app.add_option("-l,--log-level", c.log_level,
                     "Logging level (\"debug\"|\"info\"|\"warn\"|\"error\"|\"fatal\")"),
      "log-level");
  key(app.add_flag("-D,--debug", c.debug, "Enable debug mode"), "debug");
  app.add_option("--config-file", cl.config_file, "Daemon configuration file");
  key(app.add_option("-p,--pidfile", c.pidfile, "Path to use for daemon PID file"), "pidfile");
  key(app.add_option("-s,--storage-driver", c.storage_driver, "Storage driver (overlay2|vfs)"),
      "storage-driver");
  key(app.add_flag("--live-restore", c.live_restore,
                   "Keep containers running while the daemon is down (default true)"),
      "live-restore");
  key(app.add_option("--default-ulimit", ulimits,
                     "Default ulimits for containers (name=soft:hard)"),
      "default-ulimits");
  key(app.add_option("--registry-mirror", c.registry_mirrors, "Preferred registry mirror"),
      "registry-mirrors");
  key(app.add_option("--registry-host-mirror", host_mirrors,
                     "Pull mirror of a registry other than Docker Hub (host=URL, repeatable, "
                     "tried in order)"),
      "registry-host-mirrors");
  key(app.add_option("--insecure-registry", c.insecure_registries,
                     "Enable insecure registry communication"),
      "insecure-registries");
  key(app.add_option("--log-driver", c.log_driver, "Default driver for container logs"),
      "log-driver");
  key(app.add_option("--log-opt", log_opts, "Default log driver options for containers (k=v)"),
      "log-opts");
  key(app.add_option("-G,--group", c.group, "Group for the unix socket"), "group");
  key(app.add_option("--cgroup-parent", c.cgroup_parent, "Parent cgroup for all containers"),
      "cgroup-parent");
  key(app.add_option("--shim-path", c.shim_path, "The mydocker-shim binary"), "shim-path");
  key(app.add_option("-b,--bridge", c.bridge, "The default network's Linux bridge"), "bridge");
  key(app.add_option("--bip", c.bip, "Address and subnet of the default bridge (CIDR)"), "bip");

  std::vector<std::string> rev(args.rbegin(), args.rend());
  if (!rev.empty()) {
    rev.pop_back();  // argv[0]
  }
  try {
    app.parse(rev);
  } catch (const CLI::CallForHelp&) {
    cl.exit_now = true;
    cl.output = app.help();
    return cl;
  } catch (const CLI::CallForVersion&) {
    cl.exit_now = true;
    cl.output = app.version() + "\n";
    return cl;
  } catch (const CLI::ParseError& e) {
    return base::make_error(ErrorCode::InvalidArgument, "{}", e.what());
  }
  cl.config_file_explicit = app.count("--config-file") > 0;
  for (const auto& [opt, k] : keyed) {
    if (opt->count() > 0) {
      std::vector<std::string> given;
      for (const auto& r : opt->results()) {
        given.push_back(r);
      }
      cl.set_keys[k] = given.empty() ? "true" : base::join(given, ",");
    }
  }
  for (const auto& u : ulimits) {
    c.default_ulimits.push_back(MYDOCKER_TRY(parse_ulimit(u)));
  }
  for (const auto& o : log_opts) {
    auto kv = MYDOCKER_TRY(split_kv(o, "log-opt"));
    c.log_opts[kv.first] = kv.second;
  }
  for (const auto& m : host_mirrors) {
    auto kv = MYDOCKER_TRY(split_kv(m, "registry-host-mirror"));
    c.registry_host_mirrors[kv.first].push_back(kv.second);
  }
  return cl;
}

base::Result<void> apply_config_file(std::string_view text, std::string_view file,
                                     const std::map<std::string, std::string>& flag_keys,
                                     Config& config) {
  auto fail = [&](base::Error e) {
    return std::move(e).wrap(fmt::format("unable to configure the daemon with file {}", file));
  };
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded()) {
    return fail(base::make_error(ErrorCode::InvalidArgument, "invalid JSON"));
  }
  if (!doc.is_object()) {
    return fail(base::make_error(ErrorCode::InvalidArgument,
                                 "invalid JSON: the top level must be an object"));
  }
  static const std::set<std::string> kKeys = {"hosts",
                                              "data-root",
                                              "exec-root",
                                              "log-level",
                                              "debug",
                                              "pidfile",
                                              "storage-driver",
                                              "live-restore",
                                              "default-ulimits",
                                              "registry-mirrors",
                                              "registry-host-mirrors",
                                              "insecure-registries",
                                              "log-driver",
                                              "log-opts",
                                              "group",
                                              "cgroup-parent",
                                              "shim-path",
                                              "bridge",
                                              "bip"};
  std::vector<std::string> unknown;
  std::vector<std::string> both;
  for (const auto& [k, v] : doc.items()) {
    if (kKeys.count(k) == 0) {
      unknown.push_back(k);
    } else if (auto f = flag_keys.find(k); f != flag_keys.end()) {
      both.push_back(fmt::format("{}: (from flag: {}, from file: {})", k, f->second,
                                 v.is_string() ? v.get<std::string>() : v.dump()));
    }
  }
  if (!unknown.empty()) {
    return fail(base::make_error(ErrorCode::InvalidArgument,
                                 "the following directives don't match any configuration "
                                 "option: {}",
                                 join_set(unknown)));
  }
  if (!both.empty()) {
    return fail(base::make_error(ErrorCode::InvalidArgument,
                                 "the following directives are specified both as a flag and in "
                                 "the configuration file: {}",
                                 join_set(both)));
  }
  auto apply = [&]() -> base::Result<void> {
    for (const auto& [k, v] : doc.items()) {
      if (k == "hosts") {
        config.hosts = MYDOCKER_TRY(get_strings(k, v));
      } else if (k == "data-root") {
        config.data_root = MYDOCKER_TRY(get_string(k, v));
      } else if (k == "exec-root") {
        config.exec_root = MYDOCKER_TRY(get_string(k, v));
      } else if (k == "log-level") {
        config.log_level = MYDOCKER_TRY(get_string(k, v));
      } else if (k == "debug") {
        config.debug = MYDOCKER_TRY(get_bool(k, v));
      } else if (k == "pidfile") {
        config.pidfile = MYDOCKER_TRY(get_string(k, v));
      } else if (k == "storage-driver") {
        config.storage_driver = MYDOCKER_TRY(get_string(k, v));
      } else if (k == "live-restore") {
        config.live_restore = MYDOCKER_TRY(get_bool(k, v));
      } else if (k == "default-ulimits") {
        config.default_ulimits = MYDOCKER_TRY(get_ulimits(v));
      } else if (k == "registry-mirrors") {
        config.registry_mirrors = MYDOCKER_TRY(get_strings(k, v));
      } else if (k == "registry-host-mirrors") {
        config.registry_host_mirrors = MYDOCKER_TRY(get_host_mirrors(k, v));
      } else if (k == "insecure-registries") {
        config.insecure_registries = MYDOCKER_TRY(get_strings(k, v));
      } else if (k == "log-driver") {
        config.log_driver = MYDOCKER_TRY(get_string(k, v));
      } else if (k == "log-opts") {
        config.log_opts = MYDOCKER_TRY(get_string_map(k, v));
      } else if (k == "group") {
        config.group = MYDOCKER_TRY(get_string(k, v));
      } else if (k == "cgroup-parent") {
        config.cgroup_parent = MYDOCKER_TRY(get_string(k, v));
      } else if (k == "shim-path") {
        config.shim_path = MYDOCKER_TRY(get_string(k, v));
      } else if (k == "bridge") {
        config.bridge = MYDOCKER_TRY(get_string(k, v));
      } else if (k == "bip") {
        config.bip = MYDOCKER_TRY(get_string(k, v));
      }
    }
    return base::ok();
  };
  auto r = apply();
  if (!r) {
    return fail(std::move(r).error());
  }
  return base::ok();
}

base::Result<void> validate(const Config& c) {
  for (const auto& h : c.hosts) {
    MYDOCKER_TRY(socket_path_of(h));
  }
  if (log_levels().count(c.log_level) == 0) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "invalid value for `log-level`: `{}` (debug, info, warn, error, "
                            "fatal)",
                            c.log_level);
  }
  for (const auto& [k, path] :
       std::map<std::string, std::string>{{"data-root", c.data_root}, {"exec-root", c.exec_root}}) {
    if (path.empty() || path.front() != '/') {
      return base::make_error(ErrorCode::InvalidArgument,
                              "invalid value for `{}`: `{}` must be an absolute path", k, path);
    }
  }
  if (!c.pidfile.empty() && c.pidfile.front() != '/') {
    return base::make_error(ErrorCode::InvalidArgument,
                            "invalid value for `pidfile`: `{}` must be an absolute path",
                            c.pidfile);
  }
  if (!c.storage_driver.empty() && c.storage_driver != "overlay2" && c.storage_driver != "vfs") {
    return base::make_error(ErrorCode::InvalidArgument,
                            "invalid value for `storage-driver`: `{}` (overlay2 or vfs)",
                            c.storage_driver);
  }
  std::set<std::string> seen;
  for (const auto& u : c.default_ulimits) {
    if (ulimit_names().count(u.name) == 0) {
      return base::make_error(ErrorCode::InvalidArgument,
                              "invalid value for `default-ulimits`: invalid ulimit type: {}",
                              u.name);
    }
    if (!seen.insert(u.name).second) {
      return base::make_error(ErrorCode::InvalidArgument,
                              "invalid value for `default-ulimits`: `{}` given twice", u.name);
    }
    if (u.soft < 0 || u.hard < 0) {
      return base::make_error(ErrorCode::InvalidArgument,
                              "invalid value for `default-ulimits`: `{}` limits must not be "
                              "negative",
                              u.name);
    }
    if (u.soft > u.hard) {
      return base::make_error(ErrorCode::InvalidArgument,
                              "invalid value for `default-ulimits`: ulimit soft limit must be "
                              "less than or equal to hard limit: {} > {}",
                              u.soft, u.hard);
    }
  }
  if (c.log_driver != "json-file") {
    return base::make_error(ErrorCode::InvalidArgument,
                            "invalid value for `log-driver`: `{}` (only json-file is supported)",
                            c.log_driver);
  }
  for (const auto& [k, v] : c.log_opts) {
    auto r = check_log_opt(k, v);
    if (!r) {
      return std::move(r).error().wrap("invalid value for `log-opts`");
    }
  }
  for (const auto& m : c.registry_mirrors) {
    MYDOCKER_TRY(check_mirror("registry-mirrors", m));
  }
  for (const auto& [host, mirrors] : c.registry_host_mirrors) {
    if (host.empty() || host.find('/') != std::string::npos ||
        host.find('@') != std::string::npos) {
      return base::make_error(ErrorCode::InvalidArgument,
                              "invalid value for `registry-host-mirrors`: `{}` must be a "
                              "registry host[:port] without a scheme",
                              host);
    }
    if (host == "docker.io" || host == "index.docker.io" || host == "registry-1.docker.io") {
      return base::make_error(ErrorCode::InvalidArgument,
                              "invalid value for `registry-host-mirrors`: `{}`: Docker Hub's "
                              "mirrors are `registry-mirrors`",
                              host);
    }
    for (const auto& m : mirrors) {
      MYDOCKER_TRY(check_mirror("registry-host-mirrors", m));
    }
  }
  for (const auto& r : c.insecure_registries) {
    if (r.empty() || r.find("://") != std::string::npos) {
      return base::make_error(ErrorCode::InvalidArgument,
                              "invalid value for `insecure-registries`: `{}` must be a host[:port] "
                              "or CIDR without a scheme",
                              r);
    }
  }
  if (c.cgroup_parent.empty() || c.cgroup_parent.front() != '/') {
    return base::make_error(ErrorCode::InvalidArgument,
                            "invalid value for `cgroup-parent`: `{}` must start with /",
                            c.cgroup_parent);
  }
  return base::ok();
}

base::Result<CommandLine> load(const std::vector<std::string>& args) {
  CommandLine cl = MYDOCKER_TRY(parse_command_line(args));
  if (cl.exit_now) {
    return cl;
  }
  if (base::path_exists(cl.config_file)) {
    std::string text =
        MYDOCKER_TRY_CTX(base::read_file(cl.config_file),
                         "unable to configure the daemon with file {}", cl.config_file);
    MYDOCKER_TRY(apply_config_file(text, cl.config_file, cl.set_keys, cl.config));
  } else if (cl.config_file_explicit) {
    return base::make_error(ErrorCode::NotFound,
                            "unable to configure the daemon with file {}: open {}: no such file "
                            "or directory",
                            cl.config_file, cl.config_file);
  }
  MYDOCKER_TRY(validate(cl.config));
  return cl;
}

}  // namespace mydocker::cmd::mydockerd
