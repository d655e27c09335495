// SPDX-License-Identifier: Apache-2.0
#include "api/client/client.h"

#include <cctype>

#include "api/wire/errors.h"
#include "runtime/base/strings.h"

namespace mydocker::api::client {

namespace {

const char* bool_str(bool b) {
  return b ? "1" : "0";
}

// Splits a progress stream into JSON lines ("\r\n" or "\n" terminated) and reports the first
// in-band error.
class ProgressReader {
 public:
  explicit ProgressReader(const ProgressSink& sink) : sink_(sink) {}
  bool feed(std::string_view data) {
    buf_.append(data);
    size_t pos;
    while ((pos = buf_.find('\n')) != std::string::npos) {
      line(std::string_view(buf_).substr(0, pos));
      buf_.erase(0, pos + 1);
    }
    return true;
  }
  void finish() {
    if (!base::trim(buf_).empty()) {
      line(buf_);
    }
    buf_.clear();
  }
  const std::optional<std::string>& error() const { return error_; }

 private:
  void line(std::string_view text) {
    text = base::trim(text);
    if (text.empty()) {
      return;
    }
    Json msg = Json::parse(text, nullptr, false);
    if (msg.is_discarded()) {
      return;
    }
    if (msg.is_object() && msg.contains("error") && !error_) {
      const Json& e = msg["error"];
      error_ = e.is_string() ? e.get<std::string>() : e.dump();
      return;
    }
    if (sink_) {
      sink_(msg);
    }
  }

  const ProgressSink& sink_;
  std::string buf_;
  std::optional<std::string> error_;
};

}  // namespace

std::string encode_filters(const Filters& filters) {
  Json j = Json::object();
  for (const auto& [key, values] : filters) {
    Json m = Json::object();
    for (const auto& v : values) {
      m[v] = true;
    }
    j[key] = std::move(m);
  }
  return j.dump();
}

base::Result<std::pair<std::string, std::string>> parse_filter_arg(std::string_view arg) {
  size_t eq = arg.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return base::make_error(base::ErrorCode::InvalidArgument,
                            "bad format of filter (expected name=value)");
  }
  return std::pair{std::string(base::trim(arg.substr(0, eq))),
                   std::string(base::trim(arg.substr(eq + 1)))};
}

std::string path_escape(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/' || c == ':' ||
        c == '@') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

base::ErrorCode code_from_status(int status) {
  using base::ErrorCode;
  switch (status) {
    case 400:
      return ErrorCode::InvalidArgument;
    case 401:
      return ErrorCode::Unauthorized;
    case 403:
      return ErrorCode::PermissionDenied;
    case 404:
      return ErrorCode::NotFound;
    case 409:
      return ErrorCode::Conflict;
    case 304:
      return ErrorCode::NotModified;
    case 501:
      return ErrorCode::NotImplemented;
    case 503:
      return ErrorCode::Unavailable;
    default:
      return ErrorCode::Internal;
  }
}

base::Error daemon_error(int status, std::string_view body) {
  std::string message;
  if (auto m = wire::parse_error_body(body)) {
    message = std::move(*m);
  } else {
    message = std::string(base::trim(body));
    if (message.empty()) {
      message = fmt::format("unexpected status {}", status);
    }
  }
  return base::Error(code_from_status(status), "Error response from daemon: " + message);
}

base::Error read_daemon_error(HttpConnection& conn, const HttpResponse& head) {
  std::string data;
  if (auto r = conn.read_body(head,
                              [&](std::string_view d) {
                                data.append(d);
                                return true;
                              });
      !r) {
    return std::move(r).error();
  }
  return daemon_error(head.status, data);
}

std::string Client::versioned(std::string_view path) const {
  return fmt::format("/v{}{}", api_version_, path);
}

base::Result<HttpConnection> Client::connect() const {
  auto conn = HttpConnection::connect(host_.socket_path);
  if (!conn) {
    const base::Error& e = conn.error();
    if (e.code() == base::ErrorCode::PermissionDenied) {
      return base::Error(e.code(),
                         fmt::format("permission denied while trying to connect to the mydocker "
                                     "daemon socket at {}",
                                     host_.uri),
                         e.sys_errno());
    }
    if (e.code() == base::ErrorCode::Unavailable) {
      return base::make_error(
          base::ErrorCode::Unavailable,
          "Cannot connect to the mydocker daemon at {}. Is the mydocker daemon running?",
          host_.uri);
    }
    return std::move(conn).error();
  }
  return std::move(conn).value();
}

