// SPDX-License-Identifier: Apache-2.0
// run and create.
//
// The foreground run, until attach exists:
//
//   CLI                                    daemon
//    | POST /containers/create  ----------> |   (no AutoRemove: see below)
//    | POST /containers/{id}/wait?condition=next-exit   (second connection, head read first,
//    |                            --------> |    so the waiter exists before the start)
//    | POST /containers/{id}/start -------> |
//    | GET  /containers/{id}/logs?follow=1 -> |  demultiplexed to our stdout/stderr
//    | <------------- wait body {"StatusCode":N}
//    | DELETE /containers/{id}?force=1 (--rm)
//    exit N
//
// --rm in the foreground is done by the CLI after the log stream ended (as docker's CLI did
// before API 1.25): a daemon-side AutoRemove could delete the container, and its log, before
// the logs request of a short-lived command arrives. `run -d --rm` sets HostConfig.AutoRemove.
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "cmd/mydocker/cli.h"
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
  sub->add_option("--stop-signal", o.stop_signal, "Signal to stop the container");
  sub->add_option("--stop-timeout", o.stop_timeout, "Timeout (in seconds) to stop a container");
  sub->add_flag("-t,--tty", o.tty, "Allocate a pseudo-TTY");
  sub->add_flag("-i,--interactive", o.interactive, "Keep STDIN open even if not attached");
  sub->add_flag("--rm", o.rm, "Automatically remove the container when it exits");
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
  auto created = client.container_create(*body, o.name);
  if (!created) {
    write_err(
        fmt::format("mydocker: {}\nSee 'mydocker {} --help'.\n", created.error().message(), verb));
    *exit_code = 125;
    return std::nullopt;
  }
  print_warnings(*created);
  if (!created->contains("Id") || !(*created)["Id"].is_string()) {
    write_err("mydocker: the daemon's create answer has no Id\n");
    *exit_code = 125;
    return std::nullopt;
  }
  return (*created)["Id"].get<std::string>();
}

// Forwards SIGINT/SIGTERM/SIGHUP/SIGQUIT/SIGUSR1/SIGUSR2 to the container. The signals are
// blocked in every thread; a detached thread takes them with sigwait.
sigset_t proxied_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) {
    sigaddset(&set, s);
  }
  return set;
}

// Must run before any other thread exists: threads inherit the mask, and a thread with the
// signals unblocked would take the default action (the CLI dies, the container lives on).
void block_proxied_signals() {
  sigset_t set = proxied_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void start_signal_proxy(const Client& client, const std::string& id) {
  sigset_t set = proxied_signals();
  std::thread([client, id, set] {
    for (;;) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) {
        return;
      }
      (void)client.container_kill(id, std::to_string(sig));
    }
  }).detach();
}

int run_foreground(const Client& client, const RunOptions& o, const std::string& id) {
  return start_and_follow(client, id, o.tty, o.rm, "");
}

}  // namespace

