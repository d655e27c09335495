// SPDX-License-Identifier: Apache-2.0
#include "image/layers/source.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace mydocker::image::layers {

base::Result<size_t> FdSource::read(std::span<std::byte> buf) {
  for (;;) {
    ssize_t n = ::read(fd_, buf.data(), buf.size());
    if (n >= 0) {
      return static_cast<size_t>(n);
    }
    if (errno != EINTR) {
      return base::sys_error("read layer stream");
    }
  }
}

base::Result<FileSource> FileSource::open(const std::string& path) {
  base::Fd fd = MYDOCKER_TRY(base::Fd::open(path, O_RDONLY));
  // The whole file is read once, front to back.
  (void)posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  return FileSource(std::move(fd));
}

base::Result<size_t> FileSource::read(std::span<std::byte> buf) {
  return FdSource(fd_.get()).read(buf);
}

base::Result<size_t> MemorySource::read(std::span<std::byte> buf) {
  size_t n = std::min(buf.size(), data_.size());
  std::memcpy(buf.data(), data_.data(), n);
  data_.remove_prefix(n);
  return n;
}

}  // namespace mydocker::image::layers
