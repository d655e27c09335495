// SPDX-License-Identifier: Apache-2.0
// Docker's `filters` query parameter (filters.Args): a JSON object of key -> values, in the
// current form {"label":["a=1","b"]} or the old one {"label":{"a=1":true}} (docker CLI < 1.10
// and some SDKs still send it).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/error.h"

namespace mydocker::api::wire {

// key -> values (a set: sorted, no duplicates).
using Filters = std::map<std::string, std::vector<std::string>>;

// "" or "{}" -> empty. Malformed JSON is InvalidArgument worded as Go's encoding/json words it
// ("invalid character 'o' in literal null (expecting 'u')", "unexpected end of JSON input");
// dockerd answers it with 500 (transcript 021): the caller decides the status.
base::Result<Filters> parse_filters(std::string_view text);

// {"k":["v",...]} (compact), for clients.
std::string filters_to_json(const Filters& f);

// Error wording for a key outside `allowed` ("Invalid filter 'k'"), InvalidArgument; ok when
// every key is allowed.
base::Result<void> check_filter_keys(const Filters& f, const std::vector<std::string>& allowed);

}  // namespace mydocker::api::wire
