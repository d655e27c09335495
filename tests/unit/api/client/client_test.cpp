// SPDX-License-Identifier: Apache-2.0
#include "api/client/client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <map>
#include <thread>

#include "api/client/host.h"
#include "api/client/stream.h"
#include "tests/unit/api/client/fake_daemon.h"

namespace mydocker::api::client {
namespace {

using testing::FakeDaemon;
using testing::FakeRequest;

// ---- host selection ----

struct HostRow {
  std::optional<std::string> flag;
  std::map<std::string, std::string> env;
  std::string want;
};

TEST(HostTest, SelectsFlagThenMydockerHostThenDockerHostThenDefault) {
  std::vector<HostRow> rows = {
      {std::nullopt, {}, "unix:///run/mydocker.sock"},
      {"unix:///a.sock", {{"MYDOCKER_HOST", "unix:///b.sock"}}, "unix:///a.sock"},
      {std::nullopt,
       {{"MYDOCKER_HOST", "unix:///b.sock"}, {"DOCKER_HOST", "unix:///c.sock"}},
       "unix:///b.sock"},
      {std::nullopt, {{"DOCKER_HOST", "unix:///c.sock"}}, "unix:///c.sock"},
      {"", {{"DOCKER_HOST", "unix:///c.sock"}}, "unix:///c.sock"},
      {std::nullopt, {{"MYDOCKER_HOST", ""}, {"DOCKER_HOST", "unix:///c.sock"}}, "unix:///c.sock"},
  };
  for (const auto& row : rows) {
    auto got = select_host(row.flag, [&](const char* name) -> const char* {
      auto it = row.env.find(name);
      return it == row.env.end() ? nullptr : it->second.c_str();
    });
    EXPECT_EQ(got, row.want);
  }
}

TEST(HostTest, ParsesUnixAndRefusesOtherSchemes) {
  auto h = parse_host("unix:///run/x.sock");
  ASSERT_TRUE(h) << h.error().to_string();
  EXPECT_EQ(h->socket_path, "/run/x.sock");
  EXPECT_EQ(h->uri, "unix:///run/x.sock");
  auto bare = parse_host("/tmp/y.sock");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->uri, "unix:///tmp/y.sock");

  auto tcp = parse_host("tcp://127.0.0.1:2375");
  ASSERT_FALSE(tcp);
  EXPECT_EQ(tcp.error().code(), base::ErrorCode::NotImplemented);
  EXPECT_NE(tcp.error().message().find("not supported yet"), std::string::npos);
  EXPECT_EQ(parse_host("ssh://me@host").error().code(), base::ErrorCode::NotImplemented);
  EXPECT_EQ(parse_host("unix://relative.sock").error().code(), base::ErrorCode::InvalidArgument);
  EXPECT_EQ(parse_host("bogus").error().code(), base::ErrorCode::InvalidArgument);
}

// ---- demultiplexing ----

std::string frame(uint8_t stream, std::string_view payload) {
  std::string f(8, '\0');
  f[0] = static_cast<char>(stream);
  uint32_t n = static_cast<uint32_t>(payload.size());
  f[4] = static_cast<char>(n >> 24);
  f[5] = static_cast<char>(n >> 16);
  f[6] = static_cast<char>(n >> 8);
  f[7] = static_cast<char>(n);
  return f + std::string(payload);
}

TEST(StreamDemuxerTest, SplitsFramesCutAnywhere) {
  // The frames of transcript 085 (logs of a non-TTY container).
  std::string wire = frame(1, "out1\n") + frame(1, "out2\n") + frame(2, "err1\n") + frame(1, "") +
                     frame(1, "no-newline");
  for (size_t cut = 0; cut <= wire.size(); ++cut) {
    std::string out;
    std::string err;
    StreamDemuxer d(
        [&](StreamKind k, std::string_view p) { (k == StreamKind::Stdout ? out : err).append(p); });
    ASSERT_TRUE(d.feed(std::string_view(wire).substr(0, cut)));
    ASSERT_TRUE(d.feed(std::string_view(wire).substr(cut)));
    EXPECT_EQ(out, "out1\nout2\nno-newline") << "cut at " << cut;
    EXPECT_EQ(err, "err1\n") << "cut at " << cut;
    EXPECT_TRUE(d.at_boundary());
  }
}

TEST(StreamDemuxerTest, RejectsARawStream) {
  StreamDemuxer d([](StreamKind, std::string_view) {});
  auto r = d.feed("hello world\n");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), base::ErrorCode::InvalidArgument);
}

