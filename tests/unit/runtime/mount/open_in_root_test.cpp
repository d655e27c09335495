// SPDX-License-Identifier: Apache-2.0
// open_in_root against a hostile image tree, through openat2 and through the fallback walk:
// both must give the same answers.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <string>

#include "runtime/mount/rootfs.h"
#include "tests/support/busybox_rootfs.h"

namespace mydocker::runtime::mount {
namespace {

using OpenFn = base::Result<base::Fd> (*)(int, const std::string&, int, bool);

struct Resolver {
  const char* name;
  OpenFn fn;
};

// gtest prints the parameter in failure messages.
[[maybe_unused]] void PrintTo(const Resolver& r, std::ostream* os) {
  *os << r.name;
}

void symlink_or_die(const std::string& target, const std::string& at) {
  ASSERT_EQ(::symlink(target.c_str(), at.c_str()), 0) << at;
}

class OpenInRootTest : public ::testing::TestWithParam<Resolver> {
 protected:
  void SetUp() override {
    root_ = tmp_.path() + "/root";
    for (const char* d : {"", "/etc", "/a", "/a/b", "/a/b/c"}) {
      ASSERT_EQ(::mkdir((root_ + d).c_str(), 0755), 0) << d;
    }
    std::ofstream(root_ + "/etc/passwd") << "root:x:0:0::/:/bin/sh\n";
    symlink_or_die("/etc", root_ + "/abs");
    symlink_or_die("/etc", root_ + "/a/b/abs");
    symlink_or_die("../../../../etc", root_ + "/rel");
    symlink_or_die("../../../../../../etc", root_ + "/a/b/up");
    symlink_or_die("..", root_ + "/a/b/parent");
    symlink_or_die("/a/b/up", root_ + "/a/chain");
    symlink_or_die("/etc/passwd", root_ + "/file_link");
    symlink_or_die("loop2", root_ + "/loop1");
    symlink_or_die("loop1", root_ + "/loop2");
    symlink_or_die("self", root_ + "/self");
    symlink_or_die("/nonexistent-" + std::to_string(::getpid()) + "/dir", root_ + "/dangling");
    auto fd = base::Fd::open(root_, O_PATH | O_DIRECTORY);
    ASSERT_TRUE(fd) << fd.error().to_string();
    root_fd_ = std::move(*fd);
  }

  base::Result<base::Fd> open(const std::string& path, int flags = O_PATH, bool create = false) {
    return GetParam().fn(root_fd_.get(), path, flags, create);
  }

  // The resolved fd is the inode at `expected` (a path under the root).
  void expect_resolves_to(const std::string& path, const std::string& expected) {
    auto fd = open(path);
    ASSERT_TRUE(fd) << path << ": " << fd.error().to_string();
    struct stat got {};
    struct stat want {};
    ASSERT_EQ(::fstat(fd->get(), &got), 0);
    ASSERT_EQ(::stat((root_ + expected).c_str(), &want), 0) << expected;
    EXPECT_EQ(got.st_dev, want.st_dev) << path << " -> " << expected;
    EXPECT_EQ(got.st_ino, want.st_ino) << path << " -> " << expected;
  }

  void expect_errno(const std::string& path, int err) {
    auto fd = open(path);
    ASSERT_FALSE(fd) << path << " opened";
    EXPECT_EQ(fd.error().sys_errno(), err) << path << ": " << fd.error().to_string();
  }

