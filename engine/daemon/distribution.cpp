// SPDX-License-Identifier: Apache-2.0
// LocalDaemon's registry work: pull (through mirrors), push, login and distribution inspect
// with the daemon's registry options, and the bookkeeping that lets shutdown() cancel the
// running jobs and wait for them before the image store is destroyed.
#include "engine/daemon/local_daemon_impl.h"
#include "image/content/manifest.h"
#include "image/registry/mirrors.h"

namespace mydocker::engine::detail {

image::registry::RegistryOptions LocalDaemon::registry_options(
    const std::optional<image::registry::Credentials>& credentials) const {
  image::registry::RegistryOptions o = opts_.registry;
  if (credentials && !credentials->empty()) {
    o.credentials = [c = *credentials](const std::string&) { return std::optional(c); };
  } else {
    o.credentials = nullptr;
  }
  return o;
}

base::Result<void> LocalDaemon::begin_registry_job() {
  std::lock_guard lk(registry_mu_);
  if (registry_closed_ || stopping_) {
    return unavailable();
  }
  ++registry_jobs_;
  return base::ok();
}

void LocalDaemon::end_registry_job() {
  std::lock_guard lk(registry_mu_);
  --registry_jobs_;
  registry_cv_.notify_all();
}

void LocalDaemon::stop_registry_jobs() {
  std::unique_lock lk(registry_mu_);
  registry_closed_ = true;
  if (registry_jobs_ > 0) {
    spdlog::info("shutdown: cancelling {} running pull/push job(s)", registry_jobs_);
  }
  // The jobs poll stopping_ (set before this) between blocks, so they end soon.
  registry_cv_.wait(lk, [&] { return registry_jobs_ == 0; });
}

namespace {

// Cancellation shared by a job's threads: the daemon stopping, the sink refusing a message,
// or the client gone.
struct JobControl {
  const std::atomic<bool>& stopping;
  const std::function<bool()>& client_alive;
  std::atomic<bool> gone{false};
  bool cancelled() {
    if (stopping || gone) {
      return true;
    }
    if (client_alive && !client_alive()) {
      gone = true;
    }
    return gone;
  }
};

// Hooks a pull's or push's options to `ctl`: the client's progress sink until it refuses a
// message (the job then stops at its next cancellation check), and the job's cancellation.
template <typename Options, typename Request>
void watch_job(Options& po, JobControl& ctl, const Request& req) {
  if (req.progress) {
    po.progress = [&ctl, &req](const image::registry::ProgressEvent& e) {
      if (!ctl.gone && !req.progress(e)) {
        ctl.gone = true;
      }
    };
  }
  po.cancelled = [&ctl] { return ctl.cancelled(); };
}

}  // namespace

base::Result<image::registry::PullResult> LocalDaemon::pull(const PullRequest& req) {
  MYDOCKER_TRY(begin_registry_job());
  base::ScopeExit done([this] { end_registry_job(); });
  JobControl ctl{stopping_, req.client_alive};
  image::registry::PullOptions po;
  if (req.platform) {
    po.platform = *req.platform;
    po.platform_required = true;
  }
  watch_job(po, ctl, req);
  image::reference::Reference ref = req.ref.with_default_tag();
  auto r = image::registry::pull_with_mirrors(*images_, registry_options(req.credentials), ref, po);
  if (!r) {
    if (r.error().code() == ErrorCode::Cancelled && stopping_) {
      return unavailable();
    }
    return std::move(r).error();
  }
  emit_image(ref.familiar(), ref.name_only().familiar(), "pull");
  return r;
}

base::Result<image::registry::PushResult> LocalDaemon::push(const PushRequest& req) {
  MYDOCKER_TRY(begin_registry_job());
  base::ScopeExit done([this] { end_registry_job(); });
  JobControl ctl{stopping_, req.client_alive};
  image::registry::PushOptions po;
  watch_job(po, ctl, req);
  image::reference::Reference ref = req.ref.with_default_tag();
  image::registry::Client client(ref.domain(), registry_options(req.credentials));
  auto r = image::registry::push(*images_, client, ref, po);
  if (!r) {
    if (r.error().code() == ErrorCode::Cancelled && stopping_) {
      return unavailable();
    }
    return std::move(r).error();
  }
  emit_image(ref.familiar(), ref.name_only().familiar(), "push");
  return r;
}

base::Result<void> LocalDaemon::login(const std::string& server,
                                      const image::registry::Credentials& credentials) {
  MYDOCKER_TRY(begin_registry_job());
  base::ScopeExit done([this] { end_registry_job(); });
  std::string host =
      server.empty() ? std::string("docker.io") : image::registry::normalize_registry_host(server);
  image::registry::Client client(host, registry_options(credentials));
  return client.login();
}

namespace {

base::Result<DistributionInfo> inspect_at(image::registry::Client& client,
                                          const image::reference::Reference& ref) {
  std::string repo = ref.path();
  auto m = MYDOCKER_TRY(client.get_manifest(repo, ref.has_digest() ? ref.digest() : ref.tag()));
  DistributionInfo out;
  out.media_type = m.media_type;
  out.digest = m.digest.str();
  out.size = static_cast<int64_t>(m.bytes.size());
  if (image::content::media_type::is_index(m.media_type)) {
    auto index = MYDOCKER_TRY(image::content::Index::parse(m.bytes));
    for (const auto& d : index.manifests) {
      if (d.platform && !d.annotations.contains("vnd.docker.reference.type")) {
        image::registry::PlatformSpec p;
        p.os = d.platform->os;
        p.architecture = d.platform->architecture;
        p.variant = d.platform->variant;
        out.platforms.push_back(p);
      }
    }
  } else {
    auto manifest = MYDOCKER_TRY(image::content::Manifest::parse(m.bytes));
    std::string cfg = MYDOCKER_TRY(client.get_blob(repo, manifest.config.digest));
    auto config = json::parse(cfg, nullptr, false);
    if (!config.is_discarded() && config.is_object()) {
      image::registry::PlatformSpec p;
      p.os = config.value("os", "");
      p.architecture = config.value("architecture", "");
      p.variant = config.value("variant", "");
      out.platforms.push_back(p);
    }
  }
  return out;
}

}  // namespace

// As Docker's GetRepositories: the pull endpoints (mirrors, then the registry) in order.
base::Result<DistributionInfo> LocalDaemon::distribution_inspect(
    const image::reference::Reference& name,
    const std::optional<image::registry::Credentials>& credentials) {
  MYDOCKER_TRY(begin_registry_job());
  base::ScopeExit done([this] { end_registry_job(); });
  image::reference::Reference ref = name.with_default_tag();
  image::registry::RegistryOptions o = registry_options(credentials);
  for (const std::string& raw : image::registry::mirrors_for(ref.domain(), o)) {
    auto mirror = image::registry::normalize_mirror(raw);
    if (!mirror) {
      continue;
    }
    image::registry::Client client(ref.domain(), o, *mirror);
    auto r = inspect_at(client, ref);
    if (r || !image::registry::mirror_fallback(r.error())) {
      return r;
    }
  }
  image::registry::Client client(ref.domain(), o);
  return inspect_at(client, ref);
}

}  // namespace mydocker::engine::detail