// ---- requests against a fake daemon ----

Client client_for(const FakeDaemon& d) {
  return Client(Host{"unix://" + d.path(), d.path()});
}

TEST(ClientTest, CannotConnectMessageNamesTheHost) {
  Client c(Host{"unix:///nonexistent/mydocker.sock", "/nonexistent/mydocker.sock"});
  auto r = c.version();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), base::ErrorCode::Unavailable);
  EXPECT_EQ(r.error().message(),
            "Cannot connect to the mydocker daemon at unix:///nonexistent/mydocker.sock. Is the "
            "mydocker daemon running?");
}

TEST(ClientTest, DaemonErrorsBecomeDockersMessageAndCode) {
  struct Row {
    int status;
    std::string body;
    base::ErrorCode code;
    std::string message;
  };
  std::vector<Row> rows = {
      {404, "{\"message\":\"No such container: tx-nosuch\"}\n", base::ErrorCode::NotFound,
       "Error response from daemon: No such container: tx-nosuch"},
      {409, "{\"message\":\"Conflict. The container name \\\"/a\\\" is already in use\"}\n",
       base::ErrorCode::Conflict,
       "Error response from daemon: Conflict. The container name \"/a\" is already in use"},
      {400, "{\"message\":\"bad\"}", base::ErrorCode::InvalidArgument,
       "Error response from daemon: bad"},
      {500, "{\"message\":\"Multiple IDs found with provided prefix: c\"}\n",
       base::ErrorCode::Internal,
       "Error response from daemon: Multiple IDs found with provided prefix: c"},
      {400, "client version 1.11 is too old\n", base::ErrorCode::InvalidArgument,
       "Error response from daemon: client version 1.11 is too old"},
      {503, "", base::ErrorCode::Unavailable, "Error response from daemon: unexpected status 503"},
  };
  for (const auto& row : rows) {
    FakeDaemon d([&](const FakeRequest&, int fd) {
      FakeDaemon::send_all(fd, FakeDaemon::response(row.status, "X", row.body));
    });
    auto r = client_for(d).container_inspect("tx-nosuch");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), row.code) << row.body;
    EXPECT_EQ(r.error().message(), row.message);
  }
}

TEST(ClientTest, SendsVersionedPathsQueriesAndJsonBodies) {
  FakeDaemon d([](const FakeRequest& req, int fd) {
    if (req.target.find("/containers/create") != std::string::npos) {
      FakeDaemon::send_all(fd, FakeDaemon::response(201, "Created",
                                                    R"({"Id":"abc","Warnings":[]})"
                                                    "\n"));
    } else {
      FakeDaemon::send_all(fd, "HTTP/1.1 204 No Content\r\n\r\n");
    }
  });
  Client c = client_for(d);
  auto created = c.container_create(Json{{"Image", "busybox"}}, "web");
  ASSERT_TRUE(created) << created.error().to_string();
  EXPECT_EQ((*created)["Id"], "abc");
  ASSERT_TRUE(c.container_stop("web", 3, "SIGUSR1"));
  ASSERT_TRUE(c.container_kill("web", ""));
  ASSERT_TRUE(c.container_remove("web", true, true));

  auto reqs = d.requests();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].target, "/v1.41/containers/create?name=web");
  EXPECT_NE(reqs[0].head.find("Content-Type: application/json"), std::string::npos);
  EXPECT_EQ(reqs[0].body, R"({"Image":"busybox"})");
  EXPECT_EQ(reqs[1].target, "/v1.41/containers/web/stop?signal=SIGUSR1&t=3");
  EXPECT_NE(reqs[1].head.find("Content-Length: 0"), std::string::npos);
  EXPECT_EQ(reqs[2].target, "/v1.41/containers/web/kill");
  EXPECT_EQ(reqs[3].method, "DELETE");
  EXPECT_EQ(reqs[3].target, "/v1.41/containers/web?v=1&force=1");
}

