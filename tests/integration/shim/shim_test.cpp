// SPDX-License-Identifier: Apache-2.0
// mydocker-shim end to end: spawn() starts the real binary on a busybox bundle; the tests
// check the log, exit.json, error mapping, kill through the runtime, loopback, attach, and
// that the shim outlives the handle and the process that spawned it.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <thread>

#include "tests/integration/shim/shim_fixture.h"

namespace mydocker::engine::shim {
namespace {

using shim_test::kCgroupParent;
using shim_test::ms_since;
using shim_test::RootShimTest;
using testing::TempDir;

[[maybe_unused]] ::testing::Environment* const kCgroupCleanup =
    ::testing::AddGlobalTestEnvironment(new testing::CgroupParentCleanup(kCgroupParent));

TEST_F(RootShimTest, OutputLandsInTheJsonLog) {
  write_spec({"sh", "-c", "echo out1; echo err1 >&2; echo out2; printf no-newline"});
  auto t0 = std::chrono::steady_clock::now();
  auto s = spawn_shim(config());
  double spawn_ms = ms_since(t0);
  ASSERT_TRUE(s.has_value()) << s.error().to_string();
  EXPECT_TRUE(s->is_child());
  EXPECT_GT(s->container_pid(), 0);
  ExitStatus e = wait_shim(*s);
  std::printf("shim: spawn + container start %.2f ms; until exit.json %.2f ms\n", spawn_ms,
              ms_since(t0));
  EXPECT_EQ(e.exit_code, 0);
  EXPECT_FALSE(e.oom_killed);
  EXPECT_TRUE(logs::parse_time_nanos(e.finished_at).has_value()) << e.finished_at;
  auto entries = log_entries();
  ASSERT_EQ(entries.size(), 4u);
  std::vector<std::pair<std::string, std::string>> got;
  for (const auto& en : entries) {
    got.emplace_back(en.stream, en.log);
  }
  // Two pipes: the order across streams is not guaranteed, within one it is.
  std::vector<std::pair<std::string, std::string>> out, err;
  for (const auto& g : got) {
    (g.first == "stdout" ? out : err).push_back(g);
  }
  EXPECT_EQ(out, (std::vector<std::pair<std::string, std::string>>{
                     {"stdout", "out1\n"}, {"stdout", "out2\n"}, {"stdout", "no-newline"}}));
  EXPECT_EQ(err, (std::vector<std::pair<std::string, std::string>>{{"stderr", "err1\n"}}));
  auto pid = read_pid(state_dir_);
  ASSERT_TRUE(pid.has_value());
  EXPECT_EQ(pid->pid, s->pid());
  EXPECT_EQ(pid->container_pid, s->container_pid());
}

TEST_F(RootShimTest, StartLatency) {
  write_spec({"true"});
  std::vector<double> spawn_ms, total_ms;
  // CPU time of shim + container (children's rusage, collected as we reap the shims): a
  // figure that other load on the machine does not inflate as much as wall time.
  auto children_cpu_ms = [] {
    rusage ru{};
    ::getrusage(RUSAGE_CHILDREN, &ru);
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000.0 +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000.0;
  };
  double cpu0 = children_cpu_ms();
  for (int i = 0; i < 10; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    auto s = spawn_shim(config());
    spawn_ms.push_back(ms_since(t0));
    ASSERT_TRUE(s.has_value()) << s.error().to_string();
    ExitStatus e = wait_shim(*s);
    total_ms.push_back(ms_since(t0));
    ASSERT_EQ(e.exit_code, 0);
  }
  if (std::getenv("MYDOCKER_RUNTIME_TIMING") != nullptr) {
    // The runtime's phase timer writes to stderr, which is the container's during create.
    std::printf("%s", log_text().c_str());
  }
  std::sort(spawn_ms.begin(), spawn_ms.end());
  std::sort(total_ms.begin(), total_ms.end());
  std::printf(
      "shim `true` x10: spawn + start median %.2f ms (min %.2f, max %.2f); "
      "until exit.json median %.2f ms; CPU (shim + container) %.2f ms per run\n",
      spawn_ms[5], spawn_ms[0], spawn_ms[9], total_ms[5], (children_cpu_ms() - cpu0) / 10);
}

TEST_F(RootShimTest, SignalExitIsShellStyle) {
  // Without a pid namespace the init is an ordinary process: SIGTERM's default action kills.
  write_spec({"sleep", "100"}, [](nlohmann::json& j) {
    auto& ns = j["linux"]["namespaces"];
    for (auto it = ns.begin(); it != ns.end(); ++it) {
      if ((*it)["type"] == "pid") {
        ns.erase(it);
        break;
      }
    }
  });
  auto s = spawn_shim(config());
  ASSERT_TRUE(s.has_value()) << s.error().to_string();
  auto c = runtime::Container::load(runtime_root_, id_);
  ASSERT_TRUE(c.has_value());
  ASSERT_TRUE(c->kill(SIGTERM).has_value());
  EXPECT_EQ(wait_shim(*s).exit_code, 128 + SIGTERM);
}

TEST_F(RootShimTest, OomKillIsRecorded) {
  write_spec({"sh", "-c", "a=$(head -c 200000000 /dev/zero | tr '\\0' x); echo survived"},
             [](nlohmann::json& j) {
               j["linux"]["resources"]["memory"]["limit"] = 16 << 20;
               j["linux"]["resources"]["memory"]["swap"] = 16 << 20;
             });
  auto s = spawn_shim(config());
  ASSERT_TRUE(s.has_value()) << s.error().to_string();
  ExitStatus e = wait_shim(*s);
  EXPECT_EQ(e.exit_code, 137) << log_text();
  EXPECT_TRUE(e.oom_killed);
}

TEST_F(RootShimTest, ExitCodeIsRecorded) {
  write_spec({"sh", "-c", "exit 3"});
  auto s = spawn_shim(config());
  ASSERT_TRUE(s.has_value()) << s.error().to_string();
  EXPECT_EQ(wait_shim(*s).exit_code, 3);
}

TEST_F(RootShimTest, MissingCommandIsNotFound) {
  write_spec({"no-such-command"});
  auto s = spawn_shim(config());
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), base::ErrorCode::NotFound) << s.error().to_string();
  EXPECT_NE(s.error().message().find("executable file not found in $PATH"), std::string::npos)
      << s.error().message();
  // Nothing but the config is left in the state dir.
  EXPECT_EQ(testing::list_dir(state_dir_), (std::set<std::string>{kShimConfigFile}));
}

