// SPDX-License-Identifier: Apache-2.0
// Images facade without root: layer store in Keep mode. Archives are crafted in memory.
#include "image/archive/images.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <thread>

#include "image/archive/tar_io.h"
#include "image/content/manifest.h"
#include "runtime/base/fd.h"
#include "runtime/base/file.h"
#include "tests/support/busybox_rootfs.h"
#include "tests/unit/image/layers/tar_builder.h"

namespace mydocker::image {
namespace {

using layers::Compression;
using layers::MemorySource;
using nlohmann::json;
namespace tb = layers::testing;

using mydocker::testing::list_dir;

std::string hex_of(const std::string& data) {
  return std::string(Digest::sha256_of(data).hex());
}

std::string config_for(const std::vector<std::string>& layer_tars, std::string cmd = "/bin/sh") {
  json diff_ids = json::array();
  for (const auto& t : layer_tars) {
    diff_ids.push_back(Digest::sha256_of(t).str());
  }
  json j = {{"architecture", "amd64"},
            {"os", "linux"},
            {"created", "2026-11-29T17:11:48.138651832Z"},
            {"config", {{"Cmd", {cmd}}, {"Env", {"PATH=/bin"}}}},
            {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}},
            {"history", {{{"created", "2026-11-29T17:11:48.138651832Z"}, {"created_by", "x"}}}}};
  return j.dump();
}

std::string layer_a() {
  return tb::make_tar({tb::dir("bin"), tb::file("bin/hello", "hello\n", 0755),
                       tb::file("etc/os-release", "ID=test\n")});
}
std::string layer_b() {
  return tb::make_tar({tb::file("etc/motd", "welcome\n"), tb::file("bin/.wh.hello", "")});
}

// `docker save` (Docker 20.10 shape): <id>/layer.tar, <config hex>.json, manifest.json.
std::string docker_save(const std::vector<std::string>& layer_tars, const std::string& config,
                        const std::vector<std::string>& tags) {
  std::vector<tb::TarEntry> entries;
  json layers = json::array();
  for (size_t i = 0; i < layer_tars.size(); ++i) {
    std::string dir = std::string(64, static_cast<char>('a' + i));
    entries.push_back(tb::dir(dir));
    entries.push_back(tb::file(dir + "/VERSION", "1.0"));
    entries.push_back(tb::file(dir + "/json", "{}"));
    entries.push_back(tb::file(dir + "/layer.tar", layer_tars[i]));
    layers.push_back(dir + "/layer.tar");
  }
  entries.push_back(tb::file(hex_of(config) + ".json", config));
  json m =
      json::array({{{"Config", hex_of(config) + ".json"}, {"RepoTags", tags}, {"Layers", layers}}});
  entries.push_back(tb::file("manifest.json", m.dump()));
  return tb::make_tar(entries);
}

struct OciParts {
  std::vector<std::string> layer_blobs;  // as stored (here gzip)
  std::string config;
  std::string manifest;
  std::string index;
};

// `config_tars`: the layers the config's DiffIDs name, when they differ from `layer_tars`.
OciParts oci_parts(const std::vector<std::string>& layer_tars, const std::string& ref_name,
                   const std::string& containerd_name,
                   const std::optional<std::vector<std::string>>& config_tars = std::nullopt) {
  OciParts p;
  p.config = config_for(config_tars ? *config_tars : layer_tars);
  json layers = json::array();
  for (const auto& t : layer_tars) {
    std::string gz = tb::compress(t, Compression::Gzip);
    layers.push_back({{"mediaType", "application/vnd.oci.image.layer.v1.tar+gzip"},
                      {"digest", Digest::sha256_of(gz).str()},
                      {"size", gz.size()}});
    p.layer_blobs.push_back(gz);
  }
  json m = {{"schemaVersion", 2},
            {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
            {"config",
             {{"mediaType", "application/vnd.oci.image.config.v1+json"},
              {"digest", Digest::sha256_of(p.config).str()},
              {"size", p.config.size()}}},
            {"layers", layers}};
  p.manifest = m.dump();
  json ann = json::object();
  if (!ref_name.empty()) {
    ann["org.opencontainers.image.ref.name"] = ref_name;
  }
  if (!containerd_name.empty()) {
    ann["io.containerd.image.name"] = containerd_name;
  }
  json desc = {{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
               {"digest", Digest::sha256_of(p.manifest).str()},
               {"size", p.manifest.size()}};
  if (!ann.empty()) {
    desc["annotations"] = ann;
  }
  p.index = json{{"schemaVersion", 2}, {"manifests", {desc}}}.dump();
  return p;
}

std::string oci_tar(const OciParts& p) {
  std::vector<tb::TarEntry> e;
  e.push_back(tb::file("oci-layout", R"({"imageLayoutVersion":"1.0.0"})"));
  e.push_back(tb::file("index.json", p.index));
  for (const auto& b : p.layer_blobs) {
    e.push_back(tb::file("blobs/sha256/" + hex_of(b), b));
  }
  e.push_back(tb::file("blobs/sha256/" + hex_of(p.config), p.config));
  e.push_back(tb::file("blobs/sha256/" + hex_of(p.manifest), p.manifest));
  return tb::make_tar(e);
}

class ImagesTest : public ::testing::Test {
 protected:
  void SetUp() override { images_ = open(root()); }

  static std::unique_ptr<Images> open(const std::string& root) {
    ImagesOptions o;
    o.layers.whiteouts = layers::WhiteoutFormat::Keep;
    o.layers.preserve_owners = false;
    o.layers.sync = false;
    o.architecture = "amd64";
    auto r = Images::open(root, o);
    EXPECT_TRUE(r) << r.error().to_string();
    return r ? std::move(*r) : nullptr;
  }
  void reopen() {
    images_.reset();
    images_ = open(root());
  }

  std::string root() const { return tmp_.path() + "/root"; }
  std::set<std::string> blobs() const { return list_dir(root() + "/content/blobs/sha256"); }
  std::set<std::string> layer_dirs() const {
    // Layer directories are named by chain ID hex; anything else is the store's own.
    std::set<std::string> out;
    for (const std::string& n : list_dir(root() + "/layers")) {
      if (n.size() == 64) {
        out.insert(n);
      }
    }
    return out;
  }

  base::Result<LoadResult> load(const std::string& tar) {
    MemorySource src(tar);
    return images_->load(src);
  }
  std::string save(const std::vector<std::string>& names) {
    std::string out;
    auto r = images_->save(names, [&](std::string_view d) {
      out.append(d);
      return base::ok();
    });
    EXPECT_TRUE(r) << r.error().to_string();
    return out;
  }

  // Every trace of images gone: nothing listed, no blob, no layer, no temp leftovers.
  void expect_empty() {
    EXPECT_TRUE(images_->images().images().empty());
    EXPECT_EQ(blobs(), std::set<std::string>{});
    EXPECT_EQ(layer_dirs(), std::set<std::string>{});
    EXPECT_EQ(list_dir(root() + "/content/ingest"), std::set<std::string>{});
    EXPECT_EQ(list_dir(root() + "/layers/tmp"), std::set<std::string>{});
  }

  std::string diff_file(const ImageId& id, const std::string& rel) {
    auto rec = images_->images().get(id);
    EXPECT_TRUE(rec);
    auto top = Images::top_layer(rec->config);
    auto text = base::read_file(images_->layers().diff_path(*top) + "/" + rel);
    return text ? *text : "<missing>";
  }

  testing::TempDir tmp_;
  std::unique_ptr<Images> images_;
};

TEST_F(ImagesTest, ImportGivesDockersImageShape) {
  std::string tar = tb::make_tar({tb::dir("bin"), tb::file("hello.txt", "hi there\n")});
  MemorySource src(tar);
  ImportOptions o;
  o.reference = "tx-imported:v2";
  o.message = "tx import";
  o.changes = {"CMD [\"/bin/sh\"]", "ENV A=b"};
  auto id = images_->import_image(src, o);
  ASSERT_TRUE(id) << id.error().to_string();

  auto j = images_->images().inspect("tx-imported:v2");
  ASSERT_TRUE(j) << j.error().to_string();
  EXPECT_EQ((*j)["Id"], id->str());
  EXPECT_EQ((*j)["RepoTags"], json::array({"tx-imported:v2"}));
  EXPECT_EQ((*j)["Comment"], "tx import");
  EXPECT_EQ((*j)["Os"], "linux");
  EXPECT_EQ((*j)["Architecture"], "amd64");
  EXPECT_EQ((*j)["Config"]["Cmd"], json::array({"/bin/sh"}));
  EXPECT_EQ((*j)["Config"]["Env"], json::array({"A=b"}));
  EXPECT_EQ((*j)["RootFS"]["Layers"], json::array({Digest::sha256_of(tar).str()}));
  EXPECT_EQ((*j)["Size"], 9);
  EXPECT_EQ(diff_file(*id, "hello.txt"), "hi there\n");
  // The image ID is the digest of the stored config.
  auto cfg = images_->content().read(id->digest());
  ASSERT_TRUE(cfg);
  EXPECT_EQ(Digest::sha256_of(*cfg), id->digest());
  auto hist = images_->images().history(id->str());
  ASSERT_TRUE(hist);
  EXPECT_EQ((*hist)[0]["Comment"], "tx import");
}

TEST_F(ImagesTest, ImportDefaultMessageAndCompressedStream) {
  std::string tar = layer_a();
  std::string gz = tb::compress(tar, Compression::Zstd);
  MemorySource src(gz);
  auto id = images_->import_image(src, {});
  ASSERT_TRUE(id) << id.error().to_string();
  auto rec = images_->images().get(*id);
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->config.comment, "Imported from -");
  EXPECT_EQ(rec->config.rootfs.diff_ids.at(0).digest(), Digest::sha256_of(tar));
  EXPECT_TRUE(rec->refs.empty());
  EXPECT_EQ(diff_file(*id, "bin/hello"), "hello\n");
}

TEST_F(ImagesTest, ImportRefusesBadChangesAndReferencesBeforeReading) {
  std::string tar = layer_a();
  for (const auto& [ref, change, msg] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"", "FOO bar", "foo is not a valid change command"},
           {"", "RUN true", "run is not a valid change command"},
           {"Bad:Ref", "", "invalid reference format"}}) {
    MemorySource src(tar);
    ImportOptions o;
    o.reference = ref;
    if (!change.empty()) {
      o.changes = {change};
    }
    auto id = images_->import_image(src, o);
    ASSERT_FALSE(id) << change;
    EXPECT_EQ(id.error().code(), base::ErrorCode::InvalidArgument);
    EXPECT_NE(id.error().message().find(msg), std::string::npos) << id.error().message();
  }
  expect_empty();
}

