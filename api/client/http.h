// SPDX-License-Identifier: Apache-2.0
// A small HTTP/1.1 client over a Unix stream socket.
//
// cpp-httplib 0.11.4 (Debian 12) cannot connect to AF_UNIX sockets, so the client speaks the
// few parts of HTTP/1.1 the Engine API needs itself: a request with a Content-Length or a
// chunked body (streamed from a source, as the docker CLI sends load/import bodies), and a
// response framed by Content-Length, chunked encoding or connection close. Bodies can be
// delivered to a sink as they arrive, which `logs -f`, `export` and `save` need.
//
// One connection carries one request (the client sends "Connection: close"); a connection is
// not thread-safe, use one per thread.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/base/error.h"
#include "runtime/base/fd.h"

namespace mydocker::api::client {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Reads up to `len` bytes of a request body into `buf`; returns 0 at the end.
using BodySource = std::function<base::Result<size_t>(char* buf, size_t len)>;
// Receives response body bytes as they arrive; returning false stops reading (no error).
using BodySink = std::function<bool(std::string_view data)>;

struct HttpRequest {
  std::string method = "GET";
  std::string target = "/";  // path and query, already percent-encoded
  Headers headers;
  std::string body;  // sent with Content-Length when body_source is empty
  BodySource body_source;
  std::optional<uint64_t> body_length;  // with body_source: Content-Length, else chunked
  // Asks to take the connection over (attach, exec start): "Connection: Upgrade" and
  // "Upgrade: tcp" instead of "Connection: close", as the docker CLI sends them.
  bool upgrade = false;
};

struct HttpResponse {
  int status = 0;
  std::string reason;
  Headers headers;
  std::string body;  // empty when the body went to a sink
  // Case-insensitive header lookup; "" when absent.
  std::string header(std::string_view name) const;
};

class HttpConnection {
 public:
  // Errors: Unavailable (ENOENT, ECONNREFUSED: nobody listens), PermissionDenied (EACCES),
  // InvalidArgument (path too long for sockaddr_un).
  static base::Result<HttpConnection> connect(const std::string& socket_path);

  // Sends `req` and reads the status line and headers. Follow with read_body().
  base::Result<HttpResponse> send(const HttpRequest& req);
  // Reads the body of the response `head` (from send), handing it to `sink`.
  base::Result<void> read_body(const HttpResponse& head, const BodySink& sink);
  // send + read_body; without a sink the body lands in HttpResponse::body.
  base::Result<HttpResponse> round_trip(const HttpRequest& req, const BodySink& sink = nullptr);

  int fd() const { return fd_.get(); }
  // Gives up the socket after send() (a hijacked stream): the fd and the bytes already read
  // past the response head. The connection is empty afterwards.
  std::pair<base::Fd, std::string> release() &&;
  // Shuts the socket down both ways: a blocked read in another thread returns EOF.
  void shutdown();

 private:
  explicit HttpConnection(base::Fd fd) : fd_(std::move(fd)) {}
  base::Result<bool> fill();  // reads more into buf_; false at EOF
  base::Result<void> write_raw(std::string_view data);
  base::Result<std::string> read_line();

  base::Fd fd_;
  std::string buf_;  // received, not yet consumed
  bool head_request_ = false;
};

// Percent-encodes a query component (RFC 3986 unreserved characters stay).
std::string url_encode(std::string_view s);
// "?k=v&k2=v2" (empty pairs skipped: an empty value is still sent when the key is given).
std::string query_string(const std::vector<std::pair<std::string, std::string>>& params);

}  // namespace mydocker::api::client
