// SPDX-License-Identifier: Apache-2.0
// COPY/ADD as the classic builder's copier does it (builder/dockerfile/copy.go): a directory
// copies its contents, a file copies to `dest` or `dest/<name>`, everything written is owned
// by the --chown identity (0:0 without it; COPY --from: the source's owners) and keeps the
// source's mode and mtime (see copy.h for the set-id bits).
//
// Paths inside the rootfs are resolved as FollowSymlinkInScope does (symlinks expanded as if
// the rootfs were `/`), then every write goes through directory fds opened without following
// symlinks, so nothing lands outside the rootfs.
#include "engine/build/copy.h"

#include <archive.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>

#include "engine/build/tree_internal.h"
#include "image/dockerfile/dockerignore.h"
#include "image/layers/in_root.h"
#include "image/layers/unpack.h"
#include "runtime/base/file.h"
#include "runtime/base/strings.h"

namespace mydocker::engine::build {
namespace {

using base::ErrorCode;
using internal::DiskBackend;

struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};

// dest as the builder sees it: relative ones under WORKDIR, the trailing `/` kept.
std::string normalize_dest(std::string_view dest, const std::string& workdir) {
  if (dest.starts_with('/')) {
    return std::string(dest);
  }
  std::string d = image::dockerfile::clean_path("/" + workdir + "/" + std::string(dest));
  if (dest.ends_with('/') && d != "/") {
    d.push_back('/');
  }
  return d;
}

// An absolute path inside the rootfs as a root-relative one ("" for `/`).
std::string root_rel(std::string_view abs) {
  std::string c = image::dockerfile::clean_path("/" + std::string(abs));
  return c.substr(1);
}

std::string join_rel(const std::string& dir, std::string_view name) {
  return dir.empty() ? std::string(name) : dir + "/" + std::string(name);
}

std::string_view base_name(std::string_view p) {
  size_t slash = p.rfind('/');
  return slash == std::string_view::npos ? p : p.substr(slash + 1);
}

base::Result<base::Fd> open_root(const std::string& path) {
  return MYDOCKER_TRY_CTX(base::Fd::open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC),
                          "open root `{}`", path);
}

// mkdir -p of `rel` (already resolved: no symlinks), new directories 0755 owned by `owner`.
base::Result<base::Fd> make_dirs(const base::Fd& root, const std::string& rel, const Owner& owner) {
  base::Fd cur = MYDOCKER_TRY(root.dup());
  for (const std::string& c : base::split(rel, '/')) {
    if (c.empty() || c == ".") {
      continue;
    }
    int fd = ::openat(cur.get(), c.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
      if (::mkdirat(cur.get(), c.c_str(), 0755) < 0 && errno != EEXIST) {
        return base::sys_error("create directory `/{}`", rel);
      }
      fd = ::openat(cur.get(), c.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd >= 0 && (::fchown(fd, owner.uid, owner.gid) < 0 || ::fchmod(fd, 0755) < 0)) {
        ::close(fd);
        return base::sys_error("set owner of `/{}`", rel);
      }
    }
    if (fd < 0) {
      return base::sys_error("open directory `/{}`", rel);
    }
    cur = base::Fd::adopt(fd);
  }
  return cur;
}

bool is_dir_at(int dir, const char* name) {
  struct stat st;
  return ::fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

base::Result<void> set_times(int dir, const std::string& name, const struct stat& st) {
  timespec ts[2] = {{st.st_mtim.tv_sec, 0}, {st.st_mtim.tv_sec, 0}};
  if (::utimensat(dir, name.c_str(), ts, AT_SYMLINK_NOFOLLOW) < 0) {
    return base::sys_error("set times of `{}`", name);
  }
  return base::ok();
}

base::Result<void> copy_bytes(int in, int out, const std::string& name) {
  bool range = true;
  std::vector<char> buf;
  for (;;) {
    if (range) {
      ssize_t n = ::copy_file_range(in, nullptr, out, nullptr, 1 << 30, 0);
      if (n > 0) {
        continue;
      }
      if (n == 0) {
        return base::ok();
      }
      if (errno == EINTR) {
        continue;
      }
      if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP &&
          errno != EPERM) {
        return base::sys_error("copy `{}`", name);
      }
      range = false;
      buf.resize(1 << 20);
    }
    ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return base::sys_error("read `{}`", name);
    }
    if (n == 0) {
      return base::ok();
    }
    MYDOCKER_TRY_CTX(base::write_all(out, std::string_view(buf.data(), static_cast<size_t>(n))),
                     "write `{}`", name);
  }
}

