// SPDX-License-Identifier: Apache-2.0
// Word expansion: Docker's documented forms and the lexer's error texts.
#include "image/dockerfile/expand.h"

#include <gtest/gtest.h>

#include "image/dockerfile/instructions.h"

namespace mydocker::image::dockerfile {
namespace {

const Env kEnv = {{"PWD", "/home"}, {"EMPTY", ""},      {"X", "a/b/c"},
                  {"Y", "a/b/c/b"}, {"SPACED", "x  y"}, {"ME", "me"}};

std::string word(std::string_view w, const LexOptions& o = {}) {
  auto r = expand_word(w, kEnv, o);
  EXPECT_TRUE(r.has_value()) << w << ": " << r.error().message();
  return r.has_value() ? *r : "<error>";
}

std::string error(std::string_view w) {
  auto r = expand_word(w, kEnv);
  EXPECT_FALSE(r.has_value()) << w << " gave " << (r.has_value() ? *r : "");
  return r.has_value() ? "" : r.error().message();
}

std::vector<std::string> words(std::string_view w) {
  auto r = expand_words(w, kEnv);
  EXPECT_TRUE(r.has_value()) << w;
  return r.has_value() ? *r : std::vector<std::string>{};
}

TEST(DockerfileExpand, PlainAndQuotes) {
  EXPECT_EQ(word("hello"), "hello");
  EXPECT_EQ(word("he'll'o"), "hello");
  EXPECT_EQ(word("he\\'llo"), "he'llo");
  EXPECT_EQ(word("\"he\\\"llo\""), "he\"llo");
  EXPECT_EQ(word("\"a\\b\""), "a\\b");  // inside "", only \" \$ \\ are escapes
  EXPECT_EQ(word("'$PWD'"), "$PWD");
  EXPECT_EQ(word("'a\\b'"), "a\\b");
  EXPECT_EQ(word("a\\ b"), "a b");
  EXPECT_EQ(word("trailing\\"), "trailing");
}

TEST(DockerfileExpand, Variables) {
  EXPECT_EQ(word("$PWD"), "/home");
  EXPECT_EQ(word("${PWD}"), "/home");
  EXPECT_EQ(word("\"$PWD\""), "/home");
  EXPECT_EQ(word("\\$PWD"), "$PWD");
  EXPECT_EQ(word("${PWD}x$ME"), "/homexme");
  EXPECT_EQ(word("$NOPE"), "");
  EXPECT_EQ(word("$"), "$");
  EXPECT_EQ(word("a$"), "a$");
  EXPECT_EQ(word("$1"), "");
  EXPECT_EQ(word("$PWD-x"), "/home-x");
}

TEST(DockerfileExpand, Modifiers) {
  EXPECT_EQ(word("${PWD:-x}"), "/home");
  EXPECT_EQ(word("${NOPE:-x}"), "x");
  EXPECT_EQ(word("${EMPTY:-x}"), "x");
  EXPECT_EQ(word("${EMPTY-x}"), "");
  EXPECT_EQ(word("${NOPE-x}"), "x");
  EXPECT_EQ(word("${PWD:+x}"), "x");
  EXPECT_EQ(word("${EMPTY:+x}"), "");
  EXPECT_EQ(word("${EMPTY+x}"), "x");
  EXPECT_EQ(word("${NOPE+x}"), "");
  EXPECT_EQ(word("${NOPE:-${PWD}/sub}"), "/home/sub");
  EXPECT_EQ(word("${NOPE:-'a b'}"), "a b");
  EXPECT_EQ(word("${X#*/}"), "b/c");
  EXPECT_EQ(word("${X##*/}"), "c");
  EXPECT_EQ(word("${X%/*}"), "a/b");
  EXPECT_EQ(word("${X%%/*}"), "a");
  EXPECT_EQ(word("${Y/b/B}"), "a/B/c/b");
  EXPECT_EQ(word("${Y//b/B}"), "a/B/c/B");
  EXPECT_EQ(word("${PWD:?set}"), "/home");
}

TEST(DockerfileExpand, PatternsStayFast) {
  Env env{{"V", std::string(500, 'a')}};
  auto r = expand_word("${V#*a*a*a*a*a*a*a*a*a*a*b}", env);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->size(), 500u);
  auto all = expand_word("${V//a*a*b/x}", Env{{"V", std::string(120, 'a')}});
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->size(), 120u);
}

TEST(DockerfileExpand, Errors) {
  EXPECT_EQ(error("${PWD"), "failed to process \"${PWD\": syntax error: missing '}'");
  EXPECT_EQ(error("${"), "failed to process \"${\": syntax error: missing '}'");
  EXPECT_EQ(error("${NOPE:-x"), "failed to process \"${NOPE:-x\": syntax error: missing '}'");
  EXPECT_EQ(error("${}"), "failed to process \"${}\": syntax error: bad substitution");
  EXPECT_EQ(error("${:x}"), "failed to process \"${:x}\": syntax error: bad substitution");
  EXPECT_EQ(error("${PWD:=x}"),
            "failed to process \"${PWD:=x}\": unsupported modifier (:=) in substitution");
  EXPECT_EQ(error("he'llo"),
            "failed to process \"he'llo\": unexpected end of statement while looking for "
            "matching single-quote");
  EXPECT_EQ(error("\"x"),
            "failed to process \"\\\"x\": unexpected end of statement while looking for "
            "matching double-quote");
  EXPECT_EQ(error("${NOPE:?must be set}"),
            "failed to process \"${NOPE:?must be set}\": NOPE: "
            "must be set");
  EXPECT_EQ(error("${NOPE?}"), "failed to process \"${NOPE?}\": NOPE: is not allowed to be unset");
  EXPECT_EQ(error("${EMPTY:?}"),
            "failed to process \"${EMPTY:?}\": EMPTY: is not allowed to be empty");
}