TEST_F(ImagesTest, ImportOfABadStreamLeavesNothing) {
  std::string tar = tb::make_tar({tb::file("../../etc/evil", "x")});
  MemorySource src(tar);
  auto id = images_->import_image(src, {});
  ASSERT_FALSE(id);
  EXPECT_NE(id.error().message().find("escapes"), std::string::npos) << id.error().message();
  expect_empty();
}

TEST_F(ImagesTest, LoadDockerSaveArchive) {
  std::vector<std::string> layers = {layer_a(), layer_b()};
  std::string config = config_for(layers);
  auto r = load(docker_save(layers, config, {"busybox:latest", "example.com/x/y:1"}));
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(r->images.size(), 1u);
  EXPECT_EQ(r->images[0].id.digest(), Digest::sha256_of(config));
  EXPECT_EQ(r->lines, (std::vector<std::string>{"Loaded image: busybox:latest",
                                                "Loaded image: example.com/x/y:1"}));
  auto rec = images_->images().get("busybox");
  ASSERT_TRUE(rec) << rec.error().to_string();
  EXPECT_EQ(rec->id, r->images[0].id);
  EXPECT_EQ(layer_dirs().size(), 2u);
  EXPECT_EQ(diff_file(rec->id, "etc/motd"), "welcome\n");
  // Kept: config, manifest, two layer blobs. Dropped: manifest.json, json, VERSION.
  EXPECT_EQ(blobs().size(), 4u);
  EXPECT_TRUE(blobs().contains(hex_of(layers[0])));
  EXPECT_FALSE(blobs().contains(hex_of("1.0")));

  // Loading it again changes nothing and takes no extra layer reference.
  auto again = load(docker_save(layers, config, {"busybox:latest"}));
  ASSERT_TRUE(again) << again.error().to_string();
  auto top = Images::top_layer(rec->config);
  EXPECT_EQ(images_->layers().get(*top)->refcount, 1u);
}

