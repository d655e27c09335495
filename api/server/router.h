// SPDX-License-Identifier: Apache-2.0
// Route tables: one per resource (router/system.cpp, router/containers.cpp,
// router/images.cpp), matched in order on the decoded path without its version prefix.
//
// Patterns are literal segments and parameters: "/containers/{name}/json" ({name} is one
// segment) and "/images/{name:.*}/json" ({name:.*} is one or more segments, for image names
// with slashes such as library/busybox:latest); at most one greedy parameter per pattern.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "api/server/http.h"
#include "api/server/server.h"
#include "engine/daemon.h"
#include "runtime/base/error.h"

namespace mydocker::api::server {

struct Context {
  engine::Daemon& daemon;
  const ServerOptions& options;
};

// How a route takes its body.
enum class BodyMode {
  Buffered,  // read whole, up to the JSON limit (413 beyond)
  Json,      // Buffered + Docker's Content-Type check when non-empty
  Stream,    // unbounded, pulled by the handler (image load/import)
  Hijack,    // Json, and Request::hijack is set: the handler may take the connection over
};

using Handler = base::Result<void> (*)(Context& ctx, const Request& req, Response& resp);

struct Route {
  const char* method;  // "GET" also serves HEAD
  const char* pattern;
  BodyMode body;
  Handler handler;
};

std::vector<Route> system_routes();
std::vector<Route> container_routes();
std::vector<Route> image_routes();
std::vector<Route> exec_routes();
std::vector<Route> distribution_routes();  // router/distribution.cpp: push, auth, distribution
std::vector<Route> network_routes();       // router/networks.cpp: /networks
std::vector<Route> build_routes();         // router/build.cpp: build, build prune

// `POST /images/create?fromImage=` (docker pull), in router/distribution.cpp; images.cpp's
// create route hands it every request without fromSrc.
base::Result<void> post_images_pull(Context& ctx, const Request& req, Response& resp);
// One registry progress message as pull streams it, "\r\n" ended (router/distribution.cpp);
// a build's base image pull streams the same.
std::string registry_progress_line(const image::registry::ProgressEvent& e);

// Matches `path` against `pattern`, filling `params`.
bool match_route(std::string_view pattern, std::string_view path,
                 std::map<std::string, std::string>& params);

}  // namespace mydocker::api::server
