// SPDX-License-Identifier: Apache-2.0
// Capability names and the five capability sets (libcap).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/error.h"
#include "runtime/spec/spec.h"

namespace mydocker::runtime::caps {

// "CAP_SYS_ADMIN" -> 21; nullopt for unknown names. Case-sensitive, as the OCI spec.
std::optional<int> from_name(std::string_view name);
// 21 -> "CAP_SYS_ADMIN".
std::string to_name(int cap);
// The highest capability the running kernel knows (/proc/sys/kernel/cap_last_cap).
int last_cap();
// Capabilities in the calling process's bounding set (what a privileged container may get).
std::vector<int> host_bounding_set();

// Applies all five sets to the calling process. Call after setuid/setgid with PR_SET_KEEPCAPS
// set (the caller's job). A capability missing from the host's bounding set fails with
// PermissionDenied naming it: "capability `CAP_SYS_RESOURCE` (process.capabilities.bounding)
// is not in the host's bounding set, so it cannot be granted".
base::Result<void> apply(const spec::Capabilities& caps);

}  // namespace mydocker::runtime::caps
