// SPDX-License-Identifier: Apache-2.0
// Internal to the engine core: LocalDaemon's class, shared by its source files
//   engine/local_daemon.cpp      open, restore, shutdown, shared helpers
//   engine/daemon/create.cpp     create
//   engine/daemon/run.cpp        start and the end of a run (exit, restart policy)
//   engine/daemon/monitor.cpp    the epoll thread: shim exits and restart timers
//   engine/daemon/control.cpp    stop, restart, kill, pause, unpause, wait, remove
//   engine/daemon/views.cpp      list, inspect, logs, top, rename, update, prune, export,
//                                changes, info, disk usage
//   engine/daemon/helpers.cpp    free helpers (time, mounts, host probes, start errors)
//   engine/daemon/attach.cpp     attach, resize, exec (streams handed to the shim)
//   engine/daemon/events.cpp     the event log and GET /events
//   engine/daemon/stats.cpp      stats samples from the container's cgroup
//   engine/daemon/distribution.cpp  registry pull, push, login, distribution inspect
//
// Locking: `mu_` guards the index (names and IDs -> containers); each Container has its own
// `mu` guarding its record, shim and counters. Order: a container's mu, then mu_ (never the
// reverse: listings copy the container pointers under mu_ and lock each one afterwards).
// Blocking waits (stop, wait, logs --follow) wait on the container's condition variable,
// which releases its mu. The monitor thread watches the shims' pidfds with epoll and runs the
// restart timers.
#pragma once

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
#include "engine/events/events.h"
#include "engine/fs/changes.h"
#include "engine/fs/etc_files.h"
#include "engine/local_daemon.h"
#include "engine/logs/json_file.h"
#include "engine/names/names.h"
#include "engine/shim/proto.h"
#include "engine/shim/spawn.h"
#include "engine/specgen/specgen.h"
#include "engine/state/filters.h"
#include "engine/state/lifecycle.h"
#include "engine/stats/stats.h"
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

namespace mydocker::engine::network {
class Manager;
}  // namespace mydocker::engine::network

namespace mydocker::engine::build {
class Builder;
class Cache;
}  // namespace mydocker::engine::build

namespace mydocker::engine::detail {

using base::ErrorCode;
using base::make_error;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

inline constexpr const char* kDefaultLogMaxSize =
    "20m";  // Docker has no default; the local driver's
inline constexpr int64_t kDefaultLogMaxFiles = 5;
inline constexpr const char* kInitPath = "/usr/bin/tini-static";

std::string now_rfc3339();
int64_t now_unix();
// Status::Running or Status::Paused: a process exists (restarting has none yet).
bool running_like(Status s);
// Unmounts everything stacked on `target` (lazily: a process of the container may still hold
// it for a moment).
void unmount_all(const std::string& target);
bool overlay_supported();
bool cgroup2_unified();
// Docker's translateContainerdStartErr: which exit code a failed start records, and whether
// the error is the caller's (a bad command: 400) or the daemon's.
base::Error start_error(const base::Error& e, int64_t& exit_code);

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

  // engine/daemon/attach.cpp
  base::Result<void> attach(std::string_view ref, const AttachOptions& options,
                            const Upgrade& upgrade) override;
  base::Result<void> resize(std::string_view ref, int height, int width) override;
  base::Result<std::string> exec_create(std::string_view ref, const ExecConfig& config) override;
  base::Result<void> exec_start(std::string_view exec_id, const ExecStartOptions& options,
                                const Upgrade& upgrade) override;
  base::Result<ExecInfo> exec_inspect(std::string_view exec_id) override;
  base::Result<void> exec_resize(std::string_view exec_id, int height, int width) override;
  // engine/daemon/events.cpp
  base::Result<void> events(const EventsOptions& options, const EventSink& sink) override;
  void publish(Event event) override;
  // engine/daemon/stats.cpp
  base::Result<void> stats(std::string_view ref, const StatsOptions& options,
                           const StatsSink& sink) override;

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

  void persist(Container& c);  // the whole record (both files), durably
  // config.v2.json only (the host config unchanged); sync_dir as store::save_state.
  void persist_state(Container& c, bool sync_dir);
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

