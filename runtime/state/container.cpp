// SPDX-License-Identifier: Apache-2.0
#include "runtime/state/container.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "runtime/base/file.h"
#include "runtime/base/scope_exit.h"
#include "runtime/base/strings.h"
#include "runtime/mount/rootfs.h"
#include "runtime/process/console.h"
#include "runtime/process/init.h"
#include "runtime/process/proc.h"
#include "runtime/process/validate.h"
#include "runtime/seccomp/seccomp.h"

namespace mydocker::runtime {

namespace {

using base::ErrorCode;
using state::Status;
using Clock = std::chrono::steady_clock;

constexpr auto kStopTimeout = std::chrono::seconds(10);

// MYDOCKER_RUNTIME_TIMING=1: one stderr line per phase of create/run/destroy, to see where
// the start time goes (docs/benchmarks.md). Off: one getenv per process.
class PhaseTimer {
 public:
  PhaseTimer() : on_(std::getenv("MYDOCKER_RUNTIME_TIMING") != nullptr), last_(Clock::now()) {}
  void mark(std::string_view phase) {
    if (!on_) {
      return;
    }
    auto now = Clock::now();
    std::fprintf(stderr, "timing: %-24.*s %8.3f ms\n", static_cast<int>(phase.size()), phase.data(),
                 std::chrono::duration<double, std::milli>(now - last_).count());
    last_ = now;
  }

