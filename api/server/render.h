// SPDX-License-Identifier: Apache-2.0
// engine types -> Docker's JSON shapes (inspect, list item), key order as dockerd's.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/daemon.h"

namespace mydocker::api::server {

using ordered_json = nlohmann::ordered_json;

// JSON text for a response body. Never throws: invalid UTF-8 (a label or path a client sent,
// a file name from a layer) is replaced, where nlohmann's plain dump() would throw.
std::string dump(const nlohmann::json& j);
std::string dump(const ordered_json& j);

// GET /containers/{id}/json (transcripts 068-071).
ordered_json container_inspect(const engine::ContainerInfo& c);
// One item of GET /containers/json (075, 081): `now` gives Status ("Up 5 seconds").
ordered_json container_summary(const engine::ContainerInfo& c, int64_t now_unix);
// Docker's list Command: path and args joined by spaces, an arg with a space wrapped in single
// quotes without escaping ("sh -c 'trap 'exit 0' TERM'"), as daemon/list.go does.
std::string container_command(const engine::ContainerInfo& c);
// Docker's units.HumanSize: "2.048kB", "1.98MB" (base 1000, 4 significant digits).
std::string human_size(double bytes);

}  // namespace mydocker::api::server
