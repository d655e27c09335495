// SPDX-License-Identifier: Apache-2.0
#include "image/registry/http.h"

#include <arpa/inet.h>
#include <curl/curl.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "runtime/base/file.h"
#include "runtime/base/strings.h"

namespace mydocker::image::registry {

using base::ErrorCode;
using base::make_error;

namespace {

// Bytes buffered from the socket before the transfer is paused until the reader catches up.
constexpr size_t kMaxBuffered = 1 << 20;
constexpr size_t kIdleHandles = 8;
constexpr std::string_view kSystemCaBundle = "/etc/ssl/certs/ca-certificates.crt";

std::once_flag g_curl_init;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') {
      x = static_cast<char>(x - 'A' + 'a');
    }
    if (y >= 'A' && y <= 'Z') {
      y = static_cast<char>(y - 'A' + 'a');
    }
    if (x != y) {
      return false;
    }
  }
  return true;
}

// Go's net/http names methods "Get", "Head", ... in its errors.
std::string go_method(std::string_view m) {
  std::string out;
  for (size_t i = 0; i < m.size(); ++i) {
    char c = m[i];
    if (i > 0 && c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
    out += c;
  }
  return out;
}

// "host:port" of a URL, with the scheme's default port (Go's dial address).
std::string dial_address(std::string_view url) {
  std::string_view rest = url;
  bool https = rest.starts_with("https://");
  if (size_t p = rest.find("://"); p != std::string_view::npos) {
    rest.remove_prefix(p + 3);
  }
  rest = rest.substr(0, rest.find('/'));
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) {
    rest.remove_prefix(at + 1);
  }
  std::string hostport(rest);
  size_t colon = hostport.rfind(':');
  size_t bracket = hostport.rfind(']');
  if (colon == std::string::npos || (bracket != std::string::npos && colon < bracket)) {
    hostport += https ? ":443" : ":80";
  }
  return hostport;
}

std::string host_only(std::string_view url) {
  std::string hp = dial_address(url);
  return hp.substr(0, hp.rfind(':'));
}

std::string getenv_any(const char* upper, const char* lower_name) {
  for (const char* n : {upper, lower_name}) {
    if (const char* v = std::getenv(n); v != nullptr && *v != '\0') {
      return v;
    }
  }
  return {};
}

// host (without brackets) and port ("" when none) of a "host[:port]" or "[v6][:port]".
std::pair<std::string, std::string> split_host_port(std::string_view hp) {
  if (hp.starts_with("[")) {
    size_t end = hp.find(']');
    if (end == std::string_view::npos) {
      return {std::string(hp), ""};
    }
    std::string port =
        end + 1 < hp.size() && hp[end + 1] == ':' ? std::string(hp.substr(end + 2)) : "";
    return {std::string(hp.substr(1, end - 1)), port};
  }
  size_t colon = hp.rfind(':');
  if (colon != std::string_view::npos && hp.find(':') == colon) {
    return {std::string(hp.substr(0, colon)), std::string(hp.substr(colon + 1))};
  }
  return {std::string(hp), ""};
}

bool parse_ip(const std::string& s, std::array<unsigned char, 16>& out, int& family) {
  out.fill(0);
  if (::inet_pton(AF_INET, s.c_str(), out.data()) == 1) {
    family = AF_INET;
    return true;
  }
  if (::inet_pton(AF_INET6, s.c_str(), out.data()) == 1) {
    family = AF_INET6;
    return true;
  }
  return false;
}

bool is_loopback_host(const std::string& host) {
  if (host == "localhost") {
    return true;
  }
  std::array<unsigned char, 16> ip{};
  int family = 0;
  if (!parse_ip(host, ip, family)) {
    return false;
  }
  if (family == AF_INET) {
    return ip[0] == 127;
  }
  static constexpr std::array<unsigned char, 16> kV6Loopback = {0, 0, 0, 0, 0, 0, 0, 0,
                                                                0, 0, 0, 0, 0, 0, 0, 1};
  return ip == kV6Loopback;
}

