// SPDX-License-Identifier: Apache-2.0
#include "runtime/base/fd.h"

#include <fcntl.h>
#include <unistd.h>

namespace mydocker::base {

Result<Fd> Fd::open(const std::string& path, int flags, mode_t mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) {
    return sys_error("open `{}`", path);
  }
  return Fd(fd);
}

Result<Fd> Fd::open_at(const Fd& dir, const std::string& path, int flags, mode_t mode) {
  int fd = ::openat(dir.get(), path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) {
    return sys_error("open `{}`", path);
  }
  return Fd(fd);
}

void Fd::reset(int fd) {
  if (fd_ >= 0) {
    ::close(fd_);
  }
  fd_ = fd;
}

Result<Fd> Fd::dup() const {
  int fd = ::fcntl(fd_, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) {
    return sys_error("dup fd {}", fd_);
  }
  return Fd(fd);
}

Result<Pipe> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) {
    return sys_error("pipe");
  }
  return Pipe{Fd::adopt(fds[0]), Fd::adopt(fds[1])};
}

Result<void> write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return sys_error("write fd {}", fd);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return ok();
}

Result<std::string> read_all(int fd) {
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return sys_error("read fd {}", fd);
    }
    if (n == 0) {
      return out;
    }
    out.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace mydocker::base
