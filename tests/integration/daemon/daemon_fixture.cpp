// SPDX-License-Identifier: Apache-2.0
#include "tests/integration/daemon/daemon_fixture.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "tests/support/busybox_rootfs.h"
#include "tests/support/require.h"

extern char** environ;

namespace mydocker::testing::e2e {

namespace {

using Clock = std::chrono::steady_clock;

// Children the helpers wait for themselves; the reaper collects only the others (orphaned
// shims and containers re-parented to this subreaper).
struct Children {
  std::mutex mu;  // guards ours
  std::set<pid_t> ours;
};

Children& children() {
  static auto* c = new Children;  // leaked: the reaper thread outlives static destruction
  return *c;
}

void start_reaper_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    std::thread([] {
      while (true) {
        siginfo_t info{};
        if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid != 0) {
          std::lock_guard lock(children().mu);
          if (children().ours.count(info.si_pid) == 0) {
            ::waitpid(info.si_pid, nullptr, WNOHANG);
            continue;
          }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }).detach();
  });
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

std::string make_temp_root() {
  std::string tmpl = "/tmp/mydocker-e2e-XXXXXX";
  char* dir = ::mkdtemp(tmpl.data());
  return dir != nullptr ? std::string(dir) : std::string();
}

std::vector<std::string> envp_with(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv = *e;
    std::string k = kv.substr(0, kv.find('='));
    if (extra.count(k) == 0) {
      env.push_back(kv);
    }
  }
  for (const auto& [k, v] : extra) {
    env.push_back(k + "=" + v);
  }
  return env;
}

int decode_status(int status) {
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  if (WIFSIGNALED(status)) {
    return 128 + WTERMSIG(status);
  }
  return -1;
}

// posix_spawn with the child registered before the reaper can see it exit.
pid_t tracked_spawn(const std::vector<std::string>& argv, posix_spawn_file_actions_t* actions,
                    const std::map<std::string, std::string>& env) {
  start_reaper_once();
  std::vector<std::string> args = argv;
  std::vector<char*> cargv;
  for (auto& a : args) {
    cargv.push_back(a.data());
  }
  cargv.push_back(nullptr);
  std::vector<std::string> envs = envp_with(env);
  std::vector<char*> cenv;
  for (auto& e : envs) {
    cenv.push_back(e.data());
  }
  cenv.push_back(nullptr);
  posix_spawnattr_t attr;
  ::posix_spawnattr_init(&attr);
  sigset_t empty;
  sigemptyset(&empty);
  ::posix_spawnattr_setsigmask(&attr, &empty);
  // Own process group: a timeout kill reaches the command's children too.
  ::posix_spawnattr_setpgroup(&attr, 0);
  ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
  pid_t pid = -1;
  std::lock_guard lock(children().mu);
  int err = ::posix_spawn(&pid, cargv[0], actions, &attr, cargv.data(), cenv.data());
  ::posix_spawnattr_destroy(&attr);
  if (err != 0) {
    return -1;
  }
  children().ours.insert(pid);
  return pid;
}

int tracked_wait(pid_t pid, std::chrono::milliseconds timeout) {
  auto end = Clock::now() + timeout;
  int status = 0;
  while (true) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      break;
    }
    if (r < 0 && errno != EINTR) {
      std::lock_guard lock(children().mu);
      children().ours.erase(pid);
      return -1;
    }
    if (Clock::now() > end) {
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  std::lock_guard lock(children().mu);
  children().ours.erase(pid);
  return decode_status(status);
}

std::vector<std::string> mountinfo_points() {
  std::vector<std::string> out;
  std::istringstream in(read_text("/proc/self/mountinfo"));
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, devs, root, point;
    fields >> id >> parent >> devs >> root >> point;
    out.push_back(point);
  }
  return out;
}

std::vector<std::string> cgroup_hierarchies() {
  std::vector<std::string> out;
  if (DIR* d = ::opendir("/sys/fs/cgroup")) {
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name == "." || name == "..") {
        continue;
      }
      struct stat st {};
      std::string path = "/sys/fs/cgroup/" + name;
      if (::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
        out.push_back(path);
      }
    }
    ::closedir(d);
  }
  return out;
}

