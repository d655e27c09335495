// SPDX-License-Identifier: Apache-2.0
// args[0] -> the path execve gets, searched in the container's $PATH the way Go's
// exec.LookPath (runc, Docker) does, so the error text matches theirs:
//   exec: "foo": executable file not found in $PATH
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/error.h"

namespace mydocker::runtime::process {

// The PATH used when the process env has none (runc's and Docker's default).
inline constexpr std::string_view kDefaultPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// The value of `key` in a KEY=VALUE list (the last one wins, as getenv on a built env).
std::string env_value(const std::vector<std::string>& env, std::string_view key);

// Resolves `name` under `root` ("" or "/" inside the container after pivot_root; a temp dir
// in tests). A name containing '/' is checked as is (relative to `cwd` when relative). The
// result is the in-container path. NotFound with the Go/runc wording when nothing matches,
// PermissionDenied when the only match is not executable.
base::Result<std::string> resolve_executable(const std::string& root, const std::string& name,
                                             const std::vector<std::string>& env,
                                             const std::string& cwd = "/");

}  // namespace mydocker::runtime::process
