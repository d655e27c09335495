// SPDX-License-Identifier: Apache-2.0
// The parent <-> init exchange of `create`, over a SOCK_SEQPACKET socketpair (one message per
// packet, so no framing; both ends O_CLOEXEC, so the container's execve closes the child end
// and the parent of an `exec` sees EOF as "exec succeeded").
//
//   mydocker-runtime (parent)                         container init (child)
//   ─────────────────────────                         ──────────────────────
//   load bundle, validate everything (mount::plan,
//   seccomp::compile, caps vs bounding set, rlimits)
//   mkdir <root>/<id>, mkfifo exec.fifo, open it O_PATH (inherited by the child)
//   cgroup create(resources)
//   [pid ns by path: setns(CLONE_NEWPID)]
//   clone(CLONE_NEW* | SIGCHLD) ───────────────────► (starts in new namespaces)
//                                                     blocks in recv()
//   [user ns: write uid_map, gid_map]
//   [no v1 self-join: cgroup add_process(pid)]
//   ──────────────────────── "go" ────────────────►
//                                                     [v1 self-join: "0" > <cgroup>/tasks
//                                                      for each hierarchy (no global lock,
//                                                      see init.h self_join_tasks)]
//                                                     [user ns: setresuid/gid(0)]
//                                                     setns(joined namespaces, user first)
//                                                     [unshare(CLONE_NEWCGROUP)]
//                                                     sethostname, setdomainname
//                                                     mount::prepare_rootfs
//                                                     [connect console socket]
//                                                     mount::pivot_into, finalize_rootfs
//                                                     sysctl, oom_score_adj, rlimits
//                                                     [terminal: /dev/ptmx, send master
//                                                      over the console socket (SCM_RIGHTS),
//                                                      setsid, TIOCSCTTY, dup to 0/1/2]
//                                                     resolve args[0] in $PATH, chdir cwd
//                                                     [!noNewPrivileges: seccomp load]
//                                                     setgroups/setgid/setuid (KEEPCAPS)
//                                                     umask, caps::apply, no_new_privs
//                                                     [noNewPrivileges: seccomp load]
//   ◄──────────── "ready" | "error: <one line>" ───
//   (error: kill + reap child, destroy cgroup,        reopen /proc/self/fd/<fifo> O_WRONLY:
//    remove state dir; return the child's line)        blocks until `start` opens the
//   write state.json, --pid-file; exit 0               reading end
//            ...                                      │
//   `start`: open exec.fifo O_RDONLY, read 1 byte ──► write 1 byte, close_range(CLOEXEC),
//            unlink exec.fifo                          execve(args)
//
// The child never logs (no spdlog) and takes no locks the parent could hold: the parent is
// single-threaded, so clone(2) without CLONE_VM is as safe as fork(). An "error" is the
// child's last act before _exit(1). EOF before "ready" means the child died.
//
// `exec` uses the same messages: the parent forks (after setns(CLONE_NEWPID)), joins the child
// to the cgroup, sends "go"; the child answers "error: ..." or the socket just closes when
// execve succeeds (O_CLOEXEC).
#pragma once

#include <string>
#include <string_view>

#include "runtime/base/error.h"
#include "runtime/base/fd.h"

namespace mydocker::runtime::process {

enum class SyncType { Go, Ready, Error };

struct SyncMessage {
  SyncType type = SyncType::Go;
  std::string detail;  // Error only: one line (newlines are replaced by spaces)
};

// Wire form: "go", "ready", "error: <detail>".
std::string encode(const SyncMessage& m);
// InvalidArgument for anything else (an unknown word, "error" without ": ").
base::Result<SyncMessage> decode(std::string_view packet);

// A connected SOCK_SEQPACKET pair, both ends O_CLOEXEC.
struct SyncPair {
  base::Fd parent;
  base::Fd child;
};
base::Result<SyncPair> make_sync_pair();

// Sends one message (one packet). EPIPE when the peer is gone (SIGPIPE is not raised).
base::Result<void> send_sync(int fd, const SyncMessage& m);
// Receives one message. Unavailable "peer closed" on EOF.
base::Result<SyncMessage> recv_sync(int fd);

}  // namespace mydocker::runtime::process
