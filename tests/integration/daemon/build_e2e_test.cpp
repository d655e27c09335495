// SPDX-License-Identifier: Apache-2.0
// Builds through a private mydockerd: `mydocker build` and the real docker CLI's classic
// builder (DOCKER_BUILDKIT=0 docker build) print the same thing (IDs masked) and give the same
// image config; -q, a failing RUN (its exit status and message), a syntax error, stdin
// contexts, and `builder prune`.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "tests/integration/daemon/daemon_fixture.h"

namespace mydocker::testing::e2e {
namespace {

using nlohmann::json;

class RootBuildE2e : public DaemonE2e {
 protected:
  void SetUp() override {
    DaemonE2e::SetUp();
    if (HasFatalFailure() || IsSkipped()) {
      return;
    }
    has_docker_ = ::access("/usr/local/bin/docker", X_OK) == 0;
  }

  // A context directory under the daemon's temp root.
  std::string context(const std::string& name, const std::map<std::string, std::string>& files) {
    std::string dir = daemon_->root() + "/" + name;
    for (const auto& [rel, data] : files) {
      std::string p = dir + "/" + rel;
      std::string parent = p.substr(0, p.rfind('/'));
      run({"/bin/mkdir", "-p", parent});
      std::ofstream(p) << data;
    }
    return dir;
  }

  Output docker_build(const std::vector<std::string>& args, const RunOptions& options = {}) {
    std::vector<std::string> argv = {"build"};
    argv.insert(argv.end(), args.begin(), args.end());
    RunOptions o = options;
    o.env["DOCKER_BUILDKIT"] = "0";
    return daemon_->docker(argv, o);
  }
  Output mydocker_build(const std::vector<std::string>& args, const RunOptions& options = {}) {
    std::vector<std::string> argv = {"build"};
    argv.insert(argv.end(), args.begin(), args.end());
    return daemon_->cli(argv, options);
  }

  json image(const std::string& ref) {
    auto r = daemon_->http("GET", "/images/" + ref + "/json");
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false);
  }
  json history(const std::string& ref) {
    auto r = daemon_->http("GET", "/images/" + ref + "/history");
    EXPECT_EQ(r.status, 200) << r.body;
    json out = json::array();
    for (const auto& h : json::parse(r.body, nullptr, false)) {
      out.push_back({h["CreatedBy"], h["Size"] == 0});
    }
    return out;
  }

