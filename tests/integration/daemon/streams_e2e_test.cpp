// SPDX-License-Identifier: Apache-2.0
// Streams (issue 5): events, stats, logs -f and top through the mydocker CLI, raw HTTP and the
// docker CLI, against a private mydockerd; a client that vanishes leaves no thread or fd.
#include <gtest/gtest.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "tests/integration/daemon/daemon_fixture.h"

namespace mydocker::testing::e2e {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) {
    if (!line.empty()) {
      out.push_back(line);
    }
  }
  return out;
}

// "sec.nanosec" now, the form docker's --since/--until take.
std::string now_arg(int64_t offset_ms = 0) {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  int64_t ns = static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec + offset_ms * 1'000'000;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%lld.%09lld", static_cast<long long>(ns / 1'000'000'000),
                static_cast<long long>(ns % 1'000'000'000));
  return buf;
}

int thread_count(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Threads:", 0) == 0) {
      return std::stoi(line.substr(8));
    }
  }
  return -1;
}

void kill_and_reap(pid_t pid) {
  ::kill(pid, SIGKILL);
  wait_child(pid, 10s);
}

class RootStreamsE2e : public DaemonE2e {
 protected:
  // Past events of the container `name` between since and now (a replay that ends).
  std::vector<std::string> actions_of(const std::string& name, const std::string& since) {
    Output o = daemon_->cli({"events", "--since", since, "--until", now_arg(), "--filter",
                             "container=" + name, "--format", "{{.Action}}"});
    EXPECT_EQ(o.status, 0) << o.all();
    return lines_of(o.out);
  }
};

TEST_F(RootStreamsE2e, EventsShowRunRmInOrder) {
  std::string t0 = now_arg(-1);
  Output run = daemon_->cli({"run", "--rm", "--name", "ev1", "busybox", "true"});
  ASSERT_EQ(run.status, 0) << run.all();
  std::vector<std::string> actions;
  ASSERT_TRUE(eventually(
      [&] {
        actions = actions_of("ev1", t0);
        return !actions.empty() && actions.back() == "destroy";
      },
      10s));
  // attach (from the CLI's foreground run) may come between create and start.
  std::vector<std::string> core;
  for (const auto& a : actions) {
    if (a == "create" || a == "start" || a == "die" || a == "destroy") {
      core.push_back(a);
    }
  }
  EXPECT_EQ(core, (std::vector<std::string>{"create", "start", "die", "destroy"}));
}

TEST_F(RootStreamsE2e, EventsJsonAndDefaultLine) {
  std::string t0 = now_arg(-1);
  std::string id =
      run_detached({"--name", "ev2", "--label", "team=a", "busybox", "sh", "-c", "exit 3"});
  Output w = daemon_->cli({"wait", "ev2"});
  ASSERT_EQ(w.out, "3\n") << w.all();
  HttpResponse r = daemon_->http("GET", "/events?since=" + t0 + "&until=" + now_arg() +
                                            "&filters=%7B%22event%22%3A%5B%22die%22%5D%7D");
  ASSERT_EQ(r.status, 200) << r.body;
  auto lines = lines_of(r.body);
  ASSERT_EQ(lines.size(), 1u) << r.body;
  json e = json::parse(lines[0]);
  EXPECT_EQ(e["status"], "die");
  EXPECT_EQ(e["id"], id);
  EXPECT_EQ(e["from"], "busybox");
  EXPECT_EQ(e["Type"], "container");
  EXPECT_EQ(e["Actor"]["Attributes"]["exitCode"], "3");
  EXPECT_EQ(e["Actor"]["Attributes"]["name"], "ev2");
  EXPECT_EQ(e["Actor"]["Attributes"]["team"], "a");
  EXPECT_EQ(e["scope"], "local");
  EXPECT_EQ(e["time"].get<int64_t>(), e["timeNano"].get<int64_t>() / 1000000000);
  // docker's line: "<time> container die <id> (exitCode=3, image=busybox, name=ev2, team=a)"
  Output o = daemon_->cli({"events", "--since", t0, "--until", now_arg(), "--filter", "event=die"});
  ASSERT_EQ(o.status, 0) << o.all();
  EXPECT_TRUE(
      contains(o.out, " container die " + id + " (exitCode=3, image=busybox, name=ev2, team=a)\n"))
      << o.out;
  EXPECT_EQ(o.out.size() > 30 && o.out[4] == '-' && o.out[29] == 'Z' ? "ok" : o.out, "ok");
}

