// SPDX-License-Identifier: Apache-2.0
// The client against a fake registry (cpp-httplib on 127.0.0.1) that misbehaves on purpose:
// wrong digests, a connection dropped mid-blob, a malformed WWW-Authenticate, and a Bearer
// token flow (realm, scope, cache, a rejected token, wrong credentials).
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
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

class FakeRegistry {
 public:
  FakeRegistry() {
    port_ = mydocker::testing::free_port();
    srv_.Get("/v2/", [this](const httplib::Request& req, httplib::Response& res) {
      if (!authorized(req, res)) {
        return;
      }
      res.set_content("{}", "application/json");
    });
    srv_.Get("/token", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      ++token_requests_;
      scopes_.push_back(req.get_param_value("scope"));
      if (!token_basic_.empty() && req.get_header_value("Authorization") != token_basic_) {
        res.status = 401;
        res.set_content(R"({"details":"incorrect username or password"})", "application/json");
        return;
      }
      res.set_content(
          R"({"token":"tok-)" + std::to_string(token_requests_) + R"(","expires_in":300})",
          "application/json");
    });
    srv_.Get(R"(/v2/fake/manifests/(.+))", [this](const httplib::Request& req,
                                                  httplib::Response& res) {
      if (!authorized(req, res)) {
        return;
      }
      std::lock_guard lock(mu_);
      ++manifest_requests_;
      if (unavailable_ > 0) {
        --unavailable_;
        res.status = 503;
        res.set_content("busy", "text/plain");
        return;
      }
      auto it = manifests_.find(req.matches[1].str());
      if (it == manifests_.end()) {
        res.status = 404;
        res.set_content(R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]})",
                        "application/json");
        return;
      }
      res.set_header("Docker-Content-Digest", content_digest_.empty()
                                                  ? Digest::sha256_of(it->second).str()
                                                  : content_digest_);
      res.set_content(it->second, "application/vnd.docker.distribution.manifest.v2+json");
    });
    srv_.Get(R"(/v2/fake/blobs/(sha256:[0-9a-f]+))", [this](const httplib::Request& req,
                                                            httplib::Response& res) {
      if (!authorized(req, res)) {
        return;
      }
      std::string d = req.matches[1].str();
      std::lock_guard lock(mu_);
      ++blob_requests_[d];
      auto it = blobs_.find(d);
      if (it == blobs_.end()) {
        res.status = 404;
        res.set_content(R"({"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]})",
                        "application/json");
        return;
      }
      std::string data = it->second;
      if (stall_.erase(d) != 0) {
        // Half the blob, then nothing until release() (a registry that stops sending).
        auto half = std::make_shared<std::string>(data.substr(0, data.size() / 2));
        res.set_content_provider(data.size(), "application/octet-stream",
                                 [this, half](size_t offset, size_t, httplib::DataSink& sink) {
                                   if (offset < half->size()) {
                                     sink.write(half->data() + offset, half->size() - offset);
                                     return true;
                                   }
                                   while (!released_.load()) {
                                     std::this_thread::sleep_for(std::chrono::milliseconds(5));
                                   }
                                   return false;
                                 });
        return;
      }
      if (drop_once_.erase(d) != 0) {
        // Half the blob, then the connection drops (Content-Length promised all of it).
        auto half = std::make_shared<std::string>(data.substr(0, data.size() / 2));
        res.set_content_provider(data.size(), "application/octet-stream",
                                 [half](size_t offset, size_t, httplib::DataSink& sink) {
                                   if (offset < half->size()) {
                                     sink.write(half->data() + offset, half->size() - offset);
                                     return true;
                                   }
                                   return false;
                                 });
        return;
      }
      res.set_content(data, "application/octet-stream");
    });
    thread_ = std::thread([this] { srv_.listen("127.0.0.1", port_); });
    mydocker::testing::wait_for_port(port_, 5000);
  }
  ~FakeRegistry() {
    release();
    srv_.stop();
    thread_.join();
  }

  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  void serve(const mydocker::testing::TestImage& img, const std::string& tag) {
    std::lock_guard lock(mu_);
    manifests_[tag] = img.manifest;
    manifests_[Digest::sha256_of(img.manifest).str()] = img.manifest;
    blobs_[Digest::sha256_of(img.config).str()] = img.config;
    for (const auto& b : img.layer_blobs) {
      blobs_[Digest::sha256_of(b).str()] = b;
    }
  }
  void set_blob(const Digest& d, std::string data) {
    std::lock_guard lock(mu_);
    blobs_[d.str()] = std::move(data);
  }
  // The next `n` manifest requests answer 503.
  void unavailable(int n) {
    std::lock_guard lock(mu_);
    unavailable_ = n;
  }
  int manifest_requests() {
    std::lock_guard lock(mu_);
    return manifest_requests_;
  }
  void remove_blob(const Digest& d) {
    std::lock_guard lock(mu_);
    blobs_.erase(d.str());
  }
  // The next GET of `d` sends half the blob and then stalls until release().
  void stall_once(const Digest& d) {
    std::lock_guard lock(mu_);
    stall_.insert(d.str());
  }
  void release() { released_ = true; }
  void drop_once(const Digest& d) {
    std::lock_guard lock(mu_);
    drop_once_.insert(d.str());
  }
  void set_content_digest(std::string d) {
    std::lock_guard lock(mu_);
    content_digest_ = std::move(d);
  }
  void set_challenge(std::string c) {
    std::lock_guard lock(mu_);
    challenge_ = std::move(c);
  }
  // Bearer mode: tokens "tok-N" are accepted except the ones in `reject`.
  void require_token(std::string basic_for_token = "") {
    std::lock_guard lock(mu_);
    bearer_ = true;
    token_basic_ = std::move(basic_for_token);
    challenge_ = "Bearer realm=\"http://" + host() + "/token\",service=\"fake-service\"";
  }
  void reject_token(const std::string& t) {
    std::lock_guard lock(mu_);
    rejected_.insert(t);
  }
  int blob_requests(const Digest& d) {
    std::lock_guard lock(mu_);
    return blob_requests_[d.str()];
  }
  int token_requests() {
    std::lock_guard lock(mu_);
    return token_requests_;
  }
  std::vector<std::string> scopes() {
    std::lock_guard lock(mu_);
    return scopes_;
  }

 private:
  bool authorized(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu_);
    if (challenge_.empty()) {
      return true;
    }
    std::string auth = req.get_header_value("Authorization");
    if (bearer_ && auth.starts_with("Bearer tok-") && !rejected_.contains(auth.substr(7))) {
      return true;
    }
    res.status = 401;
    res.set_header("WWW-Authenticate", challenge_);
    res.set_content(R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})",
                    "application/json");
    return false;
  }

  int port_;
  httplib::Server srv_;
  std::thread thread_;
  std::mutex mu_;
  std::map<std::string, std::string> manifests_;
  std::map<std::string, std::string> blobs_;
  std::set<std::string> drop_once_;
  std::set<std::string> stall_;
  std::atomic<bool> released_{false};
  std::map<std::string, int> blob_requests_;
  std::string content_digest_;
  std::string challenge_;
  bool bearer_ = false;
  std::string token_basic_;
  std::set<std::string> rejected_;
  int token_requests_ = 0;
  std::vector<std::string> scopes_;
  int unavailable_ = 0;
  int manifest_requests_ = 0;
};

class FakeRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = mydocker::testing::open_store(tmp_.path() + "/store");
    ASSERT_TRUE(store_);
  }
  std::unique_ptr<Client> client(std::optional<Credentials> creds = std::nullopt, int retries = 3) {
    RegistryOptions o;
    o.retries = retries;
    o.retry_backoff = std::chrono::milliseconds(5);
    o.certs_dir = "/nonexistent";
    if (creds) {
      o.credentials = [creds](const std::string&) { return creds; };
    }
    return std::make_unique<Client>(fake_.host(), o);
  }
  Reference ref(const std::string& tail) {
    return *Reference::parse(fake_.host() + "/fake" + tail);
  }
  void expect_nothing_stored() {
    EXPECT_TRUE(store_->images().images().empty());
    EXPECT_TRUE(store_->layers().list().empty());
    auto blobs = store_->content().list();
    ASSERT_TRUE(blobs);
    EXPECT_TRUE(blobs->empty());
    EXPECT_TRUE(empty_dir(tmp_.path() + "/store/content/ingest"));
  }
  static bool empty_dir(const std::string& dir) {
    std::error_code ec;
    return std::filesystem::is_empty(dir, ec) && !ec;
  }

  TempDir tmp_;
  FakeRegistry fake_;
  std::unique_ptr<Images> store_;
};