TEST(ClientTest, EncodesFiltersAsDockersMap) {
  FakeDaemon d([](const FakeRequest&, int fd) {
    // Chunked, as dockerd sends bodies over 2 KiB.
    FakeDaemon::send_all(fd,
                         "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         "Transfer-Encoding: chunked\r\n\r\n" +
                             FakeDaemon::chunk("[{\"Id\":") + FakeDaemon::chunk("\"x\"}]\n") +
                             "0\r\n\r\n");
  });
  ContainerListOptions lo;
  lo.all = true;
  lo.limit = 2;
  lo.filters["status"] = {"exited"};
  lo.filters["label"] = {"a=b"};
  auto list = client_for(d).container_list(lo);
  ASSERT_TRUE(list) << list.error().to_string();
  EXPECT_EQ((*list)[0]["Id"], "x");
  auto reqs = d.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].target, "/v1.41/containers/json?all=1&limit=2&filters=" +
                                url_encode(R"({"label":{"a=b":true},"status":{"exited":true}})"));
}

TEST(ClientTest, LogsAreDemultiplexedAsTheyArrive) {
  FakeDaemon d([](const FakeRequest&, int fd) {
    FakeDaemon::send_all(fd,
                         "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\n"
                         "Transfer-Encoding: chunked\r\n\r\n");
    std::string frames = frame(1, "out1\n") + frame(2, "err1\n") + frame(1, "tail");
    // Chunks that cut frames in odd places, sent apart in time.
    for (size_t i = 0; i < frames.size(); i += 5) {
      FakeDaemon::send_all(fd, FakeDaemon::chunk(frames.substr(i, 5)));
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    FakeDaemon::send_all(fd, "0\r\n\r\n");
  });
  std::string out;
  std::string err;
  LogsOptions lo;
  lo.follow = true;
  lo.tail = "10";
  auto r = client_for(d).container_logs("c1", lo, false, [&](StreamKind k, std::string_view p) {
    (k == StreamKind::Stdout ? out : err).append(p);
  });
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(out, "out1\ntail");
  EXPECT_EQ(err, "err1\n");
  auto reqs = d.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].target, "/v1.41/containers/c1/logs?stdout=1&stderr=1&follow=1&tail=10");
}

TEST(ClientTest, TtyLogsAreRaw) {
  FakeDaemon d([](const FakeRequest&, int fd) {
    // A hijack-style body: no length, ends when the server closes.
    FakeDaemon::send_all(fd, "HTTP/1.1 200 OK\r\n\r\nhello\r\nworld\r\n");
  });
  std::string out;
  auto r = client_for(d).container_logs("c1", {}, true, [&](StreamKind k, std::string_view p) {
    EXPECT_EQ(k, StreamKind::Stdout);
    out.append(p);
  });
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(out, "hello\r\nworld\r\n");
}

TEST(ClientTest, WaitHeadFirstThenTheStatus) {
  std::mutex mu;
  std::condition_variable cv;
  bool started = false;
  FakeDaemon d([&](const FakeRequest& req, int fd) {
    if (req.target.find("/wait") != std::string::npos) {
      FakeDaemon::send_all(fd,
                           "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n");
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return started; });
      FakeDaemon::send_all(fd,
                           FakeDaemon::chunk("{\"Error\":null,\"StatusCode\":3}\n") + "0\r\n\r\n");
    } else {
      {
        std::lock_guard lock(mu);
        started = true;
      }
      cv.notify_all();
      FakeDaemon::send_all(fd, "HTTP/1.1 204 No Content\r\n\r\n");
    }
  });
  Client c = client_for(d);
  auto pending = c.container_wait_begin("c1", "next-exit");
  ASSERT_TRUE(pending) << pending.error().to_string();
  ASSERT_TRUE(c.container_start("c1"));
  auto status = pending->result();
  ASSERT_TRUE(status) << status.error().to_string();
  EXPECT_EQ((*status)["StatusCode"], 3);
  auto reqs = d.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].target, "/v1.41/containers/c1/wait?condition=next-exit");
}

