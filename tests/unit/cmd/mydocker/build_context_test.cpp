// SPDX-License-Identifier: Apache-2.0
// The build context sender (cmd/mydocker/build_context.h): the .dockerignore walk as the
// docker CLI does it (`!` exceptions, `**`, the Dockerfile and .dockerignore always sent),
// -f outside the context and from stdin (AddDockerfileToBuildContext), symlinks sent as
// symlinks, nothing named outside the root, and the tar itself read back by libarchive.
#include "cmd/mydocker/build_context.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>

#include "runtime/base/file.h"
#include "tests/support/busybox_rootfs.h"

namespace mydocker::cli {
namespace {

using mydocker::testing::TempDir;

struct Read {
  char type = '0';   // '0' file, '1' hard link, '2' symlink, '5' dir
  std::string data;  // file content, or link target
  unsigned mode = 0;
  int64_t uid = -1;
};

// The whole stream of `entries`, read in odd-sized pieces.
std::string tar_of(std::vector<ContextEntry> entries) {
  uint64_t expected = TarStream::size_of(entries);
  TarStream s(std::move(entries));
  std::string out;
  char buf[777];
  for (;;) {
    auto n = s.read(buf, sizeof(buf));
    EXPECT_TRUE(n) << n.error().to_string();
    if (!n || *n == 0) {
      break;
    }
    out.append(buf, *n);
  }
  EXPECT_EQ(out.size(), expected);
  EXPECT_EQ(s.sent(), out.size());
  return out;
}

std::map<std::string, Read> read_tar(const std::string& tar) {
  std::map<std::string, Read> out;
  archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  EXPECT_EQ(archive_read_open_memory(a, tar.data(), tar.size()), ARCHIVE_OK);
  archive_entry* e = nullptr;
  int r;
  while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
    Read item;
    std::string name = archive_entry_pathname(e);
    item.mode = archive_entry_mode(e);
    item.uid = archive_entry_uid(e);
    if (archive_entry_hardlink(e) != nullptr) {
      item.type = '1';
      item.data = archive_entry_hardlink(e);
    } else if (archive_entry_filetype(e) == AE_IFLNK) {
      item.type = '2';
      item.data = archive_entry_symlink(e);
    } else if (archive_entry_filetype(e) == AE_IFDIR) {
      item.type = '5';
    } else {
      char buf[4096];
      la_ssize_t n;
      while ((n = archive_read_data(a, buf, sizeof(buf))) > 0) {
        item.data.append(buf, static_cast<size_t>(n));
      }
    }
    out[name] = item;
  }
  EXPECT_EQ(r, ARCHIVE_EOF) << archive_error_string(a);
  archive_read_free(a);
  return out;
}

std::vector<std::string> names(const std::vector<ContextEntry>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) {
    out.push_back(e.name);
  }
  return out;
}

class BuildContextTest : public ::testing::Test {
 protected:
  void put(const std::string& rel, const std::string& data) {
    std::string p = dir_.path() + "/" + rel;
    ASSERT_TRUE(base::mkdir_all(p.substr(0, p.rfind('/'))));
    ASSERT_TRUE(base::write_file(p, data, O_CREAT));
  }
  std::string ctx() const { return dir_.path() + "/ctx"; }
  TempDir dir_;
};

TEST_F(BuildContextTest, WalksInLexicalOrderWithDockersHeaders) {
  put("ctx/Dockerfile", "FROM busybox\n");
  put("ctx/b.txt", "bee");
  put("ctx/a/z.txt", "zed");
  put("ctx/a-b", "dash");
  ASSERT_EQ(::chmod((ctx() + "/b.txt").c_str(), 0750), 0);
  ASSERT_EQ(::symlink("../../etc/passwd", (ctx() + "/escape").c_str()), 0);
  ASSERT_EQ(::link((ctx() + "/b.txt").c_str(), (ctx() + "/hard").c_str()), 0);
  auto lc = plan_local_context(ctx(), "");
  ASSERT_TRUE(lc) << lc.error().to_string();
  EXPECT_EQ(lc->dockerfile, "Dockerfile");
  EXPECT_EQ(names(lc->entries), (std::vector<std::string>{"Dockerfile", "a/", "a/z.txt", "a-b",
                                                          "b.txt", "escape", "hard"}));
  auto files = read_tar(tar_of(lc->entries));
  ASSERT_EQ(files.size(), 7u);
  EXPECT_EQ(files["Dockerfile"].data, "FROM busybox\n");
  EXPECT_EQ(files["a/z.txt"].data, "zed");
  EXPECT_EQ(files["a/"].type, '5');
  EXPECT_EQ(files["b.txt"].mode, 0100750u);
  EXPECT_EQ(files["b.txt"].uid, 0);
  // A symlink is sent as a symlink, its target as written, never followed.
  EXPECT_EQ(files["escape"].type, '2');
  EXPECT_EQ(files["escape"].data, "../../etc/passwd");
  // The second name of a hard-linked file is a link to the first.
  EXPECT_EQ(files["hard"].type, '1');
  EXPECT_EQ(files["hard"].data, "b.txt");
  // No name leads outside the root.
  for (const auto& e : lc->entries) {
    EXPECT_FALSE(e.name.starts_with("/") || e.name.starts_with("../") || e.name == "..") << e.name;
  }
  // Go's tar: 512-byte header per entry, data padded to 512, two zero blocks at the end.
  EXPECT_EQ(TarStream::size_of(lc->entries), 7 * 512 + 4 * 512 + 1024u);
}

