// SPDX-License-Identifier: Apache-2.0
// spec.mounts -> MountOps: option names to MS_* flags, propagation and fs data, validated
// before anything is created.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <climits>
#include <string_view>

#include "runtime/base/strings.h"
#include "runtime/mount/resolve.h"
#include "runtime/mount/rootfs.h"

namespace mydocker::runtime::mount {
namespace {

struct FlagOption {
  std::string_view name;
  bool clear;  // the option removes the flag ("rw", "suid", ...)
  unsigned long flag;
};

// mount(8)'s names, as runc and crun accept them.
constexpr std::array<FlagOption, 27> kFlagOptions{{
    {"defaults", false, 0},
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"nosuid", false, MS_NOSUID},
    {"suid", true, MS_NOSUID},
    {"nodev", false, MS_NODEV},
    {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},
    {"exec", true, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},
    {"remount", false, MS_REMOUNT},
    {"mand", false, MS_MANDLOCK},
    {"nomand", true, MS_MANDLOCK},
    {"atime", true, MS_NOATIME},
    {"noatime", false, MS_NOATIME},
    {"diratime", true, MS_NODIRATIME},
    {"nodiratime", false, MS_NODIRATIME},
    {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME},
    {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"bind", false, MS_BIND},
    {"rbind", false, MS_BIND | MS_REC},
    {"silent", false, MS_SILENT},
    {"loud", true, MS_SILENT},
}};

struct PropagationOption {
  std::string_view name;
  unsigned long flags;
};

constexpr std::array<PropagationOption, 8> kPropagationOptions{{
    {"private", MS_PRIVATE},
    {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},
    {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},
    {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE},
    {"runbindable", MS_UNBINDABLE | MS_REC},
}};

// The recursive variants (runc 1.1+, crun): applied with mount_setattr(AT_RECURSIVE) so every
// submount of an rbind gets them too.
struct RecursiveOption {
  std::string_view name;
  bool clear;
  uint64_t attr;
};

constexpr std::array<RecursiveOption, 14> kRecursiveOptions{{
    {"rro", false, MOUNT_ATTR_RDONLY},
    {"rrw", true, MOUNT_ATTR_RDONLY},
    {"rnosuid", false, MOUNT_ATTR_NOSUID},
    {"rsuid", true, MOUNT_ATTR_NOSUID},
    {"rnodev", false, MOUNT_ATTR_NODEV},
    {"rdev", true, MOUNT_ATTR_NODEV},
    {"rnoexec", false, MOUNT_ATTR_NOEXEC},
    {"rexec", true, MOUNT_ATTR_NOEXEC},
    {"rnodiratime", false, MOUNT_ATTR_NODIRATIME},
    {"rdiratime", true, MOUNT_ATTR_NODIRATIME},
    {"rnoatime", false, MOUNT_ATTR_NOATIME},
    {"rrelatime", false, MOUNT_ATTR_RELATIME},
    {"rstrictatime", false, MOUNT_ATTR_STRICTATIME},
    {"rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW},
}};

// Per-mount flags a bind only takes through a second MS_REMOUNT|MS_BIND.
constexpr unsigned long kBindRemountFlags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC |
                                            MS_NOATIME | MS_NODIRATIME | MS_RELATIME |
                                            MS_STRICTATIME;

const PropagationOption* find_propagation(std::string_view name) {
  for (const auto& p : kPropagationOptions) {
    if (p.name == name) {
      return &p;
    }
  }
  return nullptr;
}

bool has_option(const std::vector<std::string>& options, std::string_view name) {
  for (const auto& o : options) {
    if (o == name) {
      return true;
    }
  }
  return false;
}

base::Result<std::string> absolute_source(const std::string& source,
                                          const std::string& bundle_dir) {
  if (!source.empty() && source[0] == '/') {
    return source;
  }
  if (!bundle_dir.empty()) {
    return bundle_dir + (bundle_dir.back() == '/' ? "" : "/") + source;
  }
  char cwd[PATH_MAX];
  if (::getcwd(cwd, sizeof cwd) == nullptr) {
    return base::sys_error("getcwd");
  }
  std::string base(cwd);
  if (base != "/") {
    base += '/';
  }
  return base + source;
}

base::Result<MountOp> plan_one(const spec::Mount& m, size_t i, int root_fd,
                               const std::string& bundle_dir) {
  MountOp op;
  op.index = i;
  if (m.destination.empty()) {
    return base::make_error(base::ErrorCode::InvalidArgument, "mounts[{}].destination: required",
                            i);
  }
  auto dest = normalize_in_root(m.destination);
  if (!dest) {
    return base::make_error(base::ErrorCode::InvalidArgument,
                            "mounts[{}].destination `{}`: escapes the root filesystem", i,
                            m.destination);
  }
  if (*dest == "/") {
    return base::make_error(base::ErrorCode::InvalidArgument,
                            "mounts[{}].destination `{}`: cannot mount over the root filesystem", i,
                            m.destination);
  }
  op.destination = *dest;
  if (root_fd >= 0) {
    auto escape = find_escaping_symlink(root_fd, op.destination);
    if (!escape) {
      return base::Error(base::ErrorCode::InvalidArgument,
                         fmt::format("mounts[{}].destination `{}`", i, m.destination),
                         escape.error().sys_errno());
    }
    if (*escape) {
      return base::make_error(base::ErrorCode::InvalidArgument,
                              "mounts[{}].destination `{}`: symlink {} escapes the root filesystem",
                              i, m.destination, **escape);
    }
  }

  bool bind = m.type == "bind" || m.type == "none" || has_option(m.options, "bind") ||
              has_option(m.options, "rbind");
  if (m.type.empty() && !bind) {
    return base::make_error(base::ErrorCode::InvalidArgument,
                            "mounts[{}].type: required for `{}` (not a bind mount)", i,
                            m.destination);
  }

  std::vector<std::string> data;
  const PropagationOption* propagation = nullptr;
  for (size_t j = 0; j < m.options.size(); ++j) {
    const std::string& o = m.options[j];
    bool known = false;
    for (const auto& f : kFlagOptions) {
      if (f.name == o) {
        if (f.clear) {
          op.flags &= ~f.flag;
        } else {
          op.flags |= f.flag;
        }
        known = true;
        break;
      }
    }
    if (known) {
      continue;
    }
    if (const PropagationOption* p = find_propagation(o)) {
      if (propagation != nullptr && propagation->flags != p->flags) {
        return base::make_error(base::ErrorCode::InvalidArgument,
                                "mounts[{}].options: conflicting propagation `{}` and `{}`", i,
                                propagation->name, p->name);
      }
      propagation = p;
      continue;
    }
    for (const auto& r : kRecursiveOptions) {
      if (r.name == o) {
        if (r.clear) {
          op.attr_clear |= r.attr;
          op.attr_set &= ~r.attr;
        } else {
          op.attr_set |= r.attr;
          op.attr_clear &= ~r.attr;
        }
        known = true;
        break;
      }
    }
    if (known) {
      // The atime setting is one field: setting one mode must clear the others.
      if ((op.attr_set & MOUNT_ATTR__ATIME) != 0 || o == "rrelatime") {
        op.attr_clear |= MOUNT_ATTR__ATIME;
      }
      continue;
    }
    if (o == "tmpcopyup") {
      if (m.type != "tmpfs") {
        return base::make_error(base::ErrorCode::InvalidArgument,
                                "mounts[{}].options[{}] `tmpcopyup`: only for tmpfs, not `{}`", i,
                                j, m.type);
      }
      op.tmpcopyup = true;
      continue;
    }
    if (o == "idmap" || o == "ridmap" || o.rfind("idmap=", 0) == 0 || o.rfind("ridmap=", 0) == 0) {
      return base::make_error(base::ErrorCode::NotImplemented,
                              "mounts[{}].options[{}] `{}`: not implemented", i, j, o);
    }
    // Everything else is the filesystem's own business (mode=755, size=65536k, newinstance).
    data.push_back(o);
  }
  if (propagation != nullptr) {
    op.propagation = propagation->flags;
  }
  op.data = base::join(data, ",");

  if (bind) {
    op.type = "bind";
    op.flags |= MS_BIND;
    if (m.source.empty()) {
      return base::make_error(base::ErrorCode::InvalidArgument,
                              "mounts[{}].source: required for the bind mount on `{}`", i,
                              op.destination);
    }
    op.source = MYDOCKER_TRY(absolute_source(m.source, bundle_dir));
    struct stat st {};
    if (::stat(op.source.c_str(), &st) != 0) {
      return base::sys_error("mounts[{}].source `{}`", i, m.source);
    }
    op.source_is_dir = S_ISDIR(st.st_mode);
    op.bind_remount = (op.flags & kBindRemountFlags) != 0;
  } else {
    op.type = m.type;
    op.source = m.source.empty() ? m.type : m.source;
  }
  return op;
}

}  // namespace

bool MountOp::is_bind() const {
  return (flags & MS_BIND) != 0;
}

std::optional<std::string> normalize_in_root(const std::string& path) {
  std::vector<std::string> parts;
  for (auto& c : base::split(path, '/')) {
    if (c.empty() || c == ".") {
      continue;
    }
    if (c == "..") {
      if (parts.empty()) {
        return std::nullopt;
      }
      parts.pop_back();
      continue;
    }
    parts.push_back(std::move(c));
  }
  return "/" + base::join(parts, "/");
}

base::Result<std::vector<MountOp>> plan(const spec::Spec& spec, const std::string& bundle_dir) {
  const std::string& rp = spec.linux.rootfs_propagation;
  if (!rp.empty() && find_propagation(rp) == nullptr) {
    return base::make_error(base::ErrorCode::InvalidArgument,
                            "linux.rootfsPropagation `{}`: unknown propagation", rp);
  }
  for (size_t i = 0; i < spec.linux.masked_paths.size(); ++i) {
    if (!normalize_in_root(spec.linux.masked_paths[i])) {
      return base::make_error(base::ErrorCode::InvalidArgument,
                              "linux.maskedPaths[{}] `{}`: escapes the root filesystem", i,
                              spec.linux.masked_paths[i]);
    }
  }
  for (size_t i = 0; i < spec.linux.readonly_paths.size(); ++i) {
    if (!normalize_in_root(spec.linux.readonly_paths[i])) {
      return base::make_error(base::ErrorCode::InvalidArgument,
                              "linux.readonlyPaths[{}] `{}`: escapes the root filesystem", i,
                              spec.linux.readonly_paths[i]);
    }
  }
  for (size_t i = 0; i < spec.linux.devices.size(); ++i) {
    const spec::Device& d = spec.linux.devices[i];
    auto path = normalize_in_root(d.path);
    if (!path) {
      return base::make_error(base::ErrorCode::InvalidArgument,
                              "linux.devices[{}].path `{}`: escapes the root filesystem", i,
                              d.path);
    }
    if (*path == "/") {
      return base::make_error(base::ErrorCode::InvalidArgument,
                              "linux.devices[{}].path `{}`: not a device path", i, d.path);
    }
    if (d.type != 'c' && d.type != 'u' && d.type != 'b' && d.type != 'p') {
      return base::make_error(base::ErrorCode::InvalidArgument,
                              "linux.devices[{}].type `{}`: must be c, u, b or p", i, d.type);
    }
  }
  // Without a rootfs to look at (it is load_bundle's job to insist on one) only the lexical
  // checks apply; prepare_rootfs confines the mounts either way.
  base::Fd root;
  if (!spec.root.path.empty()) {
    auto fd = base::Fd::open(spec.root.path, O_PATH | O_DIRECTORY);
    if (fd) {
      root = std::move(*fd);
    }
  }
  std::vector<MountOp> ops;
  ops.reserve(spec.mounts.size());
  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    ops.push_back(MYDOCKER_TRY(plan_one(spec.mounts[i], i, root.get(), bundle_dir)));
  }
  return ops;
}

}  // namespace mydocker::runtime::mount
