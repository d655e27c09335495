// SPDX-License-Identifier: Apache-2.0
// The cgroup managers on this host's real hierarchies: limits read back, processes joined,
// OOM kills counted, fork refused, freeze, refused values, and nothing left behind.
// Typed over the host's v1 hierarchies and a v2 unified hierarchy (skips where absent).
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
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

using base::ErrorCode;
using mydocker::testing::Need;

std::string read_trimmed(const std::string& path) {
  auto r = base::read_file(path);
  return r ? std::string(base::trim(*r)) : "<" + r.error().to_string() + ">";
}

bool is_dir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool eventually(const std::function<bool()>& cond) {
  return mydocker::testing::poll_until(cond);
}

struct V1Host {
  static constexpr const char* kName = "V1";
  static std::string missing() {
    std::string why = mydocker::testing::missing({Need::Root, Need::CgroupV1});
    if (!why.empty()) {
      return why;
    }
    auto l = detect();
    if (!l || l->mode == Mode::V2) {
      return "needs a cgroup v1 or hybrid host";
    }
    return "";
  }
  static Layout layout() { return *detect(); }
  static std::string file(const Layout& l, const std::string& controller, const std::string& rel,
                          const std::string& f) {
    return l.v1_mounts.at(controller) + "/" + rel + "/" + f;
  }
  static constexpr const char* kMemoryLimit = "memory.limit_in_bytes";
  static constexpr const char* kShares = "cpu.shares";
  static constexpr const char* kShares512 = "512";
  static constexpr const char* kQuotaFile = "cpu.cfs_quota_us";
  static constexpr const char* kQuota = "50000";
  static constexpr const char* kSwapFile = "memory.memsw.limit_in_bytes";
  static std::string swap_value(int64_t limit, int64_t swap) {
    (void)limit;
    return std::to_string(swap);  // v1 counts memory plus swap, as the spec does
  }
};

struct V2Host {
  static constexpr const char* kName = "V2";
  static std::string missing() {
    std::string why = mydocker::testing::missing({Need::Root, Need::CgroupV2Controllers});
    if (!why.empty()) {
      return why;
    }
    auto l = detect();
    if (!l || l->mode != Mode::V2) {
      // A hybrid host's cgroup2 mount may list a spare controller (hugetlb here), but never
      // memory, cpu or pids, which v1 holds.
      return "needs a cgroup v2 host (this one is v1/hybrid)";
    }
    std::string controllers = read_trimmed(l->unified_mount + "/cgroup.controllers");
    for (const char* c : {"memory", "pids", "cpu", "cpuset"}) {
      if (controllers.find(c) == std::string::npos) {
        return fmt::format("needs the {} controller in cgroup v2", c);
      }
    }
    return "";
  }
  static Layout layout() { return *detect(); }
  static std::string file(const Layout& l, const std::string&, const std::string& rel,
                          const std::string& f) {
    return l.unified_mount + "/" + rel + "/" + f;
  }
  static constexpr const char* kMemoryLimit = "memory.max";
  static constexpr const char* kShares = "cpu.weight";
  static constexpr const char* kShares512 = "20";
  static constexpr const char* kQuotaFile = "cpu.max";
  static constexpr const char* kQuota = "50000 100000";
  static constexpr const char* kSwapFile = "memory.swap.max";
  static std::string swap_value(int64_t limit, int64_t swap) {
    return std::to_string(swap - limit);
  }
};

// A forked child that waits for a go byte (so it joins the cgroup before it works), then
// runs `fn` and exits with its result.
struct Child {
  pid_t pid = -1;
  base::Fd go;
};

