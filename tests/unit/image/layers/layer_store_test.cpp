// SPDX-License-Identifier: Apache-2.0
// LayerStore without root: the Keep whiteout format and no chown (the overlay format is
// exercised by tests/integration/image).
#include "image/layers/layer_store.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <thread>

#include "runtime/base/file.h"
#include "tests/support/busybox_rootfs.h"
#include "tests/unit/image/layers/tar_builder.h"

namespace mydocker::image::layers {
namespace {

using namespace testing;  // NOLINT: the tar builder vocabulary
using mydocker::testing::list_dir;
using mydocker::testing::TempDir;

ino_t inode(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_ino;
}

// Fails the test if read: proves the fast path never touches the stream.
class UnreadableSource final : public ByteSource {
 public:
  base::Result<size_t> read(std::span<std::byte>) override {
    ADD_FAILURE() << "the layer stream was read";
    return base::make_error(base::ErrorCode::Internal, "unreadable");
  }
};

std::string truncated(std::string s) {
  s.resize(s.size() / 2);
  return s;
}

class LayerStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = open(); }
  std::unique_ptr<LayerStore> open() {
    LayerStore::Options o;
    o.whiteouts = WhiteoutFormat::Keep;
    o.preserve_owners = false;
    o.sync = false;
    auto s = LayerStore::open(root(), o);
    EXPECT_TRUE(s) << s.error().to_string();
    return s ? std::move(*s) : nullptr;
  }
  std::string root() const { return tmp_.path() + "/layers"; }
  // Layer directories (64-hex names) currently in the store root.
  std::set<std::string> layer_dirs() const {
    std::set<std::string> out = list_dir(root());
    out.erase("l");
    out.erase("tmp");
    out.erase("format");
    return out;
  }
  RegisterResult add(const std::optional<ChainId>& parent, const std::string& blob) {
    MemorySource src(blob);
    auto r = store_->register_layer(parent, src);
    EXPECT_TRUE(r) << r.error().to_string();
    return r ? *r : RegisterResult{};
  }

  TempDir tmp_;
  std::unique_ptr<LayerStore> store_;
  const std::string base_tar_ =
      make_tar({dir("etc/"), file("etc/os-release", "ID=test\n"),
                file("bin/sh", std::string(1000, 's'), 0755), hardlink("bin/ash", "bin/sh")});
  const std::string top_tar_ = make_tar({file("app", "hello"), file("etc/.wh.os-release", "")});
};

TEST_F(LayerStoreTest, RegisterComputesChainIdsAndUnpacks) {
  RegisterResult base = add(std::nullopt, compress(base_tar_, Compression::Gzip));
  EXPECT_TRUE(base.created);
  EXPECT_EQ(base.diff_id.str(), Digest::sha256_of(base_tar_).str());
  EXPECT_EQ(base.chain_id.str(), base.diff_id.str());  // a base layer's chain ID is its DiffID
  ASSERT_TRUE(base.unpacked);
  EXPECT_EQ(base.unpacked->compression, Compression::Gzip);
  RegisterResult top = add(base.chain_id, compress(top_tar_, Compression::Zstd));
  EXPECT_EQ(top.chain_id, chain_id(base.chain_id, DiffId(Digest::sha256_of(top_tar_))));

  auto info = store_->get(top.chain_id);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->parent, base.chain_id);
  EXPECT_EQ(info->refcount, 1u);
  EXPECT_EQ(info->size, 5u + 0u);
  EXPECT_EQ(store_->get(base.chain_id)->size, 8u + 1000u);  // the hard link counted once
  EXPECT_EQ(store_->get(base.chain_id)->children, 1u);
  EXPECT_EQ(*base::read_file(store_->diff_path(top.chain_id) + "/app"), "hello");
  EXPECT_TRUE(base::path_exists(store_->diff_path(top.chain_id) + "/etc/.wh.os-release"));
  EXPECT_EQ(inode(store_->link_path(*info) + "/app"),
            inode(store_->diff_path(top.chain_id) + "/app"));
  auto lineage = store_->lineage(top.chain_id);
  ASSERT_TRUE(lineage);
  ASSERT_EQ(lineage->size(), 2u);
  EXPECT_EQ((*lineage)[0].chain_id, top.chain_id);
  EXPECT_EQ((*lineage)[1].chain_id, base.chain_id);
}

TEST_F(LayerStoreTest, SameLayerTwiceIsStoredOnceAndCounted) {
  RegisterResult a = add(std::nullopt, base_tar_);
  ino_t ino = inode(store_->diff_path(a.chain_id) + "/etc/os-release");
  // The same tar, compressed differently: same DiffID, same layer.
  RegisterResult b = add(std::nullopt, compress(base_tar_, Compression::Gzip));
  EXPECT_FALSE(b.created);
  EXPECT_EQ(a.chain_id, b.chain_id);
  EXPECT_EQ(inode(store_->diff_path(a.chain_id) + "/etc/os-release"), ino);
  EXPECT_EQ(store_->get(a.chain_id)->refcount, 2u);
  EXPECT_EQ(layer_dirs().size(), 1u);
  EXPECT_TRUE(list_dir(root() + "/tmp").empty());
}

