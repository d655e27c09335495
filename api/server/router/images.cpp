// SPDX-License-Identifier: Apache-2.0
// Local image routes (transcripts 151-163, 175-191): list, inspect, history, tag, delete,
// prune, load, save (get), import (create with fromSrc=-).
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "api/server/render.h"
#include "api/server/router.h"
#include "api/wire/filters.h"
#include "image/layers/source.h"
#include "runtime/base/fd.h"

namespace mydocker::api::server {
namespace {

using base::ErrorCode;
using nlohmann::json;

image::store::ImageStore& store(Context& ctx) {
  return ctx.daemon.images().images();
}

// Progress streams (load, import, pull) end every object with "\r\n" (README 27).
std::string progress_line(const json& j) {
  return dump(j) + "\r\n";
}

std::string error_line(std::string_view message) {
  return progress_line({{"errorDetail", {{"message", message}}}, {"error", message}});
}

// An image event (Docker's LogImageEvent): Actor ID the image ID, attribute name.
void image_event(Context& ctx, const std::string& id, const std::string& name, const char* action) {
  engine::Event e;
  e.type = "image";
  e.action = action;
  e.actor_id = id;
  e.attributes["name"] = name;
  ctx.daemon.publish(std::move(e));
}

base::Result<wire::Filters> filters_of(const Request& req) {
  auto f = wire::parse_filters(req.query_value("filters").value_or(""));
  if (!f) {
    return base::Error(ErrorCode::Internal, f.error().message());
  }
  return std::move(*f);
}

base::Result<void> get_images_json(Context& ctx, const Request& req, Response& resp) {
  auto filters = MYDOCKER_TRY(filters_of(req));
  auto list = MYDOCKER_TRY(store(ctx).list(filters, req.query_bool("all")));
  json out = json::array();
  for (const auto& s : list) {
    out.push_back(image::store::to_json(s));
  }
  resp.json(200, dump(out));
  return base::ok();
}

base::Result<void> get_image_json(Context& ctx, const Request& req, Response& resp) {
  std::string name = req.param("name");
  auto r = store(ctx).inspect(name);
  if (!r) {
    base::Error e = std::move(r).error();
    if (e.code() == ErrorCode::NotFound) {  // dockerd's double wording (156)
      return base::Error(ErrorCode::NotFound,
                         fmt::format("no such image: {}: {}", name, e.message()));
    }
    return e;
  }
  json j = std::move(*r);
  auto rec = store(ctx).get(name);
  std::string driver = ctx.daemon.info().driver;
  json data = nullptr;
  if (rec) {
    if (auto top = image::Images::top_layer(rec->config); top) {
      auto& layers = ctx.daemon.images().layers();
      data = {{"UpperDir", layers.diff_path(*top)}};
    }
  }
  j["GraphDriver"] = {{"Data", data}, {"Name", driver}};
  resp.json(200, dump(j));
  return base::ok();
}

base::Result<void> get_image_history(Context& ctx, const Request& req, Response& resp) {
  auto h = MYDOCKER_TRY(store(ctx).history(req.param("name")));
  resp.json(200, dump(h));
  return base::ok();
}

base::Result<void> post_image_tag(Context& ctx, const Request& req, Response& resp) {
  auto r = store(ctx).tag_image(req.param("name"), req.query_value("repo").value_or(""),
                                req.query_value("tag").value_or(""));
  if (!r) {
    base::Error e = std::move(r).error();
    // dockerd answers a bad repository name in tag with 500 (160).
    if (e.code() == ErrorCode::InvalidArgument) {
      return base::Error(ErrorCode::Internal, e.message());
    }
    return e;
  }
  if (auto id = store(ctx).resolve(req.param("name")); id) {
    std::string tag = req.query_value("tag").value_or("");
    image_event(ctx, id->str(),
                req.query_value("repo").value_or("") + ":" + (tag.empty() ? "latest" : tag), "tag");
  }
  resp.status = 201;  // Content-Length 0, no Content-Type (158)
  return base::ok();
}

base::Result<void> delete_image(Context& ctx, const Request& req, Response& resp) {
  auto resolved = store(ctx).resolve(req.param("name"));
  auto items = MYDOCKER_TRY(ctx.daemon.images().remove(req.param("name"), req.query_bool("force"),
                                                       !req.query_bool("noprune")));
  if (resolved) {
    // Docker names the image by its ID in both (transcript 216).
    std::string id = resolved->str();
    for (const auto& item : items) {
      if (!item.untagged.empty()) {
        image_event(ctx, id, id, "untag");
      } else if (item.deleted == id) {
        image_event(ctx, id, id, "delete");
      }
    }
  }
  resp.json(200, dump(image::store::to_json(items)));
  return base::ok();
}

base::Result<void> post_images_prune(Context& ctx, const Request& req, Response& resp) {
  auto filters = MYDOCKER_TRY(filters_of(req));
  auto report = MYDOCKER_TRY(ctx.daemon.images().prune(filters));
  resp.json(200, dump(image::store::to_json(report)));
  return base::ok();
}

// Feeds a streamed request body to a ByteSource consumer running on its own thread, through
// a socketpair (a pipe would raise SIGPIPE when the consumer stops reading early; send()
// takes MSG_NOSIGNAL).
template <typename T>
base::Result<T> consume_body(const Request& req,
                             const std::function<base::Result<T>(image::layers::ByteSource&)>& fn) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    return base::sys_error("socketpair");
  }
  base::Fd reader = base::Fd::adopt(sv[0]);
  base::Fd writer = base::Fd::adopt(sv[1]);
  std::optional<base::Result<T>> result;
  std::thread consumer([&] {
    image::layers::FdSource src(reader.get());
    result.emplace(fn(src));
    ::shutdown(reader.get(), SHUT_RDWR);  // the producer's next send fails: it stops
  });
  if (req.body_reader) {
    // After the consumer stopped (an error early in the stream) the rest of the body is still
    // read and dropped: left unread, it would be parsed as the next request on this
    // keep-alive connection.
    bool broken = false;
    req.body_reader([&](std::string_view chunk) {
      while (!broken && !chunk.empty()) {
        ssize_t n = ::send(writer.get(), chunk.data(), chunk.size(), MSG_NOSIGNAL);
        if (n < 0) {
          if (errno == EINTR) {
            continue;
          }
          broken = true;
          break;
        }
        chunk.remove_prefix(static_cast<size_t>(n));
      }
      return true;
    });
  }
  ::shutdown(writer.get(), SHUT_WR);  // EOF for the consumer
  consumer.join();
  return std::move(*result);
}

