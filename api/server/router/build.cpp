// SPDX-License-Identifier: Apache-2.0
// Build routes (transcripts 165-174): `POST /build` with the classic builder's JSON stream and
// `POST /build/prune`. The work is the engine's (engine::Daemon::build, build_prune); this file
// maps the query onto a BuildRequest, feeds the request body to the engine as it arrives and
// turns the engine's output into dockerd's messages.
//
// The body is never held whole: the connection's thread pushes it into a bounded in-memory pipe
// (BodyPipe) that is the engine's ByteSource, read by the build on its own thread: one copy and
// no system call between the connection and the engine (receiving the context is most of a
// fully cached rebuild). The engine receives the whole context and parses the Dockerfile before
// it emits anything, so an error before the first message (a Dockerfile syntax error, no
// Dockerfile, a bad tag) is an ordinary JSON error with its status (168: 400, 169: 500); once a
// message exists the answer is a 200 stream and a later error arrives in it as
// {"errorDetail":{"code":N,"message":..},"error":..} (167), code being the failed RUN's exit
// status.
//
// q=1 (166): the engine still reports the steps (quiet=false is passed on); the API keeps them
// aside and sends only {"stream":"sha256:...\n"} on success, or the kept steps and the error on
// failure, as dockerd's notVerboseBuffer. A client that goes away (a failed write, or
// StreamWriter::alive() false while idle, or the body ending early) cancels the build.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "api/server/render.h"
#include "api/server/router.h"
#include "api/wire/filters.h"
#include "image/layers/source.h"
#include "image/registry/auth.h"
#include "image/registry/platform.h"
#include "runtime/base/strings.h"