template <typename Host>
class RootCgroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why = Host::missing();
    if (!why.empty()) {
      GTEST_SKIP() << why;
    }
    layout_ = Host::layout();
    static int counter = 0;
    rel_ = fmt::format("{}{}", prefix(), counter++);
  }

  void TearDown() override {
    if (rel_.empty()) {
      return;
    }
    if (manager_) {
      (void)manager_->thaw();  // a frozen v1 task would not die
    }
    for (pid_t pid : children_) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    if (manager_) {
      auto r = manager_->destroy();
      EXPECT_TRUE(r) << r.error().to_string();
    }
    for (const std::string& d : all_dirs()) {
      ::rmdir(d.c_str());
    }
    for (const std::string& d : all_dirs()) {
      EXPECT_FALSE(is_dir(d)) << d << " left behind";
    }
    EXPECT_EQ(leftovers(), "");
  }

  static std::string prefix() { return fmt::format("mydocker-test-{}-", ::getpid()); }

  // Every directory named with this binary's prefix directly under a hierarchy root.
  std::string leftovers() const {
    std::vector<std::string> roots;
    for (const auto& [c, mount] : layout_.v1_mounts) {
      roots.push_back(mount);
    }
    if (!layout_.unified_mount.empty()) {
      roots.push_back(layout_.unified_mount);
    }
    std::string found;
    for (const std::string& root : roots) {
      DIR* d = ::opendir(root.c_str());
      if (d == nullptr) {
        continue;
      }
      while (struct dirent* e = ::readdir(d)) {
        if (std::string(e->d_name).rfind(prefix(), 0) == 0) {
          found += root + "/" + e->d_name + " ";
        }
      }
      ::closedir(d);
    }
    return found;
  }

  std::vector<std::string> all_dirs() const {
    std::vector<std::string> out;
    if (layout_.mode == Mode::V2) {
      out.push_back(layout_.unified_mount + "/" + rel_);
    } else {
      for (const auto& [c, mount] : layout_.v1_mounts) {
        out.push_back(mount + "/" + rel_);
      }
    }
    return out;
  }

  Manager& make(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
    Options o;
    o.timeout = timeout;
    auto m = make_manager(layout_, "/" + rel_, o);
    EXPECT_TRUE(m) << m.error().to_string();
    manager_ = std::move(*m);
    return *manager_;
  }

  Child spawn(const std::function<int()>& fn) {
    auto pipe = base::make_pipe();
    EXPECT_TRUE(pipe);
    pid_t pid = ::fork();
    if (pid == 0) {
      pipe->write.reset();
      char c;
      if (::read(pipe->read.get(), &c, 1) != 1) {
        ::_exit(100);
      }
      ::_exit(fn());
    }
    EXPECT_GT(pid, 0);
    children_.push_back(pid);
    return Child{pid, std::move(pipe->write)};
  }

  void go(Child& c) {
    ASSERT_EQ(::write(c.go.get(), "x", 1), 1);
    c.go.reset();
  }

  int wait_status(pid_t pid) {
    int status = 0;
    EXPECT_EQ(::waitpid(pid, &status, 0), pid);
    children_.erase(std::remove(children_.begin(), children_.end(), pid), children_.end());
    return status;
  }

  std::string file(const std::string& controller, const std::string& f) const {
    return Host::file(layout_, controller, rel_, f);
  }

  Layout layout_;
  std::string rel_;
  std::unique_ptr<Manager> manager_;
  std::vector<pid_t> children_;
};

struct HostNames {
  template <typename T>
  static std::string GetName(int) {
    return T::kName;
  }
};

using Hosts = ::testing::Types<V1Host, V2Host>;
TYPED_TEST_SUITE(RootCgroupTest, Hosts, HostNames);

TYPED_TEST(RootCgroupTest, CreateWritesLimitsTheKernelReadsBack) {
  Manager& m = this->make();
  spec::Resources r;
  r.memory = spec::Memory{};
  r.memory->limit = 64 << 20;
  r.cpu = spec::Cpu{};
  r.cpu->shares = 512;
  r.cpu->quota = 50000;
  r.cpu->period = 100000;
  r.cpu->cpus = "0";
  r.cpu->mems = "0";
  r.pids = spec::Pids{20};
  auto res = m.create(r);
  ASSERT_TRUE(res) << res.error().to_string();
  for (const std::string& d : m.dirs()) {
    EXPECT_TRUE(is_dir(d)) << d;
  }
  EXPECT_EQ(read_trimmed(this->file("memory", TypeParam::kMemoryLimit)), "67108864");
  EXPECT_EQ(read_trimmed(this->file("cpu", TypeParam::kShares)), TypeParam::kShares512);
  EXPECT_EQ(read_trimmed(this->file("cpu", TypeParam::kQuotaFile)), TypeParam::kQuota);
  EXPECT_EQ(read_trimmed(this->file("cpuset", "cpuset.cpus")), "0");
  EXPECT_EQ(read_trimmed(this->file("cpuset", "cpuset.mems")), "0");
  EXPECT_EQ(read_trimmed(this->file("pids", "pids.max")), "20");
  auto s = m.stats();
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_EQ(s->memory_limit, uint64_t{64} << 20);
  EXPECT_EQ(s->pids_limit, 20u);
}

