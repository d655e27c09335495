// SPDX-License-Identifier: Apache-2.0
// specgen: image config + create options + Docker's default security profile -> the OCI
// runtime spec (config.json) the shim hands to runtime/. No I/O except reading the rootfs's
// /etc/passwd and /etc/group (the user, as runc resolves it) and uname() (the seccomp
// profile's minKernel); the seccomp profile is embedded at build time from
// engine/specgen/default-seccomp.json, Docker's default.
//
// What it produces, as dockerd + runc do:
//   process: args = Entrypoint + Cmd (the container's, else the image's; a client Entrypoint
//     resets the image's Cmd), env = image env overridden by the client's + PATH default +
//     HOSTNAME (+ TERM=xterm with a tty), cwd = WorkingDir or image's or "/", user (resolve_user,
//     plus HostConfig.GroupAdd), HOME, rlimits (daemon default-ulimits then the container's),
//     capabilities (Docker's default 14, or all with Privileged, then CapAdd/CapDrop, "ALL"
//     allowed), noNewPrivileges, seccomp (default profile filtered by the capabilities, unconfined,
//     or a JSON profile given inline), oomScoreAdj.
//   root: the rootfs path, readonly = ReadonlyRootfs.
//   mounts: /proc, /dev (tmpfs), /dev/pts, /dev/shm (ShmSize), /dev/mqueue, /sys (ro unless
//     privileged), /sys/fs/cgroup (ro), the container's hostname/hosts/resolv.conf binds,
//     Tmpfs entries.
//   linux: namespaces (pid, ipc, uts, mount, network unless host; cgroup when private),
//     maskedPaths / readonlyPaths (unless privileged), resources (memory, swap, cpu shares,
//     quota/period from NanoCpus, cpuset, pids), cgroupsPath, the default device rules
//     (Privileged: every device allowed and the host's /dev nodes listed, as runc's HostDevices).
//   hostname; with Init, the init binary (Debian's tini-static, which is what Docker ships
//     as docker-init) is bind-mounted read-only at /sbin/docker-init and runs the process
//     as `/sbin/docker-init -- <args>`.
// Errors: InvalidArgument with dockerd 20.10's wording ("invalid --security-opt 2: \"x\"",
// "unknown capability: \"CAP_FOO\"", "No command specified", "Decoding seccomp profile
// failed: ...", "unable to find user x: no matching entries in passwd file"); NotImplemented
// for a "container:<id>" PID/IPC mode. A "container:<id>" network mode gets a network namespace
// entry without a path: the daemon names the other container's namespace at start.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/container/config.h"
#include "image/content/image_config.h"
#include "runtime/base/error.h"

namespace mydocker::engine::specgen {

struct Input {
  const ContainerConfig* config = nullptr;           // required
  const HostConfig* host_config = nullptr;           // required
  const image::content::RunConfig* image = nullptr;  // the image's config (may be null)
  std::string rootfs;                                // absolute path of the merged rootfs
  std::string hostname;                              // Config.Hostname or the short ID
  std::string hostname_path;  // files bind-mounted over /etc/hostname, hosts, resolv.conf
  std::string hosts_path;     //   ("" -> not mounted)
  std::string resolv_conf_path;
  std::string cgroups_path;             // e.g. "/mydocker/<id>"
  std::vector<Ulimit> default_ulimits;  // daemon's default-ulimits
  std::string init_path;  // host path of tini-static for --init ("" -> InvalidArgument)
};

// The process as Docker resolves it: {Path, Args} for inspect, or InvalidArgument
// "No command specified" when Entrypoint + Cmd is empty.
struct Command {
  std::string path;
  std::vector<std::string> args;
};
base::Result<Command> resolve_command(const ContainerConfig& config,
                                      const image::content::RunConfig* image);

// dockerd's create-time checks of the network mode against the other options (runconfig's
// validateNetMode), on the request as sent (before the image's config is merged):
// InvalidArgument with dockerd 20.10's wording: "Invalid network mode: invalid container
// format container:<name|id>", and for container:<x> "conflicting options: hostname and the
// network mode" (-h), "... container type network can't be used with links. ...", "... dns
// and the network mode", "... custom host-to-IP mapping and the network mode", "... port
// publishing and the container type network mode" (-p/-P), "... port exposing and the
// container type network mode" (--expose), and (also for host) "conflicting options:
// mac-address and the network mode"; host with links "conflicting options: host type
// networking can't be used with links. ...".
base::Result<void> validate_network_mode(const ContainerConfig& config, const HostConfig& hc);

// The full OCI config.json.
base::Result<nlohmann::json> generate(const Input& in);

// Docker's default capability set (names with CAP_ prefix).
const std::vector<std::string>& default_capabilities();

// Docker's seccomp profile format -> the OCI linux.seccomp object, keeping the rules whose
// includes/excludes (caps, arches, minKernel) match. InvalidArgument for a malformed profile.
// The first form uses the host's architecture and uname() kernel version.
base::Result<nlohmann::json> seccomp_from_docker_profile(const nlohmann::json& profile,
                                                         const std::vector<std::string>& caps);
struct SeccompHost {
  std::string go_arch;  // Go's GOARCH name: "amd64", "arm64", "386", "s390x", ...
  int kernel_major = 0;
  int kernel_minor = 0;
};
base::Result<nlohmann::json> seccomp_from_docker_profile(const nlohmann::json& profile,
                                                         const std::vector<std::string>& caps,
                                                         const SeccompHost& host);

// Docker's default profile (engine/specgen/default-seccomp.json, embedded at build time).
const nlohmann::json& default_seccomp_profile();

// What dockerd stores at create (daemon/commit.go merge): the image's User, ExposedPorts, Env
// (client keys win, image-only keys appended), Labels, Cmd (only when the client gave neither
// Entrypoint nor Cmd), Entrypoint (when the client left it null), WorkingDir, Volumes and
// StopSignal fill what the client left unset; then an Entrypoint of [""] is reset to null.
void merge_image_config(ContainerConfig& config, const image::content::RunConfig& image);

// Config.User ("name", "uid", "name:group", "uid:gid", ...) resolved against the container's
// /etc/passwd and /etc/group contents (either may be empty), as runc does: a name that is not
// listed is InvalidArgument ("unable to find user foo: no matching entries in passwd file");
// a numeric id that is not listed is used as is (gid 0 when only a uid is given).
// Without an explicit group, the groups listing the user by name become additional gids.
struct ResolvedUser {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> additional_gids;
  std::string home = "/";
};
base::Result<ResolvedUser> resolve_user(std::string_view user, std::string_view passwd,
                                        std::string_view group);

}  // namespace mydocker::engine::specgen
