// SPDX-License-Identifier: Apache-2.0
#include "runtime/base/path_match.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <utility>

namespace mydocker::base {
namespace {

// One UTF-8 code point (Go's utf8.DecodeRuneInString; invalid bytes are U+FFFD, 1 byte).
std::pair<uint32_t, size_t> decode(std::string_view s) {
  auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  if (s.empty()) {
    return {0xFFFD, 0};
  }
  unsigned char c = b(0);
  if (c < 0x80) {
    return {c, 1};
  }
  size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
  if (n == 0 || s.size() < n) {
    return {0xFFFD, 1};
  }
  uint32_t r = c & (0x7F >> n);
  for (size_t i = 1; i < n; ++i) {
    if ((b(i) & 0xC0) != 0x80) {
      return {0xFFFD, 1};
    }
    r = (r << 6) | (b(i) & 0x3F);
  }
  return {r, n};
}

struct Chunk {
  bool star = false;
  std::string_view chunk;
  std::string_view rest;
};

// Splits off the next run of stars and the chunk up to the following unescaped star.
Chunk scan_chunk(std::string_view pattern) {
  Chunk out;
  while (!pattern.empty() && pattern[0] == '*') {
    pattern.remove_prefix(1);
    out.star = true;
  }
  bool in_range = false;
  size_t i = 0;
  for (; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\') {
      ++i;  // the escaped character is part of the chunk
    } else if (c == '[') {
      in_range = true;
    } else if (c == ']') {
      in_range = false;
    } else if (c == '*' && !in_range) {
      break;
    }
  }
  i = std::min(i, pattern.size());
  out.chunk = pattern.substr(0, i);
  out.rest = pattern.substr(i);
  return out;
}

// A class bound: the character, or nullopt for a malformed class.
std::optional<uint32_t> class_char(std::string_view& chunk) {
  if (chunk.empty() || chunk[0] == '-' || chunk[0] == ']') {
    return std::nullopt;
  }
  if (chunk[0] == '\\') {
    chunk.remove_prefix(1);
    if (chunk.empty()) {
      return std::nullopt;
    }
  }
  auto [r, n] = decode(chunk);
  if (r == 0xFFFD && n == 1) {
    return std::nullopt;
  }
  chunk.remove_prefix(n);
  if (chunk.empty()) {
    return std::nullopt;
  }
  return r;
}

// Matches `chunk` (no `*`) at the start of `s`: the rest of `s`, or nullopt. `bad` is set
// for a malformed pattern.
std::optional<std::string_view> match_chunk(std::string_view chunk, std::string_view s, bool& bad) {
  // Go keeps parsing a failed chunk to the end, so a malformed class is still reported.
  bool failed = false;
  while (!chunk.empty()) {
    if (!failed && s.empty()) {
      failed = true;
    }
    switch (chunk[0]) {
      case '[': {
        uint32_t r = 0;
        if (!failed) {
          auto [rr, n] = decode(s);
          r = rr;
          s.remove_prefix(n);
        }
        chunk.remove_prefix(1);
        bool negated = false;
        if (!chunk.empty() && chunk[0] == '^') {
          negated = true;
          chunk.remove_prefix(1);
        }
        bool matched = false;
        int ranges = 0;
        for (;;) {
          if (!chunk.empty() && chunk[0] == ']' && ranges > 0) {
            chunk.remove_prefix(1);
            break;
          }
          std::optional<uint32_t> lo = class_char(chunk);
          if (!lo) {
            bad = true;
            return std::nullopt;
          }
          uint32_t hi = *lo;
          if (chunk[0] == '-') {
            chunk.remove_prefix(1);
            std::optional<uint32_t> h = class_char(chunk);
            if (!h) {
              bad = true;
              return std::nullopt;
            }
            hi = *h;
          }
          if (*lo <= r && r <= hi) {
            matched = true;
          }
          ++ranges;
        }
        if (matched == negated) {
          failed = true;
        }
        break;
      }
      case '?':
        if (!failed) {
          if (s[0] == '/') {
            failed = true;
          }
          s.remove_prefix(decode(s).second);
        }
        chunk.remove_prefix(1);
        break;
      case '\\':
        chunk.remove_prefix(1);
        if (chunk.empty()) {
          bad = true;
          return std::nullopt;
        }
        [[fallthrough]];
      default:
        if (!failed) {
          if (chunk[0] != s[0]) {
            failed = true;
          }
          s.remove_prefix(1);
        }
        chunk.remove_prefix(1);
        break;
    }
  }
  if (failed) {
    return std::nullopt;
  }
  return s;
}

Error bad_pattern() {
  return make_error(ErrorCode::InvalidArgument, "syntax error in pattern");
}

}  // namespace

Result<bool> path_match(std::string_view pattern, std::string_view name) {
  while (!pattern.empty()) {
    Chunk c = scan_chunk(pattern);
    pattern = c.rest;
    if (c.star && c.chunk.empty()) {
      return name.find('/') == std::string_view::npos;
    }
    bool bad = false;
    std::optional<std::string_view> t = match_chunk(c.chunk, name, bad);
    if (t && (t->empty() || !pattern.empty())) {
      name = *t;
      continue;
    }
    if (bad) {
      return bad_pattern();
    }
    bool advanced = false;
    if (c.star) {
      for (size_t i = 0; i < name.size() && name[i] != '/'; ++i) {
        t = match_chunk(c.chunk, name.substr(i + 1), bad);
        if (t) {
          if (pattern.empty() && !t->empty()) {
            continue;
          }
          name = *t;
          advanced = true;
          break;
        }
        if (bad) {
          return bad_pattern();
        }
      }
    }
    if (advanced) {
      continue;
    }
    // Report a malformed remainder even when the match already failed, as Go does.
    while (!pattern.empty()) {
      c = scan_chunk(pattern);
      pattern = c.rest;
      match_chunk(c.chunk, "", bad);
      if (bad) {
        return bad_pattern();
      }
    }
    return false;
  }
  return name.empty();
}

}  // namespace mydocker::base
