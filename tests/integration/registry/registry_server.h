// SPDX-License-Identifier: Apache-2.0
// Test fixture: Debian's docker-registry (the CNCF distribution registry) on 127.0.0.1:<free
// port> with a temp config and storage dir, in one of the configurations the tests need. The
// process is started by the fixture and killed (by its PID) and reaped in the destructor.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace mydocker::testing {

inline constexpr const char* kRegistryBinary = "/usr/bin/docker-registry";

struct RegistryConfig {
  std::string htpasswd;  // path: htpasswd Basic auth
  std::string tls_cert;  // paths: serve TLS
  std::string tls_key;
  std::string token_realm;  // token auth: realm URL, service, issuer, root cert bundle
  std::string token_service;
  std::string token_issuer;
  std::string token_rootcert;
};

class RegistryServer {
 public:
  // Starts the registry under `dir` (config, storage, log). Returns nullopt with `why` set when
  // it did not come up.
  static std::optional<RegistryServer> start(const std::string& dir, const RegistryConfig& cfg,
                                             std::string* why);
  RegistryServer(RegistryServer&& o) noexcept;
  RegistryServer& operator=(RegistryServer&&) = delete;
  RegistryServer(const RegistryServer&) = delete;
  ~RegistryServer();

  int port() const { return port_; }
  std::string host() const;  // "127.0.0.1:<port>"
  // Lines of the access log (the registry's stderr/stdout) containing `needle`.
  int count_log(const std::string& needle) const;
  std::string log() const;

 private:
  RegistryServer() = default;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string log_path_;
};

// A port on 127.0.0.1 nothing listens on right now.
int free_port();
// Waits until something accepts on 127.0.0.1:port (up to `ms`).
bool wait_for_port(int port, int ms);
// Runs `sh -c cmd`; returns its exit status (-1 when it could not run).
int run_shell(const std::string& cmd);

}  // namespace mydocker::testing
