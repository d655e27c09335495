// SPDX-License-Identifier: Apache-2.0
#include "api/wire/filters.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace mydocker::api::wire {
namespace {

using nlohmann::json;

std::string go_type_name(const json& j) {
  if (j.is_string()) {
    return "string";
  }
  if (j.is_number()) {
    return "number";
  }
  if (j.is_boolean()) {
    return "bool";
  }
  if (j.is_array()) {
    return "array";
  }
  if (j.is_object()) {
    return "object";
  }
  return "null";
}

base::Error syntax_error(std::string_view text) {
  // Go's scanner names the first offending byte. Reproduce the common cases: a bad first
  // byte, a misspelt literal, a truncated document; else fall back to a generic wording.
  size_t i = 0;
  while (i < text.size() &&
         (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) {
    ++i;
  }
  if (i == text.size()) {
    return base::make_error(base::ErrorCode::InvalidArgument, "unexpected end of JSON input");
  }
  for (std::string_view lit : {"true", "false", "null"}) {
    if (text[i] == lit[0]) {
      for (size_t k = 1; k < lit.size(); ++k) {
        if (i + k >= text.size()) {
          return base::make_error(base::ErrorCode::InvalidArgument, "unexpected end of JSON input");
        }
        if (text[i + k] != lit[k]) {
          return base::make_error(base::ErrorCode::InvalidArgument,
                                  "invalid character '{}' in literal {} (expecting '{}')",
                                  text[i + k], lit, lit[k]);
        }
      }
    }
  }
  std::string_view starts = "{[\"-0123456789tfn";
  if (starts.find(text[i]) == std::string_view::npos) {
    return base::make_error(base::ErrorCode::InvalidArgument,
                            "invalid character '{}' looking for beginning of value", text[i]);
  }
  return base::make_error(base::ErrorCode::InvalidArgument, "unexpected end of JSON input");
}

}  // namespace

base::Result<Filters> parse_filters(std::string_view text) {
  Filters out;
  if (text.empty()) {
    return out;
  }
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded()) {
    return syntax_error(text);
  }
  if (j.is_null()) {
    return out;
  }
  if (!j.is_object()) {
    return base::make_error(base::ErrorCode::InvalidArgument,
                            "json: cannot unmarshal {} into Go value of type "
                            "map[string]map[string]bool",
                            go_type_name(j));
  }
  for (const auto& [key, value] : j.items()) {
    std::vector<std::string> values;
    if (value.is_array()) {
      for (const auto& v : value) {
        if (!v.is_string()) {
          return base::make_error(base::ErrorCode::InvalidArgument,
                                  "json: cannot unmarshal {} into Go value of type string",
                                  go_type_name(v));
        }
        values.push_back(v.get<std::string>());
      }
    } else if (value.is_object()) {
      for (const auto& [v, on] : value.items()) {
        if (!on.is_boolean()) {
          return base::make_error(base::ErrorCode::InvalidArgument,
                                  "json: cannot unmarshal {} into Go value of type bool",
                                  go_type_name(on));
        }
        // {"v": false} is how old clients said "not v"; Docker keeps only true entries.
        if (on.get<bool>()) {
          values.push_back(v);
        }
      }
    } else if (!value.is_null()) {
      return base::make_error(base::ErrorCode::InvalidArgument,
                              "json: cannot unmarshal {} into Go value of type "
                              "map[string]bool",
                              go_type_name(value));
    }
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    out[key] = std::move(values);
  }
  return out;
}

std::string filters_to_json(const Filters& f) {
  json j = json::object();
  for (const auto& [k, v] : f) {
    j[k] = v;
  }
  return j.dump();
}

base::Result<void> check_filter_keys(const Filters& f, const std::vector<std::string>& allowed) {
  for (const auto& [k, v] : f) {
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
      return base::make_error(base::ErrorCode::InvalidArgument, "Invalid filter '{}'", k);
    }
  }
  return base::ok();
}

}  // namespace mydocker::api::wire
