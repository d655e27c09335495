// SPDX-License-Identifier: Apache-2.0
// The mydocker binary against a fake daemon: the foreground `run` sequence (attach before
// start), stdin, output demultiplexing, exit codes, start -a/-i, attach, exec, and host
// selection from the environment.
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

RunResult run_cli_input(const std::string& env, const std::string& args, const std::string& input) {
  TempDir dir;
  std::string in = "/dev/null";
  if (!input.empty()) {
    in = dir.path() + "/in";
    std::ofstream(in) << input;
  }
  std::string cmd = env + " " + MYDOCKER_BIN + " " + args + " >" + dir.path() + "/out 2>" +
                    dir.path() + "/err <" + in;
  int rc = std::system(cmd.c_str());  // NOLINT(concurrency-mt-unsafe): test main thread
  RunResult r;
  r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  r.out = slurp(dir.path() + "/out");
  r.err = slurp(dir.path() + "/err");
  return r;
}

RunResult run_cli(const std::string& env, const std::string& args) {
  return run_cli_input(env, args, "");
}

const char* const kUpgraded =
    "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
    "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n";

// Reads the client's stdin from a hijacked connection until its half-close.
std::string read_to_eof(int fd) {
  std::string got;
  char buf[256];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) {
      return got;
    }
    got.append(buf, static_cast<size_t>(n));
  }
}

// A fake daemon whose container's output is released by the start, as a real one's is.
class RunFlowTest : public ::testing::Test {
 protected:
  void mark_started() {
    {
      std::lock_guard lock(mu_);
      started_ = true;
    }
    cv_.notify_all();
  }
  void await_start() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return started_; });
  }
  // The wait answer: the head at once, the status once started.
  void answer_wait(int fd, int status) {
    FakeDaemon::send_all(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    await_start();
    FakeDaemon::send_all(
        fd, FakeDaemon::chunk("{\"Error\":null,\"StatusCode\":" + std::to_string(status) + "}\n") +
                "0\r\n\r\n");
  }

  std::mutex mu_;  // guards started_
  std::condition_variable cv_;
  bool started_ = false;
};

TEST_F(RunFlowTest, ForegroundRunAttachesBeforeStartAndExitsWithTheContainersStatus) {
  FakeDaemon d([&](const FakeRequest& req, int fd) {
    const std::string& t = req.target;
    if (t.starts_with("/v1.41/containers/create")) {
      FakeDaemon::send_all(
          fd, FakeDaemon::response(201, "Created", R"({"Id":"c0ffee","Warnings":["w1"]})"));
    } else if (t.find("/attach") != std::string::npos) {
      FakeDaemon::send_all(fd, kUpgraded);
      await_start();
      FakeDaemon::send_all(fd, frame(1, "out\n") + frame(2, "err\n"));
    } else if (t.find("/wait") != std::string::npos) {
      answer_wait(fd, 3);
    } else if (t.find("/start") != std::string::npos) {
      mark_started();
      FakeDaemon::send_all(fd, "HTTP/1.1 204 No Content\r\n\r\n");
    } else {
      FakeDaemon::send_all(fd,
                           FakeDaemon::response(500, "Internal", R"({"message":"unexpected"})"));
    }
  });
  RunResult r = run_cli("MYDOCKER_HOST=unix://" + d.path() + " DOCKER_HOST=unix:///nope",
                        "run --rm --name web -e A=1 busybox sh -c 'exit 3'");
  EXPECT_EQ(r.status, 3) << r.err;
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "WARNING: w1\nerr\n");
  auto reqs = d.requests();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(reqs[0].target, "/v1.41/containers/create?name=web");
  nlohmann::json body = nlohmann::json::parse(reqs[0].body);
  EXPECT_EQ(body["Cmd"], (nlohmann::json{"sh", "-c", "exit 3"}));
  EXPECT_EQ(body["Env"], (nlohmann::json{"A=1"}));
  // --rm is the daemon's (AutoRemove), and the CLI waits for the removal, as docker's.
  EXPECT_EQ(body["HostConfig"]["AutoRemove"], true);
  EXPECT_EQ(body["AttachStdout"], true);
  EXPECT_EQ(body["AttachStdin"], false);
  // docker's order: attach, the waiter registered, then the start.
  EXPECT_EQ(reqs[1].target, "/v1.41/containers/c0ffee/attach?stream=1&stdout=1&stderr=1");
  EXPECT_NE(reqs[1].head.find("Upgrade: tcp"), std::string::npos);
  EXPECT_EQ(reqs[2].target, "/v1.41/containers/c0ffee/wait?condition=removed");
  EXPECT_EQ(reqs[3].target, "/v1.41/containers/c0ffee/start");
}

