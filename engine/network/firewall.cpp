// SPDX-License-Identifier: Apache-2.0
#include "engine/network/firewall.h"

#include <fmt/format.h>
#include <nftables/libnftables.h>

#include <algorithm>
#include <cstdio>
#include <utility>

namespace mydocker::engine::network::kernel {

namespace {

// Names go into the script unescaped inside quotes; anything nft's lexer could read as syntax
// (quotes, braces, semicolons, spaces) is refused instead of escaped.
base::Result<void> check_ifname(std::string_view name) {
  bool ok = !name.empty() && name.size() < 16;
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '.' || c == '-');
  }
  if (!ok) {
    return base::make_error(base::ErrorCode::InvalidArgument, "invalid bridge name `{}`", name);
  }
  return base::ok();
}

base::Result<void> check_table(std::string_view name) {
  bool ok = !name.empty() && name.size() < 64 && !(name[0] >= '0' && name[0] <= '9');
  for (char c : name) {
    ok = ok &&
         ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_');
  }
  if (!ok) {
    return base::make_error(base::ErrorCode::InvalidArgument, "invalid nftables table name `{}`",
                            name);
  }
  return base::ok();
}

base::Result<void> check_port(const PortMapping& p) {
  if (p.host_port == 0 || p.container_port == 0) {
    return base::make_error(base::ErrorCode::InvalidArgument,
                            "invalid port mapping `{}:{}:{}/{}`: port 0", p.host_ip.to_string(),
                            p.host_port, p.container_port, proto_name(p.proto));
  }
  return base::ok();
}

bool is_any(const PortMapping& p) {
  return p.host_ip.is_unspecified();
}

// The map key: "tcp . 8080" or "127.0.0.1 . tcp . 8080".
std::string port_key(const PortMapping& p) {
  if (is_any(p)) {
    return fmt::format("{} . {}", proto_name(p.proto), p.host_port);
  }
  return fmt::format("{} . {} . {}", p.host_ip.to_string(), proto_name(p.proto), p.host_port);
}

std::string port_element(const PortMapping& p) {
  return fmt::format("{} : {} . {}", port_key(p), p.container_ip.to_string(), p.container_port);
}

// "{ a, b }" of the elements of one map, for the mappings that go in it.
std::string elements(const std::vector<const PortMapping*>& ports, bool with_data) {
  std::string out;
  for (const PortMapping* p : ports) {
    if (!out.empty()) {
      out += ", ";
    }
    out += with_data ? port_element(*p) : port_key(*p);
  }
  return out;
}

constexpr std::string_view kAnyMapType = "inet_proto . inet_service : ipv4_addr . inet_service";
constexpr std::string_view kIpMapType =
    "ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service";

void split_ports(const std::vector<PortMapping>& ports, std::vector<const PortMapping*>& any,
                 std::vector<const PortMapping*>& ip) {
  for (const auto& p : ports) {
    (is_any(p) ? any : ip).push_back(&p);
  }
}

base::Result<std::string> render_ports(std::string_view verb, std::string_view table,
                                       const std::vector<PortMapping>& ports, bool with_data) {
  MYDOCKER_TRY(check_table(table));
  for (const auto& p : ports) {
    MYDOCKER_TRY(check_port(p));
  }
  std::vector<const PortMapping*> any;
  std::vector<const PortMapping*> ip;
  split_ports(ports, any, ip);
  std::string out;
  if (!any.empty()) {
    out +=
        fmt::format("{} element ip {} ports_any {{ {} }}\n", verb, table, elements(any, with_data));
  }
  if (!ip.empty()) {
    out +=
        fmt::format("{} element ip {} ports_ip {{ {} }}\n", verb, table, elements(ip, with_data));
  }
  return out;
}

