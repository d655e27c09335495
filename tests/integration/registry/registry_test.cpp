// SPDX-License-Identifier: Apache-2.0
// Pull and push against a real registry (Debian's docker-registry on 127.0.0.1), plain HTTP,
// htpasswd Basic auth and TLS with a CA made here; bad inputs from a fake registry. No root, no
// outside address.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>

#include "image/content/manifest.h"
#include "image/layers/source.h"
#include "image/registry/client.h"
#include "image/registry/pull.h"
#include "image/registry/push.h"
#include "runtime/base/file.h"
#include "tests/integration/registry/registry_server.h"
#include "tests/integration/registry/test_images.h"
#include "tests/support/busybox_rootfs.h"

namespace mydocker::image::registry {
namespace {

using mydocker::testing::RegistryConfig;
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
  o.certs_dir = "/nonexistent";
  return o;
}

std::vector<std::string> statuses(const std::vector<ProgressEvent>& events, const std::string& id) {
  std::vector<std::string> out;
  for (const auto& e : events) {
    if (e.id == id) {
      out.push_back(e.status);
    }
  }
  return out;
}

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    auto s = RegistryServer::start(tmp_.path(), config(), &why);
    if (!s) {
      GTEST_SKIP() << why;
    }
    server_.emplace(std::move(*s));
    src_ = mydocker::testing::open_store(tmp_.path() + "/src");
    dst_ = mydocker::testing::open_store(tmp_.path() + "/dst");
    ASSERT_TRUE(src_ && dst_);
  }
  virtual RegistryConfig config() { return {}; }

  std::string name(const std::string& path_tag) const { return server_->host() + "/" + path_tag; }
  std::unique_ptr<Client> client(RegistryOptions o = fast_options()) {
    return std::make_unique<Client>(server_->host(), std::move(o));
  }
  int blob_gets(const std::string& repo) const {
    return server_->count_log("\"GET /v2/" + repo + "/blobs/sha256:");
  }

  TempDir tmp_;
  std::optional<RegistryServer> server_;
  std::unique_ptr<Images> src_;
  std::unique_ptr<Images> dst_;
};

TEST_F(RegistryTest, PushThenPullBackGivesSameImageAndRepoDigest) {
  auto img = mydocker::testing::make_image({"base", "app"});
  mydocker::testing::load_image(*src_, img, name("test/app:v1"));
  auto c = client();
  std::vector<ProgressEvent> push_events;
  PushOptions po;
  po.progress = [&](const ProgressEvent& e) { push_events.push_back(e); };
  auto pushed = push(*src_, *c, ref_of(name("test/app:v1")), po);
  ASSERT_TRUE(pushed) << pushed.error().to_string();
  EXPECT_EQ(pushed->digest, Digest::sha256_of(img.manifest));  // the stored bytes, unchanged
  EXPECT_EQ(pushed->blobs_uploaded, 3u);
  EXPECT_EQ(pushed->digest_line(),
            fmt::format("v1: digest: {} size: {}", pushed->digest.str(), img.manifest.size()));
  EXPECT_EQ(push_events.front().status,
            fmt::format("The push refers to repository [{}]", name("test/app")));
  std::string l0(Digest::sha256_of(img.layer_blobs[0]).short_id());
  EXPECT_EQ(statuses(push_events, l0).front(), "Preparing");
  EXPECT_EQ(statuses(push_events, l0).back(), "Pushed");
  auto src_rec = src_->images().get(img.id);
  ASSERT_TRUE(src_rec);
  EXPECT_EQ(src_rec->repo_digests(),
            std::vector<std::string>{name("test/app@") + pushed->digest.str()});

  std::vector<ProgressEvent> events;
  PullOptions opts;
  opts.progress = [&](const ProgressEvent& e) { events.push_back(e); };
  auto pulled = pull(*dst_, *c, ref_of(name("test/app:v1")), opts);
  ASSERT_TRUE(pulled) << pulled.error().to_string();
  EXPECT_EQ(pulled->id, img.id);
  EXPECT_EQ(pulled->digest, pushed->digest);
  EXPECT_EQ(pulled->layers_downloaded, 2u);
  EXPECT_FALSE(pulled->up_to_date);
  auto rec = dst_->images().get(name("test/app:v1"));
  ASSERT_TRUE(rec) << rec.error().to_string();
  EXPECT_EQ(rec->id, img.id);
  EXPECT_EQ(rec->repo_tags(), std::vector<std::string>{name("test/app:v1")});
  EXPECT_EQ(rec->repo_digests(),
            std::vector<std::string>{name("test/app@") + pushed->digest.str()});
  // The layers are unpacked and the blobs kept (save serves them).
  auto top = Images::top_layer(rec->config);
  ASSERT_TRUE(top);
  auto lineage = dst_->layers().lineage(*top);
  ASSERT_TRUE(lineage);
  ASSERT_EQ(lineage->size(), 2u);
  auto app = base::read_file(dst_->layers().diff_path(lineage->at(0).chain_id) + "/data/app");
  ASSERT_TRUE(app);
  EXPECT_EQ(*app, "app\n");
  for (const auto& b : img.layer_blobs) {
    EXPECT_TRUE(dst_->content().exists(Digest::sha256_of(b)));
  }
  EXPECT_EQ(events.front().status, "Pulling from test/app");
  EXPECT_EQ(events.front().id, "v1");
  EXPECT_EQ(statuses(events, l0).front(), "Pulling fs layer");
  EXPECT_EQ(statuses(events, l0).back(), "Pull complete");
  EXPECT_EQ(events.back().status, "Status: Downloaded newer image for " + name("test/app:v1"));
  EXPECT_EQ(events[events.size() - 2].status, "Digest: " + pushed->digest.str());

  // Pushing again finds every blob there.
  auto again = push(*src_, *c, ref_of(name("test/app:v1")));
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(again->blobs_uploaded, 0u);
  EXPECT_EQ(again->blobs_existing, 3u);
  EXPECT_EQ(again->digest, pushed->digest);

  // Pulling again is up to date and downloads nothing.
  int gets = blob_gets("test/app");
  auto second = pull(*dst_, *c, ref_of(name("test/app:v1")));
  ASSERT_TRUE(second) << second.error().to_string();
  EXPECT_TRUE(second->up_to_date);
  EXPECT_EQ(second->status_line(), "Status: Image is up to date for " + name("test/app:v1"));
  EXPECT_EQ(blob_gets("test/app"), gets);

  auto tags = c->list_tags("test/app");
  ASSERT_TRUE(tags) << tags.error().to_string();
  EXPECT_EQ(*tags, std::vector<std::string>{"v1"});
}

