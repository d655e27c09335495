// SPDX-License-Identifier: Apache-2.0
// The /sys/fs/cgroup layout a container gets, from host mountinfo and /proc/self/cgroup text.
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <string>

#include "runtime/mount/cgroup_mount.h"

namespace mydocker::runtime::mount {
namespace {

// This project's CI host: v1 controllers, cpu and cpuacct apart, an empty cgroup2 (hybrid).
constexpr const char* kHybridMountinfo =
    "22 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n"
    "90 22 0:32 / /tmp/other\\040place rw,relatime - cgroup cgroup rw,memory\n";
constexpr const char* kHybridCgroup =
    "9:name=systemd:/\n"
    "4:memory:/process_api/abc/web\n"
    "2:cpuacct:/web\n"
    "1:cpu:/web\n"
    "0::/web\n";

// Debian 12 / Fedora: cgroup2 only.
constexpr const char* kV2Mountinfo =
    "22 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
    "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";
constexpr const char* kV2Cgroup = "0::/system.slice/web.scope\n";

// Older distributions: cpu and cpuacct co-mounted, mounted at a nested root.
constexpr const char* kCoMountedMountinfo =
    "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
    "33 31 0:30 /outer /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n";
constexpr const char* kCoMountedCgroup =
    "2:cpu,cpuacct:/docker/web\n"
    "1:pids:/outer/docker/web\n";

MountOp cgroup_op(const std::string& type = "cgroup") {
  MountOp op;
  op.destination = "/sys/fs/cgroup";
  op.type = type;
  op.source = type;
  op.flags = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME | MS_RDONLY;
  return op;
}

std::string describe(const CgroupEntry& e) {
  return e.destination + " " + e.fstype + " " + e.source + (e.data.empty() ? "" : " " + e.data);
}

TEST(CgroupLayoutTest, HybridWithoutNamespaceBindsOwnCgroups) {
  auto layout = plan_cgroup_layout(kHybridMountinfo, kHybridCgroup, cgroup_op(), false);
  ASSERT_TRUE(layout) << layout.error().to_string();
  EXPECT_TRUE(layout->tmpfs);
  std::vector<std::string> got;
  for (const auto& e : layout->entries) {
    got.push_back(describe(e));
  }
  EXPECT_EQ(got, (std::vector<std::string>{
                     "/sys/fs/cgroup/cpu bind /sys/fs/cgroup/cpu/web",
                     "/sys/fs/cgroup/cpuacct bind /sys/fs/cgroup/cpuacct/web",
                     "/sys/fs/cgroup/memory bind /sys/fs/cgroup/memory/process_api/abc/web",
                     "/sys/fs/cgroup/systemd bind /sys/fs/cgroup/systemd",
                 }));
  EXPECT_TRUE(layout->symlinks.empty());
}

TEST(CgroupLayoutTest, HybridWithNamespaceMountsFreshHierarchies) {
  auto layout = plan_cgroup_layout(kHybridMountinfo, kHybridCgroup, cgroup_op(), true);
  ASSERT_TRUE(layout) << layout.error().to_string();
  EXPECT_TRUE(layout->tmpfs);
  std::vector<std::string> got;
  for (const auto& e : layout->entries) {
    got.push_back(describe(e));
  }
  EXPECT_EQ(got, (std::vector<std::string>{
                     "/sys/fs/cgroup/cpu cgroup cgroup cpu",
                     "/sys/fs/cgroup/cpuacct cgroup cgroup cpuacct",
                     "/sys/fs/cgroup/memory cgroup cgroup memory",
                     "/sys/fs/cgroup/systemd cgroup cgroup name=systemd",
                     "/sys/fs/cgroup/unified cgroup2 cgroup2",
                 }));
}

TEST(CgroupLayoutTest, UnifiedOnly) {
  auto layout = plan_cgroup_layout(kV2Mountinfo, kV2Cgroup, cgroup_op(), false);
  ASSERT_TRUE(layout) << layout.error().to_string();
  EXPECT_FALSE(layout->tmpfs);
  ASSERT_EQ(layout->entries.size(), 1u);
  EXPECT_EQ(describe(layout->entries[0]),
            "/sys/fs/cgroup bind /sys/fs/cgroup/system.slice/web.scope");

  layout = plan_cgroup_layout(kV2Mountinfo, kV2Cgroup, cgroup_op(), true);
  ASSERT_TRUE(layout);
  ASSERT_EQ(layout->entries.size(), 1u);
  EXPECT_EQ(describe(layout->entries[0]), "/sys/fs/cgroup cgroup2 cgroup2");

  // type cgroup2 on a hybrid host: just the unified tree.
  layout = plan_cgroup_layout(kHybridMountinfo, kHybridCgroup, cgroup_op("cgroup2"), true);
  ASSERT_TRUE(layout);
  EXPECT_FALSE(layout->tmpfs);
  ASSERT_EQ(layout->entries.size(), 1u);
  EXPECT_EQ(describe(layout->entries[0]), "/sys/fs/cgroup cgroup2 cgroup2");
}

TEST(CgroupLayoutTest, CoMountedControllersGetSymlinksAndNestedRootsAreStripped) {
  auto layout = plan_cgroup_layout(kCoMountedMountinfo, kCoMountedCgroup, cgroup_op(), false);
  ASSERT_TRUE(layout) << layout.error().to_string();
  std::vector<std::string> got;
  for (const auto& e : layout->entries) {
    got.push_back(describe(e));
  }
  EXPECT_EQ(got, (std::vector<std::string>{
                     "/sys/fs/cgroup/cpu,cpuacct bind /sys/fs/cgroup/cpu,cpuacct/docker/web",
                     "/sys/fs/cgroup/pids bind /sys/fs/cgroup/pids/docker/web",
                 }));
  EXPECT_EQ(layout->symlinks, (std::vector<std::pair<std::string, std::string>>{
                                  {"cpu", "cpu,cpuacct"}, {"cpuacct", "cpu,cpuacct"}}));
}

TEST(CgroupLayoutTest, NoCgroupsMounted) {
  auto layout =
      plan_cgroup_layout("22 1 254:0 / / rw - ext4 /dev/vda rw\n", "0::/\n", cgroup_op(), false);
  ASSERT_FALSE(layout);
  EXPECT_EQ(layout.error().code(), base::ErrorCode::FailedPrecondition);
}

}  // namespace
}  // namespace mydocker::runtime::mount
