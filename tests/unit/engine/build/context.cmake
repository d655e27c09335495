# SPDX-License-Identifier: Apache-2.0
# engine/build context: receive, match, checksum, open_tree (no root needed).
mydocker_test(NAME build_context_test
  SRCS ${CMAKE_CURRENT_LIST_DIR}/context_test.cpp
  DEPS mydocker::build_context mydocker::dockerfile mydocker_layers_test_tar
       mydocker::test_support PkgConfig::LIBARCHIVE
  LABELS unit)
