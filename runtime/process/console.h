// SPDX-License-Identifier: Apache-2.0
// Terminals, as runc's --console-socket protocol has them: the container's init opens
// /dev/ptmx INSIDE the container (so the pty belongs to the container's devpts instance),
// and sends the master to whoever listens on the console socket: one sendmsg(2) carrying the
// master as SCM_RIGHTS and the name "/dev/ptmx" as data. The init keeps the slave as its
// controlling terminal and stdio. containerd, podman and the test console sockets receive
// with recv_fd().
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "runtime/base/error.h"
#include "runtime/base/fd.h"
#include "runtime/spec/spec.h"

namespace mydocker::runtime::process {

// Connects a SOCK_STREAM unix socket to `path`.
base::Result<base::Fd> connect_unix(const std::string& path);
// A listening SOCK_STREAM unix socket bound at `path` (tests, run's internal console).
base::Result<base::Fd> listen_unix(const std::string& path);

// Sends `fd` over the unix socket `sock` with `name` as the payload.
base::Result<void> send_fd(int sock, int fd, const std::string& name);
// Receives one fd sent by send_fd (the payload is discarded). O_CLOEXEC on arrival.
base::Result<base::Fd> recv_fd(int sock);

struct Pty {
  base::Fd master;
  base::Fd slave;
};
// Opens /dev/ptmx of the current mount namespace, unlocks it and opens its peer.
base::Result<Pty> open_pty();

// In the process that becomes the session leader: setsid, TIOCSCTTY on `slave`, dup2 to
// 0/1/2, optional window size.
base::Result<void> make_controlling_terminal(int slave,
                                             const std::optional<spec::ConsoleSize>& size);

}  // namespace mydocker::runtime::process
