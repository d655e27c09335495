// SPDX-License-Identifier: Apache-2.0
// mydocker-runtime: a runc-compatible command line over the runtime library (runtime/state/
// container.h). Argument parsing and output only; every verb is one library call.
//
// Exit codes: 0 on success, 1 with one line "mydocker-runtime: <error>" on stderr; `run` and
// `exec` (without --detach) exit with the container process's code (128 + signal if killed).
#include <fcntl.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "runtime/base/file.h"
#include "runtime/process/console.h"
#include "runtime/spec/signals.h"
#include "runtime/spec/spec.h"
#include "runtime/state/container.h"

namespace {

namespace rt = mydocker::runtime;
namespace base = mydocker::base;
using nlohmann::json;

// --log / --log-format, as containerd passes them: it reads the last error from that file
// when the runtime fails (runc writes it there too).
std::string g_log_path;
std::string g_log_format = "text";

void log_error(const std::string& msg) {
  if (g_log_path.empty()) {
    return;
  }
  std::string time = rt::state::now_rfc3339();
  std::string line = g_log_format == "json"
                         ? json{{"level", "error"}, {"msg", msg}, {"time", time}}.dump() + "\n"
                         : fmt::format("time=\"{}\" level=error msg={}\n", time, json(msg).dump());
  int fd = ::open(g_log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd >= 0) {
    (void)base::write_all(fd, line);
    ::close(fd);
  }
}

int fail(const base::Error& err) {
  std::string msg = err.to_string();
  std::fprintf(stderr, "mydocker-runtime: %s\n", msg.c_str());
  log_error(msg);
  return 1;
}

// runc runs create/run in the bundle directory: relative bind sources are relative to it.
base::Result<void> enter_bundle(const std::string& bundle) {
  if (::chdir(bundle.c_str()) < 0) {
    return base::sys_error("bundle `{}`", bundle);
  }
  return base::ok();
}

std::string owner_name(uint32_t uid) {
  passwd* pw = ::getpwuid(uid);
  return pw != nullptr ? pw->pw_name : std::to_string(uid);
}

json stats_json(const std::string& id, const mydocker::runtime::cgroups::Stats& s) {
  return json{
      {"type", "stats"},
      {"id", id},
      {"data",
       {
           {"cpu",
            {{"usage",
              {{"total", s.cpu_usage_ns}, {"kernel", s.cpu_system_ns}, {"user", s.cpu_user_ns}}}}},
           {"memory",
            {{"usage",
              {{"usage", s.memory_usage}, {"max", s.memory_max_usage}, {"limit", s.memory_limit}}},
             {"oom_kill", s.oom_events}}},
           {"pids", {{"current", s.pids_current}, {"limit", s.pids_limit}}},
       }},
  };
}

// CLI11 would read options after the command of `exec ID cmd -x`; runc stops at the command.
// Insert "--" after the container id so everything after it is the command.
std::vector<std::string> protect_exec_command(std::vector<std::string> args) {
  static const std::set<std::string> kGlobalWithValue = {"--root", "--log", "--log-format",
                                                         "--criu", "--rootless"};
  static const std::set<std::string> kExecWithValue = {"--process",
                                                       "-p",
                                                       "--env",
                                                       "-e",
                                                       "--cwd",
                                                       "--user",
                                                       "-u",
                                                       "--console-socket",
                                                       "--pid-file",
                                                       "--additional-gids",
                                                       "-g",
                                                       "--cap",
                                                       "-c",
                                                       "--apparmor",
                                                       "--process-label",
                                                       "--preserve-fds",
                                                       "--cgroup"};
  size_t i = 1;
  while (i < args.size() && args[i] != "exec") {
    if (kGlobalWithValue.count(args[i]) != 0) {
      ++i;
    }
    ++i;
  }
  if (i >= args.size()) {
    return args;
  }
  for (++i; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      return args;
    }
    if (a.size() > 1 && a[0] == '-') {
      if (kExecWithValue.count(a) != 0) {
        ++i;
      }
      continue;
    }
    // args[i] is the container id.
    if (i + 1 < args.size() && args[i + 1] != "--") {
      args.insert(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, "--");
    }
    return args;
  }
  return args;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> raw(argv, argv + argc);
  raw = protect_exec_command(std::move(raw));

  CLI::App app{"mydocker-runtime: an OCI runtime (runc-compatible command line)",
               "mydocker-runtime"};
  app.require_subcommand(1);
  std::string root(rt::kDefaultRoot);
  std::string log_path, log_format;
  bool debug = false, systemd_cgroup = false;
  app.add_option("--root", root, "state directory")->capture_default_str();
  app.add_option("--log", log_path, "accepted for runc compatibility");
  app.add_option("--log-format", log_format, "accepted for runc compatibility");
  app.add_flag("--debug", debug, "accepted for runc compatibility");
  app.add_flag("--systemd-cgroup", systemd_cgroup, "accepted for runc compatibility");

