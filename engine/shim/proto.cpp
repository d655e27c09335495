// SPDX-License-Identifier: Apache-2.0
#include "engine/shim/proto.h"

#include <fcntl.h>
#include <unistd.h>

#include "runtime/base/file.h"
#include "runtime/base/strings.h"

namespace mydocker::engine::shim {

namespace {

using base::ErrorCode;
using nlohmann::json;

base::Error bad(std::string_view what, std::string_view field, std::string_view expected) {
  return base::make_error(ErrorCode::InvalidArgument, "{}: `{}` must be {}", what, field, expected);
}

base::Result<std::string> get_string(const json& j, std::string_view what, const char* field,
                                     bool required) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) {
    if (required) {
      return base::make_error(ErrorCode::InvalidArgument, "{}: `{}` is missing", what, field);
    }
    return std::string();
  }
  if (!it->is_string()) {
    return bad(what, field, "a string");
  }
  return it->get<std::string>();
}

base::Result<int64_t> get_int(const json& j, std::string_view what, const char* field,
                              int64_t fallback) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) {
    return fallback;
  }
  if (!it->is_number_integer()) {
    return bad(what, field, "an integer");
  }
  return it->get<int64_t>();
}

base::Result<bool> get_bool(const json& j, std::string_view what, const char* field) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) {
    return false;
  }
  if (!it->is_boolean()) {
    return bad(what, field, "a boolean");
  }
  return it->get<bool>();
}

base::Result<json> parse_object(std::string_view text, std::string_view what) {
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return base::make_error(ErrorCode::InvalidArgument, "{}: not a JSON object", what);
  }
  return j;
}

// temp + rename: readers see the old or the new file, never a torn one. No fsync: these files
// describe processes, which a host crash takes away anyway (an fsync pair costs ~5 ms on this
// host's ext4, on the start path of every container).
base::Result<void> replace_file(const std::string& path, std::string_view data) {
  std::string tmp = path + ".tmp";
  MYDOCKER_TRY_CTX(base::write_file(tmp, data, O_CREAT), "write `{}`", tmp);
  if (::rename(tmp.c_str(), path.c_str()) < 0) {
    auto err = base::sys_error("rename `{}`", tmp);
    ::unlink(tmp.c_str());
    return err;
  }
  return base::ok();
}

// Detach keys are bytes, not text: an array of byte values keeps any sequence valid JSON.
json bytes_to_json(std::string_view bytes) {
  json a = json::array();
  for (char c : bytes) {
    a.push_back(static_cast<unsigned char>(c));
  }
  return a;
}

base::Result<std::string> get_bytes(const json& j, std::string_view what, const char* field) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) {
    return std::string();
  }
  if (!it->is_array()) {
    return bad(what, field, "an array of byte values");
  }
  std::string out;
  for (const auto& b : *it) {
    if (!b.is_number_unsigned() || b.get<uint64_t>() > 255) {
      return bad(what, field, "an array of byte values");
    }
    out.push_back(static_cast<char>(b.get<uint64_t>()));
  }
  return out;
}

base::Result<json> get_object(const json& j, std::string_view what, const char* field) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) {
    return json::object();
  }
  if (!it->is_object()) {
    return bad(what, field, "an object");
  }
  return *it;
}

// An exec ID names a file in the state dir.
bool valid_exec_id(std::string_view id) {
  if (id.empty() || id.size() > 128 || id[0] == '.') {
    return false;
  }
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (!ok) {
      return false;
    }
  }
  return true;
}

std::string exec_exit_path(const std::string& state_dir, const std::string& exec_id) {
  return state_dir + "/exec-" + exec_id + ".json";
}

}  // namespace

json AttachSpec::to_json() const {
  return json{{"fd", fd},
              {"stdin", stdin_stream},
              {"stdout", stdout_stream},
              {"stderr", stderr_stream},
              {"detach_keys", bytes_to_json(detach_keys)}};
}

