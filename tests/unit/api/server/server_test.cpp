// SPDX-License-Identifier: Apache-2.0
// The API server over a real Unix socket, backed by FakeDaemon and a real image::Images in a
// temp dir. One row per transcript case that can be reproduced without a runtime; the status,
// the Docker headers and the wording are checked against dockerd's.
#include "api/server/server.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "api/wire/stream.h"
#include "image/archive/images.h"
#include "tests/support/busybox_rootfs.h"
#include "tests/unit/api/server/fake_daemon.h"
#include "tests/unit/api/server/http_client.h"
#include "tests/unit/api/server/served_api.h"
#include "tests/unit/image/layers/tar_builder.h"

namespace mydocker::api::server {
namespace {

using engine::Status;
using nlohmann::json;
using testing::FakeDaemon;
using testing::HttpConnection;
using testing::HttpResponse;
namespace tb = image::layers::testing;

class ApiServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto images = testing::open_test_images(tmp_.path() + "/root", "amd64");
    ASSERT_TRUE(images) << images.error().to_string();
    daemon_ = std::make_unique<FakeDaemon>(std::move(*images));
    c1_ = daemon_->add("tx-c1", Status::Running);
    exited_ = daemon_->add("tx-exited", Status::Exited, 2);
    created_ = daemon_->add("tx-new", Status::Created);
    fresh_ = daemon_->add("tx-fresh", Status::Created);
    auto up = api_.start(*daemon_, sock());
    ASSERT_TRUE(up) << up.error().to_string();
  }
  void TearDown() override { api_.stop(); }

  std::string sock() const { return tmp_.path() + "/api.sock"; }

  HttpResponse call(const std::string& method, const std::string& target,
                    const std::string& body = "",
                    const std::map<std::string, std::string>& headers = {}) {
    auto r = testing::request(sock(), method, target, body, headers);
    EXPECT_TRUE(r) << method << " " << target << ": " << r.error().to_string();
    return r ? *r : HttpResponse{};
  }

  static std::string message(const HttpResponse& r) {
    auto j = json::parse(r.body, nullptr, false);
    return j.is_object() && j.contains("message") ? j["message"].get<std::string>() : "";
  }

  // Imports a one-file image through the API; returns its ID.
  std::string import_image(const std::string& repo, const std::string& tag) {
    std::string tar = tb::make_tar({tb::dir("bin"), tb::file("hello.txt", "hello\n")});
    auto r = call("POST", "/v1.44/images/create?fromSrc=-&repo=" + repo + "&tag=" + tag, tar,
                  {{"Content-Type", "application/x-tar"}});
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body.substr(r.body.size() >= 2 ? r.body.size() - 2 : 0), "\r\n");
    auto j = json::parse(r.body, nullptr, false);
    return j.is_object() ? j.value("status", "") : "";
  }

  mydocker::testing::TempDir tmp_;
  std::unique_ptr<FakeDaemon> daemon_;
  testing::ServedApi api_;
  std::string c1_, exited_, created_, fresh_;
};

void expect_docker_headers(const HttpResponse& r) {
  EXPECT_EQ(r.header("Api-Version"), kApiVersion);
  EXPECT_EQ(r.header("Ostype"), "linux");
  EXPECT_EQ(r.header("Docker-Experimental"), "false");
  EXPECT_EQ(r.header("Server"), "Mydocker/0.1.0-test (linux)");
}

// Simple exchanges: method, target, body -> status and message (or a body substring).
struct Row {
  const char* name;
  const char* method;
  std::string target;
  std::string body;
  std::map<std::string, std::string> headers;
  int status;
  std::string message;   // exact error message when non-empty
  std::string contains;  // body substring when non-empty
};

