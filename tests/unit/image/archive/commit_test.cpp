// SPDX-License-Identifier: Apache-2.0
// Commit without root: the layer store in Keep mode, whiteouts as `.wh.` files (a Keep-format
// tree); the overlay forms (0/0 devices, opaque xattrs) are covered by the root test.
#include "image/archive/commit.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <set>
#include <string>
#include <vector>

#include "image/archive/images.h"
#include "image/archive/tar_io.h"
#include "image/content/manifest.h"
#include "runtime/base/file.h"
#include "tests/support/busybox_rootfs.h"
#include "tests/unit/image/layers/tar_builder.h"

namespace mydocker::image::archive {
namespace {

namespace tb = layers::testing;
using layers::MemorySource;

using mydocker::testing::list_dir;

void put(const std::string& path, const std::string& data, mode_t mode = 0644) {
  ASSERT_TRUE(base::write_file(path, data, O_CREAT));
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
}

void mkdir_p(const std::string& path, mode_t mode = 0755) {
  ASSERT_TRUE(base::mkdir_all(path, mode));
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
}

struct SeenEntry {
  std::string name;
  TarEntryHeader::Type type;
  std::string link;
  std::string data;
  bool operator==(const SeenEntry&) const = default;
};

std::ostream& operator<<(std::ostream& os, const SeenEntry& e) {
  return os << e.name << " type=" << static_cast<int>(e.type) << " link=" << e.link
            << " data=" << e.data.substr(0, 32) << (e.data.size() > 32 ? "..." : "");
}

std::vector<SeenEntry> read_tar(const std::string& tar) {
  std::vector<SeenEntry> out;
  MemorySource src(tar);
  auto r = TarReader::open(src);
  EXPECT_TRUE(r) << r.error().to_string();
  if (!r) {
    return out;
  }
  for (;;) {
    auto h = r->next();
    EXPECT_TRUE(h) << h.error().to_string();
    if (!h || !*h) {
      break;
    }
    SeenEntry e{(*h)->name, (*h)->type, (*h)->link, ""};
    char buf[4096];
    for (;;) {
      auto n = r->read(std::span<std::byte>(reinterpret_cast<std::byte*>(buf), sizeof(buf)));
      EXPECT_TRUE(n);
      if (!n || *n == 0) {
        break;
      }
      e.data.append(buf, *n);
    }
    out.push_back(std::move(e));
  }
  return out;
}

class CommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ImagesOptions o;
    o.layers.whiteouts = layers::WhiteoutFormat::Keep;
    o.layers.preserve_owners = false;
    o.layers.sync = false;
    o.architecture = "amd64";
    auto r = Images::open(root(), o);
    ASSERT_TRUE(r) << r.error().to_string();
    images_ = std::move(*r);
    changes_ = tmp_.path() + "/changes";
    ASSERT_TRUE(base::mkdir_all(changes_));
  }

  std::string root() const { return tmp_.path() + "/root"; }
  std::set<std::string> blobs() const { return list_dir(root() + "/content/blobs/sha256"); }
  std::set<std::string> layer_dirs() const {
    std::set<std::string> out;
    for (const std::string& n : list_dir(root() + "/layers")) {
      if (n.size() == 64) {
        out.insert(n);
      }
    }
    return out;
  }

  ImageId import_base() {
    std::string tar = tb::make_tar({tb::dir("bin"), tb::file("bin/tool", "tool\n", 0755),
                                    tb::dir("etc"), tb::file("etc/gone", "x\n")});
    MemorySource src(tar);
    ImportOptions o;
    o.reference = "commit-base:latest";
    o.changes = {"CMD [\"/bin/tool\"]"};
    auto id = images_->import_image(src, o);
    EXPECT_TRUE(id) << id.error().to_string();
    return *id;
  }

  CommitRequest request_on(const std::optional<ImageId>& parent, const std::string& created_by) {
    CommitRequest req;
    req.parent = parent;
    if (parent) {
      auto rec = images_->images().get(*parent);
      EXPECT_TRUE(rec);
      req.config = rec->config;
    } else {
      req.config.os = "linux";
      req.config.architecture = "amd64";
    }
    req.config.created = "2026-11-30T08:00:00.000000001Z";
    content::HistoryEntry h;
    h.created = req.config.created;
    h.created_by = created_by;
    req.config.history.push_back(h);
    req.changes_dir = changes_;
    return req;
  }

