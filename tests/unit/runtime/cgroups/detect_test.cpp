// SPDX-License-Identifier: Apache-2.0
#include <fcntl.h>
#include <gtest/gtest.h>

#include "runtime/base/file.h"
#include "runtime/cgroups/manager.h"
#include "tests/support/busybox_rootfs.h"

namespace mydocker::runtime::cgroups {
namespace {

// Debian 9 / CentOS 7 style: co-mounted controllers, a named systemd hierarchy with a
// release agent, and no cgroup2 at all.
constexpr const char* kV1 =
    "25 18 0:21 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n"
    "26 25 0:22 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:10 - cgroup "
    "cgroup rw,xattr,release_agent=/lib/systemd/systemd-cgroups-agent,name=systemd\n"
    "28 25 0:24 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:11 - "
    "cgroup cgroup rw,cpu,cpuacct\n"
    "29 25 0:25 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid shared:12 - cgroup cgroup "
    "rw,net_cls,net_prio\n"
    "30 25 0:26 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:13 - cgroup "
    "cgroup rw,memory\n"
    "31 25 0:27 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:14 - cgroup "
    "cgroup rw,pids\n"
    "32 25 0:28 / /sys/fs/cgroup/cpuset rw,relatime shared:15 - cgroup cgroup "
    "rw,cpuset,clone_children\n";

// This host (cat /proc/self/mountinfo).
constexpr const char* kHybrid =
    "23 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime - sysfs sysfs rw\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
    "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

// Debian 12 / Fedora: the unified hierarchy at /sys/fs/cgroup.
constexpr const char* kV2 =
    "22 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
    "26 22 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n"
    "27 26 0:24 /docker/abc /mnt/bind\\040here rw - ext4 /dev/sda1 rw\n";

class DetectTest : public ::testing::Test {
 protected:
  Layout detect_text(const std::string& text, const std::string& prefix = "") {
    std::string path = dir_.path() + "/mountinfo";
    EXPECT_TRUE(base::write_file(path, text, O_CREAT));
    auto r = detect(path, prefix);
    EXPECT_TRUE(r) << r.error().to_string();
    return r ? *r : Layout{};
  }
  mydocker::testing::TempDir dir_;
};

TEST_F(DetectTest, V1CoMountedAndNamedHierarchies) {
  Layout l = detect_text(kV1);
  EXPECT_EQ(l.mode, Mode::V1);
  EXPECT_EQ(l.unified_mount, "");
  std::map<std::string, std::string> want = {
      {"name=systemd", "/sys/fs/cgroup/systemd"},
      {"cpu", "/sys/fs/cgroup/cpu,cpuacct"},
      {"cpuacct", "/sys/fs/cgroup/cpu,cpuacct"},
      {"net_cls", "/sys/fs/cgroup/net_cls,net_prio"},
      {"net_prio", "/sys/fs/cgroup/net_cls,net_prio"},
      {"memory", "/sys/fs/cgroup/memory"},
      {"pids", "/sys/fs/cgroup/pids"},
      {"cpuset", "/sys/fs/cgroup/cpuset"},
  };
  EXPECT_EQ(l.v1_mounts, want);
}

TEST_F(DetectTest, HybridLikeThisHost) {
  Layout l = detect_text(kHybrid);
  EXPECT_EQ(l.mode, Mode::Hybrid);
  EXPECT_EQ(l.unified_mount, "/sys/fs/cgroup/unified");
  EXPECT_EQ(l.v1_mounts.size(), 9u);
  EXPECT_EQ(l.v1_mounts["cpu"], "/sys/fs/cgroup/cpu");
  EXPECT_EQ(l.v1_mounts["cpuacct"], "/sys/fs/cgroup/cpuacct");
  EXPECT_EQ(l.v1_mounts["freezer"], "/sys/fs/cgroup/freezer");
  EXPECT_EQ(l.v1_mounts["name=systemd"], "/sys/fs/cgroup/systemd");
}

TEST_F(DetectTest, PureV2) {
  Layout l = detect_text(kV2);
  EXPECT_EQ(l.mode, Mode::V2);
  EXPECT_EQ(l.unified_mount, "/sys/fs/cgroup");
  EXPECT_TRUE(l.v1_mounts.empty());
}

TEST_F(DetectTest, V2WithSystemdNamedV1HierarchyIsStillV2) {
  std::string text = std::string(kV2) +
                     "40 26 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup "
                     "rw,name=systemd\n";
  Layout l = detect_text(text);
  EXPECT_EQ(l.mode, Mode::V2);
  EXPECT_TRUE(l.v1_mounts.empty());
}

TEST_F(DetectTest, HybridWithASpareControllerInCgroup2) {
  // This host: hugetlb is not mounted in v1, so the kernel lists it in the cgroup2 root.
  std::string prefix = dir_.path() + "/root";
  ASSERT_TRUE(base::mkdir_all(prefix + "/sys/fs/cgroup/unified"));
  ASSERT_TRUE(
      base::write_file(prefix + "/sys/fs/cgroup/unified/cgroup.controllers", "hugetlb\n", O_CREAT));
  EXPECT_EQ(detect_text(kHybrid, prefix).mode, Mode::Hybrid);
}

TEST_F(DetectTest, V2WithAStrayV1NetClsMountIsV2) {
  std::string prefix = dir_.path() + "/root";
  ASSERT_TRUE(base::mkdir_all(prefix + "/sys/fs/cgroup"));
  ASSERT_TRUE(base::write_file(prefix + "/sys/fs/cgroup/cgroup.controllers",
                               "cpuset cpu io memory hugetlb pids rdma misc\n", O_CREAT));
  std::string text = std::string(kV2) +
                     "50 26 0:40 / /sys/fs/cgroup/net_cls rw,relatime - cgroup cgroup "
                     "rw,net_cls\n";
  Layout l = detect_text(text, prefix);
  EXPECT_EQ(l.mode, Mode::V2);
  EXPECT_EQ(l.unified_mount, prefix + "/sys/fs/cgroup");
  EXPECT_TRUE(l.v1_mounts.empty());
}

TEST_F(DetectTest, RootPrefixIsPrepended) {
  Layout l = detect_text(kHybrid, "/tmp/fake");
  EXPECT_EQ(l.unified_mount, "/tmp/fake/sys/fs/cgroup/unified");
  EXPECT_EQ(l.v1_mounts["memory"], "/tmp/fake/sys/fs/cgroup/memory");
}

TEST_F(DetectTest, NoCgroupFsIsFailedPrecondition) {
  std::string path = dir_.path() + "/mountinfo";
  ASSERT_TRUE(base::write_file(path, "22 1 0:21 / /sys rw - sysfs sysfs rw\n", O_CREAT));
  auto r = detect(path);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), base::ErrorCode::FailedPrecondition);
}

