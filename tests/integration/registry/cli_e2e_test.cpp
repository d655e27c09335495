// SPDX-License-Identifier: Apache-2.0
// E2e of the mydocker CLI's registry verbs on a private mydockerd against docker-registry on
// 127.0.0.1 with htpasswd Basic auth: login (bad and good password, the config file), push,
// rmi and pull back, run and create of a missing image (pulled first), --pull=never, logout;
// and the real docker CLI's login used by `mydocker push`. HOME and DOCKER_CONFIG point into
// the daemon's temp root. Needs what the daemon fixture needs (root, overlay).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "runtime/base/file.h"
#include "tests/integration/daemon/daemon_fixture.h"
#include "tests/integration/registry/registry_server.h"
#include "tests/support/busybox_rootfs.h"

namespace mydocker::testing::e2e {
namespace {

class RegistryCliE2e : public DaemonE2e {
 protected:
  void SetUp() override {
    DaemonE2e::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    if (::access("/usr/bin/htpasswd", X_OK) != 0) {
      GTEST_SKIP() << "htpasswd (apache2-utils) is not installed";
    }
    RegistryConfig cfg;
    cfg.htpasswd = tmp_.path() + "/htpasswd";
    ASSERT_EQ(run_shell("/usr/bin/htpasswd -Bbn alice s3cret > " + cfg.htpasswd), 0);
    std::string why;
    auto s = RegistryServer::start(tmp_.path(), cfg, &why);
    if (!s) {
      GTEST_SKIP() << why;
    }
    server_.emplace(std::move(*s));
    // The fixture's docker() uses <root>/docker-config: the same file for both CLIs.
    config_dir_ = daemon_->root() + "/docker-config";
    home_ = tmp_.path() + "/home";
    ref_ = server_->host() + "/cli/busybox:v1";
  }

  Output my(const std::vector<std::string>& args, const std::string& input = "") {
    RunOptions o;
    o.env["DOCKER_CONFIG"] = config_dir_;
    o.env["HOME"] = home_;
    o.input = input;
    return daemon_->cli(args, o);
  }
  std::string config_path() const { return config_dir_ + "/config.json"; }
  nlohmann::json config() const {
    auto text = base::read_file(config_path());
    return text ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json();
  }