  // A tree with every kind of entry a RUN or COPY leaves.
  void make_changes() {
    mkdir_p(changes_ + "/app", 0750);
    put(changes_ + "/app/main.sh", "#!/bin/sh\necho hi\n", 0755);
    ASSERT_EQ(::link((changes_ + "/app/main.sh").c_str(), (changes_ + "/app/same.sh").c_str()), 0);
    ASSERT_EQ(::symlink("main.sh", (changes_ + "/app/run").c_str()), 0);
    put(changes_ + "/app-data", std::string(100000, 'z'));
    mkdir_p(changes_ + "/etc");
    put(changes_ + "/etc/.wh.gone", "");
    mkdir_p(changes_ + "/empty");
    ASSERT_EQ(::setxattr((changes_ + "/app-data").c_str(), "user.note", "v", 1, 0), 0);
  }

  testing::TempDir tmp_;
  std::unique_ptr<Images> images_;
  std::string changes_;
};

TEST_F(CommitTest, ChangesTarIsOrderedDepthFirstAndDeterministic) {
  make_changes();
  // Mount points the runtime made: excluded, and /run (only holding one) dropped with them.
  mkdir_p(changes_ + "/proc");
  mkdir_p(changes_ + "/run/secrets");
  put(changes_ + "/run/secrets/x", "s");
  put(changes_ + "/etc/hosts", "127.0.0.1 localhost\n");
  std::set<std::string> exclude = {"/proc", "/run/secrets", "/etc/hosts"};

  auto write = [&] {
    std::string out;
    auto r = write_changes_tar(changes_, exclude, [&](std::string_view d) {
      out.append(d);
      return base::ok();
    });
    EXPECT_TRUE(r) << r.error().to_string();
    return out;
  };
  std::string tar = write();
  using T = TarEntryHeader::Type;
  std::vector<SeenEntry> want = {
      {"app/", T::Dir, "", ""},
      {"app/main.sh", T::File, "", "#!/bin/sh\necho hi\n"},
      {"app/run", T::Symlink, "main.sh", ""},
      {"app/same.sh", T::Hardlink, "app/main.sh", ""},
      {"app-data", T::File, "", std::string(100000, 'z')},
      {"empty/", T::Dir, "", ""},
      {"etc/", T::Dir, "", ""},
      {"etc/.wh.gone", T::File, "", ""},
  };
  EXPECT_EQ(read_tar(tar), want);
  // Same changes, same bytes (also after the times of the tree's reads changed).
  EXPECT_EQ(write(), tar);
}

