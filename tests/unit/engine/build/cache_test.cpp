// SPDX-License-Identifier: Apache-2.0
#include "engine/build/cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <ctime>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "runtime/base/file.h"
#include "tests/support/busybox_rootfs.h"

namespace mydocker::engine::build {
namespace {

std::set<std::string> files(const std::string& dir) {
  std::set<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return out;
  }
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") {
      out.insert(n);
    }
  }
  ::closedir(d);
  return out;
}

const std::string kBase = "sha256:" + std::string(64, 'b');
const std::string kImg1 = "sha256:" + std::string(64, '1');
const std::string kImg2 = "sha256:" + std::string(64, '2');

class CacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = Cache::open(root());
    ASSERT_TRUE(c) << c.error().to_string();
    cache_ = std::move(*c);
  }
  std::string root() const { return tmp_.path() + "/cache"; }

  std::function<bool(const std::string&)> live() {
    return [this](const std::string& id) { return images_.count(id) != 0; };
  }

  testing::TempDir tmp_;
  std::unique_ptr<Cache> cache_;
  std::set<std::string> images_ = {kImg1, kImg2};
};

TEST_F(CacheTest, HitOnlyForTheSameParentAndKey) {
  EXPECT_EQ(cache_->lookup(kBase, "RUN echo hi", live()), std::nullopt);
  ASSERT_TRUE(cache_->record(kBase, "RUN echo hi", kImg1));
  EXPECT_EQ(cache_->lookup(kBase, "RUN echo hi", live()), kImg1);
  EXPECT_EQ(cache_->lookup(kBase, "RUN echo ho", live()), std::nullopt);
  EXPECT_EQ(cache_->lookup(kImg2, "RUN echo hi", live()), std::nullopt);
  // The separator keeps (parent, key) pairs apart even when their concatenations agree.
  ASSERT_TRUE(cache_->record("ab", "c", kImg1));
  EXPECT_EQ(cache_->lookup("a", "bc", live()), std::nullopt);
  EXPECT_EQ(cache_->lookup("ab", "c", live()), kImg1);
  // A FROM scratch step has no parent image.
  ASSERT_TRUE(cache_->record("", "COPY x /", kImg2));
  EXPECT_EQ(cache_->lookup("", "COPY x /", live()), kImg2);
}

TEST_F(CacheTest, RecordReplacesAndSurvivesReopen) {
  ASSERT_TRUE(cache_->record(kBase, "RUN make", kImg1));
  ASSERT_TRUE(cache_->record(kBase, "RUN make", kImg2));
  EXPECT_EQ(cache_->lookup(kBase, "RUN make", live()), kImg2);
  // A write interrupted by a crash leaves a temp file: open() removes it.
  ASSERT_TRUE(base::write_file(root() + "/.tmp-123-0-42", "{", O_CREAT));
  cache_.reset();
  auto c = Cache::open(root());
  ASSERT_TRUE(c);
  cache_ = std::move(*c);
  EXPECT_EQ(cache_->lookup(kBase, "RUN make", live()), kImg2);
  EXPECT_EQ(files(root()).size(), 1u);
}

TEST_F(CacheTest, EntryWhoseImageIsGoneIsAMissAndRemoved) {
  ASSERT_TRUE(cache_->record(kBase, "RUN a", kImg1));
  ASSERT_TRUE(cache_->record(kBase, "RUN b", kImg2));
  images_.erase(kImg1);
  EXPECT_EQ(cache_->lookup(kBase, "RUN a", live()), std::nullopt);
  auto left = cache_->list();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].image, kImg2);
  // Even once the image is back, the entry is gone (a build records it anew).
  images_.insert(kImg1);
  EXPECT_EQ(cache_->lookup(kBase, "RUN a", live()), std::nullopt);
}

TEST_F(CacheTest, DamagedEntryIsAMissAndRemoved) {
  ASSERT_TRUE(cache_->record(kBase, "RUN a", kImg1));
  auto entries = cache_->list();
  ASSERT_EQ(entries.size(), 1u);
  std::string path = root() + "/" + entries[0].id + ".json";
  ASSERT_TRUE(base::write_file(path, "", O_CREAT));  // what a crash may leave
  EXPECT_EQ(cache_->lookup(kBase, "RUN a", live()), std::nullopt);
  EXPECT_FALSE(base::path_exists(path));
  EXPECT_TRUE(cache_->list().empty());
}

