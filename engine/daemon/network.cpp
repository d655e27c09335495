// SPDX-License-Identifier: Apache-2.0
// LocalDaemon's networks: the Daemon network methods over network::Manager, and the start-up
// reconciliation of the kernel side with the records.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "engine/daemon/local_daemon_impl.h"
#include "engine/fs/etc_files.h"
#include "engine/network/dns.h"
#include "engine/network/firewall.h"
#include "engine/network/manager.h"
#include "engine/network/netns.h"
#include "engine/network/ports.h"

namespace mydocker::engine::detail {

namespace {

std::string bare_name(const std::string& name) {
  return !name.empty() && name.front() == '/' ? name.substr(1) : name;
}

// The endpoint settings a container was created with for network `name`
// (NetworkingConfig.EndpointsConfig: Aliases, IPAMConfig.IPv4Address).
network::EndpointRequest endpoint_config(const ContainerConfig& config, const std::string& name) {
  network::EndpointRequest req;
  auto it = config.extra.find("NetworkingConfig");
  if (it == config.extra.end() || !it->is_object()) {
    return req;
  }
  auto eps = it->find("EndpointsConfig");
  if (eps == it->end() || !eps->is_object()) {
    return req;
  }
  auto ep = eps->find(name);
  if (ep == eps->end() || !ep->is_object()) {
    return req;
  }
  if (auto a = ep->find("Aliases"); a != ep->end() && a->is_array()) {
    for (const auto& v : *a) {
      if (v.is_string()) {
        req.aliases.push_back(v.get<std::string>());
      }
    }
  }
  if (auto ipam = ep->find("IPAMConfig"); ipam != ep->end() && ipam->is_object()) {
    if (auto ip = ipam->find("IPv4Address"); ip != ipam->end() && ip->is_string()) {
      req.ipv4_address = ip->get<std::string>();
    }
  }
  return req;
}

// A named network mode (not one of Docker's special ones).
bool named_network(const std::string& mode) {
  return !mode.empty() && mode != "default" && mode != "bridge" && mode != "host" &&
         mode != "none" && mode.rfind("container:", 0) != 0;
}

// The network the mode names: a user network, or the default bridge for default/bridge when
// the daemon has one; "" for none, host, container: (and default without a bridge).
std::string mode_network(const std::string& mode, bool default_bridge) {
  if (named_network(mode)) {
    return mode;
  }
  if ((mode == "default" || mode == "bridge" || mode.empty()) && default_bridge) {
    return "bridge";
  }
  return "";
}

constexpr const char* kDetached = "MydockerDetached";  // mode network disconnected while stopped

// The networks a container is attached to (Docker keeps them in NetworkSettings.Networks,
// endpoints or not): the one its mode names first, then those `network connect` added
// (NetworkingConfig.EndpointsConfig keys; "default" is the mode's), less the mode's network
// when it was disconnected while the container was stopped.
std::vector<std::string> attached_networks(const ContainerInfo& info, bool default_bridge) {
  std::vector<std::string> out;
  std::string primary = mode_network(info.host_config.network_mode, default_bridge);
  auto nc = info.config.extra.find("NetworkingConfig");
  bool detached = nc != info.config.extra.end() && nc->is_object() && nc->value(kDetached, false);
  if (!primary.empty() && !detached) {
    out.push_back(primary);
  }
  if (nc != info.config.extra.end() && nc->is_object()) {
    if (auto eps = nc->find("EndpointsConfig"); eps != nc->end() && eps->is_object()) {
      for (auto it = eps->begin(); it != eps->end(); ++it) {
        if (it.key() != "default" && it.key() != primary) {
          out.push_back(it.key());
        }
      }
    }
  }
  return out;
}

// Records `name` among the container's networks (its endpoint settings kept for the next
// starts, as Docker keeps them).
void record_attachment(ContainerInfo& info, const std::string& name, const std::string& primary,
                       const network::EndpointRequest& req) {
  auto& nc = info.config.extra["NetworkingConfig"];
  if (!nc.is_object()) {
    nc = json::object();
  }
  if (name == primary) {
    nc.erase(kDetached);
  }
  json ep = json::object();
  if (!req.aliases.empty()) {
    ep["Aliases"] = req.aliases;
  }
  if (!req.ipv4_address.empty()) {
    ep["IPAMConfig"] = {{"IPv4Address", req.ipv4_address}};
  }
  if (!nc.contains("EndpointsConfig") || !nc["EndpointsConfig"].is_object()) {
    nc["EndpointsConfig"] = json::object();
  }
  nc["EndpointsConfig"][name] = ep;
}

void drop_attachment(ContainerInfo& info, const std::string& name, const std::string& primary) {
  auto& nc = info.config.extra["NetworkingConfig"];
  if (!nc.is_object()) {
    nc = json::object();
  }
  if (name == primary) {
    nc[kDetached] = true;
  }
  if (auto eps = nc.find("EndpointsConfig"); eps != nc.end() && eps->is_object()) {
    eps->erase(name);
    if (name == primary) {
      eps->erase("default");
    }
  }
}

namespace k = network::kernel;

// One published binding wanted by the container (HostConfig.PortBindings, -P).
struct WantedPort {
  std::string key;  // "80/tcp"
  k::Proto proto = k::Proto::Tcp;
  uint16_t container_port = 0;
  std::string host_ip;     // "" -> 0.0.0.0
  uint16_t host_port = 0;  // 0 -> a free one
};

base::Result<std::pair<uint16_t, k::Proto>> parse_port_key(const std::string& key) {
  auto slash = key.find('/');
  std::string proto = slash == std::string::npos ? "tcp" : key.substr(slash + 1);
  auto port = base::parse_uint64(key.substr(0, slash));
  if (!port || *port == 0 || *port > 65535 || (proto != "tcp" && proto != "udp")) {
    return make_error(ErrorCode::InvalidArgument, "invalid port `{}`", key);
  }
  return std::make_pair(static_cast<uint16_t>(*port),
                        proto == "udp" ? k::Proto::Udp : k::Proto::Tcp);
}

base::Result<std::vector<WantedPort>> wanted_ports(const ContainerInfo& info) {
  std::vector<WantedPort> out;
  std::set<std::string> bound;
  auto pb = info.host_config.extra.find("PortBindings");
  if (pb != info.host_config.extra.end() && pb->is_object()) {
    for (auto it = pb->begin(); it != pb->end(); ++it) {
      auto [port, proto] = MYDOCKER_TRY(parse_port_key(it.key()));
      bound.insert(it.key());
      if (!it.value().is_array()) {
        continue;
      }
      for (const auto& b : it.value()) {
        WantedPort w;
        w.key = it.key().find('/') == std::string::npos ? it.key() + "/tcp" : it.key();
        w.proto = proto;
        w.container_port = port;
        w.host_ip = b.value("HostIp", "");
        std::string hp = b.value("HostPort", "");
        if (!hp.empty()) {
          auto v = base::parse_uint64(hp);
          if (!v || *v > 65535) {
            return make_error(ErrorCode::InvalidArgument, "invalid hostPort: {}", hp);
          }
          w.host_port = static_cast<uint16_t>(*v);
        }
        out.push_back(std::move(w));
      }
    }
  }
  auto pa = info.host_config.extra.find("PublishAllPorts");
  if (pa != info.host_config.extra.end() && pa->is_boolean() && pa->get<bool>()) {
    for (const auto& [key, on] : info.config.exposed_ports) {
      (void)on;
      if (bound.count(key) != 0) {
        continue;
      }
      auto [port, proto] = MYDOCKER_TRY(parse_port_key(key));
      WantedPort w;
      w.key = key.find('/') == std::string::npos ? key + "/tcp" : key;
      w.proto = proto;
      w.container_port = port;
      out.push_back(std::move(w));
    }
  }
  return out;
}

// The container's hosts/resolv.conf before a start: replaced through a rename without fsync
// (they are regenerated at every start; a crash cannot tear them, a reboot re-creates them).
base::Result<void> replace_file(const std::string& path, std::string_view text) {
  std::string tmp = path + ".tmp";
  MYDOCKER_TRY(base::write_file(tmp, text, O_CREAT));
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    auto err = base::sys_error("rename `{}`", tmp);
    (void)::unlink(tmp.c_str());
    return err;
  }
  return {};
}

std::string ports_file(const std::string& state_dir) {
  return state_dir + "/ports.json";
}

// A socket bound to 127.0.0.11:53 inside the namespace at `netns` (TCP: listening); the
// descriptor keeps the socket there after the thread that made it has left.
base::Result<base::Fd> dns_socket(const std::string& netns, int type) {
  auto ns = MYDOCKER_TRY(k::NetNs::open(netns));
  base::Fd out;
  MYDOCKER_TRY(ns.run([&]() -> base::Result<void> {
    int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      return base::sys_error("socket");
    }
    out = base::Fd::adopt(fd);
    int one = 1;
    (void)::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(53);
    sa.sin_addr.s_addr = htonl(0x7f00000b);  // 127.0.0.11
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) < 0) {
      return base::sys_error("bind `127.0.0.11:53`");
    }
    if (type == SOCK_STREAM && ::listen(fd, 16) < 0) {
      return base::sys_error("listen on `127.0.0.11:53`");
    }
    return {};
  }));
  return out;
}

