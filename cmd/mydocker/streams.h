// SPDX-License-Identifier: Apache-2.0
// The pure parts of `events` and `stats`: the docker CLI's event line, its stats formulas
// (CPU %, memory without the page cache, block and network I/O) and table cells.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "cmd/mydocker/template.h"

namespace mydocker::cli {

using Json = nlohmann::json;

// docker events' default line: "2024-01-01T00:00:00.000000000Z container create <id>
// (image=busybox, name=x)" (local time, Go's RFC3339NanoFixed; attributes sorted).
std::string event_line(const Json& event);
// The event as docker's templates see it (Go field names: .Status .ID .From .Type .Action
// .Actor.ID .Actor.Attributes .Scope .Time .TimeNano).
OJson event_template_data(const Json& event);

// calculateCPUPercentUnix: (cpu delta / system delta) * online cpus * 100, from the sample's
// cpu_stats and precpu_stats; 0 when either delta is not positive.
double cpu_percent(const Json& stats);
// calculateMemUsageUnixNoCache: usage minus total_inactive_file (v1) or inactive_file (v2).
double mem_usage_no_cache(const Json& stats);
// usage / limit * 100 (0 without a limit).
double mem_percent(const Json& stats);
// Sums of blkio io_service_bytes_recursive reads/writes and network rx/tx bytes.
std::pair<uint64_t, uint64_t> block_io(const Json& stats);
std::pair<uint64_t, uint64_t> net_io(const Json& stats);
// go-units BytesSize: binary units, "%.4g" ("1.5MiB", "64MiB", "0B").
std::string bytes_size(double size);

// One row of `docker stats` for --format: ID, Name, Container, CPUPerc, MemUsage, MemPerc,
// NetIO, BlockIO, PIDs. `container` is what the user named (or the ID); `valid` false shows
// "--" as docker does for a container whose stats failed.
OJson stats_row(const Json& stats, const std::string& container, bool no_trunc, bool valid = true);
// Column titles for the table header.
OJson stats_headers();

}  // namespace mydocker::cli
