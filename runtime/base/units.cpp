// SPDX-License-Identifier: Apache-2.0
#include "runtime/base/units.h"

#include <fmt/format.h>

#include <array>

namespace mydocker::base {

std::string human_size(double size, int precision) {
  static constexpr std::array<const char*, 9> kUnits = {"B",  "kB", "MB", "GB", "TB",
                                                        "PB", "EB", "ZB", "YB"};
  size_t i = 0;
  while (size >= 1000.0 && i + 1 < kUnits.size()) {
    size /= 1000.0;
    ++i;
  }
  return fmt::format("{:.{}g}{}", size, precision, kUnits[i]);
}

std::string human_duration(int64_t seconds) {
  if (seconds < 1) {
    return "Less than a second";
  }
  if (seconds == 1) {
    return "1 second";
  }
  if (seconds < 60) {
    return fmt::format("{} seconds", seconds);
  }
  int64_t minutes = seconds / 60;
  if (minutes == 1) {
    return "About a minute";
  }
  if (minutes < 60) {
    return fmt::format("{} minutes", minutes);
  }
  // Go rounds to the nearest hour here (d.Round(time.Hour)).
  int64_t hours = (seconds + 1800) / 3600;
  if (hours == 1) {
    return "About an hour";
  }
  if (hours < 48) {
    return fmt::format("{} hours", hours);
  }
  if (hours < 24 * 7 * 2) {
    return fmt::format("{} days", hours / 24);
  }
  if (hours < 24 * 30 * 2) {
    return fmt::format("{} weeks", hours / 24 / 7);
  }
  if (hours < 24 * 365 * 2) {
    return fmt::format("{} months", hours / 24 / 30);
  }
  return fmt::format("{} years", seconds / 3600 / 24 / 365);
}

}  // namespace mydocker::base