// The embedded DNS responder of a container on user networks: names from the store (so
// containers started or connected later resolve at once), the rest forwarded to --dns or the
// host's nameservers.
base::Result<std::unique_ptr<network::dns::Responder>> start_dns(network::Manager& m,
                                                                 const ContainerInfo& info) {
  auto udp = MYDOCKER_TRY(dns_socket(m.netns_path(info.id), SOCK_DGRAM));
  auto tcp = MYDOCKER_TRY(dns_socket(m.netns_path(info.id), SOCK_STREAM));
  network::dns::Names names;
  auto* store = &m.store();
  std::string id = info.id;
  names.lookup = [store, id](std::string_view name) { return store->lookup(id, name); };
  names.reverse = [store, id](network::Ipv4 ip) { return store->reverse_lookup(id, ip); };
  std::vector<std::string> dns;
  if (auto d = info.host_config.extra.find("Dns");
      d != info.host_config.extra.end() && d->is_array()) {
    for (const auto& v : *d) {
      if (v.is_string()) {
        dns.push_back(v.get<std::string>());
      }
    }
  }
  network::dns::ResponderOptions ro;
  ro.upstreams = network::dns::upstreams_for(
      network::dns::parse_resolv_conf(base::read_file("/etc/resolv.conf").value_or("")), dns);
  return network::dns::Responder::start(std::move(udp), std::move(tcp), std::move(names),
                                        std::move(ro));
}

