// SPDX-License-Identifier: Apache-2.0
#include "engine/daemon/local_daemon_impl.h"
#include "runtime/base/strings.h"

namespace mydocker::engine::detail {

std::string now_rfc3339() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return image::content::format_rfc3339_nano(ts.tv_sec, static_cast<int32_t>(ts.tv_nsec));
}

int64_t now_unix() {
  return static_cast<int64_t>(::time(nullptr));
}

bool running_like(Status s) {
  return s == Status::Running || s == Status::Paused;
}

// Unmounts everything stacked on `target` (lazily: a process of the container may still hold
// it for a moment).
void unmount_all(const std::string& target) {
  for (int i = 0; i < 16; ++i) {
    if (::umount2(target.c_str(), MNT_DETACH) < 0) {
      break;
    }
  }
}

bool overlay_supported() {
  auto fs = base::read_file("/proc/filesystems");
  return fs && fs->find("\toverlay\n") != std::string::npos;
}

bool cgroup2_unified() {
  struct statfs st {};
  return ::statfs("/sys/fs/cgroup", &st) == 0 && st.f_type == 0x63677270;  // CGROUP2_SUPER_MAGIC
}

// Docker's translateContainerdStartErr: which exit code a failed start records, and whether
// the error is the caller's (a bad command: 400) or the daemon's.
base::Error start_error(const base::Error& e, int64_t& exit_code) {
  std::string msg = e.message();
  std::string lower = base::ascii_lower(msg);
  std::string text = fmt::format(
      "failed to create shim task: OCI runtime create failed: runc create failed: unable to "
      "start container process: {}: unknown",
      msg);
  exit_code = 128;
  ErrorCode code = ErrorCode::Internal;
  if (e.code() == ErrorCode::NotFound ||
      lower.find("executable file not found") != std::string::npos ||
      lower.find("no such file or directory") != std::string::npos) {
    exit_code = 127;
    code = ErrorCode::InvalidArgument;
  }
  if (e.code() == ErrorCode::PermissionDenied ||
      lower.find("permission denied") != std::string::npos) {
    exit_code = 126;
    code = ErrorCode::InvalidArgument;
  }
  return base::Error(code, text);
}

}  // namespace mydocker::engine::detail
