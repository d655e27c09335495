// SPDX-License-Identifier: Apache-2.0
#include "tests/unit/api/server/fake_daemon.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <thread>

namespace mydocker::api::server::testing {

using base::ErrorCode;
using engine::Status;

FakeDaemon::FakeDaemon(std::unique_ptr<image::Images> images) : images_(std::move(images)) {}

std::string FakeDaemon::add(const std::string& name, Status status, int64_t exit_code, bool tty) {
  std::lock_guard lock(mu_);
  std::string id = fmt::format("{:0>4}", next_++) + std::string(60, 'a');
  engine::ContainerInfo c;
  c.id = id;
  c.name = "/" + name;
  c.created = "2026-11-29T18:25:47.857173354Z";
  c.path = "sh";
  c.args = {"-c", "trap 'exit 0' TERM; while :; do sleep 1; done"};
  c.state.status = status;
  c.state.exit_code = exit_code;
  if (status != Status::Created) {
    c.state.started_at = "2026-11-29T18:25:50.555441019Z";
  }
  if (status == Status::Exited) {
    c.state.finished_at = "2026-11-29T18:25:56.067791086Z";
  }
  c.image_id = "sha256:" + std::string(64, 'e');
  c.config.image = "busybox";
  c.config.tty = tty;
  c.config.labels = {{"tx-label", "1"}};
  c.driver = "overlay2";
  containers_[id] = c;
  return id;
}

void FakeDaemon::exit(const std::string& id, int64_t code) {
  std::lock_guard lock(mu_);
  auto& c = containers_.at(id);
  c.state.status = Status::Exited;
  c.state.exit_code = code;
  cv_.notify_all();
}

void FakeDaemon::set_logs(const std::string& id, std::vector<engine::LogEntry> entries) {
  std::lock_guard lock(mu_);
  logs_[id] = std::move(entries);
}

base::Result<engine::ContainerInfo*> FakeDaemon::find_locked(std::string_view ref) {
  std::string r(ref);
  if (!r.empty() && r[0] == '/') {
    r = r.substr(1);
  }
  std::vector<engine::ContainerInfo*> prefix;
  for (auto& [id, c] : containers_) {
    if (c.name == "/" + r || id == r) {
      return &c;
    }
    if (id.rfind(r, 0) == 0) {
      prefix.push_back(&c);
    }
  }
  if (prefix.size() == 1) {
    return prefix[0];
  }
  if (prefix.size() > 1) {
    return base::make_error(ErrorCode::Internal, "Multiple IDs found with provided prefix: {}",
                            ref);
  }
  return base::make_error(ErrorCode::NotFound, "No such container: {}", ref);
}

base::Result<engine::CreateResult> FakeDaemon::create(engine::CreateRequest req) {
  last_create = req;
  if (req.config.image == "tx-nosuch-image") {
    return base::make_error(ErrorCode::NotFound, "No such image: tx-nosuch-image:latest");
  }
  if (!req.name.empty()) {
    std::lock_guard lock(mu_);
    for (const auto& [id, c] : containers_) {
      if (c.name == "/" + req.name) {
        return base::make_error(ErrorCode::Conflict,
                                "Conflict. The container name \"/{}\" is already in use by "
                                "container \"{}\". You have to remove (or rename) that "
                                "container to be able to reuse that name.",
                                req.name, id);
      }
    }
  }
  std::string id = add(req.name.empty() ? "nervous_cray" : req.name, Status::Created);
  return engine::CreateResult{id, {}};
}

base::Result<void> FakeDaemon::start(std::string_view ref) {
  std::lock_guard lock(mu_);
  auto* c = MYDOCKER_TRY(find_locked(ref));
  if (c->state.status == Status::Running) {
    return base::make_error(ErrorCode::NotModified, "container already started");
  }
  c->state.status = Status::Running;
  return base::ok();
}

base::Result<void> FakeDaemon::stop(std::string_view ref, std::optional<int64_t> timeout,
                                    std::optional<std::string> signal) {
  std::lock_guard lock(mu_);
  last_stop_timeout = timeout;
  last_stop_signal = signal;
  auto* c = MYDOCKER_TRY(find_locked(ref));
  if (c->state.status != Status::Running) {
    return base::make_error(ErrorCode::NotModified, "container already stopped");
  }
  c->state.status = Status::Exited;
  cv_.notify_all();
  return base::ok();
}

base::Result<void> FakeDaemon::restart(std::string_view ref, std::optional<int64_t> timeout,
                                       std::optional<std::string> signal) {
  std::lock_guard lock(mu_);
  last_stop_timeout = timeout;
  last_stop_signal = signal;
  auto* c = MYDOCKER_TRY(find_locked(ref));
  c->state.status = Status::Running;
  return base::ok();
}

base::Result<void> FakeDaemon::kill(std::string_view ref, std::string_view signal) {
  std::lock_guard lock(mu_);
  last_kill_signal = signal;
  auto* c = MYDOCKER_TRY(find_locked(ref));
  if (signal == "SIGFOO") {
    return base::make_error(ErrorCode::InvalidArgument, "Invalid signal: SIGFOO");
  }
  if (c->state.status != Status::Running) {
    return base::make_error(ErrorCode::Conflict, "Container {} is not running", c->id);
  }
  return base::ok();
}

base::Result<void> FakeDaemon::pause(std::string_view ref) {
  std::lock_guard lock(mu_);
  auto* c = MYDOCKER_TRY(find_locked(ref));
  if (c->state.status == Status::Paused) {
    return base::make_error(ErrorCode::Conflict, "Container {} is already paused", c->id);
  }
  c->state.status = Status::Paused;
  return base::ok();
}

base::Result<void> FakeDaemon::unpause(std::string_view ref) {
  std::lock_guard lock(mu_);
  auto* c = MYDOCKER_TRY(find_locked(ref));
  if (c->state.status != Status::Paused) {
    return base::make_error(ErrorCode::Internal, "Container {} is not paused", c->id);
  }
  c->state.status = Status::Running;
  return base::ok();
}

base::Result<engine::WaitResult> FakeDaemon::wait(std::string_view ref,
                                                  engine::WaitCondition condition) {
  std::unique_lock lock(mu_);
  last_wait_condition = condition;
  auto* c = MYDOCKER_TRY(find_locked(ref));
  std::string id = c->id;
  cv_.wait(lock, [&] {
    auto it = containers_.find(id);
    return it == containers_.end() || it->second.state.status != Status::Running;
  });
  auto it = containers_.find(id);
  return engine::WaitResult{it == containers_.end() ? 0 : it->second.state.exit_code, ""};
}

base::Result<void> FakeDaemon::remove(std::string_view ref, bool force, bool) {
  std::lock_guard lock(mu_);
  auto* c = MYDOCKER_TRY(find_locked(ref));
  bool running = c->state.status == Status::Running || c->state.status == Status::Paused;
  if (running && !force) {
    return base::make_error(ErrorCode::Conflict,
                            "You cannot remove a running container {}. Stop the container "
                            "before attempting removal or force remove",
                            c->id);
  }
  containers_.erase(c->id);
  cv_.notify_all();
  return base::ok();
}

base::Result<std::vector<engine::ContainerInfo>> FakeDaemon::list(
    const engine::ListOptions& options) {
  std::lock_guard lock(mu_);
  last_list = options;
  for (const auto& [k, v] : options.filters) {
    if (k != "name" && k != "status" && k != "label") {
      return base::make_error(ErrorCode::InvalidArgument, "Invalid filter '{}'", k);
    }
    if (k == "status") {
      for (const auto& s : v) {
        if (s != "running" && s != "exited" && s != "created") {
          return base::make_error(ErrorCode::InvalidArgument, "Invalid filter 'status={}'", s);
        }
      }
    }
  }
  std::vector<engine::ContainerInfo> out;
  for (const auto& [id, c] : containers_) {
    if (!options.all && c.state.status != Status::Running) {
      continue;
    }
    if (auto it = options.filters.find("name"); it != options.filters.end()) {
      bool match = std::any_of(it->second.begin(), it->second.end(), [&](const std::string& n) {
        return c.name.find(n) != std::string::npos;
      });
      if (!match) {
        continue;
      }
    }
    out.push_back(c);
    if (options.size) {
      out.back().size_rw = 0;
      out.back().size_root_fs = 1982391;
    }
  }
  return out;
}

base::Result<engine::ContainerInfo> FakeDaemon::inspect(std::string_view ref, bool size) {
  std::lock_guard lock(mu_);
  auto* c = MYDOCKER_TRY(find_locked(ref));
  engine::ContainerInfo out = *c;
  if (size) {
    out.size_rw = 0;
    out.size_root_fs = 1982391;
  }
  return out;
}

base::Result<void> FakeDaemon::logs(std::string_view ref, const engine::LogsOptions& options,
                                    const engine::LogSink& sink) {
  std::vector<engine::LogEntry> entries;
  bool running = false;
  {
    std::lock_guard lock(mu_);
    last_logs = options;
    auto* c = MYDOCKER_TRY(find_locked(ref));
    entries = logs_[c->id];
    running = c->state.status == Status::Running;
  }
  for (const auto& e : entries) {
    if ((e.stream == 1 && !options.stdout_stream) || (e.stream == 2 && !options.stderr_stream)) {
      continue;
    }
    if (!sink(e)) {
      return base::ok();
    }
  }
  if (options.follow && running && options.client_alive) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (options.client_alive() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    follow_client_left = !options.client_alive();
  }
  return base::ok();
}

base::Result<engine::TopResult> FakeDaemon::top(std::string_view ref, std::string_view ps_args) {
  std::lock_guard lock(mu_);
  auto* c = MYDOCKER_TRY(find_locked(ref));
  if (c->state.status != Status::Running) {
    return base::make_error(ErrorCode::Conflict, "Container {} is not running", c->id);
  }
  return engine::TopResult{{"UID", "PID", "CMD"}, {{"root", "1", std::string(ps_args)}}};
}

base::Result<void> FakeDaemon::rename(std::string_view ref, std::string_view new_name) {
  std::lock_guard lock(mu_);
  auto* c = MYDOCKER_TRY(find_locked(ref));
  if (c->name == "/" + std::string(new_name)) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "Renaming a container with the same name as its current name");
  }
  c->name = "/" + std::string(new_name);
  return base::ok();
}

