// SPDX-License-Identifier: Apache-2.0
// mydocker::api::client: a typed client of the Docker Engine API (v1.41 paths) on a Unix
// socket, used by the mydocker CLI and by end-to-end tests.
//
// Every call opens its own connection, so one Client may be used from several threads (the
// CLI's `run` waits on one connection while it starts the container on another).
//
// Errors:
//  - the daemon answered with a status >= 400: the code follows the status (400
//    InvalidArgument, 401 Unauthorized, 403 PermissionDenied, 404 NotFound, 409 Conflict,
//    501 NotImplemented, 503 Unavailable, else Internal) and the message is docker's
//    "Error response from daemon: <message of the {"message": ...} body>";
//  - nobody listens on the socket: Unavailable, "Cannot connect to the mydocker daemon at
//    unix:///run/mydocker.sock. Is the mydocker daemon running?";
//  - an in-band error of a progress stream (load, import): Internal with the "error" text.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/client/hijack.h"
#include "api/client/host.h"
#include "api/client/http.h"
#include "api/client/stream.h"
#include "runtime/base/error.h"

namespace mydocker::api::client {

inline constexpr const char* kDefaultApiVersion = "1.41";

using Json = nlohmann::json;
using Query = std::vector<std::pair<std::string, std::string>>;
// Filter key -> values, sent as Docker's {"key":{"value":true}} map.
using Filters = std::map<std::string, std::vector<std::string>>;

std::string encode_filters(const Filters& filters);
// Parses "key=value" (the value may contain '='; "dangling" alone is "dangling" -> "").
base::Result<std::pair<std::string, std::string>> parse_filter_arg(std::string_view arg);
// Percent-encodes a path segment, keeping '/', ':' and '@' as the docker CLI does for image
// references.
std::string path_escape(std::string_view s);
// The error for a daemon answer with status >= 400 (see the header comment).
base::Error daemon_error(int status, std::string_view body);
// daemon_error() for the answer whose head `conn` just read (status >= 400), after reading its
// body; an error reading the body is returned instead.
base::Error read_daemon_error(HttpConnection& conn, const HttpResponse& head);
base::ErrorCode code_from_status(int status);

struct ContainerListOptions {
  bool all = false;
  std::optional<int> limit;  // -n / --last (-l is limit 1)
  bool size = false;
  Filters filters;
};

struct LogsOptions {
  bool follow = false;
  bool stdout_ = true;
  bool stderr_ = true;
  bool timestamps = false;
  std::string tail;   // "" -> all
  std::string since;  // as given: RFC 3339, Unix seconds or a duration ("10m")
  std::string until;
};

// POST /containers/{id}/attach.
struct AttachOptions {
  bool stream = true;
  bool logs = false;
  bool stdin_ = false;
  bool stdout_ = true;
  bool stderr_ = true;
  std::string detach_keys;  // "" -> the daemon's default
};

// POST /build's query (docker's imageBuildOptionsToQuery) and X-Registry-Config header.
struct BuildOptions {
  std::vector<std::string> tags;
  std::string dockerfile;  // path inside the context; "" -> the daemon's default (Dockerfile)
  // --build-arg: nullopt is sent as null (NAME given without a value and absent from the
  // CLI's environment, as docker sends it).
  std::map<std::string, std::optional<std::string>> build_args;
  std::map<std::string, std::string> labels;
  std::string target;
  bool no_cache = false;
  bool pull = false;
  bool quiet = false;
  bool remove = true;
  bool force_remove = false;
  std::string network_mode;  // "" or "default" -> not sent
  std::vector<std::string> extra_hosts;
  std::string platform;
  std::vector<std::string> cache_from;
  std::string registry_config;  // X-Registry-Config value ("" -> not sent)
  // The RUN containers' resources; zero or empty: not sent (as docker's client).
  int64_t memory = 0;
  int64_t memory_swap = 0;  // -1: unlimited swap
  int64_t cpu_shares = 0;
  int64_t cpu_period = 0;
  int64_t cpu_quota = 0;
  int64_t shm_size = 0;
  std::string cpuset_cpus;
  std::string cpuset_mems;
  std::string cgroup_parent;
  std::string isolation;  // "" or "default": not sent
  // {"Name","Soft","Hard"} objects (cmd's parse_ulimit), sent as docker marshals units.Ulimit.
  std::vector<Json> ulimits;
};

// What a build's stream ended with: the image ID (the aux message, or with quiet the streamed
// "sha256:...\n" text) or the in-band error (errorDetail's message and code, 0 when absent).
struct BuildResult {
  std::string image_id;
  std::optional<std::string> error;
  int64_t error_code = 0;
};

// A line of a progress stream (load, import): {"stream": ...}, {"status": ...} or
// {"error": ..., "errorDetail": {...}}.
using ProgressSink = std::function<void(const Json& message)>;

class Client {
 public:
  explicit Client(Host host, std::string api_version = kDefaultApiVersion)
      : host_(std::move(host)), api_version_(std::move(api_version)) {}

