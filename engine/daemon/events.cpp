// SPDX-License-Identifier: Apache-2.0
#include "engine/daemon/local_daemon_impl.h"

namespace mydocker::engine::detail {

// Placeholders until the events work lands (issue 5).
base::Result<void> LocalDaemon::events(const EventsOptions&, const EventSink&) {
  return make_error(ErrorCode::NotImplemented, "events are not implemented yet");
}
void LocalDaemon::publish(Event) {}

}  // namespace mydocker::engine::detail
