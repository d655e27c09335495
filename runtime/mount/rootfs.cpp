// SPDX-License-Identifier: Apache-2.0
// prepare_rootfs / pivot_into / finalize_rootfs. These run in the container's init between
// clone and exec: no logging, no locks, errors returned as values.
//
// Every mount target is resolved inside the rootfs with open_in_root and the mount is made on
// /proc/self/fd/<fd> (the trick runc and crun use since CVE-2021-30465): the kernel mounts on
// exactly the inode that was resolved safely, so swapping a path component for a symlink
// between the check and the mount achieves nothing.
#include "runtime/mount/rootfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <string>
#include <string_view>

#include "runtime/base/file.h"
#include "runtime/base/scope_exit.h"
#include "runtime/base/strings.h"
#include "runtime/mount/cgroup_mount.h"

namespace mydocker::runtime::mount {
namespace {

std::string fd_path(const base::Fd& fd) {
  return "/proc/self/fd/" + std::to_string(fd.get());
}

// An empty message from mount_one means "the mount(2) of the op failed".
std::string mount_context(const MountOp& op) {
  return fmt::format("mount `{}` on `{}` (mounts[{}])", op.source, op.destination, op.index);
}

// Flags the kernel locks on a mount made in a less privileged user namespace: a remount that
// drops them fails with EPERM, so they are carried over from what the mount has now.
unsigned long locked_flags(const std::string& path) {
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0) {
    return 0;
  }
  unsigned long out = 0;
  const std::pair<unsigned long, unsigned long> map[] = {
      {ST_RDONLY, MS_RDONLY},     {ST_NOSUID, MS_NOSUID},   {ST_NODEV, MS_NODEV},
      {ST_NOEXEC, MS_NOEXEC},     {ST_NOATIME, MS_NOATIME}, {ST_NODIRATIME, MS_NODIRATIME},
      {ST_RELATIME, MS_RELATIME},
  };
  for (auto [st_flag, ms_flag] : map) {
    if ((st.f_flag & st_flag) != 0) {
      out |= ms_flag;
    }
  }
  return out;
}

constexpr unsigned long kPerMountFlags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME |
                                         MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME;

// MS_REMOUNT|MS_BIND: changes the per-mount flags of the bind mount at `path` only.
base::Result<void> remount_bind(const std::string& path, unsigned long flags) {
  unsigned long f = MS_REMOUNT | MS_BIND | (flags & kPerMountFlags);
  if (::mount(nullptr, path.c_str(), nullptr, f, nullptr) == 0) {
    return base::ok();
  }
  if (errno != EPERM) {
    return base::sys_error("remount");
  }
  unsigned long locked = locked_flags(path);
  // An atime mode we would change is locked too; keep the mount's.
  if ((locked & (MS_NOATIME | MS_RELATIME)) != 0) {
    f &= ~(MS_NOATIME | MS_RELATIME | MS_STRICTATIME);
  }
  if (::mount(nullptr, path.c_str(), nullptr, f | locked, nullptr) != 0) {
    return base::sys_error("remount");
  }
  return base::ok();
}

// "/a/b/../c" -> "/a/c" with ".." stopping at the root (as the kernel does for "/..").
std::string clamp_in_root(const std::string& path) {
  std::vector<std::string> parts;
  for (auto& c : base::split(path, '/')) {
    if (c.empty() || c == ".") {
      continue;
    }
    if (c == "..") {
      if (!parts.empty()) {
        parts.pop_back();
      }
      continue;
    }
    parts.push_back(std::move(c));
  }
  return "/" + base::join(parts, "/");
}

// A mountpoint for `op` inside the rootfs: a directory, or an empty file when a non-directory
// is bind-mounted. Returns an O_PATH fd of the resolved target.
base::Result<base::Fd> make_mountpoint(int root, const std::string& dest, bool dir) {
  if (dir) {
    return open_in_root(root, dest, O_PATH, true);
  }
  // A dangling symlink at the destination (/etc/resolv.conf -> ../run/resolv.conf) gets its
  // target created, inside the root, as runc does; each step is resolved in the root again.
  std::string path = dest;
  for (int hops = 0; hops <= 40; ++hops) {
    auto slash = path.rfind('/');
    std::string parent_path = path.substr(0, slash == 0 ? 1 : slash);
    std::string name = path.substr(slash + 1);
    if (name.empty()) {
      break;
    }
    base::Fd parent = MYDOCKER_TRY(open_in_root(root, parent_path, O_PATH | O_DIRECTORY, true));
    int fd = ::openat(parent.get(), name.c_str(),
                      O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::close(fd);
      return open_in_root(root, path, O_PATH);
    }
    if (errno != EEXIST) {
      return base::sys_error("create `{}` inside the root", path);
    }
    char target[PATH_MAX];
    ssize_t n = ::readlinkat(parent.get(), name.c_str(), target, sizeof target);
    if (n <= 0 || static_cast<size_t>(n) == sizeof target) {
      // Not a symlink (EINVAL): an existing file or directory, resolved as it is.
      return open_in_root(root, path, O_PATH);
    }
    std::string t(target, static_cast<size_t>(n));
    auto existing = open_in_root(root, path, O_PATH);
    if (existing || existing.error().sys_errno() != ENOENT) {
      return existing;
    }
    path = clamp_in_root(t[0] == '/' ? t : parent_path + "/" + t);
  }
  return base::sys_error_n(ELOOP, "create `{}` inside the root", dest);
}

base::Result<void> apply_recursive_attrs(const base::Fd& target, const MountOp& op) {
  struct mount_attr attr {};
  attr.attr_set = op.attr_set;
  attr.attr_clr = op.attr_clear;
  if (::mount_setattr(target.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0) {
    return base::sys_error("set recursive mount attributes");
  }
  return base::ok();
}

// Copies the tree under `src` into `dst` (both directory fds), keeping modes, owners and
// symlinks as they are. Nothing is followed: this is the image's content.
base::Result<void> copy_tree(int src, int dst) {
  int dup_fd = ::fcntl(src, F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0) {
    return base::sys_error("dup");
  }
  DIR* dir = ::fdopendir(dup_fd);
  if (dir == nullptr) {
    ::close(dup_fd);
    return base::sys_error("opendir");
  }
  base::ScopeExit close_dir([dir] { ::closedir(dir); });
  while (struct dirent* e = ::readdir(dir)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") {
      continue;
    }
    struct stat st {};
    if (::fstatat(src, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return base::sys_error("stat `{}`", name);
    }
    mode_t perm = st.st_mode & 07777;
    if (S_ISDIR(st.st_mode)) {
      if (::mkdirat(dst, name.c_str(), 0700) != 0) {
        return base::sys_error("mkdir `{}`", name);
      }
      auto from = base::Fd::adopt(
          ::openat(src, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      auto to = base::Fd::adopt(
          ::openat(dst, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!from || !to) {
        return base::sys_error("open `{}`", name);
      }
      MYDOCKER_TRY_CTX(copy_tree(from.get(), to.get()), "`{}`", name);
      if (::fchown(to.get(), st.st_uid, st.st_gid) != 0 || ::fchmod(to.get(), perm) != 0) {
        return base::sys_error("chown/chmod `{}`", name);
      }
    } else if (S_ISREG(st.st_mode)) {
      auto from = base::Fd::adopt(::openat(src, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      auto to = base::Fd::adopt(
          ::openat(dst, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
      if (!from || !to) {
        return base::sys_error("open `{}`", name);
      }
      char buf[65536];
      for (;;) {
        ssize_t n = ::read(from.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
          continue;
        }
        if (n < 0) {
          return base::sys_error("read `{}`", name);
        }
        if (n == 0) {
          break;
        }
        MYDOCKER_TRY_CTX(base::write_all(to.get(), std::string_view(buf, static_cast<size_t>(n))),
                         "`{}`", name);
      }
      if (::fchown(to.get(), st.st_uid, st.st_gid) != 0 || ::fchmod(to.get(), perm) != 0) {
        return base::sys_error("chown/chmod `{}`", name);
      }
    } else if (S_ISLNK(st.st_mode)) {
      char target[PATH_MAX];
      ssize_t n = ::readlinkat(src, name.c_str(), target, sizeof target - 1);
      if (n < 0) {
        return base::sys_error("readlink `{}`", name);
      }
      target[n] = '\0';
      if (::symlinkat(target, dst, name.c_str()) != 0 ||
          ::fchownat(dst, name.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) != 0) {
        return base::sys_error("symlink `{}`", name);
      }
    } else if (!S_ISSOCK(st.st_mode)) {
      // Device nodes and fifos; sockets are bound to the old inode and mean nothing copied.
      if (::mknodat(dst, name.c_str(), st.st_mode, st.st_rdev) != 0 ||
          ::fchownat(dst, name.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) != 0) {
        return base::sys_error("mknod `{}`", name);
      }
    }
  }
  return base::ok();
}

// tmpfs with tmpcopyup. The directory fd keeps reaching the image's directory once the tmpfs
// covers it, so no temporary mount is needed for the copy.
base::Result<void> mount_tmpfs_copyup(int root, const MountOp& op, const base::Fd& target) {
  unsigned long flags = op.flags & ~MS_RDONLY;
  auto below = base::Fd::adopt(::openat(target.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!below) {
    return base::sys_error("tmpcopyup: open `{}`", op.destination);
  }
  if (::mount(op.source.c_str(), fd_path(target).c_str(), "tmpfs", flags,
              op.data.empty() ? nullptr : op.data.c_str()) != 0) {
    return base::sys_error("");
  }
  base::Fd top = MYDOCKER_TRY(open_in_root(root, op.destination, O_RDONLY | O_DIRECTORY));
  MYDOCKER_TRY_CTX(copy_tree(below.get(), top.get()), "tmpcopyup");
  if (op.data.find("mode=") == std::string::npos) {
    struct stat st {};
    if (::fstat(below.get(), &st) == 0) {
      (void)::fchmod(top.get(), st.st_mode & 07777);
    }
  }
  if ((op.flags & MS_RDONLY) != 0) {
    MYDOCKER_TRY(remount_bind(fd_path(top), op.flags));
  }
  return base::ok();
}

base::Result<void> mount_one(int root, const MountOp& op, bool in_cgroupns) {
  if (op.type == "cgroup" || op.type == "cgroup2") {
    return mount_cgroup(root, op, in_cgroupns);
  }
  base::Fd target = MYDOCKER_TRY(make_mountpoint(root, op.destination, op.source_is_dir));
  std::string tpath = fd_path(target);
  if (op.is_bind()) {
    if (::mount(op.source.c_str(), tpath.c_str(), nullptr, op.flags & (MS_BIND | MS_REC),
                nullptr) != 0) {
      return base::sys_error("");
    }
  } else if ((op.flags & MS_REMOUNT) != 0) {
    if (::mount(op.source.c_str(), tpath.c_str(), op.type.c_str(), op.flags,
                op.data.empty() ? nullptr : op.data.c_str()) != 0) {
      return base::sys_error("remount");
    }
  } else if (op.tmpcopyup) {
    MYDOCKER_TRY(mount_tmpfs_copyup(root, op, target));
  } else {
    unsigned long flags = op.flags;
    // /dev must stay writable until the devices are in; finalize_rootfs makes it read-only.
    if (op.destination == "/dev") {
      flags &= ~MS_RDONLY;
    }
    int rc = ::mount(op.source.c_str(), tpath.c_str(), op.type.c_str(), flags,
                     op.data.empty() ? nullptr : op.data.c_str());
    if (rc != 0 && errno == EINVAL && op.type == "devpts" &&
        op.data.find("gid=") != std::string::npos) {
      // gid=5 (tty) has no mapping in a user namespace that maps only the container's root:
      // devpts refuses it; without it the ptys belong to the opener's group (as crun).
      std::vector<std::string> kept;
      for (auto& o : base::split(op.data, ',')) {
        if (o.rfind("gid=", 0) != 0) {
          kept.push_back(std::move(o));
        }
      }
      std::string data = base::join(kept, ",");
      rc = ::mount(op.source.c_str(), tpath.c_str(), op.type.c_str(), flags, data.c_str());
    }
    if (rc != 0) {
      // In a user namespace without its own network namespace the kernel refuses a new sysfs
      // instance; bind the host's instead (as runc), with the asked flags.
      if (errno != EPERM || op.type != "sysfs") {
        return base::sys_error("");
      }
      if (::mount("/sys", tpath.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
        return base::sys_error("bind `/sys` (sysfs refused)");
      }
      base::Fd top = MYDOCKER_TRY(open_in_root(root, op.destination, O_PATH));
      MYDOCKER_TRY(remount_bind(fd_path(top), flags));
    }
  }
  if (op.bind_remount || op.attr_set != 0 || op.attr_clear != 0 || op.propagation != 0) {
    // `target` still names the directory under the new mount; these steps are about the
    // mount itself, so resolve again to get the top of the stack.
    base::Fd top = MYDOCKER_TRY(open_in_root(root, op.destination, O_PATH));
    if (op.bind_remount) {
      MYDOCKER_TRY(remount_bind(fd_path(top), op.flags));
    }
    if (op.attr_set != 0 || op.attr_clear != 0) {
      MYDOCKER_TRY(apply_recursive_attrs(top, op));
    }
    if (op.propagation != 0) {
      if (::mount(nullptr, fd_path(top).c_str(), nullptr, op.propagation, nullptr) != 0) {
        return base::sys_error("set propagation");
      }
    }
  }
  return base::ok();
}

struct DeviceNode {
  std::string path;
  mode_t type;  // S_IFCHR, S_IFBLK, S_IFIFO
  dev_t rdev;
  mode_t mode;
  uid_t uid;
  gid_t gid;
  bool chown;
};

// The devices every container gets (the OCI spec's list; runc's AllowedDevices).
std::vector<DeviceNode> device_list(const spec::Spec& spec) {
  std::vector<DeviceNode> out = {
      {"/dev/null", S_IFCHR, makedev(1, 3), 0666, 0, 0, false},
      {"/dev/zero", S_IFCHR, makedev(1, 5), 0666, 0, 0, false},
      {"/dev/full", S_IFCHR, makedev(1, 7), 0666, 0, 0, false},
      {"/dev/random", S_IFCHR, makedev(1, 8), 0666, 0, 0, false},
      {"/dev/urandom", S_IFCHR, makedev(1, 9), 0666, 0, 0, false},
      {"/dev/tty", S_IFCHR, makedev(5, 0), 0666, 0, 0, false},
  };
  for (const auto& d : spec.linux.devices) {
    DeviceNode n;
    n.path = normalize_in_root(d.path).value_or("/");
    n.type = d.type == 'b' ? S_IFBLK : d.type == 'p' ? S_IFIFO : S_IFCHR;
    n.rdev = makedev(static_cast<unsigned>(d.major), static_cast<unsigned>(d.minor));
    n.mode = d.file_mode ? (*d.file_mode & 07777) : 0666;
    n.uid = d.uid.value_or(0);
    n.gid = d.gid.value_or(0);
    n.chown = d.uid.has_value() || d.gid.has_value();
    bool replaced = false;
    for (auto& existing : out) {
      if (existing.path == n.path) {
        existing = n;
        replaced = true;
      }
    }
    if (!replaced) {
      out.push_back(n);
    }
  }
  return out;
}

base::Result<void> create_device(int root, const DeviceNode& d) {
  if (d.path == "/") {
    return base::make_error(base::ErrorCode::InvalidArgument, "not a device path");
  }
  auto slash = d.path.rfind('/');
  std::string parent_path = d.path.substr(0, slash == 0 ? 1 : slash);
  std::string name = d.path.substr(slash + 1);
  base::Fd parent = MYDOCKER_TRY(open_in_root(root, parent_path, O_PATH | O_DIRECTORY, true));

  struct stat st {};
  if (::fstatat(parent.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if ((st.st_mode & S_IFMT) == d.type && (d.type == S_IFIFO || st.st_rdev == d.rdev)) {
      return base::ok();
    }
    // Whatever the image put there (a file, a symlink to a host path) is not the device.
    if (::unlinkat(parent.get(), name.c_str(), S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) != 0) {
      return base::sys_error("remove the existing `{}`", d.path);
    }
  }
  // The mode is the spec's, not the spec's filtered by our umask.
  mode_t old_umask = ::umask(0);
  int rc = ::mknodat(parent.get(), name.c_str(), d.type | d.mode, d.rdev);
  int err = errno;
  ::umask(old_umask);
  if (rc == 0) {
    if (d.chown && ::fchownat(parent.get(), name.c_str(), d.uid, d.gid, AT_SYMLINK_NOFOLLOW) != 0) {
      return base::sys_error("chown");
    }
    return base::ok();
  }
  if (err != EPERM) {
    return base::sys_error_n(err, "mknod");
  }
  // In a user namespace mknod is refused: bind the host's node over an empty file (as runc).
  int fd = ::openat(parent.get(), name.c_str(),
                    O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    return base::sys_error("create the mountpoint");
  }
  base::Fd file = base::Fd::adopt(fd);
  if (::mount(d.path.c_str(), fd_path(file).c_str(), nullptr, MS_BIND, nullptr) != 0) {
    return base::sys_error("bind the host's `{}` (mknod refused)", d.path);
  }
  return base::ok();
}

base::Result<void> create_dev_symlinks(int root, bool ptmx) {
  base::Fd dev = MYDOCKER_TRY(open_in_root(root, "/dev", O_PATH | O_DIRECTORY, true));
  std::vector<std::pair<const char*, const char*>> links = {
      {"/proc/self/fd", "fd"},
      {"/proc/self/fd/0", "stdin"},
      {"/proc/self/fd/1", "stdout"},
      {"/proc/self/fd/2", "stderr"},
  };
  // The host's procfs tells whether the container's will have kcore.
  if (::access("/proc/kcore", F_OK) == 0) {
    links.emplace_back("/proc/kcore", "core");
  }
  for (auto [target, name] : links) {
    if (::symlinkat(target, dev.get(), name) != 0 && errno != EEXIST) {
      return base::sys_error("symlink `/dev/{}` -> `{}`", name, target);
    }
  }
  if (ptmx) {
    // One ptmx per devpts instance (newinstance): /dev/ptmx must be this instance's.
    if (::unlinkat(dev.get(), "ptmx", 0) != 0 && errno != ENOENT) {
      return base::sys_error("remove `/dev/ptmx`");
    }
    if (::symlinkat("pts/ptmx", dev.get(), "ptmx") != 0) {
      return base::sys_error("symlink `/dev/ptmx` -> `pts/ptmx`");
    }
  }
  return base::ok();
}

// The mount that holds `path`, from /proc/self/mountinfo: the longest mount point prefix.
std::string containing_mount(const std::string& path) {
  auto text = base::read_file("/proc/self/mountinfo");
  if (!text) {
    return "/";
  }
  std::string best = "/";
  for (const auto& line : base::split(*text, '\n')) {
    auto fields = base::split(line, ' ');
    if (fields.size() < 5) {
      continue;
    }
    const std::string& mp = fields[4];
    bool prefix = mp == "/" || path == mp || (path.rfind(mp, 0) == 0 && path[mp.size()] == '/');
    if (prefix && mp.size() > best.size()) {
      best = mp;
    }
  }
  return best;
}

unsigned long rootfs_propagation_flags(const std::string& name) {
  static const std::pair<const char*, unsigned long> kNames[] = {
      {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
      {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
      {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
      {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
  };
  for (auto [n, f] : kNames) {
    if (name == n) {
      return f;
    }
  }
  return MS_PRIVATE | MS_REC;
}

bool spec_mount_has_option(const spec::Spec& spec, const std::string& dest,
                           const std::string& option) {
  for (const auto& m : spec.mounts) {
    if (normalize_in_root(m.destination) == dest) {
      for (const auto& o : m.options) {
        if (o == option) {
          return true;
        }
      }
    }
  }
  return false;
}

}  // namespace

base::Result<void> prepare_rootfs(const spec::Spec& spec, const std::vector<MountOp>& ops) {
  const std::string& rootfs = spec.root.path;
  // First of all: nothing below may propagate to the host's mount namespace.
  unsigned long propagation = rootfs_propagation_flags(spec.linux.rootfs_propagation);
  if (::mount(nullptr, "/", nullptr, propagation, nullptr) != 0) {
    return base::sys_error("make `/` {}", spec.linux.rootfs_propagation.empty()
                                              ? "rprivate"
                                              : spec.linux.rootfs_propagation);
  }
  if ((propagation & MS_SHARED) != 0) {
    // pivot_root refuses a new root whose parent mount is shared (EINVAL).
    std::string parent = containing_mount(rootfs);
    if (::mount(nullptr, parent.c_str(), nullptr, MS_PRIVATE, nullptr) != 0) {
      return base::sys_error("make `{}`, the parent mount of the rootfs, private", parent);
    }
  }
  // pivot_root needs the new root to be a mount point; the bind also makes it one mount we can
  // remount read-only at the end without touching the filesystem underneath.
  if (::mount(rootfs.c_str(), rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    return base::sys_error("bind the rootfs `{}` onto itself", rootfs);
  }
  auto root_or = base::Fd::open(rootfs, O_PATH | O_DIRECTORY);
  if (!root_or) {
    return std::move(root_or).error().wrap("open the rootfs");
  }
  base::Fd root = std::move(*root_or);

  bool in_cgroupns = false;
  for (const auto& ns : spec.linux.namespaces) {
    in_cgroupns = in_cgroupns || ns.type == spec::NamespaceType::Cgroup;
  }
  bool dev_bound = false;
  bool devpts = false;
  for (const auto& op : ops) {
    auto r = mount_one(root.get(), op, in_cgroupns);
    if (!r) {
      // The mount(2) itself failing is the common case: "mount `x` on `/y` (mounts[i])" and
      // errno say it all. Later steps add their own words.
      base::Error err = std::move(r).error();
      if (err.message().empty()) {
        return base::Error(err.code(), mount_context(op), err.sys_errno());
      }
      return std::move(err).wrap(mount_context(op));
    }
    if (op.destination == "/dev" && op.is_bind()) {
      dev_bound = true;
    }
    if (op.destination == "/dev/pts" && op.type == "devpts") {
      devpts = true;
    }
  }
  // A bound /dev is the host's (or the user's) devices: leave it as it is, as runc does.
  if (!dev_bound) {
    for (const auto& d : device_list(spec)) {
      auto r = create_device(root.get(), d);
      if (!r) {
        return std::move(r).error().wrap(fmt::format("create device `{}`", d.path));
      }
    }
    MYDOCKER_TRY(create_dev_symlinks(root.get(), devpts));
  }
  return base::ok();
}

base::Result<void> pivot_into(const std::string& rootfs) {
  auto old_root = base::Fd::open("/", O_DIRECTORY | O_RDONLY);
  if (!old_root) {
    return std::move(old_root).error().wrap("pivot_root");
  }
  auto new_root = base::Fd::open(rootfs, O_DIRECTORY | O_RDONLY);
  if (!new_root) {
    return std::move(new_root).error().wrap("pivot_root");
  }
  if (::fchdir(new_root->get()) != 0) {
    return base::sys_error("chdir into the rootfs `{}`", rootfs);
  }
  // pivot_root(".", ".") stacks the old root on top of the new one, so no directory for it is
  // needed inside the rootfs (which may be read-only) and nothing of it stays reachable.
  if (::syscall(SYS_pivot_root, ".", ".") != 0) {
    return base::sys_error("pivot_root into `{}`", rootfs);
  }
  // The kernel leaves the cwd on the old root today, but does not promise it.
  if (::fchdir(old_root->get()) != 0) {
    return base::sys_error("chdir into the old root");
  }
  // The unmount must not propagate anywhere, whatever rootfsPropagation said.
  if (::mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) != 0) {
    return base::sys_error("make the old root rslave");
  }
  if (::umount2(".", MNT_DETACH) != 0) {
    return base::sys_error("detach the old root");
  }
  if (::chdir("/") != 0) {
    return base::sys_error("chdir `/`");
  }
  return base::ok();
}

base::Result<void> finalize_rootfs(const spec::Spec& spec) {
  auto root_or = base::Fd::open("/", O_PATH | O_DIRECTORY);
  if (!root_or) {
    return std::move(root_or).error().wrap("open `/`");
  }
  base::Fd root = std::move(*root_or);
  // Mount onto the resolved fd when the container has a procfs; else onto the path, which
  // after pivot_root cannot lead outside the container anyway.
  bool have_proc = ::access("/proc/self/fd", X_OK) == 0;
  auto target_of = [&](const base::Fd& fd, const std::string& path) {
    return have_proc ? fd_path(fd) : path;
  };

  // readonlyPaths before maskedPaths, as runc: the mount table reads the same.
  for (size_t i = 0; i < spec.linux.readonly_paths.size(); ++i) {
    std::string path = normalize_in_root(spec.linux.readonly_paths[i]).value_or("/");
    std::string ctx = fmt::format("make `{}` read-only (linux.readonlyPaths[{}])", path, i);
    auto fd = open_in_root(root.get(), path, O_PATH);
    if (!fd) {
      if (fd.error().sys_errno() == ENOENT) {
        continue;
      }
      return std::move(fd).error().wrap(ctx);
    }
    std::string target = target_of(*fd, path);
    if (::mount(target.c_str(), target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
      return base::sys_error("{}: bind", ctx);
    }
    auto top = open_in_root(root.get(), path, O_PATH);
    if (!top) {
      return std::move(top).error().wrap(ctx);
    }
    std::string top_target = target_of(*top, path);
    // nosuid/nodev/noexec of what was there (e.g. /proc/sys) stay.
    auto r = remount_bind(top_target, MS_RDONLY | locked_flags(top_target));
    if (!r) {
      return std::move(r).error().wrap(ctx);
    }
  }

  for (size_t i = 0; i < spec.linux.masked_paths.size(); ++i) {
    std::string path = normalize_in_root(spec.linux.masked_paths[i]).value_or("/");
    auto fd = open_in_root(root.get(), path, O_PATH);
    if (!fd) {
      if (fd.error().sys_errno() == ENOENT) {
        continue;
      }
      return std::move(fd).error().wrap(fmt::format("mask `{}` (linux.maskedPaths[{}])", path, i));
    }
    struct stat st {};
    if (::fstat(fd->get(), &st) != 0) {
      return base::sys_error("mask `{}` (linux.maskedPaths[{}]): stat", path, i);
    }
    std::string target = target_of(*fd, path);
    int rc = S_ISDIR(st.st_mode) ? ::mount("tmpfs", target.c_str(), "tmpfs", MS_RDONLY, nullptr)
                                 : ::mount("/dev/null", target.c_str(), nullptr, MS_BIND, nullptr);
    if (rc != 0) {
      return base::sys_error("mask `{}` (linux.maskedPaths[{}])", path, i);
    }
  }

  if (spec_mount_has_option(spec, "/dev", "ro")) {
    // MS_REMOUNT|MS_BIND changes the per-mount flags of any mount, bind or not.
    auto r = remount_bind("/dev", MS_RDONLY | locked_flags("/dev"));
    if (!r) {
      return std::move(r).error().wrap("remount `/dev` read-only");
    }
  }

  if (spec.root.readonly) {
    auto r = remount_bind("/", MS_RDONLY | locked_flags("/"));
    if (!r) {
      return std::move(r).error().wrap("remount `/` read-only");
    }
  }
  return base::ok();
}

}  // namespace mydocker::runtime::mount
