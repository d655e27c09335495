// SPDX-License-Identifier: Apache-2.0
// Unpacking crafted tars: entry kinds and metadata, compression detection, digests,
// whiteouts (Keep/Apply formats; the overlay format needs root: unpack_root_test.cpp) and
// every traversal attempt of issue 3.
#include "image/layers/unpack.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <set>
#include <string>
#include <vector>

#include "image/layers/in_root.h"
#include "runtime/base/file.h"
#include "tests/support/busybox_rootfs.h"
#include "tests/unit/image/layers/tar_builder.h"

namespace mydocker::image::layers {
namespace {

using namespace testing;  // NOLINT: the tar builder vocabulary
using mydocker::testing::list_dir;
using mydocker::testing::TempDir;

struct stat lstat_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st;
}

std::string read(const std::string& path) {
  auto r = base::read_file(path);
  return r ? *r : std::string("<missing>");
}

// A sandbox: <tmp>/sentinel/target is the layer root; <tmp>/outside is a host directory an
// attack would like to write into. After any unpack, sentinel holds only `target` and
// outside stays empty.
class UnpackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sentinel_ = tmp_.path() + "/sentinel";
    target_ = sentinel_ + "/target";
    outside_ = tmp_.path() + "/outside";
    ASSERT_TRUE(base::mkdir_all(target_));
    ASSERT_TRUE(base::mkdir_all(outside_));
    ASSERT_TRUE(base::write_file_atomic(outside_ + "/victim", "original"));
  }
  void TearDown() override {
    EXPECT_EQ(list_dir(sentinel_), std::set<std::string>{"target"});
    EXPECT_EQ(list_dir(outside_), std::set<std::string>{"victim"});
    EXPECT_EQ(read(outside_ + "/victim"), "original");
  }

  base::Result<UnpackResult> run(const std::string& blob, UnpackOptions opts = unprivileged()) {
    base::Fd root = *base::Fd::open(target_, O_RDONLY | O_DIRECTORY);
    MemorySource src(blob);
    return unpack(src, root, opts);
  }
  static UnpackOptions unprivileged() {
    UnpackOptions o;
    o.preserve_owners = false;
    o.whiteouts = WhiteoutFormat::Keep;
    return o;
  }

  TempDir tmp_;
  std::string sentinel_, target_, outside_;
};

TEST_F(UnpackTest, KeepsEntryKindsAndContent) {
  std::string big(3 * 1024 * 1024 + 17, 'x');
  for (size_t i = 0; i < big.size(); i += 4096) {
    big[i] = static_cast<char>('a' + (i / 4096) % 26);
  }
  auto r = run(make_tar({dir("etc/"), file("etc/hosts", "127.0.0.1 localhost\n"), file("big", big),
                         symlink("link", "etc/hosts"), symlink("abs", "/etc/hosts"),
                         hardlink("hard", "etc/hosts"), fifo("pipe"),
                         file("deep/er/file", "made parents")}));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->entries, 8u);
  EXPECT_EQ(read(target_ + "/etc/hosts"), "127.0.0.1 localhost\n");
  EXPECT_EQ(read(target_ + "/big"), big);
  EXPECT_EQ(read(target_ + "/deep/er/file"), "made parents");
  char buf[64];
  ssize_t n = ::readlink((target_ + "/link").c_str(), buf, sizeof buf);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(std::max<ssize_t>(n, 0))), "etc/hosts");
  n = ::readlink((target_ + "/abs").c_str(), buf, sizeof buf);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(std::max<ssize_t>(n, 0))), "/etc/hosts");
  EXPECT_EQ(lstat_of(target_ + "/hard").st_ino, lstat_of(target_ + "/etc/hosts").st_ino);
  EXPECT_EQ(lstat_of(target_ + "/etc/hosts").st_nlink, 2u);
  EXPECT_TRUE(S_ISFIFO(lstat_of(target_ + "/pipe").st_mode));
}