namespace mydocker::api::server {
namespace {

using base::ErrorCode;
using nlohmann::json;

// Go's encoding/json escapes <, > and & (and U+2028/U+2029) inside strings: dockerd's stream
// shows " ---\u003e " (165). Those characters only occur inside strings in dumped JSON, so a
// plain replacement is exact.
std::string html_safe(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '<') {
      out += "\\u003c";
    } else if (c == '>') {
      out += "\\u003e";
    } else if (c == '&') {
      out += "\\u0026";
    } else if (c == '\xe2' && i + 2 < text.size() && text[i + 1] == '\x80' &&
               (text[i + 2] == '\xa8' || text[i + 2] == '\xa9')) {
      out += text[i + 2] == '\xa8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

// One message of a progress stream: "\r\n" after each (README 27).
std::string stream_line(const ordered_json& j) {
  return html_safe(dump(j)) + "\r\n";
}

std::string stream_text(std::string_view text) {
  ordered_json j;
  j["stream"] = text;
  return stream_line(j);
}

// dockerd's in-stream error; the code only for a failed RUN (167 has it, 170 not).
std::string error_line(std::string_view message, int64_t code) {
  ordered_json detail;
  if (code != 0) {
    detail["code"] = code;
  }
  detail["message"] = message;
  ordered_json j;
  j["errorDetail"] = detail;
  j["error"] = message;
  return stream_line(j);
}

base::Error invalid(std::string message) {
  return base::Error(ErrorCode::InvalidArgument, std::move(message));
}

// Go's json.Unmarshal into a map: "null" is an empty map.
base::Result<json> parse_json_param(const std::string& text, const char* what) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) {
    return invalid(fmt::format("error reading {}: invalid JSON", what));
  }
  return j;
}

// "https://index.docker.io/v1/" -> "docker.io", "http://host:5000/v2/" -> "host:5000": the
// registry host as image::reference::Reference::domain() names it.
std::string registry_host(std::string_view key) {
  for (std::string_view scheme : {"https://", "http://"}) {
    if (key.starts_with(scheme)) {
      key.remove_prefix(scheme.size());
      break;
    }
  }
  key = key.substr(0, key.find('/'));
  if (key == "index.docker.io" || key == "registry-1.docker.io") {
    return "docker.io";
  }
  return std::string(key);
}

// X-Registry-Config: base64url JSON {host: AuthConfig}. dockerd ignores a header it cannot
// decode (the pull then goes anonymously); so does this.
std::map<std::string, image::registry::Credentials> registry_config(const Request& req) {
  std::map<std::string, image::registry::Credentials> out;
  std::string h = req.header("X-Registry-Config");
  if (h.empty()) {
    return out;
  }
  auto text = image::registry::base64_decode(h);
  if (!text) {
    return out;
  }
  json j = json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return out;
  }
  for (const auto& [key, v] : j.items()) {
    if (!v.is_object()) {
      continue;
    }
    auto str = [&v](const char* k) {
      auto it = v.find(k);
      return it != v.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    image::registry::Credentials c;
    c.username = str("username");
    c.password = str("password");
    c.identity_token = str("identitytoken");
    if (std::string auth = str("auth"); c.username.empty() && !auth.empty()) {
      if (auto up = image::registry::base64_decode(auth);
          up && up->find(':') != std::string::npos) {
        c.username = up->substr(0, up->find(':'));
        c.password = up->substr(up->find(':') + 1);
      }
    }
    if (!c.empty()) {
      out[registry_host(key)] = std::move(c);
    }
  }
  return out;
}

// Go's json.Unmarshal into []*units.Ulimit: keys in any case, unknown keys ignored, null
// for none.
base::Result<std::vector<engine::Ulimit>> parse_ulimits(const std::string& text) {
  json j = MYDOCKER_TRY(parse_json_param(text, "ulimit settings"));
  std::vector<engine::Ulimit> out;
  if (j.is_null()) {
    return out;
  }
  auto mismatch = [](const json& v, std::string_view into) {
    return invalid(fmt::format("error reading ulimit settings: json: cannot unmarshal {} into {}",
                               v.is_number()    ? "number"
                               : v.is_boolean() ? "bool"
                                                : v.type_name(),
                               into));
  };
  if (!j.is_array()) {
    return mismatch(j, "Go value of type []*units.Ulimit");
  }
  for (const json& u : j) {
    if (u.is_null()) {
      continue;
    }
    if (!u.is_object()) {
      return mismatch(u, "Go value of type units.Ulimit");
    }
    engine::Ulimit ul;
    for (const auto& [k, v] : u.items()) {
      if (base::ascii_iequals(k, "name")) {
        if (!v.is_string() && !v.is_null()) {
          return mismatch(v, "Go struct field Ulimit.Name of type string");
        }
        ul.name = v.is_string() ? v.get<std::string>() : "";
      } else if (base::ascii_iequals(k, "soft") || base::ascii_iequals(k, "hard")) {
        bool soft = base::ascii_iequals(k, "soft");
        if (!v.is_number_integer() && !v.is_null()) {
          return mismatch(v, soft ? "Go struct field Ulimit.Soft of type int64"
                                  : "Go struct field Ulimit.Hard of type int64");
        }
        (soft ? ul.soft : ul.hard) = v.is_null() ? 0 : v.get<int64_t>();
      }
    }
    out.push_back(std::move(ul));
  }
  return out;
}

// moby's httputils.Int64ValueOrZero: absent or not a number is 0.
int64_t int64_or_zero(const Request& req, const char* key) {
  auto v = req.query_value(key);
  if (!v || v->empty()) {
    return 0;
  }
  return base::parse_int64(*v).value_or(0);
}

// The query of POST /build as moby's newImageBuildOptions reads it.
base::Result<engine::BuildRequest> build_request(const Request& req) {
  engine::BuildRequest b;
  if (auto v = req.query_value("version"); v && !v->empty()) {
    if (*v == "2") {
      // dockerd would run BuildKit (172); its session/gRPC protocol is not served here.
      return invalid(
          "BuildKit (version=2) is not supported by mydockerd: use the classic builder "
          "(DOCKER_BUILDKIT=0)");
    }
    if (*v != "1") {
      return invalid(fmt::format("invalid version \"{}\"", *v));
    }
  }
  if (auto remote = req.query_value("remote"); remote && !remote->empty()) {
    return base::make_error(ErrorCode::NotImplemented,
                            "remote build contexts are not supported: send the context as the "
                            "request body");
  }
  if (!req.query_values("securityopt").empty()) {
    return invalid(
        "The daemon on this platform does not support setting security options on build");
  }
  if (auto iso = req.query_value("isolation");
      iso && !iso->empty() && base::ascii_lower(*iso) != "default") {
    return invalid(fmt::format("unsupported isolation: \"{}\"", *iso));
  }
  if (req.query_bool("squash")) {
    return invalid("squash is only supported with experimental mode");
  }
  if (auto s = req.query_value("shmsize"); s && !s->empty()) {
    b.resources.shm_size = MYDOCKER_TRY(wire::parse_int_value(*s));
  }
  if (auto outputs = req.query_value("outputs"); outputs && !outputs->empty()) {
    json o = MYDOCKER_TRY(parse_json_param(*outputs, "outputs"));
    if (!o.is_null() && !(o.is_array() && o.empty())) {
      return invalid("outputs are only supported by BuildKit");
    }
  }
  if (auto ul = req.query_value("ulimits"); ul && !ul->empty()) {
    b.resources.ulimits = MYDOCKER_TRY(parse_ulimits(*ul));
  }
  b.resources.memory = int64_or_zero(req, "memory");
  b.resources.memory_swap = int64_or_zero(req, "memswap");
  b.resources.cpu_shares = int64_or_zero(req, "cpushares");
  b.resources.cpu_period = int64_or_zero(req, "cpuperiod");
  b.resources.cpu_quota = int64_or_zero(req, "cpuquota");
  b.resources.cpuset_cpus = req.query_value("cpusetcpus").value_or("");
  b.resources.cpuset_mems = req.query_value("cpusetmems").value_or("");
  b.resources.cgroup_parent = req.query_value("cgroupparent").value_or("");

  b.dockerfile = req.query_value("dockerfile").value_or("");
  if (b.dockerfile.empty()) {
    b.dockerfile = "Dockerfile";
  }
  b.tags = req.query_values("t");
  b.extra_hosts = req.query_values("extrahosts");
  b.target = req.query_value("target").value_or("");
  b.no_cache = req.query_bool("nocache");
  b.pull = req.query_bool("pull");
  b.force_remove = req.query_bool("forcerm");
  // rm defaults to true when absent (API >= 1.12).
  b.remove = req.query_value("rm") ? req.query_bool("rm") : true;
  if (b.force_remove) {
    b.remove = true;
  }
  b.network_mode = req.query_value("networkmode").value_or("");
  if (b.network_mode == "default") {
    b.network_mode.clear();
  }
  if (auto p = req.query_value("platform"); p && !p->empty()) {
    b.platform = MYDOCKER_TRY(image::registry::parse_platform(*p));
  }
  if (auto args = req.query_value("buildargs"); args && !args->empty()) {
    json j = MYDOCKER_TRY(parse_json_param(*args, "build args"));
    if (!j.is_null() && !j.is_object()) {
      return invalid("error reading build args: not a JSON object");
    }
    if (j.is_object()) {
      for (const auto& [k, v] : j.items()) {
        if (v.is_null()) {
          b.build_args[k] = std::nullopt;  // `--build-arg NAME` the client had no value for
        } else if (v.is_string()) {
          b.build_args[k] = v.get<std::string>();
        } else {
          return invalid(
              fmt::format("error reading build args: the value of `{}` is not a string", k));
        }
      }
    }
  }
  if (auto labels = req.query_value("labels"); labels && !labels->empty()) {
    json j = MYDOCKER_TRY(parse_json_param(*labels, "labels"));
    if (!j.is_null() && !j.is_object()) {
      return invalid("error reading labels: not a JSON object");
    }
    if (j.is_object()) {
      for (const auto& [k, v] : j.items()) {
        if (!v.is_string()) {
          return invalid(fmt::format("error reading labels: the value of `{}` is not a string", k));
        }
        b.labels[k] = v.get<std::string>();
      }
    }
  }
  if (auto cf = req.query_value("cachefrom"); cf && !cf->empty()) {
    // Accepted and unused: the local cache is the only one.
    json j = MYDOCKER_TRY(parse_json_param(*cf, "cache-from"));
    if (!j.is_null() && !j.is_array()) {
      return invalid("error reading cache-from: not a JSON array");
    }
  }
  b.registry_auth = registry_config(req);
  return b;
}

// A build on its own thread, its messages queued for the response. Before the response
// streams (while the body is still being pushed) the queue is unbounded, so the build never
// waits on a writer that is itself waiting on the build; after, it holds the build back
// (kMaxQueued) when the client reads slowly.
class BuildJob {
 public:
  explicit BuildJob(bool quiet) : quiet_(quiet) {}
  BuildJob(const BuildJob&) = delete;
  BuildJob& operator=(const BuildJob&) = delete;
  ~BuildJob() {
    if (thread_.joinable()) {
      // The last owner may be the job's own thread (the client left before the build ended).
      if (thread_.get_id() == std::this_thread::get_id()) {
        thread_.detach();
      } else {
        thread_.join();
      }
    }
  }