// A container on at least one user-defined network gets the embedded DNS.
bool wants_dns(network::Manager& m, const std::string& id) {
  for (const auto& [name, ep] : m.store().endpoints_of(id)) {
    (void)ep;
    if (auto n = m.store().find(name); n && !n->predefined()) {
      return true;
    }
  }
  return false;
}

}  // namespace

struct LocalDaemon::NetPorts {
  std::vector<k::PortReservation> reservations;
  std::vector<k::PortMapping> mappings;
  nlohmann::ordered_json bindings = nlohmann::ordered_json::object();  // "80/tcp": [{HostIp..}]
  std::unique_ptr<network::dns::Responder> dns;  // on user networks: 127.0.0.11 inside
};

base::Result<network::Manager*> LocalDaemon::network_manager() {
  std::call_once(net_once_, [this] {
    network::ManagerOptions mo;
    mo.store_root = opts_.data_root + "/network";
    mo.netns_dir = opts_.exec_root + "/netns";
    mo.endpoint_root = opts_.exec_root + "/network";  // endpoints are volatile (see networks.h)
    mo.default_bridge = opts_.bridge.empty() ? "mydocker0" : opts_.bridge;  // "": never set up
    mo.default_bridge_subnet = opts_.bip;
    mo.use_default_bridge = !opts_.bridge.empty();
    mo.firewall_table = network::firewall_table_for(mo.default_bridge);
    auto m = network::Manager::open(std::move(mo));
    if (m) {
      net_ = std::move(*m);
    } else {
      net_error_ = std::move(m).error();
    }
  });
  if (!net_) {
    return *net_error_;
  }
  return net_.get();
}

base::Result<void> LocalDaemon::open_network() {
  auto* m = MYDOCKER_TRY(network_manager());
  std::set<std::string> live;
  bool endpoints = false;
  for (const auto& c : snapshot()) {
    std::lock_guard lk(c->mu);
    if (running_like(c->rec.info.state.status)) {
      live.insert(c->id());
      endpoints = endpoints || !m->store().endpoints_of(c->id()).empty();
    }
  }
  // Endpoints exist while their container runs: those of containers that stopped or went
  // while no daemon watched are left, their addresses released (their veths go in cleanup).
  for (const auto& c : snapshot()) {
    std::lock_guard lk(c->mu);
    const auto& mode = c->rec.info.host_config.network_mode;
    if (live.count(c->id()) != 0 && mode.rfind("container:", 0) == 0) {
      if (auto t = find(mode.substr(std::string_view("container:").size()))) {
        std::lock_guard plk(net_ports_mu_);
        joined_to_[c->id()] = (*t)->id();
      }
    }
  }
  bool user_networks = false;
  for (const auto& n : m->store().all()) {
    user_networks = user_networks || !n.predefined();
    for (const auto& [cid, ep] : n.endpoints) {
      if (live.count(cid) == 0 && m->store().disconnect(n.id, cid)) {
        spdlog::info("network cleanup: endpoint of container {} left network {}", cid, n.name);
      }
    }
  }
  // A daemon that never used a bridge leaves the host's network alone; one that did brings
  // its bridges and table back (after a reboot or a crash) and drops what no container owns.
  if (user_networks || endpoints) {
    MYDOCKER_TRY_CTX(m->ensure_kernel(), "set up networking");
  } else if (!path_exists_dir(m->options().netns_dir)) {
    return {};
  }
  auto deleted = MYDOCKER_TRY(m->cleanup(live));
  for (const auto& d : deleted) {
    spdlog::info("network cleanup: removed {}", d);
  }
  // Running containers keep their published ports: the same host ports reserved again and
  // their map elements back in the (replaced) table.
  for (const auto& c : snapshot()) {
    std::lock_guard lk(c->mu);
    if (live.count(c->id()) == 0 || !wants_dns(*m, c->id()) ||
        !k::is_netns_file(m->netns_path(c->id()))) {
      continue;
    }
    auto np = std::make_shared<NetPorts>();
    auto r = start_dns(*m, c->rec.info);
    if (!r) {
      spdlog::warn("container {}: DNS responder: {}", c->id(), r.error().to_string());
      continue;
    }
    np->dns = std::move(*r);
    std::lock_guard plk(net_ports_mu_);
    net_ports_[c->id()] = np;
  }
  for (const auto& id : live) {
    auto text = base::read_file(ports_file(state_dir(id)));
    if (!text) {
      continue;
    }
    auto record = nlohmann::json::parse(*text, nullptr, false);
    if (record.is_discarded() || !record.is_array()) {
      continue;
    }
    std::shared_ptr<NetPorts> np;
    {
      std::lock_guard plk(net_ports_mu_);
      auto& slot = net_ports_[id];
      if (!slot) {
        slot = std::make_shared<NetPorts>();
      }
      np = slot;
    }
    for (const auto& e : record) {
      auto hip = k::Ipv4Addr::parse(e.value("host_ip", ""));
      auto cip = k::Ipv4Addr::parse(e.value("container_ip", ""));
      if (!hip || !cip) {
        continue;
      }
      k::Proto proto = e.value("proto", "") == "udp" ? k::Proto::Udp : k::Proto::Tcp;
      auto port = e.value("host_port", uint16_t{0});
      auto res = k::PortReservation::reserve(proto, *hip, port);
      if (!res) {
        spdlog::warn("container {}: reserve port {} again: {}", id, port, res.error().message());
      } else {
        np->reservations.push_back(std::move(*res));
      }
      np->mappings.push_back(
          k::PortMapping{proto, *hip, port, *cip, e.value("container_port", uint16_t{0})});
      np->bindings[e.value("key", "")].push_back(
          {{"HostIp", hip->to_string()}, {"HostPort", std::to_string(port)}});
    }
    if (auto r = m->add_ports(id, np->mappings); !r) {
      spdlog::warn("container {}: publish its ports again: {}", id, r.error().message());
    }
  }
  return {};
}

