// SPDX-License-Identifier: Apache-2.0
#include "engine/network/networks.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <regex>
#include <set>
#include <tuple>

#include "image/content/image_config.h"
#include "runtime/base/file.h"
#include "runtime/base/strings.h"

namespace mydocker::engine::network {
namespace {

using base::ErrorCode;
using nlohmann::json;
using nlohmann::ordered_json;

constexpr int kRecordVersion = 1;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string now_rfc3339() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return image::content::format_rfc3339_nano(ts.tv_sec, static_cast<int32_t>(ts.tv_nsec));
}

bool is_predefined_name(std::string_view name) {
  return name == "bridge" || name == "host" || name == "none" || name == "default";
}

// Docker's filters.Args.Match: exact, or a regular expression found somewhere in the value.
bool regex_match_any(const std::vector<std::string>& patterns, const std::string& value) {
  for (const auto& p : patterns) {
    if (p == value) {
      return true;
    }
    try {
      if (std::regex_search(value, std::regex(p))) {
        return true;
      }
    } catch (const std::regex_error&) {
      // A pattern that does not compile matches nothing, as in Docker.
    }
  }
  return false;
}

// Docker's MatchKVList: every "k" present and every "k=v" equal.
bool labels_match(const std::vector<std::string>& wanted,
                  const std::map<std::string, std::string>& labels) {
  for (const auto& w : wanted) {
    auto eq = w.find('=');
    auto it = labels.find(w.substr(0, eq));
    if (it == labels.end() || (eq != std::string::npos && it->second != w.substr(eq + 1))) {
      return false;
    }
  }
  return true;
}

base::Error invalid_filter(const std::string& key) {
  return base::make_error(ErrorCode::InvalidArgument, "Invalid filter '{}'", key);
}

// Docker's timetypes.GetTimestamp for prune's `until`: Unix seconds, RFC 3339, or a Go
// duration before now ("10m", "1h30m").
base::Result<int64_t> parse_until(const std::string& value, int64_t now_unix) {
  auto fail = [&] {
    return base::make_error(ErrorCode::InvalidArgument,
                            "failed to parse value as time or duration: \"{}\"", value);
  };
  std::string_view v = value;
  if (auto dot = v.find('.'); auto secs = base::parse_int64(v.substr(0, dot))) {
    if (dot == std::string_view::npos || base::parse_uint64(v.substr(dot + 1))) {
      return *secs;
    }
  }
  if (auto t = image::content::parse_rfc3339(value)) {
    return *t;
  }
  bool neg = v.starts_with('-');
  if (neg || v.starts_with('+')) {
    v.remove_prefix(1);
  }
  double total = 0;
  if (v.empty()) {
    return fail();
  }
  while (!v.empty()) {
    size_t n = 0;
    while (n < v.size() && (std::isdigit(static_cast<unsigned char>(v[n])) || v[n] == '.')) {
      ++n;
    }
    size_t u = n;
    while (u < v.size() && std::isalpha(static_cast<unsigned char>(v[u]))) {
      ++u;
    }
    if (n == 0 || u == n) {
      return fail();
    }
    double num = 0;
    try {
      num = std::stod(std::string(v.substr(0, n)));
    } catch (const std::exception&) {
      return fail();
    }
    std::string_view unit = v.substr(n, u - n);
    static const std::map<std::string_view, double> kUnits = {
        {"h", 3600}, {"m", 60}, {"s", 1}, {"ms", 1e-3}, {"us", 1e-6}, {"ns", 1e-9}};
    auto it = kUnits.find(unit);
    if (it == kUnits.end()) {
      return fail();
    }
    total += num * it->second;
    v.remove_prefix(u);
  }
  return now_unix - static_cast<int64_t>(neg ? -total : total);
}

json string_map(const std::map<std::string, std::string>& m) {
  json j = json::object();
  for (const auto& [k, v] : m) {
    j[k] = v;
  }
  return j;
}

std::map<std::string, std::string> map_of(const json& j) {
  std::map<std::string, std::string> out;
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      if (v.is_string()) {
        out[k] = v.get<std::string>();
      }
    }
  }
  return out;
}

std::string str_of(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

bool bool_of(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

std::vector<std::string> strings_of(const json& j, const char* key) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it != j.end() && it->is_array()) {
    for (const auto& v : *it) {
      if (v.is_string()) {
        out.push_back(v.get<std::string>());
      }
    }
  }
  return out;
}

json ipam_config_record(const IpamConfig& c) {
  return {{"subnet", c.subnet},
          {"ip_range", c.ip_range},
          {"gateway", c.gateway},
          {"aux_addresses", string_map(c.aux_addresses)}};
}

// The IPv4 entry of a user config (at most one is supported), or nullptr.
const IpamConfig* ipv4_entry(const std::vector<IpamConfig>& config) {
  for (const auto& c : config) {
    if (c.subnet.find(':') == std::string::npos) {
      return &c;
    }
  }
  return nullptr;
}

bool is_default_bridge(const Network& n) {
  auto it = n.options.find(kOptDefaultBridge);
  return it != n.options.end() && it->second == "true";
}

}  // namespace

std::string random_id() {
  unsigned char bytes[32];
  size_t got = 0;
  while (got < sizeof(bytes)) {
    ssize_t n = ::getrandom(bytes + got, sizeof(bytes) - got, 0);
    if (n > 0) {
      got += static_cast<size_t>(n);
    }
  }
  std::string out;
  for (unsigned char b : bytes) {
    out += fmt::format("{:02x}", b);
  }
  return out;
}

