// SPDX-License-Identifier: Apache-2.0
// The Dockerfile build executor: a parsed Dockerfile becomes images, step by step, as Docker's
// classic builder does it (DOCKER_BUILDKIT=0 against dockerd 20.10):
//
//   receive the context (engine/build/context.h) -> parse the Dockerfile -> pick the stages the
//   target needs -> per stage: FROM (a local image, a pull, `scratch` or an earlier stage; the
//   base's ONBUILD triggers first) -> per instruction: expand variables, probe the cache, run
//   the step, commit -> tag the target's image.
//
// Every step commits an image whose parent is the previous step's image:
//   - metadata steps (ENV, LABEL, CMD, ...) commit the new config alone (no layer);
//   - RUN runs a real container of the engine (create, attach, start, wait) from the step's
//     image with the stage's Env + build args, User and WorkingDir, streams its output, and
//     commits its RW layer;
//   - COPY/ADD and WORKDIR work on a scratch filesystem (a snapshot of the step's image,
//     mounted without a container) and commit its changes.
// The cache (engine/build/cache.h) maps (parent image, what decides the step) to the image a
// step made; a hit prints " ---> Using cache" and touches no container, mount or disk write.
//
// Output is Docker's: "Step 2/5 : LABEL a=b", "\n", " ---> Running in <id>\n", the RUN's
// output, "Removing intermediate container <id>\n", " ---> <id>\n", an aux ID per stage,
// "Successfully built <id>\n", "Successfully tagged <name>\n".
#pragma once

#include <memory>
#include <string>

#include "engine/build/cache.h"
#include "engine/daemon.h"
#include "image/layers/snapshotter.h"
#include "runtime/base/error.h"

namespace mydocker::engine::build {

class Builder {
 public:
  // `daemon` runs RUN's containers, pulls base images and owns the image store. `snapshots`
  // makes COPY/ADD/WORKDIR's scratch filesystems on the image store's layers: an OverlayStore
  // (its rw_path() is the changes as an overlay upper dir); the daemon's container snapshotter
  // serves, keys "build-*". `cache` records steps. `work_dir` holds the received contexts and
  // the scratch mount points (created; see clean_work_dir). All must outlive the Builder.
  Builder(Daemon& daemon, image::layers::Snapshotter& snapshots, Cache& cache,
          std::string work_dir);
  // Waits for the received contexts still being deleted.
  ~Builder();
  Builder(const Builder&) = delete;
  Builder& operator=(const Builder&) = delete;

  // Daemon::build's contract (engine/daemon.h). Errors before any output: InvalidArgument (a
  // bad tag, a Dockerfile parse error "dockerfile parse error line N: ...", an unknown
  // --target "failed to reach build target X in Dockerfile"), NotFound "Cannot locate
  // specified Dockerfile: X", the context's errors. After output began: the step's error in
  // Docker's words (a failed RUN: "The command '...' returned a non-zero code: N", with N in
  // *failed_exit_code), Cancelled "Build cancelled" when the client left (the running
  // step's container is removed). Nothing is tagged unless the whole build succeeded.
  // Thread-safety: builds may run concurrently.
  base::Result<BuildResult> build(const BuildRequest& req, int64_t* failed_exit_code);

  // Daemon::build_prune: removes the cache entries the options select (filters: id (a part of
  // the entry's ID), parent, until or its old name unused-for (a Go duration since the entry's
  // last use, i.e. its last cache hit); one value per key, else InvalidArgument "filters expect
  // only one value"; an unknown key "Invalid filter 'x'"; without `all`, entries whose image
  // is tagged or under a tagged image are kept; keep_storage > 0: the least recently used of
  // the selected entries go only while the cache's layers (what is not kept anyway) sum above
  // it, as BuildKit's KeepBytes), then the intermediate images only those entries kept
  // (untagged, without children, not used by a container, not named by a remaining entry).
  // SpaceReclaimed sums the layers that went with them.
  base::Result<BuildPruneResult> prune(const BuildPruneOptions& options);

  // Removes what an interrupted build left in `work_dir` (contexts, scratch mount points:
  // unmounted first). For the daemon's open(), before any build.
  static base::Result<void> clean_work_dir(const std::string& work_dir);

 private:
  // Deletes received contexts after their build answered (a 20 MB context's files take
  // milliseconds to unlink: not the client's wait).
  class Reaper;
  std::unique_ptr<Reaper> reaper_;
  Daemon& daemon_;
  image::layers::Snapshotter& snapshots_;
  Cache& cache_;
  const std::string work_dir_;
};

}  // namespace mydocker::engine::build
