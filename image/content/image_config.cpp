// SPDX-License-Identifier: Apache-2.0
#include "image/content/image_config.h"

#include "image/content/json_reader.h"

namespace mydocker::image::content {
namespace {

using base::ErrorCode;
using base::make_error;
using detail::JsonReader;
using nlohmann::json;

constexpr std::string_view kDoc = "invalid image config";

base::Result<RunConfig> parse_run_config(const json& j, const std::string& prefix) {
  JsonReader r(j, std::string(kDoc), prefix);
  MYDOCKER_TRY(r.check_object());
  RunConfig c;
  MYDOCKER_TRY(r.str("User", c.user));
  MYDOCKER_TRY(r.key_set("ExposedPorts", c.exposed_ports));
  MYDOCKER_TRY(r.str_list("Env", c.env));
  MYDOCKER_TRY(r.opt_str_list("Entrypoint", c.entrypoint));
  MYDOCKER_TRY(r.opt_str_list("Cmd", c.cmd));
  MYDOCKER_TRY(r.key_set("Volumes", c.volumes));
  MYDOCKER_TRY(r.str("WorkingDir", c.working_dir));
  MYDOCKER_TRY(r.str_map("Labels", c.labels));
  MYDOCKER_TRY(r.str("StopSignal", c.stop_signal));
  MYDOCKER_TRY(r.opt_boolean("ArgsEscaped", c.args_escaped));
  MYDOCKER_TRY(r.str_list("OnBuild", c.on_build));
  MYDOCKER_TRY(r.str_list("Shell", c.shell));
  if (const json* h = r.member("Healthcheck")) {
    c.healthcheck = *h;
  }
  c.extra = r.extra();
  return c;
}

json key_set_json(const std::set<std::string>& keys) {
  json out = json::object();
  for (const std::string& k : keys) {
    out[k] = json::object();
  }
  return out;
}

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

}  // namespace

base::Result<RunConfig> RunConfig::from_json(const json& j) {
  return parse_run_config(j, "config.");
}

json RunConfig::to_json() const {
  json out = detail::start_object(extra);
  if (!user.empty()) {
    out["User"] = user;
  }
  if (!exposed_ports.empty()) {
    out["ExposedPorts"] = key_set_json(exposed_ports);
  }
  if (!env.empty()) {
    out["Env"] = env;
  }
  if (entrypoint) {
    out["Entrypoint"] = *entrypoint;
  }
  if (cmd) {
    out["Cmd"] = *cmd;
  }
  if (!volumes.empty()) {
    out["Volumes"] = key_set_json(volumes);
  }
  if (!working_dir.empty()) {
    out["WorkingDir"] = working_dir;
  }
  if (!labels.empty()) {
    out["Labels"] = labels;
  }
  if (!stop_signal.empty()) {
    out["StopSignal"] = stop_signal;
  }
  if (args_escaped) {
    out["ArgsEscaped"] = *args_escaped;
  }
  if (!on_build.empty()) {
    out["OnBuild"] = on_build;
  }
  if (!shell.empty()) {
    out["Shell"] = shell;
  }
  if (healthcheck) {
    out["Healthcheck"] = *healthcheck;
  }
  return out;
}

base::Result<ImageConfig> ImageConfig::parse(std::string_view bytes) {
  json j = json::parse(bytes, nullptr, false);
  if (j.is_discarded()) {
    return make_error(ErrorCode::InvalidArgument, "{}: not valid JSON", kDoc);
  }
  return from_json(j);
}

base::Result<ImageConfig> ImageConfig::from_json(const json& j) {
  JsonReader r(j, std::string(kDoc), "");
  MYDOCKER_TRY(r.check_object());
  ImageConfig c;
  MYDOCKER_TRY(r.str("created", c.created));
  if (!c.created.empty() && !parse_rfc3339(c.created)) {
    return r.error("created", c.created, "an RFC 3339 time");
  }
  MYDOCKER_TRY(r.str("author", c.author));
  MYDOCKER_TRY(r.str("architecture", c.architecture, true));
  MYDOCKER_TRY(r.str("os", c.os, true));
  MYDOCKER_TRY(r.str("os.version", c.os_version));
  MYDOCKER_TRY(r.str_list("os.features", c.os_features));
  MYDOCKER_TRY(r.str("variant", c.variant));
  if (const json* cfg =
          MYDOCKER_TRY(r.typed_member("config", json::value_t::object, "an object"))) {
    c.config = MYDOCKER_TRY(parse_run_config(*cfg, "config."));
  }
  const json* rootfs =
      MYDOCKER_TRY(r.typed_member("rootfs", json::value_t::object, "an object", true));
  {
    JsonReader rr(*rootfs, std::string(kDoc), "rootfs.");
    MYDOCKER_TRY(rr.str("type", c.rootfs.type, true));
    if (c.rootfs.type != "layers") {
      return rr.error("type", c.rootfs.type, "`layers`");
    }
    std::vector<std::string> ids;
    // Docker's import of an empty tar writes no diff_ids at all; treat it as an empty list.
    MYDOCKER_TRY(rr.str_list("diff_ids", ids));
    for (size_t i = 0; i < ids.size(); ++i) {
      auto d = DiffId::parse(ids[i]);
      if (!d) {
        return make_error(ErrorCode::InvalidArgument, "{}: `rootfs.diff_ids[{}]`: {}", kDoc, i,
                          d.error().message());
      }
      c.rootfs.diff_ids.push_back(std::move(*d));
    }
  }
  if (const json* h = MYDOCKER_TRY(r.typed_member("history", json::value_t::array, "an array"))) {
    for (size_t i = 0; i < h->size(); ++i) {
      JsonReader hr((*h)[i], std::string(kDoc), fmt::format("history[{}].", i));
      MYDOCKER_TRY(hr.check_object());
      HistoryEntry e;
      MYDOCKER_TRY(hr.str("created", e.created));
      MYDOCKER_TRY(hr.str("created_by", e.created_by));
      MYDOCKER_TRY(hr.str("author", e.author));
      MYDOCKER_TRY(hr.str("comment", e.comment));
      MYDOCKER_TRY(hr.boolean("empty_layer", e.empty_layer));
      e.extra = hr.extra();
      c.history.push_back(std::move(e));
    }
  }
  MYDOCKER_TRY(r.str("parent", c.parent));
  MYDOCKER_TRY(r.str("comment", c.comment));
  MYDOCKER_TRY(r.str("container", c.container));
  if (const json* cc =
          MYDOCKER_TRY(r.typed_member("container_config", json::value_t::object, "an object"))) {
    c.container_config = MYDOCKER_TRY(parse_run_config(*cc, "container_config."));
  }
  MYDOCKER_TRY(r.str("docker_version", c.docker_version));
  c.extra = r.extra();
  return c;
}

json ImageConfig::to_json() const {
  json out = detail::start_object(extra);
  auto put = [&](const char* key, const std::string& v) {
    if (!v.empty()) {
      out[key] = v;
    }
  };
  put("created", created);
  put("author", author);
  out["architecture"] = architecture;
  out["os"] = os;
  put("os.version", os_version);
  if (!os_features.empty()) {
    out["os.features"] = os_features;
  }
  put("variant", variant);
  if (config) {
    out["config"] = config->to_json();
  }
  json ids = json::array();
  for (const DiffId& d : rootfs.diff_ids) {
    ids.push_back(d.str());
  }
  out["rootfs"] = {{"type", rootfs.type}, {"diff_ids", std::move(ids)}};
  if (!history.empty()) {
    json hs = json::array();
    for (const HistoryEntry& e : history) {
      json h = detail::start_object(e.extra);
      if (!e.created.empty()) {
        h["created"] = e.created;
      }
      if (!e.created_by.empty()) {
        h["created_by"] = e.created_by;
      }
      if (!e.author.empty()) {
        h["author"] = e.author;
      }
      if (!e.comment.empty()) {
        h["comment"] = e.comment;
      }
      if (e.empty_layer) {
        h["empty_layer"] = true;
      }
      hs.push_back(std::move(h));
    }
    out["history"] = std::move(hs);
  }
  put("parent", parent);
  put("comment", comment);
  put("container", container);
  if (container_config) {
    out["container_config"] = container_config->to_json();
  }
  put("docker_version", docker_version);
  return out;
}

std::string ImageConfig::serialize() const {
  return to_json().dump();
}

int64_t ImageConfig::created_unix() const {
  return parse_rfc3339(created).value_or(0);
}

std::optional<int64_t> parse_rfc3339(std::string_view t) {
  auto ns = parse_rfc3339_ns(t);
  if (!ns) {
    return std::nullopt;
  }
  return ns->first;
}

std::optional<std::pair<int64_t, int32_t>> parse_rfc3339_ns(std::string_view t) {
  auto digits = [&](size_t pos, size_t n) -> std::optional<int64_t> {
    if (pos + n > t.size()) {
      return std::nullopt;
    }
    int64_t v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (t[i] < '0' || t[i] > '9') {
        return std::nullopt;
      }
      v = v * 10 + (t[i] - '0');
    }
    return v;
  };
  // YYYY-MM-DDTHH:MM:SS
  if (t.size() < 20 || t[4] != '-' || t[7] != '-' || (t[10] != 'T' && t[10] != 't') ||
      t[13] != ':' || t[16] != ':') {
    return std::nullopt;
  }
  auto y = digits(0, 4);
  auto mo = digits(5, 2);
  auto d = digits(8, 2);
  auto h = digits(11, 2);
  auto mi = digits(14, 2);
  auto s = digits(17, 2);
  if (!y || !mo || !d || !h || !mi || !s || *mo < 1 || *mo > 12 || *d < 1 || *d > 31 || *h > 23 ||
      *mi > 59 || *s > 60) {
    return std::nullopt;
  }
  size_t pos = 19;
  int32_t nanos = 0;
  if (pos < t.size() && t[pos] == '.') {
    ++pos;
    size_t start = pos;
    int32_t scale = 100000000;
    while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') {
      nanos += static_cast<int32_t>(t[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) {
      return std::nullopt;
    }
  }
  int64_t offset = 0;
  if (pos < t.size() && (t[pos] == 'Z' || t[pos] == 'z')) {
    ++pos;
  } else if (pos < t.size() && (t[pos] == '+' || t[pos] == '-')) {
    auto oh = digits(pos + 1, 2);
    if (!oh || pos + 3 >= t.size() || t[pos + 3] != ':') {
      return std::nullopt;
    }
    auto om = digits(pos + 4, 2);
    if (!om) {
      return std::nullopt;
    }
    offset = (*oh * 3600 + *om * 60) * (t[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != t.size()) {
    return std::nullopt;
  }
  int64_t days = days_from_civil(*y, static_cast<unsigned>(*mo), static_cast<unsigned>(*d));
  return std::pair<int64_t, int32_t>(days * 86400 + *h * 3600 + *mi * 60 + *s - offset, nanos);
}

std::string format_rfc3339_nano(int64_t seconds, int32_t nanos) {
  int64_t days = seconds >= 0 ? seconds / 86400 : -((-seconds + 86399) / 86400);
  int64_t rem = seconds - days * 86400;
  // civil_from_days (Howard Hinnant)
  int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2 ? 1 : 0;
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", y, m, d, rem / 3600,
                                (rem % 3600) / 60, rem % 60);
  if (nanos > 0) {
    std::string frac = fmt::format("{:09}", nanos);
    while (!frac.empty() && frac.back() == '0') {
      frac.pop_back();
    }
    out += "." + frac;
  }
  return out + "Z";
}

}  // namespace mydocker::image::content
