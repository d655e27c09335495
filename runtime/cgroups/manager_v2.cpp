// SPDX-License-Identifier: Apache-2.0
// cgroup v2: one directory; a controller's files appear in it only once every ancestor lists
// the controller in cgroup.subtree_control.
#include <sys/stat.h>

#include <algorithm>
#include <set>

#include "runtime/base/file.h"
#include "runtime/base/scope_exit.h"
#include "runtime/base/strings.h"
#include "runtime/cgroups/backends.h"
#include "runtime/cgroups/devices_bpf.h"
#include "runtime/cgroups/fs.h"
#include "runtime/cgroups/plan.h"
#include "runtime/cgroups/stats.h"

namespace mydocker::runtime::cgroups {
namespace {

using base::ErrorCode;

std::set<std::string> words(const std::string& text) {
  std::set<std::string> out;
  for (const std::string& w : base::split(text, ' ')) {
    std::string_view t = base::trim(w);
    if (!t.empty()) {
      out.emplace(t);
    }
  }
  return out;
}

class V2Manager final : public Manager {
 public:
  V2Manager(const Layout& layout, std::string rel, Options options)
      : mount_(layout.unified_mount),
        rel_(std::move(rel)),
        dir_(mount_ + "/" + rel_),
        options_(std::move(options)) {}

  base::Result<void> create(const spec::Resources& resources) override {
    // Refuse what cannot be applied before anything exists.
    std::vector<FileWrite> plan = MYDOCKER_TRY(v2::writes(resources));
    auto program = MYDOCKER_TRY(device_program(resources));
    std::vector<std::string> made;
    base::ScopeExit rollback([&] { fs::remove_made(made, options_); });
    std::string parent = mount_;
    for (const std::string& part : base::split(rel_, '/')) {
      MYDOCKER_TRY(enable_controllers(parent));
      MYDOCKER_TRY(fs::make_dirs(parent, part, made, options_));
      parent += "/" + part;
    }
    MYDOCKER_TRY(apply(plan));
    MYDOCKER_TRY(attach(program));
    rollback.dismiss();
    return base::ok();
  }

  base::Result<void> add_process(pid_t pid) override {
    MYDOCKER_TRY_CTX(fs::write(dir_, "cgroup.procs", std::to_string(pid)), "add process to `{}`",
                     dir_);
    return base::ok();
  }

  base::Result<void> update(const spec::Resources& resources) override {
    std::vector<FileWrite> plan = MYDOCKER_TRY(v2::writes(resources));
    auto program = MYDOCKER_TRY(device_program(resources));
    MYDOCKER_TRY(apply(plan));
    return attach(program);
  }

  base::Result<void> freeze() override {
    auto r = set_frozen(true);
    if (!r) {
      (void)fs::write(dir_, "cgroup.freeze", "0");
    }
    return r;
  }
  base::Result<void> thaw() override { return set_frozen(false); }

  base::Result<bool> is_frozen() override {
    auto events = MYDOCKER_TRY(read_keyed(dir_ + "/cgroup.events"));
    return events["frozen"] == 1;
  }

  base::Result<Stats> stats() override {
    Stats s;
    s.memory_usage = MYDOCKER_TRY(read_number(dir_ + "/memory.current")).value_or(0);
    s.memory_max_usage = MYDOCKER_TRY(read_number(dir_ + "/memory.peak")).value_or(0);
    s.memory_limit = MYDOCKER_TRY(read_limit(dir_ + "/memory.max")).value_or(0);
    s.oom_events = MYDOCKER_TRY(read_keyed(dir_ + "/memory.events"))["oom_kill"];
    auto cpu = MYDOCKER_TRY(read_keyed(dir_ + "/cpu.stat"));
    s.cpu_usage_ns = cpu["usage_usec"] * 1000;
    s.cpu_user_ns = cpu["user_usec"] * 1000;
    s.cpu_system_ns = cpu["system_usec"] * 1000;
    s.pids_current = MYDOCKER_TRY(read_number(dir_ + "/pids.current")).value_or(0);
    s.pids_limit = MYDOCKER_TRY(read_limit(dir_ + "/pids.max")).value_or(0);
    return s;
  }

