// SPDX-License-Identifier: Apache-2.0
#include <set>

#include "runtime/base/file.h"
#include "runtime/base/strings.h"
#include "runtime/cgroups/manager.h"

namespace mydocker::runtime::cgroups {
namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      bool octal = true;
      int v = 0;
      for (size_t k = 1; k <= 3; ++k) {
        char c = s[i + k];
        if (c < '0' || c > '7') {
          octal = false;
          break;
        }
        v = v * 8 + (c - '0');
      }
      if (octal) {
        out.push_back(static_cast<char>(v));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::vector<std::string> fields_of(std::string_view line) {
  std::vector<std::string> out;
  for (std::string& f : base::split(line, ' ')) {
    if (!f.empty()) {
      out.push_back(std::move(f));
    }
  }
  return out;
}

// Super options of a v1 cgroup mount mix controllers with flags; these are the flags.
bool is_controller_option(const std::string& opt) {
  static const std::set<std::string> kFlags = {
      "rw",           "ro",   "xattr",     "noprefix", "clone_children", "cpuset_v2_mode",
      "favordynmods", "none", "nsdelegate"};
  if (kFlags.count(opt) != 0) {
    return false;
  }
  if (opt.rfind("name=", 0) == 0) {
    return true;
  }
  return opt.find('=') == std::string::npos;
}

}  // namespace

std::vector<CgroupMount> parse_mountinfo(std::string_view text) {
  std::vector<CgroupMount> out;
  for (const std::string& line : base::split(text, '\n')) {
    size_t sep = line.find(" - ");
    if (sep == std::string::npos) {
      continue;
    }
    std::vector<std::string> pre = fields_of(std::string_view(line).substr(0, sep));
    std::vector<std::string> post = fields_of(std::string_view(line).substr(sep + 3));
    if (pre.size() < 6 || post.empty()) {
      continue;
    }
    const std::string& fstype = post[0];
    if (fstype != "cgroup" && fstype != "cgroup2") {
      continue;
    }
    CgroupMount m;
    m.root = unescape(pre[3]);
    m.mount_point = unescape(pre[4]);
    m.v2 = fstype == "cgroup2";
    if (!m.v2 && post.size() >= 3) {
      for (const std::string& opt : base::split(post[2], ',')) {
        if (is_controller_option(opt)) {
          m.controllers.push_back(opt);
        }
      }
    }
    out.push_back(std::move(m));
  }
  return out;
}

base::Result<Layout> detect(const std::string& mountinfo_path, const std::string& root_prefix) {
  std::string text =
      MYDOCKER_TRY_CTX(base::read_file(mountinfo_path), "detect cgroups from `{}`", mountinfo_path);
  Layout layout;
  bool v1_controller = false;
  bool any_v1 = false;
  for (const CgroupMount& m : parse_mountinfo(text)) {
    if (m.v2) {
      // The first cgroup2 mount wins; bind mounts of it elsewhere are the same hierarchy.
      if (layout.unified_mount.empty()) {
        layout.unified_mount = root_prefix + m.mount_point;
      }
      continue;
    }
    any_v1 = true;
    for (const std::string& c : m.controllers) {
      if (c.rfind("name=", 0) != 0) {
        v1_controller = true;
      }
      layout.v1_mounts.emplace(c, root_prefix + m.mount_point);
    }
  }
  if (v1_controller && !layout.unified_mount.empty()) {
    // Either a hybrid host (the v1 hierarchies hold the controllers, cgroup2 is empty or has
    // a spare one like hugetlb) or a v2 host on which some tool mounted a stray v1 hierarchy
    // (net_cls for a VPN, perf_event). A controller lives in one hierarchy only, so the
    // cgroup2 side holding memory, cpu or pids settles it.
    auto listed = base::read_file(layout.unified_mount + "/cgroup.controllers");
    std::string controllers = listed ? " " + *listed + " " : "";
    for (char& c : controllers) {
      if (c == '\n') {
        c = ' ';
      }
    }
    bool v2_holds_the_controllers = false;
    for (const char* c : {" memory ", " cpu ", " pids "}) {
      v2_holds_the_controllers |= controllers.find(c) != std::string::npos;
    }
    layout.mode = v2_holds_the_controllers ? Mode::V2 : Mode::Hybrid;
    if (layout.mode == Mode::V2) {
      layout.v1_mounts.clear();
    }
  } else if (v1_controller) {
    layout.mode = Mode::V1;
  } else if (!layout.unified_mount.empty()) {
    // A lone v1 name= hierarchy (systemd's compat mount) next to cgroup2 is a v2 host.
    layout.mode = Mode::V2;
    layout.v1_mounts.clear();
  } else if (any_v1) {
    layout.mode = Mode::V1;
  } else {
    return base::make_error(base::ErrorCode::FailedPrecondition,
                            "no cgroup filesystem is mounted (read `{}`)", mountinfo_path);
  }
  return layout;
}

}  // namespace mydocker::runtime::cgroups
