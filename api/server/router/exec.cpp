// SPDX-License-Identifier: Apache-2.0
// Interactive routes: attach, resize and exec (transcripts 109-129). Attach and exec start
// take the connection over (Request::hijack) once the engine says the stream may begin; the
// engine then hands it to the container's shim, so no worker stays in a stream.
//
// GET /containers/{id}/attach/ws (websocket attach) is not served: it stays the router's 404.
#include <nlohmann/json.hpp>

#include "api/server/errors.h"
#include "api/server/render.h"
#include "api/server/router.h"
#include "api/server/server.h"
#include "api/wire/query.h"
#include "engine/container/go_json.h"

namespace mydocker::api::server {
namespace {

using base::ErrorCode;
using nlohmann::json;

constexpr const char* kRawStream = "application/vnd.docker.raw-stream";
constexpr const char* kMultiplexedStream = "application/vnd.docker.multiplexed-stream";

bool wants_upgrade(const Request& req) {
  return req.headers.find("Upgrade") != req.headers.end();
}

// dockerd names the framing only on an upgrade at API >= 1.42; otherwise raw-stream.
std::string stream_content_type(const Request& req, bool tty) {
  static const auto k142 = *wire::ApiVersion::parse("1.42");
  return wants_upgrade(req) && !tty && req.version >= k142 ? kMultiplexedStream : kRawStream;
}

// The Docker headers dockerd copies into an exec start's hijacked answer (117, 125); attach's
// answer has none (109, 112).
void docker_headers(const Context& ctx, Headers& h) {
  h.emplace("Api-Version", kApiVersion);
  h.emplace("Docker-Experimental", "false");
  h.emplace("Ostype", "linux");
  h.emplace("Server", "Mydocker/" + ctx.options.version + " (linux)");
}

base::Result<int> size_value(const Request& req, const char* key) {
  // dockerd 20.10 reads h and w with strconv.Atoi and answers a bad one as a bad parameter.
  auto n = wire::parse_int_value(req.query_value(key).value_or(""));
  if (!n) {
    return std::move(n).error();
  }
  if (*n < 0 || *n > 65535) {
    return base::make_error(ErrorCode::InvalidArgument, "invalid terminal size {}={}", key, *n);
  }
  return static_cast<int>(*n);
}

// The state of one hijacking request: the upgrade callback the engine calls, and whether it
// did (after that, errors can no longer be answered with a status).
struct Hijacker {
  const Request& req;
  Headers extra;
  bool upgraded = false;

  engine::Upgrade upgrade() {
    return [this](bool tty) -> base::Result<base::Fd> {
      if (!req.hijack) {
        return base::make_error(ErrorCode::Internal, "the connection cannot be hijacked");
      }
      Response head;
      head.status = 200;  // 101 UPGRADED when the client asked to upgrade (the transport's call)
      head.content_type = stream_content_type(req, tty);
      head.headers = extra;
      upgraded = true;
      return req.hijack(head);
    };
  }
};

base::Result<void> post_containers_attach(Context& ctx, const Request& req, Response& /*resp*/) {
  engine::AttachOptions o;
  o.stream = req.query_bool("stream");
  o.logs = req.query_bool("logs");
  o.stdin_stream = req.query_bool("stdin");
  o.stdout_stream = req.query_bool("stdout");
  o.stderr_stream = req.query_bool("stderr");
  o.detach_keys = req.query_value("detachKeys").value_or("");
  Hijacker h{req, {}};
  auto r = ctx.daemon.attach(req.param("name"), o, h.upgrade());
  if (r || h.upgraded) {
    return base::ok();  // the stream ended, or the engine closed it on a late error
  }
  if (!req.hijack) {
    return r;
  }
  // dockerd answers an attach error on the raw connection, as a raw-stream status with the
  // message as text, and closes it (114).
  Response head;
  head.status = http_status(r.error().code());
  head.content_type = kRawStream;
  head.body = r.error().message() + "\r\n";
  (void)req.hijack(head);  // the descriptor it returns is dropped: the connection closes
  return base::ok();
}

base::Result<void> post_containers_resize(Context& ctx, const Request& req, Response& resp) {
  int h = MYDOCKER_TRY(size_value(req, "h"));
  int w = MYDOCKER_TRY(size_value(req, "w"));
  MYDOCKER_TRY(ctx.daemon.resize(req.param("name"), h, w));
  resp.empty(200);
  return base::ok();
}

// A body value dockerd decodes with encoding/json: type mismatches are a 500 (as create's).
base::Error bad_field(const char* field, const char* type) {
  return base::make_error(ErrorCode::Internal,
                          "json: cannot unmarshal value into Go struct field {} of type {}", field,
                          type);
}

base::Result<std::vector<std::string>> string_list(const json& body, const char* key,
                                                   const char* field, bool strslice) {
  std::vector<std::string> out;
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) {
    return out;
  }
  if (strslice && it->is_string()) {  // strslice.StrSlice takes a bare string too
    out.push_back(it->get<std::string>());
    return out;
  }
  if (!it->is_array()) {
    return bad_field(field, "[]string");
  }
  for (const auto& v : *it) {
    if (!v.is_string()) {
      return bad_field(field, "string");
    }
    out.push_back(v.get<std::string>());
  }
  return out;
}

base::Result<bool> bool_field(const json& body, const char* key, const char* field) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) {
    return false;
  }
  if (!it->is_boolean()) {
    return bad_field(field, "bool");
  }
  return it->get<bool>();
}

