// SPDX-License-Identifier: Apache-2.0
// Fd: the owner of one file descriptor. Move-only; closes on destruction.
// Every descriptor mydocker opens is O_CLOEXEC (the factories add it), so nothing leaks into a
// container's exec (runc's CVE-2024-21626 was a leaked cwd fd).
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "runtime/base/error.h"

namespace mydocker::base {

class Fd {
 public:
  Fd() = default;
  // Adopts an already-open descriptor (e.g. from pipe2, socket, pidfd_open).
  static Fd adopt(int fd) { return Fd(fd); }
  static Result<Fd> open(const std::string& path, int flags, mode_t mode = 0);
  static Result<Fd> open_at(const Fd& dir, const std::string& path, int flags, mode_t mode = 0);

  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset(std::exchange(other.fd_, -1));
    }
    return *this;
  }
  ~Fd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }
  // Gives up ownership; the caller closes.
  int release() { return std::exchange(fd_, -1); }
  // Closes the current descriptor (if any) and adopts `fd`.
  void reset(int fd = -1);
  Result<Fd> dup() const;

 private:
  explicit Fd(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// A pipe with both ends O_CLOEXEC.
struct Pipe {
  Fd read;
  Fd write;
};
Result<Pipe> make_pipe();

// write(2) all of `data`, retrying on EINTR and short writes.
Result<void> write_all(int fd, std::string_view data);
// read(2) until EOF.
Result<std::string> read_all(int fd);

}  // namespace mydocker::base
