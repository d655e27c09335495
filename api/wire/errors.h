// SPDX-License-Identifier: Apache-2.0
// Docker's error body: {"message":"..."} followed by "\n", as dockerd writes every JSON body.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mydocker::api::wire {

// `{"message":"<message>"}\n` with the message JSON-escaped.
std::string error_body(std::string_view message);

// The message of an error body; nullopt when `body` is not {"message": string}.
std::optional<std::string> parse_error_body(std::string_view body);

}  // namespace mydocker::api::wire
