// SPDX-License-Identifier: Apache-2.0
// Pull mirrors (image/registry/mirrors.h) against Debian's docker-registry on 127.0.0.1: a
// mirror lacking the image falls back to the registry, a mirror holding it serves it alone,
// unreachable mirrors are skipped in order, docker.io pulls use `registry-mirrors`, and a
// mirror serving bad data stops the pull (no fallback). Requests are counted in each
// registry's access log. No root, no outside address.
#include "image/registry/mirrors.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <map>
#include <thread>

#include "image/registry/push.h"
#include "tests/integration/registry/registry_server.h"
#include "tests/integration/registry/test_images.h"
#include "tests/support/busybox_rootfs.h"

namespace mydocker::image::registry {
namespace {

using mydocker::testing::RegistryServer;
using mydocker::testing::TempDir;
using reference::Reference;

Reference ref_of(const std::string& text) {
  auto r = Reference::parse(text);
  EXPECT_TRUE(r) << text << ": " << r.error().to_string();
  return *r;
}

RegistryOptions fast_options() {
  RegistryOptions o;
  o.retry_backoff = std::chrono::milliseconds(10);
  o.retries = 1;
  o.certs_dir = "/nonexistent";
  // Nothing may leave the machine, even by mistake: every proxied request goes to a closed
  // loopback port, loopback registries are never proxied.
  o.proxy = ProxyConfig{"http://127.0.0.1:1", "http://127.0.0.1:1", ""};
  return o;
}

int manifest_gets(const RegistryServer& s, const std::string& repo) {
  return s.count_log("\"GET /v2/" + repo + "/manifests/");
}
int blob_gets(const RegistryServer& s, const std::string& repo) {
  return s.count_log("\"GET /v2/" + repo + "/blobs/sha256:");
}

class MirrorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    std::filesystem::create_directories(tmp_.path() + "/origin");
    std::filesystem::create_directories(tmp_.path() + "/mirror");
    auto origin = RegistryServer::start(tmp_.path() + "/origin", {}, &why);
    if (!origin) {
      GTEST_SKIP() << why;
    }
    origin_.emplace(std::move(*origin));
    auto mirror = RegistryServer::start(tmp_.path() + "/mirror", {}, &why);
    ASSERT_TRUE(mirror) << why;
    mirror_.emplace(std::move(*mirror));
    src_ = mydocker::testing::open_store(tmp_.path() + "/src");
    dst_ = mydocker::testing::open_store(tmp_.path() + "/dst");
    ASSERT_TRUE(src_ && dst_);
    img_ = mydocker::testing::make_image({"mirror-base", "mirror-app"});
  }
  // Pushes img_ as <host>/test/app:v1 (host: a registry's "127.0.0.1:port").
  void push_to(const std::string& host, const std::string& path = "test/app:v1") {
    std::string r = host + "/" + path;
    mydocker::testing::load_image(*src_, img_, r);
    Client c(host, fast_options());
    auto pushed = push(*src_, c, ref_of(r));
    ASSERT_TRUE(pushed) << pushed.error().to_string();
  }
  bool stored_nothing() {
    auto blobs = dst_->content().list();
    return dst_->images().images().empty() && blobs && blobs->empty();
  }

  TempDir tmp_;
  std::optional<RegistryServer> origin_;
  std::optional<RegistryServer> mirror_;
  std::unique_ptr<Images> src_;
  std::unique_ptr<Images> dst_;
  mydocker::testing::TestImage img_;
};

