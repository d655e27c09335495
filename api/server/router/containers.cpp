// SPDX-License-Identifier: Apache-2.0
// Container routes (transcripts 024-104, 143-150). Wording a Docker client sees is dockerd's.
#include <time.h>

#include <nlohmann/json.hpp>

#include "api/server/render.h"
#include "api/server/router.h"
#include "api/wire/filters.h"
#include "api/wire/stream.h"
#include "engine/container/config.h"
#include "image/content/image_config.h"

namespace mydocker::api::server {
namespace {

using base::ErrorCode;
using nlohmann::json;

// dockerd answers a malformed body or query value (JSON syntax, a type mismatch, strconv) with
// 500, not 400 (transcripts 021, 023, 027-029): keep the message, change the code.
base::Error as_internal(base::Error e) {
  return base::Error(ErrorCode::Internal, e.message());
}

base::Result<std::optional<int64_t>> optional_int(const Request& req, const std::string& key) {
  auto v = req.query_value(key);
  if (!v || v->empty()) {
    return std::optional<int64_t>();
  }
  auto n = wire::parse_int_value(*v);
  if (!n) {
    return as_internal(std::move(n).error());
  }
  return std::optional<int64_t>(*n);
}

base::Result<wire::Filters> filters_of(const Request& req) {
  auto f = wire::parse_filters(req.query_value("filters").value_or(""));
  if (!f) {
    return as_internal(std::move(f).error());
  }
  return std::move(*f);
}

std::optional<std::string> signal_of(const Request& req) {
  auto s = req.query_value("signal");
  if (!s || s->empty()) {
    return std::nullopt;
  }
  return s;
}

base::Result<void> post_containers_create(Context& ctx, const Request& req, Response& resp) {
  auto body = engine::parse_create_body(req.body);
  if (!body) {
    return as_internal(std::move(body).error());
  }
  engine::CreateRequest cr;
  cr.name = req.query_value("name").value_or("");
  cr.config = std::move(body->config);
  cr.host_config = std::move(body->host_config);
  auto created = MYDOCKER_TRY(ctx.daemon.create(std::move(cr)));
  resp.json(201, dump(json{{"Id", created.id}, {"Warnings", created.warnings}}));
  return base::ok();
}

base::Result<void> post_containers_start(Context& ctx, const Request& req, Response& resp) {
  if (!req.body.empty()) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "starting container with non-empty request body was deprecated "
                            "since API v1.22 and removed in v1.24");
  }
  MYDOCKER_TRY(ctx.daemon.start(req.param("name")));
  resp.empty(204);
  return base::ok();
}

base::Result<void> post_containers_stop(Context& ctx, const Request& req, Response& resp) {
  auto t = MYDOCKER_TRY(optional_int(req, "t"));
  MYDOCKER_TRY(ctx.daemon.stop(req.param("name"), t, signal_of(req)));
  resp.empty(204);
  return base::ok();
}

base::Result<void> post_containers_restart(Context& ctx, const Request& req, Response& resp) {
  auto t = MYDOCKER_TRY(optional_int(req, "t"));
  MYDOCKER_TRY(ctx.daemon.restart(req.param("name"), t, signal_of(req)));
  resp.empty(204);
  return base::ok();
}

base::Result<void> post_containers_kill(Context& ctx, const Request& req, Response& resp) {
  std::string name = req.param("name");
  auto r = ctx.daemon.kill(name, req.query_value("signal").value_or(""));
  if (!r) {
    base::Error e = std::move(r).error();
    // dockerd's wording for a stopped container (048).
    if (e.code() == ErrorCode::Conflict && e.message().rfind("Cannot kill", 0) != 0) {
      return base::Error(ErrorCode::Conflict,
                         fmt::format("Cannot kill container: {}: {}", name, e.message()));
    }
    return e;
  }
  resp.empty(204);
  return base::ok();
}

base::Result<void> post_containers_pause(Context& ctx, const Request& req, Response& resp) {
  MYDOCKER_TRY(ctx.daemon.pause(req.param("name")));
  resp.empty(204);
  return base::ok();
}

base::Result<void> post_containers_unpause(Context& ctx, const Request& req, Response& resp) {
  MYDOCKER_TRY(ctx.daemon.unpause(req.param("name")));
  resp.empty(204);
  return base::ok();
}

