// SPDX-License-Identifier: Apache-2.0
#include "engine/logs/json_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <ctime>
#include <deque>
#include <nlohmann/json.hpp>

#include "runtime/base/file.h"

namespace mydocker::engine::logs {

namespace {

using base::ErrorCode;

// Docker's log copier hands the driver at most this many bytes of one line at a time.
constexpr size_t kMaxLine = 16 * 1024;
constexpr int64_t kNanos = 1'000'000'000;

void append_hex_escape(std::string& out, unsigned c) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += "\\u00";
  out += kHex[(c >> 4) & 0xf];
  out += kHex[c & 0xf];
}

// Length of the valid UTF-8 sequence at s[i], or 0 when the byte does not start one. The
// ranges are those Go's utf8.DecodeRune accepts (no overlongs, no surrogates, <= U+10FFFF).
size_t utf8_sequence(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned c = b(i);
  auto cont = [&](size_t k, unsigned lo, unsigned hi) {
    return k < s.size() && b(k) >= lo && b(k) <= hi;
  };
  if (c >= 0xc2 && c <= 0xdf) {
    return cont(i + 1, 0x80, 0xbf) ? 2 : 0;
  }
  if (c >= 0xe0 && c <= 0xef) {
    unsigned lo = c == 0xe0 ? 0xa0 : 0x80;
    unsigned hi = c == 0xed ? 0x9f : 0xbf;
    return cont(i + 1, lo, hi) && cont(i + 2, 0x80, 0xbf) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    unsigned lo = c == 0xf0 ? 0x90 : 0x80;
    unsigned hi = c == 0xf4 ? 0x8f : 0xbf;
    return cont(i + 1, lo, hi) && cont(i + 2, 0x80, 0xbf) && cont(i + 3, 0x80, 0xbf) ? 4 : 0;
  }
  return 0;
}

// Exactly `n` decimal digits at `pos`.
bool parse_digits(std::string_view s, size_t pos, size_t n, int64_t& out) {
  if (pos + n > s.size()) {
    return false;
  }
  int64_t v = 0;
  for (size_t k = 0; k < n; ++k) {
    char ch = s[pos + k];
    if (ch < '0' || ch > '9') {
      return false;
    }
    v = v * 10 + (ch - '0');
  }
  out = v;
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

std::string rotated_name(const std::string& path, int64_t n) {
  return path + "." + std::to_string(n);
}

// Reads complete lines from `fd` (from its current offset), calling `line` for each without
// its "\n". Returns the bytes consumed (complete lines only); `line` returning false stops.
base::Result<int64_t> read_lines(int fd, const std::function<bool(std::string_view)>& line) {
  std::string buf;
  int64_t consumed = 0;
  char chunk[64 * 1024];
  for (;;) {
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return base::sys_error("read log");
    }
    if (n == 0) {
      return consumed;
    }
    buf.append(chunk, static_cast<size_t>(n));
    size_t start = 0;
    for (;;) {
      size_t nl = buf.find('\n', start);
      if (nl == std::string::npos) {
        break;
      }
      consumed += static_cast<int64_t>(nl - start + 1);
      if (!line(std::string_view(buf).substr(start, nl - start))) {
        return consumed;
      }
      start = nl + 1;
    }
    buf.erase(0, start);
  }
}

std::optional<Entry> parse_entry(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return std::nullopt;
  }
  Entry e;
  auto log = j.find("log");
  if (log != j.end() && log->is_string()) {
    e.log = log->get<std::string>();
  }
  auto stream = j.find("stream");
  if (stream != j.end() && stream->is_string()) {
    e.stream = stream->get<std::string>();
  }
  auto time = j.find("time");
  if (time == j.end() || !time->is_string()) {
    return std::nullopt;
  }
  e.time = time->get<std::string>();
  auto ns = parse_time_nanos(e.time);
  if (!ns) {
    return std::nullopt;
  }
  e.time_unix_nano = *ns;
  e.time_unix = *ns >= 0 ? *ns / kNanos : -((-*ns + kNanos - 1) / kNanos);
  return e;
}

}  // namespace

