// SPDX-License-Identifier: Apache-2.0
#include "image/archive/changes.h"

#include <gtest/gtest.h>

namespace mydocker::image::archive {
namespace {

using content::RunConfig;

TEST(ChangesTest, AppliesEachInstruction) {
  RunConfig c;
  auto r =
      apply_changes(c, {"CMD [\"/bin/sh\", \"-c\", \"echo hi\"]", "ENTRYPOINT /init --x",
                        "ENV A=1 B=\"two words\"", "ENV C 3 4", "ENV A=9", "LABEL x=y \"z\"=w",
                        "EXPOSE 80 53/udp", "USER nobody", "WORKDIR /srv", "WORKDIR app",
                        "STOPSIGNAL SIGINT", "VOLUME [\"/data\", \"/logs\"]", "volume /cache"});
  ASSERT_TRUE(r) << r.error().to_string();
  // ENTRYPOINT after CMD resets the CMD, as in a Dockerfile.
  EXPECT_FALSE(c.cmd.has_value());
  ASSERT_TRUE(c.entrypoint.has_value());
  EXPECT_EQ(*c.entrypoint, (std::vector<std::string>{"/bin/sh", "-c", "/init --x"}));
  EXPECT_EQ(c.env, (std::vector<std::string>{"A=9", "B=two words", "C=3 4"}));
  EXPECT_EQ(c.labels, (std::map<std::string, std::string>{{"x", "y"}, {"z", "w"}}));
  EXPECT_EQ(c.exposed_ports, (std::set<std::string>{"80/tcp", "53/udp"}));
  EXPECT_EQ(c.user, "nobody");
  EXPECT_EQ(c.working_dir, "/srv/app");
  EXPECT_EQ(c.stop_signal, "SIGINT");
  EXPECT_EQ(c.volumes, (std::set<std::string>{"/data", "/logs", "/cache"}));
}

TEST(ChangesTest, CmdJsonAndShellForms) {
  RunConfig c;
  ASSERT_TRUE(apply_changes(c, {"CMD [\"/bin/sh\"]"}));
  EXPECT_EQ(*c.cmd, (std::vector<std::string>{"/bin/sh"}));
  ASSERT_TRUE(apply_changes(c, {"cmd echo hello"}));
  EXPECT_EQ(*c.cmd, (std::vector<std::string>{"/bin/sh", "-c", "echo hello"}));
}

struct BadCase {
  std::string change;
  std::string message;
};

class ChangesBadTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(ChangesBadTest, RefusedWithDockersWords) {
  RunConfig c;
  c.user = "keep";
  auto r = apply_changes(c, {"ENV OK=1", GetParam().change});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), base::ErrorCode::InvalidArgument);
  EXPECT_EQ(r.error().message(), GetParam().message);
  // Nothing applied, not even the valid first change.
  EXPECT_TRUE(c.env.empty());
  EXPECT_EQ(c.user, "keep");
}

INSTANTIATE_TEST_SUITE_P(
    Table, ChangesBadTest,
    ::testing::Values(BadCase{"FOO bar", "foo is not a valid change command"},
                      BadCase{"RUN echo hi", "run is not a valid change command"},
                      BadCase{"CMD=/bin/sh", "cmd=/bin/sh is not a valid change command"},
                      BadCase{"FROM scratch", "from is not a valid change command"},
                      BadCase{"ENV", "ENV requires at least one argument"},
                      BadCase{"LABEL =x", "LABEL names can not be blank"},
                      BadCase{"ENV A=\"unterminated",
                              "dockerfile parse error on line 2: unexpected end of statement "
                              "while looking for matching \""}));

}  // namespace
}  // namespace mydocker::image::archive
