// SPDX-License-Identifier: Apache-2.0
// spawn()'s side of the ready-line exchange, against stand-in shims (shell scripts that
// answer on fd 3 as mydocker-shim would): error mapping, timeouts, reaping. The real shim is
// exercised by tests/integration/shim.
#include "engine/shim/spawn.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <set>

#include "runtime/base/file.h"
#include "runtime/base/strings.h"
#include "tests/support/busybox_rootfs.h"

namespace mydocker::engine::shim {
namespace {

using base::ErrorCode;
using testing::TempDir;

class SpawnTest : public ::testing::Test {
 protected:
  // A stand-in shim running `body` with $1 = the config path.
  std::string fake_shim(const std::string& body) {
    std::string path = tmp_.path() + "/fake-shim-" + std::to_string(++n_);
    std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
    EXPECT_EQ(::chmod(path.c_str(), 0755), 0);
    return path;
  }

  ShimConfig config() const {
    ShimConfig c;
    c.id = "c1";
    c.bundle = tmp_.path() + "/bundle";
    c.runtime_root = tmp_.path() + "/runtime";
    c.state_dir = tmp_.path() + "/state";
    return c;
  }

  void TearDown() override {
    // Every stand-in was reaped by spawn() or by the test: no zombie, no running child.
    int status;
    EXPECT_EQ(::waitpid(-1, &status, WNOHANG), -1);
    EXPECT_EQ(errno, ECHILD);
  }

  TempDir tmp_;
  int n_ = 0;
};

TEST_F(SpawnTest, ReadyLineGivesARunningShim) {
  std::string shim = fake_shim(
      "test -f \"$1\" || exit 9\n"
      "echo '{\"pid\":4242}' >&3\n"
      "exec 3>&-\n"
      "read x");  // stdin is /dev/null: returns at once
  auto s = spawn(shim, config(), std::chrono::seconds(10));
  ASSERT_TRUE(s.has_value()) << s.error().to_string();
  EXPECT_EQ(s->container_pid(), 4242);
  EXPECT_TRUE(s->is_child());
  EXPECT_GT(s->pid(), 0);
  pollfd p{s->pidfd().get(), POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 10000), 1);
  s->reap();
  s->reap();  // idempotent
  EXPECT_NE(::kill(s->pid(), 0), 0);
  // The config is where the shim was told to look.
  EXPECT_TRUE(read_config(config().state_dir + "/" + kShimConfigFile).has_value());
}

TEST_F(SpawnTest, StartErrorsMapToCodes) {
  struct Case {
    std::string text;
    ErrorCode code;
  };
  const Case cases[] = {
      {"exec: \\\"nope\\\": executable file not found in $PATH", ErrorCode::NotFound},
      {"exec: \\\"/x\\\": stat /x: no such file or directory", ErrorCode::NotFound},
      {"exec: \\\"/etc/passwd\\\": permission denied", ErrorCode::PermissionDenied},
      {"linux.resources.memory.limit `1`: the init was OOM-killed during setup",
       ErrorCode::Internal},
  };
  for (const auto& c : cases) {
    std::string shim = fake_shim("printf '%s\\n' '{\"error\":\"" + c.text + "\"}' >&3; exit 1");
    auto s = spawn(shim, config(), std::chrono::seconds(10));
    ASSERT_FALSE(s.has_value()) << c.text;
    EXPECT_EQ(s.error().code(), c.code) << s.error().to_string();
    // The runtime's text as it is (quotes unescaped): the daemon words it Docker's way.
    std::string plain = c.text;
    for (size_t k; (k = plain.find("\\\"")) != std::string::npos;) {
      plain.erase(k, 1);
    }
    EXPECT_EQ(s.error().message(), plain);
    // Nothing but the config is left.
    EXPECT_EQ(testing::list_dir(config().state_dir), std::set<std::string>{kShimConfigFile});
  }
}

TEST_F(SpawnTest, ShimThatDiesSilentlyIsAnError) {
  auto s = spawn(fake_shim("exit 3"), config(), std::chrono::seconds(10));
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), ErrorCode::Internal);
  EXPECT_NE(s.error().message().find("exit status 3"), std::string::npos) << s.error().message();
}

TEST_F(SpawnTest, GarbageReadyLineIsAnError) {
  auto s = spawn(fake_shim("echo 'hello' >&3"), config(), std::chrono::seconds(10));
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message().find("bad ready line `hello`"), std::string::npos)
      << s.error().message();
}

TEST_F(SpawnTest, SilentShimTimesOutAndIsKilled) {
  auto t0 = std::chrono::steady_clock::now();
  auto s = spawn(fake_shim("exec sleep 30"), config(), std::chrono::milliseconds(200));
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), ErrorCode::Unavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

