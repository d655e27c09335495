// SPDX-License-Identifier: Apache-2.0
// E2e fixture: a private mydockerd (temp data root, exec root, socket, pidfile, and a cgroup
// parent of its own), the busybox:latest image made from tests/support's busybox rootfs, and
// helpers to drive it through the mydocker CLI, raw HTTP (curl --unix-socket) and the real
// docker CLI.
//
// The test process is a child subreaper (PR_SET_CHILD_SUBREAPER): shims of a daemon killed
// with -9 become its children, and a reaper thread collects those orphans (never the
// children the helpers wait for themselves).
//
// Teardown leaves nothing: containers are force-removed through the API, the daemon is
// stopped (SIGTERM, then SIGKILL) by its pid, and whatever is left (mounts under the temp
// roots, cgroups under the daemon's cgroup parent, shim processes of this build) is reported
// as a leftover (a test failure) and then removed.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mydocker::testing::e2e {

// Paths of the binaries under test (set by CMake).
const std::string& mydockerd_path();
const std::string& mydocker_path();
const std::string& shim_path();

struct Output {
  int status = -1;  // exit code, or 128 + signal
  std::string out;
  std::string err;
  std::string all() const { return out + err; }
};

struct RunOptions {
  std::string input;                       // written to stdin (then closed)
  std::map<std::string, std::string> env;  // added to (or replacing in) the environment
  std::chrono::seconds timeout{60};        // killed (SIGKILL) after it
  std::string stdout_file;                 // "" -> captured in Output::out
};

// Runs argv (argv[0] is a path) and waits. The child is tracked, so the orphan reaper leaves
// it alone.
Output run(const std::vector<std::string>& argv, const RunOptions& options = {});

// Spawns argv with stdout and stderr appended to `log`, stdin from /dev/null; returns its pid.
// The caller waits for it with wait_child().
pid_t spawn(const std::vector<std::string>& argv, const std::string& log);
// Waits for a spawned child up to `timeout`; returns its status as run() does, or -1 on timeout.
int wait_child(pid_t pid, std::chrono::milliseconds timeout);

struct HttpResponse {
  int status = 0;
  std::string body;
};

// A private mydockerd. start() spawns it and waits for /_ping; stop() SIGTERMs it and waits.
class PrivateDaemon {
 public:
  PrivateDaemon();
  ~PrivateDaemon();
  PrivateDaemon(const PrivateDaemon&) = delete;
  PrivateDaemon& operator=(const PrivateDaemon&) = delete;

  // Extra flags are appended to the fixture's own. Fails the test (returns false) when the
  // daemon exits or does not answer /_ping within 20 s.
  bool start(const std::vector<std::string>& extra_flags = {});
  // SIGTERM and wait (up to 30 s, then SIGKILL); returns its exit status.
  int stop();
  // SIGKILL and reap (no cleanup by the daemon).
  void kill9();
  bool alive() const;
  pid_t pid() const { return pid_; }

  const std::string& root() const { return root_; }  // temp dir holding everything below
  const std::string& data_root() const { return data_root_; }
  const std::string& exec_root() const { return exec_root_; }
  const std::string& socket() const { return socket_; }
  const std::string& pidfile() const { return pidfile_; }
  const std::string& config_file() const { return config_file_; }
  const std::string& log_file() const { return log_file_; }
  const std::string& cgroup_parent() const { return cgroup_parent_; }  // "/mydocker-e2e-..."
  std::string log() const;                                             // the daemon's stderr so far

  // `mydocker -H unix://<socket> args...`
  Output cli(const std::vector<std::string>& args, const RunOptions& options = {}) const;
  // The real docker CLI with DOCKER_HOST=unix://<socket>.
  Output docker(const std::vector<std::string>& args, const RunOptions& options = {}) const;
  // curl --unix-socket; path without the /v1.41 prefix unless `raw_path`.
  HttpResponse http(const std::string& method, const std::string& path,
                    const std::string& body = "", bool raw_path = false) const;
  HttpResponse http_file(const std::string& method, const std::string& path,
                         const std::string& file, const std::string& content_type) const;

  // busybox:latest from the busybox rootfs (mydocker import -c 'CMD ["sh"]').
  bool make_busybox();

  // Leftover probes.
  std::vector<std::string> mounts_under_roots() const;
  std::vector<std::string> cgroups_under_parent() const;  // container cgroups (not the parent)
  std::vector<pid_t> shim_pids() const;        // shims of this build, ours or the daemon's
  int fd_count() const;                        // of the daemon process
  std::vector<std::string> leftovers() const;  // all of the above, described

  // Force-removes every container (through the API), stops the daemon, reports leftovers as
  // test failures, then removes them. Called by the destructor; idempotent.
  void teardown();

 private:
  void force_cleanup();
  std::string root_, data_root_, exec_root_, socket_, pidfile_, config_file_, log_file_;
  std::string cgroup_parent_;
  pid_t pid_ = -1;
  bool torn_down_ = false;
};

// Base fixture: skips unless root + overlay; a started daemon with busybox:latest.
class DaemonE2e : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  // Runs `mydocker run -d busybox <cmd...>` and returns the ID (fails the test on error).
  std::string run_detached(const std::vector<std::string>& args);
  std::string inspect(const std::string& ref, const std::string& format);

  std::unique_ptr<PrivateDaemon> daemon_;
};

std::string trim_nl(std::string s);
// Polls (2 ms steps) until pred holds or the deadline passes.
bool eventually(const std::function<bool()>& pred,
                std::chrono::milliseconds deadline = std::chrono::seconds(20));

}  // namespace mydocker::testing::e2e
