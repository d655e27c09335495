// SPDX-License-Identifier: Apache-2.0
#include "cmd/mydockerd/config.h"

#include <gtest/gtest.h>

#include "runtime/base/file.h"
#include "tests/support/busybox_rootfs.h"

namespace mydocker::cmd::mydockerd {
namespace {

using base::ErrorCode;

std::vector<std::string> argv(std::vector<std::string> rest) {
  rest.insert(rest.begin(), "mydockerd");
  // Tests never read the host's /etc/mydocker/daemon.json: an empty one of their own.
  static mydocker::testing::TempDir dir;
  static const std::string empty = [] {
    std::string path = dir.path() + "/empty.json";
    EXPECT_TRUE(base::write_file_atomic(path, "{}"));
    return path;
  }();
  if (std::find(rest.begin(), rest.end(), "--config-file") == rest.end()) {
    rest.push_back("--config-file");
    rest.push_back(empty);
  }
  return rest;
}

TEST(MydockerdConfigTest, DefaultsMatchTheDocumentedLayout) {
  auto cl = parse_command_line({"mydockerd"});
  ASSERT_TRUE(cl) << cl.error().to_string();
  const Config& c = cl->config;
  EXPECT_EQ(c.data_root, "/var/lib/mydocker");
  EXPECT_EQ(c.exec_root, "/run/mydocker");
  EXPECT_EQ(c.socket_paths(), std::vector<std::string>{"/run/mydocker.sock"});
  EXPECT_EQ(c.pidfile_path(), "/run/mydocker/mydockerd.pid");
  EXPECT_EQ(c.effective_log_level(), "info");
  EXPECT_TRUE(c.live_restore);
  EXPECT_EQ(c.group, "mydocker");
  EXPECT_EQ(cl->config_file, "/etc/mydocker/daemon.json");
  EXPECT_FALSE(cl->config_file_explicit);
  EXPECT_TRUE(cl->set_keys.empty());
  EXPECT_TRUE(validate(c));
}

TEST(MydockerdConfigTest, FlagsWithDockerdNames) {
  auto cl = parse_command_line({"mydockerd",
                                "-H",
                                "unix:///tmp/a.sock",
                                "--host=unix:///tmp/b.sock",
                                "--data-root",
                                "/d",
                                "--exec-root",
                                "/e",
                                "-l",
                                "warn",
                                "-D",
                                "--pidfile",
                                "/p.pid",
                                "--storage-driver",
                                "vfs",
                                "--live-restore=false",
                                "--default-ulimit",
                                "nofile=1024:2048",
                                "--default-ulimit",
                                "nproc=10",
                                "--registry-mirror",
                                "https://m.example",
                                "--insecure-registry",
                                "r.example:5000",
                                "--log-opt",
                                "max-size=10m",
                                "--log-opt",
                                "max-file=3",
                                "--group",
                                "wheel",
                                "--cgroup-parent",
                                "/t1"});
  ASSERT_TRUE(cl) << cl.error().to_string();
  const Config& c = cl->config;
  EXPECT_EQ(c.socket_paths(), (std::vector<std::string>{"/tmp/a.sock", "/tmp/b.sock"}));
  EXPECT_EQ(c.data_root, "/d");
  EXPECT_EQ(c.exec_root, "/e");
  EXPECT_EQ(c.log_level, "warn");
  EXPECT_EQ(c.effective_log_level(), "debug");
  EXPECT_EQ(c.pidfile_path(), "/p.pid");
  EXPECT_EQ(c.storage_driver, "vfs");
  EXPECT_FALSE(c.live_restore);
  ASSERT_EQ(c.default_ulimits.size(), 2u);
  EXPECT_EQ(c.default_ulimits[0].name, "nofile");
  EXPECT_EQ(c.default_ulimits[0].soft, 1024);
  EXPECT_EQ(c.default_ulimits[0].hard, 2048);
  EXPECT_EQ(c.default_ulimits[1].hard, 10);
  EXPECT_EQ(c.registry_mirrors, std::vector<std::string>{"https://m.example"});
  EXPECT_EQ(c.insecure_registries, std::vector<std::string>{"r.example:5000"});
  EXPECT_EQ(c.log_opts.at("max-size"), "10m");
  EXPECT_EQ(c.log_opts.at("max-file"), "3");
  EXPECT_EQ(c.group, "wheel");
  EXPECT_EQ(c.cgroup_parent, "/t1");
  EXPECT_TRUE(validate(c)) << validate(c).error().to_string();
  for (const char* k : {"hosts", "data-root", "exec-root", "log-level", "debug", "pidfile",
                        "storage-driver", "live-restore", "default-ulimits", "registry-mirrors",
                        "insecure-registries", "log-opts", "group", "cgroup-parent"}) {
    EXPECT_EQ(cl->set_keys.count(k), 1u) << k;
  }
}

TEST(MydockerdConfigTest, HelpAndVersionExitWithoutStarting) {
  auto help = parse_command_line({"mydockerd", "--help"});
  ASSERT_TRUE(help);
  EXPECT_TRUE(help->exit_now);
  EXPECT_NE(help->output.find("--data-root"), std::string::npos);
  auto version = parse_command_line({"mydockerd", "--version"});
  ASSERT_TRUE(version);
  EXPECT_TRUE(version->exit_now);
  EXPECT_EQ(version->output.rfind("mydockerd version ", 0), 0u) << version->output;
}

TEST(MydockerdConfigTest, BadFlagsAreRefused) {
  struct Case {
    std::vector<std::string> args;
    std::string want;
  };
  std::vector<Case> cases = {
      {{"--no-such-flag"}, "no-such-flag"},
      {{"-H", "tcp://0.0.0.0:2375"}, "tcp hosts are not supported yet"},
      {{"-H", "unix://relative.sock"}, "must be absolute"},
      {{"-H", "/tmp/x.sock"}, "expected unix:///path"},
      {{"--log-level", "loud"}, "`log-level`: `loud`"},
      {{"--data-root", "rel"}, "`data-root`: `rel` must be an absolute path"},
      {{"--storage-driver", "zfs"}, "`storage-driver`: `zfs`"},
      {{"--default-ulimit", "nofile"}, "expected key=value"},
      {{"--default-ulimit", "nofile=a:b"}, "limits must be integers"},
      {{"--default-ulimit", "nofile=10:5"}, "soft limit must be less than or equal to hard"},
      {{"--default-ulimit", "bogus=1:2"}, "invalid ulimit type: bogus"},
      {{"--log-opt", "max-size"}, "expected key=value"},
      {{"--log-opt", "max-size=ten"}, "invalid size: 'ten'"},
      {{"--log-opt", "max-file=0"}, "max-file cannot be less than 1"},
      {{"--log-opt", "colour=red"}, "unknown log opt 'colour'"},
      {{"--log-driver", "syslog"}, "only json-file"},
      {{"--registry-mirror", "m.example"}, "invalid mirror"},
      {{"--insecure-registry", "http://r"}, "without a scheme"},
      {{"--cgroup-parent", "x"}, "must start with /"},
      {{"--config-file", "/nonexistent/explicit.json"},
       "unable to configure the daemon with file /nonexistent/explicit.json"},
  };
  for (const auto& c : cases) {
    auto r = load(argv(c.args));
    ASSERT_FALSE(r) << c.args[0] << " " << (c.args.size() > 1 ? c.args[1] : "");
    EXPECT_NE(r.error().to_string().find(c.want), std::string::npos)
        << r.error().to_string() << " (want " << c.want << ")";
  }
}

TEST(MydockerdConfigTest, FileWithDockerdKeys) {
  Config c;
  auto r = apply_config_file(R"({
    "hosts": ["unix:///tmp/f.sock"], "data-root": "/fd", "exec-root": "/fe",
    "log-level": "error", "debug": false, "pidfile": "/f.pid", "storage-driver": "overlay2",
    "live-restore": false,
    "default-ulimits": {"nofile": {"Name": "nofile", "Soft": 100, "Hard": 200}},
    "registry-mirrors": ["https://mirror.example"], "insecure-registries": ["10.0.0.0/8"],
    "log-driver": "json-file", "log-opts": {"max-size": "1m", "max-file": "2"},
    "group": "docker", "cgroup-parent": "/x"})",
                             "daemon.json", {}, c);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(c.socket_paths(), std::vector<std::string>{"/tmp/f.sock"});
  EXPECT_EQ(c.data_root, "/fd");
  EXPECT_EQ(c.exec_root, "/fe");
  EXPECT_EQ(c.log_level, "error");
  EXPECT_EQ(c.pidfile_path(), "/f.pid");
  EXPECT_EQ(c.storage_driver, "overlay2");
  EXPECT_FALSE(c.live_restore);
  ASSERT_EQ(c.default_ulimits.size(), 1u);
  EXPECT_EQ(c.default_ulimits[0].soft, 100);
  EXPECT_EQ(c.default_ulimits[0].hard, 200);
  EXPECT_EQ(c.registry_mirrors, std::vector<std::string>{"https://mirror.example"});
  EXPECT_EQ(c.insecure_registries, std::vector<std::string>{"10.0.0.0/8"});
  EXPECT_EQ(c.log_opts.at("max-file"), "2");
  EXPECT_EQ(c.group, "docker");
  EXPECT_EQ(c.cgroup_parent, "/x");
  EXPECT_TRUE(validate(c)) << validate(c).error().to_string();
}

