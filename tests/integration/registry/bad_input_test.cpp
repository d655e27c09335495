// SPDX-License-Identifier: Apache-2.0
// Bad input the other registry suites leave out: expired tokens (renewed; a token server whose
// tokens the registry keeps refusing is a clear error, not a loop), a token server answering
// nonsense, a realm that cannot be reached. A fake registry (cpp-httplib on 127.0.0.1).
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "image/registry/client.h"
#include "image/registry/pull.h"
#include "tests/integration/registry/registry_server.h"
#include "tests/integration/registry/test_images.h"
#include "tests/support/busybox_rootfs.h"

namespace mydocker::image::registry {
namespace {

using mydocker::testing::TempDir;
using reference::Reference;

// A registry whose tokens live `lifetime`: a token older than that is refused with a 401 and
// the challenge, as a real registry refuses an expired JWT.
class ExpiringTokenRegistry {
 public:
  explicit ExpiringTokenRegistry(const mydocker::testing::TestImage& img) {
    port_ = mydocker::testing::free_port();
    manifest_ = img.manifest;
    blobs_[Digest::sha256_of(img.config).str()] = img.config;
    for (const auto& b : img.layer_blobs) {
      blobs_[Digest::sha256_of(b).str()] = b;
    }
    srv_.Get("/token", [this](const httplib::Request&, httplib::Response& res) {
      std::lock_guard lock(mu_);
      ++token_requests_;
      if (!token_body_.empty()) {
        res.set_content(token_body_, "application/json");
        return;
      }
      std::string t = "tok-" + std::to_string(token_requests_);
      issued_[t] = std::chrono::steady_clock::now();
      res.set_content(R"({"token":")" + t + R"(","expires_in":1})", "application/json");
    });
    srv_.Get("/v2/",
             [this](const httplib::Request& req, httplib::Response& res) { authorized(req, res); });
    srv_.Get(R"(/v2/fake/manifests/(.+))",
             [this](const httplib::Request& req, httplib::Response& res) {
               if (!authorized(req, res)) {
                 return;
               }
               std::lock_guard lock(mu_);
               ++manifest_requests_;
               res.set_content(manifest_, "application/vnd.docker.distribution.manifest.v2+json");
             });
    srv_.Get(R"(/v2/fake/blobs/(sha256:[0-9a-f]+))",
             [this](const httplib::Request& req, httplib::Response& res) {
               if (!authorized(req, res)) {
                 return;
               }
               std::lock_guard lock(mu_);
               auto it = blobs_.find(req.matches[1].str());
               if (it == blobs_.end()) {
                 res.status = 404;
                 return;
               }
               res.set_content(it->second, "application/octet-stream");
             });
    thread_ = std::thread([this] { srv_.listen("127.0.0.1", port_); });
    mydocker::testing::wait_for_port(port_, 5000);
  }
  ~ExpiringTokenRegistry() {
    srv_.stop();
    thread_.join();
  }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  void set_lifetime(std::chrono::milliseconds l) {
    std::lock_guard lock(mu_);
    lifetime_ = l;
  }
  void set_token_body(std::string b) {
    std::lock_guard lock(mu_);
    token_body_ = std::move(b);
  }
  void set_realm(std::string r) {
    std::lock_guard lock(mu_);
    realm_ = std::move(r);
  }
  int token_requests() {
    std::lock_guard lock(mu_);
    return token_requests_;
  }
  int manifest_requests() {
    std::lock_guard lock(mu_);
    return manifest_requests_;
  }

 private:
  bool authorized(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu_);
    std::string auth = req.get_header_value("Authorization");
    if (auth.starts_with("Bearer ")) {
      auto it = issued_.find(auth.substr(7));
      if (it != issued_.end() && std::chrono::steady_clock::now() - it->second < lifetime_) {
        return true;
      }
    }
    res.status = 401;
    res.set_header("WWW-Authenticate",
                   "Bearer realm=\"" + (realm_.empty() ? "http://" + host() + "/token" : realm_) +
                       "\",service=\"fake\"");
    res.set_content(R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})",
                    "application/json");
    return false;
  }

  int port_ = 0;
  httplib::Server srv_;
  std::thread thread_;
  std::mutex mu_;
  std::string manifest_;
  std::map<std::string, std::string> blobs_;
  std::map<std::string, std::chrono::steady_clock::time_point> issued_;
  std::chrono::milliseconds lifetime_{1000};
  std::string token_body_;
  std::string realm_;
  int token_requests_ = 0;
  int manifest_requests_ = 0;
};