int start_and_follow(const api::client::Client& client, const std::string& id, bool tty,
                     bool remove, const std::string& since) {
  block_proxied_signals();
  // The waiter: its response head means the daemon registered it; the body carries the
  // status. Started on its own thread so a daemon that holds the head back cannot hang us.
  struct WaitState {
    std::mutex mu;  // guards everything below
    std::condition_variable cv;
    bool head_done = false;
    std::optional<Client::PendingWait> pending;
    std::optional<base::Result<Json>> result;
  };
  auto st = std::make_shared<WaitState>();
  std::thread waiter([client, id, st] {
    auto pw = client.container_wait_begin(id, "next-exit");
    if (!pw) {
      std::lock_guard lock(st->mu);
      st->head_done = true;
      st->result = base::Result<Json>(std::move(pw).error());
      st->cv.notify_all();
      return;
    }
    Client::PendingWait* p;
    {
      std::lock_guard lock(st->mu);
      st->pending.emplace(std::move(pw).value());
      p = &*st->pending;
      st->head_done = true;
      st->cv.notify_all();
    }
    auto r = p->result();
    std::lock_guard lock(st->mu);
    st->result = std::move(r);
    st->cv.notify_all();
  });
  {
    std::unique_lock lock(st->mu);
    st->cv.wait_for(lock, std::chrono::seconds(5), [&] { return st->head_done; });
  }
  auto cleanup = [&] {
    {
      std::lock_guard lock(st->mu);
      if (st->pending && !st->result) {
        st->pending->cancel();
      }
    }
    waiter.join();
    if (remove) {
      (void)client.container_remove(id, true, true);
    }
  };

  auto started = client.container_start(id);
  if (!started) {
    std::string msg = started.error().message();
    write_err("mydocker: " + msg + "\n");
    cleanup();
    return start_error_exit_code(msg);
  }
  // docker's --sig-proxy (on by default): signals to the CLI go to the container. With -t
  // too, since stdin is not attached yet and ^C reaches us, not the container's terminal.
  start_signal_proxy(client, id);
  api::client::LogsOptions lo;
  lo.follow = true;
  lo.since = since;
  auto logs =
      client.container_logs(id, lo, tty, [](api::client::StreamKind kind, std::string_view data) {
        if (kind == api::client::StreamKind::Stderr || kind == api::client::StreamKind::SystemErr) {
          write_err(data);
        } else {
          write_out(data);
        }
      });
  if (!logs && logs.error().code() != base::ErrorCode::NotFound) {
    write_err("mydocker: " + logs.error().to_string() + "\n");
  }
  waiter.join();
  int code = 125;
  {
    std::lock_guard lock(st->mu);
    if (st->result && st->result->has_value()) {
      const Json& r = st->result->value();
      if (r.contains("StatusCode") && r["StatusCode"].is_number()) {
        code = r["StatusCode"].get<int>();
      }
      if (r.contains("Error") && r["Error"].is_object() && r["Error"].contains("Message") &&
          r["Error"]["Message"].is_string() && !r["Error"]["Message"].get<std::string>().empty()) {
        write_err("mydocker: " + r["Error"]["Message"].get<std::string>() + "\n");
      }
    } else if (st->result) {
      write_err("mydocker: " + st->result->error().message() + "\n");
    }
  }
  if (remove) {
    (void)client.container_remove(id, true, true);
  }
  return code;
}

void register_run(CLI::App& parent, Registry& reg) {
  auto* sub = parent.add_subcommand("run", "Create and run a new container from an image");
  auto o = std::make_shared<RunOptions>();
  add_create_flags(sub, *o);
  sub->add_flag("-d,--detach", o->detach, "Run container in background and print container ID");
  Globals& g = reg.globals();
  reg.add(sub, [sub, o, &g]() -> int {
    if (auto r = take_positionals(sub, *o, "run"); !r) {
      write_err("mydocker: " + r.error().message() + "\n");
      return 125;
    }
    if (o->interactive) {
      write_err(
          "mydocker: -i/--interactive is not supported yet: attaching stdin arrives with "
          "the attach endpoint\n");
      return 125;
    }
    auto client = make_client(g);
    if (!client) {
      return report(client.error(), 125);
    }
    int code = 0;
    auto id = create(*client, *o, "run", o->detach, &code);
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
    return run_foreground(*client, *o, *id);
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
    if (o->interactive) {
      write_err(
          "mydocker: -i/--interactive is not supported yet: attaching stdin arrives with "
          "the attach endpoint\n");
      return 125;
    }
    auto client = make_client(g);
    if (!client) {
      return report(client.error(), 125);
    }
    int code = 0;
    // A created container is started later by someone else: the daemon removes it.
    o->detach = true;
    auto id = create(*client, *o, "create", true, &code);
    if (!id) {
      return code;
    }
    write_out(*id + "\n");
    return 0;
  });
}

}  // namespace mydocker::cli
