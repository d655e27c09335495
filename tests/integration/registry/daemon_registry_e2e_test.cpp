// SPDX-License-Identifier: Apache-2.0
// E2e through a private mydockerd configured for registries: a mirror lacking the image falls
// back to the registry (requests counted in both access logs; push never touches the
// mirror), daemon.json insecure-registries makes an untrusted-TLS registry usable, a client
// closing its connection mid-pull cancels the pull (nothing stored, the daemon still serves),
// and a daemon stopped during a pull stops cleanly. Registries on 127.0.0.1 only.
#include <gtest/gtest.h>
#include <httplib.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "image/registry/client.h"
#include "image/registry/push.h"
#include "runtime/base/fd.h"
#include "runtime/base/scope_exit.h"
#include "tests/integration/daemon/daemon_fixture.h"
#include "tests/integration/registry/registry_server.h"
#include "tests/integration/registry/test_images.h"
#include "tests/support/busybox_rootfs.h"
#include "tests/support/require.h"

namespace mydocker::testing::e2e {
namespace {

using image::Digest;

class RegistryDaemonE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    MYDOCKER_REQUIRE(Need::Root, Need::Overlay);
    src_ = open_store(tmp_.path() + "/src");
    ASSERT_TRUE(src_);
    daemon_ = std::make_unique<PrivateDaemon>();
  }
  void TearDown() override {
    if (daemon_) {
      daemon_->teardown();
    }
  }
  void start_with(const std::string& daemon_json) {
    std::ofstream(daemon_->config_file()) << daemon_json;
    ASSERT_TRUE(daemon_->start());
  }
  std::optional<RegistryServer> registry(const std::string& name, const RegistryConfig& cfg = {}) {
    std::string dir = tmp_.path() + "/" + name;
    std::filesystem::create_directories(dir);
    std::string why;
    auto s = RegistryServer::start(dir, cfg, &why);
    if (!s) {
      ADD_FAILURE() << why;
    }
    return s;
  }
  void push_to(const std::string& host, const TestImage& img, const std::string& path) {
    std::string r = host + "/" + path;
    load_image(*src_, img, r);
    image::registry::RegistryOptions o;
    o.certs_dir = "/nonexistent";
    image::registry::Client c(host, o);
    auto pushed = image::registry::push(*src_, c, *image::reference::Reference::parse(r));
    ASSERT_TRUE(pushed) << pushed.error().to_string();
  }
  bool has_image(const std::string& ref) {
    return daemon_->http("GET", "/images/" + ref + "/json").status == 200;
  }

  TempDir tmp_;
  std::unique_ptr<image::Images> src_;
  std::unique_ptr<PrivateDaemon> daemon_;
};