std::string format_time(int64_t unix_nanos) {
  int64_t secs = unix_nanos / kNanos;
  int64_t frac = unix_nanos % kNanos;
  if (frac < 0) {
    frac += kNanos;
    --secs;
  }
  time_t t = static_cast<time_t>(secs);
  struct tm tm {};
  ::gmtime_r(&t, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out(buf, n);
  if (frac != 0) {
    // Go's RFC3339Nano: up to nine digits, trailing zeros dropped.
    char digits[16];
    std::snprintf(digits, sizeof digits, ".%09lld", static_cast<long long>(frac));
    std::string_view d(digits);
    while (d.back() == '0') {
      d.remove_suffix(1);
    }
    out += d;
  }
  out += 'Z';
  return out;
}

int64_t now_nanos() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * kNanos + ts.tv_nsec;
}

std::optional<int64_t> parse_time_nanos(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|+hh:mm|-hh:mm)
  int64_t year, month, day, hour, minute, second;
  if (!parse_digits(s, 0, 4, year) || s.size() < 19 || s[4] != '-' ||
      !parse_digits(s, 5, 2, month) || s[7] != '-' || !parse_digits(s, 8, 2, day) ||
      (s[10] != 'T' && s[10] != 't') || !parse_digits(s, 11, 2, hour) || s[13] != ':' ||
      !parse_digits(s, 14, 2, minute) || s[16] != ':' || !parse_digits(s, 17, 2, second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  size_t pos = 19;
  int64_t frac = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 9) {
        frac = frac * 10 + (s[pos] - '0');
      }
      ++digits;
      ++pos;
    }
    if (digits == 0) {
      return std::nullopt;
    }
    for (size_t k = digits; k < 9; ++k) {
      frac *= 10;
    }
  }
  int64_t offset = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int64_t oh, om;
    if (!parse_digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !parse_digits(s, pos + 4, 2, om)) {
      return std::nullopt;
    }
    offset = (oh * 3600 + om * 60) * (s[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) {
    return std::nullopt;
  }
  int64_t secs =
      days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset;
  return secs * kNanos + frac;
}

// Bytes a JSON string cannot hold as they are: controls, the quote and backslash, Go's
// HTML-safe <, > and &, and everything non-ASCII (checked as UTF-8 one sequence at a time).
constexpr std::array<bool, 256> kNeedsCare = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) {
    t[static_cast<size_t>(c)] =
        c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&';
  }
  return t;
}();

// Appends the escaped body of a JSON string (no quotes). Runs of plain bytes are copied in one
// append: container output is mostly ASCII text, and per-byte appends made the log the
// bottleneck of a container's stdout.
static void append_json_body(std::string& out, std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    size_t run = i;
    while (run < s.size() && !kNeedsCare[static_cast<unsigned char>(s[run])]) {
      ++run;
    }
    if (run > i) {
      out.append(s.data() + i, run - i);
      i = run;
      if (i == s.size()) {
        break;
      }
    }
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c == '\\' || c == '"') {
        out += '\\';
        out += static_cast<char>(c);
      } else if (c == '\n') {
        out += "\\n";
      } else if (c == '\r') {
        out += "\\r";
      } else {
        // Docker writes \t, the other controls and <, >, & (HTML-safe) as \u00XX.
        append_hex_escape(out, c);
      }
      ++i;
      continue;
    }
    size_t n = utf8_sequence(s, i);
    if (n == 0) {
      out += "\\ufffd";  // each invalid byte, as Go's encoder replaces it
      ++i;
      continue;
    }
    // U+2028 and U+2029 (E2 80 A8/A9) break JavaScript parsers: Go escapes them.
    if (n == 3 && c == 0xe2 && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(s[i + 2]) & 0xfe) == 0xa8) {
      out += static_cast<unsigned char>(s[i + 2]) == 0xa8 ? "\\u2028" : "\\u2029";
    } else {
      out.append(s.substr(i, n));
    }
    i += n;
  }
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  append_json_body(out, s);
  out += '"';
}

std::string encode_entry(std::string_view stream, std::string_view log, std::string_view time) {
  std::string out;
  out.reserve(log.size() + 64);
  out += "{\"log\":";
  append_json_string(out, log);
  out += ",\"stream\":";
  append_json_string(out, stream);
  out += ",\"time\":\"";
  out += time;
  out += "\"}\n";
  return out;
}