base::Result<std::vector<std::string>> FakeDaemon::update(std::string_view ref,
                                                          const engine::UpdateRequest& req) {
  std::lock_guard lock(mu_);
  last_update = req;
  MYDOCKER_TRY(find_locked(ref));
  if (req.restart_policy && req.restart_policy->name == "sometimes") {
    return base::make_error(ErrorCode::InvalidArgument, "invalid restart policy 'sometimes'");
  }
  return std::vector<std::string>{};
}

base::Result<engine::PruneResult> FakeDaemon::prune(
    const std::map<std::string, std::vector<std::string>>& filters) {
  std::lock_guard lock(mu_);
  for (const auto& [k, v] : filters) {
    if (k != "label" && k != "until") {
      return base::make_error(ErrorCode::InvalidArgument, "Invalid filter '{}'", k);
    }
  }
  engine::PruneResult r;
  for (auto it = containers_.begin(); it != containers_.end();) {
    if (it->second.state.status == Status::Exited) {
      r.deleted.push_back(it->first);
      it = containers_.erase(it);
    } else {
      ++it;
    }
  }
  return r;
}

base::Result<void> FakeDaemon::export_container(std::string_view ref, const engine::Sink& out) {
  {
    std::lock_guard lock(mu_);
    MYDOCKER_TRY(find_locked(ref));
  }
  MYDOCKER_TRY(out(std::string(512, 'x')));
  return out(std::string(1024, '\0'));
}

