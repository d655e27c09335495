// SPDX-License-Identifier: Apache-2.0
// The v2 manager on a real cgroup2 hierarchy, for what needs no controller: joining, pids,
// freeze/thaw through cgroup.freeze + cgroup.events, cgroup.kill, cpu.stat, device programs,
// destroy. Runs on any host with a cgroup2 mount, this hybrid host's empty one included.
// The manager's "mount" is a test directory inside the hierarchy, so no host-wide file
// (the root's cgroup.subtree_control) is touched.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <thread>

#include "runtime/base/fd.h"
#include "runtime/base/file.h"
#include "runtime/base/strings.h"
#include "runtime/cgroups/manager.h"
#include "tests/support/poll.h"
#include "tests/support/require.h"

namespace mydocker::runtime::cgroups {
namespace {

using mydocker::testing::Need;

bool is_dir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool eventually(const std::function<bool()>& cond) {
  return mydocker::testing::poll_until(cond);
}

class RootCgroupV2CoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MYDOCKER_REQUIRE(Need::Root);
    auto layout = detect();
    if (!layout || layout->unified_mount.empty()) {
      GTEST_SKIP() << "needs a cgroup2 mount";
    }
    static int counter = 0;
    base_ =
        fmt::format("{}/mydocker-test-{}-v2core{}", layout->unified_mount, ::getpid(), counter++);
    ASSERT_EQ(::mkdir(base_.c_str(), 0755), 0) << std::strerror(errno);
    layout_.mode = Mode::V2;
    layout_.unified_mount = base_;
    auto m = make_manager(layout_, "/ctr");
    ASSERT_TRUE(m) << m.error().to_string();
    manager_ = std::move(*m);
  }

  void TearDown() override {
    if (base_.empty()) {
      return;
    }
    if (manager_) {
      (void)manager_->thaw();
    }
    for (pid_t pid : children_) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    if (manager_) {
      EXPECT_TRUE(manager_->destroy());
    }
    for (int i = 0; i < 1000 && ::rmdir((base_ + "/ctr").c_str()) < 0 && errno == EBUSY; ++i) {
      ::usleep(1000);
    }
    for (int i = 0; i < 1000 && ::rmdir(base_.c_str()) < 0 && errno == EBUSY; ++i) {
      ::usleep(1000);
    }
    EXPECT_FALSE(is_dir(base_)) << base_ << " left behind";
  }

  // A child in the cgroup running `fn` (it joins before `fn` starts).
  pid_t spawn(const std::function<void()>& fn) {
    auto pipe = base::make_pipe();
    EXPECT_TRUE(pipe);
    pid_t pid = ::fork();
    if (pid == 0) {
      pipe->write.reset();
      char c;
      if (::read(pipe->read.get(), &c, 1) != 1) {
        ::_exit(100);
      }
      fn();
      ::_exit(0);
    }
    children_.push_back(pid);
    auto added = manager_->add_process(pid);
    EXPECT_TRUE(added) << added.error().to_string();
    EXPECT_EQ(::write(pipe->write.get(), "x", 1), 1);
    return pid;
  }

  std::string base_;
  Layout layout_;
  std::unique_ptr<Manager> manager_;
  std::vector<pid_t> children_;
};

TEST_F(RootCgroupV2CoreTest, ChildJoinsAndShowsInPidsAndCpuStat) {
  ASSERT_TRUE(manager_->create({}));
  pid_t pid = spawn([] {
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(30);
    volatile uint64_t spin = 0;
    while (std::chrono::steady_clock::now() < until) {
      spin = spin + 1;
    }
    ::pause();
  });
  EXPECT_EQ(*manager_->pids(), std::vector<pid_t>{pid});
  ASSERT_TRUE(eventually([&] { return manager_->stats()->cpu_usage_ns > 0; }));
  auto s = manager_->stats();
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_GE(s->cpu_usage_ns, s->cpu_user_ns);
}

TEST_F(RootCgroupV2CoreTest, FreezeStopsAndThawResumes) {
  ASSERT_TRUE(manager_->create({}));
  void* mem = ::mmap(nullptr, sizeof(std::atomic<uint64_t>), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mem, MAP_FAILED);
  auto* counter = new (mem) std::atomic<uint64_t>(0);
  spawn([counter] {
    for (;;) {
      counter->fetch_add(1, std::memory_order_relaxed);
    }
  });
  ASSERT_TRUE(eventually([&] { return counter->load() > 0; }));
  auto frozen = manager_->freeze();
  ASSERT_TRUE(frozen) << frozen.error().to_string();
  EXPECT_TRUE(*manager_->is_frozen());
  uint64_t at_freeze = counter->load();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(counter->load(), at_freeze);
  ASSERT_TRUE(manager_->thaw());
  EXPECT_FALSE(*manager_->is_frozen());
  EXPECT_TRUE(eventually([&] { return counter->load() > at_freeze; }));
  ::munmap(mem, sizeof(std::atomic<uint64_t>));
}

TEST_F(RootCgroupV2CoreTest, KillAllKillsAFrozenFamily) {
  ASSERT_TRUE(manager_->create({}));
  pid_t pid = spawn([] {
    for (int i = 0; i < 3; ++i) {
      if (::fork() == 0) {
        ::pause();
        ::_exit(0);
      }
    }
    ::pause();
  });
  ASSERT_TRUE(eventually([&] { return manager_->pids()->size() == 4; }));
  ASSERT_TRUE(manager_->freeze());
  auto killed = manager_->kill_all();
  ASSERT_TRUE(killed) << killed.error().to_string();
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  children_.clear();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  auto destroyed = manager_->destroy();
  ASSERT_TRUE(destroyed) << destroyed.error().to_string();
  EXPECT_FALSE(is_dir(base_ + "/ctr"));
}

TEST_F(RootCgroupV2CoreTest, CreateWithDeviceRulesEnforcesThem) {
  spec::Resources r;
  spec::DeviceRule deny_all;
  spec::DeviceRule null;
  null.allow = true;
  null.type = "c";
  null.major = 1;
  null.minor = 3;
  r.devices = {deny_all, null};
  auto created = manager_->create(r);
  ASSERT_TRUE(created) << created.error().to_string();
  auto try_open = [&](const char* path) {
    pid_t pid = spawn([path] { ::_exit(::open(path, O_RDWR) >= 0 ? 0 : errno); });
    int status = 0;
    EXPECT_EQ(::waitpid(pid, &status, 0), pid);
    children_.pop_back();
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  EXPECT_EQ(try_open("/dev/null"), 0);
  EXPECT_EQ(try_open("/dev/full"), EPERM);
  // update() replaces the rules: now /dev/full too.
  spec::DeviceRule full = null;
  full.minor = 7;
  r.devices.push_back(full);
  auto updated = manager_->update(r);
  ASSERT_TRUE(updated) << updated.error().to_string();
  EXPECT_EQ(try_open("/dev/full"), 0);
}

}  // namespace
}  // namespace mydocker::runtime::cgroups