TEST_F(RegistryDaemonE2e, MirrorLackingTheImageFallsBackAndPushNeverUsesTheMirror) {
  auto origin = registry("origin");
  auto mirror = registry("mirror");
  ASSERT_TRUE(origin && mirror);
  TestImage img = make_image({"e2e-mirror-base", "e2e-mirror-app"});
  push_to(origin->host(), img, "test/app:v1");
  start_with(R"({"registry-host-mirrors": {")" + origin->host() + R"(": ["http://)" +
             mirror->host() + R"("]}})");
  HttpResponse r =
      daemon_->http("POST", "/images/create?fromImage=" + origin->host() + "/test/app&tag=v1");
  ASSERT_EQ(r.status, 200) << r.body << daemon_->log();
  EXPECT_NE(r.body.find("Status: Downloaded newer image for " + origin->host() + "/test/app:v1"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(mirror->count_log("\"GET /v2/test/app/manifests/v1"), 1) << mirror->log();
  EXPECT_EQ(mirror->count_log("\"GET /v2/test/app/blobs/"), 0) << mirror->log();
  EXPECT_EQ(origin->count_log("\"GET /v2/test/app/blobs/"), 3) << origin->log();
  EXPECT_TRUE(has_image(origin->host() + "/test/app:v1"));

  // Distribution inspect asks the endpoints in the same order.
  HttpResponse d = daemon_->http("GET", "/distribution/" + origin->host() + "/test/app:v1/json");
  ASSERT_EQ(d.status, 200) << d.body << daemon_->log();
  EXPECT_NE(d.body.find("\"architecture\":\"amd64\""), std::string::npos) << d.body;
  EXPECT_EQ(mirror->count_log("\"GET /v2/test/app/manifests/v1"), 2) << mirror->log();

  int mirror_lines = mirror->count_log("/v2/");
  Output tagged =
      daemon_->docker({"tag", origin->host() + "/test/app:v1", origin->host() + "/test/copy:v2"});
  ASSERT_EQ(tagged.status, 0) << tagged.all();
  Output pushed = daemon_->docker({"push", origin->host() + "/test/copy:v2"});
  ASSERT_EQ(pushed.status, 0) << pushed.all() << daemon_->log();
  EXPECT_EQ(mirror->count_log("/v2/"), mirror_lines) << mirror->log();
  EXPECT_EQ(origin->count_log("\"PUT /v2/test/copy/manifests/v2"), 1) << origin->log();
}

TEST_F(RegistryDaemonE2e, BadRegistryKeysAreRefusedNamingTheKey) {
  struct Case {
    std::string json;
    std::string message;
  };
  std::vector<Case> cases = {
      {R"({"registry-host-mirrors": {"reg.example.com": ["ftp://m"]}})",
       "invalid value for `registry-host-mirrors`: invalid mirror: unsupported scheme \"ftp\" "
       "in \"ftp://m\""},
      {R"({"registry-host-mirrors": {"https://reg.example.com": ["https://m"]}})",
       "invalid value for `registry-host-mirrors`: `https://reg.example.com` must be a registry "
       "host[:port] without a scheme"},
      {R"({"registry-host-mirrors": {"docker.io": ["https://m"]}})",
       "Docker Hub's mirrors are `registry-mirrors`"},
      {R"({"registry-host-mirrors": {"reg.example.com": "https://m"}})",
       "registry-host-mirrors.reg.example.com"},
      {R"({"registry-mirrors": ["https://user:pw@m"]})",
       "invalid value for `registry-mirrors`: invalid mirror"},
  };
  RunOptions quick;
  quick.timeout = std::chrono::seconds(20);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.json);
    std::ofstream(daemon_->config_file()) << c.json;
    Output out = run({mydockerd_path(), "--data-root", daemon_->data_root(), "--exec-root",
                      daemon_->exec_root(), "-H", "unix://" + daemon_->socket(), "--pidfile",
                      daemon_->pidfile(), "--config-file", daemon_->config_file()},
                     quick);
    EXPECT_NE(out.status, 0);
    EXPECT_NE(out.all().find(c.message), std::string::npos) << out.all();
  }
  // The flag forms are accepted.
  std::ofstream(daemon_->config_file()) << "{}";
  ASSERT_TRUE(daemon_->start({"--registry-host-mirror", "reg.example.com=https://m.example.com",
                              "--registry-mirror", "https://hub.example.com"}));
}

// A name for 127.0.0.1 that is not a loopback literal (loopback registries are always
// insecure): this host's name when it resolves to 127.0.0.0/8.
std::string loopback_alias() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0 || std::string(name) == "localhost") {
    return {};
  }
  addrinfo hints{};
  hints.ai_family = AF_INET;
  addrinfo* res = nullptr;
  if (::getaddrinfo(name, nullptr, &hints, &res) != 0 || res == nullptr) {
    return {};
  }
  auto* in = reinterpret_cast<sockaddr_in*>(res->ai_addr);
  bool loop = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
  ::freeaddrinfo(res);
  return loop ? std::string(name) : std::string();
}

TEST_F(RegistryDaemonE2e, InsecureRegistriesFromDaemonJsonAllowAnUntrustedTlsRegistry) {
  std::string alias = loopback_alias();
  if (alias.empty()) {
    GTEST_SKIP() << "this host's name does not resolve to a loopback address";
  }
  std::string dir = tmp_.path() + "/tls";
  std::filesystem::create_directories(dir);
  ASSERT_EQ(run_shell("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=" + alias +
                      " -addext subjectAltName=DNS:" + alias + ",IP:127.0.0.1 -keyout " + dir +
                      "/key.pem -out " + dir + "/cert.pem >/dev/null 2>&1"),
            0);
  RegistryConfig cfg;
  cfg.tls_cert = dir + "/cert.pem";
  cfg.tls_key = dir + "/key.pem";
  auto reg = registry("tls-registry", cfg);
  ASSERT_TRUE(reg);
  TestImage img = make_image({"e2e-tls-app"});
  push_to(reg->host(), img, "test/tls:v1");  // 127.0.0.1: loopback, unverified
  std::string name = alias + ":" + std::to_string(reg->port());

  start_with("{}");
  HttpResponse refused =
      daemon_->http("POST", "/images/create?fromImage=" + name + "/test/tls&tag=v1");
  EXPECT_NE(refused.status, 200) << refused.body;
  EXPECT_NE(refused.body.find("x509: certificate signed by unknown authority"), std::string::npos)
      << refused.body;
  EXPECT_FALSE(has_image(name + "/test/tls:v1"));
  ASSERT_EQ(daemon_->stop(), 0) << daemon_->log();

  start_with(R"({"insecure-registries": [")" + name + R"("]})");
  HttpResponse r = daemon_->http("POST", "/images/create?fromImage=" + name + "/test/tls&tag=v1");
  ASSERT_EQ(r.status, 200) << r.body << daemon_->log();
  EXPECT_NE(r.body.find("Status: Downloaded newer image for " + name + "/test/tls:v1"),
            std::string::npos)
      << r.body;
  EXPECT_TRUE(has_image(name + "/test/tls:v1"));
}

