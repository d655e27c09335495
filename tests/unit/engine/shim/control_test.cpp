// SPDX-License-Identifier: Apache-2.0
// The daemon's side of the shim's control socket against a stand-in shim (a SOCK_SEQPACKET
// listener in a thread): what goes over the wire, the descriptor handed over, error codes
// kept, and Unavailable when no shim answers. The real shim is in tests/integration/shim.
#include "engine/shim/control.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <thread>

#include "runtime/base/file.h"
#include "tests/support/busybox_rootfs.h"

namespace mydocker::engine::shim {
namespace {

using base::ErrorCode;
using testing::TempDir;

// Listens on <dir>/shim.sock and answers one request with `answer(request, fd)`.
class FakeShim {
 public:
  FakeShim(const std::string& dir,
           std::function<std::string(const nlohmann::json&, base::Fd)> answer)
      : answer_(std::move(answer)) {
    int s = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    EXPECT_GE(s, 0);
    listener_ = base::Fd::adopt(s);
    // Long paths go through the directory's descriptor, as the shim does.
    dir_ = *base::Fd::open(dir, O_PATH | O_DIRECTORY);
    std::string path = fmt::format("/proc/self/fd/{}/{}", dir_.get(), kControlSocket);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    EXPECT_EQ(::bind(listener_.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0)
        << std::strerror(errno);
    EXPECT_EQ(::listen(listener_.get(), 4), 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeShim() { thread_.join(); }

  nlohmann::json request;

 private:
  void serve() {
    int c = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    ASSERT_GE(c, 0);
    base::Fd conn = base::Fd::adopt(c);
    char buf[65536];
    iovec iov{buf, sizeof buf};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(conn.get(), &msg, MSG_CMSG_CLOEXEC);
    ASSERT_GT(n, 0);
    base::Fd fd;
    if (cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm != nullptr && cm->cmsg_type == SCM_RIGHTS) {
      int got;
      std::memcpy(&got, CMSG_DATA(cm), sizeof got);
      fd = base::Fd::adopt(got);
    }
    request = nlohmann::json::parse(std::string(buf, static_cast<size_t>(n)));
    std::string reply = answer_(request, std::move(fd));
    if (!reply.empty()) {
      ASSERT_EQ(::send(conn.get(), reply.data(), reply.size(), 0),
                static_cast<ssize_t>(reply.size()));
    }
  }

  std::function<std::string(const nlohmann::json&, base::Fd)> answer_;
  base::Fd dir_;
  base::Fd listener_;
  std::thread thread_;
};

TEST(ShimControlTest, NoShimIsUnavailable) {
  TempDir tmp;
  auto r = send_resize(tmp.path(), "", 10, 10);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::Unavailable) << r.error().to_string();
  EXPECT_EQ(send_resize(tmp.path() + "/gone", "", 1, 1).error().code(), ErrorCode::Unavailable);
  // A socket left behind by a dead shim: nobody listens.
  {
    int s = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::string path = tmp.path() + "/" + kControlSocket;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    ASSERT_EQ(::bind(s, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
    ::close(s);
  }
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  ::close(fds[1]);
  auto a = send_attach(tmp.path(), AttachSpec{}, base::Fd::adopt(fds[0]));
  ASSERT_FALSE(a.has_value());
  EXPECT_EQ(a.error().code(), ErrorCode::Unavailable) << a.error().to_string();
}

TEST(ShimControlTest, ExecSendsTheSpecAndTheConnection) {
  TempDir tmp;
  // A state dir whose socket path is too long for sun_path.
  std::string dir = tmp.path() + "/" + std::string(100, 'd');
  ASSERT_TRUE(base::mkdir_all(dir).has_value());
  FakeShim shim(dir, [](const nlohmann::json&, base::Fd conn) {
    EXPECT_TRUE(conn.valid());
    if (conn) {
      EXPECT_TRUE(base::write_all(conn.get(), "via the shim").has_value());
    }
    return std::string(R"({"pid":4242})");
  });
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  base::Fd ours = base::Fd::adopt(fds[0]);
  ExecSpec e;
  e.id = "e1";
  e.process = {{"args", {"true"}}};
  e.open_stdin = true;
  AttachSpec a;
  a.stdin_stream = true;
  a.detach_keys = "\x10\x11";
  auto pid = send_exec(dir, e, a, base::Fd::adopt(fds[1]));
  ASSERT_TRUE(pid.has_value()) << pid.error().to_string();
  EXPECT_EQ(*pid, 4242);
  char buf[64];
  ssize_t n = ::read(ours.get(), buf, sizeof buf);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)), "via the shim");
  auto req = ControlRequest::from_json(shim.request);
  ASSERT_TRUE(req.has_value()) << shim.request.dump();
  EXPECT_EQ(req->op, "exec");
  EXPECT_EQ(req->exec.id, "e1");
  EXPECT_TRUE(req->exec.open_stdin);
  EXPECT_TRUE(req->attach.stdin_stream);
  EXPECT_EQ(req->attach.detach_keys, "\x10\x11");
}

TEST(ShimControlTest, TheShimsErrorCodeIsKept) {
  TempDir tmp;
  FakeShim shim(tmp.path(), [](const nlohmann::json&, base::Fd) {
    return std::string(R"({"error":"exec `x` has no tty","code":3})");
  });
  auto r = send_resize(tmp.path(), "x", 24, 80);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::Conflict);
  EXPECT_EQ(r.error().message(), "exec `x` has no tty");
  EXPECT_EQ(shim.request["op"], "resize");
  EXPECT_EQ(shim.request["height"], 24);
  EXPECT_EQ(shim.request["width"], 80);
}

TEST(ShimControlTest, AShimThatGoesWithoutAnswerIsUnavailable) {
  TempDir tmp;
  FakeShim shim(tmp.path(), [](const nlohmann::json&, base::Fd) { return std::string(); });
  auto r = send_resize(tmp.path(), "", 24, 80);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::Unavailable) << r.error().to_string();
}

TEST(ShimControlTest, AGarbledReplyIsInternal) {
  TempDir tmp;
  FakeShim shim(tmp.path(), [](const nlohmann::json&, base::Fd) { return std::string("ok!"); });
  auto r = send_resize(tmp.path(), "", 24, 80);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::Internal) << r.error().to_string();
}

}  // namespace
}  // namespace mydocker::engine::shim
