// SPDX-License-Identifier: Apache-2.0
// version, info, system df, system prune.
#include <sys/utsname.h>

#include <memory>

#include "cmd/mydocker/cli.h"
#include "cmd/mydocker/format.h"
#include "cmd/mydocker/template.h"
#include "cmd/mydocker/views.h"

namespace mydocker::cli {

namespace {

using api::client::Json;

constexpr const char* kCliVersion = "0.1.0";

std::string arch() {
  struct utsname u {};
  uname(&u);
  std::string m = u.machine;
  if (m == "x86_64") {
    return "amd64";
  }
  if (m == "aarch64") {
    return "arm64";
  }
  return m;
}

std::string jstr(const Json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

std::string jnum(const Json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_number() ? j[key].dump() : "0";
}

// go-units BytesSize: binary units with 4 significant digits ("15.52GiB").
std::string bytes_size(double size) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  size_t i = 0;
  while (size >= 1024.0 && i + 1 < std::size(kUnits)) {
    size /= 1024.0;
    ++i;
  }
  return fmt::format("{:.4g}{}", size, kUnits[i]);
}

int run_template(const std::string& format, const OJson& data) {
  auto t = Template::parse(parse_format(format).tmpl);
  if (!t) {
    return report(t.error());
  }
  auto s = t->execute(data);
  if (!s) {
    return report(s.error());
  }
  write_out(*s + "\n");
  return 0;
}

}  // namespace

void register_system_verbs(CLI::App& parent, Registry& reg, bool in_group) {
  Globals& g = reg.globals();
  if (!in_group) {
    auto* sub = parent.add_subcommand("version", "Show the mydocker version information");
    auto format = std::make_shared<std::string>();
    sub->add_option("-f,--format", *format, "Format output using a custom template");
    reg.add(sub, [format, &g]() -> int {
      OJson client;
      client["Version"] = kCliVersion;
      client["ApiVersion"] = api::client::kDefaultApiVersion;
      client["Os"] = "linux";
      client["Arch"] = arch();
      OJson all;
      all["Client"] = client;
      auto c = make_client(g);
      std::optional<base::Error> err;
      OJson server;
      if (!c) {
        err = c.error();
      } else {
        auto v = c->get_json("/version");
        if (v) {
          server = OJson::parse(v->dump());
        } else {
          err = v.error();
        }
      }
      all["Server"] = server;
      if (!format->empty()) {
        int rc = run_template(*format, all);
        if (err) {
          return report(*err);
        }
        return rc;
      }
      std::string out = fmt::format(
          "Client:\n Version:           {}\n API version:       {}\n OS/Arch:           "
          "linux/{}\n",
          kCliVersion, api::client::kDefaultApiVersion, arch());
      if (!server.is_null()) {
        Json s = Json::parse(server.dump());
        out += fmt::format(
            "\nServer: mydocker\n Engine:\n  Version:          {}\n  API version:      {} "
            "(minimum version {})\n  OS/Arch:          {}/{}\n  Kernel Version:   {}\n  "
            "Experimental:     {}\n",
            jstr(s, "Version"), jstr(s, "ApiVersion"), jstr(s, "MinAPIVersion"), jstr(s, "Os"),
            jstr(s, "Arch"), jstr(s, "KernelVersion"),
            s.contains("Experimental") && s["Experimental"].is_boolean() &&
                    s["Experimental"].get<bool>()
                ? "true"
                : "false");
        if (s.contains("Components") && s["Components"].is_array()) {
          for (const auto& comp : s["Components"]) {
            std::string name = jstr(comp, "Name");
            if (name == "Engine") {
              continue;
            }
            out += fmt::format(" {}:\n  Version:          {}\n", name, jstr(comp, "Version"));
          }
        }
      }
      write_out(out);
      if (err) {
        write_err(err->to_string() + "\n");
        return 1;
      }
      return 0;
    });
  }
  {
    auto* sub = parent.add_subcommand("info", "Display system-wide information");
    auto format = std::make_shared<std::string>();
    sub->add_option("-f,--format", *format, "Format output using a custom template");
    reg.add(sub, [format, &g]() -> int {
      auto c = make_client(g);
      if (!c) {
        return report(c.error());
      }
      auto info = c->info();
      if (!info) {
        return report(info.error());
      }
      if (!format->empty()) {
        return run_template(*format, OJson::parse(info->dump()));
      }
      const Json& i = *info;
      std::string out = fmt::format(
          "Client:\n Version:    {}\n Context:    default\n Debug Mode: "
          "{}\n\nServer:\n",
          kCliVersion, g.debug ? "true" : "false");
      out += fmt::format(" Containers: {}\n  Running: {}\n  Paused: {}\n  Stopped: {}\n",
                         jnum(i, "Containers"), jnum(i, "ContainersRunning"),
                         jnum(i, "ContainersPaused"), jnum(i, "ContainersStopped"));
      out += fmt::format(" Images: {}\n", jnum(i, "Images"));
      out += fmt::format(" Server Version: {}\n", jstr(i, "ServerVersion"));
      out += fmt::format(" Storage Driver: {}\n", jstr(i, "Driver"));
      out += fmt::format(" Logging Driver: {}\n", jstr(i, "LoggingDriver"));
      out += fmt::format(" Cgroup Driver: {}\n", jstr(i, "CgroupDriver"));
      out += fmt::format(" Cgroup Version: {}\n", jstr(i, "CgroupVersion"));
      out += fmt::format(" Kernel Version: {}\n", jstr(i, "KernelVersion"));
      out += fmt::format(" Operating System: {}\n", jstr(i, "OperatingSystem"));
      out += fmt::format(" OSType: {}\n", jstr(i, "OSType"));
      out += fmt::format(" Architecture: {}\n", jstr(i, "Architecture"));
      out += fmt::format(" CPUs: {}\n", jnum(i, "NCPU"));
      double mem =
          i.contains("MemTotal") && i["MemTotal"].is_number() ? i["MemTotal"].get<double>() : 0;
      out += fmt::format(" Total Memory: {}\n", bytes_size(mem));
      out += fmt::format(" Name: {}\n", jstr(i, "Name"));
      out += fmt::format(" ID: {}\n", jstr(i, "ID"));
      out += fmt::format(" Docker Root Dir: {}\n", jstr(i, "DockerRootDir"));
      out += fmt::format(" Debug Mode: {}\n", i.value("Debug", false) ? "true" : "false");
      out += fmt::format(" Live Restore Enabled: {}\n",
                         i.value("LiveRestoreEnabled", false) ? "true" : "false");
      write_out(out);
      return 0;
    });
  }
  if (!in_group) {
    return;
  }
  {
    auto* sub = parent.add_subcommand("df", "Show mydocker disk usage");
    auto format = std::make_shared<std::string>();
    auto verbose = std::make_shared<bool>(false);
    sub->add_option("--format", *format, "Format output using a custom template");
    sub->add_flag("-v,--verbose", *verbose, "Show detailed information on space usage");
    reg.add(sub, [format, &g]() -> int {
      auto c = make_client(g);
      if (!c) {
        return report(c.error());
      }
      auto df = c->system_df();
      if (!df) {
        return report(df.error());
      }
      auto out = render_df(*df, *format);
      if (!out) {
        return report(out.error());
      }
      write_out(*out);
      return 0;
    });
  }
  {
    auto* sub = parent.add_subcommand("prune", "Remove unused data");
    auto all = std::make_shared<bool>(false);
    auto force = std::make_shared<bool>(false);
    auto volumes = std::make_shared<bool>(false);
    auto filters = std::make_shared<std::vector<std::string>>();
    sub->add_flag("-a,--all", *all, "Remove all unused images not just dangling ones");
    sub->add_flag("-f,--force", *force, "Do not prompt for confirmation");
    sub->add_flag("--volumes", *volumes, "Prune anonymous volumes");
    add_multi(sub, "--filter", *filters, "Provide filter values (e.g. \"label=<key>=<value>\")");
    reg.add(sub, [all, force, filters, &g]() -> int {
      api::client::Filters f;
      for (const auto& arg : *filters) {
        auto kv = api::client::parse_filter_arg(arg);
        if (!kv) {
          return report(kv.error());
        }
        f[kv->first].push_back(kv->second);
      }
      auto c = make_client(g);
      if (!c) {
        return report(c.error());
      }
      std::string warning = fmt::format(
          "WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by "
          "at least one container\n  - {}\n  - unused build cache\n",
          *all ? "all images without at least one container associated to them"
               : "all dangling images");
      if (!*force && !confirm(warning)) {
        return 0;
      }
      uint64_t space = 0;
      auto cr = c->containers_prune(f);
      if (!cr) {
        return report(cr.error());
      }
      space += print_pruned(*cr, "ContainersDeleted", "Deleted Containers:");
      api::client::Filters imf = f;
      imf["dangling"] = {*all ? "false" : "true"};
      auto ir = c->images_prune(imf);
      if (!ir) {
        return report(ir.error());
      }
      space += print_pruned(*ir, "ImagesDeleted", "Deleted Images:");
      write_out("Total reclaimed space: " + human_size(static_cast<double>(space), 4) + "\n");
      return 0;
    });
  }
}

}  // namespace mydocker::cli
