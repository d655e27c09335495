// SPDX-License-Identifier: Apache-2.0
// .dockerignore: the examples of Docker's documentation, and the walk helper.
#include "image/dockerfile/dockerignore.h"

#include <gtest/gtest.h>

namespace mydocker::image::dockerfile {
namespace {

IgnoreMatcher matcher(std::string_view text) {
  auto m = IgnoreMatcher::from_dockerignore(text);
  EXPECT_TRUE(m.has_value()) << m.error().message();
  return m.has_value() ? *m : IgnoreMatcher();
}

TEST(Dockerignore, ReadCleansPatterns) {
  auto p = read_dockerignore(
      "\xEF\xBB\xBF# comment\n"
      "\n"
      "   \n"
      "/secret\n"
      "  !  keep/../kept/  \n"
      "a//b/./c\n"
      " #not-a-comment\n"
      "/\n");
  EXPECT_EQ(p, (std::vector<std::string>{"secret", "!kept", "a/b/c", "#not-a-comment", "/"}));
}

TEST(Dockerignore, CleanPath) {
  EXPECT_EQ(clean_path(""), ".");
  EXPECT_EQ(clean_path("a/../.."), "..");
  EXPECT_EQ(clean_path("/../a/"), "/a");
  EXPECT_EQ(clean_path("./a//b/"), "a/b");
}

TEST(Dockerignore, DocumentedExample) {
  auto m = matcher("# comment\n*/temp*\n*/*/temp*\ntemp?\n");
  EXPECT_TRUE(m.excluded("somedir/temporary.txt"));
  EXPECT_TRUE(m.excluded("somedir/temp"));
  EXPECT_TRUE(m.excluded("somedir/subdir/temporary.txt"));
  EXPECT_TRUE(m.excluded("tempa"));
  EXPECT_TRUE(m.excluded("tempb"));
  EXPECT_FALSE(m.excluded("temp"));
  EXPECT_FALSE(m.excluded("temporary.txt"));
  EXPECT_FALSE(m.excluded("a/b/c/temp"));
  EXPECT_FALSE(m.excluded("# comment"));
}

TEST(Dockerignore, DoubleStar) {
  auto m = matcher("**/*.go\n");
  EXPECT_TRUE(m.excluded("main.go"));
  EXPECT_TRUE(m.excluded("a/b/c.go"));
  EXPECT_FALSE(m.excluded("a/b/c.golang"));
  auto mid = matcher("a/**/b\n");
  EXPECT_TRUE(mid.excluded("a/b"));
  EXPECT_TRUE(mid.excluded("a/x/b"));
  EXPECT_TRUE(mid.excluded("a/x/y/b"));
  EXPECT_FALSE(mid.excluded("a/xb"));
  auto tail = matcher("foo/**\n");
  EXPECT_FALSE(tail.excluded("foo"));
  EXPECT_TRUE(tail.excluded("foo/x"));
  EXPECT_TRUE(tail.excluded("foo/x/y"));
  EXPECT_TRUE(matcher("**\n").excluded("any/thing"));
}

TEST(Dockerignore, ExceptionsLastMatchWins) {
  auto m = matcher("*.md\n!README.md\n");
  EXPECT_TRUE(m.excluded("a.md"));
  EXPECT_FALSE(m.excluded("README.md"));
  EXPECT_FALSE(m.excluded("docs/a.md"));  // `*` does not cross `/`

  auto secret = matcher("*.md\n!README*.md\nREADME-secret.md\n");
  EXPECT_TRUE(secret.excluded("README-secret.md"));
  EXPECT_FALSE(secret.excluded("README-x.md"));
  EXPECT_TRUE(secret.excluded("x.md"));

  auto all = matcher("*.md\nREADME-secret.md\n!README*.md\n");
  EXPECT_FALSE(all.excluded("README-secret.md"));
}

TEST(Dockerignore, DirectoryExcludesItsContents) {
  auto m = matcher("node_modules\n/build\n");
  EXPECT_TRUE(m.excluded("node_modules"));
  EXPECT_TRUE(m.excluded("node_modules/x/y.js"));
  EXPECT_TRUE(m.excluded("build/out.o"));
  EXPECT_TRUE(m.excluded("/build/out.o"));
  EXPECT_TRUE(m.excluded("./build/../build/out.o"));
  EXPECT_FALSE(m.excluded("src/node_modules"));
  EXPECT_FALSE(m.may_include_children("node_modules"));
}

TEST(Dockerignore, WalkIntoExcludedDirectoryOnlyForAnException) {
  auto m = matcher("build\n!build/keep\n");
  EXPECT_TRUE(m.excluded("build"));
  EXPECT_TRUE(m.may_include_children("build"));
  EXPECT_FALSE(m.excluded("build/keep"));
  EXPECT_TRUE(m.excluded("build/other"));
  EXPECT_FALSE(m.may_include_children("other"));

  auto wild = matcher("*\n!*/keep.txt\n");
  EXPECT_TRUE(wild.excluded("sub"));
  EXPECT_TRUE(wild.may_include_children("sub"));
  EXPECT_FALSE(wild.excluded("sub/keep.txt"));
  EXPECT_FALSE(wild.may_include_children("sub/deeper"));
  EXPECT_TRUE(matcher("*\n!**/keep\n").may_include_children("a/b/c"));
}

TEST(Dockerignore, ClassesAndEscapes) {
  auto m = matcher("[a-c].txt\n");
  EXPECT_TRUE(m.excluded("b.txt"));
  EXPECT_FALSE(m.excluded("d.txt"));
  auto neg = matcher("[^a].txt\n");
  EXPECT_FALSE(neg.excluded("a.txt"));
  EXPECT_TRUE(neg.excluded("b.txt"));
  auto esc = matcher("\\*.txt\n");
  EXPECT_TRUE(esc.excluded("*.txt"));
  EXPECT_FALSE(esc.excluded("a.txt"));
  auto q = matcher("a?c\n");
  EXPECT_TRUE(q.excluded("abc"));
  EXPECT_FALSE(q.excluded("a/c"));
}

TEST(Dockerignore, BadPatterns) {
  // Go's filepath.Match syntax, which Docker checks patterns with.
  for (const char* bad : {"[abc", "[]a]", "[-]", "[x-]", "[-x]", "a\\", "[a-b-c]", "[^"}) {
    EXPECT_FALSE(IgnoreMatcher::from_patterns({bad}).has_value()) << bad;
  }
  auto escaped = IgnoreMatcher::from_patterns({"[\\]a]", "[x\\-]"});
  ASSERT_TRUE(escaped.has_value());
  EXPECT_TRUE(escaped->excluded("]"));
  EXPECT_TRUE(escaped->excluded("-"));
  EXPECT_FALSE(escaped->excluded("z"));
  auto bang = IgnoreMatcher::from_patterns({"!"});
  ASSERT_FALSE(bang.has_value());
  EXPECT_EQ(bang.error().message(), "illegal exclusion pattern: \"!\"");
}

// Patterns come from the build context: many stars must not backtrack exponentially.
TEST(Dockerignore, ManyStarsStayFast) {
  auto m = matcher("*a*a*a*a*a*a*a*a*a*a*a*a*b\n**/a**/a**/a**/a**/a**/c\n");
  EXPECT_FALSE(m.excluded(std::string(300, 'a')));
  std::string deep;
  for (int i = 0; i < 60; ++i) {
    deep += "a/";
  }
  EXPECT_FALSE(m.excluded(deep + "b"));
  EXPECT_TRUE(m.excluded(std::string(30, 'a') + "b"));
}

TEST(Dockerignore, EmptyExcludesNothing) {
  auto m = matcher("# nothing\n\n");
  EXPECT_TRUE(m.empty());
  EXPECT_FALSE(m.excluded("Dockerfile"));
}

}  // namespace
}  // namespace mydocker::image::dockerfile
