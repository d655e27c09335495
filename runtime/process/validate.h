// SPDX-License-Identifier: Apache-2.0
// Checks made BEFORE clone(2), so that a request the host cannot grant fails with a precise
// message and nothing created (runc and podman only get a bare EPERM from deep inside the
// init). The host facts come in as data so the checks are unit-testable.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "runtime/base/error.h"
#include "runtime/spec/spec.h"

namespace mydocker::runtime::process {

struct HostLimits {
  std::vector<int> bounding_set;        // capabilities the runtime may hand out
  bool has_sys_resource = false;        // CAP_SYS_RESOURCE in our effective set
  std::map<int, uint64_t> hard_limits;  // RLIMIT_* -> our hard limit
};

// The calling process's facts (bounding set, CapEff, getrlimit of every RLIMIT_*).
HostLimits current_host_limits();

// PermissionDenied naming the field and the value:
//   process.capabilities.permitted: capability `CAP_SYS_RESOURCE` is not in the host's
//   bounding set
//   process.rlimits: rlimit `RLIMIT_NOFILE`: hard 1048576 exceeds the host's hard limit 20000
//   and raising it needs CAP_SYS_RESOURCE
base::Result<void> validate_process(const spec::Process& process, const HostLimits& host);

}  // namespace mydocker::runtime::process
