// SPDX-License-Identifier: Apache-2.0
#include "image/registry/pull.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "image/content/image_config.h"
#include "image/content/manifest.h"
#include "image/layers/unpack.h"

namespace mydocker::image::registry {

using base::ErrorCode;
using base::make_error;
using reference::Reference;

namespace {

constexpr int64_t kProgressStep = 512 * 1024;

base::Error cancelled_error() {
  return base::Error(ErrorCode::Cancelled, "pull cancelled");
}

base::Result<void> check_cancelled(const std::function<bool()>& cancelled) {
  if (cancelled && cancelled()) {
    return cancelled_error();
  }
  return base::ok();
}

// Any source, polled for cancellation before each block (a local blob being unpacked).
class CancellableSource final : public layers::ByteSource {
 public:
  CancellableSource(std::unique_ptr<layers::ByteSource> inner,
                    const std::function<bool()>& cancelled)
      : inner_(std::move(inner)), cancelled_(cancelled) {}
  base::Result<size_t> read(std::span<std::byte> buf) override {
    MYDOCKER_TRY(check_cancelled(cancelled_));
    return inner_->read(buf);
  }

 private:
  std::unique_ptr<layers::ByteSource> inner_;
  const std::function<bool()>& cancelled_;
};

// Serialises progress events from the workers.
class Progress {
 public:
  explicit Progress(const ProgressFn& fn) : fn_(fn) {}
  void emit(std::string id, std::string status, int64_t current = -1, int64_t total = -1) {
    if (!fn_) {
      return;
    }
    std::lock_guard lock(mu_);
    fn_(ProgressEvent{std::move(id), std::move(status), current, total});
  }

 private:
  const ProgressFn& fn_;
  std::mutex mu_;
};

// A layer blob from the registry as a ByteSource: every byte also goes into the content
// store's ingest; at the end the blob's size and digest are checked and it is committed, before
// the reader sees end-of-stream (so the layer never commits over a wrong blob). A dropped
// connection resumes from the byte reached.
class BlobSource final : public layers::ByteSource {
 public:
  BlobSource(Client& client, std::string repo, const content::Descriptor& desc,
             content::Writer writer, Progress& progress, int retries,
             std::chrono::milliseconds backoff, const std::function<bool()>& cancelled)
      : client_(client),
        repo_(std::move(repo)),
        desc_(desc),
        writer_(std::move(writer)),
        progress_(progress),
        id_(desc.digest.short_id()),
        retries_(retries),
        backoff_(backoff),
        cancelled_(cancelled) {}

  // Sends the request (so "unknown blob" and auth errors come before any unpacking).
  base::Result<void> open() {
    for (;;) {
      auto s = client_.open_blob(repo_, desc_.digest, got_);
      if (s) {
        stream_ = std::move(*s);
        return base::ok();
      }
      if (is_retryable(s.error()) && retries_-- > 0) {
        wait();
        continue;
      }
      if (got_ > 0) {
        // Resuming failed (e.g. 416: the blob is shorter than its descriptor says).
        return make_error(ErrorCode::InvalidArgument,
                          "filesystem layer verification failed for digest {}: got {} of {} "
                          "bytes: {}",
                          desc_.digest.str(), got_, desc_.size, s.error().message());
      }
      return std::move(s).error();
    }
  }

  base::Result<size_t> read(std::span<std::byte> buf) override {
    if (finished_) {
      return size_t{0};
    }
    for (;;) {
      MYDOCKER_TRY(check_cancelled(cancelled_));
      if (!stream_) {
        MYDOCKER_TRY(open());
      }
      auto n = stream_->read(buf);
      if (!n) {
        if (is_retryable(n.error()) && retries_-- > 0) {
          stream_.reset();
          wait();
          continue;
        }
        return std::move(n).error();
      }
      if (*n == 0) {
        if (desc_.size >= 0 && got_ < desc_.size && retries_-- > 0) {
          stream_.reset();  // closed early: resume
          wait();
          continue;
        }
        stream_.reset();
        MYDOCKER_TRY(finish());
        return size_t{0};
      }
      got_ += static_cast<int64_t>(*n);
      if (desc_.size >= 0 && got_ > desc_.size) {
        corrupt_ = true;
        return make_error(ErrorCode::InvalidArgument,
                          "filesystem layer verification failed for digest {}: more than {} bytes",
                          desc_.digest.str(), desc_.size);
      }
      MYDOCKER_TRY(writer_.write(std::string_view(reinterpret_cast<const char*>(buf.data()), *n)));
      if (got_ - reported_ >= kProgressStep) {
        reported_ = got_;
        progress_.emit(id_, "Downloading", got_, desc_.size);
      }
      return *n;
    }
  }

