# SPDX-License-Identifier: Apache-2.0
# Unit tests of the build executor's pure half (engine/build/steps.h, in mydocker::engine).
if(TARGET mydocker_build_context AND TARGET mydocker_build_cache)
  mydocker_test(NAME build_steps_test SRCS ${CMAKE_CURRENT_LIST_DIR}/steps_test.cpp
    DEPS mydocker::engine LABELS unit)
endif()
