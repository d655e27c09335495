// SPDX-License-Identifier: Apache-2.0
// The shim's streams end to end on busybox containers: connections inherited at spawn and
// handed over the control socket (engine/shim/control.h), Docker's framing, stdin and
// stdin_once, ttys and resize, detach keys, exec'd processes and their exit files, clients
// that leave, backpressure and throughput.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "engine/shim/control.h"
#include "engine/specgen/specgen.h"
#include "runtime/base/strings.h"
#include "tests/integration/shim/shim_fixture.h"

namespace mydocker::engine::shim {
namespace {

// Under ASan the shim's memory is the sanitizer's (shadow, quarantine, redzones): its size says
// nothing about the shim's own buffers, so the memory bounds are checked in plain builds only.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

using shim_test::RootShimTest;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr milliseconds kWait{20000};

struct Conn {
  base::Fd ours;
  base::Fd theirs;  // what the shim gets
};

Conn conn_pair() {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  return {base::Fd::adopt(fds[0]), base::Fd::adopt(fds[1])};
}

AttachSpec spec(bool in, bool out, bool err, std::string keys = "") {
  AttachSpec a;
  a.stdin_stream = in;
  a.stdout_stream = out;
  a.stderr_stream = err;
  a.detach_keys = std::move(keys);
  return a;
}

// Reads into `out` until `done(out)` holds (true), EOF or the timeout (false). `eof` tells
// which.
bool read_until(int fd, std::string& out, const std::function<bool(const std::string&)>& done,
                milliseconds timeout, bool* eof = nullptr) {
  auto end = Clock::now() + timeout;
  if (eof != nullptr) {
    *eof = false;
  }
  while (!done(out)) {
    auto left = std::chrono::duration_cast<milliseconds>(end - Clock::now()).count();
    if (left <= 0) {
      return false;
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) {
      continue;
    }
    char buf[65536];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
      continue;
    }
    if (n <= 0) {
      if (eof != nullptr) {
        *eof = true;
      }
      return done(out);
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return true;
}

// Everything until EOF; false on timeout.
bool read_to_eof(int fd, std::string& out, milliseconds timeout = kWait) {
  bool eof = false;
  read_until(
      fd, out, [](const std::string&) { return false; }, timeout, &eof);
  return eof;
}

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

struct Frames {
  std::string out;
  std::string err;
  size_t count = 0;
  bool ok = true;  // every byte was in a well-formed frame
};

// Docker's multiplexed stream: [stream, 0, 0, 0, size (big-endian u32)] + payload.
Frames parse_frames(std::string_view raw) {
  Frames f;
  while (!raw.empty()) {
    if (raw.size() < 8 || (raw[0] != 1 && raw[0] != 2) || raw[1] != 0 || raw[2] != 0 ||
        raw[3] != 0) {
      f.ok = false;
      return f;
    }
    auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(raw[i])); };
    uint32_t size = b(4) << 24 | b(5) << 16 | b(6) << 8 | b(7);
    if (raw.size() < 8 + size) {
      f.ok = false;
      return f;
    }
    (raw[0] == 1 ? f.out : f.err).append(raw.substr(8, size));
    ++f.count;
    raw.remove_prefix(8 + size);
  }
  return f;
}

void write_str(int fd, std::string_view s) {
  ASSERT_TRUE(base::write_all(fd, s).has_value());
}

class RootShimAttachTest : public RootShimTest {
 protected:
  // A shim for `args` with one inherited connection per spec; returns our ends.
  std::vector<base::Fd> start(const std::vector<std::string>& args, ShimConfig c,
                              const std::vector<AttachSpec>& specs, bool tty = false) {
    write_spec(args, [tty](nlohmann::json& j) { j["process"]["terminal"] = tty; });
    c.tty = tty;
    std::vector<base::Fd> ours, theirs;
    for (const auto& s : specs) {
      Conn p = conn_pair();
      ours.push_back(std::move(p.ours));
      theirs.push_back(std::move(p.theirs));
      c.attaches.push_back(s);
    }
    auto s = spawn_shim(c, std::move(theirs));
    EXPECT_TRUE(s.has_value()) << s.error().to_string();
    if (s) {
      shim_ = std::move(*s);
    }
    return ours;
  }