 private:
  bool on_;
  Clock::time_point last_;
};

PhaseTimer& timer() {
  static PhaseTimer t;
  return t;
}

std::string default_cgroups_path(const spec::Spec& s, const std::string& id) {
  return s.linux.cgroups_path.empty() ? "/mydocker/" + id : s.linux.cgroups_path;
}

base::Result<std::unique_ptr<cgroups::Manager>> open_cgroup(const std::string& path) {
  cgroups::Layout layout = MYDOCKER_TRY(cgroups::detect());
  return cgroups::make_manager(layout, path);
}

void kill_and_reap(pid_t pid) {
  ::kill(pid, SIGKILL);
  int status;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

// Polls (the init is usually not our child, so no waitpid) until it is gone.
bool wait_gone(pid_t pid, uint64_t start_time, Clock::duration timeout) {
  auto deadline = Clock::now() + timeout;
  auto delay = std::chrono::microseconds(100);
  while (process::process_alive(pid, start_time)) {
    // Our own child (run, or a library caller that created it): reap it here.
    int status;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      return true;
    }
    if (Clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(delay);
    delay = std::min<std::chrono::microseconds>(delay * 2, std::chrono::milliseconds(20));
  }
  return true;
}

// The device cgroup rules every container gets after its spec's own, as runc's specconv
// appends AllowedDevices: mknod of anything, the default nodes mount::prepare_rootfs creates,
// ptys, and the spec's linux.devices. Without them `runc spec`'s deny-all rule would make
// /dev/null unopenable.
void append_default_device_rules(const spec::Spec& s, spec::Resources& r) {
  auto rule = [](std::string type, std::optional<int64_t> major, std::optional<int64_t> minor,
                 std::string access) {
    spec::DeviceRule d;
    d.allow = true;
    d.type = std::move(type);
    d.major = major;
    d.minor = minor;
    d.access = std::move(access);
    return d;
  };
  const std::vector<spec::DeviceRule> defaults = {
      rule("c", std::nullopt, std::nullopt, "m"),  // mknod c *:*
      rule("b", std::nullopt, std::nullopt, "m"),  // mknod b *:*
      rule("c", 1, 3, "rwm"),                      // /dev/null
      rule("c", 1, 5, "rwm"),                      // /dev/zero
      rule("c", 1, 7, "rwm"),                      // /dev/full
      rule("c", 1, 8, "rwm"),                      // /dev/random
      rule("c", 1, 9, "rwm"),                      // /dev/urandom
      rule("c", 5, 0, "rwm"),                      // /dev/tty
      rule("c", 5, 2, "rwm"),                      // /dev/ptmx
      rule("c", 136, std::nullopt, "rwm"),         // /dev/pts/*
  };
  r.devices.insert(r.devices.end(), defaults.begin(), defaults.end());
  for (const auto& d : s.linux.devices) {
    if (d.type == 'c' || d.type == 'b' || d.type == 'u') {
      r.devices.push_back(rule(d.type == 'b' ? "b" : "c", d.major, d.minor, "rwm"));
    }
  }
}

bool same_user_ns(pid_t pid) {
  struct stat a {
  }, b{};
  return ::stat(fmt::format("/proc/{}/ns/user", pid).c_str(), &a) == 0 &&
         ::stat("/proc/self/ns/user", &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

base::Result<std::pair<uint32_t, uint32_t>> parse_user(const std::string& user) {
  auto parts = base::split(user, ':');
  if (parts.empty() || parts.size() > 2) {
    return base::make_error(ErrorCode::InvalidArgument, "--user: `{}` is not uid[:gid]", user);
  }
  auto uid = base::parse_uint64(parts[0]);
  std::optional<uint64_t> gid = 0;
  if (parts.size() == 2) {
    gid = base::parse_uint64(parts[1]);
  }
  if (!uid || !gid || *uid > UINT32_MAX || *gid > UINT32_MAX) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "--user: `{}` is not uid[:gid] (numeric ids only)", user);
  }
  return std::make_pair(static_cast<uint32_t>(*uid), static_cast<uint32_t>(*gid));
}

}  // namespace

base::Result<spec::Process> build_exec_process(const spec::Spec& container,
                                               const std::optional<std::string>& process_json,
                                               const ExecOverrides& o) {
  spec::Process p;
  if (process_json) {
    p = MYDOCKER_TRY_CTX(spec::parse_process(*process_json), "--process");
  } else {
    if (!container.process) {
      return base::make_error(ErrorCode::InvalidArgument, "the container has no process");
    }
    p = *container.process;
    p.terminal = false;
    p.console_size.reset();
    if (o.args.empty()) {
      return base::make_error(ErrorCode::InvalidArgument,
                              "exec: a command (args) or --process is required");
    }
    p.args = o.args;
  }
  if (!o.args.empty() && process_json) {
    p.args = o.args;
  }
  for (const auto& kv : o.env) {
    if (kv.find('=') == std::string::npos) {
      return base::make_error(ErrorCode::InvalidArgument, "--env: `{}` is not KEY=VALUE", kv);
    }
    p.env.push_back(kv);
  }
  if (!o.cwd.empty()) {
    if (o.cwd[0] != '/') {
      return base::make_error(ErrorCode::InvalidArgument, "--cwd: `{}` is not absolute", o.cwd);
    }
    p.cwd = o.cwd;
  }
  if (o.user) {
    auto [uid, gid] = MYDOCKER_TRY(parse_user(*o.user));
    p.user.uid = uid;
    p.user.gid = gid;
  }
  for (uint32_t g : o.additional_gids) {
    p.user.additional_gids.push_back(g);
  }
  if (o.tty) {
    p.terminal = *o.tty;
  }
  p.no_new_privileges = p.no_new_privileges || o.no_new_privileges;
  if (p.args.empty()) {
    return base::make_error(ErrorCode::InvalidArgument, "process.args: must not be empty");
  }
  return p;
}

Container::Container(state::Paths paths, state::State st)
    : paths_(std::move(paths)), state_(std::move(st)) {}
Container::Container(Container&&) noexcept = default;
Container& Container::operator=(Container&&) noexcept = default;
Container::~Container() = default;

base::Result<Container> Container::create(const std::string& id, const std::string& bundle_in,
                                          const CreateOptions& options) {
  MYDOCKER_TRY(state::validate_id(id));
  char abs[PATH_MAX];
  if (::realpath(bundle_in.c_str(), abs) == nullptr) {
    return base::sys_error("bundle `{}`", bundle_in);
  }
  std::string bundle = abs;
  timer().mark("start");
  spec::Spec s = MYDOCKER_TRY(spec::load_bundle(bundle));
  timer().mark("load bundle");
  if (!s.process) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "process: missing (a container needs a process to run)");
  }
  // Hooks are not run yet: refuse rather than start a container without what they set up.
  const std::pair<const char*, const std::vector<spec::Hook>*> hooks[] = {
      {"prestart", &s.hooks.prestart},
      {"createRuntime", &s.hooks.create_runtime},
      {"createContainer", &s.hooks.create_container},
      {"startContainer", &s.hooks.start_container},
      {"poststart", &s.hooks.poststart},
      {"poststop", &s.hooks.poststop},
  };
  for (const auto& [name, list] : hooks) {
    if (!list->empty()) {
      return base::make_error(ErrorCode::NotImplemented,
                              "hooks.{}: `{}`: hooks are not supported by mydocker-runtime yet",
                              name, list->front().path);
    }
  }
  // Everything that can be checked is checked before anything is created.
  process::InitConfig init;
  init.spec = &s;
  init.mounts = MYDOCKER_TRY(mount::plan(s));
  if (s.linux.seccomp) {
    init.seccomp = MYDOCKER_TRY_CTX(seccomp::compile(*s.linux.seccomp), "linux.seccomp");
  }
  MYDOCKER_TRY(process::validate_process(*s.process, process::current_host_limits()));
  timer().mark("validate (plan, seccomp)");
  if (s.process->terminal && options.console_socket.empty() && options.console_fd < 0) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "process.terminal: a terminal needs a console socket "
                            "(--console-socket)");
  }
  std::string cg_path = default_cgroups_path(s, id);
  auto cg = MYDOCKER_TRY_CTX(open_cgroup(cg_path), "linux.cgroupsPath `{}`", cg_path);
  timer().mark("cgroup detect");

  state::Paths paths(options.root, id);
  MYDOCKER_TRY(base::mkdir_all(options.root, 0700));
  if (::mkdir(paths.dir().c_str(), 0700) < 0) {
    if (errno == EEXIST) {
      return base::make_error(ErrorCode::AlreadyExists, "container `{}` already exists", id);
    }
    return base::sys_error("create state dir `{}`", paths.dir());
  }
  base::ScopeExit remove_dir([&] { (void)base::remove_all(paths.dir()); });
  std::string config_text = MYDOCKER_TRY(base::read_file(bundle + "/config.json"));
  MYDOCKER_TRY(state::write_file_replace(paths.config_json(), config_text, 0600));
  if (options.hold) {
    if (::mkfifo(paths.exec_fifo().c_str(), 0600) < 0) {
      return base::sys_error("mkfifo `{}`", paths.exec_fifo());
    }
    // In a new user namespace the init is "root" only inside: give the fifo to the host ids
    // that container root maps to, so that it may reopen it for writing.
    const spec::Namespace* userns = s.find_namespace(spec::NamespaceType::User);
    if (userns != nullptr && userns->path.empty()) {
      auto host_id = [](const std::vector<spec::IdMapping>& maps) -> std::optional<uint32_t> {
        for (const auto& m : maps) {
          if (m.container_id == 0 && m.size > 0) {
            return m.host_id;
          }
        }
        return std::nullopt;
      };
      auto uid = host_id(s.linux.uid_mappings);
      auto gid = host_id(s.linux.gid_mappings);
      if (::chown(paths.exec_fifo().c_str(), uid ? *uid : 0, gid ? *gid : 0) < 0) {
        return base::sys_error("hand `{}` to the container's root", paths.exec_fifo());
      }
    }
  }
  // Opened here, inherited through clone: the init needs no access to the state dir.
  base::Fd fifo;
  if (options.hold) {
    fifo = MYDOCKER_TRY(base::Fd::open(paths.exec_fifo(), O_PATH));
    init.exec_fifo_fd = fifo.get();
  }
  init.console.socket_path = options.console_socket;
  init.console.socket_fd = options.console_fd;

  spec::Resources resources = s.linux.resources.value_or(spec::Resources{});
  append_default_device_rules(s, resources);
  timer().mark("state dir");
  MYDOCKER_TRY_CTX(cg->create(resources), "linux.resources");
  timer().mark("cgroup create");
  base::ScopeExit destroy_cgroup([&] { (void)cg->destroy(); });

  // Relative bind sources are relative to the bundle (runc runs in the bundle directory).
  init.cgroup_tasks =
      process::self_join_tasks(cg->dirs(), s.has_namespace(spec::NamespaceType::User));
  process::BeforeGo join_cgroup = [&](pid_t child) -> base::Result<void> {
    timer().mark("clone");
    if (init.cgroup_tasks.empty()) {
      MYDOCKER_TRY_CTX(cg->add_process(child), "join cgroup `{}`", cg_path);
      timer().mark("cgroup join");
    }
    return base::ok();
  };
  auto spawned = process::spawn_init(init, join_cgroup);
  if (!spawned) {
    // A memory limit too small for the setup itself kills the init with nothing to say.
    auto stats = cg->stats();
    if (stats && stats->oom_events > 0 && s.linux.resources && s.linux.resources->memory &&
        s.linux.resources->memory->limit) {
      return std::move(spawned).error().wrap(
          fmt::format("linux.resources.memory.limit `{}`: the init was OOM-killed during setup",
                      *s.linux.resources->memory->limit));
    }
    return std::move(spawned).error();
  }
  pid_t pid = *spawned;
  timer().mark("init setup until ready");
  base::ScopeExit kill_init([pid] { kill_and_reap(pid); });

  state::State st;
  st.oci_version = s.oci_version;
  st.id = id;
  st.status = Status::Created;
  st.pid = pid;
  st.bundle = bundle;
  st.annotations = s.annotations;
  st.init_start_time = MYDOCKER_TRY(process::read_proc_stat(pid)).start_time;
  st.cgroups_path = cg_path;
  st.created = state::now_rfc3339();
  st.owner = ::getuid();
  MYDOCKER_TRY(state::write_file_replace(paths.state_json(), state::to_json(st), 0600));
  if (!options.pid_file.empty()) {
    MYDOCKER_TRY_CTX(state::write_file_replace(options.pid_file, std::to_string(pid)),
                     "--pid-file `{}`", options.pid_file);
  }
  timer().mark("state.json");
  kill_init.dismiss();
  destroy_cgroup.dismiss();
  remove_dir.dismiss();
  Container c(std::move(paths), std::move(st));
  c.cgroup_ = std::move(cg);
  return c;
}

