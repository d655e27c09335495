// SPDX-License-Identifier: Apache-2.0
// The real engine::Daemon: containers on this host, each run by a mydocker-shim.
//
//   <data-root>/containers/<id>/config.v2.json   the record: Config, State, Name, ... (durable)
//   <data-root>/containers/<id>/hostconfig.json  HostConfig (durable)
//   <data-root>/containers/<id>/<id>-json.log    json-file log (+ .1, .2 ... rotated)
//   <data-root>/containers/<id>/hostname, hosts, resolv.conf
//   <data-root>/rw/<driver>/<id>/                the RW layer (image/layers snapshotter)
//   <data-root>/containers/<id>/rootfs           mount point of the merged rootfs
//   <exec-root>/containers/<id>/                 shim.json, shim.pid, exit.json, bundle/
//   <exec-root>/runtime/                         the runtime library's state root
//
// open() restores: each record is loaded (a damaged one is moved to
// <data-root>/containers/<id>.damaged and logged); a container recorded running whose shim
// is alive is re-attached (live restore); one whose shim is gone is marked exited with the
// status its shim recorded (exit.json), or 255 with an error when none was recorded; then
// restart policies are applied (always, unless-stopped when not stopped by the user,
// on-failure for non-zero exits).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/daemon.h"
#include "image/registry/client.h"
#include "runtime/base/error.h"

namespace mydocker::engine {

struct DaemonOptions {
  std::string data_root = "/var/lib/mydocker";
  std::string exec_root = "/run/mydocker";
  std::string shim_path;       // mydocker-shim binary; "" -> next to /proc/self/exe
  std::string storage_driver;  // "" (overlay2 when supported, else vfs) | "overlay2" | "vfs"
  bool live_restore = true;    // false: running containers are stopped at shutdown
  // Default log-opts for json-file (daemon.json "log-opts"): max-size, max-file.
  std::map<std::string, std::string> log_opts;
  std::vector<Ulimit> default_ulimits;
  std::string cgroup_parent = "/mydocker";
  // Networking (daemon.json bridge, bip): the default network's Linux bridge and its
  // address/subnet ("" -> a free pool). A bridge other than mydocker0 gets its own nftables
  // table (network::firewall_table_for), so private daemons never share ours. "" (this
  // struct's default; mydockerd's is mydocker0, `--bridge none` gives ""): no default bridge,
  // containers in the default mode get a private namespace with loopback only.
  std::string bridge;
  std::string bip;
  // Registry settings (daemon.json insecure-registries, registry-mirrors,
  // registry-host-mirrors; certs.d). Credentials come with each request; proxies from the
  // daemon's environment unless `registry.proxy` is set.
  image::registry::RegistryOptions registry;
};

// Opens the stores, restores containers (see above). Errors: the stores' open errors.
base::Result<std::unique_ptr<Daemon>> open_local_daemon(const DaemonOptions& options);

}  // namespace mydocker::engine
