// SPDX-License-Identifier: Apache-2.0
// Manifest / index / config round trips, validation errors, and the required fields and media
// types of the OCI image spec schemas (config-schema.json, image-manifest-schema.json,
// image-index-schema.json, content-descriptor.json), embedded here by hand: Debian has no JSON
// schema validator we may depend on.
#include <gtest/gtest.h>

#include <regex>

#include "image/content/image_config.h"
#include "image/content/manifest.h"

namespace mydocker::image::content {
namespace {

using base::ErrorCode;
using nlohmann::json;

const std::string kA = "sha256:" + std::string(64, 'a');
const std::string kB = "sha256:" + std::string(64, 'b');
const std::string kC = "sha256:" + std::string(64, 'c');

// content-descriptor.json: required mediaType, size, digest; digest and mediaType patterns.
void expect_descriptor_schema(const json& d) {
  ASSERT_TRUE(d.is_object());
  ASSERT_TRUE(d.contains("mediaType") && d["mediaType"].is_string());
  ASSERT_TRUE(d.contains("size") && d["size"].is_number_integer());
  ASSERT_TRUE(d.contains("digest") && d["digest"].is_string());
  EXPECT_TRUE(std::regex_match(d["digest"].get<std::string>(),
                               std::regex("^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")));
  EXPECT_TRUE(std::regex_match(
      d["mediaType"].get<std::string>(),
      std::regex(
          "^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$")));
  if (d.contains("platform")) {
    EXPECT_TRUE(d["platform"].contains("architecture"));
    EXPECT_TRUE(d["platform"].contains("os"));
  }
}

const char* kDockerManifest = R"({
  "schemaVersion": 2,
  "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
  "config": {
    "mediaType": "application/vnd.docker.container.image.v1+json",
    "size": 1469,
    "digest": "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
  },
  "layers": [
    {
      "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
      "size": 2811478,
      "digest": "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
    }
  ]
})";

TEST(ManifestTest, DockerSchema2RoundTrip) {
  auto m = Manifest::parse(kDockerManifest);
  ASSERT_TRUE(m) << m.error().to_string();
  EXPECT_EQ(m->media_type, media_type::kDockerManifest);
  EXPECT_EQ(m->config.media_type, media_type::kDockerConfig);
  EXPECT_EQ(m->config.digest.str(), kA);
  EXPECT_EQ(m->config.size, 1469);
  ASSERT_EQ(m->layers.size(), 1u);
  EXPECT_EQ(m->layers[0].digest.str(), kB);
  EXPECT_TRUE(media_type::is_layer(m->layers[0].media_type));
  EXPECT_EQ(m->to_json(), json::parse(kDockerManifest));
  auto again = Manifest::parse(m->serialize());
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *m);
}

TEST(ManifestTest, OciManifestKeepsUnknownFieldsAndOptionalParts) {
  const std::string text = R"({"schemaVersion":2,
    "mediaType":"application/vnd.oci.image.manifest.v1+json",
    "artifactType":"application/x-test",
    "config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":7,
              "digest":")" +
                           kA + R"(","annotations":{"k":"v"}},
    "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd","size":0,
               "digest":")" +
                           kB + R"(","urls":["https://example.com/l"],
               "x-unknown":{"deep":[1,2]}}],
    "annotations":{"org.opencontainers.image.ref.name":"v1"}})";
  auto m = Manifest::parse(text);
  ASSERT_TRUE(m) << m.error().to_string();
  EXPECT_EQ(m->config.annotations.at("k"), "v");
  EXPECT_EQ(m->layers[0].urls, std::vector<std::string>{"https://example.com/l"});
  EXPECT_EQ(m->annotations.at("org.opencontainers.image.ref.name"), "v1");
  EXPECT_EQ(m->extra["artifactType"], "application/x-test");
  EXPECT_EQ(m->to_json(), json::parse(text));
}