TEST_F(RegistryTest, PullByDigest) {
  auto img = mydocker::testing::make_image({"d1"});
  mydocker::testing::load_image(*src_, img, name("test/dig:v1"));
  auto c = client();
  auto pushed = push(*src_, *c, ref_of(name("test/dig:v1")));
  ASSERT_TRUE(pushed) << pushed.error().to_string();
  auto by_digest = ref_of(name("test/dig@") + pushed->digest.str());
  auto pulled = pull(*dst_, *c, by_digest);
  ASSERT_TRUE(pulled) << pulled.error().to_string();
  EXPECT_EQ(pulled->id, img.id);
  auto rec = dst_->images().get(img.id);
  ASSERT_TRUE(rec);
  EXPECT_TRUE(rec->repo_tags().empty());
  EXPECT_EQ(rec->repo_digests(), std::vector<std::string>{by_digest.familiar()});
  // A digest the registry does not have.
  auto missing = pull(*dst_, *c, ref_of(name("test/dig@sha256:") + std::string(64, 'a')));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), base::ErrorCode::NotFound);
}

TEST_F(RegistryTest, SingleManifestForAnotherPlatformIsRefusedOnlyWhenThePlatformIsAskedFor) {
  auto img = mydocker::testing::make_image({"amd64-only"});  // config: linux/amd64
  mydocker::testing::load_image(*src_, img, name("test/plat:v1"));
  auto c = client();
  ASSERT_TRUE(push(*src_, *c, ref_of(name("test/plat:v1"))));
  PullOptions arm;
  arm.platform = *parse_platform("linux/arm64");
  arm.platform_required = true;
  auto refused = pull(*dst_, *c, ref_of(name("test/plat:v1")), arm);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), base::ErrorCode::NotFound);
  EXPECT_EQ(refused.error().message(),
            fmt::format("image with reference {} was found but its platform (linux/amd64) does "
                        "not match the specified platform (linux/arm64)",
                        name("test/plat:v1")));
  EXPECT_TRUE(dst_->images().images().empty());
  auto blobs = dst_->content().list();
  ASSERT_TRUE(blobs);
  EXPECT_TRUE(blobs->empty());
  // The same platform asked for explicitly, and no platform at all, both pull it.
  PullOptions amd;
  amd.platform = *parse_platform("linux/amd64");
  amd.platform_required = true;
  auto pulled = pull(*dst_, *c, ref_of(name("test/plat:v1")), amd);
  ASSERT_TRUE(pulled) << pulled.error().to_string();
  EXPECT_EQ(pulled->id, img.id);
}

