// SPDX-License-Identifier: Apache-2.0
// docker-py (Debian's python3-docker, /usr/bin/python3) against a private mydockerd: the
// flows of flows.py (run with output, logs(stream=True), events(decode=True), stats, top,
// exec_run).
#include <gtest/gtest.h>
#include <unistd.h>

#include <iostream>

#include "tests/integration/daemon/daemon_fixture.h"

namespace mydocker::testing::e2e {
namespace {

class RootDockerPyE2e : public DaemonE2e {
 protected:
  void SetUp() override {
    Output probe = run({"/usr/bin/python3", "-c", "import docker"});
    if (probe.status != 0) {
      GTEST_SKIP() << "/usr/bin/python3 cannot import docker (apt-get install python3-docker): "
                   << probe.all();
    }
    DaemonE2e::SetUp();
  }
};

TEST_F(RootDockerPyE2e, Flows) {
  RunOptions opts;
  opts.timeout = std::chrono::seconds(180);
  Output o =
      run({"/usr/bin/python3", MYDOCKER_DOCKERPY_FLOWS, "unix://" + daemon_->socket()}, opts);
  EXPECT_EQ(o.status, 0) << o.all() << "\n--- daemon log ---\n" << daemon_->log();
  std::cout << o.out;  // which flows ran (exec-run may be skipped)
  for (const char* flow :
       {"ok run\n", "ok run-error\n", "ok logs-stream\n", "ok events\n", "ok stats-top\n"}) {
    EXPECT_NE(o.out.find(flow), std::string::npos) << flow << " missing from:\n" << o.all();
  }
  EXPECT_TRUE(o.out.find("ok exec-run\n") != std::string::npos ||
              o.out.find("skip exec-run") != std::string::npos)
      << o.all();
}

}  // namespace
}  // namespace mydocker::testing::e2e
