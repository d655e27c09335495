// SPDX-License-Identifier: Apache-2.0
// The hijacked-connection client: the upgrade request and answer head, bytes that arrive
// with the head, the demultiplexer on a live socket, half-close at the end of stdin, and the
// detach keys.
#include "api/client/hijack.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <optional>
#include <string>

#include "api/client/client.h"
#include "api/wire/stream.h"
#include "tests/unit/api/client/fake_daemon.h"

namespace mydocker::api::client {
namespace {

using testing::FakeDaemon;
using testing::FakeRequest;

const char* const kUpgraded =
    "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
    "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n";

std::string out_frame(std::string_view s) {
  return wire::frame(wire::StdStream::Stdout, s);
}
std::string err_frame(std::string_view s) {
  return wire::frame(wire::StdStream::Stderr, s);
}

// Reads from fd until EOF (the client's half-close); returns what came.
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

Client client_for(const FakeDaemon& d) {
  return Client(Host{"unix://" + d.path(), d.path()});
}

struct Collected {
  std::string out;
  std::string err;
};

PumpOptions collecting(Collected& c) {
  PumpOptions o;
  o.out = [&c](std::string_view d) {
    c.out.append(d);
    return true;
  };
  o.err = [&c](std::string_view d) {
    c.err.append(d);
    return true;
  };
  return o;
}

struct PipeFds {
  int r = -1;
  int w = -1;
  PipeFds() {
    int p[2];
    EXPECT_EQ(::pipe(p), 0);
    r = p[0];
    w = p[1];
  }
  ~PipeFds() {
    ::close(r);
    if (w >= 0) {
      ::close(w);
    }
  }
  void write_and_close(std::string_view s) {
    EXPECT_EQ(::write(w, s.data(), s.size()), static_cast<ssize_t>(s.size()));
    ::close(w);
    w = -1;
  }
};

// ---- detach keys ----

TEST(DetachKeysTest, ParsesDockersNotation) {
  EXPECT_EQ(*parse_detach_keys("ctrl-p,ctrl-q"), std::string("\x10\x11"));
  EXPECT_EQ(*parse_detach_keys("ctrl-@"), std::string(1, '\0'));
  EXPECT_EQ(*parse_detach_keys("a,ctrl-[,DEL,ctrl-_"), std::string("a\x1b\x7f\x1f"));
  EXPECT_EQ(*parse_detach_keys("ctrl-\\"), std::string("\x1c"));
  for (const char* bad : {"", "ctrl-", "ctrl-1", "ctrl-P", "ab", "a,,b", "del"}) {
    auto r = parse_detach_keys(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), base::ErrorCode::InvalidArgument);
  }
  EXPECT_EQ(parse_detach_keys("a,ctrl-x1").error().message(), "unknown character: 'ctrl-x1'");
}

TEST(EscapeDetectorTest, HoldsAPartialMatchAndForwardsItWhenTheNextKeyDiffers) {
  EscapeDetector d(std::string("\x10\x11"));
  std::string out;
  EXPECT_FALSE(d.feed("ab\x10", out));
  EXPECT_EQ(out, "ab");  // ctrl-p held back
  EXPECT_FALSE(d.feed("c", out));
  EXPECT_EQ(out,
            "ab\x10"
            "c");
  out.clear();
  // A repeated first key: the first one is forwarded, the second starts the match.
  EXPECT_TRUE(d.feed("\x10\x10\x11trailing", out));
  EXPECT_EQ(out, "\x10");
  out.clear();
  // Split over reads.
  EXPECT_FALSE(d.feed("x\x10", out));
  EXPECT_TRUE(d.feed("\x11", out));
  EXPECT_EQ(out, "x");
  // A match pending at the end of input is flushed to the container.
  EXPECT_FALSE(d.feed("\x10", out));
  EXPECT_EQ(d.flush(), "\x10");
  EXPECT_EQ(d.flush(), "");
}

TEST(EscapeDetectorTest, NoKeysForwardsEverything) {
  EscapeDetector d("");
  std::string out;
  EXPECT_FALSE(d.feed(std::string_view("\x10\x11", 2), out));
  EXPECT_EQ(out, "\x10\x11");
}

// ---- hijack ----

TEST(HijackTest, AttachSendsTheUpgradeRequestAndStreamsBothWays) {
  std::atomic<bool> saw_eof{false};
  FakeDaemon d([&](const FakeRequest&, int fd) {
    // Output right behind the head: the client must not lose it in its header buffer.
    FakeDaemon::send_all(fd, std::string(kUpgraded) + out_frame("early\n"));
    std::string in = read_to_eof(fd);  // until the client half-closes
    saw_eof = true;
    FakeDaemon::send_all(fd, out_frame("echo:" + in) + err_frame("bye\n"));
  });
  Client c = client_for(d);
  AttachOptions ao;
  ao.stdin_ = true;
  ao.detach_keys = "ctrl-a,b";
  auto conn = c.container_attach("web", ao);
  ASSERT_TRUE(conn) << conn.error().to_string();
  EXPECT_EQ(conn->head().status, 101);
  PipeFds in;
  in.write_and_close("hello\n");
  Collected got;
  PumpOptions o = collecting(got);
  o.input_fd = in.r;
  auto end = pump(*conn, o);
  ASSERT_TRUE(end) << end.error().to_string();
  EXPECT_EQ(*end, PumpEnd::OutputEnded);
  EXPECT_TRUE(saw_eof);
  EXPECT_EQ(got.out, "early\necho:hello\n");
  EXPECT_EQ(got.err, "bye\n");
  auto reqs = d.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(
      reqs[0].target,
      "/v1.41/containers/web/attach?stream=1&stdin=1&stdout=1&stderr=1&detachKeys=ctrl-a%2Cb");
  EXPECT_NE(reqs[0].head.find("Connection: Upgrade\r\n"), std::string::npos) << reqs[0].head;
  EXPECT_NE(reqs[0].head.find("Upgrade: tcp\r\n"), std::string::npos) << reqs[0].head;
  EXPECT_EQ(reqs[0].head.find("Connection: close"), std::string::npos) << reqs[0].head;
}

TEST(HijackTest, FramesSplitAnywhereAreReassembled) {
  FakeDaemon d([&](const FakeRequest&, int fd) {
    FakeDaemon::send_all(fd, kUpgraded);
    std::string all = out_frame("one ") + err_frame("two") + out_frame("three");
    for (char ch : all) {
      FakeDaemon::send_all(fd, std::string(1, ch));
      ::usleep(200);
    }
  });
  auto conn = client_for(d).container_attach("x", {});
  ASSERT_TRUE(conn);
  Collected got;
  auto end = pump(*conn, collecting(got));
  ASSERT_TRUE(end);
  EXPECT_EQ(got.out, "one three");
  EXPECT_EQ(got.err, "two");
}

TEST(HijackTest, WithoutStdinTheWriteSideClosesAtOnceAsDockersCli) {
  std::atomic<bool> saw_eof{false};
  FakeDaemon d([&](const FakeRequest&, int fd) {
    FakeDaemon::send_all(fd, kUpgraded);
    saw_eof = read_to_eof(fd).empty();
    FakeDaemon::send_all(fd, "raw tty bytes\r\n");
  });
  auto conn = client_for(d).container_attach("x", {});
  ASSERT_TRUE(conn);
  Collected got;
  PumpOptions o = collecting(got);
  o.tty = true;
  auto end = pump(*conn, o);
  ASSERT_TRUE(end);
  EXPECT_EQ(*end, PumpEnd::OutputEnded);
  EXPECT_TRUE(saw_eof);
  EXPECT_EQ(got.out, "raw tty bytes\r\n");  // with a tty: no frames
}

TEST(HijackTest, DetachKeysEndTheStreamAndNeverReachTheDaemon) {
  std::string received;
  std::optional<FakeDaemon> d;
  d.emplace([&](const FakeRequest&, int fd) {
    FakeDaemon::send_all(fd, kUpgraded);
    received = read_to_eof(fd);  // the client closes the socket when it detaches
  });
  std::optional<HijackedConnection> conn;
  {
    auto c = client_for(*d).container_attach("x", {});
    ASSERT_TRUE(c);
    conn.emplace(std::move(c).value());
  }
  PipeFds in;
  ASSERT_EQ(::write(in.w, "ls\n", 3), 3);
  Collected got;
  PumpOptions o = collecting(got);
  o.tty = true;
  o.input_fd = in.r;
  o.detach_keys = kDefaultDetachKeys;
  std::thread typist([&] {
    ::usleep(20000);
    ASSERT_EQ(::write(in.w, "\x10", 1), 1);
    ::usleep(20000);
    ASSERT_EQ(::write(in.w, "\x11", 1), 1);
  });
  auto end = pump(*conn, o);
  typist.join();
  ASSERT_TRUE(end);
  EXPECT_EQ(*end, PumpEnd::Detached);
  conn.reset();  // closes: the fake's read ends
  d.reset();     // joins the fake's connection thread
  EXPECT_EQ(received, "ls\n");
}

TEST(HijackTest, ErrorStatusesAreDaemonErrors) {
  FakeDaemon d([](const FakeRequest&, int fd) {
    FakeDaemon::send_all(
        fd, FakeDaemon::response(
                409, "Conflict",
                R"({"message":"You cannot attach to a stopped container, start it first"})"));
  });
  auto conn = client_for(d).container_attach("x", {});
  ASSERT_FALSE(conn);
  EXPECT_EQ(conn.error().code(), base::ErrorCode::Conflict);
  EXPECT_EQ(conn.error().message(),
            "Error response from daemon: You cannot attach to a stopped container, start it "
            "first");
}

TEST(HijackTest, A200AnswerWithoutUpgradeIsAStreamToo) {
  FakeDaemon d([](const FakeRequest&, int fd) {
    FakeDaemon::send_all(
        fd, "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n" +
                out_frame("ok"));
  });
  auto conn = client_for(d).container_attach("x", {});
  ASSERT_TRUE(conn);
  EXPECT_EQ(conn->head().status, 200);
  Collected got;
  ASSERT_TRUE(pump(*conn, collecting(got)));
  EXPECT_EQ(got.out, "ok");
}

TEST(HijackTest, ACorruptMultiplexedStreamIsAnError) {
  FakeDaemon d([](const FakeRequest&, int fd) {
    FakeDaemon::send_all(fd, std::string(kUpgraded) + "plain text, no frames");
  });
  auto conn = client_for(d).container_attach("x", {});
  ASSERT_TRUE(conn);
  Collected got;
  auto end = pump(*conn, collecting(got));
  ASSERT_FALSE(end);
  EXPECT_EQ(end.error().message(), "Unrecognized input header: 112");
}

TEST(HijackTest, InputOnlyEndsWithTheInput) {
  std::string received;
  std::optional<FakeDaemon> d;
  d.emplace([&](const FakeRequest&, int fd) {
    FakeDaemon::send_all(fd, kUpgraded);
    received = read_to_eof(fd);
  });
  {
    auto conn = client_for(*d).container_attach("x", {});
    ASSERT_TRUE(conn);
    PipeFds in;
    in.write_and_close("data");
    PumpOptions o;
    o.input_fd = in.r;
    o.input_only = true;
    auto end = pump(*conn, o);
    ASSERT_TRUE(end);
    EXPECT_EQ(*end, PumpEnd::InputEnded);
  }
  d.reset();
  EXPECT_EQ(received, "data");
}

TEST(HijackTest, ExecStartSendsItsBodyAndResizesGoToTheirPaths) {
  FakeDaemon d([](const FakeRequest& req, int fd) {
    if (req.target.find("/start") != std::string::npos) {
      FakeDaemon::send_all(fd, std::string(kUpgraded) + "$ ");
    } else if (req.target.find("/exec/e1/json") != std::string::npos) {
      FakeDaemon::send_all(fd, FakeDaemon::response(200, "OK", R"({"ExitCode":3})"));
    } else if (req.target.find("/exec") != std::string::npos && req.method == "POST" &&
               req.target.find("/containers/") != std::string::npos) {
      FakeDaemon::send_all(fd, FakeDaemon::response(201, "Created", R"({"Id":"e1"})"));
    } else {
      FakeDaemon::send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    }
  });
  Client c = client_for(d);
  auto id = c.exec_create("web", Json{{"Cmd", {"sh"}}});
  ASSERT_TRUE(id);
  EXPECT_EQ(*id, "e1");
  auto conn = c.exec_start_attached("e1", Json{{"Detach", false}, {"Tty", true}});
  ASSERT_TRUE(conn);
  Collected got;
  PumpOptions o = collecting(got);
  o.tty = true;
  ASSERT_TRUE(pump(*conn, o));
  EXPECT_EQ(got.out, "$ ");
  ASSERT_TRUE(c.exec_resize("e1", 24, 80));
  ASSERT_TRUE(c.container_resize("web", 30, 100));
  EXPECT_EQ((*c.exec_inspect("e1"))["ExitCode"], 3);
  auto reqs = d.requests();
  ASSERT_EQ(reqs.size(), 5u);
  EXPECT_EQ(reqs[0].target, "/v1.41/containers/web/exec");
  EXPECT_EQ(Json::parse(reqs[0].body)["Cmd"], Json::array({"sh"}));
  EXPECT_EQ(reqs[1].target, "/v1.41/exec/e1/start");
  EXPECT_EQ(Json::parse(reqs[1].body), (Json{{"Detach", false}, {"Tty", true}}));
  EXPECT_NE(reqs[1].head.find("Upgrade: tcp"), std::string::npos);
  EXPECT_EQ(reqs[2].target, "/v1.41/exec/e1/resize?h=24&w=80");
  EXPECT_EQ(reqs[3].target, "/v1.41/containers/web/resize?h=30&w=100");
  EXPECT_EQ(reqs[4].target, "/v1.41/exec/e1/json");
}

TEST(HijackTest, ExecCreateWithoutAnIdIsAnError) {
  FakeDaemon d([](const FakeRequest&, int fd) {
    FakeDaemon::send_all(fd, FakeDaemon::response(201, "Created", R"({})"));
  });
  auto id = client_for(d).exec_create("web", Json{{"Cmd", {"sh"}}});
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().message(), "exec ID empty");
}

}  // namespace
}  // namespace mydocker::api::client
