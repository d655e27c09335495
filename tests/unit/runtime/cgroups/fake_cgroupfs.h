// SPDX-License-Identifier: Apache-2.0
// Plain directory trees shaped like cgroupfs, standing in for the kernel in unit tests:
// V1Fake (a mount per controller) and V2Fake (one unified mount). Through Options'
// *_for_test seams they fill each new cgroup dir with the control files the kernel would
// create, and refuse rmdir (EBUSY) while cgroup.procs lists a process, as the kernel does.
#pragma once

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "runtime/cgroups/manager.h"

namespace mydocker::runtime::cgroups::fake {

void put(const std::string& path, const std::string& text);
std::string get(const std::string& path);  // trimmed; "<missing>" when absent
bool is_dir(const std::string& path);

class V1Fake {
 public:
  static constexpr const char* kName = "V1";
  explicit V1Fake(std::string root);
  Layout layout() const;
  Options options();
  // The path of `file` in the cgroup `rel` of `controller`'s hierarchy.
  std::string path(const std::string& controller, const std::string& rel,
                   const std::string& file) const;
  void populate(const std::string& dir);
  void start_kernel(const std::string&) {}

  // Files a test wants made directories instead (writing them then fails with EISDIR).
  std::vector<std::string> broken_files;
  // Expected names and values for the shared tests.
  static constexpr const char* kMemoryLimitFile = "memory.limit_in_bytes";
  static constexpr const char* kSharesFile = "cpu.shares";
  static constexpr const char* kShares512 = "512";
  void write_stats_fixtures(const std::string& rel);
  std::vector<std::string> controllers_without(const std::string& controller) const;

 private:
  std::string root_;
};

class V2Fake {
 public:
  static constexpr const char* kName = "V2";
  explicit V2Fake(std::string root);
  ~V2Fake();
  Layout layout() const;
  Options options();
  std::string path(const std::string& controller, const std::string& rel,
                   const std::string& file) const;
  void populate(const std::string& dir);
  // Mirrors cgroup.freeze into cgroup.events, as the kernel does, until destruction.
  void start_kernel(const std::string& dir);

  std::vector<std::string> broken_files;
  static constexpr const char* kMemoryLimitFile = "memory.max";
  static constexpr const char* kSharesFile = "cpu.weight";
  static constexpr const char* kShares512 = "20";
  void write_stats_fixtures(const std::string& rel);

 private:
  std::string root_;
  std::atomic<bool> stop_{false};
  std::thread kernel_;
};

}  // namespace mydocker::runtime::cgroups::fake