TYPED_TEST(RootCgroupTest, UpdateRaisesAndLowersMemoryWithSwap) {
  // The kernel keeps memory+swap >= memory at every write: raising both must write memsw
  // first, lowering last. A wrong order fails here with EINVAL.
  Manager& m = this->make();
  auto mem = [](int64_t limit, int64_t swap) {
    spec::Resources r;
    r.memory = spec::Memory{};
    r.memory->limit = limit;
    r.memory->swap = swap;
    return r;
  };
  spec::Resources plain;
  plain.memory = spec::Memory{};
  plain.memory->limit = 64 << 20;
  ASSERT_TRUE(m.create(plain));
  if (!base::path_exists(this->file("memory", TypeParam::kSwapFile))) {
    GTEST_SKIP() << "the kernel does not account swap (no " << TypeParam::kSwapFile << ")";
  }
  for (auto [limit, swap] : std::vector<std::pair<int64_t, int64_t>>{
           {64 << 20, 128 << 20}, {256 << 20, 512 << 20}, {32 << 20, 64 << 20}}) {
    auto r = m.update(mem(limit, swap));
    ASSERT_TRUE(r) << limit << "/" << swap << ": " << r.error().to_string();
    EXPECT_EQ(read_trimmed(this->file("memory", TypeParam::kMemoryLimit)), std::to_string(limit));
    EXPECT_EQ(read_trimmed(this->file("memory", TypeParam::kSwapFile)),
              TypeParam::swap_value(limit, swap));
  }
}

TYPED_TEST(RootCgroupTest, StatsFollowAChildsUsage) {
  Manager& m = this->make();
  ASSERT_TRUE(m.create({}));
  auto ready = base::make_pipe();
  ASSERT_TRUE(ready);
  int ready_fd = ready->write.get();
  Child c = this->spawn([ready_fd] {
    constexpr size_t kSize = 16 << 20;
    void* p = ::mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      return 2;
    }
    std::memset(p, 0x5a, kSize);
    // Burn 100 ms of CPU time (not wall time: the machine is shared), measured from after
    // joining the cgroup, and report it.
    auto cpu_ns = [] {
      timespec ts;
      ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
      return static_cast<uint64_t>(ts.tv_sec) * 1000000000 + static_cast<uint64_t>(ts.tv_nsec);
    };
    uint64_t start = cpu_ns();
    uint64_t used = 0;
    volatile uint64_t spin = 0;
    while ((used = cpu_ns() - start) < 100 * 1000 * 1000) {
      spin = spin + 1;
    }
    if (::write(ready_fd, &used, sizeof used) != sizeof used) {
      return 3;
    }
    ::pause();
    return 0;
  });
  ready->write.reset();
  ASSERT_TRUE(m.add_process(c.pid));
  this->go(c);
  uint64_t child_cpu_ns = 0;
  ASSERT_EQ(::read(ready->read.get(), &child_cpu_ns, sizeof child_cpu_ns),
            static_cast<ssize_t>(sizeof child_cpu_ns));
  auto s = m.stats();
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_GE(s->memory_usage, uint64_t{16} << 20);
  EXPECT_GE(s->memory_max_usage, s->memory_usage);
  EXPECT_GE(s->cpu_usage_ns, child_cpu_ns);
  EXPECT_GT(s->cpu_user_ns + s->cpu_system_ns, 0u);
  EXPECT_EQ(s->pids_current, 1u);
  EXPECT_EQ(s->memory_limit, 0u);
  EXPECT_EQ(s->oom_events, 0u);
}

