// SPDX-License-Identifier: Apache-2.0
#include "cmd/mydocker/streams.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

namespace mydocker::cli {
namespace {

Json sample() {
  return Json::parse(R"({
    "id": "5eea37538ab9ca92f7f626a7a4be29bf034189618360308a3b9df05e335c8dfc",
    "name": "/tx-res",
    "cpu_stats": {"cpu_usage": {"total_usage": 35289665, "percpu_usage": [1, 2]},
                  "system_cpu_usage": 8954910000000, "online_cpus": 2},
    "precpu_stats": {"cpu_usage": {"total_usage": 34205708},
                     "system_cpu_usage": 8952910000000, "online_cpus": 2},
    "memory_stats": {"usage": 778240, "limit": 67108864,
                     "stats": {"total_inactive_file": 8192, "inactive_file": 4096}},
    "pids_stats": {"current": 3, "limit": 64},
    "blkio_stats": {"io_service_bytes_recursive": [
        {"major": 8, "minor": 0, "op": "Read", "value": 4096},
        {"major": 8, "minor": 0, "op": "Write", "value": 2000000},
        {"major": 8, "minor": 0, "op": "Total", "value": 2004096}]},
    "networks": {"eth0": {"rx_bytes": 916, "tx_bytes": 0},
                 "eth1": {"rx_bytes": 84, "tx_bytes": 1000}}
  })");
}

TEST(StatsFormulas, CpuPercentIsDockersFormula) {
  // (35289665 - 34205708) / (8954910000000 - 8952910000000) * 2 * 100
  EXPECT_NEAR(cpu_percent(sample()), 1083957.0 / 2e9 * 2 * 100, 1e-9);
  Json no_pre = sample();
  no_pre["precpu_stats"] = Json::object();
  EXPECT_GT(cpu_percent(no_pre), 0.0);
  Json idle = sample();
  idle["cpu_stats"]["cpu_usage"]["total_usage"] = 34205708;
  EXPECT_EQ(cpu_percent(idle), 0.0);
  Json no_online = sample();
  no_online["cpu_stats"].erase("online_cpus");  // falls back to len(percpu_usage)
  EXPECT_NEAR(cpu_percent(no_online), cpu_percent(sample()), 1e-9);
}

TEST(StatsFormulas, MemoryWithoutCacheV1AndV2) {
  EXPECT_EQ(mem_usage_no_cache(sample()), 778240.0 - 8192.0);  // v1: total_inactive_file
  Json v2 = sample();
  v2["memory_stats"]["stats"].erase("total_inactive_file");
  EXPECT_EQ(mem_usage_no_cache(v2), 778240.0 - 4096.0);
  EXPECT_NEAR(mem_percent(sample()), (778240.0 - 8192.0) / 67108864.0 * 100.0, 1e-9);
  Json nolimit = sample();
  nolimit["memory_stats"]["limit"] = 0;
  EXPECT_EQ(mem_percent(nolimit), 0.0);
}

TEST(StatsFormulas, IoSums) {
  EXPECT_EQ(block_io(sample()), (std::pair<uint64_t, uint64_t>{4096, 2000000}));
  EXPECT_EQ(net_io(sample()), (std::pair<uint64_t, uint64_t>{1000, 1000}));
}

TEST(StatsFormulas, BytesSizeIsGoUnits) {
  EXPECT_EQ(bytes_size(0), "0B");
  EXPECT_EQ(bytes_size(1536), "1.5KiB");
  EXPECT_EQ(bytes_size(67108864), "64MiB");
  EXPECT_EQ(bytes_size(770048), "752KiB");
}

TEST(StatsRow, CellsAsDockerShowsThem) {
  OJson row = stats_row(sample(), "tx-res", false);
  EXPECT_EQ(row["ID"], "5eea37538ab9");
  EXPECT_EQ(row["Name"], "tx-res");
  EXPECT_EQ(row["CPUPerc"], "0.11%");
  EXPECT_EQ(row["MemUsage"], "752KiB / 64MiB");
  EXPECT_EQ(row["MemPerc"], "1.15%");
  EXPECT_EQ(row["NetIO"], "1kB / 1kB");
  EXPECT_EQ(row["BlockIO"], "4.1kB / 2MB");
  EXPECT_EQ(row["PIDs"], "3");
  EXPECT_EQ(stats_row(sample(), "x", true)["ID"].get<std::string>().size(), 64u);
  OJson bad = stats_row(sample(), "x", false, false);
  EXPECT_EQ(bad["CPUPerc"], "--");
  EXPECT_EQ(bad["PIDs"], "--");
}

TEST(EventLine, DockersDefaultFormatInUtc) {
  ::setenv("TZ", "UTC", 1);
  ::tzset();
  Json e = Json::parse(R"({"status":"die","id":"abc","from":"busybox","Type":"container",
    "Action":"die","Actor":{"ID":"abc","Attributes":{"name":"x","exitCode":"0","image":"busybox"}},
    "scope":"local","time":1795976788,"timeNano":1795976788009553504})");
  EXPECT_EQ(event_line(e),
            "2026-11-29T18:26:28.009553504Z container die abc (exitCode=0, image=busybox, "
            "name=x)\n");
  Json bare = Json::parse(R"({"Type":"network","Action":"connect","Actor":{"ID":"n"},
    "time":1795976788})");
  EXPECT_EQ(event_line(bare), "2026-11-29T18:26:28.000000000Z network connect n\n");
}

TEST(EventLine, TemplateDataUsesGoFieldNames) {
  Json e = Json::parse(R"({"status":"start","id":"abc","from":"busybox","Type":"container",
    "Action":"start","Actor":{"ID":"abc","Attributes":{"name":"x"}},"scope":"local",
    "time":5,"timeNano":5000000001})");
  OJson d = event_template_data(e);
  EXPECT_EQ(d["Status"], "start");
  EXPECT_EQ(d["ID"], "abc");
  EXPECT_EQ(d["From"], "busybox");
  EXPECT_EQ(d["Actor"]["Attributes"]["name"], "x");
  EXPECT_EQ(d["Scope"], "local");
  EXPECT_EQ(d["TimeNano"], 5000000001u);
  auto t = Template::parse("{{.Type}} {{.Action}} {{.Actor.Attributes.name}}");
  ASSERT_TRUE(t);
  EXPECT_EQ(*t->execute(d), "container start x");
}

}  // namespace
}  // namespace mydocker::cli