TEST(DockerfileExpand, Words) {
  EXPECT_EQ(words("a \"b c\" d"), (std::vector<std::string>{"a", "b c", "d"}));
  EXPECT_EQ(words("$SPACED"), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(words("\"$SPACED\""), (std::vector<std::string>{"x  y"}));
  EXPECT_EQ(words("  80  443/udp "), (std::vector<std::string>{"80", "443/udp"}));
  EXPECT_EQ(words("a\\ b c"), (std::vector<std::string>{"a b", "c"}));
  EXPECT_TRUE(words("\"\"").empty());
}

TEST(DockerfileExpand, BacktickEscape) {
  LexOptions o;
  o.escape = '`';
  EXPECT_EQ(word("c:\\path", o), "c:\\path");
  EXPECT_EQ(word("a`$PWD", o), "a$PWD");
  EXPECT_EQ(word("\"a`\"b\"", o), "a\"b");
}

TEST(DockerfileExpand, SkipUnsetKeepsReferences) {
  LexOptions o;
  o.skip_unset = true;
  EXPECT_EQ(word("$NOPE ${NOPE} ${NOPE:-d} $PWD", o), "$NOPE ${NOPE} ${NOPE:-d} /home");
}

TEST(DockerfileExpand, InstructionsExpandAsDocker) {
  auto df = parse_dockerfile(
      "FROM busybox\n"
      "ENV D=\"four five\" E=$PWD/bin F='$PWD'\n"
      "COPY --chown=$ME ${PWD}/a b\\ c /dst/$ME/\n"
      "EXPOSE $PORTS 22\n"
      "RUN echo $PWD\n"
      "LABEL \"k $ME\"=v\n"
      "WORKDIR ${PWD:-/x}/w\n");
  ASSERT_TRUE(df.has_value()) << df.error().message();
  Env env = kEnv;
  env["PORTS"] = "80 443";
  auto& cmds = df->stages.at(0).commands;
  for (auto& c : cmds) {
    ASSERT_TRUE(expand_instruction(c, env, '\\').has_value()) << c.original;
  }
  const auto* e = cmds[0].as<EnvCmd>();
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->env[0].value, "four five");
  EXPECT_EQ(e->env[1].value, "/home/bin");
  EXPECT_EQ(e->env[2].value, "$PWD");
  const auto* c = cmds[1].as<CopyCmd>();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->chown, "me");
  EXPECT_EQ(c->paths.sources, (std::vector<std::string>{"/home/a", "b", "c"}));
  EXPECT_EQ(c->paths.dest, "/dst/me/");
  const auto* x = cmds[2].as<ExposeCmd>();
  ASSERT_NE(x, nullptr);
  // Sorted as written (Docker sorts before expanding).
  EXPECT_EQ(x->ports, (std::vector<std::string>{"80", "443", "22"}));
  EXPECT_FALSE(expands_variables(cmds[3]));
  EXPECT_EQ(cmds[3].as<RunCmd>()->cmd.args.at(0), "echo $PWD");
  EXPECT_TRUE(expands_variables(cmds[4]));
  EXPECT_EQ(cmds[4].as<LabelCmd>()->labels.at(0).key, "k me");
  EXPECT_EQ(cmds[5].as<WorkdirCmd>()->path, "/home/w");
}

TEST(DockerfileExpand, CopyHeredocBodies) {
  auto df = parse_dockerfile(
      "FROM busybox\nCOPY <<EOF <<'RAW' /d/\nhome=\"$PWD\" 'q' \\$ME\nEOF\nkeep $PWD\nRAW\n");
  ASSERT_TRUE(df.has_value()) << df.error().message();
  auto& ins = df->stages.at(0).commands.at(0);
  ASSERT_TRUE(expand_instruction(ins, kEnv, '\\').has_value());
  const auto* c = ins.as<CopyCmd>();
  ASSERT_NE(c, nullptr);
  ASSERT_EQ(c->paths.contents.size(), 2u);
  EXPECT_EQ(c->paths.contents[0].data, "home=\"/home\" 'q' $ME\n");
  EXPECT_EQ(c->paths.contents[1].data, "keep $PWD\n");
}

// As Docker: shell-form COPY splits at blanks before expansion, so quotes cannot group words.
TEST(DockerfileExpand, CopyShellFormDoesNotGroupQuotedWords) {
  auto df = parse_dockerfile("FROM busybox\nCOPY \"b c\" /d\n");
  ASSERT_TRUE(df.has_value());
  auto r = expand_instruction(df->stages.at(0).commands.at(0), kEnv, '\\');
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(),
            "dockerfile parse error line 2: failed to process \"\\\"b\": unexpected end of "
            "statement while looking for matching double-quote");
}

TEST(DockerfileExpand, InstructionErrorsCarryTheLine) {
  auto df = parse_dockerfile("FROM busybox\n\nUSER ${NOPE\n");
  ASSERT_TRUE(df.has_value());
  auto& u = df->stages.at(0).commands.at(0);
  auto r = expand_instruction(u, kEnv, '\\');
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(),
            "dockerfile parse error line 3: failed to process \"${NOPE\": syntax error: missing "
            "'}'");
}

}  // namespace
}  // namespace mydocker::image::dockerfile
