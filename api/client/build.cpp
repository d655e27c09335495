// SPDX-License-Identifier: Apache-2.0
// POST /build and POST /build/prune (client.h).
#include <algorithm>
#include <cctype>

#include "api/client/client.h"
#include "runtime/base/strings.h"

namespace mydocker::api::client {
namespace {

// Splits the answer into JSON messages ("\r\n" or "\n" ended) and keeps what the build ended
// with.
class BuildReader {
 public:
  BuildReader(const ProgressSink& sink, BuildResult& result) : sink_(sink), result_(result) {}
  void feed(std::string_view data) {
    buf_.append(data);
    size_t start = 0;
    size_t nl;
    while ((nl = buf_.find('\n', start)) != std::string::npos) {
      line(std::string_view(buf_).substr(start, nl - start));
      start = nl + 1;
    }
    buf_.erase(0, start);
  }
  void finish() {
    line(buf_);
    buf_.clear();
  }

 private:
  void line(std::string_view text) {
    text = base::trim(text);
    if (text.empty() || result_.error) {
      return;  // docker stops at the first error
    }
    Json msg = Json::parse(text, nullptr, false);
    if (msg.is_discarded() || !msg.is_object()) {
      return;
    }
    auto detail = msg.find("errorDetail");
    auto err = msg.find("error");
    if ((detail != msg.end() && detail->is_object()) || (err != msg.end() && !err->is_null())) {
      std::string message;
      if (detail != msg.end() && detail->is_object()) {
        message = detail->value("message", "");
        if (auto c = detail->find("code"); c != detail->end() && c->is_number_integer()) {
          result_.error_code = c->get<int64_t>();
        }
      }
      if (message.empty() && err != msg.end()) {
        message = err->is_string() ? err->get<std::string>() : err->dump();
      }
      result_.error = message;
      return;
    }
    if (auto aux = msg.find("aux"); aux != msg.end() && aux->is_object()) {
      if (auto id = aux->find("ID"); id != aux->end() && id->is_string()) {
        result_.image_id = id->get<std::string>();
      }
    } else if (auto s = msg.find("stream"); s != msg.end() && s->is_string()) {
      // q=1 answers the ID as a stream text (166).
      std::string_view t = base::trim(s->get_ref<const std::string&>());
      if (t.starts_with("sha256:") && t.size() == 71 && result_.image_id.empty()) {
        result_.image_id = std::string(t);
      }
    }
    if (sink_) {
      sink_(msg);
    }
  }

  const ProgressSink& sink_;
  BuildResult& result_;
  std::string buf_;
};

}  // namespace

Query Client::build_query(const BuildOptions& o) {
  Query q;
  for (const auto& t : o.tags) {
    q.emplace_back("t", t);
  }
  for (const auto& h : o.extra_hosts) {
    q.emplace_back("extrahosts", h);
  }
  if (o.quiet) {
    q.emplace_back("q", "1");
  }
  if (o.no_cache) {
    q.emplace_back("nocache", "1");
  }
  if (!o.remove) {
    q.emplace_back("rm", "0");  // the daemon's default is true: sent only to opt out
  }
  if (o.force_remove) {
    q.emplace_back("forcerm", "1");
  }
  if (o.pull) {
    q.emplace_back("pull", "1");
  }
  if (!o.network_mode.empty() && o.network_mode != "default") {
    q.emplace_back("networkmode", o.network_mode);
  }
  if (!o.dockerfile.empty()) {
    q.emplace_back("dockerfile", o.dockerfile);
  }
  if (!o.target.empty()) {
    q.emplace_back("target", o.target);
  }
  if (!o.build_args.empty()) {
    Json args = Json::object();
    for (const auto& [k, v] : o.build_args) {
      args[k] = v ? Json(*v) : Json(nullptr);
    }
    q.emplace_back("buildargs", args.dump());
  }
  if (!o.labels.empty()) {
    q.emplace_back("labels", Json(o.labels).dump());
  }
  if (!o.cache_from.empty()) {
    q.emplace_back("cachefrom", Json(o.cache_from).dump());
  }
  if (!o.platform.empty()) {
    q.emplace_back("platform", base::ascii_lower(o.platform));
  }
  auto number = [&q](const char* key, int64_t v) {
    if (v != 0) {
      q.emplace_back(key, std::to_string(v));
    }
  };
  auto text = [&q](const char* key, const std::string& v) {
    if (!v.empty()) {
      q.emplace_back(key, v);
    }
  };
  number("memory", o.memory);
  number("memswap", o.memory_swap);
  number("cpushares", o.cpu_shares);
  number("cpuperiod", o.cpu_period);
  number("cpuquota", o.cpu_quota);
  number("shmsize", o.shm_size);
  text("cpusetcpus", o.cpuset_cpus);
  text("cpusetmems", o.cpuset_mems);
  text("cgroupparent", o.cgroup_parent);
  if (!o.isolation.empty() && base::ascii_lower(o.isolation) != "default") {
    q.emplace_back("isolation", o.isolation);
  }
  if (!o.ulimits.empty()) {
    // Go's json.Marshal of []*units.Ulimit: the struct's field order.
    std::string list = "[";
    for (const Json& u : o.ulimits) {
      nlohmann::ordered_json one;
      one["Name"] = u.value("Name", "");
      one["Hard"] = u.value("Hard", int64_t{0});
      one["Soft"] = u.value("Soft", int64_t{0});
      list += (list.size() > 1 ? "," : "") + one.dump();
    }
    q.emplace_back("ulimits", list + "]");
  }
  q.emplace_back("version", "1");  // the classic builder
  return q;
}

base::Result<BuildResult> Client::build(const BuildOptions& options, const BodySource& context,
                                        const ProgressSink& sink) const {
  HttpConnection conn = MYDOCKER_TRY(connect());
  HttpRequest req;
  req.method = "POST";
  req.target = versioned("/build") + query_string(build_query(options));
  req.headers.emplace_back("Content-Type", "application/x-tar");
  if (!options.registry_config.empty()) {
    req.headers.emplace_back("X-Registry-Config", options.registry_config);
  }
  req.body_source = context;  // chunked, as the docker CLI sends it (171)
  HttpResponse head = MYDOCKER_TRY(conn.send(req));
  if (head.status >= 400) {
    return read_daemon_error(conn, head);
  }
  BuildResult result;
  BuildReader reader(sink, result);
  MYDOCKER_TRY(conn.read_body(head, [&](std::string_view d) {
    reader.feed(d);
    return true;
  }));
  reader.finish();
  return result;
}

base::Result<Json> Client::build_prune(bool all, int64_t keep_storage,
                                       const Filters& filters) const {
  Query q;
  if (all) {
    q.emplace_back("all", "1");
  }
  if (keep_storage != 0) {
    q.emplace_back("keep-storage", std::to_string(keep_storage));
  }
  if (!filters.empty()) {
    q.emplace_back("filters", encode_filters(filters));
  }
  return post_json("/build/prune", q);
}

}  // namespace mydocker::api::client
