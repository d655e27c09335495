// SPDX-License-Identifier: Apache-2.0
// copy_layer(): one layer diff merged onto a tree the way overlayfs would show it, for
// CopyStore. Every step is an *at call on directory fds opened O_NOFOLLOW, so a symlink in
// the lower tree (or planted by an image) is replaced, never written through.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <string>
#include <vector>

#include "image/layers/in_root.h"
#include "image/layers/snapshotter.h"
#include "runtime/base/fd.h"

namespace mydocker::image::layers {
namespace {

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";
constexpr std::string_view kOverlayXattrPrefix = "trusted.overlay.";

class Copier {
 public:
  Copier(int dst_root, bool preserve_owners) : dst_root_(dst_root), owners_(preserve_owners) {}

  // Copies the children of `src` into `dst` (rel: dst's path below the dst root).
  base::Result<void> copy_children(int src, int dst, const std::string& rel) {
    std::vector<std::string> names = MYDOCKER_TRY(read_names(src));
    // Whiteouts first: they hide the lower entries, never this layer's own.
    for (const std::string& n : names) {
      struct stat st;
      if (::fstatat(src, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
        return base::sys_error("stat `{}{}`", rel, n);
      }
      if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
        MYDOCKER_TRY(remove_all_at(dst, n));
      } else if (std::string_view(n).starts_with(kWhiteoutPrefix) && n != kOpaqueMarker &&
                 !std::string_view(n).starts_with(".wh..wh.")) {
        MYDOCKER_TRY(remove_all_at(dst, n.substr(kWhiteoutPrefix.size())));
      }
    }
    for (const std::string& n : names) {
      MYDOCKER_TRY_CTX(copy_entry(src, dst, n, rel), "copy `{}{}`", rel, n);
    }
    return base::ok();
  }

 private:
  static base::Result<std::vector<std::string>> read_names(int dir) {
    int fd = ::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      return base::sys_error("open directory");
    }
    DIR* d = ::fdopendir(fd);
    if (d == nullptr) {
      ::close(fd);
      return base::sys_error("open directory");
    }
    std::vector<std::string> out;
    while (dirent* e = ::readdir(d)) {
      std::string_view n(e->d_name);
      if (n != "." && n != "..") {
        out.emplace_back(n);
      }
    }
    ::closedir(d);
    return out;
  }

  base::Result<void> copy_entry(int src, int dst, const std::string& n, const std::string& rel) {
    struct stat st;
    if (::fstatat(src, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
      return base::sys_error("stat");
    }
    std::string_view name(n);
    if (name.starts_with(kWhiteoutPrefix) || (S_ISCHR(st.st_mode) && st.st_rdev == 0)) {
      return base::ok();  // whiteouts (handled) and aufs metadata are not content
    }
    if (S_ISDIR(st.st_mode)) {
      return copy_dir(src, dst, n, rel, st);
    }
    struct stat dst_st;
    if (::fstatat(dst, n.c_str(), &dst_st, AT_SYMLINK_NOFOLLOW) == 0) {
      MYDOCKER_TRY(remove_all_at(dst, n));
    }
    if (st.st_nlink > 1 && !S_ISDIR(st.st_mode)) {
      auto it = links_.find({st.st_dev, st.st_ino});
      if (it != links_.end()) {
        if (::linkat(dst_root_, it->second.c_str(), dst, n.c_str(), 0) < 0) {
          return base::sys_error("hard link to `{}`", it->second);
        }
        return base::ok();
      }
      links_.emplace(std::make_pair(st.st_dev, st.st_ino), rel + n);
    }
    if (S_ISREG(st.st_mode)) {
      return copy_file(src, dst, n, st);
    }
    if (S_ISLNK(st.st_mode)) {
      std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
      ssize_t len = ::readlinkat(src, n.c_str(), target.data(), target.size());
      if (len < 0) {
        return base::sys_error("read symlink");
      }
      target.resize(static_cast<size_t>(len));
      if (::symlinkat(target.c_str(), dst, n.c_str()) < 0) {
        return base::sys_error("create symlink");
      }
      return set_at_meta(dst, n, st, /*chmod=*/false);
    }
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode)) {
      if (::mknodat(dst, n.c_str(), st.st_mode, st.st_rdev) < 0) {
        return base::sys_error("create node");
      }
      return set_at_meta(dst, n, st, /*chmod=*/true);
    }
    return base::ok();  // sockets: nothing to copy
  }