bool LocalDaemon::path_exists_dir(const std::string& dir) {
  std::error_code ec;
  return std::filesystem::is_directory(dir, ec);
}

void LocalDaemon::emit_network(const network::Network& n, std::string_view action,
                               const std::string& container_id) {
  Event e;
  e.type = "network";
  e.action = std::string(action);
  e.actor_id = n.id;
  if (!container_id.empty()) {
    e.attributes["container"] = container_id;
  }
  e.attributes["name"] = n.name;
  e.attributes["type"] = n.driver;
  publish(std::move(e));
}

base::Result<std::vector<network::Network>> LocalDaemon::network_list(
    const std::map<std::string, std::vector<std::string>>& filters) {
  auto* m = MYDOCKER_TRY(network_manager());
  return m->store().list(filters);
}

base::Result<network::Network> LocalDaemon::network_inspect(std::string_view ref) {
  auto* m = MYDOCKER_TRY(network_manager());
  return m->store().find(ref);
}

base::Result<network::CreateResult> LocalDaemon::network_create(const network::CreateRequest& req) {
  if (stopping_) {
    return unavailable();
  }
  auto* m = MYDOCKER_TRY(network_manager());
  auto res = MYDOCKER_TRY(m->create(req));
  if (auto n = m->store().find(res.id)) {
    emit_network(*n, "create");
  }
  return res;
}

base::Result<void> LocalDaemon::network_remove(std::string_view ref) {
  auto* m = MYDOCKER_TRY(network_manager());
  auto n = MYDOCKER_TRY(m->remove(ref));
  emit_network(n, "destroy");
  return {};
}

base::Result<std::vector<std::string>> LocalDaemon::network_prune(
    const std::map<std::string, std::vector<std::string>>& filters) {
  auto* m = MYDOCKER_TRY(network_manager());
  auto removed = MYDOCKER_TRY(m->prune(filters));
  std::vector<std::string> names;
  for (const auto& n : removed) {
    emit_network(n, "destroy");
    names.push_back(n.name);
  }
  return names;
}

base::Result<void> LocalDaemon::network_connect(std::string_view ref,
                                                const NetworkConnectRequest& req) {
  auto* m = MYDOCKER_TRY(network_manager());
  auto net = MYDOCKER_TRY(m->store().find(ref));
  auto c = MYDOCKER_TRY(find(req.container));
  std::lock_guard lk(c->mu);
  if (c->removed) {
    return make_error(ErrorCode::NotFound, "No such container: {}", req.container);
  }
  ContainerInfo& info = c->rec.info;
  const auto& mode = info.host_config.network_mode;
  if (mode == "host" || mode == "none" || mode.rfind("container:", 0) == 0) {
    // Docker: runconfig.ErrConflictHostNetwork / ErrConflictNoNetwork and friends.
    return make_error(ErrorCode::InvalidArgument,
                      "container sharing network namespace with another container or host "
                      "cannot be connected to any other network");
  }
  if (net.name == "host" || net.name == "none") {
    return make_error(ErrorCode::InvalidArgument,
                      "container cannot be disconnected from host network or connected to "
                      "host network");
  }
  std::string primary = mode_network(mode, !opts_.bridge.empty());
  if (!running_like(info.state.status)) {
    // Docker keeps the settings for the next start; no endpoint (and no address) until then.
    auto names = attached_networks(info, !opts_.bridge.empty());
    if (std::find(names.begin(), names.end(), net.name) != names.end()) {
      return {};  // Docker's updateNetworkSettings: a duplicate config is ignored
    }
    record_attachment(info, net.name, primary, req.endpoint);
    persist(*c);
    return {};
  }
  auto ep = MYDOCKER_TRY(m->store().connect(net.id, c->id(), bare_name(info.name), req.endpoint));
  auto path = m->netns_path(c->id());
  auto ifname = fmt::format("eth{}", m->store().endpoints_of(c->id()).size() - 1);
  if (auto r = m->attach(net, ep, path, ifname); !r) {
    (void)m->store().disconnect(net.id, c->id());
    return std::move(r).error();
  }
  record_attachment(info, net.name, primary, req.endpoint);
  persist(*c);
  if (!net.predefined()) {
    start_dns_live_locked(*c);
  }
  emit_network(net, "connect", c->id());
  return {};
}

