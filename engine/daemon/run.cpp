// SPDX-License-Identifier: Apache-2.0
#include "engine/daemon/local_daemon_impl.h"

namespace mydocker::engine::detail {

// ---------------------------------------------------------------------------------------
// Start and the end of a run

base::Result<void> LocalDaemon::start_locked(Container& c) {
  ContainerInfo& info = c.rec.info;
  const std::string& id = info.id;
  // Connections attached before the start (docker run, start -a) are the shim's from its
  // first output on; a start that fails closes them (dockerd ends those streams too).
  std::vector<shim::AttachSpec> attach_specs;
  std::vector<base::Fd> attach_conns = take_pending_attaches_locked(c, attach_specs);
  std::optional<image::content::RunConfig> run;
  if (auto parsed = image::ImageId::parse(info.image_id)) {
    if (auto img = images_->images().get(*parsed); img && img->config.config) {
      run = *img->config.config;
    }
  }
  std::string rootfs = rootfs_dir(id);
  MYDOCKER_TRY(base::mkdir_all(rootfs, 0755));
  unmount_all(rootfs);  // a mount left by a crash
  auto mnt = MYDOCKER_TRY_CTX(snap_->mount(id, rootfs), "mount the rootfs of container {}", id);

  std::string sdir = state_dir(id);
  std::string bundle = sdir + "/bundle";
  MYDOCKER_TRY(base::remove_all(sdir));
  MYDOCKER_TRY(base::mkdir_all(bundle, 0700));
  base::ScopeExit drop_state([&] { (void)base::remove_all(sdir); });

  specgen::Input in;
  in.config = &info.config;
  in.host_config = &info.host_config;
  in.image = run ? &*run : nullptr;
  in.rootfs = rootfs;
  in.hostname = info.config.hostname.empty() ? id.substr(0, 12) : info.config.hostname;
  in.hostname_path = info.hostname_path;
  in.hosts_path = info.hosts_path;
  in.resolv_conf_path = info.resolv_conf_path;
  std::string parent =
      info.host_config.cgroup_parent.empty() ? opts_.cgroup_parent : info.host_config.cgroup_parent;
  in.cgroups_path = parent + "/" + id;
  in.default_ulimits = opts_.default_ulimits;
  in.init_path = init_path_;
  json spec = MYDOCKER_TRY(specgen::generate(in));
  // HostConfig.ConsoleSize (docker run -t sends the terminal's): the pty has it from the
  // first byte on, as dockerd sets process.consoleSize; the client's resize comes only after
  // the start, too late for a command that asks at once (stty size).
  if (auto it = info.host_config.extra.find("ConsoleSize");
      info.config.tty && it != info.host_config.extra.end() && it->is_array() && it->size() == 2 &&
      (*it)[0].is_number_unsigned() && (*it)[1].is_number_unsigned() && (*it)[0] > 0 &&
      (*it)[1] > 0) {
    spec["process"]["consoleSize"] = {{"height", (*it)[0]}, {"width", (*it)[1]}};
  }
  MYDOCKER_TRY(setup_network_locked(c, spec));  // engine/daemon/network.cpp
  base::ScopeExit drop_network([&] { teardown_network_locked(c); });
  // The bundle lives in the volatile exec root: no fsync.
  MYDOCKER_TRY(base::write_file(bundle + "/config.json", spec.dump(), O_CREAT));

  shim::ShimConfig sc;
  sc.id = id;
  sc.bundle = bundle;
  sc.runtime_root = runtime_root_;
  sc.state_dir = sdir;
  sc.log_path = info.log_path;
  sc.tty = info.config.tty;
  sc.open_stdin = info.config.open_stdin;
  sc.stdin_once = info.config.stdin_once;
  auto opt = [&](const char* key, const std::string& fallback) {
    if (auto it = info.host_config.log_config.find(key); it != info.host_config.log_config.end()) {
      return it->second;
    }
    if (auto it = opts_.log_opts.find(key); it != opts_.log_opts.end()) {
      return it->second;
    }
    return fallback;
  };
  sc.log_max_size = parse_size(opt("max-size", kDefaultLogMaxSize)).value_or(0);
  sc.log_max_files =
      base::parse_int64(opt("max-file", std::to_string(kDefaultLogMaxFiles))).value_or(1);
  if (sc.log_max_files < 1) {
    sc.log_max_files = 1;
  }

  if (::access(shim_path_.c_str(), X_OK) != 0) {
    // Not the container's fault: no 127/126 and no "OCI runtime" wording.
    return base::Error(ErrorCode::Internal, fmt::format("cannot run the shim `{}`: {}", shim_path_,
                                                        std::strerror(errno)));
  }
  sc.attaches = std::move(attach_specs);
  auto sh = shim::spawn(shim_path_, sc, std::chrono::seconds(30), std::move(attach_conns));
  if (!sh) {
    int64_t code = 128;
    base::Error err = start_error(sh.error(), code);
    info.state.error = err.message();
    info.state.exit_code = code;
    persist(c);
    return err;
  }
  drop_state.dismiss();
  drop_network.dismiss();
  (void)mnt.release();  // unmounted by cleanup_run_locked when the run ends

  Status next = MYDOCKER_TRY(state::transition(info.state.status, state::Event::Start));
  c.shim = std::move(*sh);
  watch(c);
  info.state.status = next;
  info.state.pid = c.shim->container_pid();
  info.state.started_at = now_rfc3339();
  info.state.exit_code = 0;
  info.state.error.clear();
  info.state.oom_killed = false;
  c.rec.has_been_started_before = true;
  c.run_started = Clock::now();
  // "running" is an intermediate state: the exit overwrites it durably. Without a restart
  // policy or AutoRemove the directory fsync is skipped (half the cost of a start's record):
  // a host crash may then bring back the previous record (created or exited), which is what
  // the container is after a reboot anyway (no process survives one). With either, the
  // record must say running durably, or the start-up pass (local_daemon.h) would neither
  // restart nor auto-remove it after the crash. The file itself is always fsynced before its
  // rename, so it is never torn. (dockerd syncs the file but not the directory at all.)
  const std::string& policy = info.host_config.restart_policy.name;
  persist_state(c, (!policy.empty() && policy != "no") || info.host_config.auto_remove);
  emit_locked(c, "start");
  c.cv.notify_all();
  return base::ok();
}

void LocalDaemon::finish_run_locked(Container& c, int64_t exit_code, bool oom,
                                    const std::string& finished, const std::string& error) {
  ContainerState& st = c.rec.info.state;
  st.status = Status::Exited;
  st.exit_code = exit_code;
  st.oom_killed = oom;
  st.pid = 0;
  st.finished_at = finished;
  st.error = error;
  c.last_exit = exit_code;
  ++c.exits;
  if (oom) {
    emit_locked(c, "oom");
  }
  emit_locked(c, "die", {{"exitCode", std::to_string(exit_code)}});
}

void LocalDaemon::cleanup_run_locked(Container& c) {
  const std::string& id = c.id();
  harvest_execs_locked(c);  // their exit files live in the state dir removed below
  unmount_all(rootfs_dir(id));
  // The shim destroys the runtime state; after a shim crash it is still there.
  if (auto rc = runtime::Container::load(runtime_root_, id)) {
    if (auto r = rc->destroy(true); !r) {
      spdlog::warn("container {}: destroy runtime state: {}", id, r.error().to_string());
    }
  }
  (void)base::remove_all(state_dir(id));
  teardown_network_locked(c);
}

bool LocalDaemon::should_restart_locked(const Container& c) const {
  if (c.rec.has_been_manually_stopped || stopping_) {
    return false;
  }
  const RestartPolicy& p = c.rec.info.host_config.restart_policy;
  if (p.name == "always" || p.name == "unless-stopped") {
    return true;
  }
  if (p.name == "on-failure") {
    return c.rec.info.state.exit_code != 0 &&
           (p.maximum_retry_count == 0 || c.rec.info.restart_count < p.maximum_retry_count);
  }
  return false;
}

void LocalDaemon::schedule_restart_locked(Container& c) {
  // Docker's restart manager: 100 ms, doubling up to a minute, back to 100 ms after a run
  // of 10 s or more.
  if (Clock::now() - c.run_started >= std::chrono::seconds(10)) {
    c.backoff_ms = 0;
  }
  c.backoff_ms = c.backoff_ms == 0 ? 100 : std::min<int64_t>(c.backoff_ms * 2, 60000);
  c.rec.info.state.status = Status::Restarting;
  uint64_t gen = ++c.restart_gen;
  {
    std::lock_guard lk(monitor_mu_);
    timers_.emplace(Clock::now() + std::chrono::milliseconds(c.backoff_ms),
                    std::make_pair(c.id(), gen));
  }
  wake_monitor();
}

base::Result<void> LocalDaemon::start(std::string_view ref) {
  if (stopping_) {
    return unavailable();
  }
  auto c = MYDOCKER_TRY(find(ref));
  base::Result<void> r;
  {
    std::lock_guard lk(c->mu);
    Status s = c->rec.info.state.status;
    if (s == Status::Paused) {
      return make_error(ErrorCode::Conflict,
                        "cannot start a paused container, try unpause instead");
    }
    if (s == Status::Running || s == Status::Restarting) {
      return make_error(ErrorCode::NotModified, "container {} is already running", c->id());
    }
    if (s == Status::Removing || s == Status::Dead) {
      return make_error(ErrorCode::Conflict,
                        "container is marked for removal and cannot be started");
    }
    // A manual start resets what the restart manager counted (Docker's ResetRestartManager).
    c->rec.has_been_manually_stopped = false;
    c->rec.info.restart_count = 0;
    c->backoff_ms = 0;
    r = start_locked(*c);
    if (r || !c->rec.info.host_config.auto_remove) {
      return r;
    }
  }
  // Docker removes an AutoRemove container whose start failed (`run --rm` leaves nothing).
  if (auto rm = remove(c->id(), true, false); !rm) {
    spdlog::warn("container {}: auto-remove after a failed start: {}", c->id(),
                 rm.error().to_string());
  }
  return r;
}

}  // namespace mydocker::engine::detail
