// SPDX-License-Identifier: Apache-2.0
// Commit of a real overlay upper dir (root): what a container's RW layer holds after files
// are written, deleted (0/0 whiteout devices) and directories replaced (opaque xattr) becomes
// a layer that, mounted on the same parent, shows the same tree.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <set>
#include <string>

#include "image/archive/commit.h"
#include "image/archive/images.h"
#include "image/archive/tar_io.h"
#include "image/layers/snapshotter.h"
#include "runtime/base/file.h"
#include "tests/support/busybox_rootfs.h"
#include "tests/support/require.h"
#include "tests/unit/image/layers/tar_builder.h"

namespace mydocker::image::archive {
namespace {

using mydocker::testing::Need;
namespace tb = layers::testing;

bool is_whiteout(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == 0;
}

std::string xattr(const std::string& path, const char* name) {
  char buf[16] = {};
  ssize_t n = ::lgetxattr(path.c_str(), name, buf, sizeof(buf));
  return n < 0 ? "<none>" : std::string(buf, static_cast<size_t>(n));
}

void put(const std::string& path, const std::string& data) {
  ASSERT_TRUE(base::write_file(path, data, O_CREAT)) << path;
}

std::set<std::string> tar_names(const std::string& changes) {
  std::string tar;
  auto r = write_changes_tar(changes, {}, [&](std::string_view d) {
    tar.append(d);
    return base::ok();
  });
  EXPECT_TRUE(r) << r.error().to_string();
  std::set<std::string> names;
  layers::MemorySource src(tar);
  auto reader = TarReader::open(src);
  EXPECT_TRUE(reader);
  while (reader) {
    auto h = reader->next();
    if (!h || !*h) {
      break;
    }
    names.insert((*h)->name);
  }
  return names;
}

class RootCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MYDOCKER_REQUIRE(Need::Root, Need::Overlay);
    ImagesOptions o;
    o.layers.sync = false;
    auto r = Images::open(tmp_.path() + "/root", o);
    ASSERT_TRUE(r) << r.error().to_string();
    images_ = std::move(*r);
    auto s = layers::OverlayStore::open(images_->layers(), tmp_.path() + "/rw");
    ASSERT_TRUE(s) << s.error().to_string();
    snaps_ = std::move(*s);
  }
  void TearDown() override {
    for (auto& m : mounts_) {
      (void)m.unmount();
    }
    if (snaps_) {
      for (const std::string& k : snaps_->list()) {
        (void)snaps_->remove(k);
      }
    }
  }

  layers::Mount& mount(const std::string& key, const std::optional<ChainId>& top) {
    auto p = snaps_->prepare(key, top);
    EXPECT_TRUE(p) << p.error().to_string();
    std::string target = tmp_.path() + "/m-" + key;
    EXPECT_TRUE(base::mkdir_all(target));
    auto m = snaps_->mount(key, target);
    EXPECT_TRUE(m) << m.error().to_string();
    mounts_.push_back(std::move(*m));
    return mounts_.back();
  }

  mydocker::testing::TempDir tmp_;
  std::unique_ptr<Images> images_;
  std::unique_ptr<layers::OverlayStore> snaps_;
  std::vector<layers::Mount> mounts_;
};

