// SPDX-License-Identifier: Apache-2.0
#include "api/client/hijack.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>

#include "api/client/client.h"
#include "api/client/stream.h"

namespace mydocker::api::client {

namespace {

// The key names of moby/term's ASCII table, by code.
constexpr std::array<std::string_view, 32> kCtrlKeys = {
    "ctrl-@", "ctrl-a", "ctrl-b", "ctrl-c", "ctrl-d",  "ctrl-e", "ctrl-f", "ctrl-g",
    "ctrl-h", "ctrl-i", "ctrl-j", "ctrl-k", "ctrl-l",  "ctrl-m", "ctrl-n", "ctrl-o",
    "ctrl-p", "ctrl-q", "ctrl-r", "ctrl-s", "ctrl-t",  "ctrl-u", "ctrl-v", "ctrl-w",
    "ctrl-x", "ctrl-y", "ctrl-z", "ctrl-[", "ctrl-\\", "ctrl-]", "ctrl-^", "ctrl-_",
};

// Input bytes waiting for the socket beyond this stop the reading of stdin (backpressure).
constexpr size_t kMaxPendingInput = 1 << 16;

}  // namespace

void HijackedConnection::close_write() {
  if (fd_) {
    ::shutdown(fd_.get(), SHUT_WR);
  }
}

void HijackedConnection::shutdown() {
  if (fd_) {
    ::shutdown(fd_.get(), SHUT_RDWR);
  }
}

base::Result<HijackedConnection> hijack(HttpConnection conn, HttpRequest req) {
  req.upgrade = true;
  HttpResponse head = MYDOCKER_TRY(conn.send(req));
  if (head.status >= 400) {
    return read_daemon_error(conn, head);
  }
  if (head.status != 101 && (head.status < 200 || head.status > 299)) {
    return base::make_error(base::ErrorCode::Unavailable,
                            "the daemon answered the stream request with status {} {}", head.status,
                            head.reason);
  }
  auto [fd, rest] = std::move(conn).release();
  return HijackedConnection(std::move(fd), std::move(rest), std::move(head));
}

base::Result<std::string> parse_detach_keys(std::string_view keys) {
  std::string codes;
  size_t start = 0;
  for (;;) {
    size_t comma = keys.find(',', start);
    std::string_view key = keys.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (key.size() == 1) {
      codes += key[0];
    } else if (key == "DEL") {
      codes += static_cast<char>(127);
    } else {
      bool found = false;
      for (size_t code = 0; code < kCtrlKeys.size(); ++code) {
        if (kCtrlKeys[code] == key) {
          codes += static_cast<char>(code);
          found = true;
          break;
        }
      }
      if (!found) {
        return base::make_error(base::ErrorCode::InvalidArgument, "unknown character: '{}'", key);
      }
    }
    if (comma == std::string_view::npos) {
      return codes;
    }
    start = comma + 1;
  }
}

bool EscapeDetector::feed(std::string_view in, std::string& out) {
  if (keys_.empty()) {
    out.append(in);
    return false;
  }
  for (char c : in) {
    if (c == keys_[matched_]) {
      if (++matched_ == keys_.size()) {
        matched_ = 0;
        return true;
      }
      continue;
    }
    if (matched_ > 0) {
      // The held keys were typed for the container after all.
      out.append(keys_, 0, matched_);
      matched_ = 0;
      if (c == keys_[0]) {
        matched_ = 1;
        continue;
      }
    }
    out += c;
  }
  return false;
}

std::string EscapeDetector::flush() {
  std::string held = keys_.substr(0, matched_);
  matched_ = 0;
  return held;
}

base::Result<PumpEnd> pump(HijackedConnection& conn, const PumpOptions& options) {
  const int sock = conn.fd();
  // Our own socket: non-blocking writes let the loop keep reading output while the daemon
  // is slow to take input (neither side can then block the other).
  int fl = ::fcntl(sock, F_GETFL);
  if (fl >= 0) {
    ::fcntl(sock, F_SETFL, fl | O_NONBLOCK);
  }

  bool stopped = false;
  auto deliver = [&](const OutputSink& sink, std::string_view data) {
    if (sink && !stopped && !sink(data)) {
      stopped = true;
    }
  };
  StreamDemuxer demux([&](StreamKind kind, std::string_view payload) {
    if (kind == StreamKind::Stdout) {
      deliver(options.out, payload);
    } else if (kind == StreamKind::Stderr || kind == StreamKind::SystemErr) {
      deliver(options.err, payload);
    }
  });
  auto output = [&](std::string_view data) -> base::Result<void> {
    if (options.tty) {
      deliver(options.out, data);
      return base::ok();
    }
    auto r = demux.feed(data);
    if (!r) {
      // Go's stdcopy wording, which the docker CLI prints.
      return base::make_error(base::ErrorCode::InvalidArgument, "Unrecognized input header: {}",
                              static_cast<int>(static_cast<uint8_t>(data.empty() ? 0 : data[0])));
    }
    return base::ok();
  };

  if (std::string early = conn.take_buffered(); !early.empty()) {
    MYDOCKER_TRY(output(early));
  }

  EscapeDetector escape(options.detach_keys);
  bool input_open = options.input_fd >= 0;
  bool write_open = true;  // our side of the socket still takes input
  bool half_closed = false;
  std::string pending;  // input not yet written to the socket
  if (!input_open) {
    conn.close_write();
    half_closed = true;
    if (options.input_only) {
      return PumpEnd::InputEnded;
    }
  }

  std::array<char, 65536> buf;
  for (;;) {
    if (stopped) {
      return PumpEnd::Stopped;
    }
    if (!input_open && pending.empty() && !half_closed) {
      conn.close_write();
      half_closed = true;
      if (options.input_only) {
        return PumpEnd::InputEnded;
      }
    }
    std::array<pollfd, 2> fds{};
    nfds_t n = 0;
    fds[n++] = {sock, static_cast<short>(POLLIN | (!pending.empty() && write_open ? POLLOUT : 0)),
                0};
    bool poll_input = input_open && pending.size() < kMaxPendingInput;
    if (poll_input) {
      fds[n++] = {options.input_fd, POLLIN, 0};
    }
    int rc = ::poll(fds.data(), n, -1);
    if (rc < 0) {
      if (errno == EINTR) {
        continue;
      }
      return base::sys_error("poll the attached streams");
    }
    // Output first: what the container said before the input ended still gets out.
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t r = ::read(sock, buf.data(), buf.size());
      if (r < 0 && errno != EAGAIN && errno != EINTR) {
        if (errno == ECONNRESET) {
          return PumpEnd::OutputEnded;
        }
        return base::sys_error("read the attached stream");
      }
      if (r == 0) {
        return PumpEnd::OutputEnded;
      }
      if (r > 0) {
        MYDOCKER_TRY(output(std::string_view(buf.data(), static_cast<size_t>(r))));
      }
    }
    if ((fds[0].revents & POLLOUT) && !pending.empty() && write_open) {
      ssize_t w = ::send(sock, pending.data(), pending.size(), MSG_NOSIGNAL);
      if (w > 0) {
        pending.erase(0, static_cast<size_t>(w));
      } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
        // The daemon stopped reading input (the process closed its stdin); output may
        // still come.
        write_open = false;
        pending.clear();
        input_open = false;
      }
    }
    if (poll_input && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t r = ::read(options.input_fd, buf.data(), buf.size());
      if (r < 0 && (errno == EINTR || errno == EAGAIN)) {
        continue;
      }
      if (r <= 0) {
        // EOF, or EIO from a terminal that hung up: either way the input is over.
        pending += escape.flush();
        input_open = false;
        continue;
      }
      if (escape.feed(std::string_view(buf.data(), static_cast<size_t>(r)), pending)) {
        // Keys typed in the same read before the sequence: one last try, no waiting.
        if (!pending.empty() && write_open) {
          (void)::send(sock, pending.data(), pending.size(), MSG_NOSIGNAL);
        }
        return PumpEnd::Detached;
      }
      if (!write_open) {
        pending.clear();
      }
    }
  }
}

}  // namespace mydocker::api::client

