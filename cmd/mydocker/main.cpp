// SPDX-License-Identifier: Apache-2.0
// mydocker: the CLI. Argument parsing and wiring only; each verb lives in its own file.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <string>
#include <vector>

#include "cmd/mydocker/cli.h"

namespace {

// "container ls": the names of the subcommands parsed so far.
std::string command_path(const CLI::App& app) {
  std::string path;
  const CLI::App* cur = &app;
  for (;;) {
    auto subs = cur->get_subcommands();
    if (subs.empty()) {
      return path;
    }
    cur = subs.front();
    path += (path.empty() ? "" : " ") + cur->get_name();
  }
}

}  // namespace

using mydocker::cli::Globals;
using mydocker::cli::Registry;

int main(int argc, char** argv) {
  CLI::App app{"A self-sufficient runtime for containers", "mydocker"};
  Globals globals;
  app.add_option("-H,--host", globals.host, "Daemon socket to connect to");
  app.add_flag("-D,--debug", globals.debug, "Enable debug mode");
  app.set_version_flag("-v,--version", "mydocker version 0.1.0");
  app.require_subcommand(0, 1);
  Registry reg(globals);

  namespace cli = mydocker::cli;
  cli::register_run(app, reg);
  cli::register_create(app, reg);
  cli::register_container_verbs(app, reg, false);
  cli::register_ps(app, reg, "ps");
  cli::register_logs(app, reg);
  cli::register_inspect(app, reg, "");
  cli::register_image_verbs(app, reg, false);
  cli::register_pull(app, reg);
  cli::register_push(app, reg);
  cli::register_login(app, reg);
  cli::register_logout(app, reg);
  cli::register_system_verbs(app, reg, false);
  cli::register_attach(app, reg);
  cli::register_exec(app, reg);
  cli::register_events(app, reg);
  cli::register_stats(app, reg);
  cli::register_build(app, reg);
  cli::register_builder(app, reg);
  cli::register_network(app, reg);
  cli::register_port(app, reg);

  auto* container = app.add_subcommand("container", "Manage containers");
  cli::register_run(*container, reg);
  cli::register_create(*container, reg);
  cli::register_container_verbs(*container, reg, true);
  cli::register_ps(*container, reg, "ls");
  cli::register_logs(*container, reg);
  cli::register_inspect(*container, reg, "container");
  cli::register_container_prune(*container, reg);
  cli::register_attach(*container, reg);
  cli::register_exec(*container, reg);
  cli::register_stats(*container, reg);
  cli::register_port(*container, reg);

  auto* image = app.add_subcommand("image", "Manage images");
  cli::register_image_verbs(*image, reg, true);
  cli::register_pull(*image, reg);
  cli::register_push(*image, reg);
  cli::register_build(*image, reg);

  auto* system = app.add_subcommand("system", "Manage mydocker");
  cli::register_system_verbs(*system, reg, true);
  cli::register_events(*system, reg);

  // docker's flag library takes "-H=false" for a boolean short flag; CLI11 does not. Only
  // true/false values are split, so a container command's "-w=80" stays as it is.
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") {
      for (; i < argc; ++i) {
        args.emplace_back(argv[i]);
      }
      break;
    }
    if (a.size() > 3 && a[0] == '-' && a[1] != '-' && a[2] == '=' &&
        (a.substr(3) == "true" || a.substr(3) == "false")) {
      args.push_back(a.substr(0, 2));
      args.push_back(a.substr(3));
    } else {
      args.push_back(std::move(a));
    }
  }
  std::reverse(args.begin(), args.end());  // CLI11 takes them last-first
  try {
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::RequiredError& e) {
    // docker: a missing argument is exit 1, an unknown flag 125.
    std::string path = command_path(app);
    mydocker::cli::write_err(fmt::format(
        "\"mydocker {}\" requires at least 1 argument.\nSee 'mydocker {} --help'.\n", path, path));
    return 1;
  } catch (const CLI::ExtrasError& e) {
    std::string path = command_path(app);
    std::string what = e.what();
    std::string extra = what.substr(what.rfind(' ') + 1);
    if (extra.starts_with("-")) {
      mydocker::cli::write_err(fmt::format("unknown flag: {}\nSee 'mydocker {}--help'.\n", extra,
                                           path.empty() ? "" : path + " "));
    } else {
      mydocker::cli::write_err(
          fmt::format("\"mydocker {}\" got unexpected argument {}\nSee "
                      "'mydocker {} --help'.\n",
                      path, extra, path));
    }
    return extra.starts_with("-") ? 125 : 1;
  } catch (const CLI::ParseError& e) {
    std::string path = command_path(app);
    std::string what = e.what();
    mydocker::cli::write_err(fmt::format("mydocker: {}\nSee 'mydocker {}--help'.\n", what,
                                         path.empty() ? "" : path + " "));
    return 125;
  }
  auto action = reg.selected();
  if (!action) {
    for (CLI::App* group : {container, image, system}) {
      if (group->parsed()) {
        mydocker::cli::write_out(group->help());
        return 0;
      }
    }
    mydocker::cli::write_out(app.help());
    return 0;
  }
  return (*action)();
}
