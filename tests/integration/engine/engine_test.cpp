// SPDX-License-Identifier: Apache-2.0
// LocalDaemon end to end: private data and exec roots, a busybox image imported from the
// test rootfs, real shims (the fixture is testing::LocalDaemonTest: subreaper, reaping,
// removal of every container and the no-mount-left check at teardown).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "engine/daemon.h"
#include "engine/local_daemon.h"
#include "engine/logs/json_file.h"
#include "runtime/base/file.h"
#include "runtime/base/strings.h"
#include "tests/support/busybox_rootfs.h"
#include "tests/support/cgroup_cleanup.h"
#include "tests/support/local_daemon.h"
#include "tests/support/poll.h"
#include "tests/support/require.h"

namespace mydocker::engine {
namespace {

using testing::Need;
using namespace std::chrono_literals;

constexpr const char* kCgroupParent = "mydocker-engine-test";

[[maybe_unused]] ::testing::Environment* const kCgroupCleanup =
    ::testing::AddGlobalTestEnvironment(new testing::CgroupParentCleanup(kCgroupParent));

using testing::mounts_under;

ListOptions all_opts() {
  ListOptions o;
  o.all = true;
  return o;
}

ListOptions status_exited() {
  ListOptions o;
  o.filters = {{"status", {"exited"}}};
  return o;
}

class RootEngineTest : public testing::LocalDaemonTest {
 protected:
  RootEngineTest() : LocalDaemonTest(kCgroupParent) {}

  std::string create(std::vector<std::string> cmd, std::string name = "",
                     std::function<void(HostConfig&)> host = {}) {
    CreateRequest req;
    req.name = std::move(name);
    req.config.image = "busybox";
    req.config.cmd = std::move(cmd);
    if (host) {
      host(req.host_config);
    }
    auto r = d_->create(std::move(req));
    EXPECT_TRUE(r.has_value()) << r.error().to_string();
    return r ? r->id : "";
  }

  std::string run(std::vector<std::string> cmd, std::string name = "",
                  std::function<void(HostConfig&)> host = {}) {
    std::string id = create(std::move(cmd), std::move(name), std::move(host));
    auto r = d_->start(id);
    EXPECT_TRUE(r.has_value()) << r.error().to_string();
    return id;
  }

  ContainerInfo inspect(const std::string& ref) {
    auto r = d_->inspect(ref, false);
    EXPECT_TRUE(r.has_value()) << r.error().to_string();
    return r ? *r : ContainerInfo{};
  }
};

TEST_F(RootEngineTest, RunExitsWithItsCode) {
  std::string id = run({"sh", "-c", "exit 3"}, "exit3");
  auto w = d_->wait("exit3", WaitCondition::NotRunning);
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(w->status_code, 3);
  auto c = inspect(id);
  EXPECT_EQ(c.state.status, Status::Exited);
  EXPECT_EQ(c.state.exit_code, 3);
  EXPECT_EQ(c.name, "/exit3");
  EXPECT_EQ(c.path, "sh");
  EXPECT_EQ(c.driver, "overlay2");
  EXPECT_NE(c.state.finished_at, "0001-01-01T00:00:00Z");
  EXPECT_TRUE(human_status(c, ::time(nullptr)).starts_with("Exited (3) "));
  // Start-again and stop-again are not modified (304).
  EXPECT_EQ(d_->stop(id, std::nullopt, std::nullopt).error().code(), base::ErrorCode::NotModified);
  // A created container's wait returns at once with 0.
  std::string fresh = create({"true"});
  EXPECT_EQ(d_->wait(fresh, WaitCondition::NotRunning)->status_code, 0);
  // The listing: running only by default, all with all=true.
  EXPECT_TRUE(d_->list({})->empty());
  EXPECT_EQ(d_->list(all_opts())->size(), 2u);
  auto exited = d_->list(status_exited());
  ASSERT_EQ(exited->size(), 1u);
  EXPECT_EQ(exited->front().id, id);
}

TEST_F(RootEngineTest, NamesAndErrorsInDockerWords) {
  std::string id = create({"true"}, "web");
  CreateRequest dup;
  dup.name = "web";
  dup.config.image = "busybox";
  auto r = d_->create(dup);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), base::ErrorCode::Conflict);
  EXPECT_NE(r.error().message().find(
                "The container name \"/web\" is already in use by container \"" + id),
            std::string::npos);
  CreateRequest noimg;
  noimg.config.image = "tx-nosuch-image";
  EXPECT_EQ(d_->create(noimg).error().message(), "No such image: tx-nosuch-image:latest");
  EXPECT_EQ(d_->inspect("tx-nosuch", false).error().message(), "No such container: tx-nosuch");
  EXPECT_EQ(inspect(id.substr(0, 10)).id, id);
  // A random name when none is given.
  std::string anon = create({"true"});
  EXPECT_NE(inspect(anon).name.find('_'), std::string::npos);
  // Newest first; limit keeps the newest.
  auto all = d_->list(all_opts());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, anon);
  EXPECT_EQ((*all)[1].id, id);
  ListOptions newest;
  newest.limit = 1;
  auto one = d_->list(newest);
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ(one->front().id, anon);
  // Rename.
  ASSERT_TRUE(d_->rename("web", "web2").has_value());
  EXPECT_EQ(inspect("web2").id, id);
  EXPECT_EQ(d_->inspect("web", false).error().code(), base::ErrorCode::NotFound);
  EXPECT_EQ(d_->rename("web2", "web2").error().message(),
            "Renaming a container with the same name as its current name");
  auto taken = d_->rename(anon, "web2");
  EXPECT_EQ(taken.error().code(), base::ErrorCode::Conflict);
  EXPECT_TRUE(taken.error().message().starts_with("Error when allocating new name: Conflict."));
  EXPECT_EQ(d_->kill("web2", "").error().message(),
            "Cannot kill container: web2: Container " + id + " is not running");
}