TEST(ManifestTest, ProducedManifestMeetsOciSchema) {
  Manifest m;
  m.media_type = media_type::kOciManifest;
  m.config = {std::string(media_type::kOciConfig), *Digest::parse(kA), 10, {}, {}, {}, {}};
  m.layers.push_back(
      {std::string(media_type::kOciLayerGzip), *Digest::parse(kB), 20, {}, {}, {}, {}});
  json j = json::parse(m.serialize());
  // image-manifest-schema.json: required schemaVersion (== 2), config, layers.
  ASSERT_TRUE(j.contains("schemaVersion"));
  EXPECT_EQ(j["schemaVersion"], 2);
  EXPECT_EQ(j["mediaType"], "application/vnd.oci.image.manifest.v1+json");
  expect_descriptor_schema(j["config"]);
  EXPECT_EQ(j["config"]["mediaType"], "application/vnd.oci.image.config.v1+json");
  ASSERT_TRUE(j["layers"].is_array());
  for (const json& l : j["layers"]) {
    expect_descriptor_schema(l);
  }
  EXPECT_EQ(m.serialize(), m.serialize());
}

struct BadDoc {
  std::string text;
  ErrorCode code;
  std::string message;
};

TEST(ManifestTest, RejectsMalformedManifests) {
  auto cfg = R"("config":{"mediaType":"a/b","size":1,"digest":")" + kA + R"("})";
  const std::vector<BadDoc> cases = {
      {"{", ErrorCode::InvalidArgument, "invalid manifest: not valid JSON"},
      {"[]", ErrorCode::InvalidArgument, "invalid manifest: document is [], want an object"},
      {R"({"layers":[],)" + cfg + "}", ErrorCode::InvalidArgument,
       "invalid manifest: `schemaVersion` is missing"},
      {R"({"schemaVersion":1,"layers":[],)" + cfg + "}", ErrorCode::NotImplemented,
       "unsupported manifest: Docker schema1 (`schemaVersion` 1) is not supported"},
      {R"({"schemaVersion":3,"layers":[],)" + cfg + "}", ErrorCode::InvalidArgument,
       "invalid manifest: `schemaVersion` is 3, want 2"},
      {R"({"schemaVersion":"2","layers":[],)" + cfg + "}", ErrorCode::InvalidArgument,
       "invalid manifest: `schemaVersion` is \"2\", want an integer"},
      {R"({"schemaVersion":2,"layers":[]})", ErrorCode::InvalidArgument,
       "invalid manifest: `config` is missing"},
      {R"({"schemaVersion":2,"layers":{},)" + cfg + "}", ErrorCode::InvalidArgument,
       "invalid manifest: `layers` is {}, want an array"},
      {R"({"schemaVersion":2,"mediaType":"text/plain","layers":[],)" + cfg + "}",
       ErrorCode::InvalidArgument,
       "invalid manifest: `mediaType` is \"text/plain\", want "
       "`application/vnd.oci.image.manifest.v1+json` or "
       "`application/vnd.docker.distribution.manifest.v2+json`"},
      {R"({"schemaVersion":2,)" + cfg + R"(,"layers":[{"mediaType":"a/b","size":1,"digest":")" +
           kB + R"("},{"mediaType":"a/b","size":1,"digest":"sha256:xyz"}]})",
       ErrorCode::InvalidArgument,
       "invalid manifest: `layers[1].digest`: invalid digest `sha256:xyz`"},
      {R"({"schemaVersion":2,)" + cfg + R"(,"layers":[{"mediaType":"a/b","size":-1,"digest":")" +
           kB + R"("}]})",
       ErrorCode::InvalidArgument, "invalid manifest: `layers[0].size` is -1, want a size >= 0"},
      {R"({"schemaVersion":2,)" + cfg + R"(,"layers":[{"size":1,"digest":")" + kB + R"("}]})",
       ErrorCode::InvalidArgument, "invalid manifest: `layers[0].mediaType` is missing"},
      {R"({"schemaVersion":2,"config":{"mediaType":"a/b","digest":")" + kA + R"("},"layers":[]})",
       ErrorCode::InvalidArgument, "invalid manifest: `config.size` is missing"},
      {R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v1+json"})",
       ErrorCode::NotImplemented,
       "unsupported manifest media type `application/vnd.docker.distribution.manifest.v1+json`"},
  };
  for (const BadDoc& c : cases) {
    SCOPED_TRACE(c.text);
    auto m = Manifest::parse(c.text);
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().code(), c.code);
    EXPECT_EQ(m.error().message(), c.message);
  }
}