TEST_F(LayerStoreTest, KnownDiffIdSkipsTheStream) {
  RegisterResult a = add(std::nullopt, base_tar_);
  UnreadableSource never;
  auto r = store_->register_with_diff_id(std::nullopt, a.diff_id, never);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_FALSE(r->created);
  EXPECT_FALSE(r->unpacked);
  EXPECT_EQ(r->chain_id, a.chain_id);
  EXPECT_EQ(store_->get(a.chain_id)->refcount, 2u);
}

TEST_F(LayerStoreTest, DiffIdMismatchKeepsNothing) {
  MemorySource src(base_tar_);
  DiffId wrong(Digest::sha256_of("something else"));
  auto r = store_->register_with_diff_id(std::nullopt, wrong, src);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), base::ErrorCode::InvalidArgument);
  EXPECT_NE(r.error().message().find("layer diff id mismatch: expected " + wrong.str()),
            std::string::npos)
      << r.error().message();
  EXPECT_TRUE(layer_dirs().empty());
  EXPECT_TRUE(list_dir(root() + "/tmp").empty());
}

TEST_F(LayerStoreTest, RefusedLayerLeavesNoPartialLayer) {
  for (const std::string& blob :
       {make_tar({file("ok", "fine"), file("../../escape", "x")}),
        make_tar({file("ok", "fine"), hardlink("h", "/etc/passwd")}),
        truncated(compress(make_tar({file("big", std::string(300000, 'b'))}), Compression::Zstd)),
        truncated(compress(make_tar({file("big", std::string(300000, 'b'))}), Compression::Gzip)),
        truncated(make_tar({file("ok", "fine"), file("big", std::string(300000, 'b'))})),
        make_tar({file("ok", "fine"), symlink("evil", "/"), file("evil/../../x", "x")}),
        std::string("garbage, not a tar at all")}) {
    MemorySource src(blob);
    auto r = store_->register_layer(std::nullopt, src);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), base::ErrorCode::InvalidArgument) << r.error().to_string();
    EXPECT_TRUE(layer_dirs().empty());
    EXPECT_TRUE(list_dir(root() + "/tmp").empty());
    EXPECT_TRUE(list_dir(root() + "/l").empty());
  }
  EXPECT_EQ(list_dir(tmp_.path()), std::set<std::string>{"layers"});
}

TEST_F(LayerStoreTest, MissingParentIsNotFound) {
  MemorySource src(top_tar_);
  auto r = store_->register_layer(ChainId(Digest::sha256_of("nope")), src);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), base::ErrorCode::NotFound);
}

TEST_F(LayerStoreTest, ReleaseDeletesOnlyUnusedLayersWithoutChildren) {
  RegisterResult base = add(std::nullopt, base_tar_);
  RegisterResult top = add(base.chain_id, top_tar_);
  // The image pattern: keep the top, drop the intermediate reference.
  auto gone = store_->release(base.chain_id);
  ASSERT_TRUE(gone);
  EXPECT_TRUE(gone->empty());  // still the parent of `top`
  EXPECT_TRUE(store_->exists(base.chain_id));
  EXPECT_EQ(store_->release(base.chain_id).error().code(), base::ErrorCode::FailedPrecondition);

  ASSERT_TRUE(store_->retain(top.chain_id));
  gone = store_->release(top.chain_id);
  ASSERT_TRUE(gone);
  EXPECT_TRUE(gone->empty());  // one reference left
  gone = store_->release(top.chain_id);
  ASSERT_TRUE(gone);
  EXPECT_EQ(*gone, (std::vector<ChainId>{top.chain_id, base.chain_id}));
  EXPECT_TRUE(layer_dirs().empty());
  EXPECT_TRUE(list_dir(root() + "/l").empty());
  EXPECT_TRUE(list_dir(root() + "/tmp").empty());
  EXPECT_EQ(store_->release(top.chain_id).error().code(), base::ErrorCode::NotFound);
  EXPECT_EQ(store_->retain(top.chain_id).error().code(), base::ErrorCode::NotFound);
}