// A registry whose one layer trickles (16 KiB every 25 ms: 6 MiB take ~10 s) until fast() is
// called: a pull stays in "Downloading" long enough to be interrupted.
class SlowRegistry {
 public:
  explicit SlowRegistry(const TestImage& img) : img_(img) {
    port_ = free_port();
    srv_.Get("/v2/", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("{}", "application/json");
    });
    srv_.Get(
        R"(/v2/slow/app/manifests/(.+))", [this](const httplib::Request&, httplib::Response& res) {
          res.set_content(img_.manifest, "application/vnd.docker.distribution.manifest.v2+json");
        });
    srv_.Get(R"(/v2/slow/app/blobs/(sha256:[0-9a-f]+))",
             [this](const httplib::Request& req, httplib::Response& res) {
               std::string d = req.matches[1].str();
               if (d == Digest::sha256_of(img_.config).str()) {
                 res.set_content(img_.config, "application/octet-stream");
                 return;
               }
               const std::string& blob = img_.layer_blobs[0];
               if (d != Digest::sha256_of(blob).str()) {
                 res.status = 404;
                 return;
               }
               ++layer_gets_;
               res.set_content_provider(
                   blob.size(), "application/octet-stream",
                   [this, &blob](size_t offset, size_t, httplib::DataSink& sink) {
                     size_t n = std::min<size_t>((fast_ ? 256 : 16) * 1024, blob.size() - offset);
                     if (!fast_) {
                       std::this_thread::sleep_for(std::chrono::milliseconds(25));
                     }
                     if (!sink.write(blob.data() + offset, n)) {
                       ++aborted_;
                       return false;
                     }
                     return true;
                   },
                   [this](bool success) {
                     if (!success) {
                       ++aborted_;
                     }
                   });
             });
    thread_ = std::thread([this] { srv_.listen("127.0.0.1", port_); });
    wait_for_port(port_, 5000);
  }
  ~SlowRegistry() {
    fast_ = true;
    srv_.stop();
    thread_.join();
  }
  std::string ref() const { return "127.0.0.1:" + std::to_string(port_) + "/slow/app:v1"; }
  void fast() { fast_ = true; }
  int aborted() const { return aborted_; }
  int layer_gets() const { return layer_gets_; }

 private:
  TestImage img_;
  int port_ = 0;
  httplib::Server srv_;
  std::thread thread_;
  std::atomic<bool> fast_{false};
  std::atomic<int> aborted_{0};
  std::atomic<int> layer_gets_{0};
};

// POST /images/create on a raw connection; returns it once "Downloading" was streamed.
base::Fd start_pull(const std::string& socket, const std::string& ref) {
  base::Fd fd = base::Fd::adopt(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::snprintf(a.sun_path, sizeof(a.sun_path), "%s", socket.c_str());
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ADD_FAILURE() << "connect " << socket;
    return {};
  }
  std::string req = "POST /v1.41/images/create?fromImage=" + ref +
                    " HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n\r\n";
  if (::send(fd.get(), req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    ADD_FAILURE() << "send";
    return {};
  }
  std::string got;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (got.find("Downloading") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd.get(), POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) {
      continue;
    }
    char buf[4096];
    ssize_t n = ::recv(fd.get(), buf, sizeof(buf), 0);
    if (n <= 0) {
      break;
    }
    got.append(buf, static_cast<size_t>(n));
  }
  EXPECT_NE(got.find("Downloading"), std::string::npos) << got;
  return fd;
}

