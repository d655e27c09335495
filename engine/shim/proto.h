// SPDX-License-Identifier: Apache-2.0
// The daemon <-> mydocker-shim contract (leaf target mydocker::shim_proto: base + json).
//
//   mydockerd                                   mydocker-shim <state-dir>/shim.json
//   ---------                                   ----------------------------------
//   write <state-dir>/shim.json (ShimConfig)
//   posix_spawn shim, fd 3 = ready pipe ------> setsid; read shim.json; become subreaper
//                                               create + start the container (runtime/)
//                                    <--------- fd 3: one JSON line ReadyMessage, close
//   pidfd_open(shim) and watch it               copy container stdout/stderr -> json-file
//                                               log (rotated); reap the init
//                                               destroy the runtime state (cgroup, state
//                                               dir), then write <state-dir>/exit.json
//                                               (ExitStatus, temp + fsync + rename), exit 0
//   on shim exit: read exit.json
//
// Streams (attach, exec) go to the shim, not through the daemon: the daemon answers the
// HTTP upgrade, then hands the client's connection itself to the shim, which copies between
// it and the container (framing, stdin, detach keys) in its poll loop. Connections attached
// before the container starts are inherited at spawn (ShimConfig::attaches); later ones, and
// resize and exec requests, arrive on the shim's control socket <state-dir>/shim.sock
// (SOCK_SEQPACKET: one JSON ControlRequest per message, the connection as SCM_RIGHTS; one
// JSON ControlReply back). engine/shim/control.h is the daemon's side.
//
// The shim outlives the daemon: a daemon restarted after kill -9 finds <state-dir>/shim.pid,
// opens a pidfd on it (checking /proc/<pid>/stat's start time against shim.pid's), and reads
// exit.json once the shim is gone. A stop/kill/pause from the daemon goes to the container
// through runtime::Container::load(runtime_root, id), not through the shim.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "runtime/base/error.h"

namespace mydocker::engine::shim {

// One client connection to serve (an upgraded HTTP connection, or any stream socket).
// Output goes to it raw when the process has a tty, else in Docker's multiplexed frames
// (8-byte header: stream 1/2, 3 zero bytes, big-endian u32 length). Input (when
// stdin_stream) goes to the process's stdin, except the detach sequence, which closes this
// connection and nothing else. On the process's exit the shim records the exit (exit.json
// or the exec's exit file) before it closes the connection, so a client that sees EOF can
// read the exit code at once.
struct AttachSpec {
  int fd = -1;  // in ShimConfig::attaches: the inherited fd number; on the control socket unused
  bool stdin_stream = false;
  bool stdout_stream = false;
  bool stderr_stream = false;
  std::string detach_keys;  // the byte sequence ("\x10\x11" for ctrl-p,ctrl-q); "" = none
  nlohmann::json to_json() const;
  static base::Result<AttachSpec> from_json(const nlohmann::json& j);
};

// A process to start in the running container (op "exec").
struct ExecSpec {
  std::string id;                                     // the exec ID (names its exit file)
  nlohmann::json process = nlohmann::json::object();  // OCI process object, complete
  bool open_stdin = false;  // stdin is a pipe (or the pty) fed by the attached connection
  nlohmann::json to_json() const;
  static base::Result<ExecSpec> from_json(const nlohmann::json& j);
};

// A message on <state-dir>/shim.sock.
struct ControlRequest {
  std::string op;       // "attach" (+ connection), "resize", "exec" (+ connection unless detached)
  std::string exec_id;  // resize: "" -> the container's pty, else that exec's
  int height = 0;       // resize
  int width = 0;        // resize
  AttachSpec attach;    // attach; exec (which streams to attach when a connection comes)
  ExecSpec exec;        // exec
  nlohmann::json to_json() const;
  static base::Result<ControlRequest> from_json(const nlohmann::json& j);
};

struct ControlReply {
  std::string error;  // "" when ok
  // base::ErrorCode as int for errors (NotFound: no such exec; Conflict: no tty, exec id in
  // use; InvalidArgument; Internal), so the daemon keeps the kind.
  int code = 0;
  int64_t pid = 0;  // exec: the process's host pid
  nlohmann::json to_json() const;
  static base::Result<ControlReply> from_json(const nlohmann::json& j);
};

// <state-dir>/exec-<id>.json: how an exec'd process ended (written before its connection is
// closed; the daemon reads it for GET /exec/{id}/json).
struct ExecExit {
  int64_t exit_code = 0;  // shell style
  nlohmann::json to_json() const;
  static base::Result<ExecExit> from_json(const nlohmann::json& j);
};

// Written by the daemon before spawning; the shim's only argument is its path.
struct ShimConfig {
  std::string id;             // container ID (also the runtime's container ID)
  std::string bundle;         // OCI bundle dir (config.json; root.path absolute)
  std::string runtime_root;   // runtime::CreateOptions::root
  std::string state_dir;      // <exec-root>/containers/<id>: shim.pid, exit.json live here
  std::string log_path;       // json-file log; "" -> output is discarded (log driver none)
  int64_t log_max_size = 0;   // bytes per file before rotation; 0 -> never rotate
  int64_t log_max_files = 1;  // files kept, the live one included (>= 1)
  bool tty = false;           // process.terminal: the shim holds the pty master
  bool open_stdin = false;    // Config.OpenStdin: stdin is a pipe (or the pty) fed by attaches
  bool stdin_once = false;    // Config.StdinOnce: the first attached stdin's EOF closes it
  std::vector<AttachSpec> attaches;  // connections attached before the start (inherited fds)

