// SPDX-License-Identifier: Apache-2.0
// engine::Daemon: the facade api/server calls (moby's daemon.Daemon behind its routers'
// backend interfaces). One abstract class, so the API is tested against a fake
// (tests/support) and served by the real engine (LocalDaemon, engine/local_daemon.h).
//
// Containers are named by a "ref": a name (with or without the leading "/"), a full ID, or a
// unique ID prefix. Errors carry Docker's wording and an ErrorCode the API maps to HTTP:
//   NotFound       "No such container: <ref>"                                        404
//   InvalidArgument bad values                                                         400
//   Conflict       name in use, "Container <id> is not running", remove while running 409
//   NotModified    start of a running container, stop of a stopped one            304
//   Unavailable    the daemon is shutting down                                        503
//   Internal       "Multiple IDs found with provided prefix: <ref>" (as dockerd,
//                  transcript 144), everything else                                   500
//
// Thread-safety: every method may be called from many threads at once. Blocking calls
// (wait, logs with follow, stop) hold no lock while they block.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/container/config.h"
#include "engine/network/networks.h"
#include "image/archive/images.h"
#include "image/reference/reference.h"
#include "image/registry/auth.h"
#include "image/registry/platform.h"
#include "image/registry/progress.h"
#include "image/registry/pull.h"
#include "image/registry/push.h"
#include "runtime/base/error.h"
#include "runtime/base/fd.h"

