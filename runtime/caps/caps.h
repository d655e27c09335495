// SPDX-License-Identifier: Apache-2.0
// Capability names and the five capability sets (libcap).
//
// Names (from_name, to_name) are declared in runtime/caps/names.h, a base-only target that
// runtime/spec also links to validate names; this header re-exports them.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/error.h"
#include "runtime/caps/names.h"
#include "runtime/spec/spec.h"

namespace mydocker::runtime::caps {

// The highest capability the running kernel knows (/proc/sys/kernel/cap_last_cap).
int last_cap();
// Capabilities in the calling process's bounding set (what a privileged container may get).
std::vector<int> host_bounding_set();

// Applies all five sets to the calling process. Call after setuid/setgid with PR_SET_KEEPCAPS
// set (the caller's job); the permitted set must still hold CAP_SETPCAP (apply() raises its
// own effective set first, so a setuid that cleared the effective set is fine).
//
// Order: bounding (drop everything not listed), then inheritable/permitted/effective
// (capset), then ambient (cleared, then raised). Errors:
//  - PermissionDenied naming the first capability, in any set, that the calling process's
//    bounding set lacks: "capability `CAP_SYS_RESOURCE` (process.capabilities.permitted)
//    is not in the host's bounding set, so it cannot be granted";
//  - InvalidArgument for an unknown name or an effective capability missing from permitted
//    (the kernel refuses that capset);
//  - the errno of a failing prctl/capset otherwise.
// Ambient capabilities that are not both permitted and inheritable are skipped: the kernel
// refuses to raise them, and runc only warns (its `runc spec` lists ambient caps without
// inheritable ones), so bundles written for runc keep working.
base::Result<void> apply(const spec::Capabilities& caps);

}  // namespace mydocker::runtime::caps
