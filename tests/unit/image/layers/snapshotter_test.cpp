// SPDX-License-Identifier: Apache-2.0
// Snapshotters without root: the pure overlay plan, and CopyStore's copy with whiteouts
// applied (mounting is covered by tests/integration/image).
#include "image/layers/snapshotter.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <set>

#include "runtime/base/file.h"
#include "runtime/base/strings.h"
#include "tests/support/busybox_rootfs.h"
#include "tests/unit/image/layers/tar_builder.h"

namespace mydocker::image::layers {
namespace {

using namespace testing;  // NOLINT: the tar builder vocabulary
using mydocker::testing::list_dir;
using mydocker::testing::TempDir;

TEST(OverlayPlanTest, LowersTopFirstWithUpperAndWork) {
  MountSpec m = OverlayStore::plan({"/l/top", "/l/base"}, {"/s/t", "/s/b"}, "/c/upper", "/c/work");
  EXPECT_EQ(m, (MountSpec{"overlay",
                          "overlay",
                          {"lowerdir=/l/top:/l/base", "upperdir=/c/upper", "workdir=/c/work"}}));
}

TEST(OverlayPlanTest, EscapesSeparators) {
  MountSpec m = OverlayStore::plan({"/a:b,c"}, {"/s"}, "/u\\p", "/w");
  EXPECT_EQ(m.options[0], "lowerdir=/a\\:b\\,c");
  EXPECT_EQ(m.options[1], "upperdir=/u\\\\p");
}

TEST(OverlayPlanTest, UsesShortLinksWhenPathsExceedAPage) {
  std::vector<std::string> diffs, links;
  for (int i = 0; i < 90; ++i) {
    diffs.push_back(fmt::format("/var/lib/mydocker/layers/{:064x}/diff", i));
    links.push_back(fmt::format("/var/lib/mydocker/layers/l/{:012x}", i));
  }
  MountSpec m =
      OverlayStore::plan(diffs, links, "/var/lib/mydocker/c/x/upper", "/var/lib/mydocker/c/x/work");
  EXPECT_EQ(m.options[0], "lowerdir=" + base::join(links, ":"));
  EXPECT_LT(base::join(m.options, ",").size(), 4096u);
  // Fits: full paths, which read better in mountinfo.
  diffs.resize(3);
  links.resize(3);
  m = OverlayStore::plan(diffs, links, "/u", "/w");
  EXPECT_EQ(m.options[0], "lowerdir=" + base::join(diffs, ":"));
}

class CopyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LayerStore::Options o;
    o.whiteouts = WhiteoutFormat::Keep;
    o.preserve_owners = false;
    o.sync = false;
    layers_ = std::move(*LayerStore::open(tmp_.path() + "/layers", o));
    auto s = CopyStore::open(*layers_, tmp_.path() + "/rw");
    ASSERT_TRUE(s) << s.error().to_string();
    store_ = std::move(*s);
    std::string base_tar =
        make_tar({dir("d/"), file("d/a", "a"), dir("d/sub/"), file("d/sub/x", "x"),
                  file("gone", "g"), file("keep", "k"), file("bin/sh", "sh", 0755),
                  hardlink("bin/ash", "bin/sh"), symlink("s", "keep")});
    MemorySource base(base_tar);
    base_ = layers_->register_layer(std::nullopt, base)->chain_id;
    std::string top_tar =
        make_tar({file(".wh.gone", ""), dir("d/"), file("d/.wh..wh..opq", ""), file("d/b", "b"),
                  file("keep", "new"), dir("s/"), file("s/inside", "i")});
    MemorySource top(top_tar);
    top_ = layers_->register_layer(base_, top)->chain_id;
  }

  TempDir tmp_;
  std::unique_ptr<LayerStore> layers_;
  std::unique_ptr<CopyStore> store_;
  ChainId base_, top_;
};

TEST_F(CopyStoreTest, CopiesLayersApplyingWhiteouts) {
  auto m = store_->prepare("c1", top_);
  ASSERT_TRUE(m) << m.error().to_string();
  std::string rootfs = store_->rw_path("c1");
  EXPECT_EQ(*m, (std::vector<MountSpec>{{"bind", rootfs, {"rbind", "rw"}}}));
  EXPECT_EQ(list_dir(rootfs), (std::set<std::string>{"bin", "d", "keep", "s"}));
  EXPECT_EQ(list_dir(rootfs + "/d"), std::set<std::string>{"b"});  // opaque: a, sub hidden
  EXPECT_EQ(*base::read_file(rootfs + "/keep"), "new");
  struct stat sh {
  }, ash{}, s{};
  ASSERT_EQ(::lstat((rootfs + "/bin/sh").c_str(), &sh), 0);
  ASSERT_EQ(::lstat((rootfs + "/bin/ash").c_str(), &ash), 0);
  EXPECT_EQ(sh.st_ino, ash.st_ino);  // hard links stay links
  EXPECT_EQ(sh.st_mode & 07777, 0755u);
  ASSERT_EQ(::lstat((rootfs + "/s").c_str(), &s), 0);
  EXPECT_TRUE(S_ISDIR(s.st_mode));  // the upper dir replaced the lower symlink
  // The layers themselves are untouched.
  EXPECT_EQ(*base::read_file(layers_->diff_path(base_) + "/keep"), "k");
  EXPECT_EQ(layers_->get(top_)->refcount, 2u);
}

TEST_F(CopyStoreTest, RemoveReleasesTheImage) {
  ASSERT_TRUE(store_->prepare("c1", top_));
  EXPECT_EQ(store_->list(), std::vector<std::string>{"c1"});
  ASSERT_TRUE(store_->remove("c1"));
  EXPECT_TRUE(store_->list().empty());
  EXPECT_EQ(layers_->get(top_)->refcount, 1u);
  EXPECT_EQ(list_dir(tmp_.path() + "/rw"), std::set<std::string>{});
  EXPECT_EQ(store_->remove("c1").error().code(), base::ErrorCode::NotFound);
}

TEST_F(CopyStoreTest, BadRequestsLeaveNothing) {
  EXPECT_EQ(store_->prepare("../x", top_).error().code(), base::ErrorCode::InvalidArgument);
  EXPECT_EQ(store_->prepare("", top_).error().code(), base::ErrorCode::InvalidArgument);
  EXPECT_EQ(store_->prepare("c", ChainId(Digest::sha256_of("x"))).error().code(),
            base::ErrorCode::NotFound);
  ASSERT_TRUE(store_->prepare("c", std::nullopt));
  EXPECT_TRUE(list_dir(store_->rw_path("c")).empty());
  EXPECT_EQ(store_->prepare("c", top_).error().code(), base::ErrorCode::AlreadyExists);
  EXPECT_EQ(layers_->get(top_)->refcount, 1u);
  EXPECT_EQ(list_dir(tmp_.path() + "/rw"), std::set<std::string>{"c"});
}

TEST_F(CopyStoreTest, OverlayStoreNeedsOverlayWhiteouts) {
  auto s = OverlayStore::open(*layers_, tmp_.path() + "/ovl");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), base::ErrorCode::FailedPrecondition);
}

}  // namespace
}  // namespace mydocker::image::layers
