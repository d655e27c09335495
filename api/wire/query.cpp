// SPDX-License-Identifier: Apache-2.0
#include "api/wire/query.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "runtime/base/strings.h"

namespace mydocker::api::wire {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

}  // namespace

base::Result<std::string> unescape(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size() || hex_value(s[i + 1]) < 0 || hex_value(s[i + 2]) < 0) {
        // Go reports at most the 3 bytes from the '%'.
        std::string_view bad = s.substr(i, std::min<size_t>(3, s.size() - i));
        return base::make_error(base::ErrorCode::InvalidArgument, "invalid URL escape \"{}\"", bad);
      }
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

base::Result<Query> parse_query(std::string_view raw) {
  Query q;
  size_t pos = 0;
  while (pos <= raw.size()) {
    size_t amp = raw.find('&', pos);
    std::string_view pair = raw.substr(pos, amp == std::string_view::npos ? raw.npos : amp - pos);
    pos = amp == std::string_view::npos ? raw.size() + 1 : amp + 1;
    if (pair.empty() || pair.find(';') != std::string_view::npos) {
      continue;
    }
    size_t eq = pair.find('=');
    std::string_view k = pair.substr(0, eq);
    std::string_view v = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    auto key = MYDOCKER_TRY(unescape(k, true));
    auto value = MYDOCKER_TRY(unescape(v, true));
    q.emplace(std::move(key), std::move(value));
  }
  return q;
}

std::string escape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    }
  }
  return out;
}

bool parse_bool_value(std::string_view v) {
  std::string s = base::ascii_lower(base::trim(v));
  return !(s.empty() || s == "0" || s == "no" || s == "false" || s == "none");
}

base::Result<int64_t> parse_int_value(std::string_view v) {
  std::string_view digits = v;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
    digits.remove_prefix(1);
  }
  bool all_digits = !digits.empty() && std::all_of(digits.begin(), digits.end(),
                                                   [](char c) { return c >= '0' && c <= '9'; });
  if (!all_digits) {
    return base::make_error(base::ErrorCode::InvalidArgument,
                            "strconv.Atoi: parsing \"{}\": invalid syntax", v);
  }
  int64_t out = 0;
  std::string_view num = v[0] == '+' ? v.substr(1) : v;
  auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), out);
  if (ec != std::errc() || ptr != num.data() + num.size()) {
    return base::make_error(base::ErrorCode::InvalidArgument,
                            "strconv.Atoi: parsing \"{}\": value out of range", v);
  }
  return out;
}

}  // namespace mydocker::api::wire