  int64_t received() const { return got_; }

  // After the unpacker refused the stream: reads the rest of the blob, so a damaged download
  // is reported as what it is (its digest fails, Docker's "filesystem layer verification
  // failed") rather than as the decompressor's complaint. nullopt when the blob is sound.
  std::optional<base::Error> verification_error() {
    std::vector<std::byte> buf(64 * 1024);
    for (;;) {
      auto n = read(buf);
      if (!n) {
        return corrupt_ ? std::optional<base::Error>(std::move(n).error()) : std::nullopt;
      }
      if (*n == 0) {
        return std::nullopt;
      }
    }
  }
  // The content-store writer hashes every byte and the blob commits (digest checked) before
  // the reader sees the end, so the unpacker need not hash the compressed bytes again.
  bool verifies_digest() const override { return true; }

 private:
  void wait() { std::this_thread::sleep_for(backoff_); }

  base::Result<void> finish() {
    finished_ = true;
    if (desc_.size >= 0 && got_ != desc_.size) {
      corrupt_ = true;
      return make_error(ErrorCode::InvalidArgument,
                        "filesystem layer verification failed for digest {}: got {} of {} bytes",
                        desc_.digest.str(), got_, desc_.size);
    }
    progress_.emit(id_, "Verifying Checksum");
    auto d = writer_.commit();
    if (!d) {
      corrupt_ = true;
      return make_error(ErrorCode::InvalidArgument,
                        "filesystem layer verification failed for digest {}", desc_.digest.str());
    }
    progress_.emit(id_, "Download complete");
    return base::ok();
  }

  Client& client_;
  std::string repo_;
  content::Descriptor desc_;
  content::Writer writer_;
  Progress& progress_;
  std::string id_;
  int retries_;
  std::chrono::milliseconds backoff_;
  const std::function<bool()>& cancelled_;
  std::unique_ptr<HttpStream> stream_;
  int64_t got_ = 0;
  int64_t reported_ = 0;
  bool finished_ = false;
  bool corrupt_ = false;  // the bytes failed their size or digest check
};

// Layer i may commit once layer i-1 has (or fails when the pull failed).
class Ladder {
 public:
  explicit Ladder(size_t n) : done_(n, false) {}
  void mark_done(size_t i) {
    std::lock_guard lock(mu_);
    done_[i] = true;
    cv_.notify_all();
  }
  void fail() {
    std::lock_guard lock(mu_);
    failed_ = true;
    cv_.notify_all();
  }
  bool failed() const {
    std::lock_guard lock(mu_);
    return failed_;
  }
  base::Result<void> wait_for(size_t i) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return done_[i] || failed_; });
    if (!done_[i]) {
      return make_error(ErrorCode::Cancelled, "pull aborted");
    }
    return base::ok();
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<bool> done_;
  bool failed_ = false;
};

struct Plan {
  std::string repo;
  std::vector<content::Descriptor> layers;
  std::vector<DiffId> diffs;
  std::vector<ChainId> chains;
  std::vector<bool> present;
};

base::Error pull_error(base::Error e, const Reference& shown) {
  std::string text = e.message();
  switch (e.code()) {
    case ErrorCode::NotFound:
      return base::Error(ErrorCode::NotFound,
                         fmt::format("manifest for {} not found: {}", shown.familiar(), text));
    case ErrorCode::Unauthorized:
    case ErrorCode::PermissionDenied:
      if (text.find("no basic auth credentials") != std::string::npos) {
        return e;
      }
      return base::Error(e.code(),
                         fmt::format("pull access denied for {}, repository does not exist or may "
                                     "require 'docker login': {}",
                                     shown.familiar_name(), text));
    default:
      return e;
  }
}

