// SPDX-License-Identifier: Apache-2.0
#include "engine/network/endpoint.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>

#include "runtime/base/file.h"
#include "runtime/base/scope_exit.h"

namespace mydocker::engine::network::kernel {

namespace {

// FNV-1a: stable across builds and platforms (std::hash is neither promised to be).
uint64_t fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

}  // namespace

base::Result<void> enable_forwarding() {
  return write_sysctl("net/ipv4/ip_forward", "1");
}

base::Result<void> setup_bridge(Netlink& host, const BridgePlan& plan) {
  auto existing = MYDOCKER_TRY(host.find_link(plan.name));
  bool created = false;
  if (!existing) {
    MYDOCKER_TRY(host.add_bridge(plan.name, plan.mtu));
    created = true;
  } else if (existing->kind != "bridge") {
    return base::make_error(base::ErrorCode::Conflict,
                            "link `{}` exists and is not a bridge (it is `{}`)", plan.name,
                            existing->kind.empty() ? "a device" : existing->kind);
  }
  base::ScopeExit undo([&] {
    if (created) {
      (void)host.delete_link(plan.name);
    }
  });
  auto addrs = MYDOCKER_TRY(host.addresses(plan.name));
  bool has = std::find(addrs.begin(), addrs.end(), plan.gateway) != addrs.end();
  if (!has) {
    for (const auto& a : addrs) {
      if (a.network() != plan.gateway.network()) {
        continue;
      }
      return base::make_error(base::ErrorCode::Conflict, "bridge `{}` has address `{}`, not `{}`",
                              plan.name, a.to_string(), plan.gateway.to_string());
    }
    MYDOCKER_TRY(host.add_address(plan.name, plan.gateway));
  }
  if (plan.route_localnet) {
    MYDOCKER_TRY(write_sysctl(fmt::format("net/ipv4/conf/{}/route_localnet", plan.name), "1"));
  }
  MYDOCKER_TRY(host.set_up(plan.name));
  undo.dismiss();
  return base::ok();
}

base::Result<void> delete_bridge(Netlink& host, std::string_view name) {
  auto r = host.delete_link(name);
  if (!r && r.error().code() != base::ErrorCode::NotFound) {
    return r;
  }
  return base::ok();
}

std::string veth_name(std::string_view endpoint_id) {
  return fmt::format("veth{:07x}", fnv1a(endpoint_id) & 0xfffffffULL);
}

EndpointPlan plan_endpoint(const EndpointRequest& request) {
  EndpointPlan plan;
  plan.host_veth = veth_name(request.endpoint_id);
  plan.bridge = request.bridge;
  plan.ifname = request.ifname;
  plan.address = request.address;
  plan.gateway = request.gateway;
  plan.mtu = request.mtu;
  plan.mac = request.mac ? *request.mac : mac_from_ip(request.address.addr);
  return plan;
}

base::Result<void> set_hairpin(std::string_view port, bool on) {
  // libnl can only send IFLA_PROTINFO through an AF_BRIDGE RTM_SETLINK it does not build for
  // a change request; the sysfs attribute is the same switch, one write.
  if (port.find('/') != std::string_view::npos || port.starts_with(".")) {
    return base::make_error(base::ErrorCode::InvalidArgument, "invalid interface name `{}`", port);
  }
  return base::write_file(fmt::format("/sys/class/net/{}/brport/hairpin_mode", port),
                          on ? "1" : "0");
}

base::Result<void> setup_loopback(const NetNs& ns) {
  return ns.run([]() -> base::Result<void> {
    auto nl = MYDOCKER_TRY(Netlink::open());
    return nl.set_up("lo");
  });
}

base::Result<void> attach_endpoint(Netlink& host, const NetNs& ns, const EndpointPlan& plan) {
  VethSpec spec;
  spec.host_name = plan.host_veth;
  spec.peer_name = plan.ifname;
  spec.peer_netns_fd = ns.fd();
  spec.mtu = plan.mtu;
  spec.peer_mac = plan.mac;
  spec.master = plan.bridge;
  spec.host_up = true;
  MYDOCKER_TRY_CTX(host.add_veth(spec), "attach endpoint to `{}`", plan.bridge);
  base::ScopeExit undo([&] { (void)host.delete_link(plan.host_veth); });
  if (plan.hairpin) {
    MYDOCKER_TRY(set_hairpin(plan.host_veth, true));
  }

  MYDOCKER_TRY(ns.run([&]() -> base::Result<void> {
    auto nl = MYDOCKER_TRY(Netlink::open());
    MYDOCKER_TRY(nl.add_address(plan.ifname, plan.address));
    MYDOCKER_TRY(nl.set_up(plan.ifname));
    MYDOCKER_TRY(nl.set_up("lo"));
    if (plan.gateway) {
      MYDOCKER_TRY(nl.add_route(Ipv4Net{Ipv4Addr{}, 0}, plan.gateway, plan.ifname));
    }
    return base::ok();
  }));
  undo.dismiss();
  return base::ok();
}

base::Result<void> detach_endpoint(Netlink& host, std::string_view host_veth) {
  auto r = host.delete_link(host_veth);
  if (!r && r.error().code() != base::ErrorCode::NotFound) {
    return r;
  }
  return base::ok();
}

}  // namespace mydocker::engine::network::kernel