base::ErrorCode code_of_nft_error(std::string_view text) {
  if (text.find("No such file or directory") != std::string_view::npos) {
    return base::ErrorCode::NotFound;
  }
  if (text.find("File exists") != std::string_view::npos) {
    return base::ErrorCode::AlreadyExists;
  }
  if (text.find("Operation not permitted") != std::string_view::npos) {
    return base::ErrorCode::PermissionDenied;
  }
  return base::ErrorCode::InvalidArgument;
}

}  // namespace

base::Result<std::string> render_table(std::string_view table, const FirewallState& state) {
  MYDOCKER_TRY(check_table(table));
  std::vector<std::string> bridges;
  for (const auto& n : state.networks) {
    MYDOCKER_TRY(check_ifname(n.bridge));
    bridges.push_back(fmt::format("\"{}\"", n.bridge));
  }
  std::vector<const PortMapping*> any;
  std::vector<const PortMapping*> ip;
  for (const auto& [owner, ports] : state.ports) {
    for (const auto& p : ports) {
      MYDOCKER_TRY(check_port(p));
    }
    split_ports(ports, any, ip);
  }

  std::string out;
  auto line = [&out](std::string_view indent, std::string_view text) {
    out += indent;
    out += text;
    out += '\n';
  };
  // Adding first makes the delete valid when the table does not exist yet; all three run in
  // one transaction, so the old table is replaced atomically.
  out += fmt::format("add table ip {0}\ndelete table ip {0}\ntable ip {0} {{\n", table);

  line("  ", "set bridges {");
  line("    ", "type ifname");
  if (!bridges.empty()) {
    line("    ", fmt::format("elements = {{ {} }}", fmt::join(bridges, ", ")));
  }
  line("  ", "}");
  line("  ", "map ports_any {");
  line("    ", fmt::format("type {}", kAnyMapType));
  if (!any.empty()) {
    line("    ", fmt::format("elements = {{ {} }}", elements(any, true)));
  }
  line("  ", "}");
  line("  ", "map ports_ip {");
  line("    ", fmt::format("type {}", kIpMapType));
  if (!ip.empty()) {
    line("    ", fmt::format("elements = {{ {} }}", elements(ip, true)));
  }
  line("  ", "}");

  // A lookup miss makes the dnat statement not match, so traffic to other ports goes on.
  line("  ", "chain published {");
  line("    ", "dnat to ip daddr . meta l4proto . th dport map @ports_ip");
  line("    ", "dnat to meta l4proto . th dport map @ports_any");
  line("  ", "}");
  // Only traffic to an address of this host is published, as Docker's `--dst-type LOCAL`:
  // a container's outgoing connection to some remote :8080 is left alone.
  line("  ", "chain prerouting {");
  line("    ", "type nat hook prerouting priority dstnat; policy accept;");
  line("    ", "fib daddr type local jump published");
  line("  ", "}");
  line("  ", "chain output {");
  line("    ", "type nat hook output priority -100; policy accept;");
  line("    ", "fib daddr type local jump published");
  line("  ", "}");

  line("  ", "chain postrouting {");
  line("    ", "type nat hook postrouting priority srcnat; policy accept;");
  for (const auto& n : state.networks) {
    std::string subnet = n.subnet.network().to_string();
    // The host reaching a published port on 127.0.0.1: after the output DNAT the packet
    // leaves through the bridge with a loopback source, which the container cannot answer.
    line("    ", fmt::format("oifname \"{}\" ip saddr 127.0.0.0/8 masquerade", n.bridge));
    // Hairpin: a container reaching a published port of its own network through a host
    // address; without this the reply would go straight back over the bridge, un-NATed.
    line("    ",
         fmt::format("oifname \"{}\" ip saddr {} ct status dnat masquerade", n.bridge, subnet));
    if (n.masquerade && !n.internal) {
      line("    ", fmt::format("oifname != \"{}\" ip saddr {} masquerade", n.bridge, subnet));
    }
  }
  line("  ", "}");

  line("  ", "chain forward {");
  line("    ", "type filter hook forward priority filter; policy accept;");
  // Isolation first, so no accept below can let traffic cross between two of our bridges.
  for (const auto& n : state.networks) {
    line("    ", fmt::format("iifname \"{0}\" oifname != \"{0}\" oifname @bridges drop", n.bridge));
    if (n.internal) {
      line("    ", fmt::format("iifname \"{0}\" oifname != \"{0}\" drop", n.bridge));
      line("    ", fmt::format("oifname \"{0}\" iifname != \"{0}\" drop", n.bridge));
    }
  }
  for (const auto& n : state.networks) {
    line("    ", fmt::format("oifname \"{}\" ct state established,related accept", n.bridge));
    line("    ", fmt::format("oifname \"{}\" ct status dnat accept", n.bridge));
    line("    ", fmt::format("iifname \"{}\" accept", n.bridge));
    // From elsewhere, only replies and published ports reach containers (Docker 28 drops
    // direct access to unpublished container ports too).
    line("    ", fmt::format("oifname \"{}\" drop", n.bridge));
  }
  line("  ", "}");
  out += "}\n";
  return out;
}

