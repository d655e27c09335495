// SPDX-License-Identifier: Apache-2.0
// The container lifecycle as one transition table (containerd's shim init_state.go idea):
//
//   created --start--> running --pause--> paused --unpause--> running
//   running/paused --exit--> exited          running/paused --exit_restart--> restarting
//   restarting --start--> running            restarting --stop--> exited
//   exited --start--> running                created/exited/dead --remove--> removing
//   removing --remove_failed--> dead         created/exited --start_failed--> (unchanged)
//
// transition() is pure: callers check Docker's user-facing preconditions first (with Docker's
// wording) and use transition() as the one authority on which moves exist. An illegal move is
// Conflict "cannot move a container from `exited` to `paused` (pause)", naming both states.
//
// Also here: Docker's human texts for `docker ps` (State.String() and units.HumanDuration).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/daemon.h"
#include "runtime/base/error.h"

namespace mydocker::engine::state {

enum class Event {
  Start,
  StartFailed,
  Exit,
  ExitRestart,
  Pause,
  Unpause,
  Stop,
  Remove,
  RemoveFailed
};
std::string_view event_name(Event e);

// The status after `e`, or Conflict naming `from` and the would-be target.
base::Result<Status> transition(Status from, Event e);

// "created" -> Status::Created ...; nullopt for anything else.
std::optional<Status> parse_status(std::string_view name);

// Whether the container has (or is about to have again) a process: Docker's State.Running,
// which is true for running, paused and restarting.
bool is_running(Status s);

// RFC 3339 (as recorded) -> Unix seconds; 0 for the zero time "0001-01-01T00:00:00Z" or junk.
int64_t unix_seconds(std::string_view rfc3339);

}  // namespace mydocker::engine::state