namespace mydocker::engine {

// Docker's container states (State.Status).
enum class Status { Created, Running, Paused, Restarting, Removing, Exited, Dead };
std::string_view status_name(Status s);  // "created", "running", ...

// Docker's State object.
struct ContainerState {
  Status status = Status::Created;
  bool oom_killed = false;
  int64_t pid = 0;
  int64_t exit_code = 0;
  std::string error;
  std::string started_at = "0001-01-01T00:00:00Z";   // RFC 3339 nano, UTC
  std::string finished_at = "0001-01-01T00:00:00Z";  // RFC 3339 nano, UTC
};

// A consistent snapshot of one container (inspect, list).
struct ContainerInfo {
  std::string id;       // 64 hex
  std::string name;     // with the leading "/"
  std::string created;  // RFC 3339 nano, UTC
  std::string path;     // argv[0] of the process
  std::vector<std::string> args;
  ContainerState state;
  std::string image_id;  // "sha256:..."
  ContainerConfig config;
  HostConfig host_config;
  int64_t restart_count = 0;
  std::string driver;  // "overlay2" (overlay) or "vfs" (copy)
  std::string log_path;
  std::string hostname_path;
  std::string hosts_path;
  std::string resolv_conf_path;
  std::map<std::string, std::string> graph_driver_data;  // LowerDir, UpperDir, MergedDir, WorkDir
  // Filled only when asked (size=true): bytes in the RW layer, and RW + image.
  std::optional<int64_t> size_rw;
  std::optional<int64_t> size_root_fs;
  // NetworkSettings in Docker's shape and key order (Ports, SandboxKey, IPAddress, Networks,
  // ...) for a container with endpoints or published ports; null: the API renders the empty
  // shape from HostConfig.NetworkMode.
  nlohmann::ordered_json network_settings;
};

// The human "Status" column of GET /containers/json: "Up 5 seconds", "Exited (3) 2 minutes
// ago", "Created", "Up 3 minutes (Paused)", "Restarting (1) 5 seconds ago".
std::string human_status(const ContainerInfo& c, int64_t now_unix);
// Docker's units.HumanDuration ("Less than a second", "About a minute", "3 hours", ...).
std::string human_duration(int64_t seconds);

struct CreateRequest {
  std::string name;  // "" -> a random Docker-style name; else /?[a-zA-Z0-9][a-zA-Z0-9_.-]+
  ContainerConfig config;
  HostConfig host_config;
};

struct CreateResult {
  std::string id;
  std::vector<std::string> warnings;
};

struct ListOptions {
  bool all = false;
  int64_t limit = -1;  // -1: no limit; >0: the newest N (implies all)
  bool size = false;
  // Docker's filters: id, name, label (key or key=value), status, exited, ancestor, before,
  // since, is-task, health (accepted, nothing matches but "none"). An unknown key is
  // InvalidArgument "invalid filter '<key>'"; a bad status "Invalid filter 'status=<v>'".
  std::map<std::string, std::vector<std::string>> filters;
};

enum class WaitCondition { NotRunning, NextExit, Removed };

struct WaitResult {
  int64_t status_code = 0;
  std::string error;  // "" when none (Docker's WaitExitError.Message)
};

struct LogsOptions {
  bool stdout_stream = false;
  bool stderr_stream = false;
  bool follow = false;
  bool timestamps = false;
  int64_t since = 0;  // Unix seconds (0: from the start)
  int64_t until = 0;  // Unix seconds (0: no end)
  // When non-zero these replace since/until: Unix nanoseconds, for the API's fractional
  // seconds ("1700000000.123456789"). Entries at or after since, at or before until (Docker's
  // bounds).
  int64_t since_nano = 0;
  int64_t until_nano = 0;
  int64_t tail = -1;  // -1: all
  // With follow: polled while no line comes (every ~250 ms); false ends the call (the client
  // left). Unset: the client is assumed present.
  std::function<bool()> client_alive;
};

struct LogEntry {
  int stream = 1;    // 1 stdout, 2 stderr
  std::string line;  // as logged (with its "\n" when the line had one)
  std::string time;  // RFC 3339 nano, UTC, as stored
};

// Return false to stop (the client went away).
using LogSink = std::function<bool(const LogEntry&)>;

struct TopResult {
  std::vector<std::string> titles;
  std::vector<std::vector<std::string>> processes;
};

// Resource changes of POST /containers/{id}/update (only fields the client set).
struct UpdateRequest {
  std::optional<int64_t> memory;
  std::optional<int64_t> memory_swap;
  std::optional<int64_t> memory_reservation;
  std::optional<int64_t> nano_cpus;
  std::optional<int64_t> cpu_shares;
  std::optional<int64_t> cpu_period;
  std::optional<int64_t> cpu_quota;
  std::optional<std::string> cpuset_cpus;
  std::optional<std::string> cpuset_mems;
  std::optional<int64_t> pids_limit;
  std::optional<RestartPolicy> restart_policy;
};

struct PruneResult {
  std::vector<std::string> deleted;  // container IDs
  int64_t space_reclaimed = 0;
};

// One entry of GET /containers/{id}/changes (Kind: 0 modified, 1 added, 2 deleted).
struct Change {
  std::string path;
  int kind = 0;
};

// What /info and /system/df need from the engine (the API adds the static fields).
struct SystemInfo {
  int64_t containers = 0;
  int64_t running = 0;
  int64_t paused = 0;
  int64_t stopped = 0;
  int64_t images = 0;
  std::string driver;          // "overlay2" | "vfs"
  std::string data_root;       // DockerRootDir
  std::string cgroup_driver;   // "cgroupfs"
  std::string cgroup_version;  // "1" | "2"
  bool live_restore = false;
  std::vector<std::string> warnings;
};

struct DiskUsage {
  std::vector<ContainerInfo> containers;  // with size_rw / size_root_fs filled
  int64_t layers_size = 0;
};

using Sink = image::archive::Sink;

// Attach and exec streams (hijacked HTTP). The API layer checks the request; the engine
// checks the container, then calls `upgrade(tty)` exactly once when the stream may begin:
// upgrade answers "101 UPGRADED" (raw stream with a tty, Docker's multiplexed stream
// otherwise) and returns the connection. From then on the engine owns the connection, and
// errors can no longer reach the client as a status: the engine closes the connection.
// When the engine fails before calling upgrade, the API answers the error normally.
using Upgrade = std::function<base::Result<base::Fd>(bool tty)>;

struct AttachOptions {
  bool stream = false;  // live output (and stdin) from now on
  bool logs = false;    // replay the log first
  bool stdin_stream = false;
  bool stdout_stream = false;
  bool stderr_stream = false;
  std::string detach_keys;  // "" -> the daemon's default, ctrl-p,ctrl-q
};

// POST /containers/{id}/exec.
struct ExecConfig {
  std::vector<std::string> cmd;  // required
  std::vector<std::string> env;  // K=V, added to the container's
  std::string user;              // "" -> the container's
  std::string working_dir;       // "" -> the container's
  bool tty = false;
  bool privileged = false;
  bool attach_stdin = false;
  bool attach_stdout = false;
  bool attach_stderr = false;
  std::string detach_keys;
  std::optional<std::pair<int, int>> console_size;  // height, width
};

struct ExecStartOptions {
  bool detach = false;  // no stream: upgrade is not called
  bool tty = false;
  std::optional<std::pair<int, int>> console_size;  // height, width
};

// GET /exec/{id}/json.
struct ExecInfo {
  std::string id;
  std::string container_id;
  ExecConfig config;
  bool running = false;
  bool can_remove = false;
  std::optional<int64_t> exit_code;  // null until it ended
  int64_t pid = 0;
  std::string detach_keys;
};

// One entry of GET /events (Docker's events.Message).
struct Event {
  std::string type;    // "container", "image", "network", "volume", "daemon", ...
  std::string action;  // "create", "start", "die", "exec_start: sh", ...
  std::string actor_id;
  std::map<std::string, std::string> attributes;  // name, image, exitCode, labels...
  std::string scope = "local";
  int64_t time_nano = 0;  // Unix nanoseconds (time = time_nano / 1e9)
};

struct EventsOptions {
  int64_t since_nano = 0;  // 0: only new events (with since: the past ones first)
  int64_t until_nano = 0;  // 0: until the client leaves
  // Docker's event filters: container, event, image, label, type, volume, network, daemon,
  // scope. An unknown key is InvalidArgument "invalid filter '<key>'".
  std::map<std::string, std::vector<std::string>> filters;
  std::function<bool()> client_alive;  // polled while idle; false ends the call
};

// Return false to stop (the client went away).
using EventSink = std::function<bool(const Event&)>;

struct StatsOptions {
  bool stream = true;
  bool one_shot = false;  // with stream=false: no second sample for the cpu delta
  std::function<bool()> client_alive;
};

// One Docker stats JSON object per sample (types.StatsJSON: read, preread, pids_stats,
// blkio_stats, cpu_stats, precpu_stats, memory_stats, name, id, networks).
using StatsSink = std::function<bool(const nlohmann::json& sample)>;

// --- Registry (engine/daemon/distribution.cpp) ---
// Pulls, pushes, logins and distribution inspects run in the engine, with the daemon's
// registry configuration (insecure registries, mirrors, certs.d; proxies from the daemon's
// environment). The API supplies the request's credentials (X-Registry-Auth).

// Progress of a pull or push: called from the job's threads, one call at a time. Return
// false when the client is gone: the job is cancelled (nothing half-stored) and ends with
// ErrorCode::Cancelled.
using RegistryProgressSink = std::function<bool(const image::registry::ProgressEvent&)>;

struct PullRequest {
  image::reference::Reference ref;  // with tag or digest (the API defaults to latest)
  std::optional<image::registry::PlatformSpec> platform;    // nullopt: the host's
  std::optional<image::registry::Credentials> credentials;  // nullopt: anonymous
  RegistryProgressSink progress;                            // may be empty
  // Polled during the job (between blocks); false cancels it as a false from `progress`.
  std::function<bool()> client_alive;
};

struct PushRequest {
  image::reference::Reference ref;  // with a tag
  std::optional<image::registry::Credentials> credentials;
  RegistryProgressSink progress;
  std::function<bool()> client_alive;
};

// GET /distribution/{name}/json.
struct DistributionInfo {
  std::string media_type;
  std::string digest;
  int64_t size = 0;
  std::vector<image::registry::PlatformSpec> platforms;
};

// --- Build (engine/build, engine/daemon/build.cpp) ---
// POST /build with the classic builder's output. The engine parses the Dockerfile before it
// emits anything, so a bad Dockerfile or context is an error status; once output has begun,
// errors travel in the stream (the API writes errorDetail).

// One message of the build's output, Docker's JSON stream: {"stream": text}, {"aux": {"ID":
// id}}, or a base image pull's progress (status/progressDetail objects).
struct BuildOutput {
  std::string stream;
  std::string aux_id;
  const image::registry::ProgressEvent* pull = nullptr;
};
// Return false when the client is gone: the build is cancelled (ErrorCode::Cancelled), its
// containers removed, nothing tagged.
using BuildSink = std::function<bool(const BuildOutput&)>;

struct BuildRequest {
  image::layers::ByteSource* context = nullptr;  // the context tar (the request body)
  std::string dockerfile = "Dockerfile";         // path inside the context
  std::vector<std::string> tags;                 // "name[:tag]"; checked before the build
  // --build-arg: a null value declares the arg without a value (the CLI resolves `--build-arg
  // NAME` from its own environment before sending).
  std::map<std::string, std::optional<std::string>> build_args;
  std::string target;  // "" -> the last stage
  bool no_cache = false;
  bool pull = false;          // always pull base images
  bool quiet = false;         // no step output; the API prints only the ID
  bool remove = true;         // rm: remove intermediate containers after a successful step
  bool force_remove = false;  // forcerm: remove them also after a failed step
  std::map<std::string, std::string> labels;  // added to the final image
  std::string network_mode;                   // RUN's network: "" (default), host, none
  std::vector<std::string> extra_hosts;       // "name:ip"
  // The RUN containers' resources (docker build -m, --memory-swap, --cpu-*, --cpuset-*,
  // --cgroup-parent, --shm-size, --ulimit), as a `docker run` sets them: zero or empty
  // leaves the default; a bad value fails the first RUN as the create would fail.
  struct Resources {
    int64_t memory = 0;
    int64_t memory_swap = 0;
    int64_t cpu_shares = 0;
    int64_t cpu_period = 0;
    int64_t cpu_quota = 0;
    std::string cpuset_cpus;
    std::string cpuset_mems;
    std::string cgroup_parent;
    int64_t shm_size = 0;
    std::vector<Ulimit> ulimits;
  } resources;
  std::optional<image::registry::PlatformSpec> platform;
  // X-Registry-Config: credentials per registry host, for base image pulls.
  std::map<std::string, image::registry::Credentials> registry_auth;
  BuildSink output;
  std::function<bool()> client_alive;  // polled; false cancels as a false from `output`
};

struct BuildResult {
  std::string image_id;           // "sha256:..."
  std::vector<std::string> tags;  // familiar names given
};

struct BuildPruneOptions {
  bool all = false;  // also entries used recently / by tagged images
  // Docker's build-cache filters (until, id, ...): one value per key, else InvalidArgument
  // "filters expect only one value" (the API adds "failed to prune build cache: ").
  std::map<std::string, std::vector<std::string>> filters;
  int64_t keep_storage = 0;
};

struct BuildPruneResult {
  std::vector<std::string> caches_deleted;
  int64_t space_reclaimed = 0;
};

// --- Networks (engine/network: records in net_model, bridges/veths/rules in net_kernel) ---
// GET/POST/DELETE /networks... map onto these. The records and their Docker shapes are
// engine::network types (engine/network/networks.h: Network, CreateRequest, CreateResult,
// EndpointRequest; to_docker_json renders them). Networks are named by a "ref": full ID, exact
// name, or unique ID prefix ("2 matches found based on name: network X is ambiguous", 400).
// Errors and codes are the store's (networks.h), plus for containers NotFound "No such
// container: X".

// POST /networks/{id}/connect.
struct NetworkConnectRequest {
  std::string container;              // a container ref
  network::EndpointRequest endpoint;  // EndpointConfig (aliases, IPAMConfig.IPv4Address, ...)
};

// POST /networks/{id}/disconnect.
struct NetworkDisconnectRequest {
  std::string container;  // a container ref; with force, also the name of a removed one
  bool force = false;
};

class Daemon {
 public:
  virtual ~Daemon() = default;

