// SPDX-License-Identifier: Apache-2.0
// engine/build/steps.h: the config changes and the texts Docker's classic builder records per
// instruction (history created_by, container_config Cmd), checked without root.
#include "engine/build/steps.h"

#include <gtest/gtest.h>

#include "image/dockerfile/instructions.h"
#include "runtime/base/strings.h"

namespace mydocker::engine::build {
namespace {

namespace df = image::dockerfile;

// The instructions of "FROM x\n<text>", expanded with `env`.
std::vector<df::Instruction> parse(const std::string& text, const df::Env& env = {}) {
  auto d = df::parse_dockerfile("FROM x\n" + text);
  EXPECT_TRUE(d.has_value()) << d.error().to_string();
  std::vector<df::Instruction> out;
  if (!d) {
    return out;
  }
  for (auto ins : d->stages[0].commands) {
    auto r = df::expand_instruction(ins, env, '\\');
    EXPECT_TRUE(r.has_value()) << r.error().to_string();
    out.push_back(std::move(ins));
  }
  return out;
}

std::string created_by(const StageState& s, const std::string& comment, bool one_word = false) {
  return base::join(*comment_config(s.config, comment, one_word).cmd, " ");
}

TEST(BuildStepsTest, GoDurations) {
  EXPECT_EQ(go_duration(0), "0s");
  EXPECT_EQ(go_duration(30'000'000'000), "30s");
  EXPECT_EQ(go_duration(90'000'000'000), "1m30s");
  EXPECT_EQ(go_duration(3'600'000'000'000), "1h0m0s");
  EXPECT_EQ(go_duration(1'500'000'000), "1.5s");
  EXPECT_EQ(go_duration(500'000'000), "500ms");
  EXPECT_EQ(go_duration(1'500), "1.5\u00b5s");
  EXPECT_EQ(go_duration(7), "7ns");
  EXPECT_EQ(go_duration(-2'000'000'000), "-2s");
}

TEST(BuildStepsTest, BeginStageAddsDefaultPathAndDropsOnBuild) {
  RunConfig base;
  base.env = {"A=1"};
  base.cmd = std::vector<std::string>{"sh"};
  base.on_build = {"RUN true"};
  StageState s = begin_stage(base);
  EXPECT_EQ(s.config.env, (std::vector<std::string>{"A=1", "PATH=" + std::string(kDefaultPath)}));
  EXPECT_TRUE(s.config.on_build.empty());
  EXPECT_FALSE(s.cmd_set);
  base.env = {"PATH=/x"};
  EXPECT_EQ(begin_stage(base).config.env, (std::vector<std::string>{"PATH=/x"}));
  EXPECT_EQ(begin_stage(std::nullopt).config.env.size(), 1u);
}

TEST(BuildStepsTest, LabelAndEnvRecordDockersText) {
  StageState s = begin_stage(std::nullopt);
  auto ins = parse("LABEL tx-build=\"1\" b=two\nENV A=1 B=\"x y\"\nENV A=2");
  auto label = apply_metadata(s, ins[0]);
  ASSERT_TRUE(label.has_value());
  EXPECT_EQ(label->comment, "LABEL tx-build=1 b=two");
  EXPECT_EQ(s.config.labels.at("tx-build"), "1");
  EXPECT_EQ(created_by(s, label->comment), "/bin/sh -c #(nop)  LABEL tx-build=1 b=two");
  EXPECT_EQ(*comment_config(s.config, label->comment, false).cmd,
            (std::vector<std::string>{"/bin/sh", "-c", "#(nop) ", "LABEL tx-build=1 b=two"}));
  auto env = apply_metadata(s, ins[1]);
  ASSERT_TRUE(env.has_value());
  EXPECT_EQ(env->comment, "ENV A=1 B=x y");
  ASSERT_TRUE(apply_metadata(s, ins[2]).has_value());
  EXPECT_EQ(s.config.env,
            (std::vector<std::string>{"PATH=" + std::string(kDefaultPath), "A=2", "B=x y"}));
}

TEST(BuildStepsTest, CmdEntrypointAndTheirResetRule) {
  RunConfig base;
  base.cmd = std::vector<std::string>{"sh"};
  // ENTRYPOINT without a CMD in this stage resets the base's Cmd to null.
  StageState s = begin_stage(base);
  auto ins = parse(
      "ENTRYPOINT [\"/bin/echo\"]\nCMD [\"cat\", \"/tx-file\"]\nENTRYPOINT top -b\nCMD echo hi");
  auto ep = apply_metadata(s, ins[0]);
  ASSERT_TRUE(ep.has_value());
  EXPECT_EQ(ep->comment, "ENTRYPOINT [\"/bin/echo\"]");
  EXPECT_FALSE(s.config.cmd.has_value());
  auto cmd = apply_metadata(s, ins[1]);
  ASSERT_TRUE(cmd.has_value());
  EXPECT_EQ(cmd->comment, "CMD [\"cat\" \"/tx-file\"]");
  EXPECT_TRUE(s.cmd_set);
  // After a CMD of this stage, ENTRYPOINT keeps it; the shell form gets the shell.
  ASSERT_TRUE(apply_metadata(s, ins[2]).has_value());
  EXPECT_EQ(*s.config.entrypoint, (std::vector<std::string>{"/bin/sh", "-c", "top -b"}));
  EXPECT_EQ(*s.config.cmd, (std::vector<std::string>{"cat", "/tx-file"}));
  auto shell_cmd = apply_metadata(s, ins[3]);
  ASSERT_TRUE(shell_cmd.has_value());
  EXPECT_EQ(shell_cmd->comment, "CMD [\"/bin/sh\" \"-c\" \"echo hi\"]");
  EXPECT_FALSE(s.config.args_escaped.has_value());
}

TEST(BuildStepsTest, ShellChangesCommentsAndShellForms) {
  StageState s = begin_stage(std::nullopt);
  auto ins = parse("SHELL [\"/bin/bash\", \"-xc\"]\nCMD run it");
  auto sh = apply_metadata(s, ins[0]);
  ASSERT_TRUE(sh.has_value());
  EXPECT_EQ(sh->comment, "SHELL [/bin/bash -xc]");
  ASSERT_TRUE(apply_metadata(s, ins[1]).has_value());
  EXPECT_EQ(*s.config.cmd, (std::vector<std::string>{"/bin/bash", "-xc", "run it"}));
  EXPECT_EQ(created_by(s, "WORKDIR /a", true), "/bin/bash -xc #(nop) WORKDIR /a");
}

TEST(BuildStepsTest, HealthcheckTextAndJson) {
  StageState s = begin_stage(std::nullopt);
  auto ins = parse(
      "HEALTHCHECK --interval=30s --timeout=3s --retries=3 CMD curl -f http://x/\n"
      "HEALTHCHECK NONE");
  auto hc = apply_metadata(s, ins[0]);
  ASSERT_TRUE(hc.has_value());
  EXPECT_EQ(hc->comment,
            "HEALTHCHECK &{[\"CMD-SHELL\" \"curl -f http://x/\"] \"30s\" \"3s\" \"0s\" '\\x03'}");
  EXPECT_TRUE(hc->notes.empty());
  EXPECT_EQ(s.config.healthcheck->at("Interval"), 30'000'000'000);
  EXPECT_EQ(s.config.healthcheck->at("Retries"), 3);
  EXPECT_FALSE(s.config.healthcheck->contains("StartPeriod"));
  auto none = apply_metadata(s, ins[1]);
  ASSERT_TRUE(none.has_value());
  ASSERT_EQ(none->notes.size(), 1u);
  EXPECT_EQ(none->notes[0],
            "Note: overriding previous HEALTHCHECK: [CMD-SHELL curl -f http://x/]\n");
  EXPECT_EQ(none->comment, "HEALTHCHECK &{[\"NONE\"] \"0s\" \"0s\" \"0s\" '\\x00'}");
}

TEST(BuildStepsTest, ExposeVolumeStopsignalUserOnbuild) {
  StageState s = begin_stage(std::nullopt);
  auto ins = parse(
      "EXPOSE 80 8000-8001/UDP\nVOLUME /data /logs\nSTOPSIGNAL SIGKILL\nUSER nobody\n"
      "ONBUILD RUN echo hi\nMAINTAINER me");
  auto ex = apply_metadata(s, ins[0]);
  ASSERT_TRUE(ex.has_value());
  EXPECT_EQ(s.config.exposed_ports, (std::set<std::string>{"80/tcp", "8000/udp", "8001/udp"}));
  auto vol = apply_metadata(s, ins[1]);
  ASSERT_TRUE(vol.has_value());
  EXPECT_EQ(vol->comment, "VOLUME [/data /logs]");
  EXPECT_EQ(s.config.volumes, (std::set<std::string>{"/data", "/logs"}));
  EXPECT_EQ(apply_metadata(s, ins[2])->comment, "STOPSIGNAL SIGKILL");
  EXPECT_EQ(apply_metadata(s, ins[3])->comment, "USER nobody");
  EXPECT_EQ(s.config.user, "nobody");
  EXPECT_EQ(apply_metadata(s, ins[4])->comment, "ONBUILD RUN echo hi");
  EXPECT_EQ(s.config.on_build, (std::vector<std::string>{"RUN echo hi"}));
  EXPECT_EQ(apply_metadata(s, ins[5])->comment, "MAINTAINER me");
  EXPECT_EQ(s.maintainer, "me");
}

TEST(BuildStepsTest, BadValuesAreDockersErrorsAndChangeNothing) {
  StageState s = begin_stage(std::nullopt);
  StageState before = s;
  auto ins = parse("STOPSIGNAL SIGNOPE\nEXPOSE 80/xyz\nEXPOSE abc");
  auto sig = apply_metadata(s, ins[0]);
  ASSERT_FALSE(sig.has_value());
  EXPECT_EQ(sig.error().message(), "Invalid signal: SIGNOPE");
  EXPECT_EQ(apply_metadata(s, ins[1]).error().message(), "invalid proto: xyz");
  EXPECT_EQ(apply_metadata(s, ins[2]).error().message(), "invalid containerPort: abc");
  EXPECT_EQ(s.config, before.config);
  EXPECT_FALSE(parse_exposed_ports({"9-8"}).has_value());
}

TEST(BuildStepsTest, WorkdirNormalisation) {
  EXPECT_EQ(normalize_workdir("", "/app"), "/app");
  EXPECT_EQ(normalize_workdir("/app", "src"), "/app/src");
  EXPECT_EQ(normalize_workdir("/app", "../x/./y/"), "/x/y");
  EXPECT_EQ(normalize_workdir("/", "/"), "/");
  EXPECT_EQ(normalize_workdir("/a", "//b//c"), "/b/c");
}

TEST(BuildStepsTest, RunRecordsBuildArgsAsDockerDoes) {
  StageState s = begin_stage(std::nullopt);
  std::vector<std::string> cmd = {"/bin/sh", "-c", "echo built > /tx-file"};
  RunStep plain = plan_run_step(s, cmd, {}, {});
  EXPECT_EQ(base::join(plain.save_cmd, " "), "/bin/sh -c echo built > /tx-file");
  EXPECT_FALSE(plain.container_config.entrypoint.has_value());
  RunStep with = plan_run_step(s, cmd, {{"B", "2"}, {"A", "1"}}, {{"A"}, {"B"}});
  EXPECT_EQ(base::join(with.save_cmd, " "), "|2 A=1 B=2 /bin/sh -c echo built > /tx-file");
  EXPECT_EQ(with.cmd, cmd);
  EXPECT_EQ(with.env.back(), "B=2");
  EXPECT_EQ(*with.container_config.cmd, with.save_cmd);
  // A proxy arg no ARG declared is in the environment but not in the history (Docker's "|0").
  RunStep proxy = plan_run_step(s, cmd, {{"http_proxy", "http://p"}}, {});
  EXPECT_EQ(base::join(proxy.save_cmd, " "), "|0 /bin/sh -c echo built > /tx-file");
  EXPECT_EQ(proxy.env.back(), "http_proxy=http://p");
  EXPECT_EQ(run_failed_message({"/bin/sh", "-c", "echo about to fail && exit 3"}, 3),
            "The command '/bin/sh -c echo about to fail && exit 3' returned a non-zero code: 3");
  EXPECT_EQ(run_failed_message({"a", "b"}, 1), "The command 'a b' returned a non-zero code: 1");
}

TEST(BuildStepsTest, DockerConfigHasDockersKeys) {
  RunConfig c;
  c.cmd = std::vector<std::string>{"cat", "/tx-file"};
  c.env = {"PATH=/bin"};
  auto j = docker_config(c, "sha256:abc").to_json();
  EXPECT_EQ(j["Image"], "sha256:abc");
  EXPECT_EQ(j["Cmd"], nlohmann::json({"cat", "/tx-file"}));
  EXPECT_TRUE(j["Entrypoint"].is_null());
  EXPECT_TRUE(j["Labels"].is_null());
  EXPECT_EQ(j["Hostname"], "");
  EXPECT_EQ(j["Tty"], false);
  EXPECT_FALSE(j.contains("ArgsEscaped"));
}

TEST(BuildStepsTest, ArgComment) {
  StageState s = begin_stage(std::nullopt);
  auto ins = parse("ARG A=1 B");
  auto arg = apply_metadata(s, ins[0]);
  ASSERT_TRUE(arg.has_value());
  EXPECT_EQ(arg->comment, "ARG A=1 B");
}

}  // namespace
}  // namespace mydocker::engine::build
