// SPDX-License-Identifier: Apache-2.0
#include "image/archive/export.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <map>
#include <memory>
#include <vector>

#include "runtime/base/fd.h"
#include "runtime/base/strings.h"

namespace mydocker::image::archive {

using base::ErrorCode;
using base::make_error;

namespace {

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kOpaque = ".wh..wh..opq";

base::Result<std::vector<std::string>> list_dir(int dirfd, const std::string& shown) {
  int fd = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return base::sys_error("open `{}`", shown);
  }
  DIR* d = ::fdopendir(fd);
  if (d == nullptr) {
    ::close(fd);
    return base::sys_error("open `{}`", shown);
  }
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n != "." && n != "..") {
      names.emplace_back(n);
    }
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) {
    return base::sys_error_n(err, "read directory `{}`", shown);
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Security-relevant and user xattrs travel; trusted.* and system.* (ACLs are kept by Docker
// only through PAX SCHILY.acl, which nobody reads back) stay on the host.
std::vector<std::pair<std::string, std::string>> read_xattrs(const std::string& path,
                                                             bool* opaque) {
  std::vector<std::pair<std::string, std::string>> out;
  ssize_t len = ::llistxattr(path.c_str(), nullptr, 0);
  if (len <= 0) {
    return out;
  }
  std::string names(static_cast<size_t>(len), '\0');
  len = ::llistxattr(path.c_str(), names.data(), names.size());
  if (len <= 0) {
    return out;
  }
  names.resize(static_cast<size_t>(len));
  for (const std::string& name : base::split(names, '\0')) {
    if (name.empty()) {
      continue;
    }
    bool wanted = name == "security.capability" || name.rfind("user.", 0) == 0;
    bool is_opaque = name == "trusted.overlay.opaque";
    if (!wanted && !is_opaque) {
      continue;
    }
    ssize_t vlen = ::lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
    if (vlen < 0) {
      continue;
    }
    std::string value(static_cast<size_t>(vlen), '\0');
    vlen = ::lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
    if (vlen < 0) {
      continue;
    }
    value.resize(static_cast<size_t>(vlen));
    if (is_opaque) {
      if (opaque != nullptr && value == "y") {
        *opaque = true;
      }
      continue;
    }
    out.emplace_back(name, std::move(value));
  }
  return out;
}

class Walker {
 public:
  Walker(TarWriter& w, const ExportOptions& o, std::string root)
      : w_(w), opts_(o), root_(std::move(root)) {}

  base::Result<void> walk_dir(int dirfd, const std::string& rel) {
    std::string shown = rel.empty() ? root_ : root_ + "/" + rel;
    std::vector<std::string> names = MYDOCKER_TRY(list_dir(dirfd, shown));
    for (const std::string& name : names) {
      std::string child_rel = rel.empty() ? name : rel + "/" + name;
      MYDOCKER_TRY(add(dirfd, name, child_rel));
    }
    return base::ok();
  }

 private:
  base::Result<void> add(int dirfd, const std::string& name, const std::string& rel) {
    std::string host = root_ + "/" + rel;
    struct stat st {};
    if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
      return base::sys_error("stat `{}`", host);
    }
    TarWriteEntry e;
    e.name = rel;
    e.mode = st.st_mode & 07777;
    e.uid = st.st_uid;
    e.gid = st.st_gid;
    e.mtime = st.st_mtim.tv_sec;
    e.mtime_ns = st.st_mtim.tv_nsec;
    bool opaque = false;
    e.xattrs = read_xattrs(host, &opaque);

    if (opts_.overlay_whiteouts && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
      size_t slash = rel.rfind('/');
      std::string parent = slash == std::string::npos ? "" : rel.substr(0, slash + 1);
      TarWriteEntry wh;
      wh.name = parent + std::string(kWhiteoutPrefix) + name;
      wh.mtime = e.mtime;
      wh.mtime_ns = e.mtime_ns;
      return w_.add(wh);
    }
    if (S_ISDIR(st.st_mode)) {
      e.type = TarEntryHeader::Type::Dir;
      MYDOCKER_TRY(w_.add(e));
      int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) {
        return base::sys_error("open `{}`", host);
      }
      base::Fd owned = base::Fd::adopt(fd);
      if (opts_.overlay_whiteouts && opaque) {
        TarWriteEntry wh;
        wh.name = rel + "/" + std::string(kOpaque);
        wh.mtime = e.mtime;
        MYDOCKER_TRY(w_.add(wh));
      }
      return walk_dir(owned.get(), rel);
    }
    if (S_ISLNK(st.st_mode)) {
      std::string target(PATH_MAX, '\0');
      ssize_t n = ::readlinkat(dirfd, name.c_str(), target.data(), target.size());
      if (n < 0) {
        return base::sys_error("readlink `{}`", host);
      }
      target.resize(static_cast<size_t>(n));
      e.type = TarEntryHeader::Type::Symlink;
      e.link = std::move(target);
      return w_.add(e);
    }
    if (S_ISREG(st.st_mode)) {
      if (st.st_nlink > 1) {
        auto key = std::make_pair(st.st_dev, st.st_ino);
        auto it = links_.find(key);
        if (it != links_.end()) {
          e.type = TarEntryHeader::Type::Hardlink;
          e.link = it->second;
          return w_.add(e);
        }
        links_.emplace(key, rel);
      }
      int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) {
        return base::sys_error("open `{}`", host);
      }
      base::Fd owned = base::Fd::adopt(fd);
      struct stat fst {};
      if (::fstat(owned.get(), &fst) < 0) {
        return base::sys_error("stat `{}`", host);
      }
      e.type = TarEntryHeader::Type::File;
      e.size = fst.st_size;
      MYDOCKER_TRY(w_.add(e));
      layers::FdSource src(owned.get());
      auto buf = std::make_unique<std::byte[]>(1 << 20);
      int64_t left = e.size;
      while (left > 0) {
        size_t want = static_cast<size_t>(std::min<int64_t>(left, 1 << 20));
        size_t n =
            MYDOCKER_TRY_CTX(src.read(std::span<std::byte>(buf.get(), want)), "read `{}`", host);
        if (n == 0) {
          // The file shrank while we read it: pad, as the header promised the old size.
          std::string zeros(static_cast<size_t>(left), '\0');
          return w_.write_data(zeros);
        }
        MYDOCKER_TRY(w_.write_data(std::string_view(reinterpret_cast<const char*>(buf.get()), n)));
        left -= static_cast<int64_t>(n);
      }
      return base::ok();
    }
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode)) {
      e.type = TarEntryHeader::Type::Other;
      e.mode_type = st.st_mode & S_IFMT;
      e.rdev = st.st_rdev;
      return w_.add(e);
    }
    return base::ok();  // sockets
  }

  TarWriter& w_;
  const ExportOptions& opts_;
  std::string root_;
  std::map<std::pair<dev_t, ino_t>, std::string> links_;
};

}  // namespace

base::Result<void> export_directory(const std::string& dir, const Sink& out,
                                    const ExportOptions& options) {
  auto root = MYDOCKER_TRY(base::Fd::open(dir, O_RDONLY | O_DIRECTORY));
  TarWriter w = MYDOCKER_TRY(TarWriter::open(out));
  Walker walker(w, options, dir);
  MYDOCKER_TRY_CTX(walker.walk_dir(root.get(), ""), "export `{}`", dir);
  return w.finish();
}

}  // namespace mydocker::image::archive
