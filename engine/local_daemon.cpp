// SPDX-License-Identifier: Apache-2.0
// LocalDaemon: the real engine::Daemon (layout and restore rules in local_daemon.h; the class
// and how its files divide the work in engine/daemon/local_daemon_impl.h). This file: open,
// restore, shutdown and the helpers every operation uses.
#include "engine/local_daemon.h"

#include "engine/daemon/local_daemon_impl.h"

namespace mydocker::engine {
namespace detail {

// ---------------------------------------------------------------------------------------
// Opening and restore

base::Result<void> LocalDaemon::open() {
  containers_dir_ = opts_.data_root + "/containers";
  exec_containers_dir_ = opts_.exec_root + "/containers";
  runtime_root_ = opts_.exec_root + "/runtime";
  for (const auto& d :
       {opts_.data_root, containers_dir_, opts_.exec_root, exec_containers_dir_, runtime_root_}) {
    MYDOCKER_TRY(base::mkdir_all(d, 0711));
  }
  shim_path_ = opts_.shim_path;
  if (shim_path_.empty()) {
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    shim_path_ = (ec ? std::filesystem::path("/usr/bin") : self.parent_path()) / "mydocker-shim";
  }
  init_path_ = base::path_exists(kInitPath) ? kInitPath : "";
  cgroup_v2_ = cgroup2_unified();

  bool root = ::geteuid() == 0;
  std::string want = opts_.storage_driver;
  if (want.empty()) {
    want = root && overlay_supported() ? "overlay2" : "vfs";
  }
  if (want != "overlay2" && want != "vfs") {
    return make_error(ErrorCode::InvalidArgument,
                      "unsupported storage driver `{}` (overlay2 or vfs)", want);
  }
  driver_ = want;
  std::string rw_root = opts_.data_root + "/rw/" + (driver_ == "overlay2" ? "overlay" : "copy");

  image::ImagesOptions io;
  io.layers.whiteouts =
      root ? image::layers::WhiteoutFormat::Overlay : image::layers::WhiteoutFormat::Keep;
  io.snapshot_roots = {rw_root};
  io.container_usage = [this] {
    image::store::ContainerUsage usage;
    for (const auto& c : snapshot()) {
      std::lock_guard lk(c->mu);
      auto id = image::ImageId::parse(c->rec.info.image_id);
      if (id) {
        usage[*id].push_back({c->id(), state::is_running(c->rec.info.state.status)});
      }
    }
    return usage;
  };
  images_ = MYDOCKER_TRY_CTX(image::Images::open(opts_.data_root, std::move(io)),
                             "open the image store in `{}`", opts_.data_root);
  for (const auto& line : images_->recovery_log()) {
    spdlog::info("image store recovery: {}", line);
  }
  if (driver_ == "overlay2") {
    snap_ = MYDOCKER_TRY(image::layers::OverlayStore::open(images_->layers(), rw_root));
  } else {
    snap_ = MYDOCKER_TRY(image::layers::CopyStore::open(images_->layers(), rw_root));
  }
  MYDOCKER_TRY(open_builder());  // engine/daemon/build.cpp

  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) {
    return base::sys_error("epoll_create1");
  }
  epoll_ = base::Fd::adopt(ep);
  int ev = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (ev < 0) {
    return base::sys_error("eventfd");
  }
  wake_ = base::Fd::adopt(ev);
  struct epoll_event e {};
  e.events = EPOLLIN;
  e.data.u64 = 0;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_.get(), &e) < 0) {
    return base::sys_error("epoll_ctl");
  }

  // Restore the records, then start the monitor, then apply restart policies.
  std::vector<ContainerPtr> loaded;
  std::error_code ec;
  std::vector<std::string> entries;
  for (const auto& de : std::filesystem::directory_iterator(containers_dir_, ec)) {
    entries.push_back(de.path().filename().string());
  }
  for (const auto& name : entries) {
    restore(name, loaded);
  }
  // RW layers no record owns (a create interrupted between prepare and its directory's
  // removal) would hold their image's layers forever. A damaged record keeps its own.
  for (const auto& key : snap_->list()) {
    bool owned = false;
    {
      std::lock_guard lk(mu_);
      owned = containers_.count(key) > 0;
    }
    if (!owned && !base::path_exists(container_dir(key) + ".damaged")) {
      spdlog::warn("removing the RW layer `{}` no container owns", key);
      (void)snap_->remove(key);
    }
  }
  // Networking after the records: bridges, rules and crash leftovers (engine/daemon/network.cpp).
  // A failure is logged: containers that need no bridge still run.
  if (auto r = open_network(); !r) {
    spdlog::error("networking: {}", r.error().to_string());
  }
  monitor_ = std::thread([this] { monitor_loop(); });

  for (const auto& c : loaded) {
    std::string id;
    bool autoremove = false;
    bool restart = false;
    {
      std::lock_guard lk(c->mu);
      Status s = c->rec.info.state.status;
      if (running_like(s)) {
        continue;
      }
      id = c->id();
      autoremove =
          c->rec.info.host_config.auto_remove && (s == Status::Exited || s == Status::Dead);
      const RestartPolicy& p = c->rec.info.host_config.restart_policy;
      // Docker at start-up: a fresh restart manager, so `always` restarts even a container
      // the user stopped; unless-stopped does not; on-failure after a non-zero exit.
      if (s == Status::Exited || s == Status::Restarting) {
        restart =
            p.name == "always" ||
            (p.name == "unless-stopped" && !c->rec.has_been_manually_stopped) ||
            (p.name == "on-failure" && c->rec.info.state.exit_code != 0 &&
             (p.maximum_retry_count == 0 || c->rec.info.restart_count < p.maximum_retry_count));
      }
    }
    if (autoremove) {
      if (auto r = remove(id, true, false); !r) {
        spdlog::warn("container {}: auto-remove at start-up: {}", id, r.error().to_string());
      }
    } else if (restart) {
      std::lock_guard lk(c->mu);
      // A start by the daemon is a fresh restart manager (moby's resetRestartManager): a
      // user's earlier stop no longer keeps `always` from restarting the next exit.
      c->rec.has_been_manually_stopped = false;
      c->backoff_ms = 0;
      if (auto r = start_locked(*c); !r) {
        spdlog::warn("container {}: restart at start-up: {}", id, r.error().to_string());
      }
    }
  }
  return base::ok();
}

