// SPDX-License-Identifier: Apache-2.0
#include "runtime/cgroups/stats.h"

#include <gtest/gtest.h>

namespace mydocker::runtime::cgroups {
namespace {

TEST(ParseKeyedTest, V1MemoryOomControl) {
  auto m = parse_keyed("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
  EXPECT_EQ(m["oom_kill_disable"], 0u);
  EXPECT_EQ(m["oom_kill"], 3u);
  EXPECT_EQ(m.size(), 3u);
}

TEST(ParseKeyedTest, V2CpuStatAndMemoryEvents) {
  auto cpu = parse_keyed(
      "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 0\nnr_throttled 0\n"
      "throttled_usec 0\nnr_bursts 0\nburst_usec 0\n");
  EXPECT_EQ(cpu["usage_usec"], 1500u);
  EXPECT_EQ(cpu["user_usec"], 1000u);
  EXPECT_EQ(cpu["system_usec"], 500u);
  auto ev = parse_keyed("low 0\nhigh 0\nmax 12\noom 2\noom_kill 1\noom_group_kill 0\n");
  EXPECT_EQ(ev["oom_kill"], 1u);
  EXPECT_EQ(ev["max"], 12u);
}

TEST(ParseKeyedTest, SkipsWhatDoesNotParse) {
  auto m = parse_keyed("user 10\n\nbogus\nsystem x\n  total_cache   42  \nneg -1\n");
  EXPECT_EQ(m.size(), 2u);
  EXPECT_EQ(m["user"], 10u);
  EXPECT_EQ(m["total_cache"], 42u);
}

TEST(ParseLimitTest, Values) {
  EXPECT_EQ(parse_limit("max\n"), 0u);
  EXPECT_EQ(parse_limit("-1"), 0u);
  EXPECT_EQ(parse_limit("9223372036854771712\n"), 0u);  // v1 unlimited, 4 KiB pages
  EXPECT_EQ(parse_limit("9223372036854775807"), 0u);
  EXPECT_EQ(parse_limit("33554432\n"), 33554432u);
  EXPECT_EQ(parse_limit("5"), 5u);
  EXPECT_EQ(parse_limit("lots"), std::nullopt);
  EXPECT_EQ(parse_limit(""), std::nullopt);
}

TEST(TicksToNsTest, UserHz) {
  EXPECT_EQ(ticks_to_ns(250, 100), 2500000000u);
  EXPECT_EQ(ticks_to_ns(3, 1000), 3000000u);
  EXPECT_EQ(ticks_to_ns(3, 0), 0u);
}

}  // namespace
}  // namespace mydocker::runtime::cgroups
