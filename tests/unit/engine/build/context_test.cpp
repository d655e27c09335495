// SPDX-License-Identifier: Apache-2.0
#include "engine/build/context.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "engine/build/tree_internal.h"
#include "runtime/base/file.h"
#include "tests/support/busybox_rootfs.h"
#include "tests/unit/image/layers/tar_builder.h"

namespace mydocker::engine::build {
namespace {

namespace lt = image::layers::testing;
using image::layers::Compression;
using image::layers::MemorySource;

class ContextTest : public ::testing::Test {
 protected:
  base::Result<std::unique_ptr<Context>> receive(const std::string& tar,
                                                 const ContextLimits& limits = {}) {
    MemorySource src(tar);
    return Context::receive(src, tmp_.path() + "/ctx" + std::to_string(n_++), limits);
  }
  std::unique_ptr<Context> must(const std::vector<lt::TarEntry>& entries) {
    auto ctx = receive(lt::make_tar(entries));
    EXPECT_TRUE(ctx.has_value()) << (ctx ? "" : ctx.error().to_string());
    return ctx ? std::move(*ctx) : nullptr;
  }
  std::vector<std::string> matched(const Context& c, std::string_view s) {
    auto m = c.match(s);
    EXPECT_TRUE(m.has_value()) << s << ": " << (m ? "" : m.error().to_string());
    return m ? *m : std::vector<std::string>{};
  }
  std::string sum(const Context& c, std::string_view p) {
    auto s = c.checksum(p);
    EXPECT_TRUE(s.has_value()) << p << ": " << (s ? "" : s.error().to_string());
    return s ? *s : "";
  }
  mydocker::testing::TempDir tmp_;
  int n_ = 0;
};

// `data` through one of libarchive's write filters (bzip2, xz: what tar_builder lacks).
std::string filtered(const std::string& data, int (*add_filter)(archive*)) {
  archive* a = archive_write_new();
  add_filter(a);
  archive_write_set_format_raw(a);
  std::string out(data.size() + 65536, '\0');
  size_t used = 0;
  archive_write_open_memory(a, out.data(), out.size(), &used);
  archive_entry* e = archive_entry_new();
  archive_entry_set_filetype(e, AE_IFREG);
  archive_write_header(a, e);
  archive_write_data(a, data.data(), data.size());
  archive_entry_free(e);
  archive_write_close(a);
  archive_write_free(a);
  out.resize(used);
  return out;
}

std::vector<lt::TarEntry> sample() {
  return {lt::dir("src"),
          lt::file("src/a.txt", "alpha"),
          lt::file("src/b.txt", "beta", 0600),
          lt::file("src/c.go", "package c"),
          lt::dir("src/sub"),
          lt::file("src/sub/d.txt", "delta"),
          lt::file("Dockerfile", "FROM busybox\n"),
          lt::file("x.txt", "x"),
          lt::file("y.txt", "y"),
          lt::symlink("link", "src/a.txt"),
          lt::symlink("out", "/etc"),
          lt::symlink("up", "../../.."),
          lt::file("lone/only.txt", "implicit parent")};
}

TEST_F(ContextTest, ReceivesFilesWithModesAndRemovesThemOnDestruction) {
  auto ctx = must(sample());
  ASSERT_TRUE(ctx);
  std::string root = ctx->root();
  ASSERT_TRUE(ctx->materialize());
  EXPECT_EQ(*base::read_file(root + "/src/a.txt"), "alpha");
  EXPECT_EQ(*base::read_file(root + "/lone/only.txt"), "implicit parent");
  struct stat st;
  ASSERT_EQ(::stat((root + "/src/b.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_mtime, 1700000000);
  ASSERT_EQ(::lstat((root + "/link").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_GT(ctx->bytes(), 0u);
  EXPECT_EQ(*ctx->dockerfile("Dockerfile"), "FROM busybox\n");
  ctx.reset();
  EXPECT_FALSE(base::path_exists(root));
}

TEST_F(ContextTest, ContextOverTheMemoryBudgetStreamsToDisk) {
  auto mem = must(sample());
  std::vector<lt::TarEntry> entries = sample();
  entries.push_back(lt::hardlink("src/hard", "src/a.txt"));
  entries.push_back(lt::file("x.txt", "replaced"));  // a later entry wins
  ContextLimits limits;
  limits.memory_bytes = 8;  // the first files fit, the rest spill
  auto disk = receive(lt::make_tar(entries), limits);
  ASSERT_TRUE(disk.has_value()) << disk.error().to_string();
  Context& d = **disk;
  EXPECT_EQ(sum(d, "src/sub"), sum(*mem, "src/sub"));
  EXPECT_EQ(*base::read_file(d.root() + "/src/hard"), "alpha");
  EXPECT_EQ(*base::read_file(d.root() + "/x.txt"), "replaced");
  EXPECT_EQ(*base::read_file(d.root() + "/lone/only.txt"), "implicit parent");
  EXPECT_EQ(*d.dockerfile("Dockerfile"), "FROM busybox\n");
  struct stat st;
  ASSERT_EQ(::stat((d.root() + "/src/b.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(matched(d, "src/*.txt"), (std::vector<std::string>{"src/a.txt", "src/b.txt"}));
  // In memory, the context has nothing on disk but its root; root() writes the directories
  // and symlinks, materialize() the files.
  std::string root = tmp_.path() + "/ctx0";
  EXPECT_TRUE(mydocker::testing::list_dir(root).empty());
  EXPECT_EQ(mem->root(), root);
  EXPECT_TRUE(base::path_exists(root + "/src/sub"));
  EXPECT_FALSE(base::path_exists(root + "/src/sub/d.txt"));
  struct stat lst;
  EXPECT_EQ(::lstat((root + "/link").c_str(), &lst), 0);
  ASSERT_TRUE(mem->materialize());
  EXPECT_EQ(*base::read_file(root + "/src/sub/d.txt"), "delta");
  EXPECT_EQ(*base::read_file(root + "/lone/only.txt"), "implicit parent");
}

TEST_F(ContextTest, ReadsCompressedContexts) {
  std::string tar = lt::make_tar(sample());
  std::vector<std::string> inputs = {
      lt::compress(tar, Compression::Gzip), lt::compress(tar, Compression::Zstd),
      filtered(tar, archive_write_add_filter_bzip2), filtered(tar, archive_write_add_filter_xz)};
  for (const std::string& in : inputs) {
    ASSERT_NE(in.substr(0, 8), tar.substr(0, 8));  // really compressed
    auto ctx = receive(in);
    ASSERT_TRUE(ctx.has_value()) << ctx.error().to_string();
    ASSERT_TRUE((*ctx)->materialize());
    EXPECT_EQ(*base::read_file((*ctx)->root() + "/src/sub/d.txt"), "delta");
  }
}

TEST_F(ContextTest, RefusesEntriesThatEscape) {
  std::vector<std::vector<lt::TarEntry>> bad = {
      {lt::file("../x", "x")},
      {lt::file("a/../../x", "x")},
      {lt::file("/etc/x", "x")},
      {lt::symlink("evil", "/"), lt::file("evil/etc/x", "x")},
      {lt::symlink("evil", "../.."), lt::dir("evil/sub")},
      {lt::file("f", "f"), lt::file("f/x", "x")},
      {lt::hardlink("h", "/etc/passwd")},
  };
  for (const auto& entries : bad) {
    std::string dir = tmp_.path() + "/bad";
    std::string tar = lt::make_tar(entries);
    MemorySource src(tar);
    auto ctx = Context::receive(src, dir);
    ASSERT_FALSE(ctx.has_value()) << entries.back().name;
    EXPECT_EQ(ctx.error().code(), base::ErrorCode::InvalidArgument) << ctx.error().to_string();
    EXPECT_NE(ctx.error().message().find(entries.back().name), std::string::npos)
        << ctx.error().to_string();
    EXPECT_FALSE(base::path_exists(dir));
  }
}

TEST_F(ContextTest, RefusesAContextOverTheLimit) {
  std::string big(64 * 1024, 'z');
  auto ctx = receive(lt::make_tar({lt::file("big", big)}), ContextLimits{16 * 1024});
  ASSERT_FALSE(ctx.has_value());
  EXPECT_EQ(ctx.error().code(), base::ErrorCode::InvalidArgument);
  EXPECT_NE(ctx.error().message().find("16384"), std::string::npos) << ctx.error().message();
  // A gzip bomb is stopped by the uncompressed size too.
  ctx = receive(
      lt::compress(lt::make_tar({lt::file("big", std::string(1 << 20, 'z'))}), Compression::Gzip),
      ContextLimits{64 * 1024});
  ASSERT_FALSE(ctx.has_value());
  EXPECT_NE(ctx.error().message().find("65536"), std::string::npos) << ctx.error().message();
  EXPECT_TRUE(receive(lt::make_tar({lt::file("big", big)}), ContextLimits{1 << 20}).has_value());
}

TEST_F(ContextTest, MalformedTarIsInvalid) {
  auto ctx = receive(std::string(2048, 'x'));
  ASSERT_FALSE(ctx.has_value());
  EXPECT_EQ(ctx.error().code(), base::ErrorCode::InvalidArgument);
}

TEST_F(ContextTest, DockerfileErrorsAndFallback) {
  auto ctx = must({lt::file("dockerfile", "FROM a\n"), lt::file("empty", "")});
  ASSERT_TRUE(ctx);
  EXPECT_EQ(*ctx->dockerfile("Dockerfile"), "FROM a\n");  // dockerd's lower-case fallback
  auto missing = ctx->dockerfile("sub/Dockerfile.dev");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), base::ErrorCode::NotFound);
  EXPECT_EQ(missing.error().message(), "Cannot locate specified Dockerfile: sub/Dockerfile.dev");
  EXPECT_EQ(ctx->dockerfile("empty").error().message(), "the Dockerfile (empty) cannot be empty");
  EXPECT_FALSE(ctx->dockerfile("../Dockerfile").has_value());

  auto none = must({lt::file("a", "a")});
  EXPECT_EQ(none->dockerfile("Dockerfile").error().message(),
            "Cannot locate specified Dockerfile: Dockerfile");
  auto empty = receive("");
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ((*empty)->dockerfile("Dockerfile").error().code(), base::ErrorCode::NotFound);
}

TEST_F(ContextTest, DockerignoreDropsItselfAndTheDockerfileAsDockerdDoes) {
  auto ctx = must({lt::file(".dockerignore", "Dockerfile\n.dockerignore\n"),
                   lt::file("Dockerfile", "FROM a\n"), lt::file("keep", "k")});
  ASSERT_TRUE(ctx);
  EXPECT_EQ(ctx->match(".dockerignore").error().code(), base::ErrorCode::NotFound);
  EXPECT_EQ(matched(*ctx, "Dockerfile"), std::vector<std::string>{"Dockerfile"});
  EXPECT_EQ(*ctx->dockerfile("Dockerfile"), "FROM a\n");
  // Once read, an excluded Dockerfile is out of the context (COPY . gets neither).
  EXPECT_EQ(ctx->match("Dockerfile").error().code(), base::ErrorCode::NotFound);
  EXPECT_FALSE(base::path_exists(ctx->root() + "/Dockerfile"));
  EXPECT_EQ(matched(*ctx, "*"), std::vector<std::string>{"keep"});

  auto kept = must({lt::file(".dockerignore", "*.md\n"), lt::file("Dockerfile", "FROM a\n")});
  EXPECT_TRUE(kept->dockerfile("Dockerfile").has_value());
  EXPECT_EQ(matched(*kept, "*"), (std::vector<std::string>{".dockerignore", "Dockerfile"}));
}

TEST_F(ContextTest, MatchesPathsWildcardsAndDirectories) {
  auto ctx = must(sample());
  ASSERT_TRUE(ctx);
  EXPECT_EQ(matched(*ctx, "x.txt"), std::vector<std::string>{"x.txt"});
  EXPECT_EQ(matched(*ctx, "./x.txt"), std::vector<std::string>{"x.txt"});
  EXPECT_EQ(matched(*ctx, "/src/"), std::vector<std::string>{"src"});
  EXPECT_EQ(matched(*ctx, "."), std::vector<std::string>{"."});
  EXPECT_EQ(matched(*ctx, "*.txt"), (std::vector<std::string>{"x.txt", "y.txt"}));
  EXPECT_EQ(matched(*ctx, "src/*.txt"), (std::vector<std::string>{"src/a.txt", "src/b.txt"}));
  EXPECT_EQ(matched(*ctx, "src/[ab].txt"), (std::vector<std::string>{"src/a.txt", "src/b.txt"}));
  EXPECT_EQ(matched(*ctx, "src/[^a].txt"), std::vector<std::string>{"src/b.txt"});
  EXPECT_EQ(matched(*ctx, "?.txt"), (std::vector<std::string>{"x.txt", "y.txt"}));
  EXPECT_EQ(matched(*ctx, "*/*.txt"),
            (std::vector<std::string>{"lone/only.txt", "src/a.txt", "src/b.txt"}));
  EXPECT_EQ(matched(*ctx, "s*/s?b"), std::vector<std::string>{"src/sub"});
  EXPECT_TRUE(matched(*ctx, "*.none").empty());
  EXPECT_EQ(matched(*ctx, "link"), std::vector<std::string>{"link"});

  auto out = ctx->match("../x");
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().message(), "forbidden path outside the build context: ../x ()");
  EXPECT_EQ(ctx->match("src/../../x").error().message(),
            "forbidden path outside the build context: src/../../x ()");
  auto missing = ctx->match("nope/");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), base::ErrorCode::NotFound);
  EXPECT_EQ(missing.error().message(),
            "file not found in build context or excluded by .dockerignore: stat nope/: file "
            "does not exist");
  // Symlinks resolve inside the context: `out -> /etc` is the context's etc, never the host's.
  EXPECT_EQ(ctx->match("out/passwd").error().code(), base::ErrorCode::NotFound);
  EXPECT_EQ(ctx->match("up/etc/passwd").error().code(), base::ErrorCode::NotFound);
  EXPECT_EQ(matched(*ctx, "up/src/a.txt"), std::vector<std::string>{"up/src/a.txt"});
}

TEST_F(ContextTest, ChecksumIsStableAndSensitive) {
  auto a = must(sample());
  auto b = must(sample());
  ASSERT_TRUE(a && b);
  EXPECT_EQ(sum(*a, "src"), sum(*b, "src"));
  EXPECT_EQ(sum(*a, "."), sum(*b, "."));
  EXPECT_EQ(sum(*a, "x.txt"), sum(*b, "x.txt"));
  EXPECT_TRUE(sum(*a, "x.txt").starts_with("file:"));
  EXPECT_TRUE(sum(*a, "src").starts_with("dir:"));
  EXPECT_EQ(sum(*a, "src"), sum(*a, "src"));  // memoized
  EXPECT_NE(sum(*a, "x.txt"), sum(*a, "y.txt"));
  // A symlink source is what it points to.
  EXPECT_EQ(sum(*a, "link").substr(0, 5), "file:");

  auto changed = [&](std::function<void(std::vector<lt::TarEntry>&)> edit) {
    std::vector<lt::TarEntry> e = sample();
    edit(e);
    auto c = must(e);
    return c ? sum(*c, "src") != sum(*a, "src") : false;
  };
  EXPECT_TRUE(changed([](auto& e) { e[1].data = "ALPHA"; }));
  EXPECT_TRUE(changed([](auto& e) { e[1].perm = 0755; }));
  EXPECT_TRUE(changed([](auto& e) { e[1].uid = 1000; }));
  EXPECT_TRUE(changed([](auto& e) { e[5].name = "src/sub/e.txt"; }));
  EXPECT_TRUE(changed([](auto& e) { e[4].perm = 0700; }));
  EXPECT_FALSE(changed([](auto& e) { e[1].mtime = 1600000000; }));
  EXPECT_FALSE(changed([](auto& e) { e[7].data = "other"; }));  // outside src

  std::vector<lt::TarEntry> renamed = sample();
  renamed[7].name = "z.txt";
  auto r = must(renamed);
  EXPECT_NE(sum(*r, "z.txt"), sum(*a, "x.txt"));
  EXPECT_NE(sum(*r, "."), sum(*a, "."));
  EXPECT_EQ(a->checksum("missing").error().code(), base::ErrorCode::NotFound);
}

TEST_F(ContextTest, ChecksumCoversHardLinksAndDeviceNumbers) {
  auto tree = [](std::vector<lt::TarEntry> extra) {
    std::vector<lt::TarEntry> e{lt::dir("d"), lt::file("d/a", "x")};
    e.insert(e.end(), extra.begin(), extra.end());
    return e;
  };
  std::vector<lt::TarEntry> copies = tree({lt::file("d/b", "x"), lt::file("d/c", "x")});
  std::vector<lt::TarEntry> ab = tree({lt::hardlink("d/b", "d/a"), lt::file("d/c", "x")});
  std::vector<lt::TarEntry> ac = tree({lt::file("d/b", "x"), lt::hardlink("d/c", "d/a")});
  std::vector<lt::TarEntry> cb = tree({lt::file("d/c", "x"), lt::hardlink("d/b", "d/c")});
  std::string s_copies = sum(*must(copies), "d");
  std::string s_ab = sum(*must(ab), "d");
  EXPECT_NE(s_ab, s_copies);
  EXPECT_NE(sum(*must(ac), "d"), s_copies);
  EXPECT_NE(sum(*must(ac), "d"), s_ab);
  EXPECT_NE(sum(*must(cb), "d"), s_ab);  // b linked to c, not to a
  EXPECT_EQ(sum(*must(ab), "d"), s_ab);
  // A single file is copied by content: its links do not matter.
  EXPECT_EQ(sum(*must(ab), "d/b"), sum(*must(copies), "d/b"));
  // Streamed to disk (over the memory budget) the context hashes the same.
  ContextLimits disk;
  disk.memory_bytes = 0;
  auto streamed = receive(lt::make_tar(ab), disk);
  ASSERT_TRUE(streamed) << streamed.error().to_string();
  EXPECT_EQ(sum(**streamed, "d"), s_ab);

  std::string null_dev = sum(*must(tree({lt::chardev("d/n", 1, 3)})), "d");
  EXPECT_EQ(sum(*must(tree({lt::chardev("d/n", 1, 3)})), "d"), null_dev);
  EXPECT_NE(sum(*must(tree({lt::chardev("d/n", 1, 5)})), "d"), null_dev);
  EXPECT_NE(sum(*must(tree({lt::chardev("d/n", 2, 3)})), "d"), null_dev);
  EXPECT_NE(sum(*must(tree({lt::fifo("d/n")})), "d"), null_dev);
  auto one = must(tree({lt::chardev("d/n", 1, 3)}));
  auto other = must(tree({lt::chardev("d/n", 1, 5)}));
  EXPECT_NE(sum(*one, "d/n"), sum(*other, "d/n"));
}

TEST_F(ContextTest, ChecksumOfOrdinaryEntriesIsUnchanged) {
  // Recorded before device numbers and hard links were hashed: cache entries written
  // since stay valid.
  auto ctx = must({lt::dir("d"), lt::file("d/a", "x"), lt::symlink("d/l", "a")});
  ASSERT_TRUE(ctx);
  EXPECT_EQ(sum(*ctx, "d"), "dir:8329b84e5c2ceed4b2a3f9d90394e83279ceab02171c7a10f6c5b5df100f8edb");
}

TEST_F(ContextTest, OpenTreeHashesHardLinksLikeTheContext) {
  auto ctx = must({lt::dir("d"), lt::file("d/a", "x"), lt::file("d/c", "x"),
                   lt::hardlink("d/b", "d/a"), lt::file("out", "x")});
  ASSERT_TRUE(ctx);
  ASSERT_TRUE(ctx->materialize());
  ASSERT_EQ(::link((ctx->root() + "/out").c_str(), (ctx->root() + "/d/z").c_str()), 0);
  // The context's files on disk belong to whoever received them.
  auto mine = [](std::vector<lt::TarEntry> e) {
    for (lt::TarEntry& x : e) {
      x.uid = ::getuid();
      x.gid = ::getgid();
    }
    return e;
  };
  auto expect = must(mine({lt::dir("d"), lt::file("d/a", "x"), lt::file("d/c", "x"),
                           lt::hardlink("d/b", "d/a"), lt::file("d/z", "x")}));
  ASSERT_TRUE(expect);
  auto disk = open_tree(ctx->root());
  // d/z's other name is outside d: within d it is a file of its own.
  EXPECT_EQ(*disk->checksum("d"), sum(*expect, "d"));
}

TEST_F(ContextTest, OpenTreeMatchesAndHashesLikeTheContext) {
  // The context's files on disk belong to whoever received them: make the tar say so.
  std::vector<lt::TarEntry> entries = sample();
  for (lt::TarEntry& e : entries) {
    e.uid = ::getuid();
    e.gid = ::getgid();
  }
  auto ctx = must(entries);
  ASSERT_TRUE(ctx);
  ASSERT_TRUE(ctx->materialize());
  auto tree = open_tree(ctx->root());
  EXPECT_EQ(*tree->match("src/*.txt"), (std::vector<std::string>{"src/a.txt", "src/b.txt"}));
  EXPECT_EQ(tree->match("nope").error().message(), "stat nope: file does not exist");
  EXPECT_EQ(*tree->checksum("src"), sum(*ctx, "src"));
  EXPECT_EQ(*tree->checksum("x.txt"), sum(*ctx, "x.txt"));
  EXPECT_EQ(tree->match("out/passwd").error().code(), base::ErrorCode::NotFound);
}

// A timing, not a check: ./build_context_test --gtest_also_run_disabled_tests
//   --gtest_filter='*Timing*' (a 20 MB context in 200 files, received then fully hashed).
TEST_F(ContextTest, DISABLED_TimingReceiveAndChecksum20MB) {
  std::vector<lt::TarEntry> entries;
  std::string data(100 * 1024, '\0');
  uint32_t x = 12345;
  for (int i = 0; i < 200; ++i) {
    for (char& c : data) {
      x = x * 1103515245 + 12345;
      c = static_cast<char>(x >> 24);
    }
    entries.push_back(lt::file(fmt::format("d{}/f{}", i % 10, i), data));
  }
  std::string tar = lt::make_tar(entries);
  for (int round = 0; round < 8; ++round) {
    auto t0 = std::chrono::steady_clock::now();
    const char* base = std::getenv("MYDOCKER_BENCH_DIR");  // e.g. /dev/shm: no disk in it
    MemorySource src(tar);
    auto ctx =
        base != nullptr ? Context::receive(src, std::string(base) + "/bench-ctx") : receive(tar);
    ASSERT_TRUE(ctx.has_value());
    auto t1 = std::chrono::steady_clock::now();
    std::string s = sum(**ctx, ".");
    auto t2 = std::chrono::steady_clock::now();
    ASSERT_TRUE((*ctx)->materialize());  // what a cold build's COPY adds
    auto t3 = std::chrono::steady_clock::now();
    ctx->reset();
    auto t4 = std::chrono::steady_clock::now();
    auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
    std::printf(
        "%zu bytes: receive %.1f ms, checksum(.) %.2f ms; materialize %.1f ms, cleanup %.1f ms\n",
        tar.size(), ms(t1 - t0), ms(t2 - t1), ms(t3 - t2), ms(t4 - t3));
  }
}

TEST(GoMatch, FollowsFilepathMatch) {
  using internal::go_match;
  EXPECT_TRUE(go_match("*.txt", "a.txt"));
  EXPECT_FALSE(go_match("*.txt", "d/a.txt"));
  EXPECT_TRUE(go_match("*/*.txt", "d/a.txt"));
  EXPECT_TRUE(go_match("a?c", "abc"));
  EXPECT_FALSE(go_match("a?c", "a/c"));
  EXPECT_TRUE(go_match("[a-c]x", "bx"));
  EXPECT_FALSE(go_match("[^a-c]x", "bx"));
  EXPECT_TRUE(go_match("\\*", "*"));
  EXPECT_FALSE(go_match("\\*", "a"));
  EXPECT_FALSE(go_match("[", "["));  // malformed: no match
  EXPECT_TRUE(go_match("a*b*c", "axxbyyc"));
  EXPECT_FALSE(go_match("a*b", "a/b"));
  EXPECT_TRUE(go_match("*", ".hidden"));
  EXPECT_TRUE(internal::has_wildcards("a[b]"));
  EXPECT_FALSE(internal::has_wildcards("a\\*b"));
}

}  // namespace
}  // namespace mydocker::engine::build