TEST_F(ImagesTest, LoadOciLayout) {
  std::vector<std::string> layers = {layer_a(), layer_b()};
  auto r = load(oci_tar(oci_parts(layers, "latest", "docker.io/library/ocitest:latest")));
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(r->images.size(), 1u);
  EXPECT_EQ(r->lines, std::vector<std::string>{"Loaded image: ocitest:latest"});
  auto rec = images_->images().get("ocitest:latest");
  ASSERT_TRUE(rec);
  EXPECT_EQ(diff_file(rec->id, "bin/.wh.hello"), "");
  EXPECT_EQ(rec->manifests.size(), 1u);
}

TEST_F(ImagesTest, LoadReportsNewLayersAndMovedTags) {
  std::vector<std::string> first = {layer_a()};
  std::vector<LoadedLayer> seen;
  LoadOptions opts;
  opts.on_layer = [&](const LoadedLayer& l) { seen.push_back(l); };
  std::string tar1 = oci_tar(oci_parts(first, "", "docker.io/library/moving:1"));
  MemorySource src1(tar1);
  auto r1 = images_->load(src1, opts);
  ASSERT_TRUE(r1) << r1.error().to_string();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].diff_id.digest(), Digest::sha256_of(layer_a()));

  // The second image shares the base: only its own layer is reported, and the tag moves.
  std::vector<std::string> second = {layer_a(), layer_b()};
  std::string tar2 = oci_tar(oci_parts(second, "", "docker.io/library/moving:1"));
  MemorySource src2(tar2);
  seen.clear();
  auto r2 = images_->load(src2, opts);
  ASSERT_TRUE(r2) << r2.error().to_string();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].diff_id.digest(), Digest::sha256_of(layer_b()));
  EXPECT_EQ(r2->lines,
            (std::vector<std::string>{"The image moving:1 already exists, renaming the old one "
                                      "with ID " +
                                          r1->images[0].id.str() + " to empty string",
                                      "Loaded image: moving:1"}));
  // The old image is now dangling but still whole.
  auto old = images_->images().get(r1->images[0].id);
  ASSERT_TRUE(old);
  EXPECT_TRUE(old->refs.empty());
}