base::Result<HttpResponse> Client::request(std::string_view method, std::string_view path,
                                           const Query& query, const std::optional<Json>& body,
                                           const BodySink& sink, const Headers& headers) const {
  HttpConnection conn = MYDOCKER_TRY(connect());
  HttpRequest req;
  req.method = std::string(method);
  req.target = versioned(path) + query_string(query);
  req.headers = headers;
  if (body) {
    req.headers.emplace_back("Content-Type", "application/json");
    req.body = body->dump();
  }
  HttpResponse head = MYDOCKER_TRY(conn.send(req));
  if (head.status >= 400) {
    return read_daemon_error(conn, head);
  }
  if (!sink) {
    std::string data;
    MYDOCKER_TRY(conn.read_body(head, [&](std::string_view d) {
      data.append(d);
      return true;
    }));
    head.body = std::move(data);
    return head;
  }
  MYDOCKER_TRY(conn.read_body(head, sink));
  return head;
}

base::Result<Json> Client::get_json(std::string_view path, const Query& query) const {
  HttpResponse resp = MYDOCKER_TRY(request("GET", path, query));
  Json j = Json::parse(resp.body, nullptr, false);
  if (j.is_discarded()) {
    return base::make_error(base::ErrorCode::Internal, "daemon sent invalid JSON for `{}`", path);
  }
  return j;
}

base::Result<Json> Client::post_json(std::string_view path, const Query& query,
                                     const std::optional<Json>& body) const {
  HttpResponse resp = MYDOCKER_TRY(request("POST", path, query, body));
  if (base::trim(resp.body).empty()) {
    return Json();
  }
  Json j = Json::parse(resp.body, nullptr, false);
  if (j.is_discarded()) {
    return base::make_error(base::ErrorCode::Internal, "daemon sent invalid JSON for `{}`", path);
  }
  return j;
}

base::Result<void> Client::post_empty(std::string_view path, const Query& query) const {
  MYDOCKER_TRY(request("POST", path, query));
  return base::ok();
}

base::Result<std::string> Client::ping() const {
  HttpConnection conn = MYDOCKER_TRY(connect());
  HttpRequest req;
  req.target = "/_ping";
  HttpResponse resp = MYDOCKER_TRY(conn.round_trip(req));
  if (resp.status >= 400) {
    return daemon_error(resp.status, resp.body);
  }
  return resp.header("Api-Version");
}

base::Result<Json> Client::version() const {
  return get_json("/version");
}
base::Result<Json> Client::info() const {
  return get_json("/info");
}
base::Result<Json> Client::system_df() const {
  return get_json("/system/df");
}

base::Result<Json> Client::container_create(const Json& body, const std::string& name,
                                            const std::string& platform) const {
  Query q;
  if (!name.empty()) {
    q.emplace_back("name", name);
  }
  if (!platform.empty()) {
    q.emplace_back("platform", platform);
  }
  return post_json("/containers/create", q, body);
}

base::Result<void> Client::container_start(const std::string& id) const {
  return post_empty("/containers/" + path_escape(id) + "/start");
}

base::Result<void> Client::container_stop(const std::string& id, std::optional<int> timeout,
                                          const std::string& signal) const {
  Query q;
  if (!signal.empty()) {
    q.emplace_back("signal", signal);
  }
  if (timeout) {
    q.emplace_back("t", std::to_string(*timeout));
  }
  return post_empty("/containers/" + path_escape(id) + "/stop", q);
}

base::Result<void> Client::container_restart(const std::string& id, std::optional<int> timeout,
                                             const std::string& signal) const {
  Query q;
  if (!signal.empty()) {
    q.emplace_back("signal", signal);
  }
  if (timeout) {
    q.emplace_back("t", std::to_string(*timeout));
  }
  return post_empty("/containers/" + path_escape(id) + "/restart", q);
}

base::Result<void> Client::container_kill(const std::string& id, const std::string& signal) const {
  Query q;
  if (!signal.empty()) {
    q.emplace_back("signal", signal);
  }
  return post_empty("/containers/" + path_escape(id) + "/kill", q);
}

