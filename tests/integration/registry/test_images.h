// SPDX-License-Identifier: Apache-2.0
// Test helper: small multi-layer images built in memory and loaded into an Images store (as an
// OCI layout through Images::load), so registry tests can push them.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "image/archive/images.h"

namespace mydocker::testing {

// An unprivileged store (Keep whiteouts, no chown, no syncfs).
std::unique_ptr<image::Images> open_store(const std::string& root);

struct TestImage {
  std::vector<std::string> layer_tars;   // uncompressed
  std::vector<std::string> layer_blobs;  // gzip, as loaded and pushed
  std::string config;
  std::string manifest;
  image::ImageId id;
};

// An image whose layers hold one file each: `files[i]` -> layer i has /data/<files[i]> with
// content `files[i]` (then `pad` pseudo-random, incompressible bytes, so a layer blob can be
// made large enough to be read in many blocks). Deterministic: the same arguments give the
// same image.
TestImage make_image(const std::vector<std::string>& files, size_t pad = 0);

// Loads `img` into `images` and names it `ref` (a full reference with tag).
void load_image(image::Images& images, const TestImage& img, const std::string& ref);

}  // namespace mydocker::testing
