// SPDX-License-Identifier: Apache-2.0
#include "engine/network/netlink.h"

#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>
#include <sys/socket.h>

#include <cstring>
#include <utility>

#include "runtime/base/file.h"
#include "runtime/base/strings.h"

namespace mydocker::engine::network::kernel {

namespace {

struct LinkPut {
  void operator()(rtnl_link* l) const { rtnl_link_put(l); }
};
struct AddrPut {
  void operator()(nl_addr* a) const { nl_addr_put(a); }
};
struct RtAddrPut {
  void operator()(rtnl_addr* a) const { rtnl_addr_put(a); }
};
struct RoutePut {
  void operator()(rtnl_route* r) const { rtnl_route_put(r); }
};
struct CacheFree {
  void operator()(nl_cache* c) const { nl_cache_free(c); }
};
using LinkPtr = std::unique_ptr<rtnl_link, LinkPut>;
using AddrPtr = std::unique_ptr<nl_addr, AddrPut>;
using RtAddrPtr = std::unique_ptr<rtnl_addr, RtAddrPut>;
using RoutePtr = std::unique_ptr<rtnl_route, RoutePut>;
using CachePtr = std::unique_ptr<nl_cache, CacheFree>;

base::ErrorCode code_of(int nl_err) {
  switch (nl_err < 0 ? -nl_err : nl_err) {
    case NLE_EXIST:
      return base::ErrorCode::AlreadyExists;
    case NLE_OBJ_NOTFOUND:
    case NLE_NODEV:
      return base::ErrorCode::NotFound;
    case NLE_PERM:
    case NLE_NOACCESS:
      return base::ErrorCode::PermissionDenied;
    case NLE_INVAL:
    case NLE_RANGE:
    case NLE_OPNOTSUPP:
      return base::ErrorCode::InvalidArgument;
    case NLE_BUSY:
      return base::ErrorCode::Conflict;
    default:
      return base::ErrorCode::Internal;
  }
}

// "add bridge `mdt0`: Object exists": libnl's text, since the errno is folded into its codes.
template <typename... Args>
base::Error nl_error(int nl_err, fmt::format_string<Args...> f, Args&&... args) {
  return base::Error(
      code_of(nl_err),
      fmt::format("{}: {}", fmt::format(f, std::forward<Args>(args)...), nl_geterror(nl_err)));
}

base::Result<void> check_name(std::string_view name) {
  if (name.empty() || name.size() >= IFNAMSIZ || name.find('/') != std::string_view::npos ||
      name.find(' ') != std::string_view::npos || name == "." || name == "..") {
    return base::make_error(base::ErrorCode::InvalidArgument, "invalid interface name `{}`", name);
  }
  return base::ok();
}

AddrPtr make_addr(const Ipv4Addr& a, int prefix) {
  AddrPtr addr(nl_addr_build(AF_INET, a.bytes.data(), a.bytes.size()));
  if (addr) {
    nl_addr_set_prefixlen(addr.get(), prefix);
  }
  return addr;
}

AddrPtr make_mac(const MacAddr& m) {
  return AddrPtr(nl_addr_build(AF_LLC, m.bytes.data(), m.bytes.size()));
}

LinkInfo info_of(rtnl_link* l) {
  LinkInfo info;
  const char* name = rtnl_link_get_name(l);
  info.name = name != nullptr ? name : "";
  info.index = rtnl_link_get_ifindex(l);
  const char* kind = rtnl_link_get_type(l);
  info.kind = kind != nullptr ? kind : "";
  info.master = rtnl_link_get_master(l);
  info.up = (rtnl_link_get_flags(l) & IFF_UP) != 0;
  info.mtu = rtnl_link_get_mtu(l);
  nl_addr* mac = rtnl_link_get_addr(l);
  if (mac != nullptr && nl_addr_get_len(mac) == 6) {
    MacAddr m;
    std::memcpy(m.bytes.data(), nl_addr_get_binary_addr(mac), 6);
    info.mac = m;
  }
  return info;
}

}  // namespace

base::Result<Netlink> Netlink::open() {
  nl_sock* sock = nl_socket_alloc();
  if (sock == nullptr) {
    return base::make_error(base::ErrorCode::Internal, "allocate netlink socket");
  }
  Netlink nl(sock);
  if (int err = nl_connect(sock, NETLINK_ROUTE); err < 0) {
    return nl_error(err, "connect rtnetlink socket");
  }
  return nl;
}

Netlink::Netlink(Netlink&& other) noexcept : sock_(std::exchange(other.sock_, nullptr)) {}

Netlink& Netlink::operator=(Netlink&& other) noexcept {
  if (this != &other) {
    if (sock_ != nullptr) {
      nl_socket_free(sock_);
    }
    sock_ = std::exchange(other.sock_, nullptr);
  }
  return *this;
}

Netlink::~Netlink() {
  if (sock_ != nullptr) {
    nl_socket_free(sock_);  // closes the descriptor too
  }
}

base::Result<std::optional<LinkInfo>> Netlink::find_link(std::string_view name) {
  MYDOCKER_TRY(check_name(name));
  rtnl_link* raw = nullptr;
  std::string n(name);
  int err = rtnl_link_get_kernel(sock_, 0, n.c_str(), &raw);
  if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV) {
    return std::optional<LinkInfo>();
  }
  if (err < 0) {
    return nl_error(err, "get link `{}`", name);
  }
  LinkPtr l(raw);
  return std::optional<LinkInfo>(info_of(l.get()));
}