TEST_F(RootEngineTest, StopEscalatesToSigkill) {
  // PID 1 ignores SIGTERM without a handler: stop must escalate.
  std::string id = run({"sleep", "100"});
  auto c = inspect(id);
  EXPECT_EQ(c.state.status, Status::Running);
  EXPECT_GT(c.state.pid, 0);
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(d_->stop(id, 1, std::nullopt).has_value());
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 900ms);
  c = inspect(id);
  EXPECT_EQ(c.state.status, Status::Exited);
  EXPECT_EQ(c.state.exit_code, 137);
  // Restart brings it back.
  ASSERT_TRUE(d_->restart(id, 0, std::nullopt).has_value());
  EXPECT_EQ(inspect(id).state.status, Status::Running);
  // Pause / unpause, with Docker's refusals.
  ASSERT_TRUE(d_->pause(id).has_value());
  EXPECT_EQ(inspect(id).state.status, Status::Paused);
  EXPECT_EQ(d_->pause(id).error().message(), "Container " + id + " is already paused");
  EXPECT_EQ(d_->start(id).error().code(), base::ErrorCode::Conflict);
  ASSERT_TRUE(d_->unpause(id).has_value());
  EXPECT_EQ(d_->unpause(id).error().message(), "Container " + id + " is not paused");
  EXPECT_EQ(d_->kill(id, "SIGFOO").error().message(), "Invalid signal: SIGFOO");
  auto top = d_->top(id, "");
  ASSERT_TRUE(top.has_value()) << top.error().to_string();
  ASSERT_EQ(top->processes.size(), 1u);
  EXPECT_EQ(top->processes[0].back(), "sleep 100");
  auto rm = d_->remove(id, false, false);
  EXPECT_EQ(rm.error().code(), base::ErrorCode::Conflict);
  ASSERT_TRUE(d_->kill(id, "9").has_value());
  EXPECT_EQ(d_->wait(id, WaitCondition::NotRunning)->status_code, 137);
  EXPECT_EQ(d_->top(id, "").error().message(), "Container " + id + " is not running");
}

TEST_F(RootEngineTest, StartFailureLeavesCreatedWithError) {
  std::string id = create({"/nosuch-binary"});
  auto r = d_->start(id);
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(
      r.error().message().starts_with("failed to create shim task: OCI runtime create failed"))
      << r.error().message();
  auto c = inspect(id);
  EXPECT_EQ(c.state.status, Status::Created);
  EXPECT_EQ(c.state.exit_code, 127);
  EXPECT_EQ(c.state.error, r.error().message());
  EXPECT_TRUE(mounts_under(tmp_->path()).empty());
  // With AutoRemove the failed container is gone (run --rm leaves nothing).
  std::string rm = create({"/nosuch-binary"}, "", [](HostConfig& hc) { hc.auto_remove = true; });
  EXPECT_EQ(d_->start(rm).error().code(), base::ErrorCode::InvalidArgument);
  EXPECT_EQ(d_->inspect(rm, false).error().code(), base::ErrorCode::NotFound);
}