std::vector<std::string> Endpoint::dns_names() const {
  std::vector<std::string> out;
  if (!name.empty()) {
    out.push_back(name);
  }
  out.insert(out.end(), aliases.begin(), aliases.end());
  if (container_id.size() >= 12) {
    out.push_back(container_id.substr(0, 12));
  }
  return out;
}

bool Network::predefined() const {
  return driver == "host" || driver == "null" || is_default_bridge(*this);
}

std::string Network::bridge_name() const {
  auto it = options.find(kOptBridgeName);
  if (it != options.end() && !it->second.empty()) {
    return it->second;
  }
  return "br-" + id.substr(0, 12);
}

int Network::mtu() const {
  auto it = options.find(kOptMtu);
  if (it != options.end()) {
    if (auto v = base::parse_int64(it->second); v && *v > 0 && *v <= 65535) {
      return static_cast<int>(*v);
    }
  }
  return 1500;
}

ordered_json to_docker_json(const Network& n, bool with_containers) {
  ordered_json j;
  j["Name"] = n.name;
  j["Id"] = n.id;
  j["Created"] = n.created;
  j["Scope"] = n.scope;
  j["Driver"] = n.driver;
  j["EnableIPv6"] = n.enable_ipv6;
  ordered_json ipam;
  ipam["Driver"] = n.ipam_driver;
  if (n.ipam_options) {
    ordered_json o = ordered_json::object();
    for (const auto& [k, v] : *n.ipam_options) {
      o[k] = v;
    }
    ipam["Options"] = o;
  } else {
    ipam["Options"] = nullptr;
  }
  ordered_json config = ordered_json::array();
  auto entry = [](const IpamConfig& c) {
    ordered_json e = ordered_json::object();
    if (!c.subnet.empty()) {
      e["Subnet"] = c.subnet;
    }
    if (!c.ip_range.empty()) {
      e["IPRange"] = c.ip_range;
    }
    if (!c.gateway.empty()) {
      e["Gateway"] = c.gateway;
    }
    if (!c.aux_addresses.empty()) {
      ordered_json a = ordered_json::object();
      for (const auto& [k, v] : c.aux_addresses) {
        a[k] = v;
      }
      e["AuxiliaryAddresses"] = a;
    }
    return e;
  };
  if (!n.ipam_config.empty()) {
    // As given (Docker's PreferredPool entries); the default bridge's is its subnet alone.
    for (const auto& c : n.ipam_config) {
      config.push_back(entry(c));
    }
  } else if (n.pool) {
    // An automatic subnet shows the pool and the gateway the allocator gave (transcript 230).
    config.push_back(
        entry({format_cidr(n.pool->subnet()), "", format_ipv4(n.pool->gateway()), {}}));
  }
  ipam["Config"] = config;
  j["IPAM"] = ipam;
  j["Internal"] = n.internal;
  j["Attachable"] = n.attachable;
  j["Ingress"] = n.ingress;
  j["ConfigFrom"] = {{"Network", n.config_from}};
  j["ConfigOnly"] = n.config_only;
  ordered_json containers = ordered_json::object();
  if (with_containers) {
    for (const auto& [cid, ep] : n.endpoints) {
      ordered_json e;
      e["Name"] = ep.name;
      e["EndpointID"] = ep.endpoint_id;
      e["MacAddress"] = ep.mac_address;
      e["IPv4Address"] = ep.ipv4_address;
      e["IPv6Address"] = ep.ipv6_address;
      containers[cid] = e;
    }
  }
  j["Containers"] = containers;
  ordered_json options = ordered_json::object();
  for (const auto& [k, v] : n.options) {
    options[k] = v;
  }
  j["Options"] = options;
  ordered_json labels = ordered_json::object();
  for (const auto& [k, v] : n.labels) {
    labels[k] = v;
  }
  j["Labels"] = labels;
  return j;
}

ordered_json endpoint_settings_json(const Network& n, const Endpoint* ep,
                                    const EndpointRequest& config,
                                    const std::string& container_id) {
  auto strings = [](const std::vector<std::string>& v) {
    return v.empty() ? ordered_json(nullptr) : ordered_json(v);
  };
  ordered_json j;
  if (config.ipv4_address.empty() && config.ipv6_address.empty()) {
    j["IPAMConfig"] = nullptr;
  } else {
    ordered_json ipam = ordered_json::object();
    if (!config.ipv4_address.empty()) {
      ipam["IPv4Address"] = config.ipv4_address;
    }
    if (!config.ipv6_address.empty()) {
      ipam["IPv6Address"] = config.ipv6_address;
    }
    j["IPAMConfig"] = ipam;
  }
  j["Links"] = strings(config.links);
  std::vector<std::string> aliases = config.aliases;
  if (!n.predefined() && container_id.size() >= 12) {
    std::string short_id = container_id.substr(0, 12);
    if (std::find(aliases.begin(), aliases.end(), short_id) == aliases.end()) {
      aliases.push_back(short_id);
    }
  }
  j["Aliases"] = strings(aliases);
  j["NetworkID"] = n.id;
  std::string ip;
  int prefix_len = 0;
  if (ep != nullptr && !ep->ipv4_address.empty()) {
    auto slash = ep->ipv4_address.find('/');
    ip = ep->ipv4_address.substr(0, slash);
    if (slash != std::string::npos) {
      prefix_len =
          static_cast<int>(base::parse_int64(ep->ipv4_address.substr(slash + 1)).value_or(0));
    }
  }
  j["EndpointID"] = ep != nullptr ? ep->endpoint_id : "";
  j["Gateway"] = !ip.empty() && n.pool ? format_ipv4(n.pool->gateway()) : "";
  j["IPAddress"] = ip;
  j["IPPrefixLen"] = prefix_len;
  j["IPv6Gateway"] = "";
  j["GlobalIPv6Address"] = "";
  j["GlobalIPv6PrefixLen"] = 0;
  j["MacAddress"] = ep != nullptr ? ep->mac_address : "";
  if (config.driver_opts.empty()) {
    j["DriverOpts"] = nullptr;
  } else {
    ordered_json o = ordered_json::object();
    for (const auto& [k, v] : config.driver_opts) {
      o[k] = v;
    }
    j["DriverOpts"] = o;
  }
  return j;
}

