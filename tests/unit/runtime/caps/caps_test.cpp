// SPDX-License-Identifier: Apache-2.0
// Capability names and host queries (pure); apply() cases that need root are in
// caps_apply_test.cpp.
#include "runtime/caps/caps.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "runtime/base/file.h"
#include "runtime/base/strings.h"

namespace mydocker::runtime::caps {
namespace {

TEST(CapsNamesTest, KnownNames) {
  EXPECT_EQ(from_name("CAP_CHOWN"), 0);
  EXPECT_EQ(from_name("CAP_SYS_ADMIN"), 21);
  EXPECT_EQ(from_name("CAP_SYS_RESOURCE"), 24);
  EXPECT_EQ(from_name("CAP_AUDIT_READ"), 37);
  EXPECT_EQ(from_name("CAP_PERFMON"), 38);
  EXPECT_EQ(from_name("CAP_BPF"), 39);
  EXPECT_EQ(from_name("CAP_CHECKPOINT_RESTORE"), 40);
  EXPECT_EQ(to_name(21), "CAP_SYS_ADMIN");
  EXPECT_EQ(to_name(40), "CAP_CHECKPOINT_RESTORE");
}

TEST(CapsNamesTest, UnknownNames) {
  EXPECT_FALSE(from_name("CAP_FOO"));
  EXPECT_FALSE(from_name("cap_chown"));  // case-sensitive, as the OCI spec
  EXPECT_FALSE(from_name("CHOWN"));
  EXPECT_FALSE(from_name(""));
  EXPECT_EQ(to_name(41), "41");
  EXPECT_EQ(to_name(-1), "-1");
}

TEST(CapsNamesTest, EveryNumberRoundTrips) {
  for (int c = 0; c <= kLastKnownCap; ++c) {
    std::string name = to_name(c);
    EXPECT_EQ(name.rfind("CAP_", 0), 0u) << c;
    EXPECT_EQ(from_name(name), c) << name;
  }
}

TEST(CapsHostTest, LastCapMatchesProc) {
  auto text = base::read_file("/proc/sys/kernel/cap_last_cap");
  ASSERT_TRUE(text);
  EXPECT_EQ(last_cap(), *base::parse_int64(base::trim(*text)));
  EXPECT_GE(last_cap(), 36);
}

// The bounding set as /proc/self/status shows it.
uint64_t status_mask(const std::string& status, std::string_view key) {
  for (const std::string& line : base::split(status, '\n')) {
    if (line.rfind(std::string(key) + ":", 0) == 0) {
      return std::stoull(std::string(base::trim(line.substr(key.size() + 1))), nullptr, 16);
    }
  }
  ADD_FAILURE() << "no " << key << " in /proc/self/status";
  return 0;
}

TEST(CapsHostTest, HostBoundingSetMatchesProc) {
  auto status = base::read_file("/proc/self/status");
  ASSERT_TRUE(status);
  uint64_t mask = 0;
  for (int c : host_bounding_set()) {
    mask |= uint64_t{1} << c;
  }
  EXPECT_EQ(mask, status_mask(*status, "CapBnd"));
}

TEST(CapsApplyTest, UnknownNameIsRefusedBeforeAnyChange) {
  // No fork needed: resolution fails before the process is touched.
  spec::Capabilities c;
  c.effective = {"CAP_KILL", "CAP_NOPE"};
  auto r = apply(c);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), base::ErrorCode::InvalidArgument);
  EXPECT_EQ(r.error().to_string(),
            "`process.capabilities.effective[1]`: unknown capability `CAP_NOPE`");
  auto status = base::read_file("/proc/self/status");
  ASSERT_TRUE(status);
  uint64_t all = 0;
  for (int cap : host_bounding_set()) {
    all |= uint64_t{1} << cap;
  }
  EXPECT_EQ(status_mask(*status, "CapBnd"), all);
}

}  // namespace
}  // namespace mydocker::runtime::caps
