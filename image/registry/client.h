// SPDX-License-Identifier: Apache-2.0
// A client of one registry (the OCI distribution API v2 / Docker Registry HTTP API v2):
// ping, manifests, blobs, uploads, cross-repository mounts and tag lists, with the
// authentication dance and retries done here so callers (pull.h, push.h) speak in repository
// operations.
//
// Endpoint: https://<host> for every registry; a registry listed in
// RegistryOptions::insecure_registries (host[:port] or CIDR) or on a loopback address
// (localhost, 127.0.0.0/8, ::1, as Docker) is tried over https without verification first and
// then over plain http (Docker's order). The first ping picks the scheme for the client's
// life. Docker Hub (docker.io) is served by registry-1.docker.io. A client made for a mirror
// (the `endpoint` constructor argument, "https://mirror:5000" or "http://10.0.0.2:5000", a
// path prefix allowed) speaks to that URL with its scheme as given (no fallback between
// schemes; https unverified only when the mirror's host is insecure), reading the same
// repositories; mirrors.h chooses and falls back between endpoints.
//
// Proxies: HttpClient's (http.h: the environment as Go reads it), or RegistryOptions::proxy.
//
// TLS: <certs_dir>/<host[:port]>/ (Docker's certs.d layout): every *.crt is a trusted root
// (added to the system ones), a *.cert with the *.key of the same stem is the client pair.
//
// Auth (the ping learns the challenge): Basic sends the credentials on every request; Bearer
// gets a token from the realm for the request's scope ("repository:<path>:pull[,push]") with
// the credentials (if any) as Basic auth, caches it per (realm, service, scope) until it
// expires, and retries a request once on 401 with a fresh token.
//
// Retries: 5xx answers and dropped connections are retried `retries` times with exponential
// backoff (retry_backoff, doubling); requests with a streamed body are not (the caller
// restarts them).
//
// Errors carry Docker's texts: registry error bodies ({"errors":[{"code","message"}]}) become
// "manifest unknown: manifest unknown", "unauthorized: authentication required",
// "denied: requested access to the resource is denied", ...; HTTP statuses map to
// NotFound (404), Unauthorized (401), PermissionDenied (403), Unavailable (5xx after retries),
// InvalidArgument (other 4xx). Without credentials, a Basic challenge is
// "no basic auth credentials" (Unauthorized), as Docker.
//
// Thread-safety: all methods may be called from many threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "image/digest/digest.h"
#include "image/registry/auth.h"
#include "image/registry/http.h"
#include "runtime/base/error.h"

namespace mydocker::image::registry {

// The Accept header of manifest requests: every manifest and index type we read.
extern const char* const kManifestAccept;

struct RegistryOptions {
  std::vector<std::string> insecure_registries;  // "host:port", "host" or CIDR "10.0.0.0/8"
  // Loopback registries (localhost, 127.0.0.0/8, ::1) count as insecure, as in Docker.
  bool loopback_insecure = true;
  std::string certs_dir = "/etc/mydocker/certs.d";
  // Credentials for a registry host (normalised, e.g. "localhost:5000", "docker.io"); empty
  // callback or nullopt: anonymous.
  std::function<std::optional<Credentials>(const std::string& host)> credentials;
  // Pull mirrors (mirrors.h): `mirrors` for docker.io (daemon.json "registry-mirrors"),
  // `host_mirrors` for any other registry host ("registry-host-mirrors"). URLs with a scheme.
  std::vector<std::string> mirrors;
  std::map<std::string, std::vector<std::string>> host_mirrors;
  // nullopt: the process environment (ProxyConfig::from_environment()).
  std::optional<ProxyConfig> proxy;
  int retries = 3;
  std::chrono::milliseconds retry_backoff{200};
  std::string user_agent = "mydocker/0.1";
};

// A fetched manifest (or index) document.
struct ManifestResponse {
  std::string bytes;       // as served; its digest is verified
  std::string media_type;  // Content-Type, or detected from the document when missing
  Digest digest;           // sha256 of `bytes`
};

// Where an upload continues (the Location of the last answer).
struct UploadSession {
  std::string location;  // absolute URL
};

class Client {
 public:
  // `host` is a reference domain ("localhost:5000", "docker.io"). Nothing is sent yet.
  // `endpoint`: "" for the registry itself, else a mirror's URL (scheme://host[:port][/path]).
  Client(std::string host, RegistryOptions options, std::string endpoint = "");
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const std::string& host() const { return host_; }
  // The mirror URL this client speaks to; "" for the registry itself.
  const std::string& endpoint() const { return endpoint_; }
  const RegistryOptions& options() const { return options_; }
  // "https://host" or "http://host" once pinged; ping() if not yet.
  base::Result<std::string> base_url();