namespace {

json endpoint_record(const Endpoint& ep) {
  return {{"container_id", ep.container_id},
          {"name", ep.name},
          {"endpoint_id", ep.endpoint_id},
          {"mac_address", ep.mac_address},
          {"ipv4_address", ep.ipv4_address},
          {"ipv6_address", ep.ipv6_address},
          {"aliases", ep.aliases}};
}

std::optional<Endpoint> endpoint_from_record(const json& e) {
  if (!e.is_object()) {
    return std::nullopt;
  }
  Endpoint ep;
  ep.container_id = str_of(e, "container_id");
  ep.name = str_of(e, "name");
  ep.endpoint_id = str_of(e, "endpoint_id");
  ep.mac_address = str_of(e, "mac_address");
  ep.ipv4_address = str_of(e, "ipv4_address");
  ep.ipv6_address = str_of(e, "ipv6_address");
  ep.aliases = strings_of(e, "aliases");
  if (ep.container_id.empty()) {
    return std::nullopt;
  }
  return ep;
}

// Replaces `path` by `data` through a rename, without fsync: volatile records (the exec root
// is a tmpfs, gone at reboot as the endpoints are), where only a torn file would matter.
base::Result<void> write_volatile(const std::string& path, std::string_view data) {
  std::string tmp = path + ".tmp";
  MYDOCKER_TRY(base::write_file(tmp, data, O_CREAT));
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    auto err = base::sys_error("rename `{}`", tmp);
    (void)::unlink(tmp.c_str());
    return err;
  }
  return base::ok();
}

std::optional<Ipv4> endpoint_ip(const Endpoint& ep) {
  return parse_ipv4(ep.ipv4_address.substr(0, ep.ipv4_address.find('/')));
}

}  // namespace

json network_to_record(const Network& n) {
  json net;
  net["id"] = n.id;
  net["name"] = n.name;
  net["created"] = n.created;
  net["scope"] = n.scope;
  net["driver"] = n.driver;
  net["enable_ipv6"] = n.enable_ipv6;
  net["ipam_driver"] = n.ipam_driver;
  net["ipam_options"] = n.ipam_options ? string_map(*n.ipam_options) : json(nullptr);
  json cfg = json::array();
  for (const auto& c : n.ipam_config) {
    cfg.push_back(ipam_config_record(c));
  }
  net["ipam_config"] = cfg;
  net["internal"] = n.internal;
  net["attachable"] = n.attachable;
  net["ingress"] = n.ingress;
  net["config_from"] = n.config_from;
  net["config_only"] = n.config_only;
  net["options"] = string_map(n.options);
  net["labels"] = string_map(n.labels);
  json eps = json::array();
  for (const auto& [cid, ep] : n.endpoints) {
    eps.push_back(endpoint_record(ep));
  }
  json j;
  j["version"] = kRecordVersion;
  j["network"] = net;
  j["pool"] = n.pool ? n.pool->to_json() : json(nullptr);
  j["endpoints"] = eps;
  return j;
}

base::Result<Network> network_from_record(const json& j) {
  auto bad = [](std::string_view why) {
    return base::make_error(ErrorCode::InvalidArgument, "malformed network record: {}", why);
  };
  if (!j.is_object() || !j.contains("network") || !j["network"].is_object()) {
    return bad("no network");
  }
  if (!j.contains("version") || !j["version"].is_number_integer() ||
      j["version"].get<int>() != kRecordVersion) {
    return bad("unknown version");
  }
  const json& net = j["network"];
  Network n;
  n.id = str_of(net, "id");
  n.name = str_of(net, "name");
  if (n.id.size() != 64 || n.name.empty()) {
    return bad("id or name");
  }
  n.created = str_of(net, "created");
  n.scope = str_of(net, "scope");
  n.driver = str_of(net, "driver");
  n.enable_ipv6 = bool_of(net, "enable_ipv6");
  n.ipam_driver = str_of(net, "ipam_driver");
  if (net.contains("ipam_options") && net["ipam_options"].is_object()) {
    n.ipam_options = map_of(net["ipam_options"]);
  }
  if (net.contains("ipam_config") && net["ipam_config"].is_array()) {
    for (const auto& c : net["ipam_config"]) {
      n.ipam_config.push_back({str_of(c, "subnet"), str_of(c, "ip_range"), str_of(c, "gateway"),
                               map_of(c.value("aux_addresses", json::object()))});
    }
  }
  n.internal = bool_of(net, "internal");
  n.attachable = bool_of(net, "attachable");
  n.ingress = bool_of(net, "ingress");
  n.config_from = str_of(net, "config_from");
  n.config_only = bool_of(net, "config_only");
  n.options = map_of(net.value("options", json::object()));
  n.labels = map_of(net.value("labels", json::object()));
  if (j.contains("pool") && !j["pool"].is_null()) {
    auto pool = AddressPool::from_json(j["pool"]);
    if (!pool) {
      return bad("pool");
    }
    n.pool = std::move(*pool);
  }
  if (j.contains("endpoints") && j["endpoints"].is_array()) {
    for (const auto& e : j["endpoints"]) {
      auto ep = endpoint_from_record(e);
      if (!ep) {
        return bad("endpoint");
      }
      n.endpoints[ep->container_id] = std::move(*ep);
    }
  }
  return n;
}

