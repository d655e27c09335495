// SPDX-License-Identifier: Apache-2.0
// LocalDaemon: the real engine::Daemon (layout and restore rules in local_daemon.h).
//
// Locking: `mu_` guards the index (names and IDs -> containers); each Container has its own
// `mu` guarding its record, shim and counters. Order: a container's mu, then mu_ (never the
// reverse: listings copy the container pointers under mu_ and lock each one afterwards).
// Blocking waits (stop, wait, logs --follow) wait on the container's condition variable,
// which releases its mu. The monitor thread watches the shims' pidfds with epoll and runs the
// restart timers.
#include "engine/local_daemon.h"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "engine/container/config.h"
#include "engine/fs/changes.h"
#include "engine/fs/etc_files.h"
#include "engine/logs/json_file.h"
#include "engine/names/names.h"
#include "engine/shim/proto.h"
#include "engine/shim/spawn.h"
#include "engine/specgen/specgen.h"
#include "engine/state/filters.h"
#include "engine/state/lifecycle.h"
#include "engine/store/record.h"
#include "engine/top/top.h"
#include "image/archive/export.h"
#include "image/content/image_config.h"
#include "image/layers/snapshotter.h"
#include "runtime/base/file.h"
#include "runtime/base/scope_exit.h"
#include "runtime/base/strings.h"
#include "runtime/spec/signals.h"
#include "runtime/state/container.h"

namespace mydocker::engine {
namespace {

using base::ErrorCode;
using base::make_error;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr const char* kDefaultLogMaxSize = "20m";  // Docker has no default; the local driver's
constexpr int64_t kDefaultLogMaxFiles = 5;
constexpr const char* kInitPath = "/usr/bin/tini-static";

std::string now_rfc3339() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return image::content::format_rfc3339_nano(ts.tv_sec, static_cast<int32_t>(ts.tv_nsec));
}

int64_t now_unix() {
  return static_cast<int64_t>(::time(nullptr));
}

bool running_like(Status s) {
  return s == Status::Running || s == Status::Paused;
}

// Unmounts everything stacked on `target` (lazily: a process of the container may still hold
// it for a moment).
void unmount_all(const std::string& target) {
  for (int i = 0; i < 16; ++i) {
    if (::umount2(target.c_str(), MNT_DETACH) < 0) {
      break;
    }
  }
}

bool overlay_supported() {
  auto fs = base::read_file("/proc/filesystems");
  return fs && fs->find("\toverlay\n") != std::string::npos;
}

bool cgroup2_unified() {
  struct statfs st {};
  return ::statfs("/sys/fs/cgroup", &st) == 0 && st.f_type == 0x63677270;  // CGROUP2_SUPER_MAGIC
}

// Docker's translateContainerdStartErr: which exit code a failed start records, and whether
// the error is the caller's (a bad command: 400) or the daemon's.
base::Error start_error(const base::Error& e, int64_t& exit_code) {
  std::string msg = e.message();
  std::string lower = msg;
  for (char& ch : lower) {
    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  }
  std::string text = fmt::format(
      "failed to create shim task: OCI runtime create failed: runc create failed: unable to "
      "start container process: {}: unknown",
      msg);
  exit_code = 128;
  ErrorCode code = ErrorCode::Internal;
  if (e.code() == ErrorCode::NotFound ||
      lower.find("executable file not found") != std::string::npos ||
      lower.find("no such file or directory") != std::string::npos) {
    exit_code = 127;
    code = ErrorCode::InvalidArgument;
  }
  if (e.code() == ErrorCode::PermissionDenied ||
      lower.find("permission denied") != std::string::npos) {
    exit_code = 126;
    code = ErrorCode::InvalidArgument;
  }
  return base::Error(code, text);
}

struct Container {
  explicit Container(store::Record r) : rec(std::move(r)) {}
  const std::string& id() const { return rec.info.id; }