TEST_F(FakeRegistryTest, LayerWithWrongDigestIsRefusedAndNothingIsKept) {
  auto img = mydocker::testing::make_image({"good", "tampered"});
  fake_.serve(img, "v1");
  // Same size, other bytes: the registry serves a layer that is not the one named.
  std::string evil = img.layer_blobs[1];
  evil[evil.size() - 9] ^= 0x55;
  Digest named = Digest::sha256_of(img.layer_blobs[1]);
  fake_.set_blob(named, evil);
  auto c = client();
  auto r = pull(*store_, *c, ref(":v1"));
  ASSERT_FALSE(r);
  EXPECT_NE(
      r.error().message().find("filesystem layer verification failed for digest " + named.str()),
      std::string::npos)
      << r.error().message();
  expect_nothing_stored();
}

TEST_F(FakeRegistryTest, LayerDamagedMidStreamIsAVerificationErrorNotADecompressorOne) {
  // Large enough that the damage is met by the inflater long before the blob's end.
  auto img = mydocker::testing::make_image({"good", "damaged"}, 512 * 1024);
  fake_.serve(img, "v1");
  std::string bad = img.layer_blobs[1];
  bad[bad.size() / 3] ^= 0x55;
  bad[bad.size() / 3 + 1] ^= 0x33;
  Digest named = Digest::sha256_of(img.layer_blobs[1]);
  fake_.set_blob(named, bad);
  auto c = client();
  auto r = pull(*store_, *c, ref(":v1"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), base::ErrorCode::InvalidArgument);
  EXPECT_NE(
      r.error().message().find("filesystem layer verification failed for digest " + named.str()),
      std::string::npos)
      << r.error().message();
  expect_nothing_stored();
}

TEST_F(FakeRegistryTest, ManifestDigestMismatchIsRefused) {
  auto img = mydocker::testing::make_image({"m"});
  fake_.serve(img, "v1");
  fake_.set_content_digest("sha256:" + std::string(64, 'b'));
  auto c = client();
  auto r = pull(*store_, *c, ref(":v1"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), base::ErrorCode::InvalidArgument);
  EXPECT_NE(r.error().message().find("manifest verification failed"), std::string::npos)
      << r.error().message();
  expect_nothing_stored();
}

TEST_F(FakeRegistryTest, DroppedConnectionResumesTheBlob) {
  auto img = mydocker::testing::make_image({"resumed-layer-with-some-bytes"});
  fake_.serve(img, "v1");
  Digest layer = Digest::sha256_of(img.layer_blobs[0]);
  fake_.drop_once(layer);
  auto c = client();
  auto r = pull(*store_, *c, ref(":v1"));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->id, img.id);
  EXPECT_EQ(fake_.blob_requests(layer), 2);
}

TEST_F(FakeRegistryTest, ServerErrorsAreRetriedWithBackoff) {
  auto img = mydocker::testing::make_image({"busy"});
  fake_.serve(img, "v1");
  fake_.unavailable(2);
  auto c = client();
  auto r = pull(*store_, *c, ref(":v1"));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(fake_.manifest_requests(), 3);

  fake_.unavailable(10);
  auto gives_up = client(std::nullopt, 1)->get_manifest("fake", "v1");
  ASSERT_FALSE(gives_up);
  EXPECT_EQ(gives_up.error().code(), base::ErrorCode::Unavailable);
  EXPECT_EQ(gives_up.error().message(), "received unexpected HTTP status: 503 Service Unavailable");
}