TEST_F(RunFlowTest, PipedStdinReachesTheContainerAndItsEndClosesIt) {
  FakeDaemon d([&](const FakeRequest& req, int fd) {
    const std::string& t = req.target;
    if (t.starts_with("/v1.41/containers/create")) {
      FakeDaemon::send_all(fd, FakeDaemon::response(201, "Created", R"({"Id":"cat1"})"));
    } else if (t.find("/attach") != std::string::npos) {
      FakeDaemon::send_all(fd, kUpgraded);
      // `cat`: what came in goes out, once stdin ended.
      std::string in = read_to_eof(fd);
      FakeDaemon::send_all(fd, frame(1, in));
    } else if (t.find("/wait") != std::string::npos) {
      answer_wait(fd, 0);
    } else {
      mark_started();
      FakeDaemon::send_all(fd, "HTTP/1.1 204 No Content\r\n\r\n");
    }
  });
  RunResult r = run_cli_input("MYDOCKER_HOST=unix://" + d.path(), "run -i busybox cat", "hi\n");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "hi\n");
  auto reqs = d.requests();
  ASSERT_GE(reqs.size(), 2u);
  nlohmann::json body = nlohmann::json::parse(reqs[0].body);
  EXPECT_EQ(body["OpenStdin"], true);
  EXPECT_EQ(body["StdinOnce"], true);
  EXPECT_EQ(body["AttachStdin"], true);
  EXPECT_EQ(reqs[1].target, "/v1.41/containers/cat1/attach?stream=1&stdin=1&stdout=1&stderr=1");
}

TEST_F(RunFlowTest, AFlagPicksTheStreams) {
  FakeDaemon d([&](const FakeRequest& req, int fd) {
    const std::string& t = req.target;
    if (t.starts_with("/v1.41/containers/create")) {
      FakeDaemon::send_all(fd, FakeDaemon::response(201, "Created", R"({"Id":"a1"})"));
    } else if (t.find("/attach") != std::string::npos) {
      FakeDaemon::send_all(fd, kUpgraded);
      await_start();
      FakeDaemon::send_all(fd, frame(2, "only err\n"));
    } else if (t.find("/wait") != std::string::npos) {
      answer_wait(fd, 0);
    } else {
      mark_started();
      FakeDaemon::send_all(fd, "HTTP/1.1 204 No Content\r\n\r\n");
    }
  });
  RunResult r = run_cli("MYDOCKER_HOST=unix://" + d.path(), "run -a STDERR busybox true");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "only err\n");
  auto reqs = d.requests();
  ASSERT_GE(reqs.size(), 2u);
  nlohmann::json body = nlohmann::json::parse(reqs[0].body);
  EXPECT_EQ(body["AttachStdout"], false);
  EXPECT_EQ(body["AttachStderr"], true);
  EXPECT_EQ(reqs[1].target, "/v1.41/containers/a1/attach?stream=1&stderr=1");

  RunResult bad = run_cli("MYDOCKER_HOST=unix://" + d.path(), "run -a foo busybox true");
  EXPECT_EQ(bad.status, 125);
  EXPECT_NE(bad.err.find("valid streams are STDIN, STDOUT and STDERR"), std::string::npos)
      << bad.err;
  RunResult conflict = run_cli("MYDOCKER_HOST=unix://" + d.path(), "run -d -a stdout busybox");
  EXPECT_EQ(conflict.status, 1);
  EXPECT_EQ(conflict.err, "Conflicting options: -a and -d\n");
}