TEST_F(RegistryTest, SecondImageSharingTheBaseDownloadsOnlyItsNewLayer) {
  auto a = mydocker::testing::make_image({"shared-base", "only-a"});
  auto b = mydocker::testing::make_image({"shared-base", "only-b"});
  mydocker::testing::load_image(*src_, a, name("test/a:v1"));
  mydocker::testing::load_image(*src_, b, name("test/b:v1"));
  auto c = client();
  ASSERT_TRUE(push(*src_, *c, ref_of(name("test/a:v1"))));
  std::vector<ProgressEvent> push_events;
  PushOptions po;
  po.progress = [&](const ProgressEvent& e) { push_events.push_back(e); };
  auto pb = push(*src_, *c, ref_of(name("test/b:v1")), po);
  ASSERT_TRUE(pb) << pb.error().to_string();
  // The base blob is mounted from test/a, not uploaded again.
  EXPECT_EQ(pb->blobs_mounted, 1u);
  EXPECT_EQ(pb->blobs_uploaded, 2u);  // only-b layer + config
  std::string base_id(Digest::sha256_of(a.layer_blobs[0]).short_id());
  EXPECT_EQ(statuses(push_events, base_id).back(), "Mounted from test/a");

  ASSERT_TRUE(pull(*dst_, *c, ref_of(name("test/a:v1"))));
  EXPECT_EQ(blob_gets("test/b"), 0);
  std::vector<ProgressEvent> events;
  PullOptions opts;
  opts.progress = [&](const ProgressEvent& e) { events.push_back(e); };
  auto pulled = pull(*dst_, *c, ref_of(name("test/b:v1")), opts);
  ASSERT_TRUE(pulled) << pulled.error().to_string();
  EXPECT_EQ(pulled->id, b.id);
  EXPECT_EQ(pulled->layers_downloaded, 1u);
  // The config and the one new layer: two blob GETs in the registry's access log.
  EXPECT_EQ(blob_gets("test/b"), 2) << server_->log();
  EXPECT_EQ(statuses(events, base_id), std::vector<std::string>{"Already exists"});
}

TEST_F(RegistryTest, UnknownTagAndRepositoryAreDockersErrorsAndStoreNothing) {
  auto img = mydocker::testing::make_image({"x"});
  mydocker::testing::load_image(*src_, img, name("test/x:v1"));
  auto c = client();
  ASSERT_TRUE(push(*src_, *c, ref_of(name("test/x:v1"))));
  auto r = pull(*dst_, *c, ref_of(name("test/x:nosuchtag")));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), base::ErrorCode::NotFound);
  EXPECT_EQ(r.error().message(), fmt::format("manifest for {} not found: manifest unknown: "
                                             "manifest unknown",
                                             name("test/x:nosuchtag")));
  auto repo = pull(*dst_, *c, ref_of(name("test/nosuchrepo")));
  ASSERT_FALSE(repo);
  EXPECT_EQ(repo.error().code(), base::ErrorCode::NotFound);
  EXPECT_TRUE(dst_->images().images().empty());
  auto blobs = dst_->content().list();
  ASSERT_TRUE(blobs);
  EXPECT_TRUE(blobs->empty());

  auto p = push(*src_, *c, ref_of(name("test/x:nosuchtag")));
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message(), "tag does not exist: " + name("test/x:nosuchtag"));
}