TEST(ClientTest, UploadsAreChunkedWithoutALengthAndReportInBandErrors) {
  FakeDaemon d([](const FakeRequest&, int fd) {
    FakeDaemon::send_all(
        fd,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n" +
            FakeDaemon::chunk("{\"stream\":\"Loading layer\"}\r\n") +
            FakeDaemon::chunk(
                "{\"errorDetail\":{\"message\":\"unexpected EOF\"},\"error\":\"unexpected "
                "EOF\"}\r\n") +
            "0\r\n\r\n");
  });
  std::string data(200000, 'x');
  size_t pos = 0;
  BodySource src = [&](char* buf, size_t len) -> base::Result<size_t> {
    size_t n = std::min(len, data.size() - pos);
    std::memcpy(buf, data.data() + pos, n);
    pos += n;
    return n;
  };
  std::vector<Json> messages;
  auto r = client_for(d).image_load(src, std::nullopt, false,
                                    [&](const Json& m) { messages.push_back(m); });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "unexpected EOF");
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0]["stream"], "Loading layer");
  auto reqs = d.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].target, "/v1.41/images/load?quiet=0");
  EXPECT_NE(reqs[0].head.find("Transfer-Encoding: chunked"), std::string::npos);
  EXPECT_NE(reqs[0].head.find("Content-Type: application/x-tar"), std::string::npos);
  EXPECT_EQ(reqs[0].body, data);
}

TEST(ClientTest, ImportSendsRepoTagChangesAndMessage) {
  FakeDaemon d([](const FakeRequest&, int fd) {
    FakeDaemon::send_all(fd, FakeDaemon::response(200, "OK", "{\"status\":\"sha256:abc\"}\r\n"));
  });
  std::string data = "tar";
  bool done = false;
  BodySource src = [&](char* buf, size_t) -> base::Result<size_t> {
    if (done) {
      return size_t{0};
    }
    done = true;
    std::memcpy(buf, data.data(), data.size());
    return data.size();
  };
  std::string status;
  auto r = client_for(d).image_import(src, 3, "tx-imported", "v1", {"CMD [\"sh\"]"}, "hi there",
                                      [&](const Json& m) { status = m["status"]; });
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(status, "sha256:abc");
  auto reqs = d.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].target,
            "/v1.41/images/create?fromSrc=-&repo=tx-imported&tag=v1&message=hi%20there&changes="
            "CMD%20%5B%22sh%22%5D");
  EXPECT_NE(reqs[0].head.find("Content-Length: 3"), std::string::npos);
  EXPECT_EQ(reqs[0].body, "tar");
}

TEST(ClientTest, PingReturnsTheApiVersionHeader) {
  FakeDaemon d([](const FakeRequest& req, int fd) {
    EXPECT_EQ(req.target, "/_ping");
    FakeDaemon::send_all(fd,
                         "HTTP/1.1 200 OK\r\nApi-Version: 1.44\r\nContent-Length: 2\r\n"
                         "Content-Type: text/plain; charset=utf-8\r\n\r\nOK");
  });
  auto v = client_for(d).ping();
  ASSERT_TRUE(v) << v.error().to_string();
  EXPECT_EQ(*v, "1.44");
}

TEST(ClientTest, MalformedResponsesAreErrorsNotCrashes) {
  std::vector<std::string> bodies = {
      "garbage\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort",
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[}",
  };
  for (const auto& b : bodies) {
    FakeDaemon d([&](const FakeRequest&, int fd) { FakeDaemon::send_all(fd, b); });
    auto r = client_for(d).info();
    EXPECT_FALSE(r) << b;
  }
}

TEST(FiltersTest, ParseFilterArg) {
  auto kv = parse_filter_arg("label=a=b");
  ASSERT_TRUE(kv);
  EXPECT_EQ(kv->first, "label");
  EXPECT_EQ(kv->second, "a=b");
  EXPECT_FALSE(parse_filter_arg("nokey"));
  EXPECT_FALSE(parse_filter_arg("=x"));
  EXPECT_EQ(path_escape("localhost:5000/a/b:v1"), "localhost:5000/a/b:v1");
  EXPECT_EQ(path_escape("a b?"), "a%20b%3F");
}

}  // namespace
}  // namespace mydocker::api::client
