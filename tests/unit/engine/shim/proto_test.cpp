// SPDX-License-Identifier: Apache-2.0
#include "engine/shim/proto.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "runtime/base/file.h"
#include "tests/support/busybox_rootfs.h"

namespace mydocker::engine::shim {
namespace {

using base::ErrorCode;
using testing::TempDir;

ShimConfig sample_config(const std::string& dir) {
  ShimConfig c;
  c.id = "0123456789ab";
  c.bundle = dir + "/bundle";
  c.runtime_root = dir + "/runtime";
  c.state_dir = dir;
  c.log_path = dir + "/c-json.log";
  c.log_max_size = 10 << 20;
  c.log_max_files = 3;
  c.tty = true;
  return c;
}

TEST(ShimProtoTest, ConfigRoundTripsThroughTheFile) {
  TempDir tmp;
  ShimConfig c = sample_config(tmp.path());
  ASSERT_TRUE(write_config(tmp.path(), c).has_value());
  auto back = read_config(tmp.path() + "/" + kShimConfigFile);
  ASSERT_TRUE(back.has_value()) << back.error().to_string();
  EXPECT_EQ(back->to_json(), c.to_json());
  EXPECT_EQ(back->id, c.id);
  EXPECT_EQ(back->log_max_files, 3);
  EXPECT_TRUE(back->tty);
  // No temp file is left behind.
  EXPECT_EQ(testing::list_dir(tmp.path()), std::set<std::string>{kShimConfigFile});
}

TEST(ShimProtoTest, ConfigDefaultsAndRejections) {
  auto minimal = ShimConfig::from_json(
      {{"id", "x"}, {"bundle", "/b"}, {"runtime_root", "/r"}, {"state_dir", "/s"}});
  ASSERT_TRUE(minimal.has_value()) << minimal.error().to_string();
  EXPECT_EQ(minimal->log_path, "");
  EXPECT_EQ(minimal->log_max_size, 0);
  EXPECT_EQ(minimal->log_max_files, 1);
  EXPECT_FALSE(minimal->tty);

  nlohmann::json good = sample_config("/s").to_json();
  auto with = [&](const char* key, nlohmann::json value) {
    nlohmann::json j = good;
    j[key] = std::move(value);
    return ShimConfig::from_json(j);
  };
  EXPECT_EQ(with("id", 5).error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(with("id", 5).error().message().find("`id`"), std::string::npos);
  EXPECT_FALSE(with("bundle", "").has_value());
  EXPECT_FALSE(with("log_max_size", "big").has_value());
  EXPECT_FALSE(with("log_max_size", -1).has_value());
  EXPECT_FALSE(with("log_max_files", 0).has_value());
  EXPECT_FALSE(with("tty", "yes").has_value());
  nlohmann::json missing = good;
  missing.erase("state_dir");
  EXPECT_NE(ShimConfig::from_json(missing).error().message().find("`state_dir` is missing"),
            std::string::npos);
  EXPECT_FALSE(ShimConfig::from_json(nlohmann::json::array()).has_value());
}

TEST(ShimProtoTest, ReadConfigBadFiles) {
  TempDir tmp;
  EXPECT_EQ(read_config(tmp.path() + "/missing.json").error().code(), ErrorCode::NotFound);
  std::string path = tmp.path() + "/bad.json";
  ASSERT_TRUE(base::write_file_atomic(path, "{not json").has_value());
  auto bad = read_config(path);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(bad.error().message().find(path), std::string::npos);
  ASSERT_TRUE(base::write_file_atomic(path, "[1,2]").has_value());
  EXPECT_FALSE(read_config(path).has_value());
}

TEST(ShimProtoTest, ReadyMessageRoundTrips) {
  ReadyMessage ok{1234, ""};
  EXPECT_EQ(ok.to_json().dump(), "{\"pid\":1234}");
  auto back = ReadyMessage::from_json(ok.to_json());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->pid, 1234);
  EXPECT_EQ(back->error, "");
  ReadyMessage err{0, "exec: \"x\": executable file not found in $PATH"};
  auto eback = ReadyMessage::from_json(nlohmann::json::parse(err.to_json().dump()));
  ASSERT_TRUE(eback.has_value());
  EXPECT_EQ(eback->error, err.error);
  EXPECT_FALSE(ReadyMessage::from_json(nlohmann::json::object()).has_value());
  EXPECT_FALSE(ReadyMessage::from_json({{"pid", "12"}}).has_value());
  EXPECT_FALSE(ReadyMessage::from_json({{"pid", 0}}).has_value());
  EXPECT_FALSE(ReadyMessage::from_json(nlohmann::json("x")).has_value());
}

TEST(ShimProtoTest, ExitStatusRoundTripsAndIsNotFoundWhenMissing) {
  TempDir tmp;
  auto none = read_exit(tmp.path());
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code(), ErrorCode::NotFound);
  ExitStatus s{137, "2026-11-29T18:25:56.680905338Z", true};
  ASSERT_TRUE(write_exit(tmp.path(), s).has_value());
  auto back = read_exit(tmp.path());
  ASSERT_TRUE(back.has_value()) << back.error().to_string();
  EXPECT_EQ(back->exit_code, 137);
  EXPECT_EQ(back->finished_at, s.finished_at);
  EXPECT_TRUE(back->oom_killed);
  EXPECT_EQ(testing::list_dir(tmp.path()), std::set<std::string>{kExitFile});
  ASSERT_TRUE(
      base::write_file_atomic(tmp.path() + "/" + kExitFile, "{\"exit_code\":\"3\"}").has_value());
  EXPECT_EQ(read_exit(tmp.path()).error().code(), ErrorCode::InvalidArgument);
  ASSERT_TRUE(base::write_file_atomic(tmp.path() + "/" + kExitFile, "").has_value());
  EXPECT_EQ(read_exit(tmp.path()).error().code(), ErrorCode::InvalidArgument);
}

TEST(ShimProtoTest, PidFileRoundTripsAndRejectsJunk) {
  TempDir tmp;
  EXPECT_EQ(read_pid(tmp.path()).error().code(), ErrorCode::NotFound);
  ASSERT_TRUE(write_pid(tmp.path(), {42, 123456, 0}).has_value());
  EXPECT_EQ(*base::read_file(tmp.path() + "/" + kShimPidFile), "42 123456");
  auto p = read_pid(tmp.path());
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->pid, 42);
  EXPECT_EQ(p->start_time, 123456u);
  EXPECT_EQ(p->container_pid, 0);
  ASSERT_TRUE(write_pid(tmp.path(), {42, 123456, 77}).has_value());
  EXPECT_EQ(read_pid(tmp.path())->container_pid, 77);
  for (const char* junk : {"", "42", "x 1", "42 y", "-1 5", "1 2 3 4", "0 5", "1 2 -3"}) {
    ASSERT_TRUE(base::write_file_atomic(tmp.path() + "/" + kShimPidFile, junk).has_value());
    auto r = read_pid(tmp.path());
    ASSERT_FALSE(r.has_value()) << junk;
    EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument) << junk;
  }
}

