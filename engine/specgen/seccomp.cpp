// SPDX-License-Identifier: Apache-2.0
// Docker's seccomp profile format -> OCI linux.seccomp (moby profiles/seccomp setupSeccomp).
#include <fmt/format.h>
#include <sys/utsname.h>

#include <algorithm>

#include "engine/specgen/specgen.h"

namespace mydocker::engine::specgen {

// Defined in the generated default_seccomp_profile.cpp.
extern const char* const kDefaultSeccompProfileJson;

namespace {

using base::ErrorCode;
using json = nlohmann::json;

base::Error bad_profile(std::string_view what) {
  return base::make_error(ErrorCode::InvalidArgument, "Decoding seccomp profile failed: {}", what);
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string seccomp_arch_for(std::string_view go_arch) {
  static const std::vector<std::pair<std::string_view, std::string_view>> kMap = {
      {"386", "SCMP_ARCH_X86"},           {"amd64", "SCMP_ARCH_X86_64"},
      {"arm", "SCMP_ARCH_ARM"},           {"arm64", "SCMP_ARCH_AARCH64"},
      {"mips", "SCMP_ARCH_MIPS"},         {"mips64", "SCMP_ARCH_MIPS64"},
      {"mips64le", "SCMP_ARCH_MIPSEL64"}, {"mipsle", "SCMP_ARCH_MIPSEL"},
      {"ppc", "SCMP_ARCH_PPC"},           {"ppc64", "SCMP_ARCH_PPC64"},
      {"ppc64le", "SCMP_ARCH_PPC64LE"},   {"riscv64", "SCMP_ARCH_RISCV64"},
      {"s390", "SCMP_ARCH_S390"},         {"s390x", "SCMP_ARCH_S390X"},
  };
  for (const auto& [g, s] : kMap) {
    if (g == go_arch) {
      return std::string(s);
    }
  }
  return "";
}

SeccompHost host_info() {
  SeccompHost h;
  struct utsname u {};
  if (::uname(&u) == 0) {
    std::string_view m = u.machine;
    if (m == "x86_64") {
      h.go_arch = "amd64";
    } else if (m == "aarch64") {
      h.go_arch = "arm64";
    } else if (m == "i386" || m == "i686") {
      h.go_arch = "386";
    } else if (m.rfind("arm", 0) == 0) {
      h.go_arch = "arm";
    } else {
      h.go_arch = std::string(m);
    }
    if (std::sscanf(u.release, "%d.%d", &h.kernel_major, &h.kernel_minor) != 2) {
      h.kernel_major = 0;
      h.kernel_minor = 0;
    }
  }
  return h;
}

base::Result<std::vector<std::string>> string_list(const json& obj, const char* key,
                                                   std::string_view where) {
  std::vector<std::string> out;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    return out;
  }
  if (!it->is_array()) {
    return bad_profile(fmt::format("`{}.{}` is not an array of strings", where, key));
  }
  for (const auto& e : *it) {
    if (!e.is_string()) {
      return bad_profile(fmt::format("`{}.{}` is not an array of strings", where, key));
    }
    out.push_back(e.get<std::string>());
  }
  return out;
}

struct Filter {
  std::vector<std::string> caps;
  std::vector<std::string> arches;
  std::optional<std::pair<int, int>> min_kernel;
};

base::Result<Filter> parse_filter(const json& call, const char* key, std::string_view where) {
  Filter f;
  auto it = call.find(key);
  if (it == call.end() || it->is_null()) {
    return f;
  }
  if (!it->is_object()) {
    return bad_profile(fmt::format("`{}.{}` is not an object", where, key));
  }
  std::string w = fmt::format("{}.{}", where, key);
  f.caps = MYDOCKER_TRY(string_list(*it, "caps", w));
  f.arches = MYDOCKER_TRY(string_list(*it, "arches", w));
  if (auto mk = it->find("minKernel"); mk != it->end() && !mk->is_null()) {
    int major = 0;
    int minor = 0;
    if (!mk->is_string() ||
        std::sscanf(mk->get<std::string>().c_str(), "%d.%d", &major, &minor) != 2) {
      return bad_profile(fmt::format("`{}.minKernel` is not a kernel version", w));
    }
    f.min_kernel = std::make_pair(major, minor);
  }
  return f;
}

base::Result<uint64_t> arg_number(const json& arg, const char* key, std::string_view where) {
  auto it = arg.find(key);
  if (it == arg.end() || it->is_null()) {
    return uint64_t{0};
  }
  if (it->is_number_unsigned()) {
    return it->get<uint64_t>();
  }
  if (it->is_number_integer() && it->get<int64_t>() >= 0) {
    return static_cast<uint64_t>(it->get<int64_t>());
  }
  return bad_profile(fmt::format("`{}.args[].{}` is not an unsigned number", where, key));
}

}  // namespace

const nlohmann::json& default_seccomp_profile() {
  static const json profile = json::parse(kDefaultSeccompProfileJson, nullptr, false);
  return profile;
}

base::Result<nlohmann::json> seccomp_from_docker_profile(const nlohmann::json& profile,
                                                         const std::vector<std::string>& caps) {
  return seccomp_from_docker_profile(profile, caps, host_info());
}

base::Result<nlohmann::json> seccomp_from_docker_profile(const nlohmann::json& profile,
                                                         const std::vector<std::string>& caps,
                                                         const SeccompHost& host) {
  if (!profile.is_object()) {
    return bad_profile("the profile is not a JSON object");
  }
  json out = json::object();
  auto da = profile.find("defaultAction");
  if (da == profile.end() || !da->is_string() || da->get<std::string>().empty()) {
    return bad_profile("`defaultAction` is missing");
  }
  out["defaultAction"] = *da;
  if (auto er = profile.find("defaultErrnoRet"); er != profile.end() && !er->is_null()) {
    if (!er->is_number_unsigned() && !(er->is_number_integer() && er->get<int64_t>() >= 0)) {
      return bad_profile("`defaultErrnoRet` is not an unsigned number");
    }
    out["defaultErrnoRet"] = *er;
  }
  std::vector<std::string> arches = MYDOCKER_TRY(string_list(profile, "architectures", "profile"));
  auto arch_map = profile.find("archMap");
  bool has_arch_map = arch_map != profile.end() && arch_map->is_array() && !arch_map->empty();
  if (!arches.empty() && has_arch_map) {
    return bad_profile(
        "'architectures' and 'archMap' were specified in the seccomp profile, use either "
        "'architectures' or 'archMap'");
  }
  std::string native = seccomp_arch_for(host.go_arch);
  if (has_arch_map && !native.empty()) {
    for (const auto& a : *arch_map) {
      if (!a.is_object() || !a.contains("architecture") || !a["architecture"].is_string()) {
        return bad_profile("`archMap` entry without an architecture");
      }
      if (a["architecture"] == native) {
        arches.push_back(native);
        std::vector<std::string> subs = MYDOCKER_TRY(string_list(a, "subArchitectures", "archMap"));
        for (const auto& sub : subs) {
          arches.push_back(sub);
        }
        break;
      }
    }
  }
  out["architectures"] = arches;
  if (auto flags = MYDOCKER_TRY(string_list(profile, "flags", "profile")); !flags.empty()) {
    out["flags"] = flags;
  }

  json syscalls = json::array();
  auto calls = profile.find("syscalls");
  if (calls != profile.end() && !calls->is_null()) {
    if (!calls->is_array()) {
      return bad_profile("`syscalls` is not an array");
    }
    for (size_t i = 0; i < calls->size(); ++i) {
      const json& call = (*calls)[i];
      std::string where = fmt::format("syscalls[{}]", i);
      if (!call.is_object()) {
        return bad_profile(fmt::format("`{}` is not an object", where));
      }
      std::vector<std::string> names = MYDOCKER_TRY(string_list(call, "names", where));
      if (auto n = call.find("name"); n != call.end() && n->is_string() && !n->empty()) {
        if (!names.empty()) {
          return bad_profile(
              "'name' and 'names' were specified in the seccomp profile, use either 'name' or "
              "'names'");
        }
        names.push_back(n->get<std::string>());
      }
      Filter inc = MYDOCKER_TRY(parse_filter(call, "includes", where));
      Filter exc = MYDOCKER_TRY(parse_filter(call, "excludes", where));
      // moby's filter: excluded arches and caps skip the rule; every included cap is needed,
      // the host's arch must be among the included ones, and the kernel at least minKernel.
      if (contains(exc.arches, host.go_arch)) {
        continue;
      }
      if (std::any_of(exc.caps.begin(), exc.caps.end(),
                      [&](const std::string& c) { return contains(caps, c); })) {
        continue;
      }
      if (!inc.arches.empty() && !contains(inc.arches, host.go_arch)) {
        continue;
      }
      if (!std::all_of(inc.caps.begin(), inc.caps.end(),
                       [&](const std::string& c) { return contains(caps, c); })) {
        continue;
      }
      if (inc.min_kernel &&
          std::make_pair(host.kernel_major, host.kernel_minor) < *inc.min_kernel) {
        continue;
      }
      auto action = call.find("action");
      if (action == call.end() || !action->is_string()) {
        return bad_profile(fmt::format("`{}.action` is missing", where));
      }
      json s = {{"names", names}, {"action", *action}};
      if (auto er = call.find("errnoRet"); er != call.end() && !er->is_null()) {
        if (!er->is_number_integer() || er->get<int64_t>() < 0) {
          return bad_profile(fmt::format("`{}.errnoRet` is not an unsigned number", where));
        }
        s["errnoRet"] = *er;
      }
      if (auto args = call.find("args"); args != call.end() && !args->is_null()) {
        if (!args->is_array()) {
          return bad_profile(fmt::format("`{}.args` is not an array", where));
        }
        json out_args = json::array();
        for (const auto& a : *args) {
          if (!a.is_object() || !a.contains("op") || !a["op"].is_string()) {
            return bad_profile(fmt::format("`{}.args` entry without an op", where));
          }
          // Values first: leaving a braced initializer through MYDOCKER_TRY's statement
          // expression would skip the destructors of the elements already built.
          uint64_t index = MYDOCKER_TRY(arg_number(a, "index", where));
          uint64_t value = MYDOCKER_TRY(arg_number(a, "value", where));
          uint64_t two = MYDOCKER_TRY(arg_number(a, "valueTwo", where));
          json oa = {{"index", index}, {"value", value}, {"op", a["op"]}};
          if (two != 0) {
            oa["valueTwo"] = two;
          }
          out_args.push_back(std::move(oa));
        }
        if (!out_args.empty()) {
          s["args"] = std::move(out_args);
        }
      }
      syscalls.push_back(std::move(s));
    }
  }
  out["syscalls"] = std::move(syscalls);
  return out;
}

}  // namespace mydocker::engine::specgen
