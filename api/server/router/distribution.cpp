// SPDX-License-Identifier: Apache-2.0
// Registry routes: `POST /images/create?fromImage=` (docker pull, transcripts 198-206), with
// Docker's JSON progress stream. The pull itself is image/registry's; this file turns its
// progress events into Docker's messages and its errors into Docker's answers: an error before
// the first message is an ordinary JSON error with its status (200/201: 404 "manifest for X not
// found: ..."), one after it arrives in-stream as {"errorDetail":..,"error":..}.
#include <condition_variable>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "api/server/render.h"
#include "api/server/router.h"
#include "image/registry/auth.h"
#include "image/registry/client.h"
#include "image/registry/pull.h"

namespace mydocker::api::server {

using base::ErrorCode;

namespace {

// go-units HumanSizeWithPrecision(size, 4): decimal units, 4 significant digits.
std::string human_size(int64_t n) {
  static constexpr const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  double v = static_cast<double>(n);
  size_t u = 0;
  while (v >= 1000.0 && u + 1 < std::size(kUnits)) {
    v /= 1000.0;
    ++u;
  }
  return fmt::format("{:.4g}{}", v, kUnits[u]);
}

// Docker's JSONProgress.String() for a 50-column bar: "[===>   ]  3.678kB/129.3kB".
std::string progress_bar(int64_t current, int64_t total) {
  int n = total > 0
              ? static_cast<int>(50.0 * static_cast<double>(current) / static_cast<double>(total))
              : 0;
  n = std::clamp(n, 0, 50);
  std::string bar = "[" + std::string(static_cast<size_t>(n), '=') + ">" +
                    std::string(static_cast<size_t>(50 - n), ' ') + "]";
  return fmt::format("{} {:>8}/{}", bar, human_size(current), human_size(total));
}

std::string message_of(const image::registry::ProgressEvent& e) {
  ordered_json j;
  j["status"] = e.status;
  bool layer = !e.id.empty() && !e.status.starts_with("Pulling from ");
  if (layer) {
    ordered_json detail = ordered_json::object();
    if (e.current >= 0) {
      detail["current"] = e.current;
      if (e.total > 0) {
        detail["total"] = e.total;
      }
    }
    j["progressDetail"] = detail;
    if (e.current >= 0 && e.total > 0) {
      j["progress"] = progress_bar(e.current, e.total);
    }
  }
  if (!e.id.empty()) {
    j["id"] = e.id;
  }
  return dump(j) + "\r\n";
}

std::string error_message(std::string_view message) {
  ordered_json j;
  j["errorDetail"] = {{"message", message}};
  j["error"] = message;
  return dump(j) + "\r\n";
}

// X-Registry-Auth: base64url JSON of Docker's AuthConfig ({"username","password","auth",
// "identitytoken","serveraddress"}); "" or "e30=" ({}) is anonymous.
base::Result<std::optional<image::registry::Credentials>> auth_of(const Request& req) {
  std::string h = req.header("X-Registry-Auth");
  if (h.empty()) {
    return std::optional<image::registry::Credentials>();
  }
  auto text = image::registry::base64_decode(h);
  auto j = text ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json();
  if (!text || j.is_discarded() || !j.is_object()) {
    return base::make_error(ErrorCode::InvalidArgument, "invalid X-Registry-Auth header");
  }
  image::registry::Credentials c;
  c.username = j.value("username", "");
  c.password = j.value("password", "");
  c.identity_token = j.value("identitytoken", "");
  std::string auth = j.value("auth", "");
  if (c.username.empty() && !auth.empty()) {
    auto up = image::registry::base64_decode(auth);
    if (up && up->find(':') != std::string::npos) {
      c.username = up->substr(0, up->find(':'));
      c.password = up->substr(up->find(':') + 1);
    }
  }
  if (c.empty()) {
    return std::optional<image::registry::Credentials>();
  }
  return std::optional<image::registry::Credentials>(c);
}

// The pull on its own thread; its messages in a queue the response drains.
struct PullJob {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> lines;
  bool done = false;
  std::optional<base::Error> error;
  std::thread thread;

  ~PullJob() {
    if (thread.joinable()) {
      // The last owner may be the pull thread itself (the client left before it ended).
      if (thread.get_id() == std::this_thread::get_id()) {
        thread.detach();
      } else {
        thread.join();
      }
    }
  }
  void push(std::string line) {
    std::lock_guard lock(mu);
    lines.push_back(std::move(line));
    cv.notify_all();
  }
};

}  // namespace

base::Result<void> post_images_pull(Context& ctx, const Request& req, Response& resp) {
  std::string from = req.query_value("fromImage").value_or("");
  std::string tag = req.query_value("tag").value_or("");
  auto parsed = image::reference::Reference::parse(from);
  if (!parsed) {
    return std::move(parsed).error();
  }
  image::reference::Reference ref = *parsed;
  if (!tag.empty()) {
    ref = tag.find(':') != std::string::npos ? MYDOCKER_TRY(ref.with_digest(tag))
                                             : MYDOCKER_TRY(ref.with_tag(tag));
  }
  image::registry::PullOptions opts;
  if (auto p = req.query_value("platform"); p && !p->empty()) {
    opts.platform = MYDOCKER_TRY(image::registry::parse_platform(*p));
  }
  image::registry::RegistryOptions ropts;
  if (auto creds = MYDOCKER_TRY(auth_of(req))) {
    ropts.credentials = [c = *creds](const std::string&) { return std::optional(c); };
  }

  auto job = std::make_shared<PullJob>();
  opts.progress = [job](const image::registry::ProgressEvent& e) { job->push(message_of(e)); };
  image::Images& images = ctx.daemon.images();
  engine::Daemon& daemon = ctx.daemon;
  job->thread = std::thread([job, &images, &daemon, ref, opts, ropts] {
    image::registry::Client client(ref.domain(), ropts);
    auto r = image::registry::pull(images, client, ref, opts);
    if (r) {
      engine::Event e;
      e.type = "image";
      e.action = "pull";
      e.actor_id = ref.familiar();
      e.attributes["name"] = ref.name_only().familiar();
      daemon.publish(std::move(e));
    }
    std::lock_guard lock(job->mu);
    job->done = true;
    if (!r) {
      job->error = std::move(r).error();
    }
    job->cv.notify_all();
  });
  {
    std::unique_lock lock(job->mu);
    job->cv.wait(lock, [&] { return job->done || !job->lines.empty(); });
    if (job->lines.empty() && job->error) {
      base::Error e = *job->error;
      lock.unlock();
      job->thread.join();
      return e;
    }
  }
  resp.status = 200;
  resp.content_type = "application/json";
  resp.stream = [job](StreamWriter& w) {
    for (;;) {
      std::deque<std::string> batch;
      bool done = false;
      std::optional<base::Error> error;
      {
        std::unique_lock lock(job->mu);
        job->cv.wait_for(lock, std::chrono::milliseconds(500),
                         [&] { return job->done || !job->lines.empty(); });
        batch.swap(job->lines);
        done = job->done;
        error = job->error;
      }
      for (const std::string& l : batch) {
        if (!w.write(l)) {
          return;  // the client left; the pull finishes on its own thread
        }
      }
      if (done) {
        if (error) {
          w.write(error_message(error->message()));
        }
        return;
      }
    }
  };
  return base::ok();
}

}  // namespace mydocker::api::server