void LocalDaemon::restore(const std::string& name, std::vector<ContainerPtr>& loaded) {
  if (name.starts_with(".") || name.ends_with(".damaged")) {
    return;
  }
  std::string dir = containers_dir_ + "/" + name;
  auto rec = store::load(dir);
  if (rec && rec->info.id != name) {
    rec = make_error(ErrorCode::InvalidArgument, "record ID `{}` does not match its directory",
                     rec->info.id);
  }
  if (!rec && rec.error().code() == ErrorCode::NotFound) {
    // No config.v2.json: a create interrupted before its record was written (the record is
    // create's commit point). Nothing was ever started from it.
    spdlog::warn("container dir `{}` has no record (interrupted create); removing it", dir);
    if (auto r = snap_->remove(name); !r && r.error().code() != ErrorCode::NotFound) {
      spdlog::warn("container {}: remove its filesystem: {}", name, r.error().to_string());
    }
    (void)base::remove_all(dir);
    return;
  }
  if (!rec) {
    auto moved = store::set_aside(dir);
    spdlog::error("container record `{}` is damaged ({}); {}", dir, rec.error().to_string(),
                  moved ? "moved to `" + *moved + "`"
                        : "could not move it aside: " + moved.error().to_string());
    return;
  }
  auto c = std::make_shared<Container>(std::move(*rec));
  auto& info = c->rec.info;
  {
    std::lock_guard lk(mu_);
    if (index_.names.count(info.name) > 0) {
      spdlog::error("container {}: name `{}` is taken by {}; record ignored", info.id, info.name,
                    index_.names[info.name]);
      return;
    }
    index_.names[info.name] = info.id;
    index_.ids.insert(info.id);
    containers_[info.id] = c;
  }
  std::lock_guard lk(c->mu);
  Status s = info.state.status;
  if (s == Status::Removing) {
    info.state.status = Status::Dead;
    persist(*c);
  } else if (running_like(s)) {
    auto sh = shim::attach(state_dir(info.id));
    if (sh) {
      c->shim = std::move(*sh);
      c->run_started = Clock::now();
      watch(*c);
      spdlog::info("container {}: re-attached to shim {} (live restore)", info.id, c->shim->pid());
    } else {
      if (sh.error().code() != ErrorCode::NotFound) {
        spdlog::warn("container {}: attach to its shim: {}", info.id, sh.error().to_string());
      }
      auto ex = shim::read_exit(state_dir(info.id));
      if (ex) {
        finish_run_locked(*c, ex->exit_code, ex->oom_killed,
                          ex->finished_at.empty() ? now_rfc3339() : ex->finished_at, "");
      } else {
        finish_run_locked(*c, 255, false, now_rfc3339(),
                          "container's shim exited without recording an exit status");
      }
      cleanup_run_locked(*c);
      persist(*c);
    }
  } else if (s == Status::Restarting) {
    // The backoff timer died with the previous daemon: the container is stopped; the
    // start-up pass applies its restart policy again.
    info.state.status = Status::Exited;
    persist(*c);
  }
  loaded.push_back(c);
}

