// SPDX-License-Identifier: Apache-2.0
#include "engine/build/copy.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <thread>

#include "runtime/base/file.h"
#include "tests/support/busybox_rootfs.h"
#include "tests/support/poll.h"
#include "tests/support/require.h"
#include "tests/unit/image/layers/tar_builder.h"

namespace mydocker::engine::build {
namespace {

namespace lt = image::layers::testing;
using image::layers::Compression;
using image::layers::MemorySource;
using mydocker::testing::Need;

struct Stat {
  mode_t mode = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  time_t mtime = 0;
  bool ok = false;
};

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

Stat lstat_of(const std::string& path) {
  struct stat st;
  Stat out;
  if (::lstat(path.c_str(), &st) == 0) {
    out = {st.st_mode, st.st_uid, st.st_gid, st.st_mtime, true};
  }
  return out;
}

ino_t inode_of(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

class RootCopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MYDOCKER_REQUIRE(Need::Root);
    rootfs_ = tmp_.path() + "/rootfs";
    ASSERT_TRUE(base::mkdir_all(rootfs_ + "/etc"));
    ASSERT_TRUE(base::write_file(rootfs_ + "/etc/passwd",
                                 "root:x:0:0:root:/root:/bin/sh\n"
                                 "app:x:1234:1234::/home/app:/bin/sh\n",
                                 O_CREAT));
    ASSERT_TRUE(
        base::write_file(rootfs_ + "/etc/group", "root:x:0:\napp:x:1234:\ngrp:x:777:\n", O_CREAT));
    lt::TarEntry owned = lt::file("x.txt", "x-content", 0640);
    owned.uid = 1000;
    owned.gid = 1000;
    owned.mtime = 1500000000;
    std::string plain = lt::make_tar({lt::dir("inner"), lt::file("inner/f", "from the archive")});
    std::string inner = lt::compress(plain, Compression::Gzip);
    tar_ = lt::make_tar({
        owned,
        lt::file("y.txt", "y-content"),
        lt::dir("src"),
        lt::file("src/a.txt", "alpha"),
        lt::dir("src/sub", 0700),
        lt::file("src/sub/d.txt", "delta", 0755),
        lt::symlink("src/rel", "a.txt"),
        lt::file("arch.tar.gz", inner),
        lt::file("arch.tar", plain),
        lt::file("arch.tar.xz", filtered(plain, archive_write_add_filter_xz)),
        lt::file("arch.tar.bz2", filtered(plain, archive_write_add_filter_bzip2)),
    });
    MemorySource src(tar_);
    auto ctx = Context::receive(src, tmp_.path() + "/ctx");
    ASSERT_TRUE(ctx.has_value()) << ctx.error().to_string();
    ctx_ = std::move(*ctx);
  }

  base::Result<void> copy(std::vector<std::string> patterns, std::string_view dest,
                          const CopyOptions& opts = {}) {
    std::vector<std::string> all;
    for (const std::string& p : patterns) {
      std::vector<std::string> m = MYDOCKER_TRY(ctx_->match(p));
      all.insert(all.end(), m.begin(), m.end());
    }
    return copy_sources(*ctx_, all, false, rootfs_, dest, opts);
  }
  std::string at(const std::string& p) { return rootfs_ + p; }