// --- NetworkStore ---

base::Result<std::unique_ptr<NetworkStore>> NetworkStore::open(
    StoreOptions options, const std::vector<Prefix>& host_routes) {
  if (!options.new_id) {
    options.new_id = random_id;
  }
  if (!options.now) {
    options.now = now_rfc3339;
  }
  if (!options.now_unix) {
    options.now_unix = [] { return static_cast<int64_t>(::time(nullptr)); };
  }
  MYDOCKER_TRY_CTX(base::mkdir_all(options.root, 0700), "create `{}`", options.root);
  std::unique_ptr<NetworkStore> store(new NetworkStore(std::move(options)));
  std::vector<Network> loaded;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(store->options_.root, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    const auto& path = it->path();
    if (path.extension() != ".json") {
      continue;  // leftovers of an interrupted atomic write
    }
    auto text = MYDOCKER_TRY_CTX(base::read_file(path.string()), "read `{}`", path.string());
    auto parsed = json::parse(text, nullptr, false);
    auto n = network_from_record(parsed);
    if (!n) {
      return std::move(n).error().wrap(fmt::format("load `{}`", path.string()));
    }
    loaded.push_back(std::move(*n));
  }
  if (ec) {
    return base::make_error(ErrorCode::Internal, "list `{}`: {}", store->options_.root,
                            ec.message());
  }
  // Predefined first, in dockerd's list order (bridge, none, host), then by creation.
  auto rank = [](const Network& n) {
    if (!n.predefined()) {
      return 3;
    }
    return n.driver == "bridge" ? 0 : n.driver == "null" ? 1 : 2;
  };
  std::sort(loaded.begin(), loaded.end(), [&](const Network& a, const Network& b) {
    return std::make_tuple(rank(a), a.created, a.id) < std::make_tuple(rank(b), b.created, b.id);
  });
  if (!store->options_.endpoint_root.empty()) {
    MYDOCKER_TRY_CTX(base::mkdir_all(store->options_.endpoint_root, 0700), "create `{}`",
                     store->options_.endpoint_root);
    for (auto& n : loaded) {
      MYDOCKER_TRY(store->load_endpoints(n));
    }
  }
  for (auto& n : loaded) {
    store->order_.push_back(n.id);
    store->networks_[n.id] = std::move(n);
  }
  std::lock_guard lock(store->mu_);
  MYDOCKER_TRY(store->add_predefined(host_routes));
  return store;
}

base::Result<void> NetworkStore::add_predefined(const std::vector<Prefix>& host_routes) {
  auto has_driver = [&](std::string_view driver, bool default_bridge) {
    for (const auto& [id, n] : networks_) {
      if (n.driver == driver && (!default_bridge || is_default_bridge(n))) {
        return true;
      }
    }
    return false;
  };
  auto add = [&](Network n) -> base::Result<void> {
    n.id = options_.new_id();
    n.created = options_.now();
    MYDOCKER_TRY(save_locked(n));
    order_.push_back(n.id);
    networks_[n.id] = std::move(n);
    return base::ok();
  };
  // The order dockerd lists them in (transcript 223).
  if (!has_driver("bridge", true)) {
    Network n;
    n.name = "bridge";
    n.driver = "bridge";
    Prefix subnet;
    std::optional<Ipv4> gateway;
    if (!options_.default_bridge_subnet.empty()) {
      // --bip is the bridge's address with its prefix: 172.30.0.1/16.
      auto bip = parse_cidr(options_.default_bridge_subnet);
      if (!bip) {
        return base::make_error(ErrorCode::InvalidArgument, "invalid default bridge subnet `{}`",
                                options_.default_bridge_subnet);
      }
      subnet = bip->masked();
      if (bip->addr != bip->network()) {
        gateway = bip->addr;
      }
    } else {
      std::vector<Prefix> in_use;
      for (const auto& [id, other] : networks_) {
        if (other.pool) {
          in_use.push_back(other.pool->subnet());
        }
      }
      subnet = MYDOCKER_TRY(choose_subnet(options_.pools, in_use, host_routes));
    }
    n.pool = MYDOCKER_TRY(AddressPool::create(subnet, std::nullopt, gateway));
    n.ipam_config.push_back({format_cidr(subnet), "", "", {}});
    n.options = {{kOptDefaultBridge, "true"},
                 {kOptEnableIcc, "true"},
                 {kOptMasquerade, "true"},
                 {kOptHostBinding, "0.0.0.0"},
                 {kOptBridgeName, options_.default_bridge},
                 {kOptMtu, std::to_string(options_.mtu)}};
    MYDOCKER_TRY(add(std::move(n)));
  }
  if (!has_driver("null", false)) {
    Network n;
    n.name = "none";
    n.driver = "null";
    MYDOCKER_TRY(add(std::move(n)));
  }
  if (!has_driver("host", false)) {
    Network n;
    n.name = "host";
    n.driver = "host";
    MYDOCKER_TRY(add(std::move(n)));
  }
  return base::ok();
}