TEST_F(ApiServerTest, TranscriptTable) {
  const std::map<std::string, std::string> json_ct = {{"Content-Type", "application/json"}};
  std::vector<Row> rows = {
      {"004 wrong method", "POST", "/_ping", "", {}, 404, "page not found", ""},
      {"008 too new",
       "GET",
       "/v1.99/version",
       "",
       {},
       400,
       "client version 1.99 is too new. Maximum supported API version is 1.50",
       ""},
      {"010 malformed version", "GET", "/v1.x/version", "", {}, 404, "page not found", ""},
      {"012 unknown path", "GET", "/v1.41/nosuch/path", "", {}, 404, "page not found", ""},
      {"013 DELETE json",
       "DELETE",
       "/v1.41/containers/json",
       "",
       {},
       404,
       "No such container: json",
       ""},
      {"018 trailing slash", "GET", "/v1.41/containers/json/", "", {}, 404, "page not found", ""},
      {"020 bad escape",
       "GET",
       "/v1.41/containers/json?filters=%zz",
       "",
       {},
       400,
       "invalid URL escape \"%zz\"",
       ""},
      {"021 filters not json",
       "GET",
       "/v1.41/containers/json?filters=notjson",
       "",
       {},
       500,
       "invalid character 'o' in literal null (expecting 'u')",
       ""},
      {"022 unknown filter",
       "GET",
       "/v1.41/containers/json?filters=%7B%22nosuchkey%22%3A%5B%22x%22%5D%7D",
       "",
       {},
       400,
       "Invalid filter 'nosuchkey'",
       ""},
      {"023 limit not a number",
       "GET",
       "/v1.41/containers/json?limit=abc",
       "",
       {},
       500,
       "strconv.Atoi: parsing \"abc\": invalid syntax",
       ""},
      {"024 create", "POST", "/v1.41/containers/create", R"({"Image":"busybox","Cmd":["true"]})",
       json_ct, 201, "", "\"Warnings\":[]"},
      {"029 create empty body", "POST", "/v1.41/containers/create", "", {}, 500, "", ""},
      {"030 text/plain",
       "POST",
       "/v1.41/containers/create",
       R"({"Image":"busybox","Cmd":["true"]})",
       {{"Content-Type", "text/plain"}},
       400,
       "Content-Type specified (text/plain) must be 'application/json'",
       ""},
      {"031 no content type",
       "POST",
       "/v1.41/containers/create",
       R"({"Image":"busybox","Cmd":["true"]})",
       {},
       400,
       "Content-Type specified () must be 'application/json'",
       ""},
      {"032 json charset",
       "POST",
       "/v1.41/containers/create",
       R"({"Image":"busybox","Cmd":["true"]})",
       {{"Content-Type", "application/json; charset=utf-8"}},
       201,
       "",
       "\"Id\""},
      {"034 unknown image", "POST", "/v1.41/containers/create",
       R"({"Image":"tx-nosuch-image","Cmd":["true"]})", json_ct, 404,
       "No such image: tx-nosuch-image:latest", ""},
      {"039 start", "POST", "/v1.41/containers/tx-new/start", "", {}, 204, "", ""},
      {"040 start again", "POST", "/v1.41/containers/tx-c1/start", "", {}, 304, "", ""},
      {"042 stop stopped", "POST", "/v1.41/containers/tx-exited/stop", "", {}, 304, "", ""},
      {"045 start with body", "POST", "/v1.41/containers/tx-new/start", R"({"Binds":[]})", json_ct,
       400,
       "starting container with non-empty request body was deprecated since API v1.22 and "
       "removed in v1.24",
       ""},
      {"046 invalid signal",
       "POST",
       "/v1.41/containers/tx-c1/kill?signal=SIGFOO",
       "",
       {},
       400,
       "Invalid signal: SIGFOO",
       ""},
      {"047 kill numeric", "POST", "/v1.41/containers/tx-c1/kill?signal=9", "", {}, 204, "", ""},
      {"048 kill stopped",
       "POST",
       "/v1.41/containers/tx-exited/kill",
       "",
       {},
       409,
       "Cannot kill container: tx-exited: Container " + exited_ + " is not running",
       ""},
      {"056 pause", "POST", "/v1.41/containers/tx-c1/pause", "", {}, 204, "", ""},
      {"060 unpause not paused",
       "POST",
       "/v1.41/containers/tx-exited/unpause",
       "",
       {},
       500,
       "Container " + exited_ + " is not paused",
       ""},
      {"061 update", "POST", "/v1.41/containers/tx-c1/update",
       R"({"CpuShares":256,"Memory":134217728,"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":2}})",
       json_ct, 200, "", "{\"Warnings\":null}"},
      {"062 update invalid", "POST", "/v1.41/containers/tx-c1/update",
       R"({"RestartPolicy":{"Name":"sometimes"}})", json_ct, 400,
       "invalid restart policy 'sometimes'", ""},
      {"update wrong type", "POST", "/v1.41/containers/tx-c1/update", R"({"Memory":"x"})", json_ct,
       400, "json: cannot unmarshal string into Go struct field UpdateConfig.Memory of type int64",
       ""},
      {"063 rename",
       "POST",
       "/v1.41/containers/tx-new/rename?name=tx-renamed",
       "",
       {},
       204,
       "",
       ""},
      {"065 rename same",
       "POST",
       "/v1.41/containers/tx-c1/rename?name=tx-c1",
       "",
       {},
       400,
       "Renaming a container with the same name as its current name",
       ""},
      {"066 rename missing",
       "POST",
       "/v1.41/containers/tx-c1/rename",
       "",
       {},
       400,
       "Neither old nor new names may be empty",
       ""},
      {"072 inspect unknown",
       "GET",
       "/v1.41/containers/tx-nosuch/json",
       "",
       {},
       404,
       "No such container: tx-nosuch",
       ""},
      {"082 list empty",
       "GET",
       "/v1.41/containers/json?filters=%7B%22name%22%3A%5B%22tx-none-matches%22%5D%7D",
       "",
       {},
       200,
       "",
       "[]\n"},
      {"084 bad status",
       "GET",
       "/v1.41/containers/json?filters=%7B%22status%22%3A%5B%22sleeping%22%5D%7D",
       "",
       {},
       400,
       "Invalid filter 'status=sleeping'",
       ""},
      {"090 logs no stream",
       "GET",
       "/v1.41/containers/tx-exited/logs",
       "",
       {},
       400,
       "Bad parameters: you must choose at least one stream",
       ""},
      {"097 top stopped",
       "GET",
       "/v1.41/containers/tx-exited/top",
       "",
       {},
       409,
       "Container " + exited_ + " is not running",
       ""},
      {"103 changes none",
       "GET",
       "/v1.41/containers/" + fresh_ + "/changes",
       "",
       {},
       200,
       "",
       "null\n"},
      {"143 remove running",
       "DELETE",
       "/v1.41/containers/tx-c1",
       "",
       {},
       409,
       "You cannot remove a running container " + c1_ +
           ". Stop the container before attempting removal or force remove",
       ""},
      {"145 remove unknown",
       "DELETE",
       "/v1.41/containers/tx-nosuch",
       "",
       {},
       404,
       "No such container: tx-nosuch",
       ""},
      {"150 prune bad filter",
       "POST",
       "/v1.41/containers/prune?filters=%7B%22nosuch%22%3A%5B%221%22%5D%7D",
       "",
       {},
       400,
       "Invalid filter 'nosuch'",
       ""},
      {"154 bad dangling",
       "GET",
       "/v1.41/images/json?filters=%7B%22dangling%22%3A%5B%22maybe%22%5D%7D",
       "",
       {},
       400,
       "Invalid filter 'dangling=[maybe]'",
       ""},
      {"156 image inspect unknown",
       "GET",
       "/v1.41/images/tx-nosuch-image/json",
       "",
       {},
       404,
       "no such image: tx-nosuch-image: No such image: tx-nosuch-image:latest",
       ""},
      {"161 tag unknown",
       "POST",
       "/v1.41/images/tx-nosuch-image/tag?repo=tx-x&tag=1",
       "",
       {},
       404,
       "No such image: tx-nosuch-image:latest",
       ""},
      {"163 delete unknown",
       "DELETE",
       "/v1.41/images/tx-nosuch-image",
       "",
       {},
       404,
       "No such image: tx-nosuch-image:latest",
       ""},
      {"152 dangling none",
       "GET",
       "/v1.41/images/json?filters=%7B%22dangling%22%3A%5B%22true%22%5D%7D",
       "",
       {},
       200,
       "",
       "[]\n"},
      {"180 image prune nothing",
       "POST",
       "/v1.41/images/prune",
       "",
       {},
       200,
       "",
       "\"ImagesDeleted\":null"},
      {"204 pull with an invalid reference: refused before any registry call",
       "POST",
       "/v1.41/images/create?fromImage=127.0.0.1:34455/TX-Bad&tag=latest",
       "",
       {},
       400,
       "invalid reference format: repository name must be lowercase",
       ""},
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(r.name);
    HttpResponse resp = call(r.method, r.target, r.body, r.headers);
    EXPECT_EQ(resp.status, r.status) << resp.body;
    if (!r.message.empty()) {
      EXPECT_EQ(message(resp), r.message) << resp.body;
      EXPECT_EQ(resp.header("Content-Type"), "application/json");
      EXPECT_EQ(resp.body.back(), '\n');
    }
    if (!r.contains.empty()) {
      EXPECT_NE(resp.body.find(r.contains), std::string::npos) << resp.body;
    }
    if (r.status == 304 || r.status == 204) {
      EXPECT_TRUE(resp.body.empty());
      EXPECT_FALSE(resp.has_header("Content-Type"));
    }
  }
}

