// SPDX-License-Identifier: Apache-2.0
// Container stats (GET /containers/{id}/stats): one sample read from the container's cgroup
// files (v1 hierarchies or the v2 unified tree), its network namespace's /proc/<pid>/net/dev
// and the host's /proc/stat, turned into Docker's types.StatsJSON.
//
// Every path is a parameter, so tests build a fake cgroup tree and fake proc files. Missing
// files read as absent values (a controller not mounted), never as errors.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mydocker::engine::stats {

// Where one container's cgroup lives.
struct CgroupDirs {
  bool v2 = false;
  std::string unified;                    // v2: the container's directory
  std::map<std::string, std::string> v1;  // v1: controller ("memory", "cpuacct", ...) -> dir
  std::string dir(const std::string& controller) const;  // "" when unknown
};

// The dirs from /proc/<pid>/cgroup's text and the host's mounts (controller -> mount point
// for v1; the cgroup2 mount point). Lines "N:ctrl,ctrl:/path" map each controller to
// mount + path; on a v2 host ("0::/path" with `v2`) the unified dir is unified_mount + path.
CgroupDirs cgroup_dirs(std::string_view proc_cgroup,
                       const std::map<std::string, std::string>& v1_mounts,
                       const std::string& unified_mount, bool v2);

struct BlkioEntry {
  uint64_t major = 0;
  uint64_t minor = 0;
  std::string op;
  uint64_t value = 0;
};

struct NetDev {
  uint64_t rx_bytes = 0, rx_packets = 0, rx_errors = 0, rx_dropped = 0;
  uint64_t tx_bytes = 0, tx_packets = 0, tx_errors = 0, tx_dropped = 0;
};

struct Sample {
  int64_t read_nano = 0;  // Unix nanoseconds of the read
  bool v2 = false;
  // cpu
  uint64_t cpu_total = 0;
  uint64_t cpu_kernel = 0;
  uint64_t cpu_user = 0;
  std::vector<uint64_t> percpu;  // v1 only
  uint64_t system_cpu = 0;       // host, nanoseconds (Docker's system_cpu_usage)
  uint32_t online_cpus = 0;
  uint64_t throttle_periods = 0;
  uint64_t throttle_throttled = 0;
  uint64_t throttle_time = 0;  // nanoseconds
  // memory
  uint64_t mem_usage = 0;
  std::optional<uint64_t> mem_max_usage;  // v1 only
  uint64_t mem_limit = 0;
  std::map<std::string, uint64_t> mem_stats;
  // pids
  uint64_t pids_current = 0;
  uint64_t pids_limit = 0;  // 0: none
  // blkio
  std::vector<BlkioEntry> io_service_bytes;
  std::vector<BlkioEntry> io_serviced;
  // networks (lo excluded); absent when the container has none of its own
  std::map<std::string, NetDev> networks;
};

struct ReadOptions {
  std::string proc_stat = "/proc/stat";
  std::string net_dev;          // "/proc/<pid>/net/dev"; "" -> no networks
  bool host_network = false;    // the host's interfaces are not the container's: none
  uint64_t machine_memory = 0;  // an unlimited (or larger) memory limit reports this
  long clk_tck = 100;           // sysconf(_SC_CLK_TCK)
};

Sample read_sample(const CgroupDirs& dirs, const ReadOptions& options);

// Pure parsers.
std::map<std::string, NetDev> parse_net_dev(std::string_view text);  // lo excluded
// The "cpu" line of /proc/stat: (user..softirq ticks -> ns, number of cpuN lines).
std::pair<uint64_t, uint32_t> parse_proc_stat(std::string_view text, long clk_tck);
// v1 blkio "8:0 Read 4096" lines ("Total" dropped); v2 io.stat's "8:0 rbytes=.. wbytes=.."
// as entries of (bytes: rbytes/wbytes, ops: rios/wios) with ops "read"/"write".
std::vector<BlkioEntry> parse_blkio_v1(std::string_view text);
void parse_io_stat_v2(std::string_view text, std::vector<BlkioEntry>& bytes,
                      std::vector<BlkioEntry>& ops);

// types.StatsJSON of `cur` with precpu from `pre` (nullptr: zeroed precpu, preread the zero
// time). `name` with its leading "/".
nlohmann::json to_json(const Sample& cur, const Sample* pre, const std::string& name,
                       const std::string& id);
// The sample of a container that does not run (transcript 101).
nlohmann::json zero_json(const std::string& name, const std::string& id);

}  // namespace mydocker::engine::stats