void list_subdirs(const std::string& dir, std::vector<std::string>& out) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return;
  }
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == ".." || e->d_type != DT_DIR) {
      continue;
    }
    std::string path = dir + "/" + name;
    list_subdirs(path, out);
    out.push_back(path);  // children before parents
  }
  ::closedir(d);
}

}  // namespace

const std::string& mydockerd_path() {
  static const std::string p = MYDOCKER_E2E_MYDOCKERD;
  return p;
}
const std::string& mydocker_path() {
  static const std::string p = MYDOCKER_E2E_MYDOCKER;
  return p;
}
const std::string& shim_path() {
  static const std::string p = MYDOCKER_E2E_SHIM;
  return p;
}

std::string trim_nl(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) {
    s.pop_back();
  }
  return s;
}

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds deadline) {
  auto end = Clock::now() + deadline;
  while (Clock::now() < end) {
    if (pred()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return pred();
}

Output run(const std::vector<std::string>& argv, const RunOptions& options) {
  Output result;
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) < 0 || ::pipe2(out, O_CLOEXEC) < 0 || ::pipe2(err, O_CLOEXEC) < 0) {
    result.err = "pipe failed";
    return result;
  }
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  if (options.stdout_file.empty()) {
    ::posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  } else {
    ::posix_spawn_file_actions_addopen(&actions, 1, options.stdout_file.c_str(),
                                       O_WRONLY | O_CREAT | O_TRUNC, 0644);
  }
  ::posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  pid_t pid = tracked_spawn(argv, &actions, options.env);
  ::posix_spawn_file_actions_destroy(&actions);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  if (pid < 0) {
    ::close(in[1]);
    ::close(out[0]);
    ::close(err[0]);
    result.err = "spawn " + argv[0] + " failed";
    return result;
  }
  // Feed stdin from a thread: the child may fill its stdout pipe before reading all input.
  std::thread feeder([fd = in[1], input = options.input] {
    size_t off = 0;
    while (off < input.size()) {
      ssize_t n = ::write(fd, input.data() + off, input.size() - off);
      if (n <= 0) {
        break;
      }
      off += static_cast<size_t>(n);
    }
    ::close(fd);
  });
  auto end = Clock::now() + options.timeout;
  bool timed_out = false;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0) {
    int ms = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()).count());
    if (ms <= 0) {
      timed_out = true;
      ::kill(-pid, SIGKILL);
      break;
    }
    int r = ::poll(fds, 2, ms);
    if (r < 0 && errno == EINTR) {
      continue;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
        if (n > 0) {
          (i == 0 ? result.out : result.err).append(buf, static_cast<size_t>(n));
        } else {
          ::close(fds[i].fd);
          fds[i].fd = -1;
          --open_fds;
        }
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) {
      ::close(f.fd);
    }
  }
  feeder.join();
  if (timed_out) {
    ::kill(-pid, SIGKILL);
  }
  result.status = tracked_wait(pid, std::chrono::seconds(30));
  if (timed_out) {
    result.err += "\n[e2e: timed out after " + std::to_string(options.timeout.count()) + " s]";
    result.status = -1;
  }
  return result;
}

pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  ::posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = tracked_spawn(argv, &actions, {});
  ::posix_spawn_file_actions_destroy(&actions);
  return pid;
}

int wait_child(pid_t pid, std::chrono::milliseconds timeout) {
  return tracked_wait(pid, timeout);
}

PrivateDaemon::PrivateDaemon() {
  start_reaper_once();
  root_ = make_temp_root();
  data_root_ = root_ + "/data";
  exec_root_ = root_ + "/exec";
  socket_ = root_ + "/mydockerd.sock";
  pidfile_ = root_ + "/mydockerd.pid";
  config_file_ = root_ + "/daemon.json";
  log_file_ = root_ + "/mydockerd.log";
  static std::atomic<int> counter{0};
  cgroup_parent_ =
      "/mydocker-e2e-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1));
  write_text(config_file_, "{}\n");
}