base::Result<std::string> render_add_ports(std::string_view table,
                                           const std::vector<PortMapping>& ports) {
  return render_ports("add", table, ports, true);
}

base::Result<std::string> render_delete_ports(std::string_view table,
                                              const std::vector<PortMapping>& ports) {
  return render_ports("delete", table, ports, false);
}

base::Result<Nft> Nft::open() {
  nft_ctx* ctx = nft_ctx_new(NFT_CTX_DEFAULT);
  if (ctx == nullptr) {
    return base::make_error(base::ErrorCode::Internal, "create nftables context");
  }
  Nft nft(ctx);
  if (nft_ctx_buffer_output(ctx) != 0 || nft_ctx_buffer_error(ctx) != 0) {
    return base::make_error(base::ErrorCode::Internal, "buffer nftables output");
  }
  return nft;
}

Nft::Nft(Nft&& other) noexcept : ctx_(std::exchange(other.ctx_, nullptr)) {}

Nft& Nft::operator=(Nft&& other) noexcept {
  if (this != &other) {
    if (ctx_ != nullptr) {
      nft_ctx_free(ctx_);
    }
    ctx_ = std::exchange(other.ctx_, nullptr);
  }
  return *this;
}

Nft::~Nft() {
  if (ctx_ != nullptr) {
    nft_ctx_free(ctx_);
  }
}

base::Result<std::string> Nft::run(std::string_view script) {
  std::string buf(script);
  int rc = nft_run_cmd_from_buffer(ctx_, buf.c_str());
  // The buffers are reset by each get, so read both whatever happened.
  const char* out = nft_ctx_get_output_buffer(ctx_);
  const char* err = nft_ctx_get_error_buffer(ctx_);
  std::string output = out != nullptr ? out : "";
  std::string error = err != nullptr ? err : "";
  if (rc != 0) {
    while (!error.empty() && (error.back() == '\n' || error.back() == ' ')) {
      error.pop_back();
    }
    return base::Error(code_of_nft_error(error), fmt::format("nftables: {}", error));
  }
  return output;
}

Firewall::Firewall(Nft nft, std::string table) : nft_(std::move(nft)), table_(std::move(table)) {}

base::Result<void> Firewall::replace(FirewallState state) {
  auto script = MYDOCKER_TRY(render_table(table_, state));
  std::lock_guard lock(mu_);
  MYDOCKER_TRY_CTX(nft_.run(script), "replace nftables table `{}`", table_);
  state_ = std::move(state);
  return base::ok();
}

