// SPDX-License-Identifier: Apache-2.0
// Attach and exec end to end: raw hijacked connections, curl and the docker CLI against a
// private mydockerd, through the engine to the container's shim.
#include <dirent.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/integration/daemon/daemon_fixture.h"

namespace mydocker::testing::e2e {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Threads of a process (/proc/<pid>/task entries).
int thread_count(pid_t pid) {
  int n = 0;
  std::string dir = "/proc/" + std::to_string(pid) + "/task";
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] != '.') {
        ++n;
      }
    }
    ::closedir(d);
  }
  return n;
}

// A raw client connection to the daemon's socket.
class Conn {
 public:
  explicit Conn(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    ok_ = fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~Conn() { close(); }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  bool ok() const { return ok_; }
  void close() {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  bool send(const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      ssize_t n = ::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) {
        return false;
      }
      off += static_cast<size_t>(n);
    }
    return true;
  }
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }
  // Reads until pred holds, EOF, or the timeout.
  bool read_until(const std::function<bool(const std::string&)>& pred,
                  std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    auto deadline = Clock::now() + timeout;
    while (!pred(buf_)) {
      if (eof_ || Clock::now() >= deadline) {
        return false;
      }
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) {
        continue;
      }
      char tmp[8192];
      ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
      if (n <= 0) {
        eof_ = true;
        continue;
      }
      buf_.append(tmp, static_cast<size_t>(n));
    }
    return true;
  }
  // The response head (through the blank line), removed from the buffer.
  std::string head() {
    read_until([](const std::string& b) { return b.find("\r\n\r\n") != std::string::npos; });
    size_t end = buf_.find("\r\n\r\n");
    if (end == std::string::npos) {
      return buf_;
    }
    std::string h = buf_.substr(0, end + 4);
    buf_.erase(0, end + 4);
    return h;
  }
  bool wait_eof(std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    read_until([](const std::string&) { return false; }, timeout);
    return eof_;
  }
  const std::string& data() const { return buf_; }

 private:
  int fd_ = -1;
  bool ok_ = false;
  bool eof_ = false;
  std::string buf_;
};

const std::string kUpgrade = "Connection: Upgrade\r\nUpgrade: tcp\r\n";

std::string attach_request(const std::string& id, const std::string& query) {
  return "POST /v1.44/containers/" + id + "/attach?" + query + " HTTP/1.1\r\nHost: docker\r\n" +
         kUpgrade + "Content-Length: 0\r\n\r\n";
}

std::string exec_start_request(const std::string& exec_id, const std::string& body) {
  return "POST /v1.44/exec/" + exec_id + "/start HTTP/1.1\r\nHost: docker\r\n" + kUpgrade +
         "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

struct Streams {
  std::string out;
  std::string err;
  bool ok = true;  // every byte was in a well-formed frame
};

Streams demux(const std::string& data) {
  Streams s;
  size_t pos = 0;
  while (pos + 8 <= data.size()) {
    auto b = [&](size_t i) { return static_cast<unsigned char>(data[pos + i]); };
    uint32_t len = (uint32_t{b(4)} << 24) | (uint32_t{b(5)} << 16) | (uint32_t{b(6)} << 8) | b(7);
    if (pos + 8 + len > data.size() || b(1) != 0 || b(2) != 0 || b(3) != 0) {
      s.ok = false;
      return s;
    }
    (b(0) == 2 ? s.err : s.out) += data.substr(pos + 8, len);
    pos += 8 + len;
  }
  s.ok = pos == data.size();
  return s;
}

class RootAttachE2e : public DaemonE2e {
 protected:
  std::string create(const std::string& body) {
    auto r = daemon_->http("POST", "/containers/create", body);
    EXPECT_EQ(r.status, 201) << r.body;
    auto j = json::parse(r.body, nullptr, false);
    return j.is_object() ? j.value("Id", "") : "";
  }
  std::string exec_create(const std::string& id, const std::string& body) {
    auto r = daemon_->http("POST", "/containers/" + id + "/exec", body);
    EXPECT_EQ(r.status, 201) << r.body;
    auto j = json::parse(r.body, nullptr, false);
    return j.is_object() ? j.value("Id", "") : "";
  }
  json exec_inspect(const std::string& exec_id) {
    auto r = daemon_->http("GET", "/exec/" + exec_id + "/json");
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false);
  }
};

