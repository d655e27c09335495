// SPDX-License-Identifier: Apache-2.0
#include "engine/daemon/local_daemon_impl.h"

namespace mydocker::engine::detail {

// Placeholder until the stats work lands (issue 5).
base::Result<void> LocalDaemon::stats(std::string_view, const StatsOptions&, const StatsSink&) {
  return make_error(ErrorCode::NotImplemented, "stats are not implemented yet");
}

}  // namespace mydocker::engine::detail
