// SPDX-License-Identifier: Apache-2.0
#include "engine/state/lifecycle.h"

#include <gtest/gtest.h>

namespace mydocker::engine::state {
namespace {

struct Row {
  Status from;
  Event event;
  std::optional<Status> to;  // nullopt: Conflict
};

TEST(LifecycleTest, TransitionTable) {
  using S = Status;
  using E = Event;
  const Row rows[] = {
      {S::Created, E::Start, S::Running},
      {S::Exited, E::Start, S::Running},
      {S::Restarting, E::Start, S::Running},
      {S::Running, E::Start, std::nullopt},
      {S::Paused, E::Start, std::nullopt},
      {S::Dead, E::Start, std::nullopt},
      {S::Removing, E::Start, std::nullopt},
      {S::Created, E::StartFailed, S::Created},
      {S::Exited, E::StartFailed, S::Exited},
      {S::Running, E::Exit, S::Exited},
      {S::Paused, E::Exit, S::Exited},
      {S::Created, E::Exit, std::nullopt},
      {S::Running, E::ExitRestart, S::Restarting},
      {S::Created, E::ExitRestart, std::nullopt},
      {S::Running, E::Pause, S::Paused},
      {S::Paused, E::Pause, std::nullopt},
      {S::Exited, E::Pause, std::nullopt},
      {S::Paused, E::Unpause, S::Running},
      {S::Running, E::Unpause, std::nullopt},
      {S::Restarting, E::Stop, S::Exited},
      {S::Running, E::Stop, std::nullopt},
      {S::Created, E::Remove, S::Removing},
      {S::Exited, E::Remove, S::Removing},
      {S::Dead, E::Remove, S::Removing},
      {S::Running, E::Remove, std::nullopt},
      {S::Paused, E::Remove, std::nullopt},
      {S::Removing, E::Remove, std::nullopt},
      {S::Removing, E::RemoveFailed, S::Dead},
      {S::Exited, E::RemoveFailed, std::nullopt},
  };
  for (const auto& r : rows) {
    auto got = transition(r.from, r.event);
    SCOPED_TRACE(std::string(status_name(r.from)) + " + " + std::string(event_name(r.event)));
    if (r.to) {
      ASSERT_TRUE(got.has_value()) << got.error().message();
      EXPECT_EQ(*got, *r.to);
    } else {
      ASSERT_FALSE(got.has_value());
      EXPECT_EQ(got.error().code(), base::ErrorCode::Conflict);
    }
  }
}

TEST(LifecycleTest, IllegalMoveNamesBothStates) {
  auto r = transition(Status::Exited, Event::Pause);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(), "cannot move a container from `exited` to `paused` (pause)");
}

TEST(LifecycleTest, StatusNamesRoundTrip) {
  for (Status s : {Status::Created, Status::Running, Status::Paused, Status::Restarting,
                   Status::Removing, Status::Exited, Status::Dead}) {
    EXPECT_EQ(parse_status(status_name(s)), s);
  }
  EXPECT_FALSE(parse_status("sleeping").has_value());
  EXPECT_TRUE(is_running(Status::Paused));
  EXPECT_TRUE(is_running(Status::Restarting));
  EXPECT_FALSE(is_running(Status::Exited));
}

TEST(LifecycleTest, HumanDurationAsGoUnits) {
  const std::pair<int64_t, const char*> rows[] = {
      {0, "Less than a second"}, {1, "1 second"},          {2, "2 seconds"},
      {59, "59 seconds"},        {60, "About a minute"},   {119, "About a minute"},
      {120, "2 minutes"},        {3599, "59 minutes"},     {3600, "About an hour"},
      {5399, "About an hour"},   {5400, "2 hours"},        {47 * 3600, "47 hours"},
      {48 * 3600, "2 days"},     {13 * 86400, "13 days"},  {14 * 86400, "2 weeks"},
      {59 * 86400, "8 weeks"},   {60 * 86400, "2 months"}, {729 * 86400, "24 months"},
      {730 * 86400, "2 years"},
  };
  for (const auto& [secs, want] : rows) {
    EXPECT_EQ(human_duration(secs), want) << secs;
  }
}

ContainerInfo with_state(Status s, int64_t code, const char* started, const char* finished) {
  ContainerInfo c;
  c.state.status = s;
  c.state.exit_code = code;
  c.state.started_at = started;
  c.state.finished_at = finished;
  return c;
}

TEST(LifecycleTest, HumanStatusRows) {
  // 2026-11-29T18:25:50Z
  const int64_t t0 = 1795976750;
  const char* zero = "0001-01-01T00:00:00Z";
  EXPECT_EQ(human_status(with_state(Status::Created, 0, zero, zero), t0), "Created");
  // A start that failed leaves the container created with an exit code: still "Created".
  EXPECT_EQ(human_status(with_state(Status::Created, 127, zero, zero), t0), "Created");
  EXPECT_EQ(human_status(with_state(Status::Running, 0, "2026-11-29T18:25:42.5Z", zero), t0),
            "Up 7 seconds");
  EXPECT_EQ(human_status(with_state(Status::Paused, 0, "2026-11-29T18:22:50Z", zero), t0),
            "Up 3 minutes (Paused)");
  EXPECT_EQ(
      human_status(with_state(Status::Exited, 2, "2026-11-29T18:25:49Z", "2026-11-29T18:25:50.1Z"),
                   t0),
      "Exited (2) Less than a second ago");
  EXPECT_EQ(
      human_status(
          with_state(Status::Restarting, 1, "2026-11-29T18:25:40Z", "2026-11-29T18:25:45Z"), t0),
      "Restarting (1) 5 seconds ago");
  EXPECT_EQ(human_status(with_state(Status::Dead, 0, zero, zero), t0), "Dead");
  EXPECT_EQ(human_status(with_state(Status::Removing, 0, zero, zero), t0), "Removal In Progress");
}

}  // namespace
}  // namespace mydocker::engine::state
