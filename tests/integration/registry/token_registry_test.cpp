// SPDX-License-Identifier: Apache-2.0
// docker-registry in token-auth mode, with a token server written here: it checks Basic
// credentials and issues RS256 JWTs (x5c: the signing certificate, which the registry trusts
// as its root bundle) granting the scopes asked for. Push and pull go through the Bearer flow.
#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "image/registry/client.h"
#include "image/registry/pull.h"
#include "image/registry/push.h"
#include "runtime/base/file.h"
#include "runtime/base/strings.h"
#include "tests/integration/registry/registry_server.h"
#include "tests/integration/registry/test_images.h"
#include "tests/support/busybox_rootfs.h"

namespace mydocker::image::registry {
namespace {

using mydocker::testing::RegistryServer;
using mydocker::testing::TempDir;
using nlohmann::json;

std::string b64url(std::string_view data) {
  std::string s = base64_encode(data);
  while (!s.empty() && s.back() == '=') {
    s.pop_back();
  }
  for (char& c : s) {
    if (c == '+') {
      c = '-';
    } else if (c == '/') {
      c = '_';
    }
  }
  return s;
}

class TokenServer {
 public:
  // `key_pem`/`cert_pem`: the signing pair; grants go to `user`:`password` only.
  TokenServer(const std::string& key_path, const std::string& cert_path, std::string issuer,
              std::string service, std::string user, std::string password)
      : issuer_(std::move(issuer)), service_(std::move(service)) {
    basic_ = "Basic " + base64_encode(user + ":" + password);
    FILE* kf = std::fopen(key_path.c_str(), "r");
    key_ = PEM_read_PrivateKey(kf, nullptr, nullptr, nullptr);
    std::fclose(kf);
    FILE* cf = std::fopen(cert_path.c_str(), "r");
    X509* cert = PEM_read_X509(cf, nullptr, nullptr, nullptr);
    std::fclose(cf);
    unsigned char* der = nullptr;
    int len = i2d_X509(cert, &der);
    cert_der_.assign(reinterpret_cast<char*>(der), static_cast<size_t>(len));
    OPENSSL_free(der);
    X509_free(cert);
    port_ = mydocker::testing::free_port();
    srv_.Get("/token",
             [this](const httplib::Request& req, httplib::Response& res) { handle(req, res); });
    thread_ = std::thread([this] { srv_.listen("127.0.0.1", port_); });
    mydocker::testing::wait_for_port(port_, 5000);
  }
  ~TokenServer() {
    srv_.stop();
    thread_.join();
    EVP_PKEY_free(key_);
  }
  std::string realm() const { return "http://127.0.0.1:" + std::to_string(port_) + "/token"; }
  int requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  void handle(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu_);
    ++requests_;
    if (req.get_header_value("Authorization") != basic_) {
      res.status = 401;
      res.set_content(R"({"details":"incorrect username or password"})", "application/json");
      return;
    }
    json access = json::array();
    size_t n = req.get_param_value_count("scope");
    for (size_t i = 0; i < n; ++i) {
      std::vector<std::string> parts = base::split(req.get_param_value("scope", i), ':');
      if (parts.size() != 3 || parts[0] != "repository") {
        continue;
      }
      access.push_back(
          {{"type", "repository"}, {"name", parts[1]}, {"actions", base::split(parts[2], ',')}});
    }
    int64_t now = static_cast<int64_t>(std::time(nullptr));
    json header = {{"typ", "JWT"}, {"alg", "RS256"}, {"x5c", {base64_encode(cert_der_)}}};
    json claims = {{"iss", issuer_},
                   {"sub", "alice"},
                   {"aud", service_},
                   {"exp", now + 300},
                   {"nbf", now - 10},
                   {"iat", now - 10},
                   {"jti", std::to_string(requests_)},
                   {"access", access}};
    std::string input = b64url(header.dump()) + "." + b64url(claims.dump());
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    size_t sig_len = 0;
    EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key_);
    EVP_DigestSign(ctx, nullptr, &sig_len, reinterpret_cast<const unsigned char*>(input.data()),
                   input.size());
    std::string sig(sig_len, '\0');
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &sig_len,
                   reinterpret_cast<const unsigned char*>(input.data()), input.size());
    EVP_MD_CTX_free(ctx);
    sig.resize(sig_len);
    res.set_content(json{{"token", input + "." + b64url(sig)}, {"expires_in", 300}}.dump(),
                    "application/json");
  }

  std::string issuer_;
  std::string service_;
  std::string basic_;
  EVP_PKEY* key_ = nullptr;
  std::string cert_der_;
  int port_ = 0;
  httplib::Server srv_;
  std::thread thread_;
  std::mutex mu_;
  int requests_ = 0;
};

class TokenRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pki = tmp_.path() + "/pki";
    ASSERT_EQ(mydocker::testing::run_shell(
                  "set -e; mkdir -p " + pki + "; cd " + pki +
                  "; openssl req -x509 -newkey rsa:2048 -nodes -keyout token.key -out token.crt"
                  " -days 2 -subj /CN=mydocker-token-signer 2>/dev/null"),
              0);
    tokens_ = std::make_unique<TokenServer>(pki + "/token.key", pki + "/token.crt", "test-issuer",
                                            "test-registry", "alice", "s3cret");
    mydocker::testing::RegistryConfig cfg;
    cfg.token_realm = tokens_->realm();
    cfg.token_service = "test-registry";
    cfg.token_issuer = "test-issuer";
    cfg.token_rootcert = pki + "/token.crt";
    std::string why;
    auto s = RegistryServer::start(tmp_.path(), cfg, &why);
    if (!s) {
      GTEST_SKIP() << why;
    }
    server_.emplace(std::move(*s));
    src_ = mydocker::testing::open_store(tmp_.path() + "/src");
    dst_ = mydocker::testing::open_store(tmp_.path() + "/dst");
  }
  std::unique_ptr<Client> client(const std::string& user, const std::string& password) {
    RegistryOptions o;
    o.retry_backoff = std::chrono::milliseconds(5);
    o.certs_dir = "/nonexistent";
    if (!user.empty()) {
      o.credentials = [user, password](const std::string&) -> std::optional<Credentials> {
        return Credentials{user, password, ""};
      };
    }
    return std::make_unique<Client>(server_->host(), o);
  }
  reference::Reference ref(const std::string& tail) {
    return *reference::Reference::parse(server_->host() + "/" + tail);
  }

  TempDir tmp_;
  std::unique_ptr<TokenServer> tokens_;
  std::optional<RegistryServer> server_;
  std::unique_ptr<Images> src_;
  std::unique_ptr<Images> dst_;
};

TEST_F(TokenRegistryTest, PushAndPullWithBearerTokens) {
  auto img = mydocker::testing::make_image({"tok-base", "tok-top"});
  mydocker::testing::load_image(*src_, img, server_->host() + "/team/tok:v1");
  auto c = client("alice", "s3cret");
  ASSERT_TRUE(c->login()) << "the token server accepts alice";
  auto pushed = push(*src_, *c, ref("team/tok:v1"));
  ASSERT_TRUE(pushed) << pushed.error().to_string() << "\n" << server_->log();
  auto pulled = pull(*dst_, *c, ref("team/tok:v1"));
  ASSERT_TRUE(pulled) << pulled.error().to_string();
  EXPECT_EQ(pulled->id, img.id);
  // Tokens are cached per scope: login's, push's (pull,push) and pull's; not one per request.
  EXPECT_LE(c->token_requests(), 3u);
  EXPECT_GE(c->token_requests(), 2u);

  // Without credentials the token server refuses: Docker's "pull access denied".
  auto anon = client("", "");
  auto denied = pull(*dst_, *anon, ref("team/tok:v1"));
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code(), base::ErrorCode::Unauthorized);
  EXPECT_TRUE(denied.error().message().starts_with(
      "pull access denied for " + server_->host() +
      "/team/tok, repository does not exist or may require 'docker login': "))
      << denied.error().message();

  auto wrong = client("alice", "nope");
  auto login = wrong->login();
  ASSERT_FALSE(login);
  EXPECT_EQ(login.error().message(),
            fmt::format("login attempt to http://{}/v2/ failed with status: 401 Unauthorized",
                        server_->host()));
}

}  // namespace
}  // namespace mydocker::image::registry