  // The engine's sink. False once the client is gone.
  bool emit(std::string line) {
    std::unique_lock lock(mu_);
    if (gone_) {
      return false;
    }
    begun_ = true;
    if (quiet_) {
      kept_ += line;
    } else {
      cv_.wait(lock, [&] { return gone_ || !streaming_ || queued_ < kMaxQueued; });
      if (gone_) {
        return false;
      }
      queued_ += line.size();
      lines_.push_back(std::move(line));
    }
    cv_.notify_all();
    return true;
  }
  bool alive() {
    std::lock_guard lock(mu_);
    return !gone_;
  }
  void client_gone() {
    std::lock_guard lock(mu_);
    gone_ = true;
    cv_.notify_all();
  }
  void finish(base::Result<engine::BuildResult> r, int64_t exit_code) {
    std::lock_guard lock(mu_);
    done_ = true;
    if (r) {
      image_id_ = r->image_id;
    } else {
      error_ = std::move(r).error();
      exit_code_ = exit_code;
    }
    cv_.notify_all();
  }

  // Waits for the first message or the end. The error when the build ended without output.
  std::optional<base::Error> wait_first() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return done_ || begun_; });
    if (!begun_ && error_) {
      return error_;
    }
    streaming_ = true;
    return std::nullopt;
  }

  // Writes the stream until the build ends or the client leaves.
  void serve(StreamWriter& w) {
    for (;;) {
      std::deque<std::string> batch;
      bool done = false;
      {
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, std::chrono::milliseconds(250),
                     [&] { return done_ || !lines_.empty(); });
        batch.swap(lines_);
        queued_ = 0;
        done = done_;
        cv_.notify_all();
      }
      if (batch.empty() && !done && !w.alive()) {
        client_gone();  // the engine cancels the build on its own thread
        return;
      }
      for (const std::string& l : batch) {
        if (!w.write(l)) {
          client_gone();
          return;
        }
      }
      if (done) {
        w.write(ending());
        return;
      }
    }
  }

  void start(std::function<void()> fn) { thread_ = std::thread(std::move(fn)); }
  void join() { thread_.join(); }

 private:
  static constexpr size_t kMaxQueued = 1 << 20;

  std::string ending() {
    std::lock_guard lock(mu_);
    if (error_) {
      return (quiet_ ? kept_ : std::string()) + error_line(error_->message(), exit_code_);
    }
    return quiet_ ? stream_text(image_id_ + "\n") : std::string();
  }

  const bool quiet_;
  std::mutex mu_;  // guards everything below
  std::condition_variable cv_;
  std::deque<std::string> lines_;
  size_t queued_ = 0;
  std::string kept_;  // q=1: the steps, sent only with an error
  bool begun_ = false;
  bool streaming_ = false;
  bool gone_ = false;
  bool done_ = false;
  std::string image_id_;
  std::optional<base::Error> error_;
  int64_t exit_code_ = 0;
  std::thread thread_;
};