base::Result<void> NetworkStore::save_locked(const Network& n) {
  std::string path = options_.root + "/" + n.id + ".json";
  json record = network_to_record(n);
  if (!options_.endpoint_root.empty()) {
    // Endpoints live in the volatile record; the durable one holds the network alone.
    record["endpoints"] = json::array();
    if (n.pool) {
      AddressPool bare = *n.pool;
      std::vector<Ipv4> ips(bare.allocated().begin(), bare.allocated().end());
      for (Ipv4 ip : ips) {
        (void)bare.release(ip);
      }
      record["pool"] = bare.to_json();
    }
  }
  MYDOCKER_TRY_CTX(base::write_file_atomic(path, record.dump(), 0600), "write `{}`", path);
  return base::ok();
}

std::string NetworkStore::endpoints_path(const std::string& network_id) const {
  return options_.endpoint_root + "/" + network_id + ".json";
}

base::Result<void> NetworkStore::save_endpoints_locked(const Network& n) {
  if (options_.endpoint_root.empty()) {
    return save_locked(n);
  }
  std::string path = endpoints_path(n.id);
  if (n.endpoints.empty()) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return base::sys_error("remove `{}`", path);
    }
    return base::ok();
  }
  json eps = json::array();
  for (const auto& [cid, ep] : n.endpoints) {
    eps.push_back(endpoint_record(ep));
  }
  json j = {{"version", kRecordVersion}, {"network", n.id}, {"endpoints", eps}};
  MYDOCKER_TRY_CTX(write_volatile(path, j.dump()), "write `{}`", path);
  return base::ok();
}

base::Result<void> NetworkStore::load_endpoints(Network& n) {
  // The durable record's allocations (none unless written by an older version) give way to
  // the volatile endpoints: after a reboot there are none, after a daemon crash they are the
  // running containers' (and those of containers that stopped meanwhile, which the engine
  // disconnects at start-up).
  n.endpoints.clear();
  if (n.pool) {
    std::vector<Ipv4> stale(n.pool->allocated().begin(), n.pool->allocated().end());
    for (Ipv4 ip : stale) {
      (void)n.pool->release(ip);
    }
  }
  std::string path = endpoints_path(n.id);
  auto text = base::read_file(path);
  if (!text) {
    return base::ok();  // none
  }
  auto j = json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("endpoints") ||
      !j["endpoints"].is_array()) {
    return base::make_error(ErrorCode::InvalidArgument, "malformed endpoint record `{}`", path);
  }
  for (const auto& e : j["endpoints"]) {
    auto ep = endpoint_from_record(e);
    if (!ep) {
      return base::make_error(ErrorCode::InvalidArgument, "malformed endpoint record `{}`", path);
    }
    if (n.pool && !ep->ipv4_address.empty()) {
      auto ip = endpoint_ip(*ep);
      if (!ip || !n.pool->allocate(*ip)) {
        return base::make_error(ErrorCode::InvalidArgument,
                                "endpoint record `{}`: address `{}` not in the pool", path,
                                ep->ipv4_address);
      }
    }
    n.endpoints[ep->container_id] = std::move(*ep);
  }
  return base::ok();
}

const Network* NetworkStore::find_const_locked(std::string_view term, base::Error* err) const {
  if (term.empty()) {
    *err = base::make_error(ErrorCode::NotFound, "network {} not found", term);
    return nullptr;
  }
  std::vector<const Network*> by_name;
  std::vector<const Network*> by_prefix;
  for (const auto& [id, n] : networks_) {
    if (id == term) {
      return &n;
    }
    if (n.name == term) {
      by_name.push_back(&n);
    }
    if (std::string_view(id).starts_with(term)) {
      by_prefix.push_back(&n);
    }
  }
  if (by_name.size() == 1) {
    return by_name[0];
  }
  if (by_name.size() > 1) {
    // dockerd 20.10's wording (transcript 228).
    *err = base::make_error(ErrorCode::InvalidArgument,
                            "{} matches found based on name: network {} is ambiguous",
                            by_name.size(), term);
    return nullptr;
  }
  if (by_prefix.size() == 1) {
    return by_prefix[0];
  }
  if (by_prefix.size() > 1) {
    *err = base::make_error(ErrorCode::InvalidArgument,
                            "{} matches found based on ID prefix: network {} is ambiguous",
                            by_prefix.size(), term);
    return nullptr;
  }
  *err = base::make_error(ErrorCode::NotFound, "network {} not found", term);
  return nullptr;
}

base::Result<Network*> NetworkStore::find_locked(std::string_view term) {
  base::Error err(ErrorCode::Internal, "");
  const Network* n = find_const_locked(term, &err);
  if (n == nullptr) {
    return err;
  }
  return &networks_.at(n->id);
}

base::Result<Network> NetworkStore::find(std::string_view term) const {
  std::lock_guard lock(mu_);
  base::Error err(ErrorCode::Internal, "");
  const Network* n = find_const_locked(term, &err);
  if (n == nullptr) {
    return err;
  }
  return *n;
}

std::vector<Network> NetworkStore::all() const {
  std::lock_guard lock(mu_);
  std::vector<Network> out;
  for (const auto& id : order_) {
    out.push_back(networks_.at(id));
  }
  return out;
}

