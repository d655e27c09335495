// SPDX-License-Identifier: Apache-2.0
#include "api/client/http.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>

#include "runtime/base/strings.h"

namespace mydocker::api::client {

namespace {

base::Error protocol_error(std::string_view what) {
  return base::make_error(base::ErrorCode::Unavailable, "malformed response from daemon: {}", what);
}

}  // namespace

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (base::ascii_iequals(k, name)) {
      return v;
    }
  }
  return "";
}

base::Result<HttpConnection> HttpConnection::connect(const std::string& socket_path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof(addr.sun_path)) {
    return base::make_error(base::ErrorCode::InvalidArgument, "socket path `{}` is too long",
                            socket_path);
  }
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  int raw = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (raw < 0) {
    return base::sys_error("socket");
  }
  base::Fd fd = base::Fd::adopt(raw);
  int rc;
  do {
    rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    int err = errno;
    base::ErrorCode code = (err == EACCES || err == EPERM) ? base::ErrorCode::PermissionDenied
                                                           : base::ErrorCode::Unavailable;
    return base::Error(code, fmt::format("connect to `{}`", socket_path), err);
  }
  return HttpConnection(std::move(fd));
}

void HttpConnection::shutdown() {
  if (fd_) {
    ::shutdown(fd_.get(), SHUT_RDWR);
  }
}

std::pair<base::Fd, std::string> HttpConnection::release() && {
  std::string rest = std::move(buf_);
  buf_.clear();
  return {std::move(fd_), std::move(rest)};
}

base::Result<void> HttpConnection::write_raw(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return base::sys_error("send request to daemon");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return base::ok();
}

base::Result<bool> HttpConnection::fill() {
  std::array<char, 65536> chunk;
  for (;;) {
    ssize_t n = ::read(fd_.get(), chunk.data(), chunk.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return base::sys_error("read response from daemon");
    }
    if (n == 0) {
      return false;
    }
    buf_.append(chunk.data(), static_cast<size_t>(n));
    return true;
  }
}

base::Result<std::string> HttpConnection::read_line() {
  for (;;) {
    size_t pos = buf_.find("\r\n");
    if (pos != std::string::npos) {
      std::string line = buf_.substr(0, pos);
      buf_.erase(0, pos + 2);
      return line;
    }
    if (buf_.size() > 1 << 20) {
      return protocol_error("header line too long");
    }
    if (!MYDOCKER_TRY(fill())) {
      return protocol_error("connection closed in the response head");
    }
  }
}

base::Result<HttpResponse> HttpConnection::send(const HttpRequest& req) {
  head_request_ = req.method == "HEAD";
  std::string head = fmt::format("{} {} HTTP/1.1\r\nHost: docker\r\nUser-Agent: mydocker-cli\r\n",
                                 req.method, req.target);
  for (const auto& [k, v] : req.headers) {
    head += fmt::format("{}: {}\r\n", k, v);
  }
  bool chunked = false;
  if (req.body_source) {
    if (req.body_length) {
      head += fmt::format("Content-Length: {}\r\n", *req.body_length);
    } else {
      head += "Transfer-Encoding: chunked\r\n";
      chunked = true;
    }
  } else if (!req.body.empty() || req.method == "POST" || req.method == "PUT") {
    head += fmt::format("Content-Length: {}\r\n", req.body.size());
  }
  head += req.upgrade ? "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n" : "Connection: close\r\n\r\n";
  if (!req.body_source && req.body.size() < 65536) {
    head += req.body;  // one write for small requests
    MYDOCKER_TRY(write_raw(head));
  } else {
    MYDOCKER_TRY(write_raw(head));
    if (!req.body_source) {
      MYDOCKER_TRY(write_raw(req.body));
    } else {
      std::string chunk(1 << 16, '\0');
      for (;;) {
        size_t n = MYDOCKER_TRY(req.body_source(chunk.data(), chunk.size()));
        if (n == 0) {
          break;
        }
        if (chunked) {
          MYDOCKER_TRY(write_raw(fmt::format("{:x}\r\n", n)));
        }
        MYDOCKER_TRY(write_raw(std::string_view(chunk.data(), n)));
        if (chunked) {
          MYDOCKER_TRY(write_raw("\r\n"));
        }
      }
      if (chunked) {
        MYDOCKER_TRY(write_raw("0\r\n\r\n"));
      }
    }
  }

  HttpResponse resp;
  std::string status_line = MYDOCKER_TRY(read_line());
  // "HTTP/1.1 200 OK"
  if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12) {
    return protocol_error(fmt::format("status line `{}`", status_line));
  }
  auto code = base::parse_int64(std::string_view(status_line).substr(9, 3));
  if (!code) {
    return protocol_error(fmt::format("status line `{}`", status_line));
  }
  resp.status = static_cast<int>(*code);
  resp.reason = status_line.size() > 13 ? status_line.substr(13) : "";
  for (;;) {
    std::string line = MYDOCKER_TRY(read_line());
    if (line.empty()) {
      break;
    }
    size_t colon = line.find(':');
    if (colon == std::string::npos) {
      return protocol_error(fmt::format("header `{}`", line));
    }
    resp.headers.emplace_back(line.substr(0, colon),
                              std::string(base::trim(std::string_view(line).substr(colon + 1))));
  }
  return resp;
}