base::Result<void> post_containers_wait(Context& ctx, const Request& req, Response& resp) {
  std::string name = req.param("name");
  // An unknown condition is the default, as dockerd treats it (051).
  std::string cond = req.query_value("condition").value_or("");
  engine::WaitCondition condition = engine::WaitCondition::NotRunning;
  if (cond == "next-exit") {
    condition = engine::WaitCondition::NextExit;
  } else if (cond == "removed") {
    condition = engine::WaitCondition::Removed;
  }
  // Unknown containers are a 404 before the 200 head goes out.
  auto info = MYDOCKER_TRY(ctx.daemon.inspect(name, false));
  // dockerd sends the head at once and the one object when the condition holds (049, 052).
  resp.status = 200;
  resp.content_type = "application/json";
  engine::Daemon& daemon = ctx.daemon;
  std::string id = info.id;
  resp.stream = [&daemon, id, condition](StreamWriter& w) {
    auto r = daemon.wait(id, condition);
    json j;
    if (r) {
      j = {{"Error", r->error.empty() ? json(nullptr) : json{{"Message", r->error}}},
           {"StatusCode", r->status_code}};
    } else {
      j = {{"Error", {{"Message", r.error().message()}}}, {"StatusCode", -1}};
    }
    w.write(dump(j) + "\n");
  };
  return base::ok();
}

base::Result<void> delete_containers(Context& ctx, const Request& req, Response& resp) {
  if (req.query_bool("link")) {
    return base::make_error(ErrorCode::InvalidArgument, "links are not supported");
  }
  MYDOCKER_TRY(ctx.daemon.remove(req.param("name"), req.query_bool("force"), req.query_bool("v")));
  resp.empty(204);
  return base::ok();
}

base::Result<void> get_containers_json(Context& ctx, const Request& req, Response& resp) {
  engine::ListOptions opts;
  opts.all = req.query_bool("all");
  opts.size = req.query_bool("size");
  auto limit = MYDOCKER_TRY(optional_int(req, "limit"));
  if (limit && *limit > 0) {
    opts.limit = *limit;
  }
  opts.filters = MYDOCKER_TRY(filters_of(req));
  auto list = MYDOCKER_TRY(ctx.daemon.list(opts));
  int64_t now = ::time(nullptr);
  ordered_json out = ordered_json::array();
  for (const auto& c : list) {
    out.push_back(container_summary(c, now));
  }
  resp.json(200, dump(out));
  return base::ok();
}

base::Result<void> get_container_json(Context& ctx, const Request& req, Response& resp) {
  auto info = MYDOCKER_TRY(ctx.daemon.inspect(req.param("name"), req.query_bool("size")));
  resp.json(200, dump(container_inspect(info)));
  return base::ok();
}

// since/until: Unix seconds ("1700000000", "1700000000.5") or RFC 3339.
base::Result<int64_t> parse_time_value(const std::string& v) {
  if (v.empty()) {
    return int64_t{0};
  }
  std::string secs = v.substr(0, v.find('.'));
  if (auto n = wire::parse_int_value(secs); n) {
    return *n;
  }
  if (auto t = image::content::parse_rfc3339(v); t) {
    return *t;
  }
  return base::make_error(ErrorCode::InvalidArgument,
                          "failed to parse value as time or duration: \"{}\"", v);
}

// Unix nanoseconds of a parsed since/until: its whole seconds plus the fraction digits of
// "1700000000.123456789" (the docker CLI's form; nine digits at most count). 0 stays 0.
int64_t with_fraction(int64_t seconds, const std::string& v) {
  if (seconds <= 0) {
    return 0;  // the whole-seconds field alone then
  }
  int64_t nanos = seconds * 1'000'000'000;
  auto dot = v.find('.');
  if (dot == std::string::npos || v.find_first_not_of("0123456789", dot + 1) != std::string::npos) {
    return nanos;
  }
  std::string frac = v.substr(dot + 1, 9);
  frac.append(9 - frac.size(), '0');
  return nanos + std::stoll(frac);
}