base::Result<AttachSpec> AttachSpec::from_json(const json& j) {
  constexpr std::string_view kWhat = "attach";
  if (!j.is_object()) {
    return base::make_error(ErrorCode::InvalidArgument, "attach: not a JSON object");
  }
  AttachSpec a;
  int64_t fd = MYDOCKER_TRY(get_int(j, kWhat, "fd", -1));
  if (fd < -1 || fd > INT32_MAX) {
    return bad(kWhat, "fd", "a descriptor number");
  }
  a.fd = static_cast<int>(fd);
  a.stdin_stream = MYDOCKER_TRY(get_bool(j, kWhat, "stdin"));
  a.stdout_stream = MYDOCKER_TRY(get_bool(j, kWhat, "stdout"));
  a.stderr_stream = MYDOCKER_TRY(get_bool(j, kWhat, "stderr"));
  a.detach_keys = MYDOCKER_TRY(get_bytes(j, kWhat, "detach_keys"));
  return a;
}

json ExecSpec::to_json() const {
  return json{{"id", id}, {"process", process}, {"open_stdin", open_stdin}};
}

base::Result<ExecSpec> ExecSpec::from_json(const json& j) {
  constexpr std::string_view kWhat = "exec";
  if (!j.is_object()) {
    return base::make_error(ErrorCode::InvalidArgument, "exec: not a JSON object");
  }
  ExecSpec e;
  e.id = MYDOCKER_TRY(get_string(j, kWhat, "id", true));
  if (!valid_exec_id(e.id)) {
    return bad(kWhat, "id", "letters, digits, `_`, `-` and `.` (not first)");
  }
  auto process = j.find("process");
  if (process == j.end() || !process->is_object()) {
    return bad(kWhat, "process", "an object");
  }
  e.process = *process;
  e.open_stdin = MYDOCKER_TRY(get_bool(j, kWhat, "open_stdin"));
  return e;
}

json ControlRequest::to_json() const {
  json j{{"op", op}};
  if (op == "resize") {
    j["exec_id"] = exec_id;
    j["height"] = height;
    j["width"] = width;
  }
  if (op == "attach" || op == "exec") {
    j["attach"] = attach.to_json();
  }
  if (op == "exec") {
    j["exec"] = exec.to_json();
  }
  return j;
}

base::Result<ControlRequest> ControlRequest::from_json(const json& j) {
  constexpr std::string_view kWhat = "control request";
  if (!j.is_object()) {
    return base::make_error(ErrorCode::InvalidArgument, "control request: not a JSON object");
  }
  ControlRequest r;
  r.op = MYDOCKER_TRY(get_string(j, kWhat, "op", true));
  if (r.op == "resize") {
    r.exec_id = MYDOCKER_TRY(get_string(j, kWhat, "exec_id", false));
    int64_t h = MYDOCKER_TRY(get_int(j, kWhat, "height", 0));
    int64_t w = MYDOCKER_TRY(get_int(j, kWhat, "width", 0));
    if (h < 0 || h > 65535) {
      return bad(kWhat, "height", "between 0 and 65535");
    }
    if (w < 0 || w > 65535) {
      return bad(kWhat, "width", "between 0 and 65535");
    }
    r.height = static_cast<int>(h);
    r.width = static_cast<int>(w);
    return r;
  }
  if (r.op != "attach" && r.op != "exec") {
    return base::make_error(ErrorCode::InvalidArgument, "control request: unknown op `{}`", r.op);
  }
  json attach = MYDOCKER_TRY(get_object(j, kWhat, "attach"));
  r.attach = MYDOCKER_TRY(AttachSpec::from_json(attach));
  if (r.op == "exec") {
    auto exec = j.find("exec");
    if (exec == j.end()) {
      return base::make_error(ErrorCode::InvalidArgument, "control request: `exec` is missing");
    }
    r.exec = MYDOCKER_TRY(ExecSpec::from_json(*exec));
  }
  return r;
}

