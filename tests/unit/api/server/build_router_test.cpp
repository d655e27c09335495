// SPDX-License-Identifier: Apache-2.0
// POST /build and POST /build/prune over a real socket, against a fake engine build: the query
// as the engine sees it, the body streamed to it, status before output vs errorDetail after,
// "\r\n" framing and Go's HTML-safe escaping (transcripts 165-174).
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "api/server/server.h"
#include "image/archive/images.h"
#include "image/registry/auth.h"
#include "tests/support/busybox_rootfs.h"
#include "tests/unit/api/server/fake_daemon.h"
#include "tests/unit/api/server/http_client.h"

namespace mydocker::api::server {
namespace {

using nlohmann::json;
using testing::HttpConnection;
using testing::HttpResponse;

// FakeDaemon plus a scripted build: it reads the whole context first (as the engine does),
// records the request, then runs `script`.
class BuildDaemon final : public testing::FakeDaemon {
 public:
  using FakeDaemon::FakeDaemon;
  using Script =
      std::function<base::Result<engine::BuildResult>(const engine::BuildRequest&, int64_t* code)>;

  base::Result<engine::BuildResult> build(const engine::BuildRequest& req,
                                          int64_t* failed_exit_code) override {
    std::string ctx;
    if (req.context != nullptr) {
      std::array<std::byte, 65536> buf{};
      while (ctx.size() < read_limit) {
        size_t want = std::min(buf.size(), read_limit - ctx.size());
        size_t n = MYDOCKER_TRY(req.context->read(std::span(buf.data(), want)));
        if (n == 0) {
          break;
        }
        ctx.append(reinterpret_cast<const char*>(buf.data()), n);
      }
    }
    {
      std::lock_guard lock(mu);
      context = ctx;
      last = req;
      last.output = nullptr;
      last.client_alive = nullptr;
      last.context = nullptr;
      ++builds;
    }
    if (!script) {
      return engine::BuildResult{"sha256:" + std::string(64, 'a'), {}};
    }
    return script(req, failed_exit_code);
  }
  base::Result<engine::BuildPruneResult> build_prune(
      const engine::BuildPruneOptions& options) override {
    last_prune = options;
    if (prune_error) {
      return *prune_error;
    }
    return prune_result;
  }

  std::mutex mu;
  size_t read_limit = SIZE_MAX;  // the engine stops reading the context there
  std::string context;
  engine::BuildRequest last;
  int builds = 0;
  Script script;
  engine::BuildPruneOptions last_prune;
  engine::BuildPruneResult prune_result;
  std::optional<base::Error> prune_error;
};

bool say(const engine::BuildRequest& req, std::string text) {
  engine::BuildOutput o;
  o.stream = std::move(text);
  return req.output(o);
}

class BuildRouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    image::ImagesOptions o;
    o.layers.whiteouts = image::layers::WhiteoutFormat::Keep;
    o.layers.preserve_owners = false;
    o.layers.sync = false;
    auto images = image::Images::open(tmp_.path() + "/root", o);
    ASSERT_TRUE(images) << images.error().to_string();
    daemon_ = std::make_unique<BuildDaemon>(std::move(*images));
    ServerOptions opts;
    opts.socket_path = sock();
    opts.socket_group = "";
    opts.version = "0.1.0-test";
    auto s = Server::create(*daemon_, opts);
    ASSERT_TRUE(s) << s.error().to_string();
    server_ = std::move(*s);
    thread_ = std::thread([this] { (void)server_->serve(); });
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (auto r = testing::request(sock(), "GET", "/_ping"); r && r->status == 200) {
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    FAIL() << "server did not come up";
  }
  void TearDown() override {
    if (server_) {
      server_->stop();
    }
    if (thread_.joinable()) {
      thread_.join();
    }
    server_.reset();
  }

  std::string sock() const { return tmp_.path() + "/api.sock"; }

  HttpResponse call(const std::string& target, const std::string& body = "ctx",
                    const std::map<std::string, std::string>& headers = {
                        {"Content-Type", "application/x-tar"}}) {
    auto r = testing::request(sock(), "POST", target, body, headers);
    EXPECT_TRUE(r) << target << ": " << r.error().to_string();
    return r ? *r : HttpResponse{};
  }

