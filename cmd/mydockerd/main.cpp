// SPDX-License-Identifier: Apache-2.0
// mydockerd: the daemon. Reads its configuration (cmd/mydockerd/config.h), takes the data
// root's lock, opens the engine (engine/local_daemon.h) and serves the Docker Engine API on
// each unix socket (api/server/server.h) until SIGTERM or SIGINT.
//
// Start-up order:
//   block SIGTERM/SIGINT/SIGHUP (inherited by every thread), ignore SIGPIPE
//   -> config -> logger -> mkdir roots -> flock <data-root>/mydockerd.lock (refuse if held)
//   -> pidfile -> open engine -> bind sockets -> signal thread -> serve (one thread per socket)
// Shutdown: servers stop, engine shutdown() (containers keep running with live restore),
// sockets and pidfile removed, exit 0. A third signal exits at once (as dockerd).
//
// Exit codes: 0 after a graceful shutdown; 1 with "mydockerd: <error>" on stderr otherwise.
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "api/server/server.h"
#include "cmd/mydockerd/config.h"
#include "engine/local_daemon.h"
#include "runtime/base/error.h"
#include "runtime/base/fd.h"
#include "runtime/base/file.h"
#include "runtime/base/strings.h"

namespace {

namespace base = mydocker::base;
namespace engine = mydocker::engine;
namespace server = mydocker::api::server;
namespace cfg = mydocker::cmd::mydockerd;

int fail(const base::Error& err) {
  std::string msg = err.to_string();
  std::fprintf(stderr, "mydockerd: %s\n", msg.c_str());
  return 1;
}

spdlog::level::level_enum spdlog_level(const std::string& level) {
  if (level == "debug") {
    return spdlog::level::debug;
  }
  if (level == "warn") {
    return spdlog::level::warn;
  }
  if (level == "error") {
    return spdlog::level::err;
  }
  if (level == "fatal") {
    return spdlog::level::critical;
  }
  return spdlog::level::info;
}

void setup_logging(const cfg::Config& c) {
  auto logger = spdlog::stderr_logger_mt("mydockerd");
  // dockerd's logrus text format: time="..." level=info msg="..."
  logger->set_pattern("time=\"%Y-%m-%dT%H:%M:%S.%f%z\" level=%l msg=\"%v\"");
  logger->set_level(spdlog_level(c.effective_log_level()));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(std::move(logger));
}

// The data root's lock: an flock on <data-root>/mydockerd.lock held (and the fd kept open,
// close-on-exec so shims never inherit it) for the daemon's life. The file holds the owner's
// pid for the refusal message. A crashed daemon's lock is released by the kernel.
base::Result<base::Fd> lock_data_root(const std::string& data_root) {
  std::string path = data_root + "/mydockerd.lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return base::sys_error("open `{}`", path);
  }
  base::Fd lock = base::Fd::adopt(fd);
  if (::flock(lock.get(), LOCK_EX | LOCK_NB) < 0) {
    if (errno != EWOULDBLOCK) {
      return base::sys_error("lock `{}`", path);
    }
    std::string owner = "unknown";
    if (auto text = base::read_file(path); text && !base::trim(*text).empty()) {
      owner = std::string(base::trim(*text));
    }
    return base::make_error(base::ErrorCode::Conflict,
                            "mydockerd is already running on data root {} (pid {})", data_root,
                            owner);
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(lock.get(), 0) < 0 || ::pwrite(lock.get(), pid.data(), pid.size(), 0) < 0) {
    return base::sys_error("write `{}`", path);
  }
  return lock;
}

engine::DaemonOptions daemon_options(const cfg::Config& c) {
  engine::DaemonOptions o;
  o.data_root = c.data_root;
  o.exec_root = c.exec_root;
  o.shim_path = c.shim_path;
  o.storage_driver = c.storage_driver;
  o.live_restore = c.live_restore;
  o.log_opts = c.log_opts;
  for (const auto& u : c.default_ulimits) {
    o.default_ulimits.push_back(engine::Ulimit{u.name, u.soft, u.hard});
  }
  o.cgroup_parent = c.cgroup_parent;
  o.bridge = c.bridge == "none" ? "" : c.bridge;  // dockerd's -b none: no default bridge
  o.bip = c.bip;
  o.registry.insecure_registries = c.insecure_registries;
  o.registry.mirrors = c.registry_mirrors;
  o.registry.host_mirrors = c.registry_host_mirrors;
  return o;
}

