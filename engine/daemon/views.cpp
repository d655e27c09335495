// SPDX-License-Identifier: Apache-2.0
#include <poll.h>
#include <sys/inotify.h>

#include "engine/daemon/local_daemon_impl.h"

namespace mydocker::engine::detail {

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
  // Newest first (Docker's order); creation times parsed once, not per comparison.
  std::vector<std::pair<state::Instant, size_t>> order;
  order.reserve(out.size());
  for (size_t i = 0; i < out.size(); ++i) {
    order.emplace_back(image::content::parse_rfc3339_ns(out[i].created).value_or(state::Instant{}),
                       i);
  }
  std::sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : out[a.second].id < out[b.second].id;
  });
  std::vector<ContainerInfo> sorted;
  sorted.reserve(out.size());
  for (const auto& [t, i] : order) {
    sorted.push_back(std::move(out[i]));
  }
  out = std::move(sorted);
  if (options.limit > 0 && out.size() > static_cast<size_t>(options.limit)) {
    out.resize(static_cast<size_t>(options.limit));
  }
  for (auto& info : out) {
    if (options.size) {
      fill_sizes(info);
    }
    fill_network_settings(info);  // engine/daemon/network.cpp
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
  fill_network_settings(info);  // engine/daemon/network.cpp
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
  constexpr int64_t kNanos = 1'000'000'000;
  const int64_t until_ns = options.until_nano != 0 ? options.until_nano : options.until * kNanos;
  bool stopped_by_sink = false;
  auto forward = [&](const logs::Entry& e) {
    int stream = e.stream == "stderr" ? 2 : 1;
    if ((stream == 1 && !options.stdout_stream) || (stream == 2 && !options.stderr_stream)) {
      return true;
    }
    if (until_ns > 0 && e.time_unix_nano > until_ns) {
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
  ro.since_nano = options.since_nano;
  ro.until_nano = options.until_nano;
  ro.tail = options.tail;
  // Follow watches before the first read so no write between the two goes unnoticed: inotify
  // on the log's directory (writes, and the new live file of a rotation) wakes it for new
  // data; the shim's pidfd for the end of the run, after which it waits for the monitor to
  // record the exit. The timeout only bounds how late a daemon shutdown (which joins in-flight
  // requests) or `until` is seen.
  base::Fd inotify;
  if (options.follow) {
    int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd >= 0) {
      inotify = base::Fd::adopt(fd);
      std::string dir = std::filesystem::path(path).parent_path().string();
      if (::inotify_add_watch(inotify.get(), dir.c_str(),
                              IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE) < 0) {
        inotify.reset();
      }
    }
  }
  int64_t offset = 0;
  if (base::path_exists(path)) {
    offset = MYDOCKER_TRY(logs::read_all(path, ro, forward));
  }
  if (!options.follow || stopped_by_sink) {
    return base::ok();
  }
  for (;;) {
    bool running = false;
    base::Fd shim_fd;
    uint64_t exits = 0;
    {
      std::lock_guard lk(c->mu);
      running = state::is_running(c->rec.info.state.status) && !c->removed;
      exits = c->exits;
      if (running && c->shim) {
        int fd = ::fcntl(c->shim->pidfd().get(), F_DUPFD_CLOEXEC, 0);
        if (fd >= 0) {
          shim_fd = base::Fd::adopt(fd);
        }
      }
    }
    if (running && !stopping_) {
      struct pollfd fds[2];
      nfds_t n = 0;
      if (inotify) {
        fds[n++] = pollfd{inotify.get(), POLLIN, 0};
      }
      if (shim_fd) {
        fds[n++] = pollfd{shim_fd.get(), POLLIN, 0};
      }
      int timeout_ms = inotify && shim_fd ? 250 : 100;
      ::poll(fds, n, timeout_ms);
      if (inotify) {
        char buf[4096];
        while (::read(inotify.get(), buf, sizeof buf) > 0) {
        }
      }
      if (shim_fd && (fds[n - 1].revents & POLLIN) != 0) {
        // The shim is gone: wait for the monitor to record the exit (and the shim's last log
        // lines with it), rather than spinning on a readable pidfd.
        std::unique_lock lk(c->mu);
        c->cv.wait_for(lk, std::chrono::seconds(1), [&] {
          return c->exits != exits || !state::is_running(c->rec.info.state.status) || c->removed ||
                 stopping_;
        });
      }
    }
    {
      std::lock_guard lk(c->mu);
      running = state::is_running(c->rec.info.state.status) && !c->removed;
    }
    if (until_ns > 0 && logs::now_nanos() > until_ns) {
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
    // A client that left while no line came (a quiet container) ends the follow.
    if (options.client_alive && !options.client_alive()) {
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
  emit_locked(*c, "rename", {{"oldName", old}});
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
  emit_locked(*c, "update");
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
  const std::string& id = c->id();
  // The runtime creates these mount points in the rootfs; Docker keeps them in its init
  // layer, so they are not the container's changes.
  std::set<std::string> ignore = {
      "/etc/hostname", "/etc/hosts", "/etc/resolv.conf",  "/dev",
      "/proc",         "/sys",       "/sbin/docker-init", "/.dockerenv"};
  for (const auto& [path, opts] : c->rec.info.host_config.tmpfs) {
    ignore.insert(path);
  }
  std::vector<std::string> lowers;
  if (driver_ != "overlay2") {
    // The copy store keeps the image's top chain ID next to the copy (<key>/parent).
    std::string rw = snap_->rw_path(id);
    std::string parent = rw.substr(0, rw.rfind('/')) + "/parent";
    std::string top(base::trim(base::read_file(parent).value_or("")));
    if (!top.empty()) {
      auto chain = MYDOCKER_TRY(image::ChainId::parse(top));
      for (const auto& l : MYDOCKER_TRY(images_->layers().lineage(chain))) {
        lowers.push_back(images_->layers().diff_path(l.chain_id));
      }
    }
    return fs::tree_changes(rw, lowers, ignore);
  }
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

}  // namespace mydocker::engine::detail
