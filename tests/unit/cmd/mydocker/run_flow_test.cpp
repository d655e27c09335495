// SPDX-License-Identifier: Apache-2.0
// The mydocker binary against a fake daemon: the foreground `run` sequence, output
// demultiplexing, exit codes, client-side --rm, and host selection from the environment.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/unit/api/client/fake_daemon.h"

namespace mydocker::testing {
namespace {

std::string frame(uint8_t stream, std::string_view payload) {
  std::string f(8, '\0');
  f[0] = static_cast<char>(stream);
  f[7] = static_cast<char>(payload.size());
  return f + std::string(payload);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct RunResult {
  int status = -1;
  std::string out;
  std::string err;
};

RunResult run_cli(const std::string& env, const std::string& args) {
  TempDir dir;
  std::string cmd = env + " " + MYDOCKER_BIN + " " + args + " >" + dir.path() + "/out 2>" +
                    dir.path() + "/err </dev/null";
  int rc = std::system(cmd.c_str());  // NOLINT(concurrency-mt-unsafe): test main thread
  RunResult r;
  r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  r.out = slurp(dir.path() + "/out");
  r.err = slurp(dir.path() + "/err");
  return r;
}

// A daemon whose container prints to both streams and exits 3.
class RunFlowTest : public ::testing::Test {
 protected:
  std::mutex mu_;  // guards started_
  std::condition_variable cv_;
  bool started_ = false;
  std::string start_error_;  // when set, start fails with it (400)
};

TEST_F(RunFlowTest, ForegroundRunStreamsOutputAndExitsWithTheContainersStatus) {
  FakeDaemon d([&](const FakeRequest& req, int fd) {
    const std::string& t = req.target;
    if (t.starts_with("/v1.41/containers/create")) {
      FakeDaemon::send_all(
          fd, FakeDaemon::response(201, "Created", R"({"Id":"c0ffee","Warnings":["w1"]})"));
    } else if (t.find("/wait") != std::string::npos) {
      FakeDaemon::send_all(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return started_; });
      FakeDaemon::send_all(fd, FakeDaemon::chunk(R"({"Error":null,"StatusCode":3})"
                                                 "\n") +
                                   "0\r\n\r\n");
    } else if (t.find("/start") != std::string::npos) {
      {
        std::lock_guard lock(mu_);
        started_ = true;
      }
      cv_.notify_all();
      FakeDaemon::send_all(fd, "HTTP/1.1 204 No Content\r\n\r\n");
    } else if (t.find("/logs") != std::string::npos) {
      FakeDaemon::send_all(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
                                   FakeDaemon::chunk(frame(1, "out\n")) +
                                   FakeDaemon::chunk(frame(2, "err\n")) + "0\r\n\r\n");
    } else {
      FakeDaemon::send_all(fd, "HTTP/1.1 204 No Content\r\n\r\n");
    }
  });
  RunResult r = run_cli("MYDOCKER_HOST=unix://" + d.path() + " DOCKER_HOST=unix:///nope",
                        "run --rm --name web -e A=1 busybox sh -c 'exit 3'");
  EXPECT_EQ(r.status, 3) << r.err;
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "WARNING: w1\nerr\n");
  auto reqs = d.requests();
  ASSERT_GE(reqs.size(), 5u);
  EXPECT_EQ(reqs[0].target, "/v1.41/containers/create?name=web");
  nlohmann::json body = nlohmann::json::parse(reqs[0].body);
  EXPECT_EQ(body["Cmd"], (nlohmann::json{"sh", "-c", "exit 3"}));
  EXPECT_EQ(body["Env"], (nlohmann::json{"A=1"}));
  EXPECT_EQ(body["HostConfig"]["AutoRemove"], false);
  // The waiter is registered before the start.
  EXPECT_EQ(reqs[1].target, "/v1.41/containers/c0ffee/wait?condition=next-exit");
  EXPECT_EQ(reqs[2].target, "/v1.41/containers/c0ffee/start");
  EXPECT_EQ(reqs[3].target, "/v1.41/containers/c0ffee/logs?stdout=1&stderr=1&follow=1");
  EXPECT_EQ(reqs.back().method, "DELETE");
  EXPECT_EQ(reqs.back().target, "/v1.41/containers/c0ffee?v=1&force=1");
}

TEST_F(RunFlowTest, StartFailureExitCodesFollowDocker) {
  struct Row {
    std::string message;
    int want;
  };
  for (const Row& row : std::vector<Row>{
           {"exec: \\\"/nosuch\\\": stat /nosuch: no such file or directory: unknown", 127},
           {"exec: \\\"/etc\\\": permission denied: unknown", 126},
           {"something else", 125}}) {
    FakeDaemon d([&](const FakeRequest& req, int fd) {
      const std::string& t = req.target;
      if (t.starts_with("/v1.41/containers/create")) {
        FakeDaemon::send_all(fd, FakeDaemon::response(201, "Created", R"({"Id":"c1"})"));
      } else if (t.find("/wait") != std::string::npos) {
        // Head only; the CLI cancels it after the failed start.
        FakeDaemon::send_all(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        char buf[16];
        while (::read(fd, buf, sizeof(buf)) > 0) {
        }
      } else if (t.find("/start") != std::string::npos) {
        FakeDaemon::send_all(
            fd, FakeDaemon::response(400, "Bad Request", "{\"message\":\"" + row.message + "\"}"));
      } else {
        FakeDaemon::send_all(fd, "HTTP/1.1 204 No Content\r\n\r\n");
      }
    });
    RunResult r = run_cli("MYDOCKER_HOST=unix://" + d.path(), "run busybox /nosuch");
    EXPECT_EQ(r.status, row.want) << r.err;
    EXPECT_NE(r.err.find("mydocker: Error response from daemon: "), std::string::npos) << r.err;
  }
}

TEST_F(RunFlowTest, StartAttachFollowsOnlyTheNewRun) {
  FakeDaemon d([&](const FakeRequest& req, int fd) {
    const std::string& t = req.target;
    if (t == "/v1.41/containers/old/json") {
      FakeDaemon::send_all(
          fd, FakeDaemon::response(200, "OK", R"({"Id":"0123abcd","Config":{"Tty":true}})"));
    } else if (t.find("/wait") != std::string::npos) {
      FakeDaemon::send_all(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return started_; });
      FakeDaemon::send_all(fd, FakeDaemon::chunk(R"({"Error":null,"StatusCode":5})") + "0\r\n\r\n");
    } else if (t.find("/start") != std::string::npos) {
      {
        std::lock_guard lock(mu_);
        started_ = true;
      }
      cv_.notify_all();
      FakeDaemon::send_all(fd, "HTTP/1.1 204 No Content\r\n\r\n");
    } else if (t.find("/logs") != std::string::npos) {
      // A TTY container: raw bytes, no frames.
      FakeDaemon::send_all(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
                                   FakeDaemon::chunk("run\r\n") + "0\r\n\r\n");
    } else {
      FakeDaemon::send_all(fd, FakeDaemon::response(404, "Not Found", R"({"message":"no"})"));
    }
  });
  RunResult r = run_cli("MYDOCKER_HOST=unix://" + d.path(), "start -a old");
  EXPECT_EQ(r.status, 5) << r.err;
  EXPECT_EQ(r.out, "run\r\n");
  auto reqs = d.requests();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(reqs[1].target, "/v1.41/containers/0123abcd/wait?condition=next-exit");
  EXPECT_EQ(reqs[2].target, "/v1.41/containers/0123abcd/start");
  // Logs of earlier runs are skipped with since=<start time, sec.nsec>.
  EXPECT_NE(reqs[3].target.find("follow=1&since="), std::string::npos) << reqs[3].target;
}

TEST(CliHostTest, FlagBeatsEnvironmentAndErrorsAreDockers) {
  FakeDaemon d([](const FakeRequest&, int fd) {
    FakeDaemon::send_all(
        fd, FakeDaemon::response(404, "Not Found", "{\"message\":\"No such container: x\"}\n"));
  });
  RunResult r =
      run_cli("MYDOCKER_HOST=unix:///nonexistent.sock", "-H unix://" + d.path() + " stop x");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "Error response from daemon: No such container: x\n");
  EXPECT_EQ(d.requests().size(), 1u);

  RunResult down = run_cli("MYDOCKER_HOST= DOCKER_HOST=unix:///nonexistent.sock", "ps");
  EXPECT_EQ(down.status, 1);
  EXPECT_EQ(down.err,
            "Cannot connect to the mydocker daemon at unix:///nonexistent.sock. Is the mydocker "
            "daemon running?\n");
  RunResult run_down = run_cli("DOCKER_HOST=unix:///nonexistent.sock", "run busybox");
  EXPECT_EQ(run_down.status, 125);

  RunResult tcp = run_cli("DOCKER_HOST=tcp://127.0.0.1:2375", "ps");
  EXPECT_EQ(tcp.status, 1);
  EXPECT_NE(tcp.err.find("not supported yet"), std::string::npos) << tcp.err;
}

}  // namespace
}  // namespace mydocker::testing