// Attached before the start (as docker run does): the first output is not lost; the stream
// ends with the container, after which its exit code is recorded.
TEST_F(RootAttachE2e, AttachBeforeStartSeesAllOutput) {
  std::string id = create(
      R"({"Image":"busybox","Cmd":["sh","-c","echo one; echo two >&2; echo three; exit 3"]})");
  ASSERT_FALSE(id.empty());
  Conn c(daemon_->socket());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c.send(attach_request(id, "stream=1&stdout=1&stderr=1")));
  EXPECT_EQ(c.head(),
            "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\n"
            "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n");
  auto start = daemon_->http("POST", "/containers/" + id + "/start");
  ASSERT_EQ(start.status, 204) << start.body;
  ASSERT_TRUE(c.wait_eof());
  Streams s = demux(c.data());
  EXPECT_TRUE(s.ok);
  EXPECT_EQ(s.out, "one\nthree\n");
  EXPECT_EQ(s.err, "two\n");
  // The shim records the exit before closing the stream.
  EXPECT_EQ(inspect(id, "{{.State.ExitCode}}"), "3");
}

// 109: stdin through the attach, StdinOnce: the half-close ends the container's stdin.
TEST_F(RootAttachE2e, AttachStdinOnceHalfClose) {
  std::string id =
      create(R"({"Image":"busybox","OpenStdin":true,"StdinOnce":true,"AttachStdin":true,)"
             R"("Cmd":["sh","-c","echo started; cat; echo stdin-closed >&2; exit 3"]})");
  Conn c(daemon_->socket());
  ASSERT_TRUE(c.send(attach_request(id, "stream=1&stdin=1&stdout=1&stderr=1")));
  ASSERT_EQ(c.head().rfind("HTTP/1.1 101 UPGRADED", 0), 0u);
  ASSERT_EQ(daemon_->http("POST", "/containers/" + id + "/start").status, 204);
  ASSERT_TRUE(c.send("hello\n"));
  EXPECT_TRUE(c.read_until([](const std::string& b) { return demux(b).out == "started\nhello\n"; }))
      << demux(c.data()).out;
  c.shutdown_write();
  ASSERT_TRUE(c.wait_eof());
  Streams s = demux(c.data());
  EXPECT_EQ(s.out, "started\nhello\n");
  EXPECT_EQ(s.err, "stdin-closed\n");
  EXPECT_EQ(inspect(id, "{{.State.ExitCode}}"), "3");
}

// 112/113: logs=1 replays the log; attach without Upgrade answers 200.
TEST_F(RootAttachE2e, AttachLogsReplay) {
  std::string id = run_detached({"busybox", "sh", "-c", "echo early; echo early-err >&2"});
  ASSERT_TRUE(eventually([&] { return inspect(id, "{{.State.Status}}") == "exited"; }));
  Conn c(daemon_->socket());
  ASSERT_TRUE(c.send("POST /v1.41/containers/" + id +
                     "/attach?logs=1&stdout=1&stderr=1 HTTP/1.1\r\nHost: docker\r\n"
                     "Content-Length: 0\r\n\r\n"));
  EXPECT_EQ(c.head(), "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n");
  ASSERT_TRUE(c.wait_eof());
  Streams s = demux(c.data());
  EXPECT_TRUE(s.ok);
  EXPECT_EQ(s.out, "early\n");
  EXPECT_EQ(s.err, "early-err\n");
}

