// SPDX-License-Identifier: Apache-2.0
#include "engine/network/inet.h"

#include <fmt/format.h>

#include "runtime/base/strings.h"

namespace mydocker::engine::network::kernel {

namespace {

bool is_digits(std::string_view s) {
  if (s.empty()) {
    return false;
  }
  for (char c : s) {
    if (c < '0' || c > '9') {
      return false;
    }
  }
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

}  // namespace

base::Result<Ipv4Addr> Ipv4Addr::parse(std::string_view text) {
  auto bad = [&] {
    return base::make_error(base::ErrorCode::InvalidArgument, "invalid IPv4 address `{}`", text);
  };
  auto parts = base::split(text, '.');
  if (parts.size() != 4) {
    return bad();
  }
  Ipv4Addr out;
  for (size_t i = 0; i < 4; ++i) {
    // No leading zeros beyond a lone "0": "010" is octal to inet_aton and ambiguous to people.
    if (!is_digits(parts[i]) || parts[i].size() > 3 ||
        (parts[i].size() > 1 && parts[i][0] == '0')) {
      return bad();
    }
    auto v = base::parse_uint64(parts[i]);
    if (!v || *v > 255) {
      return bad();
    }
    out.bytes[i] = static_cast<uint8_t>(*v);
  }
  return out;
}

Ipv4Addr Ipv4Addr::from_u32(uint32_t host_order) {
  Ipv4Addr a;
  a.bytes = {static_cast<uint8_t>(host_order >> 24), static_cast<uint8_t>(host_order >> 16),
             static_cast<uint8_t>(host_order >> 8), static_cast<uint8_t>(host_order)};
  return a;
}

uint32_t Ipv4Addr::to_u32() const {
  return (static_cast<uint32_t>(bytes[0]) << 24) | (static_cast<uint32_t>(bytes[1]) << 16) |
         (static_cast<uint32_t>(bytes[2]) << 8) | static_cast<uint32_t>(bytes[3]);
}

std::string Ipv4Addr::to_string() const {
  return fmt::format("{}.{}.{}.{}", bytes[0], bytes[1], bytes[2], bytes[3]);
}

base::Result<Ipv4Net> Ipv4Net::parse(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) {
    return base::make_error(base::ErrorCode::InvalidArgument, "invalid CIDR address `{}`", text);
  }
  auto addr = Ipv4Addr::parse(text.substr(0, slash));
  auto len = text.substr(slash + 1);
  auto prefix = is_digits(len) && len.size() <= 2 ? base::parse_uint64(len) : std::nullopt;
  if (!addr || !prefix || *prefix > 32) {
    return base::make_error(base::ErrorCode::InvalidArgument, "invalid CIDR address `{}`", text);
  }
  return Ipv4Net{*addr, static_cast<int>(*prefix)};
}

Ipv4Net Ipv4Net::network() const {
  uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
  return Ipv4Net{Ipv4Addr::from_u32(addr.to_u32() & mask), prefix};
}

bool Ipv4Net::contains(const Ipv4Addr& a) const {
  return Ipv4Net{a, prefix}.network().addr == network().addr;
}

std::string Ipv4Net::to_string() const {
  return fmt::format("{}/{}", addr.to_string(), prefix);
}

base::Result<MacAddr> MacAddr::parse(std::string_view text) {
  auto parts = base::split(text, ':');
  if (parts.size() != 6) {
    return base::make_error(base::ErrorCode::InvalidArgument, "invalid MAC address `{}`", text);
  }
  MacAddr out;
  for (size_t i = 0; i < 6; ++i) {
    int hi = parts[i].size() == 2 ? hex_value(parts[i][0]) : -1;
    int lo = parts[i].size() == 2 ? hex_value(parts[i][1]) : -1;
    if (hi < 0 || lo < 0) {
      return base::make_error(base::ErrorCode::InvalidArgument, "invalid MAC address `{}`", text);
    }
    out.bytes[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return out;
}

std::string MacAddr::to_string() const {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", bytes[0], bytes[1], bytes[2],
                     bytes[3], bytes[4], bytes[5]);
}

std::string_view proto_name(Proto proto) {
  return proto == Proto::Udp ? "udp" : "tcp";
}

MacAddr mac_from_ip(const Ipv4Addr& ip) {
  return MacAddr{{0x02, 0x42, ip.bytes[0], ip.bytes[1], ip.bytes[2], ip.bytes[3]}};
}

}  // namespace mydocker::engine::network::kernel