TEST_F(RegistryTest, ChunkedPushAndMultiArchIndexSelectsThePlatform) {
  auto amd = mydocker::testing::make_image({"amd64-only"});
  auto arm = mydocker::testing::make_image({"arm64-only"});
  mydocker::testing::load_image(*src_, amd, name("test/multi:amd"));
  mydocker::testing::load_image(*src_, arm, name("test/multi:arm"));
  auto c = client();
  PushOptions po;
  po.chunk_size = 7;  // several PATCHes per blob
  auto pa = push(*src_, *c, ref_of(name("test/multi:amd")), po);
  ASSERT_TRUE(pa) << pa.error().to_string();
  auto pr = push(*src_, *c, ref_of(name("test/multi:arm")), po);
  ASSERT_TRUE(pr) << pr.error().to_string();
  EXPECT_GT(server_->count_log("\"PATCH /v2/test/multi/blobs/uploads/"), 4);

  // An index: arm64 first, so taking the first entry would be wrong.
  nlohmann::json index = {
      {"schemaVersion", 2},
      {"mediaType", "application/vnd.oci.image.index.v1+json"},
      {"manifests",
       {{{"mediaType", "application/vnd.docker.distribution.manifest.v2+json"},
         {"digest", pr->digest.str()},
         {"size", arm.manifest.size()},
         {"platform", {{"architecture", "arm64"}, {"os", "linux"}, {"variant", "v8"}}}},
        {{"mediaType", "application/vnd.docker.distribution.manifest.v2+json"},
         {"digest", pa->digest.str()},
         {"size", amd.manifest.size()},
         {"platform", {{"architecture", "amd64"}, {"os", "linux"}}}}}}};
  std::string bytes = index.dump();
  auto put = c->put_manifest("test/multi", "all", "application/vnd.oci.image.index.v1+json", bytes);
  ASSERT_TRUE(put) << put.error().to_string();

  PullOptions opts;
  opts.platform = *parse_platform("linux/amd64");
  auto pulled = pull(*dst_, *c, ref_of(name("test/multi:all")), opts);
  ASSERT_TRUE(pulled) << pulled.error().to_string();
  EXPECT_EQ(pulled->id, amd.id);
  EXPECT_EQ(pulled->digest, Digest::sha256_of(bytes));  // RepoDigest names the index
  auto rec = dst_->images().get(amd.id);
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->repo_digests(),
            std::vector<std::string>{name("test/multi@") + Digest::sha256_of(bytes).str()});

  opts.platform = *parse_platform("linux/arm64");
  auto arm_pulled = pull(*dst_, *c, ref_of(name("test/multi:all")), opts);
  ASSERT_TRUE(arm_pulled) << arm_pulled.error().to_string();
  EXPECT_EQ(arm_pulled->id, arm.id);

  opts.platform = *parse_platform("linux/s390x");
  auto none = pull(*dst_, *c, ref_of(name("test/multi:all")), opts);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message(),
            "no matching manifest for linux/s390x in the manifest list entries");
}

TEST_F(RegistryTest, CancelledPushStopsBetweenChunksTagsNothingAndAPushAfterCompletes) {
  auto img = mydocker::testing::make_image({"push-cancel-a", "push-cancel-b"}, 1 << 20);
  mydocker::testing::load_image(*src_, img, name("test/cancel:v1"));
  auto c = client();
  std::atomic<bool> stop{false};
  PushOptions po;
  po.chunk_size = 256 << 10;
  po.progress = [&](const ProgressEvent& e) {
    if (e.status == "Pushing" && e.current >= (512 << 10)) {
      stop = true;
    }
  };
  po.cancelled = [&] { return stop.load(); };
  auto r = push(*src_, *c, ref_of(name("test/cancel:v1")), po);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), base::ErrorCode::Cancelled) << r.error().to_string();
  EXPECT_EQ(r.error().message(), "push cancelled");
  // Stopped inside the first layer: no blob, no manifest there, no RepoDigest here.
  auto tag = c->get_manifest("test/cancel", "v1");
  ASSERT_FALSE(tag);
  EXPECT_EQ(tag.error().code(), base::ErrorCode::NotFound);
  for (const auto& b : img.layer_blobs) {
    auto has = c->blob_exists("test/cancel", Digest::sha256_of(b));
    ASSERT_TRUE(has) << has.error().to_string();
    EXPECT_FALSE(*has);
  }
  auto rec = src_->images().get(img.id);
  ASSERT_TRUE(rec);
  EXPECT_TRUE(rec->repo_digests().empty());

  auto again = push(*src_, *c, ref_of(name("test/cancel:v1")));
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(again->blobs_uploaded, 3u);
  auto pulled = pull(*dst_, *c, ref_of(name("test/cancel:v1")));
  ASSERT_TRUE(pulled) << pulled.error().to_string();
  EXPECT_EQ(pulled->id, img.id);
}

