// SPDX-License-Identifier: Apache-2.0
#include "runtime/spec/signals.h"

#include <gtest/gtest.h>

#include <csignal>

namespace mydocker::runtime {
namespace {

struct SignalRow {
  const char* text;
  int number;
};

class SignalParseTest : public ::testing::TestWithParam<SignalRow> {};

TEST_P(SignalParseTest, Parses) {
  auto r = parse_signal(GetParam().text);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(*r, GetParam().number);
}

INSTANTIATE_TEST_SUITE_P(Rows, SignalParseTest,
                         ::testing::Values(SignalRow{"SIGTERM", SIGTERM},
                                           SignalRow{"TERM", SIGTERM}, SignalRow{"term", SIGTERM},
                                           SignalRow{"sigkill", SIGKILL}, SignalRow{"15", 15},
                                           SignalRow{"9", 9}, SignalRow{"64", 64},
                                           SignalRow{"HUP", SIGHUP}, SignalRow{"SIGCHLD", SIGCHLD},
                                           SignalRow{"CLD", SIGCHLD}, SignalRow{"IOT", SIGABRT},
                                           SignalRow{"POLL", SIGIO},
                                           SignalRow{"SIGWINCH", SIGWINCH},
                                           SignalRow{"SIGRTMIN", 34}, SignalRow{"SIGRTMIN+3", 37},
                                           SignalRow{"rtmin+0", 34}, SignalRow{"RTMAX-1", 63},
                                           SignalRow{"SIGRTMAX", 64}, SignalRow{"RTMIN+30", 64}));

class SignalRejectTest : public ::testing::TestWithParam<const char*> {};

TEST_P(SignalRejectTest, Rejects) {
  auto r = parse_signal(GetParam());
  ASSERT_FALSE(r) << GetParam() << " -> " << *r;
  EXPECT_EQ(r.error().code(), base::ErrorCode::InvalidArgument);
  EXPECT_EQ(r.error().to_string(), fmt::format("invalid signal `{}`", GetParam()));
}

INSTANTIATE_TEST_SUITE_P(Rows, SignalRejectTest,
                         ::testing::Values("SIGFOO", "", "0", "65", "-9", "99999999999999999999",
                                           "SIG", "SIGRTMIN-1", "RTMAX+1", "RTMIN+31", "RTMIN+",
                                           "RTMIN+x", "15x", "TERM ", "SIGSIGTERM"));

TEST(SignalNameTest, Names) {
  EXPECT_EQ(signal_name(SIGTERM), "SIGTERM");
  EXPECT_EQ(signal_name(SIGKILL), "SIGKILL");
  EXPECT_EQ(signal_name(SIGABRT), "SIGABRT");
  EXPECT_EQ(signal_name(SIGCHLD), "SIGCHLD");
  EXPECT_EQ(signal_name(SIGIO), "SIGIO");
  EXPECT_EQ(signal_name(34), "SIGRTMIN");
  EXPECT_EQ(signal_name(37), "SIGRTMIN+3");
  EXPECT_EQ(signal_name(63), "SIGRTMAX-1");
  EXPECT_EQ(signal_name(64), "SIGRTMAX");
  EXPECT_EQ(signal_name(99), "99");
}

TEST(SignalNameTest, NamesRoundTrip) {
  for (int sig = 1; sig <= 64; ++sig) {
    if (sig == 32 || sig == 33) {
      continue;  // reserved by glibc; no name
    }
    auto r = parse_signal(signal_name(sig));
    ASSERT_TRUE(r) << sig << " " << signal_name(sig);
    EXPECT_EQ(*r, sig);
  }
}

}  // namespace
}  // namespace mydocker::runtime
