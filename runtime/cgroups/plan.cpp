// SPDX-License-Identifier: Apache-2.0
#include "runtime/cgroups/plan.h"

#include <fmt/format.h>

#include <algorithm>

#include "runtime/cgroups/manager.h"

namespace mydocker::runtime::cgroups {
namespace {

using base::ErrorCode;

std::string device_number(const std::optional<int64_t>& n) {
  return n && *n >= 0 ? std::to_string(*n) : "*";
}

base::Result<std::string> device_rule_line(const spec::DeviceRule& r, size_t index) {
  if (r.type != "a" && r.type != "c" && r.type != "b") {
    return base::make_error(ErrorCode::InvalidArgument,
                            "linux.resources.devices[{}].type: `{}` is not a, c or b", index,
                            r.type);
  }
  if (r.access.empty() || r.access.find_first_not_of("rwm") != std::string::npos) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "linux.resources.devices[{}].access: `{}` is not made of r, w, m",
                            index, r.access);
  }
  return fmt::format("{} {}:{} {}", r.type, device_number(r.major), device_number(r.minor),
                     r.access);
}

std::string dev(int64_t major, int64_t minor) {
  return fmt::format("{}:{}", major, minor);
}

// Runc and crun read a limit of 0 as "not set" (Go's zero value); Docker never writes 0.
bool set(const std::optional<int64_t>& v) {
  return v && *v != 0;
}
bool set(const std::optional<uint64_t>& v) {
  return v && *v != 0;
}

std::string v1_limit(int64_t v) {
  return v < 0 ? "-1" : std::to_string(v);
}
std::string v2_limit(int64_t v) {
  return v < 0 ? "max" : std::to_string(v);
}

// blkio weights are [10, 1000], io.weight is [1, 10000]: the mapping runc and crun use.
uint64_t blkio_to_io_weight(uint64_t w) {
  if (w == 0) {
    return 0;
  }
  w = std::clamp<uint64_t>(w, 10, 1000);
  return 1 + (w - 10) * 9999 / 990;
}

void add_throttle(std::vector<FileWrite>& out, const std::string& file,
                  const std::vector<spec::ThrottleDevice>& devs) {
  for (const auto& d : devs) {
    out.push_back({"blkio", file, fmt::format("{} {}", dev(d.major, d.minor), d.rate)});
  }
}

base::Result<void> v1_memory(const spec::Memory& m, const v1::Features& f,
                             std::vector<FileWrite>& out) {
  std::optional<FileWrite> limit;
  std::optional<FileWrite> memsw;
  if (set(m.limit)) {
    limit = FileWrite{"memory", "memory.limit_in_bytes", v1_limit(*m.limit)};
  }
  if (set(m.swap)) {
    if (!f.swap_accounting) {
      if (*m.swap > 0) {
        return base::make_error(
            ErrorCode::FailedPrecondition,
            "linux.resources.memory.swap `{}`: the kernel does not account swap "
            "(no memory.memsw.limit_in_bytes; boot with swapaccount=1)",
            *m.swap);
      }
    } else {
      if (*m.swap > 0 && set(m.limit) && *m.limit > 0 && *m.swap < *m.limit) {
        return base::make_error(ErrorCode::InvalidArgument,
                                "linux.resources.memory.swap `{}` is below memory.limit `{}` "
                                "(swap counts memory plus swap)",
                                *m.swap, *m.limit);
      }
      memsw = FileWrite{"memory", "memory.memsw.limit_in_bytes", v1_limit(*m.swap)};
    }
  }
  // The kernel keeps memsw >= limit after every single write: grow memsw before the limit,
  // shrink it after.
  bool current_unlimited = !f.current_memsw_limit || *f.current_memsw_limit < 0;
  bool memsw_first =
      memsw && !current_unlimited && (*m.swap < 0 || *m.swap > *f.current_memsw_limit);
  if (memsw_first) {
    out.push_back(*memsw);
  }
  if (limit) {
    out.push_back(*limit);
  }
  if (memsw && !memsw_first) {
    out.push_back(*memsw);
  }
  if (set(m.reservation)) {
    out.push_back({"memory", "memory.soft_limit_in_bytes", v1_limit(*m.reservation)});
  }
  if (m.swappiness) {
    out.push_back({"memory", "memory.swappiness", std::to_string(*m.swappiness)});
  }
  if (m.disable_oom_killer) {
    out.push_back({"memory", "memory.oom_control", *m.disable_oom_killer ? "1" : "0"});
  }
  return base::ok();
}