// The request body on its way from the connection's thread (httplib hands it over in small
// pieces) to the engine's thread. A ring buffer with one writer and one reader: each copies
// outside the lock into the part only it touches, and each side sleeps until the other has
// made a batch of room or data (kWake), so a 20 MB context costs a few dozen wake-ups rather
// than one per piece.
class BodyPipe final : public image::layers::ByteSource {
 public:
  BodyPipe() : buf_(take_buffer()) {}
  BodyPipe(const BodyPipe&) = delete;
  BodyPipe& operator=(const BodyPipe&) = delete;
  ~BodyPipe() override { give_buffer(std::move(buf_)); }

  // Writer. Blocks while the pipe is full; after close() the data is dropped (the engine has
  // stopped reading, and the rest of the body must still be read off the connection).
  void push(std::string_view data) {
    while (!data.empty()) {
      size_t tail = 0;
      size_t n = 0;
      {
        std::unique_lock lock(mu_);
        if (!closed_ && size_ == kCapacity) {
          writer_waits_ = true;
          writer_cv_.wait(lock, [&] { return closed_ || kCapacity - size_ >= kWake; });
          writer_waits_ = false;
        }
        if (closed_) {
          return;
        }
        tail = (head_ + size_) % kCapacity;
        n = std::min({data.size(), kCapacity - size_, kCapacity - tail});
      }
      std::memcpy(buf_.get() + tail, data.data(), n);
      data.remove_prefix(n);
      std::lock_guard lock(mu_);
      size_ += n;
      if (reader_waits_ && size_ >= kWake) {
        reader_cv_.notify_one();
      }
    }
  }
  // Writer: the body's end; `complete` false when the client went away before it.
  void end(bool complete) {
    std::lock_guard lock(mu_);
    ended_ = true;
    complete_ = complete;
    reader_cv_.notify_one();
  }
  // Reader: the engine is done with the body (read or not).
  void close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    writer_cv_.notify_one();
  }

  base::Result<size_t> read(std::span<std::byte> out) override {
    size_t head = 0;
    size_t n = 0;
    {
      std::unique_lock lock(mu_);
      if (size_ < kWake && !ended_) {
        reader_waits_ = true;
        reader_cv_.wait(lock, [&] { return ended_ || size_ >= kWake; });
        reader_waits_ = false;
      }
      if (size_ == 0) {
        if (!complete_) {
          return base::make_error(ErrorCode::Cancelled,
                                  "the client went away before the end of the build context");
        }
        return size_t{0};
      }
      head = head_;
      n = std::min({out.size(), size_, kCapacity - head});
    }
    std::memcpy(out.data(), buf_.get() + head, n);
    std::lock_guard lock(mu_);
    head_ = (head_ + n) % kCapacity;
    size_ -= n;
    if (writer_waits_ && kCapacity - size_ >= kWake) {
      writer_cv_.notify_one();
    }
    return n;
  }

 private:
  static constexpr size_t kCapacity = 4 << 20;
  static constexpr size_t kWake = 256 << 10;
  static constexpr size_t kKeepBuffers = 2;

  // The buffers of finished pipes are kept for the next ones (a few): fresh memory would cost
  // a page fault per 4 KiB of every build's context.
  static std::mutex& pool_mu() {
    static std::mutex mu;
    return mu;
  }
  static std::vector<std::unique_ptr<char[]>>& pool() {
    static auto* kept = new std::vector<std::unique_ptr<char[]>>();  // never destroyed
    return *kept;
  }
  static std::unique_ptr<char[]> take_buffer() {
    std::lock_guard lock(pool_mu());
    if (pool().empty()) {
      return std::unique_ptr<char[]>(new char[kCapacity]);
    }
    auto b = std::move(pool().back());
    pool().pop_back();
    return b;
  }
  static void give_buffer(std::unique_ptr<char[]> b) {
    std::lock_guard lock(pool_mu());
    if (pool().size() < kKeepBuffers) {
      pool().push_back(std::move(b));
    }
  }

  std::unique_ptr<char[]> buf_;
  std::mutex mu_;  // guards the fields below (not buf_'s bytes: see the class comment)
  std::condition_variable reader_cv_;
  std::condition_variable writer_cv_;
  size_t head_ = 0;  // the reader's next byte
  size_t size_ = 0;  // bytes written and not yet read
  bool reader_waits_ = false;
  bool writer_waits_ = false;
  bool ended_ = false;
  bool complete_ = false;
  bool closed_ = false;
};