  bool shim_running() { return ::kill(shim_.pid(), 0) == 0 && !base::path_exists(exit_file()); }
  std::string exit_file() const { return state_dir_ + "/" + kExitFile; }
  void kill_container() {
    auto c = runtime::Container::load(runtime_root_, id_);
    ASSERT_TRUE(c.has_value()) << c.error().to_string();
    ASSERT_TRUE(c->kill(SIGKILL).has_value());
  }

  ExecSpec exec_spec(const std::string& id, const std::vector<std::string>& args, bool tty = false,
                     bool open_stdin = false) {
    ExecSpec e;
    e.id = id;
    e.process = exec_process(args, tty);
    e.open_stdin = open_stdin;
    return e;
  }

  Shim shim_;
};

TEST_F(RootShimAttachTest, InheritedAttachGetsFramedOutputAndTheExitFirst) {
  auto conns =
      start({"sh", "-c", "echo hi; echo err >&2; exit 7"}, config(), {spec(false, true, true)});
  ASSERT_EQ(conns.size(), 1u);
  std::string raw;
  ASSERT_TRUE(read_to_eof(conns[0].get(), raw));
  // The exit is on disk before the connection closes.
  auto e = read_exit(state_dir_);
  ASSERT_TRUE(e.has_value()) << "EOF came before exit.json";
  EXPECT_EQ(e->exit_code, 7);
  Frames f = parse_frames(raw);
  EXPECT_TRUE(f.ok) << raw;
  EXPECT_EQ(f.out, "hi\n");
  EXPECT_EQ(f.err, "err\n");
  EXPECT_EQ(wait_shim(shim_).exit_code, 7);
  // The log has it too.
  EXPECT_TRUE(contains(log_text(), "hi\n")) << log_text();
}

TEST_F(RootShimAttachTest, StreamsNotAskedForAreNotSent) {
  auto conns = start({"sh", "-c", "echo out; echo err >&2"}, config(),
                     {spec(false, false, true), spec(false, true, false)});
  std::string only_err, only_out;
  ASSERT_TRUE(read_to_eof(conns[0].get(), only_err));
  ASSERT_TRUE(read_to_eof(conns[1].get(), only_out));
  Frames e = parse_frames(only_err);
  Frames o = parse_frames(only_out);
  EXPECT_EQ(e.out, "");
  EXPECT_EQ(e.err, "err\n");
  EXPECT_EQ(o.out, "out\n");
  EXPECT_EQ(o.err, "");
  EXPECT_EQ(wait_shim(shim_).exit_code, 0);
}

TEST_F(RootShimAttachTest, InheritedConnectionsDoNotReachTheContainer) {
  auto conns = start({"sh", "-c", "ls /proc/1/fd; true"}, config(), {spec(false, true, true)});
  std::string raw;
  ASSERT_TRUE(read_to_eof(conns[0].get(), raw));
  EXPECT_EQ(parse_frames(raw).out, "0\n1\n2\n");
  EXPECT_EQ(wait_shim(shim_).exit_code, 0);
}

TEST_F(RootShimAttachTest, StdinOnceCatSeesEofAndExits) {
  ShimConfig c = config();
  c.open_stdin = true;
  c.stdin_once = true;
  auto conns = start({"cat"}, c, {spec(true, true, true)});
  write_str(conns[0].get(), "hello\n");
  ASSERT_EQ(::shutdown(conns[0].get(), SHUT_WR), 0);
  std::string raw;
  ASSERT_TRUE(read_to_eof(conns[0].get(), raw));
  Frames f = parse_frames(raw);
  EXPECT_TRUE(f.ok);
  EXPECT_EQ(f.out, "hello\n");
  EXPECT_EQ(wait_shim(shim_).exit_code, 0);
}

TEST_F(RootShimAttachTest, StdinWithoutOnceEndsOnlyThatClient) {
  // OpenStdin without StdinOnce: a client's EOF ends its attach (Docker closes that attach's
  // output); the pipe stays open and a later client feeds it.
  ShimConfig c = config();
  c.open_stdin = true;
  auto conns =
      start({"sh", "-c", "read a; echo got:$a; read b; echo got:$b"}, c, {spec(true, true, true)});
  write_str(conns[0].get(), "one\n");
  std::string first;
  ASSERT_TRUE(read_until(
      conns[0].get(), first, [](const std::string& s) { return contains(s, "got:one"); }, kWait))
      << first;
  ASSERT_EQ(::shutdown(conns[0].get(), SHUT_WR), 0);
  ASSERT_TRUE(read_to_eof(conns[0].get(), first));
  EXPECT_TRUE(shim_running());
  Conn second = conn_pair();
  ASSERT_TRUE(send_attach(state_dir_, spec(true, true, false), std::move(second.theirs)));
  write_str(second.ours.get(), "two\n");
  std::string raw;
  ASSERT_TRUE(read_to_eof(second.ours.get(), raw));
  EXPECT_EQ(parse_frames(raw).out, "got:two\n");
  EXPECT_EQ(wait_shim(shim_).exit_code, 0);
}

TEST_F(RootShimAttachTest, ClientWithoutStdinMayHalfClose) {
  // The docker CLI shuts its write side at once when it sends no stdin.
  auto conns = start({"sh", "-c", "sleep 0.2; echo late"}, config(), {spec(false, true, true)});
  ASSERT_EQ(::shutdown(conns[0].get(), SHUT_WR), 0);
  std::string raw;
  ASSERT_TRUE(read_to_eof(conns[0].get(), raw));
  EXPECT_EQ(parse_frames(raw).out, "late\n");
  EXPECT_EQ(wait_shim(shim_).exit_code, 0);
}

TEST_F(RootShimAttachTest, TtyAttachIsRaw) {
  auto conns =
      start({"sh", "-c", "echo hi; echo err >&2"}, config(), {spec(false, true, true)}, true);
  std::string raw;
  ASSERT_TRUE(read_to_eof(conns[0].get(), raw));
  EXPECT_EQ(raw, "hi\r\nerr\r\n");
  EXPECT_EQ(wait_shim(shim_).exit_code, 0);
}

TEST_F(RootShimAttachTest, ResizeReachesTheTty) {
  ShimConfig c = config();
  c.open_stdin = true;
  auto conns = start({"sh", "-c", "read x; stty size"}, c, {spec(true, true, true)}, true);
  auto r = send_resize(state_dir_, "", 41, 123);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  write_str(conns[0].get(), "go\n");
  std::string raw;
  ASSERT_TRUE(read_to_eof(conns[0].get(), raw));
  EXPECT_TRUE(contains(raw, "41 123")) << raw;
  EXPECT_EQ(wait_shim(shim_).exit_code, 0);
}

TEST_F(RootShimAttachTest, ResizeErrors) {
  auto conns = start({"sleep", "100"}, config(), {});
  auto no_tty = send_resize(state_dir_, "", 10, 10);
  ASSERT_FALSE(no_tty.has_value());
  EXPECT_EQ(no_tty.error().code(), base::ErrorCode::Conflict) << no_tty.error().to_string();
  auto no_exec = send_resize(state_dir_, "nope", 10, 10);
  ASSERT_FALSE(no_exec.has_value());
  EXPECT_EQ(no_exec.error().code(), base::ErrorCode::NotFound) << no_exec.error().to_string();
  kill_container();
  EXPECT_EQ(wait_shim(shim_).exit_code, 137);
}

TEST_F(RootShimAttachTest, DetachKeysCloseOnlyTheClient) {
  ShimConfig c = config();
  c.open_stdin = true;
  auto conns = start({"sh", "-c", "while read -r l; do echo \"got:$l\"; done; exit 5"}, c,
                     {spec(true, true, true, "\x10\x11")}, true);
  // A partial sequence that does not complete is input after all.
  write_str(conns[0].get(),
            "a\x10"
            "b\n");
  std::string raw;
  ASSERT_TRUE(read_until(
      conns[0].get(), raw,
      [](const std::string& s) {
        return contains(s,
                        "got:a\x10"
                        "b");
      },
      kWait))
      << raw;
  write_str(conns[0].get(), "\x10\x11");
  ASSERT_TRUE(read_to_eof(conns[0].get(), raw)) << "the detach did not close the client";
  EXPECT_TRUE(shim_running()) << "the container went with the client";
  // Another client gets the same container.
  Conn second = conn_pair();
  ASSERT_TRUE(send_attach(state_dir_, spec(true, true, true), std::move(second.theirs)));
  write_str(second.ours.get(), "c\n");
  std::string more;
  ASSERT_TRUE(read_until(
      second.ours.get(), more, [](const std::string& s) { return contains(s, "got:c"); }, kWait))
      << more;
  write_str(second.ours.get(), "\x04");  // ^D: read sees EOF, the loop ends
  ASSERT_TRUE(read_to_eof(second.ours.get(), more));
  EXPECT_EQ(wait_shim(shim_).exit_code, 5);
}

TEST_F(RootShimAttachTest, AttachThroughTheControlSocket) {
  auto conns = start({"sh", "-c", "i=0; while true; do echo tick$i; i=$((i+1)); sleep 0.02; done"},
                     config(), {});
  Conn c = conn_pair();
  auto r = send_attach(state_dir_, spec(false, true, true), std::move(c.theirs));
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  std::string raw;
  ASSERT_TRUE(read_until(
      c.ours.get(), raw, [](const std::string& s) { return parse_frames(s).count >= 3; }, kWait));
  EXPECT_TRUE(contains(parse_frames(raw).out, "tick")) << raw;
  kill_container();
  ASSERT_TRUE(read_to_eof(c.ours.get(), raw));
  EXPECT_TRUE(parse_frames(raw).ok);
  EXPECT_EQ(wait_shim(shim_).exit_code, 137);
  // The shim is gone: its socket too, and a call says so.
  EXPECT_FALSE(base::path_exists(state_dir_ + "/" + kControlSocket));
  Conn late = conn_pair();
  auto gone = send_attach(state_dir_, spec(false, true, true), std::move(late.theirs));
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error().code(), base::ErrorCode::Unavailable) << gone.error().to_string();
}

