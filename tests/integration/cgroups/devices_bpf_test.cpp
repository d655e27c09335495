// SPDX-License-Identifier: Apache-2.0
// The v2 device program in the real kernel: the verifier accepts every shape we generate, and
// attached to a cgroup2 directory it decides what a process in there may open. Runs on any
// host with a cgroup2 mount (this hybrid host's /sys/fs/cgroup/unified will do: device
// programs need no controller).
#include "runtime/cgroups/devices_bpf.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "runtime/base/fd.h"
#include "runtime/base/file.h"
#include "runtime/cgroups/manager.h"
#include "tests/support/require.h"

namespace mydocker::runtime::cgroups {
namespace {

using mydocker::testing::Need;

spec::DeviceRule rule(bool allow, std::string type, std::optional<int64_t> major,
                      std::optional<int64_t> minor, std::string access) {
  spec::DeviceRule d;
  d.allow = allow;
  d.type = std::move(type);
  d.major = major;
  d.minor = minor;
  d.access = std::move(access);
  return d;
}

const spec::DeviceRule kDenyAll = rule(false, "a", std::nullopt, std::nullopt, "rwm");

uint32_t attached_programs(const std::string& dir) {
  base::Fd fd = *base::Fd::open(dir, O_RDONLY | O_DIRECTORY);
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.query.target_fd = static_cast<uint32_t>(fd.get());
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  if (::syscall(SYS_bpf, BPF_PROG_QUERY, &attr, sizeof attr) < 0) {
    return 9999;
  }
  return attr.query.prog_cnt;
}

class RootDeviceProgramTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MYDOCKER_REQUIRE(Need::Root);
    auto layout = detect();
    if (!layout || layout->unified_mount.empty()) {
      GTEST_SKIP() << "needs a cgroup2 mount";
    }
    static int counter = 0;
    dir_ = fmt::format("{}/mydocker-test-{}-dev{}", layout->unified_mount, ::getpid(), counter++);
    ASSERT_EQ(::mkdir(dir_.c_str(), 0755), 0) << std::strerror(errno);
  }

  void TearDown() override {
    if (child_ > 0) {
      ::kill(child_, SIGKILL);
      ::waitpid(child_, nullptr, 0);
    }
    if (!dir_.empty()) {
      // The child is gone (reaped); the kernel may take a moment to drop it.
      for (int i = 0; i < 1000 && ::rmdir(dir_.c_str()) < 0 && errno == EBUSY; ++i) {
        ::usleep(1000);
      }
      struct stat st;
      EXPECT_NE(::stat(dir_.c_str(), &st), 0) << dir_ << " left behind";
    }
  }

  void attach(const std::vector<spec::DeviceRule>& rules) {
    auto prog = bpf::device_program(rules);
    ASSERT_TRUE(prog) << prog.error().to_string();
    auto fd = bpf::load_device_program(*prog);
    ASSERT_TRUE(fd) << fd.error().to_string();
    auto r = bpf::attach_device_program(dir_, *fd);
    ASSERT_TRUE(r) << r.error().to_string();
  }

  // Opens `path` with `flags` from a process inside the cgroup; 0 or the errno.
  int open_inside(const char* path, int flags) {
    child_ = ::fork();
    if (child_ == 0) {
      std::string pid = std::to_string(::getpid());
      int fd = ::open((dir_ + "/cgroup.procs").c_str(), O_WRONLY);
      if (fd < 0 || ::write(fd, pid.data(), pid.size()) < 0) {
        ::_exit(200);
      }
      ::close(fd);
      int got = ::open(path, flags);
      ::_exit(got >= 0 ? 0 : errno);
    }
    int status = 0;
    ::waitpid(child_, &status, 0);
    child_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
  }

  std::string dir_;
  pid_t child_ = -1;
};

TEST_F(RootDeviceProgramTest, VerifierAcceptsEveryShape) {
  const std::vector<std::vector<spec::DeviceRule>> shapes = {
      {},
      {kDenyAll},
      {rule(true, "a", std::nullopt, std::nullopt, "rwm")},
      {kDenyAll, rule(true, "c", std::nullopt, std::nullopt, "m"), rule(true, "c", 1, 3, "rwm"),
       rule(true, "c", 136, std::nullopt, "rwm"), rule(true, "b", 8, 0, "r")},
      {rule(false, "c", 1, 9, "w"), rule(false, "b", std::nullopt, 2, "m")},
  };
  for (const auto& rules : shapes) {
    auto prog = bpf::device_program(rules);
    ASSERT_TRUE(prog);
    auto fd = bpf::load_device_program(*prog);
    EXPECT_TRUE(fd) << fd.error().to_string();
  }
}

TEST_F(RootDeviceProgramTest, AttachedRulesDecideWhatOpens) {
  // null (1:3) read-write, zero (1:5) read-only, full (1:7) nothing.
  attach({kDenyAll, rule(true, "c", 1, 3, "rwm"), rule(true, "c", 1, 5, "r")});
  EXPECT_EQ(open_inside("/dev/null", O_RDWR), 0);
  EXPECT_EQ(open_inside("/dev/zero", O_RDONLY), 0);
  EXPECT_EQ(open_inside("/dev/zero", O_WRONLY), EPERM);
  EXPECT_EQ(open_inside("/dev/full", O_RDONLY), EPERM);
  // Outside the cgroup nothing changed.
  base::Fd full = *base::Fd::open("/dev/full", O_RDONLY);
  EXPECT_TRUE(full.valid());
}

TEST_F(RootDeviceProgramTest, AttachingAgainReplacesTheRules) {
  attach({kDenyAll, rule(true, "c", 1, 3, "rwm")});
  EXPECT_EQ(open_inside("/dev/null", O_RDWR), 0);
  attach({kDenyAll});
  EXPECT_EQ(attached_programs(dir_), 1u);
  EXPECT_EQ(open_inside("/dev/null", O_RDWR), EPERM);
}

}  // namespace
}  // namespace mydocker::runtime::cgroups
