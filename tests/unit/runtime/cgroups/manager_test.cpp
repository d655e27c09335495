// SPDX-License-Identifier: Apache-2.0
// The Manager conformance suite: the same behaviour from the v1 and the v2 manager, each on
// a fake cgroupfs tree; then what only one of them does.
#include "runtime/cgroups/manager.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/support/busybox_rootfs.h"
#include "tests/unit/runtime/cgroups/fake_cgroupfs.h"

namespace mydocker::runtime::cgroups {
namespace {

using base::ErrorCode;
using fake::get;
using fake::is_dir;
using fake::put;

spec::Resources some_limits() {
  spec::Resources r;
  r.memory = spec::Memory{};
  r.memory->limit = 64 << 20;
  r.cpu = spec::Cpu{};
  r.cpu->shares = 512;
  r.pids = spec::Pids{10};
  return r;
}

template <typename Fake>
class ManagerConformanceTest : public ::testing::Test {
 protected:
  ManagerConformanceTest() : fake_(tmp_.path()) {}

  std::unique_ptr<Manager> make(const std::string& path = "/mydocker/ctr") {
    auto m = make_manager(fake_.layout(), path, fake_.options());
    EXPECT_TRUE(m) << m.error().to_string();
    return m ? std::move(*m) : nullptr;
  }
  // For tests that run into a deadline on purpose.
  std::unique_ptr<Manager> make_impatient() {
    Options o = fake_.options();
    o.timeout = std::chrono::milliseconds(100);
    auto m = make_manager(fake_.layout(), "/mydocker/ctr", o);
    EXPECT_TRUE(m) << m.error().to_string();
    return m ? std::move(*m) : nullptr;
  }