base::Result<LinkInfo> Netlink::link(std::string_view name) {
  auto found = MYDOCKER_TRY(find_link(name));
  if (!found) {
    return base::make_error(base::ErrorCode::NotFound, "link `{}` not found", name);
  }
  return std::move(*found);
}

base::Result<int> Netlink::index_of(std::string_view name) {
  auto l = MYDOCKER_TRY(link(name));
  return l.index;
}

base::Result<std::vector<LinkInfo>> Netlink::list_links(std::string_view prefix) {
  nl_cache* raw = nullptr;
  if (int err = rtnl_link_alloc_cache(sock_, AF_UNSPEC, &raw); err < 0) {
    return nl_error(err, "list links");
  }
  CachePtr cache(raw);
  std::vector<LinkInfo> out;
  for (nl_object* o = nl_cache_get_first(cache.get()); o != nullptr; o = nl_cache_get_next(o)) {
    // The cache holds rtnl_link objects; libnl's own accessors take them through this cast.
    auto* l = reinterpret_cast<rtnl_link*>(o);
    const char* name = rtnl_link_get_name(l);
    if (name != nullptr && std::string_view(name).starts_with(prefix)) {
      out.push_back(info_of(l));
    }
  }
  return out;
}

base::Result<void> Netlink::add_bridge(std::string_view name, unsigned mtu) {
  MYDOCKER_TRY(check_name(name));
  LinkPtr l(rtnl_link_bridge_alloc());
  if (!l) {
    return base::make_error(base::ErrorCode::Internal, "allocate bridge `{}`", name);
  }
  std::string n(name);
  rtnl_link_set_name(l.get(), n.c_str());
  if (mtu != 0) {
    rtnl_link_set_mtu(l.get(), mtu);
  }
  if (int err = rtnl_link_add(sock_, l.get(), NLM_F_CREATE | NLM_F_EXCL); err < 0) {
    return nl_error(err, "add bridge `{}`", name);
  }
  return base::ok();
}

base::Result<void> Netlink::add_veth(const VethSpec& spec) {
  MYDOCKER_TRY(check_name(spec.host_name));
  MYDOCKER_TRY(check_name(spec.peer_name));
  int master = 0;
  if (!spec.master.empty()) {
    master = MYDOCKER_TRY(index_of(spec.master));
  }
  LinkPtr host(rtnl_link_veth_alloc());
  if (!host) {
    return base::make_error(base::ErrorCode::Internal, "allocate veth `{}`", spec.host_name);
  }
  LinkPtr peer(rtnl_link_veth_get_peer(host.get()));  // a new reference
  rtnl_link_set_name(host.get(), spec.host_name.c_str());
  rtnl_link_set_name(peer.get(), spec.peer_name.c_str());
  if (spec.mtu != 0) {
    rtnl_link_set_mtu(host.get(), spec.mtu);
    rtnl_link_set_mtu(peer.get(), spec.mtu);
  }
  if (spec.peer_mac) {
    AddrPtr mac = make_mac(*spec.peer_mac);
    rtnl_link_set_addr(peer.get(), mac.get());  // takes its own reference
  }
  if (spec.peer_netns_fd >= 0) {
    rtnl_link_set_ns_fd(peer.get(), spec.peer_netns_fd);
  }
  if (master != 0) {
    rtnl_link_set_master(host.get(), master);
  }
  if (spec.host_up) {
    rtnl_link_set_flags(host.get(), IFF_UP);
  }
  if (int err = rtnl_link_add(sock_, host.get(), NLM_F_CREATE | NLM_F_EXCL); err < 0) {
    return nl_error(err, "add veth pair `{}`/`{}`", spec.host_name, spec.peer_name);
  }
  return base::ok();
}

