// SPDX-License-Identifier: Apache-2.0
#include "image/registry/auth.h"

#include <nlohmann/json.hpp>

#include "runtime/base/file.h"
#include "runtime/base/strings.h"

namespace mydocker::image::registry {

using base::ErrorCode;
using base::make_error;

namespace {

bool is_tchar(char c) {
  // RFC 7230 token characters.
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
    return true;
  }
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

class ChallengeParser {
 public:
  explicit ChallengeParser(std::string_view text) : s_(text) {}

  base::Result<std::vector<Challenge>> run() {
    std::vector<Challenge> out;
    skip_ws_commas();
    if (at_end()) {
      return fail("empty header");
    }
    while (!at_end()) {
      Challenge c;
      std::string scheme = token();
      if (scheme.empty()) {
        return fail(fmt::format("expected an auth scheme at offset {}", pos_));
      }
      c.scheme = base::ascii_lower(scheme);
      skip_ws();
      // Parameters: name=value pairs separated by commas, until a token not followed by '='
      // (the next challenge's scheme) or the end.
      while (!at_end()) {
        size_t save = pos_;
        std::string name = token();
        if (name.empty()) {
          return fail(fmt::format("unexpected `{}` at offset {}", s_[pos_], pos_));
        }
        skip_ws();
        if (at_end() || s_[pos_] != '=') {
          pos_ = save;  // a new challenge starts here
          break;
        }
        ++pos_;  // '='
        skip_ws();
        if (at_end() || s_[pos_] == ',') {
          return fail(fmt::format("missing value for `{}`", name));
        }
        std::string value;
        if (s_[pos_] == '"') {
          ++pos_;
          bool closed = false;
          while (!at_end()) {
            char ch = s_[pos_++];
            if (ch == '\\' && !at_end()) {
              value += s_[pos_++];
            } else if (ch == '"') {
              closed = true;
              break;
            } else {
              value += ch;
            }
          }
          if (!closed) {
            return fail(fmt::format("unterminated quoted value for `{}`", name));
          }
        } else {
          value = token();
          if (value.empty()) {
            return fail(fmt::format("bad value for `{}`", name));
          }
        }
        c.params[base::ascii_lower(name)] = value;
        skip_ws();
        if (at_end()) {
          break;
        }
        if (s_[pos_] != ',') {
          return fail(fmt::format("expected `,` after `{}` at offset {}", name, pos_));
        }
        skip_ws_commas();
      }
      out.push_back(std::move(c));
      skip_ws_commas();
    }
    for (const Challenge& c : out) {
      if (c.scheme == "bearer") {
        std::string realm = c.param("realm");
        if (realm.empty()) {
          return fail("bearer challenge without `realm`");
        }
        if (!realm.starts_with("https://") && !realm.starts_with("http://")) {
          return fail(fmt::format("bearer realm `{}` is not an http(s) URL", realm));
        }
      }
    }
    return out;
  }

 private:
  bool at_end() const { return pos_ >= s_.size(); }
  void skip_ws() {
    while (!at_end() && (s_[pos_] == ' ' || s_[pos_] == '\t')) {
      ++pos_;
    }
  }
  void skip_ws_commas() {
    while (!at_end() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == ',')) {
      ++pos_;
    }
  }
  std::string token() {
    size_t start = pos_;
    while (!at_end() && is_tchar(s_[pos_])) {
      ++pos_;
    }
    return std::string(s_.substr(start, pos_ - start));
  }
  base::Error fail(const std::string& why) const {
    return base::Error(ErrorCode::InvalidArgument,
                       fmt::format("malformed WWW-Authenticate header `{}`: {}", s_, why));
  }

  std::string_view s_;
  size_t pos_ = 0;
};

constexpr std::string_view kB64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

}  // namespace

std::string Challenge::param(const std::string& name) const {
  auto it = params.find(name);
  return it == params.end() ? std::string() : it->second;
}

base::Result<std::vector<Challenge>> parse_challenges(std::string_view header) {
  return ChallengeParser(header).run();
}

std::string base64_encode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    uint32_t v = (static_cast<uint8_t>(data[i]) << 16) | (static_cast<uint8_t>(data[i + 1]) << 8) |
                 static_cast<uint8_t>(data[i + 2]);
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  if (i + 1 == data.size()) {
    uint32_t v = static_cast<uint8_t>(data[i]) << 16;
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == data.size()) {
    uint32_t v = (static_cast<uint8_t>(data[i]) << 16) | (static_cast<uint8_t>(data[i + 1]) << 8);
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

base::Result<std::string> base64_decode(std::string_view text) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  size_t pad = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '+' || c == '-') {
      v = 62;
    } else if (c == '/' || c == '_') {
      v = 63;
    } else if (c == '=') {
      ++pad;
      continue;
    } else if (c == '\n' || c == '\r') {
      continue;
    } else {
      return make_error(ErrorCode::InvalidArgument, "illegal base64 data");
    }
    if (pad != 0) {
      return make_error(ErrorCode::InvalidArgument, "illegal base64 data");
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  if (pad > 2) {
    return make_error(ErrorCode::InvalidArgument, "illegal base64 data");
  }
  return out;
}

std::string normalize_registry_host(std::string_view key) {
  std::string_view k = key;
  if (k.starts_with("https://")) {
    k.remove_prefix(8);
  } else if (k.starts_with("http://")) {
    k.remove_prefix(7);
  }
  if (size_t slash = k.find('/'); slash != std::string_view::npos) {
    k = k.substr(0, slash);
  }
  std::string host = base::ascii_lower(k);
  if (host == "index.docker.io" || host == "registry-1.docker.io") {
    return "docker.io";
  }
  return host;
}

