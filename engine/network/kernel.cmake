# SPDX-License-Identifier: Apache-2.0
# mydocker::net_kernel: the kernel side of networking (netns files, links/addresses/routes via
# libnl-route-3, the nftables table via libnftables, host port reservation).
# GLOBAL so the imported targets resolve wherever the static library's link interface is used.
pkg_check_modules(LIBNL_ROUTE REQUIRED IMPORTED_TARGET GLOBAL libnl-route-3.0)
pkg_check_modules(LIBNFTABLES REQUIRED IMPORTED_TARGET GLOBAL libnftables)
mydocker_library(NAME net_kernel
  SRCS ${CMAKE_CURRENT_LIST_DIR}/inet.cpp
       ${CMAKE_CURRENT_LIST_DIR}/netns.cpp
       ${CMAKE_CURRENT_LIST_DIR}/netlink.cpp
       ${CMAKE_CURRENT_LIST_DIR}/endpoint.cpp
       ${CMAKE_CURRENT_LIST_DIR}/firewall.cpp
       ${CMAKE_CURRENT_LIST_DIR}/ports.cpp
  DEPS mydocker::base fmt::fmt
  PRIVATE_DEPS PkgConfig::LIBNL_ROUTE PkgConfig::LIBNFTABLES Threads::Threads)