TEST_F(RunFlowTest, ATtyWithoutATerminalIsRefused) {
  FakeDaemon d([](const FakeRequest&, int fd) {
    FakeDaemon::send_all(fd, FakeDaemon::response(500, "Internal", R"({"message":"no"})"));
  });
  RunResult r = run_cli("MYDOCKER_HOST=unix://" + d.path(), "run -it busybox sh");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "the input device is not a TTY\n");
  EXPECT_TRUE(d.requests().empty());  // refused before anything is created
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
      } else if (t.find("/wait") != std::string::npos || t.find("/attach") != std::string::npos) {
        // Heads only; the CLI lets go of both after the failed start.
        FakeDaemon::send_all(fd, t.find("/wait") != std::string::npos
                                     ? "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                     : kUpgraded);
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

TEST_F(RunFlowTest, StartAttachFollowsTheNewRun) {
  FakeDaemon d([&](const FakeRequest& req, int fd) {
    const std::string& t = req.target;
    if (t == "/v1.41/containers/old/json") {
      FakeDaemon::send_all(fd, FakeDaemon::response(200, "OK",
                                                    R"({"Id":"0123abcd","Config":{"Tty":true},
                                                        "HostConfig":{"AutoRemove":false}})"));
    } else if (t.find("/attach") != std::string::npos) {
      FakeDaemon::send_all(fd, kUpgraded);
      await_start();
      FakeDaemon::send_all(fd, "run\r\n");  // a tty: raw bytes, no frames
    } else if (t.find("/wait") != std::string::npos) {
      answer_wait(fd, 5);
    } else if (t.find("/start") != std::string::npos) {
      mark_started();
      FakeDaemon::send_all(fd, "HTTP/1.1 204 No Content\r\n\r\n");
    } else {
      FakeDaemon::send_all(fd, FakeDaemon::response(404, "Not Found", R"({"message":"no"})"));
    }
  });
  RunResult r = run_cli("MYDOCKER_HOST=unix://" + d.path(), "start -a old");
  EXPECT_EQ(r.status, 5) << r.err;
  EXPECT_EQ(r.out, "run\r\n");
  auto reqs = d.requests();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(reqs[1].target, "/v1.41/containers/0123abcd/attach?stream=1&stdout=1&stderr=1");
  EXPECT_EQ(reqs[2].target, "/v1.41/containers/0123abcd/wait?condition=next-exit");
  EXPECT_EQ(reqs[3].target, "/v1.41/containers/0123abcd/start");
}

TEST_F(RunFlowTest, StartInteractiveAttachesStdinOnlyWhenTheContainerKeepsItOpen) {
  for (bool open_stdin : {true, false}) {
    started_ = false;
    FakeDaemon d([&](const FakeRequest& req, int fd) {
      const std::string& t = req.target;
      if (t == "/v1.41/containers/c/json") {
        FakeDaemon::send_all(
            fd,
            FakeDaemon::response(200, "OK",
                                 std::string(R"({"Id":"c9","Config":{"Tty":false,"OpenStdin":)") +
                                     (open_stdin ? "true" : "false") +
                                     R"(},"HostConfig":{"AutoRemove":true}})"));
      } else if (t.find("/attach") != std::string::npos) {
        FakeDaemon::send_all(fd, kUpgraded);
        std::string in = read_to_eof(fd);
        FakeDaemon::send_all(fd, frame(1, "[" + in + "]"));
      } else if (t.find("/wait") != std::string::npos) {
        answer_wait(fd, 0);
      } else {
        mark_started();
        FakeDaemon::send_all(fd, "HTTP/1.1 204 No Content\r\n\r\n");
      }
    });
    RunResult r = run_cli_input("MYDOCKER_HOST=unix://" + d.path(), "start -i c", "typed");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, open_stdin ? "[typed]" : "[]");
    auto reqs = d.requests();
    ASSERT_EQ(reqs.size(), 4u);
    EXPECT_EQ(reqs[1].target, open_stdin
                                  ? "/v1.41/containers/c9/attach?stream=1&stdin=1&stdout=1&stderr=1"
                                  : "/v1.41/containers/c9/attach?stream=1&stdout=1&stderr=1");
    // An AutoRemove container: the CLI waits for its removal.
    EXPECT_EQ(reqs[2].target, "/v1.41/containers/c9/wait?condition=removed");
  }
}

TEST_F(RunFlowTest, AttachRefusesStoppedAndPausedContainersWithDockersWords) {
  for (const auto& [state, want] : std::vector<std::pair<std::string, std::string>>{
           {R"({"Running":false})", "You cannot attach to a stopped container, start it first\n"},
           {R"({"Running":true,"Paused":true})",
            "You cannot attach to a paused container, unpause it first\n"}}) {
    FakeDaemon d([&](const FakeRequest& req, int fd) {
      if (req.target.find("/json") != std::string::npos) {
        FakeDaemon::send_all(
            fd,
            FakeDaemon::response(200, "OK", R"({"Id":"s1","State":)" + state + R"(,"Config":{}})"));
      } else {
        FakeDaemon::send_all(fd,
                             FakeDaemon::response(200, "OK", R"({"Error":null,"StatusCode":0})"));
      }
    });
    RunResult r = run_cli("MYDOCKER_HOST=unix://" + d.path(), "attach s1");
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err, want);
  }
}

