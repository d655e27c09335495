// SPDX-License-Identifier: Apache-2.0
// Bridges and endpoints: the plan-then-apply layer over netlink.h and netns.h.
//
// plan_*() are pure: names, MAC and routes follow from the request. setup_bridge(),
// attach_endpoint() and detach_endpoint() apply a plan and are idempotent where a daemon
// restart needs it (setup_bridge on an existing bridge checks and completes it).
//
//   host namespace                                   container namespace (NetNs)
//   ┌───────────────────────────┐                    ┌────────────────────────────┐
//   │ bridge mydocker0          │                    │ lo           up            │
//   │   172.17.0.1/16, up       │   veth pair        │ eth0         172.17.0.2/16 │
//   │   route_localnet=1        │◄──────────────────►│   02:42:ac:11:00:02, up    │
//   │ veth1a2b3c4 (master, up)  │                    │ default via 172.17.0.1     │
//   └───────────────────────────┘                    └────────────────────────────┘
//
// The veth pair is made by one RTM_NEWLINK: host end enslaved and up, peer created inside the
// namespace under its final name with its MTU and MAC; then, from a thread in the namespace,
// its address, up, lo up and the default route.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "engine/network/inet.h"
#include "engine/network/netlink.h"
#include "engine/network/netns.h"
#include "runtime/base/error.h"

namespace mydocker::engine::network::kernel {

struct BridgePlan {
  std::string name;  // e.g. "mydocker0" or "br-<12 hex of the network id>"
  Ipv4Net gateway;   // the bridge's address with the subnet's prefix, e.g. 172.18.0.1/16
  unsigned mtu = 0;  // 0: kernel default
  // net.ipv4.conf.<bridge>.route_localnet=1: lets the output DNAT of 127.0.0.1:<port> leave
  // through the bridge (the kernel drops loopback sources on other devices otherwise).
  bool route_localnet = true;
};

// Creates the bridge if missing, gives it the gateway address if missing, brings it up and
// sets its sysctls. On an existing bridge with another address: Conflict. A bridge this call
// created is deleted again if a later step fails.
base::Result<void> setup_bridge(Netlink& host, const BridgePlan& plan);

// Host-wide sysctls bridge networking needs: net.ipv4.ip_forward=1.
base::Result<void> enable_forwarding();

// Deletes the bridge; a missing one is fine.
base::Result<void> delete_bridge(Netlink& host, std::string_view name);

struct EndpointRequest {
  std::string endpoint_id;  // stable id (Docker's endpoint id); names the host veth
  std::string bridge;
  std::string ifname = "eth0";
  Ipv4Net address;                  // the container's address with the subnet's prefix
  std::optional<Ipv4Addr> gateway;  // default route via it (unset: no default route)
  unsigned mtu = 0;
  std::optional<MacAddr> mac;  // unset: derived from the address (02:42:...)
};

struct EndpointPlan {
  std::string host_veth;  // "veth" + 7 hex digits
  std::string bridge;
  std::string ifname;
  Ipv4Net address;
  std::optional<Ipv4Addr> gateway;
  unsigned mtu = 0;
  MacAddr mac;
  // Hairpin mode on the bridge port: lets a container reach its own published port through a
  // host address (the DNATed packet must go back out of the port it came in by; the bridge
  // refuses that otherwise). Docker sets it too when it runs without docker-proxy.
  bool hairpin = true;
};

// "veth" + the first 7 hex digits of a hash of the endpoint id: Docker's shape, and stable, so
// a restarted daemon can name the veth of an endpoint it has a record of.
std::string veth_name(std::string_view endpoint_id);
EndpointPlan plan_endpoint(const EndpointRequest& request);

// Sets a bridge port's hairpin mode (through sysfs, brport/hairpin_mode of the host's view).
base::Result<void> set_hairpin(std::string_view port, bool on);

// Brings `lo` up inside the namespace (every mode but host wants it; --network none too).
base::Result<void> setup_loopback(const NetNs& ns);

// Creates the veth pair and configures the namespace side. On failure the pair is deleted
// (which also removes the peer from the namespace). AlreadyExists when the host veth name or
// the interface name in the namespace is taken.
base::Result<void> attach_endpoint(Netlink& host, const NetNs& ns, const EndpointPlan& plan);

// Deletes the host veth (and with it the peer); a missing one is fine, so teardown and crash
// cleanup can call it blindly. For `network disconnect` of a running container: RTM_DELLINK
// waits for an RCU grace period (~30 ms here). Removing a container needs no detach: once
// its NetNs file is removed and its processes are gone, the kernel destroys the namespace,
// the peer and with it the host end (~1 ms for the caller).
base::Result<void> detach_endpoint(Netlink& host, std::string_view host_veth);

// Crash cleanup: deletes every link whose name starts with `prefix` and that `keep` refuses;
// returns the names deleted. With prefix "veth", pass a `keep` that spares veths not enslaved
// to one of our bridges (other software's).
template <typename Keep>
base::Result<std::vector<std::string>> delete_links_with_prefix(Netlink& nl,
                                                                std::string_view prefix,
                                                                Keep&& keep) {
  auto links = MYDOCKER_TRY(nl.list_links(prefix));
  std::vector<std::string> deleted;
  for (const auto& l : links) {
    if (keep(l)) {
      continue;
    }
    auto r = nl.delete_link(l.name);
    // NotFound: deleting a veth's other end earlier in this loop took this one too.
    if (!r && r.error().code() != base::ErrorCode::NotFound) {
      return std::move(r).error();
    }
    deleted.push_back(l.name);
  }
  return deleted;
}

}  // namespace mydocker::engine::network::kernel