  // --- attach/exec state (engine/daemon/attach.cpp owns this section) ---
  // A connection attached while the container was not running: handed to the shim at the
  // next start (`docker run` and `start -a` attach first), so no output is lost.
  struct PendingAttach {
    shim::AttachSpec spec;
    base::Fd conn;
  };
  struct ExecRecord {
    std::string id;
    std::string container_id;
    ExecConfig config;
    bool started = false;  // exec_start claimed it (it runs at most once)
    bool running = false;
    std::optional<int64_t> exit_code;
    int64_t pid = 0;
    uint64_t start_time = 0;  // of pid, so a reused pid is not taken for the exec
  };
  // start_locked: the pending attaches of c (their fds numbered by spawn), described in specs.
  std::vector<base::Fd> take_pending_attaches_locked(Container& c,
                                                     std::vector<shim::AttachSpec>& specs);
  // cleanup_run_locked, before the state dir goes: the exit codes of c's execs still running.
  void harvest_execs_locked(Container& c);
  base::Result<std::shared_ptr<ExecRecord>> find_exec(std::string_view exec_id);
  // Notices an exec's end (its exit file, or its process gone); publishes exec_die once.
  void refresh_exec(const std::shared_ptr<ExecRecord>& e);
  void finish_exec_locked(Container& c, ExecRecord& e, int64_t exit_code);
  base::Result<json> exec_process_locked(Container& c, const ExecConfig& config,
                                         const std::optional<std::pair<int, int>>& console);
  void prune_attach_state();
  // One thread (started at the first exec) waits on the pidfds of running execs, so an exec's
  // end and its exec_die event come when it ends, not when someone looks. shutdown() stops it.
  void watch_exec(const std::shared_ptr<ExecRecord>& e);
  void exec_watch_loop();
  void stop_exec_watch();
  std::thread exec_watch_;
  base::Fd exec_epoll_;
  base::Fd exec_wake_;
  bool exec_watch_stop_ = false;  // guarded by attach_mu_
  std::map<int, std::pair<base::Fd, std::shared_ptr<ExecRecord>>> exec_watches_;  // by pidfd
  std::mutex attach_mu_;  // guards pending_ and execs_ (a leaf: taken after a container's mu)
  std::map<std::string, std::vector<PendingAttach>> pending_;  // by container ID
  std::map<std::string, std::shared_ptr<ExecRecord>> execs_;   // by exec ID

  // --- events state (engine/daemon/events.cpp owns this section) ---
  // A container event as Docker logs it: the container's labels, "image" (as the user named
  // it) and "name" (without "/") as attributes, plus `extra` (exitCode, signal, oldName...).
  // The caller holds c.mu (the record is read).
  void emit_locked(const Container& c, std::string_view action,
                   std::map<std::string, std::string> extra = {});
  // An image event: Actor ID `id` ("sha256:..."), attribute name=`name`.
  void emit_image(const std::string& id, const std::string& name, std::string_view action);
  // engine/daemon/stats.cpp: the container's cgroup directories (of its running process).
  stats::CgroupDirs cgroup_dirs_of(int64_t pid);
  events::Log events_;
  std::once_flag cgroup_layout_once_;
  std::map<std::string, std::string> cgroup_v1_mounts_;
  std::string cgroup_unified_mount_;
  bool cgroup_layout_v2_ = false;
  uint64_t machine_memory_ = 0;

  // --- registry state (engine/daemon/distribution.cpp owns this section) ---
 public:
  base::Result<image::registry::PullResult> pull(const PullRequest& req) override;
  base::Result<image::registry::PushResult> push(const PushRequest& req) override;
  base::Result<void> login(const std::string& server,
                           const image::registry::Credentials& credentials) override;
  base::Result<DistributionInfo> distribution_inspect(
      const image::reference::Reference& ref,
      const std::optional<image::registry::Credentials>& credentials) override;

 private:
  // The daemon's registry options with a request's credentials.
  image::registry::RegistryOptions registry_options(
      const std::optional<image::registry::Credentials>& credentials) const;
  // A pull or push registers here while it runs; shutdown() closes the registry (new jobs get
  // Unavailable), cancels the running ones (stopping_) and waits for them, before the image
  // store goes.
  base::Result<void> begin_registry_job();
  void end_registry_job();
  void stop_registry_jobs();
  std::mutex registry_mu_;
  std::condition_variable registry_cv_;
  size_t registry_jobs_ = 0;      // guarded by registry_mu_
  bool registry_closed_ = false;  // guarded by registry_mu_

