// SPDX-License-Identifier: Apache-2.0
#include "runtime/process/console.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>

namespace mydocker::runtime::process {

namespace {

base::Result<sockaddr_un> unix_addr(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    return base::make_error(base::ErrorCode::InvalidArgument,
                            "unix socket path `{}` is longer than {} bytes", path,
                            sizeof addr.sun_path - 1);
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

}  // namespace

base::Result<base::Fd> connect_unix(const std::string& path) {
  sockaddr_un addr = MYDOCKER_TRY(unix_addr(path));
  base::Fd sock = base::Fd::adopt(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) {
    return base::sys_error("socket");
  }
  if (::connect(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) < 0) {
    return base::sys_error("connect to console socket `{}`", path);
  }
  return sock;
}

base::Result<base::Fd> listen_unix(const std::string& path) {
  sockaddr_un addr = MYDOCKER_TRY(unix_addr(path));
  base::Fd sock = base::Fd::adopt(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) {
    return base::sys_error("socket");
  }
  if (::bind(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) < 0) {
    return base::sys_error("bind `{}`", path);
  }
  if (::listen(sock.get(), 4) < 0) {
    return base::sys_error("listen `{}`", path);
  }
  return sock;
}

base::Result<void> send_fd(int sock, int fd, const std::string& name) {
  iovec iov{};
  iov.iov_base = const_cast<char*>(name.data());
  iov.iov_len = name.size();
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  for (;;) {
    if (::sendmsg(sock, &msg, MSG_NOSIGNAL) >= 0) {
      return base::ok();
    }
    if (errno != EINTR) {
      return base::sys_error("send the pty master over the console socket");
    }
  }
}

base::Result<base::Fd> recv_fd(int sock) {
  char data[256];
  iovec iov{};
  iov.iov_base = data;
  iov.iov_len = sizeof data;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    return base::sys_error("receive a file descriptor");
  }
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
      return base::Fd::adopt(fd);
    }
  }
  return base::make_error(base::ErrorCode::Unavailable,
                          "the console socket peer sent no file descriptor");
}

base::Result<Pty> open_pty() {
  base::Fd master = MYDOCKER_TRY(base::Fd::open("/dev/ptmx", O_RDWR | O_NOCTTY));
  int unlock = 0;
  if (::ioctl(master.get(), TIOCSPTLCK, &unlock) < 0) {
    return base::sys_error("unlock the pty");
  }
  // TIOCGPTPEER opens the slave through the master, so no path lookup in a devpts that a
  // container image could have replaced.
  int slave = ::ioctl(master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) {
    return base::sys_error("open the pty slave");
  }
  return Pty{std::move(master), base::Fd::adopt(slave)};
}

base::Result<void> make_controlling_terminal(int slave,
                                             const std::optional<spec::ConsoleSize>& size) {
  if (::setsid() < 0) {
    return base::sys_error("setsid");
  }
  if (::ioctl(slave, TIOCSCTTY, 0) < 0) {
    return base::sys_error("make the pty the controlling terminal");
  }
  if (size && size->height > 0 && size->width > 0) {
    winsize ws{};
    ws.ws_row = static_cast<unsigned short>(size->height);
    ws.ws_col = static_cast<unsigned short>(size->width);
    if (::ioctl(slave, TIOCSWINSZ, &ws) < 0) {
      return base::sys_error("set the console size");
    }
  }
  for (int target = 0; target <= 2; ++target) {
    if (::dup2(slave, target) < 0) {
      return base::sys_error("dup the pty to fd {}", target);
    }
  }
  return base::ok();
}

}  // namespace mydocker::runtime::process
