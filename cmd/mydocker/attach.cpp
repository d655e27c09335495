// SPDX-License-Identifier: Apache-2.0
// The interactive plumbing (interactive.h) and the `attach` verb.
#include <signal.h>
#include <unistd.h>

#include <chrono>

#include "cmd/mydocker/cli.h"
#include "cmd/mydocker/interactive.h"
#include "cmd/mydocker/opts.h"

namespace mydocker::cli {

namespace {

using api::client::Client;
using api::client::HijackedConnection;
using api::client::Json;
using api::client::PumpEnd;

bool write_fd(int fd, std::string_view data) {
  return base::write_all(fd, data).has_value();
}

}  // namespace

base::Result<void> check_tty(bool attach_stdin, bool tty) {
  if (tty && attach_stdin && !is_terminal(STDIN_FILENO)) {
    return base::make_error(base::ErrorCode::InvalidArgument, "the input device is not a TTY");
  }
  return base::ok();
}

std::string client_detach_keys(const std::string& flag) {
  if (!flag.empty()) {
    if (auto keys = api::client::parse_detach_keys(flag)) {
      return *keys;
    }
  }
  return api::client::kDefaultDetachKeys;
}

std::optional<RawTerminal> enter_raw_mode(const StreamSpec& spec) {
  if (!spec.tty || !spec.stdin_ || !is_terminal(STDIN_FILENO)) {
    return std::nullopt;
  }
  auto raw = RawTerminal::enable(STDIN_FILENO);
  if (!raw) {
    return std::nullopt;
  }
  return std::move(raw).value();
}

base::Result<PumpEnd> stream_stdio(HijackedConnection& conn, const StreamSpec& spec) {
  api::client::PumpOptions o;
  o.input_fd = spec.stdin_ ? STDIN_FILENO : -1;
  o.tty = spec.tty;
  if (spec.tty && spec.stdin_) {
    o.detach_keys = client_detach_keys(spec.detach_keys);
  }
  if (spec.stdout_) {
    o.out = [](std::string_view d) { return write_fd(STDOUT_FILENO, d); };
  }
  if (spec.stderr_) {
    int fd = spec.tty ? STDOUT_FILENO : STDERR_FILENO;
    o.err = [fd](std::string_view d) { return write_fd(fd, d); };
  }
  o.input_only = !spec.stdout_ && !spec.stderr_;
  PumpEnd end = MYDOCKER_TRY(api::client::pump(conn, o));
  if (end == PumpEnd::Stopped) {
    die_of_sigpipe();  // our stdout is gone: end as a pipeline's writer does
  }
  return end;
}

TtyResizer::~TtyResizer() {
  if (retry_.joinable()) {
    retry_.join();
  }
}

base::Result<void> TtyResizer::resize(int dh, int dw) const {
  auto size = terminal_size(STDOUT_FILENO);
  if (!size) {
    return base::ok();
  }
  int h = size->first + dh;
  int w = size->second + dw;
  return exec_ ? client_.exec_resize(id_, h, w) : client_.container_resize(id_, h, w);
}

void TtyResizer::init(int dh, int dw) {
  if (resize(dh, dw)) {
    return;
  }
  if (retry_.joinable()) {
    return;
  }
  retry_ = std::thread([this, dh, dw] {
    for (int i = 0; i < 10; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10 * (i + 1)));
      if (resize(dh, dw)) {
        return;
      }
    }
    write_err("failed to resize tty, using default size\n");
  });
}

struct ExitWaiter::State {
  std::mutex mu;  // guards everything below
  std::condition_variable cv;
  bool head_done = false;
  bool cancelled = false;
  std::optional<Client::PendingWait> pending;
  std::optional<base::Result<Json>> result;
};

ExitWaiter::ExitWaiter(const Client& client, const std::string& id, const std::string& condition)
    : st_(std::make_shared<State>()) {
  thread_ = std::thread([client, id, condition, st = st_] {
    auto pw = client.container_wait_begin(id, condition);
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
      if (st->cancelled) {
        p->cancel();
      }
    }
    auto r = p->result();
    std::lock_guard lock(st->mu);
    st->result = std::move(r);
    st->cv.notify_all();
  });
  std::unique_lock lock(st_->mu);
  st_->cv.wait_for(lock, std::chrono::seconds(5), [&] { return st_->head_done; });
}

void ExitWaiter::cancel() {
  std::lock_guard lock(st_->mu);
  st_->cancelled = true;
  if (st_->pending && !st_->result) {
    st_->pending->cancel();
  }
}

ExitWaiter::~ExitWaiter() {
  if (thread_.joinable()) {
    cancel();
    thread_.join();
  }
}

