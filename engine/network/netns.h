// SPDX-License-Identifier: Apache-2.0
// Persistent network namespaces, as `ip netns` and Docker keep them: a namespace bind-mounted
// on a file (<exec-root>/netns/<id>), so it outlives every process in it and the OCI spec can
// name it ({"type": "network", "path": ...}; runtime/ joins namespace paths with setns).
//
// The daemon is multithreaded and never forks without exec, so a namespace is made on a
// short-lived thread: unshare(CLONE_NEWNET) there, then bind /proc/thread-self/ns/net onto the
// file; the thread ends and the mount keeps the namespace alive. run() enters one the same
// way: setns() on a fresh thread, the callable, and the thread exits, so no thread of the
// daemon is ever left in the wrong namespace (even if switching back would fail).
//
//   <exec-root>/netns/            make_netns_dir(): a shared bind mount of itself, so that a
//   ├── 3f9a...  (nsfs mount)     mount namespace cloned while a file is mounted (a container
//   └── ...                       being created) sees its unmount and drops its reference.
#pragma once

#include <functional>
#include <string>
#include <utility>

#include "runtime/base/error.h"
#include "runtime/base/fd.h"

namespace mydocker::engine::network::kernel {

class NetNs {
 public:
  // Creates a new network namespace bound to `path` (the file is created; its directory must
  // exist). The returned handle OWNS the file: it is removed (unmounted and unlinked) on
  // destruction unless release() is called, so a failed setup leaves nothing behind.
  // AlreadyExists when `path` is already a namespace file.
  static base::Result<NetNs> create(const std::string& path);
  // Opens an existing namespace file, or any nsfs path such as /proc/<pid>/ns/net. Not owned:
  // destruction only closes the descriptor. NotFound when missing, InvalidArgument when the
  // path is not a network namespace.
  static base::Result<NetNs> open(const std::string& path);

  NetNs(NetNs&& other) noexcept
      : fd_(std::move(other.fd_)),
        path_(std::move(other.path_)),
        owned_(std::exchange(other.owned_, false)) {}
  NetNs& operator=(NetNs&& other) noexcept;
  NetNs(const NetNs&) = delete;
  NetNs& operator=(const NetNs&) = delete;
  ~NetNs();

  const std::string& path() const { return path_; }
  int fd() const { return fd_.get(); }
  // Keep the namespace file on destruction (it now belongs to the caller's records).
  void release() { owned_ = false; }
  // Unmounts and unlinks the file now (owned or not) and closes the descriptor.
  base::Result<void> remove();

  // Runs `fn` on a new thread that has joined this namespace; waits for it. Sockets `fn`
  // opens stay in this namespace after it returns (netlink sockets are per namespace).
  base::Result<void> run(const std::function<base::Result<void>()>& fn) const;

 private:
  NetNs(base::Fd fd, std::string path, bool owned)
      : fd_(std::move(fd)), path_(std::move(path)), owned_(owned) {}
  base::Fd fd_;
  std::string path_;
  bool owned_ = false;
};

// Unmounts (lazily) and unlinks a namespace file; a missing file is fine. For crash cleanup
// of files the records no longer name.
base::Result<void> remove_netns(const std::string& path);

// True when `path` is an nsfs mount (a live namespace file, not a leftover empty file).
bool is_netns_file(const std::string& path);

// Prepares the directory holding namespace files: created if missing, bind-mounted on itself
// once, and made a shared mount (as `ip netns` does for /run/netns). Idempotent.
base::Result<void> make_netns_dir(const std::string& dir);

}  // namespace mydocker::engine::network::kernel