TEST_F(RootShimTest, NonExecutableIsPermissionDenied) {
  std::ofstream(bundle_ + "/rootfs/not-exec") << "#!/bin/sh\necho hi\n";
  ASSERT_EQ(::chmod((bundle_ + "/rootfs/not-exec").c_str(), 0644), 0);
  write_spec({"/not-exec"});
  auto s = spawn_shim(config());
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), base::ErrorCode::PermissionDenied) << s.error().to_string();
  EXPECT_NE(s.error().message().find("permission denied"), std::string::npos)
      << s.error().message();
}

TEST_F(RootShimTest, KillThroughTheRuntimeIs137) {
  write_spec({"sleep", "100"});
  auto s = spawn_shim(config());
  ASSERT_TRUE(s.has_value()) << s.error().to_string();
  auto c = runtime::Container::load(runtime_root_, id_);
  ASSERT_TRUE(c.has_value()) << c.error().to_string();
  EXPECT_EQ(c->pid(), s->container_pid());
  ASSERT_TRUE(c->kill(SIGKILL).has_value());
  EXPECT_EQ(wait_shim(*s).exit_code, 137);
}

TEST_F(RootShimTest, LoopbackIsUp) {
  write_spec({"sh", "-c", "ifconfig lo; ping -c 1 -W 2 127.0.0.1 >/dev/null && echo ping-ok"});
  auto s = spawn_shim(config());
  ASSERT_TRUE(s.has_value()) << s.error().to_string();
  EXPECT_EQ(wait_shim(*s).exit_code, 0) << log_text();
  std::string text = log_text();
  EXPECT_NE(text.find("UP LOOPBACK RUNNING"), std::string::npos) << text;
  EXPECT_NE(text.find("ping-ok"), std::string::npos) << text;
}