TEST_F(ApiServerTest, Ping) {
  // 001: body OK, Docker headers, no-cache headers.
  HttpResponse r = call("GET", "/_ping");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "OK");
  EXPECT_EQ(r.header("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(r.header("Cache-Control"), "no-cache, no-store, must-revalidate");
  EXPECT_EQ(r.header("Pragma"), "no-cache");
  expect_docker_headers(r);
  // 002: HEAD, Content-Length 0.
  HttpResponse h = call("HEAD", "/_ping");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.header("Content-Length"), "0");
  expect_docker_headers(h);
  // 003: versioned.
  EXPECT_EQ(call("GET", "/v1.41/_ping").body, "OK");
  EXPECT_EQ(call("GET", "/v1.24/_ping").status, 200);
  EXPECT_EQ(call("GET", "/v1.50/_ping").status, 200);
}

TEST_F(ApiServerTest, RouterNotFoundHasNoDockerHeaders) {
  HttpResponse r = call("GET", "/v1.41/nosuch/path");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "{\"message\":\"page not found\"}\n");
  EXPECT_FALSE(r.has_header("Api-Version"));
  // A handler's 404 carries them (013).
  expect_docker_headers(call("GET", "/v1.41/containers/tx-nosuch/json"));
}

TEST_F(ApiServerTest, VersionBoundaries) {
  HttpResponse v = call("GET", "/version");
  ASSERT_EQ(v.status, 200);
  auto j = json::parse(v.body);
  EXPECT_EQ(j["ApiVersion"], kApiVersion);
  EXPECT_EQ(j["MinAPIVersion"], kMinApiVersion);
  EXPECT_EQ(j["Version"], "0.1.0-test");
  EXPECT_EQ(j["Os"], "linux");
  EXPECT_FALSE(j["Components"].empty());
  // 007: an old supported prefix still reports our own version.
  EXPECT_EQ(json::parse(call("GET", "/v1.24/version").body)["ApiVersion"], kApiVersion);
  // 009: too old is text/plain with nosniff.
  HttpResponse old = call("GET", "/v1.11/version");
  EXPECT_EQ(old.status, 400);
  EXPECT_EQ(old.header("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(old.header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(old.body,
            "client version 1.11 is too old. Minimum supported API version is 1.24, please "
            "upgrade your client to a newer version\n");
  EXPECT_EQ(call("GET", "/v1.23/version").status, 400);
  EXPECT_EQ(call("GET", "/v1.51/version").status, 400);
}

TEST_F(ApiServerTest, HttpLayer) {
  // 017: OPTIONS on any path.
  HttpResponse o = call("OPTIONS", "/v1.41/containers/json");
  EXPECT_EQ(o.status, 200);
  EXPECT_TRUE(o.body.empty());
  expect_docker_headers(o);
  // 019: doubled slash -> 301 to the cleaned path.
  HttpResponse d = call("GET", "/v1.41//_ping");
  EXPECT_EQ(d.status, 301);
  EXPECT_EQ(d.header("Location"), "/v1.41/_ping");
  // 014: no Host header.
  auto conn = HttpConnection::connect(sock());
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->send("GET /v1.41/_ping HTTP/1.1\r\n\r\n"));
  auto nh = conn->read_head();
  ASSERT_TRUE(nh);
  EXPECT_EQ(nh->status, 400);
  // 015: keep-alive, two requests on one connection.
  auto ka = HttpConnection::connect(sock());
  ASSERT_TRUE(ka);
  ASSERT_TRUE(ka->send("GET /v1.41/_ping HTTP/1.1\r\nHost: docker\r\n\r\n"));
  auto first = ka->read_response();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->body, "OK");
  ASSERT_TRUE(ka->send("HEAD /v1.41/_ping HTTP/1.1\r\nHost: docker\r\n\r\n"));
  auto second = ka->read_response(true);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 200);
  EXPECT_FALSE(ka->closed_within(100));
}