TEST(MirrorConfig, MirrorUrlsAreCheckedAndNormalised) {
  EXPECT_EQ(*normalize_mirror("https://mirror.example.com/"), "https://mirror.example.com");
  EXPECT_EQ(*normalize_mirror("http://10.0.0.2:5000/prefix//"), "http://10.0.0.2:5000/prefix");
  auto bad = normalize_mirror("ftp://mirror");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), base::ErrorCode::InvalidArgument);
  EXPECT_EQ(bad.error().message(),
            "invalid mirror: unsupported scheme \"ftp\" in \"ftp://mirror\"");
  EXPECT_FALSE(normalize_mirror("mirror.example.com"));
  EXPECT_FALSE(normalize_mirror("https://user:pw@mirror.example.com"));
  EXPECT_FALSE(normalize_mirror("https://mirror.example.com/?x=1"));
  EXPECT_FALSE(normalize_mirror("https:///v2"));

  RegistryOptions o;
  o.mirrors = {"https://hub-mirror"};
  o.host_mirrors["quay.io"] = {"https://quay-mirror", "http://quay-mirror-2"};
  EXPECT_EQ(mirrors_for("docker.io", o), std::vector<std::string>{"https://hub-mirror"});
  EXPECT_EQ(mirrors_for("quay.io", o),
            (std::vector<std::string>{"https://quay-mirror", "http://quay-mirror-2"}));
  EXPECT_TRUE(mirrors_for("ghcr.io", o).empty());

  EXPECT_TRUE(mirror_fallback(base::Error(base::ErrorCode::NotFound, "manifest unknown")));
  EXPECT_TRUE(mirror_fallback(base::Error(base::ErrorCode::Unavailable, "503")));
  EXPECT_TRUE(mirror_fallback(base::Error(base::ErrorCode::Unauthorized, "unauthorized")));
  EXPECT_TRUE(mirror_fallback(base::Error(base::ErrorCode::Internal, "connection refused")));
  EXPECT_FALSE(mirror_fallback(
      base::Error(base::ErrorCode::InvalidArgument, "filesystem layer verification failed")));
  EXPECT_FALSE(mirror_fallback(base::Error(base::ErrorCode::Cancelled, "cancelled")));
}

TEST_F(MirrorTest, MirrorLackingTheImageFallsBackToTheRegistry) {
  push_to(origin_->host());
  RegistryOptions o = fast_options();
  o.host_mirrors[origin_->host()] = {"http://" + mirror_->host()};
  std::vector<MirrorAttempt> attempts;
  auto r = pull_with_mirrors(*dst_, o, ref_of(origin_->host() + "/test/app:v1"), {}, &attempts);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->id, img_.id);
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0].endpoint, "http://" + mirror_->host());
  EXPECT_NE(attempts[0].error.find("manifest unknown"), std::string::npos) << attempts[0].error;
  EXPECT_EQ(attempts[1].endpoint, "");
  EXPECT_EQ(attempts[1].error, "");
  // The mirror was asked for the manifest (and answered 404); every blob came from the
  // registry: the config and two layers.
  EXPECT_EQ(manifest_gets(*mirror_, "test/app"), 1) << mirror_->log();
  EXPECT_EQ(blob_gets(*mirror_, "test/app"), 0);
  EXPECT_EQ(manifest_gets(*origin_, "test/app"), 1) << origin_->log();
  EXPECT_EQ(blob_gets(*origin_, "test/app"), 3) << origin_->log();
}

TEST_F(MirrorTest, MirrorHoldingTheImageServesItAndTheRegistryIsNotAsked) {
  push_to(mirror_->host());
  // The registry itself is down: the pull needs only the mirror.
  std::string down = "127.0.0.1:" + std::to_string(mydocker::testing::free_port());
  RegistryOptions o = fast_options();
  o.host_mirrors[down] = {"http://" + mirror_->host() + "/"};
  std::vector<MirrorAttempt> attempts;
  auto r = pull_with_mirrors(*dst_, o, ref_of(down + "/test/app:v1"), {}, &attempts);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->id, img_.id);
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(blob_gets(*mirror_, "test/app"), 3) << mirror_->log();
  // The image is named as the user asked, with the registry's RepoDigest.
  auto id = dst_->images().resolve(down + "/test/app:v1");
  ASSERT_TRUE(id) << id.error().to_string();
  EXPECT_EQ(*id, img_.id);
}

TEST_F(MirrorTest, UnreachableMirrorsAreSkippedInOrderThenTheRegistryServes) {
  push_to(origin_->host());
  RegistryOptions o = fast_options();
  std::string dead1 = "http://127.0.0.1:" + std::to_string(mydocker::testing::free_port());
  std::string dead2 = "https://127.0.0.1:" + std::to_string(mydocker::testing::free_port());
  o.host_mirrors[origin_->host()] = {dead1, dead2};
  std::vector<MirrorAttempt> attempts;
  auto r = pull_with_mirrors(*dst_, o, ref_of(origin_->host() + "/test/app:v1"), {}, &attempts);
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(attempts.size(), 3u);
  EXPECT_EQ(attempts[0].endpoint, dead1);
  EXPECT_NE(attempts[0].error.find("connect: connection refused"), std::string::npos)
      << attempts[0].error;
  EXPECT_EQ(attempts[1].endpoint, dead2);
  EXPECT_NE(attempts[1].error.find("connection refused"), std::string::npos) << attempts[1].error;
  EXPECT_EQ(attempts[2].error, "");
}

