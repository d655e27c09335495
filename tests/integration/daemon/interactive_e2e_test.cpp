// SPDX-License-Identifier: Apache-2.0
// Interactive use end to end, the way a person uses it: `mydocker run -it busybox sh` (and the
// real docker CLI) in a terminal driven by a private tmux server, against a private
// mydockerd. Type a command and read its output, resize the window and check `stty size`,
// Ctrl-C a sleep, detach with ctrl-p ctrl-q and attach again, exit with a code, and check the
// terminal is back in cooked mode afterwards. Plus the non-terminal flows: piped stdin, exec
// exit codes, exec in a stopped container.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/daemon/daemon_fixture.h"

namespace mydocker::testing::e2e {
namespace {

using namespace std::chrono_literals;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// One tmux server of our own (its socket in the daemon's temp root), one session running a
// plain `sh` (dash: it leaves the terminal modes alone, so a CLI that forgot to restore them
// is seen) with the CLIs in $M (mydocker) and $D (docker) on the daemon's socket.
class Tmux {
 public:
  Tmux(const std::string& dir, const PrivateDaemon& daemon) : socket_(dir + "/tmux.sock") {
    std::string m = mydocker_path() + " -H unix://" + daemon.socket();
    std::string d = "env DOCKER_HOST=unix://" + daemon.socket() +
                    " DOCKER_CONFIG=" + daemon.root() +
                    "/docker-config DOCKER_CLI_HINTS=false /usr/local/bin/docker";
    Output o = tmux({"-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", "80", "-y", "24",
                     "env", "PS1=host$ ", "ENV=", "M=" + m, "D=" + d, "/bin/sh"});
    started_ = o.status == 0;
    EXPECT_TRUE(started_) << o.all();
  }
  ~Tmux() {
    // The server and everything in its panes (SIGHUP) end with it.
    (void)tmux({"kill-server"});
  }
  Tmux(const Tmux&) = delete;
  Tmux& operator=(const Tmux&) = delete;

  bool started() const { return started_; }
  // Types `text` literally, then Enter.
  void line(const std::string& text) {
    (void)tmux({"send-keys", "-t", "t", "-l", text});
    (void)tmux({"send-keys", "-t", "t", "Enter"});
  }
  // Key names as tmux spells them: "C-c", "C-p".
  void key(const std::string& name) { (void)tmux({"send-keys", "-t", "t", name}); }
  std::string screen() {
    Output o = tmux({"capture-pane", "-p", "-J", "-t", "t", "-S", "-200"});
    return o.out;
  }
  // Waits until the pane shows `text`.
  bool wait_for(const std::string& text, std::chrono::milliseconds limit = 20s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (contains(screen(), text)) {
        return true;
      }
      std::this_thread::sleep_for(50ms);
    }
    return contains(screen(), text);
  }
  // Count of occurrences on the pane.
  size_t count(const std::string& text) {
    std::string s = screen();
    size_t n = 0;
    for (size_t pos = s.find(text); pos != std::string::npos; pos = s.find(text, pos + 1)) {
      ++n;
    }
    return n;
  }
  bool wait_count(const std::string& text, size_t want, std::chrono::milliseconds limit = 20s) {
    return eventually([&] { return count(text) >= want; }, limit);
  }
  void resize(int cols, int rows) {
    Output o =
        tmux({"resize-window", "-t", "t", "-x", std::to_string(cols), "-y", std::to_string(rows)});
    EXPECT_EQ(o.status, 0) << o.all();
  }
  void clear() {
    line("clear");
    (void)tmux({"clear-history", "-t", "t"});
    std::this_thread::sleep_for(100ms);
  }
  // The outer shell's terminal modes: "icanon echo " when cooked, "-icanon -echo " when raw
  // (raw: Enter is a bare CR the shell never takes as the end of a line, so no answer).
  std::string host_modes() {
    clear();
    // The marker is split on the command line so only the answer shows it whole.
    line(
        "stty -a | tr ' ' '\\n' | grep -x -e icanon -e -icanon -e echo -e -echo | tr '\\n' ' ';"
        " echo :MO''DES");
    if (!wait_for(":MODES\n", 10s)) {
      return "(no answer: the terminal is not cooked)";
    }
    std::string s = screen();
    size_t end = s.rfind(":MODES\n");
    size_t begin = s.rfind('\n', end);
    begin = begin == std::string::npos ? 0 : begin + 1;
    return s.substr(begin, end - begin);
  }

 private:
  Output tmux(std::vector<std::string> args) {
    std::vector<std::string> argv = {"/usr/bin/tmux", "-S", socket_};
    argv.insert(argv.end(), args.begin(), args.end());
    RunOptions o;
    o.timeout = 20s;
    return run(argv, o);
  }