TEST_F(ImagesTest, LoadOciLayoutWithABareTagIsUntagged) {
  auto r = load(oci_tar(oci_parts({layer_a()}, "v1", "")));
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(r->lines.size(), 1u);
  EXPECT_EQ(r->lines[0], "Loaded image ID: " + r->images[0].id.str());
}

TEST_F(ImagesTest, LoadOciLayoutPicksThisPlatformFromANestedIndex) {
  OciParts amd = oci_parts({layer_a()}, "", "");
  OciParts arm = oci_parts({layer_b()}, "", "");
  auto desc = [](const std::string& manifest, const std::string& arch) {
    return json{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                {"digest", Digest::sha256_of(manifest).str()},
                {"size", manifest.size()},
                {"platform", {{"architecture", arch}, {"os", "linux"}}}};
  };
  std::string nested =
      json{{"schemaVersion", 2},
           {"mediaType", "application/vnd.oci.image.index.v1+json"},
           {"manifests", {desc(arm.manifest, "arm64"), desc(amd.manifest, "amd64")}}}
          .dump();
  json top = {{"mediaType", "application/vnd.oci.image.index.v1+json"},
              {"digest", Digest::sha256_of(nested).str()},
              {"size", nested.size()},
              {"annotations", {{"io.containerd.image.name", "docker.io/library/multi:1"}}}};
  std::vector<tb::TarEntry> e;
  e.push_back(tb::file("index.json", json{{"schemaVersion", 2}, {"manifests", {top}}}.dump()));
  e.push_back(tb::file("blobs/sha256/" + hex_of(nested), nested));
  for (const OciParts* p : {&amd, &arm}) {
    e.push_back(tb::file("blobs/sha256/" + hex_of(p->layer_blobs[0]), p->layer_blobs[0]));
    e.push_back(tb::file("blobs/sha256/" + hex_of(p->config), p->config));
    e.push_back(tb::file("blobs/sha256/" + hex_of(p->manifest), p->manifest));
  }
  auto r = load(tb::make_tar(e));
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(r->images.size(), 1u);
  EXPECT_EQ(r->images[0].id.digest(), Digest::sha256_of(amd.config));
  EXPECT_EQ(r->lines, std::vector<std::string>{"Loaded image: multi:1"});
  // The arm64 image's blobs were brought by the archive but belong to no image: dropped.
  EXPECT_FALSE(blobs().contains(hex_of(arm.config)));
  EXPECT_FALSE(blobs().contains(hex_of(nested)));
  EXPECT_EQ(layer_dirs().size(), 1u);
}

TEST_F(ImagesTest, SaveLoadRoundTripKeepsIdAndTags) {
  std::vector<std::string> layers = {layer_a(), layer_b()};
  auto r1 = load(oci_tar(oci_parts(layers, "", "docker.io/library/round:trip")));
  ASSERT_TRUE(r1) << r1.error().to_string();
  std::string imp_tar = layer_a();
  MemorySource imp(imp_tar);
  ImportOptions io;
  io.reference = "imported";
  auto imported = images_->import_image(imp, io);
  ASSERT_TRUE(imported);

  std::string tar = save({"round:trip", "imported"});
  // Both a docker-save archive and an OCI layout, layers uncompressed under their DiffIDs.
  std::set<std::string> names;
  {
    MemorySource src(tar);
    auto reader = archive::TarReader::open(src);
    ASSERT_TRUE(reader);
    while (auto h = reader->next()) {
      if (!*h) {
        break;
      }
      names.insert((*h)->name);
    }
  }
  for (const char* n : {"oci-layout", "index.json", "manifest.json", "repositories"}) {
    EXPECT_TRUE(names.contains(n)) << n;
  }
  EXPECT_TRUE(names.contains("blobs/sha256/" + hex_of(layers[0])));
  EXPECT_TRUE(names.contains("blobs/sha256/" + hex_of(layers[1])));
  EXPECT_TRUE(names.contains("blobs/sha256/" + std::string(r1->images[0].id.hex())));

  testing::TempDir other;
  auto second = open(other.path() + "/root");
  ASSERT_TRUE(second);
  MemorySource src(tar);
  auto r2 = second->load(src);
  ASSERT_TRUE(r2) << r2.error().to_string();
  ASSERT_EQ(r2->images.size(), 2u);
  EXPECT_EQ(r2->images[0].id, r1->images[0].id);
  EXPECT_EQ(r2->images[0].tags, std::vector<std::string>{"round:trip"});
  EXPECT_EQ(r2->images[1].id, *imported);
  EXPECT_EQ(r2->images[1].tags, std::vector<std::string>{"imported:latest"});
  auto got = second->images().resolve("imported:latest");
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, *imported);

  // A second save of the same images gives the same bytes.
  EXPECT_EQ(save({"round:trip", "imported"}), tar);
}