// Everything the daemon owns, released in reverse order by run()'s scope exits.
int run(const cfg::Config& c) {
  setup_logging(c);
  auto t0 = std::chrono::steady_clock::now();
  if (auto r = base::mkdir_all(c.data_root, 0711); !r) {
    return fail(std::move(r).error().wrap("create data root"));
  }
  auto lock = lock_data_root(c.data_root);
  if (!lock) {
    return fail(lock.error());
  }
  if (auto r = base::mkdir_all(c.exec_root, 0700); !r) {
    return fail(std::move(r).error().wrap("create exec root"));
  }
  std::string pidfile = c.pidfile_path();
  if (auto slash = pidfile.rfind('/'); slash != std::string::npos && slash > 0) {
    if (auto r = base::mkdir_all(pidfile.substr(0, slash)); !r) {
      return fail(std::move(r).error().wrap("create pidfile directory"));
    }
  }
  if (auto r = base::write_file_atomic(pidfile, std::to_string(::getpid()) + "\n"); !r) {
    return fail(std::move(r).error().wrap("write pidfile"));
  }
  std::vector<std::string> sockets = c.socket_paths();
  auto cleanup_files = [&] {
    for (const auto& s : sockets) {
      ::unlink(s.c_str());
    }
    ::unlink(pidfile.c_str());
  };

  auto daemon = engine::open_local_daemon(daemon_options(c));
  if (!daemon) {
    ::unlink(pidfile.c_str());
    return fail(std::move(daemon).error().wrap("open the engine"));
  }
  std::vector<std::unique_ptr<server::Server>> servers;
  for (const auto& s : sockets) {
    if (auto slash = s.rfind('/'); slash != std::string::npos && slash > 0) {
      (void)base::mkdir_all(s.substr(0, slash));
    }
    server::ServerOptions so;
    so.socket_path = s;
    so.socket_group = c.group;
    so.version = MYDOCKER_VERSION;
    so.debug = c.effective_log_level() == "debug";
    auto srv = server::Server::create(**daemon, so);
    if (!srv) {
      (*daemon)->shutdown();
      cleanup_files();
      return fail(std::move(srv).error().wrap(fmt::format("listen on `unix://{}`", s)));
    }
    servers.push_back(std::move(*srv));
  }

  // The signal thread: the only one that sees SIGTERM/SIGINT/SIGHUP (masked everywhere).
  std::atomic<bool> stopping{false};
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  std::thread signals([&] {
    int count = 0;
    while (true) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) {
        continue;
      }
      if (stopping.load() && count == 0) {
        return;  // woken by run() itself after the servers returned
      }
      if (sig == SIGHUP) {
        spdlog::info("SIGHUP received: configuration reload is not supported, ignored");
        continue;
      }
      ++count;
      if (count == 1) {
        spdlog::info("Processing signal '{}'", ::sigabbrev_np(sig));
        stopping.store(true);
        for (auto& srv : servers) {
          srv->stop();
        }
        // serve() waits for in-flight requests: wake the blocked ones (wait, logs -f) now,
        // or a client's pending `docker wait` would hold the shutdown.
        (*daemon)->shutdown();
        return;
      }
    }
  });

  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  spdlog::info("Daemon has completed initialization ({} ms)", ms);
  for (const auto& s : sockets) {
    spdlog::info("API listen on {}", s);
  }

  int status = 0;
  std::vector<std::thread> serving;
  std::vector<base::Result<void>> results(servers.size());
  for (size_t i = 0; i < servers.size(); ++i) {
    serving.emplace_back([&, i] {
      results[i] = servers[i]->serve();
      if (!results[i]) {
        // One socket failing takes the daemon down rather than serving half of it.
        for (auto& srv : servers) {
          srv->stop();
        }
      }
    });
  }
  for (auto& t : serving) {
    t.join();
  }
  for (auto& r : results) {
    if (!r) {
      spdlog::error("serve: {}", r.error().to_string());
      status = 1;
    }
  }
  if (!stopping.exchange(true)) {
    ::pthread_kill(signals.native_handle(), SIGTERM);  // the servers stopped on their own
  }
  signals.join();

  // After the first signal, two more exit at once instead of waiting for the engine.
  std::thread impatient([set] {
    for (int n = 0; n < 2;) {
      int sig = 0;
      if (sigwait(&set, &sig) == 0 && sig != SIGHUP) {
        ++n;
      }
    }
    std::fprintf(stderr, "mydockerd: forced exit\n");
    std::_Exit(1);
  });
  impatient.detach();

  spdlog::info("Stopping the engine");
  (*daemon)->shutdown();
  servers.clear();
  daemon->reset();
  cleanup_files();
  spdlog::info("Daemon shutdown complete");
  spdlog::default_logger()->flush();
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  // Before any thread exists: every thread inherits the mask, so only the signal thread's
  // sigwait sees these signals.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // A client that hangs up mid-response is an EPIPE for the writer, not the daemon's death.
  ::signal(SIGPIPE, SIG_IGN);
  ::umask(022);

  std::vector<std::string> args(argv, argv + argc);
  auto cl = cfg::load(args);
  if (!cl) {
    return fail(cl.error());
  }
  if (cl->exit_now) {
    std::fputs(cl->output.c_str(), stdout);
    return 0;
  }
  int status = run(cl->config);
  // Skips static destructors while stray library threads (thread pools) may still run.
  std::fflush(stdout);
  std::fflush(stderr);
  std::_Exit(status);
}
