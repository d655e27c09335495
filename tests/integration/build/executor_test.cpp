// SPDX-License-Identifier: Apache-2.0
// The build executor end to end (root): a LocalDaemon on private data/exec roots builds
// Dockerfiles on a busybox image imported from the test rootfs, with real RUN containers,
// overlay scratch filesystems and the step cache. Checks the output Docker prints, the image
// configs and history, the files (read back through a container), the cache, and the failure
// rules (nothing tagged, no container left, the cache not poisoned).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "engine/daemon.h"
#include "engine/local_daemon.h"
#include "image/archive/export.h"
#include "image/layers/source.h"
#include "runtime/base/file.h"
#include "runtime/base/strings.h"
#include "tests/support/busybox_rootfs.h"
#include "tests/support/cgroup_cleanup.h"
#include "tests/support/local_daemon.h"
#include "tests/support/require.h"

namespace mydocker::engine {
namespace {

using testing::Need;
using namespace std::chrono_literals;

constexpr const char* kCgroupParent = "mydocker-build-test";

[[maybe_unused]] ::testing::Environment* const kCgroupCleanup =
    ::testing::AddGlobalTestEnvironment(new testing::CgroupParentCleanup(kCgroupParent));

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

struct Built {
  base::Result<BuildResult> result = BuildResult{};
  std::string output;  // the stream messages, concatenated
  std::vector<std::string> messages;
  std::vector<std::string> aux;
  int64_t exit_code = 0;
};

class RootBuildTest : public testing::LocalDaemonTest {
 protected:
  RootBuildTest() : LocalDaemonTest(kCgroupParent) {}

  // The context tar of `files` (name -> content).
  std::string context(const std::map<std::string, std::string>& files) {
    std::string dir = tmp_->path() + "/ctx-" + std::to_string(++contexts_);
    EXPECT_TRUE(base::mkdir_all(dir).has_value());
    for (const auto& [name, content] : files) {
      auto slash = name.rfind('/');
      if (slash != std::string::npos) {
        EXPECT_TRUE(base::mkdir_all(dir + "/" + name.substr(0, slash)).has_value());
      }
      EXPECT_TRUE(base::write_file(dir + "/" + name, content, O_CREAT).has_value());
    }
    std::string tar;
    EXPECT_TRUE(
        image::archive::export_directory(dir, [&](std::string_view b) -> base::Result<void> {
          tar.append(b);
          return base::ok();
        }).has_value());
    return tar;
  }

  Built build(const std::map<std::string, std::string>& files,
              const std::function<void(BuildRequest&)>& tweak = {}) {
    std::string tar = context(files);
    image::layers::MemorySource src(tar);
    Built b;
    BuildRequest req;
    req.context = &src;
    req.output = [&](const BuildOutput& o) {
      if (!o.aux_id.empty()) {
        b.aux.push_back(o.aux_id);
      } else if (o.pull == nullptr) {
        b.output += o.stream;
        b.messages.push_back(o.stream);
      }
      return true;
    };
    if (tweak) {
      tweak(req);
    }
    b.result = d_->build(req, &b.exit_code);
    return b;
  }

  image::store::ImageRecord image(const std::string& ref) {
    auto r = d_->images().images().get(ref);
    EXPECT_TRUE(r.has_value()) << ref << ": " << r.error().to_string();
    return r ? *r : image::store::ImageRecord{};
  }

  // Runs `cmd` in a container of `image_ref` and returns its output.
  std::string run_in(const std::string& image_ref, std::vector<std::string> cmd) {
    CreateRequest req;
    req.config.image = image_ref;
    req.config.entrypoint = std::vector<std::string>{};
    req.config.cmd = std::move(cmd);
    auto c = d_->create(std::move(req));
    EXPECT_TRUE(c.has_value()) << c.error().to_string();
    if (!c) {
      return "";
    }
    EXPECT_TRUE(d_->start(c->id).has_value());
    EXPECT_TRUE(d_->wait(c->id, WaitCondition::NotRunning).has_value());
    std::string out;
    LogsOptions lo;
    lo.stdout_stream = true;
    lo.stderr_stream = true;
    EXPECT_TRUE(d_->logs(c->id, lo, [&](const LogEntry& e) {
                    out += e.line;
                    return true;
                  }).has_value());
    EXPECT_TRUE(d_->remove(c->id, true, false).has_value());
    return out;
  }

  size_t containers() {
    ListOptions all;
    all.all = true;
    auto l = d_->list(all);
    return l ? l->size() : 0;
  }

  size_t images() { return d_->images().images().images().size(); }

