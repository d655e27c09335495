// SPDX-License-Identifier: Apache-2.0
// The base fixture of root tests that drive the engine in process: a LocalDaemon on private
// data and exec roots under a TempDir, real shims (the mydocker-shim built with the tests),
// and busybox:latest imported from the test rootfs with CMD ["sh"] like the real one.
//
// SetUp skips without root or overlayfs and makes the test process a child subreaper: shims
// outlive a destroyed daemon object and come to us. TearDown removes every container (a
// failed removal is a test failure), shuts the daemon down, reaps the children (one still
// running after 10 s is a failure) and checks that no mount is left under the temp dir
// (detaching any that is, so the next test starts clean).
//
// Link mydocker::test_local_daemon. A test binary using it should also register
// testing::CgroupParentCleanup for the cgroup parent it passes.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "engine/daemon.h"
#include "engine/local_daemon.h"
#include "tests/support/busybox_rootfs.h"

namespace mydocker::testing {

// The mount points at or below `prefix`, in /proc/self/mountinfo's order (parents first).
std::vector<std::string> mounts_under(const std::string& prefix);

// Reaps our children (shims, and what came to us as subreaper) until none is left; false
// when some still run at `deadline`.
bool reap_children(std::chrono::milliseconds deadline);

class LocalDaemonTest : public ::testing::Test {
 protected:
  // `cgroup_parent`: the containers' cgroup parent, a name below the hierarchies' roots.
  explicit LocalDaemonTest(std::string cgroup_parent) : cgroup_parent_(std::move(cgroup_parent)) {}

  void SetUp() override;
  void TearDown() override;

  // Opens (again) a daemon on opts_; a test may change opts_ first (a restart, another
  // storage driver). The previous daemon object must be gone or shut down.
  void open_daemon();

  engine::DaemonOptions opts_;
  std::unique_ptr<TempDir> tmp_;
  std::unique_ptr<engine::Daemon> d_;
  std::string busybox_;  // busybox:latest's image ID ("sha256:...")

 private:
  std::string cgroup_parent_;
};

}  // namespace mydocker::testing