TEST_F(UnpackTest, KeepsModesAndTimes) {
  TarEntry f = file("bin/tool", "#!/bin/sh\n", 04755);
  f.mtime = 1234567890;
  f.mtime_ns = 123456789;
  TarEntry d = dir("bin/", 0750);
  d.mtime = 1000000000;
  TarEntry ro = file("ro", "r", 0400);
  TarEntry s = symlink("sl", "ro");
  s.mtime = 1111111111;
  auto r = run(make_tar({d, f, ro, s, file("bin/later", "written after the dir entry")}));
  ASSERT_TRUE(r) << r.error().to_string();
  struct stat st = lstat_of(target_ + "/bin/tool");
  EXPECT_EQ(st.st_mode & 07777, 04755u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1234567890);
  EXPECT_EQ(st.st_mtim.tv_nsec, 123456789);
  st = lstat_of(target_ + "/bin");
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  // Set after `bin/later` was created inside it.
  EXPECT_EQ(st.st_mtim.tv_sec, 1000000000);
  EXPECT_EQ(lstat_of(target_ + "/ro").st_mode & 07777, 0400u);
  EXPECT_EQ(lstat_of(target_ + "/sl").st_mtim.tv_sec, 1111111111);
}

TEST_F(UnpackTest, KeepsUserXattrsAndDropsOverlayOnes) {
  // /tmp here is ext4 (user xattrs on); skip honestly elsewhere.
  std::string probe = tmp_.path() + "/probe";
  ASSERT_TRUE(base::write_file_atomic(probe, ""));
  if (::setxattr(probe.c_str(), "user.probe", "1", 1, 0) < 0) {
    GTEST_SKIP() << "the temp filesystem does not support user xattrs";
  }
  ::unlink(probe.c_str());
  TarEntry f = file("f", "data");
  f.xattrs = {{"user.mime", "text/plain"}, {"trusted.overlay.opaque", "y"}};
  TarEntry d = dir("d/");
  d.xattrs = {{"user.dir", std::string("bin\0ary", 7)}};
  auto r = run(make_tar({f, d}));
  ASSERT_TRUE(r) << r.error().to_string();
  char buf[64];
  ssize_t n = ::lgetxattr((target_ + "/f").c_str(), "user.mime", buf, sizeof buf);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(std::max<ssize_t>(n, 0))), "text/plain");
  EXPECT_LT(::lgetxattr((target_ + "/f").c_str(), "trusted.overlay.opaque", buf, sizeof buf), 0);
  n = ::lgetxattr((target_ + "/d").c_str(), "user.dir", buf, sizeof buf);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(std::max<ssize_t>(n, 0))),
            std::string("bin\0ary", 7));
}

class CompressionTest : public UnpackTest, public ::testing::WithParamInterface<Compression> {};

TEST_P(CompressionTest, DetectsCompressionAndComputesDigests) {
  std::string tar = make_tar({dir("a/"), file("a/b", std::string(100000, 'q'))});
  std::string blob = compress(tar, GetParam());
  auto r = run(blob);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->compression, GetParam());
  EXPECT_EQ(r->diff_id.str(), Digest::sha256_of(tar).str());
  EXPECT_EQ(r->compressed_digest.str(), Digest::sha256_of(blob).str());
  EXPECT_EQ(r->uncompressed_size, tar.size());
  EXPECT_EQ(r->compressed_size, blob.size());
  EXPECT_EQ(read(target_ + "/a/b"), std::string(100000, 'q'));

  MemorySource src(blob);
  auto d = digest_layer(src);
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_EQ(d->diff_id, r->diff_id);
  EXPECT_EQ(d->compressed_digest, r->compressed_digest);
}

TEST_P(CompressionTest, TruncatedStreamIsAnError) {
  std::string tar = make_tar({file("a", std::string(200000, 'z')), file("b", "tail")});
  std::string blob = compress(tar, GetParam());
  blob.resize(blob.size() * 2 / 3);
  auto r = run(blob);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), base::ErrorCode::InvalidArgument);
  EXPECT_NE(r.error().message().find("runcated"), std::string::npos) << r.error().message();
}

INSTANTIATE_TEST_SUITE_P(All, CompressionTest,
                         ::testing::Values(Compression::None, Compression::Gzip, Compression::Zstd),
                         [](const auto& p) { return std::string(compression_name(p.param)); });

TEST_F(UnpackTest, GarbageIsAnError) {
  std::string garbage(5000, '\0');
  for (size_t i = 0; i < garbage.size(); ++i) {
    garbage[i] = static_cast<char>((i * 7919) % 251 + 1);
  }
  auto r = run(garbage);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), base::ErrorCode::InvalidArgument);
  EXPECT_NE(r.error().message().find("read layer tar"), std::string::npos) << r.error().message();
}