TEST_F(ApiServerTest, OversizedJsonBodyIs413AndDaemonUnharmed) {
  std::string big = "{\"Image\":\"" + std::string(5 * 1024 * 1024, 'x') + "\"}";
  HttpResponse r =
      call("POST", "/v1.41/containers/create", big, {{"Content-Type", "application/json"}});
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(call("GET", "/_ping").status, 200);
}

TEST_F(ApiServerTest, CreatePassesNameAndConfig) {
  HttpResponse r = call(
      "POST", "/v1.41/containers/create?name=tx-named",
      R"({"Image":"busybox","Cmd":["sh","-c","x"],"Labels":{"a":"1"},"StopTimeout":3,"NoSuchField":42})",
      {{"Content-Type", "application/json"}});
  ASSERT_EQ(r.status, 201) << r.body;
  auto j = json::parse(r.body);
  EXPECT_EQ(j["Id"].get<std::string>().size(), 64u);
  EXPECT_EQ(j["Warnings"], json::array());
  EXPECT_EQ(daemon_->last_create.name, "tx-named");
  EXPECT_EQ(daemon_->last_create.config.image, "busybox");
  EXPECT_EQ(daemon_->last_create.config.labels.at("a"), "1");
  // 035: the name is taken now.
  HttpResponse dup = call("POST", "/v1.41/containers/create?name=tx-named",
                          R"({"Image":"busybox"})", {{"Content-Type", "application/json"}});
  EXPECT_EQ(dup.status, 409);
  EXPECT_NE(message(dup).find("is already in use by container"), std::string::npos);
  // 027/028: malformed body and type mismatch are 500 as dockerd's.
  EXPECT_EQ(call("POST", "/v1.41/containers/create", R"({"Image":"busybox","Cmd":["true"])",
                 {{"Content-Type", "application/json"}})
                .status,
            500);
  HttpResponse wt = call("POST", "/v1.41/containers/create", R"({"Image":123})",
                         {{"Content-Type", "application/json"}});
  EXPECT_EQ(wt.status, 500);
  EXPECT_EQ(message(wt),
            "json: cannot unmarshal number into Go struct field ContainerConfigWrapper.Image of "
            "type string");
}

TEST_F(ApiServerTest, StopKillQueryValues) {
  daemon_->add("tx-stop", Status::Running);
  EXPECT_EQ(call("POST", "/v1.41/containers/tx-stop/stop?t=5&signal=SIGINT").status, 204);
  EXPECT_EQ(daemon_->last_stop_timeout, 5);
  EXPECT_EQ(daemon_->last_stop_signal, "SIGINT");
  EXPECT_EQ(call("POST", "/v1.41/containers/tx-c1/kill?signal=SIGUSR1").status, 204);
  EXPECT_EQ(daemon_->last_kill_signal, "SIGUSR1");
  EXPECT_EQ(call("POST", "/v1.41/containers/tx-c1/restart?t=x").status, 500);
  EXPECT_EQ(call("POST", "/v1.41/containers/tx-c1/restart?t=1").status, 204);
  EXPECT_EQ(daemon_->last_stop_timeout, 1);
}

TEST_F(ApiServerTest, UpdatePassesOnlySetFields) {
  HttpResponse r = call("POST", "/v1.41/containers/tx-c1/update",
                        R"({"CpuShares":256,"Memory":134217728,"PidsLimit":64,)"
                        R"("RestartPolicy":{"Name":"on-failure","MaximumRetryCount":2}})",
                        {{"Content-Type", "application/json"}});
  ASSERT_EQ(r.status, 200) << r.body;
  const auto& u = daemon_->last_update;
  EXPECT_EQ(u.cpu_shares, 256);
  EXPECT_EQ(u.memory, 134217728);
  EXPECT_EQ(u.pids_limit, 64);
  EXPECT_FALSE(u.memory_swap);
  EXPECT_FALSE(u.cpuset_cpus);
  ASSERT_TRUE(u.restart_policy);
  EXPECT_EQ(u.restart_policy->name, "on-failure");
  EXPECT_EQ(u.restart_policy->maximum_retry_count, 2);
}