  std::string id, bundle = ".", console_socket, pid_file;
  bool detach = false, no_pivot = false, no_new_keyring = false;
  int preserve_fds = 0;
  auto add_create_flags = [&](CLI::App* c) {
    c->add_option("id", id, "container id")->required();
    c->add_option("--bundle,-b", bundle, "bundle directory");
    c->add_option("--console-socket", console_socket, "unix socket receiving the pty master");
    c->add_option("--pid-file", pid_file, "file to write the init's pid to");
    c->add_flag("--no-pivot", no_pivot, "accepted for runc compatibility (always pivot_root)");
    c->add_flag("--no-new-keyring", no_new_keyring, "accepted for runc compatibility");
    c->add_option("--preserve-fds", preserve_fds, "accepted for runc compatibility");
  };
  CLI::App* create = app.add_subcommand("create", "create a container");
  add_create_flags(create);
  CLI::App* run = app.add_subcommand("run", "create, start and wait for a container");
  add_create_flags(run);
  run->add_flag("--detach,-d", detach, "do not wait");
  CLI::App* start = app.add_subcommand("start", "start a created container");
  start->add_option("id", id)->required();
  std::string format = "json";
  CLI::App* state = app.add_subcommand("state", "print a container's state (JSON)");
  state->add_option("id", id)->required();
  std::string signal = "SIGTERM";
  bool all = false;
  CLI::App* kill = app.add_subcommand("kill", "send a signal to a container");
  kill->add_option("id", id)->required();
  kill->add_option("signal", signal, "name or number (default SIGTERM)");
  kill->add_flag("--all,-a", all, "signal every process of the container");
  bool force = false;
  CLI::App* del = app.add_subcommand("delete", "delete a container");
  del->add_option("id", id)->required();
  del->add_flag("--force,-f", force, "kill a running container first");
  CLI::App* pause = app.add_subcommand("pause", "freeze a container's processes");
  pause->add_option("id", id)->required();
  CLI::App* resume = app.add_subcommand("resume", "thaw a paused container");
  resume->add_option("id", id)->required();
  std::string list_format = "table";
  bool quiet = false;
  CLI::App* list = app.add_subcommand("list", "list containers");
  list->alias("ls");
  list->add_option("--format,-f", list_format, "table or json");
  list->add_flag("--quiet,-q", quiet, "ids only");
  bool rootless = false;
  CLI::App* spec_cmd = app.add_subcommand("spec", "write a default config.json");
  spec_cmd->add_option("--bundle,-b", bundle, "bundle directory");
  spec_cmd->add_flag("--rootless", rootless, "accepted for runc compatibility");
  bool stats_once = false;
  int interval = 5;
  CLI::App* events = app.add_subcommand("events", "container stats");
  events->add_option("id", id)->required();
  events->add_flag("--stats", stats_once, "print stats once and exit");
  events->add_option("--interval", interval, "seconds between stats");

  std::string ps_format = "table";
  CLI::App* ps = app.add_subcommand("ps", "list the processes of a container");
  ps->add_option("id", id)->required();
  ps->add_option("--format,-f", ps_format, "table or json");
  std::string resources_path;
  CLI::App* update = app.add_subcommand("update", "update a container's resource limits");
  update->add_option("id", id)->required();
  update
      ->add_option("--resources,-r", resources_path,
                   "file with a linux.resources JSON object (`-`: stdin)")
      ->required();
  std::string process_json_path, cwd, user;
  std::vector<std::string> env, command, caps_extra;
  std::vector<uint32_t> additional_gids;
  bool tty = false, no_new_privs = false, ignore_paused = false;
  std::string apparmor, process_label, cgroup_sub;
  CLI::App* exec = app.add_subcommand("exec", "run a process in a running container");
  exec->add_option("id", id)->required();
  exec->add_option("command", command, "command and arguments");
  exec->add_option("--process,-p", process_json_path, "process.json");
  exec->add_option("--env,-e", env, "KEY=VALUE (repeatable)")->allow_extra_args(false);
  exec->add_option("--cwd", cwd, "working directory");
  exec->add_option("--user,-u", user, "uid[:gid]");
  exec->add_option("--additional-gids,-g", additional_gids, "additional gid (repeatable)")
      ->allow_extra_args(false);
  exec->add_flag("--tty,-t", tty, "allocate a pty");
  exec->add_option("--console-socket", console_socket, "unix socket receiving the pty master");
  exec->add_option("--pid-file", pid_file, "file to write the process's pid to");
  exec->add_flag("--detach,-d", detach, "do not wait");
  exec->add_flag("--no-new-privs", no_new_privs, "set no_new_privs");
  exec->add_option("--cap,-c", caps_extra, "not supported; refused when given")
      ->allow_extra_args(false);
  exec->add_option("--apparmor", apparmor, "accepted for runc compatibility");
  exec->add_option("--process-label", process_label, "accepted for runc compatibility");
  exec->add_flag("--ignore-paused", ignore_paused, "accepted for runc compatibility");
  exec->add_option("--preserve-fds", preserve_fds, "accepted for runc compatibility");
  exec->add_option("--cgroup", cgroup_sub, "accepted for runc compatibility");

