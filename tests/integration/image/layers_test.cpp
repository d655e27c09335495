// SPDX-License-Identifier: Apache-2.0
// Root: the layer store in the overlay format and both snapshotters mounted for real.
// Layers come from the busybox rootfs fixture (tarred with GNU tar) and crafted tars.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <type_traits>

#include "image/layers/layer_store.h"
#include "image/layers/snapshotter.h"
#include "runtime/base/file.h"
#include "runtime/base/strings.h"
#include "tests/support/busybox_rootfs.h"
#include "tests/support/require.h"
#include "tests/unit/image/layers/tar_builder.h"

namespace mydocker::image::layers {
namespace {

using namespace testing;  // NOLINT: the tar builder vocabulary
using mydocker::testing::list_dir;
using mydocker::testing::Need;
using mydocker::testing::TempDir;

bool mounted_under(const std::string& prefix) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.find(" " + prefix) != std::string::npos) {
      return true;
    }
  }
  return false;
}

struct stat lstat_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st;
}

std::string read(const std::string& path) {
  auto r = base::read_file(path);
  return r ? *r : std::string("<missing>");
}

// The busybox fixture as a layer tar (numeric owners, as an image tar has them).
const std::string& busybox_tar() {
  static const std::string tar = [] {
    TempDir dir;
    std::string file = dir.path() + "/busybox.tar";
    std::string cmd =
        "tar --numeric-owner -C '" + mydocker::testing::busybox_rootfs() + "' -cf '" + file + "' .";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    return *base::read_file(file);
  }();
  return tar;
}

class RootLayerStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MYDOCKER_REQUIRE(Need::Root, Need::Overlay);
    LayerStore::Options o;
    o.sync = false;
    auto s = LayerStore::open(tmp_.path() + "/layers", o);
    ASSERT_TRUE(s) << s.error().to_string();
    layers_ = std::move(*s);
  }
  void TearDown() override { EXPECT_FALSE(mounted_under(tmp_.path())); }

  ChainId add(const std::optional<ChainId>& parent, const std::string& blob) {
    MemorySource src(blob);
    auto r = layers_->register_layer(parent, src);
    EXPECT_TRUE(r) << r.error().to_string();
    return r ? r->chain_id : ChainId();
  }

  TempDir tmp_;
  std::unique_ptr<LayerStore> layers_;
};

TEST_F(RootLayerStoreTest, OverlayFormatKeepsWhiteoutsOwnersDevicesAndXattrs) {
  TarEntry owned = file("owned", "x", 02755);
  owned.uid = 1234;
  owned.gid = 5678;
  owned.xattrs = {{"trusted.mydocker", "kept"}, {"trusted.overlay.redirect", "/forged"}};
  ChainId c = add(std::nullopt,
                  compress(make_tar({dir("d/"), file("d/.wh..wh..opq", ""), file("d/new", "n"),
                                     file(".wh.gone", ""), owned, chardev("null", 1, 3)}),
                           Compression::Zstd));
  std::string diff = layers_->diff_path(c);
  struct stat st = lstat_of(diff + "/gone");
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(0, 0));
  EXPECT_FALSE(base::path_exists(diff + "/.wh.gone"));
  char v[16];
  ssize_t n = ::lgetxattr((diff + "/d").c_str(), "trusted.overlay.opaque", v, sizeof v);
  EXPECT_EQ(std::string(v, static_cast<size_t>(std::max<ssize_t>(n, 0))), "y");
  EXPECT_EQ(list_dir(diff + "/d"), std::set<std::string>{"new"});
  st = lstat_of(diff + "/owned");
  EXPECT_EQ(st.st_uid, 1234u);
  EXPECT_EQ(st.st_gid, 5678u);
  EXPECT_EQ(st.st_mode & 07777, 02755u);  // setgid survives the chown
  n = ::lgetxattr((diff + "/owned").c_str(), "trusted.mydocker", v, sizeof v);
  EXPECT_EQ(std::string(v, static_cast<size_t>(std::max<ssize_t>(n, 0))), "kept");
  EXPECT_LT(::lgetxattr((diff + "/owned").c_str(), "trusted.overlay.redirect", v, sizeof v), 0);
  st = lstat_of(diff + "/null");
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(1, 3));
}