  static std::string message(const HttpResponse& r) {
    auto j = json::parse(r.body, nullptr, false);
    return j.is_object() && j.contains("message") ? j["message"].get<std::string>() : "";
  }

  mydocker::testing::TempDir tmp_;
  std::unique_ptr<BuildDaemon> daemon_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
};

TEST_F(BuildRouterTest, QueryBecomesTheBuildRequest) {
  std::string auths = image::registry::base64_encode(
      R"({"https://index.docker.io/v1/":{"auth":"dTpw"},"localhost:5000":{"username":"a","password":"b"},"empty.io":{}})");
  auto r = call(
      "/v1.41/build?t=tx-a:1&t=tx-b&dockerfile=sub%2FDf&buildargs=%7B%22A%22%3A%221%22%2C%22B%22%"
      "3Anull%7D&labels=%7B%22l%22%3A%22v%22%7D&target=s1&nocache=1&pull=1&rm=0&networkmode=host&"
      "extrahosts=h1%3A1.2.3.4&extrahosts=h2%3A5.6.7.8&platform=linux%2Farm64&version=1&"
      "cachefrom=%5B%5D&ulimits=null&outputs=",
      "context bytes", {{"Content-Type", "application/x-tar"}, {"X-Registry-Config", auths}});
  ASSERT_EQ(r.status, 200) << r.body;
  std::lock_guard lock(daemon_->mu);
  const auto& b = daemon_->last;
  EXPECT_EQ(daemon_->context, "context bytes");
  EXPECT_EQ(b.tags, (std::vector<std::string>{"tx-a:1", "tx-b"}));
  EXPECT_EQ(b.dockerfile, "sub/Df");
  ASSERT_EQ(b.build_args.size(), 2u);
  EXPECT_EQ(b.build_args.at("A"), std::optional<std::string>("1"));
  EXPECT_EQ(b.build_args.at("B"), std::nullopt);
  EXPECT_EQ(b.labels, (std::map<std::string, std::string>{{"l", "v"}}));
  EXPECT_EQ(b.target, "s1");
  EXPECT_TRUE(b.no_cache);
  EXPECT_TRUE(b.pull);
  EXPECT_FALSE(b.remove);
  EXPECT_FALSE(b.force_remove);
  EXPECT_FALSE(b.quiet);
  EXPECT_EQ(b.network_mode, "host");
  EXPECT_EQ(b.extra_hosts, (std::vector<std::string>{"h1:1.2.3.4", "h2:5.6.7.8"}));
  ASSERT_TRUE(b.platform.has_value());
  EXPECT_EQ(b.platform->str(), "linux/arm64");
  ASSERT_EQ(b.registry_auth.size(), 2u);
  EXPECT_EQ(b.registry_auth.at("docker.io").username, "u");
  EXPECT_EQ(b.registry_auth.at("docker.io").password, "p");
  EXPECT_EQ(b.registry_auth.at("localhost:5000").username, "a");
  EXPECT_EQ(b.registry_auth.at("localhost:5000").password, "b");
}

TEST_F(BuildRouterTest, Defaults) {
  auto r = call("/build?networkmode=default&forcerm=1&rm=0&buildargs=null&labels=null", "");
  ASSERT_EQ(r.status, 200) << r.body;
  {
    std::lock_guard lock(daemon_->mu);
    EXPECT_EQ(daemon_->last.dockerfile, "Dockerfile");
    EXPECT_TRUE(daemon_->last.tags.empty());
    EXPECT_TRUE(daemon_->last.remove);  // forcerm implies rm
    EXPECT_TRUE(daemon_->last.force_remove);
    EXPECT_EQ(daemon_->last.network_mode, "");
    EXPECT_TRUE(daemon_->last.build_args.empty());
    EXPECT_FALSE(daemon_->last.platform.has_value());
    EXPECT_TRUE(daemon_->last.registry_auth.empty());
  }
  // rm is true when absent.
  auto plain = call("/build", "");
  ASSERT_EQ(plain.status, 200);
  std::lock_guard lock(daemon_->mu);
  EXPECT_TRUE(daemon_->last.remove);
  EXPECT_FALSE(daemon_->last.force_remove);
}

TEST_F(BuildRouterTest, ResourcesForTheRunContainers) {
  // What `docker build -m 64m --memory-swap -1 -c 512 --cpu-period 100000 --cpu-quota 50000
  // --cpuset-cpus 0 --cpuset-mems 0 --cgroup-parent p --shm-size 128m --ulimit nofile=10:20`
  // sends.
  auto r = call(
      "/v1.41/build?memory=67108864&memswap=-1&cpushares=512&cpuperiod=100000&cpuquota=50000&"
      "cpusetcpus=0&cpusetmems=0&cgroupparent=p&shmsize=134217728&isolation=Default&"
      "ulimits=%5B%7B%22Name%22%3A%22nofile%22%2C%22Hard%22%3A20%2C%22Soft%22%3A10%7D%2C"
      "%7B%22name%22%3A%22nproc%22%2C%22soft%22%3A5%7D%5D",
      "");
  ASSERT_EQ(r.status, 200) << r.body;
  {
    std::lock_guard lock(daemon_->mu);
    const engine::BuildRequest::Resources& res = daemon_->last.resources;
    EXPECT_EQ(res.memory, 64 << 20);
    EXPECT_EQ(res.memory_swap, -1);
    EXPECT_EQ(res.cpu_shares, 512);
    EXPECT_EQ(res.cpu_period, 100000);
    EXPECT_EQ(res.cpu_quota, 50000);
    EXPECT_EQ(res.cpuset_cpus, "0");
    EXPECT_EQ(res.cpuset_mems, "0");
    EXPECT_EQ(res.cgroup_parent, "p");
    EXPECT_EQ(res.shm_size, 128 << 20);
    ASSERT_EQ(res.ulimits.size(), 2u);
    EXPECT_EQ(res.ulimits[0].name, "nofile");
    EXPECT_EQ(res.ulimits[0].soft, 10);
    EXPECT_EQ(res.ulimits[0].hard, 20);
    EXPECT_EQ(res.ulimits[1].name, "nproc");
    EXPECT_EQ(res.ulimits[1].soft, 5);
    EXPECT_EQ(res.ulimits[1].hard, 0);
  }
  // moby's Int64ValueOrZero: a number that is not one is 0; no ulimits: none.
  auto odd = call("/v1.41/build?memory=lots&cpushares=&ulimits=null", "");
  ASSERT_EQ(odd.status, 200) << odd.body;
  std::lock_guard lock(daemon_->mu);
  EXPECT_EQ(daemon_->last.resources.memory, 0);
  EXPECT_EQ(daemon_->last.resources.cpu_shares, 0);
  EXPECT_TRUE(daemon_->last.resources.ulimits.empty());
}

TEST_F(BuildRouterTest, BadQueriesAreRefusedBeforeTheEngine) {
  struct Row {
    std::string query;
    int status;
    std::string message;  // prefix
  };
  for (const Row& row : {
           Row{"version=2", 400, "BuildKit (version=2) is not supported by mydockerd"},
           Row{"version=3", 400, "invalid version \"3\""},
           Row{"buildargs=%7Bx", 400, "error reading build args"},
           Row{"buildargs=%5B%5D", 400, "error reading build args"},
           Row{"labels=%7B%22a%22%3A1%7D", 400, "error reading labels"},
           Row{"remote=https%3A%2F%2Fexample.com%2Fx.tar", 501, "remote build contexts"},
           Row{"securityopt=x", 400, "The daemon on this platform does not support"},
           Row{"isolation=hyperv", 400, "unsupported isolation: \"hyperv\""},
           Row{"shmsize=abc", 400, "strconv"},
           Row{"ulimits=%7B%7D", 400,
               "error reading ulimit settings: json: cannot unmarshal object into Go value of "
               "type []*units.Ulimit"},
           Row{"ulimits=%5B%7B%22Soft%22%3A%22x%22%7D%5D", 400,
               "error reading ulimit settings: json: cannot unmarshal string into Go struct "
               "field Ulimit.Soft of type int64"},
           Row{"platform=nope%2F%2F%2F", 400, ""},
       }) {
    auto r = call("/v1.41/build?" + row.query, std::string(100000, 'x'));
    EXPECT_EQ(r.status, row.status) << row.query << ": " << r.body;
    EXPECT_TRUE(message(r).starts_with(row.message)) << row.query << ": " << r.body;
    EXPECT_FALSE(r.chunked) << row.query;
  }
  std::lock_guard lock(daemon_->mu);
  EXPECT_EQ(daemon_->builds, 0);
  auto bk = call("/v1.41/build?version=2");
  EXPECT_NE(message(bk).find("DOCKER_BUILDKIT=0"), std::string::npos) << bk.body;
}

TEST_F(BuildRouterTest, ErrorBeforeOutputIsAnOrdinaryAnswer) {
  // 168: a syntax error is a 400; 169: no Dockerfile is a 500 (the engine says NotFound).
  daemon_->script = [](const engine::BuildRequest&, int64_t*) -> base::Result<engine::BuildResult> {
    return base::make_error(base::ErrorCode::InvalidArgument,
                            "dockerfile parse error line 2: unknown instruction: FOO");
  };
  auto r = call("/v1.41/build?t=tx-syntax:1", std::string(10240, '\0'));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, "{\"message\":\"dockerfile parse error line 2: unknown instruction: FOO\"}\n");
  EXPECT_FALSE(r.chunked);

  daemon_->script = [](const engine::BuildRequest&, int64_t*) -> base::Result<engine::BuildResult> {
    return base::make_error(base::ErrorCode::NotFound,
                            "Cannot locate specified Dockerfile: Dockerfile");
  };
  r = call("/v1.41/build?t=tx-nodf:1", std::string(10240, '\0'));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, "{\"message\":\"Cannot locate specified Dockerfile: Dockerfile\"}\n");
}