  mydocker::testing::TempDir tmp_;
  std::string rootfs_;
  std::string tar_;
  std::unique_ptr<Context> ctx_;
};

TEST_F(RootCopyTest, FileToFileKeepsModeAndMtimeOwnedByRoot) {
  ASSERT_TRUE(copy({"x.txt"}, "/new/dir/renamed"));
  EXPECT_EQ(*base::read_file(at("/new/dir/renamed")), "x-content");
  Stat st = lstat_of(at("/new/dir/renamed"));
  EXPECT_EQ(st.mode & 07777, 0640u);
  EXPECT_EQ(st.uid, 0u);
  EXPECT_EQ(st.gid, 0u);
  EXPECT_EQ(st.mtime, 1500000000);
  Stat parent = lstat_of(at("/new/dir"));
  EXPECT_TRUE(S_ISDIR(parent.mode));
  EXPECT_EQ(parent.mode & 07777, 0755u);
  // Over an existing file: replaced.
  ASSERT_TRUE(copy({"y.txt"}, "/new/dir/renamed"));
  EXPECT_EQ(*base::read_file(at("/new/dir/renamed")), "y-content");
}

TEST_F(RootCopyTest, FileIntoDirectoryBySlashOrExistingDirectory) {
  ASSERT_TRUE(copy({"x.txt"}, "/d/"));
  EXPECT_EQ(*base::read_file(at("/d/x.txt")), "x-content");
  ASSERT_TRUE(copy({"y.txt"}, "/d"));  // exists as a directory
  EXPECT_EQ(*base::read_file(at("/d/y.txt")), "y-content");
}

TEST_F(RootCopyTest, DirectoryCopiesItsContents) {
  ASSERT_TRUE(copy({"src"}, "/app"));
  EXPECT_EQ(*base::read_file(at("/app/a.txt")), "alpha");
  EXPECT_EQ(*base::read_file(at("/app/sub/d.txt")), "delta");
  EXPECT_FALSE(base::path_exists(at("/app/src")));
  EXPECT_EQ(lstat_of(at("/app/sub")).mode & 07777, 0700u);
  EXPECT_EQ(lstat_of(at("/app/sub/d.txt")).mode & 07777, 0755u);
  Stat link = lstat_of(at("/app/rel"));
  ASSERT_TRUE(S_ISLNK(link.mode));
  char target[64] = {};
  ASSERT_GT(::readlink(at("/app/rel").c_str(), target, sizeof target - 1), 0);
  EXPECT_STREQ(target, "a.txt");
  // COPY . copies the whole context.
  ASSERT_TRUE(copy({"."}, "/all/"));
  EXPECT_EQ(*base::read_file(at("/all/src/sub/d.txt")), "delta");
  EXPECT_TRUE(base::path_exists(at("/all/x.txt")));
}

TEST_F(RootCopyTest, SeveralSourcesNeedADirectoryDestination) {
  auto r = copy({"x.txt", "y.txt"}, "/multi");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(),
            "When using COPY with more than one source file, the destination must be a "
            "directory and end with a /");
  r = copy({"*.txt"}, "/multi");  // two matches count as two sources
  ASSERT_FALSE(r);
  CopyOptions add;
  add.unpack_archives = true;
  EXPECT_EQ(copy({"x.txt", "y.txt"}, "/multi", add).error().message().substr(0, 14),
            "When using ADD");
  ASSERT_TRUE(copy({"x.txt", "y.txt"}, "/multi/"));
  EXPECT_TRUE(base::path_exists(at("/multi/x.txt")));
  EXPECT_TRUE(base::path_exists(at("/multi/y.txt")));
  ASSERT_TRUE(copy({"src/*.txt"}, "/w/"));
  EXPECT_EQ(*base::read_file(at("/w/a.txt")), "alpha");
  EXPECT_EQ(copy_sources(*ctx_, {}, true, rootfs_, "/w/", {}).error().message(),
            "no source files were specified");
}

TEST_F(RootCopyTest, RelativeDestinationIsUnderWorkdir) {
  CopyOptions opts;
  opts.workdir = "/work/dir";
  ASSERT_TRUE(copy({"x.txt"}, "rel/", opts));
  EXPECT_EQ(*base::read_file(at("/work/dir/rel/x.txt")), "x-content");
  ASSERT_TRUE(copy({"y.txt"}, "named", opts));
  EXPECT_EQ(*base::read_file(at("/work/dir/named")), "y-content");
}

