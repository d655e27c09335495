// SPDX-License-Identifier: Apache-2.0
// Network records (moby's libnetwork controller + daemon/network.go, the model only): the
// predefined networks `bridge` (the default bridge, Linux bridge mydocker0), `host` and `none`,
// user-defined bridge networks, their IPAM pools and their endpoints (one per connected
// container). No kernel work happens here: the engine creates bridges, veths and rules from
// what this store returns (create -> a record to realise; connect -> an endpoint with its
// address and MAC; remove/disconnect -> what to tear down).
//
// On disk, one JSON file per network, written atomically (temp + fsync + rename):
//
//   <root>/                      (<data-root>/network)
//     <network id>.json          {"version":1,"network":{...},"pool":{...},"endpoints":[...]}
//
// A store reopened reads them back (allocations included). With an `endpoint_root` (the
// engine's: <exec-root>/network, a tmpfs), endpoints are volatile state as in Docker (they
// exist while their container runs): the durable record holds the network only (written at
// create/remove) and the endpoints of a network live in <endpoint_root>/<network id>.json,
// replaced by rename without fsync at every connect/disconnect; reopening re-allocates their
// addresses. A daemon crash keeps them (the running containers keep their addresses); a
// reboot empties the tmpfs and with it every allocation. Errors carry Docker's wording and
// code (the API maps the code to HTTP):
//   NotFound          "network X not found"                                             404
//   InvalidArgument   "network X is ambiguous (N matches found based on ...)", bad IPAM,
//                     "Invalid filter 'k'", ...                                          400
//   AlreadyExists     "network with name X already exists" (CheckDuplicate)               409
//   PermissionDenied  "X is a pre-defined network and cannot be removed", "error while
//                     removing network: network X id ID has active endpoints", "endpoint with
//                     name C already exists in network X", "Pool overlaps with other one on
//                     this address space", "Address already in use"                        403
//   Internal          "container ID is not connected to network X"                          500
//
// Thread-safety: every method may be called from many threads; one mutex guards the records
// (held across the small atomic file write that commits a change, never across anything
// else). lookup() is what a DNS responder calls on every query: it reads memory only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/network/ipam.h"
#include "runtime/base/error.h"

namespace mydocker::engine::network {

using FilterArgs = std::map<std::string, std::vector<std::string>>;

// Docker's option keys (inspect's Options).
inline constexpr const char* kOptBridgeName = "com.docker.network.bridge.name";
inline constexpr const char* kOptDefaultBridge = "com.docker.network.bridge.default_bridge";
inline constexpr const char* kOptEnableIcc = "com.docker.network.bridge.enable_icc";
inline constexpr const char* kOptMasquerade = "com.docker.network.bridge.enable_ip_masquerade";
inline constexpr const char* kOptHostBinding = "com.docker.network.bridge.host_binding_ipv4";
inline constexpr const char* kOptMtu = "com.docker.network.driver.mtu";

// One container's attachment to a network (inspect's Containers entry, plus what the engine
// and the DNS responder need).
struct Endpoint {
  std::string container_id;          // 64 hex
  std::string name;                  // the container's name without "/" (Docker's endpoint name)
  std::string endpoint_id;           // 64 hex
  std::string mac_address;           // "02:42:ac:11:00:02"; "" on host/none networks
  std::string ipv4_address;          // "172.17.0.2/16"; "" on host/none networks
  std::string ipv6_address;          // always "" for now
  std::vector<std::string> aliases;  // --network-alias (user-defined networks only)
  // Names the DNS responder answers for on this network: name, aliases, the short ID (12 hex).
  std::vector<std::string> dns_names() const;
};

// A network as stored and inspected.
struct Network {
  std::string id;  // 64 hex
  std::string name;
  std::string created;  // RFC 3339 nano, UTC
  std::string scope = "local";
  std::string driver;  // "bridge", "host", "null"
  bool enable_ipv6 = false;
  std::string ipam_driver = "default";
  std::optional<std::map<std::string, std::string>> ipam_options;  // null unless given
  std::vector<IpamConfig> ipam_config;  // as shown by inspect (IPAM.Config)
  bool internal = false;
  bool attachable = false;
  bool ingress = false;
  std::string config_from;  // ConfigFrom.Network
  bool config_only = false;
  std::map<std::string, std::string> options;
  std::map<std::string, std::string> labels;
  std::map<std::string, Endpoint> endpoints;  // by container ID
  std::optional<AddressPool> pool;            // bridge networks: the effective IPv4 pool