  TempDir tmp_;
  std::optional<RegistryServer> server_;
  std::string config_dir_;
  std::string home_;
  std::string ref_;
};

TEST_F(RegistryCliE2e, LoginPushRmiPullRunAndLogout) {
  const std::string host = server_->host();
  Output bad = my({"login", "-u", "alice", "-p", "wrong", host});
  EXPECT_EQ(bad.status, 1) << bad.all();
  EXPECT_TRUE(bad.err.starts_with(
      "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n"))
      << bad.err;
  EXPECT_NE(bad.err.find("Error response from daemon: "), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("401 Unauthorized"), std::string::npos) << bad.err;
  EXPECT_FALSE(base::path_exists(config_path()));

  ASSERT_EQ(my({"tag", "busybox:latest", ref_}).status, 0);
  Output anon = my({"push", ref_});
  EXPECT_EQ(anon.status, 1) << anon.all();
  EXPECT_NE(anon.err.find("no basic auth credentials"), std::string::npos) << anon.all();

  Output good = my({"login", "-u", "alice", "--password-stdin", host}, "s3cret\n");
  ASSERT_EQ(good.status, 0) << good.all() << daemon_->log();
  EXPECT_EQ(good.out, "Login Succeeded\n");
  EXPECT_NE(
      good.err.find("WARNING! Your credentials are stored unencrypted in '" + config_path() + "'."),
      std::string::npos)
      << good.err;
  struct stat st {};
  ASSERT_EQ(::stat(config_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(config()["auths"][host]["auth"], "YWxpY2U6czNjcmV0");  // alice:s3cret

  Output pushed = my({"push", ref_});
  ASSERT_EQ(pushed.status, 0) << pushed.all() << daemon_->log();
  EXPECT_TRUE(pushed.out.starts_with("The push refers to repository [" + host + "/cli/busybox]\n"))
      << pushed.out;
  EXPECT_NE(pushed.out.find(": Pushed\n"), std::string::npos) << pushed.out;
  EXPECT_NE(pushed.out.find("v1: digest: sha256:"), std::string::npos) << pushed.out;
  EXPECT_EQ(pushed.out.find('\x1b'), std::string::npos) << "no escape codes without a terminal";
  Output again = my({"push", "-q", ref_});
  ASSERT_EQ(again.status, 0) << again.all();
  EXPECT_EQ(again.out, ref_ + "\n");

  std::string id = inspect("busybox:latest", "{{.Id}}");
  ASSERT_EQ(my({"rmi", ref_}).status, 0);
  Output pulled = my({"pull", ref_});
  ASSERT_EQ(pulled.status, 0) << pulled.all() << daemon_->log();
  EXPECT_NE(pulled.out.find("v1: Pulling from cli/busybox\n"), std::string::npos) << pulled.out;
  EXPECT_TRUE(
      pulled.out.ends_with("Status: Image is up to date for " + ref_ + "\n" + ref_ + "\n") ||
      pulled.out.ends_with("Status: Downloaded newer image for " + ref_ + "\n" + ref_ + "\n"))
      << pulled.out;
  EXPECT_EQ(inspect(ref_, "{{.Id}}"), id);

  // run of a missing image pulls it (progress on stderr), then runs it.
  ASSERT_EQ(my({"rmi", ref_}).status, 0);
  ASSERT_EQ(my({"rmi", "busybox:latest"}).status, 0);
  Output ran = my({"run", "--rm", ref_, "echo", "hello"});
  ASSERT_EQ(ran.status, 0) << ran.all() << daemon_->log();
  EXPECT_EQ(ran.out, "hello\n");
  EXPECT_TRUE(ran.err.starts_with("Unable to find image '" + ref_ + "' locally\n")) << ran.err;
  EXPECT_NE(ran.err.find(": Pull complete\n"), std::string::npos) << ran.err;
  EXPECT_EQ(inspect(ref_, "{{.Id}}"), id);

  ASSERT_EQ(my({"rmi", ref_}).status, 0);
  Output never = my({"run", "--rm", "--pull=never", ref_, "true"});
  EXPECT_EQ(never.status, 125) << never.all();
  EXPECT_EQ(never.err, "mydocker: Error response from daemon: No such image: " + ref_ +
                           "\nSee 'mydocker run --help'.\n");
  Output bad_pull = my({"create", "--pull", "sometimes", ref_});
  EXPECT_EQ(bad_pull.status, 125) << bad_pull.all();
  EXPECT_NE(bad_pull.err.find("invalid pull option: 'sometimes': must be one of \"always\", "
                              "\"missing\" or \"never\""),
            std::string::npos)
      << bad_pull.err;

  // create -q: the ID alone on stdout, nothing on stderr.
  Output created = my({"create", "-q", ref_});
  ASSERT_EQ(created.status, 0) << created.all();
  EXPECT_EQ(created.err, "");
  EXPECT_EQ(trim_nl(created.out).size(), 64u) << created.out;
  EXPECT_EQ(inspect(ref_, "{{.Id}}"), id);

  Output out = my({"logout", host});
  ASSERT_EQ(out.status, 0) << out.all();
  EXPECT_EQ(out.out, "Removing login credentials for " + host + "\n");
  EXPECT_FALSE(config()["auths"].contains(host)) << config().dump();
  Output twice = my({"logout", host});  // docker 28 says the same when not logged in
  EXPECT_EQ(twice.out, "Removing login credentials for " + host + "\n");
  Output anon_pull = my({"pull", ref_});
  EXPECT_EQ(anon_pull.status, 1) << anon_pull.all();
  EXPECT_NE(anon_pull.err.find("no basic auth credentials"), std::string::npos) << anon_pull.all();
}

TEST_F(RegistryCliE2e, DockerLoginWritesTheConfigThatMydockerPushUses) {
  if (::access("/usr/local/bin/docker", X_OK) != 0) {
    GTEST_SKIP() << "the docker CLI is not installed";
  }
  const std::string host = server_->host();
  Output login = daemon_->docker({"login", "-u", "alice", "-p", "s3cret", host});
  ASSERT_EQ(login.status, 0) << login.all();
  ASSERT_TRUE(base::path_exists(config_path()));
  ASSERT_EQ(my({"tag", "busybox:latest", ref_}).status, 0);
  Output pushed = my({"push", ref_});
  ASSERT_EQ(pushed.status, 0) << pushed.all() << daemon_->log();
  EXPECT_NE(pushed.out.find("v1: digest: sha256:"), std::string::npos) << pushed.out;
  // The same words as docker's, on the same streams: a push of what the registry has, a pull
  // of what is here, and the logins.
  Output docker_push = daemon_->docker({"push", ref_});
  Output my_push = my({"push", ref_});
  EXPECT_EQ(docker_push.status, 0) << docker_push.all();
  EXPECT_EQ(my_push.out, docker_push.out);
  EXPECT_NE(my_push.out.find(": Layer already exists\n"), std::string::npos) << my_push.out;
  Output docker_pull = daemon_->docker({"pull", ref_});
  Output my_pull = my({"pull", ref_});
  EXPECT_EQ(docker_pull.status, 0) << docker_pull.all();
  EXPECT_EQ(my_pull.out, docker_pull.out);
  Output mine = my({"login", "-u", "alice", "-p", "s3cret", host});
  EXPECT_EQ(mine.status, 0);
  EXPECT_EQ(mine.out, login.out);
  EXPECT_EQ(mine.err, login.err);
  Output docker_stored = daemon_->docker({"login", host});
  Output my_stored = my({"login", host});
  EXPECT_EQ(docker_stored.status, 0) << docker_stored.all();
  EXPECT_EQ(my_stored.status, 0) << my_stored.all();
  EXPECT_EQ(my_stored.out, docker_stored.out);
  std::string hint = docker_stored.err;
  for (const char* verb : {"logout", "login"}) {
    std::string from = std::string("'docker ") + verb + "'";
    if (size_t at = hint.find(from); at != std::string::npos) {
      hint.replace(at, from.size(), std::string("'mydocker ") + verb + "'");
    }
  }
  EXPECT_EQ(my_stored.err, hint);
  Output docker_bad =
      daemon_->docker({"login", "-u", "alice", "--password-stdin", "-p", "x", host});
  Output my_bad = my({"login", "-u", "alice", "--password-stdin", "-p", "x", host});
  EXPECT_EQ(my_bad.status, docker_bad.status);
  EXPECT_EQ(my_bad.err, docker_bad.err);
  // run of a missing image: the same pull lines on stderr as docker's run.
  ASSERT_EQ(my({"rmi", ref_, "busybox:latest"}).status, 0);
  Output docker_run = daemon_->docker({"run", "--rm", ref_, "echo", "hi"});
  EXPECT_EQ(docker_run.status, 0) << docker_run.all();
  ASSERT_EQ(my({"rmi", ref_}).status, 0);
  Output my_run = my({"run", "--rm", ref_, "echo", "hi"});
  EXPECT_EQ(my_run.status, 0) << my_run.all();
  EXPECT_EQ(my_run.out, "hi\n");
  EXPECT_EQ(my_run.err, docker_run.err);
  EXPECT_TRUE(my_run.err.starts_with("Unable to find image '" + ref_ + "' locally\n"))
      << my_run.err;
  // And the other way round: after mydocker's logout docker finds nothing to remove, and both
  // say what docker 28 says (it always prints "Removing login credentials for").
  Output my_logout = my({"logout", host});
  ASSERT_EQ(my_logout.status, 0);
  EXPECT_FALSE(config()["auths"].contains(host)) << config().dump();
  Output docker_logout = daemon_->docker({"logout", host});
  EXPECT_EQ(docker_logout.status, 0) << docker_logout.all();
  EXPECT_EQ(my_logout.out, docker_logout.out);
  EXPECT_EQ(my({"logout", host}).out, docker_logout.out);
}

}  // namespace
}  // namespace mydocker::testing::e2e
