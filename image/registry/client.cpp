// SPDX-License-Identifier: Apache-2.0
#include "image/registry/client.h"

#include <arpa/inet.h>
#include <dirent.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <thread>

#include "image/content/manifest.h"
#include "runtime/base/file.h"
#include "runtime/base/strings.h"

namespace mydocker::image::registry {

using base::ErrorCode;
using base::make_error;

const char* const kManifestAccept =
    "application/vnd.docker.distribution.manifest.v2+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.oci.image.index.v1+json";

namespace {

std::string url_escape(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string_view host_part(std::string_view hostport) {
  if (hostport.starts_with("[")) {
    size_t end = hostport.find(']');
    return end == std::string_view::npos ? hostport : hostport.substr(1, end - 1);
  }
  size_t colon = hostport.rfind(':');
  if (colon != std::string_view::npos && hostport.find(':') == colon) {
    return hostport.substr(0, colon);
  }
  return hostport;
}

bool in_cidr(std::string_view host, std::string_view cidr) {
  size_t slash = cidr.find('/');
  if (slash == std::string_view::npos) {
    return false;
  }
  auto bits = base::parse_int64(cidr.substr(slash + 1));
  in_addr net{};
  in_addr addr{};
  if (!bits || *bits < 0 || *bits > 32 ||
      ::inet_pton(AF_INET, std::string(cidr.substr(0, slash)).c_str(), &net) != 1 ||
      ::inet_pton(AF_INET, std::string(host).c_str(), &addr) != 1) {
    return false;
  }
  uint32_t mask = *bits == 0 ? 0 : ~uint32_t{0} << (32 - *bits);
  return (ntohl(net.s_addr) & mask) == (ntohl(addr.s_addr) & mask);
}

long status_class(long s) {
  return s / 100;
}

std::string status_text(long s) {
  switch (s) {
    case 400:
      return "400 Bad Request";
    case 401:
      return "401 Unauthorized";
    case 403:
      return "403 Forbidden";
    case 404:
      return "404 Not Found";
    case 405:
      return "405 Method Not Allowed";
    case 416:
      return "416 Requested Range Not Satisfiable";
    case 429:
      return "429 Too Many Requests";
    case 500:
      return "500 Internal Server Error";
    case 502:
      return "502 Bad Gateway";
    case 503:
      return "503 Service Unavailable";
    case 504:
      return "504 Gateway Timeout";
    default:
      return std::to_string(s);
  }
}

ErrorCode code_for_status(long s) {
  switch (s) {
    case 401:
      return ErrorCode::Unauthorized;
    case 403:
      return ErrorCode::PermissionDenied;
    case 404:
      return ErrorCode::NotFound;
    default:
      return s >= 500 ? ErrorCode::Unavailable : ErrorCode::InvalidArgument;
  }
}

// Docker's certs.d: *.crt roots, *.cert + *.key client pairs.
TlsConfig load_certs_dir(const std::string& dir) {
  TlsConfig tls;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return tls;
  }
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(d)) {
    names.emplace_back(e->d_name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) {
    if (n.ends_with(".crt")) {
      if (auto pem = base::read_file(dir + "/" + n)) {
        tls.extra_ca_pem += *pem;
        if (!tls.extra_ca_pem.empty() && tls.extra_ca_pem.back() != '\n') {
          tls.extra_ca_pem += '\n';
        }
      }
    } else if (n.ends_with(".cert") && tls.client_cert.empty()) {
      std::string key = dir + "/" + n.substr(0, n.size() - 5) + ".key";
      if (base::path_exists(key)) {
        tls.client_cert = dir + "/" + n;
        tls.client_key = key;
      }
    }
  }
  return tls;
}

std::string go_method(std::string_view m) {
  std::string out(m);
  for (size_t i = 1; i < out.size(); ++i) {
    if (out[i] >= 'A' && out[i] <= 'Z') {
      out[i] = static_cast<char>(out[i] - 'A' + 'a');
    }
  }
  return out;
}

}  // namespace

std::string registry_error_text(std::string_view body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("errors") || !j["errors"].is_array()) {
    return {};
  }
  std::vector<std::string> parts;
  for (const auto& e : j["errors"]) {
    if (!e.is_object()) {
      continue;
    }
    std::string code = e.value("code", "");
    std::string message = e.value("message", "");
    std::string lc;
    for (char c : code) {
      lc += c == '_' ? ' ' : static_cast<char>((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
    }
    if (lc.empty()) {
      parts.push_back(message);
    } else if (message.empty()) {
      parts.push_back(lc);
    } else {
      parts.push_back(lc + ": " + message);
    }
  }
  return base::join(parts, ", ");
}

bool is_insecure_host(std::string_view host, const std::vector<std::string>& insecure,
                      bool loopback) {
  std::string_view h = host_part(host);
  if (loopback && (h == "localhost" || h == "::1" || h.starts_with("127."))) {
    return true;
  }
  for (const std::string& entry : insecure) {
    std::string_view e = entry;
    if (e.starts_with("http://")) {
      e.remove_prefix(7);
    } else if (e.starts_with("https://")) {
      e.remove_prefix(8);
    }
    while (e.ends_with("/")) {
      e.remove_suffix(1);
    }
    if (e == host || (e.find('/') == std::string_view::npos && e == h && host == h)) {
      return true;
    }
    if (e.find('/') != std::string_view::npos && in_cidr(h, e)) {
      return true;
    }
  }
  return false;
}

namespace {
std::string trim_slashes(std::string s) {
  while (s.ends_with("/")) {
    s.pop_back();
  }
  return s;
}
// "host[:port]" of a URL.
std::string url_host(std::string_view url) {
  if (size_t p = url.find("://"); p != std::string_view::npos) {
    url.remove_prefix(p + 3);
  }
  url = url.substr(0, url.find_first_of("/?#"));
  if (size_t at = url.rfind('@'); at != std::string_view::npos) {
    url.remove_prefix(at + 1);
  }
  return std::string(url);
}
}  // namespace

Client::Client(std::string host, RegistryOptions options, std::string endpoint)
    : host_(std::move(host)),
      endpoint_(trim_slashes(std::move(endpoint))),
      endpoint_host_(!endpoint_.empty()     ? url_host(endpoint_)
                     : host_ == "docker.io" ? "registry-1.docker.io"
                                            : host_),
      options_(std::move(options)),
      http_(options_.user_agent, options_.proxy) {
  if (options_.credentials) {
    creds_ = options_.credentials(host_);
    if (creds_ && creds_->empty()) {
      creds_.reset();
    }
  }
  tls_ = load_certs_dir(options_.certs_dir + "/" + (endpoint_.empty() ? host_ : endpoint_host_));
}

Client::~Client() = default;

bool Client::insecure_allowed() const {
  return is_insecure_host(endpoint_.empty() ? host_ : endpoint_host_, options_.insecure_registries,
                          options_.loopback_insecure);
}

TlsConfig Client::tls_for(bool https) const {
  TlsConfig t = tls_;
  if (https && insecure_allowed()) {
    t.insecure = true;
  }
  return t;
}

uint64_t Client::token_requests() const {
  std::lock_guard lock(mu_);
  return token_requests_;
}

base::Result<void> Client::ping() {
  {
    std::lock_guard lock(mu_);
    if (pinged_) {
      return base::ok();
    }
  }
  std::vector<std::string> schemes = {"https"};
  if (!endpoint_.empty()) {
    schemes = {endpoint_.substr(0, endpoint_.find("://"))};
  } else if (insecure_allowed()) {
    schemes.push_back("http");
  }
  std::optional<base::Error> last;
  for (const std::string& scheme : schemes) {
    std::string base = endpoint_.empty() ? scheme + "://" + endpoint_host_ : endpoint_;
    HttpRequest req;
    req.url = base + "/v2/";
    req.tls = tls_for(scheme == "https");
    auto r = http_.perform(req, 1 << 20);
    if (!r) {
      last = std::move(r).error();
      continue;
    }
    std::optional<Challenge> chosen;
    if (r->status == 401) {
      for (const std::string& h : r->header_values("WWW-Authenticate")) {
        auto cs = MYDOCKER_TRY_CTX(parse_challenges(h), "Get \"{}\"", req.url);
        for (Challenge& c : cs) {
          if (c.scheme == "bearer" && (!chosen || chosen->scheme != "bearer")) {
            chosen = c;
          } else if (c.scheme == "basic" && !chosen) {
            chosen = c;
          }
        }
      }
      if (!chosen) {
        return make_error(ErrorCode::Unauthorized,
                          "Get \"{}\": 401 Unauthorized without a supported challenge", req.url);
      }
    }
    std::lock_guard lock(mu_);
    pinged_ = true;
    base_url_ = base;
    challenge_ = chosen;
    return base::ok();
  }
  return std::move(*last);
}

base::Result<std::string> Client::base_url() {
  MYDOCKER_TRY(ping());
  std::lock_guard lock(mu_);
  return base_url_;
}

std::string Client::url(std::string_view path) {
  std::lock_guard lock(mu_);
  return base_url_ + std::string(path);
}

std::string Client::resolve_location(const std::string& location) {
  if (location.starts_with("http://") || location.starts_with("https://")) {
    return location;
  }
  if (location.starts_with("/")) {
    return url(location);
  }
  return url("/" + location);
}

base::Result<std::string> Client::fetch_token(const Challenge& c,
                                              const std::vector<std::string>& scopes) {
  std::string realm = c.param("realm");
  std::string u = realm;
  char sep = realm.find('?') == std::string::npos ? '?' : '&';
  auto add = [&](std::string_view k, std::string_view v) {
    u += sep;
    u += k;
    u += '=';
    u += url_escape(v);
    sep = '&';
  };
  if (!c.param("service").empty()) {
    add("service", c.param("service"));
  }
  for (const std::string& s : scopes) {
    add("scope", s);
  }
  HttpRequest req;
  req.url = u;
  std::string realm_host = realm.substr(realm.find("://") + 3);
  realm_host = realm_host.substr(0, realm_host.find('/'));
  if (realm.starts_with("https://")) {
    req.tls = tls_;
    if (is_insecure_host(realm_host, options_.insecure_registries, options_.loopback_insecure)) {
      req.tls.insecure = true;
    }
  }
  if (creds_ && !creds_->username.empty()) {
    add("account", creds_->username);
    req.url = u;
    req.headers.emplace_back("Authorization",
                             "Basic " + base64_encode(creds_->username + ":" + creds_->password));
  }
  {
    std::lock_guard lock(mu_);
    ++token_requests_;
  }
  HttpResponse r;
  for (int attempt = 0;; ++attempt) {
    auto got = http_.perform(req, 1 << 20);
    if (!got) {
      if (is_retryable(got.error()) && attempt < options_.retries) {
        std::this_thread::sleep_for(options_.retry_backoff * (1 << attempt));
        continue;
      }
      return std::move(got).error();
    }
    r = std::move(*got);
    if (status_class(r.status) == 5 && attempt < options_.retries) {
      std::this_thread::sleep_for(options_.retry_backoff * (1 << attempt));
      continue;
    }
    break;
  }
  if (r.status != 200) {
    std::string text = registry_error_text(r.body);
    if (text.empty()) {
      auto j = nlohmann::json::parse(r.body, nullptr, false);
      if (!j.is_discarded() && j.is_object() && j.contains("details") && j["details"].is_string()) {
        text = j["details"].get<std::string>();
      }
    }
    if (r.status == 401) {
      return base::Error(ErrorCode::Unauthorized,
                         fmt::format("Get \"{}\": unauthorized: {}", realm,
                                     text.empty() ? "incorrect username or password" : text));
    }
    return base::Error(code_for_status(r.status),
                       fmt::format("Get \"{}\": unexpected status: {}{}", realm,
                                   status_text(r.status), text.empty() ? "" : ": " + text));
  }
  Token t = MYDOCKER_TRY_CTX(parse_token_response(r.body, std::chrono::steady_clock::now()),
                             "Get \"{}\"", realm);
  std::string value = t.value;
  tokens_.put(TokenCache::key(realm, c.param("service"), base::join(scopes, " ")), std::move(t));
  return value;
}

base::Result<std::optional<std::string>> Client::authorization(
    const std::vector<std::string>& scopes, bool force_new) {
  std::optional<Challenge> c;
  {
    std::lock_guard lock(mu_);
    c = challenge_;
  }
  if (!c) {
    return std::optional<std::string>();
  }
  if (c->scheme == "basic") {
    if (!creds_ || creds_->username.empty()) {
      return make_error(ErrorCode::Unauthorized, "no basic auth credentials");
    }
    return std::optional<std::string>("Basic " +
                                      base64_encode(creds_->username + ":" + creds_->password));
  }
  std::string key =
      TokenCache::key(c->param("realm"), c->param("service"), base::join(scopes, " "));
  if (!force_new) {
    if (auto t = tokens_.get(key, std::chrono::steady_clock::now())) {
      return std::optional<std::string>("Bearer " + *t);
    }
  }
  std::string tok = MYDOCKER_TRY(fetch_token(*c, scopes));
  return std::optional<std::string>("Bearer " + tok);
}

base::Result<std::unique_ptr<HttpStream>> Client::send(Call call) {
  MYDOCKER_TRY(ping());
  bool https = call.req.url.starts_with("https://");
  call.req.tls = tls_for(https);
  bool streamed = call.req.body_source != nullptr;
  bool auth_retried = false;
  for (int attempt = 0;;) {
    HttpRequest req = call.req;
    auto auth = authorization(call.scopes, auth_retried);
    if (!auth) {
      return std::move(auth).error().wrap(fmt::format("{} \"{}\"", go_method(req.method), req.url));
    }
    if (*auth) {
      req.headers.emplace_back("Authorization", **auth);
    }
    auto s = http_.open(req);
    if (!s) {
      if (!streamed && is_retryable(s.error()) && attempt < options_.retries) {
        std::this_thread::sleep_for(options_.retry_backoff * (1 << attempt));
        ++attempt;
        continue;
      }
      return std::move(s).error();
    }
    long status = (*s)->status();
    if (status == 401 && !auth_retried && !streamed) {
      // A token for another scope, an expired one, or a challenge learnt only now.
      std::optional<Challenge> fresh;
      for (const std::string& h : (*s)->response().header_values("WWW-Authenticate")) {
        auto cs = parse_challenges(h);
        if (!cs) {
          return std::move(cs).error().wrap(
              fmt::format("{} \"{}\"", go_method(req.method), req.url));
        }
        for (Challenge& c : *cs) {
          if (c.scheme == "bearer" || (c.scheme == "basic" && !fresh)) {
            fresh = c;
          }
        }
      }
      bool had_auth = auth->has_value();
      {
        std::lock_guard lock(mu_);
        if (fresh) {
          challenge_ = fresh;
        }
      }
      if (fresh && (fresh->scheme == "bearer" || !had_auth)) {
        auth_retried = true;
        continue;
      }
      return s;
    }
    if (status_class(status) == 5 && !streamed && attempt < options_.retries) {
      std::this_thread::sleep_for(options_.retry_backoff * (1 << attempt));
      ++attempt;
      continue;
    }
    return s;
  }
}

base::Result<HttpResponse> Client::send_all(Call call, size_t limit) {
  auto s = MYDOCKER_TRY(send(std::move(call)));
  HttpResponse r = s->response();
  r.body = MYDOCKER_TRY(s->read_all(limit));
  return r;
}

base::Error Client::status_error(const HttpResponse& r, std::string_view what) const {
  std::string text = registry_error_text(r.body);
  if (text.empty()) {
    if (r.status == 401) {
      text = "unauthorized: authentication required";
    } else if (r.status == 403) {
      text = "denied: requested access to the resource is denied";
    } else {
      text = fmt::format("received unexpected HTTP status: {}", status_text(r.status));
    }
  }
  if (what.empty()) {
    return base::Error(code_for_status(r.status), text);
  }
  return base::Error(code_for_status(r.status), fmt::format("{}: {}", what, text));
}

namespace {
std::string pull_scope(const std::string& repo) {
  return "repository:" + repo + ":pull";
}
std::string push_scope(const std::string& repo) {
  return "repository:" + repo + ":pull,push";
}
}  // namespace

base::Result<ManifestResponse> Client::get_manifest(const std::string& repo,
                                                    const std::string& reference) {
  MYDOCKER_TRY(ping());
  Call c;
  c.req.url = url("/v2/" + repo + "/manifests/" + reference);
  c.req.headers.emplace_back("Accept", kManifestAccept);
  c.scopes = {pull_scope(repo)};
  HttpResponse r = MYDOCKER_TRY(send_all(std::move(c), 4 << 20));
  if (r.status != 200) {
    return status_error(r, "");
  }
  ManifestResponse m;
  m.bytes = std::move(r.body);
  m.digest = Digest::sha256_of(m.bytes);
  if (reference.starts_with("sha256:")) {
    if (m.digest.str() != reference) {
      return make_error(ErrorCode::InvalidArgument,
                        "manifest verification failed for digest {}: got {}", reference,
                        m.digest.str());
    }
  } else if (std::string h = r.header("Docker-Content-Digest");
             !h.empty() && h.starts_with("sha256:") && h != m.digest.str()) {
    return make_error(ErrorCode::InvalidArgument,
                      "manifest verification failed for digest {}: got {}", h, m.digest.str());
  }
  std::string ct = r.header("Content-Type");
  if (size_t semi = ct.find(';'); semi != std::string::npos) {
    ct = std::string(base::trim(ct.substr(0, semi)));
  }
  if (ct.empty() || ct == "application/json" || ct == "text/plain") {
    m.media_type = MYDOCKER_TRY(content::detect_media_type(m.bytes));
  } else {
    m.media_type = ct;
  }
  return m;
}

base::Result<Digest> Client::head_manifest(const std::string& repo, const std::string& reference) {
  MYDOCKER_TRY(ping());
  Call c;
  c.req.method = "HEAD";
  c.req.url = url("/v2/" + repo + "/manifests/" + reference);
  c.req.headers.emplace_back("Accept", kManifestAccept);
  c.scopes = {pull_scope(repo)};
  HttpResponse r = MYDOCKER_TRY(send_all(std::move(c)));
  if (r.status != 200) {
    return status_error(r, "");
  }
  std::string h = r.header("Docker-Content-Digest");
  if (h.empty()) {
    return make_error(ErrorCode::InvalidArgument, "HEAD manifest {}: no Docker-Content-Digest",
                      reference);
  }
  return Digest::parse(h);
}

base::Result<Digest> Client::put_manifest(const std::string& repo, const std::string& reference,
                                          const std::string& media_type, const std::string& bytes) {
  MYDOCKER_TRY(ping());
  Call c;
  c.req.method = "PUT";
  c.req.url = url("/v2/" + repo + "/manifests/" + reference);
  c.req.headers.emplace_back("Content-Type", media_type);
  c.req.body = bytes;
  c.scopes = {push_scope(repo)};
  HttpResponse r = MYDOCKER_TRY(send_all(std::move(c)));
  if (r.status != 201 && r.status != 200) {
    return status_error(r, "");
  }
  Digest mine = Digest::sha256_of(bytes);
  std::string h = r.header("Docker-Content-Digest");
  if (!h.empty() && h != mine.str()) {
    return make_error(ErrorCode::Internal, "registry stored manifest as {}, expected {}", h,
                      mine.str());
  }
  return mine;
}

base::Result<std::unique_ptr<HttpStream>> Client::open_blob(const std::string& repo,
                                                            const Digest& d, int64_t offset) {
  MYDOCKER_TRY(ping());
  Call c;
  c.req.url = url("/v2/" + repo + "/blobs/" + d.str());
  if (offset > 0) {
    c.req.headers.emplace_back("Range", fmt::format("bytes={}-", offset));
  }
  c.scopes = {pull_scope(repo)};
  auto s = MYDOCKER_TRY(send(std::move(c)));
  if (s->status() == 206 && offset > 0) {
    return s;
  }
  if (s->status() != 200) {
    HttpResponse r = s->response();
    auto body = s->read_all(1 << 20);
    if (body) {
      r.body = *body;
    }
    if (r.status == 404 && registry_error_text(r.body).empty()) {
      return make_error(ErrorCode::NotFound, "unknown blob");
    }
    if (r.status == 404) {
      return make_error(ErrorCode::NotFound, "unknown blob");
    }
    return status_error(r, "");
  }
  // A server that ignored Range sends the whole blob: skip what the caller has.
  std::vector<std::byte> skip(64 * 1024);
  int64_t left = offset;
  while (left > 0) {
    size_t want = static_cast<size_t>(std::min<int64_t>(left, static_cast<int64_t>(skip.size())));
    size_t n = MYDOCKER_TRY(s->read(std::span<std::byte>(skip.data(), want)));
    if (n == 0) {
      return make_error(ErrorCode::Unavailable, "blob {}: ended before byte {}", d.str(), offset);
    }
    left -= static_cast<int64_t>(n);
  }
  return s;
}

base::Result<std::string> Client::get_blob(const std::string& repo, const Digest& d, size_t limit) {
  auto s = MYDOCKER_TRY(open_blob(repo, d, 0));
  std::string bytes = MYDOCKER_TRY(s->read_all(limit));
  Digest got = Digest::sha256_of(bytes);
  if (got != d) {
    return make_error(ErrorCode::InvalidArgument, "digest mismatch: expected `{}`, got `{}`",
                      d.str(), got.str());
  }
  return bytes;
}

base::Result<std::optional<int64_t>> Client::blob_exists(const std::string& repo, const Digest& d) {
  MYDOCKER_TRY(ping());
  Call c;
  c.req.method = "HEAD";
  c.req.url = url("/v2/" + repo + "/blobs/" + d.str());
  c.scopes = {push_scope(repo)};
  HttpResponse r = MYDOCKER_TRY(send_all(std::move(c)));
  if (r.status == 404) {
    return std::optional<int64_t>();
  }
  if (r.status != 200) {
    return status_error(r, "");
  }
  auto len = base::parse_int64(r.header("Content-Length"));
  return std::optional<int64_t>(len.value_or(-1));
}

base::Result<std::optional<UploadSession>> Client::start_upload(const std::string& repo,
                                                                const Digest* mount,
                                                                const std::string& mount_from) {
  MYDOCKER_TRY(ping());
  Call c;
  c.req.method = "POST";
  std::string u = url("/v2/" + repo + "/blobs/uploads/");
  c.scopes = {push_scope(repo)};
  if (mount != nullptr && !mount_from.empty()) {
    u += "?mount=" + url_escape(mount->str()) + "&from=" + url_escape(mount_from);
    c.scopes.push_back(pull_scope(mount_from));
  }
  c.req.url = u;
  HttpResponse r = MYDOCKER_TRY(send_all(std::move(c)));
  if (r.status == 201 && mount != nullptr) {
    return std::optional<UploadSession>();
  }
  if (r.status != 202) {
    return status_error(r, "");
  }
  std::string loc = r.header("Location");
  if (loc.empty()) {
    return make_error(ErrorCode::Internal, "registry started an upload without a Location");
  }
  return std::optional<UploadSession>(UploadSession{resolve_location(loc)});
}

base::Result<UploadSession> Client::upload_chunk(const std::string& repo, const UploadSession& s,
                                                 layers::ByteSource& src, int64_t offset,
                                                 int64_t size) {
  Call c;
  c.req.method = "PATCH";
  c.req.url = s.location;
  c.req.headers.emplace_back("Content-Type", "application/octet-stream");
  c.req.headers.emplace_back("Content-Range", fmt::format("{}-{}", offset, offset + size - 1));
  c.req.body_source = &src;
  c.req.body_size = size;
  c.scopes = {push_scope(repo)};
  HttpResponse r = MYDOCKER_TRY(send_all(std::move(c)));
  if (r.status != 202) {
    return status_error(r, "");
  }
  std::string loc = r.header("Location");
  return UploadSession{loc.empty() ? s.location : resolve_location(loc)};
}

base::Result<void> Client::finish_upload(const std::string& repo, const UploadSession& s,
                                         const Digest& d, layers::ByteSource* src, int64_t size) {
  Call c;
  c.req.method = "PUT";
  c.req.url = s.location + (s.location.find('?') == std::string::npos ? "?" : "&") +
              "digest=" + url_escape(d.str());
  c.req.headers.emplace_back("Content-Type", "application/octet-stream");
  if (src != nullptr) {
    c.req.body_source = src;
    c.req.body_size = size;
  }
  c.scopes = {push_scope(repo)};
  HttpResponse r = MYDOCKER_TRY(send_all(std::move(c)));
  if (r.status != 201 && r.status != 204) {
    return status_error(r, "");
  }
  return base::ok();
}

base::Result<std::vector<std::string>> Client::list_tags(const std::string& repo) {
  MYDOCKER_TRY(ping());
  std::vector<std::string> out;
  std::string next = url("/v2/" + repo + "/tags/list");
  for (int page = 0; page < 1000 && !next.empty(); ++page) {
    Call c;
    c.req.url = next;
    c.scopes = {pull_scope(repo)};
    HttpResponse r = MYDOCKER_TRY(send_all(std::move(c)));
    if (r.status != 200) {
      return status_error(r, "");
    }
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      return make_error(ErrorCode::InvalidArgument, "invalid tag list for `{}`", repo);
    }
    if (j.contains("tags") && j["tags"].is_array()) {
      for (const auto& t : j["tags"]) {
        if (t.is_string()) {
          out.push_back(t.get<std::string>());
        }
      }
    }
    next.clear();
    std::string link = r.header("Link");
    if (size_t lt = link.find('<');
        lt != std::string::npos && link.find("rel=\"next\"") != std::string::npos) {
      size_t gt = link.find('>', lt);
      if (gt != std::string::npos) {
        next = resolve_location(link.substr(lt + 1, gt - lt - 1));
      }
    }
  }
  return out;
}

base::Result<void> Client::login() {
  MYDOCKER_TRY(ping());
  std::optional<Challenge> c;
  std::string base;
  {
    std::lock_guard lock(mu_);
    c = challenge_;
    base = base_url_;
  }
  if (!c) {
    return base::ok();  // the registry needs no auth
  }
  if (c->scheme == "bearer") {
    auto t = fetch_token(*c, {});
    if (!t) {
      if (t.error().code() == ErrorCode::Unauthorized) {
        return make_error(ErrorCode::Unauthorized,
                          "login attempt to {}/v2/ failed with status: 401 Unauthorized", base);
      }
      return std::move(t).error();
    }
    return base::ok();
  }
  if (!creds_) {
    return make_error(ErrorCode::Unauthorized, "no basic auth credentials");
  }
  HttpRequest req;
  req.url = base + "/v2/";
  req.tls = tls_for(base.starts_with("https://"));
  req.headers.emplace_back("Authorization",
                           "Basic " + base64_encode(creds_->username + ":" + creds_->password));
  HttpResponse r = MYDOCKER_TRY(http_.perform(req, 1 << 20));
  if (r.status != 200) {
    return make_error(r.status == 401 ? ErrorCode::Unauthorized : code_for_status(r.status),
                      "login attempt to {}/v2/ failed with status: {}", base,
                      status_text(r.status));
  }
  return base::ok();
}

}  // namespace mydocker::image::registry
