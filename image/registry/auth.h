// SPDX-License-Identifier: Apache-2.0
// Registry authentication pieces that need no network: the 401 challenge
// (`WWW-Authenticate: Bearer realm="...",service="...",scope="..."` or `Basic realm="..."`,
// RFC 7235), Docker-style credential files (`~/.docker/config.json`: {"auths": {"<registry>":
// {"auth": base64("user:password")}}}), token responses of a Docker token server, and the
// per-scope token cache.
//
// All errors are ErrorCode::InvalidArgument and name the bad input, e.g.
//   "malformed WWW-Authenticate header `Bearer realm=`: missing value for `realm`".
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/error.h"

namespace mydocker::image::registry {

// One authentication challenge. `scheme` is lower case ("bearer", "basic"); parameter names are
// lower case, values unquoted.
struct Challenge {
  std::string scheme;
  std::map<std::string, std::string> params;
  std::string param(const std::string& name) const;  // "" when absent
};

// Parses a WWW-Authenticate header value (one or more challenges, comma separated). An empty
// value, a parameter without a value, an unterminated quoted string or stray characters are
// errors. A Bearer challenge must carry `realm`, and the realm must be an http(s) URL.
base::Result<std::vector<Challenge>> parse_challenges(std::string_view header);

struct Credentials {
  std::string username;
  std::string password;
  // An OAuth refresh token (Docker's `identitytoken`), kept for callers; not used for Basic.
  std::string identity_token;
  bool empty() const { return username.empty() && password.empty() && identity_token.empty(); }
};

std::string base64_encode(std::string_view data);
// Standard alphabet; padding optional; also accepts the URL-safe alphabet (X-Registry-Auth is
// URL-safe base64). InvalidArgument for other characters.
base::Result<std::string> base64_decode(std::string_view text);

// The registry host a config.json key names, as Docker's ConvertToHostname: the scheme and any
// path are dropped ("https://index.docker.io/v1/" -> "index.docker.io"); Docker Hub's aliases
// (index.docker.io, registry-1.docker.io) become "docker.io".
std::string normalize_registry_host(std::string_view key);

// The `auths` of a Docker config.json.
class AuthConfigs {
 public:
  AuthConfigs() = default;
  // Errors: not JSON, `auths` not an object, an `auth` that is not base64 of "user:password".
  static base::Result<AuthConfigs> parse(std::string_view json);
  // A missing file is an empty set; other read errors are returned.
  static base::Result<AuthConfigs> load(const std::string& path);

  // Credentials for a registry host ("localhost:5000", "docker.io"); nullopt when none.
  std::optional<Credentials> find(std::string_view host) const;
  void set(std::string_view host, Credentials creds);
  bool erase(std::string_view host);
  // The config.json document with these `auths` (other top-level keys of `base` kept).
  std::string serialize(std::string_view base = "{}") const;
  size_t size() const { return auths_.size(); }

 private:
  std::map<std::string, Credentials> auths_;  // by normalised host
};

// A token server's answer (Docker's token spec): `token` or `access_token`, `expires_in`
// (seconds; less than 60 or absent means 60, as Docker), `issued_at` is ignored (we measure from
// receipt). Errors: not JSON; neither token field.
struct Token {
  std::string value;
  std::chrono::steady_clock::time_point expires;
};
base::Result<Token> parse_token_response(std::string_view json,
                                         std::chrono::steady_clock::time_point now);

// Bearer tokens by (realm, service, scope). A token is reused until 10 s before it expires.
// Thread-safe.
class TokenCache {
 public:
  std::optional<std::string> get(const std::string& key,
                                 std::chrono::steady_clock::time_point now) const;
  void put(const std::string& key, Token token);
  void clear();
  static std::string key(std::string_view realm, std::string_view service, std::string_view scope);

 private:
  mutable std::mutex mu_;
  std::map<std::string, Token> tokens_;
};

}  // namespace mydocker::image::registry
