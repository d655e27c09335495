// SPDX-License-Identifier: Apache-2.0
#include "runtime/process/console.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/support/busybox_rootfs.h"

namespace mydocker::runtime::process {
namespace {

TEST(ConsoleTest, AFileDescriptorCrossesTheConsoleSocket) {
  testing::TempDir tmp;
  std::string path = tmp.path() + "/console.sock";
  auto listener = listen_unix(path);
  ASSERT_TRUE(listener.has_value()) << listener.error().to_string();
  auto client = connect_unix(path);
  ASSERT_TRUE(client.has_value()) << client.error().to_string();
  base::Fd server = base::Fd::adopt(::accept4(listener->get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(server.valid());

  auto pipe = base::make_pipe();
  ASSERT_TRUE(pipe.has_value());
  ASSERT_TRUE(send_fd(client->get(), pipe->write.get(), "/dev/ptmx").has_value());
  pipe->write.reset();
  auto received = recv_fd(server.get());
  ASSERT_TRUE(received.has_value()) << received.error().to_string();
  // The received descriptor is the same pipe: what goes in comes out of our read end.
  ASSERT_TRUE(base::write_all(received->get(), "hello").has_value());
  received->reset();
  auto text = base::read_all(pipe->read.get());
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(*text, "hello");
}

TEST(ConsoleTest, PeerClosingWithoutAFdIsAnError) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  base::Fd a = base::Fd::adopt(fds[0]);
  base::Fd b = base::Fd::adopt(fds[1]);
  b.reset();
  auto r = recv_fd(a.get());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), base::ErrorCode::Unavailable);
}

TEST(ConsoleTest, OverlongSocketPathIsRefused) {
  auto r = connect_unix("/" + std::string(200, 'x'));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), base::ErrorCode::InvalidArgument);
}

TEST(ConsoleTest, PtyMasterAndSlaveAreConnected) {
  auto pty = open_pty();
  if (!pty) {
    GTEST_SKIP() << "no /dev/ptmx here: " << pty.error().to_string();
  }
  ASSERT_TRUE(base::write_all(pty->master.get(), "x\n").has_value());
  char buf[8] = {};
  ASSERT_GT(::read(pty->slave.get(), buf, sizeof buf), 0);
  EXPECT_EQ(buf[0], 'x');
}

}  // namespace
}  // namespace mydocker::runtime::process