base::Result<std::vector<engine::Change>> FakeDaemon::changes(std::string_view ref) {
  std::lock_guard lock(mu_);
  auto* c = MYDOCKER_TRY(find_locked(ref));
  if (c->state.status == Status::Created) {
    return std::vector<engine::Change>{};
  }
  return std::vector<engine::Change>{{"/etc", 0}, {"/etc/hosts2", 1}, {"/etc/passwd", 2}};
}

engine::SystemInfo FakeDaemon::info() {
  std::lock_guard lock(mu_);
  engine::SystemInfo i;
  i.containers = static_cast<int64_t>(containers_.size());
  i.driver = "vfs";
  i.data_root = images_->data_root();
  i.cgroup_driver = "cgroupfs";
  i.cgroup_version = "1";
  return i;
}

base::Result<engine::DiskUsage> FakeDaemon::disk_usage() {
  std::lock_guard lock(mu_);
  engine::DiskUsage du;
  for (const auto& [id, c] : containers_) {
    du.containers.push_back(c);
  }
  return du;
}

base::Result<void> FakeDaemon::attach(std::string_view ref, const engine::AttachOptions& options,
                                      const engine::Upgrade& upgrade) {
  bool tty = false;
  {
    std::lock_guard lock(mu_);
    if (options.detach_keys == "bad") {
      return base::make_error(ErrorCode::InvalidArgument, "Invalid detach keys (bad) provided");
    }
    auto* c = MYDOCKER_TRY(find_locked(ref));
    tty = c->config.tty;
    last_attach = options;
  }
  auto conn = MYDOCKER_TRY(upgrade(tty));
  std::lock_guard lock(mu_);
  conns_.push_back(std::move(conn));
  cv_.notify_all();
  return base::ok();
}