base::Result<Container> Container::load(const std::string& root, const std::string& id) {
  MYDOCKER_TRY(state::validate_id(id));
  state::Paths paths(root, id);
  auto text = base::read_file(paths.state_json());
  if (!text) {
    if (text.error().sys_errno() == ENOENT) {
      if (base::path_exists(paths.dir())) {
        return base::make_error(ErrorCode::Conflict, "container `{}` is being created", id);
      }
      return base::make_error(ErrorCode::NotFound, "container `{}` does not exist", id);
    }
    return std::move(text).error();
  }
  state::State st = MYDOCKER_TRY_CTX(state::from_json(*text), "container `{}`", id);
  return Container(std::move(paths), std::move(st));
}

base::Result<std::vector<state::State>> Container::list(const std::string& root) {
  std::vector<state::State> out;
  DIR* d = ::opendir(root.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) {
      return out;
    }
    return base::sys_error("open state root `{}`", root);
  }
  base::ScopeExit close_dir([d] { ::closedir(d); });
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != ".." && state::validate_id(name)) {
      names.push_back(name);
    }
  }
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    auto c = load(root, name);
    if (!c) {
      if (c.error().code() == ErrorCode::Conflict) {
        state::State st;
        st.id = name;
        st.status = Status::Creating;
        out.push_back(st);
      }
      continue;
    }
    auto st = c->state();
    if (st) {
      out.push_back(*st);
    }
  }
  return out;
}