TEST_F(ApiServerTest, WaitSendsHeadFirstThenTheObject) {
  // 049: the 200 head goes out at once; the body comes when the container exits.
  auto conn = HttpConnection::connect(sock());
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->send(
      "POST /v1.41/containers/tx-c1/wait HTTP/1.1\r\nHost: docker\r\nContent-Length: 0\r\n\r\n"));
  auto head = conn->read_head();
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_TRUE(head->chunked);
  EXPECT_EQ(head->header("Content-Type"), "application/json");
  daemon_->exit(c1_, 3);
  ASSERT_TRUE(conn->read_body(*head));
  EXPECT_EQ(head->body, "{\"Error\":null,\"StatusCode\":3}\n");
  // 050: an exited container answers at once.
  HttpResponse again = call("POST", "/v1.41/containers/tx-exited/wait?condition=bogus");
  EXPECT_EQ(again.body, "{\"Error\":null,\"StatusCode\":2}\n");
  // Unknown container: a plain 404 before any head.
  EXPECT_EQ(call("POST", "/v1.41/containers/tx-nosuch/wait").status, 404);
}

TEST_F(ApiServerTest, InvalidUtf8IsReplacedNotFatal) {
  daemon_->add("bad\xff", Status::Running);
  HttpResponse r = call("GET", "/v1.41/containers/json");
  ASSERT_EQ(r.status, 200);
  auto j = json::parse(r.body, nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j.size(), 2u);
  EXPECT_EQ(call("GET", "/_ping").status, 200);
}

TEST_F(ApiServerTest, WaitConditions) {
  struct WaitRow {
    const char* query;
    engine::WaitCondition condition;
  };
  for (const WaitRow& r : {WaitRow{"", engine::WaitCondition::NotRunning},
                           WaitRow{"?condition=not-running", engine::WaitCondition::NotRunning},
                           WaitRow{"?condition=next-exit", engine::WaitCondition::NextExit},
                           WaitRow{"?condition=removed", engine::WaitCondition::Removed},
                           WaitRow{"?condition=bogus", engine::WaitCondition::NotRunning}}) {
    HttpResponse w = call("POST", std::string("/v1.41/containers/tx-exited/wait") + r.query);
    EXPECT_EQ(w.status, 200) << r.query;
    EXPECT_EQ(daemon_->last_wait_condition, r.condition) << r.query;
  }
}

TEST_F(ApiServerTest, SocketModeAndBindErrors) {
  struct stat st {};
  ASSERT_EQ(::stat(sock().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  ServerOptions missing_dir;
  missing_dir.socket_path = tmp_.path() + "/no/such/dir/api.sock";
  missing_dir.socket_group = "";
  auto r = Server::create(*daemon_, missing_dir);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), base::ErrorCode::Unavailable);
  ServerOptions too_long;
  too_long.socket_path = tmp_.path() + "/" + std::string(200, 'x');
  EXPECT_FALSE(Server::create(*daemon_, too_long));
}

TEST_F(ApiServerTest, WaitDoesNotBlockOtherRequests) {
  std::vector<std::unique_ptr<HttpConnection>> waiting;
  for (int i = 0; i < 16; ++i) {
    auto conn = HttpConnection::connect(sock());
    ASSERT_TRUE(conn);
    ASSERT_TRUE(
        conn->send("POST /v1.41/containers/tx-c1/wait HTTP/1.1\r\nHost: docker\r\n"
                   "Content-Length: 0\r\n\r\n"));
    ASSERT_TRUE(conn->read_head());
    waiting.push_back(std::make_unique<HttpConnection>(std::move(*conn)));
  }
  EXPECT_EQ(call("GET", "/_ping").status, 200);
  daemon_->exit(c1_, 0);
}

TEST_F(ApiServerTest, InspectShape) {
  HttpResponse r = call("GET", "/v1.41/containers/tx-c1/json");
  ASSERT_EQ(r.status, 200) << r.body;
  expect_docker_headers(r);
  auto j = json::parse(r.body);
  EXPECT_EQ(j["Id"], c1_);
  EXPECT_EQ(j["Name"], "/tx-c1");
  EXPECT_EQ(j["State"]["Status"], "running");
  EXPECT_EQ(j["State"]["Running"], true);
  EXPECT_EQ(j["Mounts"], json::array());
  EXPECT_TRUE(j["NetworkSettings"]["Networks"].contains("bridge"));
  EXPECT_TRUE(j["HostConfig"].is_object());
  EXPECT_TRUE(j["Config"].is_object());
  EXPECT_FALSE(j.contains("SizeRw"));
  // 071: size=1 adds the sizes.
  auto s = json::parse(call("GET", "/v1.41/containers/tx-exited/json?size=1").body);
  EXPECT_EQ(s["SizeRw"], 0);
  EXPECT_EQ(s["SizeRootFs"], 1982391);
  EXPECT_EQ(s["State"]["ExitCode"], 2);
  // Key order as dockerd's: Id first, NetworkSettings last.
  EXPECT_EQ(r.body.rfind("{\"Id\":", 0), 0u);
  // 144: ambiguous prefix.
  daemon_->add("tx-amb1", Status::Created);
  HttpResponse amb = call("GET", "/v1.41/containers/000/json");
  EXPECT_EQ(amb.status, 500);
  EXPECT_EQ(message(amb), "Multiple IDs found with provided prefix: 000");
}

