// SPDX-License-Identifier: Apache-2.0
#include "engine/network/netns.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <thread>
#include <utility>

#include "runtime/base/file.h"
#include "runtime/base/scope_exit.h"

namespace mydocker::engine::network::kernel {

namespace {

// Runs `fn` on a new thread and returns its result. A thread (not the caller) is what changes
// namespace, so the caller's thread never does.
base::Result<void> on_thread(const std::function<base::Result<void>()>& fn) {
  base::Result<void> result = base::make_error(base::ErrorCode::Internal, "thread did not run");
  std::thread t([&] { result = fn(); });
  t.join();
  return result;
}

bool is_mount_root(const std::string& path) {
  struct statx st {};
  if (::statx(AT_FDCWD, path.c_str(), AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &st) < 0) {
    return false;
  }
  return (st.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) != 0 &&
         (st.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
}

}  // namespace

bool is_netns_file(const std::string& path) {
  struct statfs st {};
  return ::statfs(path.c_str(), &st) == 0 && static_cast<unsigned long>(st.f_type) == NSFS_MAGIC;
}

base::Result<NetNs> NetNs::create(const std::string& path) {
  if (is_netns_file(path)) {
    return base::make_error(base::ErrorCode::AlreadyExists, "network namespace `{}` already exists",
                            path);
  }
  // A plain file from a crashed run is reused: it holds nothing.
  {
    int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0444);
    if (fd < 0) {
      return base::sys_error("create network namespace file `{}`", path);
    }
    ::close(fd);
  }
  base::ScopeExit unlink_file([&] { ::unlink(path.c_str()); });

  MYDOCKER_TRY(on_thread([&]() -> base::Result<void> {
    if (::unshare(CLONE_NEWNET) < 0) {
      return base::sys_error("unshare network namespace");
    }
    if (::mount("/proc/thread-self/ns/net", path.c_str(), nullptr, MS_BIND, nullptr) < 0) {
      return base::sys_error("bind network namespace on `{}`", path);
    }
    return base::ok();
  }));
  base::ScopeExit unmount([&] { ::umount2(path.c_str(), MNT_DETACH); });

  auto fd = MYDOCKER_TRY_CTX(base::Fd::open(path, O_RDONLY), "open network namespace `{}`", path);
  unmount.dismiss();
  unlink_file.dismiss();
  return NetNs(std::move(fd), path, true);
}

base::Result<NetNs> NetNs::open(const std::string& path) {
  auto fd = MYDOCKER_TRY_CTX(base::Fd::open(path, O_RDONLY), "open network namespace `{}`", path);
  int type = ::ioctl(fd.get(), NS_GET_NSTYPE);
  if (type != CLONE_NEWNET) {
    return base::make_error(base::ErrorCode::InvalidArgument, "`{}` is not a network namespace",
                            path);
  }
  return NetNs(std::move(fd), path, false);
}

NetNs& NetNs::operator=(NetNs&& other) noexcept {
  if (this != &other) {
    if (owned_) {
      (void)remove();
    }
    fd_ = std::move(other.fd_);
    path_ = std::move(other.path_);
    owned_ = std::exchange(other.owned_, false);
  }
  return *this;
}

NetNs::~NetNs() {
  if (owned_) {
    (void)remove();
  }
}

base::Result<void> NetNs::remove() {
  owned_ = false;
  fd_.reset();
  if (path_.empty()) {
    return base::ok();
  }
  return remove_netns(path_);
}

base::Result<void> NetNs::run(const std::function<base::Result<void>()>& fn) const {
  return on_thread([&]() -> base::Result<void> {
    if (::setns(fd_.get(), CLONE_NEWNET) < 0) {
      return base::sys_error("enter network namespace `{}`", path_);
    }
    return fn();
  });
}

base::Result<void> remove_netns(const std::string& path) {
  // EINVAL: not a mount point (already unmounted, or a leftover plain file).
  if (::umount2(path.c_str(), MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT) {
    return base::sys_error("unmount network namespace `{}`", path);
  }
  if (::unlink(path.c_str()) < 0 && errno != ENOENT) {
    return base::sys_error("remove network namespace file `{}`", path);
  }
  return base::ok();
}

base::Result<void> make_netns_dir(const std::string& dir) {
  MYDOCKER_TRY(base::mkdir_all(dir, 0755));
  if (!is_mount_root(dir)) {
    if (::mount(dir.c_str(), dir.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0) {
      return base::sys_error("bind `{}` on itself", dir);
    }
  }
  if (::mount(nullptr, dir.c_str(), nullptr, MS_SHARED | MS_REC, nullptr) < 0) {
    return base::sys_error("make `{}` a shared mount", dir);
  }
  return base::ok();
}

}  // namespace mydocker::engine::network::kernel
