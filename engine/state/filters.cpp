// SPDX-License-Identifier: Apache-2.0
#include "engine/state/filters.h"

#include <fmt/format.h>

#include <cmath>
#include <regex>

#include "engine/state/lifecycle.h"
#include "image/content/image_config.h"
#include "runtime/base/strings.h"

namespace mydocker::engine::state {
namespace {

base::Error invalid_key(const std::string& key) {
  return base::make_error(base::ErrorCode::InvalidArgument, "Invalid filter '{}'", key);
}

std::optional<Instant> instant_of(const std::string& rfc3339) {
  return image::content::parse_rfc3339_ns(rfc3339);
}

}  // namespace

bool regex_match_any(const std::vector<std::string>& patterns, const std::string& value) {
  for (const auto& p : patterns) {
    if (p == value) {
      return true;
    }
    // Go's regexp and ECMAScript agree on the patterns people type here; a pattern that does
    // not compile matches nothing, as in Docker.
    try {
      if (std::regex_search(value, std::regex(p))) {
        return true;
      }
    } catch (const std::regex_error&) {
    }
  }
  return false;
}

bool labels_match(const std::vector<std::string>& wanted,
                  const std::map<std::string, std::string>& labels) {
  for (const auto& w : wanted) {
    auto eq = w.find('=');
    std::string key = w.substr(0, eq);
    auto it = labels.find(key);
    if (it == labels.end()) {
      return false;
    }
    if (eq != std::string::npos && it->second != w.substr(eq + 1)) {
      return false;
    }
  }
  return true;
}

base::Result<int64_t> parse_until(const std::string& value, int64_t now_unix) {
  auto fail = [&] {
    return base::make_error(base::ErrorCode::InvalidArgument,
                            "failed to parse value as time or duration: \"{}\"", value);
  };
  if (value.empty()) {
    return fail();
  }
  // Unix seconds, optionally with a fraction.
  {
    std::string_view v = value;
    auto dot = v.find('.');
    if (auto secs = base::parse_int64(v.substr(0, dot))) {
      if (dot == std::string_view::npos || base::parse_uint64(v.substr(dot + 1))) {
        return *secs;
      }
    }
  }
  if (auto t = image::content::parse_rfc3339(value)) {
    return *t;
  }
  // A Go duration: [-]number unit ... with units ns us ms s m h.
  std::string_view v = value;
  bool neg = false;
  if (v.starts_with('-') || v.starts_with('+')) {
    neg = v.front() == '-';
    v.remove_prefix(1);
  }
  double total = 0;
  bool any = false;
  while (!v.empty()) {
    size_t n = 0;
    while (n < v.size() && ((v[n] >= '0' && v[n] <= '9') || v[n] == '.')) {
      ++n;
    }
    if (n == 0) {
      return fail();
    }
    double num = 0;
    try {
      num = std::stod(std::string(v.substr(0, n)));
    } catch (const std::exception&) {
      return fail();
    }
    v.remove_prefix(n);
    size_t u = 0;
    while (u < v.size() && !((v[u] >= '0' && v[u] <= '9') || v[u] == '.')) {
      ++u;
    }
    std::string_view unit = v.substr(0, u);
    v.remove_prefix(u);
    double mult = 0;
    if (unit == "h") {
      mult = 3600;
    } else if (unit == "m") {
      mult = 60;
    } else if (unit == "s") {
      mult = 1;
    } else if (unit == "ms") {
      mult = 1e-3;
    } else if (unit == "us" || unit == "µs") {
      mult = 1e-6;
    } else if (unit == "ns") {
      mult = 1e-9;
    } else {
      return fail();
    }
    total += num * mult;
    any = true;
  }
  if (!any || total > 1e15) {
    return fail();
  }
  auto secs = static_cast<int64_t>(std::floor(total));
  return neg ? now_unix + secs : now_unix - secs;
}

base::Result<ContainerFilter> ContainerFilter::parse_list(const FilterArgs& args,
                                                          const FilterContext& ctx) {
  static const std::set<std::string> kKeys = {"ancestor", "before",  "exited",  "health", "id",
                                              "label",    "name",    "status",  "since",  "volume",
                                              "network",  "is-task", "publish", "expose"};
  ContainerFilter f;
  for (const auto& [key, values] : args) {
    if (kKeys.count(key) == 0) {
      return invalid_key(key);
    }
  }
  for (const auto& [key, values] : args) {
    if (key == "id") {
      f.ids_ = values;
    } else if (key == "name") {
      f.names_ = values;
    } else if (key == "label") {
      f.labels_ = values;
    } else if (key == "status") {
      for (const auto& v : values) {
        auto s = parse_status(v);
        if (!s) {
          return base::make_error(base::ErrorCode::InvalidArgument, "Invalid filter 'status={}'",
                                  v);
        }
        f.statuses_.insert(*s);
      }
    } else if (key == "exited") {
      for (const auto& v : values) {
        auto code = base::parse_int64(v);
        if (!code) {
          return base::make_error(base::ErrorCode::InvalidArgument,
                                  "strconv.Atoi: parsing \"{}\": invalid syntax", v);
        }
        f.exited_.insert(*code);
      }
    } else if (key == "ancestor") {
      f.ancestor_given_ = !values.empty();
      for (const auto& v : values) {
        if (ctx.resolve_image) {
          if (auto id = ctx.resolve_image(v)) {
            f.ancestors_.insert(*id);
          }
        }
      }
    } else if (key == "before" || key == "since") {
      for (const auto& v : values) {
        if (!ctx.container_created) {
          continue;
        }
        Instant t = MYDOCKER_TRY(ctx.container_created(v));
        (key == "before" ? f.before_ : f.since_) = t;
      }
    } else if (key == "is-task") {
      for (const auto& v : values) {
        if (v == "true") {
          f.nothing_ = true;
        } else if (v != "false") {
          return base::make_error(base::ErrorCode::InvalidArgument, "Invalid filter 'is-task=[{}]'",
                                  base::join(values, " "));
        }
      }
    } else if (key == "health") {
      for (const auto& v : values) {
        if (v != "starting" && v != "healthy" && v != "unhealthy" && v != "none") {
          return base::make_error(base::ErrorCode::InvalidArgument,
                                  "Unrecognised filter value for health: {}", v);
        }
        if (v != "none") {
          f.nothing_ = true;
        }
      }
    } else if (!values.empty()) {  // volume, network, publish, expose
      f.nothing_ = true;
    }
  }
  return f;
}

base::Result<ContainerFilter> ContainerFilter::parse_prune(const FilterArgs& args,
                                                           const FilterContext& ctx) {
  ContainerFilter f;
  for (const auto& [key, values] : args) {
    if (key != "until" && key != "label" && key != "label!") {
      return invalid_key(key);
    }
  }
  for (const auto& [key, values] : args) {
    if (key == "label") {
      f.labels_ = values;
    } else if (key == "label!") {
      f.not_labels_ = values;
    } else if (key == "until") {
      if (values.size() > 1) {
        return base::make_error(base::ErrorCode::InvalidArgument,
                                "filters: only one until filter may be given");
      }
      for (const auto& v : values) {
        f.until_ = MYDOCKER_TRY(parse_until(v, ctx.now_unix));
      }
    }
  }
  return f;
}

bool ContainerFilter::matches(const ContainerInfo& c) const {
  if (nothing_) {
    return false;
  }
  if (!ids_.empty() && !regex_match_any(ids_, c.id)) {
    return false;
  }
  if (!names_.empty() && !regex_match_any(names_, c.name)) {
    return false;
  }
  if (!labels_.empty() && !labels_match(labels_, c.config.labels)) {
    return false;
  }
  // label!: a container carrying any of these is kept out (Docker's prune).
  for (const auto& nl : not_labels_) {
    if (labels_match({nl}, c.config.labels)) {
      return false;
    }
  }
  if (!statuses_.empty() && statuses_.count(c.state.status) == 0) {
    return false;
  }
  if (!exited_.empty()) {
    bool ok = c.state.status == Status::Exited && exited_.count(c.state.exit_code) > 0 &&
              unix_seconds(c.state.started_at) != 0;
    if (!ok) {
      return false;
    }
  }
  if (ancestor_given_ && ancestors_.count(c.image_id) == 0) {
    return false;
  }
  if (before_ || since_) {
    auto created = instant_of(c.created);
    if (!created) {
      return false;
    }
    if (before_ && !(*created < *before_)) {
      return false;
    }
    if (since_ && !(*created > *since_)) {
      return false;
    }
  }
  if (until_) {
    int64_t created = unix_seconds(c.created);
    if (created >= *until_) {
      return false;
    }
  }
  return true;
}

}  // namespace mydocker::engine::state