PrivateDaemon::~PrivateDaemon() {
  teardown();
}

bool PrivateDaemon::start(const std::vector<std::string>& extra_flags) {
  std::vector<std::string> argv = {mydockerd_path(),    "--data-root", data_root_,
                                   "--exec-root",       exec_root_,    "-H",
                                   "unix://" + socket_, "--pidfile",   pidfile_,
                                   "--config-file",     config_file_,  "--cgroup-parent",
                                   cgroup_parent_};
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  // No default bridge unless the test asks for one (tests/integration/network): the host's
  // networking stays untouched and containers get loopback only.
  if (std::find(extra_flags.begin(), extra_flags.end(), "--bridge") == extra_flags.end()) {
    argv.insert(argv.end(), {"--bridge", "none"});
  }
  pid_ = spawn(argv, log_file_);
  if (pid_ < 0) {
    ADD_FAILURE() << "cannot spawn " << mydockerd_path();
    return false;
  }
  bool up = eventually(
      [&] {
        if (!alive()) {
          return true;  // exited: stop polling
        }
        if (::access(socket_.c_str(), F_OK) != 0) {
          return false;
        }
        auto r = http("GET", "/_ping", "", true);
        return r.status == 200 && r.body == "OK";
      },
      std::chrono::seconds(20));
  if (!up || !alive()) {
    ADD_FAILURE() << "mydockerd did not come up; its log:\n" << log();
    return false;
  }
  return true;
}

bool PrivateDaemon::alive() const {
  if (pid_ <= 0) {
    return false;
  }
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == 0;
}

int PrivateDaemon::stop() {
  if (pid_ <= 0) {
    return -1;
  }
  ::kill(pid_, SIGTERM);
  int status = wait_child(pid_, std::chrono::seconds(30));
  if (status == -1) {
    ::kill(pid_, SIGKILL);
    status = wait_child(pid_, std::chrono::seconds(10));
    ADD_FAILURE() << "mydockerd did not stop within 30 s of SIGTERM";
  }
  pid_ = -1;
  return status;
}

void PrivateDaemon::kill9() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    wait_child(pid_, std::chrono::seconds(10));
    pid_ = -1;
  }
}

std::string PrivateDaemon::log() const {
  return read_text(log_file_);
}

Output PrivateDaemon::cli(const std::vector<std::string>& args, const RunOptions& options) const {
  std::vector<std::string> argv = {mydocker_path(), "-H", "unix://" + socket_};
  argv.insert(argv.end(), args.begin(), args.end());
  RunOptions o = options;
  // The CLI must not pick up a host-wide daemon.
  o.env.emplace("MYDOCKER_HOST", "unix://" + socket_);
  o.env.emplace("DOCKER_HOST", "unix://" + socket_);
  return run(argv, o);
}

Output PrivateDaemon::docker(const std::vector<std::string>& args,
                             const RunOptions& options) const {
  std::vector<std::string> argv = {"/usr/local/bin/docker"};
  argv.insert(argv.end(), args.begin(), args.end());
  RunOptions o = options;
  o.env["DOCKER_HOST"] = "unix://" + socket_;
  o.env["DOCKER_CONFIG"] = root_ + "/docker-config";
  o.env["DOCKER_CLI_HINTS"] = "false";
  return run(argv, o);
}

HttpResponse PrivateDaemon::http(const std::string& method, const std::string& path,
                                 const std::string& body, bool raw_path) const {
  std::vector<std::string> argv = {"/usr/bin/curl", "-sS",        "--unix-socket",
                                   socket_,         "--max-time", "60"};
  if (method == "HEAD") {
    argv.push_back("-I");
  } else {
    argv.insert(argv.end(), {"-X", method});
  }
  RunOptions o;
  if (!body.empty()) {
    argv.insert(argv.end(), {"-H", "Content-Type: application/json", "--data-binary", "@-"});
    o.input = body;
  } else if (method == "POST") {
    // As Go's client (docker CLI, SDKs) sends a bodiless POST. Bare `curl -X POST` sends no
    // Content-Length at all: RootApiE2e.BarePostWithoutContentLength covers that.
    argv.insert(argv.end(), {"-H", "Content-Length: 0"});
  }
  argv.insert(argv.end(),
              {"-w", "\n%{http_code}", "http://d" + (raw_path ? path : "/v1.41" + path)});
  Output out = run(argv, o);
  HttpResponse r;
  size_t nl = out.out.rfind('\n');
  if (out.status != 0 || nl == std::string::npos) {
    r.status = 0;
    r.body = out.all();
    return r;
  }
  r.status = std::atoi(out.out.c_str() + nl + 1);
  r.body = out.out.substr(0, nl);
  return r;
}

