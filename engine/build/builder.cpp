// SPDX-License-Identifier: Apache-2.0
// The build executor (builder.h): one BuildRun per request walks the stages; each step probes
// the cache, then runs (a container for RUN, a scratch snapshot for COPY/ADD/WORKDIR, nothing
// for metadata) and commits through image/archive/commit.h. Texts follow moby's classic
// builder (builder/dockerfile: builder.go, dispatchers.go, internals.go, containerbackend.go).
#include "engine/build/builder.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "engine/build/context.h"
#include "engine/build/copy.h"
#include "engine/build/steps.h"
#include "engine/names/names.h"
#include "image/archive/commit.h"
#include "image/dockerfile/instructions.h"
#include "image/dockerfile/scope.h"
#include "image/layers/in_root.h"
#include "image/registry/platform.h"
#include "runtime/base/file.h"
#include "runtime/base/scope_exit.h"
#include "runtime/base/strings.h"

namespace mydocker::engine::build {
namespace {

using base::ErrorCode;
using base::make_error;
using image::ImageId;
using image::content::ImageConfig;
using image::reference::Reference;
namespace df = image::dockerfile;
using nlohmann::json;

// What the runtime mounts into a RUN container's rootfs (specgen): Docker keeps these in a
// hidden init layer, so a RUN's commit leaves them out.
const std::set<std::string> kRuntimeMounts = {"/proc",
                                              "/sys",
                                              "/dev",
                                              "/etc/hosts",
                                              "/etc/hostname",
                                              "/etc/resolv.conf",
                                              "/sbin/docker-init"};

// Where a RUN's `#!` heredoc is written in its container (see dispatch_run); never committed.
constexpr std::string_view kScriptDir = "/.mydocker-pipes";

std::string now_rfc3339() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return image::content::format_rfc3339_nano(ts.tv_sec, static_cast<int32_t>(ts.tv_nsec));
}

// stringid.TruncateID: the hex after "sha256:", 12 characters.
std::string short_id(std::string_view id) {
  if (auto colon = id.find(':'); colon != std::string_view::npos) {
    id = id.substr(colon + 1);
  }
  return std::string(id.substr(0, 12));
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool has_wildcard(std::string_view s) {
  return s.find_first_of("*?[") != std::string_view::npos;
}

bool is_url(std::string_view s) {
  return s.starts_with("http://") || s.starts_with("https://");
}

// A registry host as X-Registry-Config names it ("https://index.docker.io/v1/",
// "localhost:5000") or a reference's domain, in one form.
std::string registry_host(std::string_view key) {
  for (std::string_view scheme : {"https://", "http://"}) {
    if (key.starts_with(scheme)) {
      key.remove_prefix(scheme.size());
    }
  }
  key = key.substr(0, key.find('/'));
  std::string host = lower(std::string(key));
  if (host == "index.docker.io" || host == "registry-1.docker.io") {
    return "docker.io";
  }
  return host;
}

// The image config's "config" without the per-commit Image field: the part of the state that
// decides a step's result, for the cache key.
std::string state_text(const StageState& s) {
  json j = s.config.to_json();
  j.erase("Image");
  return j.dump() + "\n" + s.maintainer;
}

// A writable filesystem on an image (a snapshot of the daemon's snapshotter, mounted), for
// COPY/ADD/WORKDIR and for reading COPY --from sources. Removed when destroyed.
class Scratch {
 public:
  static base::Result<std::unique_ptr<Scratch>> open(image::layers::Snapshotter& snaps,
                                                     const std::string& work_dir,
                                                     const std::optional<image::ChainId>& top) {
    std::unique_ptr<Scratch> s(new Scratch(snaps));
    s->key_ = "build-" + names::generate_id().substr(0, 24);
    s->target_ = work_dir + "/mnt-" + s->key_;
    MYDOCKER_TRY(base::mkdir_all(s->target_, 0700));
    s->made_dir_ = true;
    MYDOCKER_TRY_CTX(snaps.prepare(s->key_, top), "prepare a build filesystem");
    s->prepared_ = true;
    s->mount_ = MYDOCKER_TRY(snaps.mount(s->key_, s->target_));
    return s;
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() {
    (void)mount_.unmount();
    if (prepared_) {
      (void)snaps_.remove(key_);
    }
    if (made_dir_) {
      ::rmdir(target_.c_str());
    }
  }
  const std::string& rootfs() const { return target_; }
  std::string changes() const { return snaps_.rw_path(key_); }
  base::Result<void> unmount() { return mount_.unmount(); }

 private:
  explicit Scratch(image::layers::Snapshotter& snaps) : snaps_(snaps) {}
  image::layers::Snapshotter& snaps_;
  std::string key_;
  std::string target_;
  image::layers::Mount mount_;
  bool made_dir_ = false;
  bool prepared_ = false;
};

// A stage's result, for FROM <stage> and COPY --from=<stage>.
struct StageResult {
  bool built = false;
  std::string image_id;  // "" for a stage that stayed `scratch`
};

struct BaseImage {
  std::string id;  // "" for scratch
  std::optional<ImageConfig> config;
};

class BuildRun {
 public:
  BuildRun(Daemon& daemon, image::layers::Snapshotter& snaps, Cache& cache,
           const std::string& work_dir, const BuildRequest& req, const Context& ctx,
           const df::Dockerfile& dockerfile, int64_t* failed_exit_code)
      : daemon_(daemon),
        snaps_(snaps),
        cache_(cache),
        work_dir_(work_dir),
        req_(req),
        ctx_(ctx),
        df_(dockerfile),
        failed_exit_code_(failed_exit_code) {}

  base::Result<std::string> run(size_t target);
  size_t steps() const { return steps_; }
  size_t hits() const { return hits_; }

 private:
  struct Stage {
    size_t index = 0;
    std::string image_id;
    StageState state;
    std::unique_ptr<df::StageScope> scope;
    std::set<std::string, std::less<>> declared;
    // The image config of image_id (history, platform) for the next commit; loaded lazily.
    std::optional<ImageConfig> parent;
    bool cache_busted = false;
  };

  // Output.
  void emit(std::string text);
  void emit_stderr(std::string_view text);
  bool alive();
  base::Error cancelled() const { return make_error(ErrorCode::Cancelled, "Build cancelled"); }

  base::Result<BaseImage> resolve_image(const std::string& name,
                                        const std::optional<image::registry::PlatformSpec>& p,
                                        bool local_only);
  base::Result<void> begin_stage(Stage& st, const df::Stage& stage);
  base::Result<void> dispatch(Stage& st, const df::Instruction& ins, bool expand);
  base::Result<void> dispatch_meta(Stage& st, const df::Instruction& ins);
  base::Result<void> dispatch_workdir(Stage& st, const df::WorkdirCmd& cmd);
  base::Result<void> dispatch_run(Stage& st, const df::RunCmd& cmd);
  // A RUN heredoc's script written into the created container `id`'s layer at `path`.
  base::Result<void> write_script(const std::string& id, const std::string& path,
                                  const std::string& text);
  base::Result<void> dispatch_copy(Stage& st, const df::Instruction& ins);

  // Cache: true on a hit (the stage moves to the cached image).
  bool probe(Stage& st, const std::string& key);
  void record(const std::string& parent, const std::string& key, const std::string& image);
  // Commits the stage's state as a child of st.image_id.
  struct CommitSpec {
    RunConfig container_config;
    std::string created_by;
    std::string container;    // "container" of the config
    std::string changes_dir;  // "" for a metadata step
    std::set<std::string> exclude;
  };
  base::Result<std::string> commit(Stage& st, CommitSpec spec);
  base::Result<ImageConfig> parent_config(Stage& st);
  base::Result<std::optional<image::ChainId>> top_layer(const std::string& image_id);
  base::Result<void> need_overlay() const;

  // RUN's container: attached, started, drained into the output, waited for.
  base::Result<int64_t> run_container(const std::string& id);
  void remove_container(const std::string& id, bool announce);

  Daemon& daemon_;
  image::layers::Snapshotter& snaps_;
  Cache& cache_;
  const std::string& work_dir_;
  const BuildRequest& req_;
  const Context& ctx_;
  const df::Dockerfile& df_;
  int64_t* failed_exit_code_;

  bool gone_ = false;  // the client left
  size_t steps_ = 0;   // instructions dispatched (for the daemon log)
  size_t hits_ = 0;    // of which cache hits
  df::Env build_args_;
  df::Env meta_;
  std::vector<StageResult> results_;
  std::vector<df::Instruction> label_steps_;  // --label, appended to the target stage
};

void BuildRun::emit(std::string text) {
  if (gone_ || req_.quiet || !req_.output) {
    return;
  }
  BuildOutput o;
  o.stream = std::move(text);
  if (!req_.output(o)) {
    gone_ = true;
  }
}

// moby's StderrFormatter colours what goes to the builder's stderr.
void BuildRun::emit_stderr(std::string_view text) {
  emit("\033[91m" + std::string(text) + "\033[0m");
}

bool BuildRun::alive() {
  if (!gone_ && req_.client_alive && !req_.client_alive()) {
    gone_ = true;
  }
  return !gone_;
}

base::Result<void> BuildRun::need_overlay() const {
  if (snaps_.name() != "overlay") {
    return make_error(ErrorCode::FailedPrecondition,
                      "building images needs the overlay2 storage driver (the daemon uses {})",
                      snaps_.name());
  }
  return base::ok();
}

base::Result<std::optional<image::ChainId>> BuildRun::top_layer(const std::string& image_id) {
  if (image_id.empty()) {
    return std::optional<image::ChainId>();
  }
  auto rec = MYDOCKER_TRY(daemon_.images().images().get(image_id));
  return image::Images::top_layer(rec.config);
}

base::Result<BaseImage> BuildRun::resolve_image(
    const std::string& name, const std::optional<image::registry::PlatformSpec>& platform,
    bool local_only) {
  auto& store = daemon_.images().images();
  bool is_id = image::reference::is_full_hex_id(name) || name.starts_with("sha256:");
  if (!req_.pull || is_id || local_only) {
    auto id = store.resolve(name);
    if (id) {
      auto rec = MYDOCKER_TRY(store.get(*id));
      bool fits = !platform || local_only ||
                  (rec.config.architecture == platform->architecture &&
                   (rec.config.os.empty() ? "linux" : rec.config.os) == platform->os);
      if (fits) {
        return BaseImage{id->str(), std::move(rec.config)};
      }
    } else if (id.error().code() != ErrorCode::NotFound || local_only || is_id) {
      return std::move(id).error();
    }
  }
  // Docker's pullForBuilder: the name with its default tag, the credentials of its registry
  // from X-Registry-Config.
  Reference ref = MYDOCKER_TRY(Reference::parse(name)).with_default_tag();
  PullRequest pr;
  pr.ref = ref;
  pr.platform = platform;
  std::string host = registry_host(ref.domain());
  for (const auto& [key, creds] : req_.registry_auth) {
    if (registry_host(key) == host) {
      pr.credentials = creds;
      break;
    }
  }
  pr.progress = [this](const image::registry::ProgressEvent& e) {
    if (gone_) {
      return false;
    }
    if (!req_.quiet && req_.output) {
      BuildOutput o;
      o.pull = &e;
      if (!req_.output(o)) {
        gone_ = true;
      }
    }
    return !gone_;
  };
  pr.client_alive = [this] { return alive(); };
  auto pulled = daemon_.pull(pr);
  if (!pulled) {
    if (gone_) {
      return cancelled();
    }
    return std::move(pulled).error();
  }
  auto rec = MYDOCKER_TRY(store.get(pulled->id));
  return BaseImage{pulled->id.str(), std::move(rec.config)};
}

base::Result<void> BuildRun::begin_stage(Stage& st, const df::Stage& stage) {
  df::LexOptions lex;
  lex.escape = df_.escape;
  std::string name = MYDOCKER_TRY(df::expand_word(stage.base, meta_, lex));
  if (name.empty()) {
    return make_error(ErrorCode::InvalidArgument, "base name ({}) should not be blank", stage.base);
  }
  std::optional<image::registry::PlatformSpec> platform = req_.platform;
  if (!stage.platform.empty()) {
    std::string p = MYDOCKER_TRY_CTX(df::expand_word(stage.platform, meta_, lex),
                                     "failed to process arguments for platform {}", stage.platform);
    platform =
        MYDOCKER_TRY_CTX(image::registry::parse_platform(p), "failed to parse platform {}", p);
  }
  BaseImage base;
  bool from_stage = false;
  for (size_t j = 0; j < st.index; ++j) {
    if (results_[j].built && !df_.stages[j].name.empty() && df_.stages[j].name == lower(name)) {
      from_stage = true;
      if (!results_[j].image_id.empty()) {
        base = MYDOCKER_TRY(resolve_image(results_[j].image_id, std::nullopt, true));
      }
      break;
    }
  }
  if (!from_stage && name != "scratch") {
    base = MYDOCKER_TRY(resolve_image(name, platform, false));
  }
  st.image_id = base.id;
  std::optional<RunConfig> run;
  std::vector<std::string> triggers;
  if (base.config) {
    run = base.config->config;
    if (run) {
      triggers = run->on_build;
    }
    st.parent = std::move(base.config);
  } else {
    ImageConfig scratch;
    auto host = image::registry::host_platform();
    scratch.architecture = platform ? platform->architecture : host.architecture;
    scratch.variant = platform ? platform->variant : host.variant;
    scratch.os = "linux";
    st.parent = std::move(scratch);
  }
  st.state = build::begin_stage(run);
  df::Env image_env;
  for (const auto& e : st.state.config.env) {
    auto eq = e.find('=');
    image_env[e.substr(0, eq)] = eq == std::string::npos ? "" : e.substr(eq + 1);
  }
  st.scope = std::make_unique<df::StageScope>(meta_, build_args_, std::move(image_env));
  if (!triggers.empty()) {
    emit(fmt::format("# Executing {} build trigger{}\n", triggers.size(),
                     triggers.size() > 1 ? "s" : ""));
    auto parsed = MYDOCKER_TRY(df::parse_triggers(triggers));
    for (const auto& ins : parsed) {
      MYDOCKER_TRY(dispatch(st, ins, true));
    }
  }
  return base::ok();
}

bool BuildRun::probe(Stage& st, const std::string& key) {
  if (req_.no_cache || st.cache_busted) {
    return false;
  }
  auto& store = daemon_.images().images();
  auto hit = cache_.lookup(st.image_id, key, [&](const std::string& id) {
    auto parsed = ImageId::parse(id);
    return parsed && store.exists(*parsed);
  });
  if (!hit) {
    st.cache_busted = true;  // moby's imageProber: one miss busts the rest of the stage
    return false;
  }
  emit(" ---> Using cache\n");
  ++hits_;
  st.image_id = *hit;
  st.parent.reset();
  return true;
}

void BuildRun::record(const std::string& parent, const std::string& key, const std::string& image) {
  // A cache that cannot record only costs a later rebuild; the build itself succeeded.
  (void)cache_.record(parent, key, image);
}

base::Result<ImageConfig> BuildRun::parent_config(Stage& st) {
  if (!st.parent) {
    auto rec = MYDOCKER_TRY(daemon_.images().images().get(st.image_id));
    st.parent = std::move(rec.config);
  }
  return *st.parent;
}

base::Result<std::string> BuildRun::commit(Stage& st, CommitSpec spec) {
  ImageConfig parent = MYDOCKER_TRY(parent_config(st));
  std::string created = now_rfc3339();
  ImageConfig cfg;
  cfg.created = created;
  cfg.author = st.state.maintainer;
  cfg.architecture = parent.architecture.empty() ? image::registry::host_platform().architecture
                                                 : parent.architecture;
  cfg.variant = parent.variant;
  cfg.os = parent.os.empty() ? "linux" : parent.os;
  cfg.os_version = parent.os_version;
  cfg.os_features = parent.os_features;
  cfg.config = docker_config(st.state.config, st.image_id);
  cfg.container_config = docker_config(std::move(spec.container_config), st.image_id);
  cfg.container = spec.container;
  cfg.history = parent.history;
  image::content::HistoryEntry h;
  h.created = created;
  h.created_by = std::move(spec.created_by);
  h.author = st.state.maintainer;
  cfg.history.push_back(std::move(h));

  image::archive::CommitRequest creq;
  if (!st.image_id.empty()) {
    creq.parent = MYDOCKER_TRY(ImageId::parse(st.image_id));
  }
  creq.config = cfg;
  creq.changes_dir = std::move(spec.changes_dir);
  creq.exclude = std::move(spec.exclude);
  auto res = MYDOCKER_TRY_CTX(image::archive::commit(daemon_.images(), creq),
                              "failed to commit the build step");
  cfg.history.back().empty_layer = !res.layer.has_value();
  st.image_id = res.id.str();
  st.parent = std::move(cfg);
  return st.image_id;
}

base::Result<void> BuildRun::dispatch(Stage& st, const df::Instruction& original, bool expand) {
  df::Instruction ins = original;
  if (expand && df::expands_variables(ins)) {
    MYDOCKER_TRY(df::expand_instruction(ins, st.scope->expansion_env(), df_.escape));
  }
  if (const auto* arg = original.as<df::ArgCmd>()) {
    MYDOCKER_TRY(st.scope->declare(original, df_.escape));
    for (const auto& a : ins.as<df::ArgCmd>()->args) {
      st.declared.insert(a.key);
    }
    (void)arg;
    return dispatch_meta(st, ins);
  }
  if (const auto* w = ins.as<df::WorkdirCmd>()) {
    return dispatch_workdir(st, *w);
  }
  if (const auto* r = ins.as<df::RunCmd>()) {
    return dispatch_run(st, *r);
  }
  if (ins.as<df::CopyCmd>() || ins.as<df::AddCmd>()) {
    return dispatch_copy(st, ins);
  }
  if (ins.as<df::FromCmd>()) {
    return make_error(ErrorCode::InvalidArgument, "FROM is not allowed here");
  }
  MYDOCKER_TRY(dispatch_meta(st, ins));
  if (const auto* env = ins.as<df::EnvCmd>()) {
    for (const auto& kv : env->env) {
      st.scope->set_env(kv.key, kv.value);
    }
  }
  return base::ok();
}

// moby's commit(): a container made for the record (" ---> Running in"), committed at once.
// Nothing runs in it, so no container is made here: the ID printed is the one the commit
// records as its "container".
base::Result<void> BuildRun::dispatch_meta(Stage& st, const df::Instruction& ins) {
  StageState before = st.state;
  auto meta = MYDOCKER_TRY(apply_metadata(st.state, ins));
  for (const auto& note : meta.notes) {
    emit(note);
  }
  RunConfig cc = comment_config(st.state.config, meta.comment, false);
  std::string parent = st.image_id;
  std::string key = "meta\n" + meta.comment + "\n" + state_text(st.state);
  if (probe(st, key)) {
    return base::ok();
  }
  std::string container = names::generate_id();
  emit(" ---> Running in " + container.substr(0, 12) + "\n");
  CommitSpec spec;
  spec.created_by = base::join(*cc.cmd, " ");
  spec.container_config = std::move(cc);
  spec.container = container;
  auto id = commit(st, std::move(spec));
  if (!id) {
    st.state = std::move(before);
    return std::move(id).error();
  }
  record(parent, key, *id);
  if (req_.remove || req_.force_remove) {
    emit("Removing intermediate container " + container.substr(0, 12) + "\n");
  }
  return base::ok();
}

base::Result<void> BuildRun::dispatch_workdir(Stage& st, const df::WorkdirCmd& cmd) {
  st.state.config.working_dir = normalize_workdir(st.state.config.working_dir, cmd.path);
  const std::string& wd = st.state.config.working_dir;
  std::string comment = "WORKDIR " + wd;
  RunConfig cc = comment_config(st.state.config, comment, true);
  std::string parent = st.image_id;
  std::string key = "workdir\n" + state_text(st.state);
  if (probe(st, key)) {
    return base::ok();
  }
  std::string container = names::generate_id();
  emit(" ---> Running in " + container.substr(0, 12) + "\n");
  CommitSpec spec;
  spec.created_by = base::join(*cc.cmd, " ");
  spec.container_config = std::move(cc);
  spec.container = container;
  // Docker's ContainerCreateWorkdir: the directory is made (root, 0755) when missing, and the
  // commit then carries it as a layer; an existing one gives an empty layer.
  std::unique_ptr<Scratch> scratch;
  if (wd != "/") {
    MYDOCKER_TRY(need_overlay());
    auto top = MYDOCKER_TRY(top_layer(st.image_id));
    scratch = MYDOCKER_TRY(Scratch::open(snaps_, work_dir_, top));
    auto root = MYDOCKER_TRY(base::Fd::open(scratch->rootfs(), O_RDONLY | O_DIRECTORY));
    auto rel = image::layers::clean_path(wd).value_or("");
    if (auto made = image::layers::make_dirs_in_root(root, rel); !made) {
      if (made.error().code() == ErrorCode::InvalidArgument) {
        return make_error(ErrorCode::InvalidArgument, "Cannot mkdir: {} is not a directory", wd);
      }
      return std::move(made).error();
    }
    MYDOCKER_TRY(scratch->unmount());
    spec.changes_dir = scratch->changes();
  }
  auto id = MYDOCKER_TRY(commit(st, std::move(spec)));
  scratch.reset();
  record(parent, key, id);
  if (req_.remove || req_.force_remove) {
    emit("Removing intermediate container " + container.substr(0, 12) + "\n");
  }
  return base::ok();
}

void BuildRun::remove_container(const std::string& id, bool announce) {
  if (auto r = daemon_.remove(id, true, true); !r && r.error().code() != ErrorCode::NotFound) {
    emit_stderr(fmt::format("Failed to remove intermediate container {}: {}\n", short_id(id),
                            r.error().message()));
    return;
  }
  if (announce) {
    emit("Removing intermediate container " + short_id(id) + "\n");
  }
}

base::Result<int64_t> BuildRun::run_container(const std::string& id) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
    return base::sys_error("socketpair");
  }
  base::Fd mine = base::Fd::adopt(sv[0]);
  base::Fd theirs = base::Fd::adopt(sv[1]);
  AttachOptions ao;
  ao.stream = true;
  ao.stdout_stream = true;
  ao.stderr_stream = true;
  MYDOCKER_TRY(
      daemon_.attach(id, ao, [&](bool) -> base::Result<base::Fd> { return std::move(theirs); }));
  MYDOCKER_TRY(daemon_.start(id));
  // Docker's multiplexed stream: [stream, 0, 0, 0, size (big endian)] + payload per frame.
  std::string buf;
  char chunk[65536];
  for (;;) {
    if (!alive()) {
      return cancelled();
    }
    struct pollfd p {};
    p.fd = mine.get();
    p.events = POLLIN;
    int n = ::poll(&p, 1, 200);
    if (n < 0 && errno != EINTR) {
      return base::sys_error("poll the output of container {}", id);
    }
    if (n <= 0) {
      continue;
    }
    ssize_t got = ::read(mine.get(), chunk, sizeof chunk);
    if (got < 0) {
      if (errno == EINTR || errno == EAGAIN) {
        continue;
      }
      break;  // the stream is over (reset): the exit status tells what happened
    }
    if (got == 0) {
      break;
    }
    buf.append(chunk, static_cast<size_t>(got));
    while (buf.size() >= 8) {
      auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(buf[i])); };
      uint32_t size = (b(4) << 24) | (b(5) << 16) | (b(6) << 8) | b(7);
      if (buf.size() < 8 + static_cast<size_t>(size)) {
        break;
      }
      std::string payload = buf.substr(8, size);
      if (buf[0] == 2) {
        emit_stderr(payload);
      } else {
        emit(std::move(payload));
      }
      buf.erase(0, 8 + static_cast<size_t>(size));
    }
  }
  auto w = MYDOCKER_TRY(daemon_.wait(id, WaitCondition::NotRunning));
  return w.status_code;
}