namespace mydocker::api::client {

base::Result<HijackedConnection> Client::hijack(std::string_view path, const Query& query,
                                                const std::optional<Json>& body) const {
  HttpConnection conn = MYDOCKER_TRY(connect());
  HttpRequest req;
  req.method = "POST";
  req.target = versioned(path) + query_string(query);
  if (body) {
    req.headers.emplace_back("Content-Type", "application/json");
    req.body = body->dump();
  }
  return api::client::hijack(std::move(conn), std::move(req));
}

base::Result<HijackedConnection> Client::container_attach(const std::string& id,
                                                          const AttachOptions& options) const {
  // The docker CLI's query: each flag only when set.
  Query q;
  if (options.stream) {
    q.emplace_back("stream", "1");
  }
  if (options.stdin_) {
    q.emplace_back("stdin", "1");
  }
  if (options.stdout_) {
    q.emplace_back("stdout", "1");
  }
  if (options.stderr_) {
    q.emplace_back("stderr", "1");
  }
  if (options.logs) {
    q.emplace_back("logs", "1");
  }
  if (!options.detach_keys.empty()) {
    q.emplace_back("detachKeys", options.detach_keys);
  }
  return hijack("/containers/" + path_escape(id) + "/attach", q, std::nullopt);
}

base::Result<void> Client::container_resize(const std::string& id, int height, int width) const {
  MYDOCKER_TRY(request("POST", "/containers/" + path_escape(id) + "/resize",
                       {{"h", std::to_string(height)}, {"w", std::to_string(width)}}));
  return base::ok();
}

base::Result<std::string> Client::exec_create(const std::string& id, const Json& config) const {
  Json r = MYDOCKER_TRY(post_json("/containers/" + path_escape(id) + "/exec", {}, config));
  if (!r.is_object() || !r.contains("Id") || !r["Id"].is_string() ||
      r["Id"].get<std::string>().empty()) {
    return base::make_error(base::ErrorCode::Internal, "exec ID empty");
  }
  return r["Id"].get<std::string>();
}

base::Result<void> Client::exec_start_detached(const std::string& exec_id, const Json& body) const {
  MYDOCKER_TRY(request("POST", "/exec/" + path_escape(exec_id) + "/start", {}, body));
  return base::ok();
}

base::Result<HijackedConnection> Client::exec_start_attached(const std::string& exec_id,
                                                             const Json& body) const {
  return hijack("/exec/" + path_escape(exec_id) + "/start", {}, body);
}

base::Result<Json> Client::exec_inspect(const std::string& exec_id) const {
  return get_json("/exec/" + path_escape(exec_id) + "/json");
}

base::Result<void> Client::exec_resize(const std::string& exec_id, int height, int width) const {
  MYDOCKER_TRY(request("POST", "/exec/" + path_escape(exec_id) + "/resize",
                       {{"h", std::to_string(height)}, {"w", std::to_string(width)}}));
  return base::ok();
}

}  // namespace mydocker::api::client
