// SPDX-License-Identifier: Apache-2.0
// Root tests of image/archive on the real layer store (overlay whiteouts, owners kept):
// busybox import, save -> load, and interchange with skopeo through local files only
// (docker-archive:, oci:, oci-archive:, dir: transports; never a registry).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "image/archive/images.h"
#include "image/layers/snapshotter.h"
#include "runtime/base/fd.h"
#include "runtime/base/file.h"
#include "tests/support/busybox_rootfs.h"
#include "tests/support/require.h"

namespace mydocker::image {
namespace {

using mydocker::testing::Need;

struct CmdResult {
  int status = -1;
  std::string output;
};

// Runs a shell command line (fixed strings built by the test; paths are our temp dirs).
CmdResult run(const std::string& cmd) {
  CmdResult r;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) {
    return r;
  }
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) {
    r.output.append(buf.data(), n);
  }
  int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

class RootArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MYDOCKER_REQUIRE(Need::Root);
    images_ = open("a");
    ASSERT_TRUE(images_);
  }

  std::unique_ptr<Images> open(const std::string& name) {
    ImagesOptions o;
    o.layers.sync = false;
    auto r = Images::open(tmp_.path() + "/" + name, o);
    EXPECT_TRUE(r) << r.error().to_string();
    return r ? std::move(*r) : nullptr;
  }

  std::string path(const std::string& name) const { return tmp_.path() + "/" + name; }

  // Writes `fn`'s tar output to a file.
  void to_file(const std::string& file,
               const std::function<base::Result<void>(const archive::Sink&)>& fn) {
    auto fd = base::Fd::open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_TRUE(fd);
    auto r = fn(archive::fd_sink(fd->get()));
    ASSERT_TRUE(r) << r.error().to_string();
  }

  base::Result<LoadResult> load_file(Images& images, const std::string& file) {
    auto src = MYDOCKER_TRY(layers::FileSource::open(file));
    return images.load(src);
  }

  ImageId import_busybox() {
    std::string tar = path("rootfs.tar");
    to_file(tar, [&](const archive::Sink& s) {
      return images_->export_rootfs(mydocker::testing::busybox_rootfs(), s);
    });
    auto src = layers::FileSource::open(tar);
    EXPECT_TRUE(src);
    ImportOptions o;
    o.reference = "busybox:latest";
    o.changes = {"CMD [\"sh\"]"};
    auto id = images_->import_image(*src, o);
    EXPECT_TRUE(id) << id.error().to_string();
    return id ? *id : ImageId();
  }

  // The image's merged rootfs has an executable bin/busybox (looked up through the layers).
  static void expect_busybox(Images& images, const ImageId& id) {
    auto rec = images.images().get(id);
    ASSERT_TRUE(rec) << rec.error().to_string();
    auto top = Images::top_layer(rec->config);
    ASSERT_TRUE(top);
    auto lineage = images.layers().lineage(*top);
    ASSERT_TRUE(lineage);
    bool found = false;
    for (const auto& l : *lineage) {
      struct stat st {};
      std::string p = images.layers().diff_path(l.chain_id) + "/bin/busybox";
      if (::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111) != 0) {
        found = true;
        EXPECT_GT(st.st_size, 100000);
      }
    }
    EXPECT_TRUE(found) << "bin/busybox in image " << id.str();
  }

  mydocker::testing::TempDir tmp_;
  std::unique_ptr<Images> images_;
};

TEST_F(RootArchiveTest, ImportBusyboxThenSaveLoadGivesTheSameImage) {
  ImageId id = import_busybox();
  expect_busybox(*images_, id);
  auto j = images_->images().inspect("busybox");
  ASSERT_TRUE(j);
  EXPECT_EQ((*j)["Config"]["Cmd"], nlohmann::json::array({"sh"}));

  to_file(path("saved.tar"), [&](const archive::Sink& s) { return images_->save({"busybox"}, s); });
  auto other = open("b");
  ASSERT_TRUE(other);
  auto r = load_file(*other, path("saved.tar"));
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(r->images.size(), 1u);
  EXPECT_EQ(r->images[0].id, id);
  EXPECT_EQ(r->lines, std::vector<std::string>{"Loaded image: busybox:latest"});
  expect_busybox(*other, id);
  // Two images sharing the base share its layer directory: load into the first store too.
  auto again = load_file(*images_, path("saved.tar"));
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(images_->layers().list().size(), 1u);
}

