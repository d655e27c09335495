// SPDX-License-Identifier: Apache-2.0
// Internal to image/content: typed reads from a JSON object with field-naming errors, and the
// bookkeeping that makes round trips lossless (unknown keys, nulls and present-but-empty
// values are collected into `extra()` and written back first on serialization).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/error.h"

namespace mydocker::image::content::detail {

std::string show(const nlohmann::json& v);

class JsonReader {
 public:
  // `doc` starts every message ("invalid manifest"); `prefix` names the object ("config.").
  JsonReader(const nlohmann::json& obj, std::string doc, std::string prefix);

  // Fails unless the value itself is an object.
  base::Result<void> check_object() const;

  base::Result<void> str(std::string_view key, std::string& out, bool required = false);
  base::Result<void> int64(std::string_view key, int64_t& out, bool required = false);
  base::Result<void> boolean(std::string_view key, bool& out);
  base::Result<void> opt_boolean(std::string_view key, std::optional<bool>& out);
  base::Result<void> str_list(std::string_view key, std::vector<std::string>& out);
  base::Result<void> opt_str_list(std::string_view key,
                                  std::optional<std::vector<std::string>>& out);
  base::Result<void> str_map(std::string_view key, std::map<std::string, std::string>& out);
  // {"80/tcp": {}, ...} -> keys.
  base::Result<void> key_set(std::string_view key, std::set<std::string>& out);
  // A present, non-null member (marked known), or nullptr.
  const nlohmann::json* member(std::string_view key);
  // Same, but it must be of `type` (else an error naming `want`).
  base::Result<const nlohmann::json*> typed_member(std::string_view key, nlohmann::json::value_t t,
                                                   std::string_view want, bool required = false);

  std::string field(std::string_view key) const { return prefix_ + std::string(key); }
  base::Error error(std::string_view key, const nlohmann::json& value, std::string_view want) const;
  base::Error missing(std::string_view key) const;

  // Unknown keys, plus known keys whose value was null or empty (so they are written back).
  nlohmann::json extra() const;

 private:
  const nlohmann::json& obj_;
  std::string doc_;
  std::string prefix_;
  std::set<std::string, std::less<>> known_;
  // Known keys whose empty value the typed field itself represents (optional<...>), so it is
  // not also kept in extra().
  std::set<std::string, std::less<>> typed_empty_;
};

// Writes `extra`'s members into `out` (which then gets the known fields on top).
nlohmann::json start_object(const nlohmann::json& extra);

}  // namespace mydocker::image::content::detail