json ControlReply::to_json() const {
  json j = json::object();
  if (!error.empty()) {
    j["error"] = error;
    j["code"] = code;
  }
  if (pid > 0) {
    j["pid"] = pid;
  }
  return j;
}

base::Result<ControlReply> ControlReply::from_json(const json& j) {
  constexpr std::string_view kWhat = "control reply";
  if (!j.is_object()) {
    return base::make_error(ErrorCode::InvalidArgument, "control reply: not a JSON object");
  }
  ControlReply r;
  r.error = MYDOCKER_TRY(get_string(j, kWhat, "error", false));
  int64_t code = MYDOCKER_TRY(get_int(j, kWhat, "code", 0));
  if (code < 0 || code > static_cast<int64_t>(ErrorCode::Internal)) {
    return bad(kWhat, "code", "an error code");
  }
  r.code = static_cast<int>(code);
  r.pid = MYDOCKER_TRY(get_int(j, kWhat, "pid", 0));
  return r;
}

json ExecExit::to_json() const {
  return json{{"exit_code", exit_code}};
}

base::Result<ExecExit> ExecExit::from_json(const json& j) {
  if (!j.is_object()) {
    return base::make_error(ErrorCode::InvalidArgument, "exec exit: not a JSON object");
  }
  auto code = j.find("exit_code");
  if (code == j.end() || !code->is_number_integer()) {
    return bad("exec exit", "exit_code", "an integer");
  }
  ExecExit e;
  e.exit_code = code->get<int64_t>();
  return e;
}

json ShimConfig::to_json() const {
  json j{{"id", id},
         {"bundle", bundle},
         {"runtime_root", runtime_root},
         {"state_dir", state_dir},
         {"log_path", log_path},
         {"log_max_size", log_max_size},
         {"log_max_files", log_max_files},
         {"tty", tty}};
  if (open_stdin) {
    j["open_stdin"] = true;
  }
  if (stdin_once) {
    j["stdin_once"] = true;
  }
  if (!attaches.empty()) {
    json a = json::array();
    for (const auto& spec : attaches) {
      a.push_back(spec.to_json());
    }
    j["attaches"] = std::move(a);
  }
  return j;
}

base::Result<ShimConfig> ShimConfig::from_json(const json& j) {
  constexpr std::string_view kWhat = "shim config";
  if (!j.is_object()) {
    return base::make_error(ErrorCode::InvalidArgument, "shim config: not a JSON object");
  }
  ShimConfig c;
  c.id = MYDOCKER_TRY(get_string(j, kWhat, "id", true));
  c.bundle = MYDOCKER_TRY(get_string(j, kWhat, "bundle", true));
  c.runtime_root = MYDOCKER_TRY(get_string(j, kWhat, "runtime_root", true));
  c.state_dir = MYDOCKER_TRY(get_string(j, kWhat, "state_dir", true));
  c.log_path = MYDOCKER_TRY(get_string(j, kWhat, "log_path", false));
  c.log_max_size = MYDOCKER_TRY(get_int(j, kWhat, "log_max_size", 0));
  c.log_max_files = MYDOCKER_TRY(get_int(j, kWhat, "log_max_files", 1));
  c.tty = MYDOCKER_TRY(get_bool(j, kWhat, "tty"));
  c.open_stdin = MYDOCKER_TRY(get_bool(j, kWhat, "open_stdin"));
  c.stdin_once = MYDOCKER_TRY(get_bool(j, kWhat, "stdin_once"));
  auto attaches = j.find("attaches");
  if (attaches != j.end() && !attaches->is_null()) {
    if (!attaches->is_array()) {
      return bad(kWhat, "attaches", "an array");
    }
    for (const auto& a : *attaches) {
      AttachSpec spec = MYDOCKER_TRY_CTX(AttachSpec::from_json(a), "shim config: `attaches`");
      if (spec.fd != kFirstAttachFd + static_cast<int>(c.attaches.size())) {
        return bad(kWhat, "attaches", "numbered from the first attach descriptor, in order");
      }
      c.attaches.push_back(std::move(spec));
    }
  }
  if (c.id.empty() || c.bundle.empty() || c.runtime_root.empty() || c.state_dir.empty()) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "shim config: `id`, `bundle`, `runtime_root` and `state_dir` must "
                            "not be empty");
  }
  if (c.log_max_size < 0) {
    return bad(kWhat, "log_max_size", "at least 0");
  }
  if (c.log_max_files < 1) {
    return bad(kWhat, "log_max_files", "at least 1");
  }
  return c;
}

