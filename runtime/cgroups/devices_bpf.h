// SPDX-License-Identifier: Apache-2.0
// cgroup v2 has no devices.allow/deny files: device access is decided by a
// BPF_PROG_TYPE_CGROUP_DEVICE program attached to the cgroup directory. This file turns the
// spec's rules into that program (pure, testable) and loads/attaches it (needs CAP_BPF or
// CAP_SYS_ADMIN and a cgroup2 directory).
//
// Semantics follow v1's devices list, which runc and crun also emulate:
//   - rules apply in order, a later rule overriding an earlier one: the program checks them
//     last to first and the first that matches decides;
//   - a type `a` rule resets everything (v1 ignores its numbers and access), so rules before
//     the last `a` rule cannot matter and are left out;
//   - no matching rule: allow (a new v1 cgroup inherits its parent's allow-all), so a list
//     meant to restrict starts with a deny-all, as every runtime's default does;
//   - an allow rule matches when it grants every access asked for (r, w, m); a deny rule
//     matches when it forbids any of them.
#pragma once

#include <linux/bpf.h>

#include <string>
#include <vector>

#include "runtime/base/error.h"
#include "runtime/base/fd.h"
#include "runtime/spec/spec.h"

namespace mydocker::runtime::cgroups::bpf {

// InvalidArgument naming the rule for a bad type or access string.
base::Result<std::vector<bpf_insn>> device_program(const std::vector<spec::DeviceRule>& rules);

// BPF_PROG_LOAD. The verifier's log is in the error when the kernel refuses the program.
base::Result<base::Fd> load_device_program(const std::vector<bpf_insn>& program);

// Attaches `program` to the cgroup2 directory (BPF_F_ALLOW_MULTI, as systemd does) and then
// detaches the device programs attached there before, so update() replaces the rules.
base::Result<void> attach_device_program(const std::string& cgroup_dir, const base::Fd& program);

}  // namespace mydocker::runtime::cgroups::bpf