  // --- build state (engine/daemon/build.cpp owns this section) ---
 public:
  base::Result<BuildResult> build(const BuildRequest& req, int64_t* failed_exit_code) override;
  base::Result<BuildPruneResult> build_prune(const BuildPruneOptions& options) override;

 private:
  // open(): the step cache in <data-root>/builder/cache, the work dir <data-root>/builder/tmp
  // (cleaned of an interrupted build's leftovers). The builder's scratch filesystems are keys
  // "build-*" of snap_, so recovery counts their layer references and open() removes stale
  // ones with the other unowned RW layers.
  base::Result<void> open_builder();
  // shared_ptr: the types stay incomplete here (engine/build is not every engine file's
  // dependency).
  std::shared_ptr<build::Cache> build_cache_;
  std::shared_ptr<build::Builder> builder_;

  // --- network state (engine/daemon/network.cpp owns this section) ---
 public:
  base::Result<std::vector<network::Network>> network_list(
      const std::map<std::string, std::vector<std::string>>& filters) override;
  base::Result<network::Network> network_inspect(std::string_view ref) override;
  base::Result<network::CreateResult> network_create(const network::CreateRequest& req) override;
  base::Result<void> network_remove(std::string_view ref) override;
  base::Result<void> network_connect(std::string_view ref,
                                     const NetworkConnectRequest& req) override;
  base::Result<void> network_disconnect(std::string_view ref,
                                        const NetworkDisconnectRequest& req) override;
  base::Result<std::vector<std::string>> network_prune(
      const std::map<std::string, std::vector<std::string>>& filters) override;

 private:
  // The manager, opened on first use (records only; the kernel side comes up when needed).
  base::Result<network::Manager*> network_manager();
  // open(), after restore: when the records name user networks or endpoints (or a previous
  // run left namespace files), brings bridges and the firewall table back and deletes veths
  // and namespace files no running container owns.
  base::Result<void> open_network();
  static bool path_exists_dir(const std::string& dir);
  void emit_network(const network::Network& n, std::string_view action,
                    const std::string& container_id = {});
  // Container start (run.cpp, after the spec is generated): for --network none, a named
  // network or one connected through `network connect`, a namespace file of our own with
  // loopback up and a veth per endpoint; the spec's network namespace then names the file.
  // host leaves the spec as generated; container:<ref> joins the other's namespace.
  base::Result<void> setup_network_locked(Container& c, json& spec);
  // --network container:<ref>: the spec names the target's namespace; the container shares
  // its hostname, hosts and resolv.conf (Docker's initializeNetworkingPaths). Conflict when the
  // target does not run.
  base::Result<void> join_network_locked(Container& c, json& spec);
  // /etc/hosts (`ip` for the hostname, --add-host) and resolv.conf (--dns) before a start.
  base::Result<void> write_etc_locked(const ContainerInfo& info, const std::string& ip);
  // The end of a run (cleanup_run_locked): the namespace file goes (and with it the veths),
  // the endpoints leave their networks (addresses released, as Docker at stop).
  void teardown_network_locked(Container& c);
  // Container removal: as teardown (nothing is left of a stopped container).
  void release_network_locked(Container& c);
  // network connect of a running container to a user network: the embedded DNS (127.0.0.11)
  // started now and resolv.conf rewritten in place, unless it has it already.
  void start_dns_live_locked(Container& c);
  // inspect/list: NetworkSettings (endpoints, published ports) when the container has any.
  void fill_network_settings(ContainerInfo& info);
  struct NetPorts;           // a running container's port reservations and bindings (network.cpp)
  std::mutex net_ports_mu_;  // guards net_ports_ and joined_to_ (a leaf lock)
  std::map<std::string, std::shared_ptr<NetPorts>> net_ports_;  // by container ID
  // Running container:<ref> containers -> the ID of the container whose namespace they share
  // (a target's end of run then deletes its veths, as Docker's sandbox removal does).
  std::map<std::string, std::string> joined_to_;
  std::once_flag net_once_;
  std::shared_ptr<network::Manager> net_;  // shared_ptr: incomplete here
  std::optional<base::Error> net_error_;
};

}  // namespace mydocker::engine::detail
