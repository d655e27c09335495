// SPDX-License-Identifier: Apache-2.0
// Hijacked routes (attach, exec start) and the transport under them: the exact upgrade answer
// bytes of dockerd (transcripts 109-129), keep-alive requests before a hijack on the same
// connection (docker-py's pooled exec create + exec start), client bytes sent right behind
// the request reaching the engine's end of the connection, and the bad requests.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

#include "api/server/server.h"
#include "image/archive/images.h"
#include "tests/support/busybox_rootfs.h"
#include "tests/unit/api/server/fake_daemon.h"
#include "tests/unit/api/server/http_client.h"
#include "tests/unit/api/server/served_api.h"

namespace mydocker::api::server {
namespace {

using engine::Status;
using nlohmann::json;
using testing::FakeDaemon;

// A raw connection: bytes in, bytes out, nothing parsed.
class Raw {
 public:
  explicit Raw(const std::string& path) {
    fd_ = base::Fd::adopt(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    ok_ = ::connect(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  bool ok() const { return ok_; }
  int fd() const { return fd_.get(); }
  void send(const std::string& s) { ASSERT_TRUE(base::write_all(fd_.get(), s)); }
  // Reads until `pred(received)` holds, the peer closes, or 5 s pass.
  std::string read_until(const std::function<bool(const std::string&)>& pred) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!pred(buf_) && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) {
        continue;
      }
      char tmp[4096];
      ssize_t n = ::recv(fd_.get(), tmp, sizeof(tmp), 0);
      if (n <= 0) {
        closed_ = true;
        break;
      }
      buf_.append(tmp, static_cast<size_t>(n));
    }
    return buf_;
  }
  std::string read_head() {
    read_until([](const std::string& b) { return b.find("\r\n\r\n") != std::string::npos; });
    size_t end = buf_.find("\r\n\r\n");
    if (end == std::string::npos) {
      return buf_;
    }
    std::string head = buf_.substr(0, end + 4);
    buf_.erase(0, end + 4);
    return head;
  }
  // One whole response with a Content-Length body (the keep-alive requests).
  std::string read_response() {
    std::string head = read_head();
    size_t pos = head.find("Content-Length: ");
    size_t len = pos == std::string::npos ? 0 : std::stoul(head.substr(pos + 16));
    read_until([&](const std::string& b) { return b.size() >= len; });
    std::string body = buf_.substr(0, len);
    buf_.erase(0, len);
    return head + body;
  }
  std::string rest() const { return buf_; }
  bool closed() {
    read_until([](const std::string&) { return false; });
    return closed_;
  }

 private:
  base::Fd fd_;
  bool ok_ = false;
  bool closed_ = false;
  std::string buf_;
};

std::string read_exactly(int fd, size_t n) {
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) {
      continue;
    }
    char tmp[4096];
    ssize_t r = ::recv(fd, tmp, std::min(sizeof(tmp), n - out.size()), 0);
    if (r <= 0) {
      break;
    }
    out.append(tmp, static_cast<size_t>(r));
  }
  return out;
}

class HijackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto images = testing::open_test_images(tmp_.path() + "/root", "amd64");
    ASSERT_TRUE(images) << images.error().to_string();
    daemon_ = std::make_unique<FakeDaemon>(std::move(*images));
    c1_ = daemon_->add("tx-c1", Status::Running);
    tty_ = daemon_->add("tx-tty", Status::Running, 0, true);
    exited_ = daemon_->add("tx-exited", Status::Exited, 2);
    auto up = api_.start(*daemon_, sock());
    ASSERT_TRUE(up) << up.error().to_string();
  }
  void TearDown() override { api_.stop(); }
  std::string sock() const { return tmp_.path() + "/api.sock"; }

  std::string exec_create(const std::string& container, const std::string& body) {
    auto r = testing::request(sock(), "POST", "/v1.41/containers/" + container + "/exec", body,
                              {{"Content-Type", "application/json"}});
    EXPECT_TRUE(r);
    if (!r) {
      return "";
    }
    EXPECT_EQ(r->status, 201) << r->body;
    auto j = json::parse(r->body, nullptr, false);
    return j.is_object() ? j.value("Id", "") : "";
  }

  mydocker::testing::TempDir tmp_;
  std::unique_ptr<FakeDaemon> daemon_;
  testing::ServedApi api_;
  std::string c1_, tty_, exited_;
};

