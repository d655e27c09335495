// SPDX-License-Identifier: Apache-2.0
#include "image/layers/snapshotter.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "runtime/base/file.h"
#include "runtime/base/scope_exit.h"
#include "runtime/base/strings.h"

namespace mydocker::image::layers {
namespace {

using base::ErrorCode;

constexpr std::string_view kTempPrefix = ".tmp-";

base::Result<void> check_key(const std::string& key) {
  bool ok = !key.empty() && key.size() <= 128 && key != "." && key != ".." &&
            !std::string_view(key).starts_with(kTempPrefix);
  for (char c : key) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '.' || c == '-');
  }
  if (!ok) {
    return base::make_error(ErrorCode::InvalidArgument, "invalid container filesystem key `{}`",
                            key);
  }
  return base::ok();
}

// Directory entries of `root` that are finished keys, or (temp=true) leftovers.
std::vector<std::string> list_keys(const std::string& root, bool temp) {
  std::vector<std::string> out;
  DIR* d = ::opendir(root.c_str());
  if (d == nullptr) {
    return out;
  }
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n == "." || n == "..") {
      continue;
    }
    if (std::string_view(n).starts_with(kTempPrefix) == temp) {
      out.push_back(std::move(n));
    }
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

base::Result<void> open_root(const std::string& root) {
  MYDOCKER_TRY(base::mkdir_all(root, 0700));
  for (const std::string& leftover : list_keys(root, /*temp=*/true)) {
    MYDOCKER_TRY(base::remove_all(root + "/" + leftover));
  }
  return base::ok();
}

// Creates <root>/.tmp-<key>-XXXXXX; the caller fills it and renames it to <root>/<key>.
base::Result<std::string> make_temp(const std::string& root, const std::string& key) {
  std::string tmpl = fmt::format("{}/{}{}-XXXXXX", root, kTempPrefix, key);
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return base::sys_error("create temp dir in `{}`", root);
  }
  return tmpl;
}

base::Result<std::optional<ChainId>> read_parent(const std::string& root, const std::string& key) {
  MYDOCKER_TRY(check_key(key));
  base::Result<std::string> text = base::read_file(fmt::format("{}/{}/parent", root, key));
  if (!text) {
    if (text.error().code() == ErrorCode::NotFound) {
      return base::make_error(ErrorCode::NotFound, "container filesystem `{}` not found", key);
    }
    return std::move(text).error();
  }
  std::string_view t = base::trim(*text);
  if (t.empty()) {
    return std::optional<ChainId>();
  }
  return std::optional<ChainId>(MYDOCKER_TRY(ChainId::parse(t)));
}

// The shared shape of prepare(): validate, retain the parent, build in a temp dir with
// `fill`, rename into place. Rolls everything back on error.
template <typename Fill>
base::Result<void> prepare_common(LayerStore& layers, const std::string& root,
                                  const std::string& key, const std::optional<ChainId>& parent,
                                  Fill&& fill) {
  MYDOCKER_TRY(check_key(key));
  std::string final_dir = root + "/" + key;
  if (base::path_exists(final_dir)) {
    return base::make_error(ErrorCode::AlreadyExists, "container filesystem `{}` already exists",
                            key);
  }
  if (parent) {
    MYDOCKER_TRY(layers.retain(*parent));
  }
  base::ScopeExit unref([&] {
    if (parent) {
      (void)layers.release(*parent);
    }
  });
  std::string tmp = MYDOCKER_TRY(make_temp(root, key));
  base::ScopeExit remove_tmp([&] { (void)base::remove_all(tmp); });
  MYDOCKER_TRY(fill(tmp));
  MYDOCKER_TRY(
      base::write_file_atomic(tmp + "/parent", parent ? parent->str() + "\n" : "\n", 0600));
  if (::rename(tmp.c_str(), final_dir.c_str()) < 0) {
    return errno == ENOTEMPTY || errno == EEXIST
               ? base::make_error(ErrorCode::AlreadyExists,
                                  "container filesystem `{}` already exists", key)
               : base::sys_error("create container filesystem `{}`", key);
  }
  remove_tmp.dismiss();
  unref.dismiss();
  return base::ok();
}

base::Result<void> remove_common(LayerStore& layers, const std::string& root,
                                 const std::string& key) {
  std::optional<ChainId> parent = MYDOCKER_TRY(read_parent(root, key));
  // Out of sight with one rename, so a crash mid-removal leaves only a .tmp- leftover.
  std::string grave = MYDOCKER_TRY(make_temp(root, key));
  if (::rename((root + "/" + key).c_str(), (grave + "/x").c_str()) < 0) {
    return base::sys_error("remove container filesystem `{}`", key);
  }
  MYDOCKER_TRY(base::remove_all(grave));
  if (parent) {
    MYDOCKER_TRY(layers.release(*parent));
  }
  return base::ok();
}

// overlayfs splits lowerdir on `:` and options on `,`; a backslash escapes either.
std::string escape_overlay(std::string_view path) {
  std::string out;
  for (char c : path) {
    if (c == '\\' || c == ':' || c == ',') {
      out.push_back('\\');
    }
    out.push_back(c);
  }
  return out;
}