base::Result<void> BuildRun::write_script(const std::string& id, const std::string& path,
                                          const std::string& text) {
  auto info = MYDOCKER_TRY(daemon_.inspect(id, false));
  auto upper = info.graph_driver_data.find("UpperDir");
  if (upper == info.graph_driver_data.end()) {
    return make_error(ErrorCode::FailedPrecondition,
                      "container {} has no overlay upper dir for the heredoc script", id);
  }
  // The container has not started: its layer is not mounted yet. Root's, 0755 (BuildKit's
  // file mode), readable by any USER.
  auto root = MYDOCKER_TRY(base::Fd::open(upper->second, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  std::string rel = image::layers::clean_path(path).value_or("");
  auto [dir, name] = image::layers::split_parent(rel);
  auto dfd = MYDOCKER_TRY(image::layers::make_dirs_in_root(root, std::string(dir)));
  if (::fchmod(dfd.get(), 0755) < 0) {
    return base::sys_error("chmod `{}`", dir);
  }
  base::Fd fd =
      base::Fd::adopt(::openat(dfd.get(), std::string(name).c_str(),
                               O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0755));
  if (!fd) {
    return base::sys_error("create the heredoc script `{}`", path);
  }
  MYDOCKER_TRY_CTX(base::write_all(fd.get(), text), "write the heredoc script `{}`", path);
  if (::fchmod(fd.get(), 0755) < 0) {
    return base::sys_error("chmod `{}`", path);
  }
  return base::ok();
}

base::Result<void> BuildRun::dispatch_run(Stage& st, const df::RunCmd& cmd) {
  if (st.image_id.empty()) {
    return make_error(ErrorCode::InvalidArgument,
                      "Please provide a source image with `from` prior to run");
  }
  auto plan = MYDOCKER_TRY(df::plan_run(cmd.cmd, shell_of(st.state.config)));
  // A `#!` heredoc runs as an executable file, its interpreter chosen by the kernel, as
  // BuildKit runs it. BuildKit mounts the file read-only at /dev/pipes/<name>; /dev is the
  // runtime's tmpfs here, so the file goes into the container's own layer, in a directory the
  // commit leaves out.
  std::string script_path;
  if (!plan.script_path.empty()) {
    script_path =
        std::string(kScriptDir) + "/" + plan.script_path.substr(plan.script_path.rfind('/') + 1);
    std::replace(plan.args.begin(), plan.args.end(), plan.script_path, script_path);
  }
  if (!cmd.mounts.empty()) {
    return make_error(ErrorCode::NotImplemented,
                      "the --mount option requires BuildKit. Refer to "
                      "https://docs.docker.com/go/buildkit/ to learn how to build images with "
                      "BuildKit enabled");
  }
  df::Env run_args = st.scope->run_args();
  RunStep rs = plan_run_step(st.state, std::move(plan.args), run_args, st.declared);
  std::string network =
      cmd.network.empty() || cmd.network == "default" ? req_.network_mode : cmd.network;
  std::string parent = st.image_id;
  std::string key = "run\n" + json(rs.save_cmd).dump() + "\n" + state_text(st.state) + "\n" +
                    network + "\n" + cmd.security;
  if (!script_path.empty()) {
    key += "\nscript\n" + plan.script;
  }
  if (probe(st, key)) {
    return base::ok();
  }
  MYDOCKER_TRY(need_overlay());

  CreateRequest cr;
  cr.config.image = st.image_id;
  cr.config.cmd = rs.cmd;
  cr.config.entrypoint = std::vector<std::string>{""};
  cr.config.env = rs.env;
  cr.config.user = st.state.config.user;
  cr.config.working_dir = st.state.config.working_dir;
  cr.config.labels = st.state.config.labels;
  cr.host_config.log_type = "none";
  if (!network.empty()) {
    cr.host_config.network_mode = network;
  }
  if (cmd.security == "insecure") {
    cr.host_config.privileged = true;
  }
  if (!req_.extra_hosts.empty()) {
    cr.host_config.extra["ExtraHosts"] = req_.extra_hosts;
  }
  const BuildRequest::Resources& res = req_.resources;
  cr.host_config.memory = res.memory;
  cr.host_config.memory_swap = res.memory_swap;
  cr.host_config.cpu_shares = res.cpu_shares;
  cr.host_config.cpu_period = res.cpu_period;
  cr.host_config.cpu_quota = res.cpu_quota;
  cr.host_config.cpuset_cpus = res.cpuset_cpus;
  cr.host_config.cpuset_mems = res.cpuset_mems;
  cr.host_config.cgroup_parent = res.cgroup_parent;
  cr.host_config.shm_size = res.shm_size;
  if (!res.ulimits.empty()) {
    cr.host_config.ulimits = res.ulimits;
    cr.host_config.ulimits_set = true;
  }
  auto created = MYDOCKER_TRY(daemon_.create(std::move(cr)));
  const std::string id = created.id;
  for (const auto& w : created.warnings) {
    emit(" ---> [Warning] " + w + "\n");
  }
  emit(" ---> Running in " + short_id(id) + "\n");
  // moby's dispatch: the step's container goes after a success (rm) or always (forcerm); a
  // cancelled build removes it in any case.
  bool ok = false;
  base::ScopeExit cleanup([&] {
    if (gone_) {
      remove_container(id, false);
    } else if (req_.force_remove || (ok && req_.remove)) {
      remove_container(id, true);
    }
  });
  if (!script_path.empty()) {
    MYDOCKER_TRY(write_script(id, script_path, plan.script));
  }
  int64_t code = MYDOCKER_TRY(run_container(id));
  if (code != 0) {
    if (failed_exit_code_ != nullptr) {
      *failed_exit_code_ = code;
    }
    return make_error(ErrorCode::Internal, "{}", run_failed_message(rs.cmd, code));
  }
  auto info = MYDOCKER_TRY(daemon_.inspect(id, false));
  auto upper = info.graph_driver_data.find("UpperDir");
  if (upper == info.graph_driver_data.end()) {
    return make_error(ErrorCode::FailedPrecondition,
                      "container {} has no overlay upper dir to commit", id);
  }
  CommitSpec spec;
  spec.created_by = base::join(rs.save_cmd, " ");
  spec.container_config = std::move(rs.container_config);
  spec.container = id;
  spec.changes_dir = upper->second;
  spec.exclude = kRuntimeMounts;
  spec.exclude.insert(std::string(kScriptDir));
  // The image's volumes are anonymous volumes in Docker's RUN containers: what a RUN writes
  // there is not committed.
  for (const auto& v : st.state.config.volumes) {
    spec.exclude.insert(v);
  }
  auto image = MYDOCKER_TRY(commit(st, std::move(spec)));
  record(parent, key, image);
  ok = true;
  return base::ok();
}

base::Result<void> BuildRun::dispatch_copy(Stage& st, const df::Instruction& ins) {
  const auto* copy = ins.as<df::CopyCmd>();
  const auto* add = ins.as<df::AddCmd>();
  const df::SourcesAndDest& paths = copy ? copy->paths : add->paths;
  const std::string name = copy ? "COPY" : "ADD";
  const std::string chown = copy ? copy->chown : add->chown;
  const std::string chmod = copy ? copy->chmod : add->chmod;
  const std::string from = copy ? copy->from : "";
  std::optional<uint32_t> mode;
  if (!chmod.empty()) {
    bool octal =
        std::all_of(chmod.begin(), chmod.end(), [](char c) { return c >= '0' && c <= '7'; });
    if (!octal || chmod.size() > 4) {
      return make_error(ErrorCode::InvalidArgument, "invalid chmod parameter: {}", chmod);
    }
    mode = static_cast<uint32_t>(std::stoul(chmod, nullptr, 8));
  }
  bool wildcard = false;
  for (const auto& s : paths.sources) {
    wildcard = wildcard || (!is_url(s) && has_wildcard(s));
  }
  // moby's createCopyInstruction: several sources (after matching) need a directory.
  auto check_dest = [&](size_t sources) -> base::Result<void> {
    if (sources > 1 && !paths.dest.ends_with("/")) {
      return make_error(ErrorCode::InvalidArgument,
                        "When using {} with more than one source file, the destination must be "
                        "a directory and end with a /",
                        name);
    }
    return base::ok();
  };
  std::string flags;
  if (!chown.empty()) {
    flags += "--chown=" + chown + " ";
  }
  if (!chmod.empty()) {
    flags += "--chmod=" + chmod + " ";
  }

  // COPY --from: a stage (by name or index) or an image. Its key is the source image's ID, so
  // a cached step needs no mount of it.
  std::string from_image;
  bool from_set = !from.empty();
  if (from_set) {
    bool found = false;
    for (size_t j = 0; j < st.index; ++j) {
      if (results_[j].built && !df_.stages[j].name.empty() && df_.stages[j].name == lower(from)) {
        from_image = results_[j].image_id;
        found = true;
        break;
      }
    }
    if (!found) {
      if (auto ix = base::parse_int64(from)) {
        if (*ix == static_cast<int64_t>(st.index)) {
          return make_error(ErrorCode::InvalidArgument,
                            "invalid from flag value {}: refers to current build stage", from);
        }
        if (*ix < 0 || *ix > static_cast<int64_t>(st.index) ||
            !results_[static_cast<size_t>(*ix)].built) {
          return make_error(ErrorCode::InvalidArgument,
                            "invalid from flag value {}: index out of bounds", from);
        }
        from_image = results_[static_cast<size_t>(*ix)].image_id;
        found = true;
      }
    }
    if (!found) {
      auto base = resolve_image(from, req_.platform, false);
      if (!base) {
        return std::move(base).error().wrap(fmt::format("invalid from flag value {}", from));
      }
      from_image = base->id;
    }
  }

  // Sources from the context (or downloads, heredocs): their checksums make the key and the
  // history text, as moby's "file:<hash>" / "dir:<hash>" / "multi:<hash>".
  std::vector<std::string> hashes;
  std::vector<std::string> matched;
  std::vector<Download> downloads;
  std::unique_ptr<std::string, void (*)(std::string*)> tmp(nullptr, [](std::string* p) {
    (void)base::remove_all(*p);
    delete p;
  });
  auto tmp_dir = [&]() -> base::Result<std::string> {
    if (!tmp) {
      std::string dir = work_dir_ + "/src-" + names::generate_id().substr(0, 24);
      MYDOCKER_TRY(base::mkdir_all(dir, 0700));
      tmp.reset(new std::string(dir));
    }
    return *tmp;
  };
  auto add_hash = [&](const SourceTree& tree, const std::string& path) -> base::Result<void> {
    std::string sum = MYDOCKER_TRY(tree.checksum(path));
    if (auto colon = sum.find(':'); colon != std::string::npos) {
      sum = sum.substr(colon + 1);
    }
    struct stat sb {};
    std::string full = path.empty() || path == "." ? tree.root() : tree.root() + "/" + path;
    bool dir = ::lstat(full.c_str(), &sb) == 0 && S_ISDIR(sb.st_mode);
    hashes.push_back((dir ? "dir:" : "file:") + sum);
    return base::ok();
  };
  if (!from_set) {
    for (const auto& s : paths.sources) {
      if (is_url(s)) {
        if (copy) {
          return make_error(ErrorCode::InvalidArgument, "source can't be a URL for COPY");
        }
        std::string dir = MYDOCKER_TRY(tmp_dir());
        // moby's downloadSource: "Downloading" progress in the build's stream.
        Download d = MYDOCKER_TRY(download(s, dir, [this](int64_t current, int64_t total) {
          if (gone_ || req_.quiet || !req_.output) {
            return;
          }
          image::registry::ProgressEvent e;
          e.status = "Downloading";
          e.current = current;
          e.total = total;
          BuildOutput o;
          o.pull = &e;
          if (!req_.output(o)) {
            gone_ = true;
          }
        }));
        std::string sum = d.checksum;
        if (auto colon = sum.find(':'); colon != std::string::npos) {
          sum = sum.substr(colon + 1);
        }
        hashes.push_back("file:" + sum);
        downloads.push_back(std::move(d));
        continue;
      }
      auto m = MYDOCKER_TRY(ctx_.match(s));
      for (const auto& p : m) {
        MYDOCKER_TRY(add_hash(ctx_, p));
        matched.push_back(p);
      }
    }
  }
  for (const auto& c : paths.contents) {
    hashes.push_back("file:" + std::string(image::Digest::sha256_of(c.data).hex()));
  }
  if (!from_set) {
    MYDOCKER_TRY(check_dest(matched.size() + downloads.size() + paths.contents.size()));
  }
  std::string src_hash;
  auto joined_hash = [&] {
    if (hashes.size() == 1) {
      return hashes[0];
    }
    return "multi:" + std::string(image::Digest::sha256_of(base::join(hashes, ",")).hex());
  };

  std::string parent = st.image_id;
  std::string key;
  if (from_set) {
    key = "copy-from\n" + name + " " + flags + from_image + " " + json(paths.sources).dump() + " " +
          paths.dest + "\n" + state_text(st.state);
  } else {
    src_hash = joined_hash();
    key = "copy\n" + name + " " + flags + src_hash + " in " + paths.dest + "\n" +
          state_text(st.state);
  }
  if (probe(st, key)) {
    return base::ok();
  }
  MYDOCKER_TRY(need_overlay());
  auto top = MYDOCKER_TRY(top_layer(st.image_id));
  auto scratch = MYDOCKER_TRY(Scratch::open(snaps_, work_dir_, top));
  CopyOptions opts;
  if (!chown.empty()) {
    opts.owner = MYDOCKER_TRY_CTX(resolve_chown(scratch->rootfs(), chown),
                                  "unable to convert uid/gid chown string to host mapping");
  }
  opts.mode = mode;
  // moby's dispatchCopy: COPY --from without --chown keeps the source's owners.
  opts.keep_owner = from_set && chown.empty();
  opts.unpack_archives = add != nullptr && (!add->unpack || *add->unpack);
  opts.workdir = st.state.config.working_dir.empty() ? "/" : st.state.config.working_dir;

  std::unique_ptr<Scratch> source;
  if (from_set) {
    std::unique_ptr<SourceTree> tree;
    if (from_image.empty()) {
      std::string dir = MYDOCKER_TRY(tmp_dir());  // a `scratch` stage: nothing to copy
      tree = open_tree(dir);
    } else {
      auto from_top = MYDOCKER_TRY(top_layer(from_image));
      source = MYDOCKER_TRY(Scratch::open(snaps_, work_dir_, from_top));
      tree = open_tree(source->rootfs());
    }
    for (const auto& s : paths.sources) {
      auto m = MYDOCKER_TRY(tree->match(s));
      for (const auto& p : m) {
        MYDOCKER_TRY(add_hash(*tree, p));
        matched.push_back(p);
      }
    }
    MYDOCKER_TRY(check_dest(matched.size() + paths.contents.size()));
    src_hash = joined_hash();
    if (!matched.empty()) {
      MYDOCKER_TRY(copy_sources(*tree, matched, wildcard, scratch->rootfs(), paths.dest, opts));
    }
  } else if (!matched.empty()) {
    MYDOCKER_TRY(copy_sources(ctx_, matched, wildcard, scratch->rootfs(), paths.dest, opts));
  }
  for (const auto& d : downloads) {
    MYDOCKER_TRY(copy_download(d, scratch->rootfs(), paths.dest, opts));
  }
  if (!paths.contents.empty()) {
    std::string dir = MYDOCKER_TRY(tmp_dir()) + "/heredocs";
    MYDOCKER_TRY(base::mkdir_all(dir, 0700));
    std::vector<std::string> names;
    for (const auto& c : paths.contents) {
      MYDOCKER_TRY(base::write_file(dir + "/" + c.path, c.data, O_CREAT | O_EXCL));
      names.push_back(c.path);
    }
    auto tree = open_tree(dir);
    MYDOCKER_TRY(copy_sources(*tree, names, matched.size() + downloads.size() + names.size() > 1,
                              scratch->rootfs(), paths.dest, opts));
  }
  source.reset();
  MYDOCKER_TRY(scratch->unmount());

  std::string comment = name + " " + flags + src_hash + " in " + paths.dest + " ";
  RunConfig cc = comment_config(st.state.config, comment, true);
  CommitSpec spec;
  spec.created_by = base::join(*cc.cmd, " ");
  spec.container_config = std::move(cc);
  spec.changes_dir = scratch->changes();
  auto image = MYDOCKER_TRY(commit(st, std::move(spec)));
  scratch.reset();
  record(parent, key, image);
  return base::ok();
}

// The stages the target needs: itself, the stages its FROM names and those its COPY --from
// names, transitively. A --from that needs expansion may name any earlier stage: all are kept.
std::vector<bool> needed_stages(const df::Dockerfile& d, size_t target, const df::Env& meta) {
  std::vector<bool> need(d.stages.size(), false);
  need[target] = true;
  auto stage_index = [&](size_t before, const std::string& name) -> std::optional<size_t> {
    std::string n = lower(name);
    for (size_t j = 0; j < before; ++j) {
      if (!d.stages[j].name.empty() && d.stages[j].name == n) {
        return j;
      }
    }
    return std::nullopt;
  };
  df::LexOptions lex;
  lex.escape = d.escape;
  for (size_t i = target + 1; i-- > 0;) {
    if (!need[i]) {
      continue;
    }
    auto base = df::expand_word(d.stages[i].base, meta, lex);
    if (base) {
      if (auto j = stage_index(i, *base)) {
        need[*j] = true;
      }
    }
    for (const auto& ins : d.stages[i].commands) {
      const auto* c = ins.as<df::CopyCmd>();
      if (c == nullptr || c->from.empty()) {
        continue;
      }
      if (c->from.find('$') != std::string::npos) {
        for (size_t j = 0; j < i; ++j) {
          need[j] = true;
        }
      } else if (auto j = stage_index(i, c->from)) {
        need[*j] = true;
      } else if (auto ix = base::parse_int64(c->from);
                 ix && *ix >= 0 && static_cast<size_t>(*ix) < i) {
        need[static_cast<size_t>(*ix)] = true;
      }
    }
  }
  return need;
}

base::Result<std::string> BuildRun::run(size_t target) {
  for (const auto& [k, v] : req_.build_args) {
    if (v) {
      build_args_[k] = *v;
    }
  }
  meta_ = MYDOCKER_TRY(df::resolve_meta_args(df_, build_args_));
  for (const auto& [k, v] : req_.labels) {
    df::Instruction ins;
    ins.keyword = "LABEL";
    df::LabelCmd l;
    l.labels.push_back({k, v});
    ins.cmd = std::move(l);
    ins.original = "LABEL " + k + "=" + v;
    label_steps_.push_back(std::move(ins));
  }
  std::vector<bool> need = needed_stages(df_, target, meta_);
  size_t total = df_.meta_args.size() + label_steps_.size();
  for (size_t i = 0; i <= target; ++i) {
    if (need[i]) {
      total += 1 + df_.stages[i].commands.size();
    }
  }
  if (!df_.warnings.empty()) {
    std::vector<std::string> lines;
    for (const auto& w : df_.warnings) {
      lines.push_back("[WARNING]: " + w.message);
    }
    emit_stderr(base::join(lines, "\n") + "\n");
  }
  size_t step = 1;
  auto print_step = [&](const std::string& text) {
    emit(fmt::format("Step {}/{} : {}", step++, total, text));
    emit("\n");
  };
  for (const auto& ins : df_.meta_args) {
    print_step(ins.original);
  }
  results_.assign(df_.stages.size(), StageResult{});
  std::string final_id;
  for (size_t i = 0; i <= target; ++i) {
    if (!need[i]) {
      continue;
    }
    const df::Stage& stage = df_.stages[i];
    for (size_t j = 0; j < i; ++j) {
      if (results_[j].built && !stage.name.empty() && df_.stages[j].name == stage.name) {
        return make_error(ErrorCode::InvalidArgument, "{} stage name already used", stage.name);
      }
    }
    Stage st;
    st.index = i;
    print_step(stage.source);
    MYDOCKER_TRY(begin_stage(st, stage));
    emit(" ---> " + short_id(st.image_id) + "\n");
    std::vector<const df::Instruction*> steps;
    for (const auto& ins : stage.commands) {
      steps.push_back(&ins);
    }
    if (i == target) {
      for (const auto& ins : label_steps_) {
        steps.push_back(&ins);
      }
    }
    size_t first_label = stage.commands.size();
    for (size_t k = 0; k < steps.size(); ++k) {
      if (!alive()) {
        emit("Build cancelled\n");
        return cancelled();
      }
      print_step(steps[k]->original);
      auto t0 = std::chrono::steady_clock::now();
      size_t hits_before = hits_;
      auto r = dispatch(st, *steps[k], k < first_label);
      ++steps_;
      spdlog::debug("build step {}: {} ({}{} us)", step - 1, steps[k]->original,
                    hits_ > hits_before ? "cached, " : "",
                    std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::steady_clock::now() - t0)
                        .count());
      if (!r) {
        if (gone_) {
          return cancelled();
        }
        return std::move(r).error();
      }
      emit(" ---> " + short_id(st.image_id) + "\n");
    }
    if (!st.image_id.empty() && !req_.quiet && req_.output && !gone_) {
      BuildOutput o;
      o.aux_id = st.image_id;
      if (!req_.output(o)) {
        gone_ = true;
      }
    }
    results_[i] = StageResult{true, st.image_id};
    final_id = st.image_id;
  }
  auto unused = df::unused_build_args(df_, [&] {
    df::Env all;
    for (const auto& [k, v] : req_.build_args) {
      all[k] = v.value_or("");
    }
    return all;
  }());
  if (!unused.empty()) {
    std::sort(unused.begin(), unused.end());
    emit(fmt::format("[Warning] One or more build-args {} were not consumed\n", go_list(unused)));
  }
  if (final_id.empty()) {
    return make_error(ErrorCode::InvalidArgument,
                      "No image was generated. Is your Dockerfile empty?");
  }
  if (!alive()) {
    return cancelled();
  }
  return final_id;
}

}  // namespace