const std::string kUpgradeHeaders = "Connection: Upgrade\r\nUpgrade: tcp\r\n";

// 109: the 101 answer, byte for byte (API 1.41: raw-stream; no Docker headers on attach).
TEST_F(HijackTest, AttachUpgradeAnswerBytes) {
  Raw c(sock());
  ASSERT_TRUE(c.ok());
  c.send("POST /v1.41/containers/" + c1_ +
         "/attach?stream=1&stdin=1&stdout=1&stderr=1 HTTP/1.1\r\nHost: docker\r\n" +
         kUpgradeHeaders + "Content-Length: 0\r\n\r\n");
  EXPECT_EQ(c.read_head(),
            "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
            "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n");
  EXPECT_TRUE(daemon_->last_attach.stream);
  EXPECT_TRUE(daemon_->last_attach.stdin_stream);
  EXPECT_TRUE(daemon_->last_attach.stdout_stream);
  EXPECT_TRUE(daemon_->last_attach.stderr_stream);
  EXPECT_FALSE(daemon_->last_attach.logs);
  // The engine's end is the client's connection: both ways, and httplib adds nothing.
  base::Fd engine_end = daemon_->take_conn();
  ASSERT_TRUE(engine_end.valid());
  ASSERT_TRUE(base::write_all(engine_end.get(), std::string("\x01\0\0\0\0\0\0\x03hi\n", 11)));
  EXPECT_EQ(c.read_until([](const std::string& b) { return b.size() >= 11; }),
            std::string("\x01\0\0\0\0\0\0\x03hi\n", 11));
  c.send("hello\n");
  EXPECT_EQ(read_exactly(engine_end.get(), 6), "hello\n");
  engine_end.reset();
  EXPECT_TRUE(c.closed());
  EXPECT_EQ(c.rest(), std::string("\x01\0\0\0\0\0\0\x03hi\n", 11));
}

// Docker >= 1.42 names the framing: multiplexed without a tty, raw with one.
TEST_F(HijackTest, AttachContentTypeByVersionAndTty) {
  for (const auto& [ctr, want] : std::vector<std::pair<std::string, std::string>>{
           {c1_, "application/vnd.docker.multiplexed-stream"},
           {tty_, "application/vnd.docker.raw-stream"}}) {
    Raw c(sock());
    c.send("POST /v1.44/containers/" + ctr + "/attach?stream=1&stdout=1 HTTP/1.1\r\nHost: x\r\n" +
           kUpgradeHeaders + "Content-Length: 0\r\n\r\n");
    EXPECT_EQ(c.read_head(), "HTTP/1.1 101 UPGRADED\r\nContent-Type: " + want +
                                 "\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n");
    EXPECT_TRUE(daemon_->take_conn().valid());
  }
}

// 112: no Upgrade header: 200 OK with raw-stream, no framing of the HTTP kind.
TEST_F(HijackTest, AttachWithoutUpgradeIs200) {
  Raw c(sock());
  c.send(
      "POST /v1.44/containers/tx-c1/attach?logs=1&stream=1&stdout=1&stderr=1 HTTP/1.1\r\n"
      "Host: docker\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(c.read_head(),
            "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n");
  EXPECT_TRUE(daemon_->last_attach.logs);
  base::Fd end = daemon_->take_conn();
  ASSERT_TRUE(end.valid());
  ASSERT_TRUE(base::write_all(end.get(), "late\n"));
  end.reset();
  EXPECT_TRUE(c.closed());
  EXPECT_EQ(c.rest(), "late\n");
}