  // Containers.
  virtual base::Result<CreateResult> create(CreateRequest req) = 0;
  // NotModified when already running; Conflict when paused ("cannot start a paused
  // container, try unpause instead"); a start failure carries the runtime's message, worded
  // like Docker's "failed to create shim task: OCI runtime create failed: ...: exec: \"x\":
  // executable file not found in $PATH: unknown", so clients map it to 127/126. A missing or
  // non-executable command is InvalidArgument (dockerd answers 400, transcript 067) and
  // records ExitCode 127/126; other failures are Internal (ExitCode 128). The container
  // stays "created" (or "exited") with State.Error set.
  virtual base::Result<void> start(std::string_view ref) = 0;
  // timeout: seconds before SIGKILL (-1 waits forever); nullopt: StopTimeout or 10.
  // signal: nullopt -> StopSignal or SIGTERM. NotModified when not running.
  virtual base::Result<void> stop(std::string_view ref, std::optional<int64_t> timeout,
                                  std::optional<std::string> signal) = 0;
  virtual base::Result<void> restart(std::string_view ref, std::optional<int64_t> timeout,
                                     std::optional<std::string> signal) = 0;
  // signal: "" -> SIGKILL; a name ("HUP", "SIGHUP") or number. InvalidArgument for a bad
  // one; Conflict "Container <id> is not running" when stopped.
  virtual base::Result<void> kill(std::string_view ref, std::string_view signal) = 0;
  virtual base::Result<void> pause(std::string_view ref) = 0;
  virtual base::Result<void> unpause(std::string_view ref) = 0;
  // Blocks until the condition holds. InvalidArgument for a bad condition is the API's job.
  virtual base::Result<WaitResult> wait(std::string_view ref, WaitCondition condition) = 0;
  // Conflict for a running container without force; force kills first.
  virtual base::Result<void> remove(std::string_view ref, bool force, bool volumes) = 0;
  virtual base::Result<std::vector<ContainerInfo>> list(const ListOptions& options) = 0;
  virtual base::Result<ContainerInfo> inspect(std::string_view ref, bool size) = 0;
  // Writes entries to sink until done (or, with follow, until the container stops and the
  // log is drained, or sink returns false). Reports whether the container has a tty.
  virtual base::Result<void> logs(std::string_view ref, const LogsOptions& options,
                                  const LogSink& sink) = 0;
  virtual base::Result<TopResult> top(std::string_view ref, std::string_view ps_args) = 0;
  virtual base::Result<void> rename(std::string_view ref, std::string_view new_name) = 0;
  virtual base::Result<std::vector<std::string>> update(std::string_view ref,
                                                        const UpdateRequest& req) = 0;
  virtual base::Result<PruneResult> prune(
      const std::map<std::string, std::vector<std::string>>& filters) = 0;
  // The container's filesystem (merged view) as an uncompressed tar.
  virtual base::Result<void> export_container(std::string_view ref, const Sink& out) = 0;
  virtual base::Result<std::vector<Change>> changes(std::string_view ref) = 0;