base::Result<JsonFileWriter> JsonFileWriter::open(const std::string& path, WriterOptions options) {
  if (options.max_files < 1) {
    return base::make_error(ErrorCode::InvalidArgument, "max-file `{}`: must be at least 1",
                            options.max_files);
  }
  if (options.max_size < 0) {
    return base::make_error(ErrorCode::InvalidArgument, "max-size `{}`: must not be negative",
                            options.max_size);
  }
  JsonFileWriter w;
  w.path_ = path;
  w.options_ = options;
  w.fd_ = MYDOCKER_TRY_CTX(base::Fd::open(path, O_WRONLY | O_CREAT | O_APPEND, 0640),
                           "open log `{}`", path);
  struct stat st {};
  if (::fstat(w.fd_.get(), &st) < 0) {
    return base::sys_error("stat log `{}`", path);
  }
  w.size_ = st.st_size;
  return w;
}

base::Result<void> JsonFileWriter::rotate() {
  if (options_.max_files < 2) {
    // Docker keeps no old file with max-file=1: the live file starts over.
    if (::ftruncate(fd_.get(), 0) < 0) {
      return base::sys_error("truncate log `{}`", path_);
    }
    size_ = 0;
    return base::ok();
  }
  ::unlink(rotated_name(path_, options_.max_files - 1).c_str());
  for (int64_t n = options_.max_files - 2; n >= 1; --n) {
    if (::rename(rotated_name(path_, n).c_str(), rotated_name(path_, n + 1).c_str()) < 0 &&
        errno != ENOENT) {
      return base::sys_error("rotate log `{}`", rotated_name(path_, n));
    }
  }
  if (::rename(path_.c_str(), rotated_name(path_, 1).c_str()) < 0) {
    return base::sys_error("rotate log `{}`", path_);
  }
  fd_ = MYDOCKER_TRY_CTX(base::Fd::open(path_, O_WRONLY | O_CREAT | O_APPEND | O_TRUNC, 0640),
                         "open log `{}`", path_);
  size_ = 0;
  return base::ok();
}

base::Result<void> JsonFileWriter::emit(std::string_view stream, std::string_view log, bool newline,
                                        const std::string& time, std::string& pending) {
  // Docker checks the size before each message: a file may pass max-size by one entry.
  if (options_.max_size > 0 && size_ + static_cast<int64_t>(pending.size()) >= options_.max_size) {
    MYDOCKER_TRY(commit(pending));
    MYDOCKER_TRY(rotate());
  }
  pending.reserve(pending.size() + log.size() + 80);
  pending += "{\"log\":\"";
  append_json_body(pending, log);
  if (newline) {
    pending += "\\n";
  }
  pending += "\",\"stream\":\"";
  pending += stream;  // "stdout" | "stderr": nothing to escape
  pending += "\",\"time\":\"";
  pending += time;
  pending += "\"}\n";
  return base::ok();
}

base::Result<void> JsonFileWriter::commit(std::string& pending) {
  if (pending.empty()) {
    return base::ok();
  }
  auto written = base::write_all(fd_.get(), pending);
  size_ += static_cast<int64_t>(pending.size());
  pending.clear();
  if (!written) {
    return std::move(written).error().wrap(fmt::format("write log `{}`", path_));
  }
  return base::ok();
}

base::Result<void> JsonFileWriter::write(std::string_view stream, std::string_view data) {
  if (stream != "stdout" && stream != "stderr") {
    return base::make_error(ErrorCode::InvalidArgument, "log stream `{}`", stream);
  }
  std::string& partial = stream == "stdout" ? partial_stdout_ : partial_stderr_;
  const std::string time = format_time(now_nanos());
  std::string& pending = pending_;
  pending.clear();
  size_t pos = 0;
  while (pos < data.size()) {
    const void* hit = std::memchr(data.data() + pos, '\n', data.size() - pos);
    size_t nl = hit == nullptr ? std::string_view::npos
                               : static_cast<size_t>(static_cast<const char*>(hit) - data.data());
    size_t end = nl == std::string_view::npos ? data.size() : nl;
    // The line so far: straight from `data` unless an earlier write left a partial one.
    std::string_view line = data.substr(pos, end - pos);
    if (!partial.empty()) {
      partial.append(line);
      line = partial;
    }
    // A long line goes out in 16 KiB pieces without "\n"; the piece that ends it gets one.
    size_t off = 0;
    while (line.size() - off > kMaxLine) {
      MYDOCKER_TRY(emit(stream, line.substr(off, kMaxLine), false, time, pending));
      off += kMaxLine;
    }
    if (nl == std::string_view::npos) {
      if (partial.empty()) {
        partial.assign(line.substr(off));
      } else {
        partial.erase(0, off);
      }
      break;
    }
    MYDOCKER_TRY(emit(stream, line.substr(off), true, time, pending));
    partial.clear();
    pos = nl + 1;
  }
  return commit(pending);
}