base::Result<cgroups::Manager*> Container::cgroup() {
  if (!cgroup_) {
    cgroup_ = MYDOCKER_TRY(open_cgroup(state_.cgroups_path));
  }
  return cgroup_.get();
}

base::Result<state::State> Container::state() {
  state::Observed o;
  o.init_alive = process::process_alive(state_.pid, state_.init_start_time);
  o.fifo_exists = base::path_exists(paths_.exec_fifo());
  if (o.init_alive) {
    auto cg = cgroup();
    if (cg) {
      auto frozen = (*cg)->is_frozen();
      o.frozen = frozen && *frozen;
    }
  }
  state::State st = state_;
  st.status = state::derive_status(o);
  return st;
}

base::Result<spec::Spec> Container::spec() const {
  std::string text = MYDOCKER_TRY(base::read_file(paths_.config_json()));
  return spec::parse(text);
}

base::Result<void> Container::start() {
  state::State st = MYDOCKER_TRY(state());
  if (st.status != Status::Created) {
    return base::make_error(ErrorCode::Conflict, "container `{}` is not in created state: {}", id(),
                            state::status_name(st.status));
  }
  // O_NONBLOCK: the open does not wait for the writer, so a dead init cannot hang us; poll
  // reports POLLIN once the init opened its end and wrote the byte.
  base::Fd fifo = MYDOCKER_TRY(base::Fd::open(paths_.exec_fifo(), O_RDONLY | O_NONBLOCK));
  auto deadline = Clock::now() + kStopTimeout;
  for (;;) {
    pollfd pfd{fifo.get(), POLLIN, 0};
    int n = ::poll(&pfd, 1, 20);
    if (n < 0 && errno != EINTR) {
      return base::sys_error("poll `{}`", paths_.exec_fifo());
    }
    if (n > 0) {
      char byte;
      ssize_t r = ::read(fifo.get(), &byte, 1);
      if (r == 1) {
        break;
      }
      if (r < 0 && errno == EAGAIN) {
        continue;
      }
      return base::make_error(ErrorCode::Internal,
                              "start container `{}`: the init closed the exec fifo", id());
    }
    if (!process::process_alive(state_.pid, state_.init_start_time)) {
      return base::make_error(ErrorCode::FailedPrecondition,
                              "start container `{}`: the init process exited", id());
    }
    if (Clock::now() > deadline) {
      return base::make_error(ErrorCode::Unavailable,
                              "start container `{}`: the init did not open the exec fifo", id());
    }
  }
  if (::unlink(paths_.exec_fifo().c_str()) < 0) {
    return base::sys_error("remove `{}`", paths_.exec_fifo());
  }
  return base::ok();
}