TEST_F(RootShimAttachTest, ExecExitIsRecordedBeforeItsConnectionCloses) {
  start({"sleep", "100"}, config(), {});
  Conn c = conn_pair();
  auto pid = send_exec(state_dir_, exec_spec("e1", {"sh", "-c", "echo out; echo err >&2; exit 3"}),
                       spec(false, true, true), std::move(c.theirs));
  ASSERT_TRUE(pid.has_value()) << pid.error().to_string();
  EXPECT_GT(*pid, 0);
  std::string raw;
  ASSERT_TRUE(read_to_eof(c.ours.get(), raw));
  auto e = read_exec_exit(state_dir_, "e1");
  ASSERT_TRUE(e.has_value()) << "EOF came before exec-e1.json";
  EXPECT_EQ(e->exit_code, 3);
  Frames f = parse_frames(raw);
  EXPECT_TRUE(f.ok);
  EXPECT_EQ(f.out, "out\n");
  EXPECT_EQ(f.err, "err\n");
  // Exec output is not logged (as Docker).
  EXPECT_FALSE(contains(log_text(), "out")) << log_text();
  // The same exec id again is a conflict.
  auto again = send_exec(state_dir_, exec_spec("e1", {"true"}), spec(false, true, true), {});
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), base::ErrorCode::Conflict);
  EXPECT_TRUE(shim_running());
  kill_container();
  EXPECT_EQ(wait_shim(shim_).exit_code, 137);
}

