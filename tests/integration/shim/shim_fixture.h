// SPDX-License-Identifier: Apache-2.0
// The fixture of the mydocker-shim integration tests: a busybox bundle per test, spawn() of
// the real binary, and a TearDown that proves nothing is left: no runtime state, no cgroup,
// no child process.
#pragma once

#include <dirent.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <vector>

#include "engine/logs/json_file.h"
#include "engine/shim/proto.h"
#include "engine/shim/spawn.h"
#include "runtime/base/file.h"
#include "runtime/spec/spec.h"
#include "runtime/state/container.h"
#include "tests/support/busybox_rootfs.h"
#include "tests/support/cgroup_cleanup.h"
#include "tests/support/poll.h"
#include "tests/support/require.h"

namespace mydocker::engine::shim::shim_test {

using mydocker::testing::Need;
using mydocker::testing::TempDir;
namespace testing = mydocker::testing;

inline constexpr const char* kCgroupParent = "mydocker-shim-test";

inline std::set<std::string> cgroup_dirs_of(const std::string& id) {
  std::set<std::string> found;
  for (const auto& name : testing::list_dir("/sys/fs/cgroup")) {
    std::string dir = "/sys/fs/cgroup/" + name + "/" + kCgroupParent + "/" + id;
    if (::access(dir.c_str(), F_OK) == 0) {
      found.insert(dir);
    }
  }
  return found;
}

// Pids whose parent is this process (zombies included).
inline std::vector<pid_t> children_of_self() {
  std::vector<pid_t> out;
  for (const auto& name : testing::list_dir("/proc")) {
    pid_t pid = static_cast<pid_t>(std::atoi(name.c_str()));
    if (pid <= 0) {
      continue;
    }
    auto stat = base::read_file("/proc/" + name + "/stat");
    if (!stat) {
      continue;
    }
    size_t close = stat->rfind(')');
    if (close == std::string::npos) {
      continue;
    }
    int ppid = 0;
    char state;
    if (std::sscanf(stat->c_str() + close + 2, "%c %d", &state, &ppid) == 2 && ppid == ::getpid()) {
      out.push_back(pid);
    }
  }
  return out;
}

inline double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

class RootShimTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MYDOCKER_REQUIRE(Need::Root, Need::CgroupV1);
    // The shims' parent may die (one test makes it so): they come to us, and we reap them.
    ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
    bundle_ = tmp_.path() + "/bundle";
    runtime_root_ = tmp_.path() + "/runtime";
    state_dir_ = tmp_.path() + "/state";
    ASSERT_EQ(::mkdir(bundle_.c_str(), 0755), 0);
    testing::copy_rootfs(bundle_);
    static int n = 0;
    id_ = "shim-" + std::to_string(::getpid()) + "-" + std::to_string(++n);
    ready_ = true;
  }

  void TearDown() override {
    if (!ready_) {
      return;
    }
    // Whatever a failed test left running goes, then everything must be gone.
    if (auto c = runtime::Container::load(runtime_root_, id_)) {
      (void)c->kill(SIGKILL, true);
    }
    for (pid_t pid : spawned_) {
      if (::kill(pid, 0) == 0) {
        wait_pid_exit(pid, std::chrono::seconds(10));
      }
    }
    if (auto c = runtime::Container::load(runtime_root_, id_)) {
      (void)c->destroy(true);
      ADD_FAILURE() << "the shim left the runtime container behind";
    }
    EXPECT_FALSE(base::path_exists(runtime_root_ + "/" + id_)) << "runtime state dir left";
    EXPECT_EQ(cgroup_dirs_of(id_), std::set<std::string>{}) << "cgroup dirs left";
    EXPECT_EQ(children_of_self(), std::vector<pid_t>{}) << "processes left";
  }

  // Blocks until `pid` (our child, directly or as subreaper) exits, and reaps it.
  void wait_pid_exit(pid_t pid, std::chrono::milliseconds timeout) {
    bool gone = testing::poll_until(
        [&] {
          int status;
          return ::waitpid(pid, &status, WNOHANG) == pid;
        },
        timeout);
    if (!gone) {
      ::kill(pid, SIGKILL);
      int status;
      ::waitpid(pid, &status, 0);
      ADD_FAILURE() << "pid " << pid << " did not exit";
    }
  }

  void write_spec(const std::vector<std::string>& args,
                  const std::function<void(nlohmann::json&)>& edit = {}) {
    nlohmann::json j = nlohmann::json::parse(runtime::spec::default_spec_json(false));
    j["root"]["path"] = bundle_ + "/rootfs";
    j["root"]["readonly"] = false;
    j["process"]["args"] = args;
    j["process"]["terminal"] = false;
    j["linux"]["cgroupsPath"] = std::string("/") + kCgroupParent + "/" + id_;
    if (edit) {
      edit(j);
    }
    std::ofstream(bundle_ + "/config.json") << j.dump(2);
  }

  ShimConfig config() const {
    ShimConfig c;
    c.id = id_;
    c.bundle = bundle_;
    c.runtime_root = runtime_root_;
    c.state_dir = state_dir_;
    c.log_path = state_dir_ + "/" + id_ + "-json.log";
    return c;
  }

  base::Result<Shim> spawn_shim(const ShimConfig& c) {
    auto s = spawn(MYDOCKER_SHIM_BIN, c, std::chrono::seconds(20));
    if (s) {
      spawned_.push_back(s->pid());
    }
    return s;
  }

  // With connections the shim inherits (config.attaches[i] describes conns[i]).
  base::Result<Shim> spawn_shim(const ShimConfig& c, std::vector<base::Fd> conns) {
    auto s = spawn(MYDOCKER_SHIM_BIN, c, std::chrono::seconds(20), std::move(conns));
    if (s) {
      spawned_.push_back(s->pid());
    }
    return s;
  }

  // What the daemon sends for an exec: the container's process with other args.
  nlohmann::json exec_process(const std::vector<std::string>& args, bool tty = false) {
    auto text = base::read_file(bundle_ + "/config.json");
    EXPECT_TRUE(text.has_value());
    nlohmann::json p = nlohmann::json::parse(text ? *text : "{}")["process"];
    p["args"] = args;
    p["terminal"] = tty;
    return p;
  }

  // Waits for the shim's exit through its pidfd, reaps it, returns exit.json.
  ExitStatus wait_shim(Shim& s) {
    pollfd p{s.pidfd().get(), POLLIN, 0};
    EXPECT_EQ(::poll(&p, 1, 20000), 1) << "the shim did not exit";
    s.reap();
    EXPECT_NE(::kill(s.pid(), 0), 0) << "the shim was not reaped";
    auto e = read_exit(state_dir_);
    EXPECT_TRUE(e.has_value()) << e.error().to_string();
    return e ? *e : ExitStatus{-1, "", false};
  }

  std::vector<logs::Entry> log_entries() {
    std::vector<logs::Entry> out;
    auto r = logs::read_all(config().log_path, {}, [&](const logs::Entry& e) {
      out.push_back(e);
      return true;
    });
    EXPECT_TRUE(r.has_value());
    return out;
  }

  std::string log_text() {
    std::string s;
    for (const auto& e : log_entries()) {
      s += e.log;
    }
    return s;
  }

  TempDir tmp_;
  std::string bundle_;
  std::string runtime_root_;
  std::string state_dir_;
  std::string id_;
  std::vector<pid_t> spawned_;
  bool ready_ = false;
};

}  // namespace mydocker::engine::shim::shim_test