TEST_F(ApiServerTest, ListShape) {
  HttpResponse r = call("GET", "/v1.41/containers/json");
  ASSERT_EQ(r.status, 200);
  auto j = json::parse(r.body);
  ASSERT_EQ(j.size(), 1u);  // only running
  EXPECT_EQ(j[0]["Names"], json::array({"/tx-c1"}));
  EXPECT_EQ(j[0]["Command"], "sh -c 'trap 'exit 0' TERM; while :; do sleep 1; done'");
  EXPECT_EQ(j[0]["Created"], 1795976747);
  EXPECT_EQ(j[0]["Ports"], json::array());
  EXPECT_EQ(j[0]["State"], "running");
  EXPECT_EQ(j[0]["HostConfig"]["NetworkMode"], "default");
  EXPECT_EQ(j[0]["Labels"]["tx-label"], "1");
  EXPECT_EQ(j[0]["Status"].get<std::string>().rfind("Up ", 0), 0u);
  // 083: all=maybe is true.
  EXPECT_EQ(json::parse(call("GET", "/v1.41/containers/json?all=maybe").body).size(), 4u);
  EXPECT_TRUE(daemon_->last_list.all);
  // 080: limit.
  call("GET", "/v1.41/containers/json?all=1&limit=2");
  EXPECT_EQ(daemon_->last_list.limit, 2);
  // 081: size: SizeRootFs, no zero SizeRw (omitempty).
  auto s = json::parse(
      call("GET",
           "/v1.41/containers/json?all=1&size=1&filters=%7B%22name%22%3A%5B%22tx-exited%22%5D%7D")
          .body);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0]["SizeRootFs"], 1982391);
  EXPECT_FALSE(s[0].contains("SizeRw"));
  EXPECT_EQ(s[0]["Status"].get<std::string>().rfind("Exited (2)", 0), 0u);
}

std::vector<std::pair<int, std::string>> demux(const std::string& body) {
  std::vector<std::pair<int, std::string>> out;
  size_t pos = 0;
  while (pos + 8 <= body.size()) {
    wire::FrameHeader h{};
    EXPECT_TRUE(wire::parse_frame_header(body.substr(pos, 8), h));
    out.emplace_back(static_cast<int>(h.stream), body.substr(pos + 8, h.length));
    pos += 8 + h.length;
  }
  EXPECT_EQ(pos, body.size());
  return out;
}

TEST_F(ApiServerTest, LogsMultiplexedAndTty) {
  daemon_->set_logs(exited_, {{1, "out1\n", "2026-11-29T18:25:56.680905338Z"},
                              {2, "err1\n", "2026-11-29T18:25:56.680905339Z"},
                              {1, "no-newline", "2026-11-29T18:25:56.680905340Z"}});
  // 085: one frame per line, each its own chunk.
  HttpResponse r = call("GET", "/v1.41/containers/tx-exited/logs?stdout=1&stderr=1");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.chunked);
  auto frames = demux(r.body);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0], (std::pair<int, std::string>{1, "out1\n"}));
  EXPECT_EQ(frames[1], (std::pair<int, std::string>{2, "err1\n"}));
  EXPECT_EQ(frames[2], (std::pair<int, std::string>{1, "no-newline"}));
  EXPECT_GE(r.chunks.size(), 4u);  // three frames + the terminating chunk
  // API >= 1.42 names the framing.
  EXPECT_EQ(call("GET", "/v1.44/containers/tx-exited/logs?stdout=1").header("Content-Type"),
            "application/vnd.docker.multiplexed-stream");
  // 087: stderr only, timestamps inside the payload.
  auto ts = demux(call("GET", "/v1.41/containers/tx-exited/logs?stderr=1&timestamps=1").body);
  ASSERT_EQ(ts.size(), 1u);
  EXPECT_EQ(ts[0].second, "2026-11-29T18:25:56.680905339Z err1\n");
  // 088: tail passed to the engine.
  call("GET", "/v1.41/containers/tx-exited/logs?stdout=1&tail=1");
  EXPECT_EQ(daemon_->last_logs.tail, 1);
  call("GET", "/v1.41/containers/tx-exited/logs?stdout=1&tail=all&follow=1");
  EXPECT_EQ(daemon_->last_logs.tail, -1);
  EXPECT_TRUE(daemon_->last_logs.follow);
  // The docker CLI's fractional seconds reach the engine in nanoseconds.
  call("GET",
       "/v1.41/containers/tx-exited/logs?stdout=1&since=1700000000.5&until=1700000001.123456789");
  EXPECT_EQ(daemon_->last_logs.since, 1700000000);
  EXPECT_EQ(daemon_->last_logs.since_nano, 1700000000500000000);
  EXPECT_EQ(daemon_->last_logs.until_nano, 1700000001123456789);
  call("GET", "/v1.41/containers/tx-exited/logs?stdout=1&since=1700000000");
  EXPECT_EQ(daemon_->last_logs.since_nano, 1700000000000000000);
  EXPECT_EQ(daemon_->last_logs.until_nano, 0);
  // 091: a tty container's log is raw.
  std::string tty = daemon_->add("tx-tty", Status::Exited, 0, true);
  daemon_->set_logs(tty, {{1, "out1\r\n", "t"}, {1, "out2\r\n", "t"}});
  HttpResponse raw = call("GET", "/v1.44/containers/tx-tty/logs?stdout=1&stderr=1");
  EXPECT_EQ(raw.body, "out1\r\nout2\r\n");
  EXPECT_EQ(raw.header("Content-Type"), "application/vnd.docker.raw-stream");
  // 072-style unknown container before any head.
  EXPECT_EQ(call("GET", "/v1.41/containers/tx-nosuch/logs?stdout=1").status, 404);
}