TEST_F(RegistryDaemonE2e, ClientClosingMidPullCancelsItAndNothingIsStored) {
  TestImage img = make_image({"e2e-slow"}, 6 << 20);
  SlowRegistry reg(img);
  start_with("{}");
  {
    base::Fd conn = start_pull(daemon_->socket(), reg.ref());
    ASSERT_TRUE(conn.valid());
  }  // the client leaves
  // The daemon stops the download: the registry sees its connection go.
  EXPECT_TRUE(eventually([&] { return reg.aborted() > 0; }, std::chrono::seconds(10)))
      << daemon_->log();
  EXPECT_EQ(daemon_->http("GET", "/_ping", "", true).status, 200);
  EXPECT_FALSE(has_image(reg.ref()));
  HttpResponse images = daemon_->http("GET", "/images/json");
  EXPECT_EQ(images.body.find("slow/app"), std::string::npos) << images.body;
  // A pull afterwards completes.
  reg.fast();
  HttpResponse r = daemon_->http("POST", "/images/create?fromImage=" + reg.ref());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("Downloaded newer image"), std::string::npos) << r.body;
  EXPECT_TRUE(has_image(reg.ref()));
}

TEST_F(RegistryDaemonE2e, DaemonStoppedDuringAPullStopsCleanlyAndStoresNothing) {
  TestImage img = make_image({"e2e-slow-stop"}, 6 << 20);
  SlowRegistry reg(img);
  start_with("{}");
  base::Fd conn = start_pull(daemon_->socket(), reg.ref());
  ASSERT_TRUE(conn.valid());
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(daemon_->stop(), 0) << daemon_->log();
  // Well before the download could have ended on its own.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  // The registry notices the dropped download at its next write.
  EXPECT_TRUE(eventually([&] { return reg.aborted() > 0; }, std::chrono::seconds(5)));
  conn = base::Fd();
  ASSERT_TRUE(daemon_->start());
  EXPECT_FALSE(has_image(reg.ref()));
  reg.fast();
  HttpResponse r = daemon_->http("POST", "/images/create?fromImage=" + reg.ref());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(has_image(reg.ref()));
}

// Bad registries through the daemon: a clear error (before the stream, or in it), nothing
// stored, and the daemon keeps serving.
TEST_F(RegistryDaemonE2e, BadRegistryAnswersAreClearErrorsAndTheDaemonKeepsServing) {
  TestImage img = make_image({"e2e-bad-base", "e2e-bad-app"});
  std::string corrupt = img.layer_blobs[1];
  corrupt[corrupt.size() / 2] ^= 0x5a;
  std::atomic<bool> malformed{true};
  httplib::Server bad;
  bad.Get("/v2/", [&](const httplib::Request&, httplib::Response& res) {
    if (malformed) {
      res.status = 401;
      res.set_header("WWW-Authenticate", "Bearer realm=\"http://127.0.0.1/token");
      return;
    }
    res.set_content("{}", "application/json");
  });
  bad.Get(R"(/v2/bad/app/manifests/(.+))", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(img.manifest, "application/vnd.docker.distribution.manifest.v2+json");
  });
  bad.Get(R"(/v2/bad/app/blobs/(sha256:[0-9a-f]+))",
          [&](const httplib::Request& req, httplib::Response& res) {
            std::string d = req.matches[1].str();
            if (d == Digest::sha256_of(img.config).str()) {
              res.set_content(img.config, "application/octet-stream");
            } else if (d == Digest::sha256_of(img.layer_blobs[0]).str()) {
              res.set_content(img.layer_blobs[0], "application/octet-stream");
            } else if (d == Digest::sha256_of(img.layer_blobs[1]).str()) {
              res.set_content(corrupt, "application/octet-stream");
            } else {
              res.status = 404;
            }
          });
  int port = free_port();
  std::thread t([&] { bad.listen("127.0.0.1", port); });
  base::ScopeExit stop_bad([&] {
    bad.stop();
    t.join();
  });
  ASSERT_TRUE(wait_for_port(port, 5000));
  start_with("{}");
  std::string ref = "127.0.0.1:" + std::to_string(port) + "/bad/app:v1";

  HttpResponse r = daemon_->http("POST", "/images/create?fromImage=" + ref);
  EXPECT_NE(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("malformed WWW-Authenticate header"), std::string::npos) << r.body;
  EXPECT_EQ(daemon_->http("GET", "/_ping", "", true).status, 200);

  malformed = false;
  HttpResponse in_stream = daemon_->http("POST", "/images/create?fromImage=" + ref);
  EXPECT_EQ(in_stream.status, 200) << in_stream.body;
  EXPECT_NE(in_stream.body.find("\"errorDetail\""), std::string::npos) << in_stream.body;
  EXPECT_EQ(in_stream.body.find("Downloaded newer image"), std::string::npos) << in_stream.body;
  EXPECT_FALSE(has_image(ref));
  HttpResponse images = daemon_->http("GET", "/images/json");
  EXPECT_EQ(images.body.find("bad/app"), std::string::npos) << images.body;
  EXPECT_EQ(daemon_->http("GET", "/_ping", "", true).status, 200);
}

}  // namespace
}  // namespace mydocker::testing::e2e