  // bridge, host or none (Docker's runconfig.IsPreDefinedNetwork): not removable.
  bool predefined() const;
  // The Linux bridge: the bridge.name option, else "br-" + the first 12 hex of the ID.
  std::string bridge_name() const;
  // The MTU (com.docker.network.driver.mtu, else 1500).
  int mtu() const;
};

// POST /networks/create (types.NetworkCreateRequest).
struct CreateRequest {
  std::string name;
  bool check_duplicate = false;
  std::string driver;  // "" -> bridge
  bool internal = false;
  bool attachable = false;
  bool ingress = false;
  bool enable_ipv6 = false;
  std::string ipam_driver;  // "" -> default
  std::optional<std::map<std::string, std::string>> ipam_options;
  std::vector<IpamConfig> ipam_config;
  std::map<std::string, std::string> options;
  std::map<std::string, std::string> labels;
  bool config_only = false;
  std::string config_from;
};

struct CreateResult {
  std::string id;
  std::string warning;  // "" or "Network with name X (id : ID) already exists"
};

// EndpointSettings of a connect (or of a container's NetworkingConfig).
struct EndpointRequest {
  std::vector<std::string> aliases;
  std::string ipv4_address;  // IPAMConfig.IPv4Address: --ip
  std::string ipv6_address;  // IPAMConfig.IPv6Address (refused: no IPv6 yet)
  std::vector<std::string> links;
  std::string mac_address;  // "" -> derived from the IPv4 address
  std::map<std::string, std::string> driver_opts;
};

struct StoreOptions {
  std::string root;                          // <data-root>/network
  std::string default_bridge = "mydocker0";  // the default network's Linux bridge
  std::string default_bridge_subnet;         // "" -> chosen from the pools (Docker's --bip)
  std::string endpoint_root;  // volatile endpoint records (see above); "" -> in the records
  int mtu = 1500;
  std::vector<PoolSpec> pools = default_address_pools();
  // Test seams: a new 64-hex ID; the current time as RFC 3339 nano.
  std::function<std::string()> new_id;
  std::function<std::string()> now;
  std::function<int64_t()> now_unix;  // prune's `until`
};

class NetworkStore {
 public:
  // Loads <root>/*.json; creates `bridge`, `host` and `none` when missing (the default bridge's
  // subnet from the pools, avoiding `host_routes`: the host's IPv4 routes, read by the caller).
  static base::Result<std::unique_ptr<NetworkStore>> open(StoreOptions options,
                                                          const std::vector<Prefix>& host_routes);

  // Validates and records a bridge network (the caller then creates its bridge; on failure it
  // calls remove). Driver "" or "bridge"; "host"/"null": PermissionDenied "only one instance
  // of \"host\" network is allowed"; anything else NotFound "plugin \"X\" not found". A
  // predefined name: PermissionDenied "X is a pre-defined network and cannot be created".
  // A subnet is chosen when none is given (not overlapping networks nor `host_routes`); a
  // given one overlapping a network is PermissionDenied "Pool overlaps with other one on this
  // address space", overlapping a host route PermissionDenied "subnet X overlaps with host
  // route Y".
  base::Result<CreateResult> create(const CreateRequest& req,
                                    const std::vector<Prefix>& host_routes);

  // By full ID, exact name, or unique ID prefix (Docker's findUniqueNetwork).
  base::Result<Network> find(std::string_view term) const;
  // All networks: predefined first (bridge, none, host, as dockerd lists them), then user
  // networks by creation.
  std::vector<Network> all() const;
  // Docker's list filters: driver, id, label, name, scope, type (custom|builtin), dangling.
  base::Result<std::vector<Network>> list(const FilterArgs& filters) const;