TEST_F(RootEngineTest, RestartPolicies) {
  std::string onfail = run({"sh", "-c", "exit 1"}, "onfail", [](HostConfig& hc) {
    hc.restart_policy = {"on-failure", 2};
  });
  std::string always = run({"sh", "-c", "exit 0"}, "always", [](HostConfig& hc) {
    hc.restart_policy = {"always", 0};
  });
  std::string unless = run({"sleep", "100"}, "unless", [](HostConfig& hc) {
    hc.restart_policy = {"unless-stopped", 0};
  });
  EXPECT_TRUE(testing::poll_until([&] {
    auto c = inspect(onfail);
    return c.restart_count == 2 && c.state.status == Status::Exited;
  }));
  EXPECT_EQ(inspect(onfail).state.exit_code, 1);
  EXPECT_TRUE(testing::poll_until([&] { return inspect(always).restart_count >= 2; }));
  ASSERT_TRUE(d_->stop(always, 1, std::nullopt).has_value());
  auto count = inspect(always).restart_count;
  ASSERT_TRUE(d_->stop(unless, 0, std::nullopt).has_value());
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(inspect(always).state.status, Status::Exited);
  EXPECT_EQ(inspect(always).restart_count, count);
  EXPECT_EQ(inspect(unless).state.status, Status::Exited);
  EXPECT_EQ(inspect(unless).restart_count, 0);
}

TEST_F(RootEngineTest, AutoRemoveAndWaitRemoved) {
  std::string id =
      create({"sh", "-c", "exit 0"}, "", [](HostConfig& hc) { hc.auto_remove = true; });
  std::optional<base::Result<WaitResult>> waited;
  std::thread waiter([&] { waited = d_->wait(id, WaitCondition::Removed); });
  std::this_thread::sleep_for(100ms);
  ASSERT_TRUE(d_->start(id).has_value());
  waiter.join();
  ASSERT_TRUE(waited->has_value());
  EXPECT_EQ((*waited)->status_code, 0);
  EXPECT_EQ(d_->inspect(id, false).error().code(), base::ErrorCode::NotFound);
  EXPECT_FALSE(base::path_exists(opts_.data_root + "/containers/" + id));
}

TEST_F(RootEngineTest, LogsChangesExport) {
  std::string id = run({"sh", "-c",
                        "echo out1; echo err1 >&2; mkdir /newdir; touch /tmp/new-file; "
                        "rm /etc/passwd; printf no-newline"});
  ASSERT_EQ(d_->wait(id, WaitCondition::NotRunning)->status_code, 0);
  std::vector<LogEntry> got;
  LogsOptions lo;
  lo.stdout_stream = lo.stderr_stream = true;
  ASSERT_TRUE(d_->logs(id, lo, [&](const LogEntry& e) {
                  got.push_back(e);
                  return true;
                }).has_value());
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].line, "out1\n");
  EXPECT_EQ(got[0].stream, 1);
  EXPECT_EQ(got[1].line, "err1\n");
  EXPECT_EQ(got[1].stream, 2);
  EXPECT_EQ(got[2].line, "no-newline");
  lo.stderr_stream = false;
  lo.tail = 1;
  got.clear();
  ASSERT_TRUE(d_->logs(id, lo, [&](const LogEntry& e) {
                  got.push_back(e);
                  return true;
                }).has_value());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].line, "no-newline");

  auto ch = d_->changes(id);
  ASSERT_TRUE(ch.has_value()) << ch.error().to_string();
  std::vector<std::pair<std::string, int>> kinds;
  for (const auto& c : *ch) {
    kinds.emplace_back(c.path, c.kind);
  }
  std::vector<std::pair<std::string, int>> want = {
      {"/etc", 0}, {"/etc/passwd", 2}, {"/newdir", 1}, {"/tmp", 0}, {"/tmp/new-file", 1}};
  EXPECT_EQ(kinds, want);

  std::string tar;
  ASSERT_TRUE(d_->export_container(id, [&](std::string_view d) -> base::Result<void> {
                  tar.append(d);
                  return base::ok();
                }).has_value());
  EXPECT_NE(tar.find("bin/busybox"), std::string::npos);
  EXPECT_NE(tar.find("newdir"), std::string::npos);
  EXPECT_TRUE(mounts_under(tmp_->path()).empty());

  auto sized = d_->inspect(id, true);
  ASSERT_TRUE(sized->size_rw.has_value());
  EXPECT_GT(*sized->size_root_fs, *sized->size_rw);
}

