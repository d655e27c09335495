// SPDX-License-Identifier: Apache-2.0
// E2e: `POST /images/create?fromImage=` on a private mydockerd, driven by the real docker CLI
// (`docker pull`) and raw HTTP, against docker-registry on 127.0.0.1 holding an image pushed
// by the registry library. Needs what the daemon fixture needs (root, overlay).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "image/registry/client.h"
#include "image/registry/push.h"
#include "tests/integration/daemon/daemon_fixture.h"
#include "tests/integration/registry/registry_server.h"
#include "tests/integration/registry/test_images.h"
#include "tests/support/busybox_rootfs.h"

namespace mydocker::testing::e2e {
namespace {

class RegistryPullE2e : public DaemonE2e {
 protected:
  void SetUp() override {
    DaemonE2e::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    std::string why;
    auto s = RegistryServer::start(tmp_.path(), {}, &why);
    if (!s) {
      GTEST_SKIP() << why;
    }
    server_.emplace(std::move(*s));
    auto store = open_store(tmp_.path() + "/src");
    ASSERT_TRUE(store);
    img_ = make_image({"e2e-base", "e2e-app"});
    ref_ = server_->host() + "/test/app:v1";
    load_image(*store, img_, ref_);
    image::registry::Client c(server_->host(), image::registry::RegistryOptions{});
    auto pushed = image::registry::push(*store, c, *image::reference::Reference::parse(ref_));
    ASSERT_TRUE(pushed) << pushed.error().to_string();
    digest_ = pushed->digest.str();
  }

