// SPDX-License-Identifier: Apache-2.0
// exec: POST /containers/{id}/exec, then POST /exec/{id}/start (hijacked, or Detach), then
// GET /exec/{id}/json for the exit code, which becomes the CLI's (docker's interactiveExec).
#include <unistd.h>

#include <chrono>
#include <thread>

#include "cmd/mydocker/cli.h"
#include "cmd/mydocker/interactive.h"
#include "cmd/mydocker/opts.h"

namespace mydocker::cli {

namespace {

using api::client::Client;
using api::client::Json;
using api::client::PumpEnd;

// The exec's ExitCode once it ended. The stream closes when the process' output ends; the
// daemon records the status a moment later, so a still-running exec is asked again briefly.
int exec_exit_code(const Client& client, const std::string& exec_id) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    auto r = client.exec_inspect(exec_id);
    if (!r) {
      if (r.error().code() == base::ErrorCode::Unavailable) {
        return 255;  // docker: the daemon is gone, StatusCode -1
      }
      return report(r.error());
    }
    bool running = r->value("Running", false);
    const Json& code = (*r)["ExitCode"];
    if ((!running && code.is_number()) || std::chrono::steady_clock::now() > deadline) {
      return code.is_number() ? code.get<int>() : 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace

void register_exec(CLI::App& parent, Registry& reg) {
  auto* sub = parent.add_subcommand("exec", "Execute a command in a running container");
  auto o = std::make_shared<ExecFlags>();
  sub->add_flag("-d,--detach", o->detach, "Detached mode: run command in the background");
  sub->add_option("--detach-keys", o->detach_keys,
                  "Override the key sequence for detaching a container");
  sub->add_flag("-i,--interactive", o->interactive, "Keep STDIN open even if not attached");
  sub->add_flag("-t,--tty", o->tty, "Allocate a pseudo-TTY");
  sub->add_flag("--privileged", o->privileged, "Give extended privileges to the command");
  sub->add_option("-u,--user", o->user, "Username or UID (format: \"<name|uid>[:<group|gid>]\")");
  sub->add_option("-w,--workdir", o->workdir, "Working directory inside the container");
  add_multi(sub, "-e,--env", o->env, "Set environment variables");
  add_multi(sub, "--env-file", o->env_files, "Read in a file of environment variables");
  // The container and everything after it: `exec c ls -l` keeps -l for ls.
  sub->prefix_command();
  Globals& g = reg.globals();
  reg.add(sub, [sub, o, &g]() -> int {
    std::vector<std::string> rest = sub->remaining();
    if (!rest.empty() && rest.front() == "--") {
      rest.erase(rest.begin());
    }
    if (!rest.empty() && rest.front().starts_with("-")) {
      write_err(fmt::format("unknown flag: {}\nSee 'mydocker exec --help'.\n", rest.front()));
      return 125;
    }
    if (rest.size() < 2) {
      write_err(
          "\"mydocker exec\" requires at least 2 arguments.\nSee 'mydocker exec --help'.\n\n"
          "Usage:  mydocker exec [OPTIONS] CONTAINER COMMAND [ARG...]\n\n"
          "Execute a command in a running container\n");
      return 1;
    }
    o->container = rest.front();
    o->command.assign(rest.begin() + 1, rest.end());
    SignalRelay relay;  // first: no other thread exists yet
    auto config = build_exec_config(*o, read_text_file, get_env);
    if (!config) {
      return report(config.error());
    }
    auto client = make_client(g);
    if (!client) {
      return report(client.error());
    }
    // A missing container is reported before anything else (docker inspects first).
    if (auto info = client->container_inspect(o->container); !info) {
      return report(info.error());
    }
    if (!o->detach) {
      if (auto r = check_tty((*config)["AttachStdin"].get<bool>(), o->tty); !r) {
        return report(r.error());
      }
    }
    std::optional<std::pair<int, int>> size;
    if (o->tty) {
      size = terminal_size(STDOUT_FILENO);
      if (size) {
        (*config)["ConsoleSize"] = Json::array({size->first, size->second});
      }
    }
    auto exec_id = client->exec_create(o->container, *config);
    if (!exec_id) {
      return report(exec_id.error());
    }
    Json start = {{"Detach", o->detach}, {"Tty", o->tty}};
    if (size) {
      start["ConsoleSize"] = Json::array({size->first, size->second});
    }
    if (o->detach) {
      auto r = client->exec_start_detached(*exec_id, start);
      return r ? 0 : report(r.error());
    }

    StreamSpec spec;
    spec.tty = o->tty;
    spec.stdin_ = o->interactive;
    spec.detach_keys = o->detach_keys;
    TtyResizer resizer(*client, *exec_id, true);
    bool sized = o->tty && is_terminal(STDIN_FILENO) && size.has_value();
    SignalRelay::Handlers handlers;  // exec has no --sig-proxy: signals end the CLI
    if (sized) {
      handlers.winch = [&resizer] { (void)resizer.resize(); };
    }
    if (auto r = relay.start(std::move(handlers)); !r) {
      return report(r.error());
    }
    auto conn = client->exec_start_attached(*exec_id, start);
    if (!conn) {
      return report(conn.error());
    }
    std::optional<RawTerminal> raw = enter_raw_mode(spec);
    if (sized) {
      resizer.init();
    }
    auto r = stream_stdio(*conn, spec);
    raw.reset();
    if (!r) {
      return report(r.error());
    }
    if (*r == PumpEnd::Detached) {
      write_err("read escape sequence\n");
      return 1;
    }
    return exec_exit_code(*client, *exec_id);
  });
}

}  // namespace mydocker::cli