// 165, byte for byte (IDs and all).
TEST_F(BuildRouterTest, StreamIsDockerdsFraming) {
  const std::string id = "sha256:8ab7338de6efcb0a4a9e1e3ae21ea9cee31c29245d65db9fd3c74c6b11415407";
  daemon_->script = [&](const engine::BuildRequest& req,
                        int64_t*) -> base::Result<engine::BuildResult> {
    say(req, "Step 1/2 : FROM busybox");
    say(req, "\n");
    say(req, " ---> e9577e1f23b0\n");
    say(req, "Step 2/2 : RUN echo built > /tx-file && true");
    say(req, "\n");
    engine::BuildOutput aux;
    aux.aux_id = id;
    req.output(aux);
    say(req, "Successfully built 8ab7338de6ef\n");
    say(req, "Successfully tagged tx-built:1\n");
    return engine::BuildResult{id, {"tx-built:1"}};
  };
  auto r = call("/v1.41/build?t=tx-built:1&rm=1");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.chunked);
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  EXPECT_EQ(r.body,
            "{\"stream\":\"Step 1/2 : FROM busybox\"}\r\n"
            "{\"stream\":\"\\n\"}\r\n"
            "{\"stream\":\" ---\\u003e e9577e1f23b0\\n\"}\r\n"
            "{\"stream\":\"Step 2/2 : RUN echo built \\u003e /tx-file \\u0026\\u0026 true\"}\r\n"
            "{\"stream\":\"\\n\"}\r\n"
            "{\"aux\":{\"ID\":\"" +
                id +
                "\"}}\r\n"
                "{\"stream\":\"Successfully built 8ab7338de6ef\\n\"}\r\n"
                "{\"stream\":\"Successfully tagged tx-built:1\\n\"}\r\n");
  // Before API 1.30 there is no aux message.
  auto old = call("/v1.29/build");
  ASSERT_EQ(old.status, 200);
  EXPECT_EQ(old.body.find("aux"), std::string::npos) << old.body;
}