TEST(IndexTest, ManifestListRoundTripAndSchema) {
  const std::string text = R"({"schemaVersion":2,
    "mediaType":"application/vnd.docker.distribution.manifest.list.v2+json",
    "manifests":[
      {"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":528,
       "digest":")" + kA + R"(","platform":{"architecture":"amd64","os":"linux"}},
      {"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":528,
       "digest":")" + kB + R"(","platform":{"architecture":"arm","os":"linux","variant":"v7",
       "os.features":["x"],"features":["sse4"]}}]})";
  auto x = Index::parse(text);
  ASSERT_TRUE(x) << x.error().to_string();
  ASSERT_EQ(x->manifests.size(), 2u);
  ASSERT_TRUE(x->manifests[1].platform);
  EXPECT_EQ(x->manifests[1].platform->variant, "v7");
  EXPECT_EQ(x->manifests[1].platform->os_features, std::vector<std::string>{"x"});
  EXPECT_EQ(x->to_json(), json::parse(text));

  Index oci;
  oci.media_type = media_type::kOciIndex;
  oci.manifests.push_back(x->manifests[0]);
  oci.manifests[0].media_type = media_type::kOciManifest;
  json j = json::parse(oci.serialize());
  // image-index-schema.json: required schemaVersion, manifests; items are descriptors.
  EXPECT_EQ(j["schemaVersion"], 2);
  EXPECT_EQ(j["mediaType"], "application/vnd.oci.image.index.v1+json");
  for (const json& d : j["manifests"]) {
    expect_descriptor_schema(d);
  }
  EXPECT_EQ(*Index::parse(oci.serialize()), oci);
}

TEST(IndexTest, RejectsMalformedIndexes) {
  auto r1 = Index::parse(R"({"schemaVersion":2})");
  ASSERT_FALSE(r1);
  EXPECT_EQ(r1.error().message(), "invalid index: `manifests` is missing");
  auto r2 = Index::parse(R"({"schemaVersion":2,"manifests":[{"mediaType":"a/b","size":1,
      "digest":")" + kA + R"(","platform":{"architecture":"amd64"}}]})");
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error().message(), "invalid index: `manifests[0].platform.os` is missing");
  auto r3 = Index::parse(R"({"schemaVersion":2,"mediaType":")" +
                         std::string(media_type::kOciManifest) + R"(","manifests":[]})");
  ASSERT_FALSE(r3);
  EXPECT_EQ(r3.error().code(), ErrorCode::InvalidArgument);
}

TEST(DetectMediaTypeTest, DeclaredOrByShape) {
  EXPECT_EQ(*detect_media_type(kDockerManifest), media_type::kDockerManifest);
  EXPECT_EQ(*detect_media_type(R"({"schemaVersion":2,"manifests":[]})"), media_type::kOciIndex);
  EXPECT_EQ(*detect_media_type(R"({"schemaVersion":2,"config":{},"layers":[]})"),
            media_type::kOciManifest);
  EXPECT_FALSE(detect_media_type(R"({"x":1})"));
  EXPECT_FALSE(detect_media_type("nope"));
}

// The shape `docker import` writes (transcript 155's image), nulls included.
const char* kDockerConfig =
    R"({"architecture":"amd64","comment":"Imported from -","config":{"Hostname":"",)"
    R"("Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,)"
    R"("Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":null,"Image":"",)"
    R"("Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null},)"
    R"("container_config":{"Hostname":"","Domainname":"","User":"","AttachStdin":false,)"
    R"("AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,)"
    R"("Env":null,"Cmd":null,"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,)"
    R"("OnBuild":null,"Labels":null},"created":"2026-11-29T17:11:48.138651832Z",)"
    R"("docker_version":"20.10.24+dfsg1","history":[{"created":"2026-11-29T17:11:48.138651832Z",)"
    R"("comment":"Imported from -"}],"os":"linux","rootfs":{"type":"layers","diff_ids":)"
    R"(["sha256:ea7fe62807a4abee2f4abf07ec49aaaa32668f72493f141e092a473634953a62"]}})";

