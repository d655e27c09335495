// SPDX-License-Identifier: Apache-2.0
// The same bundle, written by `runc spec` and adjusted, run under runc and under
// mydocker-runtime: what the container sees and how it exits must be the same.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "tests/support/busybox_rootfs.h"
#include "tests/support/cgroup_cleanup.h"
#include "tests/support/require.h"

namespace mydocker::testing {
namespace {

// The runtime's default cgroup parent (/mydocker) goes again if this binary created it.
[[maybe_unused]] ::testing::Environment* const kCgroupCleanup =
    ::testing::AddGlobalTestEnvironment(new CgroupParentCleanup);

struct Outcome {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `cmd` through sh; stdout and stderr are kept apart, since how a runtime interleaves
// the container's two streams is not part of what the container sees.
Outcome run_command(const std::string& cmd) {
  Outcome o;
  char err_path[] = "/tmp/mydocker-test-stderr-XXXXXX";
  int err_fd = ::mkstemp(err_path);
  if (err_fd < 0) {
    return o;
  }
  ::close(err_fd);
  FILE* p = ::popen((cmd + " 2>" + err_path).c_str(), "r");
  if (p == nullptr) {
    return o;
  }
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) {
    o.out.append(buf, n);
  }
  int status = ::pclose(p);
  o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::ifstream err(err_path);
  std::stringstream ss;
  ss << err.rdbuf();
  o.err = ss.str();
  ::unlink(err_path);
  return o;
}

class RootVsRuncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MYDOCKER_REQUIRE(Need::Root, Need::Runc, Need::CgroupV1);
    bundle_ = dir_.path() + "/bundle";
    std::filesystem::create_directories(bundle_);
    rootfs_ = copy_rootfs(bundle_);
    ASSERT_EQ(run_command("cd " + bundle_ + " && runc spec").exit_code, 0);
    std::ifstream in(bundle_ + "/config.json");
    base_ = nlohmann::json::parse(in);
    base_["process"]["terminal"] = false;
  }

  // Runs `script` (sh -c) under `runtime` with the adjusted base config.
  Outcome run(const std::string& runtime, const std::string& script,
              const std::function<void(nlohmann::json&)>& adjust = nullptr) {
    nlohmann::json cfg = base_;
    cfg["process"]["args"] = {"sh", "-c", script};
    if (adjust) {
      adjust(cfg);
    }
    std::ofstream(bundle_ + "/config.json") << cfg.dump(2);
    std::string root = dir_.path() + "/root-" + std::to_string(counter_);
    std::string id = "vs-runc-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++);
    return run_command(runtime + " --root " + root + " run --bundle " + bundle_ + " " + id +
                       " </dev/null");
  }

  void expect_same(const std::string& script,
                   const std::function<void(nlohmann::json&)>& adjust = nullptr) {
    Outcome theirs = run("runc", script, adjust);
    Outcome ours = run(MYDOCKER_RUNTIME_BIN, script, adjust);
    EXPECT_EQ(ours.out, theirs.out) << "script: " << script;
    EXPECT_EQ(ours.err, theirs.err) << "script: " << script;
    EXPECT_EQ(ours.exit_code, theirs.exit_code) << "script: " << script;
  }

  TempDir dir_;
  std::string bundle_;
  std::string rootfs_;
  nlohmann::json base_;
  int counter_ = 0;
};

TEST_F(RootVsRuncTest, IdentityAndPid1) {
  expect_same("echo pid=$$; hostname; id");
}

TEST_F(RootVsRuncTest, Capabilities) {
  expect_same("grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb)' /proc/self/status");
}

TEST_F(RootVsRuncTest, ExitCodes) {
  expect_same("exit 3");
  expect_same("kill -9 $$");
}

TEST_F(RootVsRuncTest, ReadonlyRootAndMaskedPaths) {
  expect_same(
      "touch /x 2>/dev/null && echo wrote || echo refused; wc -c </proc/kcore; "
      "echo 1 >/proc/sys/kernel/domainname 2>/dev/null && echo sysctl-writable || "
      "echo sysctl-ro",
      [](nlohmann::json& c) { c["root"]["readonly"] = true; });
}

TEST_F(RootVsRuncTest, RlimitsUserAndCwd) {
  expect_same("ulimit -n; id -u; id -g; id -G; pwd", [](nlohmann::json& c) {
    c["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"hard", 512}, {"soft", 256}}};
    c["process"]["user"] = {{"uid", 65534}, {"gid", 65534}, {"additionalGids", {1, 2}}};
    c["process"]["cwd"] = "/tmp";
  });
}

TEST_F(RootVsRuncTest, MountsSeenInside) {
  expect_same("awk '{print $2, $3}' /proc/self/mounts | sort");
}

TEST_F(RootVsRuncTest, SysctlsInTheContainersNamespaces) {
  expect_same("cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax", [](nlohmann::json& c) {
    c["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}, {"kernel.msgmax", "4096"}};
  });
}

TEST_F(RootVsRuncTest, MemoryLimitApplied) {
  expect_same(
      "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || "
      "cat /sys/fs/cgroup/memory.max",
      [](nlohmann::json& c) {
        c["linux"]["resources"]["memory"] = {{"limit", 64 * 1024 * 1024}};
      });
}

}  // namespace
}  // namespace mydocker::testing
