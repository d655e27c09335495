// SPDX-License-Identifier: Apache-2.0
#include "engine/stats/stats.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include "runtime/base/file.h"
#include "tests/support/busybox_rootfs.h"

namespace mydocker::engine::stats {
namespace {

void put(const std::string& path, const std::string& text) {
  auto dir = path.substr(0, path.rfind('/'));
  ASSERT_TRUE(base::mkdir_all(dir, 0755));
  ASSERT_TRUE(base::write_file(path, text, O_CREAT | O_TRUNC));
}

class StatsTree : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = tmp_.path();
    put(root_ + "/proc/stat",
        "cpu  100 0 50 1000 10 0 5 7 0 0\ncpu0 50 0 25 500 5 0 2 3 0 0\n"
        "cpu1 50 0 25 500 5 0 3 4 0 0\nintr 1 2 3\n");
    put(root_ + "/proc/net/dev",
        "Inter-|   Receive                                                |  Transmit\n"
        " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets "
        "errs drop fifo colls carrier compressed\n"
        "    lo:     100       2    0    0    0     0          0         0      100       2 "
        "   0    0    0     0       0          0\n"
        "  eth0:     916       8    1    2    0     0          0         0      300       3 "
        "   4    5    0     0       0          0\n");
    std::string c = "/mydocker/abc";
    put(root_ + "/cg/cpuacct" + c + "/cpuacct.usage", "32044777\n");
    put(root_ + "/cg/cpuacct" + c + "/cpuacct.usage_percpu", "12637681 19407096 \n");
    put(root_ + "/cg/cpuacct" + c + "/cpuacct.stat", "user 0\nsystem 2\n");
    put(root_ + "/cg/cpu" + c + "/cpu.stat", "nr_periods 23\nnr_throttled 1\nthrottled_time 42\n");
    put(root_ + "/cg/memory" + c + "/memory.usage_in_bytes", "794624\n");
    put(root_ + "/cg/memory" + c + "/memory.max_usage_in_bytes", "3821568\n");
    put(root_ + "/cg/memory" + c + "/memory.limit_in_bytes", "67108864\n");
    put(root_ + "/cg/memory" + c + "/memory.stat",
        "cache 8192\nrss 159744\ntotal_inactive_file 4096\ninactive_file 4096\n");
    put(root_ + "/cg/pids" + c + "/pids.current", "3\n");
    put(root_ + "/cg/pids" + c + "/pids.max", "64\n");
    put(root_ + "/cg/blkio" + c + "/blkio.throttle.io_service_bytes_recursive",
        "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Async 12288\n8:0 Total 12288\nTotal "
        "12288\n");
    put(root_ + "/cg/blkio" + c + "/blkio.throttle.io_serviced_recursive",
        "8:0 Read 1\n8:0 Write 2\nTotal 3\n");
    std::string proc_cgroup =
        "9:name=systemd:/mydocker/abc\n8:pids:/mydocker/abc\n7:blkio:/mydocker/abc\n"
        "4:memory:/mydocker/abc\n2:cpuacct:/mydocker/abc\n1:cpu:/mydocker/abc\n0::/\n";
    std::map<std::string, std::string> mounts;
    for (const char* ctrl : {"cpu", "cpuacct", "memory", "pids", "blkio"}) {
      mounts[ctrl] = root_ + "/cg/" + ctrl;
    }
    dirs_ = cgroup_dirs(proc_cgroup, mounts, root_ + "/unified", false);
    opts_.proc_stat = root_ + "/proc/stat";
    opts_.net_dev = root_ + "/proc/net/dev";
    opts_.clk_tck = 100;
    opts_.machine_memory = 1 << 30;
  }

  testing::TempDir tmp_;
  std::string root_;
  CgroupDirs dirs_;
  ReadOptions opts_;
};

