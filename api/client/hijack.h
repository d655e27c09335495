// SPDX-License-Identifier: Apache-2.0
// Hijacked connections (attach, exec start) and the copy loop between them and the CLI's
// standard streams.
//
// The client asks with "Connection: Upgrade" / "Upgrade: tcp"; the daemon answers
// "101 UPGRADED" (or "200 OK" without upgrade, as dockerd answers old clients) and from then
// on the socket carries the container's stdin one way and its output the other: raw bytes
// with a tty, Docker's multiplexed 8-byte frames (api/wire/stream.h) without. The client
// half-closes (shutdown(SHUT_WR)) when its stdin ends, so the process sees EOF; the daemon
// closes the connection when the process' output ends (or the detach keys were typed).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/client/http.h"
#include "runtime/base/error.h"
#include "runtime/base/fd.h"

namespace mydocker::api::client {

class HijackedConnection {
 public:
  HijackedConnection(base::Fd fd, std::string buffered, HttpResponse head)
      : fd_(std::move(fd)), buffered_(std::move(buffered)), head_(std::move(head)) {}

  int fd() const { return fd_.get(); }
  // The daemon's answer head (101 or 200).
  const HttpResponse& head() const { return head_; }
  // Stream bytes the daemon sent right behind the head, read before the hand-over; the
  // caller processes them before reading the socket. Empties the buffer.
  std::string take_buffered() { return std::exchange(buffered_, std::string()); }
  // Half-close: the daemon reads EOF (the process' stdin ends); output keeps flowing.
  void close_write();
  // Both ways: a read blocked in another thread returns.
  void shutdown();

 private:
  base::Fd fd_;
  std::string buffered_;
  HttpResponse head_;
};

// Sends `req` (upgrade set) on `conn` and takes the connection over. Errors: a status >= 400
// is daemon_error(); any other status than 101 or 2xx is Unavailable (not a stream).
base::Result<HijackedConnection> hijack(HttpConnection conn, HttpRequest req);

// Docker's detach key notation (moby/term ToBytes): comma-separated keys, each a single
// character, "ctrl-<c>" for c in @, a-z, [, \, ], ^, _ (codes 0-31), or "DEL" (127).
// InvalidArgument "unknown character: '<key>'" otherwise.
base::Result<std::string> parse_detach_keys(std::string_view keys);
// ctrl-p ctrl-q.
inline const std::string kDefaultDetachKeys = std::string("\x10\x11", 2);

// Finds the detach sequence in a keystroke stream. Bytes that may begin the sequence are
// held back until the next byte decides: the sequence never reaches the container, and a
// partial match followed by another key is forwarded whole (moby/term's escape proxy, but
// also when several keys arrive in one read).
class EscapeDetector {
 public:
  explicit EscapeDetector(std::string keys) : keys_(std::move(keys)) {}
  // Appends to `out` the bytes of `in` to forward. True when the sequence completed; the
  // bytes after it are dropped.
  bool feed(std::string_view in, std::string& out);
  // The held partial match (at the end of the input, where it must be forwarded).
  std::string flush();

 private:
  std::string keys_;
  size_t matched_ = 0;
};

using OutputSink = std::function<bool(std::string_view data)>;  // false: stop

struct PumpOptions {
  // Read and sent to the container; -1: no stdin, the write side is closed at once (as the
  // docker CLI does). Not switched to non-blocking (it may be a shared terminal).
  int input_fd = -1;
  bool tty = false;  // output is raw bytes; else multiplexed frames
  // Detach sequence watched on the input (docker does so only with a tty); "" for none.
  std::string detach_keys;
  // Stdout and stderr (stderr frames and SystemErr frames); null drops them.
  OutputSink out;
  OutputSink err;
  // No output attached (-a stdin alone): the copy ends with the input.
  bool input_only = false;
};

enum class PumpEnd {
  OutputEnded,  // the daemon closed the stream (process gone, or detached server side)
  InputEnded,   // input_only and the input ended
  Detached,     // the detach keys were typed
  Stopped,      // a sink returned false
};

// Copies input to the connection and the connection to the sinks until the output ends or
// the detach keys are typed. Stream bytes buffered in `conn` are delivered first. Errors:
// a corrupt multiplexed stream (InvalidArgument "Unrecognized input header: N", as Go's
// stdcopy), a failing read of the connection.
base::Result<PumpEnd> pump(HijackedConnection& conn, const PumpOptions& options);

}  // namespace mydocker::api::client