  std::string socket_;
  bool started_ = false;
};

class RootInteractiveE2e : public DaemonE2e {
 protected:
  void SetUp() override {
    DaemonE2e::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    if (::access("/usr/bin/tmux", X_OK) != 0) {
      GTEST_SKIP() << "tmux is not installed (scripts/install-deps.sh)";
    }
  }
  std::unique_ptr<Tmux> tmux() {
    auto t = std::make_unique<Tmux>(daemon_->root(), *daemon_);
    EXPECT_TRUE(t->wait_for("host$ ")) << t->screen();
    return t;
  }
  std::string state(const std::string& name) { return inspect(name, "{{.State.Status}}"); }
};

// ---- mydocker in a terminal ----

TEST_F(RootInteractiveE2e, RunItTypesResizesInterruptsAndExitsWithTheCode) {
  auto t = tmux();
  t->line("$M run -it --name it1 busybox sh; echo EXIT=$?");
  ASSERT_TRUE(t->wait_for("/ # ")) << t->screen();
  t->line("echo $((6*7))");
  ASSERT_TRUE(t->wait_for("\n42\n")) << t->screen();
  t->line("stty size");
  ASSERT_TRUE(t->wait_for("\n24 80\n")) << t->screen();
  t->resize(100, 30);
  // SIGWINCH reaches the CLI, which resizes the container's tty.
  ASSERT_TRUE(eventually([&] {
    t->line("stty size");
    return t->wait_for("\n30 100\n", 500ms);
  })) << t->screen();
  t->line("sleep 100");
  std::this_thread::sleep_for(300ms);
  t->key("C-c");
  // The shell survived its foreground job's SIGINT.
  t->line("echo alive-$((1+1))");
  ASSERT_TRUE(t->wait_for("\nalive-2\n", 10s)) << t->screen();
  EXPECT_EQ(state("it1"), "running");
  t->line("exit 3");
  ASSERT_TRUE(t->wait_for("EXIT=3\n")) << t->screen();
  EXPECT_EQ(t->host_modes(), "icanon echo ");
  EXPECT_EQ(state("it1"), "exited");
  EXPECT_EQ(inspect("it1", "{{.State.ExitCode}}"), "3");
}

TEST_F(RootInteractiveE2e, DetachWithCtrlPCtrlQThenAttachAgain) {
  auto t = tmux();
  t->line("$M run -it --name d1 busybox sh; echo EXIT=$?");
  ASSERT_TRUE(t->wait_for("/ # ")) << t->screen();
  t->line("echo one-$((0+1))");
  ASSERT_TRUE(t->wait_for("\none-1\n")) << t->screen();
  t->key("C-p");
  std::this_thread::sleep_for(100ms);
  t->key("C-q");
  ASSERT_TRUE(t->wait_for("EXIT=0\n")) << t->screen();
  EXPECT_EQ(state("d1"), "running");
  EXPECT_EQ(t->host_modes(), "icanon echo ");

  t->line("$M attach d1; echo EXIT=$?");
  std::this_thread::sleep_for(500ms);
  t->line("echo back-$((2+3))");
  ASSERT_TRUE(t->wait_for("\nback-5\n")) << t->screen();
  // Detaching from `attach` is docker's error: "read escape sequence", status 1.
  t->key("C-p");
  std::this_thread::sleep_for(100ms);
  t->key("C-q");
  ASSERT_TRUE(t->wait_for("read escape sequence\nEXIT=1\n")) << t->screen();
  EXPECT_EQ(state("d1"), "running");
  t->clear();
  t->line("$M attach d1; echo EXIT=$?");
  std::this_thread::sleep_for(500ms);
  t->line("echo third-$((3+3))");
  ASSERT_TRUE(t->wait_for("\nthird-6\n")) << t->screen();
  t->line("exit 3");
  ASSERT_TRUE(t->wait_for("EXIT=3\n")) << t->screen();
  EXPECT_EQ(t->host_modes(), "icanon echo ");
  EXPECT_EQ(state("d1"), "exited");
}

TEST_F(RootInteractiveE2e, ExecItAndStartAi) {
  std::string id = run_detached({"--name", "e1", "-it", "busybox", "sh"});
  auto t = tmux();
  t->line("$M exec -it e1 sh; echo EXIT=$?");
  ASSERT_TRUE(t->wait_for("/ # ")) << t->screen();
  t->line("echo exec-$((3*3)) $(stty size)");
  ASSERT_TRUE(t->wait_for("\nexec-9 24 80\n")) << t->screen();
  t->resize(90, 20);  // SIGWINCH: POST /exec/{id}/resize
  ASSERT_TRUE(eventually([&] {
    t->line("stty size");
    return t->wait_for("\n20 90\n", 500ms);
  })) << t->screen();
  t->line("exit 6");
  ASSERT_TRUE(t->wait_for("EXIT=6\n")) << t->screen();
  EXPECT_EQ(t->host_modes(), "icanon echo ");

  // start -ai of a stopped interactive container.
  ASSERT_EQ(daemon_->cli({"stop", "-t", "1", "e1"}).status, 0);
  t->clear();
  t->line("$M start -ai e1; echo EXIT=$?");
  std::this_thread::sleep_for(500ms);
  t->line("echo again-$((4+4))");
  ASSERT_TRUE(t->wait_for("\nagain-8\n")) << t->screen();
  t->line("exit 5");
  ASSERT_TRUE(t->wait_for("EXIT=5\n")) << t->screen();
  EXPECT_EQ(t->host_modes(), "icanon echo ");
}

TEST_F(RootInteractiveE2e, AFailedStartRestoresTheTerminal) {
  auto t = tmux();
  t->line("$M run -it --rm busybox /nonexistent; echo EXIT=$?");
  ASSERT_TRUE(t->wait_for("EXIT=127\n")) << t->screen();
  EXPECT_TRUE(t->wait_for("no such file or directory")) << t->screen();
  EXPECT_EQ(t->host_modes(), "icanon echo ");
  EXPECT_EQ(daemon_->cli({"ps", "-aq"}).out, "");  // --rm: removed after the failed start
}

// ---- the real docker CLI in a terminal ----

TEST_F(RootInteractiveE2e, DockerCliRunItExecItAttachAndStartAi) {
  auto t = tmux();
  t->line("$D run -it --name dk busybox sh; echo EXIT=$?");
  ASSERT_TRUE(t->wait_for("/ # ")) << t->screen();
  t->line("echo $((6*7)) $(stty size)");
  ASSERT_TRUE(t->wait_for("\n42 24 80\n")) << t->screen();
  t->line("sleep 100");
  std::this_thread::sleep_for(300ms);
  t->key("C-c");
  t->line("echo alive-$((1+1))");
  ASSERT_TRUE(t->wait_for("\nalive-2\n", 10s)) << t->screen();
  t->key("C-p");
  std::this_thread::sleep_for(100ms);
  t->key("C-q");
  ASSERT_TRUE(t->wait_for("EXIT=0\n")) << t->screen();
  EXPECT_EQ(state("dk"), "running");

  t->clear();
  t->line("$D exec -it dk sh; echo EXIT=$?");
  ASSERT_TRUE(t->wait_for("/ # ")) << t->screen();
  t->line("echo exec-$((3*3))");
  ASSERT_TRUE(t->wait_for("\nexec-9\n")) << t->screen();
  t->line("exit 4");
  ASSERT_TRUE(t->wait_for("EXIT=4\n")) << t->screen();

  t->clear();
  t->line("$D attach dk; echo EXIT=$?");
  std::this_thread::sleep_for(500ms);
  t->line("echo att-$((5+5))");
  ASSERT_TRUE(t->wait_for("\natt-10\n")) << t->screen();
  t->line("exit 2");
  ASSERT_TRUE(t->wait_for("EXIT=2\n")) << t->screen();
  EXPECT_EQ(state("dk"), "exited");

  t->clear();
  t->line("$D start -ai dk; echo EXIT=$?");
  std::this_thread::sleep_for(500ms);
  t->line("echo st-$((6+6))");
  ASSERT_TRUE(t->wait_for("\nst-12\n")) << t->screen();
  t->line("exit 5");
  ASSERT_TRUE(t->wait_for("EXIT=5\n")) << t->screen();
  EXPECT_EQ(t->host_modes(), "icanon echo ");
}

// ---- without a terminal ----

TEST_F(RootInteractiveE2e, PipedStdinRunsToTheEndAndRmRemoves) {
  RunOptions in;
  in.input = "hi\n";
  Output o = daemon_->cli({"run", "-i", "--rm", "busybox", "cat"}, in);
  EXPECT_EQ(o.status, 0) << o.all();
  EXPECT_EQ(o.out, "hi\n");
  EXPECT_EQ(daemon_->cli({"ps", "-aq"}).out, "");  // --rm: gone when the CLI returns

  // The docker CLI sends stdin and its end (a half-close) before the start; without stdin it
  // half-closes at once: neither may cost output or leave the container behind.
  Output d = daemon_->docker({"run", "-i", "--rm", "busybox", "cat"}, in);
  EXPECT_EQ(d.status, 0) << d.all();
  EXPECT_EQ(d.out, "hi\n");
  Output empty = daemon_->docker({"run", "-i", "--rm", "busybox", "cat"});
  EXPECT_EQ(empty.status, 0) << empty.all();
  Output echo = daemon_->docker({"run", "--rm", "busybox", "echo", "hi"});
  EXPECT_EQ(echo.status, 0) << echo.all();
  EXPECT_EQ(echo.out, "hi\n");
  EXPECT_EQ(daemon_->cli({"ps", "-aq"}).out, "");

  // Both streams, and the exit code, without -i.
  Output e = daemon_->cli({"run", "busybox", "sh", "-c", "echo out; echo err >&2; exit 9"});
  EXPECT_EQ(e.status, 9) << e.all();
  EXPECT_EQ(e.out, "out\n");
  EXPECT_EQ(e.err, "err\n");

  // A larger input goes through whole.
  RunOptions big;
  big.input = std::string(1 << 20, 'x');
  Output b = daemon_->cli({"run", "-i", "--rm", "busybox", "wc", "-c"}, big);
  EXPECT_EQ(b.status, 0) << b.all();
  EXPECT_EQ(trim_nl(b.out), std::to_string(1 << 20));
}

TEST_F(RootInteractiveE2e, ExecExitCodesAndDetached) {
  std::string id = run_detached({"--name", "x1", "busybox", "sleep", "1000"});
  Output ok = daemon_->cli({"exec", "x1", "true"});
  EXPECT_EQ(ok.status, 0) << ok.all();
  Output seven = daemon_->cli({"exec", "x1", "sh", "-c", "echo o; echo e >&2; exit 7"});
  EXPECT_EQ(seven.status, 7) << seven.all();
  EXPECT_EQ(seven.out, "o\n");
  EXPECT_EQ(seven.err, "e\n");
  RunOptions in;
  in.input = "piped";
  Output cat = daemon_->cli({"exec", "-i", "x1", "cat"}, in);
  EXPECT_EQ(cat.status, 0) << cat.all();
  EXPECT_EQ(cat.out, "piped");
  Output env = daemon_->cli({"exec", "-e", "A=b", "-w", "/tmp", "-u", "65534", "x1", "sh", "-c",
                             "echo $A $(pwd) $(id -u)"});
  EXPECT_EQ(env.status, 0) << env.all();
  EXPECT_EQ(env.out, "b /tmp 65534\n");

  Output detached = daemon_->cli({"exec", "-d", "x1", "sh", "-c", "echo done > /tmp/d"});
  EXPECT_EQ(detached.status, 0) << detached.all();
  EXPECT_EQ(detached.out, "");
  EXPECT_TRUE(eventually(
      [&] {
        return daemon_->cli({"exec", "x1", "cat", "/tmp/d"}).out == "done\n";
      },
      10s));

  // A missing command: docker's 126/127 with the runtime's message.
  Output missing = daemon_->cli({"exec", "x1", "/nonexistent"});
  EXPECT_EQ(missing.status, 127) << missing.all();
  EXPECT_TRUE(contains(missing.all(), "no such file or directory") ||
              contains(missing.all(), "not found"))
      << missing.all();
  Output dir = daemon_->cli({"exec", "x1", "/etc"});
  EXPECT_EQ(dir.status, 126) << dir.all();

  // The docker CLI agrees.
  EXPECT_EQ(daemon_->docker({"exec", "x1", "sh", "-c", "exit 7"}).status, 7);
  Output dd = daemon_->docker({"exec", "-d", "x1", "true"});
  EXPECT_EQ(dd.status, 0) << dd.all();
}

TEST_F(RootInteractiveE2e, ExecInAStoppedContainerIsDockersError) {
  std::string id = run_detached({"--name", "s1", "busybox", "true"});
  ASSERT_TRUE(eventually([&] { return state("s1") == "exited"; }, 20s));
  Output o = daemon_->cli({"exec", "s1", "true"});
  EXPECT_EQ(o.status, 1);
  EXPECT_EQ(o.err, "Error response from daemon: Container " + id + " is not running\n");
  Output d = daemon_->docker({"exec", "s1", "true"});
  EXPECT_EQ(d.status, 1);
  EXPECT_EQ(d.err, o.err);
  Output gone = daemon_->cli({"exec", "nosuch", "true"});
  EXPECT_EQ(gone.status, 1);
  EXPECT_EQ(gone.err, "Error response from daemon: No such container: nosuch\n");
  Output att = daemon_->cli({"attach", "s1"});
  EXPECT_EQ(att.status, 1);
  EXPECT_EQ(att.err, "You cannot attach to a stopped container, start it first\n");
}

}  // namespace
}  // namespace mydocker::testing::e2e
