// SPDX-License-Identifier: Apache-2.0
// The mydocker binary on a pseudo-terminal against a fake daemon: raw mode while attached and
// the terminal restored on every way out (normal end, detach keys, a fatal signal), the size
// sent at start and on SIGWINCH, Ctrl-C as a byte for the container, the signal proxy.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "tests/unit/api/client/fake_daemon.h"

namespace mydocker::testing {
namespace {

using namespace std::chrono_literals;

const char* const kUpgraded =
    "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
    "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n";

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds limit = 5s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) {
      return true;
    }
    std::this_thread::sleep_for(2ms);
  }
  return pred();
}

// The CLI with its stdin and stdout on a new pty (its controlling terminal), stderr in a file.
class PtyCli {
 public:
  // stdout_pipe: stdout is a pipe whose reader the test closes (close_stdout_reader).
  PtyCli(const std::string& socket, const std::vector<std::string>& args, int rows, int cols,
         bool stdout_pipe = false) {
    if (stdout_pipe) {
      int p[2];
      EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
      out_r_ = p[0];
      out_w_ = p[1];
    }
    master_ = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    EXPECT_GE(master_, 0);
    EXPECT_EQ(::grantpt(master_), 0);
    EXPECT_EQ(::unlockpt(master_), 0);
    std::string slave_name = ::ptsname(master_);
    slave_ = ::open(slave_name.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
    EXPECT_GE(slave_, 0);
    set_size(rows, cols);
    err_path_ = dir_.path() + "/err";
    std::vector<std::string> argv = {MYDOCKER_BIN, "-H", "unix://" + socket};
    argv.insert(argv.end(), args.begin(), args.end());
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setsid();
      int s = ::open(slave_name.c_str(), O_RDWR);  // becomes the controlling terminal
      ::ioctl(s, TIOCSCTTY, 0);
      ::dup2(s, 0);
      ::dup2(out_w_ >= 0 ? out_w_ : s, 1);
      int e = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(e, 2);
      std::vector<char*> cargv;
      for (auto& a : argv) {
        cargv.push_back(a.data());
      }
      cargv.push_back(nullptr);
      ::execv(cargv[0], cargv.data());
      ::_exit(127);
    }
    if (out_w_ >= 0) {
      ::close(out_w_);
    }
  }
  void close_stdout_reader() {
    ::close(out_r_);
    out_r_ = -1;
  }
  ~PtyCli() {
    if (pid_ > 0 && status_ < 0) {
      ::kill(pid_, SIGKILL);
      int st = 0;
      ::waitpid(pid_, &st, 0);
    }
    ::close(master_);
    ::close(slave_);
    if (out_r_ >= 0) {
      ::close(out_r_);
    }
  }