TEST_F(ApiServerTest, TopChangesExportPrune) {
  auto top = json::parse(call("GET", "/v1.41/containers/tx-c1/top?ps_args=aux").body);
  EXPECT_EQ(top["Titles"], json::array({"UID", "PID", "CMD"}));
  EXPECT_EQ(top["Processes"][0][2], "aux");
  auto ch = json::parse(call("GET", "/v1.41/containers/tx-exited/changes").body);
  EXPECT_EQ(ch[1], json({{"Path", "/etc/hosts2"}, {"Kind", 1}}));
  HttpResponse ex = call("GET", "/v1.41/containers/tx-exited/export");
  EXPECT_EQ(ex.status, 200);
  EXPECT_EQ(ex.header("Content-Type"), "application/octet-stream");
  EXPECT_TRUE(ex.chunked);
  EXPECT_EQ(ex.body.size(), 1536u);
  EXPECT_EQ(call("GET", "/v1.41/containers/tx-nosuch/export").status, 404);
  // 148/149.
  auto p = json::parse(call("POST", "/v1.41/containers/prune").body);
  EXPECT_EQ(p["ContainersDeleted"], json::array({exited_}));
  auto p2 = json::parse(call("POST", "/v1.41/containers/prune").body);
  EXPECT_TRUE(p2["ContainersDeleted"].is_null());
  EXPECT_EQ(p2["SpaceReclaimed"], 0);
  // 146: force removes a running container.
  EXPECT_EQ(call("DELETE", "/v1.41/containers/tx-c1?force=1").status, 204);
  EXPECT_EQ(call("GET", "/v1.41/containers/tx-c1/json").status, 404);
}

TEST_F(ApiServerTest, SystemInfoAndDf) {
  auto info = json::parse(call("GET", "/v1.41/info").body);
  for (const char* key : {"ID",
                          "Containers",
                          "ContainersRunning",
                          "Images",
                          "Driver",
                          "DockerRootDir",
                          "CgroupVersion",
                          "CgroupDriver",
                          "KernelVersion",
                          "OperatingSystem",
                          "OSType",
                          "Architecture",
                          "NCPU",
                          "MemTotal",
                          "Name",
                          "ServerVersion",
                          "SecurityOptions",
                          "Swarm",
                          "Runtimes",
                          "DefaultRuntime",
                          "Plugins",
                          "RegistryConfig",
                          "Warnings",
                          "LiveRestoreEnabled",
                          "InitBinary",
                          "ContainerdCommit",
                          "RuncCommit",
                          "InitCommit"}) {
    EXPECT_TRUE(info.contains(key)) << key;
  }
  EXPECT_EQ(info["Containers"], 4);
  EXPECT_EQ(info["ServerVersion"], "0.1.0-test");
  auto df = json::parse(call("GET", "/v1.41/system/df").body);
  EXPECT_EQ(df["Containers"].size(), 4u);
  EXPECT_TRUE(df["BuildCache"].is_null());
  EXPECT_TRUE(df["Images"].is_array());
}

TEST_F(ApiServerTest, ImagesImportListInspectTagDelete) {
  std::string id = import_image("tx-imported", "v1");
  ASSERT_EQ(id.rfind("sha256:", 0), 0u) << id;
  auto list = json::parse(call("GET", "/v1.41/images/json").body);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["Id"], id);
  EXPECT_EQ(list[0]["RepoTags"], json::array({"tx-imported:v1"}));
  // 153: reference filter.
  EXPECT_EQ(
      json::parse(
          call("GET", "/v1.41/images/json?filters=%7B%22reference%22%3A%5B%22tx-*%22%5D%7D").body)
          .size(),
      1u);
  // 155: inspect by name; GraphDriver filled.
  auto inspect = json::parse(call("GET", "/v1.41/images/tx-imported:v1/json").body);
  EXPECT_EQ(inspect["Id"], id);
  EXPECT_EQ(inspect["GraphDriver"]["Name"], "vfs");
  // 158: tag into a name with slashes, then inspect through the greedy route.
  HttpResponse tag = call("POST", "/v1.41/images/tx-imported:v1/tag?repo=tx/nested/name&tag=t1");
  EXPECT_EQ(tag.status, 201) << tag.body;
  EXPECT_EQ(tag.header("Content-Length"), "0");
  EXPECT_FALSE(tag.has_header("Content-Type"));
  EXPECT_EQ(json::parse(call("GET", "/v1.41/images/tx/nested/name:t1/json").body)["Id"], id);
  // 159: no tag -> latest.
  EXPECT_EQ(call("POST", "/v1.41/images/" + id + "/tag?repo=tx-busybox").status, 201);
  EXPECT_EQ(call("GET", "/v1.41/images/tx-busybox:latest/json").status, 200);
  // 160: invalid repository is 500 as dockerd's.
  HttpResponse bad = call("POST", "/v1.41/images/tx-imported:v1/tag?repo=TX-Upper&tag=t1");
  EXPECT_EQ(bad.status, 500);
  EXPECT_EQ(message(bad), "invalid reference format: repository name must be lowercase");
  // 157: history.
  auto hist = json::parse(call("GET", "/v1.41/images/tx-imported:v1/history").body);
  ASSERT_TRUE(hist.is_array());
  EXPECT_EQ(hist[0]["Id"], id);
  // 162: delete one tag of several: untag only.
  auto del = json::parse(call("DELETE", "/v1.41/images/tx/nested/name:t1").body);
  EXPECT_EQ(del, json::array({{{"Untagged", "tx/nested/name:t1"}}}));
}

