// SPDX-License-Identifier: Apache-2.0
// Test fixture: a busybox root filesystem built from Debian's busybox-static binary
// (/bin/busybox): the binary, a symlink per applet in /bin, minimal /etc/passwd and
// /etc/group, and empty /proc /sys /dev /tmp /root. Built once per test binary in a temp
// dir, removed at exit. Tests that write to it should copy it (copy_rootfs) or overlay it.
#pragma once

#include <set>
#include <string>

namespace mydocker::testing {

// The shared, read-mostly rootfs. Aborts the test binary if /bin/busybox is missing
// (scripts/install-deps.sh installs busybox-static).
const std::string& busybox_rootfs();

// A fresh private copy under `parent_dir` (cp -a semantics), returned as its path.
std::string copy_rootfs(const std::string& parent_dir);

// The names in a directory (without . and ..); empty when it cannot be read.
std::set<std::string> list_dir(const std::string& path);

// A unique temp directory (mydocker-test-<pid>-<n>), removed by the TempDir destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace mydocker::testing
