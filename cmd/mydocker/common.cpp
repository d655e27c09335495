// SPDX-License-Identifier: Apache-2.0
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>

#include "cmd/mydocker/cli.h"
#include "runtime/base/file.h"

namespace mydocker::cli {

std::optional<Action> Registry::selected() const {
  for (const auto& [app, action] : entries_) {
    if (app->parsed()) {
      return action;
    }
  }
  return std::nullopt;
}

base::Result<api::client::Client> make_client(const Globals& globals) {
  std::string uri = api::client::select_host(globals.host, [](const char* n) {
    return std::getenv(n);  // NOLINT(concurrency-mt-unsafe): read before any thread starts
  });
  api::client::Host host = MYDOCKER_TRY(api::client::parse_host(uri));
  return api::client::Client(std::move(host));
}

int report(const base::Error& e, int code) {
  write_err(e.to_string() + "\n");
  return code;
}

void write_out(std::string_view data) {
  std::fwrite(data.data(), 1, data.size(), stdout);
  std::fflush(stdout);
}

void write_err(std::string_view data) {
  std::fwrite(data.data(), 1, data.size(), stderr);
  std::fflush(stderr);
}

int64_t unix_now() {
  struct timeval tv {};
  gettimeofday(&tv, nullptr);
  return tv.tv_sec;
}

std::string unix_now_nanos() {
  struct timespec ts {};
  clock_gettime(CLOCK_REALTIME, &ts);
  return fmt::format("{}.{:09d}", ts.tv_sec, ts.tv_nsec);
}

bool is_terminal(int fd) {
  return ::isatty(fd) == 1;
}

base::Result<std::string> read_text_file(const std::string& path) {
  return base::read_file(path);
}

std::optional<std::string> get_env(const std::string& name) {
  const char* v = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe)
  if (v == nullptr) {
    return std::nullopt;
  }
  return std::string(v);
}

CLI::Option* add_multi(CLI::App* app, const std::string& names, std::vector<std::string>& out,
                       const std::string& help) {
  return app->add_option(names, out, help)->allow_extra_args(false)->take_all();
}

}  // namespace mydocker::cli
