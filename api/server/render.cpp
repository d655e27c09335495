// SPDX-License-Identifier: Apache-2.0
#include "api/server/render.h"

#include <fmt/format.h>

#include <cstdlib>

#include "image/content/image_config.h"
#include "runtime/base/units.h"

namespace mydocker::api::server {
namespace {

// The network a container is attached to until networking lands: its mode names it
// ("default" is the bridge network in Docker's output).
std::string network_name(const engine::HostConfig& hc) {
  if (hc.network_mode.empty() || hc.network_mode == "default") {
    return "bridge";
  }
  return hc.network_mode;
}

ordered_json endpoint_settings() {
  return ordered_json{{"IPAMConfig", nullptr},   {"Links", nullptr},         {"Aliases", nullptr},
                      {"NetworkID", ""},         {"EndpointID", ""},         {"Gateway", ""},
                      {"IPAddress", ""},         {"IPPrefixLen", 0},         {"IPv6Gateway", ""},
                      {"GlobalIPv6Address", ""}, {"GlobalIPv6PrefixLen", 0}, {"MacAddress", ""},
                      {"DriverOpts", nullptr}};
}

ordered_json networks(const engine::HostConfig& hc) {
  ordered_json n = ordered_json::object();
  if (hc.network_mode.rfind("container:", 0) == 0) {
    return n;  // it shares another container's endpoints and has none of its own, as Docker
  }
  n[network_name(hc)] = endpoint_settings();
  return n;
}

int64_t unix_seconds(const std::string& rfc3339) {
  return image::content::parse_rfc3339(rfc3339).value_or(0);
}

}  // namespace

std::string dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string dump(const ordered_json& j) {
  return j.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

std::string container_command(const engine::ContainerInfo& c) {
  std::string out = c.path;
  for (const auto& a : c.args) {
    out += " ";
    if (a.find(' ') != std::string::npos) {
      out += "'" + a + "'";
    } else {
      out += a;
    }
  }
  return out;
}

ordered_json container_inspect(const engine::ContainerInfo& c) {
  const auto& s = c.state;
  bool running = s.status == engine::Status::Running || s.status == engine::Status::Paused ||
                 s.status == engine::Status::Restarting;
  ordered_json state = {{"Status", std::string(engine::status_name(s.status))},
                        {"Running", running},
                        {"Paused", s.status == engine::Status::Paused},
                        {"Restarting", s.status == engine::Status::Restarting},
                        {"OOMKilled", s.oom_killed},
                        {"Dead", s.status == engine::Status::Dead},
                        {"Pid", s.pid},
                        {"ExitCode", s.exit_code},
                        {"Error", s.error},
                        {"StartedAt", s.started_at},
                        {"FinishedAt", s.finished_at}};
  ordered_json graph_data = ordered_json::object();
  for (const auto& [k, v] : c.graph_driver_data) {
    graph_data[k] = v;
  }
  ordered_json j;
  j["Id"] = c.id;
  j["Created"] = c.created;
  j["Path"] = c.path;
  j["Args"] = c.args;
  j["State"] = std::move(state);
  j["Image"] = c.image_id;
  j["ResolvConfPath"] = c.resolv_conf_path;
  j["HostnamePath"] = c.hostname_path;
  j["HostsPath"] = c.hosts_path;
  j["LogPath"] = c.log_path;
  j["Name"] = c.name;
  j["RestartCount"] = c.restart_count;
  j["Driver"] = c.driver;
  j["Platform"] = "linux";
  j["MountLabel"] = "";
  j["ProcessLabel"] = "";
  j["AppArmorProfile"] = "";
  j["ExecIDs"] = nullptr;
  j["HostConfig"] = ordered_json(c.host_config.to_json());
  j["GraphDriver"] = {{"Data", graph_data.empty() ? ordered_json(nullptr) : graph_data},
                      {"Name", c.driver}};
  if (c.size_rw) {
    j["SizeRw"] = *c.size_rw;
  }
  if (c.size_root_fs) {
    j["SizeRootFs"] = *c.size_root_fs;
  }
  j["Mounts"] = ordered_json::array();
  j["Config"] = ordered_json(c.config.to_json());
  j["NetworkSettings"] = {{"Bridge", ""},
                          {"SandboxID", ""},
                          {"HairpinMode", false},
                          {"LinkLocalIPv6Address", ""},
                          {"LinkLocalIPv6PrefixLen", 0},
                          {"Ports", ordered_json::object()},
                          {"SandboxKey", ""},
                          {"SecondaryIPAddresses", nullptr},
                          {"SecondaryIPv6Addresses", nullptr},
                          {"EndpointID", ""},
                          {"Gateway", ""},
                          {"GlobalIPv6Address", ""},
                          {"GlobalIPv6PrefixLen", 0},
                          {"IPAddress", ""},
                          {"IPPrefixLen", 0},
                          {"IPv6Gateway", ""},
                          {"MacAddress", ""},
                          {"Networks", networks(c.host_config)}};
  if (c.network_settings.is_object()) {
    j["NetworkSettings"] = c.network_settings;
  }
  return j;
}

ordered_json container_summary(const engine::ContainerInfo& c, int64_t now_unix) {
  ordered_json labels = ordered_json::object();
  for (const auto& [k, v] : c.config.labels) {
    labels[k] = v;
  }
  ordered_json j;
  j["Id"] = c.id;
  j["Names"] = {c.name};
  j["Image"] = c.config.image;
  j["ImageID"] = c.image_id;
  j["Command"] = container_command(c);
  j["Created"] = unix_seconds(c.created);
  j["Ports"] = ordered_json::array();
  // Go's omitempty: a zero size is left out of the list item (081).
  if (c.size_rw && *c.size_rw != 0) {
    j["SizeRw"] = *c.size_rw;
  }
  if (c.size_root_fs && *c.size_root_fs != 0) {
    j["SizeRootFs"] = *c.size_root_fs;
  }
  j["Labels"] = std::move(labels);
  j["State"] = std::string(engine::status_name(c.state.status));
  j["Status"] = engine::human_status(c, now_unix);
  j["HostConfig"] = {{"NetworkMode", c.host_config.network_mode}};
  j["NetworkSettings"] = {{"Networks", networks(c.host_config)}};
  if (c.network_settings.is_object()) {
    // Docker's list: one item per binding ({IP, PrivatePort, PublicPort, Type}), an exposed
    // port without a binding as {PrivatePort, Type}.
    ordered_json ports = c.network_settings.value("Ports", ordered_json::object());
    for (auto it = ports.begin(); it != ports.end(); ++it) {
      auto slash = it.key().find('/');
      int64_t priv = std::strtoll(it.key().substr(0, slash).c_str(), nullptr, 10);
      std::string type = slash == std::string::npos ? "tcp" : it.key().substr(slash + 1);
      if (!it.value().is_array() || it.value().empty()) {
        j["Ports"].push_back({{"PrivatePort", priv}, {"Type", type}});
        continue;
      }
      for (const auto& b : it.value()) {
        j["Ports"].push_back(
            {{"IP", b.value("HostIp", "")},
             {"PrivatePort", priv},
             {"PublicPort", std::strtoll(b.value("HostPort", "0").c_str(), nullptr, 10)},
             {"Type", type}});
      }
    }
    j["NetworkSettings"] = {
        {"Networks", c.network_settings.value("Networks", ordered_json::object())}};
  }
  j["Mounts"] = ordered_json::array();
  return j;
}

std::string human_size(double bytes) {
  return base::human_size(bytes, 4);
}

}  // namespace mydocker::api::server
