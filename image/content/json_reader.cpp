// SPDX-License-Identifier: Apache-2.0
#include "image/content/json_reader.h"

namespace mydocker::image::content::detail {
namespace {

using base::ErrorCode;
using nlohmann::json;

bool empty_value(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return true;
    case json::value_t::string:
      return v.get_ref<const std::string&>().empty();
    case json::value_t::array:
    case json::value_t::object:
      return v.empty();
    case json::value_t::boolean:
      return !v.get<bool>();
    default:
      return false;
  }
}

}  // namespace

std::string show(const json& v) {
  std::string s = v.dump();
  if (s.size() > 80) {
    s = s.substr(0, 77) + "...";
  }
  return s;
}

JsonReader::JsonReader(const json& obj, std::string doc, std::string prefix)
    : obj_(obj), doc_(std::move(doc)), prefix_(std::move(prefix)) {}

base::Result<void> JsonReader::check_object() const {
  if (!obj_.is_object()) {
    std::string name = prefix_.empty() ? "" : prefix_.substr(0, prefix_.size() - 1);
    if (name.empty()) {
      return base::make_error(ErrorCode::InvalidArgument, "{}: document is {}, want an object",
                              doc_, show(obj_));
    }
    return base::make_error(ErrorCode::InvalidArgument, "{}: `{}` is {}, want an object", doc_,
                            name, show(obj_));
  }
  return base::ok();
}

base::Error JsonReader::error(std::string_view key, const json& value,
                              std::string_view want) const {
  return base::make_error(ErrorCode::InvalidArgument, "{}: `{}` is {}, want {}", doc_, field(key),
                          show(value), want);
}

base::Error JsonReader::missing(std::string_view key) const {
  return base::make_error(ErrorCode::InvalidArgument, "{}: `{}` is missing", doc_, field(key));
}

const json* JsonReader::member(std::string_view key) {
  known_.emplace(key);
  auto it = obj_.find(key);
  if (it == obj_.end() || it->is_null()) {
    return nullptr;
  }
  return &*it;
}

base::Result<const json*> JsonReader::typed_member(std::string_view key, json::value_t t,
                                                   std::string_view want, bool required) {
  const json* v = member(key);
  if (v == nullptr) {
    if (required) {
      return missing(key);
    }
    return static_cast<const json*>(nullptr);
  }
  bool ok = v->type() == t ||
            (t == json::value_t::number_integer && v->type() == json::value_t::number_unsigned);
  if (!ok) {
    return error(key, *v, want);
  }
  return v;
}

base::Result<void> JsonReader::str(std::string_view key, std::string& out, bool required) {
  const json* v = MYDOCKER_TRY(typed_member(key, json::value_t::string, "a string", required));
  if (v != nullptr) {
    out = v->get<std::string>();
    if (required && out.empty()) {
      return error(key, *v, "a non-empty string");
    }
  }
  return base::ok();
}

base::Result<void> JsonReader::int64(std::string_view key, int64_t& out, bool required) {
  const json* v = member(key);
  if (v == nullptr) {
    if (required) {
      return missing(key);
    }
    return base::ok();
  }
  if (v->is_number_unsigned()) {
    uint64_t u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) {
      return error(key, *v, "a 64-bit integer");
    }
    out = static_cast<int64_t>(u);
  } else if (v->is_number_integer()) {
    out = v->get<int64_t>();
  } else {
    return error(key, *v, "an integer");
  }
  return base::ok();
}

base::Result<void> JsonReader::boolean(std::string_view key, bool& out) {
  const json* v = MYDOCKER_TRY(typed_member(key, json::value_t::boolean, "a boolean"));
  if (v != nullptr) {
    out = v->get<bool>();
  }
  return base::ok();
}

base::Result<void> JsonReader::opt_boolean(std::string_view key, std::optional<bool>& out) {
  const json* v = MYDOCKER_TRY(typed_member(key, json::value_t::boolean, "a boolean"));
  if (v != nullptr) {
    out = v->get<bool>();
    typed_empty_.emplace(key);
  }
  return base::ok();
}

base::Result<void> JsonReader::str_list(std::string_view key, std::vector<std::string>& out) {
  const json* v = MYDOCKER_TRY(typed_member(key, json::value_t::array, "an array of strings"));
  if (v == nullptr) {
    return base::ok();
  }
  out.clear();
  for (const json& e : *v) {
    if (!e.is_string()) {
      return error(key, *v, "an array of strings");
    }
    out.push_back(e.get<std::string>());
  }
  return base::ok();
}

base::Result<void> JsonReader::opt_str_list(std::string_view key,
                                            std::optional<std::vector<std::string>>& out) {
  if (obj_.contains(key) && !obj_.at(std::string(key)).is_null()) {
    out.emplace();
    typed_empty_.emplace(key);
    return str_list(key, *out);
  }
  known_.emplace(key);
  return base::ok();
}

base::Result<void> JsonReader::str_map(std::string_view key,
                                       std::map<std::string, std::string>& out) {
  const json* v = MYDOCKER_TRY(typed_member(key, json::value_t::object, "an object of strings"));
  if (v == nullptr) {
    return base::ok();
  }
  out.clear();
  for (auto it = v->begin(); it != v->end(); ++it) {
    if (!it->is_string()) {
      return error(std::string(key) + "." + it.key(), *it, "a string");
    }
    out.emplace(it.key(), it->get<std::string>());
  }
  return base::ok();
}

base::Result<void> JsonReader::key_set(std::string_view key, std::set<std::string>& out) {
  const json* v = MYDOCKER_TRY(typed_member(key, json::value_t::object, "an object"));
  if (v == nullptr) {
    return base::ok();
  }
  out.clear();
  for (auto it = v->begin(); it != v->end(); ++it) {
    out.insert(it.key());
  }
  return base::ok();
}

json JsonReader::extra() const {
  json out = json::object();
  if (!obj_.is_object()) {
    return out;
  }
  for (auto it = obj_.begin(); it != obj_.end(); ++it) {
    if (!known_.contains(it.key()) || (empty_value(*it) && !typed_empty_.contains(it.key()))) {
      out[it.key()] = *it;
    }
  }
  return out;
}

json start_object(const json& extra) {
  json out = json::object();
  if (extra.is_object()) {
    for (auto it = extra.begin(); it != extra.end(); ++it) {
      out[it.key()] = *it;
    }
  }
  return out;
}

}  // namespace mydocker::image::content::detail
