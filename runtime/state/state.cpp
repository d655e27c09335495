// SPDX-License-Identifier: Apache-2.0
#include "runtime/state/state.h"

#include <fcntl.h>
#include <unistd.h>

#include <ctime>
#include <nlohmann/json.hpp>

#include "runtime/base/fd.h"

namespace mydocker::runtime::state {

using nlohmann::json;

std::string_view status_name(Status s) {
  switch (s) {
    case Status::Creating:
      return "creating";
    case Status::Created:
      return "created";
    case Status::Running:
      return "running";
    case Status::Paused:
      return "paused";
    case Status::Stopped:
      return "stopped";
  }
  return "unknown";
}

base::Result<void> validate_id(std::string_view id) {
  bool ok = !id.empty() && id.size() <= 1024 && id != "." && id != "..";
  for (char c : id) {
    bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '_' || c == '+' || c == '-' || c == '.';
    ok = ok && allowed;
  }
  if (!ok) {
    return base::make_error(base::ErrorCode::InvalidArgument, "invalid container id `{}`", id);
  }
  return base::ok();
}

namespace {

nlohmann::ordered_json oci_object(const State& s) {
  nlohmann::ordered_json j = {
      {"ociVersion", s.oci_version},
      {"id", s.id},
      {"status", status_name(s.status)},
      {"pid", s.pid},
      {"bundle", s.bundle},
  };
  if (!s.annotations.empty()) {
    j["annotations"] = s.annotations;
  }
  return j;
}

base::Result<Status> status_from_name(std::string_view name) {
  for (Status s :
       {Status::Creating, Status::Created, Status::Running, Status::Paused, Status::Stopped}) {
    if (status_name(s) == name) {
      return s;
    }
  }
  return base::make_error(base::ErrorCode::InvalidArgument, "state.json: status: unknown `{}`",
                          name);
}

}  // namespace

std::string to_json(const State& s) {
  nlohmann::ordered_json j = oci_object(s);
  j["mydocker"] = {
      {"initStartTime", s.init_start_time},
      {"cgroupsPath", s.cgroups_path},
      {"created", s.created},
      {"owner", s.owner},
  };
  return j.dump();
}

std::string to_oci_json(const State& s) {
  return oci_object(s).dump(2);
}

base::Result<State> from_json(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return base::make_error(base::ErrorCode::InvalidArgument, "state.json: not a JSON object");
  }
  State s;
  auto get_string = [&](const json& obj, const char* key, std::string& out,
                        bool required) -> base::Result<void> {
    auto it = obj.find(key);
    if (it == obj.end()) {
      if (required) {
        return base::make_error(base::ErrorCode::InvalidArgument, "state.json: `{}` missing", key);
      }
      return base::ok();
    }
    if (!it->is_string()) {
      return base::make_error(base::ErrorCode::InvalidArgument, "state.json: `{}` is not a string",
                              key);
    }
    out = it->get<std::string>();
    return base::ok();
  };
  auto get_uint = [&](const json& obj, const char* key, uint64_t& out) -> base::Result<void> {
    auto it = obj.find(key);
    if (it == obj.end()) {
      return base::ok();
    }
    if (!it->is_number_unsigned() && !(it->is_number_integer() && it->get<int64_t>() >= 0)) {
      return base::make_error(base::ErrorCode::InvalidArgument,
                              "state.json: `{}` is not a non-negative integer", key);
    }
    out = it->get<uint64_t>();
    return base::ok();
  };
  MYDOCKER_TRY(get_string(j, "ociVersion", s.oci_version, true));
  MYDOCKER_TRY(get_string(j, "id", s.id, true));
  MYDOCKER_TRY(get_string(j, "bundle", s.bundle, true));
  std::string status;
  MYDOCKER_TRY(get_string(j, "status", status, true));
  s.status = MYDOCKER_TRY(status_from_name(status));
  uint64_t pid = 0;
  MYDOCKER_TRY(get_uint(j, "pid", pid));
  s.pid = static_cast<pid_t>(pid);
  if (auto it = j.find("annotations"); it != j.end()) {
    if (!it->is_object()) {
      return base::make_error(base::ErrorCode::InvalidArgument,
                              "state.json: `annotations` is not an object");
    }
    for (const auto& [k, v] : it->items()) {
      if (!v.is_string()) {
        return base::make_error(base::ErrorCode::InvalidArgument,
                                "state.json: annotation `{}` is not a string", k);
      }
      s.annotations[k] = v.get<std::string>();
    }
  }
  if (auto it = j.find("mydocker"); it != j.end() && it->is_object()) {
    MYDOCKER_TRY(get_uint(*it, "initStartTime", s.init_start_time));
    MYDOCKER_TRY(get_string(*it, "cgroupsPath", s.cgroups_path, false));
    MYDOCKER_TRY(get_string(*it, "created", s.created, false));
    uint64_t owner = 0;
    MYDOCKER_TRY(get_uint(*it, "owner", owner));
    s.owner = static_cast<uint32_t>(owner);
  }
  return s;
}

Status derive_status(const Observed& o) {
  if (!o.init_alive) {
    return Status::Stopped;
  }
  if (o.frozen) {
    return Status::Paused;
  }
  return o.fifo_exists ? Status::Created : Status::Running;
}

base::Result<void> write_file_replace(const std::string& path, std::string_view data, mode_t mode) {
  std::string tmp = fmt::format("{}.tmp-{}", path, ::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    return base::sys_error("create `{}`", tmp);
  }
  auto written = base::write_all(fd, data);
  ::close(fd);
  if (!written) {
    ::unlink(tmp.c_str());
    return std::move(written).error().wrap(fmt::format("write `{}`", tmp));
  }
  if (::rename(tmp.c_str(), path.c_str()) < 0) {
    auto err = base::sys_error("rename `{}` to `{}`", tmp, path);
    ::unlink(tmp.c_str());
    return err;
  }
  return base::ok();
}

std::string now_rfc3339() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  tm t{};
  ::gmtime_r(&ts.tv_sec, &t);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &t);
  return fmt::format("{}.{:09d}Z", buf, ts.tv_nsec);
}

}  // namespace mydocker::runtime::state
