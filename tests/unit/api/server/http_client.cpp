// SPDX-License-Identifier: Apache-2.0
#include "tests/unit/api/server/http_client.h"

#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

namespace mydocker::api::server::testing {

using base::ErrorCode;

bool HttpResponse::has_header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (::strcasecmp(k.c_str(), name.c_str()) == 0) {
      return true;
    }
  }
  return false;
}

std::string HttpResponse::header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (::strcasecmp(k.c_str(), name.c_str()) == 0) {
      return v;
    }
  }
  return "";
}

base::Result<HttpConnection> HttpConnection::connect(const std::string& socket_path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return base::sys_error("socket");
  }
  base::Fd owned = base::Fd::adopt(fd);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket_path.c_str(), sizeof(addr.sun_path) - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return base::sys_error("connect `{}`", socket_path);
  }
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return HttpConnection(std::move(owned));
}

base::Result<void> HttpConnection::send(const std::string& raw) {
  return base::write_all(fd_.get(), raw);
}

base::Result<char> HttpConnection::get() {
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
    char tmp[65536];
    ssize_t n = ::read(fd_.get(), tmp, sizeof(tmp));
    if (n < 0) {
      return base::sys_error("read");
    }
    if (n == 0) {
      return base::make_error(ErrorCode::Unavailable, "connection closed");
    }
    buf_.assign(tmp, static_cast<size_t>(n));
  }
  return buf_[pos_++];
}

base::Result<std::string> HttpConnection::line() {
  std::string out;
  while (true) {
    char c = MYDOCKER_TRY(get());
    if (c == '\n') {
      if (!out.empty() && out.back() == '\r') {
        out.pop_back();
      }
      return out;
    }
    out.push_back(c);
  }
}

base::Result<HttpResponse> HttpConnection::read_head() {
  HttpResponse r;
  r.status_line = MYDOCKER_TRY(line());
  if (r.status_line.size() < 12) {
    return base::make_error(ErrorCode::Internal, "bad status line `{}`", r.status_line);
  }
  r.status = std::stoi(r.status_line.substr(9, 3));
  while (true) {
    std::string l = MYDOCKER_TRY(line());
    if (l.empty()) {
      break;
    }
    auto colon = l.find(':');
    std::string v = l.substr(colon + 1);
    while (!v.empty() && v[0] == ' ') {
      v.erase(0, 1);
    }
    r.headers.emplace_back(l.substr(0, colon), v);
  }
  r.chunked = r.header("Transfer-Encoding") == "chunked";
  return r;
}

base::Result<void> HttpConnection::read_body(HttpResponse& r) {
  if (r.status == 204 || r.status == 304) {
    return base::ok();
  }
  if (r.chunked) {
    while (true) {
      std::string size_line = MYDOCKER_TRY(line());
      size_t size = std::stoul(size_line, nullptr, 16);
      r.chunks.push_back(size);
      for (size_t i = 0; i < size; ++i) {
        r.body.push_back(MYDOCKER_TRY(get()));
      }
      MYDOCKER_TRY(line());
      if (size == 0) {
        return base::ok();
      }
    }
  }
  if (r.has_header("Content-Length")) {
    size_t n = std::stoul(r.header("Content-Length"));
    for (size_t i = 0; i < n; ++i) {
      r.body.push_back(MYDOCKER_TRY(get()));
    }
    return base::ok();
  }
  while (true) {  // until close
    auto c = get();
    if (!c) {
      return base::ok();
    }
    r.body.push_back(*c);
  }
}

base::Result<HttpResponse> HttpConnection::read_response(bool head_only) {
  HttpResponse r = MYDOCKER_TRY(read_head());
  if (!head_only) {
    MYDOCKER_TRY(read_body(r));
  }
  return r;
}

bool HttpConnection::closed_within(int timeout_ms) {
  pollfd p{fd_.get(), POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) {
    return false;
  }
  char c;
  return ::recv(fd_.get(), &c, 1, MSG_PEEK) == 0;
}

base::Result<HttpResponse> request(const std::string& socket_path, const std::string& method,
                                   const std::string& target, const std::string& body,
                                   const std::map<std::string, std::string>& headers) {
  auto conn = MYDOCKER_TRY(HttpConnection::connect(socket_path));
  std::string raw = method + " " + target + " HTTP/1.1\r\nHost: docker\r\n";
  for (const auto& [k, v] : headers) {
    raw += k + ": " + v + "\r\n";
  }
  if (!body.empty() || method == "POST" || method == "PUT") {
    raw += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  raw += "\r\n" + body;
  MYDOCKER_TRY(conn.send(raw));
  return conn.read_response(method == "HEAD");
}

}  // namespace mydocker::api::server::testing
