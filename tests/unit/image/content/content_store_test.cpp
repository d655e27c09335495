// SPDX-License-Identifier: Apache-2.0
#include "image/content/content_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "runtime/base/file.h"
#include "tests/support/busybox_rootfs.h"

namespace mydocker::image::content {
namespace {

using base::ErrorCode;

std::vector<std::string> dir_entries(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return out;
  }
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") {
      out.push_back(name);
    }
  }
  ::closedir(d);
  return out;
}

class ContentStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = tmp_.path() + "/content";
    auto s = ContentStore::open(root_);
    ASSERT_TRUE(s) << s.error().to_string();
    store_ = std::move(*s);
  }
  std::string ingest_dir() const { return root_ + "/ingest"; }
  std::string blobs_dir() const { return root_ + "/blobs/sha256"; }

  testing::TempDir tmp_;
  std::string root_;
  std::unique_ptr<ContentStore> store_;
};

TEST_F(ContentStoreTest, WriteBlobThenReadInfoListRemove) {
  auto d = store_->write_blob("hello");
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_EQ(d->str(), Digest::sha256_of("hello").str());
  EXPECT_EQ(store_->blob_path(*d), blobs_dir() + "/" + std::string(d->hex()));
  EXPECT_TRUE(base::path_exists(store_->blob_path(*d)));
  EXPECT_TRUE(store_->exists(*d));
  auto data = store_->read(*d);
  ASSERT_TRUE(data);
  EXPECT_EQ(*data, "hello");
  auto info = store_->info(*d);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->size, 5);
  auto fd = store_->open_blob(*d);
  ASSERT_TRUE(fd);
  auto via_fd = base::read_all(fd->get());
  ASSERT_TRUE(via_fd);
  EXPECT_EQ(*via_fd, "hello");
  EXPECT_TRUE(dir_entries(ingest_dir()).empty());

  auto d2 = store_->write_blob("world!");
  ASSERT_TRUE(d2);
  // Junk in blobs/ is not a blob.
  ASSERT_TRUE(base::write_file(blobs_dir() + "/not-a-digest", "x", O_CREAT));
  auto all = store_->list();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_LT((*all)[0].digest, (*all)[1].digest);
  for (const BlobInfo& b : *all) {
    EXPECT_EQ(b.size, b.digest == *d ? 5 : 6);
  }

  ASSERT_TRUE(store_->remove(*d));
  EXPECT_FALSE(store_->exists(*d));
  auto again = store_->remove(*d);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::NotFound);
}

TEST_F(ContentStoreTest, StreamingIngestVerifiesExpectedDigestAndSize) {
  std::string data(300000, 'x');
  Digest want = Digest::sha256_of(data);
  auto w = store_->ingest(want, static_cast<int64_t>(data.size()));
  ASSERT_TRUE(w);
  for (size_t off = 0; off < data.size(); off += 70000) {
    ASSERT_TRUE(w->write(std::string_view(data).substr(off, 70000)));
  }
  EXPECT_EQ(w->written(), static_cast<int64_t>(data.size()));
  auto got = w->commit();
  ASSERT_TRUE(got) << got.error().to_string();
  EXPECT_EQ(*got, want);
  EXPECT_EQ(*store_->read(want), data);
  EXPECT_TRUE(dir_entries(ingest_dir()).empty());
  // A spent writer refuses further use.
  EXPECT_FALSE(w->write("more"));
  EXPECT_FALSE(w->commit());
}

TEST_F(ContentStoreTest, DigestMismatchLeavesNothing) {
  Digest wrong = Digest::sha256_of("something else");
  auto w = store_->ingest(wrong);
  ASSERT_TRUE(w);
  ASSERT_TRUE(w->write("payload"));
  auto r = w->commit();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
  EXPECT_EQ(r.error().message(), "digest mismatch: expected `" + wrong.str() + "`, got `" +
                                     Digest::sha256_of("payload").str() + "`");
  EXPECT_FALSE(store_->exists(Digest::sha256_of("payload")));
  EXPECT_FALSE(store_->exists(wrong));
  EXPECT_TRUE(dir_entries(ingest_dir()).empty());
  EXPECT_TRUE(dir_entries(blobs_dir()).empty());

  auto wb = store_->write_blob("payload", wrong);
  ASSERT_FALSE(wb);
  EXPECT_NE(wb.error().message().find("digest mismatch"), std::string::npos);
}

TEST_F(ContentStoreTest, TruncatedAndOverlongWritesFail) {
  auto w = store_->ingest(std::nullopt, 10);
  ASSERT_TRUE(w);
  ASSERT_TRUE(w->write("12345"));
  auto r = w->commit();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "size mismatch: expected 10 bytes, got 5");
  EXPECT_TRUE(dir_entries(blobs_dir()).empty());
  EXPECT_TRUE(dir_entries(ingest_dir()).empty());

  auto w2 = store_->ingest(std::nullopt, 3);
  ASSERT_TRUE(w2);
  auto over = w2->write("1234");
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code(), ErrorCode::InvalidArgument);
}