TEST_F(RootShimAttachTest, ExecStdinEofReachesTheProcess) {
  start({"sleep", "100"}, config(), {});
  Conn c = conn_pair();
  auto pid = send_exec(state_dir_, exec_spec("cat1", {"cat"}, false, true), spec(true, true, true),
                       std::move(c.theirs));
  ASSERT_TRUE(pid.has_value()) << pid.error().to_string();
  write_str(c.ours.get(), "abc");
  ASSERT_EQ(::shutdown(c.ours.get(), SHUT_WR), 0);
  std::string raw;
  ASSERT_TRUE(read_to_eof(c.ours.get(), raw));
  EXPECT_EQ(parse_frames(raw).out, "abc");
  auto e = read_exec_exit(state_dir_, "cat1");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->exit_code, 0);
  kill_container();
  EXPECT_EQ(wait_shim(shim_).exit_code, 137);
}

TEST_F(RootShimAttachTest, ExecWithTty) {
  start({"sleep", "100"}, config(), {});
  Conn c = conn_pair();
  auto pid = send_exec(
      state_dir_,
      exec_spec("t1", {"sh", "-c", "read x; test -t 0 && echo tty; stty size"}, true, true),
      spec(true, true, true), std::move(c.theirs));
  ASSERT_TRUE(pid.has_value()) << pid.error().to_string();
  auto r = send_resize(state_dir_, "t1", 30, 100);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  write_str(c.ours.get(), "\n");
  std::string raw;
  ASSERT_TRUE(read_to_eof(c.ours.get(), raw));
  EXPECT_TRUE(contains(raw, "tty\r\n30 100\r\n")) << raw;  // raw: no frame headers
  EXPECT_NE(raw[0], 1);
  EXPECT_EQ(read_exec_exit(state_dir_, "t1")->exit_code, 0);
  kill_container();
  EXPECT_EQ(wait_shim(shim_).exit_code, 137);
}