RegistryOptions fast_options() {
  RegistryOptions o;
  o.retry_backoff = std::chrono::milliseconds(10);
  o.retries = 1;
  o.certs_dir = "/nonexistent";
  o.proxy = ProxyConfig{};
  return o;
}

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    img_ = mydocker::testing::make_image({"bad-input-base", "bad-input-app"});
    reg_.emplace(img_);
    dst_ = mydocker::testing::open_store(tmp_.path() + "/dst");
    ASSERT_TRUE(dst_);
  }
  Reference ref() const { return *Reference::parse(reg_->host() + "/fake:v1"); }
  bool stored_nothing() {
    auto blobs = dst_->content().list();
    return dst_->images().images().empty() && blobs && blobs->empty();
  }

  TempDir tmp_;
  mydocker::testing::TestImage img_;
  std::optional<ExpiringTokenRegistry> reg_;
  std::unique_ptr<Images> dst_;
};

TEST_F(BadInputTest, ExpiredTokenIsRenewedAndTheRequestSucceeds) {
  reg_->set_lifetime(std::chrono::milliseconds(300));
  Client c(reg_->host(), fast_options());
  ASSERT_TRUE(c.get_manifest("fake", "v1"));
  EXPECT_EQ(reg_->token_requests(), 1);
  // The cached token (kept 60 s, Docker's minimum, though the server said 1 s) has expired
  // at the registry: the 401 brings a new token and the request goes through.
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  auto again = c.get_manifest("fake", "v1");
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(reg_->token_requests(), 2);
  auto pulled = pull(*dst_, c, ref());
  ASSERT_TRUE(pulled) << pulled.error().to_string();
  EXPECT_EQ(pulled->id, img_.id);
}

TEST_F(BadInputTest, TokensThatAreAlwaysExpiredAreAClearErrorNotALoop) {
  reg_->set_lifetime(std::chrono::milliseconds(0));  // every token is refused at once
  Client c(reg_->host(), fast_options());
  auto r = pull(*dst_, c, ref());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), base::ErrorCode::Unauthorized) << r.error().to_string();
  EXPECT_NE(r.error().message().find("unauthorized: authentication required"), std::string::npos)
      << r.error().message();
  // One token, one renewal: then the error.
  EXPECT_EQ(reg_->token_requests(), 2);
  EXPECT_TRUE(stored_nothing());
}

TEST_F(BadInputTest, TokenServerAnsweringNonsenseIsAClearError) {
  reg_->set_token_body("<html>gateway</html>");
  Client c(reg_->host(), fast_options());
  auto r = pull(*dst_, c, ref());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("Get \"http://" + reg_->host() + "/token\""),
            std::string::npos)
      << r.error().message();
  EXPECT_EQ(reg_->manifest_requests(), 0);
  reg_->set_token_body(R"({"expires_in":300})");  // no token at all
  Client c2(reg_->host(), fast_options());
  auto r2 = pull(*dst_, c2, ref());
  ASSERT_FALSE(r2);
  EXPECT_NE(r2.error().message().find("/token\""), std::string::npos) << r2.error().message();
  EXPECT_TRUE(stored_nothing());
}

TEST_F(BadInputTest, UnreachableTokenRealmIsDockersDialError) {
  std::string realm = "http://127.0.0.1:" + std::to_string(mydocker::testing::free_port()) + "/t";
  reg_->set_realm(realm);
  Client c(reg_->host(), fast_options());
  auto r = pull(*dst_, c, ref());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("connect: connection refused"), std::string::npos)
      << r.error().message();
  EXPECT_TRUE(stored_nothing());
}

}  // namespace
}  // namespace mydocker::image::registry
