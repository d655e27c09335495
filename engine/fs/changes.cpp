// SPDX-License-Identifier: Apache-2.0
#include "engine/fs/changes.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <map>
#include <optional>
#include <utility>

#include "runtime/base/fd.h"
#include "runtime/base/file.h"

namespace mydocker::engine::fs {
namespace {

bool in_lower(const std::vector<std::string>& lowers, const std::string& rel) {
  for (const auto& l : lowers) {
    struct stat st {};
    std::string p = l + rel;
    if (::lstat(p.c_str(), &st) == 0) {
      // A whiteout in a higher lower hides the path from the ones below.
      return !(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));
    }
  }
  return false;
}

bool opaque(const std::string& path) {
  char v[2] = {};
  ssize_t n = ::lgetxattr(path.c_str(), "trusted.overlay.opaque", v, sizeof v);
  return n == 1 && v[0] == 'y';
}

bool ignored(const std::set<std::string>& ignore, const std::string& rel) {
  for (const auto& i : ignore) {
    if (rel == i || (rel.size() > i.size() && rel.starts_with(i) && rel[i.size()] == '/')) {
      return true;
    }
  }
  return false;
}

struct Walker {
  const std::vector<std::string>& lowers;
  const std::set<std::string>& ignore;
  std::map<std::string, int> out;

  base::Result<void> walk(const std::string& root, const std::string& rel, bool parent_added) {
    std::string dir = root + rel;
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) {
      return base::sys_error("open `{}`", dir);
    }
    std::vector<std::string> entries;
    while (struct dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") {
        entries.push_back(std::move(n));
      }
    }
    ::closedir(d);
    for (const auto& name : entries) {
      std::string child = rel + "/" + name;
      if (ignored(ignore, child)) {
        continue;
      }
      std::string full = root + child;
      struct stat st {};
      if (::lstat(full.c_str(), &st) < 0) {
        continue;  // gone meanwhile
      }
      if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
        out[child] = 2;
        continue;
      }
      bool added = parent_added || !in_lower(lowers, child);
      if (S_ISDIR(st.st_mode)) {
        if (added) {
          out[child] = 1;
        } else if (opaque(full)) {
          out[child] = 0;
        }
        MYDOCKER_TRY(walk(root, child, added));
      } else {
        out[child] = added ? 1 : 0;
      }
    }
    return base::ok();
  }
};

}  // namespace

base::Result<std::vector<Change>> overlay_changes(const std::string& upper,
                                                  const std::vector<std::string>& lowers,
                                                  const std::set<std::string>& ignore) {
  Walker w{lowers, ignore, {}};
  MYDOCKER_TRY(w.walk(upper, "", false));
  std::map<std::string, int> all = w.out;
  for (const auto& [path, kind] : w.out) {
    std::string p = path;
    for (auto slash = p.rfind('/'); slash != std::string::npos && slash > 0; slash = p.rfind('/')) {
      p.resize(slash);
      all.emplace(p, 0);
    }
  }
  std::vector<Change> changes;
  changes.reserve(all.size());
  for (auto& [path, kind] : all) {
    changes.push_back(Change{path, kind});
  }
  return changes;
}

namespace {

std::vector<std::string> entries_of(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return out;
  }
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") {
      out.push_back(std::move(n));
    }
  }
  ::closedir(d);
  return out;
}

bool is_whiteout_dev(const struct stat& st) {
  return S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
}

// What the image shows at `rel`: the stat from the topmost lower that has it, or nullopt
// when no lower has it or a whiteout hides it.
std::optional<struct stat> lower_lookup(const std::vector<std::string>& lowers,
                                        const std::string& rel) {
  auto slash = rel.rfind('/');
  std::string parent = rel.substr(0, slash);
  std::string base = rel.substr(slash + 1);
  for (const auto& l : lowers) {
    struct stat wh {};
    if (::lstat((l + parent + "/.wh." + base).c_str(), &wh) == 0) {
      return std::nullopt;
    }
    struct stat st {};
    if (::lstat((l + rel).c_str(), &st) == 0) {
      if (is_whiteout_dev(st)) {
        return std::nullopt;
      }
      return st;
    }
  }
  return std::nullopt;
}

