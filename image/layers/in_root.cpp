// SPDX-License-Identifier: Apache-2.0
#include "image/layers/in_root.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <deque>
#include <vector>

namespace mydocker::image::layers {
namespace {

std::atomic<bool> g_openat2_disabled{false};
// 0 unknown, 1 works, -1 unavailable (ENOSYS, or EPERM from a seccomp profile).
std::atomic<int> g_openat2_state{0};

// The kernel's own limit (MAXSYMLINKS).
constexpr int kMaxSymlinks = 40;

int sys_openat2(int dir, const char* path, int flags) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags) | O_CLOEXEC;
  // RESOLVE_IN_ROOT: `..` and absolute symlinks stop at `dir`. NO_MAGICLINKS: a layer cannot
  // hold /proc-style links anyway, and following one would jump anywhere. NO_XDEV: nothing
  // mounted inside a layer or rootfs being populated is ours to write through.
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  return static_cast<int>(::syscall(SYS_openat2, dir, path, &how, sizeof how));
}

std::vector<std::string_view> components(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view c = path.substr(0, slash);
    if (!c.empty()) {
      out.push_back(c);
    }
    if (slash == std::string_view::npos) {
      break;
    }
    path.remove_prefix(slash + 1);
  }
  return out;
}

// The fallback: walk one component at a time with O_PATH|O_NOFOLLOW and expand symlinks here,
// restarting absolute targets at the root and clamping `..` at the root (RESOLVE_IN_ROOT's
// semantics, as crun's safe_openat does).
int walk_in_root(int root, std::string_view rel) {
  std::deque<std::string> todo;
  for (std::string_view c : components(rel)) {
    todo.emplace_back(c);
  }
  std::vector<base::Fd> stack;
  int links = 0;
  while (!todo.empty()) {
    std::string c = std::move(todo.front());
    todo.pop_front();
    if (c.empty() || c == ".") {
      continue;
    }
    if (c == "..") {
      if (!stack.empty()) {
        stack.pop_back();
      }
      continue;
    }
    int cur = stack.empty() ? root : stack.back().get();
    base::Fd fd = base::Fd::adopt(::openat(cur, c.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) {
      return -1;
    }
    struct stat st;
    if (::fstat(fd.get(), &st) < 0) {
      return -1;
    }
    if (S_ISLNK(st.st_mode)) {
      if (++links > kMaxSymlinks) {
        errno = ELOOP;
        return -1;
      }
      char target[4096];
      ssize_t n = ::readlinkat(fd.get(), "", target, sizeof target);
      if (n < 0) {
        return -1;
      }
      std::string_view t(target, static_cast<size_t>(n));
      if (!t.empty() && t.front() == '/') {
        stack.clear();
      }
      std::vector<std::string_view> parts = components(t);
      for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
        todo.emplace_front(*it);
      }
      continue;
    }
    if (!S_ISDIR(st.st_mode)) {
      errno = ENOTDIR;
      return -1;
    }
    stack.push_back(std::move(fd));
  }
  int cur = stack.empty() ? root : stack.back().get();
  return ::openat(cur, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int open_dir_raw(int root, const std::string& rel) {
  if (rel.empty()) {
    return ::openat(root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  }
  if (!g_openat2_disabled.load(std::memory_order_relaxed) &&
      g_openat2_state.load(std::memory_order_relaxed) >= 0) {
    int fd;
    do {
      // EAGAIN: a concurrent rename somewhere in the tree; the kernel asks for a retry.
      fd = sys_openat2(root, rel.c_str(), O_RDONLY | O_DIRECTORY);
    } while (fd < 0 && errno == EAGAIN);
    if (fd >= 0) {
      g_openat2_state.store(1, std::memory_order_relaxed);
      return fd;
    }
    bool unavailable = errno == ENOSYS || (errno == EPERM && g_openat2_state.load() == 0);
    if (!unavailable) {
      return -1;
    }
    g_openat2_state.store(-1, std::memory_order_relaxed);
  }
  return walk_in_root(root, rel);
}

base::Error dir_error(const std::string& rel) {
  int err = errno;
  base::ErrorCode code = base::code_from_errno(err);
  if (err == ENOTDIR || err == ELOOP || err == EXDEV) {
    code = base::ErrorCode::InvalidArgument;
  }
  return base::Error(code, fmt::format("open directory `{}` in the root", rel), err);
}

}  // namespace

std::optional<std::string> clean_path(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view c = path.substr(0, slash);
    path.remove_prefix(slash == std::string_view::npos ? path.size() : slash + 1);
    if (c.empty() || c == ".") {
      continue;
    }
    if (c == "..") {
      if (out.empty()) {
        return std::nullopt;
      }
      size_t prev = out.rfind('/');
      out.resize(prev == std::string::npos ? 0 : prev);
      continue;
    }
    if (!out.empty()) {
      out.push_back('/');
    }
    out.append(c);
  }
  return out;
}

std::pair<std::string_view, std::string_view> split_parent(std::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) {
    return {std::string_view(), path};
  }
  return {path.substr(0, slash), path.substr(slash + 1)};
}