TEST_F(SpawnTest, StaleFilesOfAPreviousRunGo) {
  ASSERT_TRUE(base::mkdir_all(config().state_dir).has_value());
  ASSERT_TRUE(write_exit(config().state_dir, {1, "", false}).has_value());
  ASSERT_TRUE(write_pid(config().state_dir, {1, 1, 0}).has_value());
  std::string shim = fake_shim(
      "test -e \"$(dirname \"$1\")/exit.json\" && exit 7\n"
      "echo '{\"pid\":1}' >&3");
  auto s = spawn(shim, config(), std::chrono::seconds(10));
  ASSERT_TRUE(s.has_value()) << s.error().to_string();
  pollfd p{s->pidfd().get(), POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 10000), 1);
  s->reap();
  EXPECT_EQ(read_exit(config().state_dir).error().code(), ErrorCode::NotFound);
}

TEST_F(SpawnTest, AttachConnectionsAreInheritedInOrder) {
  // The stand-in writes its fd number into each inherited connection and lists what else is
  // open (fds 0-3 and the attaches only).
  std::string shim = fake_shim(
      "echo four >&4; echo five >&5\n"
      "ls /proc/$$/fd > \"$(dirname \"$1\")/fds\"\n"
      "echo '{\"pid\":1}' >&3");
  std::vector<base::Fd> ours, theirs;
  for (int i = 0; i < 2; ++i) {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    ours.push_back(base::Fd::adopt(fds[0]));
    theirs.push_back(base::Fd::adopt(fds[1]));
  }
  ShimConfig c = config();
  AttachSpec out;
  out.stdout_stream = true;
  c.attaches = {out, out};
  auto s = spawn(shim, c, std::chrono::seconds(10), std::move(theirs));
  ASSERT_TRUE(s.has_value()) << s.error().to_string();
  pollfd p{s->pidfd().get(), POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 10000), 1);
  s->reap();
  // spawn() closed its copies: the stand-in's exit leaves EOF behind its line.
  auto first = base::read_all(ours[0].get());
  auto second = base::read_all(ours[1].get());
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(*first, "four\n");
  EXPECT_EQ(*second, "five\n");
  auto fds = base::read_file(c.state_dir + "/fds");
  ASSERT_TRUE(fds.has_value());
  // 0-2, the ready pipe, the two connections; the shell keeps its script at 10 or above.
  std::set<int> open;
  for (const auto& f : base::split(base::trim(*fds), '\n')) {
    int n = std::atoi(std::string(f).c_str());
    if (n < 10) {
      open.insert(n);
    }
  }
  EXPECT_EQ(open, (std::set<int>{0, 1, 2, 3, 4, 5})) << *fds;
  // The config the shim read names them.
  auto written = read_config(c.state_dir + "/" + kShimConfigFile);
  ASSERT_TRUE(written.has_value()) << written.error().to_string();
  ASSERT_EQ(written->attaches.size(), 2u);
  EXPECT_EQ(written->attaches[0].fd, kFirstAttachFd);
  EXPECT_EQ(written->attaches[1].fd, kFirstAttachFd + 1);
}

TEST_F(SpawnTest, AttachConnectionsMustMatchTheSpecs) {
  ShimConfig c = config();
  c.attaches.resize(1);
  auto s = spawn(fake_shim("echo '{\"pid\":1}' >&3"), c, std::chrono::seconds(10), {});
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), ErrorCode::InvalidArgument);
}

TEST_F(SpawnTest, MissingShimBinary) {
  auto s = spawn(tmp_.path() + "/no-such-shim", config(), std::chrono::seconds(1));
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message().find("no-such-shim"), std::string::npos);
}

TEST_F(SpawnTest, AttachWithoutAShim) {
  EXPECT_EQ(attach(tmp_.path()).error().code(), ErrorCode::NotFound);
  // A recorded pid that is not running.
  ASSERT_TRUE(write_pid(tmp_.path(), {4194304 + 7, 1, 0}).has_value());
  EXPECT_EQ(attach(tmp_.path()).error().code(), ErrorCode::NotFound);
  // A live process whose start time does not match (pid reuse).
  auto self = process_start_time(::getpid());
  ASSERT_TRUE(self.has_value());
  ASSERT_TRUE(write_pid(tmp_.path(), {::getpid(), *self + 1, 0}).has_value());
  EXPECT_EQ(attach(tmp_.path()).error().code(), ErrorCode::NotFound);
  // And one that matches: ourselves.
  ASSERT_TRUE(write_pid(tmp_.path(), {::getpid(), *self, 99}).has_value());
  auto a = attach(tmp_.path());
  ASSERT_TRUE(a.has_value()) << a.error().to_string();
  EXPECT_EQ(a->pid(), ::getpid());
  EXPECT_EQ(a->container_pid(), 99);
  EXPECT_FALSE(a->is_child());
  a->reap();  // not our child: nothing happens
}

}  // namespace
}  // namespace mydocker::engine::shim
