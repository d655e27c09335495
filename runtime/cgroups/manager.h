// SPDX-License-Identifier: Apache-2.0
// Cgroups behind one interface: v1 (one hierarchy per controller), v2 (unified), and hybrid
// hosts (v1 controllers plus a cgroup2 mount, like this one: managed as v1; the cgroup2 mount
// is left alone).
//
// Roots are parameters: detect() reads a mountinfo file (and, under `root_prefix`, the cgroup2
// mount's cgroup.controllers), and tests pass a Layout whose mounts are temp dirs shaped like
// cgroupfs, so every file write is unit-testable without root.
//
// Lifecycle: make_manager() -> create(resources) -> add_process(pid) ... -> destroy().
// create() rolls back the directories it made if any step fails. destroy() removes the
// cgroup's directories (and any sub-cgroups below them); it fails with Conflict while
// processes remain. Directories above the leaf (`/mydocker` of `/mydocker/<id>`) are shared
// between containers and stay. Not thread-safe.
//
// On-disk layout (cgroups_path `/mydocker/web`):
//   v1:  /sys/fs/cgroup/memory/mydocker/web/    one dir per mounted hierarchy
//        /sys/fs/cgroup/cpu/mydocker/web/       (co-mounted cpu,cpuacct share one)
//        /sys/fs/cgroup/systemd/mydocker/web/   (named hierarchies too)
//   v2:  /sys/fs/cgroup/mydocker/web/           controllers enabled in every parent's
//                                               cgroup.subtree_control
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
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

// Reads mountinfo (default /proc/self/mountinfo) and classifies the host:
//   V1     cgroup (v1) mounts only;
//   Hybrid v1 controller mounts plus a cgroup2 mount whose cgroup.controllers has none of
//          memory, cpu, pids (empty, or a spare like hugetlb as on this host);
//   V2     a cgroup2 mount and no v1 controller mount (a v1 `name=` hierarchy alone does not
//          count: it carries no controller), or a cgroup2 mount holding memory, cpu or pids
//          next to stray v1 mounts (net_cls mounted by some tool), which are then ignored.
// Mount points in the result are prefixed with `root_prefix`, and cgroup.controllers is read
// there (tests point it at a temp tree; mountinfo itself always names host paths).
// FailedPrecondition when no cgroup fs is mounted.
base::Result<Layout> detect(const std::string& mountinfo_path = "/proc/self/mountinfo",
                            const std::string& root_prefix = "");

// One cgroup mount as mountinfo describes it.
struct CgroupMount {
  std::string mount_point;               // unescaped (`\040` -> ' ')
  std::string root;                      // the mount's root inside the hierarchy
  bool v2 = false;                       // cgroup2
  std::vector<std::string> controllers;  // v1: from the super options, "name=systemd" kept
};
// Pure: the cgroup and cgroup2 lines of a mountinfo text. Malformed lines are skipped (the
// kernel writes this file; a line we cannot read is not ours to judge).
std::vector<CgroupMount> parse_mountinfo(std::string_view text);

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

  // Makes the cgroup (all hierarchies) and applies the resources. An existing directory is
  // joined, not an error (and not removed on rollback). Values the kernel refuses fail with
  // InvalidArgument naming the file and value (`cgroup `memory.limit_in_bytes` = `12`:
  // Invalid argument`); a controller the spec needs but the host lacks is FailedPrecondition.
  // v2 device rules become a BPF program attached to the cgroup (devices_bpf.h).
  // On any failure the directories create() made are removed again. v1 hierarchies without a
  // controller (name=systemd) are best effort in create() and add_process().
  virtual base::Result<void> create(const spec::Resources& resources) = 0;
  // Moves the process (all its threads) into the cgroup. NotFound when it has gone.
  virtual base::Result<void> add_process(pid_t pid) = 0;
  // Applies the resources to the existing cgroup (no rollback: the kernel applies each file
  // on its own; the first refused value stops the update and is reported).
  virtual base::Result<void> update(const spec::Resources& resources) = 0;
  // Freezes/thaws every process of the cgroup; returns once the kernel says FROZEN/THAWED.
  // Unavailable when the kernel does not get there within Options::timeout (a freeze is then
  // undone). FailedPrecondition on v1 hosts without the freezer hierarchy.
  virtual base::Result<void> freeze() = 0;
  virtual base::Result<void> thaw() = 0;
  virtual base::Result<bool> is_frozen() = 0;
  // Missing files (a controller not mounted, a kernel without memory.peak) read as 0.
  virtual base::Result<Stats> stats() = 0;
  // Every process in the cgroup (v1: the union over all hierarchies), sorted.
  virtual base::Result<std::vector<pid_t>> pids() = 0;
  // SIGKILLs every process left in the cgroup (for delete --force) and waits (up to
  // Options::timeout) until none is listed. The caller need not reap first: the kernel drops
  // a task from cgroup.procs when it exits, zombie or not. A frozen v1 cgroup is thawed (its
  // tasks only die once they run). Unavailable when processes remain after the timeout.
  virtual base::Result<void> kill_all() = 0;
  // Removes the directories; a missing directory is fine (idempotent).
  virtual base::Result<void> destroy() = 0;
  // Every directory the manager owns (v1: one per hierarchy), for tests and leak checks.
  virtual std::vector<std::string> dirs() const = 0;
};

struct Options {
  // How long freeze/thaw, kill_all and destroy (EBUSY retries) wait for the kernel.
  std::chrono::milliseconds timeout{5000};
  // Seams for a plain directory tree standing in for cgroupfs: the kernel fills a new cgroup
  // directory with its control files, and rmdir()s a cgroup directory that still holds them.
  // Production code leaves both empty.
  std::function<void(const std::string& dir)> populate_for_test;
  std::function<base::Result<void>(const std::string& dir)> rmdir_for_test;
};

// cgroups_path: the spec's linux.cgroupsPath ("/mydocker/<id>" style). Relative and absolute
// paths alike are taken relative to each hierarchy's root. InvalidArgument when empty (the
// caller chooses the default) or when a component is `..` (a spec must not reach into other
// cgroups). Does not touch the filesystem.
base::Result<std::unique_ptr<Manager>> make_manager(const Layout& layout,
                                                    const std::string& cgroups_path,
                                                    Options options = {});

// crun's conversion from v1 cpu.shares [2, 262144] to v2 cpu.weight [1, 10000]; out-of-range
// shares are clamped first. 0 (unset) maps to 0.
uint64_t shares_to_weight(uint64_t shares);

}  // namespace mydocker::runtime::cgroups
