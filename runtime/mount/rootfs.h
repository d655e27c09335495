// SPDX-License-Identifier: Apache-2.0
// The container's root filesystem, set up inside the new mount namespace by the container's
// init process (runtime/process), in three steps:
//
//   prepare_rootfs(spec)   make / private (or linux.rootfsPropagation), bind the rootfs onto
//                          itself, mount every spec mount (targets resolved inside the
//                          rootfs: a symlink or `..` in the image cannot redirect a mount onto
//                          the host), create the default devices and /dev symlinks
//   pivot_into(rootfs)     pivot_root(2) into it and detach the old root (never chroot)
//   finalize_rootfs(spec)  maskedPaths, readonlyPaths, read-only /dev (if asked), read-only root
//
// plan() is pure apart from stat(2) on bind sources and runs in the parent to validate before
// clone: a destination that escapes, an unsupported option or a missing bind source fails
// there, with nothing created yet.
//
// Order and context (the caller's contract):
//   parent:  ops = plan(spec)                       (validation; nothing created)
//   child:   unshare(CLONE_NEWNS) [+ user ns mapped, + joined/created cgroup ns]
//            prepare_rootfs(spec, ops); pivot_into(spec.root.path); finalize_rootfs(spec)
// Between pivot_into and finalize_rootfs is the place for what writes to the container's
// /proc or root (sysctl, /dev/console): finalize makes /proc/sys and / read-only (runc's order).
// The process must already be in its cgroups (and cgroup namespace) at prepare_rootfs: the
// cgroup mount binds the process's own cgroup directories (or mounts the namespace's).
// prepare_rootfs, pivot_into and finalize_rootfs run in the container's init between clone and
// exec: they take no locks and do not log; everything they mount lives in the container's
// private mount namespace and goes away with it. They change the process umask only
// transiently (restored before returning). They are not safe to call in the caller's own mount
// namespace: / is made private first thing, but the rootfs bind and the mounts would stay.
//
// Errors name the mount and carry errno: "mount `proc` on `/proc` (mounts[0]): ...".
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/base/error.h"
#include "runtime/base/fd.h"
#include "runtime/spec/spec.h"

namespace mydocker::runtime::mount {

struct MountOp {
  size_t index = 0;         // position in spec.mounts, for error messages
  std::string source;       // bind mounts: absolute host path
  std::string destination;  // inside the rootfs, normalised, absolute
  std::string type;         // "bind" for every bind mount (type bind/none or option bind/rbind)
  unsigned long flags = 0;  // MS_* for mount(2); binds: MS_BIND [| MS_REC] plus per-mount flags
  unsigned long propagation = 0;  // MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE (+MS_REC)
  // A bind ignores ro/nosuid/nodev/noexec/atime flags on the first mount(2): they need a second
  // MS_REMOUNT|MS_BIND step.
  bool bind_remount = false;
  // MOUNT_ATTR_* from the recursive options (rro, rnosuid, ...), applied to the whole tree with
  // mount_setattr(AT_RECURSIVE).
  uint64_t attr_set = 0;
  uint64_t attr_clear = 0;
  bool source_is_dir = true;  // binds of a non-directory get an empty file as mountpoint
  // tmpfs only: the new tmpfs starts with a copy of what the image has at the destination
  // (runc's extension, used for tmpfs over /etc, /var/...).
  bool tmpcopyup = false;
  std::string data;  // fs-specific options ("mode=755,size=65536k")
  bool is_bind() const;
};

// Translates spec.mounts into ops (one per mount, same order) and validates
// linux.rootfsPropagation, maskedPaths, readonlyPaths and the devices' paths and types.
// InvalidArgument naming the field and value (`mounts[3].destination `../../etc`: escapes the
// root filesystem`), NotFound for a missing bind source, NotImplemented for idmapped mounts.
// A destination whose image symlinks climb above the rootfs (`x -> ../../..`) is refused too
// (absolute symlinks are resolved inside the rootfs, as in the container).
// Relative destinations are relative to / (as runc); relative bind sources are relative to
// `bundle_dir` (as runc), or to the current directory when it is empty.
base::Result<std::vector<MountOp>> plan(const spec::Spec& spec, const std::string& bundle_dir = "");

// In the container's fresh mount namespace, before pivot_into. `ops` must come from plan(spec).
base::Result<void> prepare_rootfs(const spec::Spec& spec, const std::vector<MountOp>& ops);
// pivot_root(".", ".") into `rootfs`, detaches the old root, chdir("/"). Never chroot.
base::Result<void> pivot_into(const std::string& rootfs);
// After pivot_into: maskedPaths (missing paths skipped), readonlyPaths, read-only root.
base::Result<void> finalize_rootfs(const spec::Spec& spec);

// Opens `path` inside the directory `root_fd` as if root_fd were "/": symlinks (absolute or
// relative) and ".." can never leave it, and magic links (/proc/self/root, ...) are refused
// or read as plain text. openat2(RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS); when the kernel lacks
// openat2 (ENOSYS), a component-by-component walk with the same semantics.
// With `create_dirs`, missing directories (including the last component) are made, mode 0755,
// wherever the symlinks lead inside the root. `flags` must not contain O_CREAT.
// Errors carry errno (ENOENT, ENOTDIR, ELOOP after 40 symlinks, ...).
base::Result<base::Fd> open_in_root(int root_fd, const std::string& path, int flags,
                                    bool create_dirs = false);

// The component-by-component walk alone (what open_in_root falls back to without openat2).
base::Result<base::Fd> open_in_root_fallback_for_test(int root_fd, const std::string& path,
                                                      int flags, bool create_dirs = false);
// Makes every later open_in_root in this process use the fallback walk, as on a kernel without
// openat2 (so root tests cover both paths).
void force_open_in_root_fallback_for_test(bool force);

// "/a/./b/../c" -> "/a/c"; relative paths are taken from "/"; nullopt when ".." climbs above
// the root. Exposed for the spec validation and tests.
std::optional<std::string> normalize_in_root(const std::string& path);

}  // namespace mydocker::runtime::mount
