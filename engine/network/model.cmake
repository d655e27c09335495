# SPDX-License-Identifier: Apache-2.0
# mydocker::net_model: IPAM, the network records store and the embedded DNS responder. Pure
# model code (no netlink, no firewall): the engine drives the kernel side (net_kernel).
mydocker_library(NAME net_model
  SRCS ${CMAKE_CURRENT_LIST_DIR}/ipam.cpp
       ${CMAKE_CURRENT_LIST_DIR}/networks.cpp
       ${CMAKE_CURRENT_LIST_DIR}/dns.cpp
  DEPS mydocker::base mydocker::image_content nlohmann_json::nlohmann_json fmt::fmt
       Threads::Threads)
