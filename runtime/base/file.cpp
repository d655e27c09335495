// SPDX-License-Identifier: Apache-2.0
#include "runtime/base/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "runtime/base/fd.h"

namespace mydocker::base {

Result<std::string> read_file(const std::string& path) {
  Fd fd = MYDOCKER_TRY(Fd::open(path, O_RDONLY));
  return MYDOCKER_TRY_CTX(read_all(fd.get()), "read `{}`", path);
}

Result<void> write_file(const std::string& path, std::string_view data, int extra_flags) {
  Fd fd = MYDOCKER_TRY(Fd::open(path, O_WRONLY | O_TRUNC | extra_flags, 0644));
  ssize_t n = ::write(fd.get(), data.data(), data.size());
  if (n < 0 || static_cast<size_t>(n) != data.size()) {
    return sys_error("write `{}` to `{}`", data, path);
  }
  return ok();
}

Result<void> write_file_atomic(const std::string& path, std::string_view data, mode_t mode) {
  std::filesystem::path p(path);
  std::string dir = p.parent_path().empty() ? "." : p.parent_path().string();
  std::string tmp =
      fmt::format("{}/.{}.tmp-{:x}", dir, p.filename().string(), std::random_device{}());
  {
    Fd fd = MYDOCKER_TRY(Fd::open(tmp, O_WRONLY | O_CREAT | O_EXCL, mode));
    if (auto r = write_all(fd.get(), data); !r) {
      ::unlink(tmp.c_str());
      return std::move(r).error().wrap(fmt::format("write `{}`", tmp));
    }
    if (::fsync(fd.get()) < 0) {
      Error e = sys_error("fsync `{}`", tmp);
      ::unlink(tmp.c_str());
      return e;
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) < 0) {
    Error e = sys_error("rename `{}` to `{}`", tmp, path);
    ::unlink(tmp.c_str());
    return e;
  }
  Fd dfd = MYDOCKER_TRY(Fd::open(dir, O_RDONLY | O_DIRECTORY));
  if (::fsync(dfd.get()) < 0) {
    return sys_error("fsync `{}`", dir);
  }
  return ok();
}

Result<void> mkdir_all(const std::string& path, mode_t mode) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) {
    return Error(code_from_errno(ec.value()), fmt::format("mkdir `{}`", path), ec.value());
  }
  ::chmod(path.c_str(), mode);
  return ok();
}

Result<void> remove_all(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec && ec.value() != ENOENT) {
    return Error(code_from_errno(ec.value()), fmt::format("remove `{}`", path), ec.value());
  }
  return ok();
}

bool path_exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

}  // namespace mydocker::base
