// SPDX-License-Identifier: Apache-2.0
// Which daemon the client talks to: -H/--host, else MYDOCKER_HOST, else DOCKER_HOST, else the
// default socket. Only unix:// endpoints exist so far; tcp:// and ssh:// are refused with an
// error that says so instead of a confusing connect failure.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/base/error.h"

namespace mydocker::api::client {

inline constexpr const char* kDefaultHost = "unix:///run/mydocker.sock";

struct Host {
  std::string uri;          // as given (for messages): "unix:///run/mydocker.sock"
  std::string socket_path;  // "/run/mydocker.sock"
};

// Parses "unix:///path" (or a bare absolute path, as docker accepts "unix://" only; we accept
// "/path" too for scripts). Errors: InvalidArgument for a malformed host, NotImplemented for
// tcp://, ssh://, fd:// and npipe://.
base::Result<Host> parse_host(std::string_view uri);

// The host string to use: `flag` when given and non-empty, else the first non-empty of the
// environment variables MYDOCKER_HOST and DOCKER_HOST (read through `getenv`, a seam for tests),
// else kDefaultHost.
std::string select_host(const std::optional<std::string>& flag,
                        const std::function<const char*(const char*)>& getenv);

}  // namespace mydocker::api::client
