// SPDX-License-Identifier: Apache-2.0
// The texts Docker prints for sizes and durations (its go-units package), for the CLI and the
// daemon alike.
#pragma once

#include <cstdint>
#include <string>

namespace mydocker::base {

// go-units HumanSizeWithPrecision: decimal units (B, kB, MB, ... YB, powers of 1000) with
// `precision` significant digits as Go's %g: (1982391, 3) -> "1.98MB", (2048, 4) -> "2.048kB".
std::string human_size(double size, int precision);

// go-units HumanDuration: "Less than a second", "1 second", "5 seconds", "About a minute",
// "3 minutes", "About an hour", "5 hours", "3 days", "2 weeks", "4 months", "2 years".
// Seconds, minutes and days truncate; hours round to the nearest.
std::string human_duration(int64_t seconds);

}  // namespace mydocker::base