  // Removes a user network without endpoints; returns it (the caller deletes its bridge).
  base::Result<Network> remove(std::string_view term);
  // Removes the user networks without endpoints matching until, label, label!; returns them
  // (in the order removed).
  base::Result<std::vector<Network>> prune(const FilterArgs& filters);

  // Attaches a container: allocates its address (req.ipv4_address honoured or refused) and
  // returns the endpoint. Refusals (before anything changes): PermissionDenied "endpoint with
  // name C already exists in network X"; on the default bridge InvalidArgument "user
  // specified IP address is supported on user defined networks only" and "network-scoped
  // alias is supported only for containers in user defined networks"; --ip on a network with
  // an automatic subnet InvalidArgument "user specified IP address is supported only when
  // connecting to networks with user configured subnets"; a full pool Unavailable "no
  // available IPv4 addresses on this network's address pools: X (ID)".
  base::Result<Endpoint> connect(std::string_view term, const std::string& container_id,
                                 const std::string& container_name, const EndpointRequest& req);
  // Detaches a container (by ID, or by endpoint name for a container that no longer exists)
  // and releases its address. Internal "container ID is not connected to network X".
  base::Result<Endpoint> disconnect(std::string_view term, const std::string& container);
  // The endpoints of a container on every network (container ID -> network name -> endpoint).
  std::map<std::string, Endpoint> endpoints_of(const std::string& container_id) const;

  // DNS: the IPv4 addresses of `name` (case-insensitive, a trailing "." ignored) on the
  // user-defined networks `container_id` is connected to; nullopt when the name is unknown
  // there (forward it), empty never. Only user-defined networks resolve names, as in Docker.
  std::optional<std::vector<Ipv4>> lookup(const std::string& container_id,
                                          std::string_view name) const;
  // DNS PTR: "name.network" for an address on one of the container's user networks.
  std::optional<std::string> reverse_lookup(const std::string& container_id, Ipv4 ip) const;

 private:
  explicit NetworkStore(StoreOptions options) : options_(std::move(options)) {}
  base::Result<void> save_locked(const Network& n);
  // The endpoints of `n` after a connect/disconnect (volatile record, or save_locked).
  base::Result<void> save_endpoints_locked(const Network& n);
  base::Result<void> load_endpoints(Network& n);
  std::string endpoints_path(const std::string& network_id) const;
  base::Result<Network*> find_locked(std::string_view term);
  const Network* find_const_locked(std::string_view term, base::Error* err) const;
  base::Result<void> add_predefined(const std::vector<Prefix>& host_routes);

  StoreOptions options_;
  mutable std::mutex mu_;                    // guards networks_ and order_
  std::map<std::string, Network> networks_;  // by ID
  std::vector<std::string> order_;           // IDs in creation order
};

// Docker's JSON for GET /networks/{id} (with_containers) and one item of GET /networks
// (Containers {}), key order as dockerd's (transcripts 223-244).
nlohmann::ordered_json to_docker_json(const Network& n, bool with_containers);

// One entry of a container's NetworkSettings.Networks (Docker's EndpointSettings, key order
// as dockerd's, transcript 068): `config` is what the container asked for (IPAMConfig null
// unless an address was requested, Links/Aliases null when empty), `ep` its live endpoint
// (nullptr for a stopped container: empty IDs and addresses). On user-defined networks the
// short container ID is listed among the Aliases, as dockerd 20.10 shows it.
nlohmann::ordered_json endpoint_settings_json(const Network& n, const Endpoint* ep,
                                              const EndpointRequest& config,
                                              const std::string& container_id);

// The record on disk, and back (InvalidArgument when malformed).
nlohmann::json network_to_record(const Network& n);
base::Result<Network> network_from_record(const nlohmann::json& j);

// A random 64-hex ID.
std::string random_id();

}  // namespace mydocker::engine::network