TEST_F(BuildContextTest, TinyContextIsDockersTwoKilobytes) {
  put("ctx/Dockerfile", "FROM busybox\n");
  auto lc = plan_local_context(ctx(), "");
  ASSERT_TRUE(lc);
  EXPECT_EQ(TarStream::size_of(lc->entries), 2048u);  // "Sending ... 2.048kB"
}

TEST_F(BuildContextTest, DockerignoreExceptionsAndDoubleStar) {
  put("ctx/Dockerfile", "FROM busybox\n");
  put("ctx/.dockerignore",
      "# comment\n*.log\n!keep.log\n**/tmp\nvendor\n!vendor/inc/**\n/secret\n");
  put("ctx/app.log", "x");
  put("ctx/keep.log", "k");
  put("ctx/src/main.c", "int main;");
  put("ctx/src/tmp/junk", "j");
  put("ctx/tmp/junk", "j");
  put("ctx/deep/er/tmp/junk", "j");
  put("ctx/vendor/lib.a", "v");
  put("ctx/vendor/inc/x/h.h", "h");
  put("ctx/secret", "s");
  auto lc = plan_local_context(ctx(), "");
  ASSERT_TRUE(lc) << lc.error().to_string();
  EXPECT_EQ(names(lc->entries), (std::vector<std::string>{
                                    ".dockerignore", "Dockerfile", "deep/", "deep/er/", "keep.log",
                                    "src/", "src/main.c", "vendor/inc/x/", "vendor/inc/x/h.h"}));
}

TEST_F(BuildContextTest, DockerfileAndDockerignoreAreSentEvenWhenExcluded) {
  put("ctx/.dockerignore", "*\n");
  put("ctx/build/Dockerfile.dev", "FROM busybox\n");
  put("ctx/data", "d");
  // -f is relative to the current directory, not to the context.
  char cwd[4096];
  ASSERT_NE(::getcwd(cwd, sizeof(cwd)), nullptr);
  ASSERT_EQ(::chdir(ctx().c_str()), 0);
  auto lc = plan_local_context(".", "build/Dockerfile.dev");
  ASSERT_EQ(::chdir(cwd), 0);
  ASSERT_TRUE(lc) << lc.error().to_string();
  EXPECT_EQ(lc->dockerfile, "build/Dockerfile.dev");
  EXPECT_EQ(names(lc->entries),
            (std::vector<std::string>{".dockerignore", "build/Dockerfile.dev"}));
}

TEST_F(BuildContextTest, DockerfileOutsideTheContextIsAddedUnderARandomName) {
  put("ctx/app.txt", "a");
  put("ctx/.dockerignore", "*.tmp");
  put("elsewhere/Dockerfile", "FROM busybox\nCOPY app.txt /\n");
  auto lc = plan_local_context(ctx(), dir_.path() + "/elsewhere/Dockerfile");
  ASSERT_TRUE(lc) << lc.error().to_string();
  EXPECT_EQ(lc->dockerfile, "../elsewhere/Dockerfile");
  EXPECT_EQ(names(lc->entries), (std::vector<std::string>{".dockerignore", "app.txt"}));
  std::string name = random_dockerfile_name();
  ASSERT_EQ(name.size(), 32u);
  EXPECT_TRUE(name.starts_with(".dockerfile."));
  EXPECT_NE(name, random_dockerfile_name());
  add_dockerfile(lc->entries, name, "FROM busybox\nCOPY app.txt /\n", 1700000000);
  auto files = read_tar(tar_of(lc->entries));
  EXPECT_EQ(files[name].data, "FROM busybox\nCOPY app.txt /\n");
  EXPECT_EQ(files[name].mode & 07777, 0600u);
  // The existing .dockerignore names it, so COPY . does not pick it up.
  EXPECT_EQ(files[".dockerignore"].data, "*.tmp\n" + name + "\n");
}