TEST_F(RunFlowTest, AttachStreamsAndReturnsTheExitStatus) {
  FakeDaemon d([&](const FakeRequest& req, int fd) {
    const std::string& t = req.target;
    if (t.find("/json") != std::string::npos) {
      FakeDaemon::send_all(fd, FakeDaemon::response(200, "OK",
                                                    R"({"Id":"r1","State":{"Running":true},
                                                        "Config":{"OpenStdin":true}})"));
    } else if (t.find("/attach") != std::string::npos) {
      FakeDaemon::send_all(fd, kUpgraded);
      std::string in = read_to_eof(fd);
      FakeDaemon::send_all(fd, frame(1, "got " + in) + frame(2, "e"));
      mark_started();  // the process ends with its stream
    } else if (t.find("/wait") != std::string::npos) {
      answer_wait(fd, 4);
    } else {
      FakeDaemon::send_all(fd, FakeDaemon::response(404, "Not Found", R"({"message":"no"})"));
    }
  });
  RunResult r = run_cli_input("MYDOCKER_HOST=unix://" + d.path(), "attach r1", "x");
  EXPECT_EQ(r.status, 4) << r.err;
  EXPECT_EQ(r.out, "got x");
  EXPECT_EQ(r.err, "e");
  auto reqs = d.requests();
  ASSERT_GE(reqs.size(), 3u);
  // The waiter first (docker's order), then the state check, then the stream.
  EXPECT_EQ(reqs[0].target, "/v1.41/containers/r1/wait?condition=not-running");

  RunResult no_stdin =
      run_cli_input("MYDOCKER_HOST=unix://" + d.path(), "attach --no-stdin r1", "x");
  EXPECT_EQ(no_stdin.out, "got ");
}

