// SPDX-License-Identifier: Apache-2.0
// Shared fixture of the runtime integration tests: a busybox bundle per test in a TempDir,
// --root in the same TempDir, the binary driven with fork/exec, and a TearDown that proves
// nothing was left behind (state dir, cgroup dirs, mounts of our namespace, fds, children).
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "tests/support/busybox_rootfs.h"
#include "tests/support/require.h"

namespace mydocker::testing {

struct CliResult {
  int code = -1;  // exit code (128 + signal when killed)
  std::string out;
  std::string err;
};

// Polls `cond` every millisecond-ish until true or the deadline passes.
bool eventually(const std::function<bool()>& cond,
                std::chrono::milliseconds deadline = std::chrono::seconds(10));

std::string read_text(const std::string& path);
std::set<std::string> cgroup_dirs_named(const std::string& leaf);
// Pids whose parent is this process (zombies included).
std::vector<pid_t> children_of_self();
int count_open_fds();

class RootRuntimeFixture : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // config.json from spec::default_spec_json(false), rootfs = <tmp>/bundle/rootfs, args as
  // given. `edit` changes it before it is written.
  void write_config(const std::vector<std::string>& args,
                    const std::function<void(nlohmann::json&)>& edit = {});
  std::string new_id();

  // Runs mydocker-runtime --root <root> args...; stdout/stderr captured through files (so a
  // container started by `create` may keep writing to them: see out_path()).
  CliResult cli(const std::vector<std::string>& args);
  // Starts the binary without waiting (for signal forwarding tests); output goes to files.
  pid_t cli_async(const std::vector<std::string>& args, const std::string& out_file);
  int wait_exit(pid_t pid);

  // The stdout file of the last cli() call (the container's stdout after `create`).
  const std::string& last_out_path() const { return last_out_; }

  std::string bundle_;
  std::string root_;
  std::vector<std::string> ids_;  // deleted (forced) in TearDown
  TempDir tmp_;

 private:
  std::string mountinfo_before_;
  int fds_before_ = 0;
  int calls_ = 0;
  std::string last_out_;
};

}  // namespace mydocker::testing