// Pushes the request body into the engine's pipe. After the engine stopped reading (an error
// early in the context, or the tar's end) the rest is read and dropped: left unread it would
// be parsed as the next request on this keep-alive connection. False when the client went away
// before the body's end.
bool pump_body(const Request& req, BodyPipe& pipe) {
  bool complete = !req.body_reader || req.body_reader([&](std::string_view chunk) {
    pipe.push(chunk);
    return true;
  });
  pipe.end(complete);
  return complete;
}

base::Result<void> post_build(Context& ctx, const Request& req, Response& resp) {
  engine::BuildRequest breq = MYDOCKER_TRY(build_request(req));
  bool quiet = req.query_bool("q");
  bool want_aux = req.version >= wire::ApiVersion{1, 30};

  auto pipe = std::make_shared<BodyPipe>();

  auto job = std::make_shared<BuildJob>(quiet);
  BuildJob* j = job.get();  // the thread's lambda owns `job` for the build's duration
  breq.output = [j, want_aux](const engine::BuildOutput& o) {
    std::string line;
    if (o.pull != nullptr) {
      line = registry_progress_line(*o.pull);
    } else if (!o.aux_id.empty()) {
      if (!want_aux) {
        return j->alive();
      }
      ordered_json m;
      m["aux"] = {{"ID", o.aux_id}};
      line = stream_line(m);
    } else {
      line = stream_text(o.stream);
    }
    return j->emit(std::move(line));
  };
  breq.client_alive = [j] { return j->alive(); };
  breq.quiet = false;  // q=1 is the API's business (see the file comment)
  engine::Daemon& daemon = ctx.daemon;
  job->start([job, pipe, &daemon, breq = std::move(breq)]() mutable {
    breq.context = pipe.get();
    int64_t code = 0;
    auto r = daemon.build(breq, &code);
    pipe->close();  // the body pump drops the rest
    job->finish(std::move(r), code);
  });

  if (!pump_body(req, *pipe)) {
    job->client_gone();
  }

  if (auto err = job->wait_first()) {
    job->join();
    // dockerd answers a missing Dockerfile with a 500 (169).
    if (err->code() == ErrorCode::NotFound &&
        err->message().starts_with("Cannot locate specified Dockerfile")) {
      return base::Error(ErrorCode::Internal, err->message());
    }
    return *err;
  }
  resp.status = 200;
  resp.content_type = "application/json";
  resp.stream = [job](StreamWriter& w) { job->serve(w); };
  return base::ok();
}