base::Result<std::vector<Network>> NetworkStore::list(const FilterArgs& filters) const {
  static const std::set<std::string> kKeys = {"driver", "id",   "label",   "name",
                                              "scope",  "type", "dangling"};
  std::optional<bool> dangling;
  for (const auto& [key, values] : filters) {
    if (kKeys.count(key) == 0) {
      return invalid_filter(key);
    }
    if (key == "type") {
      for (const auto& v : values) {
        if (v != "custom" && v != "builtin") {
          return base::make_error(ErrorCode::InvalidArgument, "Invalid filter: 'type'='{}'", v);
        }
      }
    }
    if (key == "dangling") {
      for (const auto& v : values) {
        if (v == "true" || v == "1") {
          dangling = true;
        } else if (v == "false" || v == "0") {
          dangling = false;
        } else {
          return base::make_error(ErrorCode::InvalidArgument, "Invalid filter 'dangling={}'", v);
        }
      }
    }
  }
  auto values = [&](const char* key) -> const std::vector<std::string>* {
    auto it = filters.find(key);
    return it == filters.end() ? nullptr : &it->second;
  };
  std::vector<Network> out;
  for (auto& n : all()) {
    if (auto v = values("driver"); v && std::find(v->begin(), v->end(), n.driver) == v->end()) {
      continue;
    }
    if (auto v = values("id"); v && !regex_match_any(*v, n.id)) {
      continue;
    }
    if (auto v = values("name"); v && !regex_match_any(*v, n.name)) {
      continue;
    }
    if (auto v = values("label"); v && !labels_match(*v, n.labels)) {
      continue;
    }
    if (auto v = values("scope"); v && std::find(v->begin(), v->end(), n.scope) == v->end()) {
      continue;
    }
    if (auto v = values("type")) {
      std::string type = n.predefined() ? "builtin" : "custom";
      if (std::find(v->begin(), v->end(), type) == v->end()) {
        continue;
      }
    }
    if (dangling) {
      bool is_dangling = !n.predefined() && n.endpoints.empty();
      if (is_dangling != *dangling) {
        continue;
      }
    }
    out.push_back(std::move(n));
  }
  return out;
}

base::Result<CreateResult> NetworkStore::create(const CreateRequest& req,
                                                const std::vector<Prefix>& host_routes) {
  if (req.name.empty()) {
    return base::make_error(ErrorCode::InvalidArgument, "invalid name: network name is empty");
  }
  if (is_predefined_name(req.name)) {
    return base::make_error(ErrorCode::PermissionDenied,
                            "{} is a pre-defined network and cannot be created", req.name);
  }
  std::string driver = req.driver.empty() ? "bridge" : req.driver;
  if (driver == "host" || driver == "null") {
    return base::make_error(ErrorCode::PermissionDenied,
                            "only one instance of \"{}\" network is allowed", driver);
  }
  if (driver != "bridge") {
    return base::make_error(ErrorCode::NotFound, "plugin \"{}\" not found", driver);
  }
  if (!req.ipam_driver.empty() && req.ipam_driver != "default") {
    return base::make_error(ErrorCode::NotFound, "plugin \"{}\" not found", req.ipam_driver);
  }
  if (req.enable_ipv6) {
    return base::make_error(ErrorCode::InvalidArgument, "IPv6 networks are not supported");
  }
  if (req.ingress || req.config_only || !req.config_from.empty()) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "ingress and config-only networks are not supported");
  }
  MYDOCKER_TRY(validate_ipam(req.ipam_config));
  size_t v4 = 0;
  for (const auto& c : req.ipam_config) {
    v4 += c.subnet.find(':') == std::string::npos ? 1 : 0;
  }
  if (v4 > 1) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "more than one IPv4 subnet per network is not supported");
  }
  if (auto it = req.options.find(kOptMtu); it != req.options.end()) {
    auto v = base::parse_int64(it->second);
    if (!v || *v < 68 || *v > 65535) {
      return base::make_error(ErrorCode::InvalidArgument, "invalid MTU value `{}`", it->second);
    }
  }
  if (auto it = req.options.find(kOptBridgeName); it != req.options.end()) {
    if (it->second.empty() || it->second.size() > 15 ||
        it->second.find_first_of("/ \t\n:") != std::string::npos) {
      return base::make_error(ErrorCode::InvalidArgument, "invalid bridge name `{}`", it->second);
    }
  }

  std::lock_guard lock(mu_);
  std::string warning;
  for (const auto& id : order_) {
    const Network& other = networks_.at(id);
    if (other.name == req.name) {
      if (req.check_duplicate) {
        return base::make_error(ErrorCode::AlreadyExists, "network with name {} already exists",
                                req.name);
      }
      // Docker < API 1.44 creates it anyway, with this warning (transcript 227).
      warning = fmt::format("Network with name {} (id : {}) already exists", req.name, other.id);
      break;
    }
  }
  if (auto it = req.options.find(kOptBridgeName); it != req.options.end()) {
    for (const auto& [id, other] : networks_) {
      if (other.driver == "bridge" && other.bridge_name() == it->second) {
        return base::make_error(ErrorCode::Conflict,
                                "bridge name {} is already in use by network {}", it->second,
                                other.name);
      }
    }
  }
  std::vector<Prefix> in_use;
  for (const auto& [id, other] : networks_) {
    if (other.pool) {
      in_use.push_back(other.pool->subnet());
    }
  }

  Network n;
  n.name = req.name;
  n.driver = driver;
  n.ipam_options = req.ipam_options;
  n.ipam_config = req.ipam_config;
  n.internal = req.internal;
  n.attachable = req.attachable;
  n.options = req.options;
  n.labels = req.labels;
  if (const IpamConfig* c = ipv4_entry(req.ipam_config)) {
    Prefix subnet = parse_cidr(c->subnet)->masked();
    for (const auto& u : in_use) {
      if (subnet.overlaps(u)) {
        return base::make_error(ErrorCode::PermissionDenied,
                                "Pool overlaps with other one on this address space");
      }
    }
    // Docker lets a user subnet shadow a host route; the issue asks for a refusal, since the
    // host would lose the route's destination.
    for (const auto& r : host_routes) {
      if (r.len > 0 && subnet.overlaps(r.masked())) {
        return base::make_error(ErrorCode::PermissionDenied,
                                "subnet {} overlaps with host route {}", format_cidr(subnet),
                                format_cidr(r.masked()));
      }
    }
    std::optional<Prefix> range;
    if (!c->ip_range.empty()) {
      range = parse_cidr(c->ip_range)->masked();
    }
    std::optional<Ipv4> gateway;
    if (!c->gateway.empty()) {
      gateway = parse_ipv4(c->gateway);
    }
    std::vector<Ipv4> reserved;
    for (const auto& [name, aux] : c->aux_addresses) {
      reserved.push_back(*parse_ipv4(aux));
    }
    n.pool = MYDOCKER_TRY(AddressPool::create(subnet, range, gateway, reserved));
  } else {
    Prefix subnet = MYDOCKER_TRY(choose_subnet(options_.pools, in_use, host_routes));
    n.pool = MYDOCKER_TRY(AddressPool::create(subnet, std::nullopt, std::nullopt));
    n.ipam_config.clear();  // IPv6-only entries were ignored; the automatic pool is shown
  }
  n.id = options_.new_id();
  n.created = options_.now();
  MYDOCKER_TRY(save_locked(n));
  order_.push_back(n.id);
  std::string id = n.id;
  networks_[id] = std::move(n);
  return CreateResult{id, warning};
}

