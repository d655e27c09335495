// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mydocker::base {

std::vector<std::string> split(std::string_view s, char sep);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
std::string_view trim(std::string_view s);
// Whole-string decimal parse; nullopt on junk, sign errors or overflow.
std::optional<int64_t> parse_int64(std::string_view s);
std::optional<uint64_t> parse_uint64(std::string_view s);
// `s` with A-Z turned into a-z; every other byte (UTF-8 included) unchanged, whatever the
// locale (Go's strings.ToLower on the ASCII names, schemes and keywords it is used for).
std::string ascii_lower(std::string_view s);
// Equal when ASCII letters are compared without case (HTTP header names and the like).
bool ascii_iequals(std::string_view a, std::string_view b);

}  // namespace mydocker::base