TYPED_TEST(RootCgroupTest, DeviceRulesDecideWhatAMemberOpens) {
  // v1: devices.allow/deny; v2: a BPF program. Either way the kernel says EPERM.
  Manager& m = this->make();
  spec::Resources r;
  spec::DeviceRule deny;
  deny.allow = false;
  spec::DeviceRule null;
  null.allow = true;
  null.type = "c";
  null.major = 1;
  null.minor = 3;
  r.devices = {deny, null};
  auto res = m.create(r);
  ASSERT_TRUE(res) << res.error().to_string();
  if (std::string(TypeParam::kName) == "V1") {
    EXPECT_EQ(read_trimmed(this->file("devices", "devices.list")), "c 1:3 rwm");
  }
  auto try_open = [&](const char* path) {
    Child c = this->spawn([path] { return ::open(path, O_RDWR) >= 0 ? 0 : errno; });
    EXPECT_TRUE(m.add_process(c.pid));
    this->go(c);
    int status = this->wait_status(c.pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  EXPECT_EQ(try_open("/dev/null"), 0);
  EXPECT_EQ(try_open("/dev/full"), EPERM);
}

TYPED_TEST(RootCgroupTest, AddedChildAppearsInPids) {
  Manager& m = this->make();
  ASSERT_TRUE(m.create({}));
  Child c = this->spawn([] { return 0; });
  auto added = m.add_process(c.pid);
  ASSERT_TRUE(added) << added.error().to_string();
  auto pids = m.pids();
  ASSERT_TRUE(pids) << pids.error().to_string();
  EXPECT_EQ(*pids, std::vector<pid_t>{c.pid});
  EXPECT_NE(read_trimmed(fmt::format("/proc/{}/cgroup", c.pid)).find(this->rel_),
            std::string::npos);
  EXPECT_EQ(m.stats()->pids_current, 1u);
  this->go(c);
  int status = this->wait_status(c.pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_TRUE(eventually([&] { return m.pids()->empty(); }));
}

TYPED_TEST(RootCgroupTest, MemoryHogIsOomKilledAndCounted) {
  Manager& m = this->make();
  spec::Resources r;
  r.memory = spec::Memory{};
  r.memory->limit = 32 << 20;
  r.memory->swap = 32 << 20;  // no swap either: the hog must be killed, not swapped out
  auto res = m.create(r);
  ASSERT_TRUE(res) << res.error().to_string();
  Child c = this->spawn([] {
    constexpr size_t kChunk = 1 << 20;
    for (int i = 0; i < 512; ++i) {
      void* p = ::mmap(nullptr, kChunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) {
        return 2;
      }
      std::memset(p, 0xa5, kChunk);
    }
    return 0;  // 512 MiB touched: the limit did not hold
  });
  ASSERT_TRUE(m.add_process(c.pid));
  this->go(c);
  int status = this->wait_status(c.pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "exit status " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  auto s = m.stats();
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_GE(s->oom_events, 1u);
  EXPECT_GT(s->memory_max_usage, uint64_t{16} << 20);
}

TYPED_TEST(RootCgroupTest, PidsLimitMakesForkFailWithEagain) {
  Manager& m = this->make();
  spec::Resources r;
  r.pids = spec::Pids{5};
  ASSERT_TRUE(m.create(r));
  auto report = base::make_pipe();
  ASSERT_TRUE(report);
  int report_fd = report->write.get();
  Child c = this->spawn([report_fd] {
    std::vector<pid_t> kids;
    int err = 0;
    for (int i = 0; i < 10; ++i) {
      pid_t p = ::fork();
      if (p == 0) {
        ::pause();
        ::_exit(0);
      }
      if (p < 0) {
        err = errno;
        break;
      }
      kids.push_back(p);
    }
    for (pid_t p : kids) {
      ::kill(p, SIGKILL);
      ::waitpid(p, nullptr, 0);
    }
    int msg[2] = {static_cast<int>(kids.size()), err};
    return ::write(report_fd, msg, sizeof msg) == sizeof msg ? 0 : 3;
  });
  report->write.reset();
  ASSERT_TRUE(m.add_process(c.pid));
  this->go(c);
  int msg[2] = {-1, -1};
  ASSERT_EQ(::read(report->read.get(), msg, sizeof msg), static_cast<ssize_t>(sizeof msg));
  int status = this->wait_status(c.pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(msg[0], 4) << "forks that succeeded (the forker is the fifth task)";
  EXPECT_EQ(msg[1], EAGAIN) << std::strerror(msg[1]);
}

TYPED_TEST(RootCgroupTest, FreezeStopsAChildAndThawResumesIt) {
  Manager& m = this->make();
  ASSERT_TRUE(m.create({}));
  void* mem = ::mmap(nullptr, sizeof(std::atomic<uint64_t>), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mem, MAP_FAILED);
  auto* counter = new (mem) std::atomic<uint64_t>(0);
  Child c = this->spawn([counter] {
    for (;;) {
      counter->fetch_add(1, std::memory_order_relaxed);
    }
    return 0;
  });
  ASSERT_TRUE(m.add_process(c.pid));
  this->go(c);
  ASSERT_TRUE(eventually([&] { return counter->load() > 0; }));
  auto frozen = m.freeze();
  ASSERT_TRUE(frozen) << frozen.error().to_string();
  EXPECT_TRUE(*m.is_frozen());
  uint64_t at_freeze = counter->load();
  // Proving that nothing happens takes a wait; 100 ms is thousands of loop rounds.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(counter->load(), at_freeze);
  ASSERT_TRUE(m.thaw());
  EXPECT_FALSE(*m.is_frozen());
  EXPECT_TRUE(eventually([&] { return counter->load() > at_freeze; }));
  ::munmap(mem, sizeof(std::atomic<uint64_t>));
}

TYPED_TEST(RootCgroupTest, ImpossibleCpusetFailsAndLeavesNothing) {
  Manager& m = this->make();
  spec::Resources r;
  r.cpu = spec::Cpu{};
  r.cpu->cpus = "99";
  auto res = m.create(r);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code(), ErrorCode::InvalidArgument) << res.error().to_string();
  EXPECT_NE(res.error().to_string().find("cgroup `cpuset.cpus` = `99`: "), std::string::npos)
      << res.error().to_string();
  for (const std::string& d : this->all_dirs()) {
    EXPECT_FALSE(is_dir(d)) << d;
  }
}

TYPED_TEST(RootCgroupTest, ImpossibleCpuQuotaFailsAndLeavesNothing) {
  Manager& m = this->make();
  spec::Resources r;
  r.cpu = spec::Cpu{};
  r.cpu->quota = 500;  // below the kernel's 1 ms minimum
  auto res = m.create(r);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code(), ErrorCode::InvalidArgument) << res.error().to_string();
  EXPECT_NE(res.error().to_string().find("` = `500"), std::string::npos) << res.error().to_string();
  EXPECT_NE(res.error().to_string().find("Invalid argument"), std::string::npos);
  for (const std::string& d : this->all_dirs()) {
    EXPECT_FALSE(is_dir(d)) << d;
  }
}

TYPED_TEST(RootCgroupTest, KillAllEmptiesTheCgroupAndDestroyRemovesEveryDir) {
  Manager& m = this->make();
  ASSERT_TRUE(m.create({}));
  // A child with grandchildren: kill_all must get them all, whoever their parent is.
  Child c = this->spawn([] {
    for (int i = 0; i < 3; ++i) {
      if (::fork() == 0) {
        ::pause();
        ::_exit(0);
      }
    }
    ::pause();
    return 0;
  });
  ASSERT_TRUE(m.add_process(c.pid));
  this->go(c);
  ASSERT_TRUE(eventually([&] { return m.pids()->size() == 4; }));
  // No reaping first: the kernel drops a task from cgroup.procs when it exits, zombie or not.
  auto killed = m.kill_all();
  ASSERT_TRUE(killed) << killed.error().to_string();
  int status = this->wait_status(c.pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  EXPECT_TRUE(m.pids()->empty());
  auto destroyed = m.destroy();
  ASSERT_TRUE(destroyed) << destroyed.error().to_string();
  for (const std::string& d : this->all_dirs()) {
    EXPECT_FALSE(is_dir(d)) << d;
  }
  EXPECT_TRUE(m.destroy());  // idempotent
}

TYPED_TEST(RootCgroupTest, DestroyWithALiveProcessIsConflict) {
  Manager& m = this->make(std::chrono::milliseconds(200));
  ASSERT_TRUE(m.create({}));
  Child c = this->spawn([] { return 0; });
  ASSERT_TRUE(m.add_process(c.pid));
  auto r = m.destroy();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::Conflict) << r.error().to_string();
  // TearDown kills the child and removes the dirs.
}

}  // namespace
}  // namespace mydocker::runtime::cgroups