  void set_size(int rows, int cols) {
    struct winsize ws {};
    ws.ws_row = static_cast<unsigned short>(rows);
    ws.ws_col = static_cast<unsigned short>(cols);
    ::ioctl(master_, TIOCSWINSZ, &ws);  // the kernel sends SIGWINCH to the foreground group
  }
  void type(std::string_view keys) {
    ASSERT_EQ(::write(master_, keys.data(), keys.size()), static_cast<ssize_t>(keys.size()));
  }
  struct termios attrs() const {
    struct termios t {};
    ::tcgetattr(slave_, &t);
    return t;
  }
  bool raw() const {
    struct termios t = attrs();
    return (t.c_lflag & (ICANON | ECHO | ISIG)) == 0;
  }
  bool cooked() const {
    struct termios t = attrs();
    return (t.c_lflag & (ICANON | ECHO | ISIG)) == (ICANON | ECHO | ISIG);
  }
  // The wait status, or -1 after `limit`.
  int wait(std::chrono::milliseconds limit = 10s) {
    eventually(
        [&] {
          int st = 0;
          if (::waitpid(pid_, &st, WNOHANG) == pid_) {
            status_ = st;
            return true;
          }
          return false;
        },
        limit);
    return status_;
  }
  pid_t pid() const { return pid_; }
  // What the CLI wrote to the terminal so far.
  std::string output() {
    std::string out;
    char buf[4096];
    for (;;) {
      pollfd p{master_, POLLIN, 0};
      if (::poll(&p, 1, 0) <= 0) {
        return out;
      }
      ssize_t n = ::read(master_, buf, sizeof(buf));
      if (n <= 0) {
        return out;
      }
      out.append(buf, static_cast<size_t>(n));
    }
  }
  std::string err() const {
    std::ifstream in(err_path_);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  TempDir dir_;
  std::string err_path_;
  int master_ = -1;
  int slave_ = -1;
  int out_r_ = -1;
  int out_w_ = -1;
  pid_t pid_ = -1;
  int status_ = -1;
};

// A tty container: started by the CLI, its stream serves a test-defined conversation.
class TtyFlowTest : public ::testing::Test {
 protected:
  static bool has(FakeDaemon& d, const std::string& target_part) {
    for (const auto& r : d.requests()) {
      if (r.target.find(target_part) != std::string::npos) {
        return true;
      }
    }
    return false;
  }
  void finish(int status) {
    {
      std::lock_guard lock(mu_);
      exit_status_ = status;
    }
    cv_.notify_all();
  }
  void answer_wait(int fd) {
    FakeDaemon::send_all(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, 20s, [&] { return exit_status_ >= 0; })) {
      return;
    }
    FakeDaemon::send_all(
        fd,
        FakeDaemon::chunk("{\"StatusCode\":" + std::to_string(exit_status_) + "}\n") + "0\r\n\r\n");
  }
  void answer_plain(const FakeRequest& req, int fd) {
    if (req.target.starts_with("/v1.41/containers/create")) {
      FakeDaemon::send_all(fd, FakeDaemon::response(201, "Created", R"({"Id":"t1"})"));
    } else if (req.target.find("/wait") != std::string::npos) {
      answer_wait(fd);
    } else if (req.target.find("/json") != std::string::npos) {
      FakeDaemon::send_all(fd, FakeDaemon::response(200, "OK",
                                                    R"({"Id":"t1","State":{"Running":true},
                                       "Config":{"Tty":true,"OpenStdin":true}})"));
    } else {
      FakeDaemon::send_all(fd, "HTTP/1.1 204 No Content\r\n\r\n");
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  int exit_status_ = -1;
};

TEST_F(TtyFlowTest, RunItIsRawSizedAndRestoredAndCtrlCIsAByte) {
  std::string typed;
  FakeDaemon d([&](const FakeRequest& req, int fd) {
    if (req.target.find("/attach") != std::string::npos) {
      FakeDaemon::send_all(fd, std::string(kUpgraded) + "$ ");
      char buf[64];
      while (typed.find('\x03') == std::string::npos) {
        ssize_t n = ::read(fd, buf, sizeof(buf));
        if (n <= 0) {
          break;
        }
        typed.append(buf, static_cast<size_t>(n));
      }
      FakeDaemon::send_all(fd, "^C\r\nexit\r\n");
      finish(3);
      return;
    }
    answer_plain(req, fd);
  });
  PtyCli cli(d.path(), {"run", "-it", "busybox", "sh"}, 30, 100);
  ASSERT_TRUE(eventually([&] { return has(d, "/resize"); })) << cli.err();
  EXPECT_TRUE(cli.raw());
  EXPECT_TRUE(has(d, "/v1.41/containers/t1/resize?h=30&w=100"));
  cli.set_size(40, 120);  // SIGWINCH
  EXPECT_TRUE(eventually([&] { return has(d, "/v1.41/containers/t1/resize?h=40&w=120"); }));
  cli.type("x\x03");
  int st = cli.wait();
  ASSERT_TRUE(WIFEXITED(st)) << st;
  EXPECT_EQ(WEXITSTATUS(st), 3) << cli.err();
  EXPECT_EQ(typed, "x\x03");  // Ctrl-C went to the container, the CLI lived on
  EXPECT_TRUE(cli.cooked());
  EXPECT_EQ(cli.output(), "$ ^C\r\nexit\r\n");
  auto reqs = d.requests();
  nlohmann::json body = nlohmann::json::parse(reqs[0].body);
  EXPECT_EQ(body["HostConfig"]["ConsoleSize"], (nlohmann::json{30, 100}));
  EXPECT_EQ(body["Tty"], true);
  EXPECT_EQ(body["StdinOnce"], true);
}

TEST_F(TtyFlowTest, DetachKeysLeaveTheContainerAndRestoreTheTerminal) {
  std::string typed;
  std::optional<FakeDaemon> d;
  d.emplace([&](const FakeRequest& req, int fd) {
    if (req.target.find("/attach") != std::string::npos) {
      FakeDaemon::send_all(fd, kUpgraded);
      char buf[64];
      for (;;) {
        ssize_t n = ::read(fd, buf, sizeof(buf));
        if (n <= 0) {
          break;  // the CLI closed the connection: detached
        }
        typed.append(buf, static_cast<size_t>(n));
      }
      return;
    }
    answer_plain(req, fd);
  });
  {
    PtyCli cli(d->path(), {"run", "-it", "--detach-keys", "ctrl-a,d", "busybox", "sh"}, 24, 80);
    ASSERT_TRUE(eventually([&] { return has(*d, "/resize"); })) << cli.err();
    ASSERT_TRUE(cli.raw());
    cli.type("ls\x01");
    std::this_thread::sleep_for(20ms);
    cli.type("d");
    int st = cli.wait();
    ASSERT_TRUE(WIFEXITED(st)) << st;
    EXPECT_EQ(WEXITSTATUS(st), 0) << cli.err();  // run: a detach is a success
    EXPECT_TRUE(cli.cooked());
    EXPECT_EQ(cli.err(), "");
  }
  EXPECT_TRUE(has(*d, "/attach?stream=1&stdin=1&stdout=1&stderr=1&detachKeys=ctrl-a%2Cd"));
  finish(0);  // lets the fake's wait handler go
  d.reset();  // joins its connection threads
  EXPECT_EQ(typed, "ls");
}

TEST_F(TtyFlowTest, AttachDetachPrintsDockersEscapeMessage) {
  FakeDaemon d([&](const FakeRequest& req, int fd) {
    if (req.target.find("/attach") != std::string::npos) {
      FakeDaemon::send_all(fd, kUpgraded);
      char buf[64];
      while (::read(fd, buf, sizeof(buf)) > 0) {
      }
      finish(0);
      return;
    }
    answer_plain(req, fd);
  });
  PtyCli cli(d.path(), {"attach", "t1"}, 24, 80);
  // attach bumps the size once (so a shell redraws), then sets the real one.
  ASSERT_TRUE(eventually([&] { return has(d, "/resize?h=24&w=80"); })) << cli.err();
  EXPECT_TRUE(has(d, "/resize?h=25&w=81"));
  ASSERT_TRUE(cli.raw());
  cli.type("\x10");
  std::this_thread::sleep_for(20ms);
  cli.type("\x11");
  int st = cli.wait();
  ASSERT_TRUE(WIFEXITED(st)) << st;
  EXPECT_EQ(WEXITSTATUS(st), 1);
  EXPECT_EQ(cli.err(), "read escape sequence\n");
  EXPECT_TRUE(cli.cooked());
}

TEST_F(TtyFlowTest, AFatalSignalRestoresTheTerminalFirst) {
  FakeDaemon d([&](const FakeRequest& req, int fd) {
    if (req.target.find("/attach") != std::string::npos) {
      FakeDaemon::send_all(fd, kUpgraded);
      char buf[64];
      while (::read(fd, buf, sizeof(buf)) > 0) {
      }
      finish(0);
      return;
    }
    answer_plain(req, fd);
  });
  // attach does not proxy signals for a tty container: SIGTERM ends the CLI.
  PtyCli cli(d.path(), {"attach", "t1"}, 24, 80);
  ASSERT_TRUE(eventually([&] { return has(d, "/resize?h=24&w=80"); })) << cli.err();
  ASSERT_TRUE(eventually([&] { return cli.raw(); }));
  ::kill(cli.pid(), SIGTERM);
  int st = cli.wait();
  ASSERT_TRUE(WIFSIGNALED(st)) << st;
  EXPECT_EQ(WTERMSIG(st), SIGTERM);
  EXPECT_TRUE(cli.cooked());
}

TEST_F(TtyFlowTest, RunProxiesSignalsToTheContainer) {
  FakeDaemon d([&](const FakeRequest& req, int fd) {
    if (req.target.find("/attach") != std::string::npos) {
      FakeDaemon::send_all(fd, kUpgraded);
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, 20s, [&] { return exit_status_ >= 0; });
      return;  // closing ends the stream
    }
    if (req.target.find("/kill") != std::string::npos) {
      FakeDaemon::send_all(fd, "HTTP/1.1 204 No Content\r\n\r\n");
      finish(143);
      return;
    }
    answer_plain(req, fd);
  });
  PtyCli cli(d.path(), {"run", "-t", "busybox", "sleep", "100"}, 24, 80);
  ASSERT_TRUE(eventually([&] { return has(d, "/resize"); })) << cli.err();
  ::kill(cli.pid(), SIGTERM);
  int st = cli.wait();
  ASSERT_TRUE(WIFEXITED(st)) << st;
  EXPECT_EQ(WEXITSTATUS(st), 143);
  EXPECT_TRUE(has(d, "/v1.41/containers/t1/kill?signal=TERM"));
  EXPECT_TRUE(cli.cooked());
}

TEST_F(TtyFlowTest, AClosedStdoutEndsTheCliBySigpipeWithTheTerminalRestored) {
  FakeDaemon d([&](const FakeRequest& req, int fd) {
    if (req.target.find("/attach") != std::string::npos) {
      FakeDaemon::send_all(fd, kUpgraded);
      std::string chunk(4096, 'y');
      for (int i = 0; i < 10000; ++i) {
        if (::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL) <= 0) {
          break;
        }
      }
      finish(0);
      return;
    }
    answer_plain(req, fd);
  });
  PtyCli cli(d.path(), {"run", "-it", "busybox", "yes"}, 24, 80, true);
  ASSERT_TRUE(eventually([&] { return has(d, "/start"); })) << cli.err();
  ASSERT_TRUE(eventually([&] { return cli.raw(); }));
  cli.close_stdout_reader();
  int st = cli.wait();
  ASSERT_TRUE(WIFSIGNALED(st)) << st << " " << cli.err();
  EXPECT_EQ(WTERMSIG(st), SIGPIPE);
  EXPECT_TRUE(cli.cooked());
}

