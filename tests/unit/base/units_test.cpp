// SPDX-License-Identifier: Apache-2.0
#include "runtime/base/units.h"

#include <gtest/gtest.h>

#include <vector>

namespace mydocker::base {
namespace {

TEST(UnitsTest, HumanSizeLikeGoUnits) {
  EXPECT_EQ(human_size(0, 4), "0B");
  EXPECT_EQ(human_size(999, 4), "999B");
  EXPECT_EQ(human_size(1000, 4), "1kB");
  EXPECT_EQ(human_size(2048, 4), "2.048kB");
  EXPECT_EQ(human_size(33280, 4), "33.28kB");
  EXPECT_EQ(human_size(1982391, 3), "1.98MB");
  EXPECT_EQ(human_size(1982391, 4), "1.982MB");
  EXPECT_EQ(human_size(1e12, 3), "1TB");
  EXPECT_EQ(human_size(1e27, 3), "1e+03YB");  // no unit above YB
}

TEST(UnitsTest, HumanDurationLikeGoUnits) {
  struct Row {
    int64_t seconds;
    std::string want;
  };
  std::vector<Row> rows = {
      {-5, "Less than a second"},   {0, "Less than a second"}, {1, "1 second"},
      {59, "59 seconds"},           {60, "About a minute"},    {119, "About a minute"},
      {120, "2 minutes"},           {3599, "59 minutes"},      {3600, "About an hour"},
      {5399, "About an hour"},      {5400, "2 hours"},         {47 * 3600 + 1799, "47 hours"},
      {47 * 3600 + 1800, "2 days"}, {14 * 86400, "2 weeks"},   {60 * 86400, "2 months"},
      {730 * 86400, "2 years"},
  };
  for (const auto& r : rows) {
    EXPECT_EQ(human_duration(r.seconds), r.want) << r.seconds;
  }
}

}  // namespace
}  // namespace mydocker::base
