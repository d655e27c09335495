// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "engine/fs/changes.h"
#include "engine/fs/etc_files.h"
#include "runtime/base/file.h"
#include "tests/support/busybox_rootfs.h"

namespace mydocker::engine::fs {
namespace {

TEST(EtcFilesTest, Hosts) {
  std::string h = hosts_file("4850cc3221be");
  EXPECT_TRUE(h.starts_with("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"));
  EXPECT_TRUE(h.ends_with("127.0.1.1\t4850cc3221be\n"));
  EXPECT_EQ(hostname_file("web"), "web\n");
}

TEST(EtcFilesTest, ResolvConfDropsLoopbackNameservers) {
  EXPECT_EQ(resolv_conf("search lan\nnameserver 127.0.0.53\nnameserver 10.0.0.1\n", false),
            "search lan\nnameserver 10.0.0.1\n");
  EXPECT_EQ(resolv_conf("nameserver 127.0.0.1\noptions edns0\n", false),
            "options edns0\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n");
  EXPECT_EQ(resolv_conf("", false), "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
  EXPECT_EQ(resolv_conf("nameserver 127.0.0.1\n", true), "nameserver 127.0.0.1\n");
}

TEST(EtcFilesTest, WritesThree) {
  testing::TempDir tmp;
  auto p = write_etc_files(tmp.path(), "myhost", false);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(*base::read_file(p->hostname), "myhost\n");
  EXPECT_NE(base::read_file(p->hosts)->find("myhost"), std::string::npos);
  EXPECT_TRUE(base::path_exists(p->resolv_conf));
}

void put(const std::string& path, const std::string& data = "x") {
  ASSERT_TRUE(base::write_file_atomic(path, data).has_value()) << path;
}

TEST(ChangesTest, OverlayUpperAgainstLowers) {
  testing::TempDir tmp;
  std::string lower = tmp.path() + "/lower";
  std::string upper = tmp.path() + "/upper";
  for (const auto& d : {lower + "/etc", lower + "/tmp", lower + "/bin", upper + "/etc",
                        upper + "/tmp", upper + "/newdir/sub", upper + "/proc"}) {
    ASSERT_TRUE(base::mkdir_all(d).has_value());
  }
  put(lower + "/etc/passwd");
  put(lower + "/etc/group");
  put(lower + "/bin/sh");
  put(upper + "/etc/hosts2");
  put(upper + "/etc/group", "changed");
  put(upper + "/tmp/new-file");
  put(upper + "/newdir/sub/f");
  put(upper + "/etc/hosts");  // a mount point the runtime made: ignored
  bool root = ::geteuid() == 0;
  if (root) {
    ASSERT_EQ(::mknod((upper + "/etc/passwd").c_str(), S_IFCHR | 0000, makedev(0, 0)), 0);
  }
  auto ch = overlay_changes(upper, {lower}, {"/etc/hosts", "/proc"});
  ASSERT_TRUE(ch.has_value()) << ch.error().to_string();
  std::vector<std::pair<std::string, int>> got;
  for (const auto& c : *ch) {
    got.emplace_back(c.path, c.kind);
  }
  std::vector<std::pair<std::string, int>> want = {
      {"/etc", 0},        {"/etc/group", 0},    {"/etc/hosts2", 1}, {"/newdir", 1},
      {"/newdir/sub", 1}, {"/newdir/sub/f", 1}, {"/tmp", 0},        {"/tmp/new-file", 1}};
  if (root) {
    want.insert(want.begin() + 3, {"/etc/passwd", 2});
  }
  EXPECT_EQ(got, want);
  // Nothing changed: no entries (the API prints null).
  testing::TempDir empty;
  EXPECT_TRUE(overlay_changes(empty.path(), {lower}, {})->empty());
}

TEST(ChangesTest, FullCopyAgainstLayers) {
  testing::TempDir tmp;
  std::string base = tmp.path() + "/base";
  std::string top = tmp.path() + "/top";
  std::string copy = tmp.path() + "/copy";
  for (const auto& d : {base + "/etc", base + "/old/deep", top + "/etc", copy + "/etc",
                        copy + "/added/sub", copy + "/proc"}) {
    ASSERT_TRUE(base::mkdir_all(d).has_value());
  }
  put(base + "/etc/passwd");
  put(base + "/etc/shadow");
  put(base + "/old/deep/f");
  put(base + "/gone");
  put(top + "/etc/.wh.shadow");  // the top layer deleted it (Keep-format whiteout)
  put(top + "/etc/group");
  // The copy: passwd kept (same bytes and times), group modified, gone and old deleted.
  ASSERT_EQ(::system(("cp -a " + base + "/etc/passwd " + copy + "/etc/passwd").c_str()), 0);
  put(copy + "/etc/group", "changed");
  put(copy + "/added/sub/f");
  auto ch = tree_changes(copy, {top, base}, {"/proc"});
  ASSERT_TRUE(ch.has_value()) << ch.error().to_string();
  std::vector<std::pair<std::string, int>> got;
  for (const auto& c : *ch) {
    got.emplace_back(c.path, c.kind);
  }
  std::vector<std::pair<std::string, int>> want = {
      {"/added", 1},     {"/added/sub", 1}, {"/added/sub/f", 1}, {"/etc", 0},
      {"/etc/group", 0}, {"/gone", 2},      {"/old", 2}};
  EXPECT_EQ(got, want);
}

TEST(ChangesTest, DirSizeCountsRegularFilesOnce) {
  testing::TempDir tmp;
  ASSERT_TRUE(base::mkdir_all(tmp.path() + "/a").has_value());
  put(tmp.path() + "/a/f", std::string(1000, 'x'));
  put(tmp.path() + "/g", std::string(24, 'y'));
  ASSERT_EQ(::link((tmp.path() + "/g").c_str(), (tmp.path() + "/a/h").c_str()), 0);
  ASSERT_EQ(::symlink("/etc/passwd", (tmp.path() + "/s").c_str()), 0);
  EXPECT_EQ(dir_size(tmp.path()), 1024);
  EXPECT_EQ(dir_size(tmp.path() + "/missing"), 0);
}

}  // namespace
}  // namespace mydocker::engine::fs