  // Interactive streams. Errors before upgrade: NotFound for the container; Conflict
  // "Container <ref> is paused, unpause the container before attach." (and restarting);
  // InvalidArgument "Invalid detach keys (<keys>) provided". A container that is not running
  // (created or exited) keeps the stream until its next start, as dockerd (`docker run` and
  // `start -a` attach before they start). Returns once the connection is handed on (the
  // stream itself runs in the container's shim).
  virtual base::Result<void> attach(std::string_view ref, const AttachOptions& options,
                                    const Upgrade& upgrade) = 0;
  // Conflict "Container <id> is not running" when stopped; a container without a tty is
  // resized as Docker does (a no-op, success).
  virtual base::Result<void> resize(std::string_view ref, int height, int width) = 0;
  // Returns the exec ID. Conflict "Container <id> is not running" / "... is paused, unpause
  // the container before exec"; InvalidArgument "No exec command specified".
  virtual base::Result<std::string> exec_create(std::string_view ref, const ExecConfig& config) = 0;
  // NotFound "No such exec instance: <id>"; Conflict "Error: Exec command <id> is already
  // running" / "... has already run"; a container stopped meanwhile: Conflict.
  virtual base::Result<void> exec_start(std::string_view exec_id, const ExecStartOptions& options,
                                        const Upgrade& upgrade) = 0;
  virtual base::Result<ExecInfo> exec_inspect(std::string_view exec_id) = 0;
  virtual base::Result<void> exec_resize(std::string_view exec_id, int height, int width) = 0;
  // Past events from since, then live ones until `until` passes, the sink returns false,
  // client_alive() turns false, or the daemon shuts down.
  virtual base::Result<void> events(const EventsOptions& options, const EventSink& sink) = 0;
  // Records an event of another area (image pull, delete, tag...). Thread-safe.
  virtual void publish(Event event) { (void)event; }
  // Samples for a running container; a stopped one gives one zeroed sample (as Docker).
  virtual base::Result<void> stats(std::string_view ref, const StatsOptions& options,
                                   const StatsSink& sink) = 0;

