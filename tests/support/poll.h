// SPDX-License-Identifier: Apache-2.0
// Polling with a deadline: tests wait for a condition instead of sleeping a fixed time.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace mydocker::testing {

// Polls `cond` every 2 ms until it holds or `deadline` passes; returns its last value.
inline bool poll_until(const std::function<bool()>& cond,
                       std::chrono::milliseconds deadline = std::chrono::seconds(10)) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return cond();
}

}  // namespace mydocker::testing