TEST_F(RootShimAttachTest, SeveralExecsAtOnce) {
  start({"sleep", "100"}, config(), {});
  std::vector<base::Fd> ours;
  for (int i = 0; i < 4; ++i) {
    Conn c = conn_pair();
    std::string script = "sleep 0.2; echo exec" + std::to_string(i) + "; exit " + std::to_string(i);
    auto pid = send_exec(state_dir_, exec_spec("m" + std::to_string(i), {"sh", "-c", script}),
                         spec(false, true, true), std::move(c.theirs));
    ASSERT_TRUE(pid.has_value()) << pid.error().to_string();
    ours.push_back(std::move(c.ours));
  }
  // A detached one (no connection) runs too.
  auto detached = send_exec(state_dir_, exec_spec("d", {"sh", "-c", "echo x; exit 9"}),
                            spec(false, false, false), {});
  ASSERT_TRUE(detached.has_value()) << detached.error().to_string();
  for (int i = 0; i < 4; ++i) {
    std::string raw;
    ASSERT_TRUE(read_to_eof(ours[static_cast<size_t>(i)].get(), raw));
    EXPECT_EQ(parse_frames(raw).out, "exec" + std::to_string(i) + "\n");
    auto e = read_exec_exit(state_dir_, "m" + std::to_string(i));
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->exit_code, i);
  }
  ASSERT_TRUE(testing::poll_until([&] { return read_exec_exit(state_dir_, "d").has_value(); }));
  EXPECT_EQ(read_exec_exit(state_dir_, "d")->exit_code, 9);
  kill_container();
  EXPECT_EQ(wait_shim(shim_).exit_code, 137);
}