int ExitWaiter::exit_code() {
  if (thread_.joinable()) {
    thread_.join();
  }
  std::lock_guard lock(st_->mu);
  if (!st_->result) {
    return 125;
  }
  if (!st_->result->has_value()) {
    write_err("mydocker: " + st_->result->error().message() + "\n");
    return 125;
  }
  const Json& r = st_->result->value();
  int code = 125;
  if (r.contains("StatusCode") && r["StatusCode"].is_number()) {
    code = r["StatusCode"].get<int>();
  }
  if (r.contains("Error") && r["Error"].is_object() && r["Error"].contains("Message") &&
      r["Error"]["Message"].is_string() && !r["Error"]["Message"].get<std::string>().empty()) {
    write_err("mydocker: " + r["Error"]["Message"].get<std::string>() + "\n");
  }
  return code;
}

std::string signal_arg(int sig) {
  switch (sig) {
    case SIGINT:
      return "INT";
    case SIGTERM:
      return "TERM";
    case SIGHUP:
      return "HUP";
    case SIGQUIT:
      return "QUIT";
    case SIGUSR1:
      return "USR1";
    case SIGUSR2:
      return "USR2";
    default:
      return std::to_string(sig);
  }
}

int run_attached(const Client& client, const std::string& id, const RunAttach& ra) {
  SignalRelay relay;  // first: no other thread exists yet
  const StreamSpec& spec = ra.spec;
  bool sized = spec.tty && terminal_size(STDOUT_FILENO).has_value();
  TtyResizer resizer(client, id, false);
  SignalRelay::Handlers handlers;
  if (ra.sig_proxy) {
    handlers.proxy = [client, id](int sig) { (void)client.container_kill(id, signal_arg(sig)); };
  }
  if (sized) {
    handlers.winch = [&resizer] { (void)resizer.resize(); };
  }
  if (auto r = relay.start(std::move(handlers)); !r) {
    return report(r.error());
  }

  std::optional<HijackedConnection> conn;
  if (spec.stdin_ || spec.stdout_ || spec.stderr_) {
    api::client::AttachOptions ao;
    ao.stdin_ = spec.stdin_;
    ao.stdout_ = spec.stdout_;
    ao.stderr_ = spec.stderr_;
    ao.detach_keys = spec.detach_keys;
    auto c = client.container_attach(id, ao);
    if (!c) {
      return report(c.error());
    }
    conn.emplace(std::move(c).value());
  }
  if (!spec.stdout_ && !spec.stderr_) {
    write_out(id + "\n");
  }
  ExitWaiter waiter(client, id, ra.auto_remove ? "removed" : "next-exit");
  std::optional<RawTerminal> raw = enter_raw_mode(spec);

  auto started = client.container_start(id);
  if (!started) {
    raw.reset();
    conn.reset();
    std::string msg = started.error().message();
    write_err("mydocker: " + msg + "\n");
    if (ra.auto_remove) {
      (void)waiter.exit_code();  // docker waits for the removal
    }
    return start_error_exit_code(msg);
  }
  if (sized) {
    resizer.init();
  }
  PumpEnd end = PumpEnd::OutputEnded;
  if (conn) {
    auto r = stream_stdio(*conn, spec);
    raw.reset();
    if (!r) {
      return report(r.error());
    }
    end = *r;
  }
  raw.reset();
  if (end == PumpEnd::Detached) {
    waiter.cancel();
    return 0;
  }
  if (!spec.stdout_ && !spec.stderr_) {
    waiter.cancel();
    return 0;
  }
  return waiter.exit_code();
}

int start_attached(const Client& client, const std::string& ref, bool interactive,
                   const std::string& detach_keys) {
  SignalRelay relay;  // first: no other thread exists yet
  auto info = client.container_inspect(ref);
  if (!info) {
    return report(info.error());
  }
  std::string id = info->value("Id", ref);
  Json config = info->contains("Config") && (*info)["Config"].is_object() ? (*info)["Config"]
                                                                          : Json::object();
  Json host_config = info->contains("HostConfig") && (*info)["HostConfig"].is_object()
                         ? (*info)["HostConfig"]
                         : Json::object();
  StreamSpec spec;
  spec.tty = config.value("Tty", false);
  spec.stdin_ = interactive && config.value("OpenStdin", false);
  spec.detach_keys = detach_keys;
  bool auto_remove = host_config.value("AutoRemove", false);
  bool sized = spec.tty && terminal_size(STDOUT_FILENO).has_value();

  TtyResizer resizer(client, id, false);
  SignalRelay::Handlers handlers;
  if (!spec.tty) {
    handlers.proxy = [client, id](int sig) { (void)client.container_kill(id, signal_arg(sig)); };
  }
  if (sized) {
    handlers.winch = [&resizer] { (void)resizer.resize(); };
  }
  if (auto r = relay.start(std::move(handlers)); !r) {
    return report(r.error());
  }
  api::client::AttachOptions ao;
  ao.stdin_ = spec.stdin_;
  ao.detach_keys = detach_keys;
  auto c = client.container_attach(id, ao);
  if (!c) {
    return report(c.error());
  }
  std::optional<HijackedConnection> conn(std::move(c).value());
  ExitWaiter waiter(client, id, auto_remove ? "removed" : "next-exit");
  std::optional<RawTerminal> raw = enter_raw_mode(spec);
  auto started = client.container_start(id);
  if (!started) {
    raw.reset();
    conn.reset();
    if (auto_remove) {
      (void)waiter.exit_code();
    }
    return report(started.error());
  }
  if (sized) {
    resizer.init();
  }
  auto r = stream_stdio(*conn, spec);
  raw.reset();
  if (!r) {
    return report(r.error());
  }
  if (*r == PumpEnd::Detached) {
    waiter.cancel();
    return 0;
  }
  return waiter.exit_code();
}