base::Result<void> Container::kill(int signal, bool all) {
  state::State st = MYDOCKER_TRY(state());
  if (st.status == Status::Stopped) {
    return base::make_error(ErrorCode::Conflict, "container `{}` is not running", id());
  }
  if (all) {
    cgroups::Manager* cg = MYDOCKER_TRY(cgroup());
    std::vector<pid_t> pids = MYDOCKER_TRY(cg->pids());
    for (pid_t p : pids) {
      ::kill(p, signal);
    }
    return base::ok();
  }
  if (::kill(st.pid, signal) < 0) {
    return base::sys_error("kill container `{}` (pid {})", id(), st.pid);
  }
  return base::ok();
}

base::Result<void> Container::pause() {
  state::State st = MYDOCKER_TRY(state());
  if (st.status != Status::Running && st.status != Status::Created) {
    return base::make_error(ErrorCode::Conflict, "container `{}` is not running: {}", id(),
                            state::status_name(st.status));
  }
  cgroups::Manager* cg = MYDOCKER_TRY(cgroup());
  return cg->freeze();
}

base::Result<void> Container::resume() {
  state::State st = MYDOCKER_TRY(state());
  if (st.status != Status::Paused) {
    return base::make_error(ErrorCode::Conflict, "container `{}` is not paused: {}", id(),
                            state::status_name(st.status));
  }
  cgroups::Manager* cg = MYDOCKER_TRY(cgroup());
  return cg->thaw();
}