  base::Result<std::vector<pid_t>> pids() override {
    std::vector<pid_t> out = MYDOCKER_TRY(fs::read_procs(dir_));
    std::sort(out.begin(), out.end());
    return out;
  }

  base::Result<void> kill_all() override {
    // cgroup.kill (5.14+) kills the whole subtree at once, forks in flight included.
    if (base::path_exists(dir_ + "/cgroup.kill")) {
      MYDOCKER_TRY(fs::write(dir_, "cgroup.kill", "1"));
    }
    return kill_until_empty(
        rel_, [this] { return pids(); }, nullptr, options_.timeout);
  }

  base::Result<void> destroy() override { return fs::remove_dir(dir_, options_); }

  std::vector<std::string> dirs() const override { return {dir_}; }

 private:
  // Enables in `dir`'s subtree_control every controller `dir` has, as runc does: a container
  // updated later may need one its create did not.
  base::Result<void> enable_controllers(const std::string& dir) {
    std::string available = MYDOCKER_TRY(base::read_file(dir + "/cgroup.controllers"));
    auto enabled_text = MYDOCKER_TRY(fs::read_optional(dir + "/cgroup.subtree_control"));
    std::set<std::string> enabled = words(enabled_text.value_or(""));
    std::vector<std::string> missing;
    for (const std::string& c : words(available)) {
      if (enabled.count(c) == 0) {
        missing.push_back("+" + c);
      }
    }
    if (missing.empty()) {
      return base::ok();
    }
    if (fs::write(dir, "cgroup.subtree_control", base::join(missing, " "))) {
      return base::ok();
    }
    // One refused controller (cpu with realtime tasks outside the root, a parent holding
    // processes) must not cost the others; a write to a file of a controller that stayed off
    // then names that file.
    for (const std::string& c : missing) {
      (void)fs::write(dir, "cgroup.subtree_control", c);
    }
    return base::ok();
  }

  base::Result<void> apply(const std::vector<FileWrite>& plan) {
    for (const FileWrite& w : plan) {
      MYDOCKER_TRY(fs::write(dir_, w.file, w.value));
    }
    return base::ok();
  }

  // No rules, no program: the cgroup then restricts no device (as v1 without rules).
  static base::Result<std::optional<std::vector<bpf_insn>>> device_program(
      const spec::Resources& resources) {
    if (resources.devices.empty()) {
      return std::optional<std::vector<bpf_insn>>();
    }
    return std::optional<std::vector<bpf_insn>>(
        MYDOCKER_TRY(bpf::device_program(resources.devices)));
  }

  base::Result<void> attach(const std::optional<std::vector<bpf_insn>>& program) {
    if (!program) {
      return base::ok();
    }
    base::Fd prog = MYDOCKER_TRY(bpf::load_device_program(*program));
    return bpf::attach_device_program(dir_, prog);
  }

  base::Result<void> set_frozen(bool frozen) {
    MYDOCKER_TRY(fs::write(dir_, "cgroup.freeze", frozen ? "1" : "0"));
    auto step = [&]() -> base::Result<bool> { return MYDOCKER_TRY(is_frozen()) == frozen; };
    bool done = MYDOCKER_TRY(fs::poll_until(options_.timeout, step));
    if (!done) {
      return base::make_error(ErrorCode::Unavailable, "{} cgroup `{}`: not done after {} ms",
                              frozen ? "freeze" : "thaw", dir_, options_.timeout.count());
    }
    return base::ok();
  }

  std::string mount_;
  std::string rel_;
  std::string dir_;
  Options options_;
};

}  // namespace

std::unique_ptr<Manager> make_v2_manager(const Layout& layout, const std::string& rel,
                                         Options options) {
  return std::make_unique<V2Manager>(layout, rel, std::move(options));
}

}  // namespace mydocker::runtime::cgroups