TEST_F(UnpackTest, EmptyStreams) {
  // Zero bytes are not a layer; 1024 zero bytes (an empty tar, Docker's empty layer) are.
  auto r = run("");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), base::ErrorCode::InvalidArgument);
  std::string empty_tar(1024, '\0');
  r = run(compress(empty_tar, Compression::Gzip));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->entries, 0u);
  EXPECT_EQ(r->diff_id.str(), Digest::sha256_of(empty_tar).str());
}

TEST_F(UnpackTest, MultiMemberGzipIsOneStream) {
  // gzip allows concatenated members (pigz, appended layers); the DiffID covers all of them.
  std::string tar = make_tar({file("a", std::string(300000, 'm')), file("b", "second member")});
  size_t cut = tar.size() / 2;
  std::string blob = compress(tar.substr(0, cut), Compression::Gzip) +
                     compress(tar.substr(cut), Compression::Gzip);
  auto r = run(blob);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->compression, Compression::Gzip);
  EXPECT_EQ(r->diff_id.str(), Digest::sha256_of(tar).str());
  EXPECT_EQ(r->compressed_digest.str(), Digest::sha256_of(blob).str());
  EXPECT_EQ(read(target_ + "/b"), "second member");
}

TEST_F(UnpackTest, SourceThatVerifiesItselfIsNotHashedAgain) {
  struct Verified final : ByteSource {
    explicit Verified(std::string_view d) : mem(d) {}
    base::Result<size_t> read(std::span<std::byte> buf) override { return mem.read(buf); }
    bool verifies_digest() const override { return true; }
    MemorySource mem;
  };
  std::string tar = make_tar({file("v", "verified elsewhere")});
  std::string blob = compress(tar, Compression::Gzip);
  Verified src(blob);
  auto r = digest_layer(src);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->diff_id.str(), Digest::sha256_of(tar).str());
  EXPECT_TRUE(r->compressed_digest.empty());  // left to the source
  EXPECT_EQ(r->compressed_size, blob.size());
}

TEST_F(UnpackTest, GzipHeaderWithGarbageBodyIsAnError) {
  std::string blob = compress(make_tar({file("a", "x")}), Compression::Gzip);
  for (size_t i = 12; i < blob.size(); ++i) {
    blob[i] = static_cast<char>(blob[i] ^ 0x5a);
  }
  auto r = run(blob);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), base::ErrorCode::InvalidArgument);
}

// One row per traversal attempt. `error` empty: the unpack succeeds and `inside` (relative to
// the layer root) must exist; the fixture checks nothing outside changed either way.
struct Attack {
  std::string name;
  std::vector<TarEntry> entries;
  std::string error;
  std::string inside;
};

class TraversalTest : public UnpackTest, public ::testing::WithParamInterface<bool> {
 protected:
  void SetUp() override {
    UnpackTest::SetUp();
    set_openat2_disabled_for_test(GetParam());
  }
  void TearDown() override {
    set_openat2_disabled_for_test(false);
    UnpackTest::TearDown();
  }
  std::vector<Attack> attacks() {
    std::string out = outside_;  // absolute host path of the directory to protect
    return {
        {"dotdot",
         {file("../../outside/x", "pwned")},
         "layer entry `../../outside/x`: escapes the layer root",
         ""},
        {"dotdot_inner",
         {file("a/../../x", "pwned")},
         "layer entry `a/../../x`: escapes the layer root",
         ""},
        {"absolute_made_relative", {file(out + "/x", "inside")}, "", out.substr(1) + "/x"},
        {"symlink_to_root_then_write",
         {symlink("evil", "/"), file("evil" + out + "/x", "in")},
         "",
         out.substr(1) + "/x"},
        {"symlink_to_host_dir_then_write",
         {symlink("evil", out), file("evil/x", "pwned")},
         "layer entry `evil/x`",
         ""},
        {"symlink_up_then_write", {symlink("up", "../../.."), file("up/x", "in")}, "", "x"},
        {"nested_symlink_up",
         {dir("a/"), symlink("a/up", "../../../../.."), file("a/up" + out + "/x", "in")},
         "",
         out.substr(1) + "/x"},
        {"write_over_symlink_to_host_file",
         {symlink("s", out + "/victim"), file("s", "replaced")},
         "",
         "s"},
        {"hardlink_absolute_host_file",
         {hardlink("h", "/etc/passwd")},
         "layer entry `h`: hard link target `/etc/passwd` not found in the layer",
         ""},
        {"hardlink_dotdot",
         {hardlink("h", "../../etc/passwd")},
         "layer entry `h`: hard link target `../../etc/passwd` escapes the layer root",
         ""},
        {"hardlink_to_host_victim", {hardlink("h", out + "/victim")}, "not found in the layer", ""},
        {"hardlink_through_symlink",
         {symlink("evil", out), hardlink("h", "evil/victim")},
         "not found in the layer",
         ""},
        {"dir_over_symlink", {symlink("d", out), dir("d/"), file("d/x", "in")}, "", "d/x"},
    };
  }
};

