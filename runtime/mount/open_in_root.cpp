// SPDX-License-Identifier: Apache-2.0
// Path resolution inside a container rootfs. An image is untrusted input: `etc -> /` or
// `x -> ../../../..` must resolve inside the rootfs, else a spec mount on /x/y would land on
// the host (runc CVE-2021-30465, and the symlink-exchange races before it). The kernel does it
// for us with openat2(RESOLVE_IN_ROOT); without openat2 (before Linux 5.6) we walk the path
// one component at a time from directory fds, reading symlinks as text, as crun's safe_openat.
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <deque>

#include "runtime/base/strings.h"
#include "runtime/mount/resolve.h"
#include "runtime/mount/rootfs.h"

namespace mydocker::runtime::mount {
namespace {

// Linux's own limit (MAXSYMLINKS).
constexpr int kMaxSymlinks = 40;

// Process-wide and unsynchronised on purpose: set once by the kernel's answer (or a test),
// read in a single-threaded container init.
bool g_openat2_missing = false;
bool g_force_fallback = false;

base::Error resolve_error(const std::string& path, int err) {
  return base::sys_error_n(err, "resolve `{}` inside the root", path);
}

// Puts the components of `path` in front of `todo`. "." stays (after a non-directory it is
// ENOTDIR, as for the kernel), and so does a trailing slash, as ".".
void push_components(std::deque<std::string>& todo, const std::string& path) {
  auto parts = base::split(path, '/');
  for (size_t k = parts.size(); k-- > 0;) {
    if (!parts[k].empty()) {
      todo.push_front(std::move(parts[k]));
    } else if (k + 1 == parts.size() && k > 0) {
      todo.push_front(".");
    }
  }
}

base::Result<base::Fd> walk(int root_fd, const std::string& path, int flags, bool create_dirs) {
  int root_copy = ::fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
  if (root_copy < 0) {
    return resolve_error(path, errno);
  }
  // stack[0] is the root; ".." pops and never below it. Keeping the fds (rather than opening
  // "..") means a directory renamed away mid-walk cannot lead outside.
  std::vector<base::Fd> stack;
  stack.push_back(base::Fd::adopt(root_copy));
  std::deque<std::string> todo;
  push_components(todo, path);
  int symlinks = 0;

  while (!todo.empty()) {
    std::string name = std::move(todo.front());
    todo.pop_front();
    if (name == "..") {
      if (stack.size() > 1) {
        stack.pop_back();
      }
      continue;
    }
    if (name == ".") {
      continue;  // the stack holds directories only
    }
    int dir = stack.back().get();
    int fd = ::openat(dir, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create_dirs) {
      if (::mkdirat(dir, name.c_str(), 0755) < 0 && errno != EEXIST) {
        return resolve_error(path, errno);
      }
      fd = ::openat(dir, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) {
      return resolve_error(path, errno);
    }
    base::Fd entry = base::Fd::adopt(fd);
    struct stat st {};
    if (::fstat(entry.get(), &st) < 0) {
      return resolve_error(path, errno);
    }
    if (S_ISLNK(st.st_mode)) {
      if (++symlinks > kMaxSymlinks) {
        return resolve_error(path, ELOOP);
      }
      // Read as text, never followed by the kernel: a magic link such as /proc/self/root
      // reads as a plain path and is resolved inside the root like any other.
      char target[PATH_MAX];
      ssize_t n = ::readlinkat(entry.get(), "", target, sizeof target);
      if (n < 0) {
        return resolve_error(path, errno);
      }
      if (n == 0) {
        return resolve_error(path, ENOENT);
      }
      if (static_cast<size_t>(n) == sizeof target) {
        return resolve_error(path, ENAMETOOLONG);
      }
      std::string t(target, static_cast<size_t>(n));
      if (t[0] == '/') {
        stack.resize(1);
      }
      push_components(todo, t);
      continue;
    }
    if (S_ISDIR(st.st_mode)) {
      stack.push_back(std::move(entry));
      continue;
    }
    if (!todo.empty()) {
      return resolve_error(path, ENOTDIR);
    }
    // The last component, not a directory: open it for real from its parent. O_NOFOLLOW
    // turns a symlink swapped in since the fstat into ELOOP rather than a way out.
    int final_fd = ::openat(dir, name.c_str(), flags | O_NOFOLLOW | O_CLOEXEC);
    if (final_fd < 0) {
      return resolve_error(path, errno);
    }
    return base::Fd::adopt(final_fd);
  }
  int final_fd = ::openat(stack.back().get(), ".", flags | O_CLOEXEC);
  if (final_fd < 0) {
    return resolve_error(path, errno);
  }
  return base::Fd::adopt(final_fd);
}

// ENOSYS when the kernel has no openat2.
base::Result<base::Fd> openat2_in_root(int root_fd, const std::string& path, int flags) {
  struct open_how how {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  const char* p = path.empty() ? "." : path.c_str();
  for (int attempt = 0;; ++attempt) {
    long fd = ::syscall(SYS_openat2, root_fd, p, &how, sizeof how);
    if (fd >= 0) {
      return base::Fd::adopt(static_cast<int>(fd));
    }
    // EAGAIN: a concurrent rename somewhere in the filesystem made the kernel unsure about
    // "..", so it refuses rather than risk an escape; retrying is the documented answer.
    if ((errno == EAGAIN && attempt < 64) || errno == EINTR) {
      continue;
    }
    return resolve_error(path, errno);
  }
}

}  // namespace

base::Result<base::Fd> open_in_root(int root_fd, const std::string& path, int flags,
                                    bool create_dirs) {
  if (!g_openat2_missing && !g_force_fallback) {
    auto fd = openat2_in_root(root_fd, path, flags);
    if (fd) {
      return fd;
    }
    int err = fd.error().sys_errno();
    if (err == ENOSYS) {
      g_openat2_missing = true;
    } else if (!(err == ENOENT && create_dirs)) {
      return fd;
    }
    // ENOENT with create_dirs: the walk creates what is missing, with the same guarantees.
  }
  return walk(root_fd, path, flags, create_dirs);
}

base::Result<base::Fd> open_in_root_fallback_for_test(int root_fd, const std::string& path,
                                                      int flags, bool create_dirs) {
  return walk(root_fd, path, flags, create_dirs);
}

base::Result<std::optional<std::string>> find_escaping_symlink(int root_fd,
                                                               const std::string& path) {
  // Diagnosis only (nothing is opened for use): a walk over names is enough.
  std::vector<std::string> resolved;
  std::deque<std::string> todo;
  push_components(todo, path);
  std::string last_symlink;
  int symlinks = 0;
  while (!todo.empty()) {
    std::string name = std::move(todo.front());
    todo.pop_front();
    if (name == "..") {
      if (resolved.empty()) {
        return std::optional<std::string>(last_symlink);
      }
      resolved.pop_back();
      continue;
    }
    if (name == ".") {
      continue;
    }
    resolved.push_back(name);
    std::string rel = base::join(resolved, "/");
    struct stat st {};
    if (::fstatat(root_fd, rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) {
        return std::optional<std::string>();
      }
      return resolve_error(path, errno);
    }
    if (!S_ISLNK(st.st_mode)) {
      continue;
    }
    if (++symlinks > kMaxSymlinks) {
      return resolve_error(path, ELOOP);
    }
    char target[PATH_MAX];
    ssize_t n = ::readlinkat(root_fd, rel.c_str(), target, sizeof target);
    if (n <= 0 || static_cast<size_t>(n) == sizeof target) {
      return resolve_error(path, n < 0 ? errno : ENAMETOOLONG);
    }
    std::string t(target, static_cast<size_t>(n));
    last_symlink = fmt::format("`/{}` -> `{}`", rel, t);
    resolved.pop_back();
    if (t[0] == '/') {
      resolved.clear();
    }
    push_components(todo, t);
  }
  return std::optional<std::string>();
}

void force_open_in_root_fallback_for_test(bool force) {
  g_force_fallback = force;
}

}  // namespace mydocker::runtime::mount