TEST_F(RootArchiveTest, ExportTurnsOverlayWhiteoutsIntoOciOnes) {
  std::string dir = path("upper");
  ASSERT_TRUE(base::mkdir_all(dir + "/opq"));
  ASSERT_TRUE(base::write_file_atomic(dir + "/opq/new", "n"));
  ASSERT_EQ(::mknod((dir + "/gone").c_str(), S_IFCHR | 0, makedev(0, 0)), 0);
  ASSERT_EQ(::setxattr((dir + "/opq").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);
  std::string out;
  archive::Sink sink = [&](std::string_view d) {
    out.append(d);
    return base::ok();
  };
  archive::ExportOptions o;
  o.overlay_whiteouts = true;
  ASSERT_TRUE(images_->export_rootfs(dir, sink, o));
  layers::MemorySource src(out);
  auto reader = archive::TarReader::open(src);
  ASSERT_TRUE(reader);
  std::vector<std::string> names;
  for (;;) {
    auto h = reader->next();
    ASSERT_TRUE(h) << h.error().to_string();
    if (!*h) {
      break;
    }
    names.push_back((*h)->name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{".wh.gone", "opq/", "opq/.wh..wh..opq", "opq/new"}));
}

TEST_F(RootArchiveTest, RecoveryCountsContainerSnapshotsAsReferences) {
  ImageId id = import_busybox();
  auto top = *Images::top_layer(images_->images().get(id)->config);
  std::string snaps = path("rw-overlay");
  {
    auto overlay = layers::OverlayStore::open(images_->layers(), snaps);
    ASSERT_TRUE(overlay) << overlay.error().to_string();
    ASSERT_TRUE((*overlay)->prepare("c1", top));
  }
  EXPECT_EQ(images_->layers().get(top)->refcount, 2u);
  images_.reset();
  ImagesOptions o;
  o.layers.sync = false;
  o.snapshot_roots = {snaps};
  auto reopened = Images::open(path("a"), o);
  ASSERT_TRUE(reopened) << reopened.error().to_string();
  EXPECT_EQ((*reopened)->layers().get(top)->refcount, 2u);
  // Removing the image keeps the layer for the container.
  ASSERT_TRUE((*reopened)->remove("busybox", /*force=*/true));
  EXPECT_TRUE((*reopened)->layers().exists(top));
  auto overlay = layers::OverlayStore::open((*reopened)->layers(), snaps);
  ASSERT_TRUE(overlay);
  ASSERT_TRUE((*overlay)->remove("c1"));
  EXPECT_FALSE((*reopened)->layers().exists(top));
}

class RootSkopeoTest : public RootArchiveTest {
 protected:
  void SetUp() override {
    MYDOCKER_REQUIRE(Need::Root, Need::Skopeo);
    RootArchiveTest::SetUp();
  }
  // --insecure-policy: no /etc/containers/policy.json is needed for local transports.
  CmdResult skopeo(const std::string& args) { return run("skopeo --insecure-policy " + args); }
};

TEST_F(RootSkopeoTest, SkopeoReadsWhatWeSave) {
  ImageId id = import_busybox();
  std::string saved = path("ours.tar");
  to_file(saved, [&](const archive::Sink& s) { return images_->save({"busybox:latest"}, s); });

  CmdResult inspect = skopeo("inspect --raw docker-archive:" + saved);
  ASSERT_EQ(inspect.status, 0) << inspect.output;
  CmdResult cfg = skopeo("inspect --config docker-archive:" + saved);
  ASSERT_EQ(cfg.status, 0) << cfg.output;
  auto j = nlohmann::json::parse(cfg.output, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << cfg.output;
  EXPECT_EQ(j["config"]["Cmd"], nlohmann::json::array({"sh"}));

  CmdResult copy = skopeo("copy docker-archive:" + saved + " oci:" + path("oci") + ":latest");
  ASSERT_EQ(copy.status, 0) << copy.output;
  EXPECT_TRUE(base::path_exists(path("oci") + "/index.json"));
  // Our save is also an OCI layout: skopeo reads it as one once unpacked.
  ASSERT_TRUE(base::mkdir_all(path("unpacked")));
  CmdResult untar = run("tar -C " + path("unpacked") + " -xf " + saved);
  ASSERT_EQ(untar.status, 0) << untar.output;
  CmdResult oci = skopeo("inspect --config oci:" + path("unpacked") + ":latest");
  ASSERT_EQ(oci.status, 0) << oci.output;
  (void)id;
}

TEST_F(RootSkopeoTest, LoadsWhatSkopeoWrites) {
  ImageId id = import_busybox();
  std::string saved = path("ours.tar");
  to_file(saved, [&](const archive::Sink& s) { return images_->save({"busybox:latest"}, s); });
  // Local fixtures only: our archive -> skopeo dir: -> docker-archive / oci / oci-archive.
  CmdResult to_dir = skopeo("copy docker-archive:" + saved + " dir:" + path("dir"));
  ASSERT_EQ(to_dir.status, 0) << to_dir.output;
  CmdResult to_da = skopeo("copy dir:" + path("dir") + " docker-archive:" + path("skopeo-da.tar") +
                           ":busybox:latest");
  ASSERT_EQ(to_da.status, 0) << to_da.output;
  CmdResult to_oci = skopeo("copy dir:" + path("dir") + " oci:" + path("oci") + ":latest");
  ASSERT_EQ(to_oci.status, 0) << to_oci.output;
  CmdResult to_ocia = skopeo("copy oci:" + path("oci") +
                             ":latest oci-archive:" + path("skopeo-oci.tar") + ":busybox:latest");
  ASSERT_EQ(to_ocia.status, 0) << to_ocia.output;

  {
    auto fresh = open("from-docker-archive");
    ASSERT_TRUE(fresh);
    auto r = load_file(*fresh, path("skopeo-da.tar"));
    ASSERT_TRUE(r) << r.error().to_string();
    ASSERT_EQ(r->images.size(), 1u);
    EXPECT_EQ(r->images[0].tags, std::vector<std::string>{"busybox:latest"});
    // skopeo keeps the config bytes, so the image ID survives the trip.
    EXPECT_EQ(r->images[0].id, id);
    expect_busybox(*fresh, r->images[0].id);
  }
  {
    auto fresh = open("from-oci-archive");
    ASSERT_TRUE(fresh);
    auto r = load_file(*fresh, path("skopeo-oci.tar"));
    ASSERT_TRUE(r) << r.error().to_string();
    ASSERT_EQ(r->images.size(), 1u);
    expect_busybox(*fresh, r->images[0].id);
  }
}

}  // namespace
}  // namespace mydocker::image