TEST_F(FakeRegistryTest, InterruptedPullLeavesNothingAndARestartCompletes) {
  auto img = mydocker::testing::make_image({"first", "second-is-cut"});
  fake_.serve(img, "v1");
  fake_.drop_once(Digest::sha256_of(img.layer_blobs[1]));
  auto no_retry = client(std::nullopt, 0);
  auto cut = pull(*store_, *no_retry, ref(":v1"));
  ASSERT_FALSE(cut);
  expect_nothing_stored();
  // As after a daemon restart: the store reopens clean and the pull starts over.
  store_.reset();
  store_ = mydocker::testing::open_store(tmp_.path() + "/store");
  ASSERT_TRUE(store_);
  expect_nothing_stored();
  auto again = pull(*store_, *client(), ref(":v1"));
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(again->id, img.id);
}

TEST_F(FakeRegistryTest, CancelledPullStopsMidDownloadLeavesNothingAndAPullAfterCompletes) {
  // Two 2 MiB layers; the pull is cancelled once 512 KiB of a layer have arrived.
  auto img = mydocker::testing::make_image({"cancel-a", "cancel-b"}, 2 << 20);
  fake_.serve(img, "v1");
  std::atomic<bool> stop{false};
  std::atomic<int> polls{0};
  PullOptions o;
  o.progress = [&](const ProgressEvent& e) {
    if (e.status == "Downloading" && e.current >= (512 << 10)) {
      stop = true;
    }
  };
  o.cancelled = [&] {
    ++polls;
    return stop.load();
  };
  auto c = client();
  auto r = pull(*store_, *c, ref(":v1"), o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), base::ErrorCode::Cancelled) << r.error().to_string();
  EXPECT_EQ(r.error().message(), "pull cancelled");
  EXPECT_GT(polls.load(), 4);  // polled per block, not once
  expect_nothing_stored();
  EXPECT_TRUE(empty_dir(tmp_.path() + "/store/layers/tmp"));

  // Cancelled before it starts: nothing is asked of the registry.
  int manifests = fake_.manifest_requests();
  PullOptions at_once;
  at_once.cancelled = [] { return true; };
  auto none = pull(*store_, *c, ref(":v1"), at_once);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), base::ErrorCode::Cancelled);
  EXPECT_EQ(fake_.manifest_requests(), manifests);

  auto again = pull(*store_, *c, ref(":v1"));
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(again->id, img.id);
  EXPECT_EQ(again->layers_downloaded, 2u);
}

TEST_F(FakeRegistryTest, KilledPullLeavesNothingAfterRestartAndThePullCompletes) {
  auto img = mydocker::testing::make_image({"killed-a", "killed-b"}, 1 << 20);
  fake_.serve(img, "v1");
  fake_.stall_once(Digest::sha256_of(img.layer_blobs[1]));
  store_.reset();
  std::string root = tmp_.path() + "/store";
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The puller: blocks on the stalled blob until killed.
    auto s = mydocker::testing::open_store(root);
    auto c = client();
    auto r = s ? pull(*s, *c, ref(":v1"))
               : base::Result<PullResult>(base::make_error(base::ErrorCode::Internal, "no store"));
    ::_exit(r ? 0 : 3);
  }
  // Wait until the stalled blob's first half is in an ingest file, then kill -9.
  bool partial = false;
  for (int i = 0; i < 2000 && !partial; ++i) {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(root + "/content/ingest", ec)) {
      partial = partial || e.file_size(ec) >= (256u << 10);
    }
    if (!partial) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  ::kill(child, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  fake_.release();
  ASSERT_TRUE(partial) << "the child never got half a blob";
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_FALSE(empty_dir(root + "/content/ingest"));  // the kill left a partial blob

  // Restart: the store's recovery drops the partial blob, unpacks and references.
  store_ = mydocker::testing::open_store(root);
  ASSERT_TRUE(store_);
  expect_nothing_stored();
  EXPECT_TRUE(empty_dir(root + "/layers/tmp"));
  auto again = pull(*store_, *client(), ref(":v1"));
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(again->id, img.id);
}

