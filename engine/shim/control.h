// SPDX-License-Identifier: Apache-2.0
// The daemon's side of the shim's control socket (engine/shim/proto.h draws it): hand a
// client connection to a running container's shim, resize a pty, start an exec. Each call is
// one short-lived connection to <state-dir>/shim.sock; the shim answers at once (it never
// blocks on a container), so these do not wait on the container.
//
// Errors: Unavailable when the shim is gone (no socket, connection refused); the shim's own
// errors keep their code (ControlReply::code).
#pragma once

#include <optional>
#include <string>

#include "engine/shim/proto.h"
#include "runtime/base/error.h"
#include "runtime/base/fd.h"

namespace mydocker::engine::shim {

// Gives `conn` to the shim, which serves it per `spec` until the container's init exits (or
// the client leaves, or detaches). The connection is closed here either way.
base::Result<void> send_attach(const std::string& state_dir, const AttachSpec& spec, base::Fd conn);

// Sets the window size of the container's pty (exec_id "") or of an exec's. Conflict when
// that process has no tty; NotFound for an unknown exec.
base::Result<void> send_resize(const std::string& state_dir, const std::string& exec_id, int height,
                               int width);

// Starts spec.process in the container; with `conn`, streams it per `attach` (the connection
// is closed here either way). Returns the process's host pid. Conflict when the container is
// not running; the runtime's errors otherwise (e.g. `exec: "x": executable file not found`).
base::Result<int64_t> send_exec(const std::string& state_dir, const ExecSpec& spec,
                                const AttachSpec& attach, std::optional<base::Fd> conn);

}  // namespace mydocker::engine::shim