TEST_F(BuildRouterTest, ErrorAfterOutputIsInTheStream) {
  // 167: a failed RUN carries its exit code; 170: another error has none.
  const std::string msg =
      "The command '/bin/sh -c echo about to fail && exit 3' returned a non-zero code: 3";
  daemon_->script = [&](const engine::BuildRequest& req,
                        int64_t* code) -> base::Result<engine::BuildResult> {
    say(req, "Step 1/2 : FROM busybox");
    say(req, "about to fail\n");
    *code = 3;
    return base::make_error(base::ErrorCode::Internal, "{}", msg);
  };
  auto r = call("/v1.41/build?t=tx-fail:1&rm=1&forcerm=1");
  ASSERT_EQ(r.status, 200);
  std::string escaped =
      "The command '/bin/sh -c echo about to fail \\u0026\\u0026 exit 3' returned a non-zero "
      "code: 3";
  EXPECT_EQ(r.body,
            "{\"stream\":\"Step 1/2 : FROM busybox\"}\r\n"
            "{\"stream\":\"about to fail\\n\"}\r\n"
            "{\"errorDetail\":{\"code\":3,\"message\":\"" +
                escaped + "\"},\"error\":\"" + escaped + "\"}\r\n");

  daemon_->script = [&](const engine::BuildRequest& req,
                        int64_t*) -> base::Result<engine::BuildResult> {
    say(req, "Step 1/2 : FROM tx-nosuch-base:1");
    return base::make_error(base::ErrorCode::NotFound, "pull access denied for tx-nosuch-base");
  };
  r = call("/v1.41/build");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            "{\"stream\":\"Step 1/2 : FROM tx-nosuch-base:1\"}\r\n"
            "{\"errorDetail\":{\"message\":\"pull access denied for tx-nosuch-base\"},"
            "\"error\":\"pull access denied for tx-nosuch-base\"}\r\n");
}