TEST_F(RootStreamsE2e, EventFiltersAndErrors) {
  std::string t0 = now_arg(-1);
  run_detached({"--name", "f1", "--label", "app=x", "busybox", "true"});
  run_detached({"--name", "f2", "busybox", "true"});
  ASSERT_EQ(daemon_->cli({"wait", "f1", "f2"}).status, 0);
  Output tag = daemon_->cli({"tag", "busybox", "evtag:1"});
  ASSERT_EQ(tag.status, 0) << tag.all();
  Output rmi = daemon_->cli({"rmi", "evtag:1"});
  ASSERT_EQ(rmi.status, 0) << rmi.all();
  std::string until = now_arg();
  auto query = [&](std::vector<std::string> filters) {
    std::vector<std::string> args = {"events",
                                     "--since",
                                     t0,
                                     "--until",
                                     until,
                                     "--format",
                                     "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}"};
    for (auto& f : filters) {
      args.push_back("--filter");
      args.push_back(f);
    }
    Output o = daemon_->cli(args);
    EXPECT_EQ(o.status, 0) << o.all();
    return lines_of(o.out);
  };
  auto by_label = query({"label=app=x", "event=create"});
  EXPECT_EQ(by_label, (std::vector<std::string>{"container create f1"}));
  // Only image events, and this test's tag then untag among them (the daemon's own image
  // events from the fixture's setup may fall inside the window on a fast machine).
  auto images = query({"type=image"});
  auto tagged = std::find(images.begin(), images.end(), "image tag evtag:1");
  ASSERT_NE(tagged, images.end()) << ::testing::PrintToString(images);
  EXPECT_EQ(std::count(images.begin(), images.end(), "image tag evtag:1"), 1)
      << ::testing::PrintToString(images);
  ASSERT_NE(tagged + 1, images.end()) << ::testing::PrintToString(images);
  EXPECT_TRUE(tagged[1].rfind("image untag sha256:", 0) == 0) << ::testing::PrintToString(images);
  for (const auto& line : images) {
    EXPECT_TRUE(line.rfind("image ", 0) == 0) << line;
  }
  auto starts = query({"event=start", "container=f2"});
  EXPECT_EQ(starts, (std::vector<std::string>{"container start f2"}));
  EXPECT_TRUE(query({"container=nosuch"}).empty());

  HttpResponse bad = daemon_->http("GET", "/events?since=notatime");
  EXPECT_EQ(bad.status, 500);
  EXPECT_TRUE(contains(bad.body, "strconv.ParseInt: parsing \\\"notatime\\\": invalid syntax"))
      << bad.body;
  HttpResponse bad_key =
      daemon_->http("GET", "/events?until=1&filters=%7B%22bogus%22%3A%5B%22x%22%5D%7D");
  EXPECT_EQ(bad_key.status, 400);
  EXPECT_TRUE(contains(bad_key.body, "invalid filter 'bogus'")) << bad_key.body;
}