base::Result<cgroups::Stats> Container::stats() {
  cgroups::Manager* cg = MYDOCKER_TRY(cgroup());
  return cg->stats();
}

base::Result<std::vector<pid_t>> Container::processes() {
  cgroups::Manager* cg = MYDOCKER_TRY(cgroup());
  return cg->pids();
}

base::Result<void> Container::update(std::string_view resources_json) {
  nlohmann::json resources = nlohmann::json::parse(resources_json, nullptr, false);
  if (resources.is_discarded() || !resources.is_object()) {
    return base::make_error(ErrorCode::InvalidArgument, "--resources: not a JSON object");
  }
  std::string text = MYDOCKER_TRY(base::read_file(paths_.config_json()));
  nlohmann::json config = nlohmann::json::parse(text, nullptr, false);
  if (config.is_discarded() || !config.is_object()) {
    return base::make_error(ErrorCode::Internal, "container `{}`: saved config.json is broken",
                            id());
  }
  // The spec parser validates linux.resources with every field named; reuse it whole.
  config["linux"]["resources"] = resources;
  spec::Spec s = MYDOCKER_TRY_CTX(spec::parse(config.dump()), "--resources");
  spec::Resources r = s.linux.resources.value_or(spec::Resources{});
  cgroups::Manager* cg = MYDOCKER_TRY(cgroup());
  MYDOCKER_TRY_CTX(cg->update(r), "update container `{}`", id());
  return state::write_file_replace(paths_.config_json(), config.dump(), 0600);
}

namespace {

// The compiled seccomp filter of the last container exec() ran in. Compiling Docker's
// default profile costs more than the rest of an exec together; a long-lived caller (the
// shim, which execs into its one container) pays it once. The filter cannot change while the
// container lives (update() touches only resources); the key (config path, init pid and
// start time) tells a new container of the same name apart.
base::Result<std::optional<seccomp::Program>> exec_seccomp(const std::string& config_json,
                                                           const state::State& st) {
  static std::mutex mu;
  static std::string cached_key;
  static std::optional<seccomp::Program> cached;
  std::string key = fmt::format("{}\n{}\n{}", config_json, st.pid, st.init_start_time);
  std::lock_guard lock(mu);
  if (key != cached_key) {
    std::string text = MYDOCKER_TRY(base::read_file(config_json));
    spec::Spec s = MYDOCKER_TRY(spec::parse(text));
    std::optional<seccomp::Program> program;
    if (s.linux.seccomp) {
      program = MYDOCKER_TRY_CTX(seccomp::compile(*s.linux.seccomp), "linux.seccomp");
    }
    cached = std::move(program);
    cached_key = std::move(key);
  }
  return cached;
}

}  // namespace