  int contexts_ = 0;
};

TEST_F(RootBuildTest, TranscriptDockerfileGivesDockersOutputConfigAndFiles) {
  Built b = build({{"Dockerfile",
                    "FROM busybox\nLABEL tx-build=\"1\"\nRUN echo built > /tx-file\n"
                    "COPY hello.txt /hello.txt\nCMD [\"cat\", \"/tx-file\"]\n"},
                   {"hello.txt", "hello\n"}},
                  [](BuildRequest& r) { r.tags = {"tx-built:1"}; });
  ASSERT_TRUE(b.result.has_value()) << b.result.error().to_string() << "\n" << b.output;
  const std::string id = b.result->image_id;
  EXPECT_EQ(b.result->tags, (std::vector<std::string>{"tx-built:1"}));
  // Transcript 165's messages, container and image IDs aside.
  ASSERT_GE(b.messages.size(), 6u);
  EXPECT_EQ(b.messages[0], "Step 1/5 : FROM busybox");
  EXPECT_EQ(b.messages[1], "\n");
  EXPECT_EQ(b.messages[2], " ---> " + busybox_.substr(7, 12) + "\n");
  EXPECT_EQ(b.messages[3], "Step 2/5 : LABEL tx-build=\"1\"");
  EXPECT_TRUE(b.messages[5].starts_with(" ---> Running in ")) << b.messages[5];
  EXPECT_TRUE(b.messages[6].starts_with("Removing intermediate container ")) << b.messages[6];
  EXPECT_NE(b.output.find("Step 3/5 : RUN echo built > /tx-file"), std::string::npos);
  EXPECT_NE(b.output.find("Step 4/5 : COPY hello.txt /hello.txt"), std::string::npos);
  EXPECT_EQ(count(b.output, " ---> Running in "), 3u);  // LABEL, RUN, CMD; not COPY
  EXPECT_EQ(count(b.output, "Removing intermediate container "), 3u);
  EXPECT_EQ(b.messages[b.messages.size() - 2], "Successfully built " + id.substr(7, 12) + "\n");
  EXPECT_EQ(b.messages.back(), "Successfully tagged tx-built:1\n");
  EXPECT_EQ(b.aux, (std::vector<std::string>{id}));
  EXPECT_EQ(containers(), 0u);

  auto rec = image("tx-built:1");
  EXPECT_EQ(rec.id.str(), id);
  ASSERT_TRUE(rec.config.config.has_value());
  const auto& cfg = *rec.config.config;
  EXPECT_EQ(cfg.labels.at("tx-build"), "1");
  EXPECT_EQ(*cfg.cmd, (std::vector<std::string>{"cat", "/tx-file"}));
  EXPECT_FALSE(cfg.args_escaped.has_value());
  EXPECT_EQ(cfg.env, (std::vector<std::string>{
                         "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}));
  // History: busybox's entry, then one per step, metadata steps without a layer.
  const auto& h = rec.config.history;
  ASSERT_EQ(h.size(), 5u);
  EXPECT_EQ(h[1].created_by, "/bin/sh -c #(nop)  LABEL tx-build=1");
  EXPECT_TRUE(h[1].empty_layer);
  EXPECT_EQ(h[2].created_by, "/bin/sh -c echo built > /tx-file");
  EXPECT_FALSE(h[2].empty_layer);
  EXPECT_TRUE(h[3].created_by.starts_with("/bin/sh -c #(nop) COPY file:")) << h[3].created_by;
  EXPECT_TRUE(h[3].created_by.ends_with(" in /hello.txt ")) << h[3].created_by;
  EXPECT_FALSE(h[3].empty_layer);
  EXPECT_EQ(h[4].created_by, "/bin/sh -c #(nop)  CMD [\"cat\" \"/tx-file\"]");
  EXPECT_TRUE(h[4].empty_layer);
  EXPECT_EQ(rec.config.rootfs.diff_ids.size(), 3u);  // busybox + RUN + COPY
  ASSERT_TRUE(rec.config.container_config.has_value());
  EXPECT_EQ(*rec.config.container_config->cmd,
            (std::vector<std::string>{"/bin/sh", "-c", "#(nop) ", "CMD [\"cat\" \"/tx-file\"]"}));
  EXPECT_FALSE(rec.parent.empty());
  // The LABEL step's image is the RUN step's parent, busybox the LABEL's.
  auto label_step = image(image(image(rec.parent).parent).parent);
  EXPECT_EQ(label_step.parent, busybox_);
  EXPECT_EQ(run_in("tx-built:1", {"cat", "/tx-file", "/hello.txt"}), "built\nhello\n");
}

TEST_F(RootBuildTest, EveryInstructionSetsWhatDockerSets) {
  Built b = build({{"Dockerfile",
                    "ARG BASE=busybox\n"
                    "FROM $BASE\n"
                    "ARG GREETING=hi\n"
                    "ENV APP=/app LEVEL=${GREETING}-env\n"
                    "WORKDIR $APP\n"
                    "WORKDIR sub\n"
                    "RUN pwd > /pwd && echo \"$GREETING $LEVEL\" > greeting && echo run-output\n"
                    "ADD add.txt ./\n"
                    "COPY --chown=65534:65534 dir/ /copied/\n"
                    "EXPOSE 80 9000-9001/udp\n"
                    "VOLUME [\"/data\"]\n"
                    "USER nobody\n"
                    "STOPSIGNAL SIGINT\n"
                    "HEALTHCHECK --interval=5s --retries=2 CMD true\n"
                    "SHELL [\"/bin/sh\", \"-ec\"]\n"
                    "ONBUILD RUN echo triggered\n"
                    "ENTRYPOINT echo entry\n"
                    "MAINTAINER someone\n"},
                   {"add.txt", "added\n"},
                   {"dir/a.txt", "a\n"},
                   {"dir/sub/b.txt", "b\n"}},
                  [](BuildRequest& r) {
                    r.tags = {"tx-every"};
                    r.labels = {{"from-option", "yes"}};
                  });
  ASSERT_TRUE(b.result.has_value()) << b.result.error().to_string() << "\n" << b.output;
  EXPECT_NE(b.output.find("Step 1/19 : ARG BASE=busybox"), std::string::npos) << b.output;
  EXPECT_NE(b.output.find("Step 19/19 : LABEL from-option=yes"), std::string::npos);
  EXPECT_NE(b.output.find("run-output\n"), std::string::npos);
  auto rec = image("tx-every:latest");
  const auto& c = *rec.config.config;
  EXPECT_EQ(c.working_dir, "/app/sub");
  EXPECT_EQ(c.user, "nobody");
  EXPECT_EQ(c.stop_signal, "SIGINT");
  EXPECT_EQ(c.exposed_ports, (std::set<std::string>{"80/tcp", "9000/udp", "9001/udp"}));
  EXPECT_EQ(c.volumes, (std::set<std::string>{"/data"}));
  EXPECT_EQ(c.shell, (std::vector<std::string>{"/bin/sh", "-ec"}));
  EXPECT_EQ(c.on_build, (std::vector<std::string>{"RUN echo triggered"}));
  EXPECT_EQ(*c.entrypoint, (std::vector<std::string>{"/bin/sh", "-ec", "echo entry"}));
  EXPECT_FALSE(c.cmd.has_value());  // ENTRYPOINT reset busybox's CMD
  EXPECT_EQ(c.labels.at("from-option"), "yes");
  ASSERT_TRUE(c.healthcheck.has_value());
  EXPECT_EQ(c.healthcheck->at("Test"), nlohmann::json({"CMD-SHELL", "true"}));
  EXPECT_EQ(c.healthcheck->at("Interval"), 5'000'000'000);
  EXPECT_EQ(rec.config.author, "someone");
  EXPECT_NE(std::find(c.env.begin(), c.env.end(), "LEVEL=hi-env"), c.env.end());
  // ARGs are not in the image's environment.
  for (const auto& e : c.env) {
    EXPECT_FALSE(e.starts_with("GREETING=")) << e;
  }
  // History texts.
  std::vector<std::string> by;
  for (const auto& h : rec.config.history) {
    by.push_back(h.created_by);
  }
  auto has = [&](const std::string& s) { return std::find(by.begin(), by.end(), s) != by.end(); };
  EXPECT_TRUE(has("/bin/sh -c #(nop)  ARG GREETING=hi")) << base::join(by, "\n");
  EXPECT_TRUE(has("/bin/sh -c #(nop) WORKDIR /app"));
  EXPECT_TRUE(has("/bin/sh -c #(nop) WORKDIR /app/sub"));
  EXPECT_TRUE(
      has("|1 GREETING=hi /bin/sh -c pwd > /pwd && echo \"$GREETING $LEVEL\" > greeting "
          "&& echo run-output"));
  EXPECT_TRUE(has("/bin/sh -c #(nop)  EXPOSE 80 9000-9001/udp"));
  EXPECT_TRUE(has("/bin/sh -c #(nop)  VOLUME [/data]"));
  EXPECT_TRUE(
      has("/bin/sh -c #(nop)  HEALTHCHECK &{[\"CMD-SHELL\" \"true\"] \"5s\" \"0s\" \"0s\" "
          "'\\x02'}"));
  // The new shell already writes its own record, as in Docker.
  EXPECT_TRUE(has("/bin/sh -ec #(nop)  SHELL [/bin/sh -ec]"));
  EXPECT_TRUE(has("/bin/sh -ec #(nop)  ENTRYPOINT [\"/bin/sh\" \"-ec\" \"echo entry\"]"));
  EXPECT_TRUE(has("/bin/sh -ec #(nop)  LABEL from-option=yes"));
  bool chown_copy = false;
  for (const auto& s : by) {
    chown_copy = chown_copy || (s.starts_with("/bin/sh -c #(nop) COPY --chown=65534:65534 dir:") &&
                                s.ends_with(" in /copied/ "));
  }
  EXPECT_TRUE(chown_copy) << base::join(by, "\n");
  // Files, read as root: WORKDIR made the directories, RUN ran in them with the ARG and ENV.
  EXPECT_EQ(run_in("tx-every", {"cat", "/pwd", "/app/sub/greeting", "/app/sub/add.txt",
                                "/copied/a.txt", "/copied/sub/b.txt"}),
            "/app/sub\nhi hi-env\nadded\na\nb\n");
  EXPECT_EQ(run_in("tx-every", {"stat", "-c", "%u:%g", "/copied/a.txt"}), "65534:65534\n");
  EXPECT_EQ(containers(), 0u);
}

TEST_F(RootBuildTest, UnchangedRebuildIsAllCacheAndOneTouchedFileRebuildsFromItsStep) {
  std::map<std::string, std::string> files = {
      {"Dockerfile",
       "FROM busybox\nCOPY a.txt /a\nRUN cat /a > /a2\nENV X=1\nCOPY b.txt /b\nRUN cat /b > /b2\n"
       "CMD [\"cat\", \"/b2\"]\n"},
      {"a.txt", "a1\n"},
      {"b.txt", "b1\n"}};
  Built first = build(files, [](BuildRequest& r) { r.tags = {"tx-cache"}; });
  ASSERT_TRUE(first.result.has_value()) << first.result.error().to_string() << first.output;
  EXPECT_EQ(count(first.output, "Using cache"), 0u);
  size_t before = images();

  Built again = build(files, [](BuildRequest& r) { r.tags = {"tx-cache"}; });
  ASSERT_TRUE(again.result.has_value()) << again.result.error().to_string();
  EXPECT_EQ(again.result->image_id, first.result->image_id);
  EXPECT_EQ(count(again.output, " ---> Using cache\n"), 6u) << again.output;
  EXPECT_EQ(count(again.output, "Running in"), 0u);
  EXPECT_EQ(images(), before);

  files["b.txt"] = "b2\n";
  Built partial = build(files, [](BuildRequest& r) { r.tags = {"tx-cache"}; });
  ASSERT_TRUE(partial.result.has_value()) << partial.result.error().to_string();
  EXPECT_NE(partial.result->image_id, first.result->image_id);
  // Steps 2-4 (COPY a, RUN, ENV) from cache; COPY b and what follows run again.
  EXPECT_EQ(count(partial.output, " ---> Using cache\n"), 3u) << partial.output;
  auto pos_cache = partial.output.rfind("Using cache");
  EXPECT_LT(pos_cache, partial.output.find("Step 5/7 : COPY b.txt /b"));
  EXPECT_EQ(run_in("tx-cache", {"cat", "/a2", "/b2"}), "a1\nb2\n");

  // --no-cache runs everything again.
  Built fresh = build(files, [](BuildRequest& r) { r.no_cache = true; });
  ASSERT_TRUE(fresh.result.has_value());
  EXPECT_EQ(count(fresh.output, "Using cache"), 0u);
  EXPECT_EQ(containers(), 0u);
}

TEST_F(RootBuildTest, BuildArgsReachRunAndUnusedOnesAreReported) {
  std::map<std::string, std::string> files = {
      {"Dockerfile", "FROM busybox\nARG X=default\nRUN echo $X > /x\n"}};
  Built b = build(files, [](BuildRequest& r) {
    r.tags = {"tx-args"};
    r.build_args = {{"X", "given"}, {"NOPE", "1"}};
  });
  ASSERT_TRUE(b.result.has_value()) << b.result.error().to_string();
  EXPECT_NE(b.output.find("[Warning] One or more build-args [NOPE] were not consumed\n"),
            std::string::npos)
      << b.output;
  auto rec = image("tx-args");
  EXPECT_EQ(rec.config.history.back().created_by, "|1 X=given /bin/sh -c echo $X > /x");
  EXPECT_EQ(run_in("tx-args", {"cat", "/x"}), "given\n");
  // Another value is another cache key for the RUN (not for the ARG step).
  Built other = build(files, [](BuildRequest& r) { r.build_args = {{"X", "other"}}; });
  ASSERT_TRUE(other.result.has_value());
  EXPECT_EQ(count(other.output, "Using cache"), 1u) << other.output;
  Built dflt = build(files);
  ASSERT_TRUE(dflt.result.has_value());
  EXPECT_EQ(run_in(dflt.result->image_id, {"cat", "/x"}), "default\n");
}

TEST_F(RootBuildTest, FailingRunReportsItsCodeTagsNothingAndPoisonsNothing) {
  std::map<std::string, std::string> files = {
      {"Dockerfile", "FROM busybox\nRUN echo about to fail && exit 3\n"}};
  Built b = build(files, [](BuildRequest& r) {
    r.tags = {"tx-fail:1"};
    r.force_remove = true;
  });
  ASSERT_FALSE(b.result.has_value());
  EXPECT_EQ(b.result.error().message(),
            "The command '/bin/sh -c echo about to fail && exit 3' returned a non-zero code: 3");
  EXPECT_EQ(b.exit_code, 3);
  EXPECT_NE(b.output.find("about to fail\n"), std::string::npos) << b.output;
  EXPECT_NE(b.output.find("Removing intermediate container "), std::string::npos);
  EXPECT_EQ(b.output.find("Successfully"), std::string::npos);
  EXPECT_FALSE(d_->images().images().resolve("tx-fail:1").has_value());
  EXPECT_EQ(containers(), 0u);
  // Not cached: the same build runs (and fails) again.
  Built again = build(files, [](BuildRequest& r) { r.force_remove = true; });
  ASSERT_FALSE(again.result.has_value());
  EXPECT_EQ(count(again.output, "Using cache"), 0u);
  EXPECT_EQ(again.exit_code, 3);
  // Without forcerm, Docker leaves the failed step's container.
  Built kept = build(files);
  ASSERT_FALSE(kept.result.has_value());
  EXPECT_EQ(containers(), 1u);
  // A good build afterwards.
  Built ok = build({{"Dockerfile", "FROM busybox\nRUN echo fine > /f\n"}},
                   [](BuildRequest& r) { r.tags = {"tx-fail:1"}; });
  ASSERT_TRUE(ok.result.has_value()) << ok.result.error().to_string();
  EXPECT_EQ(run_in("tx-fail:1", {"cat", "/f"}), "fine\n");
}

TEST_F(RootBuildTest, MultiStageBuildsOnlyWhatTheTargetNeeds) {
  std::map<std::string, std::string> files = {
      {"Dockerfile",
       "FROM busybox AS build\nRUN echo artifact > /art\n"
       "FROM busybox AS unused\nRUN echo never-built && exit 1\n"
       "FROM scratch AS empty\n"
       "FROM busybox\nCOPY --from=build /art /from-name\nCOPY --from=0 /art /from-index\n"
       "COPY --from=busybox /bin/busybox /bb\n"}};
  Built b = build(files, [](BuildRequest& r) { r.tags = {"tx-multi"}; });
  ASSERT_TRUE(b.result.has_value()) << b.result.error().to_string() << b.output;
  EXPECT_EQ(b.output.find("never-built"), std::string::npos) << b.output;
  EXPECT_EQ(b.output.find("FROM scratch"), std::string::npos) << b.output;
  EXPECT_NE(b.output.find("Step 1/6 : FROM busybox AS build"), std::string::npos) << b.output;
  EXPECT_EQ(b.aux.size(), 2u);  // one per stage built
  EXPECT_EQ(run_in("tx-multi", {"cat", "/from-name", "/from-index"}), "artifact\nartifact\n");
  EXPECT_EQ(run_in("tx-multi", {"ls", "/bb"}), "/bb\n");
  // The same build again: COPY --from steps are cached without mounting their source.
  Built again = build(files);
  ASSERT_TRUE(again.result.has_value());
  EXPECT_EQ(again.result->image_id, b.result->image_id);
  // --target stops at the named stage.
  Built target = build(files, [](BuildRequest& r) {
    r.target = "build";
    r.tags = {"tx-target"};
  });
  ASSERT_TRUE(target.result.has_value());
  EXPECT_EQ(target.result->image_id, b.aux.front());
  EXPECT_EQ(run_in("tx-target", {"cat", "/art"}), "artifact\n");
  Built bad = build(files, [](BuildRequest& r) { r.target = "nosuch"; });
  ASSERT_FALSE(bad.result.has_value());
  EXPECT_EQ(bad.result.error().message(), "failed to reach build target nosuch in Dockerfile");
  EXPECT_TRUE(bad.output.empty());
}

TEST_F(RootBuildTest, ErrorsBeforeAndDuringTheBuild) {
  // A bad tag or a bad Dockerfile: an error before any output.
  Built tag =
      build({{"Dockerfile", "FROM busybox\n"}}, [](BuildRequest& r) { r.tags = {"Bad:Tag:x"}; });
  ASSERT_FALSE(tag.result.has_value());
  EXPECT_EQ(tag.result.error().code(), base::ErrorCode::InvalidArgument);
  EXPECT_TRUE(tag.output.empty());
  Built parse = build({{"Dockerfile", "FROM busybox\nFOO bar\n"}});
  ASSERT_FALSE(parse.result.has_value());
  EXPECT_EQ(parse.result.error().message(),
            "dockerfile parse error line 2: unknown instruction: FOO");
  EXPECT_TRUE(parse.output.empty());
  Built none = build({{"other", "x"}});
  ASSERT_FALSE(none.result.has_value());
  EXPECT_EQ(none.result.error().message(), "Cannot locate specified Dockerfile: Dockerfile");
  // A base image that is neither local nor pullable (nothing listens there).
  Built base = build({{"Dockerfile", "FROM 127.0.0.1:9/tx-nosuch-base:1\nRUN true\n"}},
                     [](BuildRequest& r) { r.tags = {"tx-nobase"}; });
  ASSERT_FALSE(base.result.has_value());
  EXPECT_EQ(base.output, "Step 1/2 : FROM 127.0.0.1:9/tx-nosuch-base:1\n");
  EXPECT_FALSE(d_->images().images().resolve("tx-nobase").has_value());
  // COPY of a missing source.
  Built missing = build({{"Dockerfile", "FROM busybox\nCOPY nosuch /x\n"}});
  ASSERT_FALSE(missing.result.has_value());
  EXPECT_NE(missing.result.error().message().find("nosuch"), std::string::npos);
  EXPECT_EQ(containers(), 0u);
}

TEST_F(RootBuildTest, OnbuildTriggersRunFirstAndQuietSaysNothing) {
  Built base = build({{"Dockerfile",
                       "FROM busybox\nONBUILD RUN echo triggered > /t\n"
                       "ONBUILD LABEL child=1\n"}},
                     [](BuildRequest& r) { r.tags = {"tx-onbuild-base"}; });
  ASSERT_TRUE(base.result.has_value()) << base.result.error().to_string();
  Built child = build({{"Dockerfile", "FROM tx-onbuild-base\nRUN cat /t > /t2\n"}},
                      [](BuildRequest& r) { r.tags = {"tx-onbuild-child"}; });
  ASSERT_TRUE(child.result.has_value()) << child.result.error().to_string() << child.output;
  EXPECT_NE(child.output.find("Step 1/2 : FROM tx-onbuild-base\n# Executing 2 build triggers\n"),
            std::string::npos)
      << child.output;
  auto rec = image("tx-onbuild-child");
  EXPECT_TRUE(rec.config.config->on_build.empty());  // triggers run once, not inherited
  EXPECT_EQ(rec.config.config->labels.at("child"), "1");
  EXPECT_EQ(run_in("tx-onbuild-child", {"cat", "/t2"}), "triggered\n");
  // Quiet: no message at all, the same image (from cache).
  Built quiet = build({{"Dockerfile", "FROM tx-onbuild-base\nRUN cat /t > /t2\n"}},
                      [](BuildRequest& r) { r.quiet = true; });
  ASSERT_TRUE(quiet.result.has_value());
  EXPECT_TRUE(quiet.messages.empty());
  EXPECT_TRUE(quiet.aux.empty());
  EXPECT_EQ(quiet.result->image_id, child.result->image_id);
}

TEST_F(RootBuildTest, ClientGoneCancelsTheRunningStep) {
  std::string tar = context({{"Dockerfile", "FROM busybox\nRUN echo started && sleep 30\n"}});
  image::layers::MemorySource src(tar);
  BuildRequest req;
  req.context = &src;
  req.tags = {"tx-cancel"};
  bool started = false;
  req.output = [&](const BuildOutput& o) {
    started = started || o.stream.find("started") != std::string::npos;
    return !started;
  };
  auto t0 = std::chrono::steady_clock::now();
  auto r = d_->build(req, nullptr);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), base::ErrorCode::Cancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 20s);
  EXPECT_EQ(containers(), 0u);
  EXPECT_FALSE(d_->images().images().resolve("tx-cancel").has_value());
}

TEST_F(RootBuildTest, PruneRemovesCacheAndTheImagesOnlyItKept) {
  std::map<std::string, std::string> files = {
      {"Dockerfile", "FROM busybox\nRUN echo one > /1\nLABEL a=b\n"}};
  Built tagged = build(files, [](BuildRequest& r) { r.tags = {"tx-keep"}; });
  ASSERT_TRUE(tagged.result.has_value());
  Built loose = build({{"Dockerfile", "FROM busybox\nRUN echo two > /2\nLABEL c=d\n"}});
  ASSERT_TRUE(loose.result.has_value());
  size_t before = images();

  BuildPruneOptions bad;
  bad.filters = {{"id", {"a", "b"}}};
  auto e = d_->build_prune(bad);
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().message(), "filters expect only one value");

  // Without all: the untagged build's steps go, the tagged one's stay.
  auto pruned = d_->build_prune({});
  ASSERT_TRUE(pruned.has_value()) << pruned.error().to_string();
  EXPECT_EQ(pruned->caches_deleted.size(), 2u);
  EXPECT_GT(pruned->space_reclaimed, 0);
  EXPECT_EQ(images(), before - 2);
  Built cached = build(files);
  EXPECT_EQ(count(cached.output, "Using cache"), 2u);

  auto all = d_->build_prune(BuildPruneOptions{true, {}, 0});
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->caches_deleted.size(), 2u);
  EXPECT_TRUE(d_->images().images().resolve("tx-keep").has_value());  // tagged images stay
  Built rebuilt = build(files);
  EXPECT_EQ(count(rebuilt.output, "Using cache"), 0u);
}

TEST_F(RootBuildTest, ShebangHeredocRunsAsAFileWithItsInterpreter) {
  auto files = [](const std::string& line) -> std::map<std::string, std::string> {
    return {{"Dockerfile", "FROM busybox\nRUN <<EOF\n#!/bin/sh\necho \"script $0\" > /out\n" +
                               line + "\nEOF\nRUN <<EOT\n#!/bin/cat\nprinted by cat\nEOT\n"}};
  };
  Built b = build(files("id -u >> /out"), [](BuildRequest& r) { r.tags = {"tx-heredoc"}; });
  ASSERT_TRUE(b.result.has_value()) << b.result.error().to_string() << "\n" << b.output;
  // The kernel ran cat as the second script's interpreter: it printed the script.
  EXPECT_NE(b.output.find("#!/bin/cat\nprinted by cat\n"), std::string::npos) << b.output;
  EXPECT_EQ(run_in("tx-heredoc", {"cat", "/out"}), "script /.mydocker-pipes/EOF\n0\n");
  // The script is not in the image.
  EXPECT_EQ(
      run_in("tx-heredoc", {"sh", "-c", "test -e /.mydocker-pipes && echo kept || echo gone"}),
      "gone\n");
  auto rec = image("tx-heredoc");
  const auto& h = rec.config.history;
  ASSERT_GE(h.size(), 3u);
  EXPECT_EQ(h[h.size() - 2].created_by, "/bin/sh -c /.mydocker-pipes/EOF");
  EXPECT_EQ(h.back().created_by, "/bin/sh -c /.mydocker-pipes/EOT");
  // The script's text is part of the cache key: another body runs again, the same is cached.
  Built same = build(files("id -u >> /out"));
  ASSERT_TRUE(same.result.has_value());
  EXPECT_EQ(count(same.output, " ---> Using cache\n"), 2u) << same.output;
  Built other =
      build(files("echo other >> /out"), [](BuildRequest& r) { r.tags = {"tx-heredoc"}; });
  ASSERT_TRUE(other.result.has_value()) << other.result.error().to_string();
  EXPECT_EQ(count(other.output, " ---> Using cache\n"), 0u) << other.output;
  EXPECT_EQ(run_in("tx-heredoc", {"cat", "/out"}), "script /.mydocker-pipes/EOF\nother\n");
  EXPECT_EQ(containers(), 0u);
}

TEST_F(RootBuildTest, CopyFromKeepsTheStagesOwnersModesAndHardLinks) {
  Built b = build({{"Dockerfile",
                    "FROM busybox AS stage\n"
                    "RUN mkdir -p /out/sub && echo x > /out/app && chown 1000:1000 /out/app && "
                    "chmod 4751 /out/app && ln /out/app /out/sub/same && echo y > /out/sub/y && "
                    "chown 0:0 /out/sub/y && chmod 600 /out/sub/y && chown 1000:1000 /out/sub && "
                    "chmod 2711 /out/sub\n"
                    "FROM busybox\n"
                    "COPY --from=stage /out /kept\n"
                    "COPY --from=stage --chown=5:6 /out /chowned\n"
                    "COPY ctx /fromctx\n"},
                   {"ctx/f", "f"}},
                  [](BuildRequest& r) { r.tags = {"tx-owners"}; });
  ASSERT_TRUE(b.result.has_value()) << b.result.error().to_string() << "\n" << b.output;
  // Owners and modes; for files the link count and inode (hard links: one inode, 2 names).
  auto stat = [&](const std::string& format, const std::string& paths) {
    return run_in("tx-owners", {"sh", "-c", "stat -c '" + format + "' " + paths});
  };
  EXPECT_EQ(stat("%n %u:%g %a", "/kept /kept/sub"), "/kept 0:0 755\n/kept/sub 1000:1000 2711\n")
      << b.output;
  EXPECT_EQ(stat("%n %u:%g %a %h", "/kept/app /kept/sub/same /kept/sub/y"),
            "/kept/app 1000:1000 4751 2\n/kept/sub/same 1000:1000 4751 2\n/kept/sub/y 0:0 600 1\n");
  EXPECT_EQ(stat("%i", "/kept/app"), stat("%i", "/kept/sub/same"));
  // --chown sets every owner; the chown clears set-uid as in Docker's classic builder.
  EXPECT_EQ(stat("%n %u:%g %a", "/chowned /chowned/sub"),
            "/chowned 5:6 755\n/chowned/sub 5:6 2711\n");
  EXPECT_EQ(stat("%n %u:%g %a %h", "/chowned/app /chowned/sub/same"),
            "/chowned/app 5:6 751 2\n/chowned/sub/same 5:6 751 2\n");
  EXPECT_EQ(stat("%n %u:%g %h", "/fromctx/f"), "/fromctx/f 0:0 1\n");
}

namespace {

// Sets the last use (and the creation) of the build cache entries of `image_id`.
void age_cache_entries(const std::string& cache_dir, const std::string& image_id, int64_t ago) {
  int64_t when = ::time(nullptr) - ago;
  for (const auto& e : std::filesystem::directory_iterator(cache_dir)) {
    auto text = base::read_file(e.path().string());
    ASSERT_TRUE(text.has_value());
    auto j = nlohmann::json::parse(*text, nullptr, false);
    if (j.is_discarded() || j.value("image", "") != image_id) {
      continue;
    }
    j["created"] = when;
    ASSERT_TRUE(base::write_file(e.path().string(), j.dump(), O_TRUNC).has_value());
    timespec ts[2] = {{when, 0}, {when, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, e.path().c_str(), ts, 0), 0);
  }
}

}  // namespace

TEST_F(RootBuildTest, PruneMeasuresAgeFromLastUseAndKeepsStorage) {
  std::string cache = tmp_->path() + "/data/builder/cache";
  std::map<std::string, std::string> a = {
      {"Dockerfile", "FROM busybox\nRUN echo a > /a\nLABEL x=a\n"}};
  std::map<std::string, std::string> b = {
      {"Dockerfile", "FROM busybox\nRUN echo b > /b\nLABEL x=b\n"}};
  Built first_a = build(a);
  Built first_b = build(b);
  ASSERT_TRUE(first_a.result.has_value() && first_b.result.has_value());
  std::string a_label = first_a.result->image_id, a_run = image(a_label).parent;
  std::string b_label = first_b.result->image_id, b_run = image(b_label).parent;
  for (const auto& id : {a_label, a_run, b_label, b_run}) {
    age_cache_entries(cache, id, 7200);
  }
  // A rebuild of `a` uses its entries: until=30m keeps them (made 2h ago, used now).
  Built again = build(a);
  EXPECT_EQ(count(again.output, "Using cache"), 2u);

  BuildPruneOptions o;
  o.filters = {{"until", {"30m"}}, {"unused-for", {"30m"}}};
  auto e = d_->build_prune(o);
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().message(), "conflicting filters: \"until\" and \"unused-for\"");
  o.filters = {{"until", {"x"}}};
  EXPECT_EQ(d_->build_prune(o).error().message(),
            "\"until\" filter expects a duration (e.g., '24h'): time: invalid duration \"x\"");
  o.filters = {{"unused-for", {"30m"}}};
  auto old = d_->build_prune(o);
  ASSERT_TRUE(old.has_value()) << old.error().to_string();
  EXPECT_EQ(old->caches_deleted.size(), 2u);
  EXPECT_EQ(count(build(a).output, "Using cache"), 2u);
  EXPECT_EQ(count(build(b).output, "Using cache"), 0u);