TEST_F(CacheTest, ListAndRemoveIf) {
  ASSERT_TRUE(cache_->record(kBase, "RUN a", kImg1));
  ASSERT_TRUE(cache_->record(kBase, "RUN b", kImg2));
  ASSERT_TRUE(cache_->record(kImg1, "RUN c", kImg2));
  // Junk in the directory is not an entry.
  ASSERT_TRUE(base::write_file(root() + "/README", "x", O_CREAT));
  auto all = cache_->list();
  ASSERT_EQ(all.size(), 3u);
  for (const auto& e : all) {
    EXPECT_EQ(e.id.size(), 64u);
    EXPECT_GT(e.created, 1700000000);
  }
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end(),
                             [](const auto& a, const auto& b) { return a.id < b.id; }));

  auto removed = cache_->remove_if([](const Cache::Entry& e) { return e.image == kImg2; });
  ASSERT_TRUE(removed) << removed.error().to_string();
  ASSERT_EQ(removed->size(), 2u);
  auto left = cache_->list();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].image, kImg1);
  EXPECT_EQ(left[0].parent, kBase);
  EXPECT_EQ(cache_->lookup(kBase, "RUN b", live()), std::nullopt);
  EXPECT_EQ(cache_->lookup(kBase, "RUN a", live()), kImg1);
}

TEST_F(CacheTest, ConcurrentBuildsRecordAndLookUp) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        std::string key = "RUN step " + std::to_string(i % 10);
        (void)cache_->record(kBase, key, t % 2 == 0 ? kImg1 : kImg2);
        auto hit = cache_->lookup(kBase, key, [](const std::string&) { return true; });
        EXPECT_TRUE(hit == kImg1 || hit == kImg2 || !hit);
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  // No temp files left, at most one entry per key.
  std::set<std::string> names = files(root());
  EXPECT_LE(names.size(), 10u);
  for (const std::string& n : names) {
    EXPECT_FALSE(n.starts_with(".tmp-")) << n;
  }
}

TEST_F(CacheTest, AHitIsTheEntrysLastUse) {
  ASSERT_TRUE(cache_->record(kBase, "RUN a", kImg1));
  ASSERT_TRUE(cache_->record(kBase, "RUN b", kImg2));
  int64_t now = ::time(nullptr);
  auto entries = cache_->list();
  ASSERT_EQ(entries.size(), 2u);
  for (const auto& e : entries) {
    EXPECT_GE(e.last_used, now - 5);
    EXPECT_EQ(e.last_used, e.created);
  }
  // Both made and last used an hour ago (their files aged; the recorded creation too).
  for (const auto& e : entries) {
    std::string path = root() + "/" + e.id + ".json";
    std::string text = *base::read_file(path);
    std::string created = "\"created\":" + std::to_string(e.created);
    auto at = text.find(created);
    ASSERT_NE(at, std::string::npos) << text;
    text.replace(at, created.size(), "\"created\":" + std::to_string(now - 3600));
    ASSERT_TRUE(base::write_file(path, text, O_TRUNC));
    timespec old[2] = {{now - 3600, 0}, {now - 3600, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), old, 0), 0);
  }
  for (const auto& e : cache_->list()) {
    EXPECT_EQ(e.last_used, now - 3600);
  }
  // A hit on one: used now, still created an hour ago.
  ASSERT_EQ(cache_->lookup(kBase, "RUN b", live()), kImg2);
  EXPECT_EQ(cache_->lookup(kBase, "RUN c", live()), std::nullopt);
  for (const auto& e : cache_->list()) {
    EXPECT_EQ(e.created, now - 3600) << e.image;
    if (e.image == kImg2) {
      EXPECT_GE(e.last_used, now);
    } else {
      EXPECT_EQ(e.last_used, now - 3600);
    }
  }
}

}  // namespace
}  // namespace mydocker::engine::build