base::Result<base::Fd> open_dir_in_root(const base::Fd& root, const std::string& rel) {
  int fd = open_dir_raw(root.get(), rel);
  if (fd < 0) {
    return dir_error(rel);
  }
  return base::Fd::adopt(fd);
}

base::Result<base::Fd> make_dirs_in_root(const base::Fd& root, const std::string& rel) {
  int fd = open_dir_raw(root.get(), rel);
  if (fd >= 0) {
    return base::Fd::adopt(fd);
  }
  if (errno != ENOENT) {
    return dir_error(rel);
  }
  // Rare (tars normally list parents first): create the missing tail one level at a time,
  // each mkdirat relative to the in-root resolution of its parent.
  base::Fd parent = MYDOCKER_TRY(root.dup());
  size_t pos = 0;
  while (pos <= rel.size()) {
    size_t slash = rel.find('/', pos);
    size_t end = slash == std::string::npos ? rel.size() : slash;
    std::string prefix = rel.substr(0, end);
    int next = open_dir_raw(root.get(), prefix);
    if (next < 0 && errno == ENOENT) {
      std::string name = rel.substr(pos, end - pos);
      if (::mkdirat(parent.get(), name.c_str(), 0755) < 0 && errno != EEXIST) {
        return base::sys_error("create directory `{}` in the root", prefix);
      }
      next = open_dir_raw(root.get(), prefix);
    }
    if (next < 0) {
      return dir_error(prefix);
    }
    parent.reset(next);
    if (slash == std::string::npos) {
      break;
    }
    pos = slash + 1;
  }
  return parent;
}

base::Result<void> remove_all_at(int dir, const std::string& name) {
  if (::unlinkat(dir, name.c_str(), 0) == 0 || errno == ENOENT) {
    return base::ok();
  }
  if (errno != EISDIR) {
    return base::sys_error("remove `{}`", name);
  }
  int sub = ::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (sub < 0) {
    return base::sys_error("open `{}`", name);
  }
  DIR* d = ::fdopendir(sub);
  if (d == nullptr) {
    ::close(sub);
    return base::sys_error("open `{}`", name);
  }
  std::vector<std::string> names;
  while (dirent* ent = ::readdir(d)) {
    std::string_view n(ent->d_name);
    if (n != "." && n != "..") {
      names.emplace_back(n);
    }
  }
  base::Result<void> result = base::ok();
  for (const std::string& n : names) {
    result = remove_all_at(::dirfd(d), n);
    if (!result) {
      break;
    }
  }
  ::closedir(d);
  if (!result) {
    return std::move(result).error().wrap(fmt::format("remove `{}`", name));
  }
  if (::unlinkat(dir, name.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT) {
    return base::sys_error("remove directory `{}`", name);
  }
  return base::ok();
}

void set_openat2_disabled_for_test(bool disabled) {
  g_openat2_disabled.store(disabled);
}

}  // namespace mydocker::image::layers