// One thread that destroys what it is given, in order; joined by the Builder's destructor.
class Builder::Reaper {
 public:
  Reaper() : thread_([this] { loop(); }) {}
  ~Reaper() {
    {
      std::lock_guard lk(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  void later(std::unique_ptr<Context> ctx) {
    {
      std::lock_guard lk(mu_);
      queue_.push_back(std::move(ctx));
    }
    cv_.notify_one();
  }

 private:
  void loop() {
    std::unique_lock lk(mu_);
    for (;;) {
      cv_.wait(lk, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) {
        return;  // stop_, and nothing left to delete
      }
      auto ctx = std::move(queue_.front());
      queue_.pop_front();
      lk.unlock();
      ctx.reset();
      lk.lock();
    }
  }
  std::mutex mu_;  // guards queue_, stop_
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Context>> queue_;
  bool stop_ = false;
  std::thread thread_;
};

Builder::Builder(Daemon& daemon, image::layers::Snapshotter& snapshots, Cache& cache,
                 std::string work_dir)
    : reaper_(std::make_unique<Reaper>()),
      daemon_(daemon),
      snapshots_(snapshots),
      cache_(cache),
      work_dir_(std::move(work_dir)) {}

Builder::~Builder() = default;

base::Result<void> Builder::clean_work_dir(const std::string& work_dir) {
  std::error_code ec;
  for (const auto& de : std::filesystem::directory_iterator(work_dir, ec)) {
    std::string path = de.path().string();
    if (de.path().filename().string().starts_with("mnt-")) {
      // Never delete through a mount that outlived its daemon.
      for (int i = 0; i < 16 && ::umount2(path.c_str(), MNT_DETACH) == 0; ++i) {
      }
    }
    MYDOCKER_TRY(base::remove_all(path));
  }
  return base::mkdir_all(work_dir, 0700);
}

base::Result<BuildResult> Builder::build(const BuildRequest& req, int64_t* failed_exit_code) {
  // Docker's sanitizeRepoAndTags, before anything else.
  std::vector<Reference> tags;
  for (const auto& t : req.tags) {
    auto ref = MYDOCKER_TRY(Reference::parse(t));
    if (ref.has_digest()) {
      return make_error(ErrorCode::InvalidArgument, "build tag cannot contain a digest");
    }
    ref = ref.with_default_tag();
    if (std::find(tags.begin(), tags.end(), ref) == tags.end()) {
      tags.push_back(std::move(ref));
    }
  }
  if (req.context == nullptr) {
    return make_error(ErrorCode::InvalidArgument, "the build has no context");
  }
  using Clock = std::chrono::steady_clock;
  auto ms = [](Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
  };
  auto t_start = Clock::now();
  MYDOCKER_TRY(base::mkdir_all(work_dir_, 0700));
  std::string dir = work_dir_ + "/ctx-" + names::generate_id().substr(0, 24);
  auto ctx = MYDOCKER_TRY(Context::receive(*req.context, dir));
  auto t_context = Clock::now();
  uint64_t context_bytes = ctx->bytes();
  std::string text =
      MYDOCKER_TRY(ctx->dockerfile(req.dockerfile.empty() ? "Dockerfile" : req.dockerfile));
  auto dockerfile = MYDOCKER_TRY(df::parse_dockerfile(text));
  if (dockerfile.stages.empty()) {
    return make_error(ErrorCode::InvalidArgument,
                      "dockerfile parse error line 1: file with no instructions");
  }
  size_t target = dockerfile.stages.size() - 1;
  if (!req.target.empty()) {
    std::string want = lower(req.target);
    bool found = false;
    for (size_t i = 0; i < dockerfile.stages.size(); ++i) {
      if (dockerfile.stages[i].name == want) {
        target = i;
        found = true;
        break;
      }
    }
    if (!found) {
      return make_error(ErrorCode::InvalidArgument, "failed to reach build target {} in Dockerfile",
                        req.target);
    }
  }

  BuildRun run(daemon_, snapshots_, cache_, work_dir_, req, *ctx, dockerfile, failed_exit_code);
  std::string id = MYDOCKER_TRY(run.run(target));
  auto t_steps = Clock::now();
  reaper_->later(std::move(ctx));

  auto emit = [&](std::string line) {
    if (!req.quiet && req.output) {
      BuildOutput o;
      o.stream = std::move(line);
      (void)req.output(o);
    }
  };
  emit("Successfully built " + short_id(id) + "\n");
  auto image_id = MYDOCKER_TRY(ImageId::parse(id));
  auto& store = daemon_.images().images();
  BuildResult result;
  result.image_id = id;
  for (const auto& ref : tags) {
    auto current = store.lookup_reference(ref);
    if (!current || !(*current == image_id)) {
      MYDOCKER_TRY(store.tag(image_id, ref));
      Event e;
      e.type = "image";
      e.action = "tag";
      e.actor_id = id;
      e.attributes["name"] = ref.familiar();
      daemon_.publish(std::move(e));
    }
    emit("Successfully tagged " + ref.familiar() + "\n");
    result.tags.push_back(ref.familiar());
  }
  auto t_end = Clock::now();
  spdlog::info(
      "build {}: context {} bytes in {:.1f} ms, {} steps ({} cached) in {:.1f} ms, "
      "tagged in {:.1f} ms, total {:.1f} ms",
      short_id(id), context_bytes, ms(t_start, t_context), run.steps(), run.hits(),
      ms(t_context, t_steps), ms(t_steps, t_end), ms(t_start, t_end));
  return result;
}

base::Result<BuildPruneResult> Builder::prune(const BuildPruneOptions& options) {
  static const std::set<std::string> kKnown = {"until",   "unused-for",  "id",     "parent",
                                               "type",    "description", "inuse",  "shared",
                                               "private", "label",       "label!", "mutable"};
  for (const auto& [k, v] : options.filters) {
    if (kKnown.count(k) == 0) {
      return make_error(ErrorCode::InvalidArgument, "Invalid filter '{}'", k);
    }
  }
  for (const auto& [k, v] : options.filters) {
    if (v.size() > 1) {
      return make_error(ErrorCode::InvalidArgument, "filters expect only one value");
    }
  }
  auto one = [&](const std::string& k) -> std::string {
    auto it = options.filters.find(k);
    return it == options.filters.end() || it->second.empty() ? "" : it->second[0];
  };
  // moby's toBuildkitPruneInfo: `unused-for` is the old name of `until`, the time since the
  // entry's last use.
  if (options.filters.count("until") != 0 && options.filters.count("unused-for") != 0) {
    return make_error(ErrorCode::InvalidArgument,
                      "conflicting filters: \"until\" and \"unused-for\"");
  }
  int64_t keep_for = 0;  // seconds: entries used within them are kept
  for (const char* k : {"until", "unused-for"}) {
    std::string v = one(k);
    if (v.empty()) {
      continue;
    }
    auto d = df::parse_go_duration(v);
    if (!d) {
      return make_error(ErrorCode::InvalidArgument,
                        "\"{}\" filter expects a duration (e.g., '24h'): {}", k,
                        d.error().message());
    }
    keep_for = *d / 1000000000;
  }
  std::string want_id = one("id");
  std::string want_parent = one("parent");
  struct timespec now {};
  ::clock_gettime(CLOCK_REALTIME, &now);

  auto& store = daemon_.images().images();
  // Without `all`, steps of tagged images stay cached: an image with a name, and every image
  // under one.
  std::set<std::string> kept_images;
  if (!options.all) {
    for (const auto& rec : store.images()) {
      if (rec.refs.empty()) {
        continue;
      }
      std::string id = rec.id.str();
      while (!id.empty() && kept_images.insert(id).second) {
        auto r = store.get(id);
        id = r ? r->parent : "";
      }
    }
  }
  // The layer a step added (none for a metadata step): what removing its image frees.
  auto step_size = [&](const Cache::Entry& e) -> int64_t {
    auto rec = store.get(e.image);
    if (!rec || rec->config.rootfs.diff_ids.empty()) {
      return 0;
    }
    size_t below = 0;
    if (!e.parent.empty()) {
      if (auto p = store.get(e.parent)) {
        below = p->config.rootfs.diff_ids.size();
      }
    }
    if (rec->config.rootfs.diff_ids.size() <= below) {
      return 0;
    }
    auto layer =
        daemon_.images().layers().get(image::chain_ids(rec->config.rootfs.diff_ids).back());
    return layer ? static_cast<int64_t>(layer->size) : 0;
  };
  // BuildKit's prune: the filters pick the entries; keep-storage then removes the least
  // recently used of them while the cache (what is not kept anyway) is above it.
  struct Candidate {
    Cache::Entry entry;
    int64_t size = 0;
  };
  std::vector<Candidate> picked;
  int64_t total = 0;
  for (auto& e : cache_.list()) {
    if (!options.all && kept_images.count(e.image) != 0) {
      continue;
    }
    int64_t size = options.keep_storage > 0 ? step_size(e) : 0;
    total += size;
    if ((!want_id.empty() && e.id.find(want_id) == std::string::npos) ||
        (!want_parent.empty() && e.parent != want_parent) ||
        (keep_for > 0 && e.last_used > now.tv_sec - keep_for)) {
      continue;
    }
    picked.push_back({std::move(e), size});
  }
  std::set<std::string> doomed;
  if (options.keep_storage > 0) {
    std::stable_sort(picked.begin(), picked.end(), [](const auto& a, const auto& b) {
      return a.entry.last_used < b.entry.last_used;
    });
  }
  for (const auto& c : picked) {
    if (options.keep_storage > 0) {
      if (total <= options.keep_storage) {
        break;
      }
      total -= c.size;
    }
    doomed.insert(c.entry.id);
  }
  auto removed = MYDOCKER_TRY(
      cache_.remove_if([&](const Cache::Entry& e) { return doomed.count(e.id) != 0; }));

  BuildPruneResult out;
  std::set<std::string> still_cached;
  for (const auto& e : cache_.list()) {
    still_cached.insert(e.image);
  }
  std::vector<std::string> candidates;
  for (const auto& e : removed) {
    out.caches_deleted.push_back(e.id);
    if (still_cached.count(e.image) == 0) {
      candidates.push_back(e.image);
    }
  }
  // Children first: an image goes once nothing is built on it any more.
  bool progress = true;
  while (progress) {
    progress = false;
    for (auto& id : candidates) {
      if (id.empty()) {
        continue;
      }
      auto parsed = ImageId::parse(id);
      auto rec =
          parsed ? store.get(*parsed)
                 : base::Result<image::store::ImageRecord>(make_error(ErrorCode::NotFound, "gone"));
      if (!rec) {
        id.clear();
        continue;
      }
      if (!rec->refs.empty() || !store.children(*parsed).empty()) {
        continue;
      }
      std::map<std::string, int64_t> sizes;
      if (!rec->config.rootfs.diff_ids.empty()) {
        for (const auto& c : image::chain_ids(rec->config.rootfs.diff_ids)) {
          if (auto l = daemon_.images().layers().get(c)) {
            sizes[c.str()] = static_cast<int64_t>(l->size);
          }
        }
      }
      auto gone = daemon_.images().remove(id, false, false);
      std::string was = id;
      id.clear();
      if (!gone) {
        continue;  // used by a container, or removed meanwhile: kept
      }
      progress = true;
      for (const auto& item : *gone) {
        if (auto s = sizes.find(item.deleted); s != sizes.end()) {
          out.space_reclaimed += s->second;
        }
      }
    }
  }
  return out;
}

}  // namespace mydocker::engine::build