TEST_F(RootCopyTest, ChownByNameOrNumberAndChmod) {
  auto app = resolve_chown(rootfs_, "app");
  ASSERT_TRUE(app.has_value()) << app.error().to_string();
  EXPECT_EQ(app->uid, 1234u);
  EXPECT_EQ(app->gid, 1234u);
  auto mixed = resolve_chown(rootfs_, "app:grp");
  ASSERT_TRUE(mixed.has_value());
  EXPECT_EQ(mixed->gid, 777u);
  auto num = resolve_chown(rootfs_, "42:43");
  ASSERT_TRUE(num.has_value());
  EXPECT_EQ(num->uid, 42u);
  EXPECT_EQ(num->gid, 43u);
  auto bad = resolve_chown(rootfs_, "nobody");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(),
            "unable to convert uid/gid chown string to host mapping: can't find uid for user "
            "nobody: no such user: nobody");
  EXPECT_EQ(resolve_chown(rootfs_, "app:nogroup").error().message(),
            "unable to convert uid/gid chown string to host mapping: can't find gid for group "
            "nogroup: no such group: nogroup");

  CopyOptions opts;
  opts.owner = *mixed;
  opts.mode = 0700;
  ASSERT_TRUE(copy({"x.txt"}, "/owned/deep/file", opts));
  Stat f = lstat_of(at("/owned/deep/file"));
  EXPECT_EQ(f.uid, 1234u);
  EXPECT_EQ(f.gid, 777u);
  EXPECT_EQ(f.mode & 07777, 0700u);
  EXPECT_EQ(lstat_of(at("/owned/deep")).uid, 1234u);  // Docker chowns a file's new parents

  ASSERT_TRUE(base::mkdir_all(at("/existing")));
  ASSERT_TRUE(copy({"src"}, "/existing", opts));
  EXPECT_EQ(lstat_of(at("/existing")).uid, 0u);  // an existing directory keeps its owner
  EXPECT_EQ(lstat_of(at("/existing/sub/d.txt")).uid, 1234u);
  EXPECT_EQ(lstat_of(at("/existing/sub")).mode & 07777, 0700u);
  EXPECT_EQ(lstat_of(at("/existing/rel")).uid, 1234u);  // symlinks too (lchown)
  ASSERT_TRUE(copy({"src"}, "/fresh", opts));
  EXPECT_EQ(lstat_of(at("/fresh")).uid, 1234u);
}

TEST_F(RootCopyTest, SymlinksInTheDestinationStayInsideTheRootfs) {
  std::string host = tmp_.path() + "/host";
  ASSERT_TRUE(base::mkdir_all(host));
  ASSERT_EQ(::symlink(host.c_str(), at("/evil").c_str()), 0);
  ASSERT_EQ(::symlink("../../..", at("/up").c_str()), 0);
  ASSERT_TRUE(copy({"x.txt"}, "/evil/"));
  ASSERT_TRUE(copy({"y.txt"}, "/up/etc/"));
  ASSERT_TRUE(copy({"src"}, "/evil/tree"));
  EXPECT_TRUE(mydocker::testing::list_dir(host).empty());
  EXPECT_EQ(*base::read_file(at(host + "/x.txt")), "x-content");
  EXPECT_EQ(*base::read_file(at("/etc/y.txt")), "y-content");
  EXPECT_EQ(*base::read_file(at(host + "/tree/a.txt")), "alpha");
  // A symlink as the destination itself is followed inside the rootfs.
  ASSERT_EQ(::symlink("/etc", at("/etclink").c_str()), 0);
  ASSERT_TRUE(copy({"x.txt"}, "/etclink"));
  EXPECT_EQ(*base::read_file(at("/etc/x.txt")), "x-content");
}

TEST_F(RootCopyTest, AddExtractsLocalArchivesCopyDoesNot) {
  CopyOptions add;
  add.unpack_archives = true;
  for (std::string name : {"arch.tar.gz", "arch.tar", "arch.tar.xz", "arch.tar.bz2"}) {
    ASSERT_TRUE(copy({name}, "/ex/" + name, add));
    EXPECT_EQ(*base::read_file(at("/ex/" + name + "/inner/f")), "from the archive") << name;
  }
  ASSERT_TRUE(copy({"arch.tar.gz"}, "/plain/"));
  EXPECT_TRUE(S_ISREG(lstat_of(at("/plain/arch.tar.gz")).mode));
  ASSERT_TRUE(copy({"x.txt"}, "/notarch/", add));  // not an archive: copied as is
  EXPECT_EQ(*base::read_file(at("/notarch/x.txt")), "x-content");
}