  base::Result<void> copy_dir(int src, int dst, const std::string& n, const std::string& rel,
                              const struct stat& st) {
    base::Fd sdir =
        base::Fd::adopt(::openat(src, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!sdir) {
      return base::sys_error("open directory");
    }
    bool opaque = false;
    char v[2];
    if (::fgetxattr(sdir.get(), "trusted.overlay.opaque", v, sizeof v) == 1 && v[0] == 'y') {
      opaque = true;
    } else if (::faccessat(sdir.get(), std::string(kOpaqueMarker).c_str(), F_OK,
                           AT_SYMLINK_NOFOLLOW) == 0) {
      opaque = true;
    }
    struct stat dst_st;
    if (::fstatat(dst, n.c_str(), &dst_st, AT_SYMLINK_NOFOLLOW) == 0 &&
        (!S_ISDIR(dst_st.st_mode) || opaque)) {
      MYDOCKER_TRY(remove_all_at(dst, n));
    }
    if (::mkdirat(dst, n.c_str(), 0700) < 0 && errno != EEXIST) {
      return base::sys_error("create directory");
    }
    base::Fd ddir =
        base::Fd::adopt(::openat(dst, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!ddir) {
      return base::sys_error("open directory");
    }
    MYDOCKER_TRY(set_fd_meta(sdir.get(), ddir.get(), st));
    MYDOCKER_TRY(copy_children(sdir.get(), ddir.get(), rel + n + "/"));
    timespec times[2] = {st.st_atim, st.st_mtim};
    if (::futimens(ddir.get(), times) < 0) {
      return base::sys_error("set times");
    }
    return base::ok();
  }

  base::Result<void> copy_file(int src, int dst, const std::string& n, const struct stat& st) {
    base::Fd in = base::Fd::adopt(::openat(src, n.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!in) {
      return base::sys_error("open");
    }
    base::Fd out = base::Fd::adopt(
        ::openat(dst, n.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!out) {
      return base::sys_error("create");
    }
    // copy_file_range lets the filesystem share extents (reflink on xfs/btrfs) or copy in
    // the kernel; plain read/write when it cannot.
    off_t left = st.st_size;
    bool fallback = false;
    while (left > 0 && !fallback) {
      ssize_t n_copied =
          ::copy_file_range(in.get(), nullptr, out.get(), nullptr, static_cast<size_t>(left), 0);
      if (n_copied < 0) {
        if (errno == EINTR) {
          continue;
        }
        if (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP) {
          fallback = true;
          break;
        }
        return base::sys_error("copy data");
      }
      if (n_copied == 0) {
        break;
      }
      left -= n_copied;
    }
    if (fallback) {
      std::vector<char> buf(1 << 16);
      for (;;) {
        ssize_t got = ::read(in.get(), buf.data(), buf.size());
        if (got < 0 && errno == EINTR) {
          continue;
        }
        if (got < 0) {
          return base::sys_error("read");
        }
        if (got == 0) {
          break;
        }
        MYDOCKER_TRY(
            base::write_all(out.get(), std::string_view(buf.data(), static_cast<size_t>(got))));
      }
    }
    MYDOCKER_TRY(set_fd_meta(in.get(), out.get(), st));
    timespec times[2] = {st.st_atim, st.st_mtim};
    if (::futimens(out.get(), times) < 0) {
      return base::sys_error("set times");
    }
    return base::ok();
  }

  base::Result<void> set_fd_meta(int src, int dst, const struct stat& st) {
    if (owners_ && ::fchown(dst, st.st_uid, st.st_gid) < 0) {
      return base::sys_error("chown");
    }
    if (::fchmod(dst, st.st_mode & 07777) < 0) {
      return base::sys_error("chmod");
    }
    char names[4096];
    ssize_t len = ::flistxattr(src, names, sizeof names);
    for (ssize_t off = 0; len > 0 && off < len;) {
      std::string_view name(names + off);
      off += static_cast<ssize_t>(name.size()) + 1;
      if (name.starts_with(kOverlayXattrPrefix)) {
        continue;
      }
      std::string key(name);
      char value[4096];
      ssize_t vlen = ::fgetxattr(src, key.c_str(), value, sizeof value);
      if (vlen < 0) {
        continue;
      }
      if (::fsetxattr(dst, key.c_str(), value, static_cast<size_t>(vlen), 0) < 0 &&
          errno != ENOTSUP) {
        return base::sys_error("set xattr `{}`", key);
      }
    }
    return base::ok();
  }

  base::Result<void> set_at_meta(int dst, const std::string& n, const struct stat& st, bool chmod) {
    if (owners_ && ::fchownat(dst, n.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0) {
      return base::sys_error("chown");
    }
    if (chmod && ::fchmodat(dst, n.c_str(), st.st_mode & 07777, 0) < 0) {
      return base::sys_error("chmod");
    }
    timespec times[2] = {st.st_atim, st.st_mtim};
    if (::utimensat(dst, n.c_str(), times, AT_SYMLINK_NOFOLLOW) < 0) {
      return base::sys_error("set times");
    }
    return base::ok();
  }

  int dst_root_;
  bool owners_;
  std::map<std::pair<dev_t, ino_t>, std::string> links_;  // hard links of this layer
};

}  // namespace

base::Result<void> copy_layer(const std::string& src, const std::string& dst,
                              bool preserve_owners) {
  base::Fd s = MYDOCKER_TRY(base::Fd::open(src, O_RDONLY | O_DIRECTORY));
  base::Fd d = MYDOCKER_TRY(base::Fd::open(dst, O_RDONLY | O_DIRECTORY));
  Copier copier(d.get(), preserve_owners);
  struct stat st;
  if (::fstat(s.get(), &st) < 0) {
    return base::sys_error("stat `{}`", src);
  }
  if (preserve_owners && ::fchown(d.get(), st.st_uid, st.st_gid) < 0) {
    return base::sys_error("chown `{}`", dst);
  }
  if (::fchmod(d.get(), st.st_mode & 07777) < 0) {
    return base::sys_error("chmod `{}`", dst);
  }
  MYDOCKER_TRY_CTX(copier.copy_children(s.get(), d.get(), ""), "copy layer `{}` to `{}`", src, dst);
  timespec times[2] = {st.st_atim, st.st_mtim};
  if (::futimens(d.get(), times) < 0) {
    return base::sys_error("set times of `{}`", dst);
  }
  return base::ok();
}

}  // namespace mydocker::image::layers