HttpResponse PrivateDaemon::http_file(const std::string& method, const std::string& path,
                                      const std::string& file,
                                      const std::string& content_type) const {
  std::vector<std::string> argv = {"/usr/bin/curl",
                                   "-sS",
                                   "--unix-socket",
                                   socket_,
                                   "--max-time",
                                   "120",
                                   "-X",
                                   method,
                                   "-H",
                                   "Content-Type: " + content_type,
                                   "--data-binary",
                                   "@" + file,
                                   "-w",
                                   "\n%{http_code}",
                                   "http://d/v1.41" + path};
  Output out = run(argv);
  HttpResponse r;
  size_t nl = out.out.rfind('\n');
  if (out.status != 0 || nl == std::string::npos) {
    r.body = out.all();
    return r;
  }
  r.status = std::atoi(out.out.c_str() + nl + 1);
  r.body = out.out.substr(0, nl);
  return r;
}

bool PrivateDaemon::make_busybox() {
  std::string tar = root_ + "/busybox.tar";
  Output t = run({"/bin/tar", "-C", busybox_rootfs(), "--numeric-owner", "-cf", tar, "."});
  if (t.status != 0) {
    ADD_FAILURE() << "tar busybox rootfs: " << t.all();
    return false;
  }
  Output o = cli({"import", "-c", "CMD [\"sh\"]", tar, "busybox:latest"});
  if (o.status != 0) {
    ADD_FAILURE() << "mydocker import busybox: " << o.all();
    return false;
  }
  return true;
}

std::vector<std::string> PrivateDaemon::mounts_under_roots() const {
  std::vector<std::string> out;
  for (const auto& p : mountinfo_points()) {
    if (p.rfind(root_ + "/", 0) == 0) {
      out.push_back(p);
    }
  }
  return out;
}

std::vector<std::string> PrivateDaemon::cgroups_under_parent() const {
  std::vector<std::string> out;
  for (const auto& h : cgroup_hierarchies()) {
    list_subdirs(h + cgroup_parent_, out);
  }
  return out;
}

std::vector<pid_t> PrivateDaemon::shim_pids() const {
  std::vector<pid_t> out;
  DIR* d = ::opendir("/proc");
  if (d == nullptr) {
    return out;
  }
  while (dirent* e = ::readdir(d)) {
    pid_t pid = std::atoi(e->d_name);
    if (pid <= 0) {
      continue;
    }
    char exe[4096];
    std::string link = std::string("/proc/") + e->d_name + "/exe";
    ssize_t n = ::readlink(link.c_str(), exe, sizeof exe - 1);
    if (n <= 0) {
      continue;
    }
    exe[n] = '\0';
    if (shim_path() != exe) {
      continue;
    }
    // Ours: the daemon's child, or re-parented to this subreaper after a kill -9.
    std::string stat = read_text(std::string("/proc/") + e->d_name + "/stat");
    size_t rp = stat.rfind(')');
    if (rp == std::string::npos) {
      continue;
    }
    std::istringstream fields(stat.substr(rp + 2));
    std::string state;
    pid_t ppid = 0;
    fields >> state >> ppid;
    if (state == "Z") {
      continue;
    }
    if (ppid == ::getpid() || (pid_ > 0 && ppid == pid_)) {
      out.push_back(pid);
    } else {
      // A daemon started by this fixture earlier and killed may have left its own
      // children's children: accept any shim whose state dir is under our exec root.
      std::string cmdline = read_text(std::string("/proc/") + e->d_name + "/cmdline");
      if (cmdline.find(exec_root_) != std::string::npos) {
        out.push_back(pid);
      }
    }
  }
  ::closedir(d);
  return out;
}