json ReadyMessage::to_json() const {
  json j{{"pid", pid}};
  if (!error.empty()) {
    j["error"] = error;
  }
  return j;
}

base::Result<ReadyMessage> ReadyMessage::from_json(const json& j) {
  constexpr std::string_view kWhat = "shim ready message";
  if (!j.is_object()) {
    return base::make_error(ErrorCode::InvalidArgument, "shim ready message: not a JSON object");
  }
  ReadyMessage m;
  m.pid = MYDOCKER_TRY(get_int(j, kWhat, "pid", 0));
  m.error = MYDOCKER_TRY(get_string(j, kWhat, "error", false));
  if (m.error.empty() && m.pid <= 0) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "shim ready message: neither a pid nor an error");
  }
  return m;
}

json ExitStatus::to_json() const {
  return json{{"exit_code", exit_code}, {"finished_at", finished_at}, {"oom_killed", oom_killed}};
}

base::Result<ExitStatus> ExitStatus::from_json(const json& j) {
  constexpr std::string_view kWhat = "exit status";
  if (!j.is_object()) {
    return base::make_error(ErrorCode::InvalidArgument, "exit status: not a JSON object");
  }
  ExitStatus s;
  auto code = j.find("exit_code");
  if (code == j.end() || !code->is_number_integer()) {
    return bad(kWhat, "exit_code", "an integer");
  }
  s.exit_code = code->get<int64_t>();
  s.finished_at = MYDOCKER_TRY(get_string(j, kWhat, "finished_at", false));
  s.oom_killed = MYDOCKER_TRY(get_bool(j, kWhat, "oom_killed"));
  return s;
}

base::Result<void> write_config(const std::string& state_dir, const ShimConfig& config) {
  return replace_file(state_dir + "/" + kShimConfigFile, config.to_json().dump());
}

base::Result<ShimConfig> read_config(const std::string& path) {
  std::string text = MYDOCKER_TRY_CTX(base::read_file(path), "read shim config `{}`", path);
  json j = MYDOCKER_TRY_CTX(parse_object(text, "shim config"), "`{}`", path);
  return MYDOCKER_TRY_CTX(ShimConfig::from_json(j), "`{}`", path);
}

base::Result<void> write_exit(const std::string& state_dir, const ExitStatus& status) {
  // Durable (temp + fsync + rename + fsync of the dir): how a container ended is a record.
  return base::write_file_atomic(state_dir + "/" + kExitFile, status.to_json().dump(), 0600);
}

base::Result<ExitStatus> read_exit(const std::string& state_dir) {
  std::string path = state_dir + "/" + kExitFile;
  auto text = base::read_file(path);
  if (!text) {
    if (text.error().sys_errno() == ENOENT) {
      return base::make_error(ErrorCode::NotFound, "no exit status recorded in `{}`", state_dir);
    }
    return std::move(text).error().wrap(fmt::format("read `{}`", path));
  }
  json j = MYDOCKER_TRY_CTX(parse_object(*text, "exit status"), "`{}`", path);
  return MYDOCKER_TRY_CTX(ExitStatus::from_json(j), "`{}`", path);
}

