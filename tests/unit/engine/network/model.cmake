# SPDX-License-Identifier: Apache-2.0
# Unit tests of mydocker::net_model (IPAM, network records, DNS responder).
mydocker_test(NAME net_model_test
  SRCS ${CMAKE_CURRENT_LIST_DIR}/ipam_test.cpp
       ${CMAKE_CURRENT_LIST_DIR}/networks_test.cpp
       ${CMAKE_CURRENT_LIST_DIR}/dns_test.cpp
  DEPS mydocker::net_model mydocker::test_support LABELS unit)