TEST_F(RootStreamsE2e, LiveEventsAndAVanishedClientLeavesNothing) {
  // Warm the daemon's worker pool, then take the baseline.
  ASSERT_EQ(daemon_->cli({"ps"}).status, 0);
  std::this_thread::sleep_for(300ms);
  int fds0 = daemon_->fd_count();
  std::string log = daemon_->root() + "/events.log";
  std::vector<pid_t> clients;
  for (int i = 0; i < 5; ++i) {
    clients.push_back(spawn({mydocker_path(), "-H", "unix://" + daemon_->socket(), "events",
                             "--filter", "container=live1", "--format", "{{.Action}}"},
                            log));
  }
  std::this_thread::sleep_for(700ms);
  run_detached({"--name", "live1", "busybox", "true"});
  EXPECT_TRUE(eventually(
      [&] {
        std::string text = slurp(log);
        size_t n = 0;
        for (size_t p = text.find("die"); p != std::string::npos; p = text.find("die", p + 1)) {
          ++n;
        }
        return n == 5;
      },
      15s))
      << slurp(log);
  for (pid_t p : clients) {
    kill_and_reap(p);
  }
  // Each stream notices its client left within ~250 ms; the daemon's fds come back.
  EXPECT_TRUE(eventually([&] { return daemon_->fd_count() <= fds0; }, 10s))
      << "fds " << daemon_->fd_count() << " > " << fds0;
  int threads = thread_count(daemon_->pid());
  EXPECT_GT(threads, 0);
  // Again with every kind of stream (events, stats, logs -f): no growth in threads either.
  run_detached({"--name", "quiet", "busybox", "sleep", "1000"});
  std::this_thread::sleep_for(300ms);
  fds0 = daemon_->fd_count();  // the running container's shim pidfd is one more
  std::string host = "unix://" + daemon_->socket();
  clients = {spawn({mydocker_path(), "-H", host, "events"}, log),
             spawn({mydocker_path(), "-H", host, "events", "--since", "0"}, log),
             spawn({mydocker_path(), "-H", host, "stats", "quiet"}, log),
             spawn({mydocker_path(), "-H", host, "stats", "--all"}, log),
             spawn({mydocker_path(), "-H", host, "logs", "-f", "quiet"}, log)};
  std::this_thread::sleep_for(1500ms);
  for (pid_t p : clients) {
    kill_and_reap(p);
  }
  EXPECT_TRUE(eventually([&] { return daemon_->fd_count() <= fds0; }, 10s));
  EXPECT_TRUE(eventually([&] { return thread_count(daemon_->pid()) <= threads; }, 10s))
      << thread_count(daemon_->pid()) << " > " << threads;
}

TEST_F(RootStreamsE2e, DaemonStopEndsOpenStreams) {
  run_detached({"--name", "held", "busybox", "sleep", "1000"});
  std::string host = "unix://" + daemon_->socket();
  std::string log = daemon_->root() + "/held.log";
  std::vector<pid_t> clients = {spawn({mydocker_path(), "-H", host, "events"}, log),
                                spawn({mydocker_path(), "-H", host, "stats", "held"}, log),
                                spawn({mydocker_path(), "-H", host, "logs", "-f", "held"}, log)};
  std::this_thread::sleep_for(1s);
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(daemon_->stop(), 0) << daemon_->log();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  for (pid_t p : clients) {
    int status = wait_child(p, 10s);
    if (status == -1) {
      kill_and_reap(p);
    }
    EXPECT_NE(status, -1) << "a client still streams after the daemon stopped";
  }
  ASSERT_TRUE(daemon_->start());  // the teardown removes the container through it
}

TEST_F(RootStreamsE2e, LogsFollowSeesNewLinesAndEndsWithTheContainer) {
  run_detached({"--name", "lf", "busybox", "sh", "-c",
                "echo one; sleep 1; echo two; sleep 1; echo three >&2; exit 0"});
  std::string log = daemon_->root() + "/logs.log";
  pid_t p =
      spawn({mydocker_path(), "-H", "unix://" + daemon_->socket(), "logs", "-f", "-t", "lf"}, log);
  int status = wait_child(p, 20s);
  if (status == -1) {
    kill_and_reap(p);
  }
  EXPECT_EQ(status, 0) << slurp(log);
  std::string text = slurp(log);
  EXPECT_TRUE(contains(text, "Z one\n")) << text;
  EXPECT_TRUE(contains(text, "Z two\n")) << text;
  EXPECT_TRUE(contains(text, "Z three\n")) << text;
  // --tail and --since on a finished log.
  Output tail = daemon_->cli({"logs", "--tail", "1", "lf"});
  EXPECT_EQ(tail.all(), "three\n");
  Output since = daemon_->cli({"logs", "-f", "--since", now_arg(), "lf"});
  EXPECT_EQ(since.status, 0);
  EXPECT_EQ(since.all(), "");
}