// pull on a terminal: docker's jsonmessage display, each layer's line rewritten in place (a
// bar on a 120-column terminal); the credentials file is an empty temp dir's.
TEST(PullOnATerminal, RewritesEachLayersLineInPlaceWithABar) {
  FakeDaemon d([&](const FakeRequest&, int fd) {
    FakeDaemon::send_all(fd,
                         "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: "
                         "chunked\r\n\r\n");
    for (const char* l : {
             R"({"status":"Pulling from x","id":"v1"})",
             R"({"status":"Pulling fs layer","progressDetail":{},"id":"aaa"})",
             R"({"status":"Downloading","progressDetail":{"current":5,"total":10},"id":"aaa"})",
             R"({"status":"Pull complete","progressDetail":{},"id":"aaa"})",
             R"({"status":"Digest: sha256:0123"})",
         }) {
      FakeDaemon::send_all(fd, FakeDaemon::chunk(std::string(l) + "\r\n"));
    }
    FakeDaemon::send_all(fd, "0\r\n\r\n");
  });
  TempDir cfg;
  ::setenv("DOCKER_CONFIG", cfg.path().c_str(), 1);  // NOLINT(concurrency-mt-unsafe)
  PtyCli cli(d.path(), {"pull", "127.0.0.1:5000/x:v1"}, 24, 120);
  ::unsetenv("DOCKER_CONFIG");  // NOLINT(concurrency-mt-unsafe)
  int st = cli.wait();
  ASSERT_TRUE(WIFEXITED(st)) << st;
  EXPECT_EQ(WEXITSTATUS(st), 0) << cli.err();
  std::string out = cli.output();
  // The terminal turns "\n" into "\r\n" (ONLCR).
  std::string bar = "[" + std::string(25, '=') + ">" + std::string(25, ' ') + "] ";
  EXPECT_NE(out.find("v1: Pulling from x\r\n"
                     "\r\n\x1b[1A\x1b[2K\raaa: Pulling fs layer \r\x1b[1B"
                     "\x1b[1A\x1b[2K\raaa: Downloading " +
                     bar +
                     "      5B/10B\r\x1b[1B"
                     "\x1b[1A\x1b[2K\raaa: Pull complete \r\x1b[1B"
                     "Digest: sha256:0123\r\n"),
            std::string::npos)
      << out;
}

