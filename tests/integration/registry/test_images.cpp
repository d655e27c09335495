// SPDX-License-Identifier: Apache-2.0
#include "tests/integration/registry/test_images.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <nlohmann/json.hpp>

#include "image/layers/source.h"
#include "tests/unit/image/layers/tar_builder.h"

namespace mydocker::testing {

namespace tb = image::layers::testing;
using image::Digest;
using nlohmann::json;

std::unique_ptr<image::Images> open_store(const std::string& root) {
  image::ImagesOptions o;
  o.layers.whiteouts = image::layers::WhiteoutFormat::Keep;
  o.layers.preserve_owners = false;
  o.layers.sync = false;
  o.architecture = "amd64";
  auto r = image::Images::open(root, o);
  EXPECT_TRUE(r) << r.error().to_string();
  return r ? std::move(*r) : nullptr;
}

TestImage make_image(const std::vector<std::string>& files, size_t pad) {
  TestImage img;
  json diff_ids = json::array();
  json layers = json::array();
  for (const std::string& f : files) {
    std::string body = f + "\n";
    uint64_t x = 14695981039346656037ull;  // FNV-1a of the name seeds the bytes
    for (char c : f) {
      x = (x ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    }
    for (size_t i = 0; i < pad; ++i) {
      x ^= x << 13;  // xorshift64: incompressible for gzip
      x ^= x >> 7;
      x ^= x << 17;
      body.push_back(static_cast<char>(x >> 56));
    }
    std::string tar = tb::make_tar({tb::dir("data"), tb::file("data/" + f, body)});
    std::string gz = tb::compress(tar, image::layers::Compression::Gzip);
    diff_ids.push_back(Digest::sha256_of(tar).str());
    layers.push_back({{"mediaType", "application/vnd.docker.image.rootfs.diff.tar.gzip"},
                      {"digest", Digest::sha256_of(gz).str()},
                      {"size", gz.size()}});
    img.layer_tars.push_back(tar);
    img.layer_blobs.push_back(gz);
  }
  json cfg = {{"architecture", "amd64"},
              {"os", "linux"},
              {"created", "2024-01-01T00:00:00Z"},
              {"config", {{"Cmd", {"/bin/sh"}}}},
              {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
  img.config = cfg.dump();
  json m = {{"schemaVersion", 2},
            {"mediaType", "application/vnd.docker.distribution.manifest.v2+json"},
            {"config",
             {{"mediaType", "application/vnd.docker.container.image.v1+json"},
              {"digest", Digest::sha256_of(img.config).str()},
              {"size", img.config.size()}}},
            {"layers", layers}};
  img.manifest = m.dump();
  img.id = image::ImageId(Digest::sha256_of(img.config));
  return img;
}

void load_image(image::Images& images, const TestImage& img, const std::string& ref) {
  json desc = {{"mediaType", "application/vnd.docker.distribution.manifest.v2+json"},
               {"digest", Digest::sha256_of(img.manifest).str()},
               {"size", img.manifest.size()},
               {"annotations", {{"io.containerd.image.name", ref}}}};
  std::string index = json{{"schemaVersion", 2}, {"manifests", {desc}}}.dump();
  std::vector<tb::TarEntry> e;
  e.push_back(tb::file("oci-layout", R"({"imageLayoutVersion":"1.0.0"})"));
  e.push_back(tb::file("index.json", index));
  for (const auto& b : img.layer_blobs) {
    e.push_back(tb::file("blobs/sha256/" + std::string(Digest::sha256_of(b).hex()), b));
  }
  e.push_back(
      tb::file("blobs/sha256/" + std::string(Digest::sha256_of(img.config).hex()), img.config));
  e.push_back(
      tb::file("blobs/sha256/" + std::string(Digest::sha256_of(img.manifest).hex()), img.manifest));
  std::string tar = tb::make_tar(e);
  image::layers::MemorySource src(tar);
  auto r = images.load(src);
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(r->images.size(), 1u);
  ASSERT_EQ(r->images[0].id, img.id);
}

}  // namespace mydocker::testing
