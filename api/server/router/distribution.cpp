// SPDX-License-Identifier: Apache-2.0
// Registry routes: `POST /images/create?fromImage=` (docker pull, transcripts 198-206), `POST
// /images/{name}/push`, `POST /auth`, `GET /distribution/{name}/json`, with
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
#include "image/content/manifest.h"
#include "image/registry/auth.h"
#include "image/registry/client.h"
#include "image/registry/pull.h"
#include "image/registry/push.h"

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

// A pull or push on its own thread; its messages in a queue the response drains.
struct Job {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> lines;
  bool done = false;
  std::optional<base::Error> error;
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
  void push(std::string line) {
    std::lock_guard lock(mu);
    lines.push_back(std::move(line));
    cv.notify_all();
  }
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
        job->cv.wait_for(lock, std::chrono::milliseconds(500),
                         [&] { return job->done || !job->lines.empty(); });
        batch.swap(job->lines);
        done = job->done;
        error = job->error;
      }
      for (const std::string& l : batch) {
        if (!w.write(l)) {
          return;  // the client left; the job finishes on its own thread
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

image::registry::RegistryOptions registry_options(
    const std::optional<image::registry::Credentials>& creds) {
  image::registry::RegistryOptions o;
  if (creds) {
    o.credentials = [c = *creds](const std::string&) { return std::optional(c); };
  }
  return o;
}

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
  image::registry::RegistryOptions ropts = registry_options(MYDOCKER_TRY(auth_of(req)));
  auto job = std::make_shared<Job>();
  opts.progress = [job](const image::registry::ProgressEvent& e) { job->push(message_of(e)); };
  image::Images& images = ctx.daemon.images();
  engine::Daemon& daemon = ctx.daemon;
  return run_streamed(
      job,
      [&images, &daemon, ref, opts, ropts]() -> base::Result<void> {
        image::registry::Client client(ref.domain(), ropts);
        MYDOCKER_TRY(image::registry::pull(images, client, ref, opts));
        engine::Event e;
        e.type = "image";
        e.action = "pull";
        e.actor_id = ref.familiar();
        e.attributes["name"] = ref.name_only().familiar();
        daemon.publish(std::move(e));
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
  image::reference::Reference ref =
      tag.empty() ? name->with_default_tag() : MYDOCKER_TRY(name->with_tag(tag));
  image::registry::RegistryOptions ropts = registry_options(MYDOCKER_TRY(auth_of(req)));
  auto job = std::make_shared<Job>();
  image::registry::PushOptions opts;
  opts.progress = [job](const image::registry::ProgressEvent& e) { job->push(message_of(e)); };
  image::Images& images = ctx.daemon.images();
  engine::Daemon& daemon = ctx.daemon;
  return run_streamed(
      job,
      [job, &images, &daemon, ref, opts, ropts]() -> base::Result<void> {
        image::registry::Client client(ref.domain(), ropts);
        auto r = MYDOCKER_TRY(image::registry::push(images, client, ref, opts));
        ordered_json aux;
        aux["progressDetail"] = ordered_json::object();
        aux["aux"] = {{"Tag", r.tag}, {"Digest", r.digest.str()}, {"Size", r.size}};
        job->push(dump(aux) + "\r\n");
        engine::Event e;
        e.type = "image";
        e.action = "push";
        e.actor_id = ref.familiar();
        e.attributes["name"] = ref.name_only().familiar();
        daemon.publish(std::move(e));
        return base::ok();
      },
      resp);
}

// POST /auth (transcripts 211-214): checks the credentials against the registry.
base::Result<void> post_auth(Context& ctx, const Request& req, Response& resp) {
  (void)ctx;
  auto j = nlohmann::json::parse(req.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return base::make_error(ErrorCode::InvalidArgument, "invalid auth configuration");
  }
  image::registry::Credentials c;
  c.username = j.value("username", "");
  c.password = j.value("password", "");
  std::string server = j.value("serveraddress", "");
  std::string host =
      server.empty() ? std::string("docker.io") : image::registry::normalize_registry_host(server);
  image::registry::Client client(host, registry_options(c));
  auto r = client.login();
  if (!r) {
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
  (void)ctx;
  auto name = image::reference::Reference::parse(req.param("name"));
  if (!name) {
    return std::move(name).error();
  }
  image::reference::Reference ref = name->with_default_tag();
  image::registry::Client client(ref.domain(), registry_options(MYDOCKER_TRY(auth_of(req))));
  std::string repo = ref.path();
  auto m = MYDOCKER_TRY(client.get_manifest(repo, ref.has_digest() ? ref.digest() : ref.tag()));
  ordered_json out;
  out["Descriptor"] = {{"mediaType", m.media_type},
                       {"digest", m.digest.str()},
                       {"size", static_cast<int64_t>(m.bytes.size())}};
  ordered_json platforms = ordered_json::array();
  if (image::content::media_type::is_index(m.media_type)) {
    auto index = MYDOCKER_TRY(image::content::Index::parse(m.bytes));
    for (const auto& d : index.manifests) {
      if (d.platform && !d.annotations.contains("vnd.docker.reference.type")) {
        ordered_json p = {{"architecture", d.platform->architecture}, {"os", d.platform->os}};
        if (!d.platform->variant.empty()) {
          p["variant"] = d.platform->variant;
        }
        platforms.push_back(p);
      }
    }
  } else {
    auto manifest = MYDOCKER_TRY(image::content::Manifest::parse(m.bytes));
    std::string cfg = MYDOCKER_TRY(client.get_blob(repo, manifest.config.digest));
    auto config = nlohmann::json::parse(cfg, nullptr, false);
    if (!config.is_discarded() && config.is_object()) {
      ordered_json p = {{"architecture", config.value("architecture", "")},
                        {"os", config.value("os", "")}};
      if (!config.value("variant", "").empty()) {
        p["variant"] = config.value("variant", "");
      }
      platforms.push_back(p);
    }
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
