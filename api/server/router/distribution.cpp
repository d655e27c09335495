// SPDX-License-Identifier: Apache-2.0
// Registry routes: `POST /images/create?fromImage=` (docker pull, transcripts 198-206), `POST
// /images/{name}/push`, `POST /auth`, `GET /distribution/{name}/json`, with
// Docker's JSON progress stream. The work is the engine's (engine::Daemon::pull, push, login,
// distribution_inspect, with the daemon's registry configuration); this file maps requests
// onto it, turns its progress events into Docker's messages and its errors into Docker's
// answers: an error before the first message is an ordinary JSON error with its status
// (200/201: 404 "manifest for X not found: ..."), one after it arrives in-stream as
// {"errorDetail":..,"error":..}. A client that leaves mid-stream (a failed write, or
// StreamWriter::alive() false while idle) makes the engine cancel the job.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "api/server/render.h"
#include "api/server/router.h"
#include "image/registry/auth.h"

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
  // A layer's line, or one without an ID that carries progress (the builder's ADD <url>
  // "Downloading", as moby's progress reader writes it).
  bool layer =
      (!e.id.empty() && !e.status.starts_with("Pulling from ")) || (e.id.empty() && e.current >= 0);
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

// A pull or push on its own thread; its messages in a queue the response drains.
struct Job {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> lines;
  bool done = false;
  std::optional<base::Error> error;
  std::atomic<bool> client_gone{false};  // the response's writer failed or saw the close
  std::thread thread;

  ~Job() {
    if (thread.joinable()) {
      // The last owner may be the job's thread itself (the client left before it ended).
      if (thread.get_id() == std::this_thread::get_id()) {
        thread.detach();
      } else {
        thread.join();
      }
    }
  }
  // The engine's progress sink: false once the client is gone (the engine cancels the job).
  bool push(std::string line) {
    if (client_gone) {
      return false;
    }
    std::lock_guard lock(mu);
    lines.push_back(std::move(line));
    cv.notify_all();
    return true;
  }
  bool alive() const { return !client_gone; }
};

// Runs `work` on the job's thread. An error before the first message is returned (an ordinary
// JSON error answer); after it, the response streams the messages and ends with the error
// in-stream.
base::Result<void> run_streamed(std::shared_ptr<Job> job, std::function<base::Result<void>()> work,
                                Response& resp) {
  job->thread = std::thread([job, work = std::move(work)] {
    auto r = work();
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
        job->cv.wait_for(lock, std::chrono::milliseconds(250),
                         [&] { return job->done || !job->lines.empty(); });
        batch.swap(job->lines);
        done = job->done;
        error = job->error;
      }
      if (batch.empty() && !done && !w.alive()) {
        job->client_gone = true;  // the engine cancels the job; it ends on its own thread
        return;
      }
      for (const std::string& l : batch) {
        if (!w.write(l)) {
          job->client_gone = true;
          return;
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

}  // namespace

std::string registry_progress_line(const image::registry::ProgressEvent& e) {
  return message_of(e);
}

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
  engine::PullRequest pr;
  pr.ref = ref;
  if (auto p = req.query_value("platform"); p && !p->empty()) {
    pr.platform = MYDOCKER_TRY(image::registry::parse_platform(*p));
  }
  pr.credentials = MYDOCKER_TRY(auth_of(req));
  auto job = std::make_shared<Job>();
  pr.progress = [job](const image::registry::ProgressEvent& e) { return job->push(message_of(e)); };
  pr.client_alive = [job] { return job->alive(); };
  engine::Daemon& daemon = ctx.daemon;
  return run_streamed(
      job,
      [&daemon, pr = std::move(pr)]() -> base::Result<void> {
        MYDOCKER_TRY(daemon.pull(pr));
        return base::ok();
      },
      resp);
}

namespace {

// POST /images/{name}/push?tag= (transcripts 193-197, 215).
base::Result<void> post_image_push(Context& ctx, const Request& req, Response& resp) {
  if (req.header("X-Registry-Auth").empty()) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "Bad parameters and missing X-Registry-Auth: EOF");
  }
  auto name = image::reference::Reference::parse(req.param("name"));
  if (!name) {
    return std::move(name).error();
  }
  std::string tag = req.query_value("tag").value_or("");
  engine::PushRequest pr;
  pr.ref = tag.empty() ? name->with_default_tag() : MYDOCKER_TRY(name->with_tag(tag));
  pr.credentials = MYDOCKER_TRY(auth_of(req));
  auto job = std::make_shared<Job>();
  pr.progress = [job](const image::registry::ProgressEvent& e) { return job->push(message_of(e)); };
  pr.client_alive = [job] { return job->alive(); };
  engine::Daemon& daemon = ctx.daemon;
  return run_streamed(
      job,
      [job, &daemon, pr = std::move(pr)]() -> base::Result<void> {
        auto r = MYDOCKER_TRY(daemon.push(pr));
        ordered_json aux;
        aux["progressDetail"] = ordered_json::object();
        aux["aux"] = {{"Tag", r.tag}, {"Digest", r.digest.str()}, {"Size", r.size}};
        job->push(dump(aux) + "\r\n");
        return base::ok();
      },
      resp);
}

// POST /auth (transcripts 211-214): checks the credentials against the registry.
base::Result<void> post_auth(Context& ctx, const Request& req, Response& resp) {
  auto j = nlohmann::json::parse(req.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return base::make_error(ErrorCode::InvalidArgument, "invalid auth configuration");
  }
  image::registry::Credentials c;
  c.username = j.value("username", "");
  c.password = j.value("password", "");
  auto r = ctx.daemon.login(j.value("serveraddress", ""), c);
  if (!r) {
    if (r.error().code() == ErrorCode::Unavailable) {
      return std::move(r).error();
    }
    // dockerd answers a failed login with a 500 (transcript 213).
    return base::Error(ErrorCode::Internal, r.error().message());
  }
  ordered_json out;
  out["IdentityToken"] = "";
  out["Status"] = "Login Succeeded";
  resp.json(200, dump(out));
  return base::ok();
}

// GET /distribution/{name}/json (transcripts 208-210): the manifest's descriptor and the
// platforms it has.
base::Result<void> get_distribution(Context& ctx, const Request& req, Response& resp) {
  auto name = image::reference::Reference::parse(req.param("name"));
  if (!name) {
    return std::move(name).error();
  }
  auto info = MYDOCKER_TRY(ctx.daemon.distribution_inspect(*name, MYDOCKER_TRY(auth_of(req))));
  ordered_json out;
  out["Descriptor"] = {
      {"mediaType", info.media_type}, {"digest", info.digest}, {"size", info.size}};
  ordered_json platforms = ordered_json::array();
  for (const auto& p : info.platforms) {
    ordered_json o = {{"architecture", p.architecture}, {"os", p.os}};
    if (!p.variant.empty()) {
      o["variant"] = p.variant;
    }
    platforms.push_back(o);
  }
  out["Platforms"] = platforms;
  resp.json(200, dump(out));
  return base::ok();
}

}  // namespace

std::vector<Route> distribution_routes() {
  return {
      {"POST", "/images/{name:.*}/push", BodyMode::Buffered, post_image_push},
      {"POST", "/auth", BodyMode::Json, post_auth},
      {"GET", "/distribution/{name:.*}/json", BodyMode::Buffered, get_distribution},
  };
}

}  // namespace mydocker::api::server
