// SPDX-License-Identifier: Apache-2.0
// `docker export`: a filesystem tree (a container's mounted rootfs, or any directory) as a tar.
//
// Entries are relative names without a leading "./" (Docker's), directories first then their
// children in byte order, so the same tree always gives the same bytes. Kept: regular files,
// directories, symlinks (not followed), hard links (the second name is a link entry), char and
// block devices, fifos; modes, owners (numeric), mtimes (ns) and xattrs (security.capability,
// user.*; trusted.* never leaves the host). Sockets are skipped, as tar cannot carry them.
//
// With `overlay_whiteouts` (for an overlay upper/diff dir), overlay's whiteouts become OCI
// ones: a 0/0 char device `x` becomes an empty file `.wh.x`, and a directory with
// trusted.overlay.opaque=y gets a `.wh..wh..opq` entry.
//
// The walk works from directory fds with O_NOFOLLOW (openat), so a symlink swapped in during
// the walk is written as a symlink, never followed out of the tree. Errors name the path.
#pragma once

#include <string>

#include "image/archive/tar_io.h"
#include "runtime/base/error.h"

namespace mydocker::image::archive {

struct ExportOptions {
  bool overlay_whiteouts = false;
};

base::Result<void> export_directory(const std::string& dir, const Sink& out,
                                    const ExportOptions& options = {});

}  // namespace mydocker::image::archive