TEST(ShimProtoTest, ProcessStartTime) {
  auto self = process_start_time(::getpid());
  ASSERT_TRUE(self.has_value()) << self.error().to_string();
  EXPECT_GT(*self, 0u);
  EXPECT_EQ(*process_start_time(::getpid()), *self);
  auto st = read_process_stat(::getpid());
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->state, 'R');
  // pid_max is at most 4194304: this one cannot exist.
  auto gone = process_start_time(4194304 + 7);
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error().code(), ErrorCode::NotFound);
}

TEST(ShimProtoTest, ConfigCarriesStdinAndAttaches) {
  ShimConfig c = sample_config("/s");
  c.open_stdin = true;
  c.stdin_once = true;
  AttachSpec a;
  a.fd = kFirstAttachFd;
  a.stdin_stream = true;
  a.stdout_stream = true;
  a.detach_keys = std::string("\x10\x11\x00\xff", 4);  // any bytes, even non-UTF-8
  c.attaches.push_back(a);
  a.fd = kFirstAttachFd + 1;
  a.stdin_stream = false;
  a.stderr_stream = true;
  c.attaches.push_back(a);
  auto back = ShimConfig::from_json(nlohmann::json::parse(c.to_json().dump()));
  ASSERT_TRUE(back.has_value()) << back.error().to_string();
  EXPECT_TRUE(back->open_stdin);
  EXPECT_TRUE(back->stdin_once);
  ASSERT_EQ(back->attaches.size(), 2u);
  EXPECT_EQ(back->attaches[0].fd, kFirstAttachFd);
  EXPECT_TRUE(back->attaches[0].stdin_stream);
  EXPECT_FALSE(back->attaches[0].stderr_stream);
  EXPECT_EQ(back->attaches[0].detach_keys, std::string("\x10\x11\x00\xff", 4));
  EXPECT_EQ(back->attaches[1].fd, kFirstAttachFd + 1);
  EXPECT_TRUE(back->attaches[1].stderr_stream);
  EXPECT_EQ(back->to_json(), c.to_json());
  // Attach fds must be numbered kFirstAttachFd, kFirstAttachFd + 1, ...
  nlohmann::json j = c.to_json();
  j["attaches"][1]["fd"] = 9;
  EXPECT_EQ(ShimConfig::from_json(j).error().code(), ErrorCode::InvalidArgument);
  j = c.to_json();
  j["attaches"] = nlohmann::json::object();
  EXPECT_FALSE(ShimConfig::from_json(j).has_value());
  j = c.to_json();
  j["attaches"][0]["detach_keys"] = "ctrl-p";
  EXPECT_FALSE(ShimConfig::from_json(j).has_value());
  j["attaches"][0]["detach_keys"] = {16, 256};
  EXPECT_FALSE(ShimConfig::from_json(j).has_value());
  j = c.to_json();
  j["open_stdin"] = 1;
  EXPECT_FALSE(ShimConfig::from_json(j).has_value());
}

