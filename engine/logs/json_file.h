// SPDX-License-Identifier: Apache-2.0
// Docker's json-file log format (leaf target mydocker::logs: base + json). One JSON object a
// line, as dockerd's jsonfilelog driver writes it:
//
//   {"log":"hello\n","stream":"stdout","time":"2026-11-29T18:25:47.850114341Z"}
//
// A line longer than 16 KiB is split into several entries (only the last ends in "\n"), as
// Docker's log copier does. Rotation (log-opts max-size / max-file), as Docker's: before an
// entry is written, a live file of max_size bytes or more is renamed <path>.1 (older ones
// shift to .2 ... and the oldest beyond max_files-1 is deleted) and a new live file is
// started (with max_files 1 the live file is truncated instead). A file may thus pass
// max_size by one entry.
//
// Strings are escaped as Docker's encoder does (Go's HTML-safe escaping: <, >, &, \t and the
// other controls as \u00XX, invalid UTF-8 bytes as \ufffd, U+2028/2029 escaped), times are
// Go's RFC3339Nano (UTC, trailing zeros of the fraction dropped).
//
// The writer is used by mydocker-shim (single-threaded); the reader by the daemon, which may
// read while the shim writes (a partial last line is not returned until complete).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/base/error.h"
#include "runtime/base/fd.h"

namespace mydocker::engine::logs {

struct WriterOptions {
  int64_t max_size = 0;   // bytes; 0 -> no rotation
  int64_t max_files = 1;  // >= 1
};

class JsonFileWriter {
 public:
  // Opens (appending to) `path`, creating it 0640.
  static base::Result<JsonFileWriter> open(const std::string& path, WriterOptions options);
  // Splits `data` into lines; a trailing partial line is buffered per stream until its "\n"
  // arrives or flush() is called. stream: "stdout" | "stderr".
  base::Result<void> write(std::string_view stream, std::string_view data);
  // Writes buffered partial lines (at container exit).
  base::Result<void> flush();

 private:
  JsonFileWriter() = default;
  base::Result<void> rotate();
  base::Result<void> emit(std::string_view stream, std::string_view log, bool newline,
                          const std::string& time, std::string& pending);
  base::Result<void> commit(std::string& pending);
  std::string path_;
  WriterOptions options_;
  base::Fd fd_;
  int64_t size_ = 0;
  std::string partial_stdout_;
  std::string partial_stderr_;
  std::string pending_;  // encoded entries of one write(), reused (its capacity stays)
};

struct Entry {
  std::string stream;  // "stdout" | "stderr"
  std::string log;
  std::string time;            // RFC 3339 nano, as stored
  int64_t time_unix = 0;       // seconds (floor)
  int64_t time_unix_nano = 0;  // the same in nanoseconds
};

struct ReadOptions {
  int64_t since = 0;  // Unix seconds; entries at or after
  int64_t until = 0;  // 0: no bound; entries at or before
  int64_t tail = -1;  // -1: all; else the last N entries (after since/until)
  // When non-zero these replace since/until (API `since=1700000000.5`): Unix nanoseconds,
  // entries at or after since_nano and at or before until_nano (Docker's bounds).
  int64_t since_nano = 0;
  int64_t until_nano = 0;
};

// Reads `path` and its rotated files (oldest first). Returns the byte offset in the live file
// up to which it read, so follow can continue from there. Malformed lines are skipped.
// sink returns false to stop early.
base::Result<int64_t> read_all(const std::string& path, const ReadOptions& options,
                               const std::function<bool(const Entry&)>& sink);
// Reads complete lines of the live file from `offset`; returns the new offset. A live file
// shorter than `offset` was rotated or truncated: reading starts over at 0. A missing file
// reads as empty (offset 0).
base::Result<int64_t> read_from(const std::string& path, int64_t offset,
                                const std::function<bool(const Entry&)>& sink);

// Helpers shared with the shim and the API (pure, no I/O):
// Go's RFC3339Nano in UTC ("2026-11-29T18:25:56.680905338Z", "...:56Z" for whole seconds).
std::string format_time(int64_t unix_nanos);
int64_t now_nanos();  // CLOCK_REALTIME
// RFC 3339 with optional fraction and Z or +hh:mm offset; nullopt when malformed.
std::optional<int64_t> parse_time_nanos(std::string_view text);
// Appends `s` as a JSON string escaped exactly as Docker's json-file encoder does.
void append_json_string(std::string& out, std::string_view s);
// One json-file line, "\n" included: {"log":...,"stream":...,"time":"<time>"}.
std::string encode_entry(std::string_view stream, std::string_view log, std::string_view time);

}  // namespace mydocker::engine::logs
