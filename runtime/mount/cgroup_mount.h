// SPDX-License-Identifier: Apache-2.0
// Internal to runtime/mount: the spec's `cgroup`/`cgroup2` mount (/sys/fs/cgroup).
//
// The container sees the host's layout, limited to its own cgroups:
//   v1/hybrid host, type cgroup:  a tmpfs at the destination, and under it one entry per host
//                                 hierarchy (cpu, memory, ..., systemd, unified), named as on
//                                 the host; "cpu,cpuacct" co-mounts get per-controller symlinks
//   v2 host, or type cgroup2:     the unified hierarchy at the destination
// Each hierarchy is a fresh cgroupfs mount when the container has a cgroup namespace (the
// kernel roots it at the namespace's cgroup), else a bind of the process's own cgroup directory
// of the host (as runc). ro/nosuid/nodev/noexec apply to every one of them.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/base/error.h"
#include "runtime/mount/rootfs.h"

namespace mydocker::runtime::mount {

struct CgroupEntry {
  std::string destination;  // inside the rootfs: /sys/fs/cgroup/memory
  std::string fstype;       // "cgroup" / "cgroup2": a fresh mount; "bind": of `source`
  std::string source;       // bind: the host directory of the process's cgroup
  std::string data;         // fresh v1 mount: the controllers ("cpu", "name=systemd")
};

struct CgroupLayout {
  bool tmpfs = false;  // a tmpfs at the op's destination holds the entries (v1/hybrid)
  std::vector<CgroupEntry> entries;
  std::vector<std::pair<std::string, std::string>> symlinks;  // name -> target, in the tmpfs
};

// Pure: from this process's /proc/self/mountinfo and /proc/self/cgroup text (the host's view,
// before pivot_root). FailedPrecondition when the host has no cgroup hierarchy mounted.
base::Result<CgroupLayout> plan_cgroup_layout(std::string_view mountinfo,
                                              std::string_view proc_cgroup, const MountOp& op,
                                              bool in_cgroupns);

// `root` is the rootfs directory fd; `op.type` is "cgroup" or "cgroup2". `in_cgroupns`: the
// process is in a cgroup namespace of its own (spec.linux.namespaces has `cgroup`).
base::Result<void> mount_cgroup(int root, const MountOp& op, bool in_cgroupns);

}  // namespace mydocker::runtime::mount
