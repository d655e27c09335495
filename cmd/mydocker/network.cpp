// SPDX-License-Identifier: Apache-2.0
// `network create|ls|inspect|rm|connect|disconnect|prune`, as docker's CLI: list sorted by
// name with NETWORK ID (12 hex) / NAME / DRIVER / SCOPE, inspect as a 4-space indented array
// (or -f per network), rm and create print what they acted on.
#include <algorithm>
#include <memory>

#include "cmd/mydocker/cli.h"
#include "cmd/mydocker/format.h"
#include "cmd/mydocker/template.h"

namespace mydocker::cli {

namespace {

using api::client::Client;
using api::client::Json;

base::Result<api::client::Filters> parse_filters(const std::vector<std::string>& args) {
  api::client::Filters f;
  for (const auto& arg : args) {
    auto kv = MYDOCKER_TRY(api::client::parse_filter_arg(arg));
    f[kv.first].push_back(kv.second);
  }
  return f;
}

void register_net_create(CLI::App& parent, Registry& reg) {
  struct Opts {
    std::string name;
    std::string driver = "bridge";
    std::vector<std::string> subnets, gateways, ip_ranges, labels, opts;
    bool internal = false;
    bool attachable = false;
  };
  auto o = std::make_shared<Opts>();
  auto* sub = parent.add_subcommand("create", "Create a network");
  sub->add_option("NETWORK", o->name, "Network name")->required();
  sub->add_option("-d,--driver", o->driver, "Driver to manage the Network");
  add_multi(sub, "--subnet", o->subnets, "Subnet in CIDR format that represents a network segment");
  add_multi(sub, "--gateway", o->gateways, "IPv4 Gateway for the master subnet");
  add_multi(sub, "--ip-range", o->ip_ranges, "Allocate container ip from a sub-range");
  add_multi(sub, "--label", o->labels, "Set metadata on a network");
  add_multi(sub, "-o,--opt", o->opts, "Set driver specific options");
  sub->add_flag("--internal", o->internal, "Restrict external access to the network");
  sub->add_flag("--attachable", o->attachable, "Enable manual container attachment");
  Globals& g = reg.globals();
  reg.add(sub, [o, &g]() -> int {
    if (o->gateways.size() > o->subnets.size() || o->ip_ranges.size() > o->subnets.size()) {
      // docker: gateways and ranges pair with subnets in order.
      return report(base::make_error(base::ErrorCode::InvalidArgument,
                                     "no matching subnet for gateway or ip-range"));
    }
    Json config = Json::array();
    for (size_t i = 0; i < o->subnets.size(); ++i) {
      Json c = {{"Subnet", o->subnets[i]}};
      if (i < o->ip_ranges.size()) {
        c["IPRange"] = o->ip_ranges[i];
      }
      if (i < o->gateways.size()) {
        c["Gateway"] = o->gateways[i];
      }
      config.push_back(std::move(c));
    }
    auto to_map = [](const std::vector<std::string>& kvs) {
      Json m = Json::object();
      for (const auto& kv : kvs) {
        auto eq = kv.find('=');
        m[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
      }
      return m;
    };
    Json body = {{"Name", o->name},
                 {"CheckDuplicate", true},
                 {"Driver", o->driver},
                 {"Internal", o->internal},
                 {"Attachable", o->attachable},
                 {"IPAM", {{"Driver", "default"}, {"Config", config}, {"Options", Json::object()}}},
                 {"Options", to_map(o->opts)},
                 {"Labels", to_map(o->labels)}};
    auto c = make_client(g);
    if (!c) {
      return report(c.error());
    }
    auto r = c->post_json("/networks/create", {}, body);
    if (!r) {
      return report(r.error());
    }
    if (r->contains("Warning") && (*r)["Warning"].is_string() &&
        !(*r)["Warning"].get<std::string>().empty()) {
      write_err((*r)["Warning"].get<std::string>() + "\n");
    }
    write_out(r->value("Id", "") + "\n");
    return 0;
  });
}

void register_net_ls(CLI::App& parent, Registry& reg) {
  struct Opts {
    bool quiet = false;
    bool no_trunc = false;
    std::string format;
    std::vector<std::string> filters;
  };
  auto o = std::make_shared<Opts>();
  auto* sub = parent.add_subcommand("ls", "List networks");
  sub->alias("list");
  sub->add_flag("-q,--quiet", o->quiet, "Only display network IDs");
  sub->add_flag("--no-trunc", o->no_trunc, "Do not truncate the output");
  sub->add_option("--format", o->format, "Pretty-print networks using a Go template");
  add_multi(sub, "-f,--filter", o->filters, "Provide filter values (e.g. 'driver=bridge')");
  Globals& g = reg.globals();
  reg.add(sub, [o, &g]() -> int {
    auto f = parse_filters(o->filters);
    if (!f) {
      return report(f.error());
    }
    auto c = make_client(g);
    if (!c) {
      return report(c.error());
    }
    api::client::Query q;
    if (!f->empty()) {
      q.emplace_back("filters", api::client::encode_filters(*f));
    }
    auto r = c->get_json("/networks", q);
    if (!r) {
      return report(r.error());
    }
    std::vector<Json> nets(r->begin(), r->end());
    std::sort(nets.begin(), nets.end(), [](const Json& a, const Json& b) {
      return a.value("Name", "") < b.value("Name", "");
    });
    std::vector<OJson> rows;
    for (const auto& n : nets) {
      std::string id = n.value("Id", "");
      OJson row;
      row["ID"] = o->no_trunc ? id : short_id(id);
      row["Name"] = n.value("Name", "");
      row["Driver"] = n.value("Driver", "");
      row["Scope"] = n.value("Scope", "");
      row["IPv6"] = n.value("EnableIPv6", false) ? "true" : "false";
      row["Internal"] = n.value("Internal", false) ? "true" : "false";
      row["CreatedAt"] = n.value("Created", "");
      rows.push_back(std::move(row));
    }
    std::string fmt_text = o->quiet            ? "{{.ID}}"
                           : o->format.empty() ? "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}"
                                               : o->format;
    OJson headers = {{"ID", "NETWORK ID"},       {"Name", "NAME"}, {"Driver", "DRIVER"},
                     {"Scope", "SCOPE"},         {"IPv6", "IPV6"}, {"Internal", "INTERNAL"},
                     {"CreatedAt", "CREATED AT"}};
    auto out = render_rows(parse_format(fmt_text), headers, rows);
    if (!out) {
      return report(out.error());
    }
    write_out(*out);
    return 0;
  });
}

void register_net_inspect(CLI::App& parent, Registry& reg) {
  struct Opts {
    std::vector<std::string> names;
    std::string format;
    bool verbose = false;  // accepted, as docker's (no swarm details to add)
  };
  auto o = std::make_shared<Opts>();
  auto* sub =
      parent.add_subcommand("inspect", "Display detailed information on one or more networks");
  sub->add_option("NETWORK", o->names, "Networks")->required();
  sub->add_option("-f,--format", o->format, "Format the output using the given Go template");
  sub->add_flag("-v,--verbose", o->verbose, "Verbose output for diagnostics");
  Globals& g = reg.globals();
  reg.add(sub, [o, &g]() -> int {
    std::optional<Template> tmpl;
    if (!o->format.empty()) {
      auto t = Template::parse(o->format);
      if (!t) {
        return report(t.error());
      }
      tmpl.emplace(std::move(*t));
    }
    auto c = make_client(g);
    if (!c) {
      return report(c.error());
    }
    int status = 0;
    OJson all = OJson::array();
    std::string out;
    std::string errors;
    for (const auto& n : o->names) {
      auto resp = c->request("GET", "/networks/" + api::client::path_escape(n));
      if (!resp) {
        if (resp.error().code() != base::ErrorCode::NotFound) {
          return report(resp.error());
        }
        errors += "Error: No such network: " + n + "\n";
        status = 1;
        continue;
      }
      auto obj = OJson::parse(resp->body, nullptr, false);
      if (obj.is_discarded()) {
        return report(base::make_error(base::ErrorCode::Internal, "malformed network `{}`", n));
      }
      if (tmpl) {
        auto s = tmpl->execute(obj);
        if (!s) {
          return report(s.error());
        }
        out += *s + "\n";
      } else {
        all.push_back(std::move(obj));
      }
    }
    write_out(tmpl ? out : (all.empty() ? "[]\n" : all.dump(4) + "\n"));
    write_err(errors);
    return status;
  });
}

void register_net_rm(CLI::App& parent, Registry& reg) {
  auto names = std::make_shared<std::vector<std::string>>();
  auto force = std::make_shared<bool>(false);
  auto* sub = parent.add_subcommand("rm", "Remove one or more networks");
  sub->alias("remove");
  sub->add_option("NETWORK", *names, "Networks")->required();
  sub->add_flag("-f,--force", *force, "Do not error if the network does not exist");
  Globals& g = reg.globals();
  reg.add(sub, [names, force, &g]() -> int {
    auto c = make_client(g);
    if (!c) {
      return report(c.error());
    }
    int status = 0;
    for (const auto& n : *names) {
      auto r = c->request("DELETE", "/networks/" + api::client::path_escape(n));
      if (!r && *force && r.error().code() == base::ErrorCode::NotFound) {
        continue;
      }
      if (!r) {
        write_err(r.error().to_string() + "\n");
        status = 1;
      } else {
        write_out(n + "\n");
      }
    }
    return status;
  });
}

void register_net_connect(CLI::App& parent, Registry& reg) {
  struct Opts {
    std::string network, container, ip;
    std::vector<std::string> aliases;
  };
  auto o = std::make_shared<Opts>();
  auto* sub = parent.add_subcommand("connect", "Connect a container to a network");
  sub->add_option("NETWORK", o->network, "Network")->required();
  sub->add_option("CONTAINER", o->container, "Container")->required();
  sub->add_option("--ip", o->ip, "IPv4 address (e.g., 172.30.100.104)");
  add_multi(sub, "--alias", o->aliases, "Add network-scoped alias for the container");
  Globals& g = reg.globals();
  reg.add(sub, [o, &g]() -> int {
    Json ep = Json::object();
    if (!o->aliases.empty()) {
      ep["Aliases"] = o->aliases;
    }
    if (!o->ip.empty()) {
      ep["IPAMConfig"] = {{"IPv4Address", o->ip}};
    }
    Json body = {{"Container", o->container}, {"EndpointConfig", ep}};
    auto c = make_client(g);
    if (!c) {
      return report(c.error());
    }
    auto r = c->request("POST", "/networks/" + api::client::path_escape(o->network) + "/connect",
                        {}, body);
    return r ? 0 : report(r.error());
  });
}

void register_net_disconnect(CLI::App& parent, Registry& reg) {
  struct Opts {
    std::string network, container;
    bool force = false;
  };
  auto o = std::make_shared<Opts>();
  auto* sub = parent.add_subcommand("disconnect", "Disconnect a container from a network");
  sub->add_option("NETWORK", o->network, "Network")->required();
  sub->add_option("CONTAINER", o->container, "Container")->required();
  sub->add_flag("-f,--force", o->force, "Force the container to disconnect from a network");
  Globals& g = reg.globals();
  reg.add(sub, [o, &g]() -> int {
    Json body = {{"Container", o->container}, {"Force", o->force}};
    auto c = make_client(g);
    if (!c) {
      return report(c.error());
    }
    auto r = c->request("POST", "/networks/" + api::client::path_escape(o->network) + "/disconnect",
                        {}, body);
    return r ? 0 : report(r.error());
  });
}

void register_net_prune(CLI::App& parent, Registry& reg) {
  auto force = std::make_shared<bool>(false);
  auto filters = std::make_shared<std::vector<std::string>>();
  auto* sub = parent.add_subcommand("prune", "Remove all unused networks");
  sub->add_flag("-f,--force", *force, "Do not prompt for confirmation");
  add_multi(sub, "--filter", *filters, "Provide filter values (e.g. 'until=<timestamp>')");
  Globals& g = reg.globals();
  reg.add(sub, [force, filters, &g]() -> int {
    auto f = parse_filters(*filters);
    if (!f) {
      return report(f.error());
    }
    auto c = make_client(g);
    if (!c) {
      return report(c.error());
    }
    if (!*force && !confirm("WARNING! This will remove all custom networks not used by at least "
                            "one container.")) {
      return 0;
    }
    api::client::Query q;
    if (!f->empty()) {
      q.emplace_back("filters", api::client::encode_filters(*f));
    }
    auto r = c->post_json("/networks/prune", q);
    if (!r) {
      return report(r.error());
    }
    (void)print_pruned(*r, "NetworksDeleted", "Deleted Networks:");
    return 0;
  });
}

}  // namespace

void register_port(CLI::App& parent, Registry& reg) {
  struct Opts {
    std::string container, port;
  };
  auto o = std::make_shared<Opts>();
  auto* sub =
      parent.add_subcommand("port", "List port mappings or a specific mapping for the container");
  sub->add_option("CONTAINER", o->container, "Container")->required();
  sub->add_option("PRIVATE_PORT", o->port, "[PRIVATE_PORT[/PROTO]]");
  Globals& g = reg.globals();
  reg.add(sub, [o, &g]() -> int {
    auto c = make_client(g);
    if (!c) {
      return report(c.error());
    }
    auto info = c->container_inspect(o->container);
    if (!info) {
      return report(info.error());
    }
    Json ports = Json::object();
    if (info->contains("NetworkSettings") && (*info)["NetworkSettings"].contains("Ports") &&
        (*info)["NetworkSettings"]["Ports"].is_object()) {
      ports = (*info)["NetworkSettings"]["Ports"];
    }
    auto line = [](const std::string& key, const Json& b) {
      return key + " -> " + b.value("HostIp", "") + ":" + b.value("HostPort", "") + "\n";
    };
    std::string out;
    if (!o->port.empty()) {
      std::string key = o->port.find('/') == std::string::npos ? o->port + "/tcp" : o->port;
      if (ports.contains(key) && ports[key].is_array() && !ports[key].empty()) {
        for (const auto& b : ports[key]) {
          out += b.value("HostIp", "") + ":" + b.value("HostPort", "") + "\n";
        }
        write_out(out);
        return 0;
      }
      std::string name = info->value("Name", "");
      if (!name.empty() && name.front() == '/') {
        name = name.substr(1);
      }
      return report(base::make_error(base::ErrorCode::NotFound,
                                     "Error: No public port '{}' published for {}", key, name));
    }
    std::vector<std::string> lines;
    for (auto it = ports.begin(); it != ports.end(); ++it) {
      if (!it.value().is_array()) {
        continue;
      }
      for (const auto& b : it.value()) {
        lines.push_back(line(it.key(), b));
      }
    }
    std::sort(lines.begin(), lines.end());
    for (const auto& l : lines) {
      out += l;
    }
    write_out(out);
    return 0;
  });
}

void register_network(CLI::App& parent, Registry& reg) {
  auto* net = parent.add_subcommand("network", "Manage networks");
  register_net_create(*net, reg);
  register_net_ls(*net, reg);
  register_net_inspect(*net, reg);
  register_net_rm(*net, reg);
  register_net_connect(*net, reg);
  register_net_disconnect(*net, reg);
  register_net_prune(*net, reg);
}

}  // namespace mydocker::cli
