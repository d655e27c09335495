// SPDX-License-Identifier: Apache-2.0
// Every verb of the mydocker CLI against a private mydockerd.
#include <gtest/gtest.h>

#include "tests/integration/daemon/daemon_fixture.h"

namespace mydocker::testing::e2e {
namespace {

using RootCliE2e = DaemonE2e;

RunOptions stdout_to(const std::string& file) {
  RunOptions o;
  o.stdout_file = file;
  return o;
}

RunOptions input_of(std::string input) {
  RunOptions o;
  o.input = std::move(input);
  return o;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST_F(RootCliE2e, RunPrintsOutputAndRemoves) {
  Output o = daemon_->cli({"run", "--rm", "busybox", "echo", "hello"});
  EXPECT_EQ(o.status, 0) << o.all();
  EXPECT_EQ(o.out, "hello\n");
  Output ps = daemon_->cli({"ps", "-aq"});
  EXPECT_EQ(ps.status, 0) << ps.all();
  EXPECT_EQ(ps.out, "") << "--rm left the container";
}

TEST_F(RootCliE2e, RunExitCodes) {
  Output three = daemon_->cli({"run", "busybox", "sh", "-c", "exit 3"});
  EXPECT_EQ(three.status, 3) << three.all();
  Output missing = daemon_->cli({"run", "--rm", "busybox", "/no/such/command"});
  EXPECT_EQ(missing.status, 127) << missing.all();
  EXPECT_TRUE(contains(missing.err, "/no/such/command")) << missing.err;
  Output not_exec = daemon_->cli({"run", "--rm", "busybox", "/etc/passwd"});
  EXPECT_EQ(not_exec.status, 126) << not_exec.all();
  Output bad_flag = daemon_->cli({"run", "--memory", "lots", "busybox", "true"});
  EXPECT_EQ(bad_flag.status, 125) << bad_flag.all();
  // --pull=never: a missing image is pulled by default, and tests reach no outside registry.
  Output no_image = daemon_->cli({"run", "--rm", "--pull=never", "nosuchimage:1", "true"});
  EXPECT_EQ(no_image.status, 125) << no_image.all();
}

TEST_F(RootCliE2e, RunDetachedLogsInspectPs) {
  std::string id = run_detached({"--name", "web", "-e", "FOO=bar", "-l", "tier=front", "busybox",
                                 "sh", "-c", "echo out $FOO; echo err >&2; exec sleep 1000"});
  ASSERT_EQ(id.size(), 64u);
  EXPECT_EQ(inspect("web", "{{.State.Running}}"), "true");
  EXPECT_EQ(inspect("web", "{{.Name}}"), "/web");
  EXPECT_EQ(inspect(id.substr(0, 12), "{{.Id}}"), id);
  EXPECT_EQ(inspect("web", "{{index .Config.Labels \"tier\"}}"), "front");
  ASSERT_TRUE(eventually([&] { return daemon_->cli({"logs", "web"}).out == "out bar\n"; }));
  Output logs = daemon_->cli({"logs", "web"});
  EXPECT_EQ(logs.out, "out bar\n");
  EXPECT_EQ(logs.err, "err\n");
  Output tail = daemon_->cli({"logs", "--tail", "1", "-t", "web"});
  EXPECT_EQ(tail.status, 0) << tail.all();

  std::string created = trim_nl(daemon_->cli({"create", "--name", "idle", "busybox", "true"}).out);
  ASSERT_EQ(created.size(), 64u);

  Output ps = daemon_->cli({"ps"});
  EXPECT_EQ(ps.status, 0) << ps.all();
  EXPECT_TRUE(contains(ps.out, "CONTAINER ID")) << ps.out;
  EXPECT_TRUE(contains(ps.out, id.substr(0, 12))) << ps.out;
  EXPECT_TRUE(contains(ps.out, "Up ")) << ps.out;
  EXPECT_FALSE(contains(ps.out, "idle")) << ps.out;
  Output psa = daemon_->cli({"ps", "-a"});
  EXPECT_TRUE(contains(psa.out, "idle")) << psa.out;
  EXPECT_TRUE(contains(psa.out, "Created")) << psa.out;
  EXPECT_EQ(daemon_->cli({"ps", "-q"}).out, id.substr(0, 12) + "\n");
  EXPECT_EQ(daemon_->cli({"ps", "-q", "--no-trunc"}).out, id + "\n");
  EXPECT_EQ(daemon_->cli({"ps", "-a", "-n", "1", "--format", "{{.Names}}"}).out, "idle\n");
  EXPECT_EQ(daemon_->cli({"ps", "-a", "-f", "status=created", "--format", "{{.ID}}"}).out,
            created.substr(0, 12) + "\n");
  EXPECT_EQ(daemon_->cli({"ps", "-a", "-f", "label=tier=front", "-q"}).out,
            id.substr(0, 12) + "\n");
  EXPECT_EQ(daemon_->cli({"ps", "-f", "name=web", "--format", "{{.Status}}"}).out.rfind("Up ", 0),
            0u);
  Output js = daemon_->cli({"ps", "--format", "{{json .}}"});
  EXPECT_TRUE(contains(js.out, "\"Names\":\"web\"")) << js.out;
  Output table = daemon_->cli({"ps", "--format", "table {{.ID}}\t{{.Names}}"});
  EXPECT_TRUE(contains(table.out, "CONTAINER ID")) << table.out;
  EXPECT_TRUE(contains(table.out, "web")) << table.out;
  Output sized = daemon_->cli({"ps", "-s"});
  EXPECT_TRUE(contains(sized.out, "SIZE")) << sized.out;
  Output bad = daemon_->cli({"ps", "-f", "colour=red"});
  EXPECT_NE(bad.status, 0);
  EXPECT_TRUE(contains(bad.err, "filter 'colour'")) << bad.err;
}

TEST_F(RootCliE2e, CreateStartStopRestartKillRm) {
  std::string id =
      trim_nl(daemon_->cli({"create", "--name", "c1", "busybox", "sleep", "1000"}).out);
  ASSERT_EQ(id.size(), 64u);
  EXPECT_EQ(inspect("c1", "{{.State.Status}}"), "created");
  Output start = daemon_->cli({"start", "c1"});
  EXPECT_EQ(start.status, 0) << start.all();
  EXPECT_EQ(trim_nl(start.out), "c1");
  EXPECT_EQ(inspect("c1", "{{.State.Status}}"), "running");
  std::string pid1 = inspect("c1", "{{.State.Pid}}");
  // sleep is PID 1 without a SIGTERM handler: the stop timeout ends in SIGKILL.
  Output stop = daemon_->cli({"stop", "-t", "1", "c1"});
  EXPECT_EQ(stop.status, 0) << stop.all();
  EXPECT_EQ(inspect("c1", "{{.State.Status}} {{.State.ExitCode}}"), "exited 137");
  Output restart = daemon_->cli({"restart", "-t", "1", "c1"});
  EXPECT_EQ(restart.status, 0) << restart.all();
  EXPECT_EQ(inspect("c1", "{{.State.Status}}"), "running");
  EXPECT_NE(inspect("c1", "{{.State.Pid}}"), pid1);
  Output kill = daemon_->cli({"kill", "-s", "KILL", "c1"});
  EXPECT_EQ(kill.status, 0) << kill.all();
  ASSERT_TRUE(eventually([&] { return inspect("c1", "{{.State.Status}}") == "exited"; }));
  EXPECT_EQ(inspect("c1", "{{.State.ExitCode}}"), "137");
  Output kill_again = daemon_->cli({"kill", "c1"});
  EXPECT_NE(kill_again.status, 0);
  EXPECT_TRUE(contains(kill_again.err, "is not running")) << kill_again.err;
  Output rm = daemon_->cli({"rm", "c1"});
  EXPECT_EQ(rm.status, 0) << rm.all();
  // --type container: without it "c1" is also an image ID prefix, and one image in 256 has it.
  Output gone = daemon_->cli({"inspect", "--type", "container", "c1"});
  EXPECT_NE(gone.status, 0);
  EXPECT_TRUE(contains(gone.err, "No such container: c1")) << gone.err;

  std::string running = run_detached({"busybox", "sleep", "1000"});
  Output refuse = daemon_->cli({"rm", running});
  EXPECT_NE(refuse.status, 0);
  EXPECT_TRUE(contains(refuse.err, "Stop the container before attempting removal or force remove"))
      << refuse.err;
  EXPECT_EQ(daemon_->cli({"rm", "-f", running}).status, 0);
  EXPECT_EQ(daemon_->cli({"ps", "-aq"}).out, "");
}

TEST_F(RootCliE2e, PauseUnpauseTopRenameUpdateWait) {
  std::string id = run_detached({"--name", "p1", "busybox", "sleep", "1000"});
  EXPECT_EQ(daemon_->cli({"pause", "p1"}).status, 0);
  EXPECT_EQ(inspect("p1", "{{.State.Status}} {{.State.Paused}}"), "paused true");
  Output paused_ps = daemon_->cli({"ps", "--format", "{{.Status}}"});
  EXPECT_TRUE(contains(paused_ps.out, "(Paused)")) << paused_ps.out;
  EXPECT_EQ(daemon_->cli({"unpause", "p1"}).status, 0);
  EXPECT_EQ(inspect("p1", "{{.State.Status}}"), "running");

  Output top = daemon_->cli({"top", "p1"});
  EXPECT_EQ(top.status, 0) << top.all();
  EXPECT_TRUE(contains(top.out, "PID")) << top.out;
  EXPECT_TRUE(contains(top.out, "sleep 1000")) << top.out;

  EXPECT_EQ(daemon_->cli({"rename", "p1", "p2"}).status, 0);
  EXPECT_EQ(inspect(id, "{{.Name}}"), "/p2");
  Output taken = daemon_->cli({"rename", "p2", "p2"});
  EXPECT_NE(taken.status, 0);

  Output update = daemon_->cli(
      {"update", "--memory", "64m", "--memory-swap", "128m", "--pids-limit", "50", "p2"});
  EXPECT_EQ(update.status, 0) << update.all();
  EXPECT_EQ(inspect("p2", "{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}"), "67108864 50");

  std::string w = run_detached({"busybox", "sh", "-c", "sleep 0.3; exit 5"});
  Output wait = daemon_->cli({"wait", w});
  EXPECT_EQ(wait.status, 0) << wait.all();
  EXPECT_EQ(wait.out, "5\n");
}

TEST_F(RootCliE2e, ExportAndDiff) {
  std::string id =
      run_detached({"busybox", "sh", "-c", "echo x > /newfile; rm /etc/group; exec sleep 1000"});
  ASSERT_TRUE(eventually([&] { return contains(daemon_->cli({"diff", id}).out, "A /newfile"); }));
  Output diff = daemon_->cli({"diff", id});
  EXPECT_TRUE(contains(diff.out, "D /etc/group")) << diff.out;
  EXPECT_TRUE(contains(diff.out, "C /etc")) << diff.out;
  std::string tar = daemon_->root() + "/export.tar";
  Output exp = daemon_->cli({"export", "-o", tar, id});
  EXPECT_EQ(exp.status, 0) << exp.all();
  Output list = run({"/bin/tar", "-tf", tar});
  EXPECT_EQ(list.status, 0) << list.all();
  EXPECT_TRUE(contains(list.out, "newfile")) << list.out;
  EXPECT_TRUE(contains(list.out, "bin/busybox")) << list.out;
  EXPECT_FALSE(contains(list.out, "etc/group")) << list.out;
  // To stdout as well.
  Output piped = daemon_->cli({"export", id}, stdout_to(daemon_->root() + "/e2.tar"));
  EXPECT_EQ(piped.status, 0) << piped.all();
  EXPECT_EQ(run({"/bin/tar", "-tf", daemon_->root() + "/e2.tar"}).out, list.out);
}

TEST_F(RootCliE2e, ImagesTagHistoryRmi) {
  Output images = daemon_->cli({"images"});
  EXPECT_EQ(images.status, 0) << images.all();
  EXPECT_TRUE(contains(images.out, "REPOSITORY")) << images.out;
  EXPECT_TRUE(contains(images.out, "busybox")) << images.out;
  EXPECT_EQ(daemon_->cli({"tag", "busybox:latest", "mine:v1"}).status, 0);
  EXPECT_EQ(daemon_->cli({"images", "--format", "{{.Repository}}:{{.Tag}}", "mine"}).out,
            "mine:v1\n");
  // As docker: one row per tag, so the one image ID twice.
  Output q = daemon_->cli({"images", "-q"});
  ASSERT_EQ(q.out.size(), 26u) << q.out;
  EXPECT_EQ(q.out.substr(0, 13), q.out.substr(13)) << q.out;
  Output history = daemon_->cli({"history", "busybox"});
  EXPECT_EQ(history.status, 0) << history.all();
  EXPECT_TRUE(contains(history.out, "CREATED BY")) << history.out;
  Output rmi = daemon_->cli({"rmi", "mine:v1"});
  EXPECT_EQ(rmi.status, 0) << rmi.all();
  EXPECT_EQ(rmi.out, "Untagged: mine:v1\n");
  Output missing = daemon_->cli({"rmi", "mine:v1"});
  EXPECT_NE(missing.status, 0);
  EXPECT_TRUE(contains(missing.err, "No such image: mine:v1")) << missing.err;

  // An image used by a container is refused without -f.
  std::string c = trim_nl(daemon_->cli({"create", "busybox", "true"}).out);
  Output used = daemon_->cli({"rmi", "busybox"});
  EXPECT_NE(used.status, 0);
  EXPECT_TRUE(contains(used.err, "conflict")) << used.err;
  EXPECT_EQ(daemon_->cli({"rm", c}).status, 0);
}

TEST_F(RootCliE2e, SaveLoadImport) {
  std::string tar = daemon_->root() + "/saved.tar";
  Output save = daemon_->cli({"save", "-o", tar, "busybox:latest"});
  EXPECT_EQ(save.status, 0) << save.all();
  EXPECT_EQ(daemon_->cli({"rmi", "busybox:latest"}).status, 0);
  EXPECT_NE(daemon_->cli({"run", "--rm", "busybox", "true"}).status, 0);
  Output load = daemon_->cli({"load", "-i", tar});
  EXPECT_EQ(load.status, 0) << load.all();
  EXPECT_TRUE(contains(load.out, "Loaded image: busybox:latest")) << load.out;
  EXPECT_EQ(daemon_->cli({"run", "--rm", "busybox", "true"}).status, 0);

  // import from stdin, with a message and a change.
  Output t = run(
      {"/bin/tar", "-C", daemon_->root(), "-cf", daemon_->root() + "/small.tar", "daemon.json"});
  ASSERT_EQ(t.status, 0) << t.all();
  Output imp = daemon_->cli(
      {"import", "-m", "just a file", "-c", "ENV A=b", daemon_->root() + "/small.tar", "small:1"});
  EXPECT_EQ(imp.status, 0) << imp.all();
  EXPECT_EQ(trim_nl(imp.out).rfind("sha256:", 0), 0u) << imp.out;
  EXPECT_EQ(daemon_->cli({"inspect", "-f", "{{.Comment}} {{.Config.Env}}", "small:1"}).out,
            "just a file [A=b]\n");
  Output load_stdin = daemon_->cli({"load"}, input_of(run({"/bin/cat", tar}).out));
  EXPECT_EQ(load_stdin.status, 0) << load_stdin.all();
}

TEST_F(RootCliE2e, VersionInfoSystemDf) {
  Output v = daemon_->cli({"version"});
  EXPECT_EQ(v.status, 0) << v.all();
  EXPECT_TRUE(contains(v.out, "Client:")) << v.out;
  EXPECT_TRUE(contains(v.out, "Server:")) << v.out;
  EXPECT_TRUE(contains(v.out, "API version")) << v.out;
  run_detached({"busybox", "sleep", "1000"});
  Output info = daemon_->cli({"info"});
  EXPECT_EQ(info.status, 0) << info.all();
  EXPECT_TRUE(contains(info.out, "Containers: 1")) << info.out;
  EXPECT_TRUE(contains(info.out, "Running: 1")) << info.out;
  EXPECT_TRUE(contains(info.out, "Storage Driver:")) << info.out;
  EXPECT_TRUE(contains(info.out, daemon_->data_root())) << info.out;
  Output df = daemon_->cli({"system", "df"});
  EXPECT_EQ(df.status, 0) << df.all();
  EXPECT_TRUE(contains(df.out, "Images")) << df.out;
  EXPECT_TRUE(contains(df.out, "Containers")) << df.out;
}

TEST_F(RootCliE2e, Prunes) {
  std::string running = run_detached({"busybox", "sleep", "1000"});
  std::string exited = run_detached({"busybox", "true"});
  ASSERT_EQ(daemon_->cli({"wait", exited}).status, 0);
  Output cp = daemon_->cli({"container", "prune", "-f"});
  EXPECT_EQ(cp.status, 0) << cp.all();
  EXPECT_TRUE(contains(cp.out, exited)) << cp.out;
  EXPECT_TRUE(contains(cp.out, "Total reclaimed space:")) << cp.out;
  EXPECT_EQ(daemon_->cli({"ps", "-aq", "--no-trunc"}).out, running + "\n");

  // A dangling image (its tag moved away) goes with image prune; busybox is in use.
  ASSERT_EQ(daemon_->cli({"tag", "busybox:latest", "keep:1"}).status, 0);
  Output t =
      run({"/bin/tar", "-C", daemon_->root(), "-cf", daemon_->root() + "/d.tar", "daemon.json"});
  ASSERT_EQ(t.status, 0);
  ASSERT_EQ(daemon_->cli({"import", daemon_->root() + "/d.tar", "dang:1"}).status, 0);
  ASSERT_EQ(daemon_->cli({"import", "-m", "other", daemon_->root() + "/d.tar", "dang:1"}).status,
            0);
  Output ip = daemon_->cli({"image", "prune", "-f"});
  EXPECT_EQ(ip.status, 0) << ip.all();
  EXPECT_TRUE(contains(ip.out, "Deleted")) << ip.out;
  EXPECT_EQ(daemon_->cli({"images", "-q", "--filter", "dangling=true"}).out, "");

  ASSERT_EQ(daemon_->cli({"stop", "-t", "0", running}).status, 0);
  Output sp = daemon_->cli({"system", "prune", "-f"});
  EXPECT_EQ(sp.status, 0) << sp.all();
  EXPECT_EQ(daemon_->cli({"ps", "-aq"}).out, "");
  EXPECT_TRUE(contains(daemon_->cli({"images"}).out, "busybox")) << "tagged images stay";
}

}  // namespace
}  // namespace mydocker::testing::e2e