TEST_F(RootCopyTest, CopyFromAMountedTree) {
  ASSERT_TRUE(base::mkdir_all(tmp_.path() + "/stage/opt"));
  ASSERT_TRUE(base::write_file(tmp_.path() + "/stage/opt/bin", "binary", O_CREAT));
  ASSERT_EQ(::symlink("/opt/bin", (tmp_.path() + "/stage/abs").c_str()), 0);
  auto tree = open_tree(tmp_.path() + "/stage");
  auto m = tree->match("abs");
  ASSERT_TRUE(m.has_value()) << m.error().to_string();
  ASSERT_TRUE(copy_sources(*tree, *m, false, rootfs_, "/from/", {}));
  // A named symlink source copies its target (resolved in the tree) under its own name.
  EXPECT_EQ(*base::read_file(at("/from/abs")), "binary");
}

TEST_F(RootCopyTest, HardLinksInTheContextStayHardLinks) {
  // `a` links to `b`, which sorts after it; `c` is a link to a link.
  std::string tar = lt::make_tar({lt::dir("hl"), lt::file("hl/b", "shared", 0751),
                                  lt::hardlink("hl/a", "hl/b"), lt::dir("hl/sub"),
                                  lt::hardlink("hl/sub/c", "hl/a"), lt::file("hl/other", "o")});
  for (uint64_t memory : {uint64_t{64} << 20, uint64_t{0}}) {  // kept in memory, or on disk
    MemorySource src(tar);
    ContextLimits limits;
    limits.memory_bytes = memory;
    auto ctx = Context::receive(src, tmp_.path() + "/hlctx-" + std::to_string(memory), limits);
    ASSERT_TRUE(ctx.has_value()) << ctx.error().to_string();
    std::string dest = "/hl-" + std::to_string(memory);
    ASSERT_TRUE(copy_sources(**ctx, {"hl"}, false, rootfs_, dest, {}));
    EXPECT_EQ(*base::read_file(at(dest + "/a")), "shared");
    EXPECT_EQ(inode_of(at(dest + "/a")), inode_of(at(dest + "/b"))) << memory;
    EXPECT_EQ(inode_of(at(dest + "/sub/c")), inode_of(at(dest + "/b"))) << memory;
    EXPECT_NE(inode_of(at(dest + "/other")), inode_of(at(dest + "/b")));
    EXPECT_EQ(lstat_of(at(dest + "/a")).mode & 07777, 0751u);
    // Separate sources are separate copies (Docker copies each through its own tar).
    ASSERT_TRUE(copy_sources(**ctx, {"hl/a", "hl/b"}, false, rootfs_, dest + "-files/", {}));
    EXPECT_NE(inode_of(at(dest + "-files/a")), inode_of(at(dest + "-files/b")));
  }
  // A link whose file is replaced by a later entry keeps the content it had.
  std::string replaced =
      lt::make_tar({lt::file("f", "first"), lt::hardlink("g", "f"), lt::file("f", "second")});
  MemorySource src(replaced);
  auto ctx = Context::receive(src, tmp_.path() + "/hlctx-replaced");
  ASSERT_TRUE(ctx.has_value()) << ctx.error().to_string();
  ASSERT_TRUE(copy_sources(**ctx, {"."}, false, rootfs_, "/replaced", {}));
  EXPECT_EQ(*base::read_file(at("/replaced/f")), "second");
  EXPECT_EQ(*base::read_file(at("/replaced/g")), "first");
}