TEST_F(LayerStoreTest, StateSurvivesReopen) {
  RegisterResult base = add(std::nullopt, base_tar_);
  RegisterResult top = add(base.chain_id, top_tar_);
  ASSERT_TRUE(store_->release(base.chain_id));
  ASSERT_TRUE(store_->retain(top.chain_id));
  store_ = open();
  ASSERT_TRUE(store_);
  EXPECT_EQ(store_->get(base.chain_id)->refcount, 0u);
  EXPECT_EQ(store_->get(base.chain_id)->children, 1u);  // recomputed, not stored
  EXPECT_EQ(store_->get(top.chain_id)->refcount, 2u);
  EXPECT_EQ(store_->list().size(), 2u);
}

TEST_F(LayerStoreTest, CleanupRemovesLeftoversOfACrash) {
  RegisterResult base = add(std::nullopt, base_tar_);
  // What a kill -9 leaves: a half-unpacked temp dir, a layer dir that never got its
  // layer.json (not produced by us, but possible by hand), a dangling short link, and a
  // layer whose last release was persisted but not yet deleted.
  ASSERT_TRUE(base::mkdir_all(root() + "/tmp/layer-AbCdEf/diff/usr/bin"));
  ASSERT_TRUE(base::write_file_atomic(root() + "/tmp/layer-AbCdEf/diff/usr/bin/half", "x"));
  std::string stray = std::string(Digest::sha256_of("stray").hex());
  ASSERT_TRUE(base::mkdir_all(root() + "/" + stray + "/diff"));
  ASSERT_EQ(::symlink("../nowhere/diff", (root() + "/l/deadbeef0000").c_str()), 0);
  RegisterResult orphan = add(std::nullopt, top_tar_);
  auto info = *store_->get(orphan.chain_id);
  info.refcount = 0;
  std::string meta = root() + "/" + std::string(orphan.chain_id.hex()) + "/layer.json";
  std::string text = *base::read_file(meta);
  text.replace(text.find("\"refcount\": 1"), 13, "\"refcount\": 0");
  ASSERT_TRUE(base::write_file_atomic(meta, text));

  store_ = open();
  ASSERT_TRUE(store_);
  EXPECT_TRUE(list_dir(root() + "/tmp").empty());
  EXPECT_EQ(layer_dirs(), std::set<std::string>{std::string(base.chain_id.hex())});
  EXPECT_EQ(list_dir(root() + "/l"), std::set<std::string>{store_->get(base.chain_id)->link});
}

TEST_F(LayerStoreTest, ConcurrentRegistrationsOfOneLayerKeepOneCopy) {
  std::string blob = compress(base_tar_, Compression::Gzip);
  std::vector<base::Result<RegisterResult>> results(
      4, base::make_error(base::ErrorCode::Internal, "not run"));
  std::vector<std::thread> threads;
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] {
      MemorySource src(blob);
      results[i] = store_->register_layer(std::nullopt, src);
    });
  }
  for (std::thread& t : threads) {
    t.join();
  }
  int created = 0;
  for (const auto& r : results) {
    ASSERT_TRUE(r) << r.error().to_string();
    created += r->created ? 1 : 0;
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(store_->get(results[0]->chain_id)->refcount, 4u);
  EXPECT_EQ(layer_dirs().size(), 1u);
  EXPECT_TRUE(list_dir(root() + "/tmp").empty());
}

TEST_F(LayerStoreTest, WhiteoutFormatIsFixedPerRoot) {
  LayerStore::Options o;
  o.whiteouts = WhiteoutFormat::Overlay;
  auto s = LayerStore::open(root(), o);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), base::ErrorCode::FailedPrecondition);
  o.whiteouts = WhiteoutFormat::Apply;
  s = LayerStore::open(tmp_.path() + "/other", o);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), base::ErrorCode::InvalidArgument);
}

TEST_F(LayerStoreTest, KillDuringUnpackLeavesOnlyATempDir) {
  std::string blob = make_tar(
      {file("first", std::string(1 << 20, 'a')), file("second", std::string(1 << 20, 'b'))});
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[1]);
    FdSource src(fds[0]);
    auto r = store_->register_layer(std::nullopt, src);
    ::_exit(r ? 0 : 1);
  }
  ::close(fds[0]);
  // Half the stream, then wait until the child has started writing the layer.
  size_t half = blob.size() / 2;
  ASSERT_TRUE(base::write_all(fds[1], std::string_view(blob).substr(0, half)));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  bool started = false;
  while (!started && std::chrono::steady_clock::now() < deadline) {
    for (const std::string& t : list_dir(root() + "/tmp")) {
      started = started || base::path_exists(root() + "/tmp/" + t + "/diff/first");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ::close(fds[1]);
  ASSERT_TRUE(started);
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_FALSE(list_dir(root() + "/tmp").empty());
  EXPECT_TRUE(layer_dirs().empty());

  store_ = open();
  ASSERT_TRUE(store_);
  EXPECT_TRUE(list_dir(root() + "/tmp").empty());
  EXPECT_TRUE(store_->list().empty());
}

}  // namespace
}  // namespace mydocker::image::layers