TEST(ShimProtoTest, ControlRequestsRoundTrip) {
  ControlRequest attach;
  attach.op = "attach";
  attach.attach.stdout_stream = true;
  attach.attach.detach_keys = "\x10\x11";
  auto a = ControlRequest::from_json(nlohmann::json::parse(attach.to_json().dump()));
  ASSERT_TRUE(a.has_value()) << a.error().to_string();
  EXPECT_EQ(a->op, "attach");
  EXPECT_TRUE(a->attach.stdout_stream);
  EXPECT_FALSE(a->attach.stdin_stream);
  EXPECT_EQ(a->attach.detach_keys, "\x10\x11");

  ControlRequest resize;
  resize.op = "resize";
  resize.exec_id = "abc";
  resize.height = 40;
  resize.width = 120;
  auto r = ControlRequest::from_json(resize.to_json());
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->exec_id, "abc");
  EXPECT_EQ(r->height, 40);
  EXPECT_EQ(r->width, 120);

  ControlRequest exec;
  exec.op = "exec";
  exec.exec.id = "0123abcd";
  exec.exec.process = {{"args", {"sh"}}, {"cwd", "/"}};
  exec.exec.open_stdin = true;
  exec.attach.stdin_stream = true;
  auto e = ControlRequest::from_json(nlohmann::json::parse(exec.to_json().dump()));
  ASSERT_TRUE(e.has_value()) << e.error().to_string();
  EXPECT_EQ(e->exec.id, "0123abcd");
  EXPECT_EQ(e->exec.process, exec.exec.process);
  EXPECT_TRUE(e->exec.open_stdin);
  EXPECT_TRUE(e->attach.stdin_stream);
}