base::Result<std::string> string_field(const json& body, const char* key, const char* field) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) {
    return std::string();
  }
  if (!it->is_string()) {
    return bad_field(field, "string");
  }
  return it->get<std::string>();
}

// ConsoleSize: [height, width] (API 1.42); null or absent is none.
base::Result<std::optional<std::pair<int, int>>> console_size(const json& body, const char* field) {
  auto it = body.find("ConsoleSize");
  if (it == body.end() || it->is_null()) {
    return std::optional<std::pair<int, int>>();
  }
  if (!it->is_array() || it->size() != 2 || !(*it)[0].is_number_unsigned() ||
      !(*it)[1].is_number_unsigned()) {
    return bad_field(field, "[2]uint");
  }
  auto h = (*it)[0].get<uint64_t>();
  auto w = (*it)[1].get<uint64_t>();
  if (h == 0 && w == 0) {
    return std::optional<std::pair<int, int>>();
  }
  return std::optional<std::pair<int, int>>(
      std::make_pair(static_cast<int>(std::min<uint64_t>(h, 65535)),
                     static_cast<int>(std::min<uint64_t>(w, 65535))));
}

base::Result<json> object_body(const std::string& text, ErrorCode code) {
  auto body = engine::go_json::decode_first_value(text);
  if (!body) {
    return base::Error(code, body.error().message());
  }
  if (body->is_null()) {
    return json::object();
  }
  if (!body->is_object()) {
    return base::make_error(code, "json: cannot unmarshal {} into Go value of type {}",
                            body->is_array() ? "array" : "value", "types.ExecConfig");
  }
  return std::move(*body);
}

base::Result<void> post_container_exec_create(Context& ctx, const Request& req, Response& resp) {
  json body = MYDOCKER_TRY(object_body(req.body, ErrorCode::Internal));
  engine::ExecConfig c;
  c.cmd = MYDOCKER_TRY(string_list(body, "Cmd", "ExecConfig.Cmd", true));
  c.env = MYDOCKER_TRY(string_list(body, "Env", "ExecConfig.Env", false));
  c.user = MYDOCKER_TRY(string_field(body, "User", "ExecConfig.User"));
  c.working_dir = MYDOCKER_TRY(string_field(body, "WorkingDir", "ExecConfig.WorkingDir"));
  c.detach_keys = MYDOCKER_TRY(string_field(body, "DetachKeys", "ExecConfig.DetachKeys"));
  c.tty = MYDOCKER_TRY(bool_field(body, "Tty", "ExecConfig.Tty"));
  c.privileged = MYDOCKER_TRY(bool_field(body, "Privileged", "ExecConfig.Privileged"));
  c.attach_stdin = MYDOCKER_TRY(bool_field(body, "AttachStdin", "ExecConfig.AttachStdin"));
  c.attach_stdout = MYDOCKER_TRY(bool_field(body, "AttachStdout", "ExecConfig.AttachStdout"));
  c.attach_stderr = MYDOCKER_TRY(bool_field(body, "AttachStderr", "ExecConfig.AttachStderr"));
  c.console_size = MYDOCKER_TRY(console_size(body, "ExecConfig.ConsoleSize"));
  // Checked before the container is looked up, as dockerd's router does (128).
  if (c.cmd.empty()) {
    return base::make_error(ErrorCode::InvalidArgument, "No exec command specified");
  }
  std::string id = MYDOCKER_TRY(ctx.daemon.exec_create(req.param("name"), c));
  resp.json(201, dump(json{{"Id", id}}));
  return base::ok();
}