  mydocker::testing::TempDir tmp_;
  Fake fake_;
};

struct FakeNames {
  template <typename T>
  static std::string GetName(int) {
    return T::kName;
  }
};

using Fakes = ::testing::Types<fake::V1Fake, fake::V2Fake>;
TYPED_TEST_SUITE(ManagerConformanceTest, Fakes, FakeNames);

TYPED_TEST(ManagerConformanceTest, CreateMakesEveryDirAndAppliesResources) {
  auto m = this->make();
  ASSERT_TRUE(m->create(some_limits())) << m->create(some_limits()).error().to_string();
  ASSERT_FALSE(m->dirs().empty());
  for (const std::string& d : m->dirs()) {
    EXPECT_TRUE(is_dir(d)) << d;
    EXPECT_NE(d.find("/mydocker/ctr"), std::string::npos) << d;
  }
  EXPECT_EQ(get(this->fake_.path("memory", "mydocker/ctr", TypeParam::kMemoryLimitFile)),
            "67108864");
  EXPECT_EQ(get(this->fake_.path("cpu", "mydocker/ctr", TypeParam::kSharesFile)),
            TypeParam::kShares512);
  EXPECT_EQ(get(this->fake_.path("pids", "mydocker/ctr", "pids.max")), "10");
}

TYPED_TEST(ManagerConformanceTest, UpdateRewritesValues) {
  auto m = this->make();
  ASSERT_TRUE(m->create(some_limits()));
  spec::Resources r;
  r.pids = spec::Pids{0};
  ASSERT_TRUE(m->update(r));
  EXPECT_EQ(get(this->fake_.path("pids", "mydocker/ctr", "pids.max")), "max");
  EXPECT_EQ(get(this->fake_.path("memory", "mydocker/ctr", TypeParam::kMemoryLimitFile)),
            "67108864");
}

TYPED_TEST(ManagerConformanceTest, FailedWriteRollsBackEverythingItMade) {
  this->fake_.broken_files = {TypeParam::kMemoryLimitFile};
  auto m = this->make();
  auto r = m->create(some_limits());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find(
                fmt::format("cgroup `{}` = `67108864`", TypeParam::kMemoryLimitFile)),
            std::string::npos)
      << r.error().message();
  EXPECT_NE(r.error().to_string().find("Is a directory"), std::string::npos);
  for (const std::string& d : m->dirs()) {
    EXPECT_FALSE(is_dir(d)) << d << " left behind";
    std::string parent = d.substr(0, d.rfind('/'));
    EXPECT_FALSE(is_dir(parent)) << parent << " (made by create) left behind";
  }
}

TYPED_TEST(ManagerConformanceTest, RollbackKeepsDirsItDidNotMake) {
  // Someone else's /mydocker stays; only our leaf goes.
  auto other = this->make("/mydocker/other");
  ASSERT_TRUE(other->create({}));
  this->fake_.broken_files = {TypeParam::kMemoryLimitFile};
  auto m = this->make();
  ASSERT_FALSE(m->create(some_limits()));
  for (const std::string& d : m->dirs()) {
    EXPECT_FALSE(is_dir(d)) << d;
    EXPECT_TRUE(is_dir(d.substr(0, d.rfind('/'))));
  }
  for (const std::string& d : other->dirs()) {
    EXPECT_TRUE(is_dir(d)) << d;
  }
}

TYPED_TEST(ManagerConformanceTest, CreateJoinsAnExistingCgroup) {
  auto m = this->make();
  ASSERT_TRUE(m->create({}));
  ASSERT_TRUE(m->create(some_limits()));
  EXPECT_EQ(get(this->fake_.path("pids", "mydocker/ctr", "pids.max")), "10");
}

TYPED_TEST(ManagerConformanceTest, AddProcessWritesCgroupProcsEverywhere) {
  auto m = this->make();
  ASSERT_TRUE(m->create({}));
  ASSERT_TRUE(m->add_process(4242));
  for (const std::string& d : m->dirs()) {
    EXPECT_EQ(get(d + "/cgroup.procs"), "4242") << d;
  }
}

TYPED_TEST(ManagerConformanceTest, PidsListsEveryProcessSorted) {
  auto m = this->make();
  ASSERT_TRUE(m->create({}));
  for (const std::string& d : m->dirs()) {
    put(d + "/cgroup.procs", "30\n10\n20\n");
  }
  auto pids = m->pids();
  ASSERT_TRUE(pids);
  EXPECT_EQ(*pids, (std::vector<pid_t>{10, 20, 30}));
}

TYPED_TEST(ManagerConformanceTest, FreezeAndThaw) {
  auto m = this->make();
  ASSERT_TRUE(m->create({}));
  this->fake_.start_kernel(this->fake_.path("freezer", "mydocker/ctr", ""));
  EXPECT_FALSE(*m->is_frozen());
  ASSERT_TRUE(m->freeze());
  EXPECT_TRUE(*m->is_frozen());
  ASSERT_TRUE(m->thaw());
  EXPECT_FALSE(*m->is_frozen());
}

TYPED_TEST(ManagerConformanceTest, FreezeTimesOutWhenTheKernelNeverFreezes) {
  auto m = this->make_impatient();
  ASSERT_TRUE(m->create({}));
  // No kernel thread: v2's cgroup.events never says frozen; v1's freezer.state is made to
  // stay FREEZING by turning it into a directory... which cannot be written at all, so v1
  // fails at the write instead. Either way freeze() must report, not hang.
  std::string events = this->fake_.path("freezer", "mydocker/ctr", "cgroup.events");
  if (std::string(TypeParam::kName) == "V1") {
    std::string state = this->fake_.path("freezer", "mydocker/ctr", "freezer.state");
    ::unlink(state.c_str());
    ::mkdir(state.c_str(), 0755);
  }
  auto r = m->freeze();
  ASSERT_FALSE(r);
  if (std::string(TypeParam::kName) == "V2") {
    EXPECT_EQ(r.error().code(), ErrorCode::Unavailable) << r.error().to_string();
    // The half-done freeze is undone.
    EXPECT_EQ(get(this->fake_.path("", "mydocker/ctr", "cgroup.freeze")), "0");
  }
}

TYPED_TEST(ManagerConformanceTest, StatsFromFixtureFiles) {
  auto m = this->make();
  ASSERT_TRUE(m->create({}));
  this->fake_.write_stats_fixtures("mydocker/ctr");
  auto s = m->stats();
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_EQ(s->memory_usage, 1000u);
  EXPECT_EQ(s->memory_max_usage, 2000u);
  EXPECT_EQ(s->memory_limit, 4096u);
  EXPECT_EQ(s->oom_events, 2u);
  EXPECT_EQ(s->cpu_usage_ns, 3000000000u);
  EXPECT_EQ(s->cpu_user_ns, 2000000000u);
  EXPECT_EQ(s->cpu_system_ns, 1000000000u);
  EXPECT_EQ(s->pids_current, 3u);
  EXPECT_EQ(s->pids_limit, 10u);
}

TYPED_TEST(ManagerConformanceTest, StatsOfAFreshCgroupAreUnlimited) {
  auto m = this->make();
  ASSERT_TRUE(m->create({}));
  auto s = m->stats();
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_EQ(s->memory_limit, 0u);
  EXPECT_EQ(s->pids_limit, 0u);
  EXPECT_EQ(s->oom_events, 0u);
}

TYPED_TEST(ManagerConformanceTest, DestroyRemovesEveryDirAndIsIdempotent) {
  auto m = this->make();
  ASSERT_TRUE(m->create(some_limits()));
  // A sub-cgroup the container made for itself goes too.
  std::string sub = m->dirs().front() + "/inner";
  ASSERT_EQ(::mkdir(sub.c_str(), 0755), 0);
  this->fake_.populate(sub);
  ASSERT_TRUE(m->destroy());
  for (const std::string& d : m->dirs()) {
    EXPECT_FALSE(is_dir(d)) << d;
    // Parents are shared between containers and stay.
    EXPECT_TRUE(is_dir(d.substr(0, d.rfind('/'))));
  }
  EXPECT_TRUE(m->destroy());
}

TYPED_TEST(ManagerConformanceTest, DestroyWithProcessesLeftIsConflict) {
  auto m = this->make_impatient();
  ASSERT_TRUE(m->create({}));
  ASSERT_TRUE(m->add_process(4242));
  auto r = m->destroy();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::Conflict) << r.error().to_string();
  EXPECT_TRUE(is_dir(m->dirs().front()));
}

