// SPDX-License-Identifier: Apache-2.0
// The container's root filesystem, set up inside the new mount namespace by the container's
// init process (runtime/process), in three steps:
//
//   prepare_rootfs(spec)   make / private (or linux.rootfsPropagation), bind the rootfs onto
//                          itself, mount every spec mount (targets resolved inside the
//                          rootfs: a symlink or `..` in the image cannot redirect a mount onto
//                          the host), create the default devices and /dev symlinks
//   pivot_into(rootfs)     pivot_root(2) into it and detach the old root (never chroot)
//   finalize_rootfs(spec)  maskedPaths, readonlyPaths, read-only root
//
// plan() is pure and runs in the parent to validate before clone: a destination that escapes,
// an unknown option or a missing bind source fails there, with nothing created yet.
#pragma once

#include <string>
#include <vector>

#include "runtime/base/error.h"
#include "runtime/base/fd.h"
#include "runtime/spec/spec.h"

namespace mydocker::runtime::mount {

struct MountOp {
  std::string source;
  std::string destination;  // inside the rootfs, normalised, absolute
  std::string type;
  unsigned long flags = 0;
  unsigned long propagation = 0;  // MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE (+MS_REC)
  bool remount_ro = false;        // bind + ro needs a second MS_REMOUNT
  std::string data;               // fs-specific options ("mode=755,size=65536k")
  bool is_bind() const;
};

// Translates spec.mounts into ops; InvalidArgument naming `mounts[i].destination` etc.
base::Result<std::vector<MountOp>> plan(const spec::Spec& spec);

base::Result<void> prepare_rootfs(const spec::Spec& spec, const std::vector<MountOp>& ops);
base::Result<void> pivot_into(const std::string& rootfs);
base::Result<void> finalize_rootfs(const spec::Spec& spec);

// Opens `path` inside the directory `root_fd` as if root_fd were "/": symlinks and ".." can
// never leave it (openat2 RESOLVE_IN_ROOT, with a component-by-component fallback).
// With `create_dirs`, missing directories are made along the way.
base::Result<base::Fd> open_in_root(int root_fd, const std::string& path, int flags,
                                    bool create_dirs = false);

}  // namespace mydocker::runtime::mount