void register_attach(CLI::App& parent, Registry& reg) {
  auto* sub = parent.add_subcommand(
      "attach", "Attach local standard input, output, and error streams to a running container");
  struct Opts {
    std::string container;
    bool no_stdin = false;
    bool sig_proxy = true;
    std::string detach_keys;
  };
  auto o = std::make_shared<Opts>();
  sub->add_option("CONTAINER", o->container)->required();
  sub->add_option("--detach-keys", o->detach_keys,
                  "Override the key sequence for detaching a container");
  sub->add_flag("--no-stdin", o->no_stdin, "Do not attach STDIN");
  sub->add_flag("--sig-proxy", o->sig_proxy, "Proxy all received signals to the process");
  Globals& g = reg.globals();
  reg.add(sub, [o, &g]() -> int {
    SignalRelay relay;  // first: no other thread exists yet
    auto client = make_client(g);
    if (!client) {
      return report(client.error());
    }
    // docker registers the waiter first, then checks the state.
    ExitWaiter waiter(*client, o->container, "not-running");
    auto check_state = [&]() -> base::Result<Json> {
      Json info = MYDOCKER_TRY(client->container_inspect(o->container));
      Json state =
          info.contains("State") && info["State"].is_object() ? info["State"] : Json::object();
      if (!state.value("Running", false)) {
        return base::make_error(base::ErrorCode::Conflict,
                                "You cannot attach to a stopped container, start it first");
      }
      if (state.value("Paused", false)) {
        return base::make_error(base::ErrorCode::Conflict,
                                "You cannot attach to a paused container, unpause it first");
      }
      if (state.value("Restarting", false)) {
        return base::make_error(
            base::ErrorCode::Conflict,
            "You cannot attach to a restarting container, wait until it is running");
      }
      return info;
    };
    auto info = check_state();
    if (!info) {
      return report(info.error());
    }
    std::string id = info->value("Id", o->container);
    Json config = info->contains("Config") && (*info)["Config"].is_object() ? (*info)["Config"]
                                                                            : Json::object();
    StreamSpec spec;
    spec.tty = config.value("Tty", false);
    if (auto r = check_tty(!o->no_stdin, spec.tty); !r) {
      return report(r.error());
    }
    spec.stdin_ = !o->no_stdin && config.value("OpenStdin", false);
    spec.detach_keys = o->detach_keys;
    bool sized = spec.tty && terminal_size(STDOUT_FILENO).has_value();
    TtyResizer resizer(*client, id, false);
    SignalRelay::Handlers handlers;
    if (o->sig_proxy && !spec.tty) {
      handlers.proxy = [c = *client, id](int sig) { (void)c.container_kill(id, signal_arg(sig)); };
    }
    if (sized) {
      handlers.winch = [&resizer] { (void)resizer.resize(); };
    }
    if (auto r = relay.start(std::move(handlers)); !r) {
      return report(r.error());
    }
    api::client::AttachOptions ao;
    ao.stdin_ = spec.stdin_;
    ao.detach_keys = spec.detach_keys;
    auto conn = client->container_attach(id, ao);
    if (!conn) {
      return report(conn.error());
    }
    // The container may have stopped between the check and the attach.
    if (auto again = check_state(); !again) {
      return report(again.error());
    }
    std::optional<RawTerminal> raw = enter_raw_mode(spec);
    if (sized) {
      // One size off and back: a shell prompt redraws on a re-attach (as docker does).
      resizer.init(1, 1);
      (void)resizer.resize();
    }
    auto r = stream_stdio(*conn, spec);
    raw.reset();
    if (!r) {
      return report(r.error());
    }
    if (*r == PumpEnd::Detached) {
      waiter.cancel();
      // docker returns the escape as an error: printed, exit status 1.
      write_err("read escape sequence\n");
      return 1;
    }
    return waiter.exit_code();
  });
}

}  // namespace mydocker::cli
