// SPDX-License-Identifier: Apache-2.0
// A fake Engine API endpoint on a temp Unix socket: records each request and lets the test
// write the raw response bytes (so framing, chunking and timing are under the test's control).
// cpp-httplib 0.11.4 cannot listen on a Unix socket, hence this small server.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/busybox_rootfs.h"

namespace mydocker::testing {

struct FakeRequest {
  std::string method;
  std::string target;
  std::string head;  // request line + headers
  std::string body;  // de-chunked
};

class FakeDaemon {
 public:
  using Handler = std::function<void(const FakeRequest& req, int fd)>;

  explicit FakeDaemon(Handler handler) : handler_(std::move(handler)) {
    path_ = dir_.path() + "/api.sock";
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
    if (::bind(listen_fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::listen(listen_fd_, 16) != 0) {
      ADD_FAILURE() << "bind " << path_ << ": " << std::strerror(errno);
    }
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~FakeDaemon() {
    ::shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    for (auto& t : conns_) {
      t.join();
    }
    ::close(listen_fd_);
  }
  FakeDaemon(const FakeDaemon&) = delete;
  FakeDaemon& operator=(const FakeDaemon&) = delete;

  const std::string& path() const { return path_; }
  std::vector<FakeRequest> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

  static void send_all(int fd, std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) {
        return;
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
  }
  // A complete response with Content-Length.
  static std::string response(int status, std::string_view reason, std::string_view body,
                              std::string_view content_type = "application/json") {
    std::string r = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
                    "\r\nApi-Version: 1.41\r\n";
    if (!content_type.empty()) {
      r += "Content-Type: " + std::string(content_type) + "\r\n";
    }
    r += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
    return r;
  }
  static std::string chunk(std::string_view data) {
    char size[32];
    std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
    return size + std::string(data) + "\r\n";
  }

 private:
  void accept_loop() {
    for (;;) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        return;
      }
      conns_.emplace_back([this, fd] {
        FakeRequest req;
        if (read_request(fd, req)) {
          {
            std::lock_guard lock(mu_);
            requests_.push_back(req);
          }
          handler_(req, fd);
        }
        ::close(fd);
      });
    }
  }

  static bool fill(int fd, std::string& buf) {
    char tmp[4096];
    ssize_t n = ::read(fd, tmp, sizeof(tmp));
    if (n <= 0) {
      return false;
    }
    buf.append(tmp, static_cast<size_t>(n));
    return true;
  }

  static bool read_request(int fd, FakeRequest& req) {
    std::string buf;
    size_t end;
    while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
      if (!fill(fd, buf)) {
        return false;
      }
    }
    req.head = buf.substr(0, end + 2);
    buf.erase(0, end + 4);
    size_t sp1 = req.head.find(' ');
    size_t sp2 = req.head.find(' ', sp1 + 1);
    req.method = req.head.substr(0, sp1);
    req.target = req.head.substr(sp1 + 1, sp2 - sp1 - 1);
    if (req.head.find("Transfer-Encoding: chunked") != std::string::npos) {
      for (;;) {
        size_t nl;
        while ((nl = buf.find("\r\n")) == std::string::npos) {
          if (!fill(fd, buf)) {
            return false;
          }
        }
        size_t size = std::stoul(buf.substr(0, nl), nullptr, 16);
        buf.erase(0, nl + 2);
        while (buf.size() < size + 2) {
          if (!fill(fd, buf)) {
            return false;
          }
        }
        req.body += buf.substr(0, size);
        buf.erase(0, size + 2);
        if (size == 0) {
          return true;
        }
      }
    }
    size_t cl = req.head.find("Content-Length: ");
    if (cl != std::string::npos) {
      size_t len = std::stoul(req.head.substr(cl + 16));
      while (buf.size() < len) {
        if (!fill(fd, buf)) {
          return false;
        }
      }
      req.body = buf.substr(0, len);
    }
    return true;
  }

  Handler handler_;
  TempDir dir_;
  std::string path_;
  int listen_fd_ = -1;
  std::thread acceptor_;
  std::vector<std::thread> conns_;  // only touched by the acceptor thread and the destructor
  std::mutex mu_;                   // guards requests_
  std::vector<FakeRequest> requests_;
};

}  // namespace mydocker::testing
