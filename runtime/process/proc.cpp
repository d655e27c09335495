// SPDX-License-Identifier: Apache-2.0
#include "runtime/process/proc.h"

#include <sys/wait.h>

#include "runtime/base/file.h"
#include "runtime/base/strings.h"

namespace mydocker::runtime::process {

base::Result<ProcStat> parse_proc_stat(std::string_view text) {
  // comm is "(...)" and may contain ") ": the fields after it start at the LAST ')'.
  size_t close = text.rfind(')');
  if (close == std::string_view::npos || close + 2 > text.size()) {
    return base::make_error(base::ErrorCode::InvalidArgument, "malformed /proc stat");
  }
  std::vector<std::string> fields = base::split(base::trim(text.substr(close + 2)), ' ');
  // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
  if (fields.size() < 20 || fields[0].size() != 1) {
    return base::make_error(base::ErrorCode::InvalidArgument, "malformed /proc stat");
  }
  auto start = base::parse_uint64(fields[19]);
  if (!start) {
    return base::make_error(base::ErrorCode::InvalidArgument,
                            "malformed /proc stat start time `{}`", fields[19]);
  }
  return ProcStat{fields[0][0], *start};
}

base::Result<ProcStat> read_proc_stat(pid_t pid, const std::string& proc_root) {
  auto text = base::read_file(fmt::format("{}/{}/stat", proc_root, pid));
  if (!text) {
    return base::make_error(base::ErrorCode::NotFound, "process {} not found", pid);
  }
  return parse_proc_stat(*text);
}

bool process_alive(pid_t pid, uint64_t start_time, const std::string& proc_root) {
  if (pid <= 0) {
    return false;
  }
  auto st = read_proc_stat(pid, proc_root);
  if (!st) {
    return false;
  }
  if (st->state == 'Z' || st->state == 'X') {
    return false;
  }
  return start_time == 0 || st->start_time == start_time;
}

int exit_code_from_wait_status(int status) {
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  if (WIFSIGNALED(status)) {
    return 128 + WTERMSIG(status);
  }
  return 255;
}

}  // namespace mydocker::runtime::process
