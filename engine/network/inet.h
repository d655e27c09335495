// SPDX-License-Identifier: Apache-2.0
// IPv4 addresses, prefixes and MAC addresses as the kernel side of networking uses them.
//
// These are plain values (no sockaddr juggling at call sites); parse() refuses anything that
// is not exactly dotted-quad ("10.0.0.1", "10.0.0.0/24"), so a malformed spec never reaches
// netlink or nftables. The model side (IPAM, records) keeps its own types and converts through
// the text form.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/base/error.h"

namespace mydocker::engine::network::kernel {

struct Ipv4Addr {
  std::array<uint8_t, 4> bytes{};

  // InvalidArgument unless `text` is a dotted quad.
  static base::Result<Ipv4Addr> parse(std::string_view text);
  static Ipv4Addr from_u32(uint32_t host_order);
  uint32_t to_u32() const;  // host byte order
  std::string to_string() const;
  bool is_unspecified() const { return to_u32() == 0; }
  friend bool operator==(const Ipv4Addr&, const Ipv4Addr&) = default;
  friend auto operator<=>(const Ipv4Addr&, const Ipv4Addr&) = default;
};

// An address with a prefix length: an interface address ("172.18.0.1/16") or a subnet
// ("172.18.0.0/16", network() of the former).
struct Ipv4Net {
  Ipv4Addr addr;
  int prefix = 32;

  // InvalidArgument unless `text` is "a.b.c.d/n" with 0 <= n <= 32.
  static base::Result<Ipv4Net> parse(std::string_view text);
  Ipv4Net network() const;  // host bits cleared
  bool contains(const Ipv4Addr& a) const;
  std::string to_string() const;
  friend bool operator==(const Ipv4Net&, const Ipv4Net&) = default;
};

struct MacAddr {
  std::array<uint8_t, 6> bytes{};

  // InvalidArgument unless `text` is six colon-separated hex pairs.
  static base::Result<MacAddr> parse(std::string_view text);
  std::string to_string() const;  // lower case, as `ip link` and Docker print it
  friend bool operator==(const MacAddr&, const MacAddr&) = default;
};

enum class Proto { Tcp, Udp };
std::string_view proto_name(Proto proto);  // "tcp" / "udp", as Docker prints "8080/tcp"

// Docker's address-derived MAC: 02:42 (locally administered, unicast) then the four address
// bytes, so a container's MAC is stable for its IP and never collides on one bridge.
MacAddr mac_from_ip(const Ipv4Addr& ip);

}  // namespace mydocker::engine::network::kernel
