// SPDX-License-Identifier: Apache-2.0
// Route matching and the small renderers, without a socket.
#include "api/server/router.h"

#include <gtest/gtest.h>

#include "api/server/errors.h"
#include "api/server/render.h"

namespace mydocker::api::server {
namespace {

TEST(MatchRoute, Table) {
  struct Row {
    const char* pattern;
    const char* path;
    bool match;
    const char* name;  // expected {name}, "" when none
  };
  for (const Row& r : {
           Row{"/containers/json", "/containers/json", true, ""},
           Row{"/containers/json", "/containers/json/", false, ""},  // 018
           Row{"/containers/{name}/json", "/containers/c1/json", true, "c1"},
           Row{"/containers/{name}/json", "/containers//json", false, ""},
           Row{"/containers/{name}", "/containers/json", true, "json"},  // 013
           Row{"/images/{name:.*}/json", "/images/busybox/json", true, "busybox"},
           Row{"/images/{name:.*}/json", "/images/library/busybox:latest/json", true,
               "library/busybox:latest"},
           Row{"/images/{name:.*}/json", "/images/json", false, ""},
           Row{"/images/{name:.*}", "/images/a/b/c", true, "a/b/c"},
           Row{"/images/{name:.*}/tag", "/images/reg:5000/x/y:1/tag", true, "reg:5000/x/y:1"},
           Row{"/_ping", "/_ping", true, ""},
           Row{"/_ping", "/_pingx", false, ""},
       }) {
    std::map<std::string, std::string> params;
    EXPECT_EQ(match_route(r.pattern, r.path, params), r.match) << r.pattern << " " << r.path;
    if (r.match && *r.name != '\0') {
      EXPECT_EQ(params["name"], r.name);
    }
  }
}

TEST(HttpStatus, MobyMapping) {
  using base::ErrorCode;
  EXPECT_EQ(http_status(ErrorCode::NotFound), 404);
  EXPECT_EQ(http_status(ErrorCode::InvalidArgument), 400);
  EXPECT_EQ(http_status(ErrorCode::Conflict), 409);
  EXPECT_EQ(http_status(ErrorCode::AlreadyExists), 409);
  EXPECT_EQ(http_status(ErrorCode::FailedPrecondition), 412);
  EXPECT_EQ(http_status(ErrorCode::NotModified), 304);
  EXPECT_EQ(http_status(ErrorCode::PermissionDenied), 403);
  EXPECT_EQ(http_status(ErrorCode::Unauthorized), 401);
  EXPECT_EQ(http_status(ErrorCode::Unavailable), 503);
  EXPECT_EQ(http_status(ErrorCode::NotImplemented), 501);
  EXPECT_EQ(http_status(ErrorCode::Cancelled), 500);
  EXPECT_EQ(http_status(ErrorCode::Internal), 500);
}

TEST(Render, CommandAsDockerJoinsIt) {
  engine::ContainerInfo c;
  c.path = "sh";
  c.args = {"-c", "trap 'exit 0' TERM; while :; do sleep 1; done"};
  // 075: naive single quotes, no escaping.
  EXPECT_EQ(container_command(c), "sh -c 'trap 'exit 0' TERM; while :; do sleep 1; done'");
  c.path = "true";
  c.args = {};
  EXPECT_EQ(container_command(c), "true");
}

TEST(Render, HumanSize) {
  EXPECT_EQ(human_size(2048), "2.048kB");  // 186
  EXPECT_EQ(human_size(999), "999B");
  EXPECT_EQ(human_size(1982391), "1.982MB");
}

TEST(RegistryProgressLine, AnIdlessLineWithProgressCarriesItsDetail) {
  // The builder's ADD <url> (moby's progress reader: no ID, "Downloading").
  image::registry::ProgressEvent dl;
  dl.status = "Downloading";
  dl.current = 5;
  dl.total = 10;
  std::string line = registry_progress_line(dl);
  EXPECT_TRUE(line.starts_with(
      R"({"status":"Downloading","progressDetail":{"current":5,"total":10},"progress":")"))
      << line;
  EXPECT_EQ(line.find("\"id\""), std::string::npos) << line;
  // A whole-image line (no ID, no progress) stays a bare status.
  image::registry::ProgressEvent done;
  done.status = "Status: Downloaded newer image for busybox:latest";
  EXPECT_EQ(registry_progress_line(done),
            "{\"status\":\"Status: Downloaded newer image for busybox:latest\"}\r\n");
}

}  // namespace
}  // namespace mydocker::api::server