base::Result<pid_t> Container::exec(const ExecOptions& options) {
  state::State st = MYDOCKER_TRY(state());
  if (st.status != Status::Running && st.status != Status::Created) {
    return base::make_error(ErrorCode::Conflict, "cannot exec in container `{}`: it is {}", id(),
                            state::status_name(st.status));
  }
  MYDOCKER_TRY(process::validate_process(options.process, process::current_host_limits()));
  process::ExecConfig cfg;
  cfg.target_pid = st.pid;
  cfg.process = options.process;
  cfg.seccomp = MYDOCKER_TRY(exec_seccomp(paths_.config_json(), st));
  cfg.console.socket_path = options.console_socket;
  cfg.console.socket_fd = options.console_fd;
  cgroups::Manager* cg = MYDOCKER_TRY(cgroup());
  cfg.cgroup_tasks = process::self_join_tasks(
      cg->dirs(),
      base::path_exists(fmt::format("/proc/{}/ns/user", st.pid)) && !same_user_ns(st.pid));
  process::BeforeGo join_cgroup = [cg, &cfg](pid_t child) -> base::Result<void> {
    if (cfg.cgroup_tasks.empty()) {
      MYDOCKER_TRY_CTX(cg->add_process(child), "join the container's cgroup");
    }
    return base::ok();
  };
  pid_t pid = MYDOCKER_TRY(process::spawn_exec(cfg, join_cgroup));
  if (!options.pid_file.empty()) {
    auto r = state::write_file_replace(options.pid_file, std::to_string(pid));
    if (!r) {
      kill_and_reap(pid);
      return std::move(r).error().wrap(fmt::format("--pid-file `{}`", options.pid_file));
    }
  }
  return pid;
}

base::Result<void> Container::destroy(bool force) {
  state::State st = MYDOCKER_TRY(state());
  if ((st.status == Status::Running || st.status == Status::Paused) && !force) {
    return base::make_error(ErrorCode::Conflict,
                            "cannot delete container {} that is not stopped: {}", id(),
                            state::status_name(st.status));
  }
  auto cg = cgroup();
  if (st.status != Status::Stopped) {
    // A created container (runc deletes those without --force) or a forced delete.
    ::kill(st.pid, SIGKILL);
    if (cg) {
      MYDOCKER_TRY_CTX((*cg)->kill_all(), "delete container `{}`", id());
      if (st.status == Status::Paused) {
        (void)(*cg)->thaw();  // frozen tasks only die once thawed
      }
    }
    if (!wait_gone(st.pid, st.init_start_time, kStopTimeout)) {
      return base::make_error(ErrorCode::Unavailable,
                              "delete container `{}`: the init (pid {}) did not die", id(), st.pid);
    }
  } else {
    int status;
    ::waitpid(st.pid, &status, WNOHANG);  // our zombie, if we are its parent
  }
  if (cg) {
    // Without a pid namespace, processes may outlive the init.
    auto pids = (*cg)->pids();
    if (pids && !pids->empty()) {
      MYDOCKER_TRY_CTX((*cg)->kill_all(), "delete container `{}`", id());
    }
    MYDOCKER_TRY_CTX((*cg)->destroy(), "delete container `{}`", id());
  }
  MYDOCKER_TRY_CTX(base::remove_all(paths_.dir()), "delete container `{}`", id());
  return base::ok();
}

// ---- run / supervise ----------------------------------------------------------------------

namespace {

constexpr int kForwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

sigset_t supervised_set() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : kForwarded) {
    sigaddset(&set, sig);
  }
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGWINCH);
  return set;
}

// Raw mode on our stdin while relaying a pty, restored on destruction.
class RawTerminal {
 public:
  RawTerminal() {
    if (::isatty(0) && ::tcgetattr(0, &saved_) == 0) {
      termios raw = saved_;
      ::cfmakeraw(&raw);
      active_ = ::tcsetattr(0, TCSANOW, &raw) == 0;
    }
  }
  ~RawTerminal() {
    if (active_) {
      ::tcsetattr(0, TCSANOW, &saved_);
    }
  }
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

 private:
  termios saved_{};
  bool active_ = false;
};

void copy_window_size(int master) {
  winsize ws{};
  if (::ioctl(0, TIOCGWINSZ, &ws) == 0) {
    ::ioctl(master, TIOCSWINSZ, &ws);
  }
}

// One read from `from` written fully to `to`. False on EOF or error.
bool pump(int from, int to) {
  char buf[16384];
  ssize_t n = ::read(from, buf, sizeof buf);
  if (n <= 0) {
    return n < 0 && (errno == EINTR || errno == EAGAIN);
  }
  return base::write_all(to, std::string_view(buf, static_cast<size_t>(n))).has_value();
}

}  // namespace

