// SPDX-License-Identifier: Apache-2.0
#include "api/wire/version.h"

#include <charconv>

namespace mydocker::api::wire {
namespace {

std::optional<int> parse_number(std::string_view s) {
  if (s.empty() || s.size() > 6) {
    return std::nullopt;
  }
  int v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) {
    return std::nullopt;
  }
  return v;
}

}  // namespace

std::optional<ApiVersion> ApiVersion::parse(std::string_view text) {
  auto dot = text.find('.');
  if (dot == std::string_view::npos) {
    return std::nullopt;
  }
  auto major = parse_number(text.substr(0, dot));
  auto minor = parse_number(text.substr(dot + 1));
  if (!major || !minor) {
    return std::nullopt;
  }
  return ApiVersion{*major, *minor};
}

std::string ApiVersion::str() const {
  return std::to_string(major) + "." + std::to_string(minor);
}

}  // namespace mydocker::api::wire