  // Images (tag, list, inspect, history, remove with container-usage rules, prune, load,
  // save, import). The engine wires container usage into it.
  virtual image::Images& images() = 0;

  // System.
  virtual SystemInfo info() = 0;
  virtual base::Result<DiskUsage> disk_usage() = 0;

  // Registry. Errors are the registry library's (Docker's wording, image/registry/pull.h,
  // push.h, client.h); Unavailable once the daemon shuts down (running jobs are cancelled
  // and waited for by shutdown()). The defaults answer NotImplemented (fakes).
  // Pull (through the configured mirrors, then the registry); publishes the image "pull" event.
  virtual base::Result<image::registry::PullResult> pull(const PullRequest& req) {
    (void)req;
    return base::make_error(base::ErrorCode::NotImplemented, "pull is not supported");
  }
  // Push (never through mirrors); publishes the image "push" event.
  virtual base::Result<image::registry::PushResult> push(const PushRequest& req) {
    (void)req;
    return base::make_error(base::ErrorCode::NotImplemented, "push is not supported");
  }
  // Checks credentials against `server` ("" or a Docker Hub name: docker.io). Unauthorized
  // "login attempt to <url>/v2/ failed with status: 401 Unauthorized".
  virtual base::Result<void> login(const std::string& server,
                                   const image::registry::Credentials& credentials) {
    (void)server;
    (void)credentials;
    return base::make_error(base::ErrorCode::NotImplemented, "login is not supported");
  }
  virtual base::Result<DistributionInfo> distribution_inspect(
      const image::reference::Reference& ref,
      const std::optional<image::registry::Credentials>& credentials) {
    (void)ref;
    (void)credentials;
    return base::make_error(base::ErrorCode::NotImplemented,
                            "distribution inspect is not supported");
  }

