// SPDX-License-Identifier: Apache-2.0
// The server's own request and response types. Handlers see these only, never cpp-httplib's,
// so the transport can change (hijacked attach, another HTTP library) without touching them.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/wire/query.h"
#include "api/wire/version.h"
#include "runtime/base/error.h"
#include "runtime/base/fd.h"

namespace mydocker::api::server {

struct CaseInsensitiveLess {
  bool operator()(std::string_view a, std::string_view b) const;
};
using Headers = std::multimap<std::string, std::string, CaseInsensitiveLess>;

// Pushes the request body to `receiver` chunk by chunk (stream routes); false when the client
// went away or `receiver` returned false.
using BodyReceiver = std::function<bool(std::string_view chunk)>;
using BodyReader = std::function<bool(const BodyReceiver& receiver)>;

struct Request {
  std::string method;                         // "GET", "HEAD" is served by GET routes
  std::string path;                           // decoded, version prefix removed
  std::map<std::string, std::string> params;  // path parameters ({name})
  wire::Query query;                          // decoded query
  Headers headers;
  std::string body;          // JSON/empty routes: the whole body (size-limited)
  BodyReader body_reader;    // stream routes only: the body, unbuffered
  wire::ApiVersion version;  // from the /vX.Y prefix, else the server's own
  // Upgrade routes (attach, exec start): writes `head`'s content type and headers as the
  // upgrade answer ("101 UPGRADED" with Connection/Upgrade headers, or "200 OK" for a client
  // that did not ask to upgrade, as dockerd) and hands the raw connection over; the transport
  // then forgets it. A head whose status is neither 200 nor 101 is written as that status
  // with `head.body` after it (dockerd's raw attach errors). Called at most once; unset on
  // other routes.
  std::function<base::Result<base::Fd>(const struct Response& head)> hijack;

  std::string param(const std::string& name) const;
  std::optional<std::string> query_value(const std::string& key) const;  // first value
  std::vector<std::string> query_values(const std::string& key) const;
  bool query_bool(const std::string& key, bool fallback = false) const;  // Docker's BoolValue
  std::string header(const std::string& key) const;                      // "" when absent
};

// Writes one piece of a streamed body (flushed as its own HTTP chunk). False when the client
// went away: the handler should stop.
class StreamWriter {
 public:
  virtual ~StreamWriter() = default;
  virtual bool write(std::string_view data) = 0;
  // Whether the client is still connected (it may have closed its end while nothing was
  // written). Cheap: poll it every few hundred ms while idle.
  virtual bool alive() = 0;
};

struct Response {
  int status = 200;
  std::string content_type;  // "" -> no Content-Type header
  Headers headers;           // extra headers
  std::string body;
  // When set, the body is streamed (chunked): headers are sent at once, then this runs on the
  // connection's thread. Blocking calls (wait, logs --follow) live here.
  std::function<void(StreamWriter&)> stream;

  void json(int code, std::string text);  // application/json, text + "\n"
  void empty(int code);                   // no body, no Content-Type
};

}  // namespace mydocker::api::server