base::Result<AuthConfigs> AuthConfigs::parse(std::string_view json) {
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return make_error(ErrorCode::InvalidArgument, "invalid auth config: not a JSON object");
  }
  AuthConfigs out;
  if (!j.contains("auths")) {
    return out;
  }
  const auto& auths = j["auths"];
  if (!auths.is_object()) {
    return make_error(ErrorCode::InvalidArgument, "invalid auth config: `auths` is not an object");
  }
  for (const auto& [key, entry] : auths.items()) {
    if (!entry.is_object()) {
      return make_error(ErrorCode::InvalidArgument, "invalid auth config: `auths.{}`", key);
    }
    Credentials c;
    if (entry.contains("auth") && entry["auth"].is_string() &&
        !entry["auth"].get<std::string>().empty()) {
      auto decoded = base64_decode(entry["auth"].get<std::string>());
      if (!decoded) {
        return make_error(ErrorCode::InvalidArgument, "invalid auth config: `auths.{}.auth`: {}",
                          key, decoded.error().message());
      }
      size_t colon = decoded->find(':');
      if (colon == std::string::npos) {
        return make_error(ErrorCode::InvalidArgument,
                          "invalid auth config: `auths.{}.auth`: not `user:password`", key);
      }
      c.username = decoded->substr(0, colon);
      c.password = decoded->substr(colon + 1);
    } else {
      if (entry.contains("username") && entry["username"].is_string()) {
        c.username = entry["username"].get<std::string>();
      }
      if (entry.contains("password") && entry["password"].is_string()) {
        c.password = entry["password"].get<std::string>();
      }
    }
    if (entry.contains("identitytoken") && entry["identitytoken"].is_string()) {
      c.identity_token = entry["identitytoken"].get<std::string>();
    }
    out.auths_[normalize_registry_host(key)] = std::move(c);
  }
  return out;
}

base::Result<AuthConfigs> AuthConfigs::load(const std::string& path) {
  auto text = base::read_file(path);
  if (!text) {
    if (text.error().code() == ErrorCode::NotFound) {
      return AuthConfigs();
    }
    return std::move(text).error();
  }
  return MYDOCKER_TRY_CTX(parse(*text), "`{}`", path);
}

std::optional<Credentials> AuthConfigs::find(std::string_view host) const {
  auto it = auths_.find(normalize_registry_host(host));
  if (it == auths_.end()) {
    return std::nullopt;
  }
  return it->second;
}

void AuthConfigs::set(std::string_view host, Credentials creds) {
  auths_[normalize_registry_host(host)] = std::move(creds);
}

bool AuthConfigs::erase(std::string_view host) {
  return auths_.erase(normalize_registry_host(host)) != 0;
}

std::string AuthConfigs::serialize(std::string_view base) const {
  auto j = nlohmann::json::parse(base, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    j = nlohmann::json::object();
  }
  nlohmann::json auths = nlohmann::json::object();
  for (const auto& [host, c] : auths_) {
    // Docker Hub keeps its historical key, which the docker CLI looks up.
    std::string key = host == "docker.io" ? "https://index.docker.io/v1/" : host;
    nlohmann::json e = nlohmann::json::object();
    if (!c.username.empty() || !c.password.empty()) {
      e["auth"] = base64_encode(c.username + ":" + c.password);
    }
    if (!c.identity_token.empty()) {
      e["identitytoken"] = c.identity_token;
    }
    auths[key] = e;
  }
  j["auths"] = auths;
  return j.dump(1, '\t') + "\n";
}

base::Result<Token> parse_token_response(std::string_view json,
                                         std::chrono::steady_clock::time_point now) {
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return make_error(ErrorCode::InvalidArgument, "invalid token response: not a JSON object");
  }
  Token t;
  if (j.contains("token") && j["token"].is_string()) {
    t.value = j["token"].get<std::string>();
  }
  if (t.value.empty() && j.contains("access_token") && j["access_token"].is_string()) {
    t.value = j["access_token"].get<std::string>();
  }
  if (t.value.empty()) {
    return make_error(ErrorCode::InvalidArgument,
                      "authorization server did not include a token in the response");
  }
  int64_t expires_in = 60;
  if (j.contains("expires_in") && j["expires_in"].is_number_integer()) {
    expires_in = std::max<int64_t>(60, j["expires_in"].get<int64_t>());
  }
  t.expires = now + std::chrono::seconds(expires_in);
  return t;
}

std::optional<std::string> TokenCache::get(const std::string& key,
                                           std::chrono::steady_clock::time_point now) const {
  std::lock_guard lock(mu_);
  auto it = tokens_.find(key);
  if (it == tokens_.end() || it->second.expires - std::chrono::seconds(10) <= now) {
    return std::nullopt;
  }
  return it->second.value;
}

void TokenCache::put(const std::string& key, Token token) {
  std::lock_guard lock(mu_);
  tokens_[key] = std::move(token);
}

void TokenCache::clear() {
  std::lock_guard lock(mu_);
  tokens_.clear();
}

std::string TokenCache::key(std::string_view realm, std::string_view service,
                            std::string_view scope) {
  return fmt::format("{}\n{}\n{}", realm, service, scope);
}

}  // namespace mydocker::image::registry
