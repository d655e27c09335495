// SPDX-License-Identifier: Apache-2.0
#include "runtime/base/error.h"

#include <gtest/gtest.h>

#include "runtime/base/strings.h"

namespace mydocker::base {
namespace {

Result<int> parse_positive(std::string_view s) {
  auto v = parse_int64(s);
  if (!v || *v <= 0) {
    return make_error(ErrorCode::InvalidArgument, "not a positive number: `{}`", s);
  }
  return static_cast<int>(*v);
}

Result<int> doubled(std::string_view s) {
  int v = MYDOCKER_TRY_CTX(parse_positive(s), "parse `limit`");
  return v * 2;
}

TEST(ErrorTest, TryPropagatesValueAndContext) {
  EXPECT_EQ(*doubled("21"), 42);
  auto r = doubled("-1");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
  EXPECT_EQ(r.error().to_string(), "parse `limit`: not a positive number: `-1`");
}

TEST(ErrorTest, SysErrorCapturesErrno) {
  errno = ENOENT;
  Error e = sys_error("open `{}`", "/nope");
  EXPECT_EQ(e.code(), ErrorCode::NotFound);
  EXPECT_EQ(e.sys_errno(), ENOENT);
  EXPECT_EQ(e.to_string(), "open `/nope`: No such file or directory");
}

Result<void> fails() {
  return make_error(ErrorCode::Conflict, "busy");
}
Result<void> calls_fails() {
  MYDOCKER_TRY(fails());
  return ok();
}

TEST(ErrorTest, VoidResult) {
  auto r = calls_fails();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::Conflict);
  EXPECT_TRUE(ok().has_value());
}

Result<int> nested(std::string_view a, std::string_view b) {
  // Nested uses must not shadow each other (-Wshadow is an error here).
  return MYDOCKER_TRY(parse_positive(a)) +
         MYDOCKER_TRY(doubled(MYDOCKER_TRY(parse_positive(b)) > 0 ? b : a));
}

TEST(ErrorTest, TryNests) {
  EXPECT_EQ(*nested("1", "2"), 5);
  EXPECT_FALSE(nested("1", "x"));
}

TEST(StringsTest, SplitJoinTrimParse) {
  EXPECT_EQ(split("a,,b", ','), (std::vector<std::string>{"a", "", "b"}));
  EXPECT_EQ(join({"x", "y"}, ":"), "x:y");
  EXPECT_EQ(trim("  v \n"), "v");
  EXPECT_EQ(parse_int64("-12"), -12);
  EXPECT_FALSE(parse_int64("12x"));
  EXPECT_FALSE(parse_uint64(""));
  EXPECT_FALSE(parse_uint64("99999999999999999999999"));
}

}  // namespace
}  // namespace mydocker::base
