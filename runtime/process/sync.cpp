// SPDX-License-Identifier: Apache-2.0
#include "runtime/process/sync.h"

#include <sys/socket.h>

#include <algorithm>

namespace mydocker::runtime::process {

namespace {
constexpr std::string_view kErrorPrefix = "error: ";
// A packet larger than this is not ours; error lines are cut to fit.
constexpr size_t kMaxPacket = 4096;
}  // namespace

std::string encode(const SyncMessage& m) {
  switch (m.type) {
    case SyncType::Go:
      return "go";
    case SyncType::Ready:
      return "ready";
    case SyncType::Error: {
      std::string line = m.detail;
      std::replace(line.begin(), line.end(), '\n', ' ');
      std::string out = std::string(kErrorPrefix) + line;
      if (out.size() > kMaxPacket) {
        out.resize(kMaxPacket);
      }
      return out;
    }
  }
  return "";
}

base::Result<SyncMessage> decode(std::string_view packet) {
  if (packet == "go") {
    return SyncMessage{SyncType::Go, ""};
  }
  if (packet == "ready") {
    return SyncMessage{SyncType::Ready, ""};
  }
  if (packet.substr(0, kErrorPrefix.size()) == kErrorPrefix) {
    return SyncMessage{SyncType::Error, std::string(packet.substr(kErrorPrefix.size()))};
  }
  return base::make_error(base::ErrorCode::InvalidArgument, "unknown sync message `{}`",
                          packet.substr(0, 64));
}

base::Result<SyncPair> make_sync_pair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0) {
    return base::sys_error("socketpair for the init sync");
  }
  return SyncPair{base::Fd::adopt(fds[0]), base::Fd::adopt(fds[1])};
}

base::Result<void> send_sync(int fd, const SyncMessage& m) {
  std::string packet = encode(m);
  for (;;) {
    ssize_t n = ::send(fd, packet.data(), packet.size(), MSG_NOSIGNAL);
    if (n >= 0) {
      return base::ok();
    }
    if (errno != EINTR) {
      return base::sys_error("send sync message `{}`", packet.substr(0, 16));
    }
  }
}

base::Result<SyncMessage> recv_sync(int fd) {
  char buf[kMaxPacket];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      return decode(std::string_view(buf, static_cast<size_t>(n)));
    }
    if (n == 0) {
      return base::make_error(base::ErrorCode::Unavailable, "sync peer closed");
    }
    if (errno != EINTR) {
      return base::sys_error("receive sync message");
    }
  }
}

}  // namespace mydocker::runtime::process