TEST_F(RootCopyTest, FifosAndDevicesInTheContextAreCopied) {
  lt::TarEntry fifo = lt::fifo("dev/pipe");
  fifo.perm = 0620;
  std::string tar = lt::make_tar(
      {lt::dir("dev"), fifo, lt::chardev("dev/null", 1, 3), lt::file("dev/plain", "p")});
  for (uint64_t memory : {uint64_t{64} << 20, uint64_t{0}}) {  // kept in memory, or on disk
    MemorySource src(tar);
    ContextLimits limits;
    limits.memory_bytes = memory;
    auto ctx = Context::receive(src, tmp_.path() + "/devctx-" + std::to_string(memory), limits);
    ASSERT_TRUE(ctx.has_value()) << ctx.error().to_string();
    auto m = (*ctx)->match("dev/*");
    ASSERT_TRUE(m.has_value()) << m.error().to_string();
    EXPECT_EQ(m->size(), 3u);
    std::string dest = "/dev-" + std::to_string(memory);
    ASSERT_TRUE(copy_sources(**ctx, {"dev"}, false, rootfs_, dest, {}));
    Stat p = lstat_of(at(dest + "/pipe"));
    EXPECT_TRUE(S_ISFIFO(p.mode)) << memory;
    EXPECT_EQ(p.mode & 07777, 0620u);
    struct stat st;
    ASSERT_EQ(::lstat(at(dest + "/null").c_str(), &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode));
    EXPECT_EQ(st.st_rdev, makedev(1, 3));
    EXPECT_EQ(*base::read_file(at(dest + "/plain")), "p");
  }
}

// A file capability set (vfs_cap_data revision 2: cap_net_raw permitted and effective).
std::string net_raw_capability() {
  std::string v(20, '\0');
  v[0] = 0x01;  // VFS_CAP_FLAGS_EFFECTIVE
  v[3] = 0x02;  // VFS_CAP_REVISION_2
  v[5] = 0x20;  // permitted bit 13: CAP_NET_RAW
  return v;
}

bool has_capability(const std::string& path) {
  char buf[64];
  return ::lgetxattr(path.c_str(), "security.capability", buf, sizeof buf) > 0;
}

// A stage's root filesystem as a build leaves it: owners, odd modes, a file capability, a
// symlink with its own owner, hard links.
class RootCopyFromTest : public RootCopyTest {
 protected:
  void SetUp() override {
    RootCopyTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    stage_ = tmp_.path() + "/stage";
    auto make = [&](const std::string& rel, const std::string& data, mode_t mode, uid_t uid,
                    gid_t gid) {
      std::string p = stage_ + "/" + rel;
      ASSERT_TRUE(base::write_file(p, data, O_CREAT));
      ASSERT_EQ(::chown(p.c_str(), uid, gid), 0);
      ASSERT_EQ(::chmod(p.c_str(), mode), 0);  // after chown, which clears set-id bits
    };
    ASSERT_TRUE(base::mkdir_all(stage_ + "/app/conf"));
    ASSERT_EQ(::chown((stage_ + "/app").c_str(), 1000, 1000), 0);
    ASSERT_EQ(::chmod((stage_ + "/app").c_str(), 02751), 0);
    ASSERT_EQ(::chmod((stage_ + "/app/conf").c_str(), 0700), 0);
    make("app/run", "binary", 04755, 1000, 1000);
    make("app/conf/secret", "s3cret", 0640, 2000, 3000);
    make("app/sticky", "t", 01777, 0, 0);
    ASSERT_EQ(::symlink("run", (stage_ + "/app/link").c_str()), 0);
    ASSERT_EQ(::lchown((stage_ + "/app/link").c_str(), 1000, 1000), 0);
    ASSERT_EQ(::link((stage_ + "/app/run").c_str(), (stage_ + "/app/hard").c_str()), 0);
    ASSERT_EQ(::link((stage_ + "/app/conf/secret").c_str(), (stage_ + "/app/also").c_str()), 0);
    std::string cap = net_raw_capability();
    caps_ = ::lsetxattr((stage_ + "/app/run").c_str(), "security.capability", cap.data(),
                        cap.size(), 0) == 0;
    tree_ = open_tree(stage_);
  }