TEST(ImageConfigTest, DockerImportConfigRoundTripKeepsNulls) {
  auto c = ImageConfig::parse(kDockerConfig);
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->architecture, "amd64");
  EXPECT_EQ(c->os, "linux");
  EXPECT_EQ(c->comment, "Imported from -");
  EXPECT_EQ(c->docker_version, "20.10.24+dfsg1");
  ASSERT_TRUE(c->config);
  EXPECT_FALSE(c->config->cmd);  // null
  EXPECT_FALSE(c->config->entrypoint);
  ASSERT_EQ(c->rootfs.diff_ids.size(), 1u);
  ASSERT_EQ(c->history.size(), 1u);
  EXPECT_EQ(c->created_unix(), 1795972308);  // transcript 151's "Created"
  EXPECT_EQ(c->to_json(), json::parse(kDockerConfig));
  EXPECT_TRUE(c->to_json()["config"]["Cmd"].is_null());
  auto again = ImageConfig::parse(c->serialize());
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *c);
}

TEST(ImageConfigTest, TypedFieldsAndSchemaRequiredFields) {
  ImageConfig c;
  c.created = "2026-01-02T03:04:05Z";
  c.architecture = "amd64";
  c.os = "linux";
  c.config.emplace();
  c.config->env = {"PATH=/usr/bin", "A=b"};
  c.config->cmd = std::vector<std::string>{"/bin/sh"};
  c.config->entrypoint = std::vector<std::string>{};
  c.config->labels = {{"k", "v"}};
  c.config->exposed_ports = {"80/tcp"};
  c.config->volumes = {"/data"};
  c.config->working_dir = "/w";
  c.config->user = "1000:1000";
  c.config->stop_signal = "SIGTERM";
  c.rootfs.diff_ids.emplace_back(*Digest::parse(kA));
  c.history.push_back({"2026-01-02T03:04:05Z", "/bin/sh -c true", "", "", true, json::object()});
  std::string bytes = c.serialize();
  EXPECT_EQ(bytes, c.serialize());  // deterministic, so an ID computed on it is stable
  json j = json::parse(bytes);
  // config-schema.json: required architecture, os, rootfs{type, diff_ids}; type enum "layers".
  EXPECT_EQ(j["architecture"], "amd64");
  EXPECT_EQ(j["os"], "linux");
  EXPECT_EQ(j["rootfs"]["type"], "layers");
  EXPECT_EQ(j["rootfs"]["diff_ids"], json::array({kA}));
  EXPECT_EQ(j["config"]["ExposedPorts"], json::parse(R"({"80/tcp":{}})"));
  EXPECT_EQ(j["config"]["Volumes"], json::parse(R"({"/data":{}})"));
  EXPECT_EQ(j["config"]["Entrypoint"], json::array());
  EXPECT_EQ(j["history"][0]["empty_layer"], true);
  auto back = ImageConfig::parse(bytes);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(*back, c);
  EXPECT_EQ(back->created_unix(), 1767323045);
}

TEST(ImageConfigTest, RejectsMalformedConfigs) {
  auto rootfs = std::string(R"("rootfs":{"type":"layers","diff_ids":[]})");
  const std::vector<BadDoc> cases = {
      {"nope", ErrorCode::InvalidArgument, "invalid image config: not valid JSON"},
      {R"({"os":"linux",)" + rootfs + "}", ErrorCode::InvalidArgument,
       "invalid image config: `architecture` is missing"},
      {R"({"architecture":"","os":"linux",)" + rootfs + "}", ErrorCode::InvalidArgument,
       "invalid image config: `architecture` is \"\", want a non-empty string"},
      {R"({"architecture":"amd64","os":"linux"})", ErrorCode::InvalidArgument,
       "invalid image config: `rootfs` is missing"},
      {R"({"architecture":"amd64","os":"linux","rootfs":{"type":"foo","diff_ids":[]}})",
       ErrorCode::InvalidArgument, "invalid image config: `rootfs.type` is \"foo\", want `layers`"},
      {R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers",)"
       R"("diff_ids":["sha256:zz"]}})",
       ErrorCode::InvalidArgument,
       "invalid image config: `rootfs.diff_ids[0]`: invalid digest `sha256:zz`"},
      {R"({"architecture":"amd64","os":"linux","config":{"Env":3},)" + rootfs + "}",
       ErrorCode::InvalidArgument,
       "invalid image config: `config.Env` is 3, want an array of strings"},
      {R"({"architecture":"amd64","os":"linux","config":{"Labels":{"a":1}},)" + rootfs + "}",
       ErrorCode::InvalidArgument, "invalid image config: `config.Labels.a` is 1, want a string"},
      {R"({"architecture":"amd64","os":"linux","created":"yesterday",)" + rootfs + "}",
       ErrorCode::InvalidArgument,
       "invalid image config: `created` is \"yesterday\", want an RFC 3339 time"},
      {R"({"architecture":"amd64","os":"linux","history":[1],)" + rootfs + "}",
       ErrorCode::InvalidArgument, "invalid image config: `history[0]` is 1, want an object"},
  };
  for (const BadDoc& c : cases) {
    SCOPED_TRACE(c.text);
    auto r = ImageConfig::parse(c.text);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), c.code);
    EXPECT_EQ(r.error().message(), c.message);
  }
}