size_t page_limit() {
  return static_cast<size_t>(::sysconf(_SC_PAGESIZE)) - 1;
}

// Splits overlay's lowerdir value on unescaped `:` and removes the escapes.
std::vector<std::string> split_lowers(std::string_view value) {
  std::vector<std::string> out(1);
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '\\' && i + 1 < value.size()) {
      out.back().push_back(value[++i]);
    } else if (value[i] == ':') {
      out.emplace_back();
    } else {
      out.back().push_back(value[i]);
    }
  }
  return out;
}

// Rewrites an over-long lowerdir= as /proc/self/fd/<n> paths of O_PATH descriptors (kept
// open in `fds` until the mount is done).
base::Result<void> shorten_lowers(std::vector<std::string>& data, std::vector<base::Fd>& fds) {
  for (std::string& o : data) {
    if (!o.starts_with("lowerdir=")) {
      continue;
    }
    std::vector<std::string> parts;
    for (const std::string& lower : split_lowers(std::string_view(o).substr(9))) {
      base::Fd fd = MYDOCKER_TRY(base::Fd::open(lower, O_PATH | O_DIRECTORY));
      parts.push_back(fmt::format("/proc/self/fd/{}", fd.get()));
      fds.push_back(std::move(fd));
    }
    o = "lowerdir=" + base::join(parts, ":");
  }
  return base::ok();
}

}  // namespace

// --- Mount ---

Mount::Mount(Mount&& other) noexcept
    : target_(std::move(other.target_)), count_(std::exchange(other.count_, 0)) {}

Mount& Mount::operator=(Mount&& other) noexcept {
  if (this != &other) {
    (void)unmount();
    target_ = std::move(other.target_);
    count_ = std::exchange(other.count_, 0);
  }
  return *this;
}

Mount::~Mount() {
  (void)unmount();
}

base::Result<void> Mount::unmount() {
  while (count_ > 0) {
    if (::umount2(target_.c_str(), UMOUNT_NOFOLLOW) < 0) {
      if (errno == EINVAL) {
        count_ = 0;  // not mounted any more (someone else unmounted it)
        break;
      }
      // Busy (a process still has its cwd inside): detach now, the kernel frees it later.
      if (errno != EBUSY || ::umount2(target_.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) < 0) {
        return base::sys_error("unmount `{}`", target_);
      }
    }
    --count_;
  }
  return base::ok();
}

std::string Mount::release() {
  count_ = 0;
  return target_;
}

base::Result<Mount> mount_all(const std::vector<MountSpec>& mounts, const std::string& target) {
  Mount done(target, 0);
  for (const MountSpec& m : mounts) {
    unsigned long flags = 0;
    std::vector<std::string> data;
    bool ro = false;
    for (const std::string& o : m.options) {
      if (o == "ro") {
        ro = true;
      } else if (o == "rw") {
        ro = false;
      } else if (o == "rbind") {
        flags |= MS_BIND | MS_REC;
      } else if (o == "bind") {
        flags |= MS_BIND;
      } else if (m.type == "overlay") {
        data.push_back(o);
      } else {
        return base::make_error(ErrorCode::InvalidArgument, "unknown mount option `{}` for `{}`", o,
                                target);
      }
    }
    if (m.type == "overlay") {
      std::vector<base::Fd> fds;
      if (base::join(data, ",").size() > page_limit()) {
        MYDOCKER_TRY(shorten_lowers(data, fds));
      }
      std::string d = base::join(data, ",");
      if (d.size() > page_limit()) {
        return base::make_error(ErrorCode::InvalidArgument,
                                "overlay options for `{}` exceed a page ({} bytes)", target,
                                d.size());
      }
      if (::mount("overlay", target.c_str(), "overlay", ro ? MS_RDONLY : 0, d.c_str()) < 0) {
        return base::sys_error("mount overlay on `{}`", target);
      }
    } else if (m.type == "bind") {
      if (::mount(m.source.c_str(), target.c_str(), nullptr, flags | MS_BIND, nullptr) < 0) {
        return base::sys_error("bind mount `{}` on `{}`", m.source, target);
      }
      if (ro && ::mount(nullptr, target.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY,
                        nullptr) < 0) {
        ++done.count_;
        return base::sys_error("remount `{}` read-only", target);
      }
    } else {
      return base::make_error(ErrorCode::InvalidArgument, "unknown mount type `{}`", m.type);
    }
    ++done.count_;
  }
  return done;
}

base::Result<Mount> Snapshotter::mount(const std::string& key, const std::string& target) const {
  std::vector<MountSpec> specs = MYDOCKER_TRY(mounts(key));
  return MYDOCKER_TRY_CTX(mount_all(specs, target), "mount container filesystem `{}`", key);
}

// --- OverlayStore ---