TEST(MydockerdConfigTest, BadFilesAreRefusedNamingTheKey) {
  struct Case {
    std::string text;
    std::string want;
  };
  std::vector<Case> cases = {
      {"{", "invalid JSON"},
      {"[]", "top level must be an object"},
      {R"({"bogus": 1, "also": 2})",
       "the following directives don't match any configuration option: also, bogus"},
      {R"({"debug": "yes"})", "invalid value for `debug`: expected a boolean, got string"},
      {R"({"hosts": "unix:///x"})", "invalid value for `hosts`: expected an array of strings"},
      {R"({"hosts": [1]})", "invalid value for `hosts`"},
      {R"({"data-root": 5})", "invalid value for `data-root`: expected a string"},
      {R"({"live-restore": 1})", "invalid value for `live-restore`"},
      {R"({"log-opts": {"max-size": 10}})", "`log-opts`: `max-size` must be a string"},
      {R"({"default-ulimits": {"nofile": {"Name": "nofile", "Soft": "1"}}})",
       "`default-ulimits.nofile.Soft`: expected an integer"},
      {R"({"default-ulimits": {"nofile": {"Name": "nproc", "Soft": 1, "Hard": 1}}})",
       "does not match the key"},
      {R"({"default-ulimits": {"nofile": {"Name": "nofile", "Max": 1}}})", "unknown field `Max`"},
  };
  for (const auto& c : cases) {
    Config config;
    auto r = apply_config_file(c.text, "/etc/mydocker/daemon.json", {}, config);
    ASSERT_FALSE(r) << c.text;
    EXPECT_NE(r.error().to_string().find(c.want), std::string::npos)
        << r.error().to_string() << " (want " << c.want << ")";
    EXPECT_NE(r.error().to_string().find("unable to configure the daemon with file "
                                         "/etc/mydocker/daemon.json"),
              std::string::npos);
    EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
  }
}

TEST(MydockerdConfigTest, KeyInFlagAndFileIsRefused) {
  mydocker::testing::TempDir dir;
  std::string file = dir.path() + "/daemon.json";
  ASSERT_TRUE(base::write_file_atomic(file, R"({"debug": false, "data-root": "/f"})"));
  auto r = load({"mydockerd", "--config-file", file, "-D", "--data-root", "/x"});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().to_string().find("the following directives are specified both as a flag "
                                       "and in the configuration file: data-root: (from flag: "
                                       "/x, from file: /f), debug: (from flag: true, from file: "
                                       "false)"),
            std::string::npos)
      << r.error().to_string();
}