TEST_F(RegistryTest, ImportedImageIsPushedWithGzipLayersCompressedOnce) {
  // An import keeps the layer as it came: an uncompressed tar, no gzip blob anywhere.
  auto img = mydocker::testing::make_image({"plain-layer"}, 64 << 10);
  layers::MemorySource tar(img.layer_tars[0]);
  ImportOptions io;
  io.reference = name("test/plain:v1");
  auto id = src_->import_image(tar, io);
  ASSERT_TRUE(id) << id.error().to_string();
  auto blobs_before = src_->content().list();
  ASSERT_TRUE(blobs_before);

  auto c = client();
  auto pushed = push(*src_, *c, ref_of(name("test/plain:v1")));
  ASSERT_TRUE(pushed) << pushed.error().to_string();
  EXPECT_EQ(pushed->blobs_uploaded, 2u);  // the gzip layer and the config
  auto m = c->get_manifest("test/plain", "v1");
  ASSERT_TRUE(m) << m.error().to_string();
  EXPECT_EQ(m->digest, pushed->digest);
  EXPECT_EQ(m->media_type, content::media_type::kDockerManifest);
  auto manifest = content::Manifest::parse(m->bytes);
  ASSERT_TRUE(manifest);
  EXPECT_EQ(manifest->config.media_type, content::media_type::kDockerConfig);
  ASSERT_EQ(manifest->layers.size(), 1u);
  EXPECT_EQ(manifest->layers[0].media_type, content::media_type::kDockerLayerGzip);
  auto layer = c->get_blob("test/plain", manifest->layers[0].digest);
  ASSERT_TRUE(layer) << layer.error().to_string();
  ASSERT_GT(layer->size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>((*layer)[0]), 0x1f);  // gzip magic
  EXPECT_EQ(static_cast<unsigned char>((*layer)[1]), 0x8b);
  auto rec = src_->images().get(*id);
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->repo_digests(),
            std::vector<std::string>{name("test/plain@") + pushed->digest.str()});
  // The gzip blob and the manifest are kept with the image.
  auto blobs_after = src_->content().list();
  ASSERT_TRUE(blobs_after);
  EXPECT_EQ(blobs_after->size(), blobs_before->size() + 2);
  EXPECT_TRUE(src_->content().exists(manifest->layers[0].digest));

  // Again, and to another repository: nothing is compressed again, the same manifest goes.
  auto again = push(*src_, *c, ref_of(name("test/plain:v1")));
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(again->digest, pushed->digest);
  EXPECT_EQ(again->blobs_uploaded, 0u);
  EXPECT_EQ(again->blobs_existing, 2u);
  ASSERT_TRUE(src_->images().tag(*id, ref_of(name("test/plain2:v2"))));
  auto other = push(*src_, *c, ref_of(name("test/plain2:v2")));
  ASSERT_TRUE(other) << other.error().to_string();
  EXPECT_EQ(other->digest, pushed->digest);
  EXPECT_EQ(other->blobs_mounted, 1u);
  auto blobs_end = src_->content().list();
  ASSERT_TRUE(blobs_end);
  EXPECT_EQ(blobs_end->size(), blobs_after->size());

  // Pulled back: the same image.
  auto pulled = pull(*dst_, *c, ref_of(name("test/plain:v1")));
  ASSERT_TRUE(pulled) << pulled.error().to_string();
  EXPECT_EQ(pulled->id, *id);
  EXPECT_EQ(pulled->digest, pushed->digest);
}

// --- htpasswd Basic auth ---

class BasicAuthRegistryTest : public RegistryTest {
 protected:
  RegistryConfig config() override {
    RegistryConfig c;
    c.htpasswd = tmp_.path() + "/htpasswd";
    // bcrypt entry (the registry accepts only bcrypt), made with python3's crypt (libcrypt).
    std::string cmd =
        "python3 -W ignore -c \"import crypt; print('alice:' + crypt.crypt("
        "'s3cret', crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))\" > " +
        c.htpasswd;
    if (::access("/usr/bin/htpasswd", X_OK) == 0) {
      cmd = "/usr/bin/htpasswd -Bbn alice s3cret > " + c.htpasswd;
    }
    EXPECT_EQ(mydocker::testing::run_shell(cmd), 0);
    return c;
  }
  RegistryOptions with(const std::string& user, const std::string& password) {
    RegistryOptions o = fast_options();
    o.credentials = [user, password](const std::string&) -> std::optional<Credentials> {
      return Credentials{user, password, ""};
    };
    return o;
  }
};

