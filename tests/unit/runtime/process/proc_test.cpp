// SPDX-License-Identifier: Apache-2.0
#include "runtime/process/proc.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/base/file.h"
#include "tests/support/busybox_rootfs.h"

namespace mydocker::runtime::process {
namespace {

constexpr std::string_view kStat =
    "4242 (my (odd) comm) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 "
    "1000000 100 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0";

TEST(ProcStatTest, ParsesStateAndStartTimeAfterTheLastParen) {
  auto st = parse_proc_stat(kStat);
  ASSERT_TRUE(st.has_value()) << st.error().to_string();
  EXPECT_EQ(st->state, 'S');
  EXPECT_EQ(st->start_time, 987654u);
}

TEST(ProcStatTest, RejectsTruncatedText) {
  EXPECT_FALSE(parse_proc_stat("4242 (sh) S 1 2 3").has_value());
  EXPECT_FALSE(parse_proc_stat("garbage").has_value());
}

class FakeProcTest : public ::testing::Test {
 protected:
  void write_stat(int pid, char state, uint64_t start) {
    std::string dir = fmt::format("{}/{}", tmp_.path(), pid);
    ASSERT_TRUE(base::mkdir_all(dir).has_value());
    std::string text =
        fmt::format("{} (sh) {} 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 {} 0 0 0", pid, state, start);
    ASSERT_TRUE(base::write_file(dir + "/stat", text, O_CREAT).has_value());
  }
  testing::TempDir tmp_;
};

TEST_F(FakeProcTest, AliveOnlyWithTheRecordedStartTime) {
  write_stat(100, 'S', 5000);
  EXPECT_TRUE(process_alive(100, 5000, tmp_.path()));
  // The pid was reused by a process that started later.
  EXPECT_FALSE(process_alive(100, 4000, tmp_.path()));
  EXPECT_FALSE(process_alive(101, 5000, tmp_.path()));
  EXPECT_FALSE(process_alive(0, 5000, tmp_.path()));
}

TEST_F(FakeProcTest, ZombieIsNotAlive) {
  write_stat(200, 'Z', 7);
  EXPECT_FALSE(process_alive(200, 7, tmp_.path()));
}

TEST(ProcAliveTest, RealChildIsAliveUntilItExits) {
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::pause();
    ::_exit(0);
  }
  auto st = read_proc_stat(pid);
  ASSERT_TRUE(st.has_value());
  EXPECT_TRUE(process_alive(pid, st->start_time));
  ::kill(pid, SIGKILL);
  int status = 0;
  // Until reaped it is a zombie, which already counts as gone.
  for (int i = 0; i < 1000 && process_alive(pid, st->start_time); ++i) {
    ::usleep(1000);
  }
  EXPECT_FALSE(process_alive(pid, st->start_time));
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_EQ(exit_code_from_wait_status(status), 137);
}

TEST(ExitCodeTest, ShellConvention) {
  EXPECT_EQ(exit_code_from_wait_status(3 << 8), 3);
  EXPECT_EQ(exit_code_from_wait_status(0), 0);
  EXPECT_EQ(exit_code_from_wait_status(SIGKILL), 137);
  EXPECT_EQ(exit_code_from_wait_status(SIGTERM), 143);
}

}  // namespace
}  // namespace mydocker::runtime::process
