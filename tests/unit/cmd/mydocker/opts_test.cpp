// SPDX-License-Identifier: Apache-2.0
#include "cmd/mydocker/opts.h"

#include <gtest/gtest.h>

#include <map>

namespace mydocker::cli {
namespace {

TEST(OptsTest, RamBytes) {
  struct Row {
    std::string in;
    int64_t want;
  };
  std::vector<Row> rows = {
      {"512m", 536870912},  {"512M", 536870912},  {"1g", 1073741824},    {"100", 100},
      {"1.5g", 1610612736}, {"64kb", 65536},      {"64k", 65536},        {"10MiB", 10485760},
      {"6m", 6291456},      {"2 GB", 2147483648}, {"1t", 1099511627776},
  };
  for (const auto& r : rows) {
    auto got = parse_ram_bytes(r.in);
    ASSERT_TRUE(got) << r.in << ": " << got.error().to_string();
    EXPECT_EQ(*got, r.want) << r.in;
  }
  for (const char* bad : {"", "abc", "12x", "m", "-1", "1..5m", ".5m", "5mm", "1e3"}) {
    auto got = parse_ram_bytes(bad);
    ASSERT_FALSE(got) << bad;
    EXPECT_EQ(got.error().message(), std::string("invalid size: '") + bad + "'");
  }
}

TEST(OptsTest, NanoCpus) {
  EXPECT_EQ(*parse_nano_cpus("1.5"), 1500000000);
  EXPECT_EQ(*parse_nano_cpus("2"), 2000000000);
  EXPECT_EQ(*parse_nano_cpus("0.000000001"), 1);
  EXPECT_EQ(*parse_nano_cpus(".5"), 500000000);
  EXPECT_EQ(*parse_nano_cpus("0.5000000000"), 500000000);
  EXPECT_EQ(parse_nano_cpus("0.0000000001").error().message(), "value is too precise");
  EXPECT_FALSE(parse_nano_cpus("abc"));
  EXPECT_FALSE(parse_nano_cpus("-1"));
  EXPECT_FALSE(parse_nano_cpus(""));
}

TEST(OptsTest, Ulimits) {
  EXPECT_EQ(*parse_ulimit("nofile=1024:2048"),
            (Json{{"Name", "nofile"}, {"Soft", 1024}, {"Hard", 2048}}));
  EXPECT_EQ(*parse_ulimit("nproc=64"), (Json{{"Name", "nproc"}, {"Soft", 64}, {"Hard", 64}}));
  EXPECT_EQ(*parse_ulimit("core=-1"), (Json{{"Name", "core"}, {"Soft", -1}, {"Hard", -1}}));
  EXPECT_EQ(parse_ulimit("nofile=2048:1024").error().message(),
            "ulimit soft limit must be less than or equal to hard limit: 2048 > 1024");
  EXPECT_EQ(parse_ulimit("bogus=1").error().message(), "invalid ulimit type: bogus");
  EXPECT_EQ(parse_ulimit("nofile").error().message(), "invalid ulimit argument: nofile");
  EXPECT_FALSE(parse_ulimit("nofile=x"));
  EXPECT_FALSE(parse_ulimit("nofile=1:y"));
}

TEST(OptsTest, RestartPolicies) {
  EXPECT_EQ(*parse_restart_policy("on-failure:3"),
            (Json{{"Name", "on-failure"}, {"MaximumRetryCount", 3}}));
  EXPECT_EQ(*parse_restart_policy("on-failure"),
            (Json{{"Name", "on-failure"}, {"MaximumRetryCount", 0}}));
  EXPECT_EQ(*parse_restart_policy("always"), (Json{{"Name", "always"}, {"MaximumRetryCount", 0}}));
  EXPECT_EQ(*parse_restart_policy("unless-stopped"),
            (Json{{"Name", "unless-stopped"}, {"MaximumRetryCount", 0}}));
  EXPECT_EQ(*parse_restart_policy("no"), (Json{{"Name", "no"}, {"MaximumRetryCount", 0}}));
  EXPECT_FALSE(parse_restart_policy("sometimes"));
  EXPECT_FALSE(parse_restart_policy("always:3"));
  EXPECT_FALSE(parse_restart_policy("on-failure:x"));
  EXPECT_FALSE(parse_restart_policy("on-failure:-1"));
  EXPECT_FALSE(parse_restart_policy(":3"));
}

GetEnvFn env_of(std::map<std::string, std::string> m) {
  return [m](const std::string& k) -> std::optional<std::string> {
    auto it = m.find(k);
    if (it == m.end()) {
      return std::nullopt;
    }
    return it->second;
  };
}

TEST(OptsTest, EnvFile) {
  auto got =
      parse_env_file("\xEF\xBB\xBF# comment\n\nA=1\n  B=two words \nFROM_ENV\nUNSET\nC=\nD=x=y\r\n",
                     env_of({{"FROM_ENV", "host"}}));
  ASSERT_TRUE(got) << got.error().to_string();
  EXPECT_EQ(*got,
            (std::vector<std::string>{"A=1", "B=two words ", "FROM_ENV=host", "C=", "D=x=y"}));
  EXPECT_EQ(parse_env_file("BAD KEY=1\n", env_of({})).error().message(),
            "variable 'BAD KEY' contains whitespaces");
  EXPECT_FALSE(parse_env_file("=1\n", env_of({})));
}

base::Result<std::string> fake_files(const std::string& path) {
  static const std::map<std::string, std::string> files = {
      {"/envs", "FILE=1\nSHARED=file\n"},
      {"/profile.json", "{\n  \"defaultAction\": \"SCMP_ACT_ALLOW\",\n  \"syscalls\": []\n}\n"},
      {"/bad.json", "{nope"},
  };
  auto it = files.find(path);
  if (it == files.end()) {
    return base::make_error(base::ErrorCode::NotFound, "no such file `{}`", path);
  }
  return it->second;
}

TEST(OptsTest, RunFlagsToCreateBody) {
  RunOptions o;
  o.image = "busybox";
  o.command = {"sh", "-c", "exit 3"};
  o.name = "web";
  o.env = {"A=1", "HOSTVAR", "SHARED=flag"};
  o.env_files = {"/envs"};
  o.labels = {"k=v", "flag"};
  o.workdir = "/tmp";
  o.user = "1000:1000";
  o.hostname = "box";
  o.entrypoint = "";
  o.restart = "on-failure:3";
  o.memory = "512m";
  o.memory_swap = "-1";
  o.cpus = "1.5";
  o.cpu_shares = 512;
  o.cpuset_cpus = "0-1";
  o.pids_limit = 100;
  o.read_only = true;
  o.tmpfs = {"/run:rw,size=64m", "/tmp2"};
  o.cap_add = {"NET_ADMIN"};
  o.cap_drop = {"ALL"};
  o.security_opt = {"seccomp=/profile.json", "no-new-privileges"};
  o.ulimits = {"nofile=1024:2048"};
  o.init = true;
  o.shm_size = "64m";
  o.network = "none";
  o.tty = true;
  auto body = build_create_body(o, false, fake_files, env_of({{"HOSTVAR", "h"}}));
  ASSERT_TRUE(body) << body.error().to_string();
  const Json& b = *body;
  EXPECT_EQ(b["Image"], "busybox");
  EXPECT_EQ(b["Cmd"], (Json{"sh", "-c", "exit 3"}));
  EXPECT_EQ(b["Entrypoint"], (Json{""}));
  EXPECT_EQ(b["Env"], (Json{"FILE=1", "SHARED=file", "A=1", "HOSTVAR=h", "SHARED=flag"}));
  EXPECT_EQ(b["Labels"], (Json{{"k", "v"}, {"flag", ""}}));
  EXPECT_EQ(b["WorkingDir"], "/tmp");
  EXPECT_EQ(b["User"], "1000:1000");
  EXPECT_EQ(b["Hostname"], "box");
  EXPECT_EQ(b["Tty"], true);
  EXPECT_EQ(b["AttachStdout"], true);
  EXPECT_EQ(b["OpenStdin"], false);
  const Json& hc = b["HostConfig"];
  EXPECT_EQ(hc["Memory"], 536870912);
  EXPECT_EQ(hc["MemorySwap"], -1);
  EXPECT_EQ(hc["NanoCpus"], 1500000000);
  EXPECT_EQ(hc["CpuShares"], 512);
  EXPECT_EQ(hc["CpusetCpus"], "0-1");
  EXPECT_EQ(hc["PidsLimit"], 100);
  EXPECT_EQ(hc["ReadonlyRootfs"], true);
  EXPECT_EQ(hc["Tmpfs"], (Json{{"/run", "rw,size=64m"}, {"/tmp2", ""}}));
  EXPECT_EQ(hc["CapAdd"], (Json{"NET_ADMIN"}));
  EXPECT_EQ(hc["CapDrop"], (Json{"ALL"}));
  EXPECT_EQ(hc["SecurityOpt"], (Json{R"(seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[]})",
                                     "no-new-privileges"}));
  EXPECT_EQ(hc["Ulimits"],
            (Json::array({Json{{"Name", "nofile"}, {"Soft", 1024}, {"Hard", 2048}}})));
  EXPECT_EQ(hc["Init"], true);
  EXPECT_EQ(hc["ShmSize"], 67108864);
  EXPECT_EQ(hc["NetworkMode"], "none");
  EXPECT_EQ(hc["RestartPolicy"], (Json{{"Name", "on-failure"}, {"MaximumRetryCount", 3}}));
  EXPECT_EQ(hc["AutoRemove"], false);
  EXPECT_EQ(hc["Privileged"], false);
}

TEST(OptsTest, MinimalRunAndAutoRemove) {
  RunOptions o;
  o.image = "busybox";
  o.rm = true;
  o.detach = true;
  auto body = build_create_body(o, true, fake_files, env_of({}));
  ASSERT_TRUE(body);
  EXPECT_FALSE(body->contains("Cmd"));
  EXPECT_FALSE(body->contains("Entrypoint"));
  EXPECT_EQ((*body)["HostConfig"]["AutoRemove"], true);
  EXPECT_EQ((*body)["HostConfig"]["NetworkMode"], "default");
  EXPECT_EQ((*body)["HostConfig"]["RestartPolicy"]["Name"], "no");
  EXPECT_FALSE((*body)["HostConfig"].contains("Init"));
  EXPECT_EQ((*body)["AttachStdout"], false);
  // The foreground run removes the container itself.
  EXPECT_EQ((*build_create_body(o, false, fake_files, env_of({})))["HostConfig"]["AutoRemove"],
            false);
  o.security_opt = {"seccomp=unconfined"};
  EXPECT_EQ((*build_create_body(o, true, fake_files, env_of({})))["HostConfig"]["SecurityOpt"],
            (Json{"seccomp=unconfined"}));
}

TEST(OptsTest, BadRunFlagsNameTheFlag) {
  struct Row {
    std::function<void(RunOptions&)> set;
    std::string want;
  };
  std::vector<Row> rows = {
      {[](RunOptions& o) { o.memory = "lots"; },
       "invalid argument \"lots\" for \"-m, --memory\" flag: invalid size: 'lots'"},
      {[](RunOptions& o) { o.cpus = "x"; },
       "invalid argument \"x\" for \"--cpus\" flag: failed to parse x as a rational number"},
      {[](RunOptions& o) { o.ulimits = {"nofile=2:1"}; },
       "invalid argument \"nofile=2:1\" for \"--ulimit\" flag: ulimit soft limit must be less "
       "than or equal to hard limit: 2 > 1"},
      {[](RunOptions& o) { o.tmpfs = {"run"}; },
       "invalid argument \"run\" for \"--tmpfs\" flag: invalid mount path: 'run' mount path "
       "must be absolute"},
      {[](RunOptions& o) {
         o.rm = true;
         o.restart = "always";
       },
       "conflicting options: cannot specify both --restart and --rm"},
      {[](RunOptions& o) { o.env_files = {"/nope"}; }, ""},
      {[](RunOptions& o) { o.security_opt = {"seccomp=/bad.json"}; }, ""},
      {[](RunOptions& o) { o.security_opt = {"seccomp=/missing.json"}; }, ""},
  };
  for (const auto& row : rows) {
    RunOptions o;
    o.image = "busybox";
    row.set(o);
    auto body = build_create_body(o, false, fake_files, env_of({}));
    ASSERT_FALSE(body) << row.want;
    EXPECT_EQ(body.error().code(), base::ErrorCode::InvalidArgument);
    if (!row.want.empty()) {
      EXPECT_EQ(body.error().message(), row.want);
    }
  }
}

TEST(OptsTest, UpdateBody) {
  UpdateOptions u;
  u.memory = "256m";
  u.cpus = "0.5";
  u.restart = "always";
  auto b = build_update_body(u);
  ASSERT_TRUE(b);
  EXPECT_EQ(*b, (Json{{"Memory", 268435456},
                      {"NanoCpus", 500000000},
                      {"RestartPolicy", {{"Name", "always"}, {"MaximumRetryCount", 0}}}}));
  EXPECT_FALSE(build_update_body(UpdateOptions{}));
}

TEST(OptsTest, StartErrorExitCodes) {
  struct Row {
    std::string msg;
    int want;
  };
  std::vector<Row> rows = {
      {"Error response from daemon: failed to create shim task: OCI runtime create failed: "
       "runc create failed: unable to start container process: exec: \"nosuch\": executable "
       "file not found in $PATH: unknown",
       127},
      {"Error response from daemon: exec /bin/nosuch: no such file or directory", 127},
      {"Error response from daemon: exec /etc/passwd: permission denied", 126},
      {"Error response from daemon: exec /etc: is a directory", 126},
      {"Error response from daemon: No such container: x", 125},
  };
  for (const auto& r : rows) {
    EXPECT_EQ(start_error_exit_code(r.msg), r.want) << r.msg;
  }
}

TEST(OptsTest, TimeArgs) {
  EXPECT_EQ(parse_time_arg("10m", 10000), "9400");
  EXPECT_EQ(parse_time_arg("1h30m", 10000), "4600");
  EXPECT_EQ(parse_time_arg("42s", 100), "58");
  EXPECT_EQ(parse_time_arg("2026-11-29T18:25:55Z", 0), "1795976755");
  EXPECT_EQ(parse_time_arg("2026-11-29T18:25:55.123456789Z", 0), "1795976755");
  EXPECT_EQ(parse_time_arg("2026-11-29T19:25:55+01:00", 0), "1795976755");
  EXPECT_EQ(parse_time_arg("1795976755", 0), "1795976755");
  EXPECT_EQ(parse_time_arg("1795976755.5", 0), "1795976755.5");
}

TEST(OptsTest, AttachFlagPicksStreamsAsDockersParse) {
  RunOptions o;
  o.image = "busybox";
  auto body = [&] { return *build_create_body(o, true, fake_files, env_of({})); };
  // No -a: stdout and stderr; -i adds stdin and StdinOnce.
  EXPECT_EQ(body()["AttachStdout"], true);
  EXPECT_EQ(body()["AttachStderr"], true);
  EXPECT_EQ(body()["AttachStdin"], false);
  EXPECT_EQ(body()["StdinOnce"], false);
  o.interactive = true;
  EXPECT_EQ(body()["AttachStdin"], true);
  EXPECT_EQ(body()["OpenStdin"], true);
  EXPECT_EQ(body()["StdinOnce"], true);
  o.interactive = false;
  o.attach = {"STDIN", "stderr"};
  EXPECT_EQ(body()["AttachStdin"], true);
  EXPECT_EQ(body()["AttachStdout"], false);
  EXPECT_EQ(body()["AttachStderr"], true);
  EXPECT_EQ(body()["StdinOnce"], false);  // stdin attached but not kept open (no -i)
  o.attach = {"stdout", "bogus"};
  auto bad = build_create_body(o, true, fake_files, env_of({}));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "valid streams are STDIN, STDOUT and STDERR");
  // Detached: nothing attached.
  o.attach.clear();
  o.interactive = true;
  o.detach = true;
  EXPECT_EQ(body()["AttachStdin"], false);
  EXPECT_EQ(body()["AttachStdout"], false);
  EXPECT_EQ(body()["StdinOnce"], false);
  EXPECT_EQ(body()["OpenStdin"], true);
}

TEST(OptsTest, ExecConfigAsDockersParseExec) {
  ExecFlags f;
  f.command = {"sh", "-c", "env"};
  f.env = {"A=1", "FROM_ENV"};
  f.env_files = {"/envs"};
  f.user = "nobody";
  f.workdir = "/tmp";
  f.tty = true;
  f.interactive = true;
  f.detach_keys = "ctrl-x,y";
  auto files = [](const std::string& path) -> base::Result<std::string> {
    if (path == "/envs") {
      return std::string("# comment\nFILE=1\n");
    }
    return base::make_error(base::ErrorCode::NotFound, "no such file or directory");
  };
  auto c = build_exec_config(f, files, env_of({{"FROM_ENV", "host"}}));
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ((*c)["Cmd"], (Json{"sh", "-c", "env"}));
  EXPECT_EQ((*c)["Env"], (Json{"FILE=1", "A=1", "FROM_ENV=host"}));
  EXPECT_EQ((*c)["User"], "nobody");
  EXPECT_EQ((*c)["WorkingDir"], "/tmp");
  EXPECT_EQ((*c)["Tty"], true);
  EXPECT_EQ((*c)["AttachStdin"], true);
  EXPECT_EQ((*c)["AttachStdout"], true);
  EXPECT_EQ((*c)["AttachStderr"], true);
  EXPECT_EQ((*c)["DetachKeys"], "ctrl-x,y");
  EXPECT_EQ((*c)["Privileged"], false);
  f.detach = true;
  c = build_exec_config(f, files, env_of({}));
  ASSERT_TRUE(c);
  EXPECT_EQ((*c)["AttachStdin"], false);
  EXPECT_EQ((*c)["AttachStdout"], false);
  EXPECT_EQ((*c)["AttachStderr"], false);
  f.env_files = {"/missing"};
  auto missing = build_exec_config(f, files, env_of({}));
  ASSERT_FALSE(missing);
  EXPECT_TRUE(missing.error().message().starts_with("open /missing: "))
      << missing.error().message();
}

}  // namespace
}  // namespace mydocker::cli