  base::Result<void> copy_from(const std::string& source, std::string_view dest,
                               const CopyOptions& opts) {
    std::vector<std::string> m = MYDOCKER_TRY(tree_->match(source));
    return copy_sources(*tree_, m, false, rootfs_, dest, opts);
  }

  std::string stage_;
  bool caps_ = false;
  std::unique_ptr<SourceTree> tree_;
};

TEST_F(RootCopyFromTest, KeptOwnersKeepModesSetIdBitsCapabilitiesAndHardLinks) {
  CopyOptions keep;
  keep.keep_owner = true;
  ASSERT_TRUE(copy_from("app", "/kept", keep));
  Stat top = lstat_of(at("/kept"));  // made for the copy: root's, as Docker's tar skips "."
  EXPECT_EQ(top.mode & 07777, 0755u);
  EXPECT_EQ(top.uid, 0u);
  Stat run = lstat_of(at("/kept/run"));
  EXPECT_EQ(run.mode & 07777, 04755u);
  EXPECT_EQ(run.uid, 1000u);
  EXPECT_EQ(run.gid, 1000u);
  EXPECT_EQ(lstat_of(at("/kept/sticky")).mode & 07777, 01777u);
  Stat conf = lstat_of(at("/kept/conf"));
  EXPECT_EQ(conf.mode & 07777, 0700u);
  EXPECT_EQ(conf.uid, 0u);
  Stat secret = lstat_of(at("/kept/conf/secret"));
  EXPECT_EQ(secret.mode & 07777, 0640u);
  EXPECT_EQ(secret.uid, 2000u);
  EXPECT_EQ(secret.gid, 3000u);
  Stat link = lstat_of(at("/kept/link"));
  EXPECT_TRUE(S_ISLNK(link.mode));
  EXPECT_EQ(link.uid, 1000u);
  // Hard links stay hard links, within a directory and across directories.
  EXPECT_EQ(inode_of(at("/kept/hard")), inode_of(at("/kept/run")));
  EXPECT_EQ(inode_of(at("/kept/also")), inode_of(at("/kept/conf/secret")));
  EXPECT_NE(inode_of(at("/kept/run")), inode_of(at("/kept/conf/secret")));
  if (caps_) {
    EXPECT_TRUE(has_capability(at("/kept/run")));
  }

  // Into an existing directory: its own owner and mode stay; sub-directories take the source's.
  ASSERT_TRUE(base::mkdir_all(at("/existing")));
  ASSERT_EQ(::chmod(at("/existing").c_str(), 0711), 0);
  ASSERT_TRUE(copy_from(".", "/existing", keep));
  EXPECT_EQ(lstat_of(at("/existing")).mode & 07777, 0711u);
  Stat app = lstat_of(at("/existing/app"));
  EXPECT_EQ(app.uid, 1000u);
  EXPECT_EQ(app.mode & 07777, 02751u);

  // A single file keeps its owner; its new parents are root's.
  ASSERT_TRUE(copy_from("app/conf/secret", "/single/dir/", keep));
  EXPECT_EQ(lstat_of(at("/single/dir/secret")).uid, 2000u);
  EXPECT_EQ(lstat_of(at("/single/dir")).uid, 0u);
  EXPECT_EQ(lstat_of(at("/single/dir")).mode & 07777, 0755u);
}