TEST_P(TraversalTest, NoEntryWritesOutsideTheRoot) {
  for (const Attack& a : attacks()) {
    SCOPED_TRACE(a.name);
    ASSERT_TRUE(base::remove_all(target_));
    ASSERT_TRUE(base::mkdir_all(target_));
    auto r = run(make_tar(a.entries));
    if (a.error.empty()) {
      ASSERT_TRUE(r) << r.error().to_string();
      EXPECT_TRUE(base::path_exists(target_ + "/" + a.inside)) << a.inside;
    } else {
      ASSERT_FALSE(r);
      EXPECT_NE(r.error().message().find(a.error), std::string::npos) << r.error().message();
    }
    EXPECT_EQ(list_dir(outside_), std::set<std::string>{"victim"});
    EXPECT_EQ(read(outside_ + "/victim"), "original");
  }
}

INSTANTIATE_TEST_SUITE_P(Resolver, TraversalTest, ::testing::Values(false, true),
                         [](const auto& p) { return p.param ? "walk" : "openat2"; });

TEST_F(UnpackTest, KeepFormatStoresWhiteoutsAsFiles) {
  auto r = run(make_tar({dir("d/"), file("d/.wh.gone", ""), file("d/.wh..wh..opq", "")}));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE(S_ISREG(lstat_of(target_ + "/d/.wh.gone").st_mode));
  EXPECT_TRUE(S_ISREG(lstat_of(target_ + "/d/.wh..wh..opq").st_mode));
}

TEST_F(UnpackTest, ApplyFormatDeletesLowerEntries) {
  auto lower = run(make_tar({dir("keep/"), file("keep/a", "a"), file("gone", "g"), dir("gonedir/"),
                             file("gonedir/x", "x"), dir("opq/"), file("opq/old", "o"),
                             dir("opq/sub/"), file("opq/sub/old", "o")}));
  ASSERT_TRUE(lower) << lower.error().to_string();
  UnpackOptions o = unprivileged();
  o.whiteouts = WhiteoutFormat::Apply;
  auto r = run(
      make_tar({file(".wh.gone", ""), file(".wh.gonedir", ""), dir("opq/"), file("opq/new", "n"),
                dir("opq/sub/"), file("opq/.wh..wh..opq", ""), file("opq/sub/new", "n"),
                file("same", "s"), file(".wh.same", ""), file("nodir/.wh.x", "")}),
      o);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(list_dir(target_), (std::set<std::string>{"keep", "opq", "same"}));
  EXPECT_EQ(list_dir(target_ + "/opq"), (std::set<std::string>{"new", "sub"}));
  EXPECT_EQ(list_dir(target_ + "/opq/sub"), std::set<std::string>{"new"});
  EXPECT_EQ(read(target_ + "/same"), "s");
}

TEST(CleanPathTest, Table) {
  struct Row {
    std::string in;
    std::optional<std::string> out;
  };
  for (const Row& row : std::vector<Row>{{"a/b", "a/b"},
                                         {"./a//b/", "a/b"},
                                         {"/etc/x", "etc/x"},
                                         {".", ""},
                                         {"a/../b", "b"},
                                         {"a/./../../b", std::nullopt},
                                         {"..", std::nullopt},
                                         {"../x", std::nullopt},
                                         {"/../x", std::nullopt}}) {
    EXPECT_EQ(clean_path(row.in), row.out) << row.in;
  }
}

}  // namespace
}  // namespace mydocker::image::layers