TEST_F(RootShimAttachTest, ExecErrors) {
  start({"sleep", "100"}, config(), {});
  auto missing =
      send_exec(state_dir_, exec_spec("x1", {"no-such-command"}), spec(false, true, true), {});
  ASSERT_FALSE(missing.has_value());
  EXPECT_TRUE(contains(missing.error().message(), "executable file not found"))
      << missing.error().to_string();
  ExecSpec bad = exec_spec("x2", {"true"});
  bad.process["args"] = nlohmann::json::array();
  auto no_args = send_exec(state_dir_, bad, spec(false, true, true), {});
  ASSERT_FALSE(no_args.has_value());
  EXPECT_EQ(no_args.error().code(), base::ErrorCode::InvalidArgument)
      << no_args.error().to_string();
  EXPECT_TRUE(shim_running());
  kill_container();
  EXPECT_EQ(wait_shim(shim_).exit_code, 137);
}

TEST_F(RootShimAttachTest, ExecIntoAGoneShimIsUnavailable) {
  start({"true"}, config(), {});
  EXPECT_EQ(wait_shim(shim_).exit_code, 0);
  Conn c = conn_pair();
  auto r = send_exec(state_dir_, exec_spec("late", {"true"}), spec(false, true, true),
                     std::move(c.theirs));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), base::ErrorCode::Unavailable) << r.error().to_string();
  auto rs = send_resize(state_dir_, "", 10, 10);
  ASSERT_FALSE(rs.has_value());
  EXPECT_EQ(rs.error().code(), base::ErrorCode::Unavailable);
}

TEST_F(RootShimAttachTest, ClientsThatLeaveDoNotDisturbTheContainer) {
  auto conns = start({"sh", "-c", "i=0; while [ $i -lt 3000 ]; do echo line$i; i=$((i+1)); done"},
                     config(), {spec(false, true, true), spec(true, true, true)});
  conns[0].reset();  // gone at once
  // The other one reads a little, then vanishes mid-stream.
  std::string raw;
  ASSERT_TRUE(read_until(
      conns[1].get(), raw, [](const std::string& s) { return s.size() > 100; }, kWait));
  conns[1].reset();
  EXPECT_EQ(wait_shim(shim_).exit_code, 0);
  std::string text = log_text();
  EXPECT_TRUE(contains(text, "line2999\n")) << text.size();
}

TEST_F(RootShimAttachTest, GarbageFromAClientIsJustStdin) {
  ShimConfig c = config();
  c.open_stdin = true;
  c.stdin_once = true;
  auto conns = start({"wc", "-c"}, c, {spec(true, true, true)});
  std::string junk;
  for (int i = 0; i < 256; ++i) {
    junk.push_back(static_cast<char>(i));
  }
  write_str(conns[0].get(), junk);
  ASSERT_EQ(::shutdown(conns[0].get(), SHUT_WR), 0);
  std::string raw;
  ASSERT_TRUE(read_to_eof(conns[0].get(), raw));
  EXPECT_EQ(base::trim(parse_frames(raw).out), "256");
  EXPECT_EQ(wait_shim(shim_).exit_code, 0);
}

