// SPDX-License-Identifier: Apache-2.0
// What the API server tests share: the image store a fake daemon is backed by, and the server
// itself on a temp Unix socket, served from its own thread.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "api/server/server.h"
#include "image/archive/images.h"

namespace mydocker::api::server::testing {

// An image::Images in `root` for tests: layers unpacked as given (whiteouts kept as files,
// owners not applied, no fsync); `architecture` "" is the host's.
base::Result<std::unique_ptr<image::Images>> open_test_images(const std::string& root,
                                                              const std::string& architecture = "");

// A Server for a daemon on a Unix socket, serving on its own thread until stop().
class ServedApi {
 public:
  ServedApi() = default;
  ServedApi(const ServedApi&) = delete;
  ServedApi& operator=(const ServedApi&) = delete;
  ~ServedApi() { stop(); }

  // Creates the server on `socket_path` (version "0.1.0-test", no socket group), serves it
  // and waits up to 10 s for GET /_ping to answer 200: an error when it does not.
  base::Result<void> start(engine::Daemon& daemon, const std::string& socket_path);
  // Stops serving and joins the thread; again is a no-op. Call before the daemon goes away.
  void stop();

 private:
  std::unique_ptr<Server> server_;
  std::thread thread_;
};

}  // namespace mydocker::api::server::testing
