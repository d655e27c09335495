// SPDX-License-Identifier: Apache-2.0
#include "tests/support/cgroup_cleanup.h"

#include <unistd.h>

#include <filesystem>

namespace mydocker::testing {

std::set<std::string> CgroupParentCleanup::existing() const {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& h : std::filesystem::directory_iterator("/sys/fs/cgroup", ec)) {
    std::string dir = h.path().string() + "/" + parent_;
    if (::access(dir.c_str(), F_OK) == 0) {
      out.insert(dir);
    }
  }
  return out;
}

void CgroupParentCleanup::SetUp() {
  before_ = existing();
}

void CgroupParentCleanup::TearDown() {
  for (const std::string& dir : existing()) {
    if (before_.count(dir) == 0) {
      // Fails (EBUSY/ENOTEMPTY) while a container still lives there: the tests' own leak
      // checks report that; here an empty parent just goes.
      ::rmdir(dir.c_str());
    }
  }
}

}  // namespace mydocker::testing
