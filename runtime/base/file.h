// SPDX-License-Identifier: Apache-2.0
// Small file helpers with Result errors. Paths are host paths; inside a container rootfs use
// the directory-fd helpers of runtime/mount instead.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "runtime/base/error.h"

namespace mydocker::base {

Result<std::string> read_file(const std::string& path);
// open(O_WRONLY|O_TRUNC|flags) + one write: the shape cgroupfs and procfs want.
Result<void> write_file(const std::string& path, std::string_view data, int extra_flags = 0);
// Durable replace: temp file in the same dir, write, fsync, rename, fsync(dir).
Result<void> write_file_atomic(const std::string& path, std::string_view data, mode_t mode = 0644);
// mkdir -p; existing directories are fine.
Result<void> mkdir_all(const std::string& path, mode_t mode = 0755);
// rm -rf without following symlinks; a missing path is fine.
Result<void> remove_all(const std::string& path);
bool path_exists(const std::string& path);

}  // namespace mydocker::base