// Attach to a running container, then detach with the keys: the container keeps running.
TEST_F(RootAttachE2e, AttachRunningTtyDetachKeys) {
  std::string id = create(R"({"Image":"busybox","Tty":true,"OpenStdin":true,"Cmd":["sh"]})");
  ASSERT_EQ(daemon_->http("POST", "/containers/" + id + "/start").status, 204);
  Conn c(daemon_->socket());
  ASSERT_TRUE(c.send(attach_request(id, "stream=1&stdin=1&stdout=1&stderr=1&detachKeys=ctrl-x,x")));
  EXPECT_EQ(c.head(),
            "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
            "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n");
  ASSERT_TRUE(c.send("echo hi-$((40+2))\n"));
  EXPECT_TRUE(c.read_until([](const std::string& b) { return contains(b, "hi-42"); })) << c.data();
  ASSERT_TRUE(c.send("\x18x"));
  EXPECT_TRUE(c.wait_eof(std::chrono::seconds(10)));
  EXPECT_EQ(inspect(id, "{{.State.Running}}"), "true");
  // Resize of the tty container, then of a stopped one (409).
  EXPECT_EQ(daemon_->http("POST", "/containers/" + id + "/resize?h=30&w=100").status, 200);
}

// `echo hi | docker run -i busybox cat` prints hi and exits 0; the exit code is the container's.
TEST_F(RootAttachE2e, DockerRunPipedStdin) {
  if (::access("/usr/local/bin/docker", X_OK) != 0) {
    GTEST_SKIP() << "no docker CLI";
  }
  RunOptions o;
  o.input = "hi\n";
  o.timeout = std::chrono::seconds(60);
  Output r = daemon_->docker({"run", "-i", "--rm", "busybox", "cat"}, o);
  EXPECT_EQ(r.status, 0) << r.all();
  EXPECT_EQ(r.out, "hi\n") << r.all();
  Output code = daemon_->docker({"run", "busybox", "sh", "-c", "echo out; echo err >&2; exit 5"});
  EXPECT_EQ(code.status, 5) << code.all();
  EXPECT_EQ(code.out, "out\n");
  EXPECT_EQ(code.err, "err\n");
}

TEST_F(RootAttachE2e, DockerExecExitCodes) {
  if (::access("/usr/local/bin/docker", X_OK) != 0) {
    GTEST_SKIP() << "no docker CLI";
  }
  std::string id = run_detached({"--name", "ex", "busybox", "sleep", "1000"});
  Output three = daemon_->docker({"exec", "ex", "sh", "-c", "exit 3"});
  EXPECT_EQ(three.status, 3) << three.all();
  Output hi = daemon_->docker({"exec", "ex", "echo", "hi"});
  EXPECT_EQ(hi.status, 0) << hi.all();
  EXPECT_EQ(hi.out, "hi\n");
  RunOptions o;
  o.input = "piped\n";
  Output cat = daemon_->docker({"exec", "-i", "ex", "cat"}, o);
  EXPECT_EQ(cat.status, 0) << cat.all();
  EXPECT_EQ(cat.out, "piped\n");
  Output env = daemon_->docker({"exec", "-e", "FOO=bar", "-w", "/tmp", "-u", "65534", "ex", "sh",
                                "-c", "echo $FOO $(pwd) $(id -u)"});
  EXPECT_EQ(env.out, "bar /tmp 65534\n") << env.all();
  Output missing = daemon_->docker({"exec", "ex", "nosuchcmd"});
  EXPECT_EQ(missing.status, 127) << missing.all();
  EXPECT_TRUE(contains(missing.all(), "executable file not found")) << missing.all();
  Output detached = daemon_->docker({"exec", "-d", "ex", "sh", "-c", "echo x > /tmp/d"});
  EXPECT_EQ(detached.status, 0) << detached.all();
  EXPECT_TRUE(eventually([&] {
    return daemon_->docker({"exec", "ex", "cat", "/tmp/d"}).out == "x\n";
  }));
}

