# SPDX-License-Identifier: Apache-2.0
# One shape for every module: mydocker_library() and mydocker_test().

add_library(mydocker_warnings INTERFACE)
add_library(mydocker::warnings ALIAS mydocker_warnings)
target_compile_options(mydocker_warnings INTERFACE
  -Wall -Wextra -Wshadow -Wnon-virtual-dtor -Wcast-qual -Wformat=2
  -Wmissing-declarations -Wundef -Wimplicit-fallthrough -Wvla -Wold-style-cast
  $<$<BOOL:${MYDOCKER_WERROR}>:-Werror>
  # g++ 12 at -O2/-O3 reports std::string inlining as overlapping memcpy (GCC bug 105329)
  # and similar flow-sensitive false positives; they stay visible as warnings.
  $<$<CXX_COMPILER_ID:GNU>:-Wno-error=restrict -Wno-error=stringop-overflow
                           -Wno-error=array-bounds -Wno-error=maybe-uninitialized
                           -Wno-error=stringop-overread>)

if(MYDOCKER_SANITIZE)
  # No recovery: a UBSan finding fails the test instead of scrolling past (g++ recovers by
  # default).
  add_compile_options(-fsanitize=${MYDOCKER_SANITIZE} -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${MYDOCKER_SANITIZE})
endif()

include(MydockerBuildSpeed)

# mydocker_library(NAME runtime SRCS a.cpp ... DEPS ... PRIVATE_DEPS ...)
# makes mydocker_<name>, alias mydocker::<name>, includes rooted at the repo.
function(mydocker_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(mydocker_${ARG_NAME} STATIC ${ARG_SRCS})
  add_library(mydocker::${ARG_NAME} ALIAS mydocker_${ARG_NAME})
  target_include_directories(mydocker_${ARG_NAME} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(mydocker_${ARG_NAME} PUBLIC ${ARG_DEPS}
                        PRIVATE mydocker::warnings ${ARG_PRIVATE_DEPS})
  mydocker_use_pch(mydocker_${ARG_NAME} mydocker_pch)
endfunction()

# mydocker_binary(NAME mydocker-runtime SRCS ... DEPS ...)
function(mydocker_binary)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_link_libraries(${ARG_NAME} PRIVATE mydocker::warnings ${ARG_DEPS})
  mydocker_use_pch(${ARG_NAME} mydocker_pch)
  # All binaries side by side in <build>/bin: mydockerd finds mydocker-shim next to itself.
  set_target_properties(${ARG_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)
  install(TARGETS ${ARG_NAME} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endfunction()

# mydocker_test(NAME foo_test SRCS ... DEPS ... LABELS unit|root|e2e)
# Root and e2e tests run one at a time: they share the host's cgroup and mount trees.
function(mydocker_test)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_link_libraries(${ARG_NAME} PRIVATE mydocker::warnings ${ARG_DEPS}
                        GTest::gtest GTest::gmock GTest::gtest_main)
  mydocker_use_pch(${ARG_NAME} mydocker_pch_test)
  set(props LABELS "${ARG_LABELS}")
  if("root" IN_LIST ARG_LABELS OR "e2e" IN_LIST ARG_LABELS)
    list(APPEND props RUN_SERIAL TRUE)
  endif()
  gtest_discover_tests(${ARG_NAME} DISCOVERY_MODE PRE_TEST
                       PROPERTIES ${props} TIMEOUT 300)
endfunction()