TEST_F(ImagesTest, SaveUnknownImageWritesNothing) {
  std::string out;
  auto r = images_->save({"nosuch"}, [&](std::string_view d) {
    out.append(d);
    return base::ok();
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), base::ErrorCode::NotFound);
  EXPECT_EQ(r.error().message(), "No such image: nosuch");
  EXPECT_TRUE(out.empty());
}

struct BadArchive {
  std::string name;
  std::function<std::string()> make;
  std::string error;  // a substring of the message
};

class ImagesBadLoadTest : public ImagesTest, public ::testing::WithParamInterface<BadArchive> {};

TEST_P(ImagesBadLoadTest, FailsAndLeavesNothing) {
  auto r = load(GetParam().make());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), base::ErrorCode::InvalidArgument) << r.error().to_string();
  EXPECT_NE(r.error().to_string().find(GetParam().error), std::string::npos)
      << r.error().to_string();
  expect_empty();
}

std::string with_layer_replaced(const std::string& bad) {
  std::vector<std::string> layers = {layer_a()};
  std::string config = config_for(layers);
  return docker_save({bad}, config, {"x:1"});
}

INSTANTIATE_TEST_SUITE_P(
    Table, ImagesBadLoadTest,
    ::testing::Values(
        BadArchive{"Garbage", [] { return std::string("not a tar\n"); }, "invalid archive"},
        BadArchive{"Truncated",
                   [] {
                     std::vector<std::string> l = {layer_a(), layer_b()};
                     std::string whole = docker_save(l, config_for(l), {"x:1"});
                     return whole.substr(0, whole.size() / 2 + 100);
                   },
                   "truncated"},
        BadArchive{
            "DotDotMember",
            [] {
              return tb::make_tar({tb::file("../evil", "x"), tb::file("manifest.json", "[]")});
            },
            "escapes the archive root"},
        BadArchive{"AbsoluteMember", [] { return tb::make_tar({tb::file("/etc/evil", "x")}); },
                   "absolute"},
        BadArchive{"OciDigestMismatch",
                   [] {
                     OciParts p = oci_parts({layer_a()}, "", "a:b");
                     std::vector<tb::TarEntry> e;
                     e.push_back(tb::file("index.json", p.index));
                     e.push_back(tb::file("blobs/sha256/" + hex_of(p.layer_blobs[0]),
                                          p.layer_blobs[0] + "tampered"));
                     return tb::make_tar(e);
                   },
                   "digest mismatch"},
        BadArchive{"OciManifestNamesMissingBlob",
                   [] {
                     OciParts p = oci_parts({layer_a(), layer_b()}, "", "a:b");
                     p.layer_blobs.pop_back();
                     return oci_tar(p);
                   },
                   "is missing from the archive"},
        BadArchive{"DockerManifestNamesMissingLayer",
                   [] {
                     std::string config = config_for({layer_a()});
                     json m = json::array({{{"Config", hex_of(config) + ".json"},
                                            {"RepoTags", {"x:1"}},
                                            {"Layers", {"nope/layer.tar"}}}});
                     return tb::make_tar({tb::file(hex_of(config) + ".json", config),
                                          tb::file("manifest.json", m.dump())});
                   },
                   "`nope/layer.tar` named by `manifest.json[0]` is missing from the archive"},
        BadArchive{"DiffIdMismatch", [] { return with_layer_replaced(layer_b()); },
                   "diff id mismatch"},
        BadArchive{"BadLayerEntry",
                   [] {
                     std::string evil = tb::make_tar({tb::file("../../etc/x", "x")});
                     return docker_save({evil}, config_for({evil}), {"x:1"});
                   },
                   "escapes"},
        BadArchive{"LayerCountMismatch",
                   [] {
                     return docker_save({layer_a()}, config_for({layer_a(), layer_b()}), {});
                   },
                   "1 layers, but config"},
        BadArchive{"NoManifest", [] { return tb::make_tar({tb::file("hello", "x")}); },
                   "neither `manifest.json` nor `index.json`"}),
    [](const ::testing::TestParamInfo<BadArchive>& i) { return i.param.name; });

