// SPDX-License-Identifier: Apache-2.0
// Bad bundles fail with one line naming field and value and leave nothing behind; create/
// start/delete cycles through the library leak nothing.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "runtime/base/strings.h"
#include "runtime/state/container.h"
#include "tests/integration/runtime/fixture.h"

namespace mydocker::testing {
namespace {

using nlohmann::json;

class RootRuntimeBadInputTest : public RootRuntimeFixture {};

struct BadCase {
  const char* name;
  std::function<void(RootRuntimeFixture&, json&)> edit;
  std::vector<std::string> expect;  // substrings of the one-line error
};

TEST_F(RootRuntimeBadInputTest, EachFailsWithOneLineAndLeavesNothing) {
  const std::vector<BadCase> cases = {
      {"missing field",
       [](RootRuntimeFixture&, json& j) { j.erase("ociVersion"); },
       {"ociVersion"}},
      {"unknown capability",
       [](RootRuntimeFixture&, json& j) {
         j["process"]["capabilities"]["bounding"].push_back("CAP_FOO");
       },
       {"process.capabilities.bounding", "CAP_FOO"}},
      {"missing rootfs",
       [](RootRuntimeFixture&, json& j) { j["root"]["path"] = "/nonexistent/rootfs"; },
       {"/nonexistent/rootfs"}},
      {"mount destination escaping with ..",
       [](RootRuntimeFixture&, json& j) {
         j["mounts"].push_back(
             {{"destination", "/../../../etc/evil"}, {"type", "tmpfs"}, {"source", "tmpfs"}});
       },
       {"mounts[", "destination"}},
      {"impossible cgroup value",
       [](RootRuntimeFixture&, json& j) {
         j["linux"]["resources"]["cpu"] = {{"cpus", "900-999"}};
       },
       {"cpuset.cpus", "900-999"}},
      {"memory limit too small to set up the container",
       [](RootRuntimeFixture&, json& j) {
         j["linux"]["resources"]["memory"] = {{"limit", 12}};
       },
       {"linux.resources.memory.limit `12`", "OOM"}},
      {"CAP_SYS_RESOURCE",
       [](RootRuntimeFixture&, json& j) {
         j["process"]["capabilities"]["bounding"].push_back("CAP_SYS_RESOURCE");
         j["process"]["capabilities"]["permitted"].push_back("CAP_SYS_RESOURCE");
       },
       {"process.capabilities.bounding", "CAP_SYS_RESOURCE", "bounding set"}},
      {"rlimit above the hard limit",
       [](RootRuntimeFixture&, json& j) {
         j["process"]["rlimits"] = {
             {{"type", "RLIMIT_NOFILE"}, {"hard", 1048576}, {"soft", 1048576}}};
       },
       {"RLIMIT_NOFILE", "1048576", "CAP_SYS_RESOURCE"}},
      {"command not found (fails in the init, after cgroup and clone)",
       [](RootRuntimeFixture&, json& j) { j["process"]["args"] = {"nosuchcmd"}; },
       {"exec: \"nosuchcmd\": executable file not found in $PATH"}},
      {"hooks (not supported yet: refused, not ignored)",
       [](RootRuntimeFixture&, json& j) {
         j["hooks"] = {{"prestart", {{{"path", "/bin/true"}}}}};
       },
       {"hooks.prestart", "/bin/true"}},
      {"unknown namespace path",
       [](RootRuntimeFixture&, json& j) {
         j["linux"]["namespaces"].push_back({{"type", "cgroup"}, {"path", "/nonexistent/ns"}});
       },
       {"/nonexistent/ns"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    write_config({"true"}, [&](json& j) { c.edit(*this, j); });
    std::string id = new_id();
    CliResult r = cli({"create", "--bundle", bundle_, id});
    EXPECT_EQ(r.code, 1);
    EXPECT_EQ(r.err.rfind("mydocker-runtime: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    for (const auto& want : c.expect) {
      EXPECT_NE(r.err.find(want), std::string::npos) << "want `" << want << "` in " << r.err;
    }
    EXPECT_FALSE(::access((root_ + "/" + id).c_str(), F_OK) == 0);
    EXPECT_EQ(cgroup_dirs_named(id), std::set<std::string>{});
    EXPECT_EQ(children_of_self(), std::vector<pid_t>{});
  }
}

TEST_F(RootRuntimeBadInputTest, BrokenJson) {
  std::ofstream(bundle_ + "/config.json") << "{ \"ociVersion\": ";
  std::string id = new_id();
  CliResult r = cli({"create", "--bundle", bundle_, id});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("config.json"), std::string::npos) << r.err;
  EXPECT_FALSE(::access((root_ + "/" + id).c_str(), F_OK) == 0);
}

TEST_F(RootRuntimeBadInputTest, UnknownSignalIsNamed) {
  write_config({"sh", "-c", "while true; do sleep 0.01; done"});
  std::string id = new_id();
  ASSERT_EQ(cli({"run", "-d", "--bundle", bundle_, id}).code, 0);
  CliResult r = cli({"kill", id, "SIGFOO"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("SIGFOO"), std::string::npos) << r.err;
  EXPECT_EQ(cli({"delete", "--force", id}).code, 0);
}

TEST_F(RootRuntimeBadInputTest, InvalidIdIsRefused) {
  write_config({"true"});
  CliResult r = cli({"create", "--bundle", bundle_, "../escape"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "mydocker-runtime: invalid container id `../escape`\n");
}

class RootRuntimeLifecycleTest : public RootRuntimeFixture {};

TEST_F(RootRuntimeLifecycleTest, FiftyCyclesLeaveNothing) {
  write_config({"true"});
  runtime::CreateOptions opts;
  opts.root = root_;
  // The first cycle opens what a process keeps for good (e.g. libc's caches); count after it.
  int fds_after_first = -1;
  for (int i = 0; i < 50; ++i) {
    std::string id = "cycle-" + std::to_string(::getpid()) + "-" + std::to_string(i);
    auto c = runtime::Container::create(id, bundle_, opts);
    ASSERT_TRUE(c.has_value()) << c.error().to_string();
    ASSERT_TRUE(c->start().has_value());
    int status = 0;
    ASSERT_EQ(::waitpid(c->pid(), &status, 0), c->pid());
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    auto st = c->state();
    ASSERT_TRUE(st.has_value());
    EXPECT_EQ(st->status, runtime::state::Status::Stopped);
    auto d = c->destroy(false);
    ASSERT_TRUE(d.has_value()) << d.error().to_string();
    EXPECT_EQ(cgroup_dirs_named(id), std::set<std::string>{});
    EXPECT_FALSE(::access((root_ + "/" + id).c_str(), F_OK) == 0);
    if (i == 0) {
      fds_after_first = count_open_fds();
    }
  }
  EXPECT_EQ(count_open_fds(), fds_after_first);
  EXPECT_EQ(children_of_self(), std::vector<pid_t>{});
}

TEST_F(RootRuntimeLifecycleTest, LibraryRunReturnsTheExitCode) {
  write_config({"sh", "-c", "exit 42"});
  runtime::RunOptions opts;
  opts.create.root = root_;
  auto code = runtime::run("lib-run-" + std::to_string(::getpid()), bundle_, opts);
  ASSERT_TRUE(code.has_value()) << code.error().to_string();
  EXPECT_EQ(*code, 42);
}

}  // namespace
}  // namespace mydocker::testing