TEST_F(StatsTree, CgroupDirsFromProcCgroup) {
  EXPECT_EQ(dirs_.dir("memory"), root_ + "/cg/memory/mydocker/abc");
  EXPECT_EQ(dirs_.dir("cpuacct"), root_ + "/cg/cpuacct/mydocker/abc");
  EXPECT_EQ(dirs_.dir("freezer"), "");
  auto v2 = cgroup_dirs("0::/mydocker/x\n", {}, "/sys/fs/cgroup", true);
  EXPECT_EQ(v2.dir("memory"), "/sys/fs/cgroup/mydocker/x");
}

TEST_F(StatsTree, V1SampleAsDockersJson) {
  Sample s = read_sample(dirs_, opts_);
  EXPECT_EQ(s.cpu_total, 32044777u);
  EXPECT_EQ(s.percpu, (std::vector<uint64_t>{12637681, 19407096}));
  EXPECT_EQ(s.cpu_kernel, 20000000u);
  EXPECT_EQ(s.online_cpus, 2u);
  EXPECT_EQ(s.system_cpu, (100 + 50 + 1000 + 10 + 5) * 10000000ull);
  auto j = to_json(s, nullptr, "/tx-res", "abc");
  EXPECT_EQ(j["preread"], "0001-01-01T00:00:00Z");
  EXPECT_EQ(j["pids_stats"], (nlohmann::json{{"current", 3}, {"limit", 64}}));
  EXPECT_EQ(j["cpu_stats"]["throttling_data"]["periods"], 23);
  EXPECT_EQ(j["cpu_stats"]["throttling_data"]["throttled_time"], 42);
  EXPECT_EQ(j["precpu_stats"]["cpu_usage"]["total_usage"], 0);
  EXPECT_FALSE(j["precpu_stats"].contains("system_cpu_usage"));
  EXPECT_EQ(j["memory_stats"]["usage"], 794624);
  EXPECT_EQ(j["memory_stats"]["max_usage"], 3821568);
  EXPECT_EQ(j["memory_stats"]["limit"], 67108864);
  EXPECT_EQ(j["memory_stats"]["stats"]["cache"], 8192);
  auto& bytes = j["blkio_stats"]["io_service_bytes_recursive"];
  ASSERT_EQ(bytes.size(), 5u);  // "Total" summary line dropped
  EXPECT_EQ(bytes[0],
            (nlohmann::json{{"major", 8}, {"minor", 0}, {"op", "Read"}, {"value", 4096}}));
  EXPECT_EQ(j["blkio_stats"]["io_serviced_recursive"].size(), 2u);
  EXPECT_TRUE(j["blkio_stats"]["io_queue_recursive"].is_array());
  ASSERT_TRUE(j.contains("networks"));
  EXPECT_FALSE(j["networks"].contains("lo"));
  EXPECT_EQ(j["networks"]["eth0"]["rx_bytes"], 916);
  EXPECT_EQ(j["networks"]["eth0"]["rx_dropped"], 2);
  EXPECT_EQ(j["networks"]["eth0"]["tx_bytes"], 300);
  EXPECT_EQ(j["networks"]["eth0"]["tx_dropped"], 5);
  EXPECT_EQ(j["name"], "/tx-res");
}

TEST_F(StatsTree, PrecpuIsThePreviousSample) {
  Sample a = read_sample(dirs_, opts_);
  put(root_ + "/cg/cpuacct/mydocker/abc/cpuacct.usage", "33044777\n");
  Sample b = read_sample(dirs_, opts_);
  auto j = to_json(b, &a, "/x", "abc");
  EXPECT_EQ(j["precpu_stats"]["cpu_usage"]["total_usage"], 32044777);
  EXPECT_EQ(j["cpu_stats"]["cpu_usage"]["total_usage"], 33044777);
  EXPECT_NE(j["preread"], "0001-01-01T00:00:00Z");
  EXPECT_EQ(j["precpu_stats"]["online_cpus"], 2);
}

