// SPDX-License-Identifier: Apache-2.0
// A small HTTP/1.1 client over libcurl for the registry code: one request at a time per
// stream, bodies pulled by the caller (HttpStream is a layers::ByteSource, so a blob can flow
// from the socket straight into sha256 -> decompress -> unpack with no thread and no file in
// between), uploads pushed from a string or a ByteSource.
//
// Connections: each transfer runs on a handle (a curl easy handle inside its own multi handle,
// whose connection cache keeps idle connections alive) taken from a small pool and returned
// when the stream is destroyed, so consecutive requests to one host reuse a connection
// (keep-alive). libcurl cannot share one connection cache across threads safely, hence one
// cache per handle.
//
// TLS: peer verification on by default against the system CAs plus the extra PEM roots of the
// request's TlsConfig; client certificate and key files when given; verification off only
// when TlsConfig::insecure (the caller decides: configured insecure registries).
//
// Proxies: as Docker (Go's http.ProxyFromEnvironment), not as libcurl's own environment
// handling: HTTPS_PROXY/https_proxy for https URLs, HTTP_PROXY/http_proxy for http URLs (the
// upper-case name first; libcurl would ignore upper-case HTTP_PROXY), NO_PROXY/no_proxy, and
// loopback hosts (localhost, 127.0.0.0/8, ::1) never proxied. Every request sets CURLOPT_PROXY
// and CURLOPT_NOPROXY itself, so libcurl never reads the environment. The token realm's
// requests go through the same rules.
//
// Errors (ErrorCode::Unavailable unless said otherwise) are worded as Docker's Go client words
// them, since users see them verbatim:
//   `Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused`
//   `Get "https://host:5000/v2/": x509: certificate signed by unknown authority`
// HttpError::retryable tells the caller whether a retry may help (dropped connections, time
// outs), see is_retryable().
//
// Thread-safety: HttpClient may be used from many threads; an HttpStream by one at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "image/layers/source.h"
#include "runtime/base/error.h"

namespace mydocker::image::registry {

struct TlsConfig {
  bool insecure = false;     // no peer or host verification
  std::string extra_ca_pem;  // PEM roots trusted in addition to the system's
  std::string client_cert;   // PEM file
  std::string client_key;    // PEM file
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  // Body: `body` (sent when the method is not GET/HEAD), or `body_source` streamed
  // (`body_size` bytes, or chunked transfer encoding when -1).
  std::string body;
  layers::ByteSource* body_source = nullptr;
  int64_t body_size = -1;
  bool follow_redirects = true;
  TlsConfig tls;
};

struct HttpResponse {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // of the final response
  std::string body;
  std::string effective_url;
  // First header with this name (case-insensitive); "" when absent.
  std::string header(std::string_view name) const;
  // Every value of this header.
  std::vector<std::string> header_values(std::string_view name) const;
};

// Proxy settings (Go's httpproxy.Config). A proxy without a scheme is http://.
struct ProxyConfig {
  std::string http_proxy;   // for http:// URLs
  std::string https_proxy;  // for https:// URLs
  // Comma-separated: "*" (no proxy at all), IPs and CIDRs ("10.0.0.0/8"), domains
  // ("example.com" matches it and its subdomains, ".example.com" only subdomains), each with
  // an optional ":port".
  std::string no_proxy;

  // HTTP_PROXY/http_proxy, HTTPS_PROXY/https_proxy, NO_PROXY/no_proxy of this process.
  static ProxyConfig from_environment();
  // The proxy URL for a request to `url`; "" for a direct connection.
  std::string proxy_for(std::string_view url) const;
};

// Transport errors whose retry may succeed: connection reset or closed, nothing received,
// partial body, timeouts. Connection refused is not (Docker fails at once too).
bool is_retryable(const base::Error& e);

class HttpClient;

// One transfer. open() returns once the final response's status and headers are in; read()
// then yields the body. The transfer is aborted when the stream is destroyed early.
class HttpStream final : public layers::ByteSource {
 public:
  ~HttpStream() override;
  HttpStream(const HttpStream&) = delete;
  HttpStream& operator=(const HttpStream&) = delete;

  long status() const { return response_.status; }
  const HttpResponse& response() const { return response_; }  // body not filled
  std::string header(std::string_view name) const { return response_.header(name); }
  // Content-Length of the body; -1 when unknown.
  int64_t content_length() const;

  base::Result<size_t> read(std::span<std::byte> buf) override;
  // The rest of the body, at most `limit` bytes (InvalidArgument beyond).
  base::Result<std::string> read_all(size_t limit);

 private:
  friend class HttpClient;
  struct Handle;
  HttpStream(HttpClient& client, std::unique_ptr<Handle> handle);
  base::Result<void> start(const HttpRequest& req);
  // Runs the transfer until `want` holds or it ends.
  base::Result<void> drive(bool until_headers);
  base::Error transfer_error(int code) const;

  HttpClient& client_;
  std::unique_ptr<Handle> h_;
  HttpResponse response_;
  std::string method_;
  std::string url_;
};

class HttpClient {
 public:
  // `proxy`: nullopt reads the environment now (ProxyConfig::from_environment()).
  explicit HttpClient(std::string user_agent = "mydocker",
                      std::optional<ProxyConfig> proxy = std::nullopt);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  base::Result<std::unique_ptr<HttpStream>> open(const HttpRequest& req);
  // open() + the whole body (at most `limit` bytes).
  base::Result<HttpResponse> perform(const HttpRequest& req, size_t limit = 16 << 20);

  // Connections opened so far (for tests of keep-alive).
  uint64_t connections_opened() const;

 private:
  friend class HttpStream;
  std::unique_ptr<HttpStream::Handle> take_handle();
  void give_back(std::unique_ptr<HttpStream::Handle> h);

  std::string user_agent_;
  ProxyConfig proxy_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<HttpStream::Handle>> idle_;
  uint64_t connections_ = 0;
};

}  // namespace mydocker::image::registry