TEST_F(ContentStoreTest, AbandonedWriterRemovesItsIngestFile) {
  {
    auto w = store_->ingest();
    ASSERT_TRUE(w);
    ASSERT_TRUE(w->write("partial"));
    EXPECT_EQ(dir_entries(ingest_dir()).size(), 1u);
  }
  EXPECT_TRUE(dir_entries(ingest_dir()).empty());
  EXPECT_TRUE(dir_entries(blobs_dir()).empty());
}

TEST_F(ContentStoreTest, CommitIsIdempotent) {
  auto a = store_->write_blob("same");
  auto b = store_->write_blob("same");
  auto c = store_->write_blob("same", Digest::sha256_of("same"));
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(dir_entries(blobs_dir()).size(), 1u);
}

TEST_F(ContentStoreTest, ConcurrentIngestOfOneDigest) {
  std::string data(1 << 20, '\0');
  for (size_t i = 0; i < data.size(); ++i) {
    data[i] = static_cast<char>(i * 7 % 251);
  }
  Digest want = Digest::sha256_of(data);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      auto w = store_->ingest(want, static_cast<int64_t>(data.size()));
      if (!w) {
        return;
      }
      for (size_t off = 0; off < data.size(); off += 4096) {
        if (!w->write(std::string_view(data).substr(off, 4096))) {
          return;
        }
      }
      if (w->commit()) {
        ++ok;
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(ok.load(), 6);
  EXPECT_EQ(dir_entries(blobs_dir()).size(), 1u);
  EXPECT_TRUE(dir_entries(ingest_dir()).empty());
  EXPECT_EQ(*store_->read(want), data);
}

TEST_F(ContentStoreTest, KillMidIngestLeavesNothingVisibleAndOpenCleansUp) {
  Digest want = Digest::sha256_of(std::string(8192, 'k'));
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto w = store_->ingest(want);
    if (w) {
      (void)w->write(std::string(4096, 'k'));
    }
    ::kill(::getpid(), SIGKILL);
    ::_exit(1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(dir_entries(ingest_dir()).size(), 1u);  // the leftover
  EXPECT_FALSE(store_->exists(want));
  auto listed = store_->list();
  ASSERT_TRUE(listed);
  EXPECT_TRUE(listed->empty());

  auto kept = store_->write_blob("committed before restart");
  ASSERT_TRUE(kept);
  // A leftover directory too (clean_ingest removes whatever is there).
  ASSERT_TRUE(base::mkdir_all(ingest_dir() + "/stale-dir/sub"));
  auto reopened = ContentStore::open(root_);
  ASSERT_TRUE(reopened);
  EXPECT_TRUE(dir_entries(ingest_dir()).empty());
  EXPECT_TRUE((*reopened)->exists(*kept));
}

TEST_F(ContentStoreTest, ReadDetectsCorruptionAndMissingBlobs) {
  auto d = store_->write_blob("original");
  ASSERT_TRUE(d);
  ASSERT_TRUE(base::write_file(store_->blob_path(*d), "tampered"));
  auto r = store_->read(*d);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::Internal);
  EXPECT_NE(r.error().message().find("corrupt"), std::string::npos);

  Digest missing = Digest::sha256_of("nope");
  auto rr = store_->read(missing);
  ASSERT_FALSE(rr);
  EXPECT_EQ(rr.error().code(), ErrorCode::NotFound);
  EXPECT_EQ(rr.error().message(), "blob `" + missing.str() + "` not found");
  auto ri = store_->info(missing);
  ASSERT_FALSE(ri);
  EXPECT_EQ(ri.error().code(), ErrorCode::NotFound);
  auto ro = store_->open_blob(missing);
  ASSERT_FALSE(ro);
  EXPECT_EQ(ro.error().code(), ErrorCode::NotFound);
}

TEST_F(ContentStoreTest, WriteFromDescriptor) {
  auto p = base::make_pipe();
  ASSERT_TRUE(p);
  std::thread writer([&] {
    (void)base::write_all(p->write.get(), std::string(100000, 'p'));
    p->write.reset();
  });
  auto w = store_->ingest(Digest::sha256_of(std::string(100000, 'p')));
  ASSERT_TRUE(w);
  auto r = w->write_from(p->read.get());
  writer.join();
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_TRUE(w->commit());
}

TEST(ContentStoreOpenTest, FailsWhenRootCannotBeCreated) {
  testing::TempDir tmp;
  ASSERT_TRUE(base::write_file(tmp.path() + "/file", "x", O_CREAT));
  auto s = ContentStore::open(tmp.path() + "/file/content");
  EXPECT_FALSE(s);
}

}  // namespace
}  // namespace mydocker::image::content