  std::mutex mu;               // guards everything below
  std::condition_variable cv;  // any state change: start, exit, removal
  store::Record rec;
  std::optional<shim::Shim> shim;  // while the container runs
  uint64_t watch_key = 0;          // the monitor's key for shim's pidfd (0: none)
  uint64_t exits = 0;              // exits seen (next-exit waits)
  int64_t last_exit = 0;
  bool removed = false;
  Clock::time_point run_started{};
  int64_t backoff_ms = 0;
  uint64_t restart_gen = 0;  // a scheduled restart runs only while this is unchanged
};

using ContainerPtr = std::shared_ptr<Container>;

class LocalDaemon final : public Daemon {
 public:
  explicit LocalDaemon(DaemonOptions options) : opts_(std::move(options)) {}
  ~LocalDaemon() override { shutdown(); }

  base::Result<void> open();

  base::Result<CreateResult> create(CreateRequest req) override;
  base::Result<void> start(std::string_view ref) override;
  base::Result<void> stop(std::string_view ref, std::optional<int64_t> timeout,
                          std::optional<std::string> signal) override;
  base::Result<void> restart(std::string_view ref, std::optional<int64_t> timeout,
                             std::optional<std::string> signal) override;
  base::Result<void> kill(std::string_view ref, std::string_view signal) override;
  base::Result<void> pause(std::string_view ref) override;
  base::Result<void> unpause(std::string_view ref) override;
  base::Result<WaitResult> wait(std::string_view ref, WaitCondition condition) override;
  base::Result<void> remove(std::string_view ref, bool force, bool volumes) override;
  base::Result<std::vector<ContainerInfo>> list(const ListOptions& options) override;
  base::Result<ContainerInfo> inspect(std::string_view ref, bool size) override;
  base::Result<void> logs(std::string_view ref, const LogsOptions& options,
                          const LogSink& sink) override;
  base::Result<TopResult> top(std::string_view ref, std::string_view ps_args) override;
  base::Result<void> rename(std::string_view ref, std::string_view new_name) override;
  base::Result<std::vector<std::string>> update(std::string_view ref,
                                                const UpdateRequest& req) override;
  base::Result<PruneResult> prune(
      const std::map<std::string, std::vector<std::string>>& filters) override;
  base::Result<void> export_container(std::string_view ref, const Sink& out) override;
  base::Result<std::vector<Change>> changes(std::string_view ref) override;
  image::Images& images() override { return *images_; }
  SystemInfo info() override;
  base::Result<DiskUsage> disk_usage() override;
  void shutdown() override;

 private:
  // Paths.
  std::string container_dir(const std::string& id) const { return containers_dir_ + "/" + id; }
  std::string state_dir(const std::string& id) const { return exec_containers_dir_ + "/" + id; }
  std::string rootfs_dir(const std::string& id) const { return container_dir(id) + "/rootfs"; }

  base::Result<ContainerPtr> find(std::string_view ref);
  std::vector<ContainerPtr> snapshot();
  base::Error unavailable() const {
    return make_error(ErrorCode::Unavailable, "the daemon is shutting down");
  }

  void persist(Container& c);
  base::Result<void> start_locked(Container& c);
  void finish_run_locked(Container& c, int64_t exit_code, bool oom, const std::string& finished,
                         const std::string& error);
  void cleanup_run_locked(Container& c);
  bool should_restart_locked(const Container& c) const;
  void schedule_restart_locked(Container& c);
  base::Result<void> signal_locked(Container& c, int sig);
  // Waits (releasing lk) until the container is not running; false on timeout (timeout_s < 0:
  // none) or shutdown.
  bool wait_stopped(Container& c, std::unique_lock<std::mutex>& lk, int64_t timeout_s);
  base::Result<void> remove_files_locked(Container& c);
  void fill_sizes(ContainerInfo& info);
  void fill_graph_driver(ContainerInfo& info);
  base::Result<state::FilterContext> filter_context();

  // Monitor.
  void watch(Container& c);
  void unwatch(Container& c);
  void monitor_loop();
  void on_shim_exit(uint64_t key);
  void on_restart_due(const std::string& id, uint64_t gen);
  void wake_monitor();
  void restore(const std::string& name, std::vector<ContainerPtr>& loaded);