TEST_F(RootShimAttachTest, SlowClientHoldsTheContainerBackAndLosesNothing) {
  // 8 MiB through a client that does not read at first: the container must block (Docker's
  // attach does), not finish with the output dropped or buffered without bound.
  constexpr size_t kBytes = 8 << 20;
  ShimConfig c = config();
  c.log_path.clear();
  auto conns = start({"sh", "-c", "head -c " + std::to_string(kBytes) + " /dev/zero"}, c,
                     {spec(false, true, true)});
  std::this_thread::sleep_for(milliseconds(500));
  EXPECT_TRUE(shim_running()) << "the container finished while its client read nothing";
  // The shim's memory stays bounded (VmRSS well under the stream's size).
  auto status = base::read_file("/proc/" + std::to_string(shim_.pid()) + "/status");
  ASSERT_TRUE(status.has_value());
  size_t rss = status->find("VmRSS:");
  ASSERT_NE(rss, std::string::npos);
  long kb = std::atol(status->c_str() + rss + 6);
  if (!kSanitized) {
    EXPECT_LT(kb, 8 * 1024) << "shim RSS " << kb << " KiB";
  }
  std::string raw;
  ASSERT_TRUE(read_to_eof(conns[0].get(), raw));
  Frames f = parse_frames(raw);
  EXPECT_TRUE(f.ok);
  EXPECT_EQ(f.out.size(), kBytes);
  EXPECT_EQ(f.out.find_first_not_of('\0'), std::string::npos);
  EXPECT_EQ(wait_shim(shim_).exit_code, 0);
}

TEST_F(RootShimAttachTest, Throughput) {
  // `cat` of a large file to an attached client that discards it (the benchmark
  // shape; MYDOCKER_SHIM_THROUGHPUT_MIB=1024 for the full GiB). The file is sparse: reading it
  // costs no disk.
  const char* env = std::getenv("MYDOCKER_SHIM_THROUGHPUT_MIB");
  const int64_t total_mib = env != nullptr ? std::atoll(env) : 256;
  for (bool with_log : {false, true}) {
    ShimConfig c = config();
    if (!with_log) {
      c.log_path.clear();
    }
    // The json-file encoding is the log's cost, not the shim's: a smaller sample by default.
    const int64_t mib = with_log && env == nullptr ? 16 : total_mib;
    std::string big = bundle_ + "/rootfs/big";
    std::ofstream(big).close();
    ASSERT_EQ(::truncate(big.c_str(), mib << 20), 0);
    auto conns = start({"cat", "/big"}, c, {spec(false, true, true)});
    auto t0 = Clock::now();
    int64_t total = 0;
    std::vector<char> buf(1 << 17);
    for (;;) {
      ssize_t n = ::read(conns[0].get(), buf.data(), buf.size());
      if (n <= 0) {
        break;
      }
      total += n;
    }
    double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    EXPECT_EQ(wait_shim(shim_).exit_code, 0);
    EXPECT_GE(total, mib << 20);  // framed: 8 bytes per chunk on top
    std::printf(
        "shim throughput (%s): %.0f MB/s (%lld bytes, %.1f KiB a frame, %.2f s)\n",
        with_log ? "json-file log" : "no log", static_cast<double>(total) / secs / 1e6,
        static_cast<long long>(total),
        static_cast<double>(mib << 20) / (static_cast<double>(total - (mib << 20)) / 8) / 1024,
        secs);
    ::unlink(big.c_str());
    if (with_log) {
      ::unlink(c.log_path.c_str());
    }
  }
}

TEST_F(RootShimAttachTest, ShimMemoryStaysSmall) {
  // One shim per container: after output, an attach and an exec, its private memory is still
  // small (the read buffer and the control path allocate on demand, buffers shrink back).
  if (kSanitized) {
    GTEST_SKIP() << "memory sizes under ASan are the sanitizer's";
  }
  auto conns = start({"sh", "-c", "head -c 4000000 /dev/zero; exec sleep 100"}, config(),
                     {spec(false, true, true)});
  std::string raw;
  ASSERT_TRUE(read_until(
      conns[0].get(), raw, [](const std::string& s) { return s.size() >= 4000000; }, kWait));
  Conn c = conn_pair();
  ASSERT_TRUE(send_exec(state_dir_, exec_spec("m", {"true"}), spec(false, true, true),
                        std::move(c.theirs)));
  std::string out;
  ASSERT_TRUE(read_to_eof(c.ours.get(), out));
  auto anon_kb = [&] {
    auto rollup = base::read_file("/proc/" + std::to_string(shim_.pid()) + "/smaps_rollup");
    EXPECT_TRUE(rollup.has_value());
    size_t at = rollup ? rollup->find("Anonymous:") : std::string::npos;
    return at == std::string::npos ? -1L : std::atol(rollup->c_str() + at + 10);
  };
  long busy = anon_kb();
  EXPECT_GT(busy, 0);
  EXPECT_LT(busy, 2048);
  // Quiet for a while, the read buffer goes back.
  std::this_thread::sleep_for(milliseconds(5500));
  long idle = anon_kb();
  std::printf(
      "shim anonymous memory after 4 MB of output, an attach and an exec: %ld KiB; "
      "idle 5 s later: %ld KiB\n",
      busy, idle);
  EXPECT_LT(idle, busy);
  kill_container();
  EXPECT_EQ(wait_shim(shim_).exit_code, 137);
}