TEST_F(MirrorTest, EveryEndpointFailingGivesTheRegistrysOwnError) {
  push_to(origin_->host());
  RegistryOptions o = fast_options();
  o.host_mirrors[origin_->host()] = {"http://" + mirror_->host()};
  auto r = pull_with_mirrors(*dst_, o, ref_of(origin_->host() + "/test/app:nosuchtag"), {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), base::ErrorCode::NotFound);
  EXPECT_EQ(r.error().message(),
            "manifest for " + origin_->host() +
                "/test/app:nosuchtag not found: manifest unknown: manifest unknown");
  EXPECT_TRUE(stored_nothing());
}

TEST_F(MirrorTest, DockerHubPullsUseRegistryMirrors) {
  // docker.io/library/mirrored:v1 exists only on the mirror (as a pull-through cache holds it).
  push_to(mirror_->host(), "library/mirrored:v1");
  RegistryOptions o = fast_options();
  o.mirrors = {"http://" + mirror_->host()};
  std::vector<MirrorAttempt> attempts;
  auto r = pull_with_mirrors(*dst_, o, ref_of("mirrored:v1"), {}, &attempts);
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(manifest_gets(*mirror_, "library/mirrored"), 1) << mirror_->log();
  auto id = dst_->images().resolve("mirrored:v1");
  ASSERT_TRUE(id) << id.error().to_string();
  EXPECT_EQ(*id, img_.id);
}

// A mirror that serves the manifest but a corrupted layer: the pull stops with the
// verification error and the registry is never asked.
TEST_F(MirrorTest, MirrorServingBadDataStopsThePullWithoutFallback) {
  push_to(origin_->host());
  httplib::Server bad;
  std::string corrupt = img_.layer_blobs[0];
  corrupt[corrupt.size() / 2] ^= 0x5a;
  std::map<std::string, std::string> blobs = {
      {Digest::sha256_of(img_.config).str(), img_.config},
      {Digest::sha256_of(img_.layer_blobs[0]).str(), corrupt},
      {Digest::sha256_of(img_.layer_blobs[1]).str(), img_.layer_blobs[1]}};
  bad.Get("/v2/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{}", "application/json");
  });
  bad.Get(R"(/v2/test/app/manifests/(.+))", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(img_.manifest, "application/vnd.docker.distribution.manifest.v2+json");
  });
  bad.Get(R"(/v2/test/app/blobs/(sha256:[0-9a-f]+))",
          [&](const httplib::Request& req, httplib::Response& res) {
            auto it = blobs.find(req.matches[1].str());
            if (it == blobs.end()) {
              res.status = 404;
              return;
            }
            res.set_content(it->second, "application/octet-stream");
          });
  int port = mydocker::testing::free_port();
  std::thread t([&] { bad.listen("127.0.0.1", port); });
  ASSERT_TRUE(mydocker::testing::wait_for_port(port, 5000));
  RegistryOptions o = fast_options();
  o.host_mirrors[origin_->host()] = {"http://127.0.0.1:" + std::to_string(port)};
  std::vector<MirrorAttempt> attempts;
  auto r = pull_with_mirrors(*dst_, o, ref_of(origin_->host() + "/test/app:v1"), {}, &attempts);
  bad.stop();
  t.join();
  ASSERT_FALSE(r);
  // The corruption is caught by gzip's checksum or the digest check, whichever reads it first.
  EXPECT_EQ(r.error().code(), base::ErrorCode::InvalidArgument) << r.error().to_string();
  EXPECT_EQ(attempts.size(), 1u);
  EXPECT_EQ(manifest_gets(*origin_, "test/app"), 0) << origin_->log();
  EXPECT_TRUE(stored_nothing());
}

}  // namespace
}  // namespace mydocker::image::registry