// memory.swap.max counts swap alone, the spec (like v1) counts memory plus swap.
base::Result<std::optional<std::string>> v2_swap(const spec::Memory& m) {
  if (!set(m.swap)) {
    return std::optional<std::string>();
  }
  int64_t swap = *m.swap;
  if (swap < 0) {
    return std::optional<std::string>("max");
  }
  if (!set(m.limit) || *m.limit < 0) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "linux.resources.memory.swap `{}` needs a memory limit on cgroup v2 "
                            "(memory.swap.max counts swap alone)",
                            swap);
  }
  if (swap < *m.limit) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "linux.resources.memory.swap `{}` is below memory.limit `{}` "
                            "(swap counts memory plus swap)",
                            swap, *m.limit);
  }
  return std::optional<std::string>(std::to_string(swap - *m.limit));
}

void cpuset(const spec::Cpu& c, std::vector<FileWrite>& out) {
  if (!c.cpus.empty()) {
    out.push_back({"cpuset", "cpuset.cpus", c.cpus});
  }
  if (!c.mems.empty()) {
    out.push_back({"cpuset", "cpuset.mems", c.mems});
  }
}

}  // namespace

uint64_t shares_to_weight(uint64_t shares) {
  if (shares == 0) {
    return 0;
  }
  shares = std::clamp<uint64_t>(shares, 2, 262144);
  return 1 + ((shares - 2) * 9999) / 262142;
}

namespace v1 {

base::Result<std::vector<FileWrite>> writes(const spec::Resources& r, const Features& f) {
  std::vector<FileWrite> out;
  if (!r.unified.empty()) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "linux.resources.unified `{}`: cgroup v2 files cannot be set on a "
                            "cgroup v1 host",
                            r.unified.begin()->first);
  }
  if (r.cpu) {
    // cpuset first: a cgroup without cpus/mems cannot take tasks, and later failures then name
    // the file that is really wrong.
    cpuset(*r.cpu, out);
    if (set(r.cpu->shares)) {
      out.push_back({"cpu", "cpu.shares", std::to_string(*r.cpu->shares)});
    }
    // The period first: the quota is checked against the bandwidth the period gives.
    if (set(r.cpu->period)) {
      out.push_back({"cpu", "cpu.cfs_period_us", std::to_string(*r.cpu->period)});
    }
    if (set(r.cpu->quota)) {
      out.push_back({"cpu", "cpu.cfs_quota_us", v1_limit(*r.cpu->quota)});
    }
    if (set(r.cpu->realtime_period)) {
      out.push_back({"cpu", "cpu.rt_period_us", std::to_string(*r.cpu->realtime_period)});
    }
    if (set(r.cpu->realtime_runtime)) {
      out.push_back({"cpu", "cpu.rt_runtime_us", std::to_string(*r.cpu->realtime_runtime)});
    }
  }
  if (r.memory) {
    MYDOCKER_TRY(v1_memory(*r.memory, f, out));
  }
  if (r.pids) {
    out.push_back({"pids", "pids.max", r.pids->limit > 0 ? std::to_string(r.pids->limit) : "max"});
  }
  if (r.block_io) {
    const spec::BlockIo& b = *r.block_io;
    std::string weight = f.blkio_bfq ? "blkio.bfq.weight" : "blkio.weight";
    if (b.weight && *b.weight != 0) {
      out.push_back({"blkio", weight, std::to_string(*b.weight)});
    }
    if (b.leaf_weight && *b.leaf_weight != 0) {
      out.push_back({"blkio", "blkio.leaf_weight", std::to_string(*b.leaf_weight)});
    }
    for (const auto& d : b.weight_device) {
      if (d.weight) {
        out.push_back(
            {"blkio", weight + "_device", fmt::format("{} {}", dev(d.major, d.minor), *d.weight)});
      }
      if (d.leaf_weight) {
        out.push_back({"blkio", "blkio.leaf_weight_device",
                       fmt::format("{} {}", dev(d.major, d.minor), *d.leaf_weight)});
      }
    }
    add_throttle(out, "blkio.throttle.read_bps_device", b.throttle_read_bps_device);
    add_throttle(out, "blkio.throttle.write_bps_device", b.throttle_write_bps_device);
    add_throttle(out, "blkio.throttle.read_iops_device", b.throttle_read_iops_device);
    add_throttle(out, "blkio.throttle.write_iops_device", b.throttle_write_iops_device);
  }
  // In order: the usual list starts with a deny-all and then opens single devices.
  for (size_t i = 0; i < r.devices.size(); ++i) {
    const spec::DeviceRule& d = r.devices[i];
    std::string line = MYDOCKER_TRY(device_rule_line(d, i));
    out.push_back({"devices", d.allow ? "devices.allow" : "devices.deny", std::move(line)});
  }
  return out;
}

}  // namespace v1