int PrivateDaemon::fd_count() const {
  int n = 0;
  std::string dir = "/proc/" + std::to_string(pid_) + "/fd";
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] != '.') {
        ++n;
      }
    }
    ::closedir(d);
  }
  return n;
}

std::vector<std::string> PrivateDaemon::leftovers() const {
  std::vector<std::string> out;
  for (const auto& m : mounts_under_roots()) {
    out.push_back("mount " + m);
  }
  for (const auto& c : cgroups_under_parent()) {
    out.push_back("cgroup " + c);
  }
  for (pid_t p : shim_pids()) {
    out.push_back("shim process " + std::to_string(p));
  }
  return out;
}

void PrivateDaemon::teardown() {
  if (torn_down_) {
    return;
  }
  torn_down_ = true;
  if (alive()) {
    auto list = http("GET", "/containers/json?all=1");
    if (list.status == 200) {
      // IDs without a JSON parser: every "Id":"<64 hex>".
      size_t pos = 0;
      while ((pos = list.body.find("\"Id\":\"", pos)) != std::string::npos) {
        pos += 6;
        std::string id = list.body.substr(pos, 64);
        http("DELETE", "/containers/" + id + "?force=1&v=1");
      }
    }
    int status = stop();
    EXPECT_EQ(status, 0) << "mydockerd exit status after SIGTERM; log:\n" << log();
    EXPECT_FALSE(::access(pidfile_.c_str(), F_OK) == 0) << "pidfile left behind";
    EXPECT_FALSE(::access(socket_.c_str(), F_OK) == 0) << "socket left behind";
  } else if (pid_ > 0) {
    kill9();
  }
  for (const auto& l : leftovers()) {
    ADD_FAILURE() << "leftover after the test: " << l;
  }
  force_cleanup();
}

void PrivateDaemon::force_cleanup() {
  // Processes first (shims, then anything in our cgroups), then mounts, then cgroups.
  for (pid_t p : shim_pids()) {
    ::kill(p, SIGKILL);
  }
  std::vector<std::string> cgroups = cgroups_under_parent();
  for (const auto& h : cgroup_hierarchies()) {
    cgroups.push_back(h + cgroup_parent_);
  }
  for (const auto& cg : cgroups) {
    std::istringstream procs(read_text(cg + "/cgroup.procs"));
    pid_t p;
    while (procs >> p) {
      ::kill(p, SIGKILL);
    }
  }
  std::vector<std::string> mounts = mounts_under_roots();
  for (auto it = mounts.rbegin(); it != mounts.rend(); ++it) {
    ::umount2(it->c_str(), MNT_DETACH);
  }
  for (const auto& cg : cgroups) {
    eventually([&] { return ::rmdir(cg.c_str()) == 0 || errno == ENOENT; },
               std::chrono::seconds(5));
  }
  if (!root_.empty() && mounts_under_roots().empty()) {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
}

void DaemonE2e::SetUp() {
  MYDOCKER_REQUIRE(Need::Root, Need::Overlay);
  daemon_ = std::make_unique<PrivateDaemon>();
  ASSERT_TRUE(daemon_->start());
  ASSERT_TRUE(daemon_->make_busybox());
}

void DaemonE2e::TearDown() {
  if (daemon_) {
    daemon_->teardown();
    daemon_.reset();
  }
}

std::string DaemonE2e::run_detached(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"run", "-d"};
  argv.insert(argv.end(), args.begin(), args.end());
  Output o = daemon_->cli(argv);
  EXPECT_EQ(o.status, 0) << o.all();
  std::string id = trim_nl(o.out);
  EXPECT_EQ(id.size(), 64u) << o.all();
  return id;
}

std::string DaemonE2e::inspect(const std::string& ref, const std::string& format) {
  Output o = daemon_->cli({"inspect", "-f", format, ref});
  EXPECT_EQ(o.status, 0) << o.all();
  return trim_nl(o.out);
}

}  // namespace mydocker::testing::e2e
