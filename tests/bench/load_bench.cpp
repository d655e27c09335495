// SPDX-License-Identifier: Apache-2.0
// load_bench [--no-sync] DATA_ROOT ARCHIVE: `docker load` of a docker-save / OCI archive into
// the image service at DATA_ROOT (created if missing; an existing root is reused, so a second
// image can be loaded on top of a first) with the settings a daemon uses (owners kept and
// overlay whiteouts when root; layers synced to disk unless --no-sync). Prints one line:
//   <load ms> ms load, <n> layers unpacked (<bytes> blob bytes), open <ms> ms
// where "unpacked" counts LoadOptions::on_layer calls, i.e. layers that were not in the store
// yet. Exit status 1 on any error. Driven by tests/bench/load.sh.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "image/archive/images.h"
#include "image/layers/source.h"

namespace {

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace mydocker;
  bool sync = true;
  int arg = 1;
  if (arg < argc && std::strcmp(argv[arg], "--no-sync") == 0) {
    sync = false;
    ++arg;
  }
  if (argc - arg != 2) {
    std::fprintf(stderr, "usage: %s [--no-sync] DATA_ROOT ARCHIVE\n", argv[0]);
    return 2;
  }
  const std::string root = argv[arg];
  const std::string archive = argv[arg + 1];

  auto start = std::chrono::steady_clock::now();
  image::ImagesOptions opts;
  const bool is_root = ::geteuid() == 0;
  opts.layers.preserve_owners = is_root;
  opts.layers.whiteouts =
      is_root ? image::layers::WhiteoutFormat::Overlay : image::layers::WhiteoutFormat::Keep;
  opts.layers.sync = sync;
  auto images = image::Images::open(root, opts);
  if (!images) {
    std::fprintf(stderr, "load_bench: %s\n", images.error().to_string().c_str());
    return 1;
  }
  const double open_ms = ms_since(start);

  start = std::chrono::steady_clock::now();
  auto src = image::layers::FileSource::open(archive);
  if (!src) {
    std::fprintf(stderr, "load_bench: %s\n", src.error().to_string().c_str());
    return 1;
  }
  int unpacked = 0;
  long long unpacked_bytes = 0;
  image::LoadOptions load_opts;
  load_opts.on_layer = [&](const image::LoadedLayer& l) {
    ++unpacked;
    unpacked_bytes += l.size;
  };
  auto r = (*images)->load(*src, load_opts);
  if (!r) {
    std::fprintf(stderr, "load_bench: %s\n", r.error().to_string().c_str());
    return 1;
  }
  const double load_ms = ms_since(start);
  for (const auto& line : r->lines) std::fprintf(stderr, "%s\n", line.c_str());
  std::printf("%.1f ms load, %d layers unpacked (%lld blob bytes), open %.1f ms\n", load_ms,
              unpacked, unpacked_bytes, open_ms);
  return 0;
}