  bool has_docker_ = false;
};

RunOptions with_input(std::string input) {
  RunOptions o;
  o.input = std::move(input);
  return o;
}

// 12-hex IDs (containers, images) differ between two builds.
std::string mask_ids(const std::string& s) {
  return std::regex_replace(s, std::regex("[0-9a-f]{12}"), "<id>");
}

// docker 28 prints a deprecation notice for the classic builder; mydocker has nothing to say.
std::string without_notice(std::string err) {
  size_t p = err.find("DEPRECATED: The legacy builder");
  if (p == std::string::npos) {
    return err;
  }
  size_t end = err.find("\n\n", p);
  return err.erase(p, end == std::string::npos ? std::string::npos : end + 2 - p);
}

const char* const kDockerfile =
    "FROM busybox\n"
    "LABEL tx-build=\"1\"\n"
    "ENV A=1 B=\"two words\"\n"
    "WORKDIR /app\n"
    "RUN echo built > /tx-file && echo step output\n"
    "COPY hello.txt /hello.txt\n"
    "EXPOSE 8080/tcp\n"
    "USER 1000:1000\n"
    "ENTRYPOINT [\"/bin/sh\", \"-c\"]\n"
    "CMD [\"cat\", \"/tx-file\"]\n";

TEST_F(RootBuildE2e, DockerAndMydockerPrintTheSameAndBuildTheSameConfig) {
  if (!has_docker_) {
    GTEST_SKIP() << "the docker CLI is not installed at /usr/local/bin/docker";
  }
  std::string dir = context("ctx", {{"Dockerfile", kDockerfile},
                                    {"hello.txt", "hello\n"},
                                    {"skip.log", "x"},
                                    {".dockerignore", "*.log\n"}});
  Output mine = mydocker_build({"--no-cache", "-t", "tx-my:1", "--label", "by=cli", dir});
  ASSERT_EQ(mine.status, 0) << mine.all();
  Output theirs = docker_build({"--no-cache", "-t", "tx-dk:1", "--label", "by=cli", dir});
  ASSERT_EQ(theirs.status, 0) << theirs.all();
  EXPECT_EQ(mask_ids(mine.out),
            std::regex_replace(mask_ids(theirs.out), std::regex("tx-dk:1"), "tx-my:1"));
  EXPECT_TRUE(mine.out.starts_with("Sending build context to Docker daemon  "));
  EXPECT_EQ(mine.err, "");
  EXPECT_EQ(without_notice(theirs.err), "");

  json a = image("tx-my:1");
  json b = image("tx-dk:1");
  ASSERT_TRUE(a.is_object() && b.is_object());
  // Config.Image names the parent step's image, an ID of each build's own.
  EXPECT_TRUE(a["Config"]["Image"].get<std::string>().starts_with("sha256:"));
  a["Config"].erase("Image");
  b["Config"].erase("Image");
  EXPECT_EQ(a["Config"], b["Config"]);
  EXPECT_EQ(a["Config"]["Labels"], (json{{"by", "cli"}, {"tx-build", "1"}}));
  EXPECT_EQ(a["Config"]["WorkingDir"], "/app");
  EXPECT_EQ(a["Os"], b["Os"]);
  EXPECT_EQ(a["Architecture"], b["Architecture"]);
  EXPECT_EQ(a["RootFS"]["Layers"].size(), b["RootFS"]["Layers"].size());
  EXPECT_EQ(history("tx-my:1"), history("tx-dk:1"));

  // Unchanged: both fully cached, the same image, and -q prints only its ID.
  Output q1 = mydocker_build({"-q", dir});
  Output q2 = docker_build({"-q", dir});
  ASSERT_EQ(q1.status, 0) << q1.all();
  ASSERT_EQ(q2.status, 0) << q2.all();
  EXPECT_TRUE(std::regex_match(q1.out, std::regex("sha256:[0-9a-f]{64}\n"))) << q1.out;
  EXPECT_EQ(q1.out, q2.out);
}

TEST_F(RootBuildE2e, FailingRunAndSyntaxErrorAsDocker) {
  if (!has_docker_) {
    GTEST_SKIP() << "the docker CLI is not installed at /usr/local/bin/docker";
  }
  std::string fail =
      context("fail", {{"Dockerfile", "FROM busybox\nRUN echo about to fail && exit 3\n"}});
  Output mine = mydocker_build({"-t", "tx-fail:1", fail});
  Output theirs = docker_build({"-t", "tx-fail:1", fail});
  EXPECT_EQ(mine.status, 3) << mine.all();
  EXPECT_EQ(theirs.status, 3) << theirs.all();
  EXPECT_EQ(mine.err,
            "The command '/bin/sh -c echo about to fail && exit 3' returned a non-zero code: 3\n");
  EXPECT_EQ(without_notice(theirs.err), mine.err);
  EXPECT_EQ(mask_ids(mine.out), mask_ids(theirs.out));
  EXPECT_NE(mine.out.find("about to fail\n"), std::string::npos) << mine.out;
  // Nothing tagged.
  EXPECT_EQ(daemon_->http("GET", "/images/tx-fail:1/json").status, 404);
  // -q: nothing on stdout, the steps and the error on stderr.
  Output quiet = mydocker_build({"-q", fail});
  EXPECT_EQ(quiet.status, 3);
  EXPECT_EQ(quiet.out, "");
  EXPECT_NE(quiet.err.find("Step 2/2 : RUN echo about to fail && exit 3\n"), std::string::npos)
      << quiet.err;

  std::string bad = context("bad", {{"Dockerfile", "FROM busybox\nFOO bar\n"}});
  mine = mydocker_build({bad});
  theirs = docker_build({bad});
  EXPECT_EQ(mine.status, 1);
  EXPECT_EQ(theirs.status, 1);
  EXPECT_EQ(
      mine.err,
      "Error response from daemon: dockerfile parse error line 2: unknown instruction: FOO\n");
  EXPECT_EQ(without_notice(theirs.err), mine.err);
}

TEST_F(RootBuildE2e, StdinContextsAndIidfile) {
  // A Dockerfile on stdin: the context is empty.
  Output df = mydocker_build({"-q", "-"}, with_input("FROM busybox\nRUN echo from-stdin\n"));
  ASSERT_EQ(df.status, 0) << df.all();
  EXPECT_TRUE(std::regex_match(df.out, std::regex("sha256:[0-9a-f]{64}\n"))) << df.out;
  // A tar on stdin (made by tar(1)), with --iidfile.
  std::string dir = context("tarctx", {{"Dockerfile", "FROM busybox\nCOPY f /f\n"}, {"f", "x"}});
  std::string tar = daemon_->root() + "/ctx.tar";
  ASSERT_EQ(run({"/bin/tar", "-C", dir, "-cf", tar, "."}).status, 0);
  std::ifstream in(tar, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string iid = daemon_->root() + "/iid";
  Output t = mydocker_build({"--iidfile", iid, "-t", "tx-tar:1", "-"}, with_input(bytes));
  ASSERT_EQ(t.status, 0) << t.all();
  std::ifstream idf(iid);
  std::string id((std::istreambuf_iterator<char>(idf)), std::istreambuf_iterator<char>());
  EXPECT_EQ(id, image("tx-tar:1")["Id"]);
  // -f - with a directory context.
  Output f = mydocker_build({"-q", "-f", "-", dir}, with_input("FROM busybox\nCOPY f /g\n"));
  ASSERT_EQ(f.status, 0) << f.all();
  // Both at once is refused as docker refuses it.
  Output both = mydocker_build({"-f", "-", "-"});
  EXPECT_EQ(both.status, 1);
  EXPECT_EQ(both.err, "invalid argument: can't use stdin for both build context and dockerfile\n");
}

TEST_F(RootBuildE2e, BuilderPrune) {
  std::string dir = context("prune", {{"Dockerfile", "FROM busybox\nRUN echo cached\n"}});
  ASSERT_EQ(mydocker_build({"-q", dir}).status, 0);
  Output cached = mydocker_build({dir});
  EXPECT_NE(cached.out.find("Using cache"), std::string::npos) << cached.out;
  Output no = daemon_->cli({"builder", "prune"}, with_input("n\n"));
  EXPECT_EQ(no.status, 0);
  EXPECT_EQ(no.out,
            "WARNING! This will remove all dangling build cache. Are you sure you want to "
            "continue? [y/N] ");
  Output p = daemon_->cli({"builder", "prune", "-a", "-f"});
  ASSERT_EQ(p.status, 0) << p.all();
  EXPECT_TRUE(p.out.starts_with("Deleted build cache objects:\n")) << p.out;
  EXPECT_NE(p.out.find("\n\nTotal reclaimed space: "), std::string::npos) << p.out;
  Output again = mydocker_build({dir});
  EXPECT_EQ(again.out.find("Using cache"), std::string::npos) << again.out;
  Output empty = daemon_->cli({"builder", "prune", "-a", "-f"});
  EXPECT_EQ(empty.status, 0);
  EXPECT_TRUE(empty.out.starts_with("Deleted build cache objects:\n") ||
              empty.out == "Total reclaimed space: 0B\n")
      << empty.out;
  auto bad = daemon_->http("POST", "/build/prune?filters=%7B%22id%22%3A%5B%22a%22%2C%22b%22%5D%7D");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body,
            "{\"message\":\"failed to prune build cache: filters expect only one value\"}\n");
}

}  // namespace
}  // namespace mydocker::testing::e2e
