// SPDX-License-Identifier: Apache-2.0
// The transport: cpp-httplib on an AF_UNIX socket. Every method and path goes to one
// catch-all handler (dispatch) that does what dockerd's router and middlewares do, in their
// order: path cleaning (301), version prefix, route match (404 "page not found", without the
// Docker headers, as gorilla/mux's NotFoundHandler), version check, query decoding, body
// limits and the JSON Content-Type check, then the route's handler; errors become
// {"message": ...} with the status errors.cpp gives their code.
//
// Threads: httplib serves each connection on a worker of its task queue. Long calls (wait,
// logs with follow, export) hold their worker, so the queue is much larger than httplib's
// default (kWorkers).
//
// Connections: ApiHttp overrides httplib's (private virtual) process_and_close_socket() and runs
// the keep-alive loop itself over the protected process_request(), with its own Stream
// (ConnStream) in place of httplib's SocketStream. SocketStream reads 4 KiB ahead, so bytes a
// client sent after a request would sit in its buffer; ConnStream never consumes past the end
// of the request it is reading (a line read takes at most up to the end of the head, a body
// read takes exactly what httplib asks for). That lets an upgrade route (attach, exec start)
// take the socket over mid-connection -- docker-py sends exec start on the pooled connection
// of exec create -- with nothing the client sent lost: Request::hijack writes the answer
// itself, hands a dup() of the socket to the engine and marks the stream hijacked, after which
// httplib's writes are dropped and the loop closes its descriptor without shutdown().
#include "api/server/server.h"

#include <fcntl.h>
#include <grp.h>
#include <httplib.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>

#include "api/server/errors.h"
#include "api/server/router.h"
#include "api/wire/errors.h"
#include "runtime/base/strings.h"

namespace mydocker::api::server {
namespace {

constexpr size_t kWorkers = 64;
// JSON bodies (create, update, ...) larger than this are refused with 413: a container config
// is a few KiB; the limit keeps a client from making the daemon buffer gigabytes.
constexpr size_t kDefaultJsonLimit = 4 * 1024 * 1024;

// Waits up to `timeout_ms` (-1: forever) for `events` on fd; the revents, 0 on timeout, -1 on
// error.
int poll_fd(int fd, short events, int timeout_ms) {
  struct pollfd p {};
  p.fd = fd;
  p.events = events;
  while (true) {
    int n = ::poll(&p, 1, timeout_ms);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return -1;
    }
    return n == 0 ? 0 : p.revents;
  }
}

int timeout_ms(time_t sec, time_t usec) {
  return static_cast<int>(sec * 1000 + usec / 1000);
}

// Sends all of `data` (the socket is blocking); false when the peer is gone.
bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// One client connection, for httplib's request parser (see the file comment). Reads never
// consume past the current request: httplib reads a head or chunk-size line one byte at a time,
// and such a read takes from the socket at most up to the first blank line (the end of a head,
// or of a chunked body) or else the last line end it sees; larger reads (bodies) take exactly
// what is asked.
class ConnStream final : public httplib::Stream {
 public:
  ConnStream(int fd, int read_timeout_ms, int write_timeout_ms)
      : fd_(fd), read_timeout_ms_(read_timeout_ms), write_timeout_ms_(write_timeout_ms) {}

  bool is_readable() const override {
    if (pos_ < buf_.size()) {
      return true;
    }
    int r = poll_fd(fd_, POLLIN, read_timeout_ms_);
    return r > 0;
  }
  bool is_writable() const override {
    int r = poll_fd(fd_, POLLOUT, write_timeout_ms_);
    return r > 0 && (r & (POLLERR | POLLHUP)) == 0;
  }