TEST_F(RootEngineTest, FollowLogsUntilExit) {
  std::string id = run({"sh", "-c", "echo a; sleep 1; echo b"});
  std::vector<std::string> lines;
  LogsOptions lo;
  lo.stdout_stream = lo.stderr_stream = lo.follow = true;
  ASSERT_TRUE(d_->logs(id, lo, [&](const LogEntry& e) {
                  lines.push_back(e.line);
                  return true;
                }).has_value());
  EXPECT_EQ(lines, (std::vector<std::string>{"a\n", "b\n"}));
}

// Follow delivers a line while the container still runs, and returns once it is killed: no
// further log write is needed to notice the exit.
TEST_F(RootEngineTest, FollowSeesLiveLinesAndReturnsAtSilentExit) {
  std::string id = run({"sh", "-c", "echo a; exec sleep 100"});
  std::vector<std::string> lines;
  bool running_when_seen = false;
  std::thread killer;
  LogsOptions lo;
  lo.stdout_stream = lo.stderr_stream = lo.follow = true;
  auto r = d_->logs(id, lo, [&](const LogEntry& e) {
    lines.push_back(e.line);
    if (!killer.joinable()) {
      running_when_seen = inspect(id).state.status == Status::Running;
      killer = std::thread([&] { EXPECT_TRUE(d_->kill(id, "KILL").has_value()); });
    }
    return true;
  });
  if (killer.joinable()) {
    killer.join();
  }
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(lines, (std::vector<std::string>{"a\n"}));
  EXPECT_TRUE(running_when_seen);
  EXPECT_EQ(inspect(id).state.status, Status::Exited);
}

