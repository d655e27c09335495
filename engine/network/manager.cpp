// SPDX-License-Identifier: Apache-2.0
#include "engine/network/manager.h"

#include <spdlog/spdlog.h>

#include <filesystem>

#include "engine/network/endpoint.h"
#include "engine/network/firewall.h"
#include "engine/network/netlink.h"
#include "engine/network/netns.h"
#include "runtime/base/file.h"

namespace mydocker::engine::network {

namespace {

namespace k = kernel;

bool is_our_bridge_name(std::string_view name) {
  if (name.size() != 15 || name.substr(0, 3) != "br-") {
    return false;
  }
  for (char c : name.substr(3)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

k::Ipv4Net to_net(Ipv4 addr, int len) {
  return k::Ipv4Net{k::Ipv4Addr::from_u32(addr), len};
}

bool is_bridge(const Network& n) {
  return n.driver == "bridge" && n.pool.has_value();
}

k::NetworkRules rules_for(const Network& n) {
  k::NetworkRules r;
  r.bridge = n.bridge_name();
  r.subnet = to_net(n.pool->subnet().network(), n.pool->subnet().len);
  auto it = n.options.find(kOptMasquerade);
  r.masquerade = it == n.options.end() || it->second != "false";
  r.internal = n.internal;
  return r;
}

}  // namespace

std::string firewall_table_for(std::string_view default_bridge) {
  if (default_bridge == "mydocker0") {
    return "mydocker";
  }
  std::string t = "mydocker_";
  for (char c : default_bridge) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    t += ok ? c : '_';
  }
  return t;
}

std::vector<Prefix> host_routes(const std::set<std::string>& exclude) {
  std::vector<Prefix> out;
  auto text = base::read_file("/proc/net/route");
  if (!text) {
    return out;
  }
  for (const auto& r : parse_proc_net_route(*text)) {
    if (exclude.count(r.iface) != 0 || is_our_bridge_name(r.iface)) {
      continue;
    }
    out.push_back(r.destination);
  }
  return out;
}

Manager::Manager(ManagerOptions options) : options_(std::move(options)) {}
Manager::~Manager() = default;

base::Result<std::unique_ptr<Manager>> Manager::open(ManagerOptions options) {
  StoreOptions so;
  so.root = options.store_root;
  so.default_bridge = options.default_bridge;
  so.default_bridge_subnet = options.default_bridge_subnet;
  so.endpoint_root = options.endpoint_root;
  so.mtu = options.mtu;
  MYDOCKER_TRY(base::mkdir_all(so.root, 0700));
  auto routes = host_routes({options.default_bridge});
  std::unique_ptr<Manager> m(new Manager(std::move(options)));
  m->store_ = MYDOCKER_TRY_CTX(NetworkStore::open(std::move(so), routes),
                               "open the network records in `{}`", m->options_.store_root);
  return m;
}

bool Manager::kernel_ready() const {
  std::lock_guard lk(mu_);
  return kernel_ready_;
}

base::Result<void> Manager::ensure_kernel() {
  std::lock_guard lk(mu_);
  return ensure_kernel_locked();
}

base::Result<void> Manager::ensure_kernel_locked() {
  if (kernel_ready_) {
    return {};
  }
  MYDOCKER_TRY(base::mkdir_all(options_.netns_dir, 0711));
  MYDOCKER_TRY(k::make_netns_dir(options_.netns_dir));
  MYDOCKER_TRY(k::enable_forwarding());
  auto nl = MYDOCKER_TRY(k::Netlink::open());
  nl_ = std::make_unique<k::Netlink>(std::move(nl));
  auto nft = MYDOCKER_TRY(k::Nft::open());
  fw_ = std::make_unique<k::Firewall>(std::move(nft), options_.firewall_table);

  // The bridges of user networks (and of the default one when it already exists: a
  // restarted daemon whose containers use it), then one table for all of them.
  k::FirewallState state;
  bridges_up_.clear();
  for (const auto& n : store_->all()) {
    if (!is_bridge(n)) {
      continue;
    }
    if (n.predefined()) {
      if (!options_.use_default_bridge) {
        continue;
      }
      auto existing = MYDOCKER_TRY(nl_->find_link(n.bridge_name()));
      if (!existing) {
        continue;
      }
    }
    k::BridgePlan plan{n.bridge_name(), to_net(n.pool->gateway(), n.pool->subnet().len),
                       static_cast<unsigned>(n.mtu())};
    MYDOCKER_TRY_CTX(k::setup_bridge(*nl_, plan), "set up bridge `{}`", plan.name);
    state.networks.push_back(rules_for(n));
    bridges_up_.insert(plan.name);
  }
  MYDOCKER_TRY_CTX(fw_->replace(std::move(state)), "set up nftables table `{}`",
                   options_.firewall_table);
  kernel_ready_ = true;
  return {};
}

base::Result<void> Manager::ensure_bridge_locked(const Network& net) {
  MYDOCKER_TRY(ensure_kernel_locked());
  if (!is_bridge(net) || bridges_up_.count(net.bridge_name()) != 0) {
    return {};
  }
  k::BridgePlan plan{net.bridge_name(), to_net(net.pool->gateway(), net.pool->subnet().len),
                     static_cast<unsigned>(net.mtu())};
  MYDOCKER_TRY_CTX(k::setup_bridge(*nl_, plan), "set up bridge `{}`", plan.name);
  auto r = fw_->add_network(rules_for(net));
  if (!r && r.error().code() != base::ErrorCode::AlreadyExists) {
    (void)k::delete_bridge(*nl_, plan.name);
    return std::move(r).error();
  }
  bridges_up_.insert(plan.name);
  return {};
}

base::Result<CreateResult> Manager::create(const CreateRequest& req) {
  auto res = MYDOCKER_TRY(store_->create(req, host_routes({options_.default_bridge})));
  auto net = store_->find(res.id);
  if (!net || !is_bridge(*net)) {
    return res;
  }
  std::lock_guard lk(mu_);
  auto r = ensure_bridge_locked(*net);
  if (!r) {
    (void)store_->remove(res.id);
    return std::move(r).error();
  }
  return res;
}

base::Result<Network> Manager::remove(std::string_view ref) {
  auto net = MYDOCKER_TRY(store_->remove(ref));
  std::lock_guard lk(mu_);
  if (kernel_ready_ && is_bridge(net) && bridges_up_.erase(net.bridge_name()) != 0) {
    auto r = fw_->remove_network(net.bridge_name());
    if (!r && r.error().code() != base::ErrorCode::NotFound) {
      spdlog::warn("remove the rules of network {}: {}", net.name, r.error().message());
    }
    if (auto d = k::delete_bridge(*nl_, net.bridge_name()); !d) {
      spdlog::warn("delete bridge {}: {}", net.bridge_name(), d.error().message());
    }
  }
  return net;
}

base::Result<std::vector<Network>> Manager::prune(const FilterArgs& filters) {
  auto removed = MYDOCKER_TRY(store_->prune(filters));
  std::lock_guard lk(mu_);
  for (const auto& net : removed) {
    if (kernel_ready_ && is_bridge(net) && bridges_up_.erase(net.bridge_name()) != 0) {
      (void)fw_->remove_network(net.bridge_name());
      (void)k::delete_bridge(*nl_, net.bridge_name());
    }
  }
  return removed;
}

base::Result<std::vector<std::string>> Manager::cleanup(const std::set<std::string>& live) {
  std::lock_guard lk(mu_);
  std::vector<std::string> deleted;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(options_.netns_dir, ec)) {
    auto name = e.path().filename().string();
    if (live.count(name) != 0) {
      continue;
    }
    if (auto r = k::remove_netns(e.path().string()); r) {
      deleted.push_back(e.path().string());
    }
  }
  if (!kernel_ready_) {
    return deleted;
  }
  std::set<std::string> keep_veths;
  for (const auto& id : live) {
    for (const auto& [net, ep] : store_->endpoints_of(id)) {
      (void)net;
      keep_veths.insert(k::veth_name(ep.endpoint_id));
    }
  }
  std::set<int> ours;
  for (const auto& b : bridges_up_) {
    auto l = MYDOCKER_TRY(nl_->find_link(b));
    if (l) {
      ours.insert(l->index);
    }
  }
  auto gone = MYDOCKER_TRY(k::delete_links_with_prefix(*nl_, "veth", [&](const k::LinkInfo& l) {
    return ours.count(l.master) == 0 || keep_veths.count(l.name) != 0;
  }));
  deleted.insert(deleted.end(), gone.begin(), gone.end());
  return deleted;
}

std::string Manager::netns_path(const std::string& container_id) const {
  return options_.netns_dir + "/" + container_id;
}

base::Result<std::string> Manager::create_netns(const std::string& container_id) {
  {
    std::lock_guard lk(mu_);
    if (!kernel_ready_) {
      // --network none needs only the directory, not bridges or rules.
      MYDOCKER_TRY(base::mkdir_all(options_.netns_dir, 0711));
      MYDOCKER_TRY(k::make_netns_dir(options_.netns_dir));
    }
  }
  auto path = netns_path(container_id);
  if (k::is_netns_file(path)) {
    return path;
  }
  (void)k::remove_netns(path);
  auto ns =
      MYDOCKER_TRY_CTX(k::NetNs::create(path), "create the network namespace of {}", container_id);
  MYDOCKER_TRY(k::setup_loopback(ns));
  ns.release();
  return path;
}

base::Result<void> Manager::remove_netns(const std::string& container_id) {
  return k::remove_netns(netns_path(container_id));
}

base::Result<void> Manager::attach(const Network& net, const Endpoint& ep, const std::string& netns,
                                   const std::string& ifname) {
  std::lock_guard lk(mu_);
  MYDOCKER_TRY(ensure_bridge_locked(net));
  auto ns = MYDOCKER_TRY(k::NetNs::open(netns));
  k::EndpointRequest req;
  req.endpoint_id = ep.endpoint_id;
  req.bridge = net.bridge_name();
  req.ifname = ifname;
  req.address = MYDOCKER_TRY(k::Ipv4Net::parse(ep.ipv4_address));
  if (!net.internal && ifname == "eth0") {
    req.gateway = k::Ipv4Addr::from_u32(net.pool->gateway());
  }
  req.mtu = static_cast<unsigned>(net.mtu());
  if (!ep.mac_address.empty()) {
    req.mac = MYDOCKER_TRY(k::MacAddr::parse(ep.mac_address));
  }
  return k::attach_endpoint(*nl_, ns, k::plan_endpoint(req));
}

base::Result<void> Manager::detach(const Endpoint& ep) {
  std::lock_guard lk(mu_);
  if (!kernel_ready_) {
    return {};
  }
  return k::detach_endpoint(*nl_, k::veth_name(ep.endpoint_id));
}

base::Result<void> Manager::add_ports(const std::string& owner,
                                      const std::vector<k::PortMapping>& ports) {
  std::lock_guard lk(mu_);
  MYDOCKER_TRY(ensure_kernel_locked());
  return fw_->add_ports(owner, ports);
}

base::Result<void> Manager::remove_ports(const std::string& owner) {
  std::lock_guard lk(mu_);
  if (!kernel_ready_) {
    return {};
  }
  return fw_->remove_ports(owner);
}

}  // namespace mydocker::engine::network