  // Stops background work (monitors, restart timers) and wakes blocked calls with
  // Unavailable. Containers keep running (live restore) unless the daemon was opened with
  // live_restore=false, then they are stopped. Idempotent; called before destruction.
  // Builds an image (engine/build). `failed_exit_code` (may be null) receives the exit code
  // of a RUN that failed the build. Errors before output: InvalidArgument (bad Dockerfile:
  // "dockerfile parse error line N: ...", bad tag, bad option), NotFound "Cannot locate
  // specified Dockerfile: X"; after: the step's error in Docker's words.
  virtual base::Result<BuildResult> build(const BuildRequest& req, int64_t* failed_exit_code) {
    (void)req;
    (void)failed_exit_code;
    return base::make_error(base::ErrorCode::NotImplemented, "build is not supported");
  }
  // POST /build/prune.
  virtual base::Result<BuildPruneResult> build_prune(const BuildPruneOptions& options) {
    (void)options;
    return base::make_error(base::ErrorCode::NotImplemented, "build prune is not supported");
  }

  // Networks. The defaults answer NotImplemented (fakes without networking).
  // Docker's list filters (driver, id, label, name, scope, type, dangling); predefined
  // networks first. List items carry no Containers (Docker's list leaves them empty).
  virtual base::Result<std::vector<network::Network>> network_list(
      const std::map<std::string, std::vector<std::string>>& filters) {
    (void)filters;
    return base::make_error(base::ErrorCode::NotImplemented, "networks are not supported");
  }
  // NotFound "network X not found"; InvalidArgument on ambiguity.
  virtual base::Result<network::Network> network_inspect(std::string_view ref) {
    (void)ref;
    return base::make_error(base::ErrorCode::NotImplemented, "networks are not supported");
  }
  // Records the network and creates its bridge (engine). Refusals as NetworkStore::create.
  virtual base::Result<network::CreateResult> network_create(const network::CreateRequest& req) {
    (void)req;
    return base::make_error(base::ErrorCode::NotImplemented, "networks are not supported");
  }
  // PermissionDenied for predefined networks and networks with endpoints.
  virtual base::Result<void> network_remove(std::string_view ref) {
    (void)ref;
    return base::make_error(base::ErrorCode::NotImplemented, "networks are not supported");
  }
  // A running container gets its endpoint (veth, address, DNS names) at once; a stopped one
  // keeps the request in its config for its next start, as Docker. NotFound "No such
  // container: X"; PermissionDenied "endpoint with name C already exists in network N".
  virtual base::Result<void> network_connect(std::string_view ref,
                                             const NetworkConnectRequest& req) {
    (void)ref;
    (void)req;
    return base::make_error(base::ErrorCode::NotImplemented, "networks are not supported");
  }
  // Internal "container ID is not connected to network N" when not connected.
  virtual base::Result<void> network_disconnect(std::string_view ref,
                                                const NetworkDisconnectRequest& req) {
    (void)ref;
    (void)req;
    return base::make_error(base::ErrorCode::NotImplemented, "networks are not supported");
  }
  // Removes unused user networks matching until, label, label!; returns their names.
  virtual base::Result<std::vector<std::string>> network_prune(
      const std::map<std::string, std::vector<std::string>>& filters) {
    (void)filters;
    return base::make_error(base::ErrorCode::NotImplemented, "networks are not supported");
  }

  virtual void shutdown() {}
};

}  // namespace mydocker::engine
