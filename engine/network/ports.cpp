// SPDX-License-Identifier: Apache-2.0
#include "engine/network/ports.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "runtime/base/file.h"
#include "runtime/base/strings.h"

namespace mydocker::engine::network::kernel {

namespace {

// Where the next random allocation starts (Docker's portallocator keeps the same cursor).
std::atomic<uint32_t> g_next_port{0};

// The bound socket, or the bind errno (EADDRINUSE: taken).
base::Result<base::Fd> bind_port(Proto proto, const Ipv4Addr& ip, uint16_t port) {
  int type = proto == Proto::Udp ? SOCK_DGRAM : SOCK_STREAM;
  base::Fd fd = base::Fd::adopt(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
  if (!fd) {
    return base::sys_error("socket");
  }
  if (proto == Proto::Tcp) {
    // Without it, connections of a previous holder in TIME_WAIT would block a restart; it
    // does not let anyone share a port we listen on.
    int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  }
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(ip.to_u32());
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) < 0) {
    return base::sys_error("bind `{}:{}/{}`", ip.to_string(), port, proto_name(proto));
  }
  if (proto == Proto::Tcp && ::listen(fd.get(), 1) < 0) {
    return base::sys_error("listen `{}:{}/tcp`", ip.to_string(), port);
  }
  return fd;
}

base::Error taken(const Ipv4Addr& ip, uint16_t port) {
  return base::make_error(base::ErrorCode::Conflict,
                          "Bind for {}:{} failed: port is already allocated", ip.to_string(), port);
}

}  // namespace

std::pair<uint16_t, uint16_t> ephemeral_port_range() {
  std::pair<uint16_t, uint16_t> fallback{49153, 60999};
  auto text = base::read_file("/proc/sys/net/ipv4/ip_local_port_range");
  if (!text) {
    return fallback;
  }
  // "32768\t60999\n"
  std::string s(base::trim(*text));
  for (char& c : s) {
    if (c == '\t') {
      c = ' ';
    }
  }
  std::vector<std::string> parts;
  for (auto& p : base::split(s, ' ')) {
    if (!p.empty()) {
      parts.push_back(p);
    }
  }
  if (parts.size() != 2) {
    return fallback;
  }
  auto lo = base::parse_uint64(parts[0]);
  auto hi = base::parse_uint64(parts[1]);
  if (!lo || !hi || *lo == 0 || *lo > *hi || *hi > 65535) {
    return fallback;
  }
  return {static_cast<uint16_t>(*lo), static_cast<uint16_t>(*hi)};
}

base::Result<PortReservation> PortReservation::reserve(Proto proto, const Ipv4Addr& host_ip,
                                                       uint16_t port) {
  if (port != 0) {
    auto fd = bind_port(proto, host_ip, port);
    if (fd) {
      return PortReservation(std::move(*fd), proto, host_ip, port);
    }
    if (fd.error().sys_errno() == EADDRINUSE) {
      return taken(host_ip, port);
    }
    if (fd.error().sys_errno() == EADDRNOTAVAIL) {
      return base::make_error(base::ErrorCode::InvalidArgument,
                              "host address `{}` is not an address of this host",
                              host_ip.to_string());
    }
    return std::move(fd).error();
  }
  auto [first, last] = ephemeral_port_range();
  uint32_t count = static_cast<uint32_t>(last - first) + 1;
  uint32_t start = g_next_port.load() % count;
  for (uint32_t i = 0; i < count; ++i) {
    auto candidate = static_cast<uint16_t>(first + (start + i) % count);
    auto fd = bind_port(proto, host_ip, candidate);
    if (fd) {
      g_next_port.store(static_cast<uint32_t>(candidate - first) + 1);
      return PortReservation(std::move(*fd), proto, host_ip, candidate);
    }
    if (fd.error().sys_errno() == EADDRNOTAVAIL) {
      return base::make_error(base::ErrorCode::InvalidArgument,
                              "host address `{}` is not an address of this host",
                              host_ip.to_string());
    }
    if (fd.error().sys_errno() != EADDRINUSE) {
      return std::move(fd).error();
    }
  }
  return base::make_error(base::ErrorCode::Unavailable, "all ports are allocated");
}

}  // namespace mydocker::engine::network::kernel
