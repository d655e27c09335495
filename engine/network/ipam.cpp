// SPDX-License-Identifier: Apache-2.0
#include "engine/network/ipam.h"

#include <fmt/format.h>

#include "runtime/base/strings.h"

namespace mydocker::engine::network {
namespace {

using base::ErrorCode;

base::Result<Prefix> parse_block(std::string_view text) {
  auto p = parse_cidr(text);
  if (!p) {
    return base::make_error(ErrorCode::InvalidArgument, "bad cidr");
  }
  return *p;
}

}  // namespace

std::optional<Ipv4> parse_ipv4(std::string_view text) {
  auto parts = base::split(text, '.');
  if (parts.size() != 4) {
    return std::nullopt;
  }
  Ipv4 ip = 0;
  for (const auto& part : parts) {
    // Go's netip refuses leading zeros ("010") as ambiguous octal; so do we.
    if (part.empty() || part.size() > 3 || (part.size() > 1 && part[0] == '0')) {
      return std::nullopt;
    }
    auto v = base::parse_uint64(part);
    if (!v || *v > 255) {
      return std::nullopt;
    }
    ip = (ip << 8) | static_cast<Ipv4>(*v);
  }
  return ip;
}

std::string format_ipv4(Ipv4 ip) {
  return fmt::format("{}.{}.{}.{}", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
}

std::optional<Prefix> parse_cidr(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) {
    return std::nullopt;
  }
  auto ip = parse_ipv4(text.substr(0, slash));
  std::string_view bits = text.substr(slash + 1);
  if (!ip || bits.empty() || bits.size() > 2 || (bits.size() > 1 && bits[0] == '0')) {
    return std::nullopt;
  }
  auto n = base::parse_uint64(bits);
  if (!n || *n > 32) {
    return std::nullopt;
  }
  return Prefix{*ip, static_cast<int>(*n)};
}

std::string format_cidr(const Prefix& p) {
  return fmt::format("{}/{}", format_ipv4(p.addr), p.len);
}

std::string mac_for(Ipv4 ip) {
  return fmt::format("02:42:{:02x}:{:02x}:{:02x}:{:02x}", ip >> 24, (ip >> 16) & 0xff,
                     (ip >> 8) & 0xff, ip & 0xff);
}

std::vector<PoolSpec> default_address_pools() {
  std::vector<PoolSpec> out;
  for (const char* base : {"172.17.0.0/16", "172.18.0.0/16", "172.19.0.0/16", "172.20.0.0/14",
                           "172.24.0.0/14", "172.28.0.0/14"}) {
    out.push_back({*parse_cidr(base), 16});
  }
  out.push_back({*parse_cidr("192.168.0.0/16"), 20});
  return out;
}

std::vector<Prefix> expand_pools(const std::vector<PoolSpec>& pools) {
  std::vector<Prefix> out;
  for (const auto& p : pools) {
    Prefix base = p.base.masked();
    if (p.size < base.len || p.size > 32) {
      continue;
    }
    uint64_t count = uint64_t{1} << (p.size - base.len);
    uint64_t step = uint64_t{1} << (32 - p.size);
    for (uint64_t i = 0; i < count; ++i) {
      out.push_back({static_cast<Ipv4>(base.network() + i * step), p.size});
    }
  }
  return out;
}

base::Result<Prefix> choose_subnet(const std::vector<PoolSpec>& pools,
                                   const std::vector<Prefix>& in_use,
                                   const std::vector<Prefix>& host_routes) {
  for (const auto& candidate : expand_pools(pools)) {
    bool taken = false;
    for (const auto& u : in_use) {
      taken = taken || candidate.overlaps(u.masked());
    }
    for (const auto& r : host_routes) {
      taken = taken || (r.len > 0 && candidate.overlaps(r.masked()));
    }
    if (!taken) {
      return candidate;
    }
  }
  return base::make_error(ErrorCode::Unavailable,
                          "could not find an available, non-overlapping IPv4 address pool among "
                          "the defaults to assign to the network");
}

std::vector<HostRoute> parse_proc_net_route(std::string_view text) {
  // Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT, addresses as
  // hex of the network-order bytes read as a little-endian word ("0011A8C0" is 192.168.17.0).
  auto word = [](std::string_view hex) -> std::optional<Ipv4> {
    if (hex.size() != 8) {
      return std::nullopt;
    }
    uint32_t v = 0;
    for (char c : hex) {
      int d = c >= '0' && c <= '9'   ? c - '0'
              : c >= 'A' && c <= 'F' ? c - 'A' + 10
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                     : -1;
      if (d < 0) {
        return std::nullopt;
      }
      v = (v << 4) | static_cast<uint32_t>(d);
    }
    return ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >> 8) & 0xff00) | (v >> 24);
  };
  std::vector<HostRoute> out;
  bool header = true;
  for (const auto& line : base::split(text, '\n')) {
    if (header) {
      header = false;
      continue;
    }
    std::vector<std::string> f;
    for (const auto& tab : base::split(line, '\t')) {
      auto t = base::trim(tab);
      if (!t.empty()) {
        f.emplace_back(t);
      }
    }
    if (f.size() < 8) {
      continue;
    }
    auto dst = word(f[1]);
    auto mask = word(f[7]);
    if (!dst || !mask || *mask == 0) {
      continue;
    }
    // A contiguous mask only: count its leading ones.
    int len = 0;
    while (len < 32 && (*mask & (0x80000000u >> len)) != 0) {
      ++len;
    }
    Prefix p{*dst, len};
    if (p.mask() != *mask) {
      continue;
    }
    out.push_back({f[0], p.masked()});
  }
  return out;
}

