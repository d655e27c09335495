# SPDX-License-Identifier: Apache-2.0
# The kernel side of networking (mydocker::net_kernel) against the real kernel: namespaces,
# bridges and veths, the nftables table, port reservation. Only loopback, and bridges and
# namespaces the tests create (names mdt<pid>...), all removed in TearDown.
mydocker_test(NAME net_kernel_integration_test
  SRCS ${CMAKE_CURRENT_LIST_DIR}/kernel_test.cpp
  DEPS mydocker::net_kernel mydocker::test_support fmt::fmt Threads::Threads
  LABELS root)
