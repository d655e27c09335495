// SPDX-License-Identifier: Apache-2.0
// Docker Engine API versions ("1.41"): parsing and ordering, shared by server and client.
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>

namespace mydocker::api::wire {

struct ApiVersion {
  int major = 1;
  int minor = 0;

  // "1.41" -> {1, 41}. Exactly two dot-separated decimal numbers; anything else is nullopt.
  static std::optional<ApiVersion> parse(std::string_view text);
  std::string str() const;  // "1.41"
  auto operator<=>(const ApiVersion&) const = default;
};

}  // namespace mydocker::api::wire