// POST /build/prune (173, 174): `all`, `keep-storage`, `filters`.
base::Result<void> post_build_prune(Context& ctx, const Request& req, Response& resp) {
  engine::BuildPruneOptions o;
  o.all = req.query_bool("all");
  if (auto ks = req.query_value("keep-storage"); ks && !ks->empty()) {
    o.keep_storage = MYDOCKER_TRY(wire::parse_int_value(*ks));
  }
  auto filters = wire::parse_filters(req.query_value("filters").value_or(""));
  if (!filters) {
    return base::Error(ErrorCode::InvalidArgument, filters.error().message());
  }
  o.filters = std::move(*filters);
  auto r = ctx.daemon.build_prune(o);
  if (!r) {
    if (r.error().code() == ErrorCode::Unavailable ||
        r.error().code() == ErrorCode::NotImplemented) {
      return std::move(r).error();
    }
    return base::Error(r.error().code(),
                       fmt::format("failed to prune build cache: {}", r.error().message()));
  }
  ordered_json out;
  // Go's nil slice: null when nothing was deleted.
  out["CachesDeleted"] =
      r->caches_deleted.empty() ? ordered_json(nullptr) : ordered_json(r->caches_deleted);
  out["SpaceReclaimed"] = r->space_reclaimed;
  resp.json(200, dump(out));
  return base::ok();
}

}  // namespace

std::vector<Route> build_routes() {
  return {
      {"POST", "/build", BodyMode::Stream, post_build},
      {"POST", "/build/prune", BodyMode::Buffered, post_build_prune},
  };
}

}  // namespace mydocker::api::server