TYPED_TEST(ManagerConformanceTest, KillAllOnAnEmptyCgroup) {
  auto m = this->make();
  ASSERT_TRUE(m->create({}));
  EXPECT_TRUE(m->kill_all());
}

TYPED_TEST(ManagerConformanceTest, KillAllSignalsListedProcessesAndReportsSurvivors) {
  auto m = this->make_impatient();
  ASSERT_TRUE(m->create({}));
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  for (const std::string& d : m->dirs()) {
    put(d + "/cgroup.procs", std::to_string(child) + "\n");
  }
  // The fake never drops the pid from cgroup.procs, so kill_all runs into its deadline.
  auto r = m->kill_all();
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::Unavailable);
  EXPECT_NE(r.error().message().find("1 remain"), std::string::npos) << r.error().message();
}

TYPED_TEST(ManagerConformanceTest, PathsThatEscapeAreRefused) {
  for (const char* bad : {"", "/", "..", "/mydocker/../../etc", "a/./../b", "//.."}) {
    auto m = make_manager(this->fake_.layout(), bad, this->fake_.options());
    ASSERT_FALSE(m) << bad;
    EXPECT_EQ(m.error().code(), ErrorCode::InvalidArgument) << bad;
  }
  auto m = make_manager(this->fake_.layout(), "relative//./x/", this->fake_.options());
  ASSERT_TRUE(m);
  for (const std::string& d : (*m)->dirs()) {
    EXPECT_EQ(d.substr(d.size() - 11), "/relative/x") << d;
  }
}

// v1 only.

class V1ManagerTest : public ::testing::Test {
 protected:
  V1ManagerTest() : fake_(tmp_.path()) {}
  std::unique_ptr<Manager> make(const Layout& layout) {
    auto m = make_manager(layout, "/mydocker/ctr", fake_.options());
    EXPECT_TRUE(m);
    return m ? std::move(*m) : nullptr;
  }
  mydocker::testing::TempDir tmp_;
  fake::V1Fake fake_;
};