TEST_F(RootShimAttachTest, StdinThroughput) {
  // Piped through `cat` (stdin in, stdout out), as `run -i busybox cat` of a file.
  const char* env = std::getenv("MYDOCKER_SHIM_THROUGHPUT_MIB");
  const size_t mib = env != nullptr ? static_cast<size_t>(std::atoll(env)) : 128;
  ShimConfig c = config();
  c.log_path.clear();
  c.open_stdin = true;
  c.stdin_once = true;
  auto conns = start({"cat"}, c, {spec(true, true, true)});
  int fd = conns[0].get();
  auto t0 = Clock::now();
  std::thread writer([fd, mib] {
    std::string block(1 << 20, 'x');
    for (size_t i = 0; i < mib; ++i) {
      if (!base::write_all(fd, block)) {
        break;
      }
    }
    ::shutdown(fd, SHUT_WR);
  });
  int64_t total = 0;
  std::vector<char> buf(1 << 17);
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n <= 0) {
      break;
    }
    total += n;
  }
  writer.join();
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  EXPECT_EQ(wait_shim(shim_).exit_code, 0);
  EXPECT_GE(total, static_cast<int64_t>(mib << 20));
  std::printf("shim stdin -> cat -> stdout: %.0f MB/s (%zu MiB, %.2f s)\n",
              static_cast<double>(mib << 20) / secs / 1e6, mib, secs);
}

TEST_F(RootShimAttachTest, ExecLatency) {
  // `docker exec ctr true` as the shim sees it: the request with a connection, until the
  // connection closes (the exit recorded). The container has Docker's default seccomp
  // profile, as the daemon's containers do (each exec installs it).
  auto seccomp = specgen::seccomp_from_docker_profile(specgen::default_seccomp_profile(),
                                                      specgen::default_capabilities());
  ASSERT_TRUE(seccomp.has_value()) << seccomp.error().to_string();
  write_spec({"sleep", "100"}, [&](nlohmann::json& j) { j["linux"]["seccomp"] = *seccomp; });
  auto s = spawn_shim(config());
  ASSERT_TRUE(s.has_value()) << s.error().to_string();
  shim_ = std::move(*s);
  std::vector<double> ms;
  for (int i = 0; i < 21; ++i) {
    Conn c = conn_pair();
    auto t0 = Clock::now();
    auto pid = send_exec(state_dir_, exec_spec("lat" + std::to_string(i), {"true"}),
                         spec(false, true, true), std::move(c.theirs));
    ASSERT_TRUE(pid.has_value()) << pid.error().to_string();
    std::string raw;
    ASSERT_TRUE(read_to_eof(c.ours.get(), raw));
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    EXPECT_EQ(read_exec_exit(state_dir_, "lat" + std::to_string(i))->exit_code, 0);
  }
  std::sort(ms.begin(), ms.end());
  std::printf("shim exec `true` x21: median %.2f ms (min %.2f, max %.2f)\n", ms[10], ms[0], ms[20]);
  kill_container();
  EXPECT_EQ(wait_shim(shim_).exit_code, 137);
}

}  // namespace
}  // namespace mydocker::engine::shim