  std::vector<const char*> cargv;
  // Set as soon as parsed, so that every later failure reaches the log.
  app.parse_complete_callback([&] {
    g_log_path = log_path;
    if (!log_format.empty()) {
      g_log_format = log_format;
    }
  });
  for (const auto& a : raw) {
    cargv.push_back(a.c_str());
  }
  try {
    app.parse(static_cast<int>(cargv.size()), cargv.data());
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {
      return app.exit(e);
    }
    std::fprintf(stderr, "mydocker-runtime: %s\n", e.what());
    log_error(e.what());
    return 1;
  }

  if (*create || *run) {
    rt::CreateOptions opts;
    opts.root = root;
    opts.console_socket = console_socket;
    opts.pid_file = pid_file;
    // Absolute before chdir into the bundle.
    for (std::string* p : {&opts.root, &opts.console_socket, &opts.pid_file}) {
      if (!p->empty() && (*p)[0] != '/') {
        char cwd_buf[PATH_MAX];
        if (::getcwd(cwd_buf, sizeof cwd_buf) != nullptr) {
          *p = std::string(cwd_buf) + "/" + *p;
        }
      }
    }
    char abs[PATH_MAX];
    if (::realpath(bundle.c_str(), abs) == nullptr) {
      return fail(base::sys_error("bundle `{}`", bundle));
    }
    if (auto r = enter_bundle(abs); !r) {
      return fail(r.error());
    }
    if (*create) {
      auto c = rt::Container::create(id, abs, opts);
      return c ? 0 : fail(c.error());
    }
    rt::RunOptions ropts;
    ropts.create = opts;
    ropts.detach = detach;
    auto code = rt::run(id, abs, ropts);
    return code ? *code : fail(code.error());
  }
  if (*spec_cmd) {
    std::string path = bundle + "/config.json";
    if (base::path_exists(path)) {
      std::fprintf(stderr, "mydocker-runtime: File config.json exists. Remove it first\n");
      log_error("File config.json exists. Remove it first");
      return 1;
    }
    auto r = base::write_file_atomic(path, rt::spec::default_spec_json(true), 0644);
    return r ? 0 : fail(r.error());
  }
  if (*list) {
    auto all_states = rt::Container::list(root);
    if (!all_states) {
      return fail(all_states.error());
    }
    if (quiet) {
      for (const auto& s : *all_states) {
        std::printf("%s\n", s.id.c_str());
      }
      return 0;
    }
    if (list_format == "json") {
      json arr = json::array();
      for (const auto& s : *all_states) {
        json j = {{"ociVersion", s.oci_version},
                  {"id", s.id},
                  {"pid", s.status == rt::state::Status::Stopped ? 0 : s.pid},
                  {"status", rt::state::status_name(s.status)},
                  {"bundle", s.bundle},
                  {"rootfs", s.bundle + "/rootfs"},
                  {"created", s.created},
                  {"owner", owner_name(s.owner)}};
        if (!s.annotations.empty()) {
          j["annotations"] = s.annotations;
        }
        arr.push_back(j);
      }
      std::printf("%s\n", arr.dump().c_str());
      return 0;
    }
    if (list_format != "table") {
      return fail(base::make_error(base::ErrorCode::InvalidArgument, "invalid format option `{}`",
                                   list_format));
    }
    std::vector<std::vector<std::string>> rows = {
        {"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}};
    for (const auto& s : *all_states) {
      rows.push_back({s.id, std::to_string(s.status == rt::state::Status::Stopped ? 0 : s.pid),
                      std::string(rt::state::status_name(s.status)), s.bundle, s.created,
                      owner_name(s.owner)});
    }
    std::vector<size_t> width(6, 0);
    for (const auto& r : rows) {
      for (size_t i = 0; i < r.size(); ++i) {
        width[i] = std::max(width[i], r[i].size());
      }
    }
    for (const auto& r : rows) {
      std::string line;
      for (size_t i = 0; i < r.size(); ++i) {
        line += r[i];
        if (i + 1 < r.size()) {
          line += std::string(width[i] - r[i].size() + 3, ' ');
        }
      }
      std::printf("%s\n", line.c_str());
    }
    return 0;
  }

  auto loaded = rt::Container::load(root, id);
  if (!loaded) {
    return fail(loaded.error());
  }
  rt::Container& c = *loaded;
  if (*start) {
    auto r = c.start();
    return r ? 0 : fail(r.error());
  }
  if (*state) {
    auto s = c.state();
    if (!s) {
      return fail(s.error());
    }
    std::printf("%s\n", rt::state::to_oci_json(*s).c_str());
    return 0;
  }
  if (*kill) {
    auto sig = rt::parse_signal(signal);
    if (!sig) {
      return fail(sig.error());
    }
    auto r = c.kill(*sig, all);
    return r ? 0 : fail(r.error());
  }
  if (*del) {
    auto r = c.destroy(force);
    return r ? 0 : fail(r.error());
  }
  if (*pause) {
    auto r = c.pause();
    return r ? 0 : fail(r.error());
  }
  if (*resume) {
    auto r = c.resume();
    return r ? 0 : fail(r.error());
  }
  if (*ps) {
    auto pids = c.processes();
    if (!pids) {
      return fail(pids.error());
    }
    if (ps_format == "json") {
      std::printf("%s\n", json(*pids).dump().c_str());
    } else {
      std::printf("PID\n");
      for (pid_t p : *pids) {
        std::printf("%d\n", p);
      }
    }
    return 0;
  }
  if (*update) {
    auto text = resources_path == "-" ? base::read_all(0) : base::read_file(resources_path);
    if (!text) {
      return fail(text.error().wrap("--resources"));
    }
    auto r = c.update(*text);
    return r ? 0 : fail(r.error());
  }
  if (*events) {
    for (;;) {
      auto s = c.stats();
      if (!s) {
        return fail(s.error());
      }
      std::printf("%s\n", stats_json(id, *s).dump().c_str());
      std::fflush(stdout);
      if (stats_once) {
        return 0;
      }
      std::this_thread::sleep_for(std::chrono::seconds(std::max(interval, 1)));
      auto st = c.state();
      if (!st || st->status == rt::state::Status::Stopped) {
        return 0;
      }
    }
  }
  if (*exec) {
    if (!caps_extra.empty()) {
      return fail(base::make_error(base::ErrorCode::NotImplemented,
                                   "exec --cap is not supported; use --process"));
    }
    auto container_spec = c.spec();
    if (!container_spec) {
      return fail(container_spec.error());
    }
    std::optional<std::string> process_json;
    if (!process_json_path.empty()) {
      auto text = base::read_file(process_json_path);
      if (!text) {
        return fail(text.error().wrap("--process"));
      }
      process_json = *text;
    }
    rt::ExecOverrides o;
    o.args = command;
    o.env = env;
    o.cwd = cwd;
    if (!user.empty()) {
      o.user = user;
    }
    o.additional_gids = additional_gids;
    if (tty) {
      o.tty = true;
    }
    o.no_new_privileges = no_new_privs;
    auto process = rt::build_exec_process(*container_spec, process_json, o);
    if (!process) {
      return fail(process.error());
    }
    rt::ExecOptions eo;
    eo.process = *process;
    eo.console_socket = console_socket;
    eo.pid_file = pid_file;
    base::Fd ours, theirs;
    if (process->terminal && console_socket.empty()) {
      if (detach) {
        return fail(base::make_error(base::ErrorCode::InvalidArgument,
                                     "--tty with --detach needs --console-socket"));
      }
      int fds[2];
      if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) {
        return fail(base::sys_error("socketpair for the console"));
      }
      ours = base::Fd::adopt(fds[0]);
      theirs = base::Fd::adopt(fds[1]);
      eo.console_fd = theirs.get();
    }
    if (!detach) {
      rt::block_forwarded_signals();
    }
    auto pid = c.exec(eo);
    if (!pid) {
      return fail(pid.error());
    }
    theirs.reset();
    if (detach) {
      return 0;
    }
    base::Fd master;
    if (ours) {
      auto m = rt::process::recv_fd(ours.get());
      if (!m) {
        return fail(m.error());
      }
      master = std::move(*m);
    }
    auto code = rt::supervise(*pid, master.get());
    return code ? *code : fail(code.error());
  }
  return 1;
}