base::Result<void> Client::container_remove(const std::string& id, bool force, bool volumes) const {
  Query q;
  if (volumes) {
    q.emplace_back("v", "1");
  }
  if (force) {
    q.emplace_back("force", "1");
  }
  MYDOCKER_TRY(request("DELETE", "/containers/" + path_escape(id), q));
  return base::ok();
}

base::Result<void> Client::container_pause(const std::string& id) const {
  return post_empty("/containers/" + path_escape(id) + "/pause");
}
base::Result<void> Client::container_unpause(const std::string& id) const {
  return post_empty("/containers/" + path_escape(id) + "/unpause");
}
base::Result<void> Client::container_rename(const std::string& id, const std::string& name) const {
  return post_empty("/containers/" + path_escape(id) + "/rename", {{"name", name}});
}
base::Result<Json> Client::container_update(const std::string& id, const Json& body) const {
  return post_json("/containers/" + path_escape(id) + "/update", {}, body);
}

base::Result<Json> Client::container_wait(const std::string& id,
                                          const std::string& condition) const {
  Query q;
  if (!condition.empty()) {
    q.emplace_back("condition", condition);
  }
  return post_json("/containers/" + path_escape(id) + "/wait", q);
}

base::Result<Client::PendingWait> Client::container_wait_begin(const std::string& id,
                                                               const std::string& condition) const {
  HttpConnection conn = MYDOCKER_TRY(connect());
  HttpRequest req;
  req.method = "POST";
  req.target = versioned("/containers/" + path_escape(id) + "/wait") +
               query_string({{"condition", condition}});
  HttpResponse head = MYDOCKER_TRY(conn.send(req));
  if (head.status >= 400) {
    return read_daemon_error(conn, head);
  }
  return PendingWait(std::move(conn), std::move(head));
}

base::Result<Json> Client::PendingWait::result() {
  std::string data;
  MYDOCKER_TRY(conn_.read_body(head_, [&](std::string_view d) {
    data.append(d);
    return true;
  }));
  Json j = Json::parse(data, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return base::make_error(base::ErrorCode::Unavailable,
                            "wait: the daemon closed the connection without an exit status");
  }
  return j;
}

base::Result<Json> Client::container_top(const std::string& id, const std::string& ps_args) const {
  Query q;
  if (!ps_args.empty()) {
    q.emplace_back("ps_args", ps_args);
  }
  return get_json("/containers/" + path_escape(id) + "/top", q);
}

base::Result<Json> Client::container_changes(const std::string& id) const {
  return get_json("/containers/" + path_escape(id) + "/changes");
}

base::Result<void> Client::container_export(const std::string& id, const BodySink& sink) const {
  MYDOCKER_TRY(
      request("GET", "/containers/" + path_escape(id) + "/export", {}, std::nullopt, sink));
  return base::ok();
}

base::Result<Json> Client::container_inspect(const std::string& id, bool size) const {
  Query q;
  if (size) {
    q.emplace_back("size", "1");
  }
  return get_json("/containers/" + path_escape(id) + "/json", q);
}

base::Result<Json> Client::container_list(const ContainerListOptions& options) const {
  Query q;
  if (options.all) {
    q.emplace_back("all", "1");
  }
  if (options.limit) {
    q.emplace_back("limit", std::to_string(*options.limit));
  }
  if (options.size) {
    q.emplace_back("size", "1");
  }
  if (!options.filters.empty()) {
    q.emplace_back("filters", encode_filters(options.filters));
  }
  return get_json("/containers/json", q);
}

base::Result<void> Client::container_logs(const std::string& id, const LogsOptions& options,
                                          bool tty, const StreamDemuxer::Sink& sink) const {
  Query q;
  q.emplace_back("stdout", bool_str(options.stdout_));
  q.emplace_back("stderr", bool_str(options.stderr_));
  if (options.follow) {
    q.emplace_back("follow", "1");
  }
  if (options.timestamps) {
    q.emplace_back("timestamps", "1");
  }
  if (!options.tail.empty()) {
    q.emplace_back("tail", options.tail);
  }
  if (!options.since.empty()) {
    q.emplace_back("since", options.since);
  }
  if (!options.until.empty()) {
    q.emplace_back("until", options.until);
  }
  StreamDemuxer demux(sink);
  std::optional<base::Error> demux_error;
  MYDOCKER_TRY(request("GET", "/containers/" + path_escape(id) + "/logs", q, std::nullopt,
                       [&](std::string_view data) {
                         if (tty) {
                           sink(StreamKind::Stdout, data);
                           return true;
                         }
                         auto r = demux.feed(data);
                         if (!r) {
                           demux_error = std::move(r).error();
                           return false;
                         }
                         return true;
                       }));
  if (demux_error) {
    return std::move(*demux_error).wrap("logs");
  }
  return base::ok();
}