// since/until in nanoseconds (the API's fractional seconds): since at or after, until at or
// before the bound.
TEST_F(RootEngineTest, LogsSinceUntilNanoseconds) {
  std::string id = run({"sh", "-c", "echo a; sleep 0.2; echo b"});
  ASSERT_EQ(d_->wait(id, WaitCondition::NotRunning)->status_code, 0);
  auto read = [&](int64_t since_nano, int64_t until_nano) {
    std::vector<LogEntry> got;
    LogsOptions lo;
    lo.stdout_stream = lo.stderr_stream = true;
    lo.since_nano = since_nano;
    lo.until_nano = until_nano;
    EXPECT_TRUE(d_->logs(id, lo, [&](const LogEntry& e) {
                    got.push_back(e);
                    return true;
                  }).has_value());
    return got;
  };
  auto all = read(0, 0);
  ASSERT_EQ(all.size(), 2u);
  auto ta = logs::parse_time_nanos(all[0].time);
  auto tb = logs::parse_time_nanos(all[1].time);
  ASSERT_TRUE(ta && tb);
  ASSERT_LT(*ta, *tb);
  auto lines = [](const std::vector<LogEntry>& v) {
    std::vector<std::string> out;
    for (const auto& e : v) {
      out.push_back(e.line);
    }
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(lines(read(*tb, 0)), (V{"b\n"}));
  EXPECT_EQ(lines(read(*ta + 1, 0)), (V{"b\n"}));
  EXPECT_EQ(lines(read(0, *ta)), (V{"a\n"}));
  EXPECT_EQ(lines(read(0, *tb - 1)), (V{"a\n"}));
  EXPECT_EQ(lines(read(*ta, *tb)), (V{"a\n", "b\n"}));
}

TEST_F(RootEngineTest, RemoveLeavesNothing) {
  std::string id = run({"sleep", "100"});
  std::string cgroup = std::string("/sys/fs/cgroup/memory/") + kCgroupParent + "/" + id;
  EXPECT_TRUE(base::path_exists(cgroup));
  ASSERT_TRUE(d_->remove(id, true, false).has_value());
  EXPECT_EQ(d_->inspect(id, false).error().message(), "No such container: " + id);
  EXPECT_FALSE(base::path_exists(opts_.data_root + "/containers/" + id));
  EXPECT_FALSE(base::path_exists(opts_.exec_root + "/containers/" + id));
  EXPECT_FALSE(base::path_exists(opts_.data_root + "/rw/overlay/" + id));
  EXPECT_FALSE(base::path_exists(opts_.exec_root + "/runtime/" + id));
  EXPECT_FALSE(base::path_exists(cgroup));
  EXPECT_TRUE(mounts_under(tmp_->path()).empty());
  // The image is free again.
  auto pr = d_->prune({{"nosuch", {"1"}}});
  EXPECT_EQ(pr.error().message(), "Invalid filter 'nosuch'");
}

TEST_F(RootEngineTest, LiveRestoreAfterDaemonDies) {
  std::string a = run({"sleep", "100"}, "ra");
  std::string b = run({"sleep", "100"}, "rb");
  std::string c = run({"sh", "-c", "sleep 1; exit 7"}, "rc");
  std::string stopped = run({"sh", "-c", "exit 5"}, "stopped");
  ASSERT_EQ(d_->wait(stopped, WaitCondition::NotRunning)->status_code, 5);
  int64_t pid_a = inspect(a).state.pid;
  // The daemon goes away without stopping anything (as after kill -9, the shims keep the
  // containers); c exits while no daemon runs.
  d_->shutdown();
  d_.reset();
  std::this_thread::sleep_for(1500ms);
  open_daemon();
  auto ia = inspect(a);
  EXPECT_EQ(ia.state.status, Status::Running);
  EXPECT_EQ(ia.state.pid, pid_a);
  EXPECT_EQ(inspect(b).state.status, Status::Running);
  auto ic = inspect(c);
  EXPECT_EQ(ic.state.status, Status::Exited);
  EXPECT_EQ(ic.state.exit_code, 7);
  EXPECT_EQ(inspect(stopped).state.exit_code, 5);
  EXPECT_EQ(d_->list({})->size(), 2u);
  // Still manageable.
  ASSERT_TRUE(d_->stop(a, 1, std::nullopt).has_value());
  EXPECT_EQ(inspect(a).state.exit_code, 137);
  std::optional<base::Result<WaitResult>> waited;
  std::thread waiter([&] { waited = d_->wait(b, WaitCondition::NotRunning); });
  ASSERT_TRUE(d_->kill(b, "KILL").has_value());
  waiter.join();
  EXPECT_EQ((*waited)->status_code, 137);
  EXPECT_TRUE(mounts_under(opts_.data_root + "/containers").empty());
}

TEST_F(RootEngineTest, DamagedRecordIsSetAside) {
  std::string id = create({"true"}, "keep");
  std::string bad = opts_.data_root + "/containers/" + std::string(64, 'f');
  ASSERT_TRUE(base::mkdir_all(bad).has_value());
  ASSERT_TRUE(base::write_file_atomic(bad + "/config.v2.json", "{garbage").has_value());
  // An interrupted create: a directory without a record, and an RW layer nobody owns.
  std::string half = opts_.data_root + "/containers/" + std::string(64, 'e');
  ASSERT_TRUE(base::mkdir_all(half).has_value());
  std::string orphan_rw = opts_.data_root + "/rw/overlay/" + std::string(64, 'd');
  ASSERT_TRUE(base::mkdir_all(orphan_rw + "/upper").has_value());
  ASSERT_TRUE(base::mkdir_all(orphan_rw + "/work").has_value());
  ASSERT_TRUE(base::write_file_atomic(orphan_rw + "/parent", "").has_value());
  d_->shutdown();
  d_.reset();
  open_daemon();
  EXPECT_EQ(inspect("keep").id, id);
  EXPECT_FALSE(base::path_exists(bad));
  EXPECT_TRUE(base::path_exists(bad + ".damaged/config.v2.json"));
  EXPECT_FALSE(base::path_exists(half));
  EXPECT_FALSE(base::path_exists(orphan_rw));
  EXPECT_TRUE(base::path_exists(opts_.data_root + "/rw/overlay/" + id));
}

TEST_F(RootEngineTest, ImageInUseAndUpdate) {
  std::string id = run({"sleep", "100"}, "user");
  auto rmi = d_->images().remove("busybox", false);
  ASSERT_FALSE(rmi.has_value());
  EXPECT_EQ(rmi.error().code(), base::ErrorCode::Conflict);
  UpdateRequest up;
  up.memory = 128 << 20;
  up.memory_swap = 256 << 20;
  up.cpu_shares = 256;
  up.restart_policy = RestartPolicy{"on-failure", 2};
  auto u = d_->update(id, up);
  ASSERT_TRUE(u.has_value()) << u.error().to_string();
  auto c = inspect(id);
  EXPECT_EQ(c.host_config.memory, 128 << 20);
  EXPECT_EQ(c.host_config.restart_policy.name, "on-failure");
  std::string limit = base::read_file(std::string("/sys/fs/cgroup/memory/") + kCgroupParent + "/" +
                                      id + "/memory.limit_in_bytes")
                          .value_or("");
  EXPECT_EQ(base::trim(limit), std::to_string(128 << 20));
  UpdateRequest bad;
  bad.restart_policy = RestartPolicy{"sometimes", 0};
  EXPECT_EQ(d_->update(id, bad).error().message(), "invalid restart policy 'sometimes'");
}

TEST_F(RootEngineTest, ShutdownWithoutLiveRestoreStopsContainers) {
  d_->shutdown();
  d_.reset();
  opts_.live_restore = false;
  open_daemon();
  std::string id = run({"sleep", "100"}, "victim");
  auto t0 = std::chrono::steady_clock::now();
  d_->shutdown();
  d_.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 30s);
  open_daemon();
  auto c = inspect(id);
  EXPECT_EQ(c.state.status, Status::Exited);
  EXPECT_EQ(c.state.exit_code, 137);
}

