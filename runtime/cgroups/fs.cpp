// SPDX-License-Identifier: Apache-2.0
#include "runtime/cgroups/fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "runtime/base/fd.h"
#include "runtime/base/file.h"
#include "runtime/base/strings.h"

namespace mydocker::runtime::cgroups::fs {
namespace {

using base::ErrorCode;

// Errnos with which cgroupfs refuses a value (cpuset.cpus "99" is EINVAL, cpu.shares out of
// range ERANGE, a memory limit below what cannot be reclaimed EBUSY, cpuset.mems of a
// missing node ENOSPC on some kernels).
bool refused_value(int err) {
  return err == EINVAL || err == ERANGE || err == EOVERFLOW || err == EBUSY || err == ENOSPC;
}

base::Result<void> rmdir_once(const std::string& dir, const Options& options) {
  if (options.rmdir_for_test) {
    return options.rmdir_for_test(dir);
  }
  if (::rmdir(dir.c_str()) < 0) {
    return base::sys_error("remove cgroup `{}`", dir);
  }
  return base::ok();
}

}  // namespace

base::Result<void> write(const std::string& dir, const std::string& file,
                         const std::string& value) {
  std::string path = dir + "/" + file;
  // O_TRUNC is ignored by cgroupfs and keeps a plain file standing in for it honest.
  int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) {
    return base::sys_error("cgroup `{}` = `{}`: open `{}`", file, value, path);
  }
  base::Fd owner = base::Fd::adopt(fd);
  ssize_t n;
  do {
    n = ::write(fd, value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    int err = errno;
    ErrorCode code = refused_value(err) ? ErrorCode::InvalidArgument : base::code_from_errno(err);
    return base::Error(code, fmt::format("cgroup `{}` = `{}`", file, value), err);
  }
  if (static_cast<size_t>(n) != value.size()) {
    return base::make_error(ErrorCode::Internal, "cgroup `{}` = `{}`: short write", file, value);
  }
  return base::ok();
}

base::Result<std::optional<std::string>> read_optional(const std::string& path) {
  auto r = base::read_file(path);
  if (!r) {
    if (r.error().sys_errno() == ENOENT) {
      return std::optional<std::string>();
    }
    return std::move(r).error();
  }
  return std::optional<std::string>(std::move(*r));
}

base::Result<std::vector<pid_t>> read_procs(const std::string& dir) {
  std::optional<std::string> text = MYDOCKER_TRY(read_optional(dir + "/cgroup.procs"));
  std::vector<pid_t> out;
  if (!text) {
    return out;
  }
  for (const std::string& line : base::split(*text, '\n')) {
    if (auto v = base::parse_int64(base::trim(line)); v && *v > 0) {
      out.push_back(static_cast<pid_t>(*v));
    }
  }
  return out;
}

base::Result<void> make_dirs(const std::string& root, const std::string& rel,
                             std::vector<std::string>& made, const Options& options) {
  std::string path = root;
  for (const std::string& part : base::split(rel, '/')) {
    if (part.empty()) {
      continue;
    }
    path += "/" + part;
    if (::mkdir(path.c_str(), 0755) == 0) {
      made.push_back(path);
      if (options.populate_for_test) {
        options.populate_for_test(path);
      }
      continue;
    }
    if (errno != EEXIST) {
      return base::sys_error("create cgroup `{}`", path);
    }
    struct stat st;
    if (::stat(path.c_str(), &st) < 0 || !S_ISDIR(st.st_mode)) {
      return base::make_error(ErrorCode::InvalidArgument, "create cgroup `{}`: not a directory",
                              path);
    }
  }
  return base::ok();
}

base::Result<void> remove_dir(const std::string& dir, const Options& options) {
  // Sub-cgroups first: a container with a cgroup namespace may have made its own.
  std::error_code ec;
  std::vector<std::string> children;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code tec;
    if (it->is_directory(tec) && !it->is_symlink(tec)) {
      children.push_back(it->path().string());
    }
  }
  if (ec && ec.value() != ENOENT) {
    return base::Error(base::code_from_errno(ec.value()),
                       fmt::format("remove cgroup `{}`: list", dir), ec.value());
  }
  for (const std::string& c : children) {
    MYDOCKER_TRY(remove_dir(c, options));
  }
  std::optional<base::Error> last;
  auto step = [&]() -> base::Result<bool> {
    auto r = rmdir_once(dir, options);
    if (r || r.error().sys_errno() == ENOENT) {
      return true;
    }
    if (r.error().sys_errno() == EBUSY) {
      last = std::move(r).error();
      return false;
    }
    return std::move(r).error();
  };
  bool done = MYDOCKER_TRY(poll_until(options.timeout, step));
  if (!done) {
    base::Error e = last ? *last : base::make_error(ErrorCode::Conflict, "remove cgroup `{}`", dir);
    return base::Error(ErrorCode::Conflict, fmt::format("{} (processes remain)", e.message()),
                       e.sys_errno());
  }
  return base::ok();
}

void remove_made(const std::vector<std::string>& made, const Options& options) {
  Options quick = options;
  quick.timeout = std::min(options.timeout, std::chrono::milliseconds(1000));
  for (auto it = made.rbegin(); it != made.rend(); ++it) {
    (void)remove_dir(*it, quick);
  }
}

base::Result<bool> poll_until(std::chrono::milliseconds timeout,
                              const std::function<base::Result<bool>()>& done) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::microseconds(100);
  for (;;) {
    if (MYDOCKER_TRY(done())) {
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(10000));
  }
}

}  // namespace mydocker::runtime::cgroups::fs
