// SPDX-License-Identifier: Apache-2.0
#include "engine/stats/stats.h"

#include <time.h>

#include "image/content/image_config.h"
#include "runtime/base/file.h"
#include "runtime/base/strings.h"
#include "runtime/cgroups/stats.h"

namespace mydocker::engine::stats {
namespace {

using nlohmann::json;

std::optional<std::string> read(const std::string& dir, const char* file) {
  if (dir.empty()) {
    return std::nullopt;
  }
  auto r = base::read_file(dir + "/" + file);
  if (!r) {
    return std::nullopt;
  }
  return std::move(*r);
}

uint64_t read_u64(const std::string& dir, const char* file) {
  auto t = read(dir, file);
  if (!t) {
    return 0;
  }
  return base::parse_uint64(base::trim(*t)).value_or(0);
}

std::map<std::string, uint64_t> read_keyed(const std::string& dir, const char* file) {
  auto t = read(dir, file);
  return t ? runtime::cgroups::parse_keyed(*t) : std::map<std::string, uint64_t>{};
}

// "8:0" -> (8, 0).
bool parse_dev(std::string_view s, uint64_t& major, uint64_t& minor) {
  auto colon = s.find(':');
  if (colon == std::string_view::npos) {
    return false;
  }
  auto ma = base::parse_uint64(s.substr(0, colon));
  auto mi = base::parse_uint64(s.substr(colon + 1));
  if (!ma || !mi) {
    return false;
  }
  major = *ma;
  minor = *mi;
  return true;
}

std::vector<std::string> fields(std::string_view line) {
  std::vector<std::string> out;
  for (auto& f : base::split(line, ' ')) {
    if (!f.empty()) {
      out.push_back(f);
    }
  }
  return out;
}

std::string rfc3339(int64_t nanos) {
  if (nanos == 0) {
    return "0001-01-01T00:00:00Z";
  }
  return image::content::format_rfc3339_nano(nanos / 1'000'000'000,
                                             static_cast<int32_t>(nanos % 1'000'000'000));
}

json blkio_json(const std::vector<BlkioEntry>& v) {
  json a = json::array();
  for (const auto& e : v) {
    a.push_back({{"major", e.major}, {"minor", e.minor}, {"op", e.op}, {"value", e.value}});
  }
  return a;
}

json cpu_json(const Sample& s, bool with_system) {
  json usage = {{"total_usage", s.cpu_total},
                {"usage_in_kernelmode", s.cpu_kernel},
                {"usage_in_usermode", s.cpu_user}};
  if (!s.percpu.empty()) {
    usage["percpu_usage"] = s.percpu;
  }
  json j = {{"cpu_usage", usage},
            {"throttling_data",
             {{"periods", s.throttle_periods},
              {"throttled_periods", s.throttle_throttled},
              {"throttled_time", s.throttle_time}}}};
  if (with_system) {
    j["system_cpu_usage"] = s.system_cpu;
    j["online_cpus"] = s.online_cpus;
  }
  return j;
}

json zero_cpu_json() {
  return {{"cpu_usage", {{"total_usage", 0}, {"usage_in_kernelmode", 0}, {"usage_in_usermode", 0}}},
          {"throttling_data", {{"periods", 0}, {"throttled_periods", 0}, {"throttled_time", 0}}}};
}

const char* kBlkioKeys[] = {"io_service_bytes_recursive", "io_serviced_recursive",
                            "io_queue_recursive",         "io_service_time_recursive",
                            "io_wait_time_recursive",     "io_merged_recursive",
                            "io_time_recursive",          "sectors_recursive"};

}  // namespace

std::string CgroupDirs::dir(const std::string& controller) const {
  if (v2) {
    return unified;
  }
  auto it = v1.find(controller);
  return it == v1.end() ? "" : it->second;
}

CgroupDirs cgroup_dirs(std::string_view proc_cgroup,
                       const std::map<std::string, std::string>& v1_mounts,
                       const std::string& unified_mount, bool v2) {
  CgroupDirs d;
  d.v2 = v2;
  for (const auto& line : base::split(proc_cgroup, '\n')) {
    auto c1 = line.find(':');
    auto c2 = c1 == std::string::npos ? std::string::npos : line.find(':', c1 + 1);
    if (c2 == std::string::npos) {
      continue;
    }
    std::string ctrls = line.substr(c1 + 1, c2 - c1 - 1);
    std::string path = line.substr(c2 + 1);
    if (path == "/") {
      path.clear();
    }
    if (ctrls.empty()) {
      if (v2 && !unified_mount.empty()) {
        d.unified = unified_mount + path;
      }
      continue;
    }
    for (const auto& ctrl : base::split(ctrls, ',')) {
      if (auto it = v1_mounts.find(ctrl); it != v1_mounts.end()) {
        d.v1[ctrl] = it->second + path;
      }
    }
  }
  return d;
}

std::map<std::string, NetDev> parse_net_dev(std::string_view text) {
  std::map<std::string, NetDev> out;
  for (const auto& line : base::split(text, '\n')) {
    auto colon = line.find(':');
    if (colon == std::string::npos) {
      continue;
    }
    std::string name(base::trim(std::string_view(line).substr(0, colon)));
    if (name.empty() || name == "lo" || name.find('|') != std::string::npos) {
      continue;
    }
    auto f = fields(std::string_view(line).substr(colon + 1));
    if (f.size() < 16) {
      continue;
    }
    auto n = [&](size_t i) { return base::parse_uint64(f[i]).value_or(0); };
    NetDev d;
    d.rx_bytes = n(0);
    d.rx_packets = n(1);
    d.rx_errors = n(2);
    d.rx_dropped = n(3);
    d.tx_bytes = n(8);
    d.tx_packets = n(9);
    d.tx_errors = n(10);
    d.tx_dropped = n(11);
    out[name] = d;
  }
  return out;
}

std::pair<uint64_t, uint32_t> parse_proc_stat(std::string_view text, long clk_tck) {
  uint64_t total = 0;
  uint32_t cpus = 0;
  for (const auto& line : base::split(text, '\n')) {
    if (!line.starts_with("cpu")) {
      continue;
    }
    auto f = fields(line);
    if (f.empty()) {
      continue;
    }
    if (f[0] != "cpu") {
      ++cpus;
      continue;
    }
    // Docker sums user, nice, system, idle, iowait, irq, softirq.
    uint64_t ticks = 0;
    for (size_t i = 1; i < f.size() && i < 8; ++i) {
      ticks += base::parse_uint64(f[i]).value_or(0);
    }
    total = runtime::cgroups::ticks_to_ns(ticks, clk_tck);
  }
  return {total, cpus};
}

std::vector<BlkioEntry> parse_blkio_v1(std::string_view text) {
  std::vector<BlkioEntry> out;
  for (const auto& line : base::split(text, '\n')) {
    auto f = fields(line);
    if (f.size() != 3) {
      continue;
    }
    BlkioEntry e;
    if (!parse_dev(f[0], e.major, e.minor)) {
      continue;
    }
    e.op = f[1];
    e.value = base::parse_uint64(f[2]).value_or(0);
    out.push_back(std::move(e));
  }
  return out;
}

void parse_io_stat_v2(std::string_view text, std::vector<BlkioEntry>& bytes,
                      std::vector<BlkioEntry>& ops) {
  for (const auto& line : base::split(text, '\n')) {
    auto f = fields(line);
    if (f.empty()) {
      continue;
    }
    uint64_t major = 0;
    uint64_t minor = 0;
    if (!parse_dev(f[0], major, minor)) {
      continue;
    }
    std::map<std::string, uint64_t> kv;
    for (size_t i = 1; i < f.size(); ++i) {
      auto eq = f[i].find('=');
      if (eq != std::string::npos) {
        kv[f[i].substr(0, eq)] = base::parse_uint64(f[i].substr(eq + 1)).value_or(0);
      }
    }
    bytes.push_back({major, minor, "read", kv["rbytes"]});
    bytes.push_back({major, minor, "write", kv["wbytes"]});
    ops.push_back({major, minor, "read", kv["rios"]});
    ops.push_back({major, minor, "write", kv["wios"]});
  }
}

Sample read_sample(const CgroupDirs& dirs, const ReadOptions& options) {
  Sample s;
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  s.read_nano = static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
  s.v2 = dirs.v2;
  if (dirs.v2) {
    const std::string& d = dirs.unified;
    auto cpu = read_keyed(d, "cpu.stat");
    s.cpu_total = cpu["usage_usec"] * 1000;
    s.cpu_user = cpu["user_usec"] * 1000;
    s.cpu_kernel = cpu["system_usec"] * 1000;
    s.throttle_periods = cpu["nr_periods"];
    s.throttle_throttled = cpu["nr_throttled"];
    s.throttle_time = cpu["throttled_usec"] * 1000;
    s.mem_usage = read_u64(d, "memory.current");
    s.mem_limit = runtime::cgroups::parse_limit(read(d, "memory.max").value_or("max")).value_or(0);
    s.mem_stats = read_keyed(d, "memory.stat");
    s.pids_current = read_u64(d, "pids.current");
    s.pids_limit = runtime::cgroups::parse_limit(read(d, "pids.max").value_or("max")).value_or(0);
    if (auto io = read(d, "io.stat")) {
      parse_io_stat_v2(*io, s.io_service_bytes, s.io_serviced);
    }
  } else {
    std::string cpuacct = dirs.dir("cpuacct");
    s.cpu_total = read_u64(cpuacct, "cpuacct.usage");
    if (auto per = read(cpuacct, "cpuacct.usage_percpu")) {
      for (const auto& f : fields(base::trim(*per))) {
        s.percpu.push_back(base::parse_uint64(f).value_or(0));
      }
    }
    auto st = read_keyed(cpuacct, "cpuacct.stat");
    s.cpu_user = runtime::cgroups::ticks_to_ns(st["user"], options.clk_tck);
    s.cpu_kernel = runtime::cgroups::ticks_to_ns(st["system"], options.clk_tck);
    auto thr = read_keyed(dirs.dir("cpu"), "cpu.stat");
    s.throttle_periods = thr["nr_periods"];
    s.throttle_throttled = thr["nr_throttled"];
    s.throttle_time = thr["throttled_time"];
    std::string mem = dirs.dir("memory");
    s.mem_usage = read_u64(mem, "memory.usage_in_bytes");
    s.mem_max_usage = read_u64(mem, "memory.max_usage_in_bytes");
    s.mem_limit = runtime::cgroups::parse_limit(read(mem, "memory.limit_in_bytes").value_or("max"))
                      .value_or(0);
    s.mem_stats = read_keyed(mem, "memory.stat");
    std::string pids = dirs.dir("pids");
    s.pids_current = read_u64(pids, "pids.current");
    s.pids_limit =
        runtime::cgroups::parse_limit(read(pids, "pids.max").value_or("max")).value_or(0);
    // The CFQ/BFQ files when the scheduler fills them, else the throttle layer's (runc's
    // order).
    std::string blkio = dirs.dir("blkio");
    for (auto [bytes_file, ops_file] :
         {std::pair{"blkio.io_service_bytes_recursive", "blkio.io_serviced_recursive"},
          std::pair{"blkio.bfq.io_service_bytes_recursive", "blkio.bfq.io_serviced_recursive"},
          std::pair{"blkio.throttle.io_service_bytes_recursive",
                    "blkio.throttle.io_serviced_recursive"}}) {
      auto b = parse_blkio_v1(read(blkio, bytes_file).value_or(""));
      auto o = parse_blkio_v1(read(blkio, ops_file).value_or(""));
      if (!b.empty() || !o.empty()) {
        s.io_service_bytes = std::move(b);
        s.io_serviced = std::move(o);
        break;
      }
    }
  }
  if (options.machine_memory > 0 && (s.mem_limit == 0 || s.mem_limit > options.machine_memory)) {
    s.mem_limit = options.machine_memory;
  }
  auto [sys, cpus] =
      parse_proc_stat(base::read_file(options.proc_stat).value_or(""), options.clk_tck);
  s.system_cpu = sys;
  s.online_cpus = cpus;
  if (!options.host_network && !options.net_dev.empty()) {
    s.networks = parse_net_dev(base::read_file(options.net_dev).value_or(""));
  }
  return s;
}

json to_json(const Sample& cur, const Sample* pre, const std::string& name, const std::string& id) {
  json j;
  j["read"] = rfc3339(cur.read_nano);
  j["preread"] = rfc3339(pre != nullptr ? pre->read_nano : 0);
  json pids = json::object();
  if (cur.pids_current != 0) {
    pids["current"] = cur.pids_current;
  }
  if (cur.pids_limit != 0) {
    pids["limit"] = cur.pids_limit;
  }
  j["pids_stats"] = pids;
  json blkio = json::object();
  for (const char* k : kBlkioKeys) {
    blkio[k] = json::array();
  }
  blkio["io_service_bytes_recursive"] = blkio_json(cur.io_service_bytes);
  blkio["io_serviced_recursive"] = blkio_json(cur.io_serviced);
  j["blkio_stats"] = blkio;
  j["num_procs"] = 0;
  j["storage_stats"] = json::object();
  j["cpu_stats"] = cpu_json(cur, true);
  j["precpu_stats"] = pre != nullptr ? cpu_json(*pre, true) : zero_cpu_json();
  json mem = {{"usage", cur.mem_usage}, {"stats", cur.mem_stats}, {"limit", cur.mem_limit}};
  if (cur.mem_max_usage) {
    mem["max_usage"] = *cur.mem_max_usage;
  }
  if (cur.mem_stats.empty()) {
    mem["stats"] = json::object();
  }
  j["memory_stats"] = mem;
  j["name"] = name;
  j["id"] = id;
  if (!cur.networks.empty()) {
    json nets = json::object();
    for (const auto& [ifname, d] : cur.networks) {
      nets[ifname] = {{"rx_bytes", d.rx_bytes},   {"rx_packets", d.rx_packets},
                      {"rx_errors", d.rx_errors}, {"rx_dropped", d.rx_dropped},
                      {"tx_bytes", d.tx_bytes},   {"tx_packets", d.tx_packets},
                      {"tx_errors", d.tx_errors}, {"tx_dropped", d.tx_dropped}};
    }
    j["networks"] = nets;
  }
  return j;
}

json zero_json(const std::string& name, const std::string& id) {
  json j;
  j["read"] = rfc3339(0);
  j["preread"] = rfc3339(0);
  j["pids_stats"] = json::object();
  json blkio = json::object();
  for (const char* k : kBlkioKeys) {
    blkio[k] = nullptr;
  }
  j["blkio_stats"] = blkio;
  j["num_procs"] = 0;
  j["storage_stats"] = json::object();
  j["cpu_stats"] = zero_cpu_json();
  j["precpu_stats"] = zero_cpu_json();
  j["memory_stats"] = json::object();
  j["name"] = name;
  j["id"] = id;
  return j;
}

}  // namespace mydocker::engine::stats
