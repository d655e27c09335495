// SPDX-License-Identifier: Apache-2.0
// `docker diff` over an overlay RW layer, and the size of a directory tree.
//
// changes(upper, lowers) walks the upper dir (the container's own changes) and classifies
// each entry as Docker's overlay driver does:
//   * a 0/0 character device is a whiteout: deleted (2);
//   * a directory not in any lower: added (1), and everything below it added;
//   * a directory in a lower: reported only when opaque (modified, 0) or as the parent of a
//     change (below);
//   * any other entry: modified (0) when a lower has the path, else added (1).
// The parents of every change are reported as modified, and the list is sorted by path.
// Paths in `ignore` (and what is below them) are left out: the mount points the runtime
// creates in the rootfs (/etc/hosts, /proc, ...), which Docker keeps in a hidden init layer.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "engine/daemon.h"
#include "runtime/base/error.h"

namespace mydocker::engine::fs {

// `lowers`: the layer diff dirs, top first.
base::Result<std::vector<Change>> overlay_changes(const std::string& upper,
                                                  const std::vector<std::string>& lowers,
                                                  const std::set<std::string>& ignore);

// The same for a full copy of the rootfs (the vfs driver): `rootfs` against the image layers
// `lowers` (top first; whiteouts as 0/0 devices or `.wh.` files). A path only in the copy is
// added, one the image shows but the copy lacks is deleted (only the topmost such path, as
// Docker), a non-directory whose type, mode, owner, size or mtime differ is modified; parents
// of changes are modified.
base::Result<std::vector<Change>> tree_changes(const std::string& rootfs,
                                               const std::vector<std::string>& lowers,
                                               const std::set<std::string>& ignore);

// Bytes of regular files under `path` (hard links counted once; symlinks not followed).
// A missing path is 0.
int64_t dir_size(const std::string& path);

}  // namespace mydocker::engine::fs