TEST_F(CommitTest, CommitAddsOneLayerOnTheParent) {
  ImageId base = import_base();
  auto parent = images_->images().get(base);
  ASSERT_TRUE(parent);
  make_changes();
  CommitRequest req = request_on(base, "/bin/sh -c make");
  req.tags = {*reference::Reference::parse("committed:v1")};
  auto r = commit(*images_, req);
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_TRUE(r->layer);

  // The blob is the layer tar and its digest the DiffID.
  std::string blob_path = images_->content().blob_path(r->layer->digest());
  auto blob = base::read_file(blob_path);
  ASSERT_TRUE(blob);
  EXPECT_EQ(Digest::sha256_of(*blob), r->layer->digest());
  EXPECT_EQ(r->layer_size, 18 + 100000);  // main.sh once (hard link), app-data

  auto rec = images_->images().get(r->id);
  ASSERT_TRUE(rec);
  std::vector<DiffId> want = parent->config.rootfs.diff_ids;
  want.push_back(*r->layer);
  EXPECT_EQ(rec->config.rootfs.diff_ids, want);
  EXPECT_EQ(rec->parent, base.str());
  ASSERT_EQ(rec->config.history.size(), parent->config.history.size() + 1);
  EXPECT_EQ(rec->config.history.front(), parent->config.history.front());
  EXPECT_EQ(rec->config.history.back().created_by, "/bin/sh -c make");
  EXPECT_FALSE(rec->config.history.back().empty_layer);
  EXPECT_EQ(rec->config.config, parent->config.config);
  EXPECT_EQ(rec->repo_tags(), std::vector<std::string>{"committed:v1"});
  EXPECT_EQ(rec->size, parent->size + r->layer_size);

  // The manifest names the parent's blob and the new one (Docker schema2).
  ASSERT_EQ(rec->manifests.size(), 1u);
  auto m = content::Manifest::parse(*images_->content().read(rec->manifests[0]));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->media_type, content::media_type::kDockerManifest);
  EXPECT_EQ(m->config.digest, r->id.digest());
  ASSERT_EQ(m->layers.size(), 2u);
  EXPECT_EQ(m->layers[1].media_type, content::media_type::kDockerLayer);
  EXPECT_EQ(m->layers[1].digest, r->layer->digest());
  EXPECT_EQ(m->layers[1].size, static_cast<int64_t>(blob->size()));
  auto pm = content::Manifest::parse(*images_->content().read(parent->manifests[0]));
  ASSERT_TRUE(pm);
  EXPECT_EQ(m->layers[0], pm->layers[0]);

  // The layer store holds the same tree.
  auto top = Images::top_layer(rec->config);
  ASSERT_TRUE(top);
  auto info = images_->layers().get(*top);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->refcount, 1u);
  ASSERT_TRUE(info->parent);
  EXPECT_EQ(*info->parent, *Images::top_layer(parent->config));
  std::string diff = images_->layers().diff_path(*top);
  EXPECT_EQ(*base::read_file(diff + "/app/main.sh"), "#!/bin/sh\necho hi\n");
  EXPECT_EQ(*base::read_file(diff + "/app-data"), std::string(100000, 'z'));
  struct stat a {
  }, b{}, d{};
  ASSERT_EQ(::stat((diff + "/app/main.sh").c_str(), &a), 0);
  ASSERT_EQ(::stat((diff + "/app/same.sh").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(a.st_mode & 07777, 0755u);
  ASSERT_EQ(::stat((diff + "/app").c_str(), &d), 0);
  EXPECT_EQ(d.st_mode & 07777, 0750u);
  char target[64] = {};
  ASSERT_GT(::readlink((diff + "/app/run").c_str(), target, sizeof(target)), 0);
  EXPECT_STREQ(target, "main.sh");
  char note[8] = {};
  EXPECT_EQ(::getxattr((diff + "/app-data").c_str(), "user.note", note, sizeof(note)), 1);
  EXPECT_TRUE(base::path_exists(diff + "/etc/.wh.gone"));  // Keep format
  EXPECT_TRUE(base::path_exists(diff + "/empty"));
}

TEST_F(CommitTest, SaveLoadKeepsTheCommittedImageId) {
  ImageId base = import_base();
  make_changes();
  CommitRequest req = request_on(base, "/bin/sh -c make");
  req.tags = {*reference::Reference::parse("committed:v1")};
  auto r = commit(*images_, req);
  ASSERT_TRUE(r) << r.error().to_string();

  std::string saved;
  auto s = images_->save({"committed:v1"}, [&](std::string_view d) {
    saved.append(d);
    return base::ok();
  });
  ASSERT_TRUE(s) << s.error().to_string();

  testing::TempDir other;
  ImagesOptions o;
  o.layers.whiteouts = layers::WhiteoutFormat::Keep;
  o.layers.preserve_owners = false;
  o.layers.sync = false;
  auto second = Images::open(other.path() + "/root", o);
  ASSERT_TRUE(second);
  MemorySource src(saved);
  auto loaded = (*second)->load(src);
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  ASSERT_EQ(loaded->images.size(), 1u);
  EXPECT_EQ(loaded->images[0].id, r->id);
  auto rec = (*second)->images().get(r->id);
  ASSERT_TRUE(rec);
  EXPECT_EQ(*base::read_file((*second)->layers().diff_path(*Images::top_layer(rec->config)) +
                             "/app/main.sh"),
            "#!/bin/sh\necho hi\n");
}

TEST_F(CommitTest, CommitFromScratch) {
  make_changes();
  auto r = commit(*images_, request_on(std::nullopt, "COPY . /"));
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_TRUE(r->layer);
  auto rec = images_->images().get(r->id);
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->config.rootfs.diff_ids, std::vector<DiffId>{*r->layer});
  EXPECT_EQ(rec->parent, "");
  // Removing it leaves nothing.
  auto gone = images_->remove(r->id.str());
  ASSERT_TRUE(gone) << gone.error().to_string();
  EXPECT_EQ(blobs(), std::set<std::string>{});
  EXPECT_EQ(layer_dirs(), std::set<std::string>{});
}

