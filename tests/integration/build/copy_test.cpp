// SPDX-License-Identifier: Apache-2.0
#include "engine/build/copy.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/stat.h>
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
  auto d = download(srv.url("/files/hello.txt"), dir);
  ASSERT_TRUE(d.has_value()) << d.error().to_string();
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
