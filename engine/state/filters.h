// SPDX-License-Identifier: Apache-2.0
// Docker's container filters (GET /containers/json and POST /containers/prune), parsed and
// validated once, then matched against snapshots. Pure: what needs the daemon (an image
// name -> image ID, a container ref -> its creation time) comes in through callbacks.
//
// List keys: id, name (regular expressions, as Docker's filters.Args.Match: substring
// unless anchored), label (key or key=value; all must hold), status, exited, ancestor,
// before, since, is-task, health, volume, network, publish, expose (the last four match
// nothing: there are no volumes, networks or ports yet). Prune keys: until, label, label!.
// Errors (InvalidArgument), in Docker's words: "Invalid filter 'nosuch'",
// "Invalid filter 'status=sleeping'", "Invalid filter 'is-task=[maybe]'".
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/daemon.h"
#include "runtime/base/error.h"

namespace mydocker::engine::state {

using FilterArgs = std::map<std::string, std::vector<std::string>>;

// Creation time as {seconds, nanoseconds} (before/since order).
using Instant = std::pair<int64_t, int32_t>;

struct FilterContext {
  // An image reference or ID -> its ID ("sha256:..."); nullopt when unknown (matches nothing).
  std::function<std::optional<std::string>(const std::string&)> resolve_image;
  // A container ref -> its creation instant; the error is returned by parse (NotFound).
  std::function<base::Result<Instant>(const std::string&)> container_created;
  int64_t now_unix = 0;  // for prune's `until` durations
};

class ContainerFilter {
 public:
  static base::Result<ContainerFilter> parse_list(const FilterArgs& args, const FilterContext& ctx);
  static base::Result<ContainerFilter> parse_prune(const FilterArgs& args,
                                                   const FilterContext& ctx);

  bool matches(const ContainerInfo& c) const;
  // Whether the list filters name a status or exit code that includes stopped containers
  // (Docker lists all containers then, even without all=1).
  bool wants_stopped() const { return !statuses_.empty() || !exited_.empty(); }

 private:
  std::vector<std::string> ids_;
  std::vector<std::string> names_;
  std::vector<std::string> labels_;
  std::vector<std::string> not_labels_;
  std::set<Status> statuses_;
  std::set<int64_t> exited_;
  bool ancestor_given_ = false;
  std::set<std::string> ancestors_;  // image IDs
  std::optional<Instant> before_;
  std::optional<Instant> since_;
  std::optional<int64_t> until_;  // prune: created before (Unix seconds)
  bool nothing_ = false;          // a filter no container can match (volume, is-task=true, ...)
};

// Docker's filters.Args.Match: exact, or a regular expression that matches somewhere.
bool regex_match_any(const std::vector<std::string>& patterns, const std::string& value);
// Docker's MatchKVList for labels: every "k" present and every "k=v" equal.
bool labels_match(const std::vector<std::string>& wanted,
                  const std::map<std::string, std::string>& labels);
// Docker's timetypes for `until`: a Go duration before now ("10m", "1h30m"), Unix seconds
// ("1700000000", "1700000000.5") or RFC 3339. InvalidArgument otherwise.
base::Result<int64_t> parse_until(const std::string& value, int64_t now_unix);

}  // namespace mydocker::engine::state