TEST_F(RootStreamsE2e, StatsOneShotStreamAndStopped) {
  run_detached({"--name", "st", "--memory", "64m", "--pids-limit", "64", "busybox", "sh", "-c",
                "while :; do sleep 1; done"});
  HttpResponse r = daemon_->http("GET", "/containers/st/stats?stream=false");
  ASSERT_EQ(r.status, 200) << r.body;
  json s = json::parse(r.body);
  EXPECT_EQ(s["name"], "/st");
  EXPECT_GT(s["memory_stats"]["usage"].get<uint64_t>(), 0u) << r.body;
  EXPECT_EQ(s["memory_stats"]["limit"].get<uint64_t>(), 64u << 20) << r.body;
  EXPECT_GE(s["pids_stats"]["current"].get<uint64_t>(), 1u) << r.body;
  EXPECT_EQ(s["pids_stats"]["limit"].get<uint64_t>(), 64u) << r.body;
  EXPECT_GT(s["cpu_stats"]["online_cpus"].get<uint64_t>(), 0u);
  EXPECT_GT(s["cpu_stats"]["system_cpu_usage"].get<uint64_t>(),
            s["precpu_stats"]["system_cpu_usage"].get<uint64_t>());
  EXPECT_NE(s["preread"], "0001-01-01T00:00:00Z");
  EXPECT_TRUE(s["blkio_stats"]["io_service_bytes_recursive"].is_array());
  HttpResponse one = daemon_->http("GET", "/containers/st/stats?stream=false&one-shot=true");
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(json::parse(one.body)["preread"], "0001-01-01T00:00:00Z");
  HttpResponse both = daemon_->http("GET", "/containers/st/stats?stream=true&one-shot=true");
  EXPECT_EQ(both.status, 400);

  Output table = daemon_->cli({"stats", "--no-stream"});
  ASSERT_EQ(table.status, 0) << table.all();
  auto rows = lines_of(table.out);
  ASSERT_EQ(rows.size(), 2u) << table.out;
  EXPECT_TRUE(contains(rows[0], "CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT")) << rows[0];
  EXPECT_TRUE(contains(rows[1], "   st   ")) << rows[1];
  EXPECT_TRUE(contains(rows[1], "/ 64MiB")) << rows[1];
  Output fmt = daemon_->cli({"stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}}", "st"});
  EXPECT_EQ(fmt.status, 0) << fmt.all();
  EXPECT_TRUE(fmt.out.rfind("st ", 0) == 0) << fmt.out;

  ASSERT_EQ(daemon_->cli({"stop", "-t", "1", "st"}).status, 0);
  HttpResponse stopped = daemon_->http("GET", "/containers/st/stats?stream=false");
  ASSERT_EQ(stopped.status, 200);
  json z = json::parse(stopped.body);
  EXPECT_EQ(z["read"], "0001-01-01T00:00:00Z");
  EXPECT_TRUE(z["memory_stats"].empty());
  EXPECT_TRUE(z["blkio_stats"]["io_service_bytes_recursive"].is_null());
  EXPECT_EQ(daemon_->http("GET", "/containers/nosuch/stats?stream=false").status, 404);
}

TEST_F(RootStreamsE2e, TopWithPsOptions) {
  run_detached({"--name", "tp", "busybox", "sleep", "1000"});
  Output def = daemon_->cli({"top", "tp"});
  ASSERT_EQ(def.status, 0) << def.all();
  EXPECT_TRUE(contains(def.out, "UID")) << def.out;
  EXPECT_TRUE(contains(def.out, "sleep 1000")) << def.out;
  Output aux = daemon_->cli({"top", "tp", "aux"});
  ASSERT_EQ(aux.status, 0) << aux.all();
  EXPECT_TRUE(contains(aux.out, "%CPU")) << aux.out;
  Output o = daemon_->cli({"top", "tp", "-o", "pid,comm"});
  ASSERT_EQ(o.status, 0) << o.all();
  auto rows = lines_of(o.out);
  ASSERT_GE(rows.size(), 2u) << o.out;
  EXPECT_TRUE(contains(rows[0], "PID") && contains(rows[0], "COMMAND")) << rows[0];
  EXPECT_TRUE(contains(o.out, "sleep")) << o.out;
  Output bad = daemon_->cli({"top", "tp", "--no-such-ps-flag"});
  EXPECT_NE(bad.status, 0);
  EXPECT_TRUE(contains(bad.err, "Error response from daemon: ps: ")) << bad.all();
  Output nopid = daemon_->cli({"top", "tp", "-o", "comm"});
  EXPECT_NE(nopid.status, 0);
  EXPECT_TRUE(contains(nopid.err, "Couldn't find PID field in ps output")) << nopid.all();
}

