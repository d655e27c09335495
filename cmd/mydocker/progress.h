// SPDX-License-Identifier: Apache-2.0
// The display of the daemon's JSON progress streams (pull, push; build later), as docker's
// jsonmessage package renders them.
//
// On a terminal every message with an id and a progressDetail owns one line, which later
// messages for that id rewrite in place (cursor up to it, erase, write, cursor down); a
// message without an id starts a new block. Downloading/Extracting/Pushing show a bar
// "[=====>      ]  12.3MB/45.6MB" (the bar only when the terminal is wider than 110 columns,
// the time left only when wider than 50). Without a terminal: one line per status, messages
// whose progressDetail carries numbers are dropped, no escape codes.
//
// The renderer is pure: messages (or raw stream bytes) in, the exact bytes to write out.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace mydocker::cli {

// docker's units.HumanSize: 4 significant digits, powers of 1000 ("33.28kB", "1.982MB", "0B").
std::string human_size(double bytes);
// Go's time.Duration.String() for whole seconds ("0s", "45s", "2m0s", "1h2m3s").
std::string duration_string(int64_t seconds);

struct ProgressDetail {
  int64_t current = 0;
  int64_t total = 0;
  int64_t start = 0;  // Unix seconds
  bool hide_counts = false;
  std::string units;
};

// docker's JSONProgress.String() for a terminal `width` columns wide; `now_ns` is the current
// Unix time in nanoseconds (for the time left).
std::string progress_string(const ProgressDetail& p, int width, int64_t now_ns);

class ProgressRenderer {
 public:
  // `tty`: render for a terminal of `width` columns. `now_ns` gives the current Unix time in
  // nanoseconds (the clock by default).
  ProgressRenderer(bool tty, int width, std::function<int64_t()> now_ns = nullptr);

  // Called with the `aux` object of messages that carry one (push's Tag/Digest/Size).
  void on_aux(std::function<void(const nlohmann::json&)> cb) { aux_ = std::move(cb); }

  // One decoded message -> the bytes to write. An error message (errorDetail or error) is not
  // written: it is kept in error() and everything after it is ignored, as docker stops there.
  std::string render(const nlohmann::json& message);
  // Raw stream bytes (JSON values separated by newlines, split anywhere) -> bytes to write.
  std::string feed(std::string_view data);
  // Whatever is left without a final newline.
  std::string finish();

  const std::optional<std::string>& error() const { return error_; }

 private:
  std::string line(std::string_view text);

  bool tty_;
  int width_;
  std::function<int64_t()> now_ns_;
  std::function<void(const nlohmann::json&)> aux_;
  std::map<std::string, size_t> ids_;  // id -> its line in the current block
  std::string buf_;
  std::optional<std::string> error_;
};

}  // namespace mydocker::cli