// 114: an attach error is written raw on the connection, which then closes.
TEST_F(HijackTest, AttachUnknownContainerIsRawError) {
  Raw c(sock());
  c.send("POST /v1.41/containers/tx-nosuch/attach?stream=1&stdout=1 HTTP/1.1\r\nHost: docker\r\n" +
         kUpgradeHeaders + "Content-Length: 0\r\n\r\n");
  EXPECT_TRUE(c.closed());
  EXPECT_EQ(c.rest(),
            "HTTP/1.1 404 Not Found\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n"
            "No such container: tx-nosuch\r\n");
}

TEST_F(HijackTest, AttachBadDetachKeys) {
  Raw c(sock());
  c.send(
      "POST /v1.41/containers/tx-c1/attach?stream=1&stdout=1&detachKeys=bad HTTP/1.1\r\n"
      "Host: docker\r\n" +
      kUpgradeHeaders + "Content-Length: 0\r\n\r\n");
  EXPECT_TRUE(c.closed());
  EXPECT_EQ(c.rest(),
            "HTTP/1.1 400 Bad Request\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n"
            "Invalid detach keys (bad) provided\r\n");
}

// Malformed upgrade requests: a broken request line is a 400, and so is a head cut short by
// the client's close; nothing is hijacked and the server keeps serving.
TEST_F(HijackTest, MalformedUpgradeRequest) {
  {
    Raw c(sock());
    c.send("POST /v1.41/containers/tx-c1/attach?stream=1 HTTP/1.1 extra\r\nHost: docker\r\n" +
           kUpgradeHeaders + "Content-Length: 0\r\n\r\n");
    std::string head = c.read_head();
    EXPECT_EQ(head.rfind("HTTP/1.1 400", 0), 0u) << head;
  }
  {
    Raw c(sock());
    c.send("POST /v1.41/containers/tx-c1/attach?stream=1 HTTP/1.1\r\nHost: docker\r\nUpgr");
    ::shutdown(c.fd(), SHUT_WR);
    EXPECT_TRUE(c.closed());
    EXPECT_TRUE(c.rest().empty() || c.rest().rfind("HTTP/1.1 400", 0) == 0) << c.rest();
  }
  EXPECT_FALSE(daemon_->take_conn().valid());
  auto r = testing::request(sock(), "GET", "/_ping");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

// docker-py: exec create and exec start on one pooled connection; the client's first stdin
// bytes travel in the same segment as the start request and must reach the engine.
TEST_F(HijackTest, KeepAliveThenHijackOnOneConnection) {
  Raw c(sock());
  c.send("GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n");
  std::string ping = c.read_response();
  EXPECT_EQ(ping.rfind("HTTP/1.1 200 OK", 0), 0u) << ping;
  std::string body = R"({"AttachStdin":true,"AttachStdout":true,"Cmd":["cat"]})";
  c.send(
      "POST /v1.41/containers/tx-c1/exec HTTP/1.1\r\nHost: docker\r\n"
      "Content-Type: application/json\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body);
  std::string created = c.read_response();
  ASSERT_EQ(created.rfind("HTTP/1.1 201 Created", 0), 0u) << created;
  auto j = json::parse(created.substr(created.find("\r\n\r\n") + 4), nullptr, false);
  std::string id = j.value("Id", "");
  ASSERT_EQ(id.size(), 64u);
  std::string start = R"({"Detach":false,"Tty":false})";
  c.send("POST /v1.41/exec/" + id + "/start HTTP/1.1\r\nHost: docker\r\n" + kUpgradeHeaders +
         "Content-Type: application/json\r\nContent-Length: " + std::to_string(start.size()) +
         "\r\n\r\n" + start + "early-stdin\n");
  EXPECT_EQ(c.read_head(),
            "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
            "Connection: Upgrade\r\nUpgrade: tcp\r\nApi-Version: 1.44\r\n"
            "Docker-Experimental: false\r\nOstype: linux\r\n"
            "Server: Mydocker/0.1.0-test (linux)\r\n\r\n");
  base::Fd end = daemon_->take_conn();
  ASSERT_TRUE(end.valid());
  EXPECT_EQ(read_exactly(end.get(), 12), "early-stdin\n");
  ASSERT_TRUE(base::write_all(end.get(), "out\n"));
  EXPECT_EQ(c.read_until([](const std::string& b) { return b.size() >= 4; }), "out\n");
  end.reset();
  EXPECT_TRUE(c.closed());
  EXPECT_EQ(c.rest(), "out\n");
}

// A chunked request body before the upgrade: its last chunk ends the request, and what follows
// belongs to the stream.
TEST_F(HijackTest, ChunkedStartBodyThenStream) {
  std::string id = exec_create("tx-c1", R"({"AttachStdin":true,"Tty":true,"Cmd":["cat"]})");
  ASSERT_FALSE(id.empty());
  Raw c(sock());
  std::string start = R"({"Detach":false,"Tty":true})";
  char size[16];
  std::snprintf(size, sizeof(size), "%zx", start.size());
  c.send("POST /v1.44/exec/" + id + "/start HTTP/1.1\r\nHost: docker\r\n" + kUpgradeHeaders +
         "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + size + "\r\n" +
         start + "\r\n0\r\n\r\nabc");
  std::string head = c.read_head();
  EXPECT_EQ(
      head.rfind("HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream", 0), 0u)
      << head;
  EXPECT_TRUE(daemon_->last_exec_start.tty);
  base::Fd end = daemon_->take_conn();
  ASSERT_TRUE(end.valid());
  EXPECT_EQ(read_exactly(end.get(), 3), "abc");
}

// 125: exec start without Upgrade: 200 OK, raw-stream, with the Docker headers.
TEST_F(HijackTest, ExecStartWithoutUpgrade) {
  std::string id = exec_create("tx-c1", R"({"AttachStdout":true,"Cmd":["echo","plain"]})");
  Raw c(sock());
  std::string start = R"({"Detach":false,"Tty":false})";
  c.send("POST /v1.44/exec/" + id +
         "/start HTTP/1.1\r\nHost: docker\r\n"
         "Content-Type: application/json\r\nContent-Length: " +
         std::to_string(start.size()) + "\r\n\r\n" + start);
  EXPECT_EQ(c.read_head(),
            "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
            "Api-Version: 1.44\r\nDocker-Experimental: false\r\nOstype: linux\r\n"
            "Server: Mydocker/0.1.0-test (linux)\r\n\r\n");
  EXPECT_TRUE(daemon_->take_conn().valid());
}

// 126: Detach answers 200 with an empty body; nothing is hijacked, the connection lives on.
TEST_F(HijackTest, ExecStartDetach) {
  std::string id = exec_create("tx-c1", R"({"Cmd":["sleep","1"]})");
  Raw c(sock());
  std::string start = R"({"Detach":true,"Tty":false})";
  c.send("POST /v1.41/exec/" + id +
         "/start HTTP/1.1\r\nHost: docker\r\n"
         "Content-Type: application/json\r\nContent-Length: " +
         std::to_string(start.size()) + "\r\n\r\n" + start);
  std::string r = c.read_response();
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
  EXPECT_NE(r.find("Content-Length: 0\r\n"), std::string::npos) << r;
  EXPECT_EQ(r.find("Content-Type"), std::string::npos) << r;
  EXPECT_TRUE(daemon_->last_exec_start.detach);
  c.send("GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n");
  std::string ping = c.read_response();
  EXPECT_EQ(ping.rfind("HTTP/1.1 200 OK", 0), 0u) << ping;
}

TEST_F(HijackTest, ExecInspectShape) {
  std::string id = exec_create(
      "tx-c1",
      R"({"AttachStdout":true,"AttachStderr":true,"Cmd":["sh","-c","exit 7"],"User":"nobody"})");
  auto r = testing::request(sock(), "GET", "/v1.41/exec/" + id + "/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "{\"ID\":\"" + id +
                         "\",\"Running\":false,\"ExitCode\":null,\"ProcessConfig\":{\"tty\":false,"
                         "\"entrypoint\":\"sh\",\"arguments\":[\"-c\",\"exit 7\"],\"privileged\":"
                         "false,\"user\":\"nobody\"},\"OpenStdin\":false,\"OpenStderr\":true,"
                         "\"OpenStdout\":true,\"CanRemove\":false,\"ContainerID\":\"" +
                         c1_ + "\",\"DetachKeys\":\"\",\"Pid\":0}\n");
}

TEST_F(HijackTest, BadRequests) {
  const std::map<std::string, std::string> ct = {{"Content-Type", "application/json"}};
  struct Case {
    std::string method, target, body;
    int status;
    std::string message;
  };
  std::vector<Case> cases = {
      {"POST", "/v1.41/containers/tx-c1/exec", R"({"AttachStdout":true})", 400,
       "No exec command specified"},
      {"POST", "/v1.41/containers/tx-exited/exec", R"({"Cmd":["true"]})", 409,
       "Container " + exited_ + " is not running"},
      {"POST", "/v1.41/containers/tx-nosuch/exec", R"({"Cmd":["true"]})", 404,
       "No such container: tx-nosuch"},
      {"GET", "/v1.41/exec/tx-nosuch-exec/json", "", 404, "No such exec instance: tx-nosuch-exec"},
      {"POST", "/v1.41/exec/tx-nosuch-exec/start", R"({"Detach":false,"Tty":false})", 404,
       "No such exec instance: tx-nosuch-exec"},
      {"POST", "/v1.41/exec/tx-nosuch-exec/resize?h=30&w=100", "", 404,
       "No such exec instance: tx-nosuch-exec"},
      {"POST", "/v1.41/containers/tx-c1/resize?h=abc&w=100", "", 400,
       "strconv.Atoi: parsing \"abc\": invalid syntax"},
      {"POST", "/v1.41/containers/tx-exited/resize?h=30&w=100", "", 409,
       "Container " + exited_ + " is not running"},
      {"POST", "/v1.41/exec/x/start", "", 400, "EOF"},
  };
  for (const auto& k : cases) {
    auto r = testing::request(sock(), k.method, k.target, k.body,
                              k.body.empty() ? std::map<std::string, std::string>{} : ct);
    ASSERT_TRUE(r) << k.target;
    EXPECT_EQ(r->status, k.status) << k.target << ": " << r->body;
    auto j = json::parse(r->body, nullptr, false);
    EXPECT_EQ(j.is_object() ? j.value("message", "") : "", k.message) << k.target;
  }
  auto ok = testing::request(sock(), "POST", "/v1.41/containers/tx-c1/resize?h=30&w=100");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->body, "");
  EXPECT_EQ(daemon_->last_resize, std::make_pair(30, 100));
}

// dockerd reads a POST without Content-Length (and not chunked) as bodiless; httplib would
// wait for the client to close.
TEST_F(HijackTest, BarePostWithoutContentLength) {
  Raw c(sock());
  c.send("POST /v1.41/containers/tx-c1/resize?h=10&w=20 HTTP/1.1\r\nHost: docker\r\n\r\n");
  std::string r = c.read_response();
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK", 0), 0u) << r;
  EXPECT_EQ(daemon_->last_resize, std::make_pair(10, 20));
}

// StreamWriter::alive(): a client's close ends a follow; a half-close does not (it may still
// read).
TEST_F(HijackTest, StreamWriterAliveSeesTheClientsClose) {
  {
    Raw c(sock());
    c.send("GET /v1.44/containers/tx-c1/logs?stdout=1&follow=1 HTTP/1.1\r\nHost: docker\r\n\r\n");
    std::string head = c.read_head();
    ASSERT_EQ(head.rfind("HTTP/1.1 200 OK", 0), 0u) << head;
    ::shutdown(c.fd(), SHUT_WR);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_FALSE(daemon_->follow_client_left);
  }  // closed
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!daemon_->follow_client_left && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(daemon_->follow_client_left);
}

}  // namespace
}  // namespace mydocker::api::server
