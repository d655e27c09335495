# SPDX-License-Identifier: Apache-2.0
# The build executor end to end (root): a private LocalDaemon builds Dockerfiles with real RUN
# containers (shims), overlay scratch filesystems and the step cache.
if(TARGET mydocker-shim AND TARGET mydocker_build_context AND TARGET mydocker_build_cache)
  mydocker_test(NAME build_executor_root_test
    SRCS ${CMAKE_CURRENT_LIST_DIR}/executor_test.cpp
    DEPS mydocker::engine mydocker::test_support mydocker::test_local_daemon
    LABELS root)
  add_dependencies(build_executor_root_test mydocker-shim)
endif()