base::Result<void> LocalDaemon::network_disconnect(std::string_view ref,
                                                   const NetworkDisconnectRequest& req) {
  auto* m = MYDOCKER_TRY(network_manager());
  auto net = MYDOCKER_TRY(m->store().find(ref));
  auto c = find(req.container);
  if (!c) {
    if (!req.force) {
      return std::move(c).error();
    }
    // A removed container's endpoint, by its name (docker network disconnect -f).
    auto ep = MYDOCKER_TRY(m->store().disconnect(net.id, req.container));
    (void)m->detach(ep);
    emit_network(net, "disconnect", ep.container_id);
    return {};
  }
  std::lock_guard lk((*c)->mu);
  ContainerInfo& info = (*c)->rec.info;
  std::string primary = mode_network(info.host_config.network_mode, !opts_.bridge.empty());
  if (!running_like(info.state.status)) {
    auto names = attached_networks(info, !opts_.bridge.empty());
    if (std::find(names.begin(), names.end(), net.name) == names.end()) {
      return make_error(ErrorCode::Internal, "container {} is not connected to network {}",
                        (*c)->id(), net.name);
    }
    drop_attachment(info, net.name, primary);
    persist(**c);
    return {};
  }
  auto ep = MYDOCKER_TRY(m->store().disconnect(net.id, (*c)->id()));
  if (auto r = m->detach(ep); !r) {
    spdlog::warn("container {}: delete the veth of network {}: {}", (*c)->id(), net.name,
                 r.error().message());
  }
  drop_attachment(info, net.name, primary);
  persist(**c);
  emit_network(net, "disconnect", (*c)->id());
  return {};
}

