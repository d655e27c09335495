// SPDX-License-Identifier: Apache-2.0
// build_exec_process: what `exec` runs, from the container's process plus flags or from a
// process.json (runc exec --process).
#include <gtest/gtest.h>

#include "runtime/state/container.h"

namespace mydocker::runtime {
namespace {

spec::Spec container_spec() {
  spec::Spec s;
  spec::Process p;
  p.args = {"sh"};
  p.env = {"PATH=/bin", "TERM=xterm"};
  p.cwd = "/srv";
  p.user.uid = 1000;
  p.user.gid = 1000;
  p.terminal = true;
  p.no_new_privileges = true;
  spec::Capabilities c;
  c.bounding = c.effective = c.permitted = {"CAP_KILL"};
  p.capabilities = c;
  s.process = p;
  return s;
}

TEST(ExecProcessTest, ArgsReplaceTheContainerCommandAndKeepItsSettings) {
  ExecOverrides o;
  o.args = {"ps", "-ef"};
  auto p = build_exec_process(container_spec(), std::nullopt, o);
  ASSERT_TRUE(p.has_value()) << p.error().to_string();
  EXPECT_EQ(p->args, (std::vector<std::string>{"ps", "-ef"}));
  EXPECT_EQ(p->cwd, "/srv");
  EXPECT_EQ(p->user.uid, 1000u);
  EXPECT_TRUE(p->no_new_privileges);
  ASSERT_TRUE(p->capabilities.has_value());
  EXPECT_EQ(p->capabilities->effective, std::vector<std::string>{"CAP_KILL"});
  // A terminal only when exec asks for one (runc exec -t).
  EXPECT_FALSE(p->terminal);
}

TEST(ExecProcessTest, FlagsOverride) {
  ExecOverrides o;
  o.args = {"id"};
  o.env = {"A=1", "TERM=dumb"};
  o.cwd = "/tmp";
  o.user = "0:5";
  o.additional_gids = {7, 8};
  o.tty = true;
  auto p = build_exec_process(container_spec(), std::nullopt, o);
  ASSERT_TRUE(p.has_value()) << p.error().to_string();
  EXPECT_EQ(p->env, (std::vector<std::string>{"PATH=/bin", "TERM=xterm", "A=1", "TERM=dumb"}));
  EXPECT_EQ(p->cwd, "/tmp");
  EXPECT_EQ(p->user.uid, 0u);
  EXPECT_EQ(p->user.gid, 5u);
  EXPECT_EQ(p->user.additional_gids, (std::vector<uint32_t>{7, 8}));
  EXPECT_TRUE(p->terminal);
}

TEST(ExecProcessTest, UserWithoutGroupMeansGidZero) {
  ExecOverrides o;
  o.args = {"id"};
  o.user = "33";
  auto p = build_exec_process(container_spec(), std::nullopt, o);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->user.uid, 33u);
  EXPECT_EQ(p->user.gid, 0u);
}

TEST(ExecProcessTest, ProcessJsonIsUsedWhole) {
  ExecOverrides o;
  auto p = build_exec_process(container_spec(),
                              std::string(R"({"args":["cat","/etc/hostname"],"cwd":"/",)"
                                          R"("user":{"uid":5,"gid":6},"env":["X=y"]})"),
                              o);
  ASSERT_TRUE(p.has_value()) << p.error().to_string();
  EXPECT_EQ(p->args, (std::vector<std::string>{"cat", "/etc/hostname"}));
  EXPECT_EQ(p->user.uid, 5u);
  EXPECT_EQ(p->env, std::vector<std::string>{"X=y"});
  EXPECT_FALSE(p->capabilities.has_value());
}

TEST(ExecProcessTest, BadInputsNameTheFlag) {
  struct Row {
    std::optional<std::string> json;
    ExecOverrides o;
    std::string want;
  };
  ExecOverrides no_args;
  ExecOverrides bad_env;
  bad_env.args = {"x"};
  bad_env.env = {"NOEQUALS"};
  ExecOverrides bad_user;
  bad_user.args = {"x"};
  bad_user.user = "root";
  ExecOverrides bad_cwd;
  bad_cwd.args = {"x"};
  bad_cwd.cwd = "relative";
  const Row rows[] = {
      {std::nullopt, no_args, "args"},
      {std::nullopt, bad_env, "--env: `NOEQUALS`"},
      {std::nullopt, bad_user, "--user: `root`"},
      {std::nullopt, bad_cwd, "--cwd: `relative`"},
      {std::string("{broken"), no_args, "--process"},
  };
  for (const auto& r : rows) {
    auto p = build_exec_process(container_spec(), r.json, r.o);
    ASSERT_FALSE(p.has_value()) << r.want;
    EXPECT_EQ(p.error().code(), base::ErrorCode::InvalidArgument) << r.want;
    EXPECT_NE(p.error().message().find(r.want), std::string::npos) << p.error().message();
  }
}

}  // namespace
}  // namespace mydocker::runtime
