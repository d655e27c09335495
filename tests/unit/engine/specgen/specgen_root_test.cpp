// SPDX-License-Identifier: Apache-2.0
// Generated specs run under mydocker's runtime: a busybox container checks from the inside
// what specgen promised (Docker's capability set, seccomp, no-new-privileges, user, tmpfs,
// read-only root, docker-init as pid 1) and reports through its exit code.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>

#include "engine/specgen/specgen.h"
#include "runtime/base/file.h"
#include "runtime/state/container.h"
#include "tests/support/busybox_rootfs.h"
#include "tests/support/cgroup_cleanup.h"
#include "tests/support/require.h"

namespace mydocker::engine::specgen {
namespace {

[[maybe_unused]] auto* const kCleanup =
    ::testing::AddGlobalTestEnvironment(new mydocker::testing::CgroupParentCleanup);

class RootSpecgenRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MYDOCKER_REQUIRE(mydocker::testing::Need::Root, mydocker::testing::Need::CgroupV1);
    dir_ = std::make_unique<mydocker::testing::TempDir>();
    bundle_ = dir_->path() + "/bundle";
    ASSERT_TRUE(base::mkdir_all(bundle_).has_value());
    rootfs_ = mydocker::testing::copy_rootfs(bundle_);
  }

  // Runs the create body's container to completion; its exit code.
  // The bodies below are written over several lines: newlines become spaces (JSON strings
  // may not hold a raw newline).
  int run(std::string_view text) {
    static std::atomic<int> counter{0};
    std::string body(text);
    std::replace(body.begin(), body.end(), '\n', ' ');
    auto b = parse_create_body(body);
    EXPECT_TRUE(b.has_value()) << body;
    if (!b.has_value()) {
      return -1;
    }
    apply_create_defaults(b->host_config, false);
    EXPECT_TRUE(validate_host_config(b->host_config).has_value());
    std::string id = "specgen-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    Input in;
    in.config = &b->config;
    in.host_config = &b->host_config;
    in.rootfs = rootfs_;
    in.hostname = "specgen";
    in.cgroups_path = "/mydocker/" + id;
    in.init_path = "/usr/bin/tini-static";
    auto spec = generate(in);
    EXPECT_TRUE(spec.has_value()) << spec.error().message();
    if (!spec.has_value()) {
      return -1;
    }
    EXPECT_TRUE(base::write_file_atomic(bundle_ + "/config.json", spec->dump()).has_value());
    runtime::RunOptions opts;
    opts.create.root = dir_->path() + "/state";
    auto code = runtime::run(id, bundle_, opts);
    EXPECT_TRUE(code.has_value()) << code.error().to_string();
    return code.has_value() ? *code : -1;
  }

  std::unique_ptr<mydocker::testing::TempDir> dir_;
  std::string bundle_;
  std::string rootfs_;
};

TEST_F(RootSpecgenRunTest, DefaultProfile) {
  // Docker's 14 capabilities are 0xa80425fb; seccomp mode 2 is a filter.
  EXPECT_EQ(run(R"({"Image":"busybox","Cmd":["sh","-c",
      "grep -q '^CapBnd:.00000000a80425fb$' /proc/self/status || exit 10;
       grep -q '^Seccomp:.2$' /proc/self/status || exit 11;
       grep -q '^NoNewPrivs:.0$' /proc/self/status || exit 12;
       test \"$(hostname)\" = specgen || exit 13;
       mount -t tmpfs none /tmp 2>/dev/null && exit 14;
       test -c /dev/null && echo x > /dev/null || exit 15;
       exit 3"]})"),
            3);
}

TEST_F(RootSpecgenRunTest, UserTmpfsReadonlyInitNoNewPrivileges) {
  EXPECT_EQ(run(R"({"Image":"busybox","User":"nobody","Cmd":["sh","-c",
      "test \"$(id -u):$(id -g)\" = 65534:65534 || exit 10;
       grep -q ' /run tmpfs ' /proc/mounts || exit 11;
       touch /x 2>/dev/null && exit 12;
       grep -q '^NoNewPrivs:.1$' /proc/self/status || exit 13;
       grep -q docker-init /proc/1/cmdline || exit 14;
       test \"$HOME\" = /nonexistent || exit 15;
       test \"$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)\" = 67108864 || exit 16;
       test \"$(cat /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes)\" = 134217728 || exit 17;
       test \"$(cat /sys/fs/cgroup/pids/pids.max)\" = 64 || exit 18;
       test \"$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us)\" = 50000 || exit 19;
       exit 0"],
      "HostConfig":{"Memory":67108864,"PidsLimit":64,"NanoCpus":500000000,"ReadonlyRootfs":true,
        "Tmpfs":{"/run":"rw,size=1m"},"Init":true,"SecurityOpt":["no-new-privileges"]}})"),
            0);
}

TEST_F(RootSpecgenRunTest, NonRootUserUnderDefaultSeccomp) {
  // Without no-new-privileges the filter must be in place before the capabilities go.
  EXPECT_EQ(run(R"({"Image":"busybox","User":"daemon","Tty":false,"Cmd":["sh","-c",
      "test \"$(id -u)\" = 1 || exit 10;
       grep -q '^Seccomp:.2$' /proc/self/status || exit 11;
       grep -q '^CapEff:.0000000000000000$' /proc/self/status || exit 12;
       exit 7"]})"),
            7);
}

TEST_F(RootSpecgenRunTest, PrivilegedAndUnconfined) {
  // A privileged container gets the host's devices: a marker says whether to expect loop0.
  if (base::path_exists("/dev/loop0")) {
    ASSERT_TRUE(base::write_file_atomic(rootfs_ + "/host-has-loop0", "").has_value());
  }
  EXPECT_EQ(run(R"({"Image":"busybox","Cmd":["sh","-c",
      "grep -q '^Seccomp:.0$' /proc/self/status || exit 10;
       mount -t tmpfs none /tmp || exit 11;
       test -c /dev/null || exit 12;
       if test -e /host-has-loop0; then test -b /dev/loop0 || exit 13; fi;
       exit 0"],"HostConfig":{"Privileged":true}})"),
            0);
  EXPECT_EQ(run(R"({"Image":"busybox","Cmd":["sh","-c",
      "grep -q '^Seccomp:.0$' /proc/self/status || exit 10; exit 0"],
      "HostConfig":{"SecurityOpt":["seccomp=unconfined"],"CapDrop":["ALL"]}})"),
            0);
}

TEST_F(RootSpecgenRunTest, HostNamespaces) {
  // PidMode/IpcMode/UTSMode/NetworkMode host: the test's own pid is visible, the hostname and
  // the network interfaces are the host's.
  char host_name[256] = {};
  ASSERT_EQ(::gethostname(host_name, sizeof host_name - 1), 0);
  size_t interfaces = mydocker::testing::list_dir("/sys/class/net").size();
  std::string script = fmt::format(
      "test -d /proc/{} || exit 10; test \\\"$(hostname)\\\" = {} || exit 11; "
      "test \\\"$(ls /sys/class/net | wc -l)\\\" = {} || exit 12; exit 0",
      ::getpid(), host_name, interfaces);
  EXPECT_EQ(run(fmt::format(
                R"({{"Image":"busybox","Cmd":["sh","-c","{}"],"HostConfig":{{"PidMode":"host",
                "IpcMode":"host","UTSMode":"host","NetworkMode":"host","CgroupnsMode":"private"}}}})",
                script)),
            0);
}

}  // namespace
}  // namespace mydocker::engine::specgen