TEST_F(RootShimTest, TtyOutputIsLoggedAsStdout) {
  write_spec({"sh", "-c", "echo out1; echo err1 >&2; test -t 1 && echo is-a-tty"},
             [](nlohmann::json& j) { j["process"]["terminal"] = true; });
  ShimConfig c = config();
  c.tty = true;
  auto s = spawn_shim(c);
  ASSERT_TRUE(s.has_value()) << s.error().to_string();
  EXPECT_EQ(wait_shim(*s).exit_code, 0);
  auto entries = log_entries();
  std::string text;
  for (const auto& e : entries) {
    EXPECT_EQ(e.stream, "stdout");
    text += e.log;
  }
  // The terminal turns "\n" into "\r\n" (Docker's TTY logs look the same).
  EXPECT_EQ(text, "out1\r\nerr1\r\nis-a-tty\r\n");
}

TEST_F(RootShimTest, ContainerInheritsOnlyItsStdio) {
  // Neither the daemon's descriptors (this test binary's) nor the shim's reach the container.
  write_spec({"sh", "-c", "ls /proc/1/fd; readlink /proc/1/fd/0"});
  auto s = spawn_shim(config());
  ASSERT_TRUE(s.has_value()) << s.error().to_string();
  EXPECT_EQ(wait_shim(*s).exit_code, 0);
  EXPECT_EQ(log_text(), "0\n1\n2\n/dev/null\n");
}

TEST_F(RootShimTest, NoLogPathDiscardsOutput) {
  write_spec({"sh", "-c", "echo hi; exit 4"});
  ShimConfig c = config();
  c.log_path.clear();
  auto s = spawn_shim(c);
  ASSERT_TRUE(s.has_value()) << s.error().to_string();
  EXPECT_EQ(wait_shim(*s).exit_code, 4);
  EXPECT_FALSE(base::path_exists(config().log_path));
}

TEST_F(RootShimTest, LogRotates) {
  write_spec({"sh", "-c", "i=0; while [ $i -lt 200 ]; do echo line-$i; i=$((i+1)); done"});
  ShimConfig c = config();
  c.log_max_size = 2000;
  c.log_max_files = 3;
  auto s = spawn_shim(c);
  ASSERT_TRUE(s.has_value()) << s.error().to_string();
  EXPECT_EQ(wait_shim(*s).exit_code, 0);
  EXPECT_TRUE(base::path_exists(c.log_path + ".1"));
  EXPECT_TRUE(base::path_exists(c.log_path + ".2"));
  EXPECT_FALSE(base::path_exists(c.log_path + ".3"));
  auto entries = log_entries();
  ASSERT_FALSE(entries.empty());
  EXPECT_EQ(entries.back().log, "line-199\n");
  EXPECT_LT(entries.size(), 200u);
}

TEST_F(RootShimTest, AttachFindsARunningShimAndNotAGoneOne) {
  write_spec({"sleep", "100"});
  auto s = spawn_shim(config());
  ASSERT_TRUE(s.has_value()) << s.error().to_string();
  auto a = attach(state_dir_);
  ASSERT_TRUE(a.has_value()) << a.error().to_string();
  EXPECT_EQ(a->pid(), s->pid());
  EXPECT_EQ(a->container_pid(), s->container_pid());
  EXPECT_FALSE(a->is_child());
  EXPECT_TRUE(a->pidfd().valid());
  // A shim.pid whose start time does not match is another process.
  auto real = read_pid(state_dir_);
  ASSERT_TRUE(real.has_value());
  ShimPid wrong = *real;
  wrong.start_time += 1;
  TempDir other;
  ASSERT_TRUE(write_pid(other.path(), wrong).has_value());
  auto mismatch = attach(other.path());
  ASSERT_FALSE(mismatch.has_value());
  EXPECT_EQ(mismatch.error().code(), base::ErrorCode::NotFound);

  auto c = runtime::Container::load(runtime_root_, id_);
  ASSERT_TRUE(c.has_value());
  ASSERT_TRUE(c->kill(SIGKILL).has_value());
  // The attached pidfd reports the exit too.
  pollfd p{a->pidfd().get(), POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 20000), 1);
  EXPECT_EQ(wait_shim(*s).exit_code, 137);
  auto gone = attach(state_dir_);
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error().code(), base::ErrorCode::NotFound) << gone.error().to_string();
  TempDir empty;
  EXPECT_EQ(attach(empty.path()).error().code(), base::ErrorCode::NotFound);
}

