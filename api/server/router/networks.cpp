// SPDX-License-Identifier: Apache-2.0
// Network routes (transcripts 223-244): GET /networks, GET /networks/{id}, POST
// /networks/create, DELETE /networks/{id}, POST /networks/{id}/connect and /disconnect, POST
// /networks/prune. The work is the engine's (engine::Daemon::network_*); this file reads
// Docker's request bodies and writes Docker's answers (engine::network::to_docker_json).
#include <nlohmann/json.hpp>

#include "api/server/render.h"
#include "api/server/router.h"
#include "api/wire/filters.h"

namespace mydocker::api::server {
namespace {

using base::ErrorCode;
using nlohmann::json;

base::Error as_internal(base::Error e) {
  return base::Error(ErrorCode::Internal, e.message());
}

base::Result<wire::Filters> filters_of(const Request& req) {
  auto f = wire::parse_filters(req.query_value("filters").value_or(""));
  if (!f) {
    return as_internal(std::move(f).error());
  }
  return std::move(*f);
}

// Go's encoding/json matches field names case-insensitively; clients send Docker's casing,
// but SDKs in other languages sometimes do not.
const json* field(const json& obj, std::string_view key) {
  if (!obj.is_object()) {
    return nullptr;
  }
  if (auto it = obj.find(std::string(key)); it != obj.end()) {
    return &*it;
  }
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const std::string& k = it.key();
    if (k.size() == key.size() && std::equal(k.begin(), k.end(), key.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return &*it;
    }
  }
  return nullptr;
}

base::Error type_error(std::string_view what, std::string_view go_type) {
  return base::make_error(ErrorCode::InvalidArgument,
                          "json: cannot unmarshal into Go struct field {} of type {}", what,
                          go_type);
}

base::Result<std::string> string_field(const json& obj, std::string_view key,
                                       std::string_view where) {
  const json* v = field(obj, key);
  if (v == nullptr || v->is_null()) {
    return std::string();
  }
  if (!v->is_string()) {
    return type_error(fmt::format("{}.{}", where, key), "string");
  }
  return v->get<std::string>();
}

base::Result<bool> bool_field(const json& obj, std::string_view key, std::string_view where) {
  const json* v = field(obj, key);
  if (v == nullptr || v->is_null()) {
    return false;
  }
  if (!v->is_boolean()) {
    return type_error(fmt::format("{}.{}", where, key), "bool");
  }
  return v->get<bool>();
}

base::Result<std::optional<std::map<std::string, std::string>>> map_field(const json& obj,
                                                                          std::string_view key,
                                                                          std::string_view where) {
  const json* v = field(obj, key);
  if (v == nullptr || v->is_null()) {
    return std::optional<std::map<std::string, std::string>>();
  }
  if (!v->is_object()) {
    return type_error(fmt::format("{}.{}", where, key), "map[string]string");
  }
  std::map<std::string, std::string> out;
  for (const auto& [k, val] : v->items()) {
    if (!val.is_string()) {
      return type_error(fmt::format("{}.{}", where, key), "map[string]string");
    }
    out[k] = val.get<std::string>();
  }
  return std::optional<std::map<std::string, std::string>>(std::move(out));
}

base::Result<std::vector<std::string>> strings_field(const json& obj, std::string_view key,
                                                     std::string_view where) {
  const json* v = field(obj, key);
  std::vector<std::string> out;
  if (v == nullptr || v->is_null()) {
    return out;
  }
  if (!v->is_array()) {
    return type_error(fmt::format("{}.{}", where, key), "[]string");
  }
  for (const auto& s : *v) {
    if (!s.is_string()) {
      return type_error(fmt::format("{}.{}", where, key), "[]string");
    }
    out.push_back(s.get<std::string>());
  }
  return out;
}

// The request body as one JSON object (an empty body is an empty request).
base::Result<json> body_object(const Request& req) {
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) {
    return json::object();
  }
  json j = json::parse(req.body, nullptr, false);
  if (j.is_discarded()) {
    return base::make_error(ErrorCode::InvalidArgument, "invalid JSON: malformed request body");
  }
  if (j.is_null()) {
    return json::object();
  }
  if (!j.is_object()) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "invalid JSON: request body is not a JSON object");
  }
  return j;
}