TEST_F(BuildRouterTest, QuietSendsOnlyTheIdOrTheStepsWithTheError) {
  const std::string id = "sha256:" + std::string(64, 'b');
  bool fail = false;
  daemon_->script = [&](const engine::BuildRequest& req,
                        int64_t* code) -> base::Result<engine::BuildResult> {
    EXPECT_FALSE(req.quiet);  // the API keeps the steps aside itself
    say(req, "Step 1/1 : RUN x");
    if (fail) {
      *code = 2;
      return base::make_error(base::ErrorCode::Internal, "failed");
    }
    return engine::BuildResult{id, {}};
  };
  auto r = call("/v1.41/build?q=1");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{\"stream\":\"" + id + "\\n\"}\r\n");  // 166
  fail = true;
  r = call("/v1.41/build?q=1");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            "{\"stream\":\"Step 1/1 : RUN x\"}\r\n"
            "{\"errorDetail\":{\"code\":2,\"message\":\"failed\"},\"error\":\"failed\"}\r\n");
  // A quiet build that fails before any step is a status, as any other.
  daemon_->script = [](const engine::BuildRequest&, int64_t*) -> base::Result<engine::BuildResult> {
    return base::make_error(base::ErrorCode::InvalidArgument, "bad");
  };
  r = call("/v1.41/build?q=1");
  EXPECT_EQ(r.status, 400);
}

TEST_F(BuildRouterTest, BaseImagePullProgressIsStreamedAsPull) {
  daemon_->script = [](const engine::BuildRequest& req,
                       int64_t*) -> base::Result<engine::BuildResult> {
    say(req, "Step 1/1 : FROM busybox");
    image::registry::ProgressEvent e;
    e.status = "Pulling fs layer";
    e.id = "abc123";
    engine::BuildOutput o;
    o.pull = &e;
    req.output(o);
    return engine::BuildResult{"sha256:" + std::string(64, 'c'), {}};
  };
  auto r = call("/v1.41/build");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"abc123\"}"
                        "\r\n"),
            std::string::npos)
      << r.body;
}

// The docker CLI sends the context chunked (171); a large one reaches the engine whole and the
// connection serves the next request.
TEST_F(BuildRouterTest, ChunkedLargeContextIsStreamedToTheEngine) {
  std::string body;
  for (int i = 0; i < 3 * 1024 * 1024; ++i) {
    body += static_cast<char>('a' + i % 23);
  }
  auto conn = HttpConnection::connect(sock());
  ASSERT_TRUE(conn);
  std::string raw =
      "POST /v1.41/build?q=1 HTTP/1.1\r\nHost: docker\r\nContent-Type: application/x-tar\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  ASSERT_TRUE(conn->send(raw));
  for (size_t off = 0; off < body.size(); off += 100000) {
    std::string part = body.substr(off, 100000);
    ASSERT_TRUE(conn->send(fmt::format("{:x}\r\n", part.size()) + part + "\r\n"));
  }
  ASSERT_TRUE(conn->send("0\r\n\r\n"));
  auto r = conn->read_response();
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->status, 200);
  {
    std::lock_guard lock(daemon_->mu);
    EXPECT_EQ(daemon_->context.size(), body.size());
    EXPECT_TRUE(daemon_->context == body);
  }
  // A failed build before output: its body was drained, the connection goes on.
  daemon_->script = [](const engine::BuildRequest&, int64_t*) -> base::Result<engine::BuildResult> {
    return base::make_error(base::ErrorCode::InvalidArgument, "bad");
  };
  ASSERT_TRUE(
      conn->send("POST /v1.41/build HTTP/1.1\r\nHost: docker\r\nContent-Length: 5\r\n\r\n"
                 "12345"));
  r = conn->read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  ASSERT_TRUE(conn->send("GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n"));
  r = conn->read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "OK");
}

