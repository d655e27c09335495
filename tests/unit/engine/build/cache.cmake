# SPDX-License-Identifier: Apache-2.0
# Unit tests of mydocker::build_cache.
mydocker_test(NAME build_cache_test SRCS ${CMAKE_CURRENT_LIST_DIR}/cache_test.cpp
  DEPS mydocker::build_cache mydocker::test_support Threads::Threads LABELS unit)