  const DaemonOptions opts_;
  std::string containers_dir_;
  std::string exec_containers_dir_;
  std::string runtime_root_;
  std::string shim_path_;
  std::string init_path_;
  std::string driver_;  // "overlay2" | "vfs"
  bool cgroup_v2_ = false;
  std::unique_ptr<image::Images> images_;
  std::unique_ptr<image::layers::Snapshotter> snap_;

  std::mutex mu_;  // guards index_ and containers_
  names::Index index_;
  std::map<std::string, ContainerPtr> containers_;

  std::atomic<bool> stopping_{false};
  std::atomic<bool> shut_down_{false};
  base::Fd epoll_;
  base::Fd wake_;
  std::thread monitor_;
  std::mutex monitor_mu_;  // guards watches_, timers_, next_key_
  std::map<uint64_t, std::string> watches_;
  std::multimap<Clock::time_point, std::pair<std::string, uint64_t>> timers_;
  uint64_t next_key_ = 1;
};

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

// ---------------------------------------------------------------------------------------
// Create

base::Result<CreateResult> LocalDaemon::create(CreateRequest req) {
  if (stopping_) {
    return unavailable();
  }
  ContainerConfig config = std::move(req.config);
  HostConfig hc = std::move(req.host_config);
  MYDOCKER_TRY(validate_config(config));
  MYDOCKER_TRY(validate_host_config(hc));
  std::string name;
  if (!req.name.empty()) {
    name = MYDOCKER_TRY(names::validate_name(req.name));
  }
  if (config.image.empty()) {
    return make_error(ErrorCode::InvalidArgument, "No such image: ");
  }
  image::ImageId image_id = MYDOCKER_TRY(images_->images().resolve(config.image));
  image::store::ImageRecord img = MYDOCKER_TRY(images_->images().get(image_id));
  const image::content::RunConfig* run = img.config.config ? &*img.config.config : nullptr;
  if (run != nullptr) {
    specgen::merge_image_config(config, *run);
  }
  specgen::Command cmd = MYDOCKER_TRY(specgen::resolve_command(config, nullptr));
  apply_create_defaults(hc, cgroup_v2_);
  if (hc.log_type.empty()) {
    hc.log_type = "json-file";
  }

  std::string id = names::generate_id();
  if (config.hostname.empty()) {
    config.hostname = id.substr(0, 12);
  }

  // Reserve the name (and the ID) first: two creates racing for one name get one conflict.
  {
    std::lock_guard lk(mu_);
    while (index_.ids.count(id) > 0) {
      id = names::generate_id();
    }
    if (name.empty()) {
      for (int attempt = 0; attempt < 16 && name.empty(); ++attempt) {
        std::string n = "/" + names::random_name(attempt);
        if (index_.names.count(n) == 0) {
          name = n;
        }
      }
      if (name.empty()) {
        return make_error(ErrorCode::Internal, "could not generate a free container name");
      }
    } else if (auto it = index_.names.find(name); it != index_.names.end()) {
      return make_error(ErrorCode::Conflict, "{}", names::name_conflict_message(name, it->second));
    }
    index_.names[name] = id;
  }
  base::ScopeExit release_name([&] {
    std::lock_guard lk(mu_);
    index_.names.erase(name);
  });

  std::string dir = container_dir(id);
  MYDOCKER_TRY(base::mkdir_all(dir, 0710));
  base::ScopeExit remove_dir([&] { (void)base::remove_all(dir); });

  auto top = image::Images::top_layer(img.config);
  MYDOCKER_TRY_CTX(snap_->prepare(id, top), "prepare the filesystem of container {}", id);
  base::ScopeExit remove_rw([&] { (void)snap_->remove(id); });

  bool host_net = hc.network_mode == "host";
  auto etc = MYDOCKER_TRY(fs::write_etc_files(dir, config.hostname, host_net));

  store::Record rec;
  ContainerInfo& info = rec.info;
  info.id = id;
  info.name = name;
  info.created = now_rfc3339();
  info.path = cmd.path;
  info.args = cmd.args;
  info.image_id = image_id.str();
  info.config = std::move(config);
  info.host_config = std::move(hc);
  info.driver = driver_;
  info.log_path = info.host_config.log_type == "json-file" ? dir + "/" + id + "-json.log" : "";
  info.hostname_path = etc.hostname;
  info.hosts_path = etc.hosts;
  info.resolv_conf_path = etc.resolv_conf;
  MYDOCKER_TRY(base::mkdir_all(rootfs_dir(id), 0755));
  MYDOCKER_TRY_CTX(store::save(dir, rec), "write the record of container {}", id);

  auto c = std::make_shared<Container>(std::move(rec));
  {
    std::lock_guard lk(mu_);
    index_.ids.insert(id);
    containers_[id] = c;
  }
  release_name.dismiss();
  remove_dir.dismiss();
  remove_rw.dismiss();
  return CreateResult{id, {}};
}

// ---------------------------------------------------------------------------------------
// Start and the end of a run

base::Result<void> LocalDaemon::start_locked(Container& c) {
  ContainerInfo& info = c.rec.info;
  const std::string& id = info.id;
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
  // The bundle lives in the volatile exec root: no fsync.
  MYDOCKER_TRY(base::write_file(bundle + "/config.json", spec.dump(), O_CREAT));

  shim::ShimConfig sc;
  sc.id = id;
  sc.bundle = bundle;
  sc.runtime_root = runtime_root_;
  sc.state_dir = sdir;
  sc.log_path = info.log_path;
  sc.tty = info.config.tty;
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

  auto sh = shim::spawn(shim_path_, sc);
  if (!sh) {
    int64_t code = 128;
    base::Error err = start_error(sh.error(), code);
    info.state.error = err.message();
    info.state.exit_code = code;
    persist(c);
    return err;
  }
  drop_state.dismiss();
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
  persist(c);
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
}

void LocalDaemon::cleanup_run_locked(Container& c) {
  const std::string& id = c.id();
  unmount_all(rootfs_dir(id));
  // The shim destroys the runtime state; after a shim crash it is still there.
  if (auto rc = runtime::Container::load(runtime_root_, id)) {
    if (auto r = rc->destroy(true); !r) {
      spdlog::warn("container {}: destroy runtime state: {}", id, r.error().to_string());
    }
  }
  (void)base::remove_all(state_dir(id));
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
    persist(*c);
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

base::Result<void> LocalDaemon::start(std::string_view ref) {
  if (stopping_) {
    return unavailable();
  }
  auto c = MYDOCKER_TRY(find(ref));
  std::lock_guard lk(c->mu);
  Status s = c->rec.info.state.status;
  if (s == Status::Paused) {
    return make_error(ErrorCode::Conflict, "cannot start a paused container, try unpause instead");
  }
  if (s == Status::Running || s == Status::Restarting) {
    return make_error(ErrorCode::NotModified, "container {} is already running", c->id());
  }
  if (s == Status::Removing) {
    return make_error(ErrorCode::Conflict, "container is marked for removal and cannot be started");
  }
  if (s == Status::Dead) {
    return make_error(ErrorCode::Conflict, "container is marked for removal and cannot be started");
  }
  // A manual start resets what the restart manager counted (Docker's ResetRestartManager).
  c->rec.has_been_manually_stopped = false;
  c->rec.info.restart_count = 0;
  c->backoff_ms = 0;
  return start_locked(*c);
}

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
    return base::ok();
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
  c->cv.notify_all();
  return base::ok();
}

// ---------------------------------------------------------------------------------------
// Views

void LocalDaemon::fill_sizes(ContainerInfo& info) {
  int64_t rw = fs::dir_size(snap_->rw_path(info.id));
  int64_t image_size = 0;
  if (auto id = image::ImageId::parse(info.image_id)) {
    if (auto img = images_->images().get(*id)) {
      image_size = img->size;
    }
  }
  info.size_rw = rw;
  info.size_root_fs = rw + image_size;
}

void LocalDaemon::fill_graph_driver(ContainerInfo& info) {
  info.graph_driver_data.clear();
  if (driver_ != "overlay2") {
    return;
  }
  auto mounts = snap_->mounts(info.id);
  if (!mounts || mounts->empty()) {
    return;
  }
  for (const auto& o : mounts->front().options) {
    if (o.starts_with("lowerdir=")) {
      info.graph_driver_data["LowerDir"] = o.substr(9);
    } else if (o.starts_with("upperdir=")) {
      info.graph_driver_data["UpperDir"] = o.substr(9);
    } else if (o.starts_with("workdir=")) {
      info.graph_driver_data["WorkDir"] = o.substr(8);
    }
  }
  info.graph_driver_data["MergedDir"] = rootfs_dir(info.id);
}

base::Result<state::FilterContext> LocalDaemon::filter_context() {
  state::FilterContext ctx;
  ctx.now_unix = now_unix();
  ctx.resolve_image = [this](const std::string& ref) -> std::optional<std::string> {
    auto id = images_->images().resolve(ref);
    if (!id) {
      return std::nullopt;
    }
    return id->str();
  };
  ctx.container_created = [this](const std::string& ref) -> base::Result<state::Instant> {
    auto c = MYDOCKER_TRY(find(ref));
    std::lock_guard lk(c->mu);
    auto t = image::content::parse_rfc3339_ns(c->rec.info.created);
    if (!t) {
      return make_error(ErrorCode::Internal, "container {}: bad creation time", c->id());
    }
    return *t;
  };
  return ctx;
}

base::Result<std::vector<ContainerInfo>> LocalDaemon::list(const ListOptions& options) {
  auto ctx = MYDOCKER_TRY(filter_context());
  auto filter = MYDOCKER_TRY(state::ContainerFilter::parse_list(options.filters, ctx));
  bool all = options.all || options.limit > 0 || filter.wants_stopped();
  std::vector<ContainerInfo> out;
  for (const auto& c : snapshot()) {
    std::lock_guard lk(c->mu);
    if (c->removed) {
      continue;
    }
    const ContainerInfo& info = c->rec.info;
    if (!all && !state::is_running(info.state.status)) {
      continue;
    }
    if (filter.matches(info)) {
      out.push_back(info);
    }
  }
  std::sort(out.begin(), out.end(), [](const ContainerInfo& a, const ContainerInfo& b) {
    auto ta = image::content::parse_rfc3339_ns(a.created).value_or(std::pair<int64_t, int32_t>{});
    auto tb = image::content::parse_rfc3339_ns(b.created).value_or(std::pair<int64_t, int32_t>{});
    return ta != tb ? ta > tb : a.id < b.id;
  });
  if (options.limit > 0 && out.size() > static_cast<size_t>(options.limit)) {
    out.resize(static_cast<size_t>(options.limit));
  }
  for (auto& info : out) {
    if (options.size) {
      fill_sizes(info);
    }
  }
  return out;
}

base::Result<ContainerInfo> LocalDaemon::inspect(std::string_view ref, bool size) {
  auto c = MYDOCKER_TRY(find(ref));
  ContainerInfo info;
  {
    std::lock_guard lk(c->mu);
    info = c->rec.info;
  }
  fill_graph_driver(info);
  if (size) {
    fill_sizes(info);
  }
  return info;
}

base::Result<void> LocalDaemon::logs(std::string_view ref, const LogsOptions& options,
                                     const LogSink& sink) {
  auto c = MYDOCKER_TRY(find(ref));
  std::string path;
  {
    std::lock_guard lk(c->mu);
    if (c->rec.info.host_config.log_type != "json-file") {
      return make_error(ErrorCode::NotImplemented,
                        "configured logging driver does not support reading");
    }
    path = c->rec.info.log_path;
  }
  bool stopped_by_sink = false;
  auto forward = [&](const logs::Entry& e) {
    int stream = e.stream == "stderr" ? 2 : 1;
    if ((stream == 1 && !options.stdout_stream) || (stream == 2 && !options.stderr_stream)) {
      return true;
    }
    if (options.until > 0 && e.time_unix >= options.until) {
      return true;
    }
    if (!sink(LogEntry{stream, e.log, e.time})) {
      stopped_by_sink = true;
      return false;
    }
    return true;
  };
  logs::ReadOptions ro;
  ro.since = options.since;
  ro.until = options.until;
  ro.tail = options.tail;
  int64_t offset = 0;
  if (base::path_exists(path)) {
    offset = MYDOCKER_TRY(logs::read_all(path, ro, forward));
  }
  if (!options.follow || stopped_by_sink) {
    return base::ok();
  }
  for (;;) {
    bool running = false;
    {
      std::unique_lock lk(c->mu);
      running = state::is_running(c->rec.info.state.status) && !c->removed;
      if (running && !stopping_) {
        c->cv.wait_for(lk, std::chrono::milliseconds(100));
      }
      running = state::is_running(c->rec.info.state.status) && !c->removed;
    }
    if (options.until > 0 && now_unix() >= options.until) {
      return base::ok();
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && st.st_size < offset) {
      offset = 0;  // rotated: the live file started again
    }
    if (base::path_exists(path)) {
      auto next = logs::read_from(path, offset, forward);
      if (next) {
        offset = *next;
      }
    }
    if (stopped_by_sink || !running || stopping_) {
      return base::ok();
    }
  }
}

base::Result<TopResult> LocalDaemon::top(std::string_view ref, std::string_view ps_args) {
  auto c = MYDOCKER_TRY(find(ref));
  std::vector<pid_t> pids;
  {
    std::lock_guard lk(c->mu);
    if (!running_like(c->rec.info.state.status)) {
      return make_error(ErrorCode::Conflict, "Container {} is not running", c->id());
    }
    auto rc = MYDOCKER_TRY(runtime::Container::load(runtime_root_, c->id()));
    pids = MYDOCKER_TRY(rc.processes());
  }
  if (ps_args.empty()) {
    return top::ps_ef(pids);
  }
  return top::run_ps(ps_args, pids);
}

base::Result<void> LocalDaemon::rename(std::string_view ref, std::string_view new_name) {
  if (ref.empty() || new_name.empty()) {
    return make_error(ErrorCode::InvalidArgument, "Neither old nor new names may be empty");
  }
  std::string name = MYDOCKER_TRY(names::validate_name(new_name));
  auto c = MYDOCKER_TRY(find(ref));
  std::lock_guard lk(c->mu);
  std::string old = c->rec.info.name;
  if (old == name) {
    return make_error(ErrorCode::InvalidArgument,
                      "Renaming a container with the same name as its current name");
  }
  {
    std::lock_guard ilk(mu_);
    if (auto it = index_.names.find(name); it != index_.names.end()) {
      return make_error(ErrorCode::Conflict, "Error when allocating new name: {}",
                        names::name_conflict_message(name, it->second));
    }
    index_.names.erase(old);
    index_.names[name] = c->id();
  }
  c->rec.info.name = name;
  if (auto r = store::save(container_dir(c->id()), c->rec); !r) {
    c->rec.info.name = old;
    std::lock_guard ilk(mu_);
    index_.names.erase(name);
    index_.names[old] = c->id();
    return r;
  }
  return base::ok();
}

base::Result<std::vector<std::string>> LocalDaemon::update(std::string_view ref,
                                                           const UpdateRequest& req) {
  auto c = MYDOCKER_TRY(find(ref));
  std::lock_guard lk(c->mu);
  HostConfig hc = c->rec.info.host_config;
  if (req.memory) {
    if (!req.memory_swap && hc.memory_swap > 0 && *req.memory > hc.memory_swap) {
      return make_error(ErrorCode::InvalidArgument,
                        "Memory limit should be smaller than already set memoryswap limit, "
                        "update the memoryswap at the same time");
    }
    hc.memory = *req.memory;
  }
  if (req.memory_swap) {
    hc.memory_swap = *req.memory_swap;
  }
  if (req.memory_reservation) {
    hc.memory_reservation = *req.memory_reservation;
  }
  if (req.nano_cpus) {
    hc.nano_cpus = *req.nano_cpus;
  }
  if (req.cpu_shares) {
    hc.cpu_shares = *req.cpu_shares;
  }
  if (req.cpu_period) {
    hc.cpu_period = *req.cpu_period;
  }
  if (req.cpu_quota) {
    hc.cpu_quota = *req.cpu_quota;
  }
  if (req.cpuset_cpus) {
    hc.cpuset_cpus = *req.cpuset_cpus;
  }
  if (req.cpuset_mems) {
    hc.cpuset_mems = *req.cpuset_mems;
  }
  if (req.pids_limit) {
    hc.pids_limit = *req.pids_limit;
  }
  if (req.restart_policy) {
    if (hc.auto_remove && !req.restart_policy->name.empty() && req.restart_policy->name != "no") {
      return make_error(ErrorCode::InvalidArgument,
                        "Restart policy cannot be updated because AutoRemove is enabled for the "
                        "container");
    }
    hc.restart_policy = *req.restart_policy;
  }
  MYDOCKER_TRY(validate_host_config(hc));
  if (running_like(c->rec.info.state.status)) {
    json res = json::object();
    json mem = json::object();
    if (req.memory) {
      mem["limit"] = hc.memory;
    }
    if (req.memory_swap || (req.memory && hc.memory_swap != 0)) {
      mem["swap"] = hc.memory_swap;
    }
    if (req.memory_reservation) {
      mem["reservation"] = hc.memory_reservation;
    }
    if (!mem.empty()) {
      res["memory"] = mem;
    }
    json cpu = json::object();
    if (req.cpu_shares) {
      cpu["shares"] = hc.cpu_shares;
    }
    if (req.nano_cpus) {
      int64_t period = hc.cpu_period > 0 ? hc.cpu_period : 100000;
      cpu["period"] = period;
      cpu["quota"] = hc.nano_cpus * period / 1000000000;
    }
    if (req.cpu_period) {
      cpu["period"] = hc.cpu_period;
    }
    if (req.cpu_quota) {
      cpu["quota"] = hc.cpu_quota;
    }
    if (req.cpuset_cpus) {
      cpu["cpus"] = hc.cpuset_cpus;
    }
    if (req.cpuset_mems) {
      cpu["mems"] = hc.cpuset_mems;
    }
    if (!cpu.empty()) {
      res["cpu"] = cpu;
    }
    if (req.pids_limit) {
      res["pids"] = json{{"limit", *req.pids_limit > 0 ? *req.pids_limit : -1}};
    }
    if (!res.empty()) {
      auto rc = runtime::Container::load(runtime_root_, c->id());
      if (!rc) {
        return make_error(ErrorCode::Internal, "Cannot update container {}: {}", c->id(),
                          rc.error().to_string());
      }
      if (auto r = rc->update(res.dump()); !r) {
        return make_error(r.error().code() == ErrorCode::InvalidArgument
                              ? ErrorCode::InvalidArgument
                              : ErrorCode::Internal,
                          "Cannot update container {}: {}", c->id(), r.error().to_string());
      }
    }
  }
  c->rec.info.host_config = std::move(hc);
  persist(*c);
  return std::vector<std::string>{};
}

base::Result<PruneResult> LocalDaemon::prune(
    const std::map<std::string, std::vector<std::string>>& filters) {
  auto ctx = MYDOCKER_TRY(filter_context());
  auto filter = MYDOCKER_TRY(state::ContainerFilter::parse_prune(filters, ctx));
  PruneResult result;
  std::vector<std::pair<std::string, std::string>> victims;  // id, created
  for (const auto& c : snapshot()) {
    std::lock_guard lk(c->mu);
    Status s = c->rec.info.state.status;
    if ((s == Status::Created || s == Status::Exited || s == Status::Dead) && !c->removed &&
        filter.matches(c->rec.info)) {
      victims.emplace_back(c->id(), c->rec.info.created);
    }
  }
  for (const auto& [id, created] : victims) {
    int64_t size = fs::dir_size(snap_->rw_path(id));
    if (auto r = remove(id, false, false); r) {
      result.deleted.push_back(id);
      result.space_reclaimed += size;
    } else {
      spdlog::warn("prune: container {}: {}", id, r.error().to_string());
    }
  }
  return result;
}

base::Result<void> LocalDaemon::export_container(std::string_view ref, const Sink& out) {
  auto c = MYDOCKER_TRY(find(ref));
  std::unique_lock lk(c->mu);
  Status s = c->rec.info.state.status;
  if (s == Status::Removing || s == Status::Dead) {
    return make_error(ErrorCode::Conflict, "You cannot export container {} which is being removed",
                      c->id());
  }
  std::string rootfs = rootfs_dir(c->id());
  if (running_like(s)) {
    lk.unlock();  // the mount is the running container's; an export may take long
    return images_->export_rootfs(rootfs, out);
  }
  // Stopped: mount for the export, holding the lock so no start races the temporary mount.
  auto mnt = MYDOCKER_TRY(snap_->mount(c->id(), rootfs));
  auto r = images_->export_rootfs(rootfs, out);
  (void)mnt.unmount();
  return r;
}

base::Result<std::vector<Change>> LocalDaemon::changes(std::string_view ref) {
  auto c = MYDOCKER_TRY(find(ref));
  std::lock_guard lk(c->mu);
  if (driver_ != "overlay2") {
    return make_error(ErrorCode::NotImplemented,
                      "changes are not supported with the vfs storage driver");
  }
  const std::string& id = c->id();
  std::vector<std::string> lowers;
  auto mounts = MYDOCKER_TRY(snap_->mounts(id));
  for (const auto& m : mounts) {
    for (const auto& o : m.options) {
      if (o.starts_with("lowerdir=")) {
        // overlayfs escapes ':' in paths with a backslash; the store's paths have none.
        for (auto& l : base::split(std::string_view(o).substr(9), ':')) {
          if (!l.empty()) {
            lowers.push_back(l.starts_with("/") ? l : images_->layers().root() + "/" + l);
          }
        }
      }
    }
  }
  // The runtime creates these mount points in the rootfs; Docker keeps them in its init
  // layer, so they are not the container's changes.
  std::set<std::string> ignore = {
      "/etc/hostname", "/etc/hosts", "/etc/resolv.conf",  "/dev",
      "/proc",         "/sys",       "/sbin/docker-init", "/.dockerenv"};
  for (const auto& [path, opts] : c->rec.info.host_config.tmpfs) {
    ignore.insert(path);
  }
  return fs::overlay_changes(snap_->rw_path(id), lowers, ignore);
}

SystemInfo LocalDaemon::info() {
  SystemInfo si;
  for (const auto& c : snapshot()) {
    std::lock_guard lk(c->mu);
    ++si.containers;
    switch (c->rec.info.state.status) {
      case Status::Running:
      case Status::Restarting:
        ++si.running;
        break;
      case Status::Paused:
        ++si.paused;
        break;
      default:
        ++si.stopped;
        break;
    }
  }
  si.images = static_cast<int64_t>(images_->images().images().size());
  si.driver = driver_;
  si.data_root = opts_.data_root;
  si.cgroup_driver = "cgroupfs";
  si.cgroup_version = cgroup_v2_ ? "2" : "1";
  si.live_restore = opts_.live_restore;
  return si;
}

base::Result<DiskUsage> LocalDaemon::disk_usage() {
  DiskUsage du;
  ListOptions lo;
  lo.all = true;
  lo.size = true;
  du.containers = MYDOCKER_TRY(list(lo));
  for (const auto& l : images_->layers().list()) {
    du.layers_size += static_cast<int64_t>(l.size);
  }
  return du;
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
  for (const auto& c : snapshot()) {
    std::lock_guard lk(c->mu);
    c->cv.notify_all();
  }
  if (monitor_.joinable()) {
    wake_monitor();
    monitor_.join();
  }
}

}  // namespace

base::Result<std::unique_ptr<Daemon>> open_local_daemon(const DaemonOptions& options) {
  auto d = std::make_unique<LocalDaemon>(options);
  MYDOCKER_TRY(d->open());
  return std::unique_ptr<Daemon>(std::move(d));
}

}  // namespace mydocker::engine
