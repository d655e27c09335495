// SPDX-License-Identifier: Apache-2.0
// HTTP(S) proxies from the environment (http.h): Go's ProxyFromEnvironment rules, and a pull
// through a tiny forwarding proxy on 127.0.0.1 that counts the requests it forwards to
// docker-registry. The registry is named "registry.test:<port>" (a name only the proxy
// resolves: loopback hosts are never proxied, as in Docker); NO_PROXY bypasses the proxy.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <thread>

#include "image/registry/pull.h"
#include "image/registry/push.h"
#include "runtime/base/fd.h"
#include "tests/integration/registry/registry_server.h"
#include "tests/integration/registry/test_images.h"
#include "tests/support/busybox_rootfs.h"

namespace mydocker::image::registry {
namespace {

using mydocker::testing::RegistryServer;
using mydocker::testing::TempDir;
using reference::Reference;

// Sets (or unsets, with nullptr) environment variables for a scope.
class ScopedEnv {
 public:
  ScopedEnv(std::initializer_list<std::pair<const char*, const char*>> vars) {
    for (const auto& [k, v] : vars) {
      const char* old = std::getenv(k);
      saved_.emplace_back(k, old ? std::optional<std::string>(old) : std::nullopt);
      if (v != nullptr) {
        ::setenv(k, v, 1);
      } else {
        ::unsetenv(k);
      }
    }
  }
  ~ScopedEnv() {
    for (const auto& [k, v] : saved_) {
      if (v) {
        ::setenv(k.c_str(), v->c_str(), 1);
      } else {
        ::unsetenv(k.c_str());
      }
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// A forwarding HTTP proxy: absolute-form requests are sent on to 127.0.0.1:<target> (one
// request per connection, "Connection: close"); CONNECT is refused with 403. Counts both.
class ForwardProxy {
 public:
  explicit ForwardProxy(int target) : target_(target) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    listen_ = base::Fd::adopt(fd);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || ::listen(fd, 64) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      ADD_FAILURE() << "proxy socket: " << std::strerror(errno);
      return;
    }
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { accept_loop(); });
  }
  ~ForwardProxy() {
    stop_ = true;
    if (thread_.joinable()) {
      thread_.join();
    }
    for (auto& t : conns_) {
      t.join();
    }
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int forwarded() const { return forwarded_; }
  int connects() const { return connects_; }
  std::vector<std::string> request_lines() {
    std::lock_guard lock(mu_);
    return lines_;
  }

 private:
  void accept_loop() {
    while (!stop_) {
      pollfd p{listen_.get(), POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) {
        continue;
      }
      int c = ::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (c >= 0) {
        conns_.emplace_back([this, c] { serve(base::Fd::adopt(c)); });
      }
    }
  }
  static bool send_all(int fd, std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) {
        return false;
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  void serve(base::Fd client) {
    std::string in;
    char buf[65536];
    size_t head_end = std::string::npos;
    while ((head_end = in.find("\r\n\r\n")) == std::string::npos) {
      ssize_t n = ::recv(client.get(), buf, sizeof(buf), 0);
      if (n <= 0) {
        return;
      }
      in.append(buf, static_cast<size_t>(n));
    }
    std::string head = in.substr(0, head_end);
    std::string body = in.substr(head_end + 4);
    std::string line = head.substr(0, head.find("\r\n"));
    {
      std::lock_guard lock(mu_);
      lines_.push_back(line);
    }
    if (line.starts_with("CONNECT ")) {
      ++connects_;
      send_all(client.get(),
               "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      return;
    }
    // "GET http://registry.test:5000/v2/ HTTP/1.1" -> "GET /v2/ HTTP/1.1"
    size_t sp1 = line.find(' ');
    size_t sp2 = line.rfind(' ');
    std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    size_t scheme = target.find("://");
    if (scheme == std::string::npos) {
      send_all(client.get(), "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    size_t path = target.find('/', scheme + 3);
    std::string out = line.substr(0, sp1 + 1) +
                      (path == std::string::npos ? "/" : target.substr(path)) + line.substr(sp2) +
                      "\r\n";
    size_t content_length = 0;
    for (const std::string& h : split_lines(head.substr(head.find("\r\n") + 2))) {
      std::string lower = h;
      for (char& ch : lower) {
        ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      }
      if (lower.starts_with("proxy-connection:") || lower.starts_with("connection:")) {
        continue;
      }
      if (lower.starts_with("content-length:")) {
        content_length = std::stoul(h.substr(15));
      }
      out += h + "\r\n";
    }
    out += "Connection: close\r\n\r\n";
    while (body.size() < content_length) {
      ssize_t n = ::recv(client.get(), buf, sizeof(buf), 0);
      if (n <= 0) {
        return;
      }
      body.append(buf, static_cast<size_t>(n));
    }
    ++forwarded_;
    base::Fd up = base::Fd::adopt(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(target_));
    if (::connect(up.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
        !send_all(up.get(), out + body)) {
      send_all(client.get(), "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    for (;;) {
      ssize_t n = ::recv(up.get(), buf, sizeof(buf), 0);
      if (n <= 0 || !send_all(client.get(), std::string_view(buf, static_cast<size_t>(n)))) {
        return;
      }
    }
  }
  static std::vector<std::string> split_lines(const std::string& s) {
    std::vector<std::string> out;
    size_t pos = 0;
    while (pos < s.size()) {
      size_t e = s.find("\r\n", pos);
      out.push_back(s.substr(pos, e == std::string::npos ? std::string::npos : e - pos));
      if (e == std::string::npos) {
        break;
      }
      pos = e + 2;
    }
    return out;
  }

  int target_;
  int port_ = 0;
  base::Fd listen_;
  std::atomic<bool> stop_{false};
  std::atomic<int> forwarded_{0};
  std::atomic<int> connects_{0};
  std::thread thread_;
  std::vector<std::thread> conns_;  // touched by the accept thread only, joined after it
  std::mutex mu_;
  std::vector<std::string> lines_;
};

TEST(ProxyConfigTest, ChoosesAsGosProxyFromEnvironment) {
  ProxyConfig p{"proxy.local:3128", "https://secure-proxy:8443", ""};
  EXPECT_EQ(p.proxy_for("http://registry.example.com/v2/"), "http://proxy.local:3128");
  EXPECT_EQ(p.proxy_for("https://registry.example.com:5000/v2/"), "https://secure-proxy:8443");
  // Loopback is never proxied.
  EXPECT_EQ(p.proxy_for("http://localhost:5000/v2/"), "");
  EXPECT_EQ(p.proxy_for("http://127.0.0.1:5000/v2/"), "");
  EXPECT_EQ(p.proxy_for("https://[::1]:5000/v2/"), "");
  // Only the scheme's own proxy.
  ProxyConfig only_http{"http://proxy:3128", "", ""};
  EXPECT_EQ(only_http.proxy_for("https://registry.example.com/v2/"), "");

  ProxyConfig np{"http://proxy:3128", "http://proxy:3128",
                 "example.com, .internal,10.0.0.0/8 ,192.168.1.7,reg.corp:5000"};
  EXPECT_EQ(np.proxy_for("https://example.com/v2/"), "");
  EXPECT_EQ(np.proxy_for("https://registry.EXAMPLE.com/v2/"), "");  // subdomains too
  EXPECT_EQ(np.proxy_for("https://notexample.com/v2/"), "http://proxy:3128");
  EXPECT_EQ(np.proxy_for("https://internal/v2/"), "http://proxy:3128");  // ".x": subdomains only
  EXPECT_EQ(np.proxy_for("https://a.internal/v2/"), "");
  EXPECT_EQ(np.proxy_for("http://10.1.2.3:5000/v2/"), "");
  EXPECT_EQ(np.proxy_for("http://11.1.2.3:5000/v2/"), "http://proxy:3128");
  EXPECT_EQ(np.proxy_for("http://192.168.1.7/v2/"), "");
  EXPECT_EQ(np.proxy_for("https://reg.corp:5000/v2/"), "");
  EXPECT_EQ(np.proxy_for("https://reg.corp/v2/"), "http://proxy:3128");  // other port
  ProxyConfig all{"http://proxy:3128", "http://proxy:3128", "*"};
  EXPECT_EQ(all.proxy_for("https://example.com/v2/"), "");
}

TEST(ProxyConfigTest, EnvironmentUpperCaseFirstThenLowerCase) {
  {
    ScopedEnv env({{"HTTP_PROXY", "http://upper:1"},
                   {"http_proxy", "http://lower:2"},
                   {"HTTPS_PROXY", nullptr},
                   {"https_proxy", "http://lower-s:3"},
                   {"NO_PROXY", nullptr},
                   {"no_proxy", "skip.me"}});
    ProxyConfig p = ProxyConfig::from_environment();
    EXPECT_EQ(p.http_proxy, "http://upper:1");
    EXPECT_EQ(p.https_proxy, "http://lower-s:3");
    EXPECT_EQ(p.no_proxy, "skip.me");
  }
  ScopedEnv none({{"HTTP_PROXY", nullptr},
                  {"http_proxy", nullptr},
                  {"HTTPS_PROXY", nullptr},
                  {"https_proxy", nullptr}});
  EXPECT_EQ(ProxyConfig::from_environment().proxy_for("https://example.com/"), "");
}

class ProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    auto s = RegistryServer::start(tmp_.path(), {}, &why);
    if (!s) {
      GTEST_SKIP() << why;
    }
    server_.emplace(std::move(*s));
    src_ = mydocker::testing::open_store(tmp_.path() + "/src");
    dst_ = mydocker::testing::open_store(tmp_.path() + "/dst");
    ASSERT_TRUE(src_ && dst_);
    img_ = mydocker::testing::make_image({"proxy-base", "proxy-app"});
    std::string direct = server_->host() + "/test/app:v1";
    mydocker::testing::load_image(*src_, img_, direct);
    RegistryOptions o = options();
    Client c(server_->host(), o);
    auto pushed = push(*src_, c, *Reference::parse(direct));
    ASSERT_TRUE(pushed) << pushed.error().to_string();
    proxy_.emplace(server_->port());
    name_ = "registry.test:" + std::to_string(server_->port());
  }
  RegistryOptions options() const {
    RegistryOptions o;
    o.retries = 0;
    o.certs_dir = "/nonexistent";
    o.insecure_registries = {"registry.test:" + std::to_string(server_->port())};
    return o;  // proxy: nullopt, the environment's
  }

  TempDir tmp_;
  std::optional<RegistryServer> server_;
  std::unique_ptr<Images> src_;
  std::unique_ptr<Images> dst_;
  mydocker::testing::TestImage img_;
  std::optional<ForwardProxy> proxy_;
  std::string name_;
};

TEST_F(ProxyTest, PullGoesThroughTheEnvironmentsProxy) {
  ScopedEnv env({{"HTTP_PROXY", proxy_->url().c_str()},
                 {"HTTPS_PROXY", proxy_->url().c_str()},
                 {"http_proxy", nullptr},
                 {"https_proxy", nullptr},
                 {"NO_PROXY", "localhost,127.0.0.1,.example.com"},
                 {"no_proxy", nullptr}});
  Client c(name_, options());
  auto r = pull(*dst_, c, *Reference::parse(name_ + "/test/app:v1"));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->id, img_.id);
  // https first through a CONNECT (refused), then plain http through the proxy: the ping,
  // the manifest, the config and both layers.
  EXPECT_GE(proxy_->connects(), 1);
  EXPECT_GE(proxy_->forwarded(), 5);
  auto lines = proxy_->request_lines();
  EXPECT_NE(std::find(lines.begin(), lines.end(),
                      "GET http://" + name_ + "/v2/test/app/manifests/v1 HTTP/1.1"),
            lines.end())
      << ::testing::PrintToString(lines);
  EXPECT_EQ(server_->count_log("\"GET /v2/test/app/blobs/sha256:"), 3) << server_->log();
}

TEST_F(ProxyTest, NoProxyAndLoopbackBypassTheProxy) {
  ScopedEnv env({{"HTTP_PROXY", proxy_->url().c_str()},
                 {"HTTPS_PROXY", proxy_->url().c_str()},
                 {"http_proxy", nullptr},
                 {"https_proxy", nullptr},
                 {"NO_PROXY", ".test"},
                 {"no_proxy", nullptr}});
  {
    // Direct: nobody resolves registry.test, and the proxy saw nothing.
    Client c(name_, options());
    auto r = pull(*dst_, c, *Reference::parse(name_ + "/test/app:v1"));
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("lookup registry.test"), std::string::npos)
        << r.error().message();
  }
  // A loopback registry is reached directly, whatever the proxy settings.
  Client loop(server_->host(), options());
  auto r = pull(*dst_, loop, *Reference::parse(server_->host() + "/test/app:v1"));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(proxy_->forwarded(), 0);
  EXPECT_EQ(proxy_->connects(), 0);
}

}  // namespace
}  // namespace mydocker::image::registry