  // GET /v2/: picks the scheme and learns the auth challenge. A 401 is not an error here.
  base::Result<void> ping();
  // Checks the credentials (`docker login`): ping, then a token (Bearer) or an authenticated
  // GET /v2/ (Basic). Errors: "login attempt to <url>/v2/ failed with status: 401 Unauthorized"
  // (Unauthorized).
  base::Result<void> login();

  // `reference` is a tag or a digest. Verifies the digest: against `reference` when it is one,
  // else against the Docker-Content-Digest header when present.
  base::Result<ManifestResponse> get_manifest(const std::string& repo,
                                              const std::string& reference);
  // HEAD: the digest (Docker-Content-Digest), NotFound when absent.
  base::Result<Digest> head_manifest(const std::string& repo, const std::string& reference);
  // PUT; returns the digest the registry reports (checked against the bytes').
  base::Result<Digest> put_manifest(const std::string& repo, const std::string& reference,
                                    const std::string& media_type, const std::string& bytes);

  // GET a blob as a stream, from byte `offset` on (Range; a registry that ignores it answers
  // 200 and the stream skips `offset` bytes itself). The digest is NOT verified here.
  base::Result<std::unique_ptr<HttpStream>> open_blob(const std::string& repo, const Digest& d,
                                                      int64_t offset = 0);
  // A small blob (config), verified against `d`.
  base::Result<std::string> get_blob(const std::string& repo, const Digest& d,
                                     size_t limit = 16 << 20);
  // HEAD: the size when present, nullopt when the registry does not have it.
  base::Result<std::optional<int64_t>> blob_exists(const std::string& repo, const Digest& d);

  // POST .../blobs/uploads/ ; with `mount_from`, tries a cross-repository mount first: returns
  // nullopt when the blob was mounted (201), else the upload session (202).
  base::Result<std::optional<UploadSession>> start_upload(const std::string& repo,
                                                          const Digest* mount,
                                                          const std::string& mount_from);
  // PATCH one chunk (bytes [offset, offset+size) of the blob) from `src`.
  base::Result<UploadSession> upload_chunk(const std::string& repo, const UploadSession& s,
                                           layers::ByteSource& src, int64_t offset, int64_t size);
  // PUT ?digest=: with the whole blob (`src`, `size` bytes) or, after chunks, no body.
  base::Result<void> finish_upload(const std::string& repo, const UploadSession& s, const Digest& d,
                                   layers::ByteSource* src, int64_t size);

  // GET /v2/<repo>/tags/list (following Link pagination).
  base::Result<std::vector<std::string>> list_tags(const std::string& repo);

  // How many token requests were sent (tests of the cache).
  uint64_t token_requests() const;

 private:
  struct Call {
    HttpRequest req;
    std::vector<std::string> scopes;  // token scopes this request needs
  };
  // One request with auth, the 401 retry and (for bodies held in memory) retries with
  // backoff. Returns any HTTP status; callers judge it.
  base::Result<std::unique_ptr<HttpStream>> send(Call call);
  base::Result<HttpResponse> send_all(Call call, size_t limit = 16 << 20);
  base::Result<std::optional<std::string>> authorization(const std::vector<std::string>& scopes,
                                                         bool force_new);
  base::Result<std::string> fetch_token(const Challenge& c, const std::vector<std::string>& scopes);
  TlsConfig tls_for(bool https) const;
  bool insecure_allowed() const;
  std::string url(std::string_view path);
  std::string resolve_location(const std::string& location);
  // The error for a non-2xx answer, from the registry's JSON errors when it sent some.
  base::Error status_error(const HttpResponse& r, std::string_view what) const;

  const std::string host_;
  const std::string endpoint_;       // a mirror's URL (no trailing "/"), or ""
  const std::string endpoint_host_;  // registry-1.docker.io for docker.io; the mirror's host
  const RegistryOptions options_;
  HttpClient http_;
  TokenCache tokens_;
  std::optional<Credentials> creds_;
  TlsConfig tls_;  // from certs.d

  mutable std::mutex mu_;
  bool pinged_ = false;
  std::string base_url_;
  std::optional<Challenge> challenge_;  // bearer or basic, from the ping
  uint64_t token_requests_ = 0;
};

// Docker's text for a registry's JSON error body ("manifest unknown: manifest unknown", joined
// by ", " when there are several); "" when the body is not such a document.
std::string registry_error_text(std::string_view body);

// Whether `host` ("h", "h:port") is insecure under `insecure` (entries "h", "h:port" or CIDRs)
// or, when `loopback` is set, a loopback host.
bool is_insecure_host(std::string_view host, const std::vector<std::string>& insecure,
                      bool loopback = true);

}  // namespace mydocker::image::registry