base::Result<void> validate_ipam(const std::vector<IpamConfig>& config) {
  std::vector<std::string> errs;
  auto check_address = [](const std::string& address,
                          const Prefix& subnet) -> std::optional<std::string> {
    if (address.empty()) {
      return std::nullopt;
    }
    auto ip = parse_ipv4(address);
    if (!ip) {
      if (address.find(':') != std::string::npos) {
        return std::string("parent subnet is an IPv4 block");
      }
      return std::string("invalid address");
    }
    if (!subnet.contains(*ip)) {
      return fmt::format("parent subnet {} doesn't contain this address", format_cidr(subnet));
    }
    return std::nullopt;
  };
  for (const auto& c : config) {
    if (c.subnet.find(':') != std::string::npos) {
      continue;  // IPv6 without EnableIPv6: ignored, as Docker does
    }
    auto subnet = parse_cidr(c.subnet);
    if (!subnet) {
      errs.push_back(fmt::format("invalid subnet {}: invalid CIDR block notation", c.subnet));
      continue;
    }
    if (subnet->addr != subnet->network()) {
      errs.push_back(fmt::format("invalid subnet {}: it should be {}", c.subnet,
                                 format_cidr(subnet->masked())));
    }
    if (!c.ip_range.empty()) {
      auto range = parse_cidr(c.ip_range);
      if (!range) {
        errs.push_back(fmt::format("invalid ip-range {}: invalid CIDR block notation", c.ip_range));
      } else {
        if (range->len < subnet->len) {
          errs.push_back(
              fmt::format("invalid ip-range {}: CIDR block is bigger than its parent subnet {}",
                          c.ip_range, format_cidr(*subnet)));
        }
        if (range->addr != range->network()) {
          errs.push_back(fmt::format("invalid ip-range {}: it should be {}", c.ip_range,
                                     format_cidr(range->masked())));
        }
        if (!subnet->masked().overlaps(range->masked())) {
          errs.push_back(
              fmt::format("invalid ip-range {}: parent subnet {} doesn't contain ip-range",
                          c.ip_range, format_cidr(*subnet)));
        }
      }
    }
    if (auto e = check_address(c.gateway, subnet->masked())) {
      errs.push_back(fmt::format("invalid gateway {}: {}", c.gateway, *e));
    }
    for (const auto& [name, aux] : c.aux_addresses) {
      if (auto e = check_address(aux, subnet->masked())) {
        errs.push_back(fmt::format("invalid auxiliary address {}: {}", name, *e));
      }
    }
  }
  if (errs.empty()) {
    return base::ok();
  }
  std::string joined = errs.size() == 1 ? errs[0] : "* " + base::join(errs, "\n* ");
  return base::make_error(ErrorCode::InvalidArgument, "invalid network config:\n{}", joined);
}

