// SPDX-License-Identifier: Apache-2.0
// Private to engine/container: reading a request body the way Go's json.Decoder reads it, so
// that dockerd's error texts come out word for word.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "runtime/base/error.h"

namespace mydocker::engine::go_json {

// The first JSON value of `body` (what json.NewDecoder(r).Decode reads; trailing bytes are
// ignored, as Decode ignores them). InvalidArgument with Go's wording: "EOF" for an empty or
// blank body, "unexpected EOF" for a truncated value, "invalid character 'x' looking for
// beginning of value" and the other scanner messages for a syntax error.
base::Result<nlohmann::json> decode_first_value(std::string_view body);

// Go's quoteChar: how the scanner prints the offending byte ('x', '\n', '\x01', ...).
std::string quote_char(unsigned char c);

}  // namespace mydocker::engine::go_json