TEST_F(ImagesTest, FailedLoadKeepsWhatOtherImagesShare) {
  std::string imp_tar = layer_a();
  MemorySource imp(imp_tar);
  auto id = images_->import_image(imp, {});
  ASSERT_TRUE(id);
  auto before_blobs = blobs();
  auto before_layers = layer_dirs();
  // Same base layer, then a broken one: the shared base must survive the cleanup.
  std::vector<std::string> layers = {layer_a(), layer_b()};
  std::string config = config_for({layer_a(), layer_a()});
  ASSERT_FALSE(load(docker_save(layers, config, {"x:1"})));
  EXPECT_EQ(blobs(), before_blobs);
  EXPECT_EQ(layer_dirs(), before_layers);
  auto top = Images::top_layer(images_->images().get(*id)->config);
  EXPECT_EQ(images_->layers().get(*top)->refcount, 1u);
}

TEST_F(ImagesTest, ConcurrentLoadsOfOneImageTakeOneReference) {
  std::vector<std::string> layers = {layer_a(), layer_b()};
  std::string config = config_for(layers);
  std::string docker = docker_save(layers, config, {"same:1"});
  std::string oci = oci_tar(oci_parts(layers, "", "docker.io/library/same:2"));
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      const std::string& tar = i % 2 == 0 ? docker : oci;
      MemorySource src(tar);
      if (!images_->load(src)) {
        ++failures;
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(failures.load(), 0);
  ASSERT_EQ(images_->images().images().size(), 1u);
  auto rec = images_->images().get("same:2");
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->refs.size(), 2u);
  EXPECT_EQ(images_->layers().get(*Images::top_layer(rec->config))->refcount, 1u);
  EXPECT_EQ(layer_dirs().size(), 2u);
  // Reopening finds nothing to repair.
  reopen();
  for (const std::string& line : images_->recovery_log()) {
    ADD_FAILURE() << line;
  }
}

TEST_F(ImagesTest, LoadDoesNotReReadAVerifiedSharedCompressedBlob) {
  // The first load unpacks gzip(layer_a): that verifies the pair blob -> DiffID.
  ASSERT_TRUE(load(oci_tar(oci_parts({layer_a()}, "", "docker.io/library/base:1"))));
  EXPECT_EQ(images_->layer_rechecks_for_test(), 0u);
  // The second shares the gzipped base: the existing layer's blob is not decompressed again.
  auto r = load(oci_tar(oci_parts({layer_a(), layer_b()}, "", "docker.io/library/app:1")));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(images_->layer_rechecks_for_test(), 0u);
  // The pair is durable: a reopened service still knows it.
  reopen();
  r = load(oci_tar(oci_parts({layer_a(), layer_b()}, "", "docker.io/library/app:2")));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(images_->layer_rechecks_for_test(), 0u);
  EXPECT_EQ(images_->images().images().size(), 2u);
}

TEST_F(ImagesTest, LoadChecksAnUnverifiedCompressedBlobOfAnExistingLayerOnce) {
  // The layer comes in uncompressed, so gzip(layer_a) was never seen.
  std::vector<std::string> base = {layer_a()};
  ASSERT_TRUE(load(docker_save(base, config_for(base), {"base:1"})));
  auto r = load(oci_tar(oci_parts({layer_a()}, "", "docker.io/library/gz:1")));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(images_->layer_rechecks_for_test(), 1u);
  // Checked once, it is trusted afterwards.
  r = load(oci_tar(oci_parts({layer_a(), layer_b()}, "", "docker.io/library/gz:2")));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(images_->layer_rechecks_for_test(), 1u);
}

TEST_F(ImagesTest, LoadRefusesACompressedBlobThatIsNotTheExistingLayer) {
  // layer_a exists and gzip(layer_a) is verified; gzip(layer_b) under layer_a's DiffID is a
  // different, never verified blob: it must be decompressed and refused.
  ASSERT_TRUE(load(oci_tar(oci_parts({layer_a()}, "", "docker.io/library/base:1"))));
  auto before_blobs = blobs();
  auto r = load(oci_tar(
      oci_parts({layer_b()}, "", "docker.io/library/evil:1", std::vector<std::string>{layer_a()})));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), base::ErrorCode::InvalidArgument);
  EXPECT_NE(r.error().to_string().find("diff id mismatch"), std::string::npos)
      << r.error().to_string();
  EXPECT_EQ(images_->layer_rechecks_for_test(), 1u);
  EXPECT_EQ(blobs(), before_blobs);
  EXPECT_EQ(images_->images().images().size(), 1u);
  // A refused pair is not remembered: it is refused again.
  r = load(oci_tar(
      oci_parts({layer_b()}, "", "docker.io/library/evil:1", std::vector<std::string>{layer_a()})));
  ASSERT_FALSE(r);
  EXPECT_EQ(images_->layer_rechecks_for_test(), 2u);
}