base::Result<void> Firewall::add_network(const NetworkRules& network) {
  std::lock_guard lock(mu_);
  for (const auto& n : state_.networks) {
    if (n.bridge == network.bridge) {
      return base::make_error(base::ErrorCode::AlreadyExists,
                              "firewall rules for bridge `{}` already exist", network.bridge);
    }
  }
  FirewallState next = state_;
  next.networks.push_back(network);
  auto script = MYDOCKER_TRY(render_table(table_, next));
  MYDOCKER_TRY_CTX(nft_.run(script), "add firewall rules for bridge `{}`", network.bridge);
  state_ = std::move(next);
  return base::ok();
}

base::Result<void> Firewall::remove_network(std::string_view bridge) {
  std::lock_guard lock(mu_);
  FirewallState next = state_;
  auto it = std::find_if(next.networks.begin(), next.networks.end(),
                         [&](const NetworkRules& n) { return n.bridge == bridge; });
  if (it == next.networks.end()) {
    return base::make_error(base::ErrorCode::NotFound, "no firewall rules for bridge `{}`", bridge);
  }
  next.networks.erase(it);
  auto script = MYDOCKER_TRY(render_table(table_, next));
  MYDOCKER_TRY_CTX(nft_.run(script), "remove firewall rules for bridge `{}`", bridge);
  state_ = std::move(next);
  return base::ok();
}

base::Result<void> Firewall::add_ports(const std::string& owner, std::vector<PortMapping> ports) {
  std::lock_guard lock(mu_);
  if (state_.ports.contains(owner)) {
    return base::make_error(base::ErrorCode::AlreadyExists, "ports of `{}` are already published",
                            owner);
  }
  // The kernel would keep the first element for a duplicate key without complaint: refuse it
  // here, in Docker's words, so two owners never think they hold one port.
  auto same_key = [](const PortMapping& a, const PortMapping& b) {
    return a.proto == b.proto && a.host_port == b.host_port && a.host_ip == b.host_ip;
  };
  for (size_t i = 0; i < ports.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (same_key(ports[i], ports[j])) {
        return base::make_error(base::ErrorCode::Conflict,
                                "Bind for {}:{} failed: port is already allocated",
                                ports[i].host_ip.to_string(), ports[i].host_port);
      }
    }
    for (const auto& [other, held] : state_.ports) {
      for (const auto& h : held) {
        if (same_key(ports[i], h)) {
          return base::make_error(base::ErrorCode::Conflict,
                                  "Bind for {}:{} failed: port is already allocated",
                                  h.host_ip.to_string(), h.host_port);
        }
      }
    }
  }
  if (!ports.empty()) {
    auto script = MYDOCKER_TRY(render_add_ports(table_, ports));
    MYDOCKER_TRY_CTX(nft_.run(script), "publish ports of `{}`", owner);
  }
  state_.ports.emplace(owner, std::move(ports));
  return base::ok();
}

base::Result<void> Firewall::remove_ports(const std::string& owner) {
  std::lock_guard lock(mu_);
  auto it = state_.ports.find(owner);
  if (it == state_.ports.end()) {
    return base::ok();
  }
  if (!it->second.empty()) {
    auto script = MYDOCKER_TRY(render_delete_ports(table_, it->second));
    MYDOCKER_TRY_CTX(nft_.run(script), "unpublish ports of `{}`", owner);
  }
  state_.ports.erase(it);
  return base::ok();
}

base::Result<void> Firewall::remove_table() {
  MYDOCKER_TRY(check_table(table_));
  std::lock_guard lock(mu_);
  MYDOCKER_TRY_CTX(nft_.run(fmt::format("add table ip {0}\ndelete table ip {0}\n", table_)),
                   "delete nftables table `{}`", table_);
  state_ = FirewallState{};
  return base::ok();
}

base::Result<std::string> Firewall::list() {
  MYDOCKER_TRY(check_table(table_));
  std::lock_guard lock(mu_);
  return nft_.run(fmt::format("list table ip {}", table_));
}

FirewallState Firewall::state() const {
  std::lock_guard lock(mu_);
  return state_;
}

}  // namespace mydocker::engine::network::kernel