TEST_F(RootCommitTest, OverlayUpperBecomesALayerShowingTheSameTree) {
  std::string base_tar =
      tb::make_tar({tb::dir("bin"), tb::file("bin/tool", "tool\n", 0755), tb::dir("etc"),
                    tb::file("etc/gone", "x\n"), tb::file("etc/kept", "k\n"), tb::dir("opq"),
                    tb::file("opq/old1", "1"), tb::dir("opq/sub"), tb::file("opq/sub/old2", "2")});
  layers::MemorySource src(base_tar);
  ImportOptions io;
  io.reference = "commit-root-base:latest";
  auto base = images_->import_image(src, io);
  ASSERT_TRUE(base) << base.error().to_string();
  auto parent = images_->images().get(*base);
  ASSERT_TRUE(parent);
  auto parent_top = Images::top_layer(parent->config);

  // A container's changes, made through the overlay mount as a RUN would make them.
  {
    layers::Mount& m = mount("c1", parent_top);
    std::string t = m.target();
    ASSERT_EQ(::unlink((t + "/etc/gone").c_str()), 0);
    ASSERT_TRUE(base::remove_all(t + "/opq"));
    ASSERT_EQ(::mkdir((t + "/opq").c_str(), 0700), 0);
    put(t + "/opq/new", "new\n");
    ASSERT_TRUE(base::mkdir_all(t + "/app/lib"));
    put(t + "/app/lib/data", std::string(300000, 'd'));
    ASSERT_EQ(::link((t + "/app/lib/data").c_str(), (t + "/app/data-link").c_str()), 0);
    ASSERT_EQ(::symlink("/bin/tool", (t + "/app/tool").c_str()), 0);
    ASSERT_EQ(::mkfifo((t + "/app/fifo").c_str(), 0600), 0);
    ASSERT_EQ(::chown((t + "/app/lib").c_str(), 1000, 1000), 0);
    ASSERT_TRUE(m.unmount());
  }
  std::string upper = snaps_->rw_path("c1");
  ASSERT_TRUE(is_whiteout(upper + "/etc/gone"));
  ASSERT_EQ(xattr(upper + "/opq", "trusted.overlay.opaque"), "y");

  std::set<std::string> names = tar_names(upper);
  for (const char* want : {"etc/.wh.gone", "opq/", "opq/.wh..wh..opq", "opq/new", "app/fifo"}) {
    EXPECT_EQ(names.count(want), 1u) << want;
  }
  EXPECT_EQ(names.count("etc/gone"), 0u);

  CommitRequest req;
  req.parent = *base;
  req.config = parent->config;
  content::HistoryEntry h;
  h.created_by = "/bin/sh -c change";
  req.config.history.push_back(h);
  req.changes_dir = upper;
  auto r = commit(*images_, req);
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_TRUE(r->layer);
  auto blob = base::read_file(images_->content().blob_path(r->layer->digest()));
  ASSERT_TRUE(blob);
  EXPECT_EQ(Digest::sha256_of(*blob), r->layer->digest());

  // The stored layer is in overlay's format again.
  auto rec = images_->images().get(r->id);
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->config.rootfs.diff_ids.size(), 2u);
  auto top = Images::top_layer(rec->config);
  std::string diff = images_->layers().diff_path(*top);
  EXPECT_TRUE(is_whiteout(diff + "/etc/gone"));
  EXPECT_EQ(xattr(diff + "/opq", "trusted.overlay.opaque"), "y");
  EXPECT_FALSE(base::path_exists(diff + "/opq/.wh..wh..opq"));

  // Mounted on its parent, the new image shows what the container showed.
  layers::Mount& m2 = mount("c2", top);
  std::string t = m2.target();
  EXPECT_FALSE(base::path_exists(t + "/etc/gone"));
  EXPECT_EQ(*base::read_file(t + "/etc/kept"), "k\n");
  EXPECT_EQ(*base::read_file(t + "/opq/new"), "new\n");
  EXPECT_FALSE(base::path_exists(t + "/opq/old1"));
  EXPECT_FALSE(base::path_exists(t + "/opq/sub"));
  EXPECT_EQ(*base::read_file(t + "/app/lib/data"), std::string(300000, 'd'));
  struct stat a {
  }, b{}, d{}, f{}, o{};
  ASSERT_EQ(::stat((t + "/app/lib/data").c_str(), &a), 0);
  ASSERT_EQ(::stat((t + "/app/data-link").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  ASSERT_EQ(::stat((t + "/app/lib").c_str(), &d), 0);
  EXPECT_EQ(d.st_uid, 1000u);
  ASSERT_EQ(::lstat((t + "/app/fifo").c_str(), &f), 0);
  EXPECT_TRUE(S_ISFIFO(f.st_mode));
  ASSERT_EQ(::stat((t + "/opq").c_str(), &o), 0);
  EXPECT_EQ(o.st_mode & 07777, 0700u);
  char link[32] = {};
  ASSERT_GT(::readlink((t + "/app/tool").c_str(), link, sizeof(link)), 0);
  EXPECT_STREQ(link, "/bin/tool");
  EXPECT_EQ(*base::read_file(t + "/bin/tool"), "tool\n");
}

}  // namespace
}  // namespace mydocker::image::archive