namespace v2 {

base::Result<std::vector<FileWrite>> writes(const spec::Resources& r) {
  std::vector<FileWrite> out;
  for (size_t i = 0; i < r.devices.size(); ++i) {
    MYDOCKER_TRY(device_rule_line(r.devices[i], i));
  }
  if (r.cpu) {
    const spec::Cpu& c = *r.cpu;
    if (set(c.realtime_runtime) || set(c.realtime_period)) {
      return base::make_error(ErrorCode::NotImplemented,
                              "linux.resources.cpu.realtimeRuntime/realtimePeriod: cgroup v2 "
                              "has no realtime bandwidth control");
    }
    cpuset(c, out);
    if (set(c.shares)) {
      out.push_back({"cpu", "cpu.weight", std::to_string(shares_to_weight(*c.shares))});
    }
    if (set(c.quota) || set(c.period)) {
      std::string v = set(c.quota) && *c.quota > 0 ? std::to_string(*c.quota) : "max";
      if (set(c.period)) {
        v += " " + std::to_string(*c.period);
      }
      out.push_back({"cpu", "cpu.max", v});
    }
  }
  if (r.memory) {
    const spec::Memory& m = *r.memory;
    std::optional<std::string> swap = MYDOCKER_TRY(v2_swap(m));
    if (set(m.limit)) {
      out.push_back({"memory", "memory.max", v2_limit(*m.limit)});
    }
    if (swap) {
      out.push_back({"memory", "memory.swap.max", *swap});
    }
    if (set(m.reservation)) {
      out.push_back({"memory", "memory.low", v2_limit(*m.reservation)});
    }
    // swappiness and disable_oom_killer have no v2 files; runc and crun ignore them too
    // (memory.oom.group is a different switch: kill the whole group, not never kill).
  }
  if (r.pids) {
    out.push_back({"pids", "pids.max", r.pids->limit > 0 ? std::to_string(r.pids->limit) : "max"});
  }
  if (r.block_io) {
    const spec::BlockIo& b = *r.block_io;
    if (b.weight && *b.weight != 0) {
      out.push_back({"io", "io.weight", fmt::format("default {}", blkio_to_io_weight(*b.weight))});
    }
    for (const auto& d : b.weight_device) {
      if (d.weight) {
        out.push_back({"io", "io.weight",
                       fmt::format("{} {}", dev(d.major, d.minor), blkio_to_io_weight(*d.weight))});
      }
    }
    auto io_max = [&out](const std::vector<spec::ThrottleDevice>& devs, const char* key) {
      for (const auto& d : devs) {
        out.push_back(
            {"io", "io.max", fmt::format("{} {}={}", dev(d.major, d.minor), key, d.rate)});
      }
    };
    io_max(b.throttle_read_bps_device, "rbps");
    io_max(b.throttle_write_bps_device, "wbps");
    io_max(b.throttle_read_iops_device, "riops");
    io_max(b.throttle_write_iops_device, "wiops");
  }
  // Raw files last, so they override what the typed fields set.
  for (const auto& [key, value] : r.unified) {
    size_t dot = key.find('.');
    if (key.empty() || key.find('/') != std::string::npos || dot == 0 || dot == std::string::npos ||
        key == "cgroup.procs" || key == "cgroup.threads" || key == "cgroup.subtree_control") {
      return base::make_error(ErrorCode::InvalidArgument,
                              "linux.resources.unified `{}`: not a cgroup interface file we set",
                              key);
    }
    out.push_back({key.substr(0, dot), key, value});
  }
  return out;
}

}  // namespace v2

}  // namespace mydocker::runtime::cgroups