TEST_F(ImagesTest, StartUpRecoveryRemovesCrashLeftovers) {
  std::string imp_tar = layer_a();
  MemorySource imp(imp_tar);
  ImportOptions io;
  io.reference = "keep:me";
  auto kept = images_->import_image(imp, io);
  ASSERT_TRUE(kept);
  auto kept_blobs = blobs();
  auto kept_layers = layer_dirs();

  // What a kill -9 in the middle of a load leaves: a half ingest, a half unpacked layer, blobs
  // no image names, and a layer whose reference no image took.
  ASSERT_TRUE(base::write_file_atomic(root() + "/content/ingest/partial-123", "half a blob"));
  ASSERT_TRUE(base::mkdir_all(root() + "/layers/tmp/unpack-456/diff"));
  ASSERT_TRUE(images_->content().write_blob("orphan config"));
  std::string orphan_tar = layer_b();
  MemorySource orphan(orphan_tar);
  auto reg = images_->layers().register_layer(std::nullopt, orphan);
  ASSERT_TRUE(reg);
  // And a reference the kept image's layer never got back (a load of the same image).
  auto top = Images::top_layer(images_->images().get(*kept)->config);
  ASSERT_TRUE(images_->layers().retain(*top));

  reopen();
  ASSERT_TRUE(images_);
  EXPECT_EQ(blobs(), kept_blobs);
  EXPECT_EQ(layer_dirs(), kept_layers);
  EXPECT_EQ(list_dir(root() + "/content/ingest"), std::set<std::string>{});
  EXPECT_EQ(list_dir(root() + "/layers/tmp"), std::set<std::string>{});
  EXPECT_EQ(images_->layers().get(*top)->refcount, 1u);
  EXPECT_FALSE(images_->recovery_log().empty());
  auto rec = images_->images().get("keep:me");
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->id, *kept);
}

TEST_F(ImagesTest, RecoveryKeepsContainerReferencesAndDropsImagesWithoutLayers) {
  std::string imp_tar = layer_a();
  MemorySource imp(imp_tar);
  auto id = images_->import_image(imp, {});
  ASSERT_TRUE(id);
  auto top = *Images::top_layer(images_->images().get(*id)->config);
  ASSERT_TRUE(images_->layers().retain(top));  // a container's RW layer

  images_.reset();
  ImagesOptions o;
  o.layers.whiteouts = layers::WhiteoutFormat::Keep;
  o.layers.preserve_owners = false;
  o.layers.sync = false;
  o.container_layers = [top]() -> base::Result<std::vector<ChainId>> {
    return std::vector<ChainId>{top};
  };
  auto r = Images::open(root(), o);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ((*r)->layers().get(top)->refcount, 2u);

  // The same reference found through a snapshotter root instead (<root>/<key>/parent);
  // an in-progress `.tmp-*` key holds none.
  r->reset();
  std::string snaps = tmp_.path() + "/rw";
  ASSERT_TRUE(base::mkdir_all(snaps + "/c1"));
  ASSERT_TRUE(base::write_file_atomic(snaps + "/c1/parent", top.str()));
  ASSERT_TRUE(base::mkdir_all(snaps + "/.tmp-c2"));
  ASSERT_TRUE(base::write_file_atomic(snaps + "/.tmp-c2/parent", top.str()));
  ImagesOptions o2 = o;
  o2.container_layers = nullptr;
  o2.snapshot_roots = {snaps};
  auto via_snaps = Images::open(root(), o2);
  ASSERT_TRUE(via_snaps) << via_snaps.error().to_string();
  EXPECT_EQ((*via_snaps)->layers().get(top)->refcount, 2u);
  via_snaps->reset();
  r = Images::open(root(), o);
  ASSERT_TRUE(r) << r.error().to_string();

  // A layer lost behind the store's back: the image cannot run and goes.
  ASSERT_TRUE(base::remove_all(root() + "/layers/" + std::string(top.hex())));
  r->reset();
  auto r2 = Images::open(root(), o);
  ASSERT_TRUE(r2) << r2.error().to_string();
  EXPECT_TRUE((*r2)->images().images().empty());
}