// One NO_PROXY entry against a request's host and port (Go's ipMatch, cidrMatch, domainMatch).
bool no_proxy_matches(std::string entry, const std::string& host, const std::string& port) {
  if (entry.empty()) {
    return false;
  }
  std::array<unsigned char, 16> hip{};
  int hfam = 0;
  bool host_is_ip = parse_ip(host, hip, hfam);
  if (size_t slash = entry.find('/'); slash != std::string::npos) {
    std::array<unsigned char, 16> net{};
    int nfam = 0;
    char* end = nullptr;
    long bits = std::strtol(entry.c_str() + slash + 1, &end, 10);
    if (!host_is_ip || !parse_ip(entry.substr(0, slash), net, nfam) || nfam != hfam ||
        end == nullptr || *end != '\0' || bits < 0 || bits > (nfam == AF_INET ? 32 : 128)) {
      return false;
    }
    for (long i = 0; i < bits; ++i) {
      unsigned mask = 0x80U >> (i % 8);
      if ((net[static_cast<size_t>(i / 8)] & mask) != (hip[static_cast<size_t>(i / 8)] & mask)) {
        return false;
      }
    }
    return true;
  }
  std::array<unsigned char, 16> eip{};
  int efam = 0;
  if (parse_ip(entry, eip, efam)) {
    return host_is_ip && efam == hfam && eip == hip;
  }
  auto [ehost, eport] = split_host_port(entry);
  if (parse_ip(ehost, eip, efam)) {
    return host_is_ip && efam == hfam && eip == hip && eport == port;
  }
  if (!eport.empty() && eport != port) {
    return false;
  }
  if (ehost.starts_with("*.")) {
    ehost.erase(0, 1);
  }
  if (ehost.starts_with(".")) {
    return host.ends_with(ehost);
  }
  return host == ehost || host.ends_with("." + ehost);
}

const std::string& system_ca_bundle() {
  static const std::string bundle = [] {
    auto text = base::read_file(std::string(kSystemCaBundle));
    return text ? *text : std::string();
  }();
  return bundle;
}

}  // namespace

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) {
      return v;
    }
  }
  return {};
}

std::vector<std::string> HttpResponse::header_values(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) {
      out.push_back(v);
    }
  }
  return out;
}

ProxyConfig ProxyConfig::from_environment() {
  ProxyConfig p;
  p.http_proxy = getenv_any("HTTP_PROXY", "http_proxy");
  p.https_proxy = getenv_any("HTTPS_PROXY", "https_proxy");
  p.no_proxy = getenv_any("NO_PROXY", "no_proxy");
  return p;
}

std::string ProxyConfig::proxy_for(std::string_view url) const {
  bool https = url.starts_with("https://");
  std::string proxy = https ? https_proxy : http_proxy;
  if (proxy.empty()) {
    return {};
  }
  std::string_view rest = url;
  if (size_t p = rest.find("://"); p != std::string_view::npos) {
    rest.remove_prefix(p + 3);
  }
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) {
    rest.remove_prefix(at + 1);
  }
  auto [host, port] = split_host_port(rest);
  host = base::ascii_lower(host);
  if (port.empty()) {
    port = https ? "443" : "80";
  }
  if (is_loopback_host(host)) {
    return {};
  }
  for (const std::string& raw : base::split(no_proxy, ',')) {
    std::string entry = base::ascii_lower(base::trim(raw));
    if (entry == "*") {
      return {};
    }
    if (no_proxy_matches(entry, host, port)) {
      return {};
    }
  }
  if (proxy.find("://") == std::string::npos) {
    proxy = "http://" + proxy;
  }
  return proxy;
}

bool is_retryable(const base::Error& e) {
  return e.code() == ErrorCode::Unavailable;
}

struct HttpStream::Handle {
  CURLM* multi = nullptr;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  char errbuf[CURL_ERROR_SIZE] = {};
  std::string proxy;  // CURLOPT_PROXY of the current transfer

  // Per transfer.
  HttpResponse* response = nullptr;
  std::string buffer;
  size_t buffer_off = 0;
  bool paused = false;
  bool got_body = false;
  bool done = false;
  bool added = false;
  CURLcode result = CURLE_OK;
  std::string_view upload;
  size_t upload_off = 0;
  layers::ByteSource* upload_source = nullptr;
  std::optional<base::Error> upload_error;
  std::string ca_blob;

