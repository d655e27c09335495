// SPDX-License-Identifier: Apache-2.0
#include "api/client/host.h"

namespace mydocker::api::client {

base::Result<Host> parse_host(std::string_view uri) {
  using base::ErrorCode;
  std::string_view path;
  if (uri.starts_with("unix://")) {
    path = uri.substr(7);
  } else if (uri.starts_with("/")) {
    path = uri;
  } else {
    for (std::string_view scheme :
         {"tcp://", "ssh://", "fd://", "npipe://", "http://", "https://"}) {
      if (uri.starts_with(scheme)) {
        return base::make_error(ErrorCode::NotImplemented,
                                "host `{}`: {} endpoints are not supported yet (only unix://)", uri,
                                scheme.substr(0, scheme.size() - 3));
      }
    }
    return base::make_error(ErrorCode::InvalidArgument, "invalid host `{}`: use unix:///path", uri);
  }
  if (path.empty() || path.front() != '/') {
    return base::make_error(ErrorCode::InvalidArgument,
                            "invalid host `{}`: the socket path must be absolute", uri);
  }
  return Host{.uri = uri.starts_with("/") ? "unix://" + std::string(uri) : std::string(uri),
              .socket_path = std::string(path)};
}

std::string select_host(const std::optional<std::string>& flag,
                        const std::function<const char*(const char*)>& getenv) {
  if (flag && !flag->empty()) {
    return *flag;
  }
  for (const char* var : {"MYDOCKER_HOST", "DOCKER_HOST"}) {
    const char* v = getenv(var);
    if (v != nullptr && *v != '\0') {
      return v;
    }
  }
  return kDefaultHost;
}

}  // namespace mydocker::api::client
