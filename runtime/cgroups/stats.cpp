// SPDX-License-Identifier: Apache-2.0
#include "runtime/cgroups/stats.h"

#include "runtime/base/strings.h"

namespace mydocker::runtime::cgroups {

std::map<std::string, uint64_t> parse_keyed(std::string_view text) {
  std::map<std::string, uint64_t> out;
  for (const std::string& line : base::split(text, '\n')) {
    std::string_view l = base::trim(line);
    size_t sp = l.find(' ');
    if (sp == std::string_view::npos) {
      continue;
    }
    if (auto v = base::parse_uint64(base::trim(l.substr(sp + 1)))) {
      out[std::string(l.substr(0, sp))] = *v;
    }
  }
  return out;
}

std::optional<uint64_t> parse_limit(std::string_view text) {
  std::string_view t = base::trim(text);
  if (t == "max" || t == "-1") {
    return 0;
  }
  auto v = base::parse_uint64(t);
  if (!v) {
    return std::nullopt;
  }
  // v1 reports "unlimited" as LLONG_MAX rounded down to the page size (9223372036854771712
  // with 4 KiB pages); anything that close to it is no real limit.
  if (*v >= (uint64_t{1} << 62)) {
    return 0;
  }
  return v;
}

uint64_t ticks_to_ns(uint64_t ticks, long clk_tck) {
  if (clk_tck <= 0) {
    return 0;
  }
  return ticks * (uint64_t{1000000000} / static_cast<uint64_t>(clk_tck));
}

}  // namespace mydocker::runtime::cgroups