// 115-118: exec over a raw hijack; inspect before and after.
TEST_F(RootAttachE2e, ExecInspectFields) {
  std::string id = run_detached({"busybox", "sleep", "1000"});
  std::string eid = exec_create(
      id,
      R"({"AttachStdout":true,"AttachStderr":true,"Cmd":["sh","-c","echo out; echo err >&2; exit 7"]})");
  ASSERT_EQ(eid.size(), 64u);
  json before = exec_inspect(eid);
  EXPECT_EQ(before["Running"], false);
  EXPECT_TRUE(before["ExitCode"].is_null());
  EXPECT_EQ(before["Pid"], 0);
  EXPECT_EQ(before["ContainerID"], id);
  EXPECT_EQ(before["ProcessConfig"]["entrypoint"], "sh");
  EXPECT_EQ(before["ProcessConfig"]["arguments"], json({"-c", "echo out; echo err >&2; exit 7"}));
  Conn c(daemon_->socket());
  ASSERT_TRUE(c.send(exec_start_request(eid, R"({"Detach":false,"Tty":false})")));
  std::string head = c.head();
  EXPECT_EQ(head.rfind("HTTP/1.1 101 UPGRADED\r\nContent-Type: "
                       "application/vnd.docker.multiplexed-stream\r\nConnection: Upgrade\r\n"
                       "Upgrade: tcp\r\nApi-Version: ",
                       0),
            0u)
      << head;
  ASSERT_TRUE(c.wait_eof());
  Streams s = demux(c.data());
  EXPECT_EQ(s.out, "out\n");
  EXPECT_EQ(s.err, "err\n");
  json after = exec_inspect(eid);
  EXPECT_EQ(after["Running"], false);
  EXPECT_EQ(after["ExitCode"], 7);
  EXPECT_GT(after["Pid"].get<int64_t>(), 0);
  // 119: a second start answers in the stream.
  Conn again(daemon_->socket());
  ASSERT_TRUE(again.send(exec_start_request(eid, R"({"Detach":false,"Tty":false})")));
  EXPECT_EQ(again.head().rfind("HTTP/1.1 101 UPGRADED", 0), 0u);
  ASSERT_TRUE(again.wait_eof());
  EXPECT_EQ(demux(again.data()).out, "Error: Exec command " + eid + " has already run\r\n");
  // The exec's events, as dockerd names them.
  auto events =
      daemon_->http("GET", "/events?since=0&until=" + std::to_string(::time(nullptr) + 1) +
                               "&filters=%7B%22type%22%3A%5B%22container%22%5D%7D");
  EXPECT_EQ(events.status, 200) << events.body;
  std::string cmd = "sh -c echo out; echo err >&2; exit 7";
  size_t created = events.body.find("\"exec_create: " + cmd + "\"");
  size_t started = events.body.find("\"exec_start: " + cmd + "\"");
  size_t died = events.body.find("\"exec_die\"");
  EXPECT_NE(created, std::string::npos) << events.body;
  EXPECT_NE(started, std::string::npos) << events.body;
  EXPECT_NE(died, std::string::npos) << events.body;
  EXPECT_TRUE(created < started && started < died) << events.body;
  EXPECT_TRUE(contains(events.body, "\"exitCode\":\"7\"")) << events.body;
  EXPECT_TRUE(contains(events.body, "\"execID\":\"" + eid + "\"")) << events.body;
  // 123: resize of an exec that ended.
  auto rs = daemon_->http("POST", "/exec/" + eid + "/resize?h=30&w=100");
  EXPECT_EQ(rs.status, 404);
  EXPECT_TRUE(contains(rs.body, "no such exec")) << rs.body;
}