TEST_F(FakeRegistryTest, TruncatedOrMissingBlobIsRefused) {
  auto img = mydocker::testing::make_image({"present", "absent"});
  fake_.serve(img, "v1");
  auto c = client();
  Digest second = Digest::sha256_of(img.layer_blobs[1]);
  fake_.set_blob(second, img.layer_blobs[1].substr(0, 10));  // always ends early
  auto r = pull(*store_, *c, ref(":v1"));
  ASSERT_FALSE(r);
  EXPECT_NE(
      r.error().message().find("filesystem layer verification failed for digest " + second.str()),
      std::string::npos)
      << r.error().message();
  expect_nothing_stored();

  fake_.remove_blob(second);
  auto missing = pull(*store_, *c, ref(":v1"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(), "unknown blob");
  expect_nothing_stored();
}

TEST_F(FakeRegistryTest, MalformedChallengeIsAClearError) {
  fake_.set_challenge("Bearer realm=\"http://127.0.0.1/token");
  auto c = client();
  auto r = pull(*store_, *c, ref(":v1"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("malformed WWW-Authenticate header"), std::string::npos)
      << r.error().message();
  EXPECT_NE(r.error().message().find("unterminated quoted value for `realm`"), std::string::npos)
      << r.error().message();
}

TEST_F(FakeRegistryTest, BearerTokenIsFetchedPerScopeCachedAndRenewedWhenRejected) {
  auto img = mydocker::testing::make_image({"t1", "t2"});
  fake_.serve(img, "v1");
  fake_.require_token();
  auto c = client();
  auto r = pull(*store_, *c, ref(":v1"));
  ASSERT_TRUE(r) << r.error().to_string();
  // One token for repository:fake:pull served the manifest, config and both layers.
  EXPECT_EQ(fake_.token_requests(), 1);
  EXPECT_EQ(fake_.scopes(), std::vector<std::string>{"repository:fake:pull"});

  // The registry stops accepting it (expired): the client gets a new one and goes on.
  fake_.reject_token("tok-1");
  auto tags_or_manifest = c->get_manifest("fake", "v1");
  ASSERT_TRUE(tags_or_manifest) << tags_or_manifest.error().to_string();
  EXPECT_EQ(fake_.token_requests(), 2);
}

TEST_F(FakeRegistryTest, TokenServerRefusingCredentialsIsUnauthorized) {
  auto img = mydocker::testing::make_image({"u"});
  fake_.serve(img, "v1");
  fake_.require_token("Basic " + base64_encode("bob:right"));
  auto wrong = client(Credentials{"bob", "wrong", ""});
  auto r = pull(*store_, *wrong, ref(":v1"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), base::ErrorCode::Unauthorized);
  EXPECT_NE(r.error().message().find("unauthorized: incorrect username or password"),
            std::string::npos)
      << r.error().message();
  auto login = wrong->login();
  ASSERT_FALSE(login);
  EXPECT_EQ(login.error().message(),
            fmt::format("login attempt to http://{}/v2/ failed with status: 401 Unauthorized",
                        fake_.host()));
  expect_nothing_stored();

  auto right = client(Credentials{"bob", "right", ""});
  EXPECT_TRUE(right->login());
  auto ok = pull(*store_, *right, ref(":v1"));
  ASSERT_TRUE(ok) << ok.error().to_string();
}

TEST_F(FakeRegistryTest, UnreachableRegistryIsDockersDialError) {
  int port = mydocker::testing::free_port();
  RegistryOptions o;
  o.retry_backoff = std::chrono::milliseconds(1);
  Client c("127.0.0.1:" + std::to_string(port), o);
  auto r = c.ping();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(),
            fmt::format("Get \"http://127.0.0.1:{0}/v2/\": dial tcp 127.0.0.1:{0}: connect: "
                        "connection refused",
                        port));
}

}  // namespace
}  // namespace mydocker::image::registry