base::Result<Json> Client::containers_prune(const Filters& filters) const {
  Query q;
  if (!filters.empty()) {
    q.emplace_back("filters", encode_filters(filters));
  }
  return post_json("/containers/prune", q);
}

base::Result<Json> Client::image_list(bool all, const Filters& filters, bool digests) const {
  Query q;
  if (all) {
    q.emplace_back("all", "1");
  }
  if (!filters.empty()) {
    q.emplace_back("filters", encode_filters(filters));
  }
  if (digests) {
    q.emplace_back("digests", "1");
  }
  return get_json("/images/json", q);
}

base::Result<Json> Client::image_inspect(const std::string& name) const {
  return get_json("/images/" + path_escape(name) + "/json");
}

base::Result<Json> Client::image_history(const std::string& name) const {
  return get_json("/images/" + path_escape(name) + "/history");
}

base::Result<void> Client::image_tag(const std::string& source, const std::string& repo,
                                     const std::string& tag) const {
  Query q{{"repo", repo}};
  if (!tag.empty()) {
    q.emplace_back("tag", tag);
  }
  return post_empty("/images/" + path_escape(source) + "/tag", q);
}

base::Result<Json> Client::image_remove(const std::string& name, bool force, bool no_prune) const {
  Query q;
  if (force) {
    q.emplace_back("force", "1");
  }
  if (no_prune) {
    q.emplace_back("noprune", "1");
  }
  HttpResponse resp = MYDOCKER_TRY(request("DELETE", "/images/" + path_escape(name), q));
  Json j = Json::parse(resp.body, nullptr, false);
  if (j.is_discarded()) {
    return Json::array();
  }
  return j;
}

base::Result<Json> Client::images_prune(const Filters& filters) const {
  Query q;
  if (!filters.empty()) {
    q.emplace_back("filters", encode_filters(filters));
  }
  return post_json("/images/prune", q);
}

base::Result<void> Client::progress_upload(std::string_view path, const Query& query,
                                           const BodySource& source, std::optional<uint64_t> length,
                                           const ProgressSink& sink) const {
  HttpConnection conn = MYDOCKER_TRY(connect());
  HttpRequest req;
  req.method = "POST";
  req.target = versioned(path) + query_string(query);
  req.headers.emplace_back("Content-Type", "application/x-tar");
  req.body_source = source;
  req.body_length = length;
  HttpResponse head = MYDOCKER_TRY(conn.send(req));
  if (head.status >= 400) {
    return read_daemon_error(conn, head);
  }
  ProgressReader reader(sink);
  MYDOCKER_TRY(conn.read_body(head, [&](std::string_view d) { return reader.feed(d); }));
  reader.finish();
  if (reader.error()) {
    return base::Error(base::ErrorCode::Internal, *reader.error());
  }
  return base::ok();
}

base::Result<void> Client::image_load(const BodySource& source, std::optional<uint64_t> length,
                                      bool quiet, const ProgressSink& sink) const {
  return progress_upload("/images/load", {{"quiet", bool_str(quiet)}}, source, length, sink);
}

base::Result<void> Client::image_save(const std::vector<std::string>& names,
                                      const BodySink& sink) const {
  Query q;
  for (const auto& n : names) {
    q.emplace_back("names", n);
  }
  MYDOCKER_TRY(request("GET", "/images/get", q, std::nullopt, sink));
  return base::ok();
}

base::Result<void> Client::image_import(const BodySource& source, std::optional<uint64_t> length,
                                        const std::string& repo, const std::string& tag,
                                        const std::vector<std::string>& changes,
                                        const std::string& message,
                                        const ProgressSink& sink) const {
  Query q{{"fromSrc", "-"}};
  if (!repo.empty()) {
    q.emplace_back("repo", repo);
  }
  if (!tag.empty()) {
    q.emplace_back("tag", tag);
  }
  if (!message.empty()) {
    q.emplace_back("message", message);
  }
  for (const auto& c : changes) {
    q.emplace_back("changes", c);
  }
  return progress_upload("/images/create", q, source, length, sink);
}

}  // namespace mydocker::api::client