  Handle() {
    multi = curl_multi_init();
    easy = curl_easy_init();
  }
  ~Handle() {
    if (added) {
      curl_multi_remove_handle(multi, easy);
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(easy);
    curl_multi_cleanup(multi);
  }
  void reset() {
    if (added) {
      curl_multi_remove_handle(multi, easy);
      added = false;
    }
    curl_slist_free_all(headers);
    headers = nullptr;
    curl_easy_reset(easy);
    errbuf[0] = '\0';
    response = nullptr;
    buffer.clear();
    buffer_off = 0;
    paused = false;
    got_body = false;
    done = false;
    result = CURLE_OK;
    upload = {};
    upload_off = 0;
    upload_source = nullptr;
    upload_error.reset();
    ca_blob.clear();
  }
  size_t buffered() const { return buffer.size() - buffer_off; }

  static size_t on_write(char* p, size_t size, size_t n, void* ud) {
    auto* h = static_cast<Handle*>(ud);
    size_t len = size * n;
    if (h->buffered() >= kMaxBuffered) {
      h->paused = true;
      return CURL_WRITEFUNC_PAUSE;
    }
    if (h->buffer_off > 0 && h->buffer_off == h->buffer.size()) {
      h->buffer.clear();
      h->buffer_off = 0;
    }
    h->buffer.append(p, len);
    h->got_body = true;
    return len;
  }

  static size_t on_header(char* p, size_t size, size_t n, void* ud) {
    auto* h = static_cast<Handle*>(ud);
    size_t len = size * n;
    std::string_view line(p, len);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
      line.remove_suffix(1);
    }
    if (line.starts_with("HTTP/")) {
      h->response->headers.clear();
      size_t sp = line.find(' ');
      if (sp != std::string_view::npos) {
        h->response->status = std::strtol(std::string(line.substr(sp + 1, 3)).c_str(), nullptr, 10);
      }
      return len;
    }
    size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
        value.remove_prefix(1);
      }
      h->response->headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
    }
    return len;
  }

  static size_t on_read(char* buf, size_t size, size_t n, void* ud) {
    auto* h = static_cast<Handle*>(ud);
    size_t cap = size * n;
    if (h->upload_source != nullptr) {
      auto r = h->upload_source->read(std::span<std::byte>(reinterpret_cast<std::byte*>(buf), cap));
      if (!r) {
        h->upload_error = std::move(r).error();
        return CURL_READFUNC_ABORT;
      }
      return *r;
    }
    size_t k = std::min(cap, h->upload.size() - h->upload_off);
    std::memcpy(buf, h->upload.data() + h->upload_off, k);
    h->upload_off += k;
    return k;
  }
};

HttpStream::HttpStream(HttpClient& client, std::unique_ptr<Handle> handle)
    : client_(client), h_(std::move(handle)) {}

HttpStream::~HttpStream() {
  if (h_ == nullptr) {
    return;
  }
  long conns = 0;
  curl_easy_getinfo(h_->easy, CURLINFO_NUM_CONNECTS, &conns);
  {
    std::lock_guard lock(client_.mu_);
    client_.connections_ += static_cast<uint64_t>(conns);
  }
  if (!h_->done) {
    // An abandoned transfer leaves its connection in an unknown state: drop the handle and
    // with it the connection rather than reuse it.
    return;
  }
  h_->reset();
  client_.give_back(std::move(h_));
}

int64_t HttpStream::content_length() const {
  std::string v = response_.header("Content-Length");
  if (v.empty()) {
    return -1;
  }
  char* end = nullptr;
  long long n = std::strtoll(v.c_str(), &end, 10);
  return end != nullptr && *end == '\0' && n >= 0 ? n : -1;
}

