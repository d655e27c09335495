// SPDX-License-Identifier: Apache-2.0
#include "tests/support/require.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

namespace mydocker::testing {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool on_path(const std::string& tool) {
  for (const char* dir :
       {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}) {
    if (::access((std::string(dir) + "/" + tool).c_str(), X_OK) == 0) {
      return true;
    }
  }
  return false;
}

std::string check(Need need) {
  switch (need) {
    case Need::Root:
      return ::geteuid() == 0 ? "" : "needs root";
    case Need::CgroupV1:
      return slurp("/proc/self/mountinfo").find(" - cgroup cgroup ") != std::string::npos
                 ? ""
                 : "needs cgroup v1 controllers (host is not v1/hybrid)";
    case Need::CgroupV2Controllers: {
      std::string mi = slurp("/proc/self/mountinfo");
      std::istringstream lines(mi);
      std::string line;
      while (std::getline(lines, line)) {
        auto pos = line.find(" - cgroup2 ");
        if (pos == std::string::npos) {
          continue;
        }
        std::istringstream fields(line);
        std::string f;
        std::string mount_point;
        for (int i = 0; i < 5 && fields >> f; ++i) {
          mount_point = f;
        }
        // A unified mount beside v1 may list a stray controller (hugetlb here): only one
        // that holds the ones containers need counts as a v2 host.
        std::string controllers = " " + slurp(mount_point + "/cgroup.controllers") + " ";
        bool has_all = true;
        for (const char* c : {" memory", " cpu", " pids"}) {
          if (controllers.find(std::string(c) + " ") == std::string::npos &&
              controllers.find(std::string(c) + "\n") == std::string::npos) {
            has_all = false;
          }
        }
        if (has_all) {
          return "";
        }
      }
      return "needs a cgroup v2 hierarchy with the memory, cpu and pids controllers";
    }
    case Need::Overlay:
      return slurp("/proc/filesystems").find("overlay") != std::string::npos ? ""
                                                                             : "needs overlayfs";
    case Need::Runc:
      return on_path("runc") ? "" : "needs runc (apt-get install runc)";
    case Need::Skopeo:
      return on_path("skopeo") ? "" : "needs skopeo (apt-get install skopeo)";
    case Need::UserNs:
      return slurp("/proc/sys/user/max_user_namespaces") != "0\n" ? "" : "needs user namespaces";
  }
  return "unknown need";
}

}  // namespace

std::string missing(std::initializer_list<Need> needs) {
  for (Need n : needs) {
    std::string why = check(n);
    if (!why.empty()) {
      return why;
    }
  }
  return "";
}

}  // namespace mydocker::testing