TEST(Rfc3339Test, ParseAndFormat) {
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_rfc3339("2026-11-29T17:11:48.138651832Z"), 1795972308);
  EXPECT_EQ(parse_rfc3339("2026-11-29T18:11:48+01:00"), 1795972308);
  EXPECT_EQ(parse_rfc3339("1969-12-31T23:59:59Z"), -1);
  EXPECT_FALSE(parse_rfc3339("2026-11-29 17:11:48Z"));
  EXPECT_FALSE(parse_rfc3339("2026-13-29T17:11:48Z"));
  EXPECT_FALSE(parse_rfc3339("2026-11-29T17:11:48"));
  EXPECT_FALSE(parse_rfc3339("2026-11-29T17:11:48.Z"));
  EXPECT_EQ(format_rfc3339_nano(1795972308, 138651832), "2026-11-29T17:11:48.138651832Z");
  EXPECT_EQ(format_rfc3339_nano(1795972308, 500000000), "2026-11-29T17:11:48.5Z");
  EXPECT_EQ(format_rfc3339_nano(0, 0), "1970-01-01T00:00:00Z");
  auto ns = parse_rfc3339_ns("2026-11-29T17:11:48.1386Z");
  ASSERT_TRUE(ns);
  EXPECT_EQ(ns->first, 1795972308);
  EXPECT_EQ(ns->second, 138600000);
  EXPECT_EQ(parse_rfc3339_ns("2026-11-29T17:11:48Z")->second, 0);
}

// Deterministic byte mutations of valid documents: every parser returns a value or an error
// (never crashes), and whatever parses serializes to something that parses to the same value.
TEST(DocumentsFuzzTest, MutatedDocumentsNeverCrash) {
  const std::vector<std::string> seeds = {kDockerManifest, kDockerConfig,
                                          R"({"schemaVersion":2,"manifests":[{"mediaType":"a/b",
      "size":1,"digest":")" + kA + R"(","platform":{"architecture":"arm","os":"linux"}}]})"};
  const std::string bytes = "{}[]\":,0123456789aZ-.\\ \x00\xff";
  uint32_t state = 7;
  auto next = [&] {
    state = state * 1664525u + 1013904223u;
    return state >> 8;
  };
  int parsed = 0;
  for (int i = 0; i < 6000; ++i) {
    std::string doc = seeds[next() % seeds.size()];
    for (int m = 0, n = 1 + next() % 4; m < n; ++m) {
      size_t pos = next() % doc.size();
      switch (next() % 3) {
        case 0:
          doc[pos] = bytes[next() % bytes.size()];
          break;
        case 1:
          doc.erase(pos, 1 + next() % 8);
          break;
        default:
          doc.insert(pos, 1, bytes[next() % bytes.size()]);
          break;
      }
      if (doc.empty()) {
        doc = "{";
      }
    }
    if (auto m = Manifest::parse(doc)) {
      ++parsed;
      EXPECT_EQ(*Manifest::parse(m->serialize()), *m);
    }
    if (auto x = Index::parse(doc)) {
      ++parsed;
      EXPECT_EQ(*Index::parse(x->serialize()), *x);
    }
    if (auto c = ImageConfig::parse(doc)) {
      ++parsed;
      EXPECT_EQ(*ImageConfig::parse(c->serialize()), *c);
    }
    (void)detect_media_type(doc);
  }
  EXPECT_GT(parsed, 50);
}

}  // namespace
}  // namespace mydocker::image::content