// An engine that stops reading the context early (a bad tar) does not hang the request: the
// rest of the body is drained.
TEST_F(BuildRouterTest, EngineGivingUpEarlyDrainsTheBody) {
  daemon_->read_limit = 16;
  daemon_->script = [](const engine::BuildRequest&, int64_t*) -> base::Result<engine::BuildResult> {
    return base::make_error(base::ErrorCode::InvalidArgument, "not a tar");
  };
  auto r = call("/v1.41/build", std::string(8 << 20, 'z'));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, "{\"message\":\"not a tar\"}\n");
  std::lock_guard lock(daemon_->mu);
  EXPECT_EQ(daemon_->context.size(), 16u);
}

TEST_F(BuildRouterTest, ClientLeavingCancelsTheBuild) {
  std::atomic<bool> cancelled{false};
  daemon_->script = [&](const engine::BuildRequest& req,
                        int64_t*) -> base::Result<engine::BuildResult> {
    say(req, "Step 1/1 : RUN sleep 100");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (!req.client_alive()) {
        cancelled = true;
        return base::make_error(base::ErrorCode::Cancelled, "cancelled");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return base::make_error(base::ErrorCode::Internal, "never cancelled");
  };
  {
    auto conn = HttpConnection::connect(sock());
    ASSERT_TRUE(conn);
    ASSERT_TRUE(
        conn->send("POST /v1.41/build HTTP/1.1\r\nHost: docker\r\nContent-Length: 3\r\n\r\n"
                   "abc"));
    auto head = conn->read_head();
    ASSERT_TRUE(head);
    EXPECT_EQ(head->status, 200);
  }  // closed
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!cancelled && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(cancelled);
}

TEST_F(BuildRouterTest, Prune) {
  daemon_->prune_result = {{"rlaqg3pkku2ipr62zbggyk0w3"}, 9};
  auto r = testing::request(sock(), "POST",
                            "/v1.41/build/prune?all=1&keep-storage=1000&filters=%7B%22id%22%3A%5B%"
                            "22rlaqg3pkku2ipr62zbggyk0w3%22%5D%7D");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "{\"CachesDeleted\":[\"rlaqg3pkku2ipr62zbggyk0w3\"],\"SpaceReclaimed\":9}\n");
  EXPECT_TRUE(daemon_->last_prune.all);
  EXPECT_EQ(daemon_->last_prune.keep_storage, 1000);
  EXPECT_EQ(
      daemon_->last_prune.filters,
      (std::map<std::string, std::vector<std::string>>{{"id", {"rlaqg3pkku2ipr62zbggyk0w3"}}}));

  daemon_->prune_result = {};
  r = testing::request(sock(), "POST", "/v1.41/build/prune");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "{\"CachesDeleted\":null,\"SpaceReclaimed\":0}\n");
  EXPECT_FALSE(daemon_->last_prune.all);

  // 174.
  daemon_->prune_error =
      base::Error(base::ErrorCode::InvalidArgument, "filters expect only one value");
  r = testing::request(sock(), "POST",
                       "/v1.41/build/prune?filters=%7B%22id%22%3A%5B%22a%22%2C%22b%22%5D%7D");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(r->body,
            "{\"message\":\"failed to prune build cache: filters expect only one value\"}\n");

  r = testing::request(sock(), "POST", "/v1.41/build/prune?filters=%7Bx");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  r = testing::request(sock(), "POST", "/v1.41/build/prune?keep-storage=lots");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
}

}  // namespace
}  // namespace mydocker::api::server
