// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "runtime/mount/rootfs.h"
#include "tests/support/busybox_rootfs.h"

namespace mydocker::runtime::mount {
namespace {

using base::ErrorCode;

spec::Spec spec_with(std::vector<spec::Mount> mounts) {
  spec::Spec s;
  s.root.path = "/nonexistent-rootfs";
  s.mounts = std::move(mounts);
  return s;
}

struct FlagCase {
  std::vector<std::string> options;
  unsigned long flags;
  std::string data;
};

TEST(PlanTest, OptionsBecomeFlagsAndData) {
  const std::vector<FlagCase> cases = {
      {{}, 0, ""},
      {{"ro"}, MS_RDONLY, ""},
      {{"ro", "rw"}, 0, ""},
      {{"rw", "ro"}, MS_RDONLY, ""},
      {{"nosuid", "nodev", "noexec"}, MS_NOSUID | MS_NODEV | MS_NOEXEC, ""},
      {{"nosuid", "suid", "nodev", "dev", "noexec", "exec"}, 0, ""},
      {{"sync"}, MS_SYNCHRONOUS, ""},
      {{"sync", "async"}, 0, ""},
      {{"dirsync"}, MS_DIRSYNC, ""},
      {{"remount"}, MS_REMOUNT, ""},
      {{"mand"}, MS_MANDLOCK, ""},
      {{"mand", "nomand"}, 0, ""},
      {{"noatime"}, MS_NOATIME, ""},
      {{"noatime", "atime"}, 0, ""},
      {{"nodiratime"}, MS_NODIRATIME, ""},
      {{"nodiratime", "diratime"}, 0, ""},
      {{"relatime"}, MS_RELATIME, ""},
      {{"relatime", "norelatime"}, 0, ""},
      {{"strictatime"}, MS_STRICTATIME, ""},
      {{"strictatime", "nostrictatime"}, 0, ""},
      {{"defaults"}, 0, ""},
      {{"nosuid", "strictatime", "mode=755", "size=65536k"},
       MS_NOSUID | MS_STRICTATIME,
       "mode=755,size=65536k"},
      {{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"},
       MS_NOSUID | MS_NOEXEC,
       "newinstance,ptmxmode=0666,mode=0620,gid=5"},
      {{"frobnicate"}, 0, "frobnicate"},
  };
  for (const auto& c : cases) {
    auto ops = plan(spec_with({{"/dev", "tmpfs", "tmpfs", c.options}}));
    ASSERT_TRUE(ops) << ops.error().to_string();
    ASSERT_EQ(ops->size(), 1u);
    const MountOp& op = (*ops)[0];
    std::string what = ::testing::PrintToString(c.options);
    EXPECT_EQ(op.flags, c.flags) << what;
    EXPECT_EQ(op.data, c.data) << what;
    EXPECT_EQ(op.type, "tmpfs") << what;
    EXPECT_EQ(op.source, "tmpfs") << what;
    EXPECT_EQ(op.destination, "/dev") << what;
    EXPECT_FALSE(op.is_bind()) << what;
    EXPECT_EQ(op.propagation, 0u) << what;
  }
}

TEST(PlanTest, Propagation) {
  const std::vector<std::pair<std::string, unsigned long>> cases = {
      {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
      {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
      {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
      {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
  };
  for (const auto& [name, flags] : cases) {
    auto ops = plan(spec_with({{"/data", "bind", "/tmp", {"rbind", name}}}));
    ASSERT_TRUE(ops) << ops.error().to_string();
    EXPECT_EQ((*ops)[0].propagation, flags) << name;
    EXPECT_EQ((*ops)[0].flags, MS_BIND | MS_REC) << name;
    EXPECT_EQ((*ops)[0].data, "") << name;
  }
  auto same_twice = plan(spec_with({{"/data", "bind", "/tmp", {"rslave", "rslave"}}}));
  EXPECT_TRUE(same_twice);

  auto conflict = plan(spec_with({{"/data", "bind", "/tmp", {"rbind", "shared", "private"}}}));
  ASSERT_FALSE(conflict);
  EXPECT_EQ(conflict.error().code(), ErrorCode::InvalidArgument);
  EXPECT_EQ(conflict.error().to_string(),
            "mounts[0].options: conflicting propagation `shared` and `private`");
}

TEST(PlanTest, RootfsPropagationIsValidated) {
  spec::Spec s = spec_with({});
  for (const char* ok : {"", "private", "rprivate", "slave", "rslave", "shared", "rshared",
                         "unbindable", "runbindable"}) {
    s.linux.rootfs_propagation = ok;
    EXPECT_TRUE(plan(s)) << ok;
  }
  s.linux.rootfs_propagation = "sharedish";
  auto r = plan(s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
  EXPECT_EQ(r.error().to_string(), "linux.rootfsPropagation `sharedish`: unknown propagation");
}

TEST(PlanTest, BindMounts) {
  testing::TempDir tmp;
  std::string file = tmp.path() + "/file";
  std::ofstream(file) << "x";

  struct Case {
    spec::Mount mount;
    unsigned long flags;
    bool remount;
    bool is_dir;
  };
  const std::vector<Case> cases = {
      {{"/a", "bind", tmp.path(), {}}, MS_BIND, false, true},
      {{"/a", "none", tmp.path(), {"rbind"}}, MS_BIND | MS_REC, false, true},
      {{"/a", "", tmp.path(), {"bind"}}, MS_BIND, false, true},
      {{"/a", "tmpfs", tmp.path(), {"rbind"}}, MS_BIND | MS_REC, false, true},
      {{"/a", "bind", tmp.path(), {"rbind", "ro"}}, MS_BIND | MS_REC | MS_RDONLY, true, true},
      {{"/a", "bind", tmp.path(), {"bind", "nosuid", "nodev", "noexec"}},
       MS_BIND | MS_NOSUID | MS_NODEV | MS_NOEXEC,
       true,
       true},
      {{"/etc/hosts", "bind", file, {"rbind", "ro"}}, MS_BIND | MS_REC | MS_RDONLY, true, false},
  };
  for (const auto& c : cases) {
    auto ops = plan(spec_with({c.mount}));
    ASSERT_TRUE(ops) << ops.error().to_string();
    const MountOp& op = (*ops)[0];
    std::string what = c.mount.type + " " + ::testing::PrintToString(c.mount.options);
    EXPECT_TRUE(op.is_bind()) << what;
    EXPECT_EQ(op.type, "bind") << what;
    EXPECT_EQ(op.flags, c.flags) << what;
    EXPECT_EQ(op.bind_remount, c.remount) << what;
    EXPECT_EQ(op.source_is_dir, c.is_dir) << what;
    EXPECT_EQ(op.source, c.mount.source) << what;
  }
}

TEST(PlanTest, RelativeBindSourceIsFromTheBundleOrCurrentDirectory) {
  testing::TempDir tmp;
  ASSERT_EQ(::mkdir((tmp.path() + "/vol").c_str(), 0755), 0);
  char old_cwd[4096];
  ASSERT_NE(::getcwd(old_cwd, sizeof old_cwd), nullptr);
  ASSERT_EQ(::chdir(tmp.path().c_str()), 0);
  auto ops = plan(spec_with({{"/data", "bind", "vol", {"rbind"}}}));
  ASSERT_EQ(::chdir(old_cwd), 0);
  ASSERT_TRUE(ops) << ops.error().to_string();
  EXPECT_EQ((*ops)[0].source, tmp.path() + "/vol");

  // With the bundle directory given, the current directory does not matter.
  ops = plan(spec_with({{"/data", "bind", "vol", {"rbind"}}}), tmp.path());
  ASSERT_TRUE(ops) << ops.error().to_string();
  EXPECT_EQ((*ops)[0].source, tmp.path() + "/vol");
  auto missing = plan(spec_with({{"/data", "bind", "vol", {"rbind"}}}), "/nonexistent-bundle");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().to_string(), "mounts[0].source `vol`: No such file or directory");
}

TEST(PlanTest, MissingBindSourceIsNotFound) {
  auto r = plan(spec_with(
      {{"/proc", "proc", "proc", {}}, {"/data", "bind", "/nonexistent/mydocker-src", {"rbind"}}}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::NotFound);
  EXPECT_EQ(r.error().to_string(),
            "mounts[1].source `/nonexistent/mydocker-src`: No such file or directory");
}

TEST(PlanTest, DestinationsAreNormalised) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/proc", "/proc"},         {"proc", "/proc"},
      {"dev/pts", "/dev/pts"},    {"//dev///pts/", "/dev/pts"},
      {"/dev/./pts", "/dev/pts"}, {"/a/../b", "/b"},
      {"a/b/../../c", "/c"},      {"./x", "/x"},
  };
  for (const auto& [in, out] : cases) {
    auto ops = plan(spec_with({{in, "tmpfs", "tmpfs", {}}}));
    ASSERT_TRUE(ops) << in << ": " << ops.error().to_string();
    EXPECT_EQ((*ops)[0].destination, out) << in;
  }
}

TEST(PlanTest, EscapingDestinationsAreRejected) {
  for (std::string dest : {"../../etc", "/../etc", "/a/../../etc", "a/b/../../../x", ".."}) {
    auto r = plan(spec_with({{"/proc", "proc", "proc", {}},
                             {"/sys", "sysfs", "sysfs", {}},
                             {"/dev", "tmpfs", "tmpfs", {}},
                             {dest, "tmpfs", "tmpfs", {}}}));
    ASSERT_FALSE(r) << dest;
    EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument) << dest;
    EXPECT_EQ(r.error().to_string(),
              "mounts[3].destination `" + dest + "`: escapes the root filesystem");
  }
}

TEST(PlanTest, OtherBadMounts) {
  struct Case {
    spec::Mount mount;
    ErrorCode code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"", "tmpfs", "tmpfs", {}}, ErrorCode::InvalidArgument, "mounts[0].destination: required"},
      {{"/", "tmpfs", "tmpfs", {}},
       ErrorCode::InvalidArgument,
       "mounts[0].destination `/`: cannot mount over the root filesystem"},
      {{"/a/..", "tmpfs", "tmpfs", {}},
       ErrorCode::InvalidArgument,
       "mounts[0].destination `/a/..`: cannot mount over the root filesystem"},
      {{"/x", "", "tmpfs", {}},
       ErrorCode::InvalidArgument,
       "mounts[0].type: required for `/x` (not a bind mount)"},
      {{"/x", "bind", "", {}},
       ErrorCode::InvalidArgument,
       "mounts[0].source: required for the bind mount on `/x`"},
      {{"/x", "proc", "proc", {"nosuid", "tmpcopyup"}},
       ErrorCode::InvalidArgument,
       "mounts[0].options[1] `tmpcopyup`: only for tmpfs, not `proc`"},
      {{"/x", "bind", "/tmp", {"rbind", "idmap"}},
       ErrorCode::NotImplemented,
       "mounts[0].options[1] `idmap`: not implemented"},
  };
  for (const auto& c : cases) {
    auto r = plan(spec_with({c.mount}));
    ASSERT_FALSE(r) << c.message;
    EXPECT_EQ(r.error().code(), c.code) << c.message;
    EXPECT_EQ(r.error().to_string(), c.message);
  }
}

TEST(PlanTest, TmpCopyUp) {
  auto ops = plan(spec_with({{"/etc", "tmpfs", "tmpfs", {"tmpcopyup", "mode=755"}}}));
  ASSERT_TRUE(ops) << ops.error().to_string();
  EXPECT_TRUE((*ops)[0].tmpcopyup);
  EXPECT_EQ((*ops)[0].data, "mode=755");
  ops = plan(spec_with({{"/etc", "tmpfs", "tmpfs", {"mode=755"}}}));
  ASSERT_TRUE(ops);
  EXPECT_FALSE((*ops)[0].tmpcopyup);
}

TEST(PlanTest, RecursiveOptionsBecomeMountAttrs) {
  auto ops = plan(spec_with({{"/a", "bind", "/tmp", {"rbind", "rro", "rnosuid", "rnodev"}}}));
  ASSERT_TRUE(ops) << ops.error().to_string();
  EXPECT_EQ((*ops)[0].attr_set, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
  EXPECT_EQ((*ops)[0].attr_clear, 0u);
  EXPECT_EQ((*ops)[0].data, "");

  ops = plan(spec_with({{"/a", "bind", "/tmp", {"rbind", "rro", "rrw", "rnoatime"}}}));
  ASSERT_TRUE(ops) << ops.error().to_string();
  EXPECT_EQ((*ops)[0].attr_set, static_cast<uint64_t>(MOUNT_ATTR_NOATIME));
  EXPECT_EQ((*ops)[0].attr_clear, MOUNT_ATTR_RDONLY | MOUNT_ATTR__ATIME);
}

TEST(PlanTest, MaskedAndReadonlyPathsMustStayInside) {
  spec::Spec s = spec_with({});
  s.linux.masked_paths = {"/proc/kcore", "/proc/../../etc"};
  auto r = plan(s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().to_string(),
            "linux.maskedPaths[1] `/proc/../../etc`: escapes the root filesystem");
  s.linux.masked_paths = {"/proc/kcore"};
  s.linux.readonly_paths = {"/proc/sys", "../x"};
  r = plan(s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().to_string(), "linux.readonlyPaths[1] `../x`: escapes the root filesystem");
}

// With the rootfs at hand, plan() follows the destination's symlinks: absolute ones are the
// image's business (resolved inside), relative ones that climb above the root are refused.
TEST(PlanTest, SymlinksClimbingOutOfTheRootfsAreRefused) {
  testing::TempDir tmp;
  std::string root = tmp.path();
  ASSERT_EQ(::mkdir((root + "/a").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((root + "/a/b").c_str(), 0755), 0);
  ASSERT_EQ(::symlink("/etc", (root + "/abs").c_str()), 0);
  ASSERT_EQ(::symlink("../../x", (root + "/a/b/inside").c_str()), 0);
  ASSERT_EQ(::symlink("../../x", (root + "/a/out").c_str()), 0);
  ASSERT_EQ(::symlink("/a/out", (root + "/via").c_str()), 0);
  ASSERT_EQ(::symlink("../../../../etc", (root + "/evil").c_str()), 0);
  ASSERT_EQ(::symlink("loop", (root + "/loop").c_str()), 0);

  struct Case {
    std::string dest;
    std::string error;  // empty: accepted
  };
  const std::vector<Case> cases = {
      {"/abs/x", ""},
      {"/a/b/inside/y", ""},
      {"/missing/dir/x", ""},
      {"/evil/x",
       "mounts[0].destination `/evil/x`: symlink `/evil` -> `../../../../etc` escapes the root "
       "filesystem"},
      {"evil",
       "mounts[0].destination `evil`: symlink `/evil` -> `../../../../etc` escapes the "
       "root filesystem"},
      {"/a/out/x",
       "mounts[0].destination `/a/out/x`: symlink `/a/out` -> `../../x` escapes the root "
       "filesystem"},
      {"/via/x",
       "mounts[0].destination `/via/x`: symlink `/a/out` -> `../../x` escapes the root "
       "filesystem"},
      {"/loop/x", "mounts[0].destination `/loop/x`: Too many levels of symbolic links"},
  };
  for (const auto& c : cases) {
    spec::Spec s = spec_with({{c.dest, "tmpfs", "tmpfs", {}}});
    s.root.path = root;
    auto r = plan(s);
    if (c.error.empty()) {
      EXPECT_TRUE(r) << c.dest << ": " << r.error().to_string();
    } else {
      ASSERT_FALSE(r) << c.dest;
      EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument) << c.dest;
      EXPECT_EQ(r.error().to_string(), c.error);
    }
  }
}

TEST(PlanTest, DevicesAreValidated) {
  spec::Spec s = spec_with({});
  s.linux.devices = {{"/dev/fuse", 'c', 10, 229, {}, {}, {}}, {"dev/sda", 'b', 8, 0, {}, {}, {}}};
  EXPECT_TRUE(plan(s));
  s.linux.devices.push_back({"/dev/../../x", 'c', 1, 3, {}, {}, {}});
  auto r = plan(s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().to_string(),
            "linux.devices[2].path `/dev/../../x`: escapes the root filesystem");
  s.linux.devices.back() = {"/dev/..", 'c', 1, 3, {}, {}, {}};
  r = plan(s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().to_string(), "linux.devices[2].path `/dev/..`: not a device path");
  s.linux.devices.back() = {"/dev/x", 'x', 1, 3, {}, {}, {}};
  r = plan(s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().to_string(), "linux.devices[2].type `x`: must be c, u, b or p");
}

TEST(PlanTest, RuncDefaultMountsPlan) {
  spec::Spec s = spec_with({
      {"/proc", "proc", "proc", {}},
      {"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}},
      {"/dev/pts",
       "devpts",
       "devpts",
       {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
      {"/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
      {"/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}},
      {"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}},
      {"/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}},
  });
  auto ops = plan(s);
  ASSERT_TRUE(ops) << ops.error().to_string();
  ASSERT_EQ(ops->size(), 7u);
  for (size_t i = 0; i < ops->size(); ++i) {
    EXPECT_EQ((*ops)[i].index, i);
  }
  EXPECT_EQ((*ops)[5].flags, MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY);
  EXPECT_EQ((*ops)[6].type, "cgroup");
  EXPECT_EQ((*ops)[3].source, "shm");
}

}  // namespace
}  // namespace mydocker::runtime::mount
