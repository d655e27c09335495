// SPDX-License-Identifier: Apache-2.0
// The engine's network manager: the records (net_model: NetworkStore, IPAM) and the kernel
// side (net_kernel: bridges, veths, netns files, our nftables table) driven together.
//
// The kernel side comes up lazily: a daemon that never uses a bridge network never creates a
// bridge, a namespace directory or a firewall table (private test daemons, hosts without
// networking needs). ensure_kernel() brings it up once: <exec-root>/netns as a shared mount,
// net.ipv4.ip_forward=1, the bridges of every user-defined bridge network (the default
// bridge `mydocker0` only once a container or a network operation needs it), and our
// nftables table replaced by one rendered from the records (crash recovery: whatever a
// previous run left in the table is gone). The daemon calls it at start-up when the records
// name user networks, so a restarted daemon re-creates what a reboot removed.
//
// Thread-safety: every method may be called from many threads; kernel work is serialised by
// one mutex (held across netlink/nft calls, never across the store's own lock).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/network/networks.h"
#include "runtime/base/error.h"

namespace mydocker::engine::network {

namespace kernel {
class Netlink;
class Firewall;
struct PortMapping;
}  // namespace kernel

struct ManagerOptions {
  std::string store_root;     // <data-root>/network
  std::string netns_dir;      // <exec-root>/netns
  std::string endpoint_root;  // <exec-root>/network: volatile endpoints ("" -> in the records)
  std::string default_bridge = "mydocker0";  // Linux bridge of the `bridge` network
  std::string default_bridge_subnet;         // "" -> from the pools (Docker's --bip)
  bool use_default_bridge = true;            // false (-b none): never set up, not even found
  std::string firewall_table = "mydocker";   // `table ip <name>`
  int mtu = 1500;
};

// The table name for a default bridge name: "mydocker" for mydocker0, else "mydocker_" and the
// bridge name with anything but [A-Za-z0-9_] as '_' (a private daemon with its own bridge
// gets its own table).
std::string firewall_table_for(std::string_view default_bridge);

// The host's IPv4 routes (/proc/net/route) except those of `exclude` interfaces and of
// bridges named like ours ("br-" + 12 hex), for choosing subnets that do not clash.
std::vector<Prefix> host_routes(const std::set<std::string>& exclude);

class Manager {
 public:
  // Opens (or creates) the records; touches no kernel state.
  static base::Result<std::unique_ptr<Manager>> open(ManagerOptions options);
  ~Manager();
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  NetworkStore& store() { return *store_; }
  const ManagerOptions& options() const { return options_; }

  // Brings the kernel side up (see above); idempotent, cheap once done.
  base::Result<void> ensure_kernel();
  bool kernel_ready() const;

  // Records a network and, for a bridge network, creates its bridge and rules; on a kernel
  // failure the record is removed again. Refusals as NetworkStore::create.
  base::Result<CreateResult> create(const CreateRequest& req);
  // Removes a network without endpoints, its bridge and its rules.
  base::Result<Network> remove(std::string_view ref);
  // Removes unused user networks (see NetworkStore::prune) with their bridges and rules.
  base::Result<std::vector<Network>> prune(const FilterArgs& filters);

  // Crash cleanup at start-up: deletes the namespace files in netns_dir that no container in
  // `live` owns (named by container ID) and, when the kernel side is up, the veths enslaved
  // to our bridges that belong to no endpoint of theirs (veth_name() of the endpoint ID).
  // Returns what was deleted, for the log.
  base::Result<std::vector<std::string>> cleanup(const std::set<std::string>& live);

  // The container side (used by container start/stop and connect/disconnect).
  // A new namespace file <netns_dir>/<container id> (kept until remove_netns); loopback up.
  base::Result<std::string> create_netns(const std::string& container_id);
  // Unmounts and unlinks the file (the kernel then drops the container's veths); missing: ok.
  base::Result<void> remove_netns(const std::string& container_id);
  std::string netns_path(const std::string& container_id) const;
  // The veth pair of `ep` on network `net`: the bridge is set up first if needed; `ifname`
  // the interface name inside (eth0, eth1, ...). On failure nothing is left.
  base::Result<void> attach(const Network& net, const Endpoint& ep, const std::string& netns,
                            const std::string& ifname);
  // Deletes the host veth of `ep` (network disconnect of a running container).
  base::Result<void> detach(const Endpoint& ep);

  // Published ports of `owner` (a container ID) as DNAT map elements: atomically, all or
  // none. The caller holds the host ports' reservations (kernel::PortReservation).
  base::Result<void> add_ports(const std::string& owner,
                               const std::vector<kernel::PortMapping>& ports);
  // Removes every port of `owner`; none is fine.
  base::Result<void> remove_ports(const std::string& owner);

 private:
  explicit Manager(ManagerOptions options);
  base::Result<void> ensure_kernel_locked();
  base::Result<void> ensure_bridge_locked(const Network& net);

  ManagerOptions options_;
  std::unique_ptr<NetworkStore> store_;
  mutable std::mutex mu_;  // guards everything below
  bool kernel_ready_ = false;
  std::unique_ptr<kernel::Netlink> nl_;
  std::unique_ptr<kernel::Firewall> fw_;
  std::set<std::string> bridges_up_;  // bridges set up (and in the firewall) by this run
};

}  // namespace mydocker::engine::network