// Docker's wording for a body that is not an image archive (188).
std::string load_error_message(const base::Error& e) {
  const std::string& m = e.message();
  if (m.find("tar") != std::string::npos || m.find("archive") != std::string::npos ||
      m.find("truncated") != std::string::npos || m.find("EOF") != std::string::npos) {
    return "Error processing tar file(exit status 1): unexpected EOF";
  }
  return m;
}

base::Result<void> post_images_load(Context& ctx, const Request& req, Response& resp) {
  // quiet defaults to true when absent (187).
  bool quiet = req.query_bool("quiet", true);
  std::vector<std::string> progress;
  image::LoadOptions opts;
  if (!quiet) {
    opts.on_layer = [&progress](const image::LoadedLayer& l) {
      std::string size = human_size(static_cast<double>(l.size));
      json j = {{"status", "Loading layer"},
                {"progressDetail", {{"current", l.size}, {"total", l.size}}},
                {"progress", std::string(50, '=') + ">]  " + size + "/" + size},
                {"id", std::string(l.diff_id.hex().substr(0, 12))}};
      j["progress"] = "[" + j["progress"].get<std::string>();
      progress.push_back(progress_line(j));
    };
  }
  image::Images& images = ctx.daemon.images();
  auto result = consume_body<image::LoadResult>(
      req, [&](image::layers::ByteSource& src) { return images.load(src, opts); });
  std::string body;
  for (const auto& p : progress) {
    body += p;
  }
  if (!result) {
    // The error travels inside a 200 stream, as dockerd's (188).
    body += error_line(load_error_message(result.error()));
  } else {
    for (const auto& img : result->images) {
      image_event(ctx, img.id.str(), img.id.str(), "load");
    }
    for (const auto& line : result->lines) {
      body += progress_line({{"stream", line + "\n"}});
    }
  }
  resp.status = 200;
  resp.content_type = "application/json";
  resp.stream = [body = std::move(body)](StreamWriter& w) { w.write(body); };
  return base::ok();
}

base::Result<void> post_images_create(Context& ctx, const Request& req, Response& resp) {
  auto from_src = req.query_value("fromSrc");
  if (!from_src) {
    return post_images_pull(ctx, req, resp);  // router/distribution.cpp
  }
  if (*from_src != "-") {
    return base::make_error(ErrorCode::NotImplemented,
                            "import from a URL is not supported: send the tar as the body "
                            "(fromSrc=-)");
  }
  image::ImportOptions opts;
  std::string repo = req.query_value("repo").value_or("");
  std::string tag = req.query_value("tag").value_or("");
  opts.reference = repo.empty() || tag.empty() ? repo : repo + ":" + tag;
  opts.message = req.query_value("message").value_or("");
  opts.changes = req.query_values("changes");
  image::Images& images = ctx.daemon.images();
  auto id = MYDOCKER_TRY(consume_body<image::ImageId>(
      req, [&](image::layers::ByteSource& src) { return images.import_image(src, opts); }));
  image_event(ctx, id.str(), id.str(), "import");
  std::string body = progress_line({{"status", id.str()}});
  resp.status = 200;
  resp.content_type = "application/json";
  resp.stream = [body = std::move(body)](StreamWriter& w) { w.write(body); };
  return base::ok();
}

