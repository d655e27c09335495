// SPDX-License-Identifier: Apache-2.0
// What /proc says about a process, and wait-status conversion.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "runtime/base/error.h"

namespace mydocker::runtime::process {

struct ProcStat {
  char state = '?';         // field 3: R S D Z T ...
  uint64_t start_time = 0;  // field 22: clock ticks after boot; (pid, start_time) names a
                            // process uniquely, so a reused pid is told apart
};

// Parses the text of /proc/<pid>/stat (the comm field may hold spaces and parentheses).
base::Result<ProcStat> parse_proc_stat(std::string_view text);
// Reads /proc/<pid>/stat under `proc_root`. NotFound when the process is gone.
base::Result<ProcStat> read_proc_stat(pid_t pid, const std::string& proc_root = "/proc");

// True when `pid` runs and is the process that started at `start_time` (a zombie counts as
// gone: it will never run the container again).
bool process_alive(pid_t pid, uint64_t start_time, const std::string& proc_root = "/proc");

// waitpid status -> shell-style exit code: the code, or 128 + signal (SIGKILL -> 137).
int exit_code_from_wait_status(int status);

}  // namespace mydocker::runtime::process