// One layer: fetch (unless present), verify, unpack, register; holds its reference in `ingest`.
base::Result<void> pull_layer(Images& images, Images::Ingest& ingest, Client& client,
                              const Plan& plan, size_t i, Ladder& ladder, Progress& progress,
                              const RegistryOptions& ropts, const std::function<bool()>& cancelled,
                              size_t* downloaded) {
  const content::Descriptor& desc = plan.layers[i];
  const DiffId& diff = plan.diffs[i];
  std::optional<ChainId> parent;
  if (i > 0) {
    parent = plan.chains[i - 1];
  }
  std::string id(desc.digest.short_id());
  auto& cs = images.content();
  auto& ls = images.layers();
  MYDOCKER_TRY(check_cancelled(cancelled));
  ingest.pin(desc.digest);
  auto local_blob = [&]() -> base::Result<std::unique_ptr<layers::ByteSource>> {
    auto f = MYDOCKER_TRY(layers::FileSource::open(cs.blob_path(desc.digest)));
    return std::unique_ptr<layers::ByteSource>(std::make_unique<CancellableSource>(
        std::make_unique<layers::FileSource>(std::move(f)), cancelled));
  };

  auto from_registry = [&]() -> base::Result<std::unique_ptr<BlobSource>> {
    content::Writer w = MYDOCKER_TRY(cs.ingest(desc.digest, desc.size));
    auto b = std::make_unique<BlobSource>(client, plan.repo, desc, std::move(w), progress,
                                          ropts.retries, ropts.retry_backoff, cancelled);
    MYDOCKER_TRY(b->open());
    ++*downloaded;
    progress.emit(id, "Downloading", 0, desc.size);
    return b;
  };

  if (ls.exists(plan.chains[i])) {
    // The layer is here; the content store still needs its blob (what save serves), and the
    // pair blob -> DiffID must be true, or a later save would serve another layer's bytes.
    if (!cs.exists(desc.digest)) {
      auto src = MYDOCKER_TRY(from_registry());
      layers::UnpackResult r = MYDOCKER_TRY(layers::digest_layer(*src));
      if (r.diff_id != diff) {
        return make_error(ErrorCode::InvalidArgument, "layer diff id mismatch: expected {}, got {}",
                          diff.str(), r.diff_id.str());
      }
      ingest.remember_pair(desc.digest, diff);
    } else if (desc.digest != diff.digest() && !ingest.pair_verified(desc.digest, diff)) {
      auto src = MYDOCKER_TRY(local_blob());
      layers::UnpackResult r = MYDOCKER_TRY(layers::digest_layer(*src));
      if (r.diff_id != diff) {
        return make_error(ErrorCode::InvalidArgument, "layer diff id mismatch: expected {}, got {}",
                          diff.str(), r.diff_id.str());
      }
      ingest.remember_pair(desc.digest, diff);
    }
    MYDOCKER_TRY(ls.retain(plan.chains[i]));
    ingest.hold(plan.chains[i]);
    ladder.mark_done(i);
    return base::ok();
  }

  std::unique_ptr<layers::ByteSource> src;
  BlobSource* remote = nullptr;
  if (cs.exists(desc.digest)) {
    // The blob is here (another image's, or an interrupted pull's): unpack it locally.
    src = MYDOCKER_TRY(local_blob());
  } else {
    auto b = MYDOCKER_TRY(from_registry());
    remote = b.get();
    src = std::move(b);
  }
  std::function<base::Result<void>()> wait_parent = [&]() -> base::Result<void> {
    if (i > 0) {
      MYDOCKER_TRY(ladder.wait_for(i - 1));
    }
    return base::ok();
  };
  auto registered = ls.register_with_diff_id(parent, diff, *src, wait_parent);
  if (!registered) {
    if (remote != nullptr && registered.error().code() == ErrorCode::InvalidArgument) {
      if (auto bad = remote->verification_error()) {
        return *bad;
      }
    }
    return std::move(registered).error();
  }
  layers::RegisterResult reg = std::move(*registered);
  ingest.hold(reg.chain_id);
  if (!reg.unpacked) {
    // Registered by someone else meanwhile: the stream was not read, but the blob must be
    // fetched and checked all the same.
    if (remote != nullptr) {
      layers::UnpackResult r = MYDOCKER_TRY(layers::digest_layer(*src));
      if (r.diff_id != diff) {
        return make_error(ErrorCode::InvalidArgument, "layer diff id mismatch: expected {}, got {}",
                          diff.str(), r.diff_id.str());
      }
    }
  }
  ingest.remember_pair(desc.digest, diff);
  if (remote != nullptr) {
    progress.emit(id, "Extracting", remote->received(), desc.size);
  }
  progress.emit(id, "Pull complete");
  ladder.mark_done(i);
  return base::ok();
}

