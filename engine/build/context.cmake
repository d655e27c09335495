# SPDX-License-Identifier: Apache-2.0
# mydocker::build_context: the build context (received tar, sources, checksums) and COPY/ADD
# into a root filesystem (ADD URLs through libcurl).
if(NOT TARGET PkgConfig::LIBCURL)
  pkg_check_modules(LIBCURL REQUIRED IMPORTED_TARGET libcurl)
endif()
mydocker_library(NAME build_context
  SRCS ${CMAKE_CURRENT_LIST_DIR}/context.cpp ${CMAKE_CURRENT_LIST_DIR}/tree.cpp
       ${CMAKE_CURRENT_LIST_DIR}/copy.cpp ${CMAKE_CURRENT_LIST_DIR}/download.cpp
  DEPS mydocker::base mydocker::image_layers
  PRIVATE_DEPS mydocker::dockerfile PkgConfig::LIBARCHIVE PkgConfig::LIBCURL OpenSSL::Crypto)
