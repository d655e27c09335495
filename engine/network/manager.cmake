# SPDX-License-Identifier: Apache-2.0
# mydocker::net_manager: the engine's network manager (records + kernel side together).
mydocker_library(NAME net_manager
  SRCS ${CMAKE_CURRENT_LIST_DIR}/manager.cpp
  DEPS mydocker::net_model mydocker::net_kernel mydocker::base spdlog::spdlog fmt::fmt)