TEST_F(BasicAuthRegistryTest, CredentialsAreRequiredAndChecked) {
  auto img = mydocker::testing::make_image({"secret-layer"});
  mydocker::testing::load_image(*src_, img, name("team/img:v1"));

  auto anon = client();
  auto denied = push(*src_, *anon, ref_of(name("team/img:v1")));
  ASSERT_FALSE(denied);
  EXPECT_NE(denied.error().message().find("no basic auth credentials"), std::string::npos)
      << denied.error().message();

  auto good = client(with("alice", "s3cret"));
  EXPECT_TRUE(good->login()) << "login with the right password";
  auto pushed = push(*src_, *good, ref_of(name("team/img:v1")));
  ASSERT_TRUE(pushed) << pushed.error().to_string();

  auto wrong = client(with("alice", "wrong"));
  auto login = wrong->login();
  ASSERT_FALSE(login);
  EXPECT_EQ(login.error().message(),
            fmt::format("login attempt to http://{}/v2/ failed with status: 401 Unauthorized",
                        server_->host()));
  auto bad = pull(*dst_, *wrong, ref_of(name("team/img:v1")));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), base::ErrorCode::Unauthorized) << bad.error().message();
  EXPECT_TRUE(dst_->images().images().empty());

  auto anon_pull = pull(*dst_, *anon, ref_of(name("team/img:v1")));
  ASSERT_FALSE(anon_pull);
  EXPECT_EQ(anon_pull.error().message(),
            fmt::format("Get \"http://{}/v2/team/img/manifests/v1\": no basic auth credentials",
                        server_->host()));

  auto ok = pull(*dst_, *good, ref_of(name("team/img:v1")));
  ASSERT_TRUE(ok) << ok.error().to_string();
  EXPECT_EQ(ok->id, img.id);
}

// --- TLS with a CA made by the test ---

class TlsRegistryTest : public RegistryTest {
 protected:
  RegistryConfig config() override {
    std::string d = tmp_.path() + "/pki";
    std::string cmd =
        "set -e; mkdir -p " + d + "; cd " + d +
        "; openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
        " -keyout ca.key -out ca.crt -days 2 -subj /CN=mydocker-test-ca 2>/dev/null"
        "; openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key"
        " -out server.csr -subj /CN=127.0.0.1 2>/dev/null"
        "; printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > ext.cnf"
        "; openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial"
        " -out server.crt -days 2 -extfile ext.cnf 2>/dev/null";
    EXPECT_EQ(mydocker::testing::run_shell(cmd), 0);
    RegistryConfig c;
    c.tls_cert = d + "/server.crt";
    c.tls_key = d + "/server.key";
    return c;
  }
};

TEST_F(TlsRegistryTest, UntrustedCertificateFailsAndTheCertsDirCaIsTrusted) {
  auto img = mydocker::testing::make_image({"tls-layer"});
  mydocker::testing::load_image(*src_, img, name("tls/img:v1"));
  RegistryOptions strict = fast_options();
  strict.loopback_insecure = false;  // verify, as for any non-local registry
  auto untrusted = std::make_unique<Client>(server_->host(), strict);
  auto r = push(*src_, *untrusted, ref_of(name("tls/img:v1")));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(),
            fmt::format("Get \"https://{}/v2/\": x509: certificate signed by unknown authority",
                        server_->host()));

  std::string certs = tmp_.path() + "/certs.d";
  ASSERT_TRUE(base::mkdir_all(certs + "/" + server_->host()));
  std::filesystem::copy_file(tmp_.path() + "/pki/ca.crt",
                             certs + "/" + server_->host() + "/ca.crt");
  RegistryOptions trusting = strict;
  trusting.certs_dir = certs;
  auto c = std::make_unique<Client>(server_->host(), trusting);
  auto pushed = push(*src_, *c, ref_of(name("tls/img:v1")));
  ASSERT_TRUE(pushed) << pushed.error().to_string();
  EXPECT_EQ(c->base_url().value_or(""), "https://" + server_->host());
  auto pulled = pull(*dst_, *c, ref_of(name("tls/img:v1")));
  ASSERT_TRUE(pulled) << pulled.error().to_string();
  EXPECT_EQ(pulled->id, img.id);

  // A loopback registry is insecure by default: https without verification.
  auto local = client();
  auto lp = pull(*dst_, *local, ref_of(name("tls/img:v1")));
  ASSERT_TRUE(lp) << lp.error().to_string();
  EXPECT_EQ(local->base_url().value_or(""), "https://" + server_->host());
}

}  // namespace
}  // namespace mydocker::image::registry