TEST_F(ApiServerTest, ImportWithChangesAndMessage) {
  std::string tar = tb::make_tar({tb::file("hello.txt", "hello\n")});
  HttpResponse r =
      call("POST",
           "/v1.41/images/create?fromSrc=-&repo=tx-imported&tag=v2&changes=CMD%20%5B%22/"
           "bin/sh%22%5D&message=tx%20import",
           tar, {{"Content-Type", "application/x-tar"}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto hist = json::parse(call("GET", "/v1.41/images/tx-imported:v2/history").body);
  EXPECT_EQ(hist[0]["Comment"], "tx import");  // 191
  auto inspect = json::parse(call("GET", "/v1.41/images/tx-imported:v2/json").body);
  EXPECT_EQ(inspect["Config"]["Cmd"], json::array({"/bin/sh"}));
  // A bad reference is refused before the body is read; the connection stays usable.
  HttpResponse bad = call("POST", "/v1.41/images/create?fromSrc=-&repo=BAD", tar,
                          {{"Content-Type", "application/x-tar"}});
  EXPECT_EQ(bad.status, 400) << bad.body;
}

TEST_F(ApiServerTest, SaveAndLoadRoundTrip) {
  std::string id = import_image("tx-save", "1");
  HttpResponse saved = call("GET", "/v1.41/images/get?names=tx-save:1");
  ASSERT_EQ(saved.status, 200) << saved.body;
  EXPECT_EQ(saved.header("Content-Type"), "application/x-tar");
  EXPECT_TRUE(saved.chunked);
  EXPECT_GT(saved.body.size(), 1024u);
  HttpResponse single = call("GET", "/v1.41/images/tx-save:1/get");
  EXPECT_EQ(single.status, 200);
  EXPECT_EQ(single.body.size(), saved.body.size());
  // 183: unknown -> an ordinary 404, not a broken stream.
  HttpResponse unknown = call("GET", "/v1.41/images/get?names=tx-nosuch-image");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(message(unknown).find("No such image: tx-nosuch-image"), std::string::npos);
  // Remove the image, load it back (187: quiet by default).
  auto del = json::parse(call("DELETE", "/v1.41/images/tx-save:1").body);
  ASSERT_GE(del.size(), 2u);
  HttpResponse load =
      call("POST", "/v1.41/images/load", saved.body, {{"Content-Type", "application/x-tar"}});
  ASSERT_EQ(load.status, 200) << load.body;
  EXPECT_EQ(load.body, "{\"stream\":\"Loaded image: tx-save:1\\n\"}\r\n");
  EXPECT_EQ(json::parse(call("GET", "/v1.41/images/tx-save:1/json").body)["Id"], id);
  // 186: quiet=0 adds "Loading layer" progress for layers not present.
  call("DELETE", "/v1.41/images/tx-save:1");
  HttpResponse loud = call("POST", "/v1.41/images/load?quiet=0", saved.body,
                           {{"Content-Type", "application/x-tar"}});
  EXPECT_NE(loud.body.find("\"status\":\"Loading layer\""), std::string::npos) << loud.body;
  EXPECT_NE(loud.body.find("Loaded image: tx-save:1"), std::string::npos);
  // 188: garbage: the error is inside a 200 stream.
  HttpResponse garbage =
      call("POST", "/v1.41/images/load", "not a tar\n", {{"Content-Type", "application/x-tar"}});
  EXPECT_EQ(garbage.status, 200);
  auto g = json::parse(garbage.body.substr(0, garbage.body.find("\r\n")));
  EXPECT_EQ(g["error"], "Error processing tar file(exit status 1): unexpected EOF");
  EXPECT_EQ(g["errorDetail"]["message"], g["error"]);
}

TEST_F(ApiServerTest, FailedLoadDrainsItsBodyForKeepAlive) {
  // The loader gives up on the first bytes; the rest of the 4 MiB body must not be read as the
  // next request on the connection.
  std::string body(4 * 1024 * 1024, 'x');
  auto conn = HttpConnection::connect(sock());
  ASSERT_TRUE(conn);
  ASSERT_TRUE(
      conn->send("POST /v1.41/images/load HTTP/1.1\r\nHost: docker\r\n"
                 "Content-Type: application/x-tar\r\nContent-Length: " +
                 std::to_string(body.size()) + "\r\n\r\n" + body));
  auto r = conn->read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("errorDetail"), std::string::npos);
  ASSERT_TRUE(conn->send("GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n"));
  auto ping = conn->read_response();
  ASSERT_TRUE(ping);
  EXPECT_EQ(ping->body, "OK");
  // Same for an import refused before its body was read.
  ASSERT_TRUE(
      conn->send("POST /v1.41/images/create?fromSrc=-&repo=BAD HTTP/1.1\r\n"
                 "Host: docker\r\nContent-Length: 5\r\n\r\nxxxxx"));
  auto bad = conn->read_response();
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  ASSERT_TRUE(conn->send("GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n"));
  auto ping2 = conn->read_response();
  ASSERT_TRUE(ping2);
  EXPECT_EQ(ping2->body, "OK");
}

}  // namespace
}  // namespace mydocker::api::server
