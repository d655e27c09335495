// SPDX-License-Identifier: Apache-2.0
// IPv4 address management for bridge networks, pure: data in, data out (moby's
// libnetwork/ipams/defaultipam + ipamutils). Nothing here touches the kernel; the caller reads
// the host's routes and passes them as data, and persists an AddressPool through to_json.
//
//   choose_subnet(pools, in_use, host_routes)   a subnet for a network created without one
//   validate_ipam(config)                        Docker's checks of user subnets/ranges/gateways
//   AddressPool                                  one network's allocations (gateway first, then
//                                                the lowest free address; released on removal)
//   mac_for(ip)                                  02:42:<ipv4 bytes>, as Docker's bridge driver
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/error.h"

namespace mydocker::engine::network {

// An IPv4 address in host byte order (10.0.0.1 == 0x0a000001).
using Ipv4 = uint32_t;

// A CIDR block. parse_cidr keeps the address as written (10.1.2.3/16); `masked()` is the
// network (10.1.0.0/16).
struct Prefix {
  Ipv4 addr = 0;
  int len = 0;

  Ipv4 mask() const { return len == 0 ? 0 : ~Ipv4{0} << (32 - len); }
  Ipv4 network() const { return addr & mask(); }
  Ipv4 broadcast() const { return network() | ~mask(); }
  Prefix masked() const { return {network(), len}; }
  bool contains(Ipv4 ip) const { return (ip & mask()) == network(); }
  bool overlaps(const Prefix& o) const { return contains(o.network()) || o.contains(network()); }
  bool operator==(const Prefix& o) const = default;
};

std::optional<Ipv4> parse_ipv4(std::string_view text);  // dotted quad only
std::string format_ipv4(Ipv4 ip);
std::optional<Prefix> parse_cidr(std::string_view text);  // "a.b.c.d/n", 0 <= n <= 32
std::string format_cidr(const Prefix& p);                 // "a.b.c.d/n" (as stored)

// Docker's bridge MAC for an address: 02:42 followed by the four bytes of the IPv4 address.
std::string mac_for(Ipv4 ip);

// A base block split into subnets of `size` bits (moby's ipamutils.NetworkToSplit).
struct PoolSpec {
  Prefix base;
  int size = 16;
};

// moby's localScopeDefaultNetworks: 172.17/16, 172.18/16, 172.19/16, 172.20/14, 172.24/14,
// 172.28/14 as /16s, then 192.168/16 as /20s: 31 candidates (172.17.0.0/16 ...
// 192.168.240.0/20).
std::vector<PoolSpec> default_address_pools();

// The candidates of `pools` in order.
std::vector<Prefix> expand_pools(const std::vector<PoolSpec>& pools);

// The first candidate overlapping neither a subnet in use nor a host route (routes with
// prefix length 0, the default route, never count, as in Docker). Unavailable, Docker's
// "could not find an available, non-overlapping IPv4 address pool among the defaults to assign
// to the network" when none is left.
base::Result<Prefix> choose_subnet(const std::vector<PoolSpec>& pools,
                                   const std::vector<Prefix>& in_use,
                                   const std::vector<Prefix>& host_routes);

// One IPv4 route of the host's main table.
struct HostRoute {
  std::string iface;
  Prefix destination;
};

// /proc/net/route (the kernel's main IPv4 table, what Docker's overlap check reads): every
// route with its interface; the default route (mask 0) is left out. Malformed lines are
// skipped. The caller drops the routes of our own bridges before choosing a subnet.
std::vector<HostRoute> parse_proc_net_route(std::string_view text);

// One entry of a network's IPAM.Config as a client sends it (strings, unvalidated).
struct IpamConfig {
  std::string subnet;
  std::string ip_range;
  std::string gateway;
  std::map<std::string, std::string> aux_addresses;  // AuxiliaryAddresses: name -> ip
  bool operator==(const IpamConfig&) const = default;
};

// Docker's ValidateIPAM for IPv4 entries (IPv6 ones are skipped, as with EnableIPv6 false):
// InvalidArgument "invalid network config:\n<error>" (several errors as "* a\n* b"), with
// "invalid subnet X: invalid CIDR block notation", "invalid subnet X: it should be Y",
// "invalid ip-range X: ...", "invalid gateway X: parent subnet S doesn't contain this address",
// "invalid auxiliary address NAME: ...".
base::Result<void> validate_ipam(const std::vector<IpamConfig>& config);

// The addresses of one network: its subnet, the range addresses are handed out from (the
// subnet unless --ip-range), the gateway and the addresses in use. Copyable value.
class AddressPool {
 public:
  AddressPool() = default;
  // `gateway` nullopt: the first usable address of the range. `reserved`: aux addresses,
  // never handed out. InvalidArgument when the gateway or range lies outside the subnet.
  static base::Result<AddressPool> create(Prefix subnet, std::optional<Prefix> range,
                                          std::optional<Ipv4> gateway,
                                          const std::vector<Ipv4>& reserved = {});

  const Prefix& subnet() const { return subnet_; }
  const Prefix& range() const { return range_; }
  Ipv4 gateway() const { return gateway_; }
  const std::set<Ipv4>& allocated() const { return allocated_; }

  // `requested`: that address (PermissionDenied "Address already in use" when taken or
  // reserved, InvalidArgument "requested address X is out of range" outside the subnet or a
  // network/broadcast address); else the lowest free address of the range, skipping the
  // network and broadcast addresses. Unavailable "no available IPv4 addresses" when full.
  base::Result<Ipv4> allocate(std::optional<Ipv4> requested = std::nullopt);
  // NotFound when not allocated. The gateway cannot be released.
  base::Result<void> release(Ipv4 ip);
  bool in_use(Ipv4 ip) const { return allocated_.count(ip) != 0 || ip == gateway_; }

  nlohmann::json to_json() const;
  static base::Result<AddressPool> from_json(const nlohmann::json& j);

 private:
  bool usable(Ipv4 ip) const;

  Prefix subnet_;
  Prefix range_;
  Ipv4 gateway_ = 0;
  std::set<Ipv4> reserved_;
  std::set<Ipv4> allocated_;  // endpoint addresses (not the gateway)
};

}  // namespace mydocker::engine::network
