// SPDX-License-Identifier: Apache-2.0
// Cgroups behind one interface: v1 (one hierarchy per controller), v2 (unified), and hybrid
// hosts (v1 controllers plus an empty cgroup2 mount, like this one: treated as v1).
//
// Roots are parameters: detect() reads a mountinfo file and tests pass a temp dir shaped like
// cgroupfs, so every file write is unit-testable without root.
//
// Lifecycle: make_manager() -> create(resources) -> add_process(pid) ... -> destroy().
// create() rolls back what it made if a write fails. destroy() removes every directory
// create() made (it fails with Conflict while processes remain). Not thread-safe.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/base/error.h"
#include "runtime/spec/spec.h"

namespace mydocker::runtime::cgroups {

enum class Mode { V1, Hybrid, V2 };

struct Layout {
  Mode mode = Mode::V1;
  // v1/hybrid: controller name ("memory", "cpu", "cpuacct", "pids", "name=systemd", ...) ->
  // mount point. Co-mounted controllers ("cpu,cpuacct") appear under each name.
  std::map<std::string, std::string> v1_mounts;
  // v2 (or hybrid's unified mount): the cgroup2 mount point; empty when none.
  std::string unified_mount;
};

// Reads mountinfo (default /proc/self/mountinfo). FailedPrecondition when no cgroup fs is found.
base::Result<Layout> detect(const std::string& mountinfo_path = "/proc/self/mountinfo");

struct Stats {
  uint64_t memory_usage = 0;      // bytes
  uint64_t memory_max_usage = 0;  // bytes (v1 max_usage_in_bytes; v2 memory.peak if present)
  uint64_t memory_limit = 0;      // bytes; 0 = unlimited
  uint64_t oom_events = 0;        // times the OOM killer killed in this cgroup
  uint64_t cpu_usage_ns = 0;
  uint64_t cpu_user_ns = 0;
  uint64_t cpu_system_ns = 0;
  uint64_t pids_current = 0;
  uint64_t pids_limit = 0;  // 0 = unlimited
};

class Manager {
 public:
  virtual ~Manager() = default;

  // Makes the cgroup (all controllers) and applies the resources. Values the kernel refuses
  // fail with InvalidArgument naming the file and value (`memory.limit_in_bytes` = `12`).
  virtual base::Result<void> create(const spec::Resources& resources) = 0;
  virtual base::Result<void> add_process(pid_t pid) = 0;
  virtual base::Result<void> update(const spec::Resources& resources) = 0;
  // Freezes/thaws every process of the cgroup; returns once the kernel says FROZEN/THAWED.
  virtual base::Result<void> freeze() = 0;
  virtual base::Result<void> thaw() = 0;
  virtual base::Result<bool> is_frozen() = 0;
  virtual base::Result<Stats> stats() = 0;
  virtual base::Result<std::vector<pid_t>> pids() = 0;
  // SIGKILLs every process left in the cgroup (for delete --force).
  virtual base::Result<void> kill_all() = 0;
  // Removes the directories; a missing directory is fine (idempotent).
  virtual base::Result<void> destroy() = 0;
  // Every directory the manager owns (v1: one per hierarchy), for tests and leak checks.
  virtual std::vector<std::string> dirs() const = 0;
};

// cgroups_path: the spec's linux.cgroupsPath ("/mydocker/<id>" style, relative to each
// hierarchy's root). Does not touch the filesystem.
base::Result<std::unique_ptr<Manager>> make_manager(const Layout& layout,
                                                    const std::string& cgroups_path);

// crun's conversion from v1 cpu.shares [2, 262144] to v2 cpu.weight [1, 10000].
uint64_t shares_to_weight(uint64_t shares);

}  // namespace mydocker::runtime::cgroups