base::Result<void> get_container_logs(Context& ctx, const Request& req, Response& resp) {
  std::string name = req.param("name");
  engine::LogsOptions opts;
  opts.stdout_stream = req.query_bool("stdout");
  opts.stderr_stream = req.query_bool("stderr");
  if (!opts.stdout_stream && !opts.stderr_stream) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "Bad parameters: you must choose at least one stream");
  }
  opts.follow = req.query_bool("follow");
  opts.timestamps = req.query_bool("timestamps");
  opts.since = MYDOCKER_TRY(parse_time_value(req.query_value("since").value_or("")));
  opts.until = MYDOCKER_TRY(parse_time_value(req.query_value("until").value_or("")));
  opts.since_nano = with_fraction(opts.since, req.query_value("since").value_or(""));
  opts.until_nano = with_fraction(opts.until, req.query_value("until").value_or(""));
  std::string tail = req.query_value("tail").value_or("all");
  if (!tail.empty() && tail != "all") {
    auto n = wire::parse_int_value(tail);
    opts.tail = n && *n >= 0 ? *n : -1;
  }
  auto info = MYDOCKER_TRY(ctx.daemon.inspect(name, false));
  if (info.host_config.log_type == "none") {
    return base::make_error(ErrorCode::NotImplemented,
                            "configured logging driver does not support reading");
  }
  bool tty = info.config.tty;
  // dockerd >= API 1.42 names the framing in Content-Type; older ones sent none (085), which
  // httplib would turn into text/plain, so raw-stream is sent there too.
  static const auto k142 = *wire::ApiVersion::parse("1.42");
  resp.status = 200;
  resp.content_type = !tty && req.version >= k142 ? "application/vnd.docker.multiplexed-stream"
                                                  : "application/vnd.docker.raw-stream";
  engine::Daemon& daemon = ctx.daemon;
  std::string id = info.id;
  resp.stream = [&daemon, id, opts, tty](StreamWriter& w) mutable {
    opts.client_alive = [&w] { return w.alive(); };
    auto r = daemon.logs(id, opts, [&](const engine::LogEntry& e) {
      std::string payload = opts.timestamps ? e.time + " " + e.line : e.line;
      if (tty) {
        return w.write(payload);
      }
      auto stream = e.stream == 2 ? wire::StdStream::Stderr : wire::StdStream::Stdout;
      return w.write(wire::frame(stream, payload));
    });
    (void)r;  // the head is out: a failure can only end the stream
  };
  return base::ok();
}

base::Result<void> get_container_top(Context& ctx, const Request& req, Response& resp) {
  auto top =
      MYDOCKER_TRY(ctx.daemon.top(req.param("name"), req.query_value("ps_args").value_or("")));
  resp.json(200, dump(json{{"Processes", top.processes}, {"Titles", top.titles}}));
  return base::ok();
}

// types.StatsJSON's field order (the engine's JSON is sorted).
std::string stats_text(const json& sample) {
  ordered_json out = ordered_json::object();
  for (const char* k :
       {"read", "preread", "pids_stats", "blkio_stats", "num_procs", "storage_stats", "cpu_stats",
        "precpu_stats", "memory_stats", "name", "id", "networks"}) {
    if (auto it = sample.find(k); it != sample.end()) {
      out[k] = *it;
    }
  }
  return dump(out) + "\n";
}

// GET /containers/{id}/stats (transcripts 098-101): stream=false answers one object with
// Content-Length (after a second sample unless one-shot); stream=true sends one object per
// second, chunked, without a Content-Type.
base::Result<void> get_container_stats(Context& ctx, const Request& req, Response& resp) {
  engine::StatsOptions opts;
  opts.stream = req.query_bool("stream", true);
  opts.one_shot = req.query_bool("one-shot", false);
  if (opts.stream && opts.one_shot) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "cannot have stream=true and one-shot=true");
  }
  std::string name = req.param("name");
  if (!opts.stream) {
    std::string body;
    MYDOCKER_TRY(ctx.daemon.stats(name, opts, [&](const json& sample) {
      body = stats_text(sample);
      return false;
    }));
    resp.status = 200;
    resp.content_type = "application/json";
    resp.body = std::move(body);
    return base::ok();
  }
  auto info = MYDOCKER_TRY(ctx.daemon.inspect(name, false));
  resp.status = 200;
  engine::Daemon& daemon = ctx.daemon;
  std::string id = info.id;
  resp.stream = [&daemon, id, opts](StreamWriter& w) mutable {
    opts.client_alive = [&w] { return w.alive(); };
    auto r =
        daemon.stats(id, opts, [&](const json& sample) { return w.write(stats_text(sample)); });
    (void)r;
  };
  return base::ok();
}

base::Result<void> post_containers_rename(Context& ctx, const Request& req, Response& resp) {
  std::string new_name = req.query_value("name").value_or("");
  if (new_name.empty()) {
    return base::make_error(ErrorCode::InvalidArgument, "Neither old nor new names may be empty");
  }
  MYDOCKER_TRY(ctx.daemon.rename(req.param("name"), new_name));
  resp.empty(204);
  return base::ok();
}

