# SPDX-License-Identifier: Apache-2.0
# LocalDaemon's networks (engine/daemon/network.cpp) over mydocker::net_manager; included by
# engine/CMakeLists.txt after core.cmake (the engine target exists then).
if(TARGET mydocker_engine AND _engine_complete AND TARGET mydocker_net_manager)
  target_sources(mydocker_engine PRIVATE ${CMAKE_CURRENT_LIST_DIR}/../daemon/network.cpp)
  target_link_libraries(mydocker_engine PUBLIC mydocker::net_manager)
endif()
