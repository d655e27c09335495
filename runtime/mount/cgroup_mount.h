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

#include "runtime/base/error.h"
#include "runtime/mount/rootfs.h"

namespace mydocker::runtime::mount {

// `root` is the rootfs directory fd; `op.type` is "cgroup" or "cgroup2". `in_cgroupns`: the
// process is in a cgroup namespace of its own (spec.linux.namespaces has `cgroup`).
base::Result<void> mount_cgroup(int root, const MountOp& op, bool in_cgroupns);

}  // namespace mydocker::runtime::mount
