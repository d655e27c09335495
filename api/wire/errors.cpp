// SPDX-License-Identifier: Apache-2.0
#include "api/wire/errors.h"

#include <nlohmann/json.hpp>

namespace mydocker::api::wire {

std::string error_body(std::string_view message) {
  nlohmann::json j = {{"message", std::string(message)}};
  // Invalid UTF-8 in a message (a path from the client) must not throw: replace it.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::optional<std::string> parse_error_body(std::string_view body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return std::nullopt;
  }
  auto it = j.find("message");
  if (it == j.end() || !it->is_string()) {
    return std::nullopt;
  }
  return it->get<std::string>();
}

}  // namespace mydocker::api::wire
