// SPDX-License-Identifier: Apache-2.0
#include "engine/daemon/local_daemon_impl.h"

namespace mydocker::engine::detail {

// Placeholders until the attach/exec work lands (issue 5).
base::Result<void> LocalDaemon::attach(std::string_view, const AttachOptions&, const Upgrade&) {
  return make_error(ErrorCode::NotImplemented, "attach is not implemented yet");
}
base::Result<void> LocalDaemon::resize(std::string_view, int, int) {
  return make_error(ErrorCode::NotImplemented, "resize is not implemented yet");
}
base::Result<std::string> LocalDaemon::exec_create(std::string_view, const ExecConfig&) {
  return make_error(ErrorCode::NotImplemented, "exec is not implemented yet");
}
base::Result<void> LocalDaemon::exec_start(std::string_view, const ExecStartOptions&,
                                           const Upgrade&) {
  return make_error(ErrorCode::NotImplemented, "exec is not implemented yet");
}
base::Result<ExecInfo> LocalDaemon::exec_inspect(std::string_view) {
  return make_error(ErrorCode::NotImplemented, "exec is not implemented yet");
}
base::Result<void> LocalDaemon::exec_resize(std::string_view, int, int) {
  return make_error(ErrorCode::NotImplemented, "exec is not implemented yet");
}

}  // namespace mydocker::engine::detail