  ssize_t read(char* ptr, size_t size) override {
    if (size == 0) {
      return 0;
    }
    if (pos_ < buf_.size()) {
      size_t n = std::min(size, buf_.size() - pos_);
      std::memcpy(ptr, buf_.data() + pos_, n);
      pos_ += n;
      return static_cast<ssize_t>(n);
    }
    if (!is_readable()) {
      return -1;
    }
    if (size > 1) {
      return recv_retry(ptr, size, 0);
    }
    // A line read: peek, then consume only what belongs to this request.
    buf_.resize(kPeek);
    pos_ = 0;
    ssize_t n = recv_retry(buf_.data(), kPeek, MSG_PEEK);
    if (n <= 0) {
      buf_.clear();
      return n;
    }
    std::string_view seen(buf_.data(), static_cast<size_t>(n));
    size_t take = seen.size();
    size_t crlf = seen.find("\r\n\r\n");
    size_t lf = seen.find("\n\n");
    if (crlf != std::string_view::npos || lf != std::string_view::npos) {
      take = std::min(crlf == std::string_view::npos ? seen.size() : crlf + 4,
                      lf == std::string_view::npos ? seen.size() : lf + 2);
    } else if (size_t last = seen.rfind('\n'); last != std::string_view::npos) {
      take = last + 1;
    }
    ssize_t got = recv_retry(buf_.data(), take, 0);
    if (got <= 0) {
      buf_.clear();
      return got;
    }
    buf_.resize(static_cast<size_t>(got));
    *ptr = buf_[0];
    pos_ = 1;
    return 1;
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (hijacked_) {
      return static_cast<ssize_t>(size);  // the connection is the engine's now
    }
    if (!is_writable()) {
      return -1;
    }
    while (true) {
      ssize_t n = ::send(fd_, ptr, size, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      return n;
    }
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip.clear();
    port = 0;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip.clear();
    port = 0;
  }
  socket_t socket() const override { return fd_; }

  int fd() const { return fd_; }
  bool hijacked() const { return hijacked_; }
  void set_hijacked() { hijacked_ = true; }
  // Bytes read from the socket that httplib has not consumed (none between requests).
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  static constexpr size_t kPeek = 8192;

  ssize_t recv_retry(char* ptr, size_t size, int flags) const {
    while (true) {
      ssize_t n = ::recv(fd_, ptr, size, flags);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      return n;
    }
  }

  int fd_;
  int read_timeout_ms_;
  int write_timeout_ms_;
  std::string buf_;
  size_t pos_ = 0;
  bool hijacked_ = false;
};

// The connection the current worker thread serves (handlers run on it).
thread_local ConnStream* t_conn = nullptr;

// Whether a request says its body length; Go's net/http reads a request that says neither
// Content-Length nor chunked as bodiless, where httplib would read until the client closes.
bool has_body_framing(const httplib::Request& req) {
  if (req.has_header("Content-Length")) {
    return true;
  }
  std::string te = base::ascii_lower(req.get_header_value("Transfer-Encoding"));
  return te.find("chunked") != std::string::npos;
}

class ApiHttp final : public httplib::Server {
 private:
  bool process_and_close_socket(socket_t sock) override {
    ConnStream strm(sock, timeout_ms(read_timeout_sec_, read_timeout_usec_),
                    timeout_ms(write_timeout_sec_, write_timeout_usec_));
    t_conn = &strm;
    bool ret = false;
    size_t count = keep_alive_max_count_;
    while (count > 0 && wait_request(strm)) {
      bool connection_closed = false;
      ret = process_request(strm, count == 1, connection_closed, [](httplib::Request& req) {
        if (!has_body_framing(req)) {
          req.set_header("Content-Length", "0");
        }
        // dockerd never compresses; httplib would gzip JSON (and JSON streams such as
        // /events) for clients that accept it, which docker-py's raw stream reader cannot read.
        req.headers.erase("Accept-Encoding");
      });
      if (strm.hijacked() || !ret || connection_closed) {
        break;
      }
      --count;
    }
    t_conn = nullptr;
    // A hijacked socket lives on in the engine (a dup): shutdown() would end it there too.
    if (!strm.hijacked()) {
      ::shutdown(sock, SHUT_RDWR);
    }
    ::close(sock);
    return ret;
  }