TEST_F(RootCopyFromTest, SetOwnersWinAndLoseSetIdBitsAsDocker) {
  // --chown beats keep_owner; the chown after the untar clears set-uid and capabilities.
  CopyOptions chown;
  chown.keep_owner = true;
  chown.owner = Owner{7, 8};
  ASSERT_TRUE(copy_from("app", "/chowned", chown));
  Stat run = lstat_of(at("/chowned/run"));
  EXPECT_EQ(run.uid, 7u);
  EXPECT_EQ(run.gid, 8u);
  EXPECT_EQ(run.mode & 07777, 0755u);
  EXPECT_EQ(lstat_of(at("/chowned/sticky")).mode & 07777, 01777u);  // sticky survives a chown
  EXPECT_EQ(lstat_of(at("/chowned/link")).uid, 7u);
  EXPECT_EQ(lstat_of(at("/chowned")).uid, 7u);
  EXPECT_EQ(inode_of(at("/chowned/hard")), inode_of(at("/chowned/run")));
  EXPECT_FALSE(has_capability(at("/chowned/run")));
  // Neither (COPY from the context): root's, set-uid cleared as well.
  ASSERT_TRUE(copy_from("app", "/plain", {}));
  Stat plain = lstat_of(at("/plain/run"));
  EXPECT_EQ(plain.uid, 0u);
  EXPECT_EQ(plain.mode & 07777, 0755u);
  EXPECT_EQ(lstat_of(at("/plain/conf/secret")).uid, 0u);
  // --chmod sets exactly what it says.
  CopyOptions chmod;
  chmod.mode = 04711;
  ASSERT_TRUE(copy_from("app/run", "/modes/run", chmod));
  EXPECT_EQ(lstat_of(at("/modes/run")).mode & 07777, 04711u);
}

class Server {
 public:
  Server() {
    srv_.Get("/files/hello.txt", [](const httplib::Request&, httplib::Response& res) {
      res.set_header("Last-Modified", "Wed, 21 Oct 2015 07:28:00 GMT");
      res.set_content("hello over http", "text/plain");
    });
    srv_.Get("/dir/", [](const httplib::Request&, httplib::Response& res) {
      res.set_header("Content-Disposition", "attachment; filename=\"named.bin\"");
      res.set_content("disposition", "application/octet-stream");
    });
    port_ = srv_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { srv_.listen_after_bind(); });
    mydocker::testing::poll_until([this] { return srv_.is_running(); });
  }
  ~Server() {
    srv_.stop();
    thread_.join();
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  httplib::Server srv_;
  int port_ = 0;
  std::thread thread_;
};

TEST_F(RootCopyTest, AddUrlDownloadsWithNameMtimeAndMode) {
  Server srv;
  std::string dir = tmp_.path() + "/dl";
  ASSERT_TRUE(base::mkdir_all(dir));
  std::vector<std::pair<int64_t, int64_t>> progress;
  auto d = download(srv.url("/files/hello.txt"), dir,
                    [&](int64_t current, int64_t total) { progress.emplace_back(current, total); });
  ASSERT_TRUE(d.has_value()) << d.error().to_string();
  // "Downloading" as moby reports it: at least the final count, of the Content-Length.
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back(), std::make_pair(int64_t{15}, int64_t{15}));
  EXPECT_EQ(d->name, "hello.txt");
  EXPECT_EQ(d->mtime, 1445412480);
  EXPECT_EQ(d->checksum.size(), 64u);
  CopyOptions add;
  add.unpack_archives = true;
  ASSERT_TRUE(copy_download(*d, rootfs_, "/web/", add));
  Stat st = lstat_of(at("/web/hello.txt"));
  EXPECT_EQ(st.mode & 07777, 0600u);
  EXPECT_EQ(st.mtime, 1445412480);
  EXPECT_EQ(*base::read_file(at("/web/hello.txt")), "hello over http");
  ASSERT_TRUE(copy_download(*d, rootfs_, "/web/renamed", add));
  EXPECT_TRUE(base::path_exists(at("/web/renamed")));

  std::string dir2 = tmp_.path() + "/dl2";
  ASSERT_TRUE(base::mkdir_all(dir2));
  auto named = download(srv.url("/dir/"), dir2);
  ASSERT_TRUE(named.has_value()) << named.error().to_string();
  EXPECT_EQ(named->name, "named.bin");

  auto missing = download(srv.url("/missing"), dir2);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), base::ErrorCode::NotFound);
  EXPECT_TRUE(missing.error().message().starts_with("failed to GET " + srv.url("/missing") +
                                                    " with status 404 Not Found"))
      << missing.error().message();
}

}  // namespace
}  // namespace mydocker::engine::build