base::Result<Network> NetworkStore::remove(std::string_view term) {
  std::lock_guard lock(mu_);
  Network* n = MYDOCKER_TRY(find_locked(term));
  if (n->predefined()) {
    return base::make_error(ErrorCode::PermissionDenied,
                            "{} is a pre-defined network and cannot be removed", n->name);
  }
  if (!n->endpoints.empty()) {
    return base::make_error(ErrorCode::PermissionDenied,
                            "error while removing network: network {} id {} has active endpoints",
                            n->name, n->id);
  }
  std::string path = options_.root + "/" + n->id + ".json";
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return base::sys_error("remove `{}`", path);
  }
  if (!options_.endpoint_root.empty()) {
    (void)::unlink(endpoints_path(n->id).c_str());
  }
  Network out = std::move(*n);
  networks_.erase(out.id);
  order_.erase(std::remove(order_.begin(), order_.end(), out.id), order_.end());
  return out;
}

base::Result<std::vector<Network>> NetworkStore::prune(const FilterArgs& filters) {
  std::optional<int64_t> until;
  for (const auto& [key, values] : filters) {
    if (key != "until" && key != "label" && key != "label!") {
      return invalid_filter(key);
    }
    if (key == "until") {
      if (values.size() > 1) {
        return base::make_error(ErrorCode::InvalidArgument,
                                "filters: only one until filter may be given");
      }
      for (const auto& v : values) {
        until = MYDOCKER_TRY(parse_until(v, options_.now_unix()));
      }
    }
  }
  auto values = [&](const char* key) {
    auto it = filters.find(key);
    return it == filters.end() ? std::vector<std::string>{} : it->second;
  };
  std::vector<std::string> labels = values("label");
  std::vector<std::string> not_labels = values("label!");
  std::vector<std::string> victims;
  {
    std::lock_guard lock(mu_);
    for (const auto& id : order_) {
      const Network& n = networks_.at(id);
      if (n.predefined() || !n.endpoints.empty()) {
        continue;
      }
      if (!labels.empty() && !labels_match(labels, n.labels)) {
        continue;
      }
      // label!: pruned unless one of the given labels matches.
      bool excluded = false;
      for (const auto& l : not_labels) {
        excluded = excluded || labels_match({l}, n.labels);
      }
      if (excluded) {
        continue;
      }
      if (until) {
        auto created = image::content::parse_rfc3339(n.created);
        if (!created || *created >= *until) {
          continue;
        }
      }
      victims.push_back(id);
    }
  }
  std::vector<Network> out;
  for (const auto& id : victims) {
    // Connected meanwhile: skipped, as Docker skips networks in use.
    if (auto n = remove(id)) {
      out.push_back(std::move(*n));
    }
  }
  return out;
}

