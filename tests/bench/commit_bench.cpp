// SPDX-License-Identifier: Apache-2.0
// commit_bench DIR [MB] [FILES] [RUNS]: image/archive's commit() of a changes directory of MB
// megabytes in FILES files (a build's COPY step) on a fresh data root under DIR, with the
// daemon's store options (overlay whiteouts, owners kept, layers synced). Prints each phase's
// median in ms: writing the tar into the content store, the whole commit, and a metadata-only
// commit. Needs root (overlay whiteout format).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "image/archive/commit.h"
#include "image/archive/images.h"
#include "runtime/base/file.h"

namespace {

using namespace mydocker;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point s) {
  return std::chrono::duration<double, std::milli>(Clock::now() - s).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

int fail(const base::Error& e) {
  std::fprintf(stderr, "commit_bench: %s\n", e.to_string().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: commit_bench DIR [MB] [FILES] [RUNS]\n");
    return 2;
  }
  std::string dir = argv[1];
  int mb = argc > 2 ? std::atoi(argv[2]) : 20;
  int files = argc > 3 ? std::atoi(argv[3]) : 140;
  int runs = argc > 4 ? std::atoi(argv[4]) : 5;

  std::string changes = dir + "/changes";
  if (auto r = base::mkdir_all(changes + "/app/data"); !r) {
    return fail(r.error());
  }
  std::mt19937_64 rng(7);
  size_t per_file = (static_cast<size_t>(mb) << 20) / static_cast<size_t>(files);
  std::string data(per_file, '\0');
  for (int i = 0; i < files; ++i) {
    for (auto& c : data) {
      c = static_cast<char>(rng());
    }
    if (auto r = base::write_file(changes + "/app/data/f" + std::to_string(i), data, O_CREAT); !r) {
      return fail(r.error());
    }
  }

  image::ImagesOptions o;
  // COMMIT_BENCH_NOSYNC=1: layers not synced (what the cost of LayerStore's syncfs is).
  const char* nosync = std::getenv("COMMIT_BENCH_NOSYNC");
  o.layers.sync = nosync == nullptr || std::string(nosync) != "1";
  auto images = image::Images::open(dir + "/root", o);
  if (!images) {
    return fail(images.error());
  }
  image::content::ImageConfig cfg;
  cfg.os = "linux";
  cfg.architecture = "amd64";
  cfg.created = "2026-11-30T00:00:00Z";
  cfg.history.push_back({});

  std::vector<double> tar_ms, commit_ms, meta_ms;
  for (int i = 0; i < runs; ++i) {
    auto s = Clock::now();
    auto w = (*images)->content().ingest();
    if (!w) {
      return fail(w.error());
    }
    auto r = image::archive::write_changes_tar(changes, {},
                                               [&](std::string_view d) { return w->write(d); });
    if (!r) {
      return fail(r.error());
    }
    w->abort();
    tar_ms.push_back(ms_since(s));

    image::archive::CommitRequest req;
    req.config = cfg;
    req.config.created = "2026-11-30T00:00:0" + std::to_string(i) + "Z";  // a new image each run
    req.changes_dir = changes;
    s = Clock::now();
    auto c = image::archive::commit(**images, req);
    if (!c) {
      return fail(c.error());
    }
    commit_ms.push_back(ms_since(s));

    image::archive::CommitRequest meta;
    meta.parent = c->id;
    meta.config = req.config;
    meta.config.history.push_back({});
    s = Clock::now();
    auto m = image::archive::commit(**images, meta);
    if (!m) {
      return fail(m.error());
    }
    meta_ms.push_back(ms_since(s));
    (void)(*images)->remove(m->id.str(), true);
    (void)(*images)->remove(c->id.str(), true);
  }
  std::printf(
      "%d MB in %d files, %d runs (medians): tar into the content store %.1f ms, "
      "commit %.1f ms, metadata-only commit %.1f ms\n",
      mb, files, runs, median(tar_ms), median(commit_ms), median(meta_ms));
  return 0;
}