base::Result<void> Netlink::delete_link(std::string_view name) {
  MYDOCKER_TRY(check_name(name));
  LinkPtr l(rtnl_link_alloc());
  std::string n(name);
  rtnl_link_set_name(l.get(), n.c_str());
  if (int err = rtnl_link_delete(sock_, l.get()); err < 0) {
    return nl_error(err, "delete link `{}`", name);
  }
  return base::ok();
}

template <typename Edit>
base::Result<void> Netlink::change(std::string_view name, std::string_view what, Edit&& edit) {
  MYDOCKER_TRY(check_name(name));
  rtnl_link* raw = nullptr;
  std::string n(name);
  if (int err = rtnl_link_get_kernel(sock_, 0, n.c_str(), &raw); err < 0) {
    return nl_error(err, "{} `{}`", what, name);
  }
  LinkPtr orig(raw);
  LinkPtr changes(rtnl_link_alloc());
  edit(changes.get());
  if (int err = rtnl_link_change(sock_, orig.get(), changes.get(), 0); err < 0) {
    return nl_error(err, "{} `{}`", what, name);
  }
  return base::ok();
}

base::Result<void> Netlink::set_up(std::string_view name) {
  return change(name, "bring up link", [](rtnl_link* c) { rtnl_link_set_flags(c, IFF_UP); });
}

base::Result<void> Netlink::set_down(std::string_view name) {
  return change(name, "bring down link", [](rtnl_link* c) { rtnl_link_unset_flags(c, IFF_UP); });
}

base::Result<void> Netlink::set_mtu(std::string_view name, unsigned mtu) {
  return change(name, "set mtu of", [mtu](rtnl_link* c) { rtnl_link_set_mtu(c, mtu); });
}

base::Result<void> Netlink::set_mac(std::string_view name, const MacAddr& mac) {
  AddrPtr addr = make_mac(mac);
  return change(name, "set mac of", [&](rtnl_link* c) { rtnl_link_set_addr(c, addr.get()); });
}

base::Result<void> Netlink::set_master(std::string_view name, std::string_view master) {
  int index = MYDOCKER_TRY(index_of(master));
  return change(name, fmt::format("enslave to `{}`", master),
                [index](rtnl_link* c) { rtnl_link_set_master(c, index); });
}

base::Result<void> Netlink::rename(std::string_view name, std::string_view new_name) {
  MYDOCKER_TRY(check_name(new_name));
  std::string n(new_name);
  return change(name, fmt::format("rename to `{}`", new_name),
                [&](rtnl_link* c) { rtnl_link_set_name(c, n.c_str()); });
}

base::Result<void> Netlink::move_to_netns(std::string_view name, int netns_fd) {
  return change(name, "move to namespace",
                [netns_fd](rtnl_link* c) { rtnl_link_set_ns_fd(c, netns_fd); });
}

base::Result<void> Netlink::add_address(std::string_view name, const Ipv4Net& address) {
  int index = MYDOCKER_TRY(index_of(name));
  RtAddrPtr a(rtnl_addr_alloc());
  AddrPtr local = make_addr(address.addr, address.prefix);
  if (!a || !local) {
    return base::make_error(base::ErrorCode::Internal, "allocate address");
  }
  rtnl_addr_set_ifindex(a.get(), index);
  rtnl_addr_set_family(a.get(), AF_INET);
  if (int err = rtnl_addr_set_local(a.get(), local.get()); err < 0) {
    return nl_error(err, "address `{}`", address.to_string());
  }
  rtnl_addr_set_prefixlen(a.get(), address.prefix);
  // The broadcast address `ip addr add ... brd +` would set; containers' DHCP-less stacks and
  // anything that broadcasts on the subnet expect it.
  if (address.prefix < 31) {
    uint32_t host_mask =
        address.prefix == 0 ? ~uint32_t{0} : (uint32_t{1} << (32 - address.prefix)) - 1;
    AddrPtr brd = make_addr(Ipv4Addr::from_u32(address.addr.to_u32() | host_mask), 32);
    rtnl_addr_set_broadcast(a.get(), brd.get());
  }
  if (int err = rtnl_addr_add(sock_, a.get(), NLM_F_CREATE | NLM_F_EXCL); err < 0) {
    return nl_error(err, "add address `{}` to `{}`", address.to_string(), name);
  }
  return base::ok();
}

