// SPDX-License-Identifier: Apache-2.0
#include "engine/daemon/local_daemon_impl.h"

namespace mydocker::engine::detail {

void LocalDaemon::watch(Container& c) {
  std::lock_guard lk(monitor_mu_);
  uint64_t key = next_key_++;
  struct epoll_event e {};
  e.events = EPOLLIN;
  e.data.u64 = key;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, c.shim->pidfd().get(), &e) < 0) {
    spdlog::error("container {}: watch shim pidfd: {}", c.id(), std::strerror(errno));
    return;
  }
  watches_[key] = c.id();
  c.watch_key = key;
}

void LocalDaemon::unwatch(Container& c) {
  std::lock_guard lk(monitor_mu_);
  if (c.watch_key != 0) {
    watches_.erase(c.watch_key);
    if (c.shim) {
      ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, c.shim->pidfd().get(), nullptr);
    }
    c.watch_key = 0;
  }
}

void LocalDaemon::wake_monitor() {
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_.get(), &one, sizeof one);
}

void LocalDaemon::on_shim_exit(uint64_t key) {
  std::string id;
  {
    std::lock_guard lk(monitor_mu_);
    auto it = watches_.find(key);
    if (it == watches_.end()) {
      return;
    }
    id = it->second;
  }
  ContainerPtr c;
  {
    std::lock_guard lk(mu_);
    auto it = containers_.find(id);
    if (it == containers_.end()) {
      return;
    }
    c = it->second;
  }
  bool autoremove = false;
  {
    std::lock_guard lk(c->mu);
    if (c->watch_key != key || !c->shim) {
      return;
    }
    unwatch(*c);
    c->shim->reap();
    c->shim.reset();
    auto ex = shim::read_exit(state_dir(id));
    if (ex) {
      finish_run_locked(*c, ex->exit_code, ex->oom_killed,
                        ex->finished_at.empty() ? now_rfc3339() : ex->finished_at, "");
    } else {
      finish_run_locked(*c, 255, false, now_rfc3339(),
                        "container's shim exited without recording an exit status");
    }
    cleanup_run_locked(*c);
    if (should_restart_locked(*c)) {
      schedule_restart_locked(*c);
    } else {
      autoremove = c->rec.info.host_config.auto_remove;
    }
    persist_state(*c, true);  // how the run ended: durable
    c->cv.notify_all();
  }
  if (autoremove) {
    if (auto r = remove(id, true, false);
        !r && r.error().code() != ErrorCode::NotFound && r.error().code() != ErrorCode::Conflict) {
      spdlog::warn("container {}: auto-remove: {}", id, r.error().to_string());
    }
  }
}

void LocalDaemon::on_restart_due(const std::string& id, uint64_t gen) {
  ContainerPtr c;
  {
    std::lock_guard lk(mu_);
    auto it = containers_.find(id);
    if (it == containers_.end()) {
      return;
    }
    c = it->second;
  }
  std::lock_guard lk(c->mu);
  if (c->restart_gen != gen || c->rec.info.state.status != Status::Restarting || stopping_) {
    return;
  }
  ++c->rec.info.restart_count;
  auto r = start_locked(*c);
  if (!r) {
    spdlog::warn("container {}: restart: {}", id, r.error().to_string());
    c->rec.info.state.status = Status::Exited;
    persist(*c);
    c->cv.notify_all();
  }
}

void LocalDaemon::monitor_loop() {
  while (!stopping_) {
    int timeout = -1;
    {
      std::lock_guard lk(monitor_mu_);
      if (!timers_.empty()) {
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timers_.begin()->first -
                                                                        Clock::now())
                      .count();
        timeout = static_cast<int>(std::clamp<int64_t>(ms, 0, 60000));
      }
    }
    struct epoll_event events[16];
    int n = ::epoll_wait(epoll_.get(), events, 16, timeout);
    if (n < 0 && errno != EINTR) {
      spdlog::error("monitor: epoll_wait: {}", std::strerror(errno));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    for (int i = 0; i < n && !stopping_; ++i) {
      if (events[i].data.u64 == 0) {
        uint64_t v = 0;
        [[maybe_unused]] ssize_t r = ::read(wake_.get(), &v, sizeof v);
        continue;
      }
      on_shim_exit(events[i].data.u64);
    }
    std::vector<std::pair<std::string, uint64_t>> due;
    {
      std::lock_guard lk(monitor_mu_);
      auto now = Clock::now();
      while (!timers_.empty() && timers_.begin()->first <= now) {
        due.push_back(timers_.begin()->second);
        timers_.erase(timers_.begin());
      }
    }
    for (const auto& [id, gen] : due) {
      if (!stopping_) {
        on_restart_due(id, gen);
      }
    }
  }
}

}  // namespace mydocker::engine::detail
