# SPDX-License-Identifier: Apache-2.0
# Networking through a private mydockerd (network verbs, containers on user networks, none,
# connect/disconnect, crash restart). Only bridges, namespaces and a table of the test's
# daemon; traffic stays between its containers.
mydocker_test(NAME net_engine_e2e_test
  SRCS ${CMAKE_SOURCE_DIR}/tests/integration/daemon/daemon_fixture.cpp
       ${CMAKE_CURRENT_LIST_DIR}/engine_test.cpp
  DEPS mydocker::test_support Threads::Threads
  LABELS e2e)
target_compile_definitions(net_engine_e2e_test PRIVATE
  MYDOCKER_E2E_MYDOCKERD="$<TARGET_FILE:mydockerd>"
  MYDOCKER_E2E_MYDOCKER="$<TARGET_FILE:mydocker>"
  MYDOCKER_E2E_SHIM="$<TARGET_FILE:mydocker-shim>")
add_dependencies(net_engine_e2e_test mydockerd mydocker mydocker-shim)
