// SPDX-License-Identifier: Apache-2.0
// The container verbs that act on a list of containers or print a simple answer: start, stop,
// restart, kill, rm, pause, unpause, rename, wait, top, update, export, diff, container prune.
#include <fcntl.h>
#include <unistd.h>

#include <memory>

#include "cmd/mydocker/cli.h"
#include "cmd/mydocker/format.h"
#include "cmd/mydocker/interactive.h"
#include "cmd/mydocker/opts.h"
#include "cmd/mydocker/views.h"
#include "runtime/base/fd.h"
#include "runtime/base/strings.h"

namespace mydocker::cli {

namespace {

using api::client::Client;
using api::client::Json;

// docker's shape for verbs over several containers: each success prints the name as given,
// each failure prints its error; exit 1 when any failed.
int for_each(const std::vector<std::string>& names,
             const std::function<base::Result<void>(const std::string&)>& fn,
             bool print_names = true) {
  int status = 0;
  for (const auto& n : names) {
    auto r = fn(n);
    if (!r) {
      write_err(r.error().to_string() + "\n");
      status = 1;
    } else if (print_names) {
      write_out(n + "\n");
    }
  }
  return status;
}

struct Names {
  std::vector<std::string> v;
};

CLI::App* verb(CLI::App& parent, const std::string& name, const std::string& help,
               std::shared_ptr<Names> names, bool required = true) {
  auto* sub = parent.add_subcommand(name, help);
  auto* opt = sub->add_option("CONTAINER", names->v, "Containers");
  if (required) {
    opt->required();
  }
  return sub;
}

}  // namespace

void register_container_verbs(CLI::App& parent, Registry& reg, bool in_group) {
  Globals& g = reg.globals();
  (void)in_group;

  {
    auto names = std::make_shared<Names>();
    auto* sub = verb(parent, "start", "Start one or more stopped containers", names);
    auto attach = std::make_shared<bool>(false);
    auto interactive = std::make_shared<bool>(false);
    auto detach_keys = std::make_shared<std::string>();
    sub->add_flag("-a,--attach", *attach, "Attach STDOUT/STDERR and forward signals");
    sub->add_flag("-i,--interactive", *interactive, "Attach container's STDIN");
    sub->add_option("--detach-keys", *detach_keys,
                    "Override the key sequence for detaching a container");
    reg.add(sub, [names, attach, interactive, detach_keys, &g]() -> int {
      if ((*attach || *interactive) && names->v.size() > 1) {
        write_err("you cannot start and attach multiple containers at once\n");
        return 1;
      }
      auto c = make_client(g);
      if (!c) {
        return report(c.error());
      }
      if (*attach || *interactive) {
        return start_attached(*c, names->v.front(), *interactive, *detach_keys);
      }
      int status = 0;
      for (const auto& n : names->v) {
        auto r = c->container_start(n);
        if (!r) {
          write_err(r.error().to_string() + "\n");
          status = names->v.size() == 1 ? start_error_exit_code(r.error().message()) : 1;
        } else {
          write_out(n + "\n");
        }
      }
      if (status != 0 && names->v.size() > 1) {
        write_err("Error: failed to start containers: " + base::join(names->v, ", ") + "\n");
      }
      return status;
    });
  }
  for (const char* name : {"stop", "restart"}) {
    auto names = std::make_shared<Names>();
    bool is_stop = std::string_view(name) == "stop";
    auto* sub = verb(
        parent, name,
        is_stop ? "Stop one or more running containers" : "Restart one or more containers", names);
    auto timeout = std::make_shared<std::optional<int>>();
    auto signal = std::make_shared<std::string>();
    sub->add_option("-t,--time,--timeout", *timeout,
                    "Seconds to wait before killing the container");
    sub->add_option("-s,--signal", *signal, "Signal to send to the container");
    reg.add(sub, [names, timeout, signal, is_stop, &g]() -> int {
      auto c = make_client(g);
      if (!c) {
        return report(c.error());
      }
      return for_each(names->v, [&](const std::string& n) {
        return is_stop ? c->container_stop(n, *timeout, *signal)
                       : c->container_restart(n, *timeout, *signal);
      });
    });
  }
  {
    auto names = std::make_shared<Names>();
    auto* sub = verb(parent, "kill", "Kill one or more running containers", names);
    auto signal = std::make_shared<std::string>();
    sub->add_option("-s,--signal", *signal, "Signal to send to the container");
    reg.add(sub, [names, signal, &g]() -> int {
      auto c = make_client(g);
      if (!c) {
        return report(c.error());
      }
      return for_each(names->v,
                      [&](const std::string& n) { return c->container_kill(n, *signal); });
    });
  }
  {
    auto names = std::make_shared<Names>();
    auto* sub = verb(parent, "rm", "Remove one or more containers", names);
    auto force = std::make_shared<bool>(false);
    auto volumes = std::make_shared<bool>(false);
    sub->add_flag("-f,--force", *force, "Force the removal of a running container");
    sub->add_flag("-v,--volumes", *volumes, "Remove anonymous volumes of the container");
    reg.add(sub, [names, force, volumes, &g]() -> int {
      auto c = make_client(g);
      if (!c) {
        return report(c.error());
      }
      return for_each(names->v, [&](const std::string& n) -> base::Result<void> {
        auto r = c->container_remove(n, *force, *volumes);
        // `rm -f` of a missing container is quiet and successful, as docker's.
        if (!r && *force && r.error().code() == base::ErrorCode::NotFound) {
          return base::ok();
        }
        return r;
      });
    });
  }
  for (const char* name : {"pause", "unpause"}) {
    auto names = std::make_shared<Names>();
    bool pause = std::string_view(name) == "pause";
    auto* sub = verb(parent, name,
                     pause ? "Pause all processes within one or more containers"
                           : "Unpause all processes within one or more containers",
                     names);
    reg.add(sub, [names, pause, &g]() -> int {
      auto c = make_client(g);
      if (!c) {
        return report(c.error());
      }
      return for_each(names->v, [&](const std::string& n) {
        return pause ? c->container_pause(n) : c->container_unpause(n);
      });
    });
  }
  {
    auto* sub = parent.add_subcommand("rename", "Rename a container");
    auto from = std::make_shared<std::string>();
    auto to = std::make_shared<std::string>();
    sub->add_option("CONTAINER", *from)->required();
    sub->add_option("NEW_NAME", *to)->required();
    reg.add(sub, [from, to, &g]() -> int {
      auto c = make_client(g);
      if (!c) {
        return report(c.error());
      }
      auto r = c->container_rename(*from, *to);
      return r ? 0 : report(r.error());
    });
  }
  {
    auto names = std::make_shared<Names>();
    auto* sub = verb(parent, "wait",
                     "Block until one or more containers stop, then print their exit codes", names);
    reg.add(sub, [names, &g]() -> int {
      auto c = make_client(g);
      if (!c) {
        return report(c.error());
      }
      return for_each(
          names->v,
          [&](const std::string& n) -> base::Result<void> {
            Json r = MYDOCKER_TRY(c->container_wait(n, "not-running"));
            write_out(fmt::format("{}\n", r.value("StatusCode", 0)));
            return base::ok();
          },
          false);
    });
  }
  {
    auto* sub = parent.add_subcommand("top", "Display the running processes of a container");
    // One positional: once it is filled, prefix_command hands every later argument (ps's
    // options included) to remaining() in the order given.
    auto container = std::make_shared<std::string>();
    sub->add_option("CONTAINER", *container)->required();
    sub->prefix_command();
    reg.add(sub, [sub, container, &g]() -> int {
      std::vector<std::string> all = {*container};
      for (const auto& r : sub->remaining()) {
        all.push_back(r);
      }
      if (all.empty()) {
        write_err("\"mydocker top\" requires at least 1 argument.\n");
        return 1;
      }
      auto c = make_client(g);
      if (!c) {
        return report(c.error());
      }
      std::vector<std::string> ps_args(all.begin() + 1, all.end());
      auto r = c->container_top(all.front(), base::join(ps_args, " "));
      if (!r) {
        return report(r.error());
      }
      write_out(render_top(*r));
      return 0;
    });
  }
  {
    auto names = std::make_shared<Names>();
    auto* sub = verb(parent, "update", "Update configuration of one or more containers", names);
    auto o = std::make_shared<UpdateOptions>();
    sub->add_option("-m,--memory", o->memory, "Memory limit");
    sub->add_option("--memory-swap", o->memory_swap, "Swap limit equal to memory plus swap");
    sub->add_option("--cpus", o->cpus, "Number of CPUs");
    sub->add_option("-c,--cpu-shares", o->cpu_shares, "CPU shares (relative weight)");
    sub->add_option("--cpu-period", o->cpu_period, "Limit CPU CFS period");
    sub->add_option("--cpu-quota", o->cpu_quota, "Limit CPU CFS quota");
    sub->add_option("--cpuset-cpus", o->cpuset_cpus, "CPUs in which to allow execution");
    sub->add_option("--pids-limit", o->pids_limit, "Tune container pids limit");
    sub->add_option("--restart", o->restart, "Restart policy to apply when a container exits");
    reg.add(sub, [names, o, &g]() -> int {
      auto body = build_update_body(*o);
      if (!body) {
        return report(body.error());
      }
      auto c = make_client(g);
      if (!c) {
        return report(c.error());
      }
      return for_each(names->v, [&](const std::string& n) -> base::Result<void> {
        Json r = MYDOCKER_TRY(c->container_update(n, *body));
        if (r.is_object() && r.contains("Warnings") && r["Warnings"].is_array()) {
          for (const auto& w : r["Warnings"]) {
            if (w.is_string()) {
              write_err("WARNING: " + w.get<std::string>() + "\n");
            }
          }
        }
        return base::ok();
      });
    });
  }
  {
    auto* sub = parent.add_subcommand("export", "Export a container's filesystem as a tar archive");
    auto name = std::make_shared<std::string>();
    auto output = std::make_shared<std::string>();
    sub->add_option("CONTAINER", *name)->required();
    sub->add_option("-o,--output", *output, "Write to a file, instead of STDOUT");
    reg.add(sub, [name, output, &g]() -> int {
      base::Fd file;
      int fd = STDOUT_FILENO;
      if (output->empty()) {
        if (is_terminal(STDOUT_FILENO)) {
          write_err("cowardly refusing to save to a terminal. Use the -o flag or redirect\n");
          return 1;
        }
      }
      auto c = make_client(g);
      if (!c) {
        return report(c.error());
      }
      // Check the container exists before creating the output file.
      if (auto r = c->container_inspect(*name); !r) {
        return report(r.error());
      }
      if (!output->empty()) {
        auto f = base::Fd::open(*output, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (!f) {
          return report(f.error());
        }
        file = std::move(*f);
        fd = file.get();
      }
      std::optional<base::Error> write_error;
      auto r = c->container_export(*name, [&](std::string_view d) {
        auto w = base::write_all(fd, d);
        if (!w) {
          write_error = std::move(w).error();
          return false;
        }
        return true;
      });
      if (!r) {
        return report(r.error());
      }
      if (write_error) {
        return report(*write_error);
      }
      return 0;
    });
  }
  {
    auto* sub = parent.add_subcommand(
        "diff", "Inspect changes to files or directories on a container's filesystem");
    auto name = std::make_shared<std::string>();
    sub->add_option("CONTAINER", *name)->required();
    reg.add(sub, [name, &g]() -> int {
      auto c = make_client(g);
      if (!c) {
        return report(c.error());
      }
      auto r = c->container_changes(*name);
      if (!r) {
        return report(r.error());
      }
      write_out(render_changes(*r));
      return 0;
    });
  }
}

// Asks "Are you sure you want to continue? [y/N] " on stdout and reads the answer from stdin.
bool confirm(const std::string& warning) {
  write_out(warning + "\nAre you sure you want to continue? [y/N] ");
  char buf[64] = {};
  if (std::fgets(buf, sizeof(buf), stdin) == nullptr) {
    return false;
  }
  return buf[0] == 'y' || buf[0] == 'Y';
}

// Prints a prune answer's deleted list and returns the reclaimed bytes.
uint64_t print_pruned(const Json& r, const char* list_key, const char* title) {
  if (r.contains(list_key) && r[list_key].is_array() && !r[list_key].empty()) {
    std::string out = std::string(title) + "\n";
    for (const auto& item : r[list_key]) {
      if (item.is_string()) {
        out += item.get<std::string>() + "\n";
      } else if (item.is_object()) {
        if (item.contains("Untagged") && item["Untagged"].is_string()) {
          out += "untagged: " + item["Untagged"].get<std::string>() + "\n";
        }
        if (item.contains("Deleted") && item["Deleted"].is_string()) {
          out += "deleted: " + item["Deleted"].get<std::string>() + "\n";
        }
      }
    }
    write_out(out + "\n");
  }
  return r.contains("SpaceReclaimed") && r["SpaceReclaimed"].is_number()
             ? r["SpaceReclaimed"].get<uint64_t>()
             : 0;
}

void register_container_prune(CLI::App& parent, Registry& reg) {
  auto* sub = parent.add_subcommand("prune", "Remove all stopped containers");
  auto force = std::make_shared<bool>(false);
  auto filters = std::make_shared<std::vector<std::string>>();
  sub->add_flag("-f,--force", *force, "Do not prompt for confirmation");
  add_multi(sub, "--filter", *filters, "Provide filter values (e.g. \"until=<timestamp>\")");
  Globals& g = reg.globals();
  reg.add(sub, [force, filters, &g]() -> int {
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
    if (!*force && !confirm("WARNING! This will remove all stopped containers.")) {
      return 0;
    }
    auto r = c->containers_prune(f);
    if (!r) {
      return report(r.error());
    }
    uint64_t space = print_pruned(*r, "ContainersDeleted", "Deleted Containers:");
    write_out("Total reclaimed space: " + human_size(static_cast<double>(space), 4) + "\n");
    return 0;
  });
}

}  // namespace mydocker::cli
