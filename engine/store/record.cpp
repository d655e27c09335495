// SPDX-License-Identifier: Apache-2.0
#include "engine/store/record.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>

#include "engine/state/lifecycle.h"
#include "runtime/base/fd.h"
#include "runtime/base/file.h"

namespace mydocker::engine::store {
namespace {

using nlohmann::json;

// temp + fsync + rename (+ fsync of `dir`): after a host crash the file is the old one or the
// new one, never torn or empty; without the directory fsync it may be the old one.
base::Result<void> replace_file(const std::string& dir, const char* name, std::string_view data,
                                bool sync_dir) {
  static std::atomic<uint64_t> seq{0};
  std::string path = dir + "/" + name;
  std::string tmp = fmt::format("{}/.{}.tmp-{}-{}", dir, name, ::getpid(), seq++);
  {
    auto fd = base::Fd::open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (!fd) {
      return std::move(fd).error();
    }
    if (auto w = base::write_all(fd->get(), data); !w) {
      ::unlink(tmp.c_str());
      return std::move(w).error().wrap(fmt::format("write `{}`", tmp));
    }
    if (::fsync(fd->get()) < 0) {
      base::Error e = base::sys_error("fsync `{}`", tmp);
      ::unlink(tmp.c_str());
      return e;
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) < 0) {
    base::Error e = base::sys_error("rename `{}` to `{}`", tmp, path);
    ::unlink(tmp.c_str());
    return e;
  }
  if (sync_dir) {
    auto dfd = base::Fd::open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (!dfd) {
      return std::move(dfd).error();
    }
    if (::fsync(dfd->get()) < 0) {
      return base::sys_error("fsync `{}`", dir);
    }
  }
  return base::ok();
}

base::Error bad(std::string_view field, std::string_view want) {
  return base::make_error(base::ErrorCode::InvalidArgument,
                          "container record: `{}` is missing or not {}", field, want);
}

base::Result<std::string> get_string(const json& j, const char* key, bool required = true) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) {
      return bad(key, "a string");
    }
    return std::string();
  }
  if (!it->is_string()) {
    return bad(key, "a string");
  }
  return it->get<std::string>();
}

base::Result<int64_t> get_int(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    return int64_t{0};
  }
  if (!it->is_number_integer()) {
    return bad(key, "an integer");
  }
  return it->get<int64_t>();
}

bool get_bool(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

}  // namespace

json state_json(const ContainerState& s) {
  return json{{"Status", status_name(s.status)},
              {"Running", state::is_running(s.status)},
              {"Paused", s.status == Status::Paused},
              {"Restarting", s.status == Status::Restarting},
              {"OOMKilled", s.oom_killed},
              {"Dead", s.status == Status::Dead},
              {"Pid", s.pid},
              {"ExitCode", s.exit_code},
              {"Error", s.error},
              {"StartedAt", s.started_at},
              {"FinishedAt", s.finished_at}};
}

json config_v2_json(const Record& r) {
  const ContainerInfo& c = r.info;
  json state = state_json(c.state);
  state["RemovalInProgress"] = c.state.status == Status::Removing;
  return json{{"ID", c.id},
              {"Created", c.created},
              {"Path", c.path},
              {"Args", c.args},
              {"State", state},
              {"Image", c.image_id},
              {"Name", c.name},
              {"RestartCount", c.restart_count},
              {"Driver", c.driver},
              {"LogPath", c.log_path},
              {"HostnamePath", c.hostname_path},
              {"HostsPath", c.hosts_path},
              {"ResolvConfPath", c.resolv_conf_path},
              {"Config", c.config.to_json()},
              {"HasBeenStartedBefore", r.has_been_started_before},
              {"HasBeenManuallyStopped", r.has_been_manually_stopped}};
}

