// SPDX-License-Identifier: Apache-2.0
#include "runtime/process/validate.h"

#include <sys/resource.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "runtime/base/file.h"
#include "runtime/base/strings.h"
#include "runtime/caps/caps.h"

namespace mydocker::runtime::process {

namespace {

constexpr int kCapSysResource = 24;

uint64_t effective_caps() {
  auto status = base::read_file("/proc/self/status");
  if (!status) {
    return 0;
  }
  for (const auto& line : base::split(*status, '\n')) {
    if (line.rfind("CapEff:", 0) == 0) {
      std::string hex(base::trim(std::string_view(line).substr(7)));
      return std::strtoull(hex.c_str(), nullptr, 16);
    }
  }
  return 0;
}

}  // namespace

HostLimits current_host_limits() {
  HostLimits host;
  host.bounding_set = caps::host_bounding_set();
  host.has_sys_resource = (effective_caps() >> kCapSysResource) & 1;
  for (int r = 0; r < RLIM_NLIMITS; ++r) {
    rlimit rl{};
    if (::getrlimit(static_cast<__rlimit_resource>(r), &rl) == 0) {
      host.hard_limits[r] = rl.rlim_max;
    }
  }
  return host;
}

base::Result<void> validate_process(const spec::Process& process, const HostLimits& host) {
  if (process.capabilities) {
    const auto& c = *process.capabilities;
    const std::pair<const char*, const std::vector<std::string>*> sets[] = {
        {"bounding", &c.bounding},   {"effective", &c.effective}, {"inheritable", &c.inheritable},
        {"permitted", &c.permitted}, {"ambient", &c.ambient},
    };
    for (const auto& [set_name, names] : sets) {
      for (const auto& name : *names) {
        auto cap = caps::from_name(name);
        if (!cap) {
          return base::make_error(base::ErrorCode::InvalidArgument,
                                  "process.capabilities.{}: unknown capability `{}`", set_name,
                                  name);
        }
        if (std::find(host.bounding_set.begin(), host.bounding_set.end(), *cap) ==
            host.bounding_set.end()) {
          return base::make_error(
              base::ErrorCode::PermissionDenied,
              "process.capabilities.{}: capability `{}` is not in the host's bounding set, so "
              "it cannot be granted",
              set_name, name);
        }
      }
    }
  }
  for (const auto& rl : process.rlimits) {
    if (rl.soft > rl.hard) {
      return base::make_error(base::ErrorCode::InvalidArgument,
                              "process.rlimits: rlimit `{}`: soft {} exceeds hard {}", rl.type,
                              rl.soft, rl.hard);
    }
    auto it = host.hard_limits.find(rl.resource);
    if (!host.has_sys_resource && it != host.hard_limits.end() && it->second != RLIM_INFINITY &&
        rl.hard > it->second) {
      return base::make_error(base::ErrorCode::PermissionDenied,
                              "process.rlimits: rlimit `{}`: hard {} exceeds the host's hard "
                              "limit {} and raising it needs CAP_SYS_RESOURCE, which the runtime "
                              "does not have",
                              rl.type, rl.hard, it->second);
    }
  }
  return base::ok();
}

}  // namespace mydocker::runtime::process
