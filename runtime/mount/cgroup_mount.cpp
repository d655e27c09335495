// SPDX-License-Identifier: Apache-2.0
#include "runtime/mount/cgroup_mount.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "runtime/base/file.h"
#include "runtime/base/strings.h"

namespace mydocker::runtime::mount {
namespace {

struct Hierarchy {
  std::string mount_point;  // host path, /sys/fs/cgroup/cpu
  std::string root;         // the mount's root inside the hierarchy (mountinfo field 4)
  std::string fstype;       // cgroup or cgroup2
  std::string controllers;  // v1: "cpu", "cpu,cpuacct", "name=systemd"; v2: ""
};

std::string unescape_mountinfo(const std::string& s) {
  // mountinfo escapes space, tab, newline and backslash as \ooo.
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      int v = (s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0');
      out.push_back(static_cast<char>(v));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// The host's cgroup hierarchies, from this process's mountinfo (still the host's view: this
// runs before pivot_root).
std::vector<Hierarchy> host_hierarchies(std::string_view mountinfo) {
  std::vector<Hierarchy> out;
  for (const auto& line : base::split(mountinfo, '\n')) {
    auto fields = base::split(line, ' ');
    size_t dash = 0;
    for (size_t i = 6; i < fields.size(); ++i) {
      if (fields[i] == "-") {
        dash = i;
        break;
      }
    }
    if (dash == 0 || dash + 3 >= fields.size()) {
      continue;
    }
    const std::string& fstype = fields[dash + 1];
    if (fstype != "cgroup" && fstype != "cgroup2") {
      continue;
    }
    Hierarchy h;
    h.root = unescape_mountinfo(fields[3]);
    h.mount_point = unescape_mountinfo(fields[4]);
    h.fstype = fstype;
    if (fstype == "cgroup") {
      std::vector<std::string> controllers;
      for (const auto& o : base::split(fields[dash + 3], ',')) {
        // Super options that are not controllers.
        if (o == "rw" || o == "ro" || o == "xattr" || o == "clone_children" || o == "noprefix" ||
            o == "cpuset_v2_mode" || o == "favordynmods" || o.rfind("release_agent=", 0) == 0) {
          continue;
        }
        controllers.push_back(o);
      }
      h.controllers = base::join(controllers, ",");
    }
    out.push_back(std::move(h));
  }
  return out;
}

// This process's cgroup in hierarchy `h`, from /proc/self/cgroup ("id:controllers:path").
std::string own_cgroup(std::string_view proc_cgroup, const Hierarchy& h) {
  for (const auto& line : base::split(proc_cgroup, '\n')) {
    auto first = line.find(':');
    auto second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos) {
      continue;
    }
    std::string controllers = line.substr(first + 1, second - first - 1);
    std::string path = line.substr(second + 1);
    bool match = h.fstype == "cgroup2" ? line.rfind("0::", 0) == 0 : controllers == h.controllers;
    if (match) {
      return path;
    }
  }
  return "/";
}

std::string basename_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

constexpr unsigned long kFlagsForSubmounts = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC |
                                             MS_NOATIME | MS_NODIRATIME | MS_RELATIME |
                                             MS_STRICTATIME;

CgroupEntry entry_for(const std::string& dest, const Hierarchy& h, std::string_view proc_cgroup,
                      bool in_cgroupns) {
  CgroupEntry e;
  e.destination = dest;
  if (in_cgroupns) {
    e.fstype = h.fstype;
    e.source = h.fstype;
    e.data = h.controllers;
    return e;
  }
  // Without a cgroup namespace a fresh mount would show the whole host tree: bind only the
  // process's own cgroup, at the place the hierarchy's mount root puts it.
  std::string path = own_cgroup(proc_cgroup, h);
  if (h.root != "/" && path.rfind(h.root, 0) == 0) {
    path = path.substr(h.root.size());
  }
  e.fstype = "bind";
  e.source = h.mount_point + (path == "/" ? "" : path);
  return e;
}

std::string fd_path(const base::Fd& fd) {
  return "/proc/self/fd/" + std::to_string(fd.get());
}

base::Result<void> apply_entry(int root, const CgroupEntry& e, unsigned long flags) {
  base::Fd target = MYDOCKER_TRY(open_in_root(root, e.destination, O_PATH, true));
  if (e.fstype != "bind") {
    if (::mount(e.source.c_str(), fd_path(target).c_str(), e.fstype.c_str(), flags,
                e.data.empty() ? nullptr : e.data.c_str()) != 0) {
      return base::sys_error("mount {} `{}` on `{}`", e.fstype, e.data, e.destination);
    }
    return base::ok();
  }
  if (::mount(e.source.c_str(), fd_path(target).c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    return base::sys_error("bind `{}` on `{}`", e.source, e.destination);
  }
  if (flags != 0) {
    base::Fd top = MYDOCKER_TRY(open_in_root(root, e.destination, O_PATH));
    if (::mount(nullptr, fd_path(top).c_str(), nullptr, MS_REMOUNT | MS_BIND | flags, nullptr) !=
        0) {
      return base::sys_error("remount `{}`", e.destination);
    }
  }
  return base::ok();
}

}  // namespace

base::Result<CgroupLayout> plan_cgroup_layout(std::string_view mountinfo,
                                              std::string_view proc_cgroup, const MountOp& op,
                                              bool in_cgroupns) {
  std::vector<Hierarchy> v1;
  std::vector<Hierarchy> v2;
  for (auto& h : host_hierarchies(mountinfo)) {
    // Only the standard layout (/sys/fs/cgroup/<name>): a hierarchy mounted elsewhere as well
    // is no part of what the container expects.
    if (h.mount_point != "/sys/fs/cgroup/" + basename_of(h.mount_point) &&
        h.mount_point != "/sys/fs/cgroup") {
      continue;
    }
    if (h.fstype == "cgroup") {
      bool seen = false;
      for (const auto& other : v1) {
        seen = seen || other.controllers == h.controllers;
      }
      if (!seen) {
        v1.push_back(std::move(h));
      }
    } else if (v2.empty()) {
      v2.push_back(std::move(h));
    }
  }
  CgroupLayout layout;
  if (op.type == "cgroup2" || v1.empty()) {
    if (v2.empty()) {
      return base::make_error(base::ErrorCode::FailedPrecondition,
                              "the host has no cgroup hierarchy mounted");
    }
    layout.entries.push_back(entry_for(op.destination, v2[0], proc_cgroup, in_cgroupns));
    return layout;
  }
  layout.tmpfs = true;
  for (const auto& h : v1) {
    std::string name = basename_of(h.mount_point);
    layout.entries.push_back(entry_for(op.destination + "/" + name, h, proc_cgroup, in_cgroupns));
    // "cpu,cpuacct" -> cpu and cpuacct point at it, as on the host.
    for (const auto& c : base::split(h.controllers, ',')) {
      if (c != name && c.rfind("name=", 0) != 0) {
        layout.symlinks.emplace_back(c, name);
      }
    }
  }
  // Hybrid: the v2 tree is at /sys/fs/cgroup/unified. Only in a cgroup namespace, where a
  // fresh mount is rooted at the container's own cgroup: without one, the container has no
  // cgroup of its own in that tree (hybrid hosts are run as v1), and a bind would show the
  // runtime's. runc does not show it either.
  if (in_cgroupns && !v2.empty() && v2[0].mount_point != "/sys/fs/cgroup") {
    layout.entries.push_back(entry_for(op.destination + "/" + basename_of(v2[0].mount_point), v2[0],
                                       proc_cgroup, in_cgroupns));
  }
  return layout;
}

base::Result<void> mount_cgroup(int root, const MountOp& op, bool in_cgroupns) {
  std::string mountinfo = MYDOCKER_TRY(base::read_file("/proc/self/mountinfo"));
  std::string proc_cgroup = MYDOCKER_TRY(base::read_file("/proc/self/cgroup"));
  CgroupLayout layout = MYDOCKER_TRY(plan_cgroup_layout(mountinfo, proc_cgroup, op, in_cgroupns));
  unsigned long flags = op.flags & kFlagsForSubmounts;
  if (!layout.tmpfs) {
    return apply_entry(root, layout.entries[0], flags);
  }
  // The tmpfs stays writable until its entries are in, read-only last.
  {
    base::Fd target = MYDOCKER_TRY(open_in_root(root, op.destination, O_PATH, true));
    if (::mount("tmpfs", fd_path(target).c_str(), "tmpfs", flags & ~MS_RDONLY, "mode=755") != 0) {
      return base::sys_error("mount tmpfs");
    }
  }
  base::Fd top = MYDOCKER_TRY(open_in_root(root, op.destination, O_PATH | O_DIRECTORY));
  for (const auto& e : layout.entries) {
    MYDOCKER_TRY(apply_entry(root, e, flags));
  }
  for (const auto& [name, target] : layout.symlinks) {
    if (::symlinkat(target.c_str(), top.get(), name.c_str()) != 0 && errno != EEXIST) {
      return base::sys_error("symlink `{}` -> `{}`", name, target);
    }
  }
  if ((flags & MS_RDONLY) != 0) {
    if (::mount(nullptr, fd_path(top).c_str(), nullptr, MS_REMOUNT | MS_BIND | flags, nullptr) !=
        0) {
      return base::sys_error("remount the tmpfs read-only");
    }
  }
  return base::ok();
}

}  // namespace mydocker::runtime::mount