  testing::TempDir tmp_;
  std::string root_;
  base::Fd root_fd_;
};

TEST_P(OpenInRootTest, PlainPaths) {
  expect_resolves_to("/", "");
  expect_resolves_to("", "");
  expect_resolves_to("/etc", "/etc");
  expect_resolves_to("etc/passwd", "/etc/passwd");
  expect_resolves_to("/a/b/c", "/a/b/c");
  expect_resolves_to("/a/./b//c/", "/a/b/c");
  expect_resolves_to("/a/b/../b/c", "/a/b/c");
}

TEST_P(OpenInRootTest, DotDotStopsAtTheRoot) {
  expect_resolves_to("/..", "");
  expect_resolves_to("/../../../etc", "/etc");
  expect_resolves_to("../../etc/passwd", "/etc/passwd");
  expect_resolves_to("/a/b/../../../../etc", "/etc");
}

TEST_P(OpenInRootTest, AbsoluteSymlinkStaysInside) {
  expect_resolves_to("/abs", "/etc");
  expect_resolves_to("/abs/passwd", "/etc/passwd");
  expect_resolves_to("/a/b/abs", "/etc");
  expect_resolves_to("/a/b/abs/passwd", "/etc/passwd");
  expect_resolves_to("/file_link", "/etc/passwd");
}

TEST_P(OpenInRootTest, RelativeDotDotChainsStayInside) {
  expect_resolves_to("/rel", "/etc");
  expect_resolves_to("/rel/passwd", "/etc/passwd");
  expect_resolves_to("/a/b/up", "/etc");
  expect_resolves_to("/a/chain/passwd", "/etc/passwd");
  // A relative symlink's ".." is taken from the directory holding the symlink.
  expect_resolves_to("/a/b/parent", "/a");
  expect_resolves_to("/a/b/parent/b/c", "/a/b/c");
}

TEST_P(OpenInRootTest, LoopsAreEloop) {
  expect_errno("/loop1", ELOOP);
  expect_errno("/self/x", ELOOP);
}

TEST_P(OpenInRootTest, MissingAndNotADirectory) {
  expect_errno("/nope", ENOENT);
  expect_errno("/dangling", ENOENT);
  expect_errno("/etc/passwd/x", ENOTDIR);
  auto fd = open("/file_link", O_RDONLY | O_DIRECTORY);
  ASSERT_FALSE(fd);
  EXPECT_EQ(fd.error().sys_errno(), ENOTDIR);
}

TEST_P(OpenInRootTest, OpensWithTheAskedFlags) {
  auto fd = open("/abs/passwd", O_RDONLY);
  ASSERT_TRUE(fd) << fd.error().to_string();
  char buf[5] = {};
  ASSERT_EQ(::read(fd->get(), buf, 4), 4);
  EXPECT_EQ(std::string(buf), "root");
  EXPECT_NE(::fcntl(fd->get(), F_GETFD) & FD_CLOEXEC, 0);
}

TEST_P(OpenInRootTest, CreateDirsFollowsSymlinksInside) {
  std::string name = "mydocker-open-in-root-" + std::to_string(::getpid());
  auto fd = open("/abs/" + name + "/sub", O_PATH, true);
  ASSERT_TRUE(fd) << fd.error().to_string();
  struct stat st {};
  EXPECT_EQ(::stat((root_ + "/etc/" + name + "/sub").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  bool on_host = ::stat(("/etc/" + name).c_str(), &st) == 0;
  if (on_host) {
    ::rmdir(("/etc/" + name + "/sub").c_str());
    ::rmdir(("/etc/" + name).c_str());
  }
  EXPECT_FALSE(on_host) << "created on the host's /etc";

  // A dangling absolute symlink is created where it points, inside the root.
  fd = open("/dangling/x", O_PATH, true);
  ASSERT_TRUE(fd) << fd.error().to_string();
  EXPECT_EQ(::stat((root_ + "/nonexistent-" + std::to_string(::getpid()) + "/dir/x").c_str(), &st),
            0);
  EXPECT_NE(::stat(("/nonexistent-" + std::to_string(::getpid())).c_str(), &st), 0);

  fd = open("/rel/../../deep/er", O_PATH, true);
  ASSERT_TRUE(fd) << fd.error().to_string();
  EXPECT_EQ(::stat((root_ + "/deep/er").c_str(), &st), 0);

  fd = open("/loop1/x", O_PATH, true);
  ASSERT_FALSE(fd);
  EXPECT_EQ(fd.error().sys_errno(), ELOOP);
}

base::Result<base::Fd> kernel_or_fallback(int root, const std::string& p, int f, bool c) {
  return open_in_root(root, p, f, c);
}

INSTANTIATE_TEST_SUITE_P(Resolvers, OpenInRootTest,
                         ::testing::Values(Resolver{"openat2", &kernel_or_fallback},
                                           Resolver{"fallback", &open_in_root_fallback_for_test}),
                         [](const auto& p) { return std::string(p.param.name); });

// Magic links: openat2 refuses them (RESOLVE_NO_MAGICLINKS); the walk reads them as text, which
// for /proc/self/root is "/", the root again. Neither reaches the host through them.
TEST(OpenInRootMagicLinkTest, ProcSelfRootIsNotAWayOut) {
  testing::TempDir tmp;
  std::string root = tmp.path();
  ASSERT_EQ(::mkdir((root + "/etc").c_str(), 0755), 0);
  ASSERT_EQ(::symlink("/proc/self/fd", (root + "/fdlink").c_str()), 0);
  auto root_fd = base::Fd::open(root, O_PATH | O_DIRECTORY);
  ASSERT_TRUE(root_fd);

  // Inside the tree there is no /proc: nothing to follow.
  auto fd = open_in_root(root_fd->get(), "/fdlink", O_PATH);
  ASSERT_FALSE(fd);
  EXPECT_EQ(fd.error().sys_errno(), ENOENT);

  // With the host's root as the root, the magic link itself is met.
  auto host_root = base::Fd::open("/", O_PATH | O_DIRECTORY);
  ASSERT_TRUE(host_root);
  std::string via_magic = "/proc/self/root" + root + "/etc";
  fd = open_in_root(host_root->get(), via_magic, O_PATH);
  ASSERT_FALSE(fd) << "openat2 followed a magic link";
  EXPECT_EQ(fd.error().sys_errno(), ELOOP);

  fd = open_in_root_fallback_for_test(host_root->get(), via_magic, O_PATH);
  ASSERT_TRUE(fd) << fd.error().to_string();
  struct stat got {};
  struct stat want {};
  ASSERT_EQ(::fstat(fd->get(), &got), 0);
  ASSERT_EQ(::stat((root + "/etc").c_str(), &want), 0);
  EXPECT_EQ(got.st_ino, want.st_ino);
}

// Random trees of directories, files and symlinks (absolute, relative, climbing, looping),
// random paths through them: the fallback walk must agree with the kernel's RESOLVE_IN_ROOT
// on every one, same inode or same errno. Deterministic seeds.
TEST(OpenInRootAgreementTest, FallbackAgreesWithOpenat2) {
  const std::vector<std::string> names = {"a", "b", "c", "d"};
  int compared = 0;
  for (unsigned seed = 1; seed <= 20; ++seed) {
    std::mt19937 rng(seed);
    auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
    testing::TempDir tmp;
    std::vector<std::string> dirs = {""};
    for (int i = 0; i < 12; ++i) {
      std::string d = dirs[pick(dirs.size())] + "/" + names[pick(names.size())];
      if (::mkdir((tmp.path() + d).c_str(), 0755) == 0) {
        dirs.push_back(d);
      }
    }
    auto random_rel = [&](size_t max_parts) {
      std::string p;
      size_t parts = 1 + pick(max_parts);
      for (size_t k = 0; k < parts; ++k) {
        size_t r = pick(names.size() + 2);
        std::string c = r < names.size() ? names[r] : (r == names.size() ? ".." : ".");
        p += (k == 0 ? "" : "/") + c;
      }
      return p;
    };
    for (int i = 0; i < 12; ++i) {
      std::string at = dirs[pick(dirs.size())] + "/" + names[pick(names.size())];
      if (pick(4) == 0) {
        std::ofstream(tmp.path() + at) << "f";
        continue;
      }
      std::string target = pick(2) == 0 ? "/" + random_rel(4) : random_rel(5);
      (void)::symlink(target.c_str(), (tmp.path() + at).c_str());
    }
    auto root = base::Fd::open(tmp.path(), O_PATH | O_DIRECTORY);
    ASSERT_TRUE(root);
    for (int i = 0; i < 100; ++i) {
      std::string path = (pick(2) == 0 ? "/" : "") + random_rel(6) + (pick(4) == 0 ? "/" : "");
      auto kernel = open_in_root(root->get(), path, O_PATH);
      auto walked = open_in_root_fallback_for_test(root->get(), path, O_PATH);
      ASSERT_EQ(kernel.has_value(), walked.has_value())
          << "seed " << seed << " path " << path << ": "
          << (kernel ? walked.error().to_string() : kernel.error().to_string());
      if (kernel) {
        struct stat k {};
        struct stat w {};
        ASSERT_EQ(::fstat(kernel->get(), &k), 0);
        ASSERT_EQ(::fstat(walked->get(), &w), 0);
        EXPECT_EQ(k.st_ino, w.st_ino) << "seed " << seed << " path " << path;
      } else {
        EXPECT_EQ(kernel.error().sys_errno(), walked.error().sys_errno())
            << "seed " << seed << " path " << path << ": " << kernel.error().to_string() << " vs "
            << walked.error().to_string();
      }
      ++compared;
    }
  }
  EXPECT_EQ(compared, 2000);
}

TEST(NormalizeInRootTest, Cases) {
  EXPECT_EQ(normalize_in_root("/"), "/");
  EXPECT_EQ(normalize_in_root(""), "/");
  EXPECT_EQ(normalize_in_root("a/b/"), "/a/b");
  EXPECT_EQ(normalize_in_root("/a/../b/./c"), "/b/c");
  EXPECT_EQ(normalize_in_root("/.."), std::nullopt);
  EXPECT_EQ(normalize_in_root("a/../.."), std::nullopt);
}

}  // namespace
}  // namespace mydocker::runtime::mount
