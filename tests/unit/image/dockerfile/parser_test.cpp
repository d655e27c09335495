// SPDX-License-Identifier: Apache-2.0
// The parser's API beyond the golden dumps: nodes, stages, heredoc words, durations.
#include "image/dockerfile/parser.h"

#include <gtest/gtest.h>

#include "image/dockerfile/instructions.h"

namespace mydocker::image::dockerfile {
namespace {

TEST(DockerfileParser, NodesKeepKeywordFlagsAndLines) {
  auto ast = parse_ast("# escape=`\nFROM busybox\ncopy --from=a `\n  x y\n");
  ASSERT_TRUE(ast.has_value()) << ast.error().message();
  EXPECT_EQ(ast->escape, '`');
  ASSERT_EQ(ast->directives.size(), 1u);
  EXPECT_EQ(ast->directives[0].line, 1);
  ASSERT_EQ(ast->nodes.size(), 2u);
  const Node& copy = ast->nodes[1];
  EXPECT_EQ(copy.keyword, "copy");
  EXPECT_EQ(copy.lower_keyword(), "copy");
  EXPECT_EQ(copy.flags, (std::vector<std::string>{"--from=a"}));
  EXPECT_EQ(copy.args, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(copy.start_line, 3);
  EXPECT_EQ(copy.end_line, 4);
  EXPECT_EQ(copy.original, "copy --from=a   x y");
}

// Nodes in the s-expression shape Docker's parser tests print them in:
// (keyword ["--flags"] "arg" "arg").
std::string sexp(const Node& n) {
  std::string out = "(" + n.lower_keyword();
  if (!n.flags.empty()) {
    out += " [";
    for (size_t i = 0; i < n.flags.size(); ++i) {
      out += (i ? " \"" : "\"") + n.flags[i] + "\"";
    }
    out += "]";
  }
  for (const auto& t : n.trigger) {
    out += " " + sexp(t);
  }
  for (const auto& a : n.args) {
    out += " \"" + a + "\"";
  }
  return out + ")";
}

std::vector<std::string> sexps(std::string_view text) {
  auto ast = parse_ast(text);
  EXPECT_TRUE(ast.has_value()) << ast.error().message();
  std::vector<std::string> out;
  if (ast.has_value()) {
    for (const auto& n : ast->nodes) {
      out.push_back(sexp(n));
    }
  }
  return out;
}

// The shapes Docker's own parser tests expect for HEALTHCHECK (testfiles/health).
TEST(DockerfileParser, HealthcheckNodesAsDocker) {
  EXPECT_EQ(sexps("FROM debian\n"
                  "HEALTHCHECK\n"
                  "HEALTHCHECK --interval=5s --timeout=3s --retries=3 \\\n"
                  "  CMD /app/check.sh --quiet\n"
                  "HEALTHCHECK CMD\n"
                  "HEALTHCHECK   CMD   a b\n"
                  "HEALTHCHECK --timeout=3s CMD [\"foo\"]\n"
                  "HEALTHCHECK CONNECT TCP 7000\n"),
            (std::vector<std::string>{
                "(from \"debian\")",
                "(healthcheck)",
                "(healthcheck [\"--interval=5s\" \"--timeout=3s\" \"--retries=3\"] \"CMD\" "
                "\"/app/check.sh --quiet\")",
                "(healthcheck \"CMD\")",
                "(healthcheck \"CMD\" \"a b\")",
                "(healthcheck [\"--timeout=3s\"] \"CMD\" \"foo\")",
                "(healthcheck \"CONNECT\" \"TCP 7000\")",
            }));
}

TEST(DockerfileParser, WordsKeepQuotesAndEscapes) {
  EXPECT_EQ(sexps("ARG foo\\ bar 'abc xyz' \"a b\" f\u00f6o=b\u00e0r\n"),
            (std::vector<std::string>{
                "(arg \"foo\\ bar\" \"'abc xyz'\" \"\"a b\"\" \"f\u00f6o=b\u00e0r\")"}));
  EXPECT_EQ(sexps("ENV PATH /usr/local/go/bin:$PATH\nONBUILD RUN a b\n"),
            (std::vector<std::string>{"(env \"PATH\" \"/usr/local/go/bin:$PATH\")",
                                      "(onbuild (run \"a b\"))"}));
}

TEST(DockerfileParser, EmptyContinuationLinesWarn) {
  auto ast = parse_ast(
      "\nFROM alpine:3.6\n\nRUN valid \\\n    continuation\n\nRUN something \\\n\n"
      "    following \\\n\n    more\n\nRUN another \\\n\n    thing\n\n"
      "RUN non-indented \\\n# this is a comment\n   after-comment\n\n"
      "RUN indented \\\n    # this is an indented comment\n    comment\n\t");
  ASSERT_TRUE(ast.has_value()) << ast.error().message();
  ASSERT_EQ(ast->warnings.size(), 2u);
  EXPECT_EQ(ast->warnings[0].message,
            "Empty continuation line found in: RUN something     following     more");
  EXPECT_EQ(ast->warnings[1].message, "Empty continuation line found in: RUN another     thing");
  ASSERT_EQ(ast->nodes.size(), 6u);
  EXPECT_EQ(ast->nodes[4].args, (std::vector<std::string>{"non-indented    after-comment"}));
  EXPECT_EQ(ast->nodes[5].args, (std::vector<std::string>{"indented     comment"}));
  EXPECT_EQ(ast->nodes[2].start_line, 7);
  EXPECT_EQ(ast->nodes[2].end_line, 11);
}

TEST(DockerfileParser, StagesAndMetaArgs) {
  auto df = parse_dockerfile(
      "ARG TAG=1\nFROM busybox:$TAG AS build\nRUN make\nFROM scratch\nCOPY --from=build /a /a\n");
  ASSERT_TRUE(df.has_value()) << df.error().message();
  ASSERT_EQ(df->meta_args.size(), 1u);
  ASSERT_EQ(df->stages.size(), 2u);
  EXPECT_EQ(df->stages[0].name, "build");
  EXPECT_EQ(df->stages[0].base, "busybox:$TAG");
  EXPECT_EQ(df->stages[0].source, "FROM busybox:$TAG AS build");
  EXPECT_EQ(df->stages[0].commands.size(), 1u);
  EXPECT_EQ(df->stages[1].name, "");
  const auto* copy = df->stages[1].commands.at(0).as<CopyCmd>();
  ASSERT_NE(copy, nullptr);
  EXPECT_EQ(copy->from, "build");
  EXPECT_EQ(df->stages[1].commands.at(0).keyword, "COPY");
}

TEST(DockerfileParser, OnbuildTriggerParsesWhenItFires) {
  auto df = parse_dockerfile("FROM busybox\nONBUILD COPY --chown=1:1 a /b\n");
  ASSERT_TRUE(df.has_value());
  const auto* on = df->stages[0].commands.at(0).as<OnbuildCmd>();
  ASSERT_NE(on, nullptr);
  EXPECT_EQ(on->expression, "COPY --chown=1:1 a /b");
  auto fired = parse_instruction(on->trigger);
  ASSERT_TRUE(fired.has_value()) << fired.error().message();
  ASSERT_NE(fired->as<CopyCmd>(), nullptr);
  EXPECT_EQ(fired->as<CopyCmd>()->chown, "1:1");
}

TEST(DockerfileParser, TriggersFromABaseImage) {
  auto df = parse_dockerfile("FROM b\nONBUILD RUN <<EOF\necho later\nEOF\nONBUILD COPY a /b\n");
  ASSERT_TRUE(df.has_value());
  std::vector<std::string> onbuild;
  for (const auto& c : df->stages[0].commands) {
    onbuild.push_back(c.as<OnbuildCmd>()->expression);
  }
  auto triggers = parse_triggers(onbuild);
  ASSERT_TRUE(triggers.has_value()) << triggers.error().message();
  ASSERT_EQ(triggers->size(), 2u);
  const auto* run = (*triggers)[0].as<RunCmd>();
  ASSERT_NE(run, nullptr);
  ASSERT_EQ(run->cmd.files.size(), 1u);
  EXPECT_EQ(run->cmd.files[0].content, "echo later\n");
  EXPECT_NE((*triggers)[1].as<CopyCmd>(), nullptr);
  auto from = parse_triggers({"FROM x"});
  ASSERT_FALSE(from.has_value());
  EXPECT_EQ(from.error().message(),
            "dockerfile parse error line 1: FROM isn't allowed as an ONBUILD trigger");
  auto unknown = parse_triggers({"FOO bar"});
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().message(), "dockerfile parse error line 1: unknown instruction: FOO");
}

TEST(DockerfileParser, HeredocWords) {
  auto plain = parse_heredoc_word("<<EOF");
  ASSERT_TRUE(plain.has_value() && plain->has_value());
  EXPECT_EQ((*plain)->name, "EOF");
  EXPECT_TRUE((*plain)->expand);
  auto quoted = parse_heredoc_word("<<-'E O'");
  ASSERT_TRUE(quoted.has_value() && quoted->has_value());
  EXPECT_EQ((*quoted)->name, "E O");
  EXPECT_FALSE((*quoted)->expand);
  EXPECT_TRUE((*quoted)->chomp);
  auto partly = parse_heredoc_word("<<E\"O\"F");
  ASSERT_TRUE(partly.has_value() && partly->has_value());
  EXPECT_EQ((*partly)->name, "EOF");
  EXPECT_FALSE((*partly)->expand);
  auto fd = parse_heredoc_word("2<<X");
  ASSERT_TRUE(fd.has_value() && fd->has_value());
  EXPECT_EQ((*fd)->fd, 2u);
  for (const char* no : {"<<", "x<<EOF", "<<<EOF", "EOF", "<<a b"}) {
    auto r = parse_heredoc_word(no);
    ASSERT_TRUE(r.has_value()) << no;
    EXPECT_FALSE(r->has_value()) << no;
  }
}

TEST(DockerfileParser, MetaArgsAreTheGlobalScope) {
  auto df = parse_dockerfile(
      "ARG REG=docker.io\nARG IMG=${REG}/busybox\nARG TAG\nARG UNSET\nARG OVER=default\n"
      "FROM ${IMG}:${TAG:-latest}\n");
  ASSERT_TRUE(df.has_value());
  auto scope = resolve_meta_args(*df, Env{{"TAG", "1.36"}, {"OVER", "given"}, {"OTHER", "x"}});
  ASSERT_TRUE(scope.has_value()) << scope.error().message();
  EXPECT_EQ(
      *scope,
      (Env{
          {"REG", "docker.io"}, {"IMG", "docker.io/busybox"}, {"TAG", "1.36"}, {"OVER", "given"}}));
  auto from = df->stages.at(0);
  auto base = expand_word(from.base, *scope);
  ASSERT_TRUE(base.has_value());
  EXPECT_EQ(*base, "docker.io/busybox:1.36");
  auto bad = parse_dockerfile("ARG A=${B\nFROM x\n");
  ASSERT_TRUE(bad.has_value());
  auto err = resolve_meta_args(*bad, {});
  ASSERT_FALSE(err.has_value());
  EXPECT_EQ(err.error().message(),
            "dockerfile parse error line 1: failed to process \"${B\": syntax error: missing '}'");
}

// A parser of untrusted input: whatever the bytes, it answers (a value or an error), never
// crashes or loops. Deterministic pseudo-random inputs from the characters that matter.
TEST(DockerfileParser, ArbitraryInputNeverCrashes) {
  const std::string alphabet = "FROM RUN COPY ENV ARG ONBUILD\\`#=<<-EOF'\"$ {}[],:\n\t\r-";
  uint32_t seed = 12345;
  auto next = [&] {
    seed = seed * 1103515245u + 12345u;
    return (seed >> 16) & 0x7fff;
  };
  for (int i = 0; i < 1500; ++i) {
    std::string text = "FROM x\n";
    size_t n = next() % 60;
    for (size_t k = 0; k < n; ++k) {
      text += alphabet[next() % alphabet.size()];
    }
    auto df = parse_dockerfile(text);
    if (df.has_value()) {
      (void)dump(*df);
      for (auto& st : df->stages) {
        for (auto& c : st.commands) {
          (void)expand_instruction(c, Env{{"A", "1"}}, df->escape);
        }
      }
    } else {
      EXPECT_EQ(df.error().message().rfind("dockerfile parse error line ", 0), 0u) << text;
    }
  }
}

TEST(DockerfileParser, RunPlansAsBuildKit) {
  auto df = parse_dockerfile(
      "FROM b\n"
      "RUN echo $HOME\n"
      "RUN [\"echo\", \"x\"]\n"
      "RUN <<-EOF\n\techo one\n\tEOF\n"
      "RUN <<SCRIPT\n#!/usr/bin/env python3\nprint(1)\nSCRIPT\n"
      "RUN python3 <<PY && <<B cat\nprint(2)\nPY\nb\nB\n");
  ASSERT_TRUE(df.has_value()) << df.error().message();
  const std::vector<std::string> sh{"/bin/sh", "-c"};
  auto plan = [&](size_t i) {
    auto r = plan_run(df->stages[0].commands.at(i).as<RunCmd>()->cmd, sh);
    EXPECT_TRUE(r.has_value());
    return r.has_value() ? *r : RunPlan{};
  };
  EXPECT_EQ(plan(0).args, (std::vector<std::string>{"/bin/sh", "-c", "echo $HOME"}));
  EXPECT_EQ(plan(1).args, (std::vector<std::string>{"echo", "x"}));
  EXPECT_EQ(plan(2).args, (std::vector<std::string>{"/bin/sh", "-c", "echo one\n"}));
  auto script = plan(3);
  EXPECT_EQ(script.args, (std::vector<std::string>{"/bin/sh", "-c", "/dev/pipes/SCRIPT"}));
  EXPECT_EQ(script.script_path, "/dev/pipes/SCRIPT");
  EXPECT_EQ(script.script, "#!/usr/bin/env python3\nprint(1)\n");
  EXPECT_EQ(plan(4).args, (std::vector<std::string>{
                              "/bin/sh", "-c", "python3 <<PY && <<B cat\nprint(2)\nPY\nb\nB"}));
}

TEST(DockerfileParser, ChompHeredoc) {
  EXPECT_EQ(chomp_heredoc("\t\ta\n\tb\t\nc\n"), "a\nb\t\nc\n");
}

TEST(DockerfileParser, GoDurations) {
  EXPECT_EQ(*parse_go_duration("0"), 0);
  EXPECT_EQ(*parse_go_duration("1h30m"), 5400'000'000'000);
  EXPECT_EQ(*parse_go_duration("1.5s"), 1'500'000'000);
  EXPECT_EQ(*parse_go_duration("-2ms"), -2'000'000);
  EXPECT_EQ(*parse_go_duration("250us"), 250'000);
  EXPECT_EQ(*parse_go_duration("10ns"), 10);
  EXPECT_EQ(parse_go_duration("5").error().message(), "time: missing unit in duration \"5\"");
  EXPECT_EQ(parse_go_duration("5x").error().message(),
            "time: unknown unit \"x\" in duration \"5x\"");
  EXPECT_EQ(parse_go_duration("").error().message(), "time: invalid duration \"\"");
  EXPECT_EQ(parse_go_duration("s").error().message(), "time: invalid duration \"s\"");
}

TEST(DockerfileParser, HealthcheckRetries) {
  auto bad = parse_dockerfile("FROM b\nHEALTHCHECK --retries=x CMD true\n");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(),
            "dockerfile parse error line 2: strconv.ParseInt: parsing \"x\": invalid syntax");
  auto neg = parse_dockerfile("FROM b\nHEALTHCHECK --retries=-1 CMD true\n");
  ASSERT_FALSE(neg.has_value());
  EXPECT_EQ(neg.error().message(),
            "dockerfile parse error line 2: --retries cannot be negative (-1)");
}

TEST(DockerfileParser, DuplicateAndBooleanFlags) {
  auto dup = parse_dockerfile("FROM b\nCOPY --from=a --from=b x y\n");
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().message(), "dockerfile parse error line 2: duplicate flag specified: from");
  auto boolean = parse_dockerfile("FROM b\nCOPY --link=maybe x y\n");
  ASSERT_FALSE(boolean.has_value());
  EXPECT_EQ(boolean.error().message(),
            "dockerfile parse error line 2: expecting boolean value for flag link, not: maybe");
  auto empty = parse_dockerfile("FROM b\nCOPY --link= x y\n");
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().message(),
            "dockerfile parse error line 2: missing a value on flag: link");
  auto ok = parse_dockerfile("FROM b\nCOPY --link=TRUE --exclude=a --exclude=b x y\n");
  ASSERT_TRUE(ok.has_value());
  EXPECT_TRUE(ok->stages[0].commands[0].as<CopyCmd>()->link);
}

TEST(DockerfileParser, LongLineRefused) {
  std::string text = "FROM b\nRUN " + std::string(70000, 'x') + "\n";
  auto r = parse_dockerfile(text);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(
      r.error().message(),
      "dockerfile parse error line 2: dockerfile line greater than max allowed size of 65535");
}

}  // namespace
}  // namespace mydocker::image::dockerfile