// Whether an image config is for `want` (the variant only when both name one).
bool config_matches(const content::ImageConfig& config, const PlatformSpec& want) {
  if (config.os != want.os || config.architecture != want.architecture) {
    return false;
  }
  return want.variant.empty() || config.variant.empty() || config.variant == want.variant;
}

}  // namespace

std::string PullResult::status_line() const {
  return up_to_date ? "Status: Image is up to date for " + reference
                    : "Status: Downloaded newer image for " + reference;
}

base::Result<PullResult> pull(Images& images, Client& client, const Reference& input,
                              const PullOptions& options) {
  Reference ref = input.with_default_tag();
  Progress progress(options.progress);
  PullResult result;
  result.reference = ref.familiar();
  std::string reference = ref.has_digest() ? ref.digest() : ref.tag();
  std::string repo = ref.path();

  MYDOCKER_TRY(check_cancelled(options.cancelled));
  // 1. The manifest (through an index when it is one).
  ManifestResponse top = MYDOCKER_TRY([&]() -> base::Result<ManifestResponse> {
    auto m = client.get_manifest(repo, reference);
    if (!m) {
      return pull_error(std::move(m).error(), ref);
    }
    return std::move(*m);
  }());
  progress.emit(ref.has_digest() ? ref.familiar() : ref.tag(), "Pulling from " + repo);
  result.digest = top.digest;
  ManifestResponse platform_manifest = top;
  if (content::media_type::is_index(top.media_type)) {
    content::Index index =
        MYDOCKER_TRY_CTX(content::Index::parse(top.bytes), "manifest list {}", top.digest.str());
    content::Descriptor pick = MYDOCKER_TRY(select_platform(index, options.platform));
    platform_manifest = MYDOCKER_TRY(client.get_manifest(repo, pick.digest.str()));
    if (!content::media_type::is_manifest(platform_manifest.media_type)) {
      return make_error(ErrorCode::InvalidArgument, "manifest {} for {}: unsupported type `{}`",
                        pick.digest.str(), options.platform.str(), platform_manifest.media_type);
    }
  } else if (top.media_type == content::media_type::kDockerManifestV1 ||
             top.media_type == content::media_type::kDockerManifestV1Signed) {
    return make_error(ErrorCode::NotImplemented,
                      "[DEPRECATION NOTICE] Docker Image Format v1 and Docker Image manifest "
                      "version 2, schema 1 support is disabled by default");
  } else if (!content::media_type::is_manifest(top.media_type)) {
    return make_error(ErrorCode::InvalidArgument, "unsupported manifest media type `{}`",
                      top.media_type);
  }
  content::Manifest manifest = MYDOCKER_TRY_CTX(content::Manifest::parse(platform_manifest.bytes),
                                                "manifest {}", platform_manifest.digest.str());

  MYDOCKER_TRY(check_cancelled(options.cancelled));
  auto ingest = images.begin_ingest();
  auto& cs = images.content();

  // 2. The config (verified against the manifest).
  ingest->pin(manifest.config.digest);
  std::string config_bytes;
  if (cs.exists(manifest.config.digest)) {
    config_bytes = MYDOCKER_TRY(cs.read(manifest.config.digest));
  } else {
    config_bytes = MYDOCKER_TRY(client.get_blob(repo, manifest.config.digest));
  }
  content::ImageConfig config = MYDOCKER_TRY_CTX(content::ImageConfig::parse(config_bytes),
                                                 "config {}", manifest.config.digest.str());
  if (config.rootfs.diff_ids.size() != manifest.layers.size()) {
    return make_error(
        ErrorCode::InvalidArgument, "manifest {}: {} layers, but its config has {} diff_ids",
        platform_manifest.digest.str(), manifest.layers.size(), config.rootfs.diff_ids.size());
  }
  if (options.platform_required && !config_matches(config, options.platform)) {
    PlatformSpec actual{config.os, config.architecture, config.variant};
    return make_error(ErrorCode::NotFound,
                      "image with reference {} was found but its platform ({}) does not match "
                      "the specified platform ({})",
                      ref.familiar(), actual.str(), options.platform.str());
  }
  ImageId id(Digest::sha256_of(config_bytes));
  result.id = id;

  // The names this pull gives.
  std::vector<Reference> names;
  if (!ref.has_digest()) {
    names.push_back(ref);
  }
  names.push_back(MYDOCKER_TRY(ref.name_only().with_digest(top.digest.str())));
  bool was_named = false;
  if (ref.has_digest()) {
    was_named = images.images().exists(id);
  } else if (auto old = images.images().lookup_reference(ref)) {
    was_named = *old == id;
  }

  // 3. The manifest blob (the image records it; it names the layer blobs).
  ingest->pin(platform_manifest.digest);
  MYDOCKER_TRY(cs.write_blob(platform_manifest.bytes, platform_manifest.digest));

  // 4. Layers.
  Plan plan;
  plan.repo = repo;
  plan.layers = manifest.layers;
  plan.diffs = config.rootfs.diff_ids;
  plan.chains = chain_ids(plan.diffs);
  bool image_complete = images.images().exists(id) &&
                        (plan.chains.empty() || images.layers().exists(plan.chains.back()));
  std::optional<ChainId> top_layer;
  if (!image_complete && !plan.chains.empty()) {
    size_t n = plan.layers.size();
    for (size_t i = 0; i < n; ++i) {
      if (!content::media_type::is_layer(plan.layers[i].media_type)) {
        return make_error(ErrorCode::InvalidArgument, "manifest {}: layer {} has media type `{}`",
                          platform_manifest.digest.str(), i, plan.layers[i].media_type);
      }
      bool present = images.layers().exists(plan.chains[i]) && cs.exists(plan.layers[i].digest);
      progress.emit(std::string(plan.layers[i].digest.short_id()),
                    present ? "Already exists" : "Pulling fs layer");
    }
    Ladder ladder(n);
    std::atomic<size_t> next{0};
    std::mutex err_mu;
    std::optional<base::Error> first_error;
    std::atomic<size_t> downloaded{0};
    const RegistryOptions& ropts = client.options();
    auto worker = [&] {
      size_t mine = 0;
      for (;;) {
        size_t i = next.fetch_add(1);
        if (i >= n || ladder.failed()) {
          break;
        }
        auto r = pull_layer(images, *ingest, client, plan, i, ladder, progress, ropts,
                            options.cancelled, &mine);
        if (!r) {
          std::lock_guard lock(err_mu);
          if (!first_error || first_error->code() == ErrorCode::Cancelled) {
            first_error = std::move(r).error();
          }
          ladder.fail();
          break;
        }
      }
      downloaded += mine;
    };
    size_t threads = std::min<size_t>(n, static_cast<size_t>(std::max(1, options.parallel)));
    std::vector<std::thread> pool;
    for (size_t t = 1; t < threads; ++t) {
      pool.emplace_back(worker);
    }
    worker();
    for (auto& t : pool) {
      t.join();
    }
    if (first_error) {
      if (first_error->code() == ErrorCode::Cancelled) {
        return cancelled_error();  // not the context of wherever a worker noticed it
      }
      return std::move(*first_error);
    }
    result.layers_downloaded = downloaded.load();
    // The image keeps one reference, on its top layer; the ones below live through it.
    for (size_t i = 0; i + 1 < n; ++i) {
      MYDOCKER_TRY(ingest->release(plan.chains[i]));
    }
    top_layer = plan.chains.back();
  }

  MYDOCKER_TRY(check_cancelled(options.cancelled));
  // 5. Commit: the image record, then its names. A digest name moves to the image pulled now
  // (as Docker's AddDigest with force: one index digest, another platform).
  for (const Reference& n : names) {
    if (n.has_digest()) {
      if (auto old = images.images().lookup_reference(n); old && *old != id) {
        (void)images.images().untag(n);
      }
    }
  }
  MYDOCKER_TRY(ingest->commit(config_bytes, platform_manifest.digest, top_layer, names));
  result.up_to_date = was_named;
  progress.emit("", "Digest: " + top.digest.str());
  progress.emit("", result.status_line());
  return result;
}

}  // namespace mydocker::image::registry