// A producer on its own thread, its output in a bounded queue: the response is committed
// (200 + head) only once the first bytes exist, so an error before any output (an unknown
// image in save) is still an ordinary JSON error with its status.
class Producer {
 public:
  using Fn = std::function<base::Result<void>(const image::Sink&)>;

  explicit Producer(Fn fn) {
    thread_ = std::thread([this, fn = std::move(fn)] {
      auto r = fn([this](std::string_view data) { return push(data); });
      std::lock_guard lock(mu_);
      done_ = true;
      if (!r) {
        error_ = std::move(r).error();
      }
      cv_.notify_all();
    });
  }
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;
  ~Producer() {
    cancel();
    thread_.join();
  }

  // Waits for the first bytes or the end; returns the error when it ended without output.
  std::optional<base::Error> wait_first() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return done_ || !chunks_.empty(); });
    if (chunks_.empty() && error_) {
      return error_;
    }
    return std::nullopt;
  }

  // Next chunk; false at the end.
  bool pop(std::string& out) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return done_ || !chunks_.empty(); });
    if (chunks_.empty()) {
      return false;
    }
    out = std::move(chunks_.front());
    chunks_.pop_front();
    queued_ -= out.size();
    cv_.notify_all();
    return true;
  }

  void cancel() {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    cv_.notify_all();
  }

 private:
  static constexpr size_t kMaxQueued = 1 << 20;

  base::Result<void> push(std::string_view data) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return cancelled_ || queued_ < kMaxQueued; });
    if (cancelled_) {
      return base::make_error(ErrorCode::Cancelled, "client went away");
    }
    chunks_.emplace_back(data);
    queued_ += data.size();
    cv_.notify_all();
    return base::ok();
  }

  std::mutex mu_;  // guards everything below
  std::condition_variable cv_;
  std::deque<std::string> chunks_;
  size_t queued_ = 0;
  bool done_ = false;
  bool cancelled_ = false;
  std::optional<base::Error> error_;
  std::thread thread_;
};

base::Result<void> stream_save(Context& ctx, std::vector<std::string> names, Response& resp) {
  if (names.empty()) {
    return base::make_error(ErrorCode::InvalidArgument, "no image names given");
  }
  image::Images& images = ctx.daemon.images();
  auto producer = std::make_shared<Producer>(
      [&images, names](const image::Sink& sink) { return images.save(names, sink); });
  if (auto err = producer->wait_first()) {
    return *err;
  }
  for (const auto& n : names) {
    if (auto id = store(ctx).resolve(n); id) {
      image_event(ctx, id->str(), id->str(), "save");
    }
  }
  resp.status = 200;
  resp.content_type = "application/x-tar";
  resp.stream = [producer](StreamWriter& w) {
    std::string chunk;
    while (producer->pop(chunk)) {
      if (!w.write(chunk)) {
        producer->cancel();
        return;
      }
    }
  };
  return base::ok();
}

base::Result<void> get_images_get(Context& ctx, const Request& req, Response& resp) {
  return stream_save(ctx, req.query_values("names"), resp);
}

base::Result<void> get_image_get(Context& ctx, const Request& req, Response& resp) {
  return stream_save(ctx, {req.param("name")}, resp);
}

}  // namespace

std::vector<Route> image_routes() {
  return {
      {"GET", "/images/json", BodyMode::Buffered, get_images_json},
      {"GET", "/images/get", BodyMode::Buffered, get_images_get},
      {"POST", "/images/load", BodyMode::Stream, post_images_load},
      {"POST", "/images/create", BodyMode::Stream, post_images_create},
      {"POST", "/images/prune", BodyMode::Buffered, post_images_prune},
      {"GET", "/images/{name:.*}/json", BodyMode::Buffered, get_image_json},
      {"GET", "/images/{name:.*}/history", BodyMode::Buffered, get_image_history},
      {"GET", "/images/{name:.*}/get", BodyMode::Buffered, get_image_get},
      {"POST", "/images/{name:.*}/tag", BodyMode::Buffered, post_image_tag},
      {"DELETE", "/images/{name:.*}", BodyMode::Buffered, delete_image},
  };
}

}  // namespace mydocker::api::server