TEST_F(BuildContextTest, DockerfileFromStdinAddsADockerignoreWhenThereIsNone) {
  put("ctx/app.txt", "a");
  auto lc = plan_local_context(ctx(), "-");
  ASSERT_TRUE(lc) << lc.error().to_string();
  EXPECT_EQ(lc->dockerfile, "-");
  add_dockerfile(lc->entries, ".dockerfile.0123456789abcdef0123", "FROM scratch\n", 1700000000);
  auto files = read_tar(tar_of(lc->entries));
  EXPECT_EQ(files[".dockerfile.0123456789abcdef0123"].data, "FROM scratch\n");
  EXPECT_EQ(files[".dockerignore"].data, ".dockerignore\n.dockerfile.0123456789abcdef0123\n");
  EXPECT_EQ(files.count("app.txt"), 1u);
}

TEST_F(BuildContextTest, DockerfileOnlyContext) {
  auto files = read_tar(tar_of(dockerfile_only_context("FROM busybox\n", 1700000000)));
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files["Dockerfile"].data, "FROM busybox\n");
}

TEST_F(BuildContextTest, DockersErrors) {
  put("ctx/file", "x");
  auto r = plan_local_context(ctx() + "/file", "");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(),
            "unable to prepare context: context must be a directory: " + ctx() + "/file");
  r = plan_local_context(ctx(), "");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(),
            "unable to prepare context: Cannot locate Dockerfile: \"" + ctx() + "/Dockerfile\"");
  // Docker's fallback to a lower-case dockerfile.
  put("ctx/dockerfile", "FROM busybox\n");
  r = plan_local_context(ctx(), "");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->dockerfile, "dockerfile");
  put("ctx/.dockerignore", "[\n");
  r = plan_local_context(ctx(), "");
  EXPECT_FALSE(r);
}

TEST_F(BuildContextTest, LongNamesUsePrefixOrPax) {
  std::string split = std::string(80, 'd') + "/" + std::string(90, 'f');  // USTAR prefix
  std::string pax = std::string(120, 'p');                                // one long component
  std::string link_target = std::string(150, 't');
  put("ctx/Dockerfile", "FROM busybox\n");
  put("ctx/" + split, "split");
  put("ctx/" + pax, "pax");
  ASSERT_EQ(::symlink(link_target.c_str(), (ctx() + "/ln").c_str()), 0);
  auto lc = plan_local_context(ctx(), "");
  ASSERT_TRUE(lc) << lc.error().to_string();
  auto files = read_tar(tar_of(lc->entries));
  EXPECT_EQ(files[split].data, "split");
  EXPECT_EQ(files[pax].data, "pax");
  EXPECT_EQ(files["ln"].data, link_target);
  // Go writes a PAX header only where USTAR cannot hold the name or the link.
  for (const auto& e : lc->entries) {
    if (e.name == split) {
      EXPECT_EQ(tar_header(e).size(), 512u);
    }
    if (e.name == pax || e.name == "ln") {
      EXPECT_EQ(tar_header(e).size(), 3 * 512u);
    }
  }
}

TEST_F(BuildContextTest, FileChangingWhileSentIsAnError) {
  put("ctx/Dockerfile", "FROM busybox\n");
  put("ctx/grow", "abc");
  auto lc = plan_local_context(ctx(), "");
  ASSERT_TRUE(lc);
  put("ctx/grow", "abcdef");
  TarStream s(lc->entries);
  char buf[65536];
  base::Result<size_t> n = size_t{0};
  do {
    n = s.read(buf, sizeof(buf));
  } while (n && *n > 0);
  ASSERT_FALSE(n);
  EXPECT_NE(n.error().message().find("grew"), std::string::npos) << n.error().message();
}

TEST(IsArchive, DetectsTarsAndCompressionByContent) {
  EXPECT_TRUE(is_archive(std::string("\x1f\x8b\x08\x00", 4)));
  EXPECT_TRUE(is_archive("BZh91AY"));
  EXPECT_TRUE(
      is_archive(std::string("\xfd"
                             "7zXZ\x00",
                             6)));
  EXPECT_TRUE(is_archive(std::string("\x28\xb5\x2f\xfd", 4)));
  ContextEntry e;
  e.name = "Dockerfile";
  e.mode = 0100644;
  e.size = 3;
  EXPECT_TRUE(is_archive(tar_header(e)));
  EXPECT_FALSE(is_archive("FROM busybox\nRUN true\n"));
  EXPECT_FALSE(is_archive(std::string(512, 'F')));
  EXPECT_FALSE(is_archive(std::string(512, '\0')));
  std::string bad = tar_header(e);
  bad[0] = 'X';  // checksum no longer matches
  EXPECT_FALSE(is_archive(bad));
}

}  // namespace
}  // namespace mydocker::cli
