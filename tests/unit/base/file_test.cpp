// SPDX-License-Identifier: Apache-2.0
#include "runtime/base/file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "runtime/base/fd.h"

namespace mydocker::base {
namespace {

class FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mydocker-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(FileTest, AtomicWriteReplacesAndLeavesNoTemp) {
  std::string p = dir_ + "/state.json";
  ASSERT_TRUE(write_file_atomic(p, "one"));
  ASSERT_TRUE(write_file_atomic(p, "two"));
  EXPECT_EQ(*read_file(p), "two");
  int entries = 0;
  for (auto& e : std::filesystem::directory_iterator(dir_)) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST_F(FileTest, MissingFileIsNotFound) {
  auto r = read_file(dir_ + "/missing");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::NotFound);
}

TEST_F(FileTest, MkdirAllAndRemoveAll) {
  ASSERT_TRUE(mkdir_all(dir_ + "/a/b/c"));
  EXPECT_TRUE(path_exists(dir_ + "/a/b/c"));
  ASSERT_TRUE(remove_all(dir_ + "/a"));
  EXPECT_FALSE(path_exists(dir_ + "/a"));
  EXPECT_TRUE(remove_all(dir_ + "/a"));
}

TEST_F(FileTest, FdMovesAndCloses) {
  auto p = make_pipe();
  ASSERT_TRUE(p);
  int raw = p->read.get();
  Fd moved = std::move(p->read);
  EXPECT_FALSE(p->read.valid());
  EXPECT_EQ(moved.get(), raw);
  moved.reset();
  EXPECT_EQ(::fcntl(raw, F_GETFD), -1);
}

}  // namespace
}  // namespace mydocker::base