TEST_F(RootShimTest, ShimIgnoresSignalsAndOutlivesItsHandle) {
  write_spec({"sleep", "100"});
  pid_t shim_pid = 0;
  int64_t container_pid = 0;
  // The handle lives and dies in another thread, as a daemon's request handler would.
  std::thread([&] {
    auto s = spawn_shim(config());
    ASSERT_TRUE(s.has_value()) << s.error().to_string();
    shim_pid = s->pid();
    container_pid = s->container_pid();
  }).join();
  ASSERT_GT(shim_pid, 0);
  ASSERT_EQ(::kill(shim_pid, SIGTERM), 0);
  ASSERT_EQ(::kill(shim_pid, SIGINT), 0);
  ASSERT_EQ(::kill(shim_pid, SIGHUP), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto st = read_process_stat(shim_pid);
  ASSERT_TRUE(st.has_value());
  EXPECT_NE(st->state, 'Z') << "a signal killed the shim";
  EXPECT_EQ(::kill(static_cast<pid_t>(container_pid), 0), 0) << "the container died";
  auto c = runtime::Container::load(runtime_root_, id_);
  ASSERT_TRUE(c.has_value());
  ASSERT_TRUE(c->kill(SIGKILL).has_value());
  wait_pid_exit(shim_pid, std::chrono::seconds(20));
  auto e = read_exit(state_dir_);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->exit_code, 137);
}

TEST_F(RootShimTest, ShimOutlivesTheProcessThatSpawnedIt) {
  write_spec({"sh", "-c", "sleep 100"});
  auto report = base::make_pipe();
  ASSERT_TRUE(report.has_value());
  // A "daemon" that spawns the shim and dies at once (as mydockerd under kill -9).
  pid_t daemon = ::fork();
  ASSERT_GE(daemon, 0);
  if (daemon == 0) {
    auto s = spawn(MYDOCKER_SHIM_BIN, config(), std::chrono::seconds(20));
    std::string msg = s ? std::to_string(s->pid()) : "error " + s.error().to_string();
    (void)base::write_all(report->write.get(), msg);
    ::_exit(0);
  }
  report->write.reset();
  auto msg = base::read_all(report->read.get());
  int status;
  ASSERT_EQ(::waitpid(daemon, &status, 0), daemon);
  ASSERT_TRUE(msg.has_value());
  pid_t shim_pid = static_cast<pid_t>(std::atoi(msg->c_str()));
  ASSERT_GT(shim_pid, 0) << *msg;
  spawned_.push_back(shim_pid);
  // The shim is an orphan now (ours, as subreaper) and still supervising.
  auto a = attach(state_dir_);
  ASSERT_TRUE(a.has_value()) << a.error().to_string();
  EXPECT_EQ(a->pid(), shim_pid);
  auto c = runtime::Container::load(runtime_root_, id_);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->pid(), a->container_pid());
  ASSERT_TRUE(c->kill(SIGKILL).has_value());
  wait_pid_exit(shim_pid, std::chrono::seconds(20));
  auto e = read_exit(state_dir_);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->exit_code, 137);
}

TEST_F(RootShimTest, BadConfigIsReported) {
  ShimConfig c = config();
  c.bundle = tmp_.path() + "/no-such-bundle";
  auto s = spawn_shim(c);
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message().find("no-such-bundle"), std::string::npos) << s.error().to_string();
  // A shim binary that does not exist.
  auto missing = spawn(tmp_.path() + "/no-such-shim", config(), std::chrono::seconds(5));
  ASSERT_FALSE(missing.has_value());
}

}  // namespace
}  // namespace mydocker::engine::shim