base::Result<void> post_containers_update(Context& ctx, const Request& req, Response& resp) {
  // engine_config's parser words errors as dockerd's UpdateConfig decoding; zero/unset
  // fields mean "unchanged", as dockerd's UpdateContainer reads them.
  auto hc = MYDOCKER_TRY(engine::parse_update_body(req.body));
  engine::UpdateRequest u;
  auto set = [](int64_t v, std::optional<int64_t>& out) {
    if (v != 0) {
      out = v;
    }
  };
  set(hc.memory, u.memory);
  set(hc.memory_swap, u.memory_swap);
  set(hc.memory_reservation, u.memory_reservation);
  set(hc.nano_cpus, u.nano_cpus);
  set(hc.cpu_shares, u.cpu_shares);
  set(hc.cpu_period, u.cpu_period);
  set(hc.cpu_quota, u.cpu_quota);
  if (!hc.cpuset_cpus.empty()) {
    u.cpuset_cpus = hc.cpuset_cpus;
  }
  if (!hc.cpuset_mems.empty()) {
    u.cpuset_mems = hc.cpuset_mems;
  }
  u.pids_limit = hc.pids_limit;
  if (!hc.restart_policy.name.empty()) {
    u.restart_policy = hc.restart_policy;
  }
  auto warnings = MYDOCKER_TRY(ctx.daemon.update(req.param("name"), u));
  // update answers null for no warnings, unlike create's [] (061).
  resp.json(200, dump(json{{"Warnings", warnings.empty() ? json(nullptr) : json(warnings)}}));
  return base::ok();
}

base::Result<void> post_containers_prune(Context& ctx, const Request& req, Response& resp) {
  auto filters = MYDOCKER_TRY(filters_of(req));
  auto r = MYDOCKER_TRY(ctx.daemon.prune(filters));
  resp.json(200,
            dump(json{{"ContainersDeleted", r.deleted.empty() ? json(nullptr) : json(r.deleted)},
                      {"SpaceReclaimed", r.space_reclaimed}}));
  return base::ok();
}

base::Result<void> get_container_export(Context& ctx, const Request& req, Response& resp) {
  auto info = MYDOCKER_TRY(ctx.daemon.inspect(req.param("name"), false));
  resp.status = 200;
  resp.content_type = "application/octet-stream";  // as dockerd (104), not x-tar
  engine::Daemon& daemon = ctx.daemon;
  std::string id = info.id;
  resp.stream = [&daemon, id](StreamWriter& w) {
    auto r = daemon.export_container(id, [&](std::string_view data) -> base::Result<void> {
      if (!w.write(data)) {
        return base::make_error(ErrorCode::Cancelled, "client went away");
      }
      return base::ok();
    });
    (void)r;
  };
  return base::ok();
}

base::Result<void> get_container_changes(Context& ctx, const Request& req, Response& resp) {
  auto changes = MYDOCKER_TRY(ctx.daemon.changes(req.param("name")));
  if (changes.empty()) {
    resp.json(200, "null");  // dockerd's nil slice (103)
    return base::ok();
  }
  ordered_json out = ordered_json::array();
  for (const auto& c : changes) {
    out.push_back({{"Path", c.path}, {"Kind", c.kind}});
  }
  resp.json(200, dump(out));
  return base::ok();
}

}  // namespace

std::vector<Route> container_routes() {
  return {
      {"GET", "/containers/json", BodyMode::Buffered, get_containers_json},
      {"POST", "/containers/create", BodyMode::Json, post_containers_create},
      {"POST", "/containers/prune", BodyMode::Buffered, post_containers_prune},
      {"GET", "/containers/{name}/json", BodyMode::Buffered, get_container_json},
      {"GET", "/containers/{name}/logs", BodyMode::Buffered, get_container_logs},
      {"GET", "/containers/{name}/top", BodyMode::Buffered, get_container_top},
      {"GET", "/containers/{name}/stats", BodyMode::Buffered, get_container_stats},
      {"GET", "/containers/{name}/export", BodyMode::Buffered, get_container_export},
      {"GET", "/containers/{name}/changes", BodyMode::Buffered, get_container_changes},
      {"POST", "/containers/{name}/start", BodyMode::Buffered, post_containers_start},
      {"POST", "/containers/{name}/stop", BodyMode::Buffered, post_containers_stop},
      {"POST", "/containers/{name}/restart", BodyMode::Buffered, post_containers_restart},
      {"POST", "/containers/{name}/kill", BodyMode::Buffered, post_containers_kill},
      {"POST", "/containers/{name}/pause", BodyMode::Buffered, post_containers_pause},
      {"POST", "/containers/{name}/unpause", BodyMode::Buffered, post_containers_unpause},
      {"POST", "/containers/{name}/wait", BodyMode::Buffered, post_containers_wait},
      {"POST", "/containers/{name}/rename", BodyMode::Buffered, post_containers_rename},
      {"POST", "/containers/{name}/update", BodyMode::Json, post_containers_update},
      {"DELETE", "/containers/{name}", BodyMode::Buffered, delete_containers},
  };
}

}  // namespace mydocker::api::server
