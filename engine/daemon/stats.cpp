// SPDX-License-Identifier: Apache-2.0
// GET /containers/{id}/stats: samples of the container's cgroup (engine/stats), one per second
// while streaming; the precpu of each is the sample before it.
#include <fstream>

#include "engine/daemon/local_daemon_impl.h"
#include "runtime/cgroups/manager.h"

namespace mydocker::engine::detail {
namespace {

uint64_t host_memory() {
  std::ifstream f("/proc/meminfo");
  std::string key;
  uint64_t kb = 0;
  std::string unit;
  while (f >> key >> kb >> unit) {
    if (key == "MemTotal:") {
      return kb * 1024;
    }
  }
  return 0;
}

}  // namespace

stats::CgroupDirs LocalDaemon::cgroup_dirs_of(int64_t pid) {
  std::call_once(cgroup_layout_once_, [this] {
    if (auto layout = runtime::cgroups::detect(); layout) {
      cgroup_v1_mounts_ = layout->v1_mounts;
      cgroup_unified_mount_ = layout->unified_mount;
      cgroup_layout_v2_ = layout->mode == runtime::cgroups::Mode::V2;
    } else {
      spdlog::warn("stats: detect cgroup mounts: {}", layout.error().to_string());
    }
    machine_memory_ = host_memory();
  });
  std::string text = base::read_file(fmt::format("/proc/{}/cgroup", pid)).value_or("");
  return stats::cgroup_dirs(text, cgroup_v1_mounts_, cgroup_unified_mount_, cgroup_layout_v2_);
}

base::Result<void> LocalDaemon::stats(std::string_view ref, const StatsOptions& options,
                                      const StatsSink& sink) {
  auto c = MYDOCKER_TRY(find(ref));
  std::optional<stats::Sample> prev;
  bool first = true;
  for (;;) {
    if (stopping_) {
      return base::ok();
    }
    int64_t pid = 0;
    bool host_net = false;
    std::string name;
    std::string id = c->id();
    {
      std::lock_guard lk(c->mu);
      if (c->removed) {
        return base::ok();
      }
      Status s = c->rec.info.state.status;
      if (running_like(s) && s != Status::Restarting && c->shim) {
        pid = c->rec.info.state.pid;
      }
      name = c->rec.info.name;
      host_net = c->rec.info.host_config.network_mode == "host";
    }
    nlohmann::json sample;
    if (pid <= 0) {
      prev.reset();
      sample = stats::zero_json(name, id);
      if (!options.stream) {
        sink(sample);
        return base::ok();
      }
    } else {
      stats::ReadOptions ro;
      ro.net_dev = fmt::format("/proc/{}/net/dev", pid);
      ro.host_network = host_net;
      auto dirs = cgroup_dirs_of(pid);
      ro.machine_memory = machine_memory_;
      ro.clk_tck = ::sysconf(_SC_CLK_TCK);
      stats::Sample cur = stats::read_sample(dirs, ro);
      if (!options.stream && !options.one_shot && first) {
        // Docker's stream=false waits for a second sample so precpu is filled.
        prev = std::move(cur);
        first = false;
      } else {
        sample = stats::to_json(cur, prev ? &*prev : nullptr, name, id);
        prev = std::move(cur);
      }
    }
    if (!sample.is_null()) {
      if (!sink(sample) || !options.stream) {
        return base::ok();
      }
    }
    first = false;
    // One sample per second; the wait is cut in 250 ms steps to see shutdown, a removal and
    // a client that left.
    for (int i = 0; i < 4; ++i) {
      if (stopping_ || (options.client_alive && !options.client_alive())) {
        return base::ok();
      }
      std::unique_lock lk(c->mu);
      if (c->cv.wait_for(lk, std::chrono::milliseconds(250),
                         [&] { return c->removed || stopping_.load(); })) {
        return base::ok();
      }
    }
  }
}

}  // namespace mydocker::engine::detail