TEST_F(V1ManagerTest, OneDirPerHierarchyCoMountedOnce) {
  Layout l = fake_.layout();
  l.v1_mounts["cpuacct"] = l.v1_mounts["cpu"];  // cpu,cpuacct co-mounted
  auto m = make(l);
  EXPECT_EQ(m->dirs().size(), l.v1_mounts.size() - 1);
}

TEST_F(V1ManagerTest, NamedHierarchyIsBestEffort) {
  // A name=systemd hierarchy we cannot write (here: its "mount" is a file) does not stop
  // create or add_process; controller hierarchies do.
  Layout l = fake_.layout();
  std::string bogus = tmp_.path() + "/not-a-dir";
  put(bogus, "");
  l.v1_mounts["name=systemd"] = bogus;
  auto m = make(l);
  auto r = m->create(some_limits());
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_TRUE(m->add_process(4242));
  EXPECT_EQ(get(fake_.path("memory", "mydocker/ctr", "cgroup.procs")), "4242");
  l.v1_mounts["memory"] = bogus;
  auto broken = make(l);
  EXPECT_FALSE(broken->create({}));
}

TEST_F(V1ManagerTest, CpusetInheritedFromParentAtEveryLevel) {
  auto m = make(fake_.layout());
  ASSERT_TRUE(m->create({}));
  EXPECT_EQ(get(fake_.path("cpuset", "mydocker", "cpuset.cpus")), "0-1");
  EXPECT_EQ(get(fake_.path("cpuset", "mydocker", "cpuset.mems")), "0");
  EXPECT_EQ(get(fake_.path("cpuset", "mydocker/ctr", "cpuset.cpus")), "0-1");
  EXPECT_EQ(get(fake_.path("cpuset", "mydocker/ctr", "cpuset.mems")), "0");
}

TEST_F(V1ManagerTest, SpecCpusetOverridesInherited) {
  auto m = make(fake_.layout());
  spec::Resources r;
  r.cpu = spec::Cpu{};
  r.cpu->cpus = "1";
  ASSERT_TRUE(m->create(r));
  EXPECT_EQ(get(fake_.path("cpuset", "mydocker/ctr", "cpuset.cpus")), "1");
  EXPECT_EQ(get(fake_.path("cpuset", "mydocker/ctr", "cpuset.mems")), "0");
}

TEST_F(V1ManagerTest, MissingHierarchyIsFailedPreconditionAndRollsBack) {
  Layout l = fake_.layout();
  l.v1_mounts.erase("pids");
  auto m = make(l);
  spec::Resources r;
  r.pids = spec::Pids{5};
  auto res = m->create(r);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code(), ErrorCode::FailedPrecondition);
  EXPECT_NE(res.error().message().find("pids"), std::string::npos);
  for (const std::string& d : m->dirs()) {
    EXPECT_FALSE(is_dir(d)) << d;
  }
}

TEST_F(V1ManagerTest, SwapAndBfqProbedFromTheCgroup) {
  auto m = make(fake_.layout());
  spec::Resources r;
  r.memory = spec::Memory{};
  r.memory->limit = 64 << 20;
  r.memory->swap = 128 << 20;
  r.block_io = spec::BlockIo{};
  r.block_io->weight = 300;
  ASSERT_TRUE(m->create(r));
  EXPECT_EQ(get(fake_.path("memory", "mydocker/ctr", "memory.memsw.limit_in_bytes")), "134217728");
  // The fake has BFQ's file only, like this host.
  EXPECT_EQ(get(fake_.path("blkio", "mydocker/ctr", "blkio.bfq.weight")), "300");
  // Raising both past the current memsw must write memsw first, or the limit write fails.
  r.memory->limit = 256 << 20;
  r.memory->swap = 512 << 20;
  ASSERT_TRUE(m->update(r));
  EXPECT_EQ(get(fake_.path("memory", "mydocker/ctr", "memory.limit_in_bytes")), "268435456");
}