bool differs(const struct stat& a, const struct stat& b) {
  if ((a.st_mode & S_IFMT) != (b.st_mode & S_IFMT) || a.st_mode != b.st_mode ||
      a.st_uid != b.st_uid || a.st_gid != b.st_gid || a.st_rdev != b.st_rdev) {
    return true;
  }
  if (S_ISDIR(a.st_mode)) {
    return false;
  }
  return a.st_size != b.st_size || a.st_mtim.tv_sec != b.st_mtim.tv_sec ||
         a.st_mtim.tv_nsec != b.st_mtim.tv_nsec;
}

struct TreeWalker {
  const std::string& rootfs;
  const std::vector<std::string>& lowers;
  const std::set<std::string>& ignore;
  std::map<std::string, int> out;

  void walk_copy(const std::string& rel) {
    for (const auto& name : entries_of(rootfs + rel)) {
      std::string child = rel + "/" + name;
      if (ignored(ignore, child)) {
        continue;
      }
      struct stat st {};
      if (::lstat((rootfs + child).c_str(), &st) < 0) {
        continue;
      }
      auto below = lower_lookup(lowers, child);
      if (!below) {
        out[child] = 1;
      } else if (differs(*below, st)) {
        out[child] = 0;
      }
      if (S_ISDIR(st.st_mode)) {
        walk_copy(child);
      }
    }
  }

  // Paths the image shows that the copy lacks (only the topmost of a deleted tree).
  void walk_lower(const std::string& lower, const std::string& rel) {
    for (const auto& name : entries_of(lower + rel)) {
      if (name.starts_with(".wh.")) {
        continue;
      }
      std::string child = rel + "/" + name;
      if (ignored(ignore, child) || out.count(child) > 0) {
        continue;
      }
      struct stat st {};
      if (::lstat((lower + child).c_str(), &st) < 0 || is_whiteout_dev(st)) {
        continue;
      }
      struct stat mine {};
      if (::lstat((rootfs + child).c_str(), &mine) < 0) {
        if (lower_lookup(lowers, child)) {
          out[child] = 2;
        }
        continue;
      }
      if (S_ISDIR(st.st_mode) && S_ISDIR(mine.st_mode)) {
        walk_lower(lower, child);
      }
    }
  }
};

}  // namespace

base::Result<std::vector<Change>> tree_changes(const std::string& rootfs,
                                               const std::vector<std::string>& lowers,
                                               const std::set<std::string>& ignore) {
  if (!base::path_exists(rootfs)) {
    return base::make_error(base::ErrorCode::NotFound, "no rootfs at `{}`", rootfs);
  }
  TreeWalker w{rootfs, lowers, ignore, {}};
  w.walk_copy("");
  for (const auto& l : lowers) {
    w.walk_lower(l, "");
  }
  std::map<std::string, int> all = w.out;
  for (const auto& [path, kind] : w.out) {
    std::string p = path;
    for (auto slash = p.rfind('/'); slash != std::string::npos && slash > 0; slash = p.rfind('/')) {
      p.resize(slash);
      all.emplace(p, 0);
    }
  }
  std::vector<Change> changes;
  for (auto& [path, kind] : all) {
    changes.push_back(Change{path, kind});
  }
  return changes;
}

int64_t dir_size(const std::string& path) {
  struct Walk {
    std::set<std::pair<dev_t, ino_t>> seen;
    int64_t total = 0;
    void dir(const std::string& p) {
      DIR* d = ::opendir(p.c_str());
      if (d == nullptr) {
        return;
      }
      std::vector<std::string> names;
      while (struct dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") {
          names.push_back(std::move(n));
        }
      }
      ::closedir(d);
      for (const auto& n : names) {
        std::string c = p + "/" + n;
        struct stat st {};
        if (::lstat(c.c_str(), &st) < 0) {
          continue;
        }
        if (S_ISDIR(st.st_mode)) {
          dir(c);
        } else if (S_ISREG(st.st_mode)) {
          if (st.st_nlink > 1 && !seen.insert({st.st_dev, st.st_ino}).second) {
            continue;
          }
          total += st.st_size;
        }
      }
    }
  } w;
  w.dir(path);
  return w.total;
}

}  // namespace mydocker::engine::fs
