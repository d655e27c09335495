# SPDX-License-Identifier: Apache-2.0
# mydocker::engine: the core (records, lifecycle, names, LocalDaemon). The pure parts build
# alone; LocalDaemon joins once the engine areas it drives (config, specgen, shim, logs) exist.
mydocker_library(NAME engine
  SRCS ${CMAKE_CURRENT_LIST_DIR}/state/lifecycle.cpp
       ${CMAKE_CURRENT_LIST_DIR}/state/filters.cpp
       ${CMAKE_CURRENT_LIST_DIR}/names/names.cpp
       ${CMAKE_CURRENT_LIST_DIR}/store/record.cpp
       ${CMAKE_CURRENT_LIST_DIR}/fs/etc_files.cpp
       ${CMAKE_CURRENT_LIST_DIR}/fs/changes.cpp
       ${CMAKE_CURRENT_LIST_DIR}/top/top.cpp
  DEPS mydocker::base mydocker::runtime mydocker::image mydocker::registry
       nlohmann_json::nlohmann_json
       spdlog::spdlog Threads::Threads)
set(_engine_complete TRUE)
foreach(dep engine_config specgen shim_client shim_proto logs)
  if(TARGET mydocker_${dep})
    target_link_libraries(mydocker_engine PUBLIC mydocker::${dep})
  else()
    set(_engine_complete FALSE)
  endif()
endforeach()
if(_engine_complete)
  target_sources(mydocker_engine PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/local_daemon.cpp
    ${CMAKE_CURRENT_LIST_DIR}/daemon/helpers.cpp
    ${CMAKE_CURRENT_LIST_DIR}/daemon/create.cpp
    ${CMAKE_CURRENT_LIST_DIR}/daemon/run.cpp
    ${CMAKE_CURRENT_LIST_DIR}/daemon/monitor.cpp
    ${CMAKE_CURRENT_LIST_DIR}/daemon/control.cpp
    ${CMAKE_CURRENT_LIST_DIR}/daemon/views.cpp
    ${CMAKE_CURRENT_LIST_DIR}/daemon/attach.cpp
    ${CMAKE_CURRENT_LIST_DIR}/daemon/events.cpp
    ${CMAKE_CURRENT_LIST_DIR}/daemon/stats.cpp
    ${CMAKE_CURRENT_LIST_DIR}/daemon/distribution.cpp)
  # The Dockerfile builder (engine/build/builder.h): its executor and LocalDaemon's build.
  target_sources(mydocker_engine PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/build/steps.cpp
    ${CMAKE_CURRENT_LIST_DIR}/build/builder.cpp
    ${CMAKE_CURRENT_LIST_DIR}/daemon/build.cpp)
  target_link_libraries(mydocker_engine PUBLIC mydocker::dockerfile mydocker::build_context
                                               mydocker::build_cache)
endif()
