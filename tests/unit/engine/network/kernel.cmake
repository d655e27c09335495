# SPDX-License-Identifier: Apache-2.0
# The pure parts of mydocker::net_kernel: address parsing, endpoint plans, the nft renderers.
mydocker_test(NAME net_kernel_test
  SRCS ${CMAKE_CURRENT_LIST_DIR}/inet_test.cpp
       ${CMAKE_CURRENT_LIST_DIR}/endpoint_plan_test.cpp
       ${CMAKE_CURRENT_LIST_DIR}/firewall_render_test.cpp
  DEPS mydocker::net_kernel
  LABELS unit)