  // Waits for the next request of a keep-alive connection; false on timeout, on the client's
  // close, and when the server stops.
  bool wait_request(const ConnStream& strm) const {
    if (strm.buffered() > 0) {
      return true;
    }
    auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(keep_alive_timeout_sec_);
    while (svr_sock_ != INVALID_SOCKET) {
      int r = poll_fd(strm.fd(), POLLIN, 100);
      if (r < 0) {
        return false;
      }
      if (r > 0) {
        return true;  // a request, or EOF (process_request then ends the loop)
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        return false;
      }
    }
    return false;
  }
};

class SinkWriter final : public StreamWriter {
 public:
  explicit SinkWriter(httplib::DataSink& sink) : sink_(sink), fd_(t_conn ? t_conn->fd() : -1) {}
  bool write(std::string_view data) override {
    if (data.empty()) {
      return ok_;
    }
    ok_ = ok_ && sink_.write(data.data(), data.size());
    return ok_;
  }
  // The client's close shows as POLLHUP without reading anything. A half-close (POLLRDHUP
  // alone) is not a departure: the client may still read.
  bool alive() override {
    if (!ok_ || fd_ < 0) {
      return ok_;
    }
    int r = poll_fd(fd_, POLLIN, 0);
    if (r < 0 || (r & (POLLHUP | POLLERR | POLLNVAL)) != 0) {
      ok_ = false;
    }
    return ok_;
  }

 private:
  httplib::DataSink& sink_;
  int fd_;
  bool ok_ = true;
};

const char* reason_phrase(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 409:
      return "Conflict";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    default:
      return status >= 500 ? "Internal Server Error" : "Error";
  }
}

// Takes the current connection over for an upgrade route (see Request::hijack).
base::Result<base::Fd> hijack_connection(bool upgrade, const Response& head) {
  ConnStream* conn = t_conn;
  if (conn == nullptr || conn->hijacked()) {
    return base::make_error(base::ErrorCode::Internal, "the connection cannot be hijacked");
  }
  if (conn->buffered() > 0) {
    // Cannot happen with ConnStream's reads; refuse rather than lose the client's bytes.
    return base::make_error(base::ErrorCode::Internal, "unread bytes before the upgrade");
  }
  int dup = ::fcntl(conn->fd(), F_DUPFD_CLOEXEC, 0);
  if (dup < 0) {
    return base::sys_error("dup the connection");
  }
  base::Fd fd = base::Fd::adopt(dup);
  // From here on httplib writes nothing and closes only its own descriptor.
  conn->set_hijacked();
  // httplib may have set receive/send timeouts on the socket: the stream may idle for hours.
  struct timeval none {};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &none, sizeof(none));
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &none, sizeof(none));

  std::string out;
  bool error_answer = head.status != 101 && head.status != 200;
  if (error_answer) {
    out = fmt::format("HTTP/1.1 {} {}\r\n", head.status, reason_phrase(head.status));
  } else {
    out = upgrade ? "HTTP/1.1 101 UPGRADED\r\n" : "HTTP/1.1 200 OK\r\n";
  }
  if (!head.content_type.empty()) {
    out += "Content-Type: " + head.content_type + "\r\n";
  }
  if (upgrade && !error_answer) {
    out += "Connection: Upgrade\r\nUpgrade: tcp\r\n";
  }
  for (const auto& [k, v] : head.headers) {
    out += k + ": " + v + "\r\n";
  }
  out += "\r\n";
  out += head.body;
  if (!send_all(fd.get(), out)) {
    return base::make_error(base::ErrorCode::Cancelled, "the client went away");
  }
  return fd;
}

// Go's path.Clean as gorilla/mux applies it (keeping a trailing slash).
std::string clean_path(std::string_view p) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos <= p.size()) {
    size_t next = p.find('/', pos);
    std::string_view seg = p.substr(pos, next == std::string_view::npos ? p.npos : next - pos);
    pos = next == std::string_view::npos ? p.size() + 1 : next + 1;
    if (seg.empty() || seg == ".") {
      continue;
    }
    if (seg == "..") {
      if (!out.empty()) {
        out.pop_back();
      }
      continue;
    }
    out.push_back(seg);
  }
  std::string cleaned;
  for (auto s : out) {
    cleaned += "/";
    cleaned += s;
  }
  if (cleaned.empty()) {
    cleaned = "/";
  }
  if (p.size() > 1 && p.back() == '/' && cleaned != "/") {
    cleaned += "/";
  }
  return cleaned;
}

