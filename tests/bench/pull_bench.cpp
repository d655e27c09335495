// SPDX-License-Identifier: Apache-2.0
// pull_bench [--parallel N] [--no-sync] DATA_ROOT REFERENCE: `docker pull` of REFERENCE (a
// registry on 127.0.0.1, insecure as loopback registries are) into the image service at
// DATA_ROOT (created if missing), with the settings a daemon uses (owners kept and overlay
// whiteouts when root; layers synced unless --no-sync). Prints one line:
//   <pull ms> ms pull, <n> layers downloaded, image <id>
// Exit status 1 on any error. Driven by tests/bench/pull.sh.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "image/archive/images.h"
#include "image/registry/client.h"
#include "image/registry/pull.h"

int main(int argc, char** argv) {
  using namespace mydocker;
  int parallel = 3;
  bool sync = true;
  int arg = 1;
  while (arg < argc && argv[arg][0] == '-') {
    if (std::strcmp(argv[arg], "--parallel") == 0 && arg + 1 < argc) {
      parallel = std::atoi(argv[arg + 1]);
      arg += 2;
    } else if (std::strcmp(argv[arg], "--no-sync") == 0) {
      sync = false;
      ++arg;
    } else {
      break;
    }
  }
  if (argc - arg != 2) {
    std::fprintf(stderr, "usage: %s [--parallel N] [--no-sync] DATA_ROOT REFERENCE\n", argv[0]);
    return 2;
  }
  image::ImagesOptions opts;
  const bool is_root = ::geteuid() == 0;
  opts.layers.preserve_owners = is_root;
  opts.layers.whiteouts =
      is_root ? image::layers::WhiteoutFormat::Overlay : image::layers::WhiteoutFormat::Keep;
  opts.layers.sync = sync;
  auto images = image::Images::open(argv[arg], opts);
  if (!images) {
    std::fprintf(stderr, "pull_bench: %s\n", images.error().to_string().c_str());
    return 1;
  }
  auto ref = image::reference::Reference::parse(argv[arg + 1]);
  if (!ref) {
    std::fprintf(stderr, "pull_bench: %s\n", ref.error().to_string().c_str());
    return 1;
  }
  auto start = std::chrono::steady_clock::now();
  image::registry::Client client(ref->domain(), image::registry::RegistryOptions{});
  image::registry::PullOptions po;
  po.parallel = parallel;
  auto r = image::registry::pull(**images, client, *ref, po);
  if (!r) {
    std::fprintf(stderr, "pull_bench: %s\n", r.error().to_string().c_str());
    return 1;
  }
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::printf("%.1f ms pull, %zu layers downloaded, image %s\n", ms, r->layers_downloaded,
              r->id.str().c_str());
  return 0;
}