TEST_F(RootEngineTest, VfsDriver) {
  d_->shutdown();
  d_.reset();
  opts_.storage_driver = "vfs";
  open_daemon();
  EXPECT_EQ(d_->info().driver, "vfs");
  std::string id = run({"sh", "-c", "echo hi > /tmp/f; rm /etc/passwd; mkdir /newdir; exit 6"});
  EXPECT_EQ(d_->wait(id, WaitCondition::NotRunning)->status_code, 6);
  EXPECT_EQ(inspect(id).driver, "vfs");
  std::string tar;
  ASSERT_TRUE(d_->export_container(id, [&](std::string_view d) -> base::Result<void> {
                  tar.append(d);
                  return base::ok();
                }).has_value());
  EXPECT_NE(tar.find("tmp/f"), std::string::npos);
  auto ch = d_->changes(id);
  ASSERT_TRUE(ch.has_value()) << ch.error().to_string();
  std::vector<std::pair<std::string, int>> kinds;
  for (const auto& c : *ch) {
    kinds.emplace_back(c.path, c.kind);
  }
  std::vector<std::pair<std::string, int>> want = {
      {"/etc", 0}, {"/etc/passwd", 2}, {"/newdir", 1}, {"/tmp", 0}, {"/tmp/f", 1}};
  EXPECT_EQ(kinds, want);
  ASSERT_TRUE(d_->remove(id, false, false).has_value());
  EXPECT_FALSE(base::path_exists(opts_.data_root + "/rw/copy/" + id));
  EXPECT_TRUE(mounts_under(tmp_->path()).empty());
}

TEST_F(RootEngineTest, ParallelLifecycles) {
  // 8-way create/start/wait/remove with listings and inspections racing them: no deadlock,
  // no lost exit, nothing left.
  std::atomic<int> failures{0};
  std::atomic<bool> done{false};
  std::thread lister([&] {
    while (!done) {
      if (!d_->list(all_opts()).has_value()) {
        ++failures;
      }
      (void)d_->info();
    }
  });
  std::vector<std::thread> workers;
  for (int w = 0; w < 8; ++w) {
    workers.emplace_back([&, w] {
      for (int i = 0; i < 4; ++i) {
        CreateRequest req;
        req.config.image = "busybox";
        req.config.cmd = std::vector<std::string>{"sh", "-c", "exit " + std::to_string(w)};
        auto id = d_->create(std::move(req));
        if (!id || !d_->start(id->id)) {
          ++failures;
          continue;
        }
        auto code = d_->wait(id->id, WaitCondition::NotRunning);
        if (!code || code->status_code != w) {
          ++failures;
        }
        if (!d_->remove(id->id, false, false)) {
          ++failures;
        }
      }
    });
  }
  for (auto& t : workers) {
    t.join();
  }
  done = true;
  lister.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_TRUE(d_->list(all_opts())->empty());
  EXPECT_TRUE(testing::list_dir(opts_.data_root + "/containers").empty());
  EXPECT_TRUE(testing::list_dir(opts_.exec_root + "/containers").empty());
  EXPECT_TRUE(mounts_under(tmp_->path()).empty());
}

TEST_F(RootEngineTest, MissingShimIsTheDaemonsError) {
  d_->shutdown();
  d_.reset();
  opts_.shim_path = tmp_->path() + "/no-such-shim";
  open_daemon();
  std::string id = create({"true"});
  auto r = d_->start(id);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), base::ErrorCode::Internal);
  EXPECT_NE(r.error().message().find("no-such-shim"), std::string::npos);
  EXPECT_EQ(inspect(id).state.status, Status::Created);
  EXPECT_TRUE(mounts_under(tmp_->path()).empty());
}

}  // namespace
}  // namespace mydocker::engine
