// SPDX-License-Identifier: Apache-2.0
// LocalDaemon's builds (engine/build/builder.h does the work): the step cache and the
// builder's work dir under <data-root>/builder/, and the Daemon overrides.
//
//   <data-root>/builder/cache/   the step cache (engine/build/cache.h)
//   <data-root>/builder/tmp/     received contexts, scratch mount points (emptied at open)
#include "engine/build/builder.h"
#include "engine/build/cache.h"
#include "engine/daemon/local_daemon_impl.h"

namespace mydocker::engine::detail {

base::Result<void> LocalDaemon::open_builder() {
  std::string root = opts_.data_root + "/builder";
  MYDOCKER_TRY(base::mkdir_all(root, 0700));
  std::unique_ptr<build::Cache> cache =
      MYDOCKER_TRY_CTX(build::Cache::open(root + "/cache"), "open the build cache");
  build_cache_ = std::move(cache);
  MYDOCKER_TRY(build::Builder::clean_work_dir(root + "/tmp"));
  builder_ = std::make_shared<build::Builder>(*this, *snap_, *build_cache_, root + "/tmp");
  return base::ok();
}

base::Result<BuildResult> LocalDaemon::build(const BuildRequest& req, int64_t* failed_exit_code) {
  if (stopping_ || !builder_) {
    return unavailable();
  }
  // A daemon going down ends the build as a client leaving would (its container removed).
  BuildRequest r = req;
  r.client_alive = [this, alive = req.client_alive] { return !stopping_ && (!alive || alive()); };
  return builder_->build(r, failed_exit_code);
}

base::Result<BuildPruneResult> LocalDaemon::build_prune(const BuildPruneOptions& options) {
  if (stopping_ || !builder_) {
    return unavailable();
  }
  return builder_->prune(options);
}

}  // namespace mydocker::engine::detail