  nlohmann::json to_json() const;
  static base::Result<ShimConfig> from_json(const nlohmann::json& j);
};

// The one line the shim writes on fd 3 once the container started, or failed to.
struct ReadyMessage {
  int64_t pid = 0;    // container init pid (host pid namespace) when ok
  std::string error;  // "" when ok; else the runtime's message, e.g. `exec: "x": executable
                      // file not found in $PATH` (the daemon words it Docker's way)
  nlohmann::json to_json() const;
  static base::Result<ReadyMessage> from_json(const nlohmann::json& j);
};

// <state-dir>/exit.json: how the container ended.
struct ExitStatus {
  int64_t exit_code = 0;    // shell style: 128 + signal for a killed init
  std::string finished_at;  // RFC 3339 nano, UTC
  bool oom_killed = false;
  nlohmann::json to_json() const;
  static base::Result<ExitStatus> from_json(const nlohmann::json& j);
};

// <state-dir>/shim.pid: "<pid> <starttime>" (starttime = field 22 of /proc/<pid>/stat), so a
// reused pid is not mistaken for the shim. The shim writes it once the container runs, as
// "<pid> <starttime> <container pid>" (so attach() knows the init too), before its ready line.
struct ShimPid {
  int64_t pid = 0;
  uint64_t start_time = 0;
  int64_t container_pid = 0;  // 0: not (yet) recorded
};

inline constexpr const char* kShimConfigFile = "shim.json";
inline constexpr const char* kShimPidFile = "shim.pid";
inline constexpr const char* kExitFile = "exit.json";
inline constexpr const char* kControlSocket = "shim.sock";
inline constexpr int kReadyFd = 3;
// Inherited attach connections are numbered from here (spawn() assigns AttachSpec::fd).
inline constexpr int kFirstAttachFd = 4;

// Reads/writes files in a state dir (atomic writes: temp + rename; exit.json is also fsynced,
// file and directory; shim.json and shim.pid are not: they describe processes, which a host
// crash ends anyway).
base::Result<void> write_config(const std::string& state_dir, const ShimConfig& config);
base::Result<ShimConfig> read_config(const std::string& path);
base::Result<void> write_exit(const std::string& state_dir, const ExitStatus& status);
// NotFound when the shim recorded no exit.
base::Result<ExitStatus> read_exit(const std::string& state_dir);
base::Result<void> write_pid(const std::string& state_dir, const ShimPid& pid);
// exec-<id>.json, atomically (not fsynced: the exec is gone after a host crash anyway).
base::Result<void> write_exec_exit(const std::string& state_dir, const std::string& exec_id,
                                   const ExecExit& exit);
// NotFound while the process runs (or when it never started).
base::Result<ExecExit> read_exec_exit(const std::string& state_dir, const std::string& exec_id);
base::Result<ShimPid> read_pid(const std::string& state_dir);
// Field 22 of /proc/<pid>/stat; NotFound when the process is gone.
base::Result<uint64_t> process_start_time(int64_t pid);
// Fields 3 (state: 'R', 'S', 'Z' for a zombie, ...) and 22 of /proc/<pid>/stat; NotFound when
// the process is gone.
struct ProcStat {
  char state = '?';
  uint64_t start_time = 0;
};
base::Result<ProcStat> read_process_stat(int64_t pid);

}  // namespace mydocker::engine::shim
