// SPDX-License-Identifier: Apache-2.0
#include "tests/unit/runtime/cgroups/fake_cgroupfs.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>

#include "runtime/base/file.h"
#include "runtime/base/strings.h"

namespace mydocker::runtime::cgroups::fake {
namespace {

const std::vector<std::string> kV1Controllers = {
    "blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "memory", "pids", "name=systemd"};

std::string mount_name(const std::string& controller) {
  return controller == "name=systemd" ? "systemd" : controller;
}

const std::string kUnlimitedV1 = "9223372036854771712\n";

const std::map<std::string, std::map<std::string, std::string>>& v1_files() {
  static const std::map<std::string, std::map<std::string, std::string>> files = {
      {"memory",
       {{"memory.limit_in_bytes", kUnlimitedV1},
        {"memory.memsw.limit_in_bytes", kUnlimitedV1},
        {"memory.soft_limit_in_bytes", kUnlimitedV1},
        {"memory.swappiness", "60\n"},
        {"memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n"},
        {"memory.usage_in_bytes", "0\n"},
        {"memory.max_usage_in_bytes", "0\n"},
        {"memory.failcnt", "0\n"}}},
      {"cpu",
       {{"cpu.shares", "1024\n"},
        {"cpu.cfs_period_us", "100000\n"},
        {"cpu.cfs_quota_us", "-1\n"},
        {"cpu.rt_period_us", "1000000\n"},
        {"cpu.rt_runtime_us", "0\n"}}},
      {"cpuacct", {{"cpuacct.usage", "0\n"}, {"cpuacct.stat", "user 0\nsystem 0\n"}}},
      {"cpuset", {{"cpuset.cpus", "\n"}, {"cpuset.mems", "\n"}}},
      {"pids", {{"pids.max", "max\n"}, {"pids.current", "0\n"}}},
      {"freezer", {{"freezer.state", "THAWED\n"}}},
      {"blkio",
       {{"blkio.bfq.weight", "100\n"},
        {"blkio.bfq.weight_device", ""},
        {"blkio.throttle.read_bps_device", ""},
        {"blkio.throttle.write_bps_device", ""},
        {"blkio.throttle.read_iops_device", ""},
        {"blkio.throttle.write_iops_device", ""}}},
      {"devices", {{"devices.allow", ""}, {"devices.deny", ""}, {"devices.list", "a *:* rwm\n"}}},
      {"systemd", {}},
  };
  return files;
}

std::set<std::string> words(const std::string& text) {
  std::set<std::string> out;
  for (const std::string& w : base::split(text, ' ')) {
    std::string t(base::trim(w));
    if (!t.empty() && t[0] == '+') {
      t.erase(0, 1);
    }
    if (!t.empty()) {
      out.insert(t);
    }
  }
  return out;
}

// The kernel's rmdir of a cgroup: EBUSY while it holds processes; its control files go with
// it. Sub-directories make it ENOTEMPTY, as real sub-cgroups do.
base::Result<void> fake_rmdir(const std::string& dir) {
  struct stat st;
  if (::lstat(dir.c_str(), &st) < 0) {
    return base::sys_error("remove cgroup `{}`", dir);
  }
  std::string procs = get(dir + "/cgroup.procs");
  if (procs != "<missing>" && !procs.empty()) {
    return base::Error(base::ErrorCode::Conflict, fmt::format("remove cgroup `{}`", dir), EBUSY);
  }
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.is_regular_file()) {
      std::filesystem::remove(e.path());
    }
  }
  if (::rmdir(dir.c_str()) < 0) {
    return base::sys_error("remove cgroup `{}`", dir);
  }
  return base::ok();
}

void put_or_break(const std::vector<std::string>& broken, const std::string& dir,
                  const std::string& file, const std::string& text) {
  if (std::find(broken.begin(), broken.end(), file) != broken.end()) {
    ::mkdir((dir + "/" + file).c_str(), 0755);
    return;
  }
  put(dir + "/" + file, text);
}

}  // namespace

void put(const std::string& path, const std::string& text) {
  auto r = base::write_file(path, text, O_CREAT);
  if (!r) {
    ADD_FAILURE_AT(__FILE__, __LINE__) << r.error().to_string();
  }
}

std::string get(const std::string& path) {
  auto r = base::read_file(path);
  if (!r) {
    return "<missing>";
  }
  return std::string(base::trim(*r));
}

bool is_dir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

V1Fake::V1Fake(std::string root) : root_(std::move(root)) {
  for (const std::string& c : kV1Controllers) {
    std::string mount = root_ + "/" + mount_name(c);
    ::mkdir(mount.c_str(), 0755);
    put(mount + "/cgroup.procs", "");
  }
  put(root_ + "/cpuset/cpuset.cpus", "0-1\n");
  put(root_ + "/cpuset/cpuset.mems", "0\n");
}

Layout V1Fake::layout() const {
  Layout l;
  l.mode = Mode::V1;
  for (const std::string& c : kV1Controllers) {
    l.v1_mounts[c] = root_ + "/" + mount_name(c);
  }
  return l;
}

std::vector<std::string> V1Fake::controllers_without(const std::string& controller) const {
  std::vector<std::string> out;
  for (const std::string& c : kV1Controllers) {
    if (c != controller) {
      out.push_back(c);
    }
  }
  return out;
}

