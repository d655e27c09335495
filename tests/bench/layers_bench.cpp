// SPDX-License-Identifier: Apache-2.0
// layers_bench BLOB TARGET_DIR: unpacks one layer blob (tar, tar+gzip or tar+zstd) into an
// existing empty directory with the layer store's settings (owners kept when root, overlay
// whiteouts) and prints the wall time and the digests. Driven by tests/bench/layers.sh.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "image/layers/unpack.h"

int main(int argc, char** argv) {
  using namespace mydocker;
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s BLOB TARGET_DIR\n", argv[0]);
    return 2;
  }
  auto start = std::chrono::steady_clock::now();
  auto src = image::layers::FileSource::open(argv[1]);
  if (!src) {
    std::fprintf(stderr, "layers_bench: %s\n", src.error().to_string().c_str());
    return 1;
  }
  auto root = base::Fd::open(argv[2], O_RDONLY | O_DIRECTORY);
  if (!root) {
    std::fprintf(stderr, "layers_bench: %s\n", root.error().to_string().c_str());
    return 1;
  }
  image::layers::UnpackOptions opts;
  opts.preserve_owners = ::geteuid() == 0;
  opts.whiteouts = ::geteuid() == 0 ? image::layers::WhiteoutFormat::Overlay
                                    : image::layers::WhiteoutFormat::Keep;
  auto r = image::layers::unpack(*src, *root, opts);
  if (!r) {
    std::fprintf(stderr, "layers_bench: %s\n", r.error().to_string().c_str());
    return 1;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%.3f %s %s %llu entries\n", secs, r->diff_id.str().c_str(),
              std::string(image::layers::compression_name(r->compression)).c_str(),
              static_cast<unsigned long long>(r->entries));
  return 0;
}