TEST_F(StatsTree, UnlimitedMemoryReportsMachineMemoryAndHostNetworkHasNone) {
  put(root_ + "/cg/memory/mydocker/abc/memory.limit_in_bytes", "9223372036854771712\n");
  opts_.host_network = true;
  Sample s = read_sample(dirs_, opts_);
  EXPECT_EQ(s.mem_limit, uint64_t{1} << 30);
  EXPECT_FALSE(to_json(s, nullptr, "/x", "abc").contains("networks"));
}

TEST_F(StatsTree, MissingControllersReadAsZero) {
  CgroupDirs none;
  Sample s = read_sample(none, opts_);
  EXPECT_EQ(s.cpu_total, 0u);
  EXPECT_EQ(s.mem_usage, 0u);
  auto j = to_json(s, nullptr, "/x", "abc");
  EXPECT_EQ(j["pids_stats"], nlohmann::json::object());
}

TEST_F(StatsTree, V2Files) {
  std::string d = root_ + "/v2/ctr";
  put(d + "/cpu.stat",
      "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 4\nnr_throttled 1\n"
      "throttled_usec 7\n");
  put(d + "/memory.current", "1000\n");
  put(d + "/memory.max", "max\n");
  put(d + "/memory.stat", "anon 10\ninactive_file 100\n");
  put(d + "/pids.current", "2\n");
  put(d + "/pids.max", "max\n");
  put(d + "/io.stat", "8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n");
  CgroupDirs v2;
  v2.v2 = true;
  v2.unified = d;
  Sample s = read_sample(v2, opts_);
  EXPECT_EQ(s.cpu_total, 1500000u);
  EXPECT_EQ(s.throttle_time, 7000u);
  EXPECT_TRUE(s.percpu.empty());
  auto j = to_json(s, nullptr, "/x", "abc");
  EXPECT_FALSE(j["memory_stats"].contains("max_usage"));
  EXPECT_EQ(j["memory_stats"]["limit"], 1 << 30);
  EXPECT_EQ(j["pids_stats"], (nlohmann::json{{"current", 2}}));
  EXPECT_EQ(j["blkio_stats"]["io_service_bytes_recursive"][1]["op"], "write");
  EXPECT_EQ(j["blkio_stats"]["io_service_bytes_recursive"][1]["value"], 20);
  EXPECT_FALSE(j["cpu_stats"]["cpu_usage"].contains("percpu_usage"));
}

TEST(StatsZero, StoppedContainerSampleIsDockers) {
  auto j = zero_json("/tx-exited", "e0");
  EXPECT_EQ(j.dump(),
            "{\"blkio_stats\":{\"io_merged_recursive\":null,\"io_queue_recursive\":null,"
            "\"io_service_bytes_recursive\":null,\"io_service_time_recursive\":null,"
            "\"io_serviced_recursive\":null,\"io_time_recursive\":null,\"io_wait_time_recursive\":"
            "null,\"sectors_recursive\":null},\"cpu_stats\":{\"cpu_usage\":{\"total_usage\":0,"
            "\"usage_in_kernelmode\":0,\"usage_in_usermode\":0},\"throttling_data\":{\"periods\":0,"
            "\"throttled_periods\":0,\"throttled_time\":0}},\"id\":\"e0\",\"memory_stats\":{},"
            "\"name\":\"/tx-exited\",\"num_procs\":0,\"pids_stats\":{},\"precpu_stats\":{"
            "\"cpu_usage\":{\"total_usage\":0,\"usage_in_kernelmode\":0,\"usage_in_usermode\":0},"
            "\"throttling_data\":{\"periods\":0,\"throttled_periods\":0,\"throttled_time\":0}},"
            "\"preread\":\"0001-01-01T00:00:00Z\",\"read\":\"0001-01-01T00:00:00Z\","
            "\"storage_stats\":{}}");
}

}  // namespace
}  // namespace mydocker::engine::stats
