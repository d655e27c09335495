// SPDX-License-Identifier: Apache-2.0
// Root tests that create containers with the runtime's default cgroup path (/mydocker/<id>)
// also create the shared parent `mydocker` in every hierarchy. This gtest environment removes
// the parents the test binary created (those absent when it started), so a test run leaves
// the host's cgroup tree as it found it. Register once per test binary:
//   static auto* const kCleanup =
//       ::testing::AddGlobalTestEnvironment(new mydocker::testing::CgroupParentCleanup);
#pragma once

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace mydocker::testing {

class CgroupParentCleanup : public ::testing::Environment {
 public:
  explicit CgroupParentCleanup(std::string parent = "mydocker") : parent_(std::move(parent)) {}
  void SetUp() override;
  void TearDown() override;

 private:
  std::set<std::string> existing() const;
  std::string parent_;
  std::set<std::string> before_;
};

}  // namespace mydocker::testing
