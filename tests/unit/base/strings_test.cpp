// SPDX-License-Identifier: Apache-2.0
#include "runtime/base/strings.h"

#include <gtest/gtest.h>

namespace mydocker::base {
namespace {

TEST(StringsTest, AsciiLowerTouchesOnlyAsciiLetters) {
  EXPECT_EQ(ascii_lower("Bearer Realm=X-Y_09"), "bearer realm=x-y_09");
  EXPECT_EQ(ascii_lower(""), "");
  EXPECT_EQ(ascii_lower("@[`{"), "@[`{");            // the neighbours of A-Z and a-z
  EXPECT_EQ(ascii_lower("ÉCOLE\xC0"), "École\xC0");  // UTF-8 and stray high bytes unchanged
}

TEST(StringsTest, AsciiIequals) {
  EXPECT_TRUE(ascii_iequals("Content-Type", "content-TYPE"));
  EXPECT_TRUE(ascii_iequals("", ""));
  EXPECT_FALSE(ascii_iequals("Content-Type", "Content-Typ"));
  EXPECT_FALSE(ascii_iequals("@", "`"));
  EXPECT_FALSE(ascii_iequals("É", "é"));
}

}  // namespace
}  // namespace mydocker::base