  const Host& host() const { return host_; }
  const std::string& api_version() const { return api_version_; }

  // "/v1.41" + path.
  std::string versioned(std::string_view path) const;
  // Opens a connection (with the CLI's "Cannot connect" error).
  base::Result<HttpConnection> connect() const;

  // One request. A status >= 400 becomes daemon_error(); 304 is returned as is. With a sink
  // the (successful) body goes to it as it arrives. `headers` are added (X-Registry-Auth).
  base::Result<HttpResponse> request(std::string_view method, std::string_view path,
                                     const Query& query = {},
                                     const std::optional<Json>& body = std::nullopt,
                                     const BodySink& sink = nullptr,
                                     const Headers& headers = {}) const;
  base::Result<Json> get_json(std::string_view path, const Query& query = {}) const;
  base::Result<Json> post_json(std::string_view path, const Query& query = {},
                               const std::optional<Json>& body = std::nullopt) const;

  // System.
  base::Result<std::string> ping() const;  // the daemon's Api-Version header
  base::Result<Json> version() const;
  base::Result<Json> info() const;
  base::Result<Json> system_df() const;

  // Containers.
  // `platform` ("os[/arch[/variant]]", "" for none) is create's ?platform= (API 1.41).
  base::Result<Json> container_create(const Json& body, const std::string& name,
                                      const std::string& platform = "") const;
  base::Result<void> container_start(const std::string& id) const;
  base::Result<void> container_stop(const std::string& id, std::optional<int> timeout,
                                    const std::string& signal) const;
  base::Result<void> container_restart(const std::string& id, std::optional<int> timeout,
                                       const std::string& signal) const;
  base::Result<void> container_kill(const std::string& id, const std::string& signal) const;
  base::Result<void> container_remove(const std::string& id, bool force, bool volumes) const;
  base::Result<void> container_pause(const std::string& id) const;
  base::Result<void> container_unpause(const std::string& id) const;
  base::Result<void> container_rename(const std::string& id, const std::string& name) const;
  base::Result<Json> container_update(const std::string& id, const Json& body) const;
  base::Result<Json> container_wait(const std::string& id, const std::string& condition) const;
  base::Result<Json> container_top(const std::string& id, const std::string& ps_args) const;
  base::Result<Json> container_changes(const std::string& id) const;
  base::Result<void> container_export(const std::string& id, const BodySink& sink) const;
  base::Result<Json> container_inspect(const std::string& id, bool size = false) const;
  base::Result<Json> container_list(const ContainerListOptions& options) const;
  // Demultiplexes unless `tty` (then every byte is stdout).
  base::Result<void> container_logs(const std::string& id, const LogsOptions& options, bool tty,
                                    const StreamDemuxer::Sink& sink) const;
  base::Result<Json> containers_prune(const Filters& filters) const;