TEST_F(CommitTest, MetadataOnlyCommitAddsNoLayer) {
  ImageId base = import_base();
  auto parent = images_->images().get(base);
  ASSERT_TRUE(parent);
  ChainId top = *Images::top_layer(parent->config);
  std::set<std::string> layers_before = layer_dirs();

  // Empty, and holding only excluded mount points (with their copied-up parent).
  mkdir_p(changes_ + "/etc");
  put(changes_ + "/etc/hosts", "x");
  for (std::string dir : {std::string(), changes_}) {
    CommitRequest req = request_on(base, "/bin/sh -c #(nop)  ENV A=b");
    req.config.config->env.push_back("A=b");
    req.changes_dir = dir;
    req.exclude = {"/etc/hosts"};
    auto r = commit(*images_, req);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_FALSE(r->layer);
    auto rec = images_->images().get(r->id);
    ASSERT_TRUE(rec);
    EXPECT_EQ(rec->config.rootfs.diff_ids, parent->config.rootfs.diff_ids);
    EXPECT_TRUE(rec->config.history.back().empty_layer);
    EXPECT_EQ(rec->parent, base.str());
    EXPECT_EQ(layer_dirs(), layers_before);
    // The new image holds its own reference on the top layer.
    auto del = images_->remove(r->id.str());
    ASSERT_TRUE(del) << del.error().to_string();
    EXPECT_TRUE(images_->layers().exists(top));
  }
  EXPECT_EQ(images_->layers().get(top)->refcount, 1u);
  auto del = images_->remove(base.str());
  ASSERT_TRUE(del) << del.error().to_string();
  EXPECT_EQ(layer_dirs(), std::set<std::string>{});
}

TEST_F(CommitTest, FailedCommitLeavesNothing) {
  ImageId base = import_base();
  make_changes();
  std::set<std::string> blobs_before = blobs();
  std::set<std::string> layers_before = layer_dirs();

  // An unknown parent: refused before anything is written.
  CommitRequest req = request_on(base, "x");
  req.parent = ImageId(Digest::sha256_of("no such image"));
  auto r = commit(*images_, req);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), base::ErrorCode::NotFound);

  // A config the image store refuses: fails after the blob and the layer were made.
  req = request_on(base, "x");
  req.config.os.clear();
  r = commit(*images_, req);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), base::ErrorCode::InvalidArgument);

  // The layer store fails while the tar is being written: its error, not the writer's.
  std::string tmp = root() + "/layers/tmp";
  ASSERT_TRUE(base::remove_all(tmp));
  ASSERT_TRUE(base::write_file(tmp, "", O_CREAT));
  r = commit(*images_, request_on(base, "x"));
  ASSERT_TRUE(base::remove_all(tmp));
  ASSERT_TRUE(base::mkdir_all(tmp, 0700));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("temp dir"), std::string::npos) << r.error().message();

  // An overlay feature a copy of the upper dir cannot express.
  ASSERT_EQ(::setxattr((changes_ + "/app/main.sh").c_str(), "user.overlay.metacopy", "", 0, 0), 0);
  r = commit(*images_, request_on(base, "x"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), base::ErrorCode::FailedPrecondition);
  EXPECT_NE(r.error().message().find("app/main.sh"), std::string::npos) << r.error().message();

  EXPECT_EQ(blobs(), blobs_before);
  EXPECT_EQ(layer_dirs(), layers_before);
  EXPECT_EQ(list_dir(root() + "/content/ingest"), std::set<std::string>{});
  EXPECT_EQ(images_->images().images().size(), 1u);
  EXPECT_EQ(
      images_->layers().get(*Images::top_layer(images_->images().get(base)->config))->refcount, 1u);
}

}  // namespace
}  // namespace mydocker::image::archive