  TempDir tmp_;
  std::optional<RegistryServer> server_;
  TestImage img_;
  std::string ref_;
  std::string digest_;
};

TEST_F(RegistryPullE2e, DockerCliPullsAndTheImageHasItsRepoDigest) {
  Output out = daemon_->docker({"pull", ref_});
  ASSERT_EQ(out.status, 0) << out.all() << daemon_->log();
  EXPECT_NE(out.out.find("v1: Pulling from test/app"), std::string::npos) << out.out;
  EXPECT_NE(out.out.find("Digest: " + digest_), std::string::npos) << out.out;
  EXPECT_NE(out.out.find("Status: Downloaded newer image for " + ref_), std::string::npos)
      << out.out;
  Output id =
      daemon_->docker({"image", "inspect", "--format", "{{.Id}} {{json .RepoDigests}}", ref_});
  ASSERT_EQ(id.status, 0) << id.all();
  EXPECT_EQ(trim_nl(id.out),
            img_.id.str() + " [\"" + server_->host() + "/test/app@" + digest_ + "\"]");

  Output again = daemon_->docker({"pull", ref_});
  ASSERT_EQ(again.status, 0) << again.all();
  EXPECT_NE(again.out.find("Status: Image is up to date for " + ref_), std::string::npos)
      << again.out;
}

TEST_F(RegistryPullE2e, MydockerCliPullPrintsDockersLines) {
  std::string by_digest = server_->host() + "/test/app@" + digest_;
  Output out = daemon_->cli({"pull", by_digest});
  ASSERT_EQ(out.status, 0) << out.all() << daemon_->log();
  EXPECT_NE(out.out.find(": Pull complete\n"), std::string::npos) << out.out;
  EXPECT_NE(out.out.find("Status: Downloaded newer image for " + by_digest + "\n"),
            std::string::npos)
      << out.out;
  EXPECT_TRUE(out.out.ends_with(by_digest + "\n")) << out.out;
  Output quiet = daemon_->cli({"image", "pull", "-q", ref_});
  ASSERT_EQ(quiet.status, 0) << quiet.all();
  EXPECT_EQ(quiet.out, ref_ + "\n");
  Output missing = daemon_->cli({"pull", server_->host() + "/test/nosuchrepo"});
  EXPECT_EQ(missing.status, 1);
  EXPECT_EQ(missing.out, "Using default tag: latest\n");
  EXPECT_NE(missing.err.find("manifest for " + server_->host() +
                             "/test/nosuchrepo:latest not found: manifest unknown"),
            std::string::npos)
      << missing.err;
}

TEST_F(RegistryPullE2e, DockerCliPushLoginAndDistributionInspect) {
  ASSERT_EQ(daemon_->docker({"pull", ref_}).status, 0);
  std::string copy = server_->host() + "/test/copy:v2";
  ASSERT_EQ(daemon_->docker({"tag", ref_, copy}).status, 0);
  Output pushed = daemon_->docker({"push", copy});
  ASSERT_EQ(pushed.status, 0) << pushed.all() << daemon_->log();
  EXPECT_NE(pushed.out.find("The push refers to repository [" + server_->host() + "/test/copy]"),
            std::string::npos)
      << pushed.out;
  // The blobs are in test/app already: mounted, not uploaded again.
  EXPECT_NE(pushed.out.find("Mounted from test/app"), std::string::npos) << pushed.out;
  EXPECT_NE(
      pushed.out.find("v2: digest: " + digest_ + " size: " + std::to_string(img_.manifest.size())),
      std::string::npos)
      << pushed.out;
  Output missing = daemon_->docker({"push", server_->host() + "/test/copy:nosuchtag"});
  EXPECT_NE(missing.status, 0);
  EXPECT_NE(missing.all().find("tag does not exist: " + server_->host() + "/test/copy:nosuchtag"),
            std::string::npos)
      << missing.all();

  RunOptions login_opts;
  login_opts.env["DOCKER_CONFIG"] = tmp_.path() + "/docker-config";
  Output login =
      daemon_->docker({"login", "-u", "anyone", "-p", "anything", server_->host()}, login_opts);
  EXPECT_EQ(login.status, 0) << login.all();
  EXPECT_NE(login.out.find("Login Succeeded"), std::string::npos) << login.all();

  HttpResponse d = daemon_->http("GET", "/distribution/" + copy + "/json");
  ASSERT_EQ(d.status, 200) << d.body;
  auto j = nlohmann::json::parse(d.body, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << d.body;
  EXPECT_EQ(j["Descriptor"]["digest"], digest_);
  EXPECT_EQ(j["Descriptor"]["mediaType"], "application/vnd.docker.distribution.manifest.v2+json");
  EXPECT_EQ(j["Platforms"], nlohmann::json::parse(R"([{"architecture":"amd64","os":"linux"}])"));
}

TEST_F(RegistryPullE2e, ApiStreamsProgressAndAnswersUnknownTagWith404) {
  HttpResponse r =
      daemon_->http("POST", "/images/create?fromImage=" + server_->host() + "/test/app&tag=v1");
  ASSERT_EQ(r.status, 200) << r.body;
  std::vector<std::string> statuses;
  size_t start = 0;
  while (start < r.body.size()) {
    size_t end = r.body.find("\r\n", start);
    ASSERT_NE(end, std::string::npos) << "every message ends with \\r\\n";
    auto j = nlohmann::json::parse(r.body.substr(start, end - start), nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << r.body;
    statuses.push_back(j.value("status", ""));
    start = end + 2;
  }
  ASSERT_GE(statuses.size(), 4u) << r.body;
  EXPECT_EQ(statuses.front(), "Pulling from test/app");
  EXPECT_EQ(statuses.back(), "Status: Downloaded newer image for " + ref_);
  EXPECT_NE(r.body.find("\"status\":\"Pull complete\""), std::string::npos) << r.body;

  HttpResponse missing = daemon_->http(
      "POST", "/images/create?fromImage=" + server_->host() + "/test/app&tag=nosuchtag");
  EXPECT_EQ(missing.status, 404) << missing.body;
  EXPECT_EQ(missing.body, "{\"message\":\"manifest for " + server_->host() +
                              "/test/app:nosuchtag not found: manifest unknown: manifest "
                              "unknown\"}\n");
}

}  // namespace
}  // namespace mydocker::testing::e2e
