// SPDX-License-Identifier: Apache-2.0
// Query strings as dockerd reads them: strict percent-decoding (Go's url.ParseQuery errors),
// booleans and integers with Docker's rules and Go's error wording, and the `filters`
// parameter (filters.h).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "runtime/base/error.h"

namespace mydocker::api::wire {

using Query = std::multimap<std::string, std::string>;

// Go's url.QueryUnescape / PathUnescape. InvalidArgument `invalid URL escape "%zz"`.
base::Result<std::string> unescape(std::string_view s, bool plus_is_space);

// "a=1&b=x%20y&a=2" -> {a:1, a:2, b:"x y"}. Keys without "=" get "". Pairs separated by '&'
// (Go >= 1.17 refuses ';' too: such pairs are dropped, as Go drops them).
base::Result<Query> parse_query(std::string_view raw);

// Percent-encodes a query value (client side).
std::string escape(std::string_view s);

// Docker's httputils.BoolValue: "", "0", "no", "false", "none" (any case, trimmed) are false,
// anything else true.
bool parse_bool_value(std::string_view v);

// Go's strconv.Atoi as dockerd calls it on query values; InvalidArgument worded as Go:
// `strconv.Atoi: parsing "abc": invalid syntax` / `...: value out of range`.
base::Result<int64_t> parse_int_value(std::string_view v);

}  // namespace mydocker::api::wire
