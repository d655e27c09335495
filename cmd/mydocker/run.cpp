// SPDX-License-Identifier: Apache-2.0
// run and create.
//
// The foreground run, as docker's CLI does it (interactive.h):
//
//   CLI                                    daemon
//    | POST /containers/create  ----------> |   (--rm: HostConfig.AutoRemove)
//    | POST /containers/{id}/attach  ------> |   hijacked: 101, then the streams
//    | POST /containers/{id}/wait?condition=next-exit (removed with --rm; second connection,
//    |                            --------> |    head read first: the waiter exists)
//    | POST /containers/{id}/start -------> |
//    | POST /containers/{id}/resize (-t on a terminal, and on SIGWINCH)
//    | <====== stdin / stdout / stderr =====> |  until the daemon closes the stream
//    | <------------- wait body {"StatusCode":N}
//    exit N
#include <unistd.h>

#include <memory>

#include "cmd/mydocker/cli.h"
#include "cmd/mydocker/interactive.h"
#include "cmd/mydocker/opts.h"
#include "runtime/base/strings.h"

namespace mydocker::cli {

namespace {

using api::client::Client;
using api::client::Json;

void add_create_flags(CLI::App* sub, RunOptions& o) {
  sub->set_help_flag("--help", "Print usage");
  sub->add_option("--name", o.name, "Assign a name to the container");
  add_multi(sub, "-e,--env", o.env, "Set environment variables");
  add_multi(sub, "--env-file", o.env_files, "Read in a file of environment variables");
  sub->add_option("-w,--workdir", o.workdir, "Working directory inside the container");
  sub->add_option("-u,--user", o.user, "Username or UID (format: <name|uid>[:<group|gid>])");
  sub->add_option("-h,--hostname", o.hostname, "Container host name");
  add_multi(sub, "-l,--label", o.labels, "Set meta data on a container");
  sub->add_option("--entrypoint", o.entrypoint, "Overwrite the default ENTRYPOINT of the image");
  sub->add_option("--restart", o.restart, "Restart policy to apply when a container exits");
  sub->add_option("-m,--memory", o.memory, "Memory limit");
  sub->add_option("--memory-swap", o.memory_swap,
                  "Swap limit equal to memory plus swap: '-1' to enable unlimited swap");
  sub->add_option("--cpus", o.cpus, "Number of CPUs");
  sub->add_option("-c,--cpu-shares", o.cpu_shares, "CPU shares (relative weight)");
  sub->add_option("--cpuset-cpus", o.cpuset_cpus, "CPUs in which to allow execution (0-3, 0,1)");
  sub->add_option("--pids-limit", o.pids_limit, "Tune container pids limit (set -1 for unlimited)");
  sub->add_flag("--read-only", o.read_only, "Mount the container's root filesystem as read only");
  add_multi(sub, "--tmpfs", o.tmpfs, "Mount a tmpfs directory");
  add_multi(sub, "--cap-add", o.cap_add, "Add Linux capabilities");
  add_multi(sub, "--cap-drop", o.cap_drop, "Drop Linux capabilities");
  add_multi(sub, "--security-opt", o.security_opt, "Security Options");
  sub->add_flag("--privileged", o.privileged, "Give extended privileges to this container");
  add_multi(sub, "--ulimit", o.ulimits, "Ulimit options");
  sub->add_flag("--init", o.init, "Run an init inside the container");
  sub->add_option("--shm-size", o.shm_size, "Size of /dev/shm");
  sub->add_option("--network,--net", o.network, "Connect a container to a network");
  sub->add_option("--ip", o.ip, "IPv4 address (e.g., 172.30.100.104)");
  add_multi(sub, "--network-alias", o.network_aliases,
            "Add network-scoped alias for the container");
  add_multi(sub, "-p,--publish", o.publish, "Publish a container's port(s) to the host");
  sub->add_flag("-P,--publish-all", o.publish_all, "Publish all exposed ports to random ports");
  add_multi(sub, "--expose", o.expose, "Expose a port or a range of ports");
  add_multi(sub, "--add-host", o.add_hosts, "Add a custom host-to-IP mapping (host:ip)");
  add_multi(sub, "--dns", o.dns, "Set custom DNS servers");
  sub->add_option("--stop-signal", o.stop_signal, "Signal to stop the container");
  sub->add_option("--stop-timeout", o.stop_timeout, "Timeout (in seconds) to stop a container");
  sub->add_flag("-t,--tty", o.tty, "Allocate a pseudo-TTY");
  sub->add_flag("-i,--interactive", o.interactive, "Keep STDIN open even if not attached");
  sub->add_flag("--rm", o.rm, "Automatically remove the container when it exits");
  add_multi(sub, "-a,--attach", o.attach, "Attach to STDIN, STDOUT or STDERR");
  sub->add_option("--pull", o.pull,
                  "Pull image before running (\"always\", \"missing\", \"never\")");
  sub->add_option("--platform", o.platform, "Set platform if server is multi-platform capable");
  sub->add_flag("-q,--quiet", o.quiet, "Suppress the pull output");
  // Everything from the image on belongs to the container: `run busybox ls -l`.
  sub->prefix_command();
}

// Image and command from the arguments CLI11 left over.
base::Result<void> take_positionals(CLI::App* sub, RunOptions& o, const char* verb) {
  std::vector<std::string> rest = sub->remaining();
  if (!rest.empty() && rest.front() == "--") {
    rest.erase(rest.begin());
  }
  if (rest.empty()) {
    return base::make_error(base::ErrorCode::InvalidArgument,
                            "\"mydocker {}\" requires at least 1 argument.\nSee 'mydocker {} "
                            "--help'.",
                            verb, verb);
  }
  if (rest.front().starts_with("-")) {
    return base::make_error(base::ErrorCode::InvalidArgument,
                            "unknown flag: {}\nSee 'mydocker "
                            "{} --help'.",
                            rest.front(), verb);
  }
  o.image = rest.front();
  o.command.assign(rest.begin() + 1, rest.end());
  if (o.pull != "always" && o.pull != "missing" && o.pull != "never" && !o.pull.empty()) {
    return base::make_error(base::ErrorCode::InvalidArgument,
                            "invalid pull option: '{}': must be one of \"always\", \"missing\" "
                            "or \"never\"",
                            o.pull);
  }
  return base::ok();
}

void print_warnings(const Json& created) {
  if (created.contains("Warnings") && created["Warnings"].is_array()) {
    for (const auto& w : created["Warnings"]) {
      if (w.is_string()) {
        write_err("WARNING: " + w.get<std::string>() + "\n");
      }
    }
  }
}

// Creates the container; on failure prints docker's "docker: ..." line and returns nullopt.
std::optional<std::string> create(const Client& client, const RunOptions& o, const char* verb,
                                  bool server_auto_remove, int* exit_code) {
  auto body = build_create_body(o, server_auto_remove, read_text_file, get_env);
  if (!body) {
    write_err(
        fmt::format("mydocker: {}\nSee 'mydocker {} --help'.\n", body.error().message(), verb));
    *exit_code = 125;
    return std::nullopt;
  }
  if (o.tty) {
    // The tty starts at the terminal's size (docker's HostConfig.ConsoleSize).
    if (auto size = terminal_size(STDOUT_FILENO)) {
      (*body)["HostConfig"]["ConsoleSize"] = Json::array({size->first, size->second});
    }
  }
  auto fail = [&](const base::Error& e) {
    write_err(fmt::format("mydocker: {}\nSee 'mydocker {} --help'.\n", e.message(), verb));
    *exit_code = 125;
    return std::nullopt;
  };
  // docker pulls only for a name (not an image ID), tagged `latest` when it has neither tag
  // nor digest; the pull's output goes to stderr (stdout is the container's, or its ID).
  std::optional<image::reference::Reference> ref;
  if (auto parsed = image::reference::Reference::parse(o.image)) {
    ref = parsed->with_default_tag();
  }
  std::FILE* pull_out = o.quiet ? nullptr : stderr;
  if (o.pull == "always" && ref) {
    if (auto r = pull_image(client, *ref, o.platform, pull_out); !r) {
      return fail(r.error());
    }
  }
  auto created = client.container_create(*body, o.name, o.platform);
  if (!created && created.error().code() == base::ErrorCode::NotFound && ref &&
      (o.pull == "missing" || o.pull.empty())) {
    if (!o.quiet) {
      write_err("Unable to find image '" + ref->familiar() + "' locally\n");
    }
    if (auto r = pull_image(client, *ref, o.platform, pull_out); !r) {
      return fail(r.error());
    }
    created = client.container_create(*body, o.name, o.platform);
  }
  if (!created) {
    return fail(created.error());
  }
  print_warnings(*created);
  if (!created->contains("Id") || !(*created)["Id"].is_string()) {
    write_err("mydocker: the daemon's create answer has no Id\n");
    *exit_code = 125;
    return std::nullopt;
  }
  return (*created)["Id"].get<std::string>();
}

}  // namespace

void register_run(CLI::App& parent, Registry& reg) {
  auto* sub = parent.add_subcommand("run", "Create and run a new container from an image");
  auto o = std::make_shared<RunOptions>();
  add_create_flags(sub, *o);
  sub->add_flag("-d,--detach", o->detach, "Run container in background and print container ID");
  sub->add_option("--detach-keys", o->detach_keys,
                  "Override the key sequence for detaching a container");
  sub->add_flag("--sig-proxy", o->sig_proxy, "Proxy received signals to the process");
  Globals& g = reg.globals();
  reg.add(sub, [sub, o, &g]() -> int {
    if (auto r = take_positionals(sub, *o, "run"); !r) {
      write_err("mydocker: " + r.error().message() + "\n");
      return 125;
    }
    if (o->detach && !o->attach.empty()) {
      write_err("Conflicting options: -a and -d\n");
      return 1;
    }
    auto client = make_client(g);
    if (!client) {
      return report(client.error(), 125);
    }
    RunAttach ra;
    if (!o->detach) {
      ra.spec.tty = o->tty;
      ra.spec.stdin_ = o->interactive;
      ra.spec.stdout_ = o->attach.empty();
      ra.spec.stderr_ = o->attach.empty();
      for (const auto& a : o->attach) {
        std::string s = base::ascii_lower(a);
        ra.spec.stdin_ = ra.spec.stdin_ || s == "stdin";
        ra.spec.stdout_ = ra.spec.stdout_ || s == "stdout";
        ra.spec.stderr_ = ra.spec.stderr_ || s == "stderr";
      }
      if (auto r = check_tty(ra.spec.stdin_, ra.spec.tty); !r) {
        return report(r.error());
      }
      ra.spec.detach_keys = o->detach_keys;
      ra.sig_proxy = o->sig_proxy;
      ra.auto_remove = o->rm;
    }
    int code = 0;
    auto id = create(*client, *o, "run", true, &code);
    if (!id) {
      return code;
    }
    if (o->detach) {
      auto started = client->container_start(*id);
      if (!started) {
        std::string msg = started.error().message();
        write_err("mydocker: " + msg + "\n");
        return start_error_exit_code(msg);
      }
      write_out(*id + "\n");
      return 0;
    }
    return run_attached(*client, *id, ra);
  });
}

void register_create(CLI::App& parent, Registry& reg) {
  auto* sub = parent.add_subcommand("create", "Create a new container");
  auto o = std::make_shared<RunOptions>();
  add_create_flags(sub, *o);
  Globals& g = reg.globals();
  reg.add(sub, [sub, o, &g]() -> int {
    if (auto r = take_positionals(sub, *o, "create"); !r) {
      write_err("mydocker: " + r.error().message() + "\n");
      return 125;
    }
    auto client = make_client(g);
    if (!client) {
      return report(client.error(), 125);
    }
    int code = 0;
    // A created container is started later by someone else: the daemon removes it.
    auto id = create(*client, *o, "create", true, &code);
    if (!id) {
      return code;
    }
    write_out(*id + "\n");
    return 0;
  });
}

}  // namespace mydocker::cli
