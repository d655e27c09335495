// SPDX-License-Identifier: Apache-2.0
#include "runtime/base/path_match.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mydocker::base {
namespace {

struct Glob {
  std::string pattern;
  std::string name;
  bool match;
};

TEST(PathMatchTest, LikeGo) {
  const std::vector<Glob> cases = {
      {"abc", "abc", true},
      {"*", "abc", true},
      {"*c", "abc", true},
      {"a*", "a", true},
      {"a*", "ab/c", false},
      {"a*/b", "abc/b", true},
      {"a*b*c", "axbxc", true},
      {"a*b*c", "axxbyyc", true},
      {"a*b", "a/b", false},
      {"ab[c]", "abc", true},
      {"ab[b-d]", "abc", true},
      {"ab[^c]", "abc", false},
      {"ab[^e-g]", "abc", true},
      {"a\\*b", "a*b", true},
      {"a\\*b", "ab", false},
      {"\\*", "*", true},
      {"\\*", "a", false},
      {"a?b", "a/b", false},
      {"a?b", "axb", true},
      {"*x", "xxx", true},
      {"*", ".hidden", true},
      {"*.txt", "d/a.txt", false},
      {"*/*.txt", "d/a.txt", true},
      {"a*b?c*x", "abxbbxdbxebxczzx", true},
      {"a*b?c*x", "abxbbxdbxebxczzy", false},
  };
  for (const Glob& g : cases) {
    SCOPED_TRACE(g.pattern + " vs " + g.name);
    auto m = path_match(g.pattern, g.name);
    ASSERT_TRUE(m) << m.error().to_string();
    EXPECT_EQ(*m, g.match);
  }
}

TEST(PathMatchTest, MalformedPatternIsAnError) {
  // "*x[": the match fails at `x` before the class, yet Go still reports the bad pattern.
  for (const std::string bad : {"[", "a[", "[^", "ab[-c]", "a\\", "[x-]", "*x["}) {
    SCOPED_TRACE(bad);
    auto m = path_match(bad, "abc");
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().code(), ErrorCode::InvalidArgument);
    EXPECT_EQ(m.error().message(), "syntax error in pattern");
  }
}

TEST(PathMatchTest, CharactersAreCodePoints) {
  // `?` and a class take one UTF-8 code point, not one byte, as Go's runes.
  EXPECT_TRUE(*path_match("?", "é"));
  EXPECT_FALSE(*path_match("??", "é"));
  EXPECT_TRUE(*path_match("a?c", "aπc"));
  EXPECT_TRUE(*path_match("[α-ω]", "β"));
  EXPECT_FALSE(*path_match("[^α-ω]", "β"));
  EXPECT_TRUE(*path_match("[é]x", "éx"));
  EXPECT_TRUE(*path_match("*é", "café"));
  // An invalid byte is one character (U+FFFD) of the name; as a class bound it is malformed.
  EXPECT_TRUE(*path_match("?", "\xff"));
  EXPECT_FALSE(path_match("[\xff]", "a"));
}

}  // namespace
}  // namespace mydocker::base
