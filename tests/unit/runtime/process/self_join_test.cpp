// SPDX-License-Identifier: Apache-2.0
#include <fcntl.h>
#include <gtest/gtest.h>

#include "runtime/base/file.h"
#include "runtime/process/init.h"
#include "tests/support/busybox_rootfs.h"

namespace mydocker::runtime::process {
namespace {

class SelfJoinTest : public ::testing::Test {
 protected:
  std::string v1_dir(const std::string& name) {
    std::string d = tmp_.path() + "/" + name;
    EXPECT_TRUE(base::mkdir_all(d).has_value());
    EXPECT_TRUE(base::write_file(d + "/tasks", "", O_CREAT).has_value());
    return d;
  }
  testing::TempDir tmp_;
};

TEST_F(SelfJoinTest, OneTasksFilePerV1Dir) {
  std::string mem = v1_dir("memory");
  std::string pids = v1_dir("pids");
  EXPECT_EQ(self_join_tasks({mem, pids}, false),
            (std::vector<std::string>{mem + "/tasks", pids + "/tasks"}));
}

TEST_F(SelfJoinTest, DirsTheManagerDidNotMakeAreSkipped) {
  std::string mem = v1_dir("memory");
  EXPECT_EQ(self_join_tasks({mem, tmp_.path() + "/systemd"}, false),
            std::vector<std::string>{mem + "/tasks"});
}

TEST_F(SelfJoinTest, ACgroup2DirMeansTheParentJoins) {
  std::string mem = v1_dir("memory");
  std::string unified = tmp_.path() + "/unified";
  ASSERT_TRUE(base::mkdir_all(unified).has_value());
  EXPECT_EQ(self_join_tasks({mem, unified}, false), std::vector<std::string>{});
}

TEST_F(SelfJoinTest, ANewUserNamespaceMeansTheParentJoins) {
  EXPECT_EQ(self_join_tasks({v1_dir("memory")}, true), std::vector<std::string>{});
}

}  // namespace
}  // namespace mydocker::runtime::process
