// SPDX-License-Identifier: Apache-2.0
// Internal to runtime/cgroups: the file and directory operations both managers share.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "runtime/base/error.h"
#include "runtime/cgroups/manager.h"

namespace mydocker::runtime::cgroups::fs {

// Writes one cgroup file (no O_CREAT: a missing file means the kernel lacks the feature).
// A refused value is InvalidArgument "cgroup `<file>` = `<value>`" plus the errno text.
base::Result<void> write(const std::string& dir, const std::string& file, const std::string& value);
// The file's text; nullopt when it does not exist.
base::Result<std::optional<std::string>> read_optional(const std::string& path);
// cgroup.procs of `dir`; a missing dir or file is an empty list.
base::Result<std::vector<pid_t>> read_procs(const std::string& dir);

// mkdir of each missing component of `rel` under `root`, top-down. Appends each directory it
// made to `made` (so a caller can roll back even after a failure).
base::Result<void> make_dirs(const std::string& root, const std::string& rel,
                             std::vector<std::string>& made, const Options& options);
// Removes `dir` and any sub-cgroups below it, deepest first. EBUSY (a killed process not yet
// gone) is retried until `options.timeout`, then Conflict. A missing dir is fine.
base::Result<void> remove_dir(const std::string& dir, const Options& options);
// Best effort, deepest first: the rollback of make_dirs.
void remove_made(const std::vector<std::string>& made, const Options& options);

// Calls `done` until it returns true, an error, or the deadline passes (-> false). Polls with
// a growing sleep (from 100us): cgroup state changes are usually immediate.
base::Result<bool> poll_until(std::chrono::milliseconds timeout,
                              const std::function<base::Result<bool>()>& done);

}  // namespace mydocker::runtime::cgroups::fs
