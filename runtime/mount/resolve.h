// SPDX-License-Identifier: Apache-2.0
// Internal to runtime/mount: diagnosis of image symlinks for plan().
#pragma once

#include <optional>
#include <string>

#include "runtime/base/error.h"

namespace mydocker::runtime::mount {

// Follows `path` (normalised, no "..") inside the directory `root_fd` the way open_in_root
// would and reports the first symlink whose target climbs above the root, as
// "`/evil` -> `../../../etc`". open_in_root would clamp such a symlink at the root; plan()
// refuses it instead, since an image that does this is trying to reach the host.
// Absolute symlinks are not escapes: inside a container "/" is the rootfs. Stops quietly at
// the first missing component (the rest is created at mount time). ELOOP after 40 symlinks.
base::Result<std::optional<std::string>> find_escaping_symlink(int root_fd,
                                                               const std::string& path);

}  // namespace mydocker::runtime::mount