TEST_F(RootStreamsE2e, FiftyStreamsAndPsStillAnswersAtOnce) {
  run_detached({"--name", "busy", "busybox", "sh", "-c", "while :; do echo x; sleep 1; done"});
  std::string log = daemon_->root() + "/many.log";
  std::vector<pid_t> clients;
  for (int i = 0; i < 50; ++i) {
    if (i % 2 == 0) {
      clients.push_back(
          spawn({mydocker_path(), "-H", "unix://" + daemon_->socket(), "events"}, log));
    } else {
      clients.push_back(
          spawn({mydocker_path(), "-H", "unix://" + daemon_->socket(), "logs", "-f", "busy"}, log));
    }
  }
  std::this_thread::sleep_for(2s);
  auto start = std::chrono::steady_clock::now();
  Output ps = daemon_->cli({"ps"});
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(ps.status, 0) << ps.all();
  EXPECT_TRUE(contains(ps.out, "busy")) << ps.out;
  // Starved means not answered while the streams stay open; the bound only tells that apart
  // from a slow machine (a sanitizer build), it measures nothing.
  EXPECT_LT(took, 10s) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
  for (pid_t p : clients) {
    kill_and_reap(p);
  }
}

class RootStreamsDockerCliE2e : public RootStreamsE2e {
 protected:
  void SetUp() override {
    if (::access("/usr/local/bin/docker", X_OK) != 0) {
      GTEST_SKIP() << "the docker CLI is not installed at /usr/local/bin/docker";
    }
    RootStreamsE2e::SetUp();
  }
};

TEST_F(RootStreamsDockerCliE2e, EventsStatsLogsTop) {
  std::string t0 = now_arg(-1);
  std::string id =
      run_detached({"--name", "dk", "busybox", "sh", "-c", "echo a; sleep 1; echo b; sleep 30"});
  Output ev =
      daemon_->docker({"events", "--since", t0, "--until", now_arg(), "--filter", "container=dk"});
  ASSERT_EQ(ev.status, 0) << ev.all();
  EXPECT_TRUE(contains(ev.out, " container create " + id + " (image=busybox, name=dk)\n"))
      << ev.out;
  EXPECT_TRUE(contains(ev.out, " container start " + id)) << ev.out;
  Output stats = daemon_->docker({"stats", "--no-stream", "dk"});
  ASSERT_EQ(stats.status, 0) << stats.all();
  EXPECT_TRUE(contains(stats.out, "MEM USAGE / LIMIT")) << stats.out;
  EXPECT_TRUE(contains(stats.out, id.substr(0, 12) + "   dk ")) << stats.out;
  Output top = daemon_->docker({"top", "dk"});
  ASSERT_EQ(top.status, 0) << top.all();
  EXPECT_TRUE(contains(top.out, "sleep")) << top.out;
  Output topo = daemon_->docker({"top", "dk", "-o", "pid,comm"});
  EXPECT_EQ(topo.status, 0) << topo.all();
  // docker logs -f: both lines, and it ends when the container does.
  std::string log = daemon_->root() + "/dlogs.log";
  pid_t p = spawn(
      {"/usr/local/bin/docker", "-H", "unix://" + daemon_->socket(), "logs", "-f", "dk"}, log);
  EXPECT_TRUE(eventually([&] { return contains(slurp(log), "b\n"); }, 10s)) << slurp(log);
  ASSERT_EQ(daemon_->cli({"kill", "dk"}).status, 0);
  int status = wait_child(p, 10s);
  if (status == -1) {
    kill_and_reap(p);
  }
  EXPECT_EQ(status, 0) << slurp(log);
  EXPECT_EQ(slurp(log), "a\nb\n");
}

}  // namespace
}  // namespace mydocker::testing::e2e
