// SPDX-License-Identifier: Apache-2.0
// Attach, resize and exec. The API answers the upgrade; the connection is then handed to the
// container's shim (now over its control socket, or at the next start when the container is
// not running), which serves it in its poll loop: no daemon thread stays in a stream.
//
// Exec records live in memory (as dockerd's) until their container is removed. An exec's end
// is noticed when it is looked at (inspect, start, resize) and when its container's run ends:
// the shim writes <state-dir>/exec-<id>.json before it closes the exec's connection, so a
// client that saw EOF reads the exit code at once.
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <random>

#include "engine/daemon/local_daemon_impl.h"
#include "engine/shim/control.h"
#include "runtime/caps/names.h"
#include "runtime/spec/spec.h"

namespace mydocker::engine::detail {
namespace {

constexpr const char* kDefaultDetachKeys = "ctrl-p,ctrl-q";

// Docker's term.ToBytes: comma-separated keys, each one character or ctrl-@, ctrl-a..ctrl-z,
// ctrl-[, ctrl-\, ctrl-], ctrl-^, ctrl-_ (case as written), or DEL.
std::optional<std::string> detach_key_bytes(std::string_view keys) {
  static constexpr std::string_view kCtrl = "@abcdefghijklmnopqrstuvwxyz[\\]^_";
  std::string out;
  for (const auto& key : base::split(keys, ',')) {
    if (key.size() == 1) {
      out += key[0];
      continue;
    }
    if (key.size() == 6 && key.rfind("ctrl-", 0) == 0) {
      if (auto i = kCtrl.find(key[5]); i != std::string_view::npos) {
        out += static_cast<char>(i);
        continue;
      }
    }
    if (key == "DEL") {
      out += '\x7f';
      continue;
    }
    return std::nullopt;
  }
  return out;
}

// Docker's multiplexed frame (8-byte header) around `payload`.
std::string frame(int stream, std::string_view payload) {
  std::string out(8, '\0');
  out[0] = static_cast<char>(stream);
  auto n = static_cast<uint32_t>(payload.size());
  out[4] = static_cast<char>((n >> 24) & 0xff);
  out[5] = static_cast<char>((n >> 16) & 0xff);
  out[6] = static_cast<char>((n >> 8) & 0xff);
  out[7] = static_cast<char>(n & 0xff);
  out.append(payload);
  return out;
}

// Writes to a client connection; false when it is gone or has not read for 30 s.
bool write_conn(int fd, std::string_view data) {
  while (!data.empty()) {
    struct pollfd p {};
    p.fd = fd;
    p.events = POLLOUT;
    int r = ::poll(&p, 1, 30000);
    if (r < 0 && errno == EINTR) {
      continue;
    }
    if (r <= 0 || (p.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) {
      return false;
    }
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// The client closed its end. A half-close (POLLRDHUP alone) is not that: the docker CLI
// shuts its writing side down at once when it has no stdin to send, and still reads.
bool connection_gone(int fd) {
  struct pollfd p {};
  p.fd = fd;
  p.events = POLLIN;
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR | POLLNVAL)) != 0;
}

std::string random_hex_id() {
  std::random_device rd;
  std::string out;
  static constexpr char kHex[] = "0123456789abcdef";
  while (out.size() < 64) {
    uint32_t v = rd();
    for (int i = 0; i < 8; ++i) {
      out += kHex[v & 0xf];
      v >>= 4;
    }
  }
  return out;
}

std::string env_key(const std::string& kv) {
  return kv.substr(0, kv.find('='));
}

// Docker's ReplaceOrAppendEnvValues: K=V replaces K or is appended; a bare K removes K.
void replace_or_append(std::vector<std::string>& env, const std::vector<std::string>& overrides) {
  for (const auto& o : overrides) {
    std::string key = env_key(o);
    auto it = std::find_if(env.begin(), env.end(),
                           [&](const std::string& e) { return env_key(e) == key; });
    if (o.find('=') == std::string::npos) {
      if (it != env.end()) {
        env.erase(it);
      }
      continue;
    }
    if (it != env.end()) {
      *it = o;
    } else {
      env.push_back(o);
    }
  }
}

// "All" capabilities for a privileged exec: those this daemon can still grant (its bounding
// set), as specgen computes them for a privileged container.
std::vector<std::string> all_capabilities() {
  std::vector<std::string> out;
  for (int i = 0; i <= runtime::caps::kLastKnownCap; ++i) {
    if (::prctl(PR_CAPBSET_READ, static_cast<unsigned long>(i), 0UL, 0UL, 0UL) == 1) {
      out.push_back(runtime::caps::to_name(i));
    }
  }
  return out;
}

std::string read_or_empty(const std::string& path) {
  auto r = base::read_file(path);
  return r ? std::move(*r) : std::string();
}

std::string exec_command(const ExecConfig& c) {
  // dockerd: entrypoint + " " + args joined (a trailing space when there are none).
  std::vector<std::string> args(c.cmd.begin() + (c.cmd.empty() ? 0 : 1), c.cmd.end());
  return (c.cmd.empty() ? std::string() : c.cmd[0]) + " " + base::join(args, " ");
}

// The exit code and wording of a failed exec start (dockerd's translateContainerdStartErr).
base::Error exec_start_error(const base::Error& e, int64_t& exit_code) {
  (void)start_error(e, exit_code);  // 127 / 126 / 128 as for a container's start
  ErrorCode code = exit_code == 128 ? ErrorCode::Internal : ErrorCode::InvalidArgument;
  return base::Error(code, fmt::format("OCI runtime exec failed: exec failed: unable to start "
                                       "container process: {}: unknown",
                                       e.message()));
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Shared state

// Drops what belongs to removed containers: pending connections (closed) and exec records.
void LocalDaemon::prune_attach_state() {
  std::set<std::string> ids;
  {
    std::lock_guard lk(attach_mu_);
    for (const auto& [id, list] : pending_) {
      ids.insert(id);
    }
    for (const auto& [eid, e] : execs_) {
      ids.insert(e->container_id);
    }
  }
  std::set<std::string> gone;
  {
    std::lock_guard lk(mu_);
    for (const auto& id : ids) {
      if (containers_.find(id) == containers_.end()) {
        gone.insert(id);
      }
    }
  }
  std::vector<PendingAttach> dropped;  // closed outside the lock
  std::lock_guard lk(attach_mu_);
  for (auto it = pending_.begin(); it != pending_.end();) {
    auto& list = it->second;
    for (auto p = list.begin(); p != list.end();) {
      if (gone.count(it->first) != 0 || connection_gone(p->conn.get())) {
        dropped.push_back(std::move(*p));
        p = list.erase(p);
      } else {
        ++p;
      }
    }
    it = list.empty() ? pending_.erase(it) : std::next(it);
  }
  for (auto it = execs_.begin(); it != execs_.end();) {
    it = gone.count(it->second->container_id) != 0 ? execs_.erase(it) : std::next(it);
  }
}

std::vector<base::Fd> LocalDaemon::take_pending_attaches_locked(
    Container& c, std::vector<shim::AttachSpec>& specs) {
  std::vector<base::Fd> conns;
  std::lock_guard lk(attach_mu_);
  auto it = pending_.find(c.id());
  if (it == pending_.end()) {
    return conns;
  }
  for (auto& p : it->second) {
    if (connection_gone(p.conn.get())) {
      continue;  // the client left before the start (closed with the list)
    }
    specs.push_back(p.spec);
    conns.push_back(std::move(p.conn));
  }
  pending_.erase(it);
  return conns;
}

// ---------------------------------------------------------------------------------------
// Attach and resize

base::Result<void> LocalDaemon::attach(std::string_view ref, const AttachOptions& options,
                                       const Upgrade& upgrade) {
  if (stopping_) {
    return unavailable();
  }
  auto keys =
      detach_key_bytes(options.detach_keys.empty() ? kDefaultDetachKeys : options.detach_keys);
  if (!keys) {
    return make_error(ErrorCode::InvalidArgument, "Invalid detach keys ({}) provided",
                      options.detach_keys);
  }
  prune_attach_state();
  auto c = MYDOCKER_TRY(find(ref));
  bool tty = false;
  bool open_stdin = false;
  std::string id = c->id();
  {
    std::lock_guard lk(c->mu);
    Status s = c->rec.info.state.status;
    if (c->removed) {
      return make_error(ErrorCode::NotFound, "No such container: {}", ref);
    }
    if (s == Status::Paused) {
      return make_error(ErrorCode::Conflict,
                        "Container {} is paused, unpause the container before attach.", ref);
    }
    if (s == Status::Restarting) {
      return make_error(ErrorCode::Conflict,
                        "Container {} is restarting, wait until the container is running.", ref);
    }
    tty = c->rec.info.config.tty;
    open_stdin = c->rec.info.config.open_stdin;
  }
  base::Fd conn = MYDOCKER_TRY(upgrade(tty));

  if (options.logs) {
    LogsOptions lo;
    lo.stdout_stream = options.stdout_stream;
    lo.stderr_stream = options.stderr_stream;
    auto r = logs(id, lo, [&](const LogEntry& e) {
      return write_conn(conn.get(), tty ? std::string(e.line) : frame(e.stream, e.line));
    });
    if (!r) {
      std::string msg = "Error attaching: " + r.error().message() + "\n";
      (void)write_conn(conn.get(), tty ? msg : frame(1, msg));
      return base::ok();
    }
  }
  {
    std::lock_guard lk(c->mu);
    emit_locked(*c, "attach", {});
  }
  if (!options.stream) {
    return base::ok();  // the connection closes: logs only
  }
  shim::AttachSpec spec;
  spec.stdin_stream = options.stdin_stream && open_stdin;  // dockerd ignores stdin otherwise
  spec.stdout_stream = options.stdout_stream;
  spec.stderr_stream = options.stderr_stream;
  spec.detach_keys = *keys;

  std::lock_guard lk(c->mu);
  if (c->removed) {
    return base::ok();
  }
  if (c->shim && running_like(c->rec.info.state.status)) {
    if (auto r = shim::send_attach(state_dir(id), spec, std::move(conn)); !r) {
      // The run ended meanwhile: the stream is over (the connection is closed).
      spdlog::debug("container {}: attach: {}", id, r.error().to_string());
    }
    return base::ok();
  }
  std::lock_guard alk(attach_mu_);
  pending_[id].push_back(PendingAttach{spec, std::move(conn)});
  return base::ok();
}

base::Result<void> LocalDaemon::resize(std::string_view ref, int height, int width) {
  auto c = MYDOCKER_TRY(find(ref));
  std::lock_guard lk(c->mu);
  if (!running_like(c->rec.info.state.status) || !c->shim) {
    return make_error(ErrorCode::Conflict, "Container {} is not running", c->id());
  }
  // A container without a tty: containerd's resize is a no-op success, so dockerd's is too.
  if (c->rec.info.config.tty) {
    if (auto r = shim::send_resize(state_dir(c->id()), "", height, width);
        !r && r.error().code() != ErrorCode::Conflict) {
      if (r.error().code() == ErrorCode::Unavailable) {
        return make_error(ErrorCode::Conflict, "Container {} is not running", c->id());
      }
      return r;
    }
  }
  emit_locked(*c, "resize", {{"height", std::to_string(height)}, {"width", std::to_string(width)}});
  return base::ok();
}

// ---------------------------------------------------------------------------------------
// Exec

base::Result<std::shared_ptr<LocalDaemon::ExecRecord>> LocalDaemon::find_exec(
    std::string_view exec_id) {
  std::shared_ptr<ExecRecord> e;
  {
    std::lock_guard lk(attach_mu_);
    auto it = execs_.find(std::string(exec_id));
    if (it == execs_.end()) {
      return make_error(ErrorCode::NotFound, "No such exec instance: {}", exec_id);
    }
    e = it->second;
  }
  // Exec records die with their container (dockerd deletes them at removal).
  bool exists = false;
  {
    std::lock_guard lk(mu_);
    exists = containers_.find(e->container_id) != containers_.end();
  }
  if (!exists) {
    std::lock_guard lk(attach_mu_);
    execs_.erase(e->id);
    return make_error(ErrorCode::NotFound, "No such exec instance: {}", exec_id);
  }
  return e;
}

void LocalDaemon::finish_exec_locked(Container& c, ExecRecord& e, int64_t exit_code) {
  {
    std::lock_guard lk(attach_mu_);
    if (!e.running) {
      return;
    }
    e.running = false;
    e.exit_code = exit_code;
  }
  emit_locked(c, "exec_die", {{"execID", e.id}, {"exitCode", std::to_string(exit_code)}});
}

void LocalDaemon::refresh_exec(const std::shared_ptr<ExecRecord>& e) {
  {
    std::lock_guard lk(attach_mu_);
    // Started but not yet running: exec_start is handing it to the shim under the
    // container's lock, and a fast process may already have ended (its client saw EOF and
    // asks for the exit code): wait for that lock below rather than answer "no exit code".
    bool starting = e->started && !e->exit_code;
    if (!e->running && !starting) {
      return;
    }
  }
  auto c = find(e->container_id);
  if (!c) {
    std::lock_guard lk(attach_mu_);
    e->running = false;
    e->exit_code = e->exit_code.value_or(137);
    return;
  }
  std::lock_guard lk((*c)->mu);
  {
    std::lock_guard alk(attach_mu_);
    if (!e->running) {
      return;  // the start failed (its exit code is set) or another caller finished it
    }
  }
  std::string sdir = state_dir(e->container_id);
  if (auto ex = shim::read_exec_exit(sdir, e->id)) {
    finish_exec_locked(**c, *e, ex->exit_code);
    return;
  }
  auto st = shim::read_process_stat(e->pid);
  bool alive = st && st->state != 'Z' && st->start_time == e->start_time;
  if (alive && (*c)->shim) {
    return;
  }
  // Gone without a record yet: the shim writes it right after reaping; give it a moment.
  for (int i = 0; i < 40 && (*c)->shim; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (auto ex = shim::read_exec_exit(sdir, e->id)) {
      finish_exec_locked(**c, *e, ex->exit_code);
      return;
    }
  }
  // Killed with its container (SIGKILL to every process of the pid namespace).
  finish_exec_locked(**c, *e, 137);
}

void LocalDaemon::harvest_execs_locked(Container& c) {
  std::vector<std::shared_ptr<ExecRecord>> running;
  {
    std::lock_guard lk(attach_mu_);
    for (const auto& [id, e] : execs_) {
      if (e->container_id == c.id() && e->running) {
        running.push_back(e);
      }
    }
  }
  for (const auto& e : running) {
    auto ex = shim::read_exec_exit(state_dir(c.id()), e->id);
    finish_exec_locked(c, *e, ex ? ex->exit_code : 137);
  }
}

base::Result<json> LocalDaemon::exec_process_locked(
    Container& c, const ExecConfig& config, const std::optional<std::pair<int, int>>& console) {
  std::string path = state_dir(c.id()) + "/bundle/config.json";
  auto text = MYDOCKER_TRY_CTX(base::read_file(path), "read the bundle of container {}", c.id());
  json spec = json::parse(text, nullptr, false);
  if (spec.is_discarded() || !spec.is_object() || !spec.contains("process") ||
      !spec["process"].is_object()) {
    return make_error(ErrorCode::Internal, "the bundle config `{}` has no process", path);
  }
  json p = spec["process"];
  p["args"] = config.cmd;
  p["terminal"] = config.tty;
  p.erase("consoleSize");
  if (config.tty && console && console->first > 0 && console->second > 0) {
    p["consoleSize"] = {{"height", console->first}, {"width", console->second}};
  }
  std::vector<std::string> env;
  if (p.contains("env") && p["env"].is_array()) {
    for (const auto& v : p["env"]) {
      if (v.is_string()) {
        env.push_back(v.get<std::string>());
      }
    }
  }
  if (config.tty) {
    replace_or_append(env, {"TERM=xterm"});
  }
  if (!config.working_dir.empty()) {
    p["cwd"] = config.working_dir;
  }
  if (!config.user.empty()) {
    std::string rootfs = spec.value(json::json_pointer("/root/path"), std::string());
    auto u = MYDOCKER_TRY(specgen::resolve_user(config.user, read_or_empty(rootfs + "/etc/passwd"),
                                                read_or_empty(rootfs + "/etc/group")));
    json juser = {{"uid", u.uid}, {"gid", u.gid}};
    if (!u.additional_gids.empty()) {
      juser["additionalGids"] = u.additional_gids;
    }
    p["user"] = juser;
    replace_or_append(env, {"HOME=" + u.home});  // as runc sets it for the exec's user
  }
  replace_or_append(env, config.env);
  p["env"] = env;
  if (config.privileged) {
    auto caps = all_capabilities();
    p["capabilities"] = {{"bounding", caps}, {"effective", caps}, {"permitted", caps}};
  }
  // What the runtime will refuse, refused here with its wording.
  MYDOCKER_TRY(runtime::spec::parse_process(p.dump()));
  return p;
}

base::Result<std::string> LocalDaemon::exec_create(std::string_view ref, const ExecConfig& config) {
  if (stopping_) {
    return unavailable();
  }
  if (config.cmd.empty()) {
    return make_error(ErrorCode::InvalidArgument, "No exec command specified");
  }
  if (!config.detach_keys.empty() && !detach_key_bytes(config.detach_keys)) {
    // dockerd's wording; an untyped error there, so a 500.
    return make_error(ErrorCode::Internal, "Invalid escape keys ({}) provided", config.detach_keys);
  }
  prune_attach_state();
  auto c = MYDOCKER_TRY(find(ref));
  std::lock_guard lk(c->mu);
  Status s = c->rec.info.state.status;
  if (s == Status::Paused) {
    return make_error(ErrorCode::Conflict,
                      "Container {} is paused, unpause the container before exec", c->id());
  }
  if (s == Status::Restarting) {
    return make_error(ErrorCode::Conflict,
                      "Container {} is restarting, wait until the container is running", c->id());
  }
  if (s != Status::Running || !c->shim) {
    return make_error(ErrorCode::Conflict, "Container {} is not running", c->id());
  }
  auto e = std::make_shared<ExecRecord>();
  e->id = random_hex_id();
  e->container_id = c->id();
  e->config = config;
  {
    std::lock_guard alk(attach_mu_);
    execs_[e->id] = e;
  }
  emit_locked(*c, "exec_create: " + exec_command(config), {{"execID", e->id}});
  return e->id;
}

base::Result<void> LocalDaemon::exec_start(std::string_view exec_id,
                                           const ExecStartOptions& options,
                                           const Upgrade& upgrade) {
  auto e = MYDOCKER_TRY(find_exec(exec_id));
  refresh_exec(e);
  // Errors found once the exec exists go into the stream (as a stdout frame unless the start
  // asked for a tty), as dockerd writes them after its upgrade (119); with Detach they are
  // the answer.
  auto fail = [&](base::Error err) -> base::Result<void> {
    if (options.detach || !upgrade) {
      return err;
    }
    auto conn = upgrade(e->config.tty);
    if (conn) {
      std::string msg = err.message() + "\r\n";
      (void)write_conn(conn->get(), options.tty ? msg : frame(1, msg));
    }
    return base::ok();
  };
  {
    std::lock_guard lk(attach_mu_);
    if (e->running) {
      return fail(
          make_error(ErrorCode::Conflict, "Error: Exec command {} is already running", e->id));
    }
    if (e->started) {
      return fail(make_error(ErrorCode::Conflict, "Error: Exec command {} has already run", e->id));
    }
    e->started = true;
  }
  auto cr = find(e->container_id);
  if (!cr) {
    return fail(std::move(cr).error());
  }
  ContainerPtr c = *cr;
  std::lock_guard lk(c->mu);
  if (c->rec.info.state.status != Status::Running || !c->shim) {
    return fail(make_error(ErrorCode::Conflict, "Container {} is not running", c->id()));
  }
  auto console = options.console_size ? options.console_size : e->config.console_size;
  auto process = exec_process_locked(*c, e->config, console);
  if (!process) {
    return fail(std::move(process).error());
  }
  shim::ExecSpec spec;
  spec.id = e->id;
  spec.process = std::move(*process);
  spec.open_stdin = e->config.attach_stdin;
  shim::AttachSpec attach;
  attach.stdin_stream = e->config.attach_stdin;
  attach.stdout_stream = e->config.attach_stdout;
  attach.stderr_stream = e->config.attach_stderr;
  attach.detach_keys =
      detach_key_bytes(e->config.detach_keys.empty() ? kDefaultDetachKeys : e->config.detach_keys)
          .value_or(std::string("\x10\x11"));
  std::optional<base::Fd> conn;
  base::Fd spare;  // to answer a failed start in the stream (send_exec closes `conn`)
  if (!options.detach) {
    auto up = upgrade(e->config.tty);
    if (!up) {
      std::lock_guard alk(attach_mu_);
      e->started = false;  // the client went away before anything ran
      return std::move(up).error();
    }
    if (auto d = up->dup()) {
      spare = std::move(*d);
    }
    conn = std::move(*up);
  }
  auto pid = shim::send_exec(state_dir(c->id()), spec, attach, std::move(conn));
  if (!pid) {
    int64_t code = 126;
    base::Error err = exec_start_error(pid.error(), code);
    {
      std::lock_guard alk(attach_mu_);
      e->exit_code = code;
    }
    if (options.detach) {
      return err;
    }
    if (spare) {
      std::string msg = err.message() + "\r\n";
      (void)write_conn(spare.get(), options.tty ? msg : frame(1, msg));
    }
    return base::ok();
  }
  {
    std::lock_guard alk(attach_mu_);
    e->running = true;
    e->pid = *pid;
    auto st = shim::process_start_time(*pid);
    e->start_time = st ? *st : 0;
  }
  emit_locked(*c, "exec_start: " + exec_command(e->config), {{"execID", e->id}});
  watch_exec(e);
  return base::ok();
}

void LocalDaemon::watch_exec(const std::shared_ptr<ExecRecord>& e) {
  long pidfd = ::syscall(SYS_pidfd_open, static_cast<pid_t>(e->pid), 0);
  if (pidfd < 0) {
    return;  // already gone: noticed when looked at
  }
  base::Fd fd = base::Fd::adopt(static_cast<int>(pidfd));
  std::lock_guard lk(attach_mu_);
  if (exec_watch_stop_ || stopping_) {
    return;
  }
  if (!exec_watch_.joinable()) {
    int ep = ::epoll_create1(EPOLL_CLOEXEC);
    int wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (ep < 0 || wake < 0) {
      if (ep >= 0) {
        ::close(ep);
      }
      if (wake >= 0) {
        ::close(wake);
      }
      return;
    }
    exec_epoll_ = base::Fd::adopt(ep);
    exec_wake_ = base::Fd::adopt(wake);
    struct epoll_event ev {};
    ev.events = EPOLLIN;
    ev.data.fd = exec_wake_.get();
    ::epoll_ctl(exec_epoll_.get(), EPOLL_CTL_ADD, exec_wake_.get(), &ev);
    exec_watch_ = std::thread([this] { exec_watch_loop(); });
  }
  struct epoll_event ev {};
  ev.events = EPOLLIN;
  ev.data.fd = fd.get();
  if (::epoll_ctl(exec_epoll_.get(), EPOLL_CTL_ADD, fd.get(), &ev) != 0) {
    return;
  }
  int key = fd.get();
  exec_watches_[key] = {std::move(fd), e};
}

void LocalDaemon::exec_watch_loop() {
  while (true) {
    struct epoll_event events[16];
    int n = ::epoll_wait(exec_epoll_.get(), events, 16, -1);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return;
    }
    std::vector<std::shared_ptr<ExecRecord>> ended;
    {
      std::lock_guard lk(attach_mu_);
      if (exec_watch_stop_) {
        return;
      }
      for (int i = 0; i < n; ++i) {
        auto it = exec_watches_.find(events[i].data.fd);
        if (it == exec_watches_.end()) {
          continue;  // the wake eventfd
        }
        ::epoll_ctl(exec_epoll_.get(), EPOLL_CTL_DEL, it->first, nullptr);
        ended.push_back(std::move(it->second.second));
        exec_watches_.erase(it);
      }
    }
    for (const auto& e : ended) {
      refresh_exec(e);  // waits briefly for the shim's exit file, publishes exec_die
    }
  }
}

void LocalDaemon::stop_exec_watch() {
  {
    std::lock_guard lk(attach_mu_);
    exec_watch_stop_ = true;
    if (exec_wake_) {
      uint64_t one = 1;
      (void)!::write(exec_wake_.get(), &one, sizeof(one));
    }
  }
  if (exec_watch_.joinable()) {
    exec_watch_.join();
  }
  std::lock_guard lk(attach_mu_);
  exec_watches_.clear();
}

base::Result<ExecInfo> LocalDaemon::exec_inspect(std::string_view exec_id) {
  auto e = MYDOCKER_TRY(find_exec(exec_id));
  refresh_exec(e);
  std::lock_guard lk(attach_mu_);
  ExecInfo info;
  info.id = e->id;
  info.container_id = e->container_id;
  info.config = e->config;
  info.running = e->running;
  info.exit_code = e->exit_code;
  info.pid = e->pid;
  info.detach_keys = e->config.detach_keys;
  return info;
}

base::Result<void> LocalDaemon::exec_resize(std::string_view exec_id, int height, int width) {
  auto e = MYDOCKER_TRY(find_exec(exec_id));
  refresh_exec(e);
  {
    std::lock_guard lk(attach_mu_);
    if (!e->running) {
      return make_error(ErrorCode::NotFound, "no such exec");  // dockerd's wording (123)
    }
  }
  if (!e->config.tty) {
    return base::ok();  // nothing to size, as containerd's resize of a pipe process
  }
  auto r = shim::send_resize(state_dir(e->container_id), e->id, height, width);
  if (!r &&
      (r.error().code() == ErrorCode::NotFound || r.error().code() == ErrorCode::Unavailable)) {
    return make_error(ErrorCode::NotFound, "no such exec");
  }
  return r;
}

}  // namespace mydocker::engine::detail