TEST(MydockerdConfigTest, FileAndFlagsCombine) {
  mydocker::testing::TempDir dir;
  std::string file = dir.path() + "/daemon.json";
  ASSERT_TRUE(base::write_file_atomic(file, R"({"log-level": "warn", "exec-root": "/fe"})"));
  auto r = load({"mydockerd", "--config-file", file, "--data-root", "/fd"});
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->config.log_level, "warn");
  EXPECT_EQ(r->config.exec_root, "/fe");
  EXPECT_EQ(r->config.data_root, "/fd");
  EXPECT_EQ(r->config.pidfile_path(), "/fe/mydockerd.pid");
  // A value that is valid JSON but a bad value is refused after the merge.
  ASSERT_TRUE(base::write_file_atomic(file, R"({"log-level": "verbose"})"));
  auto bad = load({"mydockerd", "--config-file", file});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().to_string().find("`log-level`: `verbose`"), std::string::npos);
}

TEST(MydockerdConfigTest, UlimitAndHostParsers) {
  auto u = parse_ulimit("core=0");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->soft, 0);
  EXPECT_EQ(u->hard, 0);
  EXPECT_FALSE(parse_ulimit("core=1:2:3"));
  EXPECT_FALSE(parse_ulimit("=1"));
  EXPECT_EQ(*socket_path_of("unix://"), "/run/mydocker.sock");
  EXPECT_EQ(*socket_path_of("unix:///a/b.sock"), "/a/b.sock");
  EXPECT_FALSE(socket_path_of("fd://"));
  EXPECT_FALSE(socket_path_of("ssh://host"));
}

}  // namespace
}  // namespace mydocker::cmd::mydockerd