base::Result<std::unique_ptr<OverlayStore>> OverlayStore::open(LayerStore& layers,
                                                               std::string root) {
  if (layers.options().whiteouts != WhiteoutFormat::Overlay) {
    return base::make_error(ErrorCode::FailedPrecondition,
                            "the overlay store needs layers with overlay whiteouts");
  }
  MYDOCKER_TRY_CTX(open_root(root), "open overlay store `{}`", root);
  return std::unique_ptr<OverlayStore>(new OverlayStore(layers, std::move(root)));
}

MountSpec OverlayStore::plan(const std::vector<std::string>& diffs,
                             const std::vector<std::string>& links, const std::string& upper,
                             const std::string& work) {
  // The legacy mount(2) data is copied into one page, NUL included. Like Docker's overlay2,
  // fall back to the short l/ links; when even those do not fit (deep images under a long
  // data root), mount_all() passes each lower as /proc/self/fd/<n> of an O_PATH descriptor,
  // which needs no chdir (Docker chdirs in a re-exec'd child; a daemon is multi-threaded).
  auto build = [&](const std::vector<std::string>& lowers) {
    std::vector<std::string> escaped;
    escaped.reserve(lowers.size());
    for (const std::string& l : lowers) {
      escaped.push_back(escape_overlay(l));
    }
    return MountSpec{"overlay",
                     "overlay",
                     {"lowerdir=" + base::join(escaped, ":"), "upperdir=" + escape_overlay(upper),
                      "workdir=" + escape_overlay(work)}};
  };
  MountSpec full = build(diffs);
  if (base::join(full.options, ",").size() <= page_limit()) {
    return full;
  }
  return build(links);
}

base::Result<std::vector<MountSpec>> OverlayStore::prepare(const std::string& key,
                                                           const std::optional<ChainId>& parent) {
  MYDOCKER_TRY(prepare_common(layers_, root_, key, parent, [&](const std::string& tmp) {
    for (const char* sub : {"/upper", "/work", "/lower"}) {
      if (::mkdir((tmp + sub).c_str(), 0755) < 0) {
        return base::Result<void>(base::sys_error("create `{}{}`", tmp, sub));
      }
    }
    return base::ok();
  }));
  return mounts(key);
}

base::Result<std::vector<MountSpec>> OverlayStore::mounts(const std::string& key) const {
  std::optional<ChainId> parent = MYDOCKER_TRY(read_parent(root_, key));
  std::vector<std::string> diffs;
  std::vector<std::string> links;
  if (parent) {
    for (const LayerInfo& l : MYDOCKER_TRY(layers_.lineage(*parent))) {
      diffs.push_back(layers_.diff_path(l.chain_id));
      links.push_back(layers_.link_path(l));
    }
  } else {
    diffs.push_back(fmt::format("{}/{}/lower", root_, key));
    links = diffs;
  }
  std::string dir = root_ + "/" + key;
  return std::vector<MountSpec>{plan(diffs, links, dir + "/upper", dir + "/work")};
}

std::string OverlayStore::rw_path(const std::string& key) const {
  return fmt::format("{}/{}/upper", root_, key);
}

base::Result<void> OverlayStore::remove(const std::string& key) {
  return remove_common(layers_, root_, key);
}

std::vector<std::string> OverlayStore::list() const {
  return list_keys(root_, /*temp=*/false);
}

// --- CopyStore ---

base::Result<std::unique_ptr<CopyStore>> CopyStore::open(LayerStore& layers, std::string root) {
  MYDOCKER_TRY_CTX(open_root(root), "open copy store `{}`", root);
  return std::unique_ptr<CopyStore>(new CopyStore(layers, std::move(root)));
}

base::Result<std::vector<MountSpec>> CopyStore::prepare(const std::string& key,
                                                        const std::optional<ChainId>& parent) {
  MYDOCKER_TRY(prepare_common(
      layers_, root_, key, parent, [&](const std::string& tmp) -> base::Result<void> {
        std::string rootfs = tmp + "/rootfs";
        if (::mkdir(rootfs.c_str(), 0755) < 0) {
          return base::sys_error("create `{}`", rootfs);
        }
        if (!parent) {
          return base::ok();
        }
        std::vector<LayerInfo> lineage = MYDOCKER_TRY(layers_.lineage(*parent));
        for (auto it = lineage.rbegin(); it != lineage.rend(); ++it) {
          MYDOCKER_TRY(copy_layer(layers_.diff_path(it->chain_id), rootfs,
                                  layers_.options().preserve_owners));
        }
        return base::ok();
      }));
  return mounts(key);
}

base::Result<std::vector<MountSpec>> CopyStore::mounts(const std::string& key) const {
  MYDOCKER_TRY(read_parent(root_, key));
  return std::vector<MountSpec>{MountSpec{"bind", rw_path(key), {"rbind", "rw"}}};
}

std::string CopyStore::rw_path(const std::string& key) const {
  return fmt::format("{}/{}/rootfs", root_, key);
}

base::Result<void> CopyStore::remove(const std::string& key) {
  return remove_common(layers_, root_, key);
}

std::vector<std::string> CopyStore::list() const {
  return list_keys(root_, /*temp=*/false);
}

}  // namespace mydocker::image::layers
