// SPDX-License-Identifier: Apache-2.0
#include "tests/unit/api/server/served_api.h"

#include <chrono>

#include "tests/unit/api/server/http_client.h"

namespace mydocker::api::server::testing {

base::Result<std::unique_ptr<image::Images>> open_test_images(const std::string& root,
                                                              const std::string& architecture) {
  image::ImagesOptions o;
  o.layers.whiteouts = image::layers::WhiteoutFormat::Keep;
  o.layers.preserve_owners = false;
  o.layers.sync = false;
  o.architecture = architecture;
  return image::Images::open(root, o);
}

base::Result<void> ServedApi::start(engine::Daemon& daemon, const std::string& socket_path) {
  ServerOptions opts;
  opts.socket_path = socket_path;
  opts.socket_group = "";
  opts.version = "0.1.0-test";
  server_ = MYDOCKER_TRY(Server::create(daemon, opts));
  thread_ = std::thread([this] { (void)server_->serve(); });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto r = request(socket_path, "GET", "/_ping"); r && r->status == 200) {
      return base::ok();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return base::make_error(base::ErrorCode::Unavailable, "server did not come up");
}

void ServedApi::stop() {
  if (server_) {
    server_->stop();
  }
  if (thread_.joinable()) {
    thread_.join();
  }
  server_.reset();
}

}  // namespace mydocker::api::server::testing