// The file capabilities Docker's tar keeps (pkg/archive reads security.capability only).
constexpr const char* kCapabilityXattr = "security.capability";

base::Result<void> copy_capability(int in, int out, const std::string& name) {
  char value[512];
  ssize_t n = ::fgetxattr(in, kCapabilityXattr, value, sizeof value);
  if (n <= 0) {
    return base::ok();  // none (ENODATA), or a filesystem without xattrs
  }
  // As Docker's untar: a destination that cannot hold it is no error.
  if (::fsetxattr(out, kCapabilityXattr, value, static_cast<size_t>(n), 0) < 0 &&
      errno != ENOTSUP && errno != EPERM) {
    return base::sys_error("set `{}` of `{}`", kCapabilityXattr, name);
  }
  return base::ok();
}

class Writer {
 public:
  explicit Writer(const CopyOptions& options)
      : owner_(options.owner.value_or(Owner{})),
        keep_owner_(options.keep_owner && !options.owner),
        mode_(options.mode) {}

  const Owner& owner() const { return owner_; }
  const std::optional<uint32_t>& mode() const { return mode_; }

  // One non-directory entry `sname` of `sdir` written as `dname` in `ddir` (replacing what
  // is there, never following it).
  base::Result<void> leaf(int sdir, const std::string& sname, const struct stat& st, int ddir,
                          const std::string& dname) {
    return leaf(sdir, sname, st, ddir, dname, nullptr);
  }

  // The entries of directory `src` into directory `dst` (tar-like: directories merged, the
  // rest replaced). Hard links among them stay hard links, as the tar Docker copies through
  // records a second name of an inode as a link to the first.
  base::Result<void> copy_dir(int src, int dst) {
    seen_.clear();
    top_ = dst;
    return contents(src, dst, "");
  }

 private:
  uint32_t perm(const struct stat& st) const {
    return mode_ ? (*mode_ & 07777) : (st.st_mode & 07777);
  }
  Owner owner_of(const struct stat& st) const {
    return keep_owner_ ? Owner{st.st_uid, st.st_gid} : owner_;
  }