base::Error HttpStream::transfer_error(int code) const {
  auto c = static_cast<CURLcode>(code);
  std::string prefix = fmt::format("{} \"{}\"", go_method(method_), url_);
  std::string detail = h_->errbuf[0] != '\0' ? h_->errbuf : curl_easy_strerror(c);
  long os_errno = 0;
  curl_easy_getinfo(h_->easy, CURLINFO_OS_ERRNO, &os_errno);
  switch (c) {
    case CURLE_COULDNT_CONNECT: {
      std::string why = os_errno == ECONNREFUSED
                            ? "connection refused"
                            : (os_errno != 0 ? std::strerror(static_cast<int>(os_errno)) : detail);
      if (os_errno != 0) {
        for (char& ch : why) {
          if (ch >= 'A' && ch <= 'Z') {
            ch = static_cast<char>(ch - 'A' + 'a');
          }
        }
      }
      return base::Error(ErrorCode::Internal, fmt::format("{}: dial tcp {}: connect: {}", prefix,
                                                          dial_address(url_), why));
    }
    case CURLE_COULDNT_RESOLVE_HOST:
      return base::Error(ErrorCode::Internal, fmt::format("{}: dial tcp: lookup {}: no such host",
                                                          prefix, host_only(url_)));
    case CURLE_PEER_FAILED_VERIFICATION: {
      std::string why;
      if (detail.find("expired") != std::string::npos) {
        why = "x509: certificate has expired or is not yet valid";
      } else if (detail.find("subject name") != std::string::npos ||
                 detail.find("does not match") != std::string::npos) {
        why = fmt::format("x509: certificate is not valid for {}", host_only(url_));
      } else if (detail.find("self-signed") != std::string::npos ||
                 detail.find("self signed") != std::string::npos ||
                 detail.find("local issuer") != std::string::npos ||
                 detail.find("unable to verify") != std::string::npos ||
                 detail.find("unable to get") != std::string::npos) {
        why = "x509: certificate signed by unknown authority";
      } else {
        why = "x509: " + detail;
      }
      return base::Error(ErrorCode::Internal, fmt::format("{}: {}", prefix, why));
    }
    case CURLE_SSL_CONNECT_ERROR:
      if (detail.find("wrong version number") != std::string::npos ||
          detail.find("packet length too long") != std::string::npos) {
        return base::Error(
            ErrorCode::Internal,
            fmt::format("{}: http: server gave HTTP response to HTTPS client", prefix));
      }
      return base::Error(ErrorCode::Internal, fmt::format("{}: tls: {}", prefix, detail));
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
      return base::Error(ErrorCode::Internal, fmt::format("{}: tls: {}", prefix, detail));
    case CURLE_ABORTED_BY_CALLBACK:
    case CURLE_READ_ERROR:
      if (h_->upload_error) {
        return *h_->upload_error;
      }
      break;
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return base::Error(ErrorCode::Unavailable, fmt::format("{}: {}", prefix, detail));
    default:
      break;
  }
  return base::Error(ErrorCode::Internal, fmt::format("{}: {}", prefix, detail));
}

base::Result<void> HttpStream::start(const HttpRequest& req) {
  Handle& h = *h_;
  CURL* e = h.easy;
  method_ = req.method;
  url_ = req.url;
  h.response = &response_;
  curl_easy_setopt(e, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, h.errbuf);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_USERAGENT, client_.user_agent_.c_str());
  // Our own proxy choice (http.h); "" makes libcurl connect directly without reading the
  // environment, and an empty NOPROXY keeps it from second-guessing the choice.
  h.proxy = client_.proxy_.proxy_for(req.url);
  curl_easy_setopt(e, CURLOPT_PROXY, h.proxy.c_str());
  curl_easy_setopt(e, CURLOPT_NOPROXY, "");
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Handle::on_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &h);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &Handle::on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &h);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 30L);
  // A stalled transfer (less than 1 byte/s for 60 s) is a dropped connection.
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 256L * 1024);
  if (req.follow_redirects) {
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, 10L);
  }
  // TLS.
  if (req.tls.insecure) {
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
  } else if (!req.tls.extra_ca_pem.empty()) {
    h.ca_blob = system_ca_bundle();
    if (!h.ca_blob.empty() && h.ca_blob.back() != '\n') {
      h.ca_blob += '\n';
    }
    h.ca_blob += req.tls.extra_ca_pem;
    curl_blob blob{};
    blob.data = h.ca_blob.data();
    blob.len = h.ca_blob.size();
    blob.flags = CURL_BLOB_NOCOPY;
    curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
  }
  if (!req.tls.client_cert.empty()) {
    curl_easy_setopt(e, CURLOPT_SSLCERT, req.tls.client_cert.c_str());
    curl_easy_setopt(e, CURLOPT_SSLKEY, req.tls.client_key.c_str());
  }
  // Method and body.
  bool has_body = false;
  if (req.method == "GET") {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  } else if (req.method == "HEAD") {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else {
    has_body = true;
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    curl_easy_setopt(e, CURLOPT_READFUNCTION, &Handle::on_read);
    curl_easy_setopt(e, CURLOPT_READDATA, &h);
    if (req.body_source != nullptr) {
      h.upload_source = req.body_source;
      curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(req.body_size));
    } else {
      h.upload = req.body;
      curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    }
  }
  for (const auto& [k, v] : req.headers) {
    h.headers = curl_slist_append(h.headers, fmt::format("{}: {}", k, v).c_str());
  }
  if (has_body) {
    h.headers = curl_slist_append(h.headers, "Expect:");  // no 100-continue round trip
  }
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, h.headers);
  if (curl_multi_add_handle(h.multi, e) != CURLM_OK) {
    return make_error(ErrorCode::Internal, "{} \"{}\": cannot start transfer", go_method(method_),
                      url_);
  }
  h.added = true;
  MYDOCKER_TRY(drive(true));
  if (h.done && h.result != CURLE_OK) {
    return transfer_error(h.result);
  }
  char* eff = nullptr;
  curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &eff);
  if (eff != nullptr) {
    response_.effective_url = eff;
  }
  return base::ok();
}