base::Result<AddressPool> AddressPool::create(Prefix subnet, std::optional<Prefix> range,
                                              std::optional<Ipv4> gateway,
                                              const std::vector<Ipv4>& reserved) {
  AddressPool p;
  p.subnet_ = subnet.masked();
  p.range_ = range ? range->masked() : p.subnet_;
  if (!p.subnet_.contains(p.range_.network()) || p.range_.len < p.subnet_.len) {
    return base::make_error(ErrorCode::InvalidArgument, "ip range `{}` is outside subnet `{}`",
                            format_cidr(p.range_), format_cidr(p.subnet_));
  }
  p.reserved_.insert(reserved.begin(), reserved.end());
  if (gateway) {
    if (!p.subnet_.contains(*gateway)) {
      return base::make_error(ErrorCode::InvalidArgument, "gateway `{}` is outside subnet `{}`",
                              format_ipv4(*gateway), format_cidr(p.subnet_));
    }
    p.gateway_ = *gateway;
  } else {
    // Docker asks the allocator for the gateway before any endpoint: the first free address.
    bool found = false;
    for (uint64_t ip = p.range_.network(); ip <= p.range_.broadcast(); ++ip) {
      if (p.usable(static_cast<Ipv4>(ip))) {
        p.gateway_ = static_cast<Ipv4>(ip);
        found = true;
        break;
      }
    }
    if (!found) {
      return base::make_error(ErrorCode::Unavailable, "no available IPv4 addresses");
    }
  }
  return p;
}

bool AddressPool::usable(Ipv4 ip) const {
  if (!range_.contains(ip) || !subnet_.contains(ip)) {
    return false;
  }
  // /31 and /32 have no network or broadcast address to skip (RFC 3021).
  if (subnet_.len < 31 && (ip == subnet_.network() || ip == subnet_.broadcast())) {
    return false;
  }
  return reserved_.count(ip) == 0 && allocated_.count(ip) == 0 && ip != gateway_;
}

base::Result<Ipv4> AddressPool::allocate(std::optional<Ipv4> requested) {
  if (requested) {
    Ipv4 ip = *requested;
    if (!subnet_.contains(ip) ||
        (subnet_.len < 31 && (ip == subnet_.network() || ip == subnet_.broadcast()))) {
      return base::make_error(ErrorCode::InvalidArgument, "requested address {} is out of range",
                              format_ipv4(ip));
    }
    if (allocated_.count(ip) != 0 || reserved_.count(ip) != 0 || ip == gateway_) {
      return base::make_error(ErrorCode::PermissionDenied, "Address already in use");
    }
    allocated_.insert(ip);
    return ip;
  }
  for (uint64_t ip = range_.network(); ip <= range_.broadcast(); ++ip) {
    if (usable(static_cast<Ipv4>(ip))) {
      allocated_.insert(static_cast<Ipv4>(ip));
      return static_cast<Ipv4>(ip);
    }
  }
  return base::make_error(ErrorCode::Unavailable, "no available IPv4 addresses");
}

base::Result<void> AddressPool::release(Ipv4 ip) {
  if (allocated_.erase(ip) == 0) {
    return base::make_error(ErrorCode::NotFound, "address `{}` is not allocated", format_ipv4(ip));
  }
  return base::ok();
}

nlohmann::json AddressPool::to_json() const {
  nlohmann::json j;
  j["subnet"] = format_cidr(subnet_);
  j["range"] = format_cidr(range_);
  j["gateway"] = format_ipv4(gateway_);
  auto list = [](const std::set<Ipv4>& s) {
    nlohmann::json a = nlohmann::json::array();
    for (Ipv4 ip : s) {
      a.push_back(format_ipv4(ip));
    }
    return a;
  };
  j["reserved"] = list(reserved_);
  j["allocated"] = list(allocated_);
  return j;
}

base::Result<AddressPool> AddressPool::from_json(const nlohmann::json& j) {
  auto bad = [] { return base::make_error(ErrorCode::Internal, "malformed address pool record"); };
  if (!j.is_object()) {
    return bad();
  }
  auto str = [&](const char* key) -> std::string {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : "";
  };
  auto subnet = parse_block(str("subnet"));
  auto range = parse_block(str("range"));
  auto gateway = parse_ipv4(str("gateway"));
  if (!subnet || !range || !gateway) {
    return bad();
  }
  AddressPool p;
  p.subnet_ = subnet->masked();
  p.range_ = range->masked();
  p.gateway_ = *gateway;
  for (const char* key : {"reserved", "allocated"}) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_array()) {
      continue;
    }
    for (const auto& v : *it) {
      auto ip = v.is_string() ? parse_ipv4(v.get<std::string>()) : std::nullopt;
      if (!ip) {
        return bad();
      }
      (std::string_view(key) == "reserved" ? p.reserved_ : p.allocated_).insert(*ip);
    }
  }
  return p;
}

}  // namespace mydocker::engine::network