TEST_F(ImagesTest, RemoveAndPruneCollectBlobsAndLayers) {
  std::string a_tar = layer_a();
  MemorySource a(a_tar);
  ImportOptions io;
  io.reference = "tagged:1";
  ASSERT_TRUE(images_->import_image(a, io));
  std::string b_tar = layer_b();
  MemorySource b(b_tar);
  ASSERT_TRUE(images_->import_image(b, {}));  // dangling
  EXPECT_EQ(layer_dirs().size(), 2u);

  auto pruned = images_->prune();
  ASSERT_TRUE(pruned) << pruned.error().to_string();
  EXPECT_EQ(images_->images().images().size(), 1u);
  EXPECT_EQ(layer_dirs().size(), 1u);
  EXPECT_EQ(blobs().size(), 3u);  // config, manifest, layer of tagged:1

  auto removed = images_->remove("tagged:1");
  ASSERT_TRUE(removed) << removed.error().to_string();
  expect_empty();
}

TEST_F(ImagesTest, ExportWritesTheTreeInOrder) {
  std::string dir = tmp_.path() + "/fs";
  ASSERT_TRUE(base::mkdir_all(dir + "/b/sub"));
  ASSERT_TRUE(base::write_file_atomic(dir + "/b/file", "data"));
  ASSERT_TRUE(base::write_file_atomic(dir + "/a", "first"));
  ASSERT_EQ(::symlink("/etc/passwd", (dir + "/link").c_str()), 0);
  ASSERT_EQ(::link((dir + "/a").c_str(), (dir + "/b/hard").c_str()), 0);
  std::string out;
  auto r = images_->export_rootfs(dir, [&](std::string_view d) {
    out.append(d);
    return base::ok();
  });
  ASSERT_TRUE(r) << r.error().to_string();
  MemorySource src(out);
  auto reader = archive::TarReader::open(src);
  ASSERT_TRUE(reader);
  std::vector<std::string> seen;
  for (;;) {
    auto h = reader->next();
    ASSERT_TRUE(h) << h.error().to_string();
    if (!*h) {
      break;
    }
    std::string kind;
    switch ((*h)->type) {
      case archive::TarEntryHeader::Type::File:
        kind = "f";
        break;
      case archive::TarEntryHeader::Type::Dir:
        kind = "d";
        break;
      case archive::TarEntryHeader::Type::Symlink:
        kind = "l>" + (*h)->link;
        break;
      case archive::TarEntryHeader::Type::Hardlink:
        kind = "h>" + (*h)->link;
        break;
      default:
        kind = "?";
    }
    std::string name = (*h)->name;
    if (!name.empty() && name.back() == '/') {
      name.pop_back();
    }
    seen.push_back(name + " " + kind);
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"a f", "b d", "b/file f", "b/hard h>a", "b/sub d",
                                            "link l>/etc/passwd"}));
}

}  // namespace
}  // namespace mydocker::image

namespace mydocker::image {
namespace {

// A real kill -9: a child process streams an archive from a pipe; the parent stops feeding it
// at `cut` bytes before the end, waits until the child has committed `wait_blobs` blobs, and
// kills it. Reopening must then show nothing of it.
class ImagesKillTest : public ImagesTest {
 protected:
  void kill_during(const std::string& data, size_t cut, bool import, size_t wait_blobs) {
    images_.reset();  // one process per data root
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[1]);
      auto images = open(root());
      if (!images) {
        ::_exit(2);
      }
      layers::FdSource src(fds[0]);
      if (import) {
        (void)(*images).import_image(src, {});
      } else {
        (void)(*images).load(src);
      }
      ::_exit(0);
    }
    ::close(fds[0]);
    base::Fd w = base::Fd::adopt(fds[1]);
    ASSERT_TRUE(base::write_all(w.get(), std::string_view(data).substr(0, data.size() - cut)));
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (
        (blobs().size() < wait_blobs || (import && list_dir(root() + "/content/ingest").empty())) &&
        std::chrono::steady_clock::now() < deadline) {
      ::usleep(10000);
    }
    EXPECT_GE(blobs().size(), wait_blobs);
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFSIGNALED(status));
    images_ = open(root());
    ASSERT_TRUE(images_);
    expect_empty();
  }
};

TEST_F(ImagesKillTest, KillDuringLoadLeavesNoImage) {
  std::vector<std::string> layers = {layer_a(), layer_b()};
  std::string tar = docker_save(layers, config_for(layers), {"killed:1"});
  // Everything but manifest.json's tail has arrived: the layer blobs are committed.
  kill_during(tar, 1024 + 512, /*import=*/false, 2);
}

TEST_F(ImagesKillTest, KillDuringImportLeavesNoImage) {
  std::string big = tb::make_tar({tb::file("big", std::string(4 << 20, 'x'))});
  kill_during(big, 1 << 20, /*import=*/true, 0);
}

}  // namespace
}  // namespace mydocker::image