TEST(ShimProtoTest, ControlRequestRejections) {
  auto bad = [](nlohmann::json j) {
    auto r = ControlRequest::from_json(j);
    EXPECT_FALSE(r.has_value()) << j.dump();
    return r ? ErrorCode::Internal : r.error().code();
  };
  EXPECT_EQ(bad(nlohmann::json::array()), ErrorCode::InvalidArgument);
  EXPECT_EQ(bad({{"op", "launch"}}), ErrorCode::InvalidArgument);
  EXPECT_EQ(bad({{"height", 1}}), ErrorCode::InvalidArgument);
  EXPECT_EQ(bad({{"op", "resize"}, {"height", -1}}), ErrorCode::InvalidArgument);
  EXPECT_EQ(bad({{"op", "resize"}, {"width", 70000}}), ErrorCode::InvalidArgument);
  EXPECT_EQ(bad({{"op", "resize"}, {"height", "40"}}), ErrorCode::InvalidArgument);
  EXPECT_EQ(bad({{"op", "attach"}, {"attach", {{"stdin", "yes"}}}}), ErrorCode::InvalidArgument);
  EXPECT_EQ(bad({{"op", "exec"}}), ErrorCode::InvalidArgument);
  nlohmann::json process = {{"args", {"sh"}}};
  EXPECT_EQ(bad({{"op", "exec"}, {"exec", {{"process", process}}}}), ErrorCode::InvalidArgument);
  // An exec id names a file: no path separators, no leading dot.
  for (const char* id : {"", "../x", "a/b", ".hidden"}) {
    EXPECT_EQ(bad({{"op", "exec"}, {"exec", {{"id", id}, {"process", process}}}}),
              ErrorCode::InvalidArgument)
        << id;
  }
  EXPECT_EQ(bad({{"op", "exec"}, {"exec", {{"id", "x"}, {"process", "sh"}}}}),
            ErrorCode::InvalidArgument);
}

TEST(ShimProtoTest, ControlReplyKeepsTheErrorCode) {
  ControlReply ok;
  ok.pid = 4321;
  auto back = ControlReply::from_json(nlohmann::json::parse(ok.to_json().dump()));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->pid, 4321);
  EXPECT_EQ(back->error, "");
  ControlReply err;
  err.error = "exec `x` has no tty";
  err.code = static_cast<int>(ErrorCode::Conflict);
  auto eback = ControlReply::from_json(err.to_json());
  ASSERT_TRUE(eback.has_value());
  EXPECT_EQ(eback->error, err.error);
  EXPECT_EQ(eback->code, static_cast<int>(ErrorCode::Conflict));
  EXPECT_FALSE(ControlReply::from_json({{"error", "x"}, {"code", 999}}).has_value());
  EXPECT_FALSE(ControlReply::from_json({{"error", 5}}).has_value());
  EXPECT_FALSE(ControlReply::from_json(nlohmann::json("ok")).has_value());
}

TEST(ShimProtoTest, ExecExitFileRoundTrips) {
  TempDir tmp;
  auto none = read_exec_exit(tmp.path(), "e1");
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code(), ErrorCode::NotFound);
  ASSERT_TRUE(write_exec_exit(tmp.path(), "e1", {3}).has_value());
  auto back = read_exec_exit(tmp.path(), "e1");
  ASSERT_TRUE(back.has_value()) << back.error().to_string();
  EXPECT_EQ(back->exit_code, 3);
  EXPECT_EQ(testing::list_dir(tmp.path()), std::set<std::string>{"exec-e1.json"});
  EXPECT_EQ(read_exec_exit(tmp.path(), "e2").error().code(), ErrorCode::NotFound);
  EXPECT_EQ(write_exec_exit(tmp.path(), "../e", {0}).error().code(), ErrorCode::InvalidArgument);
  EXPECT_EQ(read_exec_exit(tmp.path(), "a/b").error().code(), ErrorCode::InvalidArgument);
  ASSERT_TRUE(
      base::write_file_atomic(tmp.path() + "/exec-bad.json", "{\"exit_code\":\"1\"}").has_value());
  EXPECT_EQ(read_exec_exit(tmp.path(), "bad").error().code(), ErrorCode::InvalidArgument);
  ASSERT_TRUE(base::write_file_atomic(tmp.path() + "/exec-junk.json", "not json").has_value());
  EXPECT_EQ(read_exec_exit(tmp.path(), "junk").error().code(), ErrorCode::InvalidArgument);
}

}  // namespace
}  // namespace mydocker::engine::shim