void block_forwarded_signals() {
  sigset_t set = supervised_set();
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
}

base::Result<int> supervise(pid_t pid, int pty_master) {
  block_forwarded_signals();
  // A reader of our stdout that goes away must not kill us before we reap the container.
  ::signal(SIGPIPE, SIG_IGN);
  sigset_t set = supervised_set();
  base::Fd sfd = base::Fd::adopt(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!sfd) {
    return base::sys_error("signalfd");
  }
  std::optional<RawTerminal> raw;
  bool stdin_open = pty_master >= 0;
  bool master_open = pty_master >= 0;
  if (pty_master >= 0) {
    raw.emplace();
    copy_window_size(pty_master);
  }
  std::optional<int> exit_code;
  for (;;) {
    int status;
    pid_t r = exit_code ? 0 : ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      exit_code = process::exit_code_from_wait_status(status);
    } else if (r < 0 && errno == ECHILD) {
      return base::make_error(ErrorCode::Internal, "process {} is not our child", pid);
    }
    if (exit_code && !master_open) {
      return *exit_code;
    }
    pollfd fds[3] = {{sfd.get(), POLLIN, 0},
                     {master_open ? pty_master : -1, POLLIN, 0},
                     {stdin_open ? 0 : -1, POLLIN, 0}};
    // Once the process is gone, drain what the pty still holds, then stop.
    int n = ::poll(fds, 3, exit_code ? 0 : -1);
    if (n < 0 && errno != EINTR) {
      return base::sys_error("poll");
    }
    if (n == 0 && exit_code) {
      return *exit_code;
    }
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo si{};
      while (::read(sfd.get(), &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
        int sig = static_cast<int>(si.ssi_signo);
        if (sig == SIGWINCH) {
          if (pty_master >= 0) {
            copy_window_size(pty_master);
          }
        } else if (sig != SIGCHLD) {
          ::kill(pid, sig);
        }
      }
    }
    if (master_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      master_open = pump(pty_master, 1);
    }
    if (stdin_open && (fds[2].revents & (POLLIN | POLLHUP | POLLERR))) {
      stdin_open = pump(0, pty_master);
    }
  }
}

base::Result<int> run(const std::string& id, const std::string& bundle, const RunOptions& options) {
  // The init is our child anyway; being a subreaper also keeps processes the container
  // leaves behind (no pid namespace) reapable by us rather than by pid 1.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  if (!options.detach) {
    block_forwarded_signals();
  }
  CreateOptions create = options.create;
  create.hold = options.detach;
  // process.terminal without a console socket: the master comes back to us over a socketpair.
  base::Fd console_ours;
  base::Fd console_theirs;
  bool internal_console = false;
  if (!options.detach && create.console_socket.empty() && create.console_fd < 0) {
    auto s = spec::load_bundle(bundle);
    if (s && s->process && s->process->terminal) {
      int fds[2];
      if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) {
        return base::sys_error("socketpair for the console");
      }
      console_ours = base::Fd::adopt(fds[0]);
      console_theirs = base::Fd::adopt(fds[1]);
      create.console_fd = console_theirs.get();
      internal_console = true;
    }
  }
  Container c = MYDOCKER_TRY(Container::create(id, bundle, create));
  console_theirs.reset();
  if (options.detach) {
    auto started = c.start();
    if (!started) {
      (void)c.destroy(true);
      return std::move(started).error();
    }
    return 0;
  }
  base::Fd master;
  if (internal_console) {
    auto m = process::recv_fd(console_ours.get());
    if (!m) {
      (void)c.destroy(true);
      return std::move(m).error();
    }
    master = std::move(*m);
  }
  auto code = supervise(c.pid(), master.get());
  timer().mark("container ran");
  auto destroyed = c.destroy(true);
  timer().mark("destroy");
  if (!code) {
    return std::move(code).error();
  }
  if (!destroyed) {
    return std::move(destroyed).error();
  }
  return *code;
}

}  // namespace mydocker::runtime
