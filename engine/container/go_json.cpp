// SPDX-License-Identifier: Apache-2.0
#include "engine/container/go_json.h"

#include <fmt/format.h>

#include <optional>
#include <string>

namespace mydocker::engine::go_json {
namespace {

using base::ErrorCode;

// A recursive-descent copy of the grammar Go's scanner enforces, reporting its messages. It
// only validates and finds where the first value ends; nlohmann then builds the value.
class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}

  // The end offset of the first value, or the error text.
  std::optional<std::string> scan_first(size_t& end) {
    skip_ws();
    if (pos_ >= s_.size()) {
      return std::string("EOF");
    }
    if (!value(0)) {
      return err_;
    }
    end = pos_;
    return std::nullopt;
  }

 private:
  static constexpr int kMaxDepth = 10000;  // Go's maxNestingDepth

  bool fail_eof() {
    err_ = "unexpected EOF";
    return false;
  }
  bool fail(std::string_view context) {
    err_ = fmt::format("invalid character {} {}", quote_char(static_cast<unsigned char>(s_[pos_])),
                       context);
    return false;
  }
  void skip_ws() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool at_end() const { return pos_ >= s_.size(); }

  bool value(int depth) {
    if (at_end()) {
      return fail_eof();
    }
    char c = s_[pos_];
    if (c == '{' || c == '[') {
      if (depth >= kMaxDepth) {
        err_ = "exceeded max depth";
        return false;
      }
      return c == '{' ? object(depth + 1) : array(depth + 1);
    }
    if (c == '"') {
      return string();
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      return number();
    }
    if (c == 't') {
      return literal("true");
    }
    if (c == 'f') {
      return literal("false");
    }
    if (c == 'n') {
      return literal("null");
    }
    return fail("looking for beginning of value");
  }

  bool object(int depth) {
    ++pos_;
    skip_ws();
    if (at_end()) {
      return fail_eof();
    }
    if (s_[pos_] == '}') {
      ++pos_;
      return true;
    }
    for (;;) {
      if (at_end()) {
        return fail_eof();
      }
      if (s_[pos_] != '"') {
        return fail("looking for beginning of object key string");
      }
      if (!string()) {
        return false;
      }
      skip_ws();
      if (at_end()) {
        return fail_eof();
      }
      if (s_[pos_] != ':') {
        return fail("after object key");
      }
      ++pos_;
      skip_ws();
      if (!value(depth)) {
        return false;
      }
      skip_ws();
      if (at_end()) {
        return fail_eof();
      }
      if (s_[pos_] == '}') {
        ++pos_;
        return true;
      }
      if (s_[pos_] != ',') {
        return fail("after object key:value pair");
      }
      ++pos_;
      skip_ws();
    }
  }

  bool array(int depth) {
    ++pos_;
    skip_ws();
    if (at_end()) {
      return fail_eof();
    }
    if (s_[pos_] == ']') {
      ++pos_;
      return true;
    }
    for (;;) {
      if (!value(depth)) {
        return false;
      }
      skip_ws();
      if (at_end()) {
        return fail_eof();
      }
      if (s_[pos_] == ']') {
        ++pos_;
        return true;
      }
      if (s_[pos_] != ',') {
        return fail("after array element");
      }
      ++pos_;
      skip_ws();
    }
  }

  static bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }

  bool string() {
    ++pos_;
    for (;;) {
      if (at_end()) {
        return fail_eof();
      }
      auto c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) {
        return fail("in string literal");
      }
      if (c == '\\') {
        ++pos_;
        if (at_end()) {
          return fail_eof();
        }
        char e = s_[pos_];
        if (e == 'u') {
          ++pos_;
          for (int i = 0; i < 4; ++i, ++pos_) {
            if (at_end()) {
              return fail_eof();
            }
            if (!is_hex(s_[pos_])) {
              return fail("in \\u hexadecimal character escape");
            }
          }
          continue;
        }
        if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
          return fail("in string escape code");
        }
      }
      ++pos_;
    }
  }

  bool digit() const { return !at_end() && s_[pos_] >= '0' && s_[pos_] <= '9'; }

  bool number() {
    if (s_[pos_] == '-') {
      ++pos_;
      if (at_end()) {
        return fail_eof();
      }
      if (!digit()) {
        return fail("in numeric literal");
      }
    }
    if (s_[pos_] == '0') {
      ++pos_;
    } else {
      while (digit()) {
        ++pos_;
      }
    }
    // A number ends where a non-number byte starts; at the end of the stream Decode accepts it.
    if (!at_end() && s_[pos_] == '.') {
      ++pos_;
      if (at_end()) {
        return fail_eof();
      }
      if (!digit()) {
        return fail("after decimal point in numeric literal");
      }
      while (digit()) {
        ++pos_;
      }
    }
    if (!at_end() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (!at_end() && (s_[pos_] == '+' || s_[pos_] == '-')) {
        ++pos_;
      }
      if (at_end()) {
        return fail_eof();
      }
      if (!digit()) {
        return fail("in exponent of numeric literal");
      }
      while (digit()) {
        ++pos_;
      }
    }
    return true;
  }

  bool literal(std::string_view word) {
    ++pos_;
    for (size_t i = 1; i < word.size(); ++i, ++pos_) {
      if (at_end()) {
        return fail_eof();
      }
      if (s_[pos_] != word[i]) {
        return fail(fmt::format("in literal {} (expecting '{}')", word, word[i]));
      }
    }
    return true;
  }

  std::string_view s_;
  size_t pos_ = 0;
  std::string err_;
};

}  // namespace

std::string quote_char(unsigned char c) {
  if (c == '\'') {
    return "'\\''";
  }
  if (c == '"') {
    return "'\"'";
  }
  switch (c) {
    case '\a':
      return "'\\a'";
    case '\b':
      return "'\\b'";
    case '\f':
      return "'\\f'";
    case '\n':
      return "'\\n'";
    case '\r':
      return "'\\r'";
    case '\t':
      return "'\\t'";
    case '\v':
      return "'\\v'";
    case '\\':
      return "'\\\\'";
    default:
      break;
  }
  if (c < 0x20 || c == 0x7f) {
    return fmt::format("'\\x{:02x}'", c);
  }
  if (c < 0x80) {
    return fmt::format("'{}'", static_cast<char>(c));
  }
  // Go converts the byte to the rune U+00XX before quoting it.
  if (c < 0xa0 || c == 0xad) {
    return fmt::format("'\\u{:04x}'", c);
  }
  std::string utf8;
  utf8.push_back(static_cast<char>(0xc0 | (c >> 6)));
  utf8.push_back(static_cast<char>(0x80 | (c & 0x3f)));
  return "'" + utf8 + "'";
}

base::Result<nlohmann::json> decode_first_value(std::string_view body) {
  Scanner scanner(body);
  size_t end = 0;
  if (auto err = scanner.scan_first(end)) {
    return base::Error(ErrorCode::InvalidArgument, std::move(*err));
  }
  auto j = nlohmann::json::parse(body.substr(0, end), nullptr, false);
  if (j.is_discarded()) {
    // Valid JSON grammar that nlohmann refuses (invalid UTF-8 inside a string, which Go would
    // replace with U+FFFD).
    return base::make_error(ErrorCode::InvalidArgument, "invalid UTF-8 in JSON string");
  }
  return j;
}

}  // namespace mydocker::engine::go_json