// A detached exec nobody looks at: its end is noticed (exec_die) all the same.
TEST_F(RootAttachE2e, DetachedExecDieEvent) {
  std::string id = run_detached({"busybox", "sleep", "1000"});
  std::string eid = exec_create(id, R"({"Cmd":["sh","-c","sleep 0.3; exit 4"]})");
  auto st = daemon_->http("POST", "/exec/" + eid + "/start", R"({"Detach":true})");
  ASSERT_EQ(st.status, 200) << st.body;
  EXPECT_TRUE(eventually(
      [&] {
        auto ev = daemon_->http("GET", "/events?since=0&until=" + std::to_string(::time(nullptr)));
        return contains(ev.body, "\"exec_die\"") && contains(ev.body, "\"exitCode\":\"4\"");
      },
      std::chrono::seconds(10)));
  json after = exec_inspect(eid);
  EXPECT_EQ(after["Running"], false);
  EXPECT_EQ(after["ExitCode"], 4);
}

TEST_F(RootAttachE2e, BadInputs) {
  std::string stopped = run_detached({"busybox", "true"});
  ASSERT_TRUE(eventually([&] { return inspect(stopped, "{{.State.Status}}") == "exited"; }));
  auto ex = daemon_->http("POST", "/containers/" + stopped + "/exec", R"({"Cmd":["true"]})");
  EXPECT_EQ(ex.status, 409);
  EXPECT_TRUE(contains(ex.body, "Container " + stopped + " is not running")) << ex.body;
  auto rs = daemon_->http("POST", "/containers/" + stopped + "/resize?h=10&w=10");
  EXPECT_EQ(rs.status, 409) << rs.body;

  std::string running = run_detached({"busybox", "sleep", "1000"});
  auto nocmd =
      daemon_->http("POST", "/containers/" + running + "/exec", R"({"AttachStdout":true})");
  EXPECT_EQ(nocmd.status, 400);
  EXPECT_TRUE(contains(nocmd.body, "No exec command specified")) << nocmd.body;
  // A container without a tty is resized as dockerd does: a no-op success.
  EXPECT_EQ(daemon_->http("POST", "/containers/" + running + "/resize?h=10&w=10").status, 200);
  {
    Conn c(daemon_->socket());
    ASSERT_TRUE(c.send(attach_request(running, "stream=1&stdout=1&detachKeys=ctrl-1")));
    ASSERT_TRUE(c.wait_eof());
    EXPECT_EQ(c.data(),
              "HTTP/1.1 400 Bad Request\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n"
              "Invalid detach keys (ctrl-1) provided\r\n");
  }
  // Garbage after the upgrade into a container that has no stdin: the container is unharmed.
  {
    Conn c(daemon_->socket());
    ASSERT_TRUE(c.send(attach_request(running, "stream=1&stdin=1&stdout=1")));
    ASSERT_EQ(c.head().rfind("HTTP/1.1 101", 0), 0u);
    static constexpr char kGarbage[] = "\x00\xff garbage \r\n\r\nGET / HTTP/1.1\r\n\r\n";
    ASSERT_TRUE(c.send(std::string(kGarbage, sizeof kGarbage - 1)));
  }
  EXPECT_EQ(inspect(running, "{{.State.Running}}"), "true");
  // A start that fails ends the streams attached before it.
  {
    std::string bad = create(R"({"Image":"busybox","Cmd":["nosuchcmd"]})");
    Conn c(daemon_->socket());
    ASSERT_TRUE(c.send(attach_request(bad, "stream=1&stdout=1&stderr=1")));
    ASSERT_EQ(c.head().rfind("HTTP/1.1 101", 0), 0u);
    auto st = daemon_->http("POST", "/containers/" + bad + "/start");
    EXPECT_EQ(st.status, 400) << st.body;
    EXPECT_TRUE(c.wait_eof(std::chrono::seconds(10)));
    EXPECT_EQ(inspect(bad, "{{.State.ExitCode}}"), "127");
  }
  std::string eid = exec_create(running, R"({"Cmd":["true"]})");
  // Attach to a removed container: 404 on the raw connection; its execs are gone too.
  ASSERT_EQ(daemon_->cli({"rm", "-f", running}).status, 0);
  auto gone_exec = daemon_->http("GET", "/exec/" + eid + "/json");
  EXPECT_EQ(gone_exec.status, 404) << gone_exec.body;
  EXPECT_TRUE(contains(gone_exec.body, "No such exec instance: " + eid)) << gone_exec.body;
  Conn gone(daemon_->socket());
  ASSERT_TRUE(gone.send(attach_request(running, "stream=1&stdout=1")));
  ASSERT_TRUE(gone.wait_eof());
  EXPECT_EQ(gone.data(),
            "HTTP/1.1 404 Not Found\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n"
            "No such container: " +
                running + "\r\n");
}

