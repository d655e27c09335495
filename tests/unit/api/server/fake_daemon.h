// SPDX-License-Identifier: Apache-2.0
// FakeDaemon: an in-memory engine::Daemon for the API tests, with dockerd's error wording for
// the cases the transcripts record. Images are real (image::Images in a temp dir).
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/daemon.h"

namespace mydocker::api::server::testing {

class FakeDaemon : public engine::Daemon {
 public:
  explicit FakeDaemon(std::unique_ptr<image::Images> images);

  // Adds a container (returns its ID: the name's hex-ish 64-char form).
  std::string add(const std::string& name, engine::Status status, int64_t exit_code = 0,
                  bool tty = false);
  // Lets blocked wait() calls return `code` for container `id`.
  void exit(const std::string& id, int64_t code);
  // Log entries of a container.
  void set_logs(const std::string& id, std::vector<engine::LogEntry> entries);
  // The last request seen by each method, for assertions.
  engine::CreateRequest last_create;
  engine::ListOptions last_list;
  engine::LogsOptions last_logs;
  engine::UpdateRequest last_update;
  std::optional<int64_t> last_stop_timeout;
  std::optional<std::string> last_stop_signal;
  std::string last_kill_signal;
  std::optional<engine::WaitCondition> last_wait_condition;

  base::Result<engine::CreateResult> create(engine::CreateRequest req) override;
  base::Result<void> start(std::string_view ref) override;
  base::Result<void> stop(std::string_view ref, std::optional<int64_t> timeout,
                          std::optional<std::string> signal) override;
  base::Result<void> restart(std::string_view ref, std::optional<int64_t> timeout,
                             std::optional<std::string> signal) override;
  base::Result<void> kill(std::string_view ref, std::string_view signal) override;
  base::Result<void> pause(std::string_view ref) override;
  base::Result<void> unpause(std::string_view ref) override;
  base::Result<engine::WaitResult> wait(std::string_view ref,
                                        engine::WaitCondition condition) override;
  base::Result<void> remove(std::string_view ref, bool force, bool volumes) override;
  base::Result<std::vector<engine::ContainerInfo>> list(
      const engine::ListOptions& options) override;
  base::Result<engine::ContainerInfo> inspect(std::string_view ref, bool size) override;
  base::Result<void> logs(std::string_view ref, const engine::LogsOptions& options,
                          const engine::LogSink& sink) override;
  base::Result<engine::TopResult> top(std::string_view ref, std::string_view ps_args) override;
  base::Result<void> rename(std::string_view ref, std::string_view new_name) override;
  base::Result<std::vector<std::string>> update(std::string_view ref,
                                                const engine::UpdateRequest& req) override;
  base::Result<engine::PruneResult> prune(
      const std::map<std::string, std::vector<std::string>>& filters) override;
  base::Result<void> export_container(std::string_view ref, const engine::Sink& out) override;
  base::Result<std::vector<engine::Change>> changes(std::string_view ref) override;
  image::Images& images() override { return *images_; }
  engine::SystemInfo info() override;
  base::Result<engine::DiskUsage> disk_usage() override;
  // Attach and exec: the engine side of a hijack. The upgraded connection is kept for the
  // test (take_conn); exec records are in memory. Detach keys "bad" are refused as dockerd.
  base::Result<void> attach(std::string_view ref, const engine::AttachOptions& options,
                            const engine::Upgrade& upgrade) override;
  base::Result<void> resize(std::string_view ref, int height, int width) override;
  base::Result<std::string> exec_create(std::string_view ref,
                                        const engine::ExecConfig& config) override;
  base::Result<void> exec_start(std::string_view exec_id, const engine::ExecStartOptions& options,
                                const engine::Upgrade& upgrade) override;
  base::Result<engine::ExecInfo> exec_inspect(std::string_view exec_id) override;
  base::Result<void> exec_resize(std::string_view exec_id, int height, int width) override;
  // The next connection an attach or exec start upgraded (waits up to 5 s; invalid if none).
  base::Fd take_conn();
  // logs with follow on a running container waits for client_alive() to turn false (up to
  // 10 s), then sets this.
  std::atomic<bool> follow_client_left{false};
  engine::AttachOptions last_attach;
  engine::ExecStartOptions last_exec_start;
  std::pair<int, int> last_resize{0, 0};
  base::Result<void> events(const engine::EventsOptions&, const engine::EventSink&) override {
    return unimplemented();
  }
  base::Result<void> stats(std::string_view, const engine::StatsOptions&,
                           const engine::StatsSink&) override {
    return unimplemented();
  }
  static base::Error unimplemented() {
    return base::make_error(base::ErrorCode::NotImplemented, "not faked");
  }

 private:
  base::Result<engine::ContainerInfo*> find_locked(std::string_view ref);

  std::unique_ptr<image::Images> images_;
  std::mutex mu_;  // guards everything below
  std::condition_variable cv_;
  std::map<std::string, engine::ContainerInfo> containers_;  // by ID
  std::map<std::string, std::vector<engine::LogEntry>> logs_;
  std::vector<base::Fd> conns_;
  std::map<std::string, engine::ExecInfo> execs_;
  int next_ = 1;
};

}  // namespace mydocker::api::server::testing
