// SPDX-License-Identifier: Apache-2.0
#include "engine/daemon/local_daemon_impl.h"

namespace mydocker::engine::detail {

// ---------------------------------------------------------------------------------------
// Stop, kill, pause

base::Result<void> LocalDaemon::stop(std::string_view ref, std::optional<int64_t> timeout,
                                     std::optional<std::string> signal) {
  auto c = MYDOCKER_TRY(find(ref));
  std::unique_lock lk(c->mu);
  ContainerInfo& info = c->rec.info;
  if (info.state.status == Status::Restarting) {
    ++c->restart_gen;
    info.state.status = MYDOCKER_TRY(state::transition(info.state.status, state::Event::Stop));
    c->rec.has_been_manually_stopped = true;
    persist(*c);
    emit_locked(*c, "stop");
    c->cv.notify_all();
    return base::ok();
  }
  if (!running_like(info.state.status)) {
    return make_error(ErrorCode::NotModified, "Container {} is already stopped", c->id());
  }
  int sig = SIGTERM;
  std::string name = signal ? *signal : info.config.stop_signal;
  if (!name.empty()) {
    auto parsed = runtime::parse_signal(name);
    if (!parsed) {
      return make_error(ErrorCode::InvalidArgument, "Invalid signal: {}", name);
    }
    sig = *parsed;
  }
  int64_t t = timeout ? *timeout : info.config.stop_timeout.value_or(10);
  c->rec.has_been_manually_stopped = true;
  persist(*c);
  if (auto r = signal_locked(*c, sig); !r && r.error().code() != ErrorCode::Conflict) {
    return make_error(ErrorCode::Internal, "Cannot stop container {}: {}", ref,
                      r.error().to_string());
  }
  if (wait_stopped(*c, lk, t)) {
    emit_locked(*c, "stop");
    return base::ok();
  }
  if (stopping_ && running_like(info.state.status) && opts_.live_restore) {
    return unavailable();
  }
  if (running_like(info.state.status)) {
    (void)signal_locked(*c, SIGKILL);
  }
  // The monitor may be gone (shutdown without live restore stops containers before it ends).
  wait_stopped(*c, lk, -1);
  if (running_like(info.state.status)) {
    return unavailable();
  }
  emit_locked(*c, "stop");
  return base::ok();
}

base::Result<void> LocalDaemon::restart(std::string_view ref, std::optional<int64_t> timeout,
                                        std::optional<std::string> signal) {
  auto r = stop(ref, timeout, std::move(signal));
  if (!r && r.error().code() != ErrorCode::NotModified) {
    return r;
  }
  r = start(ref);
  if (!r && r.error().code() == ErrorCode::NotModified) {
    r = base::ok();
  }
  if (r) {
    if (auto c = find(ref); c) {
      std::lock_guard lk((*c)->mu);
      emit_locked(**c, "restart");
    }
  }
  return r;
}

base::Result<void> LocalDaemon::kill(std::string_view ref, std::string_view signal) {
  auto c = MYDOCKER_TRY(find(ref));
  int sig = SIGKILL;
  if (!signal.empty()) {
    auto parsed = runtime::parse_signal(signal);
    if (!parsed) {
      return make_error(ErrorCode::InvalidArgument, "Invalid signal: {}", signal);
    }
    sig = *parsed;
  }
  std::unique_lock lk(c->mu);
  if (!running_like(c->rec.info.state.status)) {
    return make_error(ErrorCode::Conflict, "Cannot kill container: {}: Container {} is not running",
                      ref, c->id());
  }
  c->rec.has_been_manually_stopped = true;
  persist(*c);
  if (auto r = signal_locked(*c, sig); !r) {
    if (r.error().code() == ErrorCode::Conflict) {
      return make_error(ErrorCode::Conflict,
                        "Cannot kill container: {}: Container {} is not running", ref, c->id());
    }
    return make_error(ErrorCode::Internal, "Cannot kill container: {}: {}", ref,
                      r.error().to_string());
  }
  if (sig == SIGKILL) {
    // Docker's Kill waits for the exit, so a following inspect shows it.
    wait_stopped(*c, lk, 10);
  }
  return base::ok();
}

base::Result<void> LocalDaemon::pause(std::string_view ref) {
  auto c = MYDOCKER_TRY(find(ref));
  std::lock_guard lk(c->mu);
  Status s = c->rec.info.state.status;
  if (s == Status::Paused) {
    return make_error(ErrorCode::Conflict, "Container {} is already paused", c->id());
  }
  if (s == Status::Restarting) {
    return make_error(ErrorCode::Conflict,
                      "Container {} is restarting, wait until the container is running", c->id());
  }
  if (s != Status::Running) {
    return make_error(ErrorCode::Conflict, "Container {} is not running", c->id());
  }
  auto rc = MYDOCKER_TRY(runtime::Container::load(runtime_root_, c->id()));
  MYDOCKER_TRY_CTX(rc.pause(), "Cannot pause container {}", c->id());
  c->rec.info.state.status = MYDOCKER_TRY(state::transition(s, state::Event::Pause));
  persist(*c);
  emit_locked(*c, "pause");
  c->cv.notify_all();
  return base::ok();
}

base::Result<void> LocalDaemon::unpause(std::string_view ref) {
  auto c = MYDOCKER_TRY(find(ref));
  std::lock_guard lk(c->mu);
  Status s = c->rec.info.state.status;
  if (s != Status::Paused) {
    return make_error(ErrorCode::Internal, "Container {} is not paused", c->id());
  }
  auto rc = MYDOCKER_TRY(runtime::Container::load(runtime_root_, c->id()));
  MYDOCKER_TRY_CTX(rc.resume(), "Cannot unpause container {}", c->id());
  c->rec.info.state.status = MYDOCKER_TRY(state::transition(s, state::Event::Unpause));
  persist(*c);
  emit_locked(*c, "unpause");
  c->cv.notify_all();
  return base::ok();
}

// ---------------------------------------------------------------------------------------
// Wait and remove

base::Result<WaitResult> LocalDaemon::wait(std::string_view ref, WaitCondition condition) {
  auto c = MYDOCKER_TRY(find(ref));
  std::unique_lock lk(c->mu);
  auto result = [&]() -> base::Result<WaitResult> {
    return WaitResult{c->rec.info.state.exit_code, ""};
  };
  switch (condition) {
    case WaitCondition::NotRunning:
      c->cv.wait(lk, [&] {
        return !state::is_running(c->rec.info.state.status) || c->removed || stopping_;
      });
      if (state::is_running(c->rec.info.state.status) && !c->removed) {
        return unavailable();
      }
      return result();
    case WaitCondition::NextExit: {
      uint64_t seen = c->exits;
      c->cv.wait(lk, [&] { return c->exits != seen || c->removed || stopping_; });
      if (c->exits == seen && !c->removed) {
        return unavailable();
      }
      return WaitResult{c->last_exit, ""};
    }
    case WaitCondition::Removed:
      c->cv.wait(lk, [&] { return c->removed || stopping_; });
      if (!c->removed) {
        return unavailable();
      }
      return WaitResult{c->last_exit, ""};
  }
  return result();
}

base::Result<void> LocalDaemon::remove_files_locked(Container& c) {
  const std::string& id = c.id();
  unmount_all(rootfs_dir(id));
  if (auto r = snap_->remove(id); !r && r.error().code() != ErrorCode::NotFound) {
    return make_error(ErrorCode::Internal, "unable to remove filesystem for {}: {}", id,
                      r.error().to_string());
  }
  if (auto rc = runtime::Container::load(runtime_root_, id)) {
    (void)rc->destroy(true);
  }
  (void)base::remove_all(state_dir(id));
  auto r = base::remove_all(container_dir(id));
  if (!r) {
    return make_error(ErrorCode::Internal, "unable to remove filesystem for {}: {}", id,
                      r.error().to_string());
  }
  return base::ok();
}

base::Result<void> LocalDaemon::remove(std::string_view ref, bool force, bool /*volumes*/) {
  auto c = MYDOCKER_TRY(find(ref));
  std::unique_lock lk(c->mu);
  ContainerInfo& info = c->rec.info;
  if (c->removed) {
    return make_error(ErrorCode::NotFound, "No such container: {}", ref);
  }
  if (info.state.status == Status::Removing) {
    return make_error(ErrorCode::Conflict, "removal of container {} is already in progress",
                      c->id());
  }
  if (state::is_running(info.state.status)) {
    if (!force) {
      if (info.state.status == Status::Paused) {
        return make_error(ErrorCode::Conflict,
                          "You cannot remove a paused container {}. Unpause and then stop the "
                          "container before attempting removal or force remove",
                          c->id());
      }
      if (info.state.status == Status::Restarting) {
        return make_error(ErrorCode::Conflict,
                          "You cannot remove a restarting container {}. Stop the container "
                          "before attempting removal or force remove",
                          c->id());
      }
      return make_error(ErrorCode::Conflict,
                        "You cannot remove a running container {}. Stop the container before "
                        "attempting removal or force remove",
                        c->id());
    }
    c->rec.has_been_manually_stopped = true;
    if (info.state.status == Status::Restarting) {
      ++c->restart_gen;
      info.state.status = Status::Exited;
    } else {
      (void)signal_locked(*c, SIGKILL);
      if (!wait_stopped(*c, lk, 30)) {
        return stopping_
                   ? unavailable()
                   : make_error(ErrorCode::Internal,
                                "Could not kill running container {}, cannot remove", c->id());
      }
    }
    if (c->removed) {
      return base::ok();  // auto-removed meanwhile
    }
  }
  if (info.state.status == Status::Removing) {
    return make_error(ErrorCode::Conflict, "removal of container {} is already in progress",
                      c->id());
  }
  Status prev = info.state.status;
  info.state.status = MYDOCKER_TRY(state::transition(prev, state::Event::Remove));
  release_network_locked(*c);  // engine/daemon/network.cpp
  if (auto r = remove_files_locked(*c); !r) {
    info.state.status = Status::Dead;
    (void)base::mkdir_all(container_dir(c->id()), 0710);
    persist(*c);
    c->cv.notify_all();
    return r;
  }
  {
    std::lock_guard ilk(mu_);
    index_.names.erase(info.name);
    index_.ids.erase(c->id());
    containers_.erase(c->id());
  }
  c->removed = true;
  emit_locked(*c, "destroy");
  c->cv.notify_all();
  return base::ok();
}

}  // namespace mydocker::engine::detail
