// SPDX-License-Identifier: Apache-2.0
#include "engine/events/events.h"

#include <time.h>

#include <algorithm>

#include "image/content/image_config.h"

namespace mydocker::engine::events {
namespace {

using base::ErrorCode;

const std::set<std::string>& accepted_keys() {
  static const std::set<std::string> keys = {"config", "container", "daemon", "event",  "image",
                                             "label",  "network",   "node",   "plugin", "scope",
                                             "secret", "service",   "type",   "volume"};
  return keys;
}

// reference.FamiliarName of an image reference: without tag or digest (and without the
// default registry's prefixes), so `image=busybox` matches events of busybox:latest.
std::string strip_tag(std::string_view image) {
  std::string s(image);
  if (auto at = s.find('@'); at != std::string::npos) {
    s.resize(at);
  }
  auto slash = s.rfind('/');
  auto colon = s.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    s.resize(colon);
  }
  for (std::string_view prefix : {"docker.io/library/", "docker.io/"}) {
    if (s.starts_with(prefix)) {
      s.erase(0, prefix.size());
      break;
    }
  }
  return s;
}

base::Error strconv_error(std::string_view v) {
  return base::Error(ErrorCode::Internal,
                     fmt::format("strconv.ParseInt: parsing \"{}\": invalid syntax", v));
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

base::Result<Filter> Filter::parse(const std::map<std::string, std::vector<std::string>>& f) {
  Filter out;
  for (const auto& [key, values] : f) {
    if (accepted_keys().count(key) == 0) {
      return base::make_error(ErrorCode::InvalidArgument, "invalid filter '{}'", key);
    }
    auto& set = out.f_[key];
    set.insert(values.begin(), values.end());
  }
  return out;
}

bool Filter::exact(const std::string& key, const std::string& value) const {
  auto it = f_.find(key);
  return it == f_.end() || it->second.count(value) > 0;
}

bool Filter::fuzzy(const std::string& key, const std::string& value) const {
  auto it = f_.find(key);
  if (it == f_.end() || it->second.count(value) > 0) {
    return true;
  }
  return std::any_of(it->second.begin(), it->second.end(),
                     [&](const std::string& v) { return value.starts_with(v); });
}

bool Filter::fuzzy_name(const Event& e, const std::string& key) const {
  auto name = e.attributes.find("name");
  return fuzzy(key, e.actor_id) ||
         (name != e.attributes.end() ? fuzzy(key, name->second) : fuzzy(key, ""));
}

bool Filter::matches(const Event& e) const {
  // event: exact, or a prefix for the actions Docker suffixes ("exec_start: sh -c ...").
  bool event_ok = true;
  if (auto it = f_.find("event"); it != f_.end()) {
    bool fuzzy_event = it->second.count("health_status") > 0 ||
                       it->second.count("exec_create") > 0 || it->second.count("exec_start") > 0;
    event_ok = fuzzy_event ? fuzzy("event", e.action) : exact("event", e.action);
  }
  if (!event_ok || !exact("type", e.type) || !exact("scope", e.scope)) {
    return false;
  }
  // A name filter applies to every event, as Docker's: container=x drops image events.
  for (const char* key : {"daemon", "container", "plugin", "volume", "network", "node", "service",
                          "secret", "config"}) {
    if (has(key) && !fuzzy_name(e, key)) {
      return false;
    }
  }
  if (has("image")) {
    std::string name_attr = e.type == "image" ? "name" : "image";
    std::string image_name;
    if (auto it = e.attributes.find(name_attr); it != e.attributes.end()) {
      image_name = it->second;
    }
    const auto& want = f_.at("image");
    if (want.count(e.actor_id) == 0 && want.count(image_name) == 0 &&
        want.count(strip_tag(e.actor_id)) == 0 && want.count(strip_tag(image_name)) == 0) {
      return false;
    }
  }
  if (auto it = f_.find("label"); it != f_.end()) {
    // Every label filter must hold (filters.Args.MatchKVList).
    if (e.attributes.empty()) {
      return false;
    }
    for (const auto& kv : it->second) {
      auto eq = kv.find('=');
      std::string k = kv.substr(0, eq);
      auto a = e.attributes.find(k);
      if (a == e.attributes.end()) {
        return false;
      }
      if (eq != std::string::npos && a->second != kv.substr(eq + 1)) {
        return false;
      }
    }
  }
  return true;
}

base::Result<int64_t> parse_timestamp(std::string_view value) {
  if (value.empty()) {
    return int64_t{0};
  }
  constexpr int64_t kNanos = 1'000'000'000;
  std::string_view secs = value;
  std::string_view frac;
  if (auto dot = value.find('.'); dot != std::string_view::npos) {
    secs = value.substr(0, dot);
    frac = value.substr(dot + 1);
  }
  std::string_view digits = secs.starts_with("-") ? secs.substr(1) : secs;
  if (all_digits(digits) && digits.size() <= 12 && (frac.empty() || all_digits(frac))) {
    int64_t s = std::stoll(std::string(secs));
    int64_t n = 0;
    if (!frac.empty()) {
      std::string f(frac.substr(0, 9));
      f.append(9 - f.size(), '0');
      n = std::stoll(f);
    }
    return s * kNanos + (s < 0 ? -n : n);
  }
  if (auto t = image::content::parse_rfc3339_ns(value); t) {
    return t->first * kNanos + t->second;
  }
  if (!all_digits(digits)) {
    return strconv_error(secs);
  }
  return strconv_error(frac.empty() ? secs : frac);
}

nlohmann::ordered_json to_json(const Event& e) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  if (e.type == "container" || e.type == "image") {
    j["status"] = e.action;
    j["id"] = e.actor_id;
    if (e.type == "container") {
      if (auto it = e.attributes.find("image"); it != e.attributes.end() && !it->second.empty()) {
        j["from"] = it->second;
      }
    }
  }
  j["Type"] = e.type;
  j["Action"] = e.action;
  nlohmann::ordered_json attrs = nlohmann::ordered_json::object();
  for (const auto& [k, v] : e.attributes) {
    attrs[k] = v;
  }
  j["Actor"] = {{"ID", e.actor_id}, {"Attributes", std::move(attrs)}};
  j["scope"] = e.scope;
  j["time"] = e.time_nano / 1'000'000'000;
  j["timeNano"] = e.time_nano;
  return j;
}

int64_t now_nanos() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// ---------------------------------------------------------------------------------------

Subscription::~Subscription() {
  log_.unsubscribe(this);
}

std::optional<Event> Subscription::next(std::chrono::milliseconds timeout) {
  std::unique_lock lk(log_.mu_);
  cv_.wait_for(lk, timeout, [&] { return !queue_.empty() || log_.closed_; });
  if (queue_.empty()) {
    return std::nullopt;
  }
  Event e = std::move(queue_.front());
  queue_.pop_front();
  return e;
}

bool Subscription::closed() const {
  std::lock_guard lk(log_.mu_);
  return log_.closed_ && queue_.empty();
}

uint64_t Subscription::dropped() const {
  std::lock_guard lk(log_.mu_);
  return dropped_;
}

Log::~Log() {
  close();
}

void Log::publish(Event e) {
  std::lock_guard lk(mu_);
  if (e.time_nano == 0) {
    e.time_nano = std::max(now_nanos(), last_nano_ + 1);
  }
  last_nano_ = std::max(last_nano_, e.time_nano);
  if (e.scope.empty()) {
    e.scope = "local";
  }
  for (Subscription* s : subs_) {
    if (!s->filter_.matches(e)) {
      continue;
    }
    if (s->queue_.size() >= kMaxQueued) {
      ++s->dropped_;
      continue;
    }
    s->queue_.push_back(e);
    s->cv_.notify_one();
  }
  history_.push_back(std::move(e));
  while (history_.size() > capacity_) {
    history_.pop_front();
  }
}

std::unique_ptr<Subscription> Log::subscribe(Filter filter, int64_t since_nano, int64_t until_nano,
                                             std::vector<Event>& past) {
  std::unique_ptr<Subscription> s(new Subscription(*this, std::move(filter)));
  std::lock_guard lk(mu_);
  past.clear();
  if (since_nano != 0 || until_nano != 0) {
    for (const auto& e : history_) {
      if (e.time_nano < since_nano || (until_nano > 0 && e.time_nano > until_nano)) {
        continue;
      }
      if (s->filter_.matches(e)) {
        past.push_back(e);
      }
    }
  }
  subs_.insert(s.get());
  return s;
}

void Log::close() {
  std::lock_guard lk(mu_);
  closed_ = true;
  for (Subscription* s : subs_) {
    s->cv_.notify_all();
  }
}

void Log::unsubscribe(Subscription* s) {
  std::lock_guard lk(mu_);
  subs_.erase(s);
}

size_t Log::subscribers() const {
  std::lock_guard lk(mu_);
  return subs_.size();
}

std::vector<Event> Log::history() const {
  std::lock_guard lk(mu_);
  return {history_.begin(), history_.end()};
}

}  // namespace mydocker::engine::events
