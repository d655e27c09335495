// SPDX-License-Identifier: Apache-2.0
// ARG/ENV scoping as Docker's classic builder applies it.
#include "image/dockerfile/scope.h"

#include <gtest/gtest.h>

namespace mydocker::image::dockerfile {
namespace {

TEST(DockerfileScope, ArgsAndEnvAsDocker) {
  auto df = parse_dockerfile(
      "ARG V=1\nARG G\nFROM busybox\nARG V\nARG B=default\nARG D=${V}-x\nARG U\nARG G\n");
  ASSERT_TRUE(df.has_value()) << df.error().message();
  Env build{{"B", "b"}, {"HTTP_PROXY", "p"}};
  auto meta = resolve_meta_args(*df, build);
  ASSERT_TRUE(meta.has_value());
  StageScope scope(*meta, build, Env{{"PATH", "/bin"}});
  // The global V is not visible until the stage declares it; the proxy arg needs no ARG.
  EXPECT_EQ(scope.expansion_env(), (Env{{"HTTP_PROXY", "p"}, {"PATH", "/bin"}}));
  for (const auto& ins : df->stages.at(0).commands) {
    ASSERT_TRUE(scope.declare(ins, df->escape).has_value()) << ins.original;
  }
  EXPECT_EQ(scope.expansion_env(),
            (Env{{"B", "b"}, {"D", "1-x"}, {"HTTP_PROXY", "p"}, {"PATH", "/bin"}, {"V", "1"}}));
  scope.set_env("V", "from-env");
  EXPECT_EQ(scope.expansion_env().at("V"), "from-env");
  EXPECT_EQ(scope.run_args(), (Env{{"B", "b"}, {"D", "1-x"}, {"HTTP_PROXY", "p"}}));
}

TEST(DockerfileScope, ArgErrorsCarryTheLine) {
  auto df = parse_dockerfile("FROM busybox\nARG X=${Y\n");
  ASSERT_TRUE(df.has_value());
  StageScope scope({}, {}, {});
  auto r = scope.declare(df->stages.at(0).commands.at(0), '\\');
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(),
            "dockerfile parse error line 2: failed to process \"${Y\": syntax error: missing '}'");
}

TEST(DockerfileScope, UnusedBuildArgs) {
  auto df = parse_dockerfile("ARG A\nFROM busybox\nARG B\nFROM scratch\nARG C=1\n");
  ASSERT_TRUE(df.has_value());
  EXPECT_EQ(unused_build_args(*df, Env{{"A", ""}, {"C", ""}, {"NOPE", ""}, {"no_proxy", ""}}),
            (std::vector<std::string>{"NOPE"}));
  EXPECT_TRUE(is_predefined_arg("ALL_PROXY"));
  EXPECT_FALSE(is_predefined_arg("PROXY"));
}

}  // namespace
}  // namespace mydocker::image::dockerfile