TEST_F(RootLayerStoreTest, ImportsTheBusyboxRootfs) {
  ChainId c = add(std::nullopt, compress(busybox_tar(), Compression::Gzip));
  EXPECT_EQ(c.str(), Digest::sha256_of(busybox_tar()).str());
  std::string diff = layers_->diff_path(c);
  EXPECT_TRUE(S_ISREG(lstat_of(diff + "/bin/busybox").st_mode));
  EXPECT_EQ(lstat_of(diff + "/bin/busybox").st_mode & 0111, 0111u);
  EXPECT_TRUE(S_ISLNK(lstat_of(diff + "/bin/sh").st_mode));
  EXPECT_EQ(read(diff + "/etc/passwd"), read(mydocker::testing::busybox_rootfs() + "/etc/passwd"));
  EXPECT_GT(layers_->get(c)->size, 100000u);
}

// The conformance suite: both snapshotters, mounted.
template <typename Store>
class RootSnapshotterTest : public RootLayerStoreTest {
 protected:
  void SetUp() override {
    RootLayerStoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    auto s = Store::open(*layers_, tmp_.path() + "/rw");
    ASSERT_TRUE(s) << s.error().to_string();
    store_ = std::move(*s);
    base_ = add(std::nullopt, compress(busybox_tar(), Compression::Gzip));
    target_ = tmp_.path() + "/mnt";
    ASSERT_TRUE(base::mkdir_all(target_));
  }
  void TearDown() override {
    if (store_) {
      for (const std::string& key : store_->list()) {
        EXPECT_TRUE(store_->remove(key)) << key;
      }
    }
    RootLayerStoreTest::TearDown();
  }
  static constexpr bool kOverlay = std::is_same_v<Store, OverlayStore>;

  std::unique_ptr<Snapshotter> store_;
  ChainId base_;
  std::string target_;
};

using Stores = ::testing::Types<OverlayStore, CopyStore>;
class StoreNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, OverlayStore> ? "overlay" : "copy";
  }
};
TYPED_TEST_SUITE(RootSnapshotterTest, Stores, StoreNames);

TYPED_TEST(RootSnapshotterTest, WritesStayInTheContainerLayer) {
  auto m = this->store_->mount("c1", this->target_);
  ASSERT_FALSE(m);  // not prepared yet
  EXPECT_EQ(m.error().code(), base::ErrorCode::NotFound);
  ASSERT_TRUE(this->store_->prepare("c1", this->base_));
  {
    auto mnt = this->store_->mount("c1", this->target_);
    ASSERT_TRUE(mnt) << mnt.error().to_string();
    EXPECT_TRUE(mounted_under(this->target_));
    EXPECT_TRUE(base::path_exists(this->target_ + "/bin/busybox"));
    ASSERT_TRUE(base::write_file_atomic(this->target_ + "/etc/passwd", "changed\n"));
    ASSERT_TRUE(base::write_file_atomic(this->target_ + "/new-file", "new\n"));
    ASSERT_EQ(::unlink((this->target_ + "/bin/ls").c_str()), 0);
    EXPECT_EQ(read(this->target_ + "/etc/passwd"), "changed\n");
  }
  EXPECT_FALSE(mounted_under(this->target_));
  std::string diff = this->layers_->diff_path(this->base_);
  std::string rw = this->store_->rw_path("c1");
  // The image layer is untouched.
  EXPECT_EQ(read(diff + "/etc/passwd"), read(mydocker::testing::busybox_rootfs() + "/etc/passwd"));
  EXPECT_FALSE(base::path_exists(diff + "/new-file"));
  EXPECT_TRUE(S_ISLNK(lstat_of(diff + "/bin/ls").st_mode));
  // The container's layer has the changes.
  EXPECT_EQ(read(rw + "/etc/passwd"), "changed\n");
  EXPECT_EQ(read(rw + "/new-file"), "new\n");
  if constexpr (TestFixture::kOverlay) {
    struct stat st = lstat_of(rw + "/bin/ls");  // the delete is a whiteout in upper
    EXPECT_TRUE(S_ISCHR(st.st_mode));
    EXPECT_EQ(st.st_rdev, makedev(0, 0));
  } else {
    EXPECT_FALSE(base::path_exists(rw + "/bin/ls"));
  }
  // Remounting shows the same state.
  auto again = this->store_->mount("c1", this->target_);
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(read(this->target_ + "/new-file"), "new\n");
  EXPECT_FALSE(base::path_exists(this->target_ + "/bin/ls"));
  ASSERT_TRUE(again->unmount());
  EXPECT_FALSE(mounted_under(this->target_));
}