// ---------------------------------------------------------------------------------------
// Helpers

base::Result<ContainerPtr> LocalDaemon::find(std::string_view ref) {
  std::lock_guard lk(mu_);
  auto id = MYDOCKER_TRY(names::resolve(index_, ref));
  auto it = containers_.find(id);
  if (it == containers_.end()) {
    return make_error(ErrorCode::NotFound, "No such container: {}", ref);
  }
  return it->second;
}

std::vector<ContainerPtr> LocalDaemon::snapshot() {
  std::lock_guard lk(mu_);
  std::vector<ContainerPtr> out;
  out.reserve(containers_.size());
  for (const auto& [id, c] : containers_) {
    out.push_back(c);
  }
  return out;
}

void LocalDaemon::persist(Container& c) {
  if (auto r = store::save(container_dir(c.id()), c.rec); !r) {
    spdlog::error("container {}: write its record: {}", c.id(), r.error().to_string());
  }
}

void LocalDaemon::persist_state(Container& c, bool sync_dir) {
  if (auto r = store::save_state(container_dir(c.id()), c.rec, sync_dir); !r) {
    spdlog::error("container {}: write its record: {}", c.id(), r.error().to_string());
  }
}

base::Result<void> LocalDaemon::signal_locked(Container& c, int sig) {
  auto rc = runtime::Container::load(runtime_root_, c.id());
  if (!rc) {
    return make_error(ErrorCode::Conflict, "Container {} is not running", c.id());
  }
  auto r = rc->kill(sig);
  if (!r) {
    if (r.error().code() == ErrorCode::Conflict || r.error().code() == ErrorCode::NotFound) {
      return make_error(ErrorCode::Conflict, "Container {} is not running", c.id());
    }
    return std::move(r).error();
  }
  emit_locked(c, "kill", {{"signal", std::to_string(sig)}});
  // A frozen process only acts on the signal once thawed.
  if (c.rec.info.state.status == Status::Paused) {
    if (auto res = rc->resume(); res) {
      c.rec.info.state.status = Status::Running;
      persist(c);
    }
  }
  return base::ok();
}

bool LocalDaemon::wait_stopped(Container& c, std::unique_lock<std::mutex>& lk, int64_t timeout_s) {
  auto done = [&] { return !running_like(c.rec.info.state.status) || stopping_; };
  if (timeout_s < 0) {
    c.cv.wait(lk, done);
  } else {
    c.cv.wait_for(lk, std::chrono::seconds(timeout_s), done);
  }
  return !running_like(c.rec.info.state.status);
}

void LocalDaemon::shutdown() {
  if (shut_down_.exchange(true)) {
    return;
  }
  if (!opts_.live_restore && monitor_.joinable()) {
    for (const auto& c : snapshot()) {
      std::string id;
      {
        std::lock_guard lk(c->mu);
        if (!state::is_running(c->rec.info.state.status)) {
          continue;
        }
        id = c->id();
      }
      if (auto r = stop(id, std::nullopt, std::nullopt);
          !r && r.error().code() != ErrorCode::NotModified) {
        spdlog::warn("container {}: stop at shutdown: {}", id, r.error().to_string());
      }
    }
  }
  stopping_ = true;
  stop_registry_jobs();  // running pulls see stopping_ and end before the image store goes
  stop_exec_watch();
  for (const auto& c : snapshot()) {
    std::lock_guard lk(c->mu);
    c->cv.notify_all();
  }
  if (monitor_.joinable()) {
    wake_monitor();
    monitor_.join();
  }
}

}  // namespace detail
base::Result<std::unique_ptr<Daemon>> open_local_daemon(const DaemonOptions& options) {
  auto d = std::make_unique<detail::LocalDaemon>(options);
  MYDOCKER_TRY(d->open());
  return std::unique_ptr<Daemon>(std::move(d));
}

}  // namespace mydocker::engine
