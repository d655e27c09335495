// SPDX-License-Identifier: Apache-2.0
#include "engine/shim/control.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

namespace mydocker::engine::shim {

namespace {

using base::ErrorCode;

// A wedged shim must not hold a daemon thread for long; an answer takes a few ms.
constexpr int kReplyTimeoutSeconds = 10;
constexpr size_t kMaxReply = 64 * 1024;

base::Error gone(const std::string& state_dir) {
  return base::make_error(ErrorCode::Unavailable, "the shim of `{}` is not running", state_dir);
}

// Connects to <state_dir>/shim.sock. A path too long for sun_path goes through an O_PATH
// descriptor of the directory (/proc/self/fd/N/shim.sock).
base::Result<base::Fd> connect_control(const std::string& state_dir) {
  int s = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (s < 0) {
    return base::sys_error("socket for the shim's control connection");
  }
  base::Fd sock = base::Fd::adopt(s);
  std::string path = state_dir + "/" + kControlSocket;
  base::Fd dir;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    auto d = base::Fd::open(state_dir, O_PATH | O_DIRECTORY);
    if (!d) {
      return gone(state_dir);
    }
    dir = std::move(*d);
    path = fmt::format("/proc/self/fd/{}/{}", dir.get(), kControlSocket);
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  timeval tv{kReplyTimeoutSeconds, 0};
  ::setsockopt(sock.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  ::setsockopt(sock.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  while (::connect(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) < 0) {
    if (errno == EINTR) {
      continue;
    }
    if (errno == ENOENT || errno == ECONNREFUSED || errno == ENOTDIR) {
      return gone(state_dir);
    }
    return base::sys_error("connect to the shim at `{}`", path);
  }
  return sock;
}

// One request (with at most one descriptor), one reply.
base::Result<ControlReply> call(const std::string& state_dir, const ControlRequest& request,
                                int fd) {
  base::Fd sock = MYDOCKER_TRY(connect_control(state_dir));
  std::string data =
      request.to_json().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  iovec iov{data.data(), data.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cm), &fd, sizeof fd);
  }
  for (;;) {
    ssize_t n = ::sendmsg(sock.get(), &msg, MSG_NOSIGNAL);
    if (n >= 0) {
      break;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EPIPE || errno == ECONNRESET || errno == ENOTCONN) {
      return gone(state_dir);
    }
    if (errno == EAGAIN) {
      return base::make_error(ErrorCode::Unavailable, "the shim of `{}` does not take requests",
                              state_dir);
    }
    return base::sys_error("send to the shim of `{}`", state_dir);
  }
  std::string reply(kMaxReply, '\0');
  ssize_t n;
  do {
    n = ::recv(sock.get(), reply.data(), reply.size(), 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN) {
    return base::make_error(ErrorCode::Unavailable, "the shim of `{}` did not answer within {} s",
                            state_dir, kReplyTimeoutSeconds);
  }
  if (n == 0 || (n < 0 && (errno == ECONNRESET || errno == EPIPE))) {
    // The shim went away with the request (its container ended).
    return gone(state_dir);
  }
  if (n < 0) {
    return base::sys_error("read the reply of the shim of `{}`", state_dir);
  }
  reply.resize(static_cast<size_t>(n));
  auto j = nlohmann::json::parse(reply, nullptr, false);
  if (j.is_discarded()) {
    return base::make_error(ErrorCode::Internal, "the shim of `{}` answered `{}`", state_dir,
                            reply);
  }
  ControlReply r = MYDOCKER_TRY_CTX(ControlReply::from_json(j), "the shim of `{}`", state_dir);
  if (!r.error.empty()) {
    return base::Error(static_cast<ErrorCode>(r.code), r.error);
  }
  return r;
}

}  // namespace

base::Result<void> send_attach(const std::string& state_dir, const AttachSpec& spec,
                               base::Fd conn) {
  if (!conn) {
    return base::make_error(ErrorCode::InvalidArgument, "attach: no connection");
  }
  ControlRequest req;
  req.op = "attach";
  req.attach = spec;
  req.attach.fd = -1;
  MYDOCKER_TRY(call(state_dir, req, conn.get()));
  return base::ok();
}

base::Result<void> send_resize(const std::string& state_dir, const std::string& exec_id, int height,
                               int width) {
  ControlRequest req;
  req.op = "resize";
  req.exec_id = exec_id;
  req.height = height;
  req.width = width;
  MYDOCKER_TRY(call(state_dir, req, -1));
  return base::ok();
}

base::Result<int64_t> send_exec(const std::string& state_dir, const ExecSpec& spec,
                                const AttachSpec& attach, std::optional<base::Fd> conn) {
  ControlRequest req;
  req.op = "exec";
  req.exec = spec;
  req.attach = attach;
  req.attach.fd = -1;
  int fd = conn && conn->valid() ? conn->get() : -1;
  ControlReply r = MYDOCKER_TRY(call(state_dir, req, fd));
  return r.pid;
}

}  // namespace mydocker::engine::shim