base::Result<void> LocalDaemon::join_network_locked(Container& c, json& spec) {
  ContainerInfo& info = c.rec.info;
  std::string ref = info.host_config.network_mode.substr(std::string_view("container:").size());
  auto target = MYDOCKER_TRY(find(ref));
  if (target.get() == &c) {
    return make_error(ErrorCode::Internal, "cannot join own network");
  }
  // Two containers joining each other at once would each hold its own lock and wait for the
  // other's: back off instead of blocking.
  std::unique_lock tlk(target->mu, std::defer_lock);
  for (int i = 0; !tlk.try_lock(); ++i) {
    if (i == 400) {
      return make_error(ErrorCode::Conflict, "container {} is busy, try again", ref);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const ContainerInfo& t = target->rec.info;
  if (t.state.status == Status::Restarting) {
    return make_error(ErrorCode::Conflict,
                      "Container {} is restarting, wait until the container is running", ref);
  }
  if (target->removed || !running_like(t.state.status) || t.state.pid <= 0) {
    return make_error(ErrorCode::Conflict, "cannot join network of a non running container: {}",
                      ref);
  }
  // The target's namespace: its file when it has one (SandboxKey), else its process's.
  std::string path = fmt::format("/proc/{}/ns/net", t.state.pid);
  if (net_ && k::is_netns_file(net_->netns_path(t.id))) {
    path = net_->netns_path(t.id);
  }
  {
    std::lock_guard plk(net_ports_mu_);
    joined_to_[info.id] = t.id;
  }
  for (auto& ns : spec["linux"]["namespaces"]) {
    if (ns.value("type", "") == "network") {
      ns["path"] = path;
    }
  }
  // Docker's initializeNetworkingPaths: the target's hostname, hosts and resolv.conf files
  // (shared, not copies) and its hostname.
  info.hostname_path = t.hostname_path;
  info.hosts_path = t.hosts_path;
  info.resolv_conf_path = t.resolv_conf_path;
  info.config.hostname = t.config.hostname;
  info.config.domainname = t.config.domainname;
  const std::map<std::string, std::string> files = {{"/etc/hostname", info.hostname_path},
                                                    {"/etc/hosts", info.hosts_path},
                                                    {"/etc/resolv.conf", info.resolv_conf_path}};
  for (auto& m : spec["mounts"]) {
    if (auto it = files.find(m.value("destination", ""));
        it != files.end() && !it->second.empty()) {
      m["source"] = it->second;
    }
  }
  if (spec.contains("hostname")) {
    spec["hostname"] = info.config.hostname;
  }
  for (auto& e : spec["process"]["env"]) {
    if (e.is_string() && e.get<std::string>().rfind("HOSTNAME=", 0) == 0) {
      e = "HOSTNAME=" + info.config.hostname;
    }
  }
  return {};
}

base::Result<void> LocalDaemon::setup_network_locked(Container& c, json& spec) {
  ContainerInfo& info = c.rec.info;
  const std::string& mode = info.host_config.network_mode;
  if (mode.rfind("container:", 0) == 0) {
    return join_network_locked(c, spec);
  }
  if (mode == "host") {
    return {};
  }
  auto* m = MYDOCKER_TRY(network_manager());
  // Docker's allocateNetwork: an endpoint (and an address) on each attached network for this
  // run only; the end of the run leaves them (teardown_network_locked). Without a default
  // bridge, default mode keeps the spec's own private namespace, loopback only.
  for (const auto& [name, ep] : m->store().endpoints_of(info.id)) {
    (void)ep;  // a previous run's, had its end been missed: a clean slate
    (void)m->store().disconnect(name, info.id);
  }
  base::ScopeExit leave([&] {
    for (const auto& [name, ep] : m->store().endpoints_of(info.id)) {
      (void)ep;
      (void)m->store().disconnect(name, info.id);
    }
  });
  std::string primary;
  std::set<std::string> joined;
  std::vector<network::Network> nets;
  for (const auto& name : attached_networks(info, !opts_.bridge.empty())) {
    auto net = MYDOCKER_TRY(m->store().find(name));
    if (!joined.insert(net.id).second) {
      continue;
    }
    if (primary.empty()) {
      primary = net.name;
    }
    MYDOCKER_TRY(m->store().connect(net.id, info.id, bare_name(info.name),
                                    endpoint_config(info.config, name)));
    nets.push_back(std::move(net));
  }
  auto endpoints = m->store().endpoints_of(info.id);
  if (mode != "none" && endpoints.empty()) {
    return write_etc_locked(info, "");
  }
  auto path = MYDOCKER_TRY(m->create_netns(info.id));
  base::ScopeExit drop([&] { (void)m->remove_netns(info.id); });
  std::string first_ip;
  if (mode != "none") {
    // The network named by the mode first (eth0, the default route), then the others.
    std::vector<std::string> order;
    for (const auto& [name, ep] : endpoints) {
      if (name == primary) {
        order.insert(order.begin(), name);
      } else {
        order.push_back(name);
      }
    }
    int n = 0;
    for (const auto& name : order) {
      auto net = MYDOCKER_TRY(m->store().find(name));
      const auto& ep = endpoints.at(name);
      MYDOCKER_TRY_CTX(m->attach(net, ep, path, fmt::format("eth{}", n++)),
                       "connect container {} to network {}", info.id, name);
      if (first_ip.empty()) {
        first_ip = ep.ipv4_address.substr(0, ep.ipv4_address.find('/'));
      }
    }
  }
  auto& nss = spec["linux"]["namespaces"];
  bool found = false;
  for (auto& ns : nss) {
    if (ns.value("type", "") == "network") {
      ns["path"] = path;
      found = true;
    }
  }
  if (!found) {
    nss.push_back({{"type", "network"}, {"path", path}});
  }
  // Published ports: the host ports reserved (Docker's "port is already allocated"), then
  // DNAT map elements for all of them at once. Recorded in the state dir, so a restarted
  // daemon takes the same ports back.
  auto wanted = MYDOCKER_TRY(wanted_ports(info));
  bool dns = !first_ip.empty() && wants_dns(*m, info.id);
  auto np = std::make_shared<NetPorts>();
  if (dns) {
    np->dns = MYDOCKER_TRY_CTX(start_dns(*m, info), "start the DNS responder of {}", info.id);
  }
  if (!wanted.empty() && !first_ip.empty()) {
    auto cip = MYDOCKER_TRY(k::Ipv4Addr::parse(first_ip));
    nlohmann::json record = nlohmann::json::array();
    for (const auto& w : wanted) {
      auto hip = MYDOCKER_TRY(k::Ipv4Addr::parse(w.host_ip.empty() ? "0.0.0.0" : w.host_ip));
      auto res = MYDOCKER_TRY(k::PortReservation::reserve(w.proto, hip, w.host_port));
      np->mappings.push_back(k::PortMapping{w.proto, hip, res.port(), cip, w.container_port});
      np->bindings[w.key].push_back(
          {{"HostIp", hip.to_string()}, {"HostPort", std::to_string(res.port())}});
      record.push_back({{"key", w.key},
                        {"proto", std::string(k::proto_name(w.proto))},
                        {"host_ip", hip.to_string()},
                        {"host_port", res.port()},
                        {"container_ip", first_ip},
                        {"container_port", w.container_port}});
      np->reservations.push_back(std::move(res));
    }
    MYDOCKER_TRY(base::write_file(ports_file(state_dir(info.id)), record.dump(), O_CREAT));
    MYDOCKER_TRY(m->add_ports(info.id, np->mappings));
  }
  if (dns || !np->mappings.empty()) {
    std::lock_guard plk(net_ports_mu_);
    net_ports_[info.id] = np;
  }
  MYDOCKER_TRY(write_etc_locked(info, first_ip));
  if (dns && !info.resolv_conf_path.empty()) {
    // nameserver 127.0.0.11 with the host's search and options (Docker's rebuildDNS).
    auto host = network::dns::parse_resolv_conf(base::read_file("/etc/resolv.conf").value_or(""));
    MYDOCKER_TRY(
        replace_file(info.resolv_conf_path, network::dns::embedded_resolv_conf(host, {}, {})));
  }
  drop.dismiss();
  leave.dismiss();
  for (const auto& net : nets) {
    emit_network(net, "connect", info.id);
  }
  return {};
}

void LocalDaemon::start_dns_live_locked(Container& c) {
  const ContainerInfo& info = c.rec.info;
  std::shared_ptr<NetPorts> np;
  {
    std::lock_guard plk(net_ports_mu_);
    auto& slot = net_ports_[info.id];
    if (!slot) {
      slot = std::make_shared<NetPorts>();
    }
    np = slot;
  }
  if (np->dns || !net_ || !k::is_netns_file(net_->netns_path(info.id))) {
    return;
  }
  auto r = start_dns(*net_, info);
  if (!r) {
    spdlog::warn("container {}: DNS responder: {}", info.id, r.error().to_string());
    return;
  }
  np->dns = std::move(*r);
  if (!info.resolv_conf_path.empty()) {
    // Docker's rebuildDNS on a live sandbox: the file is bind-mounted into the container, so it
    // is rewritten in place (a rename would leave the container the old inode).
    auto host = network::dns::parse_resolv_conf(base::read_file("/etc/resolv.conf").value_or(""));
    if (auto w = base::write_file(info.resolv_conf_path,
                                  network::dns::embedded_resolv_conf(host, {}, {}));
        !w) {
      spdlog::warn("container {}: rewrite resolv.conf: {}", info.id, w.error().to_string());
    }
  }
}

base::Result<void> LocalDaemon::write_etc_locked(const ContainerInfo& info, const std::string& ip) {
  // /etc/hosts: the container's own name on its address (Docker's shape), then --add-host.
  auto extra = info.host_config.extra.find("ExtraHosts");
  bool has_extra = extra != info.host_config.extra.end() && extra->is_array() && !extra->empty();
  if (!info.hosts_path.empty() && (!ip.empty() || has_extra)) {
    std::string hostname =
        info.config.hostname.empty() ? info.id.substr(0, 12) : info.config.hostname;
    std::string text = fs::hosts_file(hostname);
    if (auto pos = text.find("127.0.1.1\t"); pos != std::string::npos && !ip.empty()) {
      text.replace(pos, 9, ip);
    }
    if (has_extra) {
      for (const auto& h : *extra) {
        if (!h.is_string()) {
          continue;
        }
        std::string entry = h.get<std::string>();
        auto colon = entry.find(':');
        if (colon != std::string::npos) {
          text += entry.substr(colon + 1) + "\t" + entry.substr(0, colon) + "\n";
        }
      }
    }
    MYDOCKER_TRY(replace_file(info.hosts_path, text));
  }
  // /etc/resolv.conf: --dns replaces the host's nameservers.
  auto dns = info.host_config.extra.find("Dns");
  if (!info.resolv_conf_path.empty() && dns != info.host_config.extra.end() && dns->is_array() &&
      !dns->empty()) {
    std::string text;
    for (const auto& d : *dns) {
      if (d.is_string()) {
        text += "nameserver " + d.get<std::string>() + "\n";
      }
    }
    MYDOCKER_TRY(replace_file(info.resolv_conf_path, text));
  }
  return {};
}

void LocalDaemon::teardown_network_locked(Container& c) {
  bool shared = false;  // containers joined its namespace and keep it alive
  {
    std::lock_guard plk(net_ports_mu_);
    net_ports_.erase(c.id());  // the reservations close with it
    joined_to_.erase(c.id());
    for (const auto& [joiner, target] : joined_to_) {
      shared = shared || target == c.id();
    }
  }
  if (!net_) {
    return;  // never opened: nothing of ours exists
  }
  if (shared) {
    // The namespace outlives the file: its interfaces go now, or the joiners would keep
    // addresses the pool hands out again.
    for (const auto& [name, ep] : net_->store().endpoints_of(c.id())) {
      if (auto r = net_->detach(ep); !r) {
        spdlog::warn("container {}: delete the veth of network {}: {}", c.id(), name,
                     r.error().message());
      }
    }
  }
  if (auto r = net_->remove_ports(c.id()); !r) {
    spdlog::warn("container {}: remove its published ports: {}", c.id(), r.error().message());
  }
  if (auto r = net_->remove_netns(c.id()); !r) {
    spdlog::warn("container {}: remove its network namespace: {}", c.id(), r.error().message());
  }
  // Docker's releaseNetwork: the endpoints are left when the run ends (addresses released; the
  // container keeps its networks for the next start).
  for (const auto& [name, ep] : net_->store().endpoints_of(c.id())) {
    (void)ep;
    if (auto net = net_->store().find(name)) {
      (void)net_->store().disconnect(net->id, c.id());
      emit_network(*net, "disconnect", c.id());
    }
  }
}

void LocalDaemon::release_network_locked(Container& c) {
  teardown_network_locked(c);
}

void LocalDaemon::fill_network_settings(ContainerInfo& info) {
  using OJ = nlohmann::ordered_json;
  if (info.host_config.network_mode.rfind("container:", 0) == 0) {
    // Docker: no endpoint and no sandbox of its own; the API renders the empty settings.
    info.network_settings = nullptr;
    return;
  }
  if (!net_) {
    return;
  }
  auto eps = net_->store().endpoints_of(info.id);
  std::shared_ptr<NetPorts> np;
  {
    std::lock_guard plk(net_ports_mu_);
    if (auto it = net_ports_.find(info.id); it != net_ports_.end()) {
      np = it->second;
    }
  }
  // The attached networks (endpoints only while running), by their current names.
  std::vector<std::string> names;
  for (const auto& name : attached_networks(info, !opts_.bridge.empty())) {
    auto net = net_->store().find(name);
    std::string n = net ? net->name : name;
    if (std::find(names.begin(), names.end(), n) == names.end()) {
      names.push_back(n);
    }
  }
  for (const auto& [name, ep] : eps) {
    (void)ep;
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      names.push_back(name);
    }
  }
  if (names.empty() && !np) {
    return;
  }
  bool running = running_like(info.state.status);
  OJ ports = OJ::object();
  if (running) {
    if (np) {
      ports = np->bindings;
    }
    for (const auto& [key, on] : info.config.exposed_ports) {
      (void)on;
      if (!ports.contains(key)) {
        ports[key] = nullptr;
      }
    }
  }
  OJ networks = OJ::object();
  OJ top = {{"EndpointID", ""},
            {"Gateway", ""},
            {"IPAddress", ""},
            {"IPPrefixLen", 0},
            {"MacAddress", ""}};
  for (const auto& name : names) {
    auto net = net_->store().find(name);
    auto it = eps.find(name);
    // A stopped container shows its networks without operational data (Docker's
    // cleanOperationalData).
    const network::Endpoint* ep = it != eps.end() ? &it->second : nullptr;
    std::string gateway;
    int prefix = 0;
    if (ep != nullptr && net && net->pool) {
      gateway = network::format_ipv4(net->pool->gateway());
      prefix = net->pool->subnet().len;
    }
    std::string ip =
        ep != nullptr ? ep->ipv4_address.substr(0, ep->ipv4_address.find('/')) : std::string();
    auto req = endpoint_config(info.config, name);
    OJ ipam = nullptr;
    if (!req.ipv4_address.empty()) {
      ipam = {{"IPv4Address", req.ipv4_address}};
    }
    OJ aliases = nullptr;
    if (net && !net->predefined()) {
      aliases = OJ::array();
      for (const auto& a : ep != nullptr ? ep->aliases : req.aliases) {
        aliases.push_back(a);
      }
      aliases.push_back(info.id.substr(0, 12));
    }
    std::string endpoint_id = ep != nullptr ? ep->endpoint_id : "";
    std::string mac = ep != nullptr ? ep->mac_address : "";
    networks[name] = {{"IPAMConfig", ipam},        {"Links", nullptr},
                      {"Aliases", aliases},        {"NetworkID", net ? net->id : ""},
                      {"EndpointID", endpoint_id}, {"Gateway", gateway},
                      {"IPAddress", ip},           {"IPPrefixLen", prefix},
                      {"IPv6Gateway", ""},         {"GlobalIPv6Address", ""},
                      {"GlobalIPv6PrefixLen", 0},  {"MacAddress", mac},
                      {"DriverOpts", nullptr}};
    if (name == "bridge" && ep != nullptr) {
      top = {{"EndpointID", endpoint_id},
             {"Gateway", gateway},
             {"IPAddress", ip},
             {"IPPrefixLen", prefix},
             {"MacAddress", mac}};
    }
  }
  std::string key = running && network::kernel::is_netns_file(net_->netns_path(info.id))
                        ? net_->netns_path(info.id)
                        : "";
  info.network_settings = {{"Bridge", ""},
                           {"SandboxID", key.empty() ? "" : info.id},
                           {"HairpinMode", false},
                           {"LinkLocalIPv6Address", ""},
                           {"LinkLocalIPv6PrefixLen", 0},
                           {"Ports", ports},
                           {"SandboxKey", key},
                           {"SecondaryIPAddresses", nullptr},
                           {"SecondaryIPv6Addresses", nullptr},
                           {"EndpointID", top["EndpointID"]},
                           {"Gateway", top["Gateway"]},
                           {"GlobalIPv6Address", ""},
                           {"GlobalIPv6PrefixLen", 0},
                           {"IPAddress", top["IPAddress"]},
                           {"IPPrefixLen", top["IPPrefixLen"]},
                           {"IPv6Gateway", ""},
                           {"MacAddress", top["MacAddress"]},
                           {"Networks", networks}};
}

}  // namespace mydocker::engine::detail
