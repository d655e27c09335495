// SPDX-License-Identifier: Apache-2.0
// The firewall of our bridge networks, as one nftables table of our own, through libnftables.
//
// Everything lives in `table ip <name>` (default "mydocker"): we never touch another table or
// iptables' rules, and removing the table removes all of ours. The table is rendered from
// data (FirewallState) by pure functions, and applied in one libnftables call, which the
// kernel runs as one transaction: a rebuild replaces the whole table atomically (no moment
// without rules; conntrack keeps established NAT flows), and a container's ports are added or
// removed together or not at all.
//
//   table ip mydocker {
//     set bridges        our bridge names (isolation: drop forwarding between two of them)
//     map ports_any      l4proto . host port         : container ip . port   (0.0.0.0:port)
//     map ports_ip       host ip . l4proto . port    : container ip . port   (ip:port)
//     chain prerouting   nat, dstnat:  fib daddr type local -> published
//     chain output       nat, -100:    fib daddr type local -> published  (the host itself,
//                                      127.0.0.1 included: kernel DNAT, no userland proxy)
//     chain published    dnat through ports_ip, then ports_any
//     chain postrouting  nat, srcnat, per network:
//                          out the bridge from 127.0.0.0/8 -> masquerade  (localhost path;
//                            needs net.ipv4.conf.<bridge>.route_localnet=1)
//                          out the bridge, DNATed, from its own subnet -> masquerade (hairpin:
//                            a container reaching a published port of its own network)
//                          from the subnet out of any other interface -> masquerade
//     chain forward      filter, per network: isolation drops first, then established/DNATed
//                        in, anything out; unsolicited traffic into a bridge is dropped
//   }
//
// Published ports are map elements, not rules: adding or removing a container's ports never
// needs rule handles, and lookups are one hash probe whatever the number of ports. Networks
// change rarely, so adding or removing one re-renders the table.
//
// Thread-safety: a Firewall serialises its calls with its own mutex.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "engine/network/inet.h"
#include "runtime/base/error.h"

struct nft_ctx;

namespace mydocker::engine::network::kernel {

struct NetworkRules {
  std::string bridge;      // the bridge interface
  Ipv4Net subnet;          // e.g. 172.18.0.0/16
  bool masquerade = true;  // com.docker.network.bridge.enable_ip_masquerade
  bool internal = false;   // --internal: nothing in or out except to the bridge itself
};

struct PortMapping {
  Proto proto = Proto::Tcp;
  Ipv4Addr host_ip;  // 0.0.0.0: every local address
  uint16_t host_port = 0;
  Ipv4Addr container_ip;
  uint16_t container_port = 0;
  friend bool operator==(const PortMapping&, const PortMapping&) = default;
};

struct FirewallState {
  std::vector<NetworkRules> networks;
  std::map<std::string, std::vector<PortMapping>> ports;  // by owner (container/endpoint id)
};

// Pure renderers (nft syntax). InvalidArgument for a name nft could misread (bridge names are
// restricted to [A-Za-z0-9_.-], table names to [A-Za-z0-9_]).
// The whole table, replacing any previous one: "add table; delete table; table {...}".
base::Result<std::string> render_table(std::string_view table, const FirewallState& state);
base::Result<std::string> render_add_ports(std::string_view table,
                                           const std::vector<PortMapping>& ports);
base::Result<std::string> render_delete_ports(std::string_view table,
                                              const std::vector<PortMapping>& ports);

// A libnftables context. Not thread-safe.
class Nft {
 public:
  static base::Result<Nft> open();
  Nft(Nft&&) noexcept;
  Nft& operator=(Nft&&) noexcept;
  Nft(const Nft&) = delete;
  Nft& operator=(const Nft&) = delete;
  ~Nft();

  // Runs a script as one transaction; returns what nft prints (for `list`). The error carries
  // nft's own diagnostic (InvalidArgument for a rejected script, NotFound for "No such file or
  // directory" on a missing table/element).
  base::Result<std::string> run(std::string_view script);

 private:
  explicit Nft(nft_ctx* ctx) : ctx_(ctx) {}
  nft_ctx* ctx_ = nullptr;
};

class Firewall {
 public:
  // Does not touch the kernel: call replace() (a start-up rebuild from the records) first.
  Firewall(Nft nft, std::string table);

  const std::string& table() const { return table_; }

  // Replaces the table with one built from `state` (start-up and crash recovery: whatever a
  // previous run left in our table is gone afterwards).
  base::Result<void> replace(FirewallState state);
  // A network's rules; AlreadyExists when its bridge is already there.
  base::Result<void> add_network(const NetworkRules& network);
  // NotFound when no network uses that bridge.
  base::Result<void> remove_network(std::string_view bridge);
  // One owner's published ports, atomically. AlreadyExists when `owner` has ports already.
  base::Result<void> add_ports(const std::string& owner, std::vector<PortMapping> ports);
  // Removes every port of `owner`; a missing owner is fine (idempotent teardown).
  base::Result<void> remove_ports(const std::string& owner);
  // Deletes the table (a missing one is fine) and forgets the state.
  base::Result<void> remove_table();
  // `nft list table ip <table>`; NotFound when the table does not exist.
  base::Result<std::string> list();
  FirewallState state() const;

 private:
  mutable std::mutex mu_;  // guards nft_ and state_
  Nft nft_;
  std::string table_;
  FirewallState state_;
};

}  // namespace mydocker::engine::network::kernel
