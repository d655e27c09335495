// SPDX-License-Identifier: Apache-2.0
// A raw HTTP/1.1 client over a Unix socket for the API tests: sends bytes exactly as given and
// parses what comes back (Content-Length, chunked, or until close), keeping the chunk sizes.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "runtime/base/error.h"
#include "runtime/base/fd.h"

namespace mydocker::api::server::testing {

struct HttpResponse {
  int status = 0;
  std::string status_line;
  std::vector<std::pair<std::string, std::string>> headers;  // in order, as received
  std::string body;                                          // de-chunked
  bool chunked = false;
  std::vector<size_t> chunks;

  bool has_header(const std::string& name) const;
  std::string header(const std::string& name) const;  // "" when absent
};

class HttpConnection {
 public:
  static base::Result<HttpConnection> connect(const std::string& socket_path);
  base::Result<void> send(const std::string& raw);
  // Reads one response. `head_only` for HEAD requests (no body follows the head).
  base::Result<HttpResponse> read_response(bool head_only = false);
  // Reads only the head (for streams whose body comes later).
  base::Result<HttpResponse> read_head();
  // Reads the rest of a response whose head read_head() returned.
  base::Result<void> read_body(HttpResponse& r);
  // True when the server closed the connection (read returns 0 within timeout_ms).
  bool closed_within(int timeout_ms);
  int fd() const { return fd_.get(); }

 private:
  explicit HttpConnection(base::Fd fd) : fd_(std::move(fd)) {}
  base::Result<char> get();
  base::Result<std::string> line();
  base::Fd fd_;
  std::string buf_;
  size_t pos_ = 0;
};

// One request on a fresh connection: "GET /_ping" plus optional headers and body. Adds Host,
// and Content-Length when a body is given (or for POST/PUT/DELETE with none: 0).
base::Result<HttpResponse> request(const std::string& socket_path, const std::string& method,
                                   const std::string& target, const std::string& body = "",
                                   const std::map<std::string, std::string>& headers = {});

}  // namespace mydocker::api::server::testing
