// SPDX-License-Identifier: Apache-2.0
// The Docker Engine API over HTTP/1.1 on a Unix socket, served from an engine::Daemon.
//
// Paths are accepted bare and under a version prefix /v1.24 ... /v1.50 (Docker's
// "client version X is too new/old" errors outside that range, transcripts 008-010);
// responses carry Api-Version, Docker-Experimental, Ostype and Server headers as dockerd's.
// Errors are {"message": "..."} with the status api/server/errors.h maps from the ErrorCode.
#pragma once

#include <memory>
#include <string>

#include "engine/daemon.h"
#include "runtime/base/error.h"

namespace mydocker::api::server {

// The highest API version whose changes are implemented (docs/api.md lists the gaps).
inline constexpr const char* kApiVersion = "1.44";
inline constexpr const char* kMinApiVersion = "1.24";
inline constexpr const char* kMaxAcceptedApiVersion = "1.50";

struct ServerOptions {
  std::string socket_path = "/run/mydocker.sock";
  std::string socket_group = "mydocker";  // chgrp when the group exists; mode 0660
  size_t max_body_bytes = 0;              // 0 -> no limit beyond the route's own
  std::string version = "0.1.0";          // mydocker's version for /version
  bool debug = false;
};

class Server {
 public:
  // Binds the socket (replacing a stale socket file; the daemon's lock on the data root
  // guarantees no other daemon owns it). Errors: Unavailable when it cannot bind.
  static base::Result<std::unique_ptr<Server>> create(engine::Daemon& daemon,
                                                      const ServerOptions& options);
  virtual ~Server() = default;
  // Serves until stop() (from another thread or a signal handler thread). Returns once every
  // in-flight request has finished: requests blocked in the engine (wait, logs with follow)
  // return only when the engine wakes them, so call Daemon::shutdown() after stop() and
  // before waiting for serve() to return.
  virtual base::Result<void> serve() = 0;
  virtual void stop() = 0;
};

}  // namespace mydocker::api::server
