// SPDX-License-Identifier: Apache-2.0
#include "tests/integration/registry/registry_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

namespace mydocker::testing {

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return -1;
  }
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

bool wait_for_port(int port, int ms) {
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < end) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    ::close(fd);
    if (rc == 0) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

int run_shell(const std::string& cmd) {
  pid_t pid = ::fork();
  if (pid < 0) {
    return -1;
  }
  if (pid == 0) {
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::optional<RegistryServer> RegistryServer::start(const std::string& dir,
                                                    const RegistryConfig& cfg, std::string* why) {
  if (::access(kRegistryBinary, X_OK) != 0) {
    *why = std::string(kRegistryBinary) +
           " is missing (scripts/install-deps.sh installs "
           "docker-registry)";
    return std::nullopt;
  }
  for (int attempt = 0; attempt < 3; ++attempt) {
    int port = free_port();
    std::ostringstream y;
    y << "version: 0.1\n"
      << "log:\n  level: info\n  accesslog:\n    disabled: false\n"
      << "storage:\n  filesystem:\n    rootdirectory: " << dir << "/storage\n"
      << "  delete:\n    enabled: true\n"
      << "http:\n  addr: 127.0.0.1:" << port << "\n  secret: mydocker-test-secret\n";
    if (!cfg.tls_cert.empty()) {
      y << "  tls:\n    certificate: " << cfg.tls_cert << "\n    key: " << cfg.tls_key << "\n";
    }
    if (!cfg.htpasswd.empty()) {
      y << "auth:\n  htpasswd:\n    realm: basic-realm\n    path: " << cfg.htpasswd << "\n";
    } else if (!cfg.token_realm.empty()) {
      y << "auth:\n  token:\n    realm: " << cfg.token_realm
        << "\n    service: " << cfg.token_service << "\n    issuer: " << cfg.token_issuer
        << "\n    rootcertbundle: " << cfg.token_rootcert << "\n";
    }
    std::string config = dir + "/config.yml";
    std::ofstream(config) << y.str();
    RegistryServer s;
    s.port_ = port;
    s.log_path_ = dir + "/registry.log";
    pid_t pid = ::fork();
    if (pid < 0) {
      *why = "fork failed";
      return std::nullopt;
    }
    if (pid == 0) {
      int fd = ::open(s.log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      ::execl(kRegistryBinary, kRegistryBinary, "serve", config.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    s.pid_ = pid;
    if (wait_for_port(port, 10000)) {
      return std::optional<RegistryServer>(std::move(s));
    }
    *why = "docker-registry did not listen: " + s.log();
    // s's destructor kills and reaps it; try another port.
  }
  return std::nullopt;
}

RegistryServer::RegistryServer(RegistryServer&& o) noexcept
    : pid_(o.pid_), port_(o.port_), log_path_(std::move(o.log_path_)) {
  o.pid_ = -1;
}

RegistryServer::~RegistryServer() {
  if (pid_ <= 0) {
    return;
  }
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 200; ++i) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_ || (r < 0 && errno != EINTR)) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
}

std::string RegistryServer::host() const {
  return "127.0.0.1:" + std::to_string(port_);
}

std::string RegistryServer::log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int RegistryServer::count_log(const std::string& needle) const {
  std::istringstream in(log());
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    if (line.find(needle) != std::string::npos) {
      ++n;
    }
  }
  return n;
}

}  // namespace mydocker::testing