  // `rel`: the entry's path below the copied directory (hard links are tracked there), or
  // null for a single file.
  base::Result<void> leaf(int sdir, const std::string& sname, const struct stat& st, int ddir,
                          const std::string& dname, const std::string* rel) {
    if (dname.empty() || dname == "." || dname == ".." || dname.find('/') != std::string::npos) {
      return base::make_error(ErrorCode::InvalidArgument, "invalid file name `{}`", dname);
    }
    struct stat old;
    if (::fstatat(ddir, dname.c_str(), &old, AT_SYMLINK_NOFOLLOW) == 0) {
      MYDOCKER_TRY(image::layers::remove_all_at(ddir, dname));
    }
    if (rel != nullptr && st.st_nlink > 1) {
      auto [it, first] = seen_.try_emplace({st.st_dev, st.st_ino}, *rel);
      if (!first) {
        if (::linkat(top_, it->second.c_str(), ddir, dname.c_str(), 0) < 0) {
          return base::sys_error("link `{}` to `{}`", dname, it->second);
        }
        return base::ok();
      }
    }
    Owner o = owner_of(st);
    if (S_ISREG(st.st_mode)) {
      base::Fd in =
          base::Fd::adopt(::openat(sdir, sname.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      if (!in) {
        return base::sys_error("open `{}`", sname);
      }
      base::Fd out = base::Fd::adopt(::openat(
          ddir, dname.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
      if (!out) {
        return base::sys_error("create `{}`", dname);
      }
      MYDOCKER_TRY(copy_bytes(in.get(), out.get(), dname));
      // A chown clears set-uid, set-gid (with group execute) and file capabilities. Docker's
      // untar sets the mode after the owner, but then (unless the owners are kept) its
      // fixPermissions chowns every copied entry again: the classic builder loses those bits
      // there (moby#36239), and so do we. --chmod's mode is applied as given.
      if (!keep_owner_ && !mode_) {
        if (::fchmod(out.get(), perm(st)) < 0 || ::fchown(out.get(), o.uid, o.gid) < 0) {
          return base::sys_error("set owner and mode of `{}`", dname);
        }
      } else {
        if (::fchown(out.get(), o.uid, o.gid) < 0 || ::fchmod(out.get(), perm(st)) < 0) {
          return base::sys_error("set owner and mode of `{}`", dname);
        }
        MYDOCKER_TRY(copy_capability(in.get(), out.get(), dname));
      }
      timespec ts[2] = {{st.st_mtim.tv_sec, 0}, {st.st_mtim.tv_sec, 0}};
      ::futimens(out.get(), ts);
      return base::ok();
    }
    if (S_ISLNK(st.st_mode)) {
      std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
      ssize_t n = ::readlinkat(sdir, sname.c_str(), target.data(), target.size());
      if (n < 0) {
        return base::sys_error("read link `{}`", sname);
      }
      target.resize(static_cast<size_t>(n));
      if (::symlinkat(target.c_str(), ddir, dname.c_str()) < 0) {
        return base::sys_error("create symlink `{}`", dname);
      }
    } else if (::mknodat(ddir, dname.c_str(), st.st_mode, st.st_rdev) < 0) {
      return base::sys_error("create `{}`", dname);
    }
    if (::fchownat(ddir, dname.c_str(), o.uid, o.gid, AT_SYMLINK_NOFOLLOW) < 0) {
      return base::sys_error("set owner of `{}`", dname);
    }
    if (!S_ISLNK(st.st_mode) && ::fchmodat(ddir, dname.c_str(), perm(st), 0) < 0) {
      return base::sys_error("set mode of `{}`", dname);
    }
    return set_times(ddir, dname, st);
  }

  base::Result<void> contents(int src, int dst, const std::string& prefix) {
    int dup = ::dup(src);
    if (dup < 0) {
      return base::sys_error("dup");
    }
    DIR* dp = ::fdopendir(dup);
    if (dp == nullptr) {
      ::close(dup);
      return base::sys_error("read directory");
    }
    std::unique_ptr<DIR, int (*)(DIR*)> guard(dp, ::closedir);
    ::rewinddir(dp);
    while (dirent* e = ::readdir(dp)) {
      std::string name = e->d_name;
      if (name == "." || name == "..") {
        continue;
      }
      struct stat st;
      if (::fstatat(src, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
        return base::sys_error("stat `{}`", name);
      }
      std::string rel = prefix.empty() ? name : prefix + "/" + name;
      if (!S_ISDIR(st.st_mode)) {
        MYDOCKER_TRY(leaf(src, name, st, dst, name, &rel));
        continue;
      }
      if (!is_dir_at(dst, name.c_str())) {
        MYDOCKER_TRY(image::layers::remove_all_at(dst, name));
        if (::mkdirat(dst, name.c_str(), 0700) < 0) {
          return base::sys_error("create directory `{}`", name);
        }
      }
      base::Fd s = base::Fd::adopt(
          ::openat(src, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      base::Fd d = base::Fd::adopt(
          ::openat(dst, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!s || !d) {
        return base::sys_error("open directory `{}`", name);
      }
      MYDOCKER_TRY_CTX(contents(s.get(), d.get(), rel), "{}", name);
      Owner o = owner_of(st);
      if (::fchown(d.get(), o.uid, o.gid) < 0 || ::fchmod(d.get(), perm(st)) < 0) {
        return base::sys_error("set owner and mode of `{}`", name);
      }
      timespec ts[2] = {{st.st_mtim.tv_sec, 0}, {st.st_mtim.tv_sec, 0}};
      ::futimens(d.get(), ts);
    }
    return base::ok();
  }

  Owner owner_;
  bool keep_owner_ = false;
  std::optional<uint32_t> mode_;
  // copy_dir(): the destination directory, and where each multiply linked source inode's
  // first name went (relative to it).
  int top_ = -1;
  std::map<std::pair<dev_t, ino_t>, std::string> seen_;
};

// The uncompressed bytes of a possibly compressed file (gzip, bzip2, xz, zstd, or none).
class Decompressed final : public image::layers::ByteSource {
 public:
  static base::Result<std::unique_ptr<Decompressed>> open(int fd) {
    std::unique_ptr<Decompressed> d(new Decompressed());
    d->a_.reset(archive_read_new());
    archive* a = d->a_.get();
    archive_read_support_filter_gzip(a);
    archive_read_support_filter_bzip2(a);
    archive_read_support_filter_xz(a);
    archive_read_support_filter_zstd(a);
    archive_read_support_format_raw(a);
    archive_entry* e = nullptr;
    if (archive_read_open_fd(a, fd, 1 << 20) != ARCHIVE_OK ||
        archive_read_next_header(a, &e) < ARCHIVE_WARN) {
      return base::make_error(ErrorCode::InvalidArgument, "read archive: {}",
                              archive_error_string(a) ? archive_error_string(a) : "unknown");
    }
    return d;
  }
  base::Result<size_t> read(std::span<std::byte> buf) override {
    la_ssize_t n = archive_read_data(a_.get(), buf.data(), buf.size());
    if (n < 0) {
      return base::make_error(
          ErrorCode::InvalidArgument, "decompress archive: {}",
          archive_error_string(a_.get()) ? archive_error_string(a_.get()) : "unknown");
    }
    return static_cast<size_t>(n);
  }

 private:
  Decompressed() = default;
  std::unique_ptr<archive, ArchiveFree> a_;
};

// Docker's isArchivePath: a tar, maybe compressed, whose first header reads.
bool is_archive(int dir, const std::string& name) {
  base::Fd fd = base::Fd::adopt(::openat(dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    return false;
  }
  std::unique_ptr<archive, ArchiveFree> a(archive_read_new());
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_bzip2(a.get());
  archive_read_support_filter_xz(a.get());
  archive_read_support_filter_zstd(a.get());
  archive_read_support_format_tar(a.get());
  archive_entry* e = nullptr;
  return archive_read_open_fd(a.get(), fd.get(), 1 << 16) == ARCHIVE_OK &&
         archive_read_next_header(a.get(), &e) >= ARCHIVE_WARN;
}

base::Result<void> extract(int dir, const std::string& name, const base::Fd& dest) {
  base::Fd fd = base::Fd::adopt(::openat(dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    return base::sys_error("open `{}`", name);
  }
  std::unique_ptr<Decompressed> src = MYDOCKER_TRY(Decompressed::open(fd.get()));
  image::layers::UnpackOptions opts;
  // ADD extracts as tar(1) would: `.wh.` names are plain files, owners kept (as root).
  opts.whiteouts = image::layers::WhiteoutFormat::Keep;
  opts.preserve_owners = ::geteuid() == 0;
  MYDOCKER_TRY_CTX(image::layers::unpack(*src, dest, opts), "extract `{}`", name);
  return base::ok();
}

// Where a single file goes: `dest/<name>` for a directory destination, else `dest`.
base::Result<std::string> file_target(const DiskBackend& root, const std::string& dest_rel,
                                      bool dir_syntax, std::string_view name) {
  bool is_dir = false;
  if (std::optional<internal::NodeInfo> st = MYDOCKER_TRY(root.lstat(dest_rel))) {
    is_dir = S_ISDIR(st->mode);
  }
  if (dir_syntax || is_dir) {
    return join_rel(dest_rel, name);
  }
  if (dest_rel.empty()) {
    return join_rel(dest_rel, name);
  }
  return dest_rel;
}

base::Result<void> copy_one_file(int sdir, const std::string& sname, const struct stat& st,
                                 const base::Fd& root, const std::string& target, Writer& w) {
  auto [parent, name] = image::layers::split_parent(target);
  // Docker makes the missing parents of a copied file with the --chown identity (root's
  // when the owners are kept).
  base::Fd pfd = MYDOCKER_TRY(make_dirs(root, std::string(parent), w.owner()));
  return w.leaf(sdir, sname, st, pfd.get(), std::string(name));
}

}  // namespace

base::Result<void> copy_sources(const SourceTree& tree, const std::vector<std::string>& sources,
                                bool /*wildcard*/, const std::string& rootfs, std::string_view dest,
                                const CopyOptions& options) {
  // Docker counts the sources as matched: one wildcard match copies like a named file.
  std::string_view cmd = options.unpack_archives ? "ADD" : "COPY";
  if (sources.empty()) {
    return base::make_error(ErrorCode::InvalidArgument, "no source files were specified");
  }
  if (sources.size() > 1 && !dest.ends_with('/')) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "When using {} with more than one source file, the destination "
                            "must be a directory and end with a /",
                            cmd);
  }
  if (const auto* ctx = dynamic_cast<const Context*>(&tree)) {
    MYDOCKER_TRY(ctx->materialize());  // the files may still be in memory only
  }
  base::Fd root = MYDOCKER_TRY(open_root(rootfs));
  DiskBackend rootb(MYDOCKER_TRY(root.dup()));
  std::string d = normalize_dest(dest, options.workdir);
  bool dir_syntax = d.ends_with('/');
  std::string dest_rel = MYDOCKER_TRY(internal::resolve_in_scope(rootb, root_rel(d), true));
  DiskBackend srcb(MYDOCKER_TRY(open_root(tree.root())));
  Writer w(options);

  for (const std::string& source : sources) {
    std::optional<std::string> clean = internal::clean_rel(source);
    if (!clean) {
      return base::make_error(ErrorCode::InvalidArgument,
                              "forbidden path outside the build context: {} ()", source);
    }
    std::string resolved = MYDOCKER_TRY(internal::resolve_in_scope(srcb, *clean, true));
    std::optional<internal::NodeInfo> info = MYDOCKER_TRY(srcb.lstat(resolved));
    if (!info) {
      return internal::source_not_found(source, false).wrap("source path not found");
    }
    auto [sparent, sname] = image::layers::split_parent(resolved);
    if (S_ISDIR(info->mode)) {
      bool existed = false;
      if (std::optional<internal::NodeInfo> st = MYDOCKER_TRY(rootb.lstat(dest_rel))) {
        existed = S_ISDIR(st->mode);
      }
      base::Fd dst = MYDOCKER_TRY(make_dirs(root, dest_rel, Owner{}));
      base::Fd src = MYDOCKER_TRY(base::Fd::open_at(srcb.fd(), resolved.empty() ? "." : resolved,
                                                    O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      MYDOCKER_TRY_CTX(w.copy_dir(src.get(), dst.get()), "copy `{}`", source);
      // What the copy created is the identity's (root's when the owners are kept: Docker's
      // tar skips the top directory's own entry); an existing directory is kept.
      if (!existed) {
        if (::fchown(dst.get(), w.owner().uid, w.owner().gid) < 0 ||
            (w.mode() && ::fchmod(dst.get(), *w.mode() & 07777) < 0)) {
          return base::sys_error("set owner of `{}`", d);
        }
      }
      continue;
    }
    base::Fd sdir =
        MYDOCKER_TRY(base::Fd::open_at(srcb.fd(), sparent.empty() ? "." : std::string(sparent),
                                       O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (options.unpack_archives && S_ISREG(info->mode) &&
        is_archive(sdir.get(), std::string(sname))) {
      base::Fd dst = MYDOCKER_TRY(make_dirs(root, dest_rel, Owner{}));
      MYDOCKER_TRY(extract(sdir.get(), std::string(sname), dst));
      continue;
    }
    struct stat st;
    if (::fstatat(sdir.get(), std::string(sname).c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
      return base::sys_error("stat `{}`", source);
    }
    // The name is the source's as written (a symlink source keeps its own name).
    std::string target = MYDOCKER_TRY(file_target(rootb, dest_rel, dir_syntax, base_name(*clean)));
    MYDOCKER_TRY_CTX(copy_one_file(sdir.get(), std::string(sname), st, root, target, w),
                     "copy `{}`", source);
  }
  return base::ok();
}

base::Result<void> copy_download(const Download& download, const std::string& rootfs,
                                 std::string_view dest, const CopyOptions& options) {
  std::string d = normalize_dest(dest, options.workdir);
  bool dir_syntax = d.ends_with('/');
  if (download.name.empty() && dir_syntax) {
    return base::make_error(ErrorCode::InvalidArgument, "cannot determine filename for source {}",
                            download.url);
  }
  base::Fd root = MYDOCKER_TRY(open_root(rootfs));
  DiskBackend rootb(MYDOCKER_TRY(root.dup()));
  std::string dest_rel = MYDOCKER_TRY(internal::resolve_in_scope(rootb, root_rel(d), true));
  std::string name = download.name.empty() ? "__unnamed__" : download.name;
  std::string target = MYDOCKER_TRY(file_target(rootb, dest_rel, dir_syntax, name));
  auto [dir, file] = image::layers::split_parent(download.path);
  base::Fd sdir = MYDOCKER_TRY(
      base::Fd::open(dir.empty() ? "/" : std::string(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  struct stat st;
  if (::fstatat(sdir.get(), std::string(file).c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
    return base::sys_error("stat `{}`", download.path);
  }
  Writer w(options);
  return copy_one_file(sdir.get(), std::string(file), st, root, target, w);
}

namespace {

base::Error chown_error(std::string what) {
  return base::Error(ErrorCode::InvalidArgument,
                     "unable to convert uid/gid chown string to host mapping: " + what);
}

// uid (field 2 of /etc/passwd) or gid (field 2 of /etc/group) of `name`; numbers as given.
base::Result<uint32_t> lookup_id(const base::Fd& root, std::string_view name, const char* file,
                                 const char* kind) {
  if (std::optional<uint64_t> n = base::parse_uint64(name); n && *n <= UINT32_MAX) {
    return static_cast<uint32_t>(*n);
  }
  DiskBackend rootb(MYDOCKER_TRY(root.dup()));
  std::string path = MYDOCKER_TRY(internal::resolve_in_scope(rootb, file, true));
  base::Result<base::Fd> fd =
      base::Fd::open_at(rootb.fd(), path.empty() ? "." : path, O_RDONLY | O_CLOEXEC);
  std::string text;
  if (fd) {
    base::Result<std::string> t = base::read_all(fd->get());
    if (t) {
      text = std::move(*t);
    }
  } else {
    return base::Error(ErrorCode::InvalidArgument,
                       fmt::format("open /{}: no such file or directory", file));
  }
  for (const std::string& raw : base::split(text, '\n')) {
    std::string_view line = base::trim(raw);
    if (line.empty() || line.starts_with('#')) {
      continue;
    }
    std::vector<std::string> f = base::split(line, ':');
    if (f.size() >= 3 && f[0] == name) {
      if (std::optional<uint64_t> id = base::parse_uint64(f[2]); id && *id <= UINT32_MAX) {
        return static_cast<uint32_t>(*id);
      }
    }
  }
  return base::Error(ErrorCode::InvalidArgument, fmt::format("no such {}: {}", kind, name));
}

}  // namespace

base::Result<Owner> resolve_chown(const std::string& rootfs, std::string_view spec) {
  std::vector<std::string> parts = base::split(spec, ':');
  if (parts.size() > 2) {
    return chown_error(fmt::format("invalid chown string format: {}", spec));
  }
  std::string user = parts.empty() ? std::string() : parts[0];
  std::string group = parts.size() == 2 ? parts[1] : user;
  base::Fd root = MYDOCKER_TRY(open_root(rootfs));
  Owner out;
  base::Result<uint32_t> uid = lookup_id(root, user, "etc/passwd", "user");
  if (!uid) {
    return chown_error(fmt::format("can't find uid for user {}: {}", user, uid.error().message()));
  }
  base::Result<uint32_t> gid = lookup_id(root, group, "etc/group", "group");
  if (!gid) {
    return chown_error(
        fmt::format("can't find gid for group {}: {}", group, gid.error().message()));
  }
  out.uid = *uid;
  out.gid = *gid;
  return out;
}

}  // namespace mydocker::engine::build