  // A wait whose response head has arrived (the daemon registered the waiter) and whose body
  // (the exit status) is read later: `run` starts the container in between.
  class PendingWait {
   public:
    base::Result<Json> result();
    // Unblocks a result() running in another thread.
    void cancel() { conn_.shutdown(); }

   private:
    friend class Client;
    PendingWait(HttpConnection conn, HttpResponse head)
        : conn_(std::move(conn)), head_(std::move(head)) {}
    HttpConnection conn_;
    HttpResponse head_;
  };
  base::Result<PendingWait> container_wait_begin(const std::string& id,
                                                 const std::string& condition) const;

  // Interactive streams (hijack.h). The stream requests answer with the connection taken
  // over; errors before that are daemon_error() as for any request.
  base::Result<HijackedConnection> container_attach(const std::string& id,
                                                    const AttachOptions& options) const;
  // POST /containers/{id}/resize?h=&w=.
  base::Result<void> container_resize(const std::string& id, int height, int width) const;
  // POST /containers/{id}/exec with Docker's ExecConfig body; returns the exec ID.
  base::Result<std::string> exec_create(const std::string& id, const Json& config) const;
  // POST /exec/{id}/start with {"Detach": true, ...}: no stream.
  base::Result<void> exec_start_detached(const std::string& exec_id, const Json& body) const;
  // POST /exec/{id}/start with {"Detach": false, "Tty": ...}, hijacked.
  base::Result<HijackedConnection> exec_start_attached(const std::string& exec_id,
                                                       const Json& body) const;
  base::Result<Json> exec_inspect(const std::string& exec_id) const;
  base::Result<void> exec_resize(const std::string& exec_id, int height, int width) const;
  // Any hijacked request: `path` unversioned, `body` JSON when set.
  base::Result<HijackedConnection> hijack(std::string_view path, const Query& query,
                                          const std::optional<Json>& body) const;

  // Images.
  base::Result<Json> image_list(bool all, const Filters& filters, bool digests) const;
  base::Result<Json> image_inspect(const std::string& name) const;
  base::Result<Json> image_history(const std::string& name) const;
  base::Result<void> image_tag(const std::string& source, const std::string& repo,
                               const std::string& tag) const;
  base::Result<Json> image_remove(const std::string& name, bool force, bool no_prune) const;
  base::Result<Json> images_prune(const Filters& filters) const;
  base::Result<void> image_load(const BodySource& source, std::optional<uint64_t> length,
                                bool quiet, const ProgressSink& sink) const;
  base::Result<void> image_save(const std::vector<std::string>& names, const BodySink& sink) const;
  base::Result<void> image_import(const BodySource& source, std::optional<uint64_t> length,
                                  const std::string& repo, const std::string& tag,
                                  const std::vector<std::string>& changes,
                                  const std::string& message, const ProgressSink& sink) const;

  // Build (build.cpp). POST /build with `context` (a tar, possibly compressed) streamed as a
  // chunked body; every message of the answer but the error goes to `sink` as it arrives. A
  // status >= 400 is daemon_error(); an error inside the stream is BuildResult::error.
  base::Result<BuildResult> build(const BuildOptions& options, const BodySource& context,
                                  const ProgressSink& sink) const;
  // POST /build/prune: {"CachesDeleted": [...] | null, "SpaceReclaimed": N}.
  base::Result<Json> build_prune(bool all, int64_t keep_storage, const Filters& filters) const;
  // The query of `options` as the docker CLI sends it (exposed for tests).
  static Query build_query(const BuildOptions& options);

 private:
  base::Result<void> post_empty(std::string_view path, const Query& query = {}) const;
  base::Result<void> progress_upload(std::string_view path, const Query& query,
                                     const BodySource& source, std::optional<uint64_t> length,
                                     const ProgressSink& sink) const;

  Host host_;
  std::string api_version_;
};

}  // namespace mydocker::api::client
