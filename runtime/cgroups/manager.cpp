// SPDX-License-Identifier: Apache-2.0
#include "runtime/cgroups/manager.h"

#include <signal.h>

#include <algorithm>

#include "runtime/base/strings.h"
#include "runtime/cgroups/backends.h"
#include "runtime/cgroups/fs.h"
#include "runtime/cgroups/stats.h"

namespace mydocker::runtime::cgroups {
namespace {

using base::ErrorCode;

base::Result<std::string> normalise(const std::string& cgroups_path) {
  if (cgroups_path.empty()) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "linux.cgroupsPath: empty (the caller picks the default)");
  }
  std::vector<std::string> parts;
  for (const std::string& part : base::split(cgroups_path, '/')) {
    if (part.empty() || part == ".") {
      continue;
    }
    if (part == "..") {
      return base::make_error(ErrorCode::InvalidArgument,
                              "linux.cgroupsPath `{}`: `..` would leave the container's cgroup",
                              cgroups_path);
    }
    parts.push_back(part);
  }
  if (parts.empty()) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "linux.cgroupsPath `{}`: names the root cgroup", cgroups_path);
  }
  return base::join(parts, "/");
}

}  // namespace

base::Result<std::unique_ptr<Manager>> make_manager(const Layout& layout,
                                                    const std::string& cgroups_path,
                                                    Options options) {
  std::string rel = MYDOCKER_TRY(normalise(cgroups_path));
  if (layout.mode == Mode::V2) {
    if (layout.unified_mount.empty()) {
      return base::make_error(ErrorCode::FailedPrecondition,
                              "cgroup v2 layout without a cgroup2 mount");
    }
    return make_v2_manager(layout, rel, std::move(options));
  }
  if (layout.v1_mounts.empty()) {
    return base::make_error(ErrorCode::FailedPrecondition, "cgroup v1 layout without mounts");
  }
  return make_v1_manager(layout, rel, std::move(options));
}

base::Result<void> kill_until_empty(const std::string& what,
                                    const std::function<base::Result<std::vector<pid_t>>()>& list,
                                    const std::function<base::Result<void>()>& after_first_round,
                                    std::chrono::milliseconds timeout) {
  bool first = true;
  size_t left = 0;
  auto step = [&]() -> base::Result<bool> {
    std::vector<pid_t> pids = MYDOCKER_TRY(list());
    left = pids.size();
    if (pids.empty()) {
      return true;
    }
    for (pid_t pid : pids) {
      if (::kill(pid, SIGKILL) < 0 && errno != ESRCH) {
        return base::sys_error("kill process `{}` of cgroup `{}`", pid, what);
      }
    }
    if (first) {
      first = false;
      if (after_first_round) {
        MYDOCKER_TRY(after_first_round());
      }
    }
    return false;
  };
  bool done = MYDOCKER_TRY(fs::poll_until(timeout, step));
  if (!done) {
    return base::make_error(ErrorCode::Unavailable,
                            "kill processes of cgroup `{}`: {} remain after {} ms", what, left,
                            timeout.count());
  }
  return base::ok();
}

base::Result<std::optional<uint64_t>> read_number(const std::string& path) {
  std::optional<std::string> text = MYDOCKER_TRY(fs::read_optional(path));
  if (!text) {
    return std::optional<uint64_t>();
  }
  auto v = base::parse_uint64(base::trim(*text));
  if (!v) {
    return base::make_error(ErrorCode::InvalidArgument, "cgroup file `{}`: `{}` is not a number",
                            path, base::trim(*text));
  }
  return std::optional<uint64_t>(*v);
}

base::Result<std::optional<uint64_t>> read_limit(const std::string& path) {
  std::optional<std::string> text = MYDOCKER_TRY(fs::read_optional(path));
  if (!text) {
    return std::optional<uint64_t>();
  }
  auto v = parse_limit(*text);
  if (!v) {
    return base::make_error(ErrorCode::InvalidArgument, "cgroup file `{}`: `{}` is not a limit",
                            path, base::trim(*text));
  }
  return std::optional<uint64_t>(*v);
}

base::Result<std::map<std::string, uint64_t>> read_keyed(const std::string& path) {
  std::optional<std::string> text = MYDOCKER_TRY(fs::read_optional(path));
  if (!text) {
    return std::map<std::string, uint64_t>();
  }
  return parse_keyed(*text);
}

}  // namespace mydocker::runtime::cgroups