Options V1Fake::options() {
  Options o;
  o.timeout = std::chrono::milliseconds(5000);  // tests of timeouts set their own
  o.populate_for_test = [this](const std::string& dir) { populate(dir); };
  o.rmdir_for_test = fake_rmdir;
  return o;
}

std::string V1Fake::path(const std::string& controller, const std::string& rel,
                         const std::string& file) const {
  return root_ + "/" + mount_name(controller) + "/" + rel + (file.empty() ? "" : "/" + file);
}

void V1Fake::populate(const std::string& dir) {
  std::string mount = dir.substr(root_.size() + 1);
  mount = mount.substr(0, mount.find('/'));
  put(dir + "/cgroup.procs", "");
  put(dir + "/tasks", "");
  for (const auto& [file, text] : v1_files().at(mount)) {
    put_or_break(broken_files, dir, file, text);
  }
}

void V1Fake::write_stats_fixtures(const std::string& rel) {
  put(path("memory", rel, "memory.usage_in_bytes"), "1000\n");
  put(path("memory", rel, "memory.max_usage_in_bytes"), "2000\n");
  put(path("memory", rel, "memory.limit_in_bytes"), "4096\n");
  put(path("memory", rel, "memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
  put(path("cpuacct", rel, "cpuacct.usage"), "3000000000\n");
  put(path("cpuacct", rel, "cpuacct.stat"), "user 200\nsystem 100\n");
  put(path("pids", rel, "pids.current"), "3\n");
  put(path("pids", rel, "pids.max"), "10\n");
}

V2Fake::V2Fake(std::string root) : root_(std::move(root) + "/unified") {
  ::mkdir(root_.c_str(), 0755);
  put(root_ + "/cgroup.controllers", "cpuset cpu io memory pids\n");
  put(root_ + "/cgroup.subtree_control", "\n");
  put(root_ + "/cgroup.procs", "");
}

V2Fake::~V2Fake() {
  stop_ = true;
  if (kernel_.joinable()) {
    kernel_.join();
  }
}

Layout V2Fake::layout() const {
  Layout l;
  l.mode = Mode::V2;
  l.unified_mount = root_;
  return l;
}

Options V2Fake::options() {
  Options o;
  o.timeout = std::chrono::milliseconds(5000);  // tests of timeouts set their own
  o.populate_for_test = [this](const std::string& dir) { populate(dir); };
  o.rmdir_for_test = fake_rmdir;
  return o;
}

std::string V2Fake::path(const std::string&, const std::string& rel,
                         const std::string& file) const {
  return root_ + "/" + rel + (file.empty() ? "" : "/" + file);
}

void V2Fake::populate(const std::string& dir) {
  std::string parent = dir.substr(0, dir.rfind('/'));
  std::set<std::string> enabled = words(get(parent + "/cgroup.subtree_control"));
  put(dir + "/cgroup.controllers", base::join({enabled.begin(), enabled.end()}, " ") + "\n");
  put(dir + "/cgroup.subtree_control", "\n");
  put(dir + "/cgroup.procs", "");
  put(dir + "/cgroup.freeze", "0\n");
  put(dir + "/cgroup.events", "populated 0\nfrozen 0\n");
  put(dir + "/cgroup.kill", "");
  put(dir + "/cpu.stat", "usage_usec 0\nuser_usec 0\nsystem_usec 0\n");
  const std::map<std::string, std::map<std::string, std::string>> files = {
      {"memory",
       {{"memory.max", "max\n"},
        {"memory.swap.max", "max\n"},
        {"memory.low", "0\n"},
        {"memory.current", "0\n"},
        {"memory.peak", "0\n"},
        {"memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n"}}},
      {"cpu", {{"cpu.weight", "100\n"}, {"cpu.max", "max 100000\n"}}},
      {"pids", {{"pids.max", "max\n"}, {"pids.current", "0\n"}}},
      {"io", {{"io.weight", "default 100\n"}, {"io.max", ""}}},
      {"cpuset", {{"cpuset.cpus", "\n"}, {"cpuset.mems", "\n"}}},
  };
  for (const std::string& c : enabled) {
    auto it = files.find(c);
    if (it == files.end()) {
      continue;
    }
    for (const auto& [file, text] : it->second) {
      put_or_break(broken_files, dir, file, text);
    }
  }
}

void V2Fake::start_kernel(const std::string& dir) {
  kernel_ = std::thread([this, dir] {
    while (!stop_) {
      std::string want = get(dir + "/cgroup.freeze") == "1" ? "1" : "0";
      if (get(dir + "/cgroup.events").find("frozen " + want) == std::string::npos) {
        // Replace, never rewrite in place: a reader must not see a half-written file.
        (void)base::write_file_atomic(dir + "/cgroup.events", "populated 0\nfrozen " + want + "\n");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
}

void V2Fake::write_stats_fixtures(const std::string& rel) {
  put(path("", rel, "memory.current"), "1000\n");
  put(path("", rel, "memory.peak"), "2000\n");
  put(path("", rel, "memory.max"), "4096\n");
  put(path("", rel, "memory.events"), "low 0\nhigh 0\nmax 5\noom 3\noom_kill 2\n");
  put(path("", rel, "cpu.stat"),
      "usage_usec 3000000\nuser_usec 2000000\nsystem_usec 1000000\nnr_periods 0\n");
  put(path("", rel, "pids.current"), "3\n");
  put(path("", rel, "pids.max"), "10\n");
}

}  // namespace mydocker::runtime::cgroups::fake