base::Result<Endpoint> NetworkStore::connect(std::string_view term, const std::string& container_id,
                                             const std::string& container_name,
                                             const EndpointRequest& req) {
  std::lock_guard lock(mu_);
  Network* n = MYDOCKER_TRY(find_locked(term));
  std::string name = container_name.starts_with('/') ? container_name.substr(1) : container_name;
  for (const auto& [cid, ep] : n->endpoints) {
    if (cid == container_id || ep.name == name) {
      return base::make_error(ErrorCode::PermissionDenied,
                              "endpoint with name {} already exists in network {}", name, n->name);
    }
  }
  bool user_defined = !n->predefined();
  if (!req.ipv4_address.empty() || !req.ipv6_address.empty()) {
    if (!user_defined) {
      return base::make_error(ErrorCode::InvalidArgument,
                              "user specified IP address is supported on user defined networks "
                              "only");
    }
    if (ipv4_entry(n->ipam_config) == nullptr) {
      return base::make_error(ErrorCode::InvalidArgument,
                              "user specified IP address is supported only when connecting to "
                              "networks with user configured subnets");
    }
  }
  if (!req.ipv6_address.empty()) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "network {} has no IPv6 subnet for address {}", n->name,
                            req.ipv6_address);
  }
  if (!req.aliases.empty() && !user_defined) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "network-scoped alias is supported only for containers in user "
                            "defined networks");
  }
  std::optional<Ipv4> requested;
  if (!req.ipv4_address.empty()) {
    requested = parse_ipv4(req.ipv4_address);
    if (!requested) {
      return base::make_error(ErrorCode::InvalidArgument, "invalid IPv4 address: {}",
                              req.ipv4_address);
    }
  }
  Endpoint ep;
  ep.container_id = container_id;
  ep.name = name;
  ep.endpoint_id = options_.new_id();
  ep.aliases = req.aliases;
  std::optional<AddressPool> saved = n->pool;
  if (n->pool) {
    auto ip = n->pool->allocate(requested);
    if (!ip) {
      if (ip.error().code() == ErrorCode::Unavailable) {
        return base::make_error(ErrorCode::Unavailable,
                                "no available IPv4 addresses on this network's address pools: {} "
                                "({})",
                                n->name, n->id);
      }
      return std::move(ip).error();
    }
    ep.ipv4_address = fmt::format("{}/{}", format_ipv4(*ip), n->pool->subnet().len);
    ep.mac_address = req.mac_address.empty() ? mac_for(*ip) : req.mac_address;
  }
  n->endpoints[container_id] = ep;
  if (auto r = save_endpoints_locked(*n); !r) {
    n->endpoints.erase(container_id);
    n->pool = std::move(saved);
    return std::move(r).error();
  }
  return ep;
}

base::Result<Endpoint> NetworkStore::disconnect(std::string_view term,
                                                const std::string& container) {
  std::lock_guard lock(mu_);
  Network* n = MYDOCKER_TRY(find_locked(term));
  auto it = n->endpoints.find(container);
  if (it == n->endpoints.end()) {
    std::string name = container.starts_with('/') ? container.substr(1) : container;
    it = std::find_if(n->endpoints.begin(), n->endpoints.end(),
                      [&](const auto& e) { return e.second.name == name; });
  }
  if (it == n->endpoints.end()) {
    return base::make_error(ErrorCode::Internal, "container {} is not connected to network {}",
                            container, n->name);
  }
  Endpoint ep = it->second;
  std::optional<AddressPool> saved = n->pool;
  if (n->pool && !ep.ipv4_address.empty()) {
    auto ip = parse_ipv4(ep.ipv4_address.substr(0, ep.ipv4_address.find('/')));
    if (ip) {
      (void)n->pool->release(*ip);
    }
  }
  n->endpoints.erase(it);
  if (auto r = save_endpoints_locked(*n); !r) {
    n->endpoints[ep.container_id] = ep;
    n->pool = std::move(saved);
    return std::move(r).error();
  }
  return ep;
}

std::map<std::string, Endpoint> NetworkStore::endpoints_of(const std::string& container_id) const {
  std::lock_guard lock(mu_);
  std::map<std::string, Endpoint> out;
  for (const auto& [id, n] : networks_) {
    if (auto it = n.endpoints.find(container_id); it != n.endpoints.end()) {
      out[n.name] = it->second;
    }
  }
  return out;
}

std::optional<std::vector<Ipv4>> NetworkStore::lookup(const std::string& container_id,
                                                      std::string_view name) const {
  std::string want = lower(name);
  while (!want.empty() && want.back() == '.') {
    want.pop_back();
  }
  if (want.empty()) {
    return std::nullopt;
  }
  std::lock_guard lock(mu_);
  std::vector<Ipv4> out;
  bool known = false;
  for (const auto& [id, n] : networks_) {
    if (n.predefined() || n.endpoints.count(container_id) == 0) {
      continue;
    }
    for (const auto& [cid, ep] : n.endpoints) {
      for (const auto& dns_name : ep.dns_names()) {
        if (lower(dns_name) != want) {
          continue;
        }
        known = true;
        auto slash = ep.ipv4_address.find('/');
        if (auto ip = parse_ipv4(ep.ipv4_address.substr(0, slash))) {
          if (std::find(out.begin(), out.end(), *ip) == out.end()) {
            out.push_back(*ip);
          }
        }
        break;
      }
    }
  }
  if (!known) {
    return std::nullopt;
  }
  return out;
}

std::optional<std::string> NetworkStore::reverse_lookup(const std::string& container_id,
                                                        Ipv4 ip) const {
  std::lock_guard lock(mu_);
  for (const auto& [id, n] : networks_) {
    if (n.predefined() || n.endpoints.count(container_id) == 0) {
      continue;
    }
    for (const auto& [cid, ep] : n.endpoints) {
      auto slash = ep.ipv4_address.find('/');
      if (parse_ipv4(ep.ipv4_address.substr(0, slash)) == ip) {
        return ep.name + "." + n.name;
      }
    }
  }
  return std::nullopt;
}

}  // namespace mydocker::engine::network