base::Result<void> post_exec_start(Context& ctx, const Request& req, Response& resp) {
  json body = MYDOCKER_TRY(object_body(req.body, ErrorCode::InvalidArgument));
  engine::ExecStartOptions o;
  o.detach = MYDOCKER_TRY(bool_field(body, "Detach", "ExecStartCheck.Detach"));
  o.tty = MYDOCKER_TRY(bool_field(body, "Tty", "ExecStartCheck.Tty"));
  o.console_size = MYDOCKER_TRY(console_size(body, "ExecStartCheck.ConsoleSize"));
  Hijacker h{req, {}};
  docker_headers(ctx, h.extra);
  auto r = ctx.daemon.exec_start(req.param("name"), o, o.detach ? engine::Upgrade() : h.upgrade());
  if (!r && !h.upgraded) {
    return r;  // before the stream: an ordinary error answer (404 for an unknown exec)
  }
  if (o.detach) {
    resp.empty(200);
  }
  return base::ok();
}

base::Result<void> post_exec_resize(Context& ctx, const Request& req, Response& resp) {
  int h = MYDOCKER_TRY(size_value(req, "h"));
  int w = MYDOCKER_TRY(size_value(req, "w"));
  MYDOCKER_TRY(ctx.daemon.exec_resize(req.param("name"), h, w));
  resp.empty(200);
  return base::ok();
}

base::Result<void> get_exec_json(Context& ctx, const Request& req, Response& resp) {
  auto e = MYDOCKER_TRY(ctx.daemon.exec_inspect(req.param("name")));
  ordered_json pc = ordered_json::object();
  pc["tty"] = e.config.tty;
  pc["entrypoint"] = e.config.cmd.empty() ? std::string() : e.config.cmd[0];
  pc["arguments"] = e.config.cmd.size() > 1
                        ? std::vector<std::string>(e.config.cmd.begin() + 1, e.config.cmd.end())
                        : std::vector<std::string>();
  pc["privileged"] = e.config.privileged;
  if (!e.config.user.empty()) {
    pc["user"] = e.config.user;  // omitempty
  }
  ordered_json out = ordered_json::object();
  out["ID"] = e.id;
  out["Running"] = e.running;
  out["ExitCode"] = e.exit_code ? ordered_json(*e.exit_code) : ordered_json(nullptr);
  out["ProcessConfig"] = std::move(pc);
  out["OpenStdin"] = e.config.attach_stdin;
  out["OpenStderr"] = e.config.attach_stderr;
  out["OpenStdout"] = e.config.attach_stdout;
  out["CanRemove"] = e.can_remove;
  out["ContainerID"] = e.container_id;
  out["DetachKeys"] = e.detach_keys;
  out["Pid"] = e.pid;
  resp.json(200, dump(out));
  return base::ok();
}

}  // namespace

std::vector<Route> exec_routes() {
  return {
      {"POST", "/containers/{name}/attach", BodyMode::Hijack, post_containers_attach},
      {"POST", "/containers/{name}/resize", BodyMode::Buffered, post_containers_resize},
      {"POST", "/containers/{name}/exec", BodyMode::Json, post_container_exec_create},
      {"POST", "/exec/{name}/start", BodyMode::Hijack, post_exec_start},
      {"POST", "/exec/{name}/resize", BodyMode::Buffered, post_exec_resize},
      {"GET", "/exec/{name}/json", BodyMode::Buffered, get_exec_json},
  };
}

}  // namespace mydocker::api::server