TEST_F(DetectTest, MissingMountinfoIsNotFound) {
  auto r = detect(dir_.path() + "/nope");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), base::ErrorCode::NotFound);
}

TEST(ParseMountinfoTest, FieldsAndEscapes) {
  auto mounts = parse_mountinfo(
      "30 25 0:26 /docker/x /sys/fs/cgroup/my\\040memory rw shared:1 master:2 - cgroup cgroup "
      "rw,memory,nsdelegate\n"
      "garbage line without separator\n"
      "1 2 - cgroup\n"
      "26 22 0:23 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n"
      "27 22 0:24 / /proc rw - proc proc rw\n");
  ASSERT_EQ(mounts.size(), 2u);
  EXPECT_EQ(mounts[0].mount_point, "/sys/fs/cgroup/my memory");
  EXPECT_EQ(mounts[0].root, "/docker/x");
  EXPECT_FALSE(mounts[0].v2);
  EXPECT_EQ(mounts[0].controllers, std::vector<std::string>{"memory"});
  EXPECT_TRUE(mounts[1].v2);
  EXPECT_TRUE(mounts[1].controllers.empty());
}

TEST(ParseMountinfoTest, RealHostParses) {
  // Whatever this machine mounts, the parser must not choke on its mountinfo.
  auto text = base::read_file("/proc/self/mountinfo");
  ASSERT_TRUE(text);
  auto mounts = parse_mountinfo(*text);
  for (const auto& m : mounts) {
    EXPECT_EQ(m.mount_point.front(), '/');
  }
}

}  // namespace
}  // namespace mydocker::runtime::cgroups