bool is_version_text(std::string_view v) {
  return !v.empty() &&
         std::all_of(v.begin(), v.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

std::string media_type(std::string_view content_type) {
  std::string_view t = base::trim(content_type.substr(0, content_type.find(';')));
  return base::ascii_lower(t);
}

class HttpServer final : public Server {
 public:
  HttpServer(engine::Daemon& daemon, ServerOptions options)
      : options_(std::move(options)), ctx_{daemon, options_} {
    for (auto* table : {&system_routes, &container_routes, &image_routes, &exec_routes,
                        &distribution_routes, &build_routes, &network_routes}) {
      for (auto& r : (*table)()) {
        routes_.push_back(r);
      }
    }
    // httplib owns and deletes the queue it gets from this factory.
    http_.new_task_queue = [] { return new httplib::ThreadPool(kWorkers); };  // NOLINT
    http_.set_address_family(AF_UNIX);
    http_.set_keep_alive_max_count(1000);
    // An idle keep-alive connection holds a worker, and delays stop() by up to this long.
    http_.set_keep_alive_timeout(5);
    http_.set_read_timeout(60);
    http_.set_write_timeout(300);
    const std::string any = "[\\s\\S]*";
    auto plain = [this](const httplib::Request& req, httplib::Response& res) {
      dispatch(req, res, nullptr);
    };
    auto with_reader = [this](const httplib::Request& req, httplib::Response& res,
                              const httplib::ContentReader& reader) {
      dispatch(req, res, &reader);
    };
    http_.Get(any, plain);
    http_.Options(any, plain);
    http_.Post(any, with_reader);
    http_.Put(any, with_reader);
    http_.Delete(any, with_reader);
    http_.Patch(any, with_reader);
  }

  base::Result<void> bind() {
    const std::string& path = options_.socket_path;
    if (path.size() >= sizeof(sockaddr_un{}.sun_path)) {
      return base::make_error(base::ErrorCode::InvalidArgument, "socket path `{}` is too long",
                              path);
    }
    // A stale socket file from a previous daemon: the data-root lock guarantees no live
    // daemon owns it.
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
      ::unlink(path.c_str());
    }
    // Created 0660 from the start: no window where another user could connect.
    mode_t old = ::umask(0117);
    bool bound = http_.bind_to_port(path, 80);
    ::umask(old);
    if (!bound) {
      return base::make_error(base::ErrorCode::Unavailable, "listen on `{}`", path);
    }
    if (::chmod(path.c_str(), 0660) != 0) {
      return base::sys_error("chmod `{}`", path);
    }
    if (!options_.socket_group.empty()) {
      if (struct group* g = ::getgrnam(options_.socket_group.c_str()); g != nullptr) {
        if (::chown(path.c_str(), static_cast<uid_t>(-1), g->gr_gid) != 0) {
          return base::sys_error("chgrp `{}` to `{}`", path, options_.socket_group);
        }
      }
    }
    return base::ok();
  }

  base::Result<void> serve() override {
    if (!http_.listen_after_bind()) {
      if (stopped_) {
        return base::ok();
      }
      return base::make_error(base::ErrorCode::Internal, "serve on `{}`", options_.socket_path);
    }
    return base::ok();
  }

  void stop() override {
    stopped_ = true;
    http_.stop();
  }

  ~HttpServer() override {
    stop();
    ::unlink(options_.socket_path.c_str());
  }

 private:
  void docker_headers(httplib::Response& res, bool experimental = true) const {
    res.set_header("Api-Version", kApiVersion);
    if (experimental) {
      res.set_header("Docker-Experimental", "false");
    }
    res.set_header("Ostype", "linux");
    res.set_header("Server", "Mydocker/" + options_.version + " (linux)");
  }

  static void not_found(httplib::Response& res) {
    res.status = 404;
    res.set_content(wire::error_body("page not found"), "application/json");
  }

  void error(httplib::Response& res, int status, std::string_view message) const {
    res.status = status;
    res.set_content(wire::error_body(message), "application/json");
  }

  void dispatch(const httplib::Request& hreq, httplib::Response& res,
                const httplib::ContentReader* reader) {
    // Go's net/http refuses an HTTP/1.1 request without Host before any routing (014).
    if (hreq.version == "HTTP/1.1" && !hreq.has_header("Host")) {
      res.status = 400;
      res.set_header("Connection", "close");
      res.set_content("400 Bad Request: missing required Host header", "text/plain; charset=utf-8");
      return;
    }
    std::string_view target = hreq.target;
    size_t qmark = target.find('?');
    std::string_view raw_path = target.substr(0, qmark);
    std::string_view raw_query =
        qmark == std::string_view::npos ? std::string_view() : target.substr(qmark + 1);

    if (hreq.method == "OPTIONS") {  // dockerd's CORS pre-flight route matches every path
      res.status = 200;
      docker_headers(res);
      return;
    }
    std::string cleaned = clean_path(raw_path);
    if (cleaned != raw_path) {
      res.status = 301;
      std::string location = cleaned;
      if (qmark != std::string_view::npos) {
        location += "?" + std::string(raw_query);
      }
      res.set_header("Location", location);
      return;
    }
    auto path = wire::unescape(raw_path, false);
    if (!path) {
      error(res, 400, path.error().message());
      return;
    }

    Request req;
    req.method = hreq.method;
    std::string_view route_path = *path;
    std::optional<wire::ApiVersion> version;
    std::string version_text;
    if (route_path.size() > 2 && route_path.substr(0, 2) == "/v") {
      size_t slash = route_path.find('/', 2);
      std::string_view v = route_path.substr(
          2, slash == std::string_view::npos ? std::string_view::npos : slash - 2);
      if (is_version_text(v) && slash != std::string_view::npos) {
        version_text = std::string(v);
        route_path = route_path.substr(slash);
        version = wire::ApiVersion::parse(v);
        if (!version) {
          not_found(res);
          return;
        }
      }
    }

    const Route* route = nullptr;
    std::string method = hreq.method == "HEAD" ? "GET" : hreq.method;
    for (const auto& r : routes_) {
      std::map<std::string, std::string> params;
      if (method == r.method && match_route(r.pattern, route_path, params)) {
        route = &r;
        req.params = std::move(params);
        break;
      }
    }
    if (route == nullptr) {
      not_found(res);
      return;
    }

    static const auto kMin = *wire::ApiVersion::parse(kMinApiVersion);
    static const auto kMax = *wire::ApiVersion::parse(kMaxAcceptedApiVersion);
    static const auto kOwn = *wire::ApiVersion::parse(kApiVersion);
    if (version && *version > kMax) {
      docker_headers(res, false);
      error(res, 400,
            fmt::format("client version {} is too new. Maximum supported API version is {}",
                        version_text, kMaxAcceptedApiVersion));
      return;
    }
    if (version && *version < kMin) {
      docker_headers(res, false);
      res.status = 400;
      res.set_header("X-Content-Type-Options", "nosniff");
      res.set_content(fmt::format("client version {} is too old. Minimum supported API version "
                                  "is {}, please upgrade your client to a newer version\n",
                                  version_text, kMinApiVersion),
                      "text/plain; charset=utf-8");
      return;
    }
    docker_headers(res);
    req.version = version.value_or(kOwn);
    req.path = std::string(route_path);
    for (const auto& [k, v] : hreq.headers) {
      req.headers.emplace(k, v);
    }
    auto query = wire::parse_query(raw_query);
    if (!query) {
      error(res, 400, query.error().message());
      return;
    }
    req.query = std::move(*query);

    auto consumed = std::make_shared<bool>(false);
    if (route->body == BodyMode::Stream && reader != nullptr) {
      req.body_reader = [reader, consumed](const BodyReceiver& receiver) {
        *consumed = true;
        return (*reader)(
            [&](const char* data, size_t len) { return receiver(std::string_view(data, len)); });
      };
    } else {
      size_t limit = kDefaultJsonLimit;
      if (options_.max_body_bytes > 0) {
        limit = std::min(limit, options_.max_body_bytes);
      }
      bool too_large = false;
      if (reader != nullptr) {
        (*reader)([&](const char* data, size_t len) {
          if (req.body.size() + len > limit) {
            too_large = true;
            return false;
          }
          req.body.append(data, len);
          return true;
        });
      } else {
        req.body = hreq.body;
        too_large = req.body.size() > limit;
      }
      if (too_large) {
        res.set_header("Connection", "close");
        error(res, 413, fmt::format("request body is larger than {} bytes", limit));
        return;
      }
      if ((route->body == BodyMode::Json || route->body == BodyMode::Hijack) && !req.body.empty()) {
        std::string ct = hreq.get_header_value("Content-Type");
        if (media_type(ct) != "application/json") {
          error(res, 400,
                fmt::format("Content-Type specified ({}) must be 'application/json'", ct));
          return;
        }
      }
    }

    if (route->body == BodyMode::Hijack) {
      // dockerd checks only that the header is there (its value is not looked at).
      bool upgrade = hreq.has_header("Upgrade");
      req.hijack = [upgrade](const Response& head) { return hijack_connection(upgrade, head); };
    }

    Response resp;
    base::Result<void> r = base::ok();
    try {
      r = route->handler(ctx_, req, resp);
    } catch (const std::exception& e) {
      // Libraries the handlers call may throw (nlohmann, std::filesystem without an
      // error_code): a JSON 500, the daemon unharmed.
      r = base::make_error(base::ErrorCode::Internal, "{}", e.what());
    }
    if (req.body_reader && !*consumed) {
      // A stream route that failed before reading its body: drain it, or its bytes would be
      // parsed as the next request on this keep-alive connection.
      (*reader)([](const char*, size_t) { return true; });
    }
    if (t_conn != nullptr && t_conn->hijacked()) {
      return;  // answered on the connection itself; httplib's response goes nowhere
    }
    if (!r) {
      int status = http_status(r.error().code());
      if (status == 304) {
        res.status = 304;
        return;
      }
      error(res, status, r.error().message());
      return;
    }
    res.status = resp.status;
    for (const auto& [k, v] : resp.headers) {
      res.set_header(k, v);
    }
    if (resp.stream) {
      auto fn = std::move(resp.stream);
      res.set_chunked_content_provider(resp.content_type,
                                       [fn](size_t /*offset*/, httplib::DataSink& sink) {
                                         SinkWriter w(sink);
                                         // httplib writes the body outside its own try: an
                                         // exception here would end the daemon.
                                         try {
                                           fn(w);
                                         } catch (const std::exception&) {
                                           return false;  // cut the stream: a visible error
                                         }
                                         sink.done();
                                         return true;
                                       });
      if (resp.content_type.empty()) {
        res.headers.erase("Content-Type");
      }
      return;
    }
    if (!resp.content_type.empty()) {
      res.set_content(resp.body, resp.content_type);
    } else {
      res.body = std::move(resp.body);
    }
  }

  ServerOptions options_;
  Context ctx_;
  std::vector<Route> routes_;
  ApiHttp http_;
  std::atomic<bool> stopped_{false};
};

}  // namespace