base::Result<Record> from_json(const json& j, const json& hc) {
  if (!j.is_object()) {
    return bad("(document)", "an object");
  }
  Record r;
  ContainerInfo& c = r.info;
  c.id = MYDOCKER_TRY(get_string(j, "ID"));
  if (c.id.size() != 64) {
    return bad("ID", "64 hex characters");
  }
  c.created = MYDOCKER_TRY(get_string(j, "Created"));
  c.path = MYDOCKER_TRY(get_string(j, "Path", false));
  if (auto it = j.find("Args"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) {
      return bad("Args", "an array of strings");
    }
    for (const auto& a : *it) {
      if (!a.is_string()) {
        return bad("Args", "an array of strings");
      }
      c.args.push_back(a.get<std::string>());
    }
  }
  auto st = j.find("State");
  if (st == j.end() || !st->is_object()) {
    return bad("State", "an object");
  }
  std::string status = MYDOCKER_TRY(get_string(*st, "Status"));
  auto parsed = state::parse_status(status);
  if (!parsed) {
    return bad("State.Status", "a container status");
  }
  c.state.status = *parsed;
  c.state.oom_killed = get_bool(*st, "OOMKilled");
  c.state.pid = MYDOCKER_TRY(get_int(*st, "Pid"));
  c.state.exit_code = MYDOCKER_TRY(get_int(*st, "ExitCode"));
  c.state.error = MYDOCKER_TRY(get_string(*st, "Error", false));
  c.state.started_at = MYDOCKER_TRY(get_string(*st, "StartedAt"));
  c.state.finished_at = MYDOCKER_TRY(get_string(*st, "FinishedAt"));
  c.image_id = MYDOCKER_TRY(get_string(j, "Image"));
  c.name = MYDOCKER_TRY(get_string(j, "Name"));
  c.restart_count = MYDOCKER_TRY(get_int(j, "RestartCount"));
  c.driver = MYDOCKER_TRY(get_string(j, "Driver", false));
  c.log_path = MYDOCKER_TRY(get_string(j, "LogPath", false));
  c.hostname_path = MYDOCKER_TRY(get_string(j, "HostnamePath", false));
  c.hosts_path = MYDOCKER_TRY(get_string(j, "HostsPath", false));
  c.resolv_conf_path = MYDOCKER_TRY(get_string(j, "ResolvConfPath", false));
  auto cfg = j.find("Config");
  if (cfg == j.end() || !cfg->is_object()) {
    return bad("Config", "an object");
  }
  c.config = MYDOCKER_TRY_CTX(ContainerConfig::from_json(*cfg), "container record: `Config`");
  if (!hc.is_object()) {
    return bad("HostConfig", "an object");
  }
  c.host_config = MYDOCKER_TRY_CTX(HostConfig::from_json(hc), "container record: `HostConfig`");
  r.has_been_started_before = get_bool(j, "HasBeenStartedBefore");
  r.has_been_manually_stopped = get_bool(j, "HasBeenManuallyStopped");
  return r;
}

base::Result<void> save(const std::string& dir, const Record& r) {
  // hostconfig.json's rename is made durable by the fsync of the directory after
  // config.v2.json's (one directory, one journal: ext4 commits the two renames in order). A
  // host crash before that fsync loses or damages only a record whose create or update had
  // not been answered yet.
  MYDOCKER_TRY(replace_file(dir, kHostConfigFile, r.info.host_config.to_json().dump(), false));
  return replace_file(dir, kConfigFile, config_v2_json(r).dump(), true);
}

base::Result<void> save_state(const std::string& dir, const Record& r, bool sync_dir) {
  return replace_file(dir, kConfigFile, config_v2_json(r).dump(), sync_dir);
}

base::Result<Record> load(const std::string& dir) {
  std::string cfg_path = dir + "/" + kConfigFile;
  auto text = base::read_file(cfg_path);
  if (!text) {
    if (text.error().code() == base::ErrorCode::NotFound) {
      return base::make_error(base::ErrorCode::NotFound, "no container record in `{}`", dir);
    }
    return std::move(text).error();
  }
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded()) {
    return base::make_error(base::ErrorCode::InvalidArgument, "`{}` is not valid JSON", cfg_path);
  }
  std::string hc_path = dir + "/" + kHostConfigFile;
  auto hc_text = base::read_file(hc_path);
  if (!hc_text) {
    return base::make_error(base::ErrorCode::InvalidArgument, "`{}` is unreadable: {}", hc_path,
                            hc_text.error().to_string());
  }
  json hc = json::parse(*hc_text, nullptr, false);
  if (hc.is_discarded()) {
    return base::make_error(base::ErrorCode::InvalidArgument, "`{}` is not valid JSON", hc_path);
  }
  auto r = from_json(j, hc);
  if (!r) {
    return base::make_error(base::ErrorCode::InvalidArgument, "{}: {}", cfg_path,
                            r.error().message());
  }
  return r;
}

base::Result<std::string> set_aside(const std::string& dir) {
  std::string target = dir + ".damaged";
  MYDOCKER_TRY(base::remove_all(target));
  if (::rename(dir.c_str(), target.c_str()) < 0) {
    return base::sys_error("rename `{}` to `{}`", dir, target);
  }
  return target;
}

}  // namespace mydocker::engine::store
