// SPDX-License-Identifier: Apache-2.0
// Capability names <-> numbers, with no libcap and no spec dependency.
//
// This lives in its own target (mydocker::runtime_caps_names, base only) so that
// runtime/spec can validate capability names while runtime/caps (which applies a
// spec::Capabilities and so links runtime_spec) stays above it: no cycle, one table.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mydocker::runtime::caps {

// The highest capability this build knows by name (CAP_CHECKPOINT_RESTORE, Linux 5.9).
inline constexpr int kLastKnownCap = 40;

// "CAP_SYS_ADMIN" -> 21; nullopt for unknown names. Case-sensitive, as the OCI spec.
std::optional<int> from_name(std::string_view name);
// 21 -> "CAP_SYS_ADMIN"; a number this build has no name for is returned as decimal ("41").
std::string to_name(int cap);

}  // namespace mydocker::runtime::caps
