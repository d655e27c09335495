// SPDX-License-Identifier: Apache-2.0
// mydocker-runtime end to end on a busybox bundle: what the container sees from inside.
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fstream>

#include "runtime/base/strings.h"
#include "runtime/process/console.h"
#include "tests/integration/runtime/fixture.h"

namespace mydocker::testing {
namespace {

using nlohmann::json;

class RootRuntimeCliTest : public RootRuntimeFixture {
 protected:
  // `run` of `sh -c script` with the spec edited by `edit`.
  CliResult run_sh(const std::string& script, const std::function<void(json&)>& edit = {}) {
    write_config({"sh", "-c", script}, edit);
    return cli({"run", "--bundle", bundle_, new_id()});
  }

  // create + start; returns the init's pid (our child once `create` exits: we are a subreaper).
  pid_t create_and_start(const std::string& id) {
    std::string pid_file = tmp_.path() + "/" + id + ".pid";
    CliResult c = cli({"create", "--bundle", bundle_, "--pid-file", pid_file, id});
    EXPECT_EQ(c.code, 0) << c.err;
    container_out_ = last_out_path();
    CliResult s = cli({"start", id});
    EXPECT_EQ(s.code, 0) << s.err;
    return static_cast<pid_t>(std::atoi(read_text(pid_file).c_str()));
  }

  json state_of(const std::string& id) {
    CliResult r = cli({"state", id});
    EXPECT_EQ(r.code, 0) << r.err;
    return json::parse(r.out, nullptr, false);
  }

  std::string container_out_;
};

TEST_F(RootRuntimeCliTest, UserProcessIsPid1) {
  CliResult r = run_sh("echo $$");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "1\n");
}

TEST_F(RootRuntimeCliTest, ExitCodePropagates) {
  CliResult r = run_sh("exit 3");
  EXPECT_EQ(r.code, 3) << r.err;
}

TEST_F(RootRuntimeCliTest, Hostname) {
  CliResult r = run_sh("hostname", [](json& j) { j["hostname"] = "box-42"; });
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "box-42\n");
}

TEST_F(RootRuntimeCliTest, UserGroupAndAdditionalGroups) {
  CliResult r = run_sh("id", [](json& j) {
    j["process"]["user"] = {{"uid", 1000}, {"gid", 1001}, {"additionalGids", {10, 20}}};
  });
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "uid=1000 gid=1001 groups=10,20\n");
}

TEST_F(RootRuntimeCliTest, EffectiveCapabilitiesEqualTheSpec) {
  CliResult r = run_sh("grep -E '^Cap(Eff|Prm|Bnd)' /proc/self/status", [](json& j) {
    json caps = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"};  // bits 0, 5, 10
    j["process"]["capabilities"] = {{"bounding", caps}, {"effective", caps}, {"permitted", caps}};
  });
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "CapPrm:\t0000000000000421\nCapEff:\t0000000000000421\nCapBnd:\t0000000000000421\n");
}

TEST_F(RootRuntimeCliTest, NonRootUserKeepsTheSpecCapabilities) {
  CliResult r = run_sh("grep CapEff /proc/self/status", [](json& j) {
    j["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
    json caps = {"CAP_KILL"};
    j["process"]["capabilities"] = {{"bounding", caps},
                                    {"effective", caps},
                                    {"permitted", caps},
                                    {"ambient", caps},
                                    {"inheritable", caps}};
  });
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "CapEff:\t0000000000000020\n");
}

TEST_F(RootRuntimeCliTest, SeccompRuleDeniesWithTheGivenErrno) {
  CliResult r = run_sh("mkdir /tmp/x; echo rc=$?", [](json& j) {
    j["linux"]["seccomp"] = {
        {"defaultAction", "SCMP_ACT_ALLOW"},
        {"architectures", {"SCMP_ARCH_X86_64"}},
        {"syscalls",
         {{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 122}}}},
    };
  });
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "rc=1\n");
  // 122 is EDQUOT: the message proves the errno came from the rule.
  EXPECT_NE(r.err.find("Disk quota exceeded"), std::string::npos) << r.err;
}