TEST_F(V1ManagerTest, NoSwapAccountingRefusesSwapLimit) {
  fake_.broken_files = {};
  auto m = make(fake_.layout());
  ASSERT_TRUE(m->create({}));
  ::unlink(fake_.path("memory", "mydocker/ctr", "memory.memsw.limit_in_bytes").c_str());
  spec::Resources r;
  r.memory = spec::Memory{};
  r.memory->limit = 64 << 20;
  r.memory->swap = 128 << 20;
  auto res = m->update(r);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code(), ErrorCode::FailedPrecondition);
}

TEST_F(V1ManagerTest, OomCountFallsBackToFailcnt) {
  auto m = make(fake_.layout());
  ASSERT_TRUE(m->create({}));
  put(fake_.path("memory", "mydocker/ctr", "memory.oom_control"),
      "oom_kill_disable 0\nunder_oom 0\n");
  put(fake_.path("memory", "mydocker/ctr", "memory.failcnt"), "7\n");
  EXPECT_EQ(m->stats()->oom_events, 7u);
}

TEST_F(V1ManagerTest, FreezeWithoutFreezerIsFailedPrecondition) {
  Layout l = fake_.layout();
  l.v1_mounts.erase("freezer");
  auto m = make(l);
  ASSERT_TRUE(m->create({}));
  auto r = m->freeze();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::FailedPrecondition);
}

// v2 only.

class V2ManagerTest : public ::testing::Test {
 protected:
  V2ManagerTest() : fake_(tmp_.path()) {}
  std::unique_ptr<Manager> make(const std::string& path = "/mydocker/ctr") {
    auto m = make_manager(fake_.layout(), path, fake_.options());
    EXPECT_TRUE(m);
    return m ? std::move(*m) : nullptr;
  }
  mydocker::testing::TempDir tmp_;
  fake::V2Fake fake_;
};

TEST_F(V2ManagerTest, ControllersEnabledInEveryParent) {
  auto m = make();
  ASSERT_TRUE(m->create(some_limits()));
  EXPECT_EQ(get(fake_.path("", "", "cgroup.subtree_control")), "+cpu +cpuset +io +memory +pids");
  EXPECT_EQ(get(fake_.path("", "mydocker", "cgroup.subtree_control")),
            "+cpu +cpuset +io +memory +pids");
  // The leaf holds the processes and enables nothing.
  EXPECT_EQ(get(fake_.path("", "mydocker/ctr", "cgroup.subtree_control")), "");
}

TEST_F(V2ManagerTest, BadDeviceRuleCreatesNothing) {
  auto m = make();
  spec::Resources r;
  spec::DeviceRule d;
  d.type = "q";
  r.devices.push_back(d);
  auto res = m->create(r);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code(), ErrorCode::InvalidArgument);
  EXPECT_FALSE(is_dir(fake_.path("", "mydocker", "")));
}

TEST_F(V2ManagerTest, DeviceProgramThatCannotAttachRollsBack) {
  // A plain directory is no cgroup2 directory: loading (unprivileged) or attaching (root)
  // fails, after the directories and files were made. All of it must go again.
  auto m = make();
  spec::Resources r = some_limits();
  spec::DeviceRule deny_all;
  r.devices.push_back(deny_all);
  auto res = m->create(r);
  ASSERT_FALSE(res);
  EXPECT_NE(res.error().message().find("device program"), std::string::npos)
      << res.error().to_string();
  EXPECT_FALSE(is_dir(fake_.path("", "mydocker", "")));
}

TEST_F(V2ManagerTest, KillAllUsesCgroupKill) {
  auto m = make();
  ASSERT_TRUE(m->create({}));
  ASSERT_TRUE(m->kill_all());
  EXPECT_EQ(get(fake_.path("", "mydocker/ctr", "cgroup.kill")), "1");
}

TEST_F(V2ManagerTest, UnifiedRawFileWritten) {
  auto m = make();
  ASSERT_TRUE(m->create({}));
  put(fake_.path("", "mydocker/ctr", "memory.high"), "max\n");
  spec::Resources r;
  r.unified["memory.high"] = "1073741824";
  ASSERT_TRUE(m->update(r));
  EXPECT_EQ(get(fake_.path("", "mydocker/ctr", "memory.high")), "1073741824");
}

}  // namespace
}  // namespace mydocker::runtime::cgroups