base::Result<void> HttpConnection::read_body(const HttpResponse& head, const BodySink& sink) {
  if (head_request_ || head.status == 204 || head.status == 304 ||
      (head.status >= 100 && head.status < 200)) {
    return base::ok();
  }
  auto deliver = [&](std::string_view data) { return data.empty() || sink(data); };
  if (base::ascii_iequals(head.header("Transfer-Encoding"), "chunked")) {
    for (;;) {
      std::string line = MYDOCKER_TRY(read_line());
      size_t semi = line.find(';');
      std::string_view hex = base::trim(std::string_view(line).substr(0, semi));
      uint64_t size = 0;
      if (hex.empty() || hex.size() > 15) {
        return protocol_error(fmt::format("chunk size `{}`", line));
      }
      for (char c : hex) {
        int d = std::isdigit(static_cast<unsigned char>(c))
                    ? c - '0'
                    : (std::tolower(static_cast<unsigned char>(c)) - 'a' + 10);
        if (d < 0 || d > 15) {
          return protocol_error(fmt::format("chunk size `{}`", line));
        }
        size = size * 16 + static_cast<uint64_t>(d);
      }
      if (size == 0) {
        // Trailers, then the empty line; a server that closes right away is fine too.
        for (;;) {
          auto trailer = read_line();
          if (!trailer || trailer->empty()) {
            return base::ok();
          }
        }
      }
      while (size > 0) {
        if (buf_.empty() && !MYDOCKER_TRY(fill())) {
          return protocol_error("connection closed inside a chunk");
        }
        size_t take = static_cast<size_t>(std::min<uint64_t>(size, buf_.size()));
        bool more = deliver(std::string_view(buf_.data(), take));
        buf_.erase(0, take);
        size -= take;
        if (!more) {
          return base::ok();
        }
      }
      std::string crlf = MYDOCKER_TRY(read_line());
      if (!crlf.empty()) {
        return protocol_error("chunk not followed by CRLF");
      }
    }
  }
  std::string cl = head.header("Content-Length");
  if (!cl.empty()) {
    auto len = base::parse_uint64(cl);
    if (!len) {
      return protocol_error(fmt::format("Content-Length `{}`", cl));
    }
    uint64_t left = *len;
    while (left > 0) {
      if (buf_.empty() && !MYDOCKER_TRY(fill())) {
        return protocol_error("connection closed before the end of the body");
      }
      size_t take = static_cast<size_t>(std::min<uint64_t>(left, buf_.size()));
      bool more = deliver(std::string_view(buf_.data(), take));
      buf_.erase(0, take);
      left -= take;
      if (!more) {
        return base::ok();
      }
    }
    return base::ok();
  }
  // Neither: the body runs until the server closes (hijacked streams without upgrade).
  for (;;) {
    if (!buf_.empty()) {
      bool more = deliver(buf_);
      buf_.clear();
      if (!more) {
        return base::ok();
      }
    }
    if (!MYDOCKER_TRY(fill())) {
      return base::ok();
    }
  }
}

base::Result<HttpResponse> HttpConnection::round_trip(const HttpRequest& req,
                                                      const BodySink& sink) {
  HttpResponse resp = MYDOCKER_TRY(send(req));
  if (sink) {
    MYDOCKER_TRY(read_body(resp, sink));
  } else {
    std::string body;
    MYDOCKER_TRY(read_body(resp, [&](std::string_view d) {
      body.append(d);
      return true;
    }));
    resp.body = std::move(body);
  }
  return resp;
}

std::string url_encode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string query_string(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string q;
  for (const auto& [k, v] : params) {
    q += q.empty() ? '?' : '&';
    q += url_encode(k);
    q += '=';
    q += url_encode(v);
  }
  return q;
}

}  // namespace mydocker::api::client
