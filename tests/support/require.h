// SPDX-License-Identifier: Apache-2.0
// Root tests say what they need: SetUp() calls MYDOCKER_REQUIRE(Need::Root, Need::CgroupV1),
// which skips the test with the reason (visible in the output) when the host lacks it.
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

namespace mydocker::testing {

enum class Need { Root, CgroupV1, CgroupV2Controllers, Overlay, Runc, Skopeo, UserNs };

// Empty when the host has everything; else the first missing need, as a sentence.
std::string missing(std::initializer_list<Need> needs);

}  // namespace mydocker::testing

#define MYDOCKER_REQUIRE(...)                                                    \
  do {                                                                           \
    std::string mydocker_missing_ = ::mydocker::testing::missing({__VA_ARGS__}); \
    if (!mydocker_missing_.empty()) {                                            \
      GTEST_SKIP() << mydocker_missing_;                                         \
    }                                                                            \
  } while (0)