base::Result<void> JsonFileWriter::flush() {
  const std::string time = format_time(now_nanos());
  std::string pending;
  for (auto [stream, partial] :
       {std::pair<std::string_view, std::string*>{"stdout", &partial_stdout_},
        {"stderr", &partial_stderr_}}) {
    if (!partial->empty()) {
      MYDOCKER_TRY(emit(stream, *partial, false, time, pending));
      partial->clear();
    }
  }
  return commit(pending);
}

base::Result<int64_t> read_all(const std::string& path, const ReadOptions& options,
                               const std::function<bool(const Entry&)>& sink) {
  std::vector<std::string> files;
  for (int64_t n = 1;; ++n) {
    std::string name = rotated_name(path, n);
    if (::access(name.c_str(), F_OK) != 0) {
      break;
    }
    files.insert(files.begin(), name);
  }
  files.push_back(path);
  const int64_t since = options.since_nano != 0 ? options.since_nano : options.since * kNanos;
  const int64_t until = options.until_nano != 0 ? options.until_nano : options.until * kNanos;
  if (options.tail == 0) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
  }
  std::deque<Entry> tail;
  bool stop = false;
  int64_t live_offset = 0;
  for (size_t k = 0; k < files.size() && !stop; ++k) {
    auto fd = base::Fd::open(files[k], O_RDONLY);
    if (!fd) {
      if (fd.error().sys_errno() == ENOENT) {
        continue;  // rotated away while we listed, or no output yet
      }
      return std::move(fd).error().wrap(fmt::format("open log `{}`", files[k]));
    }
    auto consumed = MYDOCKER_TRY(read_lines(fd->get(), [&](std::string_view line) {
      auto e = parse_entry(line);
      if (!e) {
        return true;
      }
      if (since > 0 && e->time_unix_nano < since) {
        return true;
      }
      if (until > 0 && e->time_unix_nano > until) {
        return true;  // entries are in time order per stream, not across: keep scanning
      }
      if (options.tail > 0) {
        tail.push_back(std::move(*e));
        if (static_cast<int64_t>(tail.size()) > options.tail) {
          tail.pop_front();
        }
        return true;
      }
      if (!sink(*e)) {
        stop = true;
        return false;
      }
      return true;
    }));
    if (k + 1 == files.size()) {
      live_offset = consumed;
    }
  }
  for (const auto& e : tail) {
    if (!sink(e)) {
      break;
    }
  }
  return live_offset;
}

base::Result<int64_t> read_from(const std::string& path, int64_t offset,
                                const std::function<bool(const Entry&)>& sink) {
  auto fd = base::Fd::open(path, O_RDONLY);
  if (!fd) {
    if (fd.error().sys_errno() == ENOENT) {
      return int64_t{0};
    }
    return std::move(fd).error().wrap(fmt::format("open log `{}`", path));
  }
  struct stat st {};
  if (::fstat(fd->get(), &st) < 0) {
    return base::sys_error("stat log `{}`", path);
  }
  // A file shorter than where we were has been rotated or truncated: start over.
  if (st.st_size < offset) {
    offset = 0;
  }
  if (::lseek(fd->get(), offset, SEEK_SET) < 0) {
    return base::sys_error("seek log `{}`", path);
  }
  auto consumed = MYDOCKER_TRY(read_lines(fd->get(), [&](std::string_view line) {
    auto e = parse_entry(line);
    return !e || sink(*e);
  }));
  return offset + consumed;
}

}  // namespace mydocker::engine::logs