base::Result<void> HttpStream::drive(bool until_headers) {
  Handle& h = *h_;
  for (;;) {
    if (h.done || (until_headers ? h.got_body : h.buffered() > 0)) {
      return base::ok();
    }
    if (h.paused && h.buffered() < kMaxBuffered) {
      h.paused = false;
      curl_easy_pause(h.easy, CURLPAUSE_CONT);
      continue;
    }
    int running = 0;
    CURLMcode mc = curl_multi_perform(h.multi, &running);
    if (mc != CURLM_OK) {
      return make_error(ErrorCode::Internal, "{} \"{}\": {}", go_method(method_), url_,
                        curl_multi_strerror(mc));
    }
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(h.multi, &left)) {
      if (msg->msg == CURLMSG_DONE) {
        h.done = true;
        h.result = msg->data.result;
      }
    }
    if (h.done || (until_headers ? h.got_body : h.buffered() > 0)) {
      continue;
    }
    if (h.paused) {
      continue;
    }
    mc = curl_multi_poll(h.multi, nullptr, 0, 1000, nullptr);
    if (mc != CURLM_OK) {
      return make_error(ErrorCode::Internal, "{} \"{}\": {}", go_method(method_), url_,
                        curl_multi_strerror(mc));
    }
  }
}

base::Result<size_t> HttpStream::read(std::span<std::byte> buf) {
  if (buf.empty()) {
    return size_t{0};
  }
  MYDOCKER_TRY(drive(false));
  Handle& h = *h_;
  if (h.buffered() > 0) {
    size_t k = std::min(buf.size(), h.buffered());
    std::memcpy(buf.data(), h.buffer.data() + h.buffer_off, k);
    h.buffer_off += k;
    if (h.buffer_off == h.buffer.size()) {
      h.buffer.clear();
      h.buffer_off = 0;
    }
    return k;
  }
  if (h.result != CURLE_OK) {
    return transfer_error(h.result);
  }
  return size_t{0};
}

base::Result<std::string> HttpStream::read_all(size_t limit) {
  std::string out;
  std::vector<std::byte> buf(64 * 1024);
  for (;;) {
    size_t n = MYDOCKER_TRY(read(buf));
    if (n == 0) {
      return out;
    }
    if (out.size() + n > limit) {
      return make_error(ErrorCode::InvalidArgument, "{} \"{}\": response body over {} bytes",
                        go_method(method_), url_, limit);
    }
    out.append(reinterpret_cast<const char*>(buf.data()), n);
  }
}

HttpClient::HttpClient(std::string user_agent, std::optional<ProxyConfig> proxy)
    : user_agent_(std::move(user_agent)),
      proxy_(proxy ? std::move(*proxy) : ProxyConfig::from_environment()) {
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

HttpClient::~HttpClient() = default;

std::unique_ptr<HttpStream::Handle> HttpClient::take_handle() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      auto h = std::move(idle_.back());
      idle_.pop_back();
      return h;
    }
  }
  return std::make_unique<HttpStream::Handle>();
}

void HttpClient::give_back(std::unique_ptr<HttpStream::Handle> h) {
  std::lock_guard lock(mu_);
  if (idle_.size() < kIdleHandles) {
    idle_.push_back(std::move(h));
  }
}

uint64_t HttpClient::connections_opened() const {
  std::lock_guard lock(mu_);
  return connections_;
}

base::Result<std::unique_ptr<HttpStream>> HttpClient::open(const HttpRequest& req) {
  std::unique_ptr<HttpStream> s(new HttpStream(*this, take_handle()));
  MYDOCKER_TRY(s->start(req));
  return s;
}

base::Result<HttpResponse> HttpClient::perform(const HttpRequest& req, size_t limit) {
  auto s = MYDOCKER_TRY(open(req));
  HttpResponse r = s->response();
  r.body = MYDOCKER_TRY(s->read_all(limit));
  return r;
}

}  // namespace mydocker::image::registry