base::Result<void> write_pid(const std::string& state_dir, const ShimPid& pid) {
  std::string text = fmt::format("{} {}", pid.pid, pid.start_time);
  if (pid.container_pid > 0) {
    text += fmt::format(" {}", pid.container_pid);
  }
  return replace_file(state_dir + "/" + kShimPidFile, text);
}

base::Result<void> write_exec_exit(const std::string& state_dir, const std::string& exec_id,
                                   const ExecExit& exit) {
  if (!valid_exec_id(exec_id)) {
    return base::make_error(ErrorCode::InvalidArgument, "bad exec id `{}`", exec_id);
  }
  return replace_file(exec_exit_path(state_dir, exec_id), exit.to_json().dump());
}

base::Result<ExecExit> read_exec_exit(const std::string& state_dir, const std::string& exec_id) {
  if (!valid_exec_id(exec_id)) {
    return base::make_error(ErrorCode::InvalidArgument, "bad exec id `{}`", exec_id);
  }
  std::string path = exec_exit_path(state_dir, exec_id);
  auto text = base::read_file(path);
  if (!text) {
    if (text.error().sys_errno() == ENOENT) {
      return base::make_error(ErrorCode::NotFound, "exec `{}` has not exited", exec_id);
    }
    return std::move(text).error().wrap(fmt::format("read `{}`", path));
  }
  json j = MYDOCKER_TRY_CTX(parse_object(*text, "exec exit"), "`{}`", path);
  return MYDOCKER_TRY_CTX(ExecExit::from_json(j), "`{}`", path);
}

base::Result<ShimPid> read_pid(const std::string& state_dir) {
  std::string path = state_dir + "/" + kShimPidFile;
  auto text = base::read_file(path);
  if (!text) {
    if (text.error().sys_errno() == ENOENT) {
      return base::make_error(ErrorCode::NotFound, "no shim recorded in `{}`", state_dir);
    }
    return std::move(text).error().wrap(fmt::format("read `{}`", path));
  }
  auto fields = base::split(base::trim(*text), ' ');
  ShimPid p;
  std::optional<int64_t> pid;
  std::optional<uint64_t> start;
  std::optional<int64_t> container;
  if (fields.size() == 2 || fields.size() == 3) {
    pid = base::parse_int64(fields[0]);
    start = base::parse_uint64(fields[1]);
    container = fields.size() == 3 ? base::parse_int64(fields[2]) : std::optional<int64_t>(0);
  }
  if (!pid || *pid <= 0 || !start || !container || *container < 0) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "`{}`: `{}` is not \"<pid> <start time> [<container pid>]\"", path,
                            base::trim(*text));
  }
  p.pid = *pid;
  p.start_time = *start;
  p.container_pid = *container;
  return p;
}

base::Result<ProcStat> read_process_stat(int64_t pid) {
  std::string path = fmt::format("/proc/{}/stat", pid);
  auto text = base::read_file(path);
  if (!text) {
    int err = text.error().sys_errno();
    if (err == ENOENT || err == ESRCH) {
      return base::make_error(ErrorCode::NotFound, "process `{}` does not exist", pid);
    }
    return std::move(text).error();
  }
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  size_t close = text->rfind(')');
  if (close == std::string::npos || close + 2 > text->size()) {
    return base::make_error(ErrorCode::Internal, "`{}`: unexpected format", path);
  }
  auto fields = base::split(std::string_view(*text).substr(close + 2), ' ');
  // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
  if (fields.size() < 20 || fields[0].empty()) {
    return base::make_error(ErrorCode::Internal, "`{}`: unexpected format", path);
  }
  auto start = base::parse_uint64(fields[19]);
  if (!start) {
    return base::make_error(ErrorCode::Internal, "`{}`: bad start time `{}`", path, fields[19]);
  }
  ProcStat s;
  s.state = fields[0][0];
  s.start_time = *start;
  return s;
}

base::Result<uint64_t> process_start_time(int64_t pid) {
  return MYDOCKER_TRY(read_process_stat(pid)).start_time;
}

}  // namespace mydocker::engine::shim
