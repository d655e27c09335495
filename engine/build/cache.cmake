# SPDX-License-Identifier: Apache-2.0
# mydocker::build_cache: the builder's step cache (engine/build/cache.h).
mydocker_library(NAME build_cache
  SRCS ${CMAKE_CURRENT_LIST_DIR}/cache.cpp
  DEPS mydocker::base
  PRIVATE_DEPS mydocker::image_digest nlohmann_json::nlohmann_json)