TEST_F(RootRuntimeCliTest, SeccompWithoutNoNewPrivileges) {
  CliResult r = run_sh("mkdir /tmp/x", [](json& j) {
    j["process"]["noNewPrivileges"] = false;
    j["linux"]["seccomp"] = {
        {"defaultAction", "SCMP_ACT_ALLOW"},
        {"syscalls", {{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_ERRNO"}}}},
    };
  });
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("Operation not permitted"), std::string::npos) << r.err;
}

TEST_F(RootRuntimeCliTest, ReadonlyRootRefusesWrites) {
  CliResult r = run_sh("touch /file", [](json& j) { j["root"]["readonly"] = true; });
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("Read-only file system"), std::string::npos) << r.err;
}

TEST_F(RootRuntimeCliTest, MaskedPathsReadEmpty) {
  // /proc/kcore is in the default maskedPaths, but this kernel has none (CONFIG_PROC_KCORE
  // off); masking skips missing paths. The same mask covers the paths the host does have.
  std::string script;
  for (const char* p : {"/proc/kcore", "/proc/keys", "/proc/timer_list"}) {
    if (::access(p, F_OK) == 0) {
      script += fmt::format("echo {} $(wc -c < {});", p, p);
    }
  }
  ASSERT_FALSE(script.empty());
  CliResult r = run_sh(script);
  EXPECT_EQ(r.code, 0) << r.err;
  for (const auto& line : base::split(base::trim(r.out), '\n')) {
    EXPECT_EQ(line.substr(line.find(' ') + 1), "0") << line;
  }
  EXPECT_EQ(r.err, "");
  // Unmasked, the host's /proc/keys is not empty for root.
  CliResult unmasked =
      run_sh("wc -c < /proc/keys", [](json& j) { j["linux"]["maskedPaths"] = json::array(); });
  EXPECT_NE(base::trim(unmasked.out), "0");
}

TEST_F(RootRuntimeCliTest, RlimitNofileIsVisible) {
  CliResult r = run_sh("ulimit -n; ulimit -Hn", [](json& j) {
    j["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"hard", 1234}, {"soft", 1000}}};
  });
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "1000\n1234\n");
}

TEST_F(RootRuntimeCliTest, PidsLimitStopsAForkLoop) {
  CliResult r =
      run_sh("i=0; while [ $i -lt 30 ]; do sleep 5 & i=$((i+1)); done; echo done", [](json& j) {
        j["linux"]["resources"]["pids"] = {{"limit", 10}};
      });
  EXPECT_NE(r.err.find("can't fork"), std::string::npos) << r.err;
}

TEST_F(RootRuntimeCliTest, MemoryLimitKillsAHogAndStatsShowTheOom) {
  write_config({"sh", "-c", "x=0123456789abcdef; while true; do x=$x$x; done"}, [](json& j) {
    j["linux"]["resources"]["memory"] = {{"limit", 32 << 20}};
  });
  std::string id = new_id();
  pid_t pid = create_and_start(id);
  ASSERT_GT(pid, 0);
  EXPECT_EQ(wait_exit(pid), 137);
  CliResult stats = cli({"events", "--stats", id});
  ASSERT_EQ(stats.code, 0) << stats.err;
  json j = json::parse(stats.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << stats.out;
  EXPECT_EQ(j["type"], "stats");
  EXPECT_GE(j["data"]["memory"]["oom_kill"].get<int>(), 1) << stats.out;
  EXPECT_EQ(j["data"]["memory"]["usage"]["limit"].get<int64_t>(), 32 << 20);
  EXPECT_EQ(state_of(id)["status"], "stopped");
  EXPECT_EQ(cli({"delete", id}).code, 0);
}

TEST_F(RootRuntimeCliTest, KillDeliversSigtermToTheProcess) {
  write_config(
      {"sh", "-c", "trap 'echo caught; exit 7' TERM; echo up; while true; do sleep 0.01; done"});
  std::string id = new_id();
  pid_t pid = create_and_start(id);
  ASSERT_TRUE(eventually([&] { return read_text(container_out_) == "up\n"; }));
  EXPECT_EQ(state_of(id)["status"], "running");
  EXPECT_EQ(cli({"kill", id, "TERM"}).code, 0);
  EXPECT_EQ(wait_exit(pid), 7);
  EXPECT_EQ(read_text(container_out_), "up\ncaught\n");
  EXPECT_EQ(state_of(id)["status"], "stopped");
  EXPECT_EQ(cli({"delete", id}).code, 0);
}

TEST_F(RootRuntimeCliTest, RunForwardsSigtermAndExitsWithTheStatus) {
  write_config({"sh", "-c", "trap 'exit 9' TERM; echo up; while true; do sleep 0.01; done"});
  std::string out = tmp_.path() + "/run.out";
  std::string id = new_id();
  pid_t runtime = cli_async({"run", id}, out);
  ASSERT_TRUE(eventually([&] { return read_text(out) == "up\n"; }));
  ASSERT_EQ(::kill(runtime, SIGTERM), 0);
  EXPECT_EQ(wait_exit(runtime), 9) << read_text(out + ".err");
}

TEST_F(RootRuntimeCliTest, SigkillGives137) {
  write_config({"sh", "-c", "echo up; while true; do sleep 0.01; done"});
  std::string out = tmp_.path() + "/run.out";
  std::string id = new_id();
  pid_t runtime = cli_async({"run", id}, out);
  ASSERT_TRUE(eventually([&] { return read_text(out) == "up\n"; }));
  EXPECT_EQ(cli({"kill", id, "KILL"}).code, 0);
  EXPECT_EQ(wait_exit(runtime), 137);
}

TEST_F(RootRuntimeCliTest, PauseFreezesAndResumeThaws) {
  write_config({"sh", "-c", "i=0; while true; do i=$((i+1)); echo $i > /tmp/n; done"});
  std::string id = new_id();
  pid_t pid = create_and_start(id);
  auto counter = [&] { return read_text(fmt::format("{}/bundle/rootfs/tmp/n", tmp_.path())); };
  ASSERT_TRUE(eventually([&] { return !counter().empty(); }));
  ASSERT_EQ(cli({"pause", id}).code, 0);
  EXPECT_EQ(state_of(id)["status"], "paused");
  std::string freezer = read_text("/sys/fs/cgroup/freezer/mydocker/" + id + "/freezer.state");
  EXPECT_EQ(freezer, "FROZEN\n");
  std::string frozen_at = counter();
  for (int i = 0; i < 20; ++i) {
    ::usleep(1000);  // a frozen counter must not move; there is no event to wait for
    EXPECT_EQ(counter(), frozen_at);
  }
  EXPECT_NE(cli({"resume", "nope"}).code, 0);
  ASSERT_EQ(cli({"resume", id}).code, 0);
  EXPECT_EQ(state_of(id)["status"], "running");
  EXPECT_TRUE(eventually([&] {
    std::string now = counter();
    return !now.empty() && now != frozen_at;
  }));
  EXPECT_EQ(cli({"delete", "--force", id}).code, 0);
  EXPECT_EQ(wait_exit(pid), 137);
}

TEST_F(RootRuntimeCliTest, KillAllReachesEveryProcessAndForceDeleteEndsAPausedContainer) {
  // The init ignores TERM; its child does not. kill --all TERM ends the child only.
  write_config({"sh", "-c",
                "trap '' TERM; (trap 'echo child-term; exit 0' TERM; while true; do sleep 0.01; "
                "done) & echo up; wait; echo child-gone; while true; do sleep 0.01; done"});
  std::string id = new_id();
  pid_t pid = create_and_start(id);
  ASSERT_TRUE(eventually([&] { return read_text(container_out_) == "up\n"; }));
  EXPECT_EQ(cli({"kill", "--all", id, "TERM"}).code, 0);
  EXPECT_TRUE(eventually([&] {
    return read_text(container_out_) == "up\nchild-term\nchild-gone\n";
  })) << read_text(container_out_);
  EXPECT_EQ(state_of(id)["status"], "running");
  ASSERT_EQ(cli({"pause", id}).code, 0);
  EXPECT_EQ(state_of(id)["status"], "paused");
  CliResult refused = cli({"delete", id});
  EXPECT_EQ(refused.code, 1);
  EXPECT_NE(refused.err.find("that is not stopped: paused"), std::string::npos) << refused.err;
  EXPECT_EQ(cli({"delete", "--force", id}).code, 0);
  EXPECT_EQ(wait_exit(pid), 137);
}

TEST_F(RootRuntimeCliTest, ExecSeesTheSamePidNamespace) {
  write_config({"sh", "-c", "echo up; while true; do sleep 0.01; done"});
  std::string id = new_id();
  pid_t pid = create_and_start(id);
  ASSERT_TRUE(eventually([&] { return read_text(container_out_) == "up\n"; }));
  CliResult r = cli({"exec", id, "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; echo; echo $$"});
  EXPECT_EQ(r.code, 0) << r.err;
  auto lines = base::split(base::trim(r.out), '\n');
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_EQ(lines[0], "sh -c echo up; while true; do sleep 0.01; done ");
  EXPECT_GT(std::atoi(lines[1].c_str()), 1);
  CliResult ps = cli({"exec", id, "ps", "-o", "pid,comm"});
  EXPECT_EQ(ps.code, 0) << ps.err;
  EXPECT_NE(ps.out.find("    1 sh"), std::string::npos) << ps.out;
  EXPECT_EQ(cli({"exec", id, "sh", "-c", "exit 5"}).code, 5);
  CliResult missing = cli({"exec", id, "nosuchcmd"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(missing.err,
            "mydocker-runtime: exec: \"nosuchcmd\": executable file not found in "
            "$PATH\n");
  EXPECT_EQ(cli({"delete", "--force", id}).code, 0);
  EXPECT_EQ(wait_exit(pid), 137);
}

TEST_F(RootRuntimeCliTest, ExecWithProcessJsonUserAndTty) {
  write_config({"sh", "-c", "echo up; while true; do sleep 0.01; done"});
  std::string id = new_id();
  pid_t pid = create_and_start(id);
  ASSERT_TRUE(eventually([&] { return read_text(container_out_) == "up\n"; }));
  std::string process_json = tmp_.path() + "/process.json";
  std::ofstream(process_json) << json{
      {"args", {"sh", "-c", "id; pwd; echo $FOO"}},
      {"cwd", "/tmp"},
      {"env", {"PATH=/bin", "FOO=bar"}},
      {"user",
       {{"uid", 123}, {"gid", 456}}}}.dump();
  CliResult p = cli({"exec", "--process", process_json, id});
  EXPECT_EQ(p.code, 0) << p.err;
  EXPECT_EQ(p.out, "uid=123 gid=456\n/tmp\nbar\n");
  CliResult u = cli({"exec", "--user", "7:8", "--cwd", "/bin", "--env", "X=1", id, "sh", "-c",
                     "id -u; id -g; pwd; echo $X"});
  EXPECT_EQ(u.code, 0) << u.err;
  EXPECT_EQ(u.out, "7\n8\n/bin\n1\n");
  CliResult t = cli({"exec", "--tty", id, "tty"});
  EXPECT_EQ(t.code, 0) << t.err;
  EXPECT_EQ(t.out, "/dev/pts/0\r\n");
  EXPECT_EQ(cli({"delete", "--force", id}).code, 0);
  EXPECT_EQ(wait_exit(pid), 137);
}

TEST_F(RootRuntimeCliTest, TerminalModeGivesATty) {
  write_config({"sh", "-c", "tty; stty size"}, [](json& j) {
    j["process"]["terminal"] = true;
    j["process"]["consoleSize"] = {{"height", 30}, {"width", 100}};
  });
  std::string sock_path = tmp_.path() + "/console.sock";
  auto listener = runtime::process::listen_unix(sock_path);
  ASSERT_TRUE(listener.has_value()) << listener.error().to_string();
  std::string id = new_id();
  std::string pid_file = tmp_.path() + "/pid";
  pid_t creator = cli_async({"create", "--console-socket", sock_path, "--pid-file", pid_file, id},
                            tmp_.path() + "/create.out");
  base::Fd conn = base::Fd::adopt(::accept4(listener->get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(conn.valid());
  auto master = runtime::process::recv_fd(conn.get());
  ASSERT_TRUE(master.has_value()) << master.error().to_string();
  ASSERT_EQ(wait_exit(creator), 0) << read_text(tmp_.path() + "/create.out.err");
  pid_t pid = std::atoi(read_text(pid_file).c_str());
  ASSERT_EQ(cli({"start", id}).code, 0);
  std::string out;
  char buf[256];
  for (;;) {
    ssize_t n = ::read(master->get(), buf, sizeof buf);
    if (n <= 0) {
      break;  // EIO once the slave side is closed
    }
    out.append(buf, static_cast<size_t>(n));
  }
  EXPECT_EQ(wait_exit(pid), 0);
  EXPECT_EQ(out, "/dev/pts/0\r\n30 100\r\n");
  EXPECT_EQ(cli({"delete", id}).code, 0);
}

TEST_F(RootRuntimeCliTest, RunWithTerminalRelaysThePty) {
  // No --console-socket: run receives the master itself and relays it to its stdout.
  CliResult r = run_sh("tty; echo ok", [](json& j) { j["process"]["terminal"] = true; });
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "/dev/pts/0\r\nok\r\n");
}

TEST_F(RootRuntimeCliTest, UserNamespaceMapsIds) {
  ASSERT_EQ(std::system(fmt::format("chown -R 100000:100000 '{}/rootfs'", bundle_).c_str()), 0);
  CliResult r =
      run_sh("id; cat /proc/self/uid_map /proc/self/gid_map; stat -c %u:%g /", [](json& j) {
        j["linux"]["namespaces"].push_back({{"type", "user"}});
        j["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
        j["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
      });
  EXPECT_EQ(r.code, 0) << r.err;
  auto lines = base::split(base::trim(r.out), '\n');
  ASSERT_EQ(lines.size(), 4u) << r.out;
  EXPECT_EQ(lines[0], "uid=0(root) gid=0(root)");
  for (int i : {1, 2}) {
    auto fields = base::split(std::string(base::trim(lines[i])), ' ');
    std::vector<std::string> nonempty;
    for (auto& f : fields) {
      if (!f.empty()) {
        nonempty.push_back(f);
      }
    }
    EXPECT_EQ(nonempty, (std::vector<std::string>{"0", "100000", "65536"})) << lines[i];
  }
  EXPECT_EQ(lines[3], "0:0");  // host 100000 is root inside

  // create/start/exec: the init reopens the exec fifo and exec joins the user namespace.
  write_config({"sh", "-c", "echo up; while true; do sleep 0.01; done"}, [](json& j) {
    j["linux"]["namespaces"].push_back({{"type", "user"}});
    j["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
    j["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  });
  std::string id = new_id();
  pid_t pid = create_and_start(id);
  ASSERT_TRUE(eventually([&] { return read_text(container_out_) == "up\n"; }));
  CliResult e = cli({"exec", "--user", "5:5", id, "sh", "-c", "id; cat /proc/self/uid_map"});
  EXPECT_EQ(e.code, 0) << e.err;
  EXPECT_EQ(e.out.substr(0, 12), "uid=5 gid=5\n");
  EXPECT_NE(e.out.find("100000"), std::string::npos) << e.out;
  EXPECT_EQ(cli({"delete", "--force", id}).code, 0);
  EXPECT_EQ(wait_exit(pid), 137);
}

TEST_F(RootRuntimeCliTest, JoinsNamespacesByPath) {
  write_config({"sh", "-c", "echo up; while true; do sleep 0.01; done"});
  std::string a = new_id();
  pid_t a_pid = create_and_start(a);
  ASSERT_TRUE(eventually([&] { return read_text(container_out_) == "up\n"; }));
  auto ns = [&](const char* kind) {
    char buf[64] = {};
    std::string link = fmt::format("/proc/{}/ns/{}", a_pid, kind);
    EXPECT_GT(::readlink(link.c_str(), buf, sizeof buf - 1), 0);
    return std::string(buf);
  };
  CliResult r = run_sh(
      "readlink /proc/self/ns/net; readlink /proc/self/ns/ipc; echo $$; "
      "tr '\\0' ' ' < /proc/1/cmdline",
      [&](json& j) {
        j["linux"]["namespaces"] = {
            {{"type", "mount"}},
            {{"type", "uts"}},
            {{"type", "network"}, {"path", fmt::format("/proc/{}/ns/net", a_pid)}},
            {{"type", "ipc"}, {"path", fmt::format("/proc/{}/ns/ipc", a_pid)}},
            {{"type", "pid"}, {"path", fmt::format("/proc/{}/ns/pid", a_pid)}},
        };
      });
  EXPECT_EQ(r.code, 0) << r.err;
  auto lines = base::split(base::trim(r.out), '\n');
  ASSERT_EQ(lines.size(), 4u) << r.out;
  EXPECT_EQ(lines[0], ns("net"));
  EXPECT_EQ(lines[1], ns("ipc"));
  EXPECT_NE(lines[2], "1");  // a guest in A's pid namespace, whose pid 1 is A's init
  EXPECT_EQ(lines[3].substr(0, 2), "sh");
  EXPECT_EQ(cli({"delete", "--force", a}).code, 0);
  EXPECT_EQ(wait_exit(a_pid), 137);
}

TEST_F(RootRuntimeCliTest, StartTwiceIsAConflict) {
  write_config({"sh", "-c", "while true; do sleep 0.01; done"});
  std::string id = new_id();
  pid_t pid = create_and_start(id);
  CliResult again = cli({"start", id});
  EXPECT_EQ(again.code, 1);
  EXPECT_EQ(again.err,
            fmt::format("mydocker-runtime: container `{}` is not in created state: running\n", id));
  CliResult del = cli({"delete", id});
  EXPECT_EQ(del.code, 1);
  EXPECT_EQ(del.err, fmt::format("mydocker-runtime: cannot delete container {} that is not "
                                 "stopped: running\n",
                                 id));
  CliResult dup = cli({"create", "--bundle", bundle_, id});
  EXPECT_EQ(dup.code, 1);
  EXPECT_EQ(dup.err, fmt::format("mydocker-runtime: container `{}` already exists\n", id));
  EXPECT_EQ(cli({"delete", "--force", id}).code, 0);
  EXPECT_EQ(wait_exit(pid), 137);
}

TEST_F(RootRuntimeCliTest, StateListAndDeleteOfACreatedContainer) {
  write_config({"true"});
  std::string id = new_id();
  std::string pid_file = tmp_.path() + "/pid";
  ASSERT_EQ(cli({"create", "--bundle", bundle_, "--pid-file", pid_file, id}).code, 0);
  pid_t pid = std::atoi(read_text(pid_file).c_str());
  json st = state_of(id);
  EXPECT_EQ(st["status"], "created");
  EXPECT_EQ(st["id"], id);
  EXPECT_EQ(st["pid"], pid);
  EXPECT_EQ(st["bundle"], bundle_);
  CliResult list = cli({"list", "--format", "json"});
  ASSERT_EQ(list.code, 0);
  json l = json::parse(list.out, nullptr, false);
  ASSERT_TRUE(l.is_array() && l.size() == 1) << list.out;
  EXPECT_EQ(l[0]["id"], id);
  EXPECT_EQ(l[0]["status"], "created");
  CliResult table = cli({"list"});
  EXPECT_EQ(table.out.rfind("ID ", 0), 0u) << table.out;
  EXPECT_NE(table.out.find(id), std::string::npos);
  // runc deletes a created container without --force.
  EXPECT_EQ(cli({"delete", id}).code, 0);
  EXPECT_EQ(wait_exit(pid), 137);
  CliResult gone = cli({"state", id});
  EXPECT_EQ(gone.code, 1);
  EXPECT_EQ(gone.err, fmt::format("mydocker-runtime: container `{}` does not exist\n", id));
}

TEST_F(RootRuntimeCliTest, PsListsTheProcessesAndUpdateChangesLimits) {
  write_config({"sh", "-c", "sleep 1000 & echo up; while true; do sleep 0.01; done"});
  std::string id = new_id();
  pid_t pid = create_and_start(id);
  ASSERT_TRUE(eventually([&] { return read_text(container_out_) == "up\n"; }));
  CliResult ps = cli({"ps", "--format", "json", id});
  ASSERT_EQ(ps.code, 0) << ps.err;
  json pids = json::parse(ps.out, nullptr, false);
  ASSERT_TRUE(pids.is_array()) << ps.out;
  EXPECT_GE(pids.size(), 2u) << ps.out;  // sh and sleep (and maybe a short sleep 0.01)
  EXPECT_NE(std::find(pids.begin(), pids.end(), json(pid)), pids.end()) << ps.out;

  std::string resources = tmp_.path() + "/resources.json";
  std::ofstream(resources) << R"({"memory":{"limit":67108864},"pids":{"limit":64}})";
  CliResult up = cli({"update", "--resources", resources, id});
  EXPECT_EQ(up.code, 0) << up.err;
  EXPECT_EQ(
      base::trim(read_text("/sys/fs/cgroup/memory/mydocker/" + id + "/memory.limit_in_bytes")),
      "67108864");
  EXPECT_EQ(base::trim(read_text("/sys/fs/cgroup/pids/mydocker/" + id + "/pids.max")), "64");
  std::ofstream(resources) << R"({"memory":{"limit":"lots"}})";
  CliResult bad = cli({"update", "--resources", resources, id});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("linux.resources.memory.limit"), std::string::npos) << bad.err;
  EXPECT_EQ(cli({"delete", "--force", id}).code, 0);
  EXPECT_EQ(wait_exit(pid), 137);
}

TEST_F(RootRuntimeCliTest, ErrorsAlsoGoToTheLogFileContainerdPasses) {
  std::string log = tmp_.path() + "/log.json";
  CliResult r = cli({"--log", log, "--log-format", "json", "state", "missing"});
  EXPECT_EQ(r.code, 1);
  json j = json::parse(read_text(log), nullptr, false);
  ASSERT_TRUE(j.is_object()) << read_text(log);
  EXPECT_EQ(j["level"], "error");
  EXPECT_EQ(j["msg"], "container `missing` does not exist");
}

TEST_F(RootRuntimeCliTest, SpecRefusesToOverwrite) {
  std::string dir = tmp_.path() + "/specdir";
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  EXPECT_EQ(cli({"spec", "--bundle", dir}).code, 0);
  json j = json::parse(read_text(dir + "/config.json"), nullptr, false);
  EXPECT_TRUE(j.is_object() && j.contains("ociVersion"));
  CliResult again = cli({"spec", "--bundle", dir});
  EXPECT_EQ(again.code, 1);
  EXPECT_EQ(again.err, "mydocker-runtime: File config.json exists. Remove it first\n");
}

}  // namespace
}  // namespace mydocker::testing
