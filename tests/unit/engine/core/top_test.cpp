// SPDX-License-Identifier: Apache-2.0
#include "engine/top/top.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace mydocker::engine::top {
namespace {

TEST(TopTest, ParsePsOutputKeepsContainerRows) {
  const char* out =
      "USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND\n"
      "root           1  0.0  0.1 167000 11000 ?        Ss   18:00   0:01 /sbin/init\n"
      "root        7766  0.1  0.0   2268  1660 ?        Ss   18:25   0:00 sh -c trap 'exit 0' "
      "TERM\n"
      "root        8592  0.0  0.0   2268  1380 ?        S    18:25   0:00 sleep 1\n";
  auto r = parse_ps_output(out, {7766, 8592});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->titles.size(), 11u);
  EXPECT_EQ(r->titles[1], "PID");
  ASSERT_EQ(r->processes.size(), 2u);
  EXPECT_EQ(r->processes[0][1], "7766");
  EXPECT_EQ(r->processes[0].back(), "sh -c trap 'exit 0' TERM");
  EXPECT_EQ(r->processes[1].back(), "sleep 1");
  auto bad = parse_ps_output("USER COMMAND\nroot x\n", {1});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(), "Couldn't find PID field in ps output");
}

TEST(TopTest, PsEfFromProc) {
  auto r = ps_ef({::getpid(), 999999999});
  EXPECT_EQ(r.titles,
            (std::vector<std::string>{"UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"}));
  ASSERT_EQ(r.processes.size(), 1u);
  EXPECT_EQ(r.processes[0][1], std::to_string(::getpid()));
  EXPECT_EQ(r.processes[0][2], std::to_string(::getppid()));
  EXPECT_NE(r.processes[0][7].find("engine_core_test"), std::string::npos);
  EXPECT_EQ(r.processes[0][6].size(), 8u);  // 00:00:00
}

TEST(TopTest, RunPsWithArgs) {
  if (::access("/bin/ps", X_OK) != 0 && ::access("/usr/bin/ps", X_OK) != 0) {
    GTEST_SKIP() << "no ps on this host";
  }
  auto r = run_ps("-o pid,comm", {::getpid()});
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  ASSERT_EQ(r->processes.size(), 1u);
  EXPECT_EQ(r->processes[0][0], std::to_string(::getpid()));
}

TEST(TopTest, PsArgsAndErrorsWordedAsDockerd) {
  EXPECT_TRUE(validate_ps_args("aux"));
  EXPECT_TRUE(validate_ps_args("-o pid=PID,comm"));
  auto renamed = validate_ps_args("-o pid,user=PID");
  ASSERT_FALSE(renamed);
  // As dockerd's regexp takes it: every non-blank before the "=".
  EXPECT_EQ(renamed.error().message(), "specifying \"pid,user=PID\" is not allowed");
  if (::access("/bin/ps", X_OK) != 0 && ::access("/usr/bin/ps", X_OK) != 0) {
    GTEST_SKIP() << "no ps on this host";
  }
  auto bad = run_ps("--no-such-ps-flag", {::getpid()});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), base::ErrorCode::Internal);
  EXPECT_TRUE(bad.error().message().starts_with("ps: ")) << bad.error().message();
  EXPECT_EQ(bad.error().message().find('\n'), std::string::npos) << bad.error().message();
}

}  // namespace
}  // namespace mydocker::engine::top