// login on a terminal prompts for what the flags did not give; the password is not echoed.
TEST(LoginOnATerminal, PromptsForUsernameAndAnUnechoedPassword) {
  std::mutex mu;
  std::string auth_body;
  FakeDaemon d([&](const FakeRequest& req, int fd) {
    {
      std::lock_guard lock(mu);
      auth_body = req.body;
    }
    FakeDaemon::send_all(
        fd, FakeDaemon::response(200, "OK", R"({"IdentityToken":"","Status":"Login Succeeded"})"));
  });
  TempDir cfg;
  ::setenv("DOCKER_CONFIG", cfg.path().c_str(), 1);  // NOLINT(concurrency-mt-unsafe)
  PtyCli cli(d.path(), {"login", "127.0.0.1:5000"}, 24, 80);
  ::unsetenv("DOCKER_CONFIG");  // NOLINT(concurrency-mt-unsafe)
  std::string out;
  ASSERT_TRUE(eventually([&] {
    out += cli.output();
    return out.find("Username: ") != std::string::npos;
  })) << out;
  cli.type("alice\n");
  ASSERT_TRUE(eventually([&] {
    out += cli.output();
    return out.find("Password: ") != std::string::npos;
  })) << out;
  cli.type("s3cret\n");
  int st = cli.wait();
  out += cli.output();
  ASSERT_TRUE(WIFEXITED(st)) << st;
  EXPECT_EQ(WEXITSTATUS(st), 0) << cli.err();
  EXPECT_EQ(out, "Username: alice\r\nPassword: \r\nLogin Succeeded\r\n");
  EXPECT_EQ(nlohmann::json::parse(auth_body),
            nlohmann::json::parse(
                R"({"username":"alice","password":"s3cret","serveraddress":"127.0.0.1:5000"})"));
  std::ifstream in(cfg.path() + "/config.json");
  EXPECT_EQ(nlohmann::json::parse(in)["auths"]["127.0.0.1:5000"]["auth"], "YWxpY2U6czNjcmV0");
  EXPECT_TRUE(cli.cooked());
}

}  // namespace
}  // namespace mydocker::testing
