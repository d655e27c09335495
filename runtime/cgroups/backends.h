// SPDX-License-Identifier: Apache-2.0
// Internal to runtime/cgroups: the two Manager implementations and what they share.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/cgroups/manager.h"

namespace mydocker::runtime::cgroups {

// `rel` is the normalised cgroups path: components joined by '/', no leading '/'.
std::unique_ptr<Manager> make_v1_manager(const Layout& layout, const std::string& rel,
                                         Options options);
std::unique_ptr<Manager> make_v2_manager(const Layout& layout, const std::string& rel,
                                         Options options);

// SIGKILLs what `list` returns until it returns nothing (a process may fork while we kill,
// so one round is not enough). `after_first_round` runs once the first signals are out (v1
// thaws there: a frozen task only dies once thawed). Unavailable when processes remain after
// the timeout.
base::Result<void> kill_until_empty(const std::string& what,
                                    const std::function<base::Result<std::vector<pid_t>>()>& list,
                                    const std::function<base::Result<void>()>& after_first_round,
                                    std::chrono::milliseconds timeout);

// A file's single number; nullopt when the file is missing. InvalidArgument on junk.
base::Result<std::optional<uint64_t>> read_number(const std::string& path);
// A limit file ("max" or LLONG_MAX-ish -> 0); nullopt when missing.
base::Result<std::optional<uint64_t>> read_limit(const std::string& path);
// A keyed file (parse_keyed); empty when missing.
base::Result<std::map<std::string, uint64_t>> read_keyed(const std::string& path);

}  // namespace mydocker::runtime::cgroups