base::Result<engine::network::CreateRequest> parse_create(const json& j) {
  constexpr std::string_view kWhere = "NetworkCreateRequest";
  engine::network::CreateRequest r;
  r.name = MYDOCKER_TRY(string_field(j, "Name", kWhere));
  r.check_duplicate = MYDOCKER_TRY(bool_field(j, "CheckDuplicate", kWhere));
  r.driver = MYDOCKER_TRY(string_field(j, "Driver", kWhere));
  r.internal = MYDOCKER_TRY(bool_field(j, "Internal", kWhere));
  r.attachable = MYDOCKER_TRY(bool_field(j, "Attachable", kWhere));
  r.ingress = MYDOCKER_TRY(bool_field(j, "Ingress", kWhere));
  r.enable_ipv6 = MYDOCKER_TRY(bool_field(j, "EnableIPv6", kWhere));
  r.config_only = MYDOCKER_TRY(bool_field(j, "ConfigOnly", kWhere));
  r.options =
      MYDOCKER_TRY(map_field(j, "Options", kWhere)).value_or(std::map<std::string, std::string>{});
  r.labels =
      MYDOCKER_TRY(map_field(j, "Labels", kWhere)).value_or(std::map<std::string, std::string>{});
  if (const json* from = field(j, "ConfigFrom"); from != nullptr && from->is_object()) {
    r.config_from = MYDOCKER_TRY(string_field(*from, "Network", "ConfigReference"));
  }
  if (const json* ipam = field(j, "IPAM"); ipam != nullptr && !ipam->is_null()) {
    if (!ipam->is_object()) {
      return type_error("NetworkCreateRequest.IPAM", "network.IPAM");
    }
    r.ipam_driver = MYDOCKER_TRY(string_field(*ipam, "Driver", "IPAM"));
    r.ipam_options = MYDOCKER_TRY(map_field(*ipam, "Options", "IPAM"));
    if (const json* config = field(*ipam, "Config"); config != nullptr && !config->is_null()) {
      if (!config->is_array()) {
        return type_error("IPAM.Config", "[]network.IPAMConfig");
      }
      for (const auto& c : *config) {
        if (!c.is_object()) {
          return type_error("IPAM.Config", "network.IPAMConfig");
        }
        engine::network::IpamConfig ic;
        ic.subnet = MYDOCKER_TRY(string_field(c, "Subnet", "IPAMConfig"));
        ic.ip_range = MYDOCKER_TRY(string_field(c, "IPRange", "IPAMConfig"));
        ic.gateway = MYDOCKER_TRY(string_field(c, "Gateway", "IPAMConfig"));
        ic.aux_addresses = MYDOCKER_TRY(map_field(c, "AuxiliaryAddresses", "IPAMConfig"))
                               .value_or(std::map<std::string, std::string>{});
        r.ipam_config.push_back(std::move(ic));
      }
    }
  }
  return r;
}

base::Result<engine::network::EndpointRequest> parse_endpoint(const json* e) {
  engine::network::EndpointRequest r;
  if (e == nullptr || e->is_null()) {
    return r;
  }
  if (!e->is_object()) {
    return type_error("NetworkConnect.EndpointConfig", "network.EndpointSettings");
  }
  constexpr std::string_view kWhere = "EndpointSettings";
  r.aliases = MYDOCKER_TRY(strings_field(*e, "Aliases", kWhere));
  r.links = MYDOCKER_TRY(strings_field(*e, "Links", kWhere));
  r.mac_address = MYDOCKER_TRY(string_field(*e, "MacAddress", kWhere));
  r.driver_opts = MYDOCKER_TRY(map_field(*e, "DriverOpts", kWhere))
                      .value_or(std::map<std::string, std::string>{});
  if (const json* ipam = field(*e, "IPAMConfig"); ipam != nullptr && !ipam->is_null()) {
    if (!ipam->is_object()) {
      return type_error("EndpointSettings.IPAMConfig", "network.EndpointIPAMConfig");
    }
    r.ipv4_address = MYDOCKER_TRY(string_field(*ipam, "IPv4Address", "EndpointIPAMConfig"));
    r.ipv6_address = MYDOCKER_TRY(string_field(*ipam, "IPv6Address", "EndpointIPAMConfig"));
  }
  return r;
}

