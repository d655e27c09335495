// SPDX-License-Identifier: Apache-2.0
// cgroup v1: one directory per mounted hierarchy. Hybrid hosts land here too; their cgroup2
// mount carries no controller that v1 holds, so it is left alone.
#include <unistd.h>

#include <algorithm>
#include <set>

#include "runtime/base/file.h"
#include "runtime/base/scope_exit.h"
#include "runtime/base/strings.h"
#include "runtime/cgroups/backends.h"
#include "runtime/cgroups/fs.h"
#include "runtime/cgroups/plan.h"
#include "runtime/cgroups/stats.h"

namespace mydocker::runtime::cgroups {
namespace {

using base::ErrorCode;

class V1Manager final : public Manager {
 public:
  V1Manager(const Layout& layout, std::string rel, Options options)
      : rel_(std::move(rel)), options_(std::move(options)) {
    for (const auto& [controller, mount] : layout.v1_mounts) {
      std::string dir = mount + "/" + rel_;
      controller_dir_[controller] = dir;
      if (std::find(mounts_.begin(), mounts_.end(), mount) == mounts_.end()) {
        mounts_.push_back(mount);
      }
    }
    for (const std::string& mount : mounts_) {
      bool named_only = true;
      for (const auto& [controller, m] : layout.v1_mounts) {
        if (m == mount && controller.rfind("name=", 0) != 0) {
          named_only = false;
        }
      }
      if (named_only) {
        optional_.insert(mount + "/" + rel_);
      }
    }
  }

  base::Result<void> create(const spec::Resources& resources) override {
    std::vector<std::string> made;
    base::ScopeExit rollback([&] { fs::remove_made(made, options_); });
    for (const std::string& mount : mounts_) {
      auto r = fs::make_dirs(mount, rel_, made, options_);
      if (!r && optional_.count(mount + "/" + rel_) == 0) {
        return std::move(r).error();
      }
    }
    MYDOCKER_TRY(inherit_cpuset());
    MYDOCKER_TRY(apply(resources));
    rollback.dismiss();
    return base::ok();
  }

  base::Result<void> add_process(pid_t pid) override {
    std::string value = std::to_string(pid);
    for (const std::string& dir : dirs()) {
      auto r = fs::write(dir, "cgroup.procs", value);
      if (!r && (optional_.count(dir) == 0 || r.error().sys_errno() == ESRCH)) {
        return std::move(r).error().wrap(fmt::format("add process to `{}`", dir));
      }
    }
    return base::ok();
  }

  base::Result<void> update(const spec::Resources& resources) override { return apply(resources); }

  base::Result<void> freeze() override {
    std::string dir = MYDOCKER_TRY(freezer_dir());
    MYDOCKER_TRY(fs::write(dir, "freezer.state", "FROZEN"));
    int rounds = 0;
    auto step = [&]() -> base::Result<bool> {
      std::string state = MYDOCKER_TRY(base::read_file(dir + "/freezer.state"));
      if (base::trim(state) == "FROZEN") {
        return true;
      }
      // A task that was in a fork or an uninterruptible sleep can leave the cgroup in
      // FREEZING; asking again retries those (runc does the same).
      if (++rounds % 16 == 0) {
        MYDOCKER_TRY(fs::write(dir, "freezer.state", "FROZEN"));
      }
      return false;
    };
    bool done = MYDOCKER_TRY(fs::poll_until(options_.timeout, step));
    if (!done) {
      (void)fs::write(dir, "freezer.state", "THAWED");
      return base::make_error(ErrorCode::Unavailable, "freeze cgroup `{}`: not FROZEN after {} ms",
                              dir, options_.timeout.count());
    }
    return base::ok();
  }

  base::Result<void> thaw() override {
    std::string dir = MYDOCKER_TRY(freezer_dir());
    MYDOCKER_TRY(fs::write(dir, "freezer.state", "THAWED"));
    auto step = [&]() -> base::Result<bool> {
      std::string state = MYDOCKER_TRY(base::read_file(dir + "/freezer.state"));
      return base::trim(state) == "THAWED";
    };
    bool done = MYDOCKER_TRY(fs::poll_until(options_.timeout, step));
    if (!done) {
      return base::make_error(ErrorCode::Unavailable, "thaw cgroup `{}`: not THAWED after {} ms",
                              dir, options_.timeout.count());
    }
    return base::ok();
  }

  base::Result<bool> is_frozen() override {
    std::string dir = MYDOCKER_TRY(freezer_dir());
    std::string state = MYDOCKER_TRY(base::read_file(dir + "/freezer.state"));
    return base::trim(state) == "FROZEN";
  }

  base::Result<Stats> stats() override {
    Stats s;
    if (auto dir = find("memory")) {
      s.memory_usage = MYDOCKER_TRY(read_number(*dir + "/memory.usage_in_bytes")).value_or(0);
      s.memory_max_usage =
          MYDOCKER_TRY(read_number(*dir + "/memory.max_usage_in_bytes")).value_or(0);
      s.memory_limit = MYDOCKER_TRY(read_limit(*dir + "/memory.limit_in_bytes")).value_or(0);
      auto oom = MYDOCKER_TRY(read_keyed(*dir + "/memory.oom_control"));
      if (auto it = oom.find("oom_kill"); it != oom.end()) {
        s.oom_events = it->second;
      } else {
        // Kernels before 4.13 do not count kills; hitting the limit is the nearest we have.
        s.oom_events = MYDOCKER_TRY(read_number(*dir + "/memory.failcnt")).value_or(0);
      }
    }
    if (auto dir = find("cpuacct")) {
      s.cpu_usage_ns = MYDOCKER_TRY(read_number(*dir + "/cpuacct.usage")).value_or(0);
      auto stat = MYDOCKER_TRY(read_keyed(*dir + "/cpuacct.stat"));
      long hz = ::sysconf(_SC_CLK_TCK);
      s.cpu_user_ns = ticks_to_ns(stat["user"], hz);
      s.cpu_system_ns = ticks_to_ns(stat["system"], hz);
    }
    if (auto dir = find("pids")) {
      s.pids_current = MYDOCKER_TRY(read_number(*dir + "/pids.current")).value_or(0);
      s.pids_limit = MYDOCKER_TRY(read_limit(*dir + "/pids.max")).value_or(0);
    }
    return s;
  }