base::Result<void> FakeDaemon::resize(std::string_view ref, int height, int width) {
  std::lock_guard lock(mu_);
  auto* c = MYDOCKER_TRY(find_locked(ref));
  if (c->state.status != Status::Running) {
    return base::make_error(ErrorCode::Conflict, "Container {} is not running", c->id);
  }
  last_resize = {height, width};
  return base::ok();
}

base::Result<std::string> FakeDaemon::exec_create(std::string_view ref,
                                                  const engine::ExecConfig& config) {
  std::lock_guard lock(mu_);
  auto* c = MYDOCKER_TRY(find_locked(ref));
  if (c->state.status != Status::Running) {
    return base::make_error(ErrorCode::Conflict, "Container {} is not running", c->id);
  }
  engine::ExecInfo e;
  e.id = fmt::format("{:0>4}", next_++) + std::string(60, 'e');
  e.container_id = c->id;
  e.config = config;
  e.detach_keys = config.detach_keys;
  execs_[e.id] = e;
  return e.id;
}

base::Result<void> FakeDaemon::exec_start(std::string_view exec_id,
                                          const engine::ExecStartOptions& options,
                                          const engine::Upgrade& upgrade) {
  bool tty = false;
  {
    std::lock_guard lock(mu_);
    auto it = execs_.find(std::string(exec_id));
    if (it == execs_.end()) {
      return base::make_error(ErrorCode::NotFound, "No such exec instance: {}", exec_id);
    }
    last_exec_start = options;
    it->second.running = true;
    it->second.pid = 4242;
    tty = it->second.config.tty;
  }
  if (options.detach) {
    return base::ok();
  }
  auto conn = MYDOCKER_TRY(upgrade(tty));
  std::lock_guard lock(mu_);
  conns_.push_back(std::move(conn));
  cv_.notify_all();
  return base::ok();
}

base::Result<engine::ExecInfo> FakeDaemon::exec_inspect(std::string_view exec_id) {
  std::lock_guard lock(mu_);
  auto it = execs_.find(std::string(exec_id));
  if (it == execs_.end()) {
    return base::make_error(ErrorCode::NotFound, "No such exec instance: {}", exec_id);
  }
  return it->second;
}

base::Result<void> FakeDaemon::exec_resize(std::string_view exec_id, int height, int width) {
  std::lock_guard lock(mu_);
  auto it = execs_.find(std::string(exec_id));
  if (it == execs_.end()) {
    return base::make_error(ErrorCode::NotFound, "No such exec instance: {}", exec_id);
  }
  last_resize = {height, width};
  return base::ok();
}

base::Fd FakeDaemon::take_conn() {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::chrono::seconds(5), [&] { return !conns_.empty(); });
  if (conns_.empty()) {
    return base::Fd();
  }
  base::Fd fd = std::move(conns_.front());
  conns_.erase(conns_.begin());
  return fd;
}

}  // namespace mydocker::api::server::testing
