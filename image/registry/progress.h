// SPDX-License-Identifier: Apache-2.0
// Progress of a pull or push, shaped for Docker's JSON progress stream
// ({"status","id","progressDetail":{"current","total"}}): the API layer turns each event into
// one message, the CLI into a line or a bar.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace mydocker::image::registry {

struct ProgressEvent {
  std::string id;        // short layer ID (12 hex), a tag, or "" for whole-image lines
  std::string status;    // Docker's words: "Pulling fs layer", "Downloading", "Pull complete", ...
  int64_t current = -1;  // progressDetail; both -1 when the event has none
  int64_t total = -1;
};

// Called from the pull's worker threads, one call at a time (the caller need not lock).
using ProgressFn = std::function<void(const ProgressEvent&)>;

}  // namespace mydocker::image::registry
