// SPDX-License-Identifier: Apache-2.0
// GET /events: the daemon's event log (engine/events) fed by the lifecycle code through
// emit_locked()/publish(), served by events().
#include "engine/daemon/local_daemon_impl.h"

namespace mydocker::engine::detail {

void LocalDaemon::publish(Event event) {
  events_.publish(std::move(event));
}

void LocalDaemon::emit_locked(const Container& c, std::string_view action,
                              std::map<std::string, std::string> extra) {
  const ContainerInfo& info = c.rec.info;
  Event e;
  e.type = "container";
  e.action = std::string(action);
  e.actor_id = info.id;
  // Docker copies the labels first; image and name win over labels of those names.
  e.attributes = info.config.labels;
  for (auto& [k, v] : extra) {
    e.attributes[k] = std::move(v);
  }
  if (!info.config.image.empty()) {
    e.attributes["image"] = info.config.image;
  }
  e.attributes["name"] = info.name.starts_with("/") ? info.name.substr(1) : info.name;
  events_.publish(std::move(e));
}

void LocalDaemon::emit_image(const std::string& id, const std::string& name,
                             std::string_view action) {
  Event e;
  e.type = "image";
  e.action = std::string(action);
  e.actor_id = id;
  e.attributes["name"] = name;
  events_.publish(std::move(e));
}

base::Result<void> LocalDaemon::events(const EventsOptions& options, const EventSink& sink) {
  auto filter = MYDOCKER_TRY(events::Filter::parse(options.filters));
  if (options.since_nano != 0 && options.until_nano != 0 &&
      options.since_nano > options.until_nano) {
    return make_error(ErrorCode::InvalidArgument, "`since` time cannot be after `until` time");
  }
  std::vector<Event> past;
  auto sub = events_.subscribe(std::move(filter), options.since_nano, options.until_nano, past);
  for (const auto& e : past) {
    if (!sink(e)) {
      return base::ok();
    }
  }
  auto until_passed = [&] {
    return options.until_nano > 0 && events::now_nanos() > options.until_nano;
  };
  // The wait is bounded so shutdown, `until` and a client that left are all seen within
  // ~250 ms while no event comes; the connection's thread is the only one involved.
  while (!until_passed()) {
    if (stopping_) {
      return base::ok();
    }
    auto e = sub->next(std::chrono::milliseconds(250));
    if (e) {
      if (options.until_nano > 0 && e->time_nano > options.until_nano) {
        return base::ok();
      }
      if (!sink(*e)) {
        return base::ok();
      }
      continue;
    }
    if (sub->closed()) {
      return base::ok();
    }
    if (options.client_alive && !options.client_alive()) {
      return base::ok();
    }
  }
  return base::ok();
}

}  // namespace mydocker::engine::detail