bool CaseInsensitiveLess::operator()(std::string_view a, std::string_view b) const {
  return std::lexicographical_compare(
      a.begin(), a.end(), b.begin(), b.end(),
      [](unsigned char x, unsigned char y) { return std::tolower(x) < std::tolower(y); });
}

std::string Request::param(const std::string& name) const {
  auto it = params.find(name);
  return it == params.end() ? std::string() : it->second;
}

std::optional<std::string> Request::query_value(const std::string& key) const {
  auto it = query.find(key);
  if (it == query.end()) {
    return std::nullopt;
  }
  return it->second;
}

std::vector<std::string> Request::query_values(const std::string& key) const {
  std::vector<std::string> out;
  auto [b, e] = query.equal_range(key);
  for (auto it = b; it != e; ++it) {
    out.push_back(it->second);
  }
  return out;
}

bool Request::query_bool(const std::string& key, bool fallback) const {
  auto v = query_value(key);
  return v ? wire::parse_bool_value(*v) : fallback;
}

std::string Request::header(const std::string& key) const {
  auto it = headers.find(key);
  return it == headers.end() ? std::string() : it->second;
}

void Response::json(int code, std::string text) {
  status = code;
  content_type = "application/json";
  body = std::move(text);
  body += "\n";
}

void Response::empty(int code) {
  status = code;
  content_type.clear();
  body.clear();
}

base::Result<std::unique_ptr<Server>> Server::create(engine::Daemon& daemon,
                                                     const ServerOptions& options) {
  auto server = std::make_unique<HttpServer>(daemon, options);
  MYDOCKER_TRY(server->bind());
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace mydocker::api::server
