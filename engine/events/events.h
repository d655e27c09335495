// SPDX-License-Identifier: Apache-2.0
// The daemon's event log (GET /events): a bounded history of past events (Docker keeps the
// last 256 for `since`), subscribers woken on publish, Docker's event filters and since/until
// parsing, and the event JSON (events.Message with the legacy status/id/from fields).
//
// Pure and self-contained (no engine state), so the ring, the filters and the time parsing
// are unit-tested without a daemon. Thread-safe: publish() and subscriptions may be used from
// any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/daemon.h"
#include "runtime/base/error.h"

namespace mydocker::engine::events {

// Docker's events filter (daemon/events/filter.go). Keys: container, daemon, event, image,
// label, network, type, volume, plugin, service, node, secret, config, scope; another key is
// InvalidArgument "invalid filter '<key>'". An unknown value (type=nosuchtype) is accepted and
// simply matches nothing, as dockerd (transcript 222).
class Filter {
 public:
  static base::Result<Filter> parse(const std::map<std::string, std::vector<std::string>>& f);
  bool matches(const Event& e) const;

 private:
  bool exact(const std::string& key, const std::string& value) const;
  bool fuzzy(const std::string& key, const std::string& value) const;
  bool fuzzy_name(const Event& e, const std::string& key) const;
  bool has(const std::string& key) const { return f_.count(key) > 0; }
  std::map<std::string, std::set<std::string>> f_;
};

// The `since`/`until` query values of /events: Unix seconds with an optional fraction
// ("1700000000", "1700000000.5" -> nanoseconds as Docker's ParseTimestamps reads them), or
// RFC 3339 (a mydocker extension; the docker CLI converts those itself). "" -> 0. Anything
// else is Internal worded as Go's strconv ("strconv.ParseInt: parsing \"x\": invalid
// syntax"), as dockerd answers it (500, transcript 221).
base::Result<int64_t> parse_timestamp(std::string_view value);

// events.Message as dockerd writes it: status/id/from (containers; status/id for images),
// Type, Action, Actor{ID, Attributes}, scope, time, timeNano.
nlohmann::ordered_json to_json(const Event& e);

// Unix nanoseconds now (CLOCK_REALTIME).
int64_t now_nanos();

class Log;

// One listener: live events published after it was made, matching its filter, queued until
// taken. Unsubscribes when destroyed.
class Subscription {
 public:
  ~Subscription();
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;
  // The next queued event, waiting up to `timeout`; nullopt on timeout or once the log is
  // closed (closed() tells which).
  std::optional<Event> next(std::chrono::milliseconds timeout);
  bool closed() const;
  // Events dropped because the queue was full (a client that does not read).
  uint64_t dropped() const;

 private:
  friend class Log;
  Subscription(Log& log, Filter filter) : log_(log), filter_(std::move(filter)) {}
  Log& log_;
  Filter filter_;
  std::deque<Event> queue_;  // guarded by log_.mu_
  std::condition_variable cv_;
  uint64_t dropped_ = 0;
};

class Log {
 public:
  static constexpr size_t kDefaultCapacity = 256;  // Docker's eventsLimit
  static constexpr size_t kMaxQueued = 4096;       // per subscriber

  explicit Log(size_t capacity = kDefaultCapacity) : capacity_(capacity) {}
  ~Log();
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  // Stamps the event (when time_nano is 0; kept monotonic so replay order is publish order),
  // records it in the history and queues it for every matching subscriber.
  void publish(Event e);

  // Subscribes and, atomically with it (no event lost or doubled between the two), returns
  // the past events Docker replays: none when since and until are both 0; else those with
  // since <= time, and time <= until when until is set, matching the filter, oldest first.
  std::unique_ptr<Subscription> subscribe(Filter filter, int64_t since_nano, int64_t until_nano,
                                          std::vector<Event>& past);

  // Wakes every subscriber for good (daemon shutdown); later subscriptions start closed.
  void close();

  size_t subscribers() const;
  std::vector<Event> history() const;

 private:
  friend class Subscription;
  void unsubscribe(Subscription* s);

  const size_t capacity_;
  mutable std::mutex mu_;  // guards everything below and every subscription's queue
  std::deque<Event> history_;
  std::set<Subscription*> subs_;
  int64_t last_nano_ = 0;
  bool closed_ = false;
};

}  // namespace mydocker::engine::events
