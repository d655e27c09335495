# SPDX-License-Identifier: Apache-2.0
# COPY/ADD into a temp rootfs (ownership needs root); ADD <url> from a loopback httplib server.
mydocker_test(NAME build_copy_test
  SRCS ${CMAKE_CURRENT_LIST_DIR}/copy_test.cpp
  DEPS mydocker::build_context mydocker_layers_test_tar mydocker::test_support
       PkgConfig::HTTPLIB PkgConfig::LIBARCHIVE Threads::Threads
  LABELS root)