base::Result<void> get_networks(Context& ctx, const Request& req, Response& resp) {
  auto filters = MYDOCKER_TRY(filters_of(req));
  auto list = MYDOCKER_TRY(ctx.daemon.network_list(filters));
  ordered_json out = ordered_json::array();
  for (const auto& n : list) {
    out.push_back(engine::network::to_docker_json(n, false));
  }
  resp.json(200, dump(out));
  return base::ok();
}

base::Result<void> get_network(Context& ctx, const Request& req, Response& resp) {
  std::string ref = req.param("id");
  // Only local networks exist: asking for another scope finds nothing, as dockerd's
  // findUniqueNetwork with a scope filter.
  std::string scope = req.query_value("scope").value_or("");
  if (!scope.empty() && scope != "local") {
    return base::make_error(ErrorCode::NotFound, "network {} not found", ref);
  }
  auto n = MYDOCKER_TRY(ctx.daemon.network_inspect(ref));
  resp.json(200, dump(engine::network::to_docker_json(n, true)));
  return base::ok();
}

base::Result<void> post_networks_create(Context& ctx, const Request& req, Response& resp) {
  json body = MYDOCKER_TRY(body_object(req));
  auto create = MYDOCKER_TRY(parse_create(body));
  auto r = MYDOCKER_TRY(ctx.daemon.network_create(create));
  ordered_json out;
  out["Id"] = r.id;
  out["Warning"] = r.warning;
  resp.json(201, dump(out));
  return base::ok();
}

base::Result<void> delete_network(Context& ctx, const Request& req, Response& resp) {
  MYDOCKER_TRY(ctx.daemon.network_remove(req.param("id")));
  resp.empty(204);
  return base::ok();
}

base::Result<void> post_network_connect(Context& ctx, const Request& req, Response& resp) {
  json body = MYDOCKER_TRY(body_object(req));
  engine::NetworkConnectRequest c;
  c.container = MYDOCKER_TRY(string_field(body, "Container", "NetworkConnect"));
  c.endpoint = MYDOCKER_TRY(parse_endpoint(field(body, "EndpointConfig")));
  MYDOCKER_TRY(ctx.daemon.network_connect(req.param("id"), c));
  resp.empty(200);
  return base::ok();
}

base::Result<void> post_network_disconnect(Context& ctx, const Request& req, Response& resp) {
  json body = MYDOCKER_TRY(body_object(req));
  engine::NetworkDisconnectRequest d;
  d.container = MYDOCKER_TRY(string_field(body, "Container", "NetworkDisconnect"));
  d.force = MYDOCKER_TRY(bool_field(body, "Force", "NetworkDisconnect"));
  MYDOCKER_TRY(ctx.daemon.network_disconnect(req.param("id"), d));
  resp.empty(200);
  return base::ok();
}

base::Result<void> post_networks_prune(Context& ctx, const Request& req, Response& resp) {
  auto filters = MYDOCKER_TRY(filters_of(req));
  auto names = MYDOCKER_TRY(ctx.daemon.network_prune(filters));
  ordered_json out;
  // null when nothing was deleted (transcript 243).
  out["NetworksDeleted"] = names.empty() ? ordered_json(nullptr) : ordered_json(names);
  resp.json(200, dump(out));
  return base::ok();
}

}  // namespace

std::vector<Route> network_routes() {
  return {
      {"GET", "/networks", BodyMode::Buffered, get_networks},
      {"POST", "/networks/create", BodyMode::Json, post_networks_create},
      {"POST", "/networks/prune", BodyMode::Buffered, post_networks_prune},
      {"GET", "/networks/{id}", BodyMode::Buffered, get_network},
      {"DELETE", "/networks/{id}", BodyMode::Buffered, delete_network},
      {"POST", "/networks/{id}/connect", BodyMode::Json, post_network_connect},
      {"POST", "/networks/{id}/disconnect", BodyMode::Json, post_network_disconnect},
  };
}

}  // namespace mydocker::api::server
