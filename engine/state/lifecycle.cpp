// SPDX-License-Identifier: Apache-2.0
#include "engine/state/lifecycle.h"

#include <fmt/format.h>

#include "image/content/image_config.h"
#include "runtime/base/units.h"

namespace mydocker::engine {

std::string_view status_name(Status s) {
  switch (s) {
    case Status::Created:
      return "created";
    case Status::Running:
      return "running";
    case Status::Paused:
      return "paused";
    case Status::Restarting:
      return "restarting";
    case Status::Removing:
      return "removing";
    case Status::Exited:
      return "exited";
    case Status::Dead:
      return "dead";
  }
  return "unknown";
}

std::string human_duration(int64_t seconds) {
  return base::human_duration(seconds);
}

namespace {

// Whole seconds from `rfc3339` to `now_unix`, the fraction counted (Go subtracts times).
int64_t seconds_since(std::string_view rfc3339, int64_t now_unix) {
  auto t = image::content::parse_rfc3339_ns(rfc3339);
  if (!t) {
    return 0;
  }
  return now_unix - t->first - (t->second > 0 ? 1 : 0);
}

}  // namespace

std::string human_status(const ContainerInfo& c, int64_t now_unix) {
  // Docker's State.String().
  const ContainerState& s = c.state;
  int64_t started = state::unix_seconds(s.started_at);
  int64_t finished = state::unix_seconds(s.finished_at);
  switch (s.status) {
    case Status::Paused:
      return fmt::format("Up {} (Paused)", human_duration(seconds_since(s.started_at, now_unix)));
    case Status::Restarting:
      return fmt::format("Restarting ({}) {} ago", s.exit_code,
                         human_duration(seconds_since(s.finished_at, now_unix)));
    case Status::Running:
      return fmt::format("Up {}", human_duration(seconds_since(s.started_at, now_unix)));
    case Status::Removing:
      return "Removal In Progress";
    case Status::Dead:
      return "Dead";
    case Status::Created:
    case Status::Exited:
      break;
  }
  if (started == 0) {
    return "Created";
  }
  if (finished == 0) {
    return "";
  }
  return fmt::format("Exited ({}) {} ago", s.exit_code,
                     human_duration(seconds_since(s.finished_at, now_unix)));
}

namespace state {

std::string_view event_name(Event e) {
  switch (e) {
    case Event::Start:
      return "start";
    case Event::StartFailed:
      return "fail to start";
    case Event::Exit:
      return "exit";
    case Event::ExitRestart:
      return "restart";
    case Event::Pause:
      return "pause";
    case Event::Unpause:
      return "unpause";
    case Event::Stop:
      return "stop";
    case Event::Remove:
      return "remove";
    case Event::RemoveFailed:
      return "fail to remove";
  }
  return "?";
}

namespace {

std::optional<Status> next(Status from, Event e) {
  using S = Status;
  switch (e) {
    case Event::Start:
      if (from == S::Created || from == S::Exited || from == S::Restarting) {
        return S::Running;
      }
      return std::nullopt;
    case Event::StartFailed:
      if (from == S::Created || from == S::Exited) {
        return from;
      }
      if (from == S::Restarting) {
        return S::Exited;
      }
      return std::nullopt;
    case Event::Exit:
      if (from == S::Running || from == S::Paused) {
        return S::Exited;
      }
      return std::nullopt;
    case Event::ExitRestart:
      if (from == S::Running || from == S::Paused || from == S::Exited) {
        return S::Restarting;
      }
      return std::nullopt;
    case Event::Pause:
      return from == S::Running ? std::optional<S>(S::Paused) : std::nullopt;
    case Event::Unpause:
      return from == S::Paused ? std::optional<S>(S::Running) : std::nullopt;
    case Event::Stop:
      return from == S::Restarting ? std::optional<S>(S::Exited) : std::nullopt;
    case Event::Remove:
      if (from == S::Created || from == S::Exited || from == S::Dead) {
        return S::Removing;
      }
      return std::nullopt;
    case Event::RemoveFailed:
      return from == S::Removing ? std::optional<S>(S::Dead) : std::nullopt;
  }
  return std::nullopt;
}

// Where the event leads when it is legal (for the error text).
Status intended(Event e) {
  switch (e) {
    case Event::Start:
    case Event::Unpause:
      return Status::Running;
    case Event::StartFailed:
      return Status::Created;
    case Event::Exit:
    case Event::Stop:
      return Status::Exited;
    case Event::ExitRestart:
      return Status::Restarting;
    case Event::Pause:
      return Status::Paused;
    case Event::Remove:
      return Status::Removing;
    case Event::RemoveFailed:
      return Status::Dead;
  }
  return Status::Dead;
}

}  // namespace

base::Result<Status> transition(Status from, Event e) {
  if (auto to = next(from, e)) {
    return *to;
  }
  return base::make_error(base::ErrorCode::Conflict,
                          "cannot move a container from `{}` to `{}` ({})", status_name(from),
                          status_name(intended(e)), event_name(e));
}

std::optional<Status> parse_status(std::string_view name) {
  for (Status s : {Status::Created, Status::Running, Status::Paused, Status::Restarting,
                   Status::Removing, Status::Exited, Status::Dead}) {
    if (status_name(s) == name) {
      return s;
    }
  }
  return std::nullopt;
}

bool is_running(Status s) {
  return s == Status::Running || s == Status::Paused || s == Status::Restarting;
}

int64_t unix_seconds(std::string_view rfc3339) {
  if (rfc3339.empty() || rfc3339.starts_with("0001-01-01")) {
    return 0;
  }
  return image::content::parse_rfc3339(rfc3339).value_or(0);
}

}  // namespace state
}  // namespace mydocker::engine
