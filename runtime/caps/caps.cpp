// SPDX-License-Identifier: Apache-2.0
#include "runtime/caps/caps.h"

#include <sys/capability.h>
#include <sys/prctl.h>

#include <algorithm>
#include <array>
#include <cerrno>

#include "runtime/base/file.h"
#include "runtime/base/strings.h"

namespace mydocker::runtime::caps {
namespace {

using base::ErrorCode;
using base::Result;

// One capability set of the spec, resolved to numbers.
struct NamedSet {
  std::string_view field;  // "process.capabilities.permitted"
  std::vector<cap_value_t> caps;
};

Result<std::vector<cap_value_t>> resolve(const std::vector<std::string>& names,
                                         std::string_view field) {
  std::vector<cap_value_t> out;
  out.reserve(names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    auto n = from_name(names[i]);
    if (!n) {
      return base::make_error(ErrorCode::InvalidArgument, "`{}[{}]`: unknown capability `{}`",
                              field, i, names[i]);
    }
    if (std::find(out.begin(), out.end(), *n) == out.end()) {
      out.push_back(*n);
    }
  }
  return out;
}

bool has(const std::vector<cap_value_t>& set, cap_value_t c) {
  return std::find(set.begin(), set.end(), c) != set.end();
}

// libcap's cap_t owner.
class CapState {
 public:
  CapState() : caps_(cap_init()) {}
  ~CapState() {
    if (caps_ != nullptr) {
      cap_free(caps_);
    }
  }
  CapState(const CapState&) = delete;
  CapState& operator=(const CapState&) = delete;

  bool valid() const { return caps_ != nullptr; }
  cap_t get() const { return caps_; }

  Result<void> set(cap_flag_t flag, const std::vector<cap_value_t>& values) {
    if (values.empty()) {
      return base::ok();
    }
    if (cap_set_flag(caps_, flag, static_cast<int>(values.size()), values.data(), CAP_SET) != 0) {
      return base::sys_error("cap_set_flag");
    }
    return base::ok();
  }

 private:
  cap_t caps_;
};

Result<void> set_proc(const std::vector<cap_value_t>& permitted,
                      const std::vector<cap_value_t>& effective,
                      const std::vector<cap_value_t>& inheritable, std::string_view what) {
  CapState state;
  if (!state.valid()) {
    return base::sys_error("cap_init");
  }
  MYDOCKER_TRY(state.set(CAP_PERMITTED, permitted));
  MYDOCKER_TRY(state.set(CAP_EFFECTIVE, effective));
  MYDOCKER_TRY(state.set(CAP_INHERITABLE, inheritable));
  if (cap_set_proc(state.get()) != 0) {
    return base::sys_error("{}", what);
  }
  return base::ok();
}

// The calling thread's permitted set, as numbers.
Result<std::vector<cap_value_t>> current_permitted() {
  cap_t now = cap_get_proc();
  if (now == nullptr) {
    return base::sys_error("cap_get_proc");
  }
  std::vector<cap_value_t> out;
  for (int c = 0; c <= last_cap(); ++c) {
    cap_flag_value_t v = CAP_CLEAR;
    if (cap_get_flag(now, c, CAP_PERMITTED, &v) == 0 && v == CAP_SET) {
      out.push_back(c);
    }
  }
  cap_free(now);
  return out;
}

}  // namespace

int last_cap() {
  static const int cached = [] {
    auto text = base::read_file("/proc/sys/kernel/cap_last_cap");
    if (text) {
      if (auto v = base::parse_int64(base::trim(*text)); v && *v >= 0 && *v < 64) {
        return static_cast<int>(*v);
      }
    }
    // No /proc (early in a container's setup): probe, as libcap does; EINVAL past the end.
    int c = 0;
    while (c < 63 && prctl(PR_CAPBSET_READ, c + 1, 0, 0, 0) >= 0) {
      ++c;
    }
    return c;
  }();
  return cached;
}

std::vector<int> host_bounding_set() {
  std::vector<int> out;
  for (int c = 0; c <= last_cap(); ++c) {
    if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1) {
      out.push_back(c);
    }
  }
  return out;
}

Result<void> apply(const spec::Capabilities& caps) {
  // Resolve first: everything that can be refused is refused before the process changes.
  // The order is the order of the error search: a cap granted by permitted is named as such
  // rather than by its (harmless on its own) bounding entry.
  std::array<NamedSet, 5> sets = {{
      {"process.capabilities.permitted", {}},
      {"process.capabilities.effective", {}},
      {"process.capabilities.inheritable", {}},
      {"process.capabilities.ambient", {}},
      {"process.capabilities.bounding", {}},
  }};
  sets[0].caps = MYDOCKER_TRY(resolve(caps.permitted, sets[0].field));
  sets[1].caps = MYDOCKER_TRY(resolve(caps.effective, sets[1].field));
  sets[2].caps = MYDOCKER_TRY(resolve(caps.inheritable, sets[2].field));
  sets[3].caps = MYDOCKER_TRY(resolve(caps.ambient, sets[3].field));
  sets[4].caps = MYDOCKER_TRY(resolve(caps.bounding, sets[4].field));
  const auto& permitted = sets[0].caps;
  const auto& effective = sets[1].caps;
  const auto& inheritable = sets[2].caps;
  const auto& ambient = sets[3].caps;
  const auto& bounding = sets[4].caps;

  // The bounding set only ever shrinks (CAP_SETPCAP can drop, nothing can add), so a cap the
  // host withholds (CAP_SYS_RESOURCE on this machine) can never be granted: say so here,
  // where runc and podman report a bare EPERM from capset.
  std::vector<int> host = host_bounding_set();
  for (const NamedSet& set : sets) {
    for (cap_value_t c : set.caps) {
      if (std::find(host.begin(), host.end(), c) == host.end()) {
        return base::make_error(
            ErrorCode::PermissionDenied,
            "capability `{}` ({}) is not in the host's bounding set, so it cannot be granted",
            to_name(c), set.field);
      }
    }
  }
  for (cap_value_t c : effective) {
    if (!has(permitted, c)) {
      return base::make_error(ErrorCode::InvalidArgument,
                              "capability `{}` is in process.capabilities.effective but not in "
                              "process.capabilities.permitted; the kernel refuses that",
                              to_name(c));
    }
  }

  // After setuid to a non-root user (with PR_SET_KEEPCAPS) the effective set is empty, and
  // dropping from the bounding set needs CAP_SETPCAP effective: raise effective to the
  // current permitted set first (always allowed).
  std::vector<cap_value_t> now = MYDOCKER_TRY(current_permitted());
  MYDOCKER_TRY(set_proc(now, now, {}, "raise effective capabilities"));

  for (int c = 0; c <= last_cap(); ++c) {
    if (has(bounding, c) || prctl(PR_CAPBSET_READ, c, 0, 0, 0) != 1) {
      continue;
    }
    if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0) {
      return base::sys_error("drop `{}` from the bounding set", to_name(c));
    }
  }

  MYDOCKER_TRY(set_proc(permitted, effective, inheritable,
                        "set permitted, effective and inheritable capabilities"));

  // Clear first: ambient caps survive execve and the runtime's own must not leak in.
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    return base::sys_error("clear ambient capabilities");
  }
  for (cap_value_t c : ambient) {
    if (!has(permitted, c) || !has(inheritable, c)) {
      continue;  // see caps.h: the kernel would refuse; runc warns and goes on
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) != 0) {
      return base::sys_error("raise ambient capability `{}`", to_name(c));
    }
  }
  return base::ok();
}

}  // namespace mydocker::runtime::caps
