// SPDX-License-Identifier: Apache-2.0
#include "engine/store/record.h"

#include <gtest/gtest.h>

#include "runtime/base/file.h"
#include "tests/support/busybox_rootfs.h"

namespace mydocker::engine::store {
namespace {

Record sample() {
  Record r;
  ContainerInfo& c = r.info;
  c.id = std::string(32, 'a') + std::string(32, 'b');
  c.name = "/tx-c1";
  c.created = "2026-11-29T18:25:47.857173354Z";
  c.path = "sh";
  c.args = {"-c", "exit 3"};
  c.state.status = Status::Exited;
  c.state.exit_code = 3;
  c.state.started_at = "2026-11-29T18:25:48Z";
  c.state.finished_at = "2026-11-29T18:25:49.5Z";
  c.image_id = "sha256:" + std::string(64, 'e');
  c.config.image = "busybox";
  c.config.cmd = std::vector<std::string>{"sh", "-c", "exit 3"};
  c.config.labels = {{"tx-label", "1"}};
  c.config.hostname = "aaaaaaaaaaaa";
  c.host_config.memory = 64 << 20;
  c.host_config.restart_policy = {"on-failure", 2};
  c.restart_count = 2;
  c.driver = "overlay2";
  c.log_path = "/x/y-json.log";
  c.hostname_path = "/x/hostname";
  c.hosts_path = "/x/hosts";
  c.resolv_conf_path = "/x/resolv.conf";
  r.has_been_started_before = true;
  r.has_been_manually_stopped = true;
  return r;
}

TEST(RecordTest, RoundTripOnDisk) {
  testing::TempDir tmp;
  Record r = sample();
  ASSERT_TRUE(save(tmp.path(), r).has_value());
  auto back = load(tmp.path());
  ASSERT_TRUE(back.has_value()) << back.error().to_string();
  const ContainerInfo& c = back->info;
  EXPECT_EQ(c.id, r.info.id);
  EXPECT_EQ(c.name, "/tx-c1");
  EXPECT_EQ(c.created, r.info.created);
  EXPECT_EQ(c.path, "sh");
  EXPECT_EQ(c.args, r.info.args);
  EXPECT_EQ(c.state.status, Status::Exited);
  EXPECT_EQ(c.state.exit_code, 3);
  EXPECT_EQ(c.state.finished_at, "2026-11-29T18:25:49.5Z");
  EXPECT_EQ(c.image_id, r.info.image_id);
  EXPECT_EQ(c.config.cmd, r.info.config.cmd);
  EXPECT_EQ(c.config.labels, r.info.config.labels);
  EXPECT_EQ(c.host_config.memory, 64 << 20);
  EXPECT_EQ(c.host_config.restart_policy.name, "on-failure");
  EXPECT_EQ(c.host_config.restart_policy.maximum_retry_count, 2);
  EXPECT_EQ(c.restart_count, 2);
  EXPECT_EQ(c.driver, "overlay2");
  EXPECT_EQ(c.log_path, "/x/y-json.log");
  EXPECT_TRUE(back->has_been_started_before);
  EXPECT_TRUE(back->has_been_manually_stopped);
}

TEST(RecordTest, DockerShape) {
  auto j = config_v2_json(sample());
  for (const char* key : {"ID", "Created", "Path", "Args", "State", "Image", "Name", "RestartCount",
                          "Driver", "LogPath", "HostnamePath", "HostsPath", "ResolvConfPath",
                          "Config", "HasBeenManuallyStopped", "HasBeenStartedBefore"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["State"]["Status"], "exited");
  EXPECT_EQ(j["State"]["Running"], false);
  EXPECT_EQ(j["State"]["ExitCode"], 3);
  EXPECT_EQ(j["Config"]["Image"], "busybox");
}

TEST(RecordTest, DamagedRecordsAreRefusedAndSetAside) {
  testing::TempDir tmp;
  std::string dir = tmp.path() + "/" + sample().info.id;
  ASSERT_TRUE(base::mkdir_all(dir).has_value());
  EXPECT_EQ(load(dir).error().code(), base::ErrorCode::NotFound);

  const char* bad_docs[] = {
      "{not json",
      "[]",
      R"({"ID":"short","Created":"x","State":{},"Image":"i","Name":"/n","Config":{}})",
      R"({"ID":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","Created":"x",
          "State":{"Status":"sleeping","StartedAt":"","FinishedAt":""},"Image":"i","Name":"/n",
          "Config":{}})",
      R"({"ID":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","Created":"x",
          "State":{"Status":"exited","StartedAt":"","FinishedAt":"","ExitCode":"3"},"Image":"i",
          "Name":"/n","Config":{}})",
  };
  ASSERT_TRUE(base::write_file_atomic(dir + "/hostconfig.json", "{}").has_value());
  for (const char* doc : bad_docs) {
    ASSERT_TRUE(base::write_file_atomic(dir + "/config.v2.json", doc).has_value());
    auto r = load(dir);
    ASSERT_FALSE(r.has_value()) << doc;
    EXPECT_EQ(r.error().code(), base::ErrorCode::InvalidArgument) << doc;
  }
  // A good config.v2.json with a missing hostconfig.json is damaged too.
  ASSERT_TRUE(save(dir, sample()).has_value());
  ASSERT_TRUE(load(dir).has_value());
  ::unlink((dir + "/hostconfig.json").c_str());
  EXPECT_EQ(load(dir).error().code(), base::ErrorCode::InvalidArgument);

  auto moved = set_aside(dir);
  ASSERT_TRUE(moved.has_value());
  EXPECT_EQ(*moved, dir + ".damaged");
  EXPECT_FALSE(base::path_exists(dir));
  EXPECT_TRUE(base::path_exists(dir + ".damaged/config.v2.json"));
}

}  // namespace
}  // namespace mydocker::engine::store
