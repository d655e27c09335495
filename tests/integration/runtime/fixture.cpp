// SPDX-License-Identifier: Apache-2.0
#include "tests/integration/runtime/fixture.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "runtime/spec/spec.h"
#include "tests/support/cgroup_cleanup.h"

namespace mydocker::testing {

// The runtime's default cgroup parent (/mydocker) goes again if this binary created it.
[[maybe_unused]] ::testing::Environment* const kCgroupCleanup =
    ::testing::AddGlobalTestEnvironment(new CgroupParentCleanup);

bool eventually(const std::function<bool()>& cond, std::chrono::milliseconds deadline) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > end) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::set<std::string> cgroup_dirs_named(const std::string& leaf) {
  std::set<std::string> found;
  DIR* d = ::opendir("/sys/fs/cgroup");
  if (d == nullptr) {
    return found;
  }
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") {
      continue;
    }
    std::string dir = "/sys/fs/cgroup/" + name + "/mydocker/" + leaf;
    if (::access(dir.c_str(), F_OK) == 0) {
      found.insert(dir);
    }
  }
  ::closedir(d);
  return found;
}

std::vector<pid_t> children_of_self() {
  std::vector<pid_t> out;
  DIR* d = ::opendir("/proc");
  while (dirent* e = ::readdir(d)) {
    pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    if (pid <= 0) {
      continue;
    }
    std::string stat = read_text("/proc/" + std::string(e->d_name) + "/stat");
    size_t close = stat.rfind(')');
    if (close == std::string::npos) {
      continue;
    }
    std::istringstream rest(stat.substr(close + 2));
    char state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == ::getpid()) {
      out.push_back(pid);
    }
  }
  ::closedir(d);
  return out;
}

int count_open_fds() {
  int n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  while (dirent* e = ::readdir(d)) {
    n += e->d_name[0] != '.';
  }
  ::closedir(d);
  return n - 1;  // the DIR's own fd
}

void RootRuntimeFixture::SetUp() {
  MYDOCKER_REQUIRE(Need::Root, Need::CgroupV1);
  // Inits whose `create` has exited are reparented to us: we reap them and see their status,
  // as containerd's shim does.
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
  bundle_ = tmp_.path() + "/bundle";
  root_ = tmp_.path() + "/state";
  ASSERT_EQ(::mkdir(bundle_.c_str(), 0755), 0);
  copy_rootfs(bundle_);
  mountinfo_before_ = read_text("/proc/self/mountinfo");
  fds_before_ = count_open_fds();
}

void RootRuntimeFixture::TearDown() {
  if (root_.empty()) {
    return;  // skipped
  }
  for (const auto& id : ids_) {
    cli({"delete", "--force", id});
  }
  // Reap every container init that ended up ours.
  for (int i = 0; i < 100; ++i) {
    int status;
    pid_t r = ::waitpid(-1, &status, WNOHANG);
    if (r <= 0) {
      break;
    }
  }
  for (const auto& id : ids_) {
    EXPECT_FALSE(::access((root_ + "/" + id).c_str(), F_OK) == 0) << "state dir left: " << id;
    EXPECT_EQ(cgroup_dirs_named(id), std::set<std::string>{}) << "cgroup dirs left: " << id;
  }
  EXPECT_EQ(read_text("/proc/self/mountinfo"), mountinfo_before_) << "mounts changed";
  EXPECT_EQ(children_of_self(), std::vector<pid_t>{}) << "processes left";
  EXPECT_EQ(count_open_fds(), fds_before_) << "fds leaked";
}

void RootRuntimeFixture::write_config(const std::vector<std::string>& args,
                                      const std::function<void(nlohmann::json&)>& edit) {
  nlohmann::json j = nlohmann::json::parse(runtime::spec::default_spec_json(false));
  j["root"]["path"] = bundle_ + "/rootfs";
  j["root"]["readonly"] = false;
  j["process"]["args"] = args;
  j["process"]["terminal"] = false;
  if (edit) {
    edit(j);
  }
  std::ofstream(bundle_ + "/config.json") << j.dump(2);
}

std::string RootRuntimeFixture::new_id() {
  static int n = 0;
  std::string id = "rt-" + std::to_string(::getpid()) + "-" + std::to_string(++n);
  ids_.push_back(id);
  return id;
}

pid_t RootRuntimeFixture::cli_async(const std::vector<std::string>& args,
                                    const std::string& out_file) {
  std::vector<std::string> argv = {MYDOCKER_RUNTIME_BIN, "--root", root_};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string err_file = out_file + ".err";
  pid_t pid = ::fork();
  if (pid == 0) {
    int out = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int in = ::open("/dev/null", O_RDONLY);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::chdir(bundle_.c_str());
    std::vector<char*> cargv;
    for (auto& a : argv) {
      cargv.push_back(a.data());
    }
    cargv.push_back(nullptr);
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }
  return pid;
}

int RootRuntimeFixture::wait_exit(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

CliResult RootRuntimeFixture::cli(const std::vector<std::string>& args) {
  std::string out = tmp_.path() + "/out" + std::to_string(++calls_);
  pid_t pid = cli_async(args, out);
  CliResult r;
  r.code = wait_exit(pid);
  r.out = read_text(out);
  r.err = read_text(out + ".err");
  last_out_ = out;
  return r;
}

}  // namespace mydocker::testing
