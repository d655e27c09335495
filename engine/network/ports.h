// SPDX-License-Identifier: Apache-2.0
// Host port reservation for published ports.
//
// The DNAT rules (firewall.h) forward a published port without any userland proxy, so nothing
// would otherwise stop another program from binding the same port (its listener would then
// never see a connection) or two containers from publishing it twice. A PortReservation binds
// the port on the host address and keeps the socket for as long as the container publishes
// it: a second reservation, or another program's bind, gets EADDRINUSE. TCP reservations also
// listen(), since on Linux a bound-but-not-listening socket with SO_REUSEADDR does not stop
// another SO_REUSEADDR socket from binding and listening. Connections never reach it: the
// DNAT in prerouting/output rewrites them before local delivery.
#pragma once

#include <cstdint>
#include <utility>

#include "engine/network/inet.h"
#include "runtime/base/error.h"
#include "runtime/base/fd.h"

namespace mydocker::engine::network::kernel {

class PortReservation {
 public:
  // Binds `host_ip`:`port` (0.0.0.0: every address). Port 0 picks a free port from the
  // kernel's ephemeral range (net.ipv4.ip_local_port_range), as Docker does for `-p 80`,
  // going on from the last port handed out so a just-released port is not reused at once.
  // Errors: Conflict "Bind for 0.0.0.0:8080 failed: port is already allocated" (Docker's text)
  // when the port is taken; Unavailable "all ports are allocated" when the range is full;
  // InvalidArgument when `host_ip` is not an address of this host.
  static base::Result<PortReservation> reserve(Proto proto, const Ipv4Addr& host_ip, uint16_t port);

  PortReservation(PortReservation&&) noexcept = default;
  PortReservation& operator=(PortReservation&&) noexcept = default;

  Proto proto() const { return proto_; }
  const Ipv4Addr& host_ip() const { return host_ip_; }
  uint16_t port() const { return port_; }
  int fd() const { return fd_.get(); }

 private:
  PortReservation(base::Fd fd, Proto proto, const Ipv4Addr& ip, uint16_t port)
      : fd_(std::move(fd)), proto_(proto), host_ip_(ip), port_(port) {}
  base::Fd fd_;
  Proto proto_ = Proto::Tcp;
  Ipv4Addr host_ip_;
  uint16_t port_ = 0;
};

// The kernel's ephemeral port range [first, last]; Docker's default 49153-60999 when the
// file cannot be read.
std::pair<uint16_t, uint16_t> ephemeral_port_range();

}  // namespace mydocker::engine::network::kernel
