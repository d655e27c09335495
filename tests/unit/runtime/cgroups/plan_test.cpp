// SPDX-License-Identifier: Apache-2.0
#include "runtime/cgroups/plan.h"

#include <gtest/gtest.h>

#include "runtime/cgroups/manager.h"

namespace mydocker::runtime::cgroups {

// Readable failures: gtest prints FileWrite vectors through this.
void PrintTo(const FileWrite& w, std::ostream* os);
void PrintTo(const FileWrite& w, std::ostream* os) {
  *os << "{" << w.controller << ", " << w.file << ", \"" << w.value << "\"}";
}

namespace {

using base::ErrorCode;
using W = std::vector<FileWrite>;

spec::Resources mem(std::optional<int64_t> limit, std::optional<int64_t> swap = std::nullopt,
                    std::optional<int64_t> reservation = std::nullopt) {
  spec::Resources r;
  r.memory = spec::Memory{};
  r.memory->limit = limit;
  r.memory->swap = swap;
  r.memory->reservation = reservation;
  return r;
}

spec::Resources cpu(std::optional<uint64_t> shares, std::optional<int64_t> quota = std::nullopt,
                    std::optional<uint64_t> period = std::nullopt, std::string cpus = "",
                    std::string mems = "") {
  spec::Resources r;
  r.cpu = spec::Cpu{};
  r.cpu->shares = shares;
  r.cpu->quota = quota;
  r.cpu->period = period;
  r.cpu->cpus = std::move(cpus);
  r.cpu->mems = std::move(mems);
  return r;
}

spec::Resources pids(int64_t limit) {
  spec::Resources r;
  r.pids = spec::Pids{limit};
  return r;
}

spec::Resources blkio() {
  spec::Resources r;
  r.block_io = spec::BlockIo{};
  r.block_io->weight = 500;
  r.block_io->weight_device.push_back({8, 0, 300, std::nullopt});
  r.block_io->throttle_read_bps_device.push_back({8, 0, 1048576});
  r.block_io->throttle_write_iops_device.push_back({8, 16, 100});
  return r;
}

spec::DeviceRule rule(bool allow, std::string type, std::optional<int64_t> major,
                      std::optional<int64_t> minor, std::string access) {
  spec::DeviceRule d;
  d.allow = allow;
  d.type = std::move(type);
  d.major = major;
  d.minor = minor;
  d.access = std::move(access);
  return d;
}

spec::Resources devices(std::vector<spec::DeviceRule> rules) {
  spec::Resources r;
  r.devices = std::move(rules);
  return r;
}

spec::Resources oom_swappiness() {
  spec::Resources r = mem(std::nullopt);
  r.memory->swappiness = 0;
  r.memory->disable_oom_killer = true;
  return r;
}

spec::Resources unified(std::string key, std::string value) {
  spec::Resources r;
  r.unified[std::move(key)] = std::move(value);
  return r;
}

spec::Resources realtime() {
  spec::Resources r = cpu(std::nullopt);
  r.cpu->realtime_period = 1000000;
  r.cpu->realtime_runtime = 950000;
  return r;
}

struct V1Row {
  const char* name;
  spec::Resources resources;
  v1::Features features;
  W want;
};

v1::Features with_memsw(std::optional<int64_t> current) {
  v1::Features f;
  f.current_memsw_limit = current;
  return f;
}

v1::Features bfq() {
  v1::Features f;
  f.blkio_bfq = true;
  return f;
}

v1::Features no_swap_accounting() {
  v1::Features f;
  f.swap_accounting = false;
  return f;
}

TEST(V1PlanTest, EachFieldToItsFile) {
  const std::vector<V1Row> rows = {
      {"empty", {}, {}, {}},
      {"limit", mem(64 << 20), {}, {{"memory", "memory.limit_in_bytes", "67108864"}}},
      {"limit unlimited", mem(-1), {}, {{"memory", "memory.limit_in_bytes", "-1"}}},
      {"limit 0 is unset", mem(0), {}, {}},
      {"fresh: limit then memsw",
       mem(64 << 20, 128 << 20),
       {},
       {{"memory", "memory.limit_in_bytes", "67108864"},
        {"memory", "memory.memsw.limit_in_bytes", "134217728"}}},
      {"raising past current memsw: memsw first",
       mem(256 << 20, 512 << 20),
       with_memsw(128 << 20),
       {{"memory", "memory.memsw.limit_in_bytes", "536870912"},
        {"memory", "memory.limit_in_bytes", "268435456"}}},
      {"lowering: limit first",
       mem(32 << 20, 64 << 20),
       with_memsw(128 << 20),
       {{"memory", "memory.limit_in_bytes", "33554432"},
        {"memory", "memory.memsw.limit_in_bytes", "67108864"}}},
      {"swap unlimited",
       mem(64 << 20, -1),
       {},
       {{"memory", "memory.limit_in_bytes", "67108864"},
        {"memory", "memory.memsw.limit_in_bytes", "-1"}}},
      {"unlimited swap without accounting is fine",
       mem(64 << 20, -1),
       no_swap_accounting(),
       {{"memory", "memory.limit_in_bytes", "67108864"}}},
      {"reservation",
       mem(std::nullopt, std::nullopt, 32 << 20),
       {},
       {{"memory", "memory.soft_limit_in_bytes", "33554432"}}},
      {"swappiness and oom killer",
       oom_swappiness(),
       {},
       {{"memory", "memory.swappiness", "0"}, {"memory", "memory.oom_control", "1"}}},
      {"shares", cpu(512), {}, {{"cpu", "cpu.shares", "512"}}},
      {"quota and period: period first",
       cpu(std::nullopt, 50000, 100000),
       {},
       {{"cpu", "cpu.cfs_period_us", "100000"}, {"cpu", "cpu.cfs_quota_us", "50000"}}},
      {"quota unlimited", cpu(std::nullopt, -1), {}, {{"cpu", "cpu.cfs_quota_us", "-1"}}},
      {"realtime",
       realtime(),
       {},
       {{"cpu", "cpu.rt_period_us", "1000000"}, {"cpu", "cpu.rt_runtime_us", "950000"}}},
      {"cpuset before cpu",
       cpu(1024, std::nullopt, std::nullopt, "0-1", "0"),
       {},
       {{"cpuset", "cpuset.cpus", "0-1"},
        {"cpuset", "cpuset.mems", "0"},
        {"cpu", "cpu.shares", "1024"}}},
      {"pids", pids(5), {}, {{"pids", "pids.max", "5"}}},
      {"pids 0 is max", pids(0), {}, {{"pids", "pids.max", "max"}}},
      {"pids -1 is max", pids(-1), {}, {{"pids", "pids.max", "max"}}},
      {"blkio cfq",
       blkio(),
       {},
       {{"blkio", "blkio.weight", "500"},
        {"blkio", "blkio.weight_device", "8:0 300"},
        {"blkio", "blkio.throttle.read_bps_device", "8:0 1048576"},
        {"blkio", "blkio.throttle.write_iops_device", "8:16 100"}}},
      {"blkio bfq",
       blkio(),
       bfq(),
       {{"blkio", "blkio.bfq.weight", "500"},
        {"blkio", "blkio.bfq.weight_device", "8:0 300"},
        {"blkio", "blkio.throttle.read_bps_device", "8:0 1048576"},
        {"blkio", "blkio.throttle.write_iops_device", "8:16 100"}}},
      {"devices in order",
       devices({rule(false, "a", std::nullopt, std::nullopt, "rwm"), rule(true, "c", 1, 3, "rwm"),
                rule(true, "c", 136, std::nullopt, "rw"), rule(false, "b", 8, -1, "m")}),
       {},
       {{"devices", "devices.deny", "a *:* rwm"},
        {"devices", "devices.allow", "c 1:3 rwm"},
        {"devices", "devices.allow", "c 136:* rw"},
        {"devices", "devices.deny", "b 8:* m"}}},
  };
  for (const auto& row : rows) {
    auto got = v1::writes(row.resources, row.features);
    ASSERT_TRUE(got) << row.name << ": " << got.error().to_string();
    EXPECT_EQ(*got, row.want) << row.name;
  }
}

struct ErrRow {
  const char* name;
  spec::Resources resources;
  ErrorCode code;
  const char* text;
};

TEST(V1PlanTest, RefusedInput) {
  const std::vector<ErrRow> rows = {
      {"swap below limit", mem(64 << 20, 32 << 20), ErrorCode::InvalidArgument,
       "linux.resources.memory.swap `33554432` is below memory.limit `67108864`"},
      {"unified on v1", unified("memory.high", "1G"), ErrorCode::InvalidArgument,
       "linux.resources.unified `memory.high`"},
      {"bad device type", devices({rule(true, "x", 1, 3, "rwm")}), ErrorCode::InvalidArgument,
       "linux.resources.devices[0].type: `x`"},
      {"bad device access", devices({rule(true, "c", 1, 3, "rwx")}), ErrorCode::InvalidArgument,
       "linux.resources.devices[0].access: `rwx`"},
      {"empty device access", devices({rule(true, "c", 1, 3, "")}), ErrorCode::InvalidArgument,
       "linux.resources.devices[0].access"},
  };
  for (const auto& row : rows) {
    auto got = v1::writes(row.resources, {});
    ASSERT_FALSE(got) << row.name;
    EXPECT_EQ(got.error().code(), row.code) << row.name;
    EXPECT_NE(got.error().message().find(row.text), std::string::npos)
        << row.name << ": " << got.error().message();
  }
  auto r = v1::writes(mem(64 << 20, 128 << 20), no_swap_accounting());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::FailedPrecondition);
  EXPECT_NE(r.error().message().find("memory.memsw.limit_in_bytes"), std::string::npos);
}

struct V2Row {
  const char* name;
  spec::Resources resources;
  W want;
};

TEST(V2PlanTest, EachFieldToItsFile) {
  const std::vector<V2Row> rows = {
      {"empty", {}, {}},
      {"limit", mem(64 << 20), {{"memory", "memory.max", "67108864"}}},
      {"limit unlimited", mem(-1), {{"memory", "memory.max", "max"}}},
      {"swap is memsw minus limit",
       mem(64 << 20, 96 << 20),
       {{"memory", "memory.max", "67108864"}, {"memory", "memory.swap.max", "33554432"}}},
      {"swap equal to limit: no swap",
       mem(64 << 20, 64 << 20),
       {{"memory", "memory.max", "67108864"}, {"memory", "memory.swap.max", "0"}}},
      {"swap unlimited",
       mem(64 << 20, -1),
       {{"memory", "memory.max", "67108864"}, {"memory", "memory.swap.max", "max"}}},
      {"reservation",
       mem(std::nullopt, std::nullopt, 32 << 20),
       {{"memory", "memory.low", "33554432"}}},
      {"swappiness and oom killer have no v2 file", oom_swappiness(), {}},
      {"shares to weight", cpu(1024), {{"cpu", "cpu.weight", "39"}}},
      {"quota and period", cpu(std::nullopt, 50000, 100000), {{"cpu", "cpu.max", "50000 100000"}}},
      {"period alone", cpu(std::nullopt, std::nullopt, 200000), {{"cpu", "cpu.max", "max 200000"}}},
      {"quota alone", cpu(std::nullopt, 25000), {{"cpu", "cpu.max", "25000"}}},
      {"quota unlimited", cpu(std::nullopt, -1, 100000), {{"cpu", "cpu.max", "max 100000"}}},
      {"cpuset",
       cpu(std::nullopt, std::nullopt, std::nullopt, "1", "0"),
       {{"cpuset", "cpuset.cpus", "1"}, {"cpuset", "cpuset.mems", "0"}}},
      {"pids", pids(5), {{"pids", "pids.max", "5"}}},
      {"pids unlimited", pids(0), {{"pids", "pids.max", "max"}}},
      {"io",
       blkio(),
       {{"io", "io.weight", "default 4950"},
        {"io", "io.weight", "8:0 2930"},
        {"io", "io.max", "8:0 rbps=1048576"},
        {"io", "io.max", "8:16 wiops=100"}}},
      {"device rules are a BPF program, not files",
       devices({rule(false, "c", 1, 3, "rwm"), rule(true, "b", 8, 0, "r")}),
       {}},
      {"docker default devices are accepted",
       devices({rule(false, "a", std::nullopt, std::nullopt, "rwm"), rule(true, "c", 1, 3, "rwm")}),
       {}},
      {"privileged allow-all is accepted",
       devices({rule(true, "a", std::nullopt, std::nullopt, "rwm")}),
       {}},
      {"unified raw file",
       unified("memory.high", "1073741824"),
       {{"memory", "memory.high", "1073741824"}}},
  };
  for (const auto& row : rows) {
    auto got = v2::writes(row.resources);
    ASSERT_TRUE(got) << row.name << ": " << got.error().to_string();
    EXPECT_EQ(*got, row.want) << row.name;
  }
}

TEST(V2PlanTest, UnifiedOverridesTypedFields) {
  spec::Resources r = mem(64 << 20);
  r.unified["memory.max"] = "max";
  auto got = v2::writes(r);
  ASSERT_TRUE(got);
  W want = {{"memory", "memory.max", "67108864"}, {"memory", "memory.max", "max"}};
  EXPECT_EQ(*got, want);
}

TEST(V2PlanTest, RefusedInput) {
  const std::vector<ErrRow> rows = {
      {"swap without limit", mem(std::nullopt, 64 << 20), ErrorCode::InvalidArgument,
       "needs a memory limit"},
      {"swap below limit", mem(64 << 20, 32 << 20), ErrorCode::InvalidArgument,
       "is below memory.limit"},
      {"bad device type", devices({rule(true, "x", 1, 3, "rwm")}), ErrorCode::InvalidArgument,
       "linux.resources.devices[0].type: `x`"},
      {"realtime", realtime(), ErrorCode::NotImplemented, "realtime"},
      {"unified path escape", unified("../../memory.max", "1"), ErrorCode::InvalidArgument,
       "`../../memory.max`"},
      {"unified procs", unified("cgroup.procs", "1"), ErrorCode::InvalidArgument, "`cgroup.procs`"},
      {"unified no dot", unified("memory", "1"), ErrorCode::InvalidArgument, "`memory`"},
      {"unified leading dot", unified(".max", "1"), ErrorCode::InvalidArgument, "`.max`"},
  };
  for (const auto& row : rows) {
    auto got = v2::writes(row.resources);
    ASSERT_FALSE(got) << row.name;
    EXPECT_EQ(got.error().code(), row.code) << row.name;
    EXPECT_NE(got.error().message().find(row.text), std::string::npos)
        << row.name << ": " << got.error().message();
  }
}

TEST(SharesToWeightTest, EdgeValues) {
  const std::vector<std::pair<uint64_t, uint64_t>> rows = {
      {0, 0},           // unset stays unset
      {1, 1},           // below the v1 minimum: clamped to 2
      {2, 1},           // v1 minimum -> v2 minimum
      {1024, 39},       // Docker's default share
      {262144, 10000},  // v1 maximum -> v2 maximum
      {1000000, 10000}, {131073, 5000},
  };
  for (const auto& [shares, weight] : rows) {
    EXPECT_EQ(shares_to_weight(shares), weight) << "shares " << shares;
  }
  // Monotonic over the whole range: more shares never means less weight.
  uint64_t prev = 0;
  for (uint64_t s = 2; s <= 262144; s += 97) {
    uint64_t w = shares_to_weight(s);
    EXPECT_GE(w, prev);
    EXPECT_GE(w, 1u);
    EXPECT_LE(w, 10000u);
    prev = w;
  }
}

}  // namespace
}  // namespace mydocker::runtime::cgroups
