// SPDX-License-Identifier: Apache-2.0
#include "tests/support/local_daemon.h"

#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <cerrno>
#include <thread>

#include "image/archive/export.h"
#include "image/layers/source.h"
#include "runtime/base/file.h"
#include "runtime/base/strings.h"
#include "tests/support/require.h"

namespace mydocker::testing {

std::vector<std::string> mounts_under(const std::string& prefix) {
  std::vector<std::string> out;
  auto info = base::read_file("/proc/self/mountinfo");
  if (!info) {
    return out;
  }
  for (const auto& line : base::split(*info, '\n')) {
    auto f = base::split(line, ' ');
    if (f.size() > 4 && f[4].starts_with(prefix)) {
      out.push_back(f[4]);
    }
  }
  return out;
}

bool reap_children(std::chrono::milliseconds deadline) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end) {
    int st = 0;
    pid_t p = ::waitpid(-1, &st, WNOHANG);
    if (p < 0 && errno == ECHILD) {
      return true;
    }
    if (p == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  return false;
}

void LocalDaemonTest::SetUp() {
  MYDOCKER_REQUIRE(Need::Root, Need::Overlay);
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
  tmp_ = std::make_unique<TempDir>();
  opts_.data_root = tmp_->path() + "/data";
  opts_.exec_root = tmp_->path() + "/exec";
  opts_.shim_path = MYDOCKER_SHIM_BIN;
  opts_.cgroup_parent = "/" + cgroup_parent_;
  open_daemon();
  if (HasFatalFailure()) {
    return;
  }
  std::string tar;
  ASSERT_TRUE(image::archive::export_directory(busybox_rootfs(),
                                               [&](std::string_view b) -> base::Result<void> {
                                                 tar.append(b);
                                                 return base::ok();
                                               })
                  .has_value());
  image::layers::MemorySource src(tar);
  image::ImportOptions io;
  io.reference = "busybox:latest";
  io.changes = {"CMD [\"sh\"]"};
  auto id = d_->images().import_image(src, io);
  ASSERT_TRUE(id.has_value()) << id.error().to_string();
  busybox_ = id->str();
}

void LocalDaemonTest::TearDown() {
  if (d_) {
    engine::ListOptions all;
    all.all = true;
    if (auto list = d_->list(all)) {
      for (const auto& c : *list) {
        auto r = d_->remove(c.id, true, false);
        EXPECT_TRUE(r.has_value()) << r.error().to_string();
      }
    }
    d_->shutdown();
    d_.reset();
  }
  if (!reap_children(std::chrono::seconds(10))) {
    ADD_FAILURE() << "children still running at teardown";
  }
  if (tmp_) {
    auto left = mounts_under(tmp_->path());
    EXPECT_TRUE(left.empty()) << "mount left: " << left.front();
    for (auto it = left.rbegin(); it != left.rend(); ++it) {
      ::umount2(it->c_str(), MNT_DETACH);
    }
    tmp_.reset();
  }
}

void LocalDaemonTest::open_daemon() {
  auto d = engine::open_local_daemon(opts_);
  ASSERT_TRUE(d.has_value()) << d.error().to_string();
  d_ = std::move(*d);
}

}  // namespace mydocker::testing
