// SPDX-License-Identifier: Apache-2.0
// Links, addresses and routes over rtnetlink, through libnl-route-3.
//
// A Netlink owns one NETLINK_ROUTE socket. A netlink socket belongs to the network namespace
// of the thread that opened it, for its whole life: open() inside NetNs::run() to work in a
// container's namespace, or on any daemon thread for the host's. Not thread-safe: one per
// thread (libnl sockets keep sequence state); opening one costs a socket() and a bind().
//
// libnl-route (not libmnl): it models links, addresses and routes as objects and builds the
// nested attributes (IFLA_LINKINFO, the veth peer's own ifinfomsg, nexthops) for us; with
// libmnl each of those is hand-packed TLV code, where a wrong nesting is a silent kernel
// EINVAL. libnl's cost (a heavier API, refcounted objects) is wrapped here once.
//
// Errors: NotFound for a missing link, AlreadyExists for a name or address already there,
// PermissionDenied without CAP_NET_ADMIN; the message names the link.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/network/inet.h"
#include "runtime/base/error.h"

struct nl_sock;

namespace mydocker::engine::network::kernel {

struct LinkInfo {
  std::string name;
  int index = 0;
  std::string kind;  // "bridge", "veth", ... ("" for physical devices and lo)
  int master = 0;    // the bridge's index when enslaved, else 0
  bool up = false;   // IFF_UP (administratively up)
  unsigned mtu = 0;
  std::optional<MacAddr> mac;
};

// A veth pair whose peer is created directly inside another namespace under its final name:
// one RTM_NEWLINK, no window where the peer sits in the host namespace under a temporary name
// (Docker creates it on the host, moves it and renames it: three round trips).
struct VethSpec {
  std::string host_name;   // e.g. "veth1a2b3c4" (IFNAMSIZ: at most 15 characters)
  std::string peer_name;   // e.g. "eth0", inside `peer_netns_fd`
  int peer_netns_fd = -1;  // -1: the peer stays in this socket's namespace
  unsigned mtu = 0;        // 0: the kernel's default (1500)
  std::optional<MacAddr> peer_mac;
  std::string master;   // bridge to enslave the host end to ("" for none)
  bool host_up = true;  // bring the host end up at creation
};

class Netlink {
 public:
  // Opens a socket in the calling thread's network namespace.
  static base::Result<Netlink> open();

  Netlink(Netlink&&) noexcept;
  Netlink& operator=(Netlink&&) noexcept;
  Netlink(const Netlink&) = delete;
  Netlink& operator=(const Netlink&) = delete;
  ~Netlink();

  // nullopt when no link has that name.
  base::Result<std::optional<LinkInfo>> find_link(std::string_view name);
  // NotFound when no link has that name.
  base::Result<LinkInfo> link(std::string_view name);
  // Every link whose name starts with `prefix` (all of them for ""), by index.
  base::Result<std::vector<LinkInfo>> list_links(std::string_view prefix = "");

  // A bridge, down, without addresses. AlreadyExists when the name is taken.
  base::Result<void> add_bridge(std::string_view name, unsigned mtu = 0);
  // AlreadyExists when either name is taken (in its namespace).
  base::Result<void> add_veth(const VethSpec& spec);
  // NotFound when missing. Deleting one end of a veth pair deletes both.
  base::Result<void> delete_link(std::string_view name);

  base::Result<void> set_up(std::string_view name);
  base::Result<void> set_down(std::string_view name);
  base::Result<void> set_mtu(std::string_view name, unsigned mtu);
  base::Result<void> set_mac(std::string_view name, const MacAddr& mac);
  base::Result<void> set_master(std::string_view name, std::string_view master);
  base::Result<void> rename(std::string_view name, std::string_view new_name);
  // Moves the link into the namespace `netns_fd` refers to (it disappears from this one).
  base::Result<void> move_to_netns(std::string_view name, int netns_fd);

  // AlreadyExists when the link already has this exact address.
  base::Result<void> add_address(std::string_view name, const Ipv4Net& address);
  // The link's IPv4 addresses, with their prefix lengths.
  base::Result<std::vector<Ipv4Net>> addresses(std::string_view name);

  // A route in the main table: `dst` via `gateway` (unset: on-link) out of `name`. A default
  // route is dst 0.0.0.0/0. AlreadyExists when the same route is there.
  base::Result<void> add_route(const Ipv4Net& dst, std::optional<Ipv4Addr> gateway,
                               std::string_view name);

 private:
  explicit Netlink(nl_sock* sock) : sock_(sock) {}
  base::Result<int> index_of(std::string_view name);
  // RTM_NEWLINK on an existing link with the changes `edit` makes to a blank link object.
  template <typename Edit>
  base::Result<void> change(std::string_view name, std::string_view what, Edit&& edit);
  nl_sock* sock_ = nullptr;
};

// Writes a sysctl through /proc/sys, given as a path under it ("net/ipv4/ip_forward" or
// "net/ipv4/conf/<ifname>/route_localnet": the path form keeps dotted interface names
// unambiguous). Skips the write when the value is already there. Per namespace: the file
// belongs to the namespace of the thread that opens it.
base::Result<void> write_sysctl(std::string_view key, std::string_view value);
base::Result<std::string> read_sysctl(std::string_view key);

}  // namespace mydocker::engine::network::kernel