  base::Result<std::vector<pid_t>> pids() override {
    std::set<pid_t> all;
    for (const std::string& dir : dirs()) {
      for (pid_t p : MYDOCKER_TRY(fs::read_procs(dir))) {
        all.insert(p);
      }
    }
    return std::vector<pid_t>(all.begin(), all.end());
  }

  base::Result<void> kill_all() override {
    auto thaw_if_frozen = [this]() -> base::Result<void> {
      // A frozen v1 task keeps its SIGKILL pending until it runs again.
      if (find("freezer") && base::path_exists(*find("freezer") + "/freezer.state") &&
          MYDOCKER_TRY(is_frozen())) {
        MYDOCKER_TRY(thaw());
      }
      return base::ok();
    };
    return kill_until_empty(
        rel_, [this] { return pids(); }, thaw_if_frozen, options_.timeout);
  }

  base::Result<void> destroy() override {
    // One deadline for all hierarchies: a process that lingers keeps every dir busy, and
    // waiting for it once is enough.
    auto deadline = std::chrono::steady_clock::now() + options_.timeout;
    std::optional<base::Error> first;
    for (const std::string& dir : dirs()) {
      Options o = options_;
      o.timeout = std::max(std::chrono::milliseconds(0),
                           std::chrono::duration_cast<std::chrono::milliseconds>(
                               deadline - std::chrono::steady_clock::now()));
      if (auto r = fs::remove_dir(dir, o); !r && !first) {
        first = std::move(r).error();
      }
    }
    if (first) {
      return std::move(*first);
    }
    return base::ok();
  }

  std::vector<std::string> dirs() const override {
    std::vector<std::string> out;
    for (const std::string& mount : mounts_) {
      out.push_back(mount + "/" + rel_);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  std::optional<std::string> find(const std::string& controller) const {
    auto it = controller_dir_.find(controller);
    if (it == controller_dir_.end()) {
      return std::nullopt;
    }
    return it->second;
  }

  base::Result<std::string> freezer_dir() const {
    auto dir = find("freezer");
    if (!dir) {
      return base::make_error(ErrorCode::FailedPrecondition,
                              "cgroup `{}`: the freezer hierarchy is not mounted", rel_);
    }
    return *dir;
  }

  // A new v1 cpuset has empty cpus and mems, and a cgroup without them refuses tasks (ENOSPC
  // on cgroup.procs): copy each level's from its parent, top-down.
  base::Result<void> inherit_cpuset() {
    auto dir = find("cpuset");
    if (!dir) {
      return base::ok();
    }
    std::string parent = dir->substr(0, dir->size() - rel_.size() - 1);
    for (const std::string& part : base::split(rel_, '/')) {
      std::string child = parent + "/" + part;
      for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
        std::string mine = MYDOCKER_TRY(base::read_file(child + "/" + file));
        if (!base::trim(mine).empty()) {
          continue;
        }
        std::string theirs = MYDOCKER_TRY(base::read_file(parent + "/" + file));
        MYDOCKER_TRY(fs::write(child, file, std::string(base::trim(theirs))));
      }
      parent = child;
    }
    return base::ok();
  }

  base::Result<void> apply(const spec::Resources& resources) {
    v1::Features features;
    if (auto mem = find("memory")) {
      std::string memsw = *mem + "/memory.memsw.limit_in_bytes";
      features.swap_accounting = base::path_exists(memsw);
      if (features.swap_accounting && resources.memory && resources.memory->swap) {
        auto text = MYDOCKER_TRY(fs::read_optional(memsw));
        if (text) {
          auto v = parse_limit(*text);
          if (v && *v != 0) {
            features.current_memsw_limit = static_cast<int64_t>(*v);
          }
        }
      }
    }
    if (auto blkio = find("blkio"); blkio && resources.block_io) {
      features.blkio_bfq = !base::path_exists(*blkio + "/blkio.weight") &&
                           base::path_exists(*blkio + "/blkio.bfq.weight");
    }
    std::vector<FileWrite> plan = MYDOCKER_TRY(v1::writes(resources, features));
    for (const FileWrite& w : plan) {
      auto dir = find(w.controller);
      if (!dir) {
        return base::make_error(ErrorCode::FailedPrecondition,
                                "cgroup `{}` = `{}`: the {} hierarchy is not mounted", w.file,
                                w.value, w.controller);
      }
      MYDOCKER_TRY(fs::write(*dir, w.file, w.value));
    }
    return base::ok();
  }

  std::string rel_;
  Options options_;
  std::map<std::string, std::string> controller_dir_;
  std::vector<std::string> mounts_;  // distinct mount points, one dir each
  // Dirs in hierarchies without a controller (name=systemd): only bookkeeping for systemd,
  // so a read-only or odd one (a container's view of the host) must not stop a container.
  std::set<std::string> optional_;
};

}  // namespace

std::unique_ptr<Manager> make_v1_manager(const Layout& layout, const std::string& rel,
                                         Options options) {
  return std::make_unique<V1Manager>(layout, rel, std::move(options));
}

}  // namespace mydocker::runtime::cgroups