// 50 attach streams open at once, and the daemon still answers ps at once.
TEST_F(RootAttachE2e, FiftyStreamsAndPs) {
  std::string id = run_detached({"busybox", "sh", "-c", "while :; do echo tick; sleep 1; done"});
  std::vector<std::unique_ptr<Conn>> conns;
  for (int i = 0; i < 50; ++i) {
    auto c = std::make_unique<Conn>(daemon_->socket());
    ASSERT_TRUE(c->ok());
    ASSERT_TRUE(c->send(attach_request(id, "stream=1&stdout=1&stderr=1")));
    ASSERT_EQ(c->head().rfind("HTTP/1.1 101", 0), 0u) << i;
    conns.push_back(std::move(c));
  }
  auto t0 = Clock::now();
  Output ps = daemon_->cli({"ps"});
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
  EXPECT_EQ(ps.status, 0) << ps.all();
  EXPECT_TRUE(contains(ps.out, id.substr(0, 12))) << ps.out;
  // Starved means not answered while the streams stay open; the bound only tells that apart
  // from a slow machine (a sanitizer build), it measures nothing.
  EXPECT_LT(ms, 10000) << "ps took " << ms << " ms with 50 open streams";
  // Every stream is live.
  for (auto& c : conns) {
    EXPECT_TRUE(c->read_until([](const std::string& b) { return contains(b, "tick"); }));
  }
}

// Clients that vanish mid-stream leave the daemon's fds and threads as they were.
TEST_F(RootAttachE2e, KilledClientsLeaveNothing) {
  std::string id = run_detached({"busybox", "sh", "-c", "while :; do echo tick; sleep 1; done"});
  // Warm up (the first requests start pool threads).
  for (int i = 0; i < 3; ++i) {
    daemon_->cli({"ps"});
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  int fds = daemon_->fd_count();
  int threads = thread_count(daemon_->pid());
  {
    std::vector<std::unique_ptr<Conn>> conns;
    for (int i = 0; i < 10; ++i) {
      auto c = std::make_unique<Conn>(daemon_->socket());
      ASSERT_TRUE(c->send(attach_request(id, "stream=1&stdin=1&stdout=1&stderr=1")));
      ASSERT_EQ(c->head().rfind("HTTP/1.1 101", 0), 0u);
      conns.push_back(std::move(c));
    }
    // A docker CLI killed mid-stream, too.
    if (::access("/usr/local/bin/docker", X_OK) == 0) {
      pid_t pid = spawn({"/usr/bin/env", "DOCKER_HOST=unix://" + daemon_->socket(),
                         "/usr/local/bin/docker", "logs", "-f", id},
                        daemon_->root() + "/logs-client.log");
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      ::kill(pid, SIGKILL);
      wait_child(pid, std::chrono::seconds(5));
    }
  }  // every client connection closed abruptly
  EXPECT_TRUE(eventually([&] { return daemon_->fd_count() <= fds; }, std::chrono::seconds(10)))
      << daemon_->fd_count() << " fds, was " << fds;
  EXPECT_TRUE(
      eventually([&] { return thread_count(daemon_->pid()) <= threads; }, std::chrono::seconds(10)))
      << thread_count(daemon_->pid()) << " threads, was " << threads;
  EXPECT_EQ(inspect(id, "{{.State.Running}}"), "true");
}

}  // namespace
}  // namespace mydocker::testing::e2e
