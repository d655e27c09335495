// SPDX-License-Identifier: Apache-2.0
// `mydocker build` against a fake daemon, side by side with the real docker CLI's classic
// builder path (DOCKER_BUILDKIT=0, when /usr/local/bin/docker exists): the same context tar
// (entries, order, modes, contents, links; .dockerignore with `!` and `**`, -f outside the
// context), the same query, and the same output and exit status for the same answer.
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "tests/unit/api/client/fake_daemon.h"

namespace mydocker::testing {
namespace {

struct Entry {
  std::string name;
  unsigned type = 0;
  unsigned mode = 0;
  std::string data;
  std::string link;
  bool operator==(const Entry&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Entry& e) {
  return os << e.name << " type=" << e.type << " mode=" << std::oct << e.mode << std::dec
            << " link=" << e.link << " data=" << e.data.size() << "B";
}

// The entries of a context tar, in order; generated Dockerfile names made uniform.
std::vector<Entry> entries(const std::string& tar) {
  std::vector<Entry> out;
  archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  archive_read_support_filter_all(a);
  EXPECT_EQ(archive_read_open_memory(a, tar.data(), tar.size()), ARCHIVE_OK);
  archive_entry* ae = nullptr;
  while (archive_read_next_header(a, &ae) == ARCHIVE_OK) {
    Entry e;
    e.name = std::regex_replace(archive_entry_pathname(ae),
                                std::regex("\\.dockerfile\\.[0-9a-f]{20}"), ".dockerfile.X");
    e.type = archive_entry_filetype(ae);
    e.mode = archive_entry_perm(ae);
    if (archive_entry_hardlink(ae) != nullptr) {
      e.link = archive_entry_hardlink(ae);
    } else if (archive_entry_symlink(ae) != nullptr) {
      e.link = archive_entry_symlink(ae);
    }
    char buf[4096];
    la_ssize_t n;
    while ((n = archive_read_data(a, buf, sizeof(buf))) > 0) {
      e.data.append(buf, static_cast<size_t>(n));
    }
    e.data =
        std::regex_replace(e.data, std::regex("\\.dockerfile\\.[0-9a-f]{20}"), ".dockerfile.X");
    out.push_back(std::move(e));
  }
  archive_read_free(a);
  return out;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Result {
  int status = -1;
  std::string out;
  std::string err;
};

Result run(const std::string& cmd, const std::string& cwd) {
  TempDir d;
  std::string full = "cd " + cwd + " && " + cmd + " >" + d.path() + "/o 2>" + d.path() + "/e";
  int rc = std::system(full.c_str());  // NOLINT(concurrency-mt-unsafe): test main thread
  Result r;
  r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  r.out = slurp(d.path() + "/o");
  r.err = slurp(d.path() + "/e");
  return r;
}

std::string without_notice(std::string err) {
  size_t p = err.find("DEPRECATED: The legacy builder");
  if (p == std::string::npos) {
    return err;
  }
  size_t end = err.find("\n\n", p);
  return err.erase(p, end == std::string::npos ? std::string::npos : end + 2 - p);
}

// The query parameters of a target, without the version prefix.
std::multimap<std::string, std::string> query_of(const std::string& target) {
  std::multimap<std::string, std::string> out;
  size_t q = target.find('?');
  if (q == std::string::npos) {
    return out;
  }
  std::stringstream ss(target.substr(q + 1));
  std::string kv;
  while (std::getline(ss, kv, '&')) {
    size_t eq = kv.find('=');
    out.emplace(kv.substr(0, eq), eq == std::string::npos ? "" : kv.substr(eq + 1));
  }
  return out;
}

std::string unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

class BuildFlowTest : public ::testing::Test {
 protected:
  void SetUp() override { has_docker_ = ::access("/usr/local/bin/docker", X_OK) == 0; }

  void put(const std::string& rel, const std::string& data, mode_t mode = 0644) {
    std::string p = dir_.path() + "/" + rel;
    std::string parent = p.substr(0, p.rfind('/'));
    ASSERT_EQ(std::system(("mkdir -p " + parent).c_str()), 0);  // NOLINT
    std::ofstream(p) << data;
    ASSERT_EQ(::chmod(p.c_str(), mode), 0);
  }

  // The stream the fake answers a build with.
  std::string answer_ =
      "{\"stream\":\"Step 1/1 : FROM scratch\"}\r\n{\"stream\":\"\\n\"}\r\n"
      "{\"aux\":{\"ID\":\"sha256:" +
      std::string(64, 'a') +
      "\"}}\r\n"
      "{\"stream\":\"Successfully built aaaaaaaaaaaa\\n\"}\r\n";

  // The fake serves one request per connection, so it says so: a client that kept the ping's
  // connection for the build would race the close (the docker CLI then fails its upload).
  FakeDaemon fake_{[this](const FakeRequest& req, int fd) {
    if (req.target.find("/_ping") != std::string::npos) {
      FakeDaemon::send_all(fd,
                           std::string("HTTP/1.1 200 OK\r\nApi-Version: 1.44\r\nOstype: linux\r\n"
                                       "Connection: close\r\nContent-Type: text/plain\r\n"
                                       "Content-Length: 2\r\n\r\n") +
                               (req.method == "HEAD" ? "" : "OK"));
      return;
    }
    if (req.target.find("/build") != std::string::npos) {
      FakeDaemon::send_all(fd,
                           "HTTP/1.1 200 OK\r\nApi-Version: 1.44\r\nConnection: close\r\n"
                           "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
                               FakeDaemon::chunk(answer_) + "0\r\n\r\n");
      return;
    }
    FakeDaemon::send_all(fd, FakeDaemon::response(404, "Not Found", "{\"message\":\"no\"}"));
  }};

  // Runs both CLIs with `args` in `cwd`; returns (mydocker, docker) and their build requests.
  std::pair<Result, Result> both(const std::string& args, const std::string& cwd, FakeRequest* mine,
                                 FakeRequest* theirs) {
    std::string env = "DOCKER_HOST=unix://" + fake_.path() + " DOCKER_CONFIG=" + dir_.path() +
                      "/cfg DOCKER_BUILDKIT=0 DOCKER_CLI_HINTS=false ";
    Result m = run(env + MYDOCKER_BIN + " build " + args, cwd);
    *mine = last_build();
    Result d = run(env + "/usr/local/bin/docker build " + args, cwd);
    *theirs = last_build();
    return {m, d};
  }
  FakeRequest last_build() {
    auto reqs = fake_.requests();
    for (auto it = reqs.rbegin(); it != reqs.rend(); ++it) {
      if (it->target.find("/build") != std::string::npos) {
        return *it;
      }
    }
    return {};
  }

  TempDir dir_;
  bool has_docker_ = false;
};

TEST_F(BuildFlowTest, SameContextQueryAndOutputAsDocker) {
  if (!has_docker_) {
    GTEST_SKIP() << "the docker CLI is not installed at /usr/local/bin/docker";
  }
  put("ctx/Dockerfile", "FROM scratch\nCOPY . /\n");
  put("ctx/.dockerignore", "*.log\n!keep.log\n**/tmp\nsub\n!sub/inc/**\n");
  put("ctx/app.log", "x");
  put("ctx/keep.log", "k");
  put("ctx/bin/run.sh", "#!/bin/sh\n", 0755);
  put("ctx/src/tmp/junk", "j");
  put("ctx/src/a.c", "int a;");
  put("ctx/sub/other", "o");
  put("ctx/sub/inc/x/h.h", "h");
  ASSERT_EQ(::symlink("../../etc/passwd", (dir_.path() + "/ctx/escape").c_str()), 0);
  ASSERT_EQ(::link((dir_.path() + "/ctx/src/a.c").c_str(), (dir_.path() + "/ctx/hard").c_str()), 0);
  FakeRequest mine, theirs;
  auto [m, d] = both(
      "-t tx:1 -t tx:2 --build-arg A=1 --build-arg FROM_ENV --label l=v --target t1 "
      "--no-cache --pull --rm=false --force-rm --network host --add-host h:1.2.3.4 ctx",
      dir_.path(), &mine, &theirs);
  EXPECT_EQ(m.status, 0) << m.err;
  EXPECT_EQ(d.status, 0) << d.err;
  EXPECT_EQ(m.out, d.out);
  EXPECT_EQ(m.err, without_notice(d.err));
  EXPECT_EQ(entries(mine.body), entries(theirs.body));
  EXPECT_EQ(mine.body.size(), theirs.body.size());
  auto qm = query_of(mine.target);
  auto qd = query_of(theirs.target);
  for (auto* q : {&qm, &qd}) {
    for (auto& [k, v] : *q) {
      v = unescape(v);
    }
  }
  EXPECT_EQ(qm, qd);
}

TEST_F(BuildFlowTest, ResourceFlagsAndCompressAsDocker) {
  put("ctx/Dockerfile", "FROM scratch\n");
  put("ctx/a.txt", std::string(10000, 'a'));
  std::string env = "DOCKER_HOST=unix://" + fake_.path() + " DOCKER_BUILDKIT=0 ";
  Result bad = run(env + MYDOCKER_BIN + " build -m x ctx", dir_.path());
  EXPECT_EQ(bad.status, 125);
  EXPECT_EQ(bad.err,
            "invalid argument \"x\" for \"-m, --memory\" flag: invalid size: 'x'\n"
            "See 'mydocker build --help'.\n");
  Result shares = run(env + MYDOCKER_BIN + " build -c 1.5 ctx", dir_.path());
  EXPECT_EQ(shares.status, 125);
  EXPECT_EQ(shares.err,
            "invalid argument \"1.5\" for \"-c, --cpu-shares\" flag: strconv.ParseInt: parsing "
            "\"1.5\": invalid syntax\nSee 'mydocker build --help'.\n");
  if (!has_docker_) {
    GTEST_SKIP() << "the docker CLI is not installed at /usr/local/bin/docker";
  }
  FakeRequest mine, theirs;
  auto [m, d] = both(
      "-m 64m --memory-swap -1 -c 512 --cpu-period 100000 --cpu-quota 50000 --cpuset-cpus 0-1 "
      "--cpuset-mems 0 --cgroup-parent p --shm-size 128m --ulimit nofile=10:20 "
      "--isolation default --compress ctx",
      dir_.path(), &mine, &theirs);
  EXPECT_EQ(m.status, 0) << m.err;
  EXPECT_EQ(d.status, 0) << d.err;
  auto qm = query_of(mine.target);
  auto qd = query_of(theirs.target);
  for (auto* q : {&qm, &qd}) {
    for (auto& [k, v] : *q) {
      v = unescape(v);
    }
  }
  EXPECT_EQ(qm, qd);
  EXPECT_EQ(qm.count("memory"), 1u);
  EXPECT_EQ(qm.find("ulimits")->second, R"([{"Name":"nofile","Hard":20,"Soft":10}])");
  // Both gzip the tar: the same entries, compressed.
  ASSERT_GE(mine.body.size(), 2u);
  EXPECT_EQ(mine.body.substr(0, 2), "\x1f\x8b");
  EXPECT_LT(mine.body.size(), 10000u);
  EXPECT_EQ(entries(mine.body), entries(theirs.body));
}

TEST_F(BuildFlowTest, DockerfileOutsideTheContextAndFromStdin) {
  if (!has_docker_) {
    GTEST_SKIP() << "the docker CLI is not installed at /usr/local/bin/docker";
  }
  put("ctx/app.txt", "a");
  put("ctx/.dockerignore", "Dockerfile\n.dockerignore\n");
  put("elsewhere/Dockerfile.dev", "FROM scratch\nCOPY app.txt /\n");
  FakeRequest mine, theirs;
  auto [m, d] = both("-f elsewhere/Dockerfile.dev ctx", dir_.path(), &mine, &theirs);
  EXPECT_EQ(m.status, 0) << m.err;
  EXPECT_EQ(d.status, 0) << d.err;
  // docker's AddDockerfileToBuildContext never closes its tar writer: the added Dockerfile is
  // its last entry, unpadded, with no end blocks (libarchive reads it as empty). The entries
  // must match all the same; mydocker's tar is complete.
  auto em = entries(mine.body);
  auto ed = entries(theirs.body);
  ASSERT_EQ(em.size(), ed.size());
  ASSERT_FALSE(em.empty());
  EXPECT_EQ(em.back().name, ".dockerfile.X");
  EXPECT_EQ(em.back().data, "FROM scratch\nCOPY app.txt /\n");
  em.back().data.clear();
  ed.back().data.clear();
  EXPECT_EQ(em, ed);
  EXPECT_EQ(em[0].data, "Dockerfile\n.dockerignore\n\n.dockerfile.X\n");

  put("df", "FROM scratch\n");
  auto [m2, d2] = both("-f - ctx < df", dir_.path(), &mine, &theirs);
  EXPECT_EQ(m2.status, 0) << m2.err;
  em = entries(mine.body);
  ed = entries(theirs.body);
  ASSERT_EQ(em.size(), ed.size());
  EXPECT_EQ(em.back().data, "FROM scratch\n");
  em.back().data.clear();
  ed.back().data.clear();
  EXPECT_EQ(em, ed);
  auto [m3, d3] = both("- < df", dir_.path(), &mine, &theirs);
  EXPECT_EQ(m3.status, 0) << m3.err;
  auto e3 = entries(mine.body);
  ASSERT_EQ(e3.size(), 1u);
  EXPECT_EQ(e3, entries(theirs.body).size() == 1 ? entries(theirs.body) : e3);
  EXPECT_EQ(e3[0].name, "Dockerfile");
}

TEST_F(BuildFlowTest, ErrorsAndExitStatusAsDocker) {
  answer_ =
      "{\"stream\":\"Step 1/2 : RUN x\"}\r\n{\"stream\":\"oops\\n\"}\r\n"
      "{\"errorDetail\":{\"code\":5,\"message\":\"The command '/bin/sh -c x' returned a "
      "non-zero code: 5\"},\"error\":\"The command '/bin/sh -c x' returned a non-zero code: "
      "5\"}\r\n";
  put("ctx/Dockerfile", "FROM scratch\n");
  FakeRequest mine, theirs;
  std::string env = "DOCKER_HOST=unix://" + fake_.path() + " DOCKER_BUILDKIT=0 ";
  Result m = run(env + MYDOCKER_BIN + " build ctx", dir_.path());
  EXPECT_EQ(m.status, 5);
  EXPECT_EQ(m.out, "Sending build context to Docker daemon  2.048kB\r\r\nStep 1/2 : RUN xoops\n");
  EXPECT_EQ(m.err, "The command '/bin/sh -c x' returned a non-zero code: 5\n");
  Result q = run(env + MYDOCKER_BIN + " build -q ctx", dir_.path());
  EXPECT_EQ(q.status, 5);
  EXPECT_EQ(q.out, "");
  EXPECT_EQ(q.err,
            "Sending build context to Docker daemon  2.048kB\r\r\nStep 1/2 : RUN xoops\n"
            "The command '/bin/sh -c x' returned a non-zero code: 5\n");
  if (has_docker_) {
    auto [m2, d2] = both("ctx", dir_.path(), &mine, &theirs);
    EXPECT_EQ(m2.status, d2.status);
    EXPECT_EQ(m2.out, d2.out);
    EXPECT_EQ(m2.err, without_notice(d2.err));
    auto [m3, d3] = both("-q ctx", dir_.path(), &mine, &theirs);
    EXPECT_EQ(m3.status, d3.status);
    EXPECT_EQ(m3.out, d3.out);
    EXPECT_EQ(m3.err, without_notice(d3.err));
  }
  Result url = run(env + MYDOCKER_BIN + " build https://example.com/ctx.tar", dir_.path());
  EXPECT_EQ(url.status, 1);
  EXPECT_NE(url.err.find("not supported"), std::string::npos) << url.err;
  Result missing = run(env + MYDOCKER_BIN + " build nosuchdir", dir_.path());
  EXPECT_EQ(missing.status, 1);
  EXPECT_EQ(missing.err, "unable to prepare context: path \"nosuchdir\" not found\n");
}

}  // namespace
}  // namespace mydocker::testing
