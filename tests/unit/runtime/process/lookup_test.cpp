// SPDX-License-Identifier: Apache-2.0
#include "runtime/process/lookup.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "runtime/base/file.h"
#include "tests/support/busybox_rootfs.h"

namespace mydocker::runtime::process {
namespace {

class LookupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = tmp_.path();
    ASSERT_TRUE(base::mkdir_all(root_ + "/bin").has_value());
    ASSERT_TRUE(base::mkdir_all(root_ + "/usr/bin").has_value());
    ASSERT_TRUE(base::mkdir_all(root_ + "/work").has_value());
    make(root_ + "/bin/sh", 0755);
    make(root_ + "/usr/bin/tool", 0755);
    make(root_ + "/bin/tool", 0755);  // later in PATH than /usr/bin
    make(root_ + "/bin/data", 0644);
    make(root_ + "/work/run.sh", 0755);
  }
  static void make(const std::string& path, mode_t mode) {
    ASSERT_TRUE(base::write_file(path, "#!/bin/sh\n", O_CREAT).has_value());
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
  }
  testing::TempDir tmp_;
  std::string root_;
};

TEST_F(LookupTest, SearchesPathInOrder) {
  auto r = resolve_executable(root_, "tool", {"PATH=/usr/bin:/bin"});
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(*r, "/usr/bin/tool");
  r = resolve_executable(root_, "tool", {"PATH=/bin:/usr/bin"});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, "/bin/tool");
}

TEST_F(LookupTest, LastPathInEnvWins) {
  auto r = resolve_executable(root_, "tool", {"PATH=/nowhere", "PATH=/bin"});
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(*r, "/bin/tool");
}

TEST_F(LookupTest, DefaultPathWhenEnvHasNone) {
  auto r = resolve_executable(root_, "sh", {"HOME=/root"});
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(*r, "/bin/sh");
}

TEST_F(LookupTest, MissingCommandHasRuncWording) {
  auto r = resolve_executable(root_, "foo", {"PATH=/usr/bin:/bin"});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), base::ErrorCode::NotFound);
  EXPECT_EQ(r.error().message(), "exec: \"foo\": executable file not found in $PATH");
}

TEST_F(LookupTest, EmptyPathFindsNothing) {
  auto r = resolve_executable(root_, "sh", {"PATH="});
  // An empty PATH entry means the current directory ("/"), which holds no sh.
  EXPECT_FALSE(r.has_value());
}

TEST_F(LookupTest, NonExecutableMatchIsPermissionDenied) {
  auto r = resolve_executable(root_, "data", {"PATH=/bin"});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), base::ErrorCode::PermissionDenied);
}

TEST_F(LookupTest, DirectoriesAreNotExecutables) {
  auto r = resolve_executable(root_, "bin", {"PATH=/"});
  EXPECT_FALSE(r.has_value());
}

TEST_F(LookupTest, NamesWithSlashAreNotSearched) {
  auto r = resolve_executable(root_, "/bin/sh", {"PATH=/usr/bin"});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, "/bin/sh");
  r = resolve_executable(root_, "./run.sh", {"PATH=/bin"}, "/work");
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(*r, "./run.sh");
  r = resolve_executable(root_, "/bin/nope", {"PATH=/bin"});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), base::ErrorCode::NotFound);
}

TEST(EnvValueTest, FindsTheLastValue) {
  EXPECT_EQ(env_value({"A=1", "PATH=/a", "PATHX=no", "PATH=/b"}, "PATH"), "/b");
  EXPECT_EQ(env_value({"A=1"}, "PATH"), "");
  EXPECT_EQ(env_value({"PATH"}, "PATH"), "");
}

}  // namespace
}  // namespace mydocker::runtime::process
