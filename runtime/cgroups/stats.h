// SPDX-License-Identifier: Apache-2.0
// Pure parsers for the cgroup files stats() reads, so fixtures test them without a kernel.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace mydocker::runtime::cgroups {

// "key value" per line (memory.stat, cpu.stat, cpuacct.stat, memory.events,
// memory.oom_control, pids.events). Lines that do not parse are skipped: kernels add keys,
// and one unknown value must not hide the others.
std::map<std::string, uint64_t> parse_keyed(std::string_view text);

// A single number, or "max"/v1's page-rounded LLONG_MAX meaning unlimited (-> 0, the Stats
// convention). nullopt on junk.
std::optional<uint64_t> parse_limit(std::string_view text);

// cpuacct.stat counts USER_HZ ticks; `clk_tck` is sysconf(_SC_CLK_TCK).
uint64_t ticks_to_ns(uint64_t ticks, long clk_tck);

}  // namespace mydocker::runtime::cgroups