TEST_F(RunFlowTest, ExecCreatesStartsAndReturnsTheExecsExitCode) {
  FakeDaemon d([&](const FakeRequest& req, int fd) {
    const std::string& t = req.target;
    if (t == "/v1.41/containers/web/json") {
      FakeDaemon::send_all(fd, FakeDaemon::response(200, "OK", R"({"Id":"w1"})"));
    } else if (t == "/v1.41/containers/web/exec") {
      FakeDaemon::send_all(fd, FakeDaemon::response(201, "Created", R"({"Id":"e7"})"));
    } else if (t == "/v1.41/exec/e7/start") {
      nlohmann::json b = nlohmann::json::parse(req.body);
      if (b["Detach"] == true) {
        FakeDaemon::send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        return;
      }
      FakeDaemon::send_all(fd, kUpgraded);
      std::string in = read_to_eof(fd);
      FakeDaemon::send_all(fd, frame(1, "in=" + in + "\n") + frame(2, "warn\n"));
    } else if (t == "/v1.41/exec/e7/json") {
      FakeDaemon::send_all(
          fd, FakeDaemon::response(200, "OK", R"({"Running":false,"ExitCode":7,"Pid":42})"));
    } else {
      FakeDaemon::send_all(fd, FakeDaemon::response(404, "Not Found", R"({"message":"no"})"));
    }
  });
  RunResult r =
      run_cli_input("MYDOCKER_HOST=unix://" + d.path(),
                    "exec -i -e A=1 -w /tmp -u 1:2 --privileged web sh -c 'cat; exit 7'", "data");
  EXPECT_EQ(r.status, 7) << r.err;
  EXPECT_EQ(r.out, "in=data\n");
  EXPECT_EQ(r.err, "warn\n");
  auto reqs = d.requests();
  ASSERT_EQ(reqs.size(), 4u);
  nlohmann::json cfg = nlohmann::json::parse(reqs[1].body);
  EXPECT_EQ(cfg["Cmd"], (nlohmann::json{"sh", "-c", "cat; exit 7"}));
  EXPECT_EQ(cfg["Env"], (nlohmann::json{"A=1"}));
  EXPECT_EQ(cfg["WorkingDir"], "/tmp");
  EXPECT_EQ(cfg["User"], "1:2");
  EXPECT_EQ(cfg["Privileged"], true);
  EXPECT_EQ(cfg["AttachStdin"], true);
  EXPECT_EQ(cfg["Tty"], false);
  EXPECT_EQ(nlohmann::json::parse(reqs[2].body),
            (nlohmann::json{{"Detach", false}, {"Tty", false}}));
  EXPECT_NE(reqs[2].head.find("Upgrade: tcp"), std::string::npos);

  RunResult detached = run_cli("MYDOCKER_HOST=unix://" + d.path(), "exec -d web sleep 5");
  EXPECT_EQ(detached.status, 0) << detached.err;
  EXPECT_EQ(detached.out, "");
  auto all = d.requests();
  EXPECT_EQ(nlohmann::json::parse(all.back().body),
            (nlohmann::json{{"Detach", true}, {"Tty", false}}));
  EXPECT_EQ(nlohmann::json::parse(all[all.size() - 2].body)["AttachStdout"], false);
}

TEST_F(RunFlowTest, ExecErrorsAreDockers) {
  FakeDaemon d([&](const FakeRequest& req, int fd) {
    const std::string& t = req.target;
    if (t == "/v1.41/containers/gone/json") {
      FakeDaemon::send_all(
          fd, FakeDaemon::response(404, "Not Found", R"({"message":"No such container: gone"})"));
    } else if (t == "/v1.41/containers/stopped/json") {
      FakeDaemon::send_all(fd, FakeDaemon::response(200, "OK", R"({"Id":"s"})"));
    } else {
      FakeDaemon::send_all(
          fd,
          FakeDaemon::response(409, "Conflict", R"({"message":"Container 5e2b is not running"})"));
    }
  });
  std::string env = "MYDOCKER_HOST=unix://" + d.path();
  RunResult gone = run_cli(env, "exec gone true");
  EXPECT_EQ(gone.status, 1);
  EXPECT_EQ(gone.err, "Error response from daemon: No such container: gone\n");
  RunResult stopped = run_cli(env, "exec stopped true");
  EXPECT_EQ(stopped.status, 1);
  EXPECT_EQ(stopped.err, "Error response from daemon: Container 5e2b is not running\n");
  RunResult few = run_cli(env, "exec stopped");
  EXPECT_EQ(few.status, 1);
  EXPECT_TRUE(few.err.starts_with("\"mydocker exec\" requires at least 2 arguments.")) << few.err;
  RunResult notty = run_cli(env, "exec -it stopped sh");
  EXPECT_EQ(notty.status, 1);
  EXPECT_EQ(notty.err, "the input device is not a TTY\n");
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
