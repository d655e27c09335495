// SPDX-License-Identifier: Apache-2.0
// `docker top`: the container's processes as `ps` shows them.
//
// Without ps arguments the rows are built from /proc (no ps process): the columns of
// `ps -ef` (UID PID PPID C STIME TTY TIME CMD). With arguments, `ps <args>` runs via
// posix_spawnp (the daemon is multithreaded and never forks) and its rows are kept when their
// PID column names one of the container's processes, as Docker's parsePSOutput does.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "engine/daemon.h"
#include "runtime/base/error.h"

namespace mydocker::engine::top {

// ps -ef's columns for `pids`, read from `proc` (normally "/proc"). A pid that vanished
// meanwhile is skipped.
TopResult ps_ef(const std::vector<pid_t>& pids, const std::string& proc = "/proc");

// Docker's parsePSOutput: the header line gives the titles (InvalidArgument "Couldn't find
// PID field in ps output" without a PID column); each row is split on blanks, extra fields
// joined into the last column; rows whose PID is not in `pids` are dropped.
base::Result<TopResult> parse_ps_output(std::string_view output, const std::vector<pid_t>& pids);

// Docker's validatePSArgs: "<key>=PID..." renames only the pid column; else Internal
// "specifying \"<key>=<value>\" is not allowed".
base::Result<void> validate_ps_args(std::string_view ps_args);

// Runs `ps <ps_args>` and parses it. Errors: validate_ps_args', and Internal "ps: <first line
// of ps's stderr>" (dockerd's wording) when ps fails.
base::Result<TopResult> run_ps(std::string_view ps_args, const std::vector<pid_t>& pids);

}  // namespace mydocker::engine::top