TYPED_TEST(RootSnapshotterTest, UpperLayerWhiteoutsHideLowerFiles) {
  ChainId top =
      this->add(this->base_, make_tar({file("etc/.wh.group", ""), dir("bin/"),
                                       file("bin/.wh..wh..opq", ""), file("bin/only", "o", 0755)}));
  ASSERT_TRUE(this->store_->prepare("c1", top));
  auto mnt = this->store_->mount("c1", this->target_);
  ASSERT_TRUE(mnt) << mnt.error().to_string();
  EXPECT_FALSE(base::path_exists(this->target_ + "/etc/group"));
  EXPECT_TRUE(base::path_exists(this->target_ + "/etc/passwd"));
  EXPECT_EQ(list_dir(this->target_ + "/bin"), std::set<std::string>{"only"});
  // Still in the base layer.
  EXPECT_TRUE(base::path_exists(this->layers_->diff_path(this->base_) + "/etc/group"));
}

TYPED_TEST(RootSnapshotterTest, ImagesSharingABaseShareItsLayerDirectory) {
  ChainId app1 = this->add(this->base_, make_tar({file("app", "one")}));
  ChainId again = this->add(std::nullopt, compress(busybox_tar(), Compression::Zstd));
  ASSERT_EQ(again, this->base_);
  ChainId app2 = this->add(again, make_tar({file("app", "two")}));
  ASSERT_TRUE(this->layers_->release(this->base_));
  ASSERT_TRUE(this->layers_->release(again));
  EXPECT_EQ(this->layers_->lineage(app1)->back().chain_id,
            this->layers_->lineage(app2)->back().chain_id);
  EXPECT_EQ(this->layers_->get(this->base_)->children, 2u);
  ASSERT_TRUE(this->store_->prepare("c1", app1));
  ASSERT_TRUE(this->store_->prepare("c2", app2));
  std::string t2 = this->tmp_.path() + "/mnt2";
  ASSERT_TRUE(base::mkdir_all(t2));
  auto m1 = this->store_->mount("c1", this->target_);
  auto m2 = this->store_->mount("c2", t2);
  ASSERT_TRUE(m1 && m2);
  EXPECT_EQ(read(this->target_ + "/app"), "one");
  EXPECT_EQ(read(t2 + "/app"), "two");
  if constexpr (TestFixture::kOverlay) {
    // Both mounts read the one copy of the base.
    struct stat a = lstat_of(this->target_ + "/bin/busybox");
    struct stat b = lstat_of(t2 + "/bin/busybox");
    struct stat l = lstat_of(this->layers_->diff_path(this->base_) + "/bin/busybox");
    EXPECT_EQ(a.st_ino, l.st_ino);
    EXPECT_EQ(b.st_ino, l.st_ino);
  }
  ASSERT_TRUE(m1->unmount());
  ASSERT_TRUE(m2->unmount());
  // Layers stay while containers use them; go when the last user goes.
  ASSERT_TRUE(this->layers_->release(app1));
  EXPECT_TRUE(this->layers_->exists(app1));
  ASSERT_TRUE(this->store_->remove("c1"));
  EXPECT_FALSE(this->layers_->exists(app1));
  EXPECT_TRUE(this->layers_->exists(this->base_));
  ASSERT_TRUE(this->layers_->release(app2));
  ASSERT_TRUE(this->store_->remove("c2"));
  EXPECT_TRUE(this->layers_->list().empty());
}

TYPED_TEST(RootSnapshotterTest, DeepImagesMount) {
  // 100 layers under a long root: the full lowerdir= is far over a page.
  ChainId top = this->base_;
  for (int i = 0; i < 100; ++i) {
    top = this->add(top, make_tar({file(fmt::format("layer{:03d}", i), std::to_string(i))}));
  }
  auto specs = this->store_->prepare("deep", top);
  ASSERT_TRUE(specs) << specs.error().to_string();
  if constexpr (TestFixture::kOverlay) {
    // Even the short links exceed mount(2)'s page: mount_all() must pass descriptors.
    EXPECT_GT(base::join(specs->at(0).options, ",").size(), 4096u);
  }
  auto mnt = this->store_->mount("deep", this->target_);
  ASSERT_TRUE(mnt) << mnt.error().to_string();
  EXPECT_EQ(read(this->target_ + "/layer000"), "0");
  EXPECT_EQ(read(this->target_ + "/layer099"), "99");
  EXPECT_TRUE(base::path_exists(this->target_ + "/bin/busybox"));
}

TYPED_TEST(RootSnapshotterTest, EmptyParentGivesAnEmptyRootfs) {
  ASSERT_TRUE(this->store_->prepare("empty", std::nullopt));
  auto mnt = this->store_->mount("empty", this->target_);
  ASSERT_TRUE(mnt) << mnt.error().to_string();
  EXPECT_TRUE(list_dir(this->target_).empty());
}

}  // namespace
}  // namespace mydocker::image::layers