  // keep-storage: nothing goes while the cache fits; over it, the least recently used go
  // first, until what stays fits.
  Built rebuilt_b = build(b);
  b_label = rebuilt_b.result->image_id;
  b_run = image(b_label).parent;
  age_cache_entries(cache, a_label, 3 * 3600);
  age_cache_entries(cache, a_run, 2 * 3600);
  auto top = image::Images::top_layer(image(b_run).config);
  ASSERT_TRUE(top.has_value());
  auto layer = d_->images().layers().get(*top);
  ASSERT_TRUE(layer.has_value());
  int64_t b_size = static_cast<int64_t>(layer->size);
  ASSERT_GT(b_size, 0);
  BuildPruneOptions fits;
  fits.keep_storage = int64_t{1} << 40;
  auto none = d_->build_prune(fits);
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->caches_deleted.empty());
  BuildPruneOptions keep_b;
  keep_b.keep_storage = b_size;
  auto lru = d_->build_prune(keep_b);
  ASSERT_TRUE(lru.has_value()) << lru.error().to_string();
  EXPECT_EQ(lru->caches_deleted.size(), 2u);  // a's LABEL (oldest), then a's RUN
  EXPECT_GT(lru->space_reclaimed, 0);
  EXPECT_EQ(count(build(b).output, "Using cache"), 2u);
  EXPECT_EQ(count(build(a).output, "Using cache"), 0u);
}

TEST_F(RootBuildTest, RunContainersGetTheBuildsResources) {
  Built b =
      build({{"Dockerfile",
              "FROM busybox\nRUN echo \"shm $(df -k /dev/shm | tail -n 1 | awk '{print $2}') mem "
              "$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes) shares "
              "$(cat /sys/fs/cgroup/cpu/cpu.shares) nofile $(ulimit -n)\"\n"}},
            [](BuildRequest& r) {
              r.resources.shm_size = 16 << 20;
              r.resources.memory = 64 << 20;
              r.resources.cpu_shares = 512;
              r.resources.ulimits = {Ulimit{"nofile", 1000, 2000}};
            });
  ASSERT_TRUE(b.result.has_value()) << b.result.error().to_string() << "\n" << b.output;
  EXPECT_NE(b.output.find("shm 16384 mem 67108864 shares 512 nofile 1000\n"), std::string::npos)
      << b.output;
  EXPECT_EQ(containers(), 0u);
}

}  // namespace
}  // namespace mydocker::engine
