// SPDX-License-Identifier: Apache-2.0
#include "runtime/process/validate.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

namespace mydocker::runtime::process {
namespace {

constexpr int kCapChown = 0;
constexpr int kCapKill = 5;

HostLimits host_without_sys_resource() {
  HostLimits h;
  h.bounding_set = {kCapChown, kCapKill};
  h.has_sys_resource = false;
  h.hard_limits[RLIMIT_NOFILE] = 20000;
  h.hard_limits[RLIMIT_NPROC] = RLIM_INFINITY;
  return h;
}

spec::Process process_with_caps(std::vector<std::string> permitted) {
  spec::Process p;
  p.args = {"sh"};
  spec::Capabilities c;
  c.bounding = {"CAP_CHOWN"};
  c.permitted = std::move(permitted);
  p.capabilities = c;
  return p;
}

TEST(ValidateTest, CapabilitiesInTheBoundingSetPass) {
  auto r =
      validate_process(process_with_caps({"CAP_CHOWN", "CAP_KILL"}), host_without_sys_resource());
  EXPECT_TRUE(r.has_value()) << r.error().to_string();
}

TEST(ValidateTest, CapabilityMissingFromTheHostIsNamed) {
  auto r = validate_process(process_with_caps({"CAP_KILL", "CAP_SYS_RESOURCE"}),
                            host_without_sys_resource());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), base::ErrorCode::PermissionDenied);
  EXPECT_EQ(r.error().message(),
            "process.capabilities.permitted: capability `CAP_SYS_RESOURCE` is not in the host's "
            "bounding set, so it cannot be granted");
}

TEST(ValidateTest, RlimitAboveTheHardLimitWithoutSysResource) {
  spec::Process p;
  p.rlimits.push_back({"RLIMIT_NOFILE", RLIMIT_NOFILE, 1048576, 1024});
  auto r = validate_process(p, host_without_sys_resource());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), base::ErrorCode::PermissionDenied);
  EXPECT_NE(r.error().message().find("rlimit `RLIMIT_NOFILE`: hard 1048576 exceeds the host's "
                                     "hard limit 20000"),
            std::string::npos)
      << r.error().message();
}

TEST(ValidateTest, RlimitAboveTheHardLimitWithSysResourcePasses) {
  spec::Process p;
  p.rlimits.push_back({"RLIMIT_NOFILE", RLIMIT_NOFILE, 1048576, 1024});
  HostLimits h = host_without_sys_resource();
  h.has_sys_resource = true;
  EXPECT_TRUE(validate_process(p, h).has_value());
}

TEST(ValidateTest, RlimitWithinLimitsOrUnlimitedHostPasses) {
  spec::Process p;
  p.rlimits.push_back({"RLIMIT_NOFILE", RLIMIT_NOFILE, 20000, 1024});
  p.rlimits.push_back({"RLIMIT_NPROC", RLIMIT_NPROC, 1u << 30, 1u << 30});
  EXPECT_TRUE(validate_process(p, host_without_sys_resource()).has_value());
}

TEST(ValidateTest, SoftAboveHardIsInvalid) {
  spec::Process p;
  p.rlimits.push_back({"RLIMIT_NOFILE", RLIMIT_NOFILE, 100, 200});
  auto r = validate_process(p, host_without_sys_resource());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), base::ErrorCode::InvalidArgument);
}

TEST(ValidateTest, TheRealHostHasABoundingSetAndLimits) {
  HostLimits h = current_host_limits();
  EXPECT_FALSE(h.bounding_set.empty());
  EXPECT_EQ(h.hard_limits.count(RLIMIT_NOFILE), 1u);
}

}  // namespace
}  // namespace mydocker::runtime::process