base::Result<std::vector<Ipv4Net>> Netlink::addresses(std::string_view name) {
  int index = MYDOCKER_TRY(index_of(name));
  nl_cache* raw = nullptr;
  if (int err = rtnl_addr_alloc_cache(sock_, &raw); err < 0) {
    return nl_error(err, "list addresses");
  }
  CachePtr cache(raw);
  std::vector<Ipv4Net> out;
  for (nl_object* o = nl_cache_get_first(cache.get()); o != nullptr; o = nl_cache_get_next(o)) {
    auto* a = reinterpret_cast<rtnl_addr*>(o);
    if (rtnl_addr_get_ifindex(a) != index || rtnl_addr_get_family(a) != AF_INET) {
      continue;
    }
    nl_addr* local = rtnl_addr_get_local(a);
    if (local == nullptr || nl_addr_get_len(local) != 4) {
      continue;
    }
    Ipv4Net net;
    std::memcpy(net.addr.bytes.data(), nl_addr_get_binary_addr(local), 4);
    net.prefix = rtnl_addr_get_prefixlen(a);
    out.push_back(net);
  }
  return out;
}

base::Result<void> Netlink::add_route(const Ipv4Net& dst, std::optional<Ipv4Addr> gateway,
                                      std::string_view name) {
  int index = MYDOCKER_TRY(index_of(name));
  RoutePtr r(rtnl_route_alloc());
  AddrPtr d = make_addr(dst.network().addr, dst.prefix);
  if (!r || !d) {
    return base::make_error(base::ErrorCode::Internal, "allocate route");
  }
  rtnl_route_set_family(r.get(), AF_INET);
  rtnl_route_set_table(r.get(), RT_TABLE_MAIN);
  rtnl_route_set_protocol(r.get(), RTPROT_BOOT);
  rtnl_route_set_scope(r.get(), gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
  rtnl_route_set_type(r.get(), RTN_UNICAST);
  if (int err = rtnl_route_set_dst(r.get(), d.get()); err < 0) {
    return nl_error(err, "route to `{}`", dst.to_string());
  }
  rtnl_nexthop* nh = rtnl_route_nh_alloc();
  if (nh == nullptr) {
    return base::make_error(base::ErrorCode::Internal, "allocate nexthop");
  }
  rtnl_route_nh_set_ifindex(nh, index);
  if (gateway) {
    AddrPtr gw = make_addr(*gateway, 32);
    rtnl_route_nh_set_gateway(nh, gw.get());
  }
  rtnl_route_add_nexthop(r.get(), nh);  // the route owns it now
  if (int err = rtnl_route_add(sock_, r.get(), NLM_F_CREATE | NLM_F_EXCL); err < 0) {
    return nl_error(err, "add route to `{}` via `{}` dev `{}`", dst.to_string(),
                    gateway ? gateway->to_string() : "link", name);
  }
  return base::ok();
}

base::Result<std::string> read_sysctl(std::string_view key) {
  auto text = MYDOCKER_TRY(base::read_file(fmt::format("/proc/sys/{}", key)));
  return std::string(base::trim(text));
}

base::Result<void> write_sysctl(std::string_view key, std::string_view value) {
  if (key.find("..") != std::string_view::npos) {
    return base::make_error(base::ErrorCode::InvalidArgument, "invalid sysctl `{}`", key);
  }
  auto current = read_sysctl(key);
  if (current && *current == value) {
    return base::ok();
  }
  return base::write_file(fmt::format("/proc/sys/{}", key), value);
}

}  // namespace mydocker::engine::network::kernel
