// SPDX-License-Identifier: Apache-2.0
#include "image/archive/images.h"

#include <dirent.h>
#include <sys/utsname.h>

#include <ctime>
#include <filesystem>
#include <set>

#include "image/archive/changes.h"
#include "image/archive/images_internal.h"
#include "image/content/manifest.h"
#include "runtime/base/file.h"
#include "runtime/base/scope_exit.h"
#include "runtime/base/strings.h"

namespace mydocker::image {

using base::ErrorCode;
using base::make_error;

namespace {

// GOARCH names, as Docker reports runtime.GOARCH for imported images.
std::pair<std::string, std::string> host_platform() {
  struct utsname u {};
  if (::uname(&u) != 0) {
    return {"amd64", ""};
  }
  std::string m = u.machine;
  if (m == "x86_64")
    return {"amd64", ""};
  if (m == "aarch64" || m == "arm64")
    return {"arm64", ""};
  if (m.rfind("armv7", 0) == 0)
    return {"arm", "v7"};
  if (m.rfind("armv6", 0) == 0)
    return {"arm", "v6"};
  if (m == "i386" || m == "i686")
    return {"386", ""};
  return {m, ""};  // ppc64le, s390x, riscv64 have the same name in Go
}

std::string now_rfc3339() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return content::format_rfc3339_nano(ts.tv_sec, static_cast<int32_t>(ts.tv_nsec));
}

// The parent chain ID of every committed key of a snapshotter root (layers/snapshotter.h).
base::Result<std::vector<ChainId>> snapshot_parents(const std::string& root) {
  std::vector<ChainId> out;
  DIR* d = ::opendir(root.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) {
      return out;
    }
    return base::sys_error("open `{}`", root);
  }
  std::vector<std::string> keys;
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') {
      keys.emplace_back(e->d_name);
    }
  }
  ::closedir(d);
  for (const std::string& key : keys) {
    auto text = base::read_file(root + "/" + key + "/parent");
    if (!text) {
      continue;  // not a snapshot directory
    }
    std::string_view t = base::trim(*text);
    if (t.empty()) {
      continue;  // an empty rootfs holds no layer
    }
    auto chain = ChainId::parse(t);
    if (!chain) {
      return std::move(chain).error().wrap(fmt::format("`{}/{}/parent`", root, key));
    }
    out.push_back(*chain);
  }
  return out;
}

}  // namespace

namespace archive_internal {

std::string layer_media_type(layers::Compression c) {
  switch (c) {
    case layers::Compression::Gzip:
      return std::string(content::media_type::kOciLayerGzip);
    case layers::Compression::Zstd:
      return std::string(content::media_type::kOciLayerZstd);
    case layers::Compression::None:
      break;
  }
  return std::string(content::media_type::kOciLayer);
}

}  // namespace archive_internal

Images::Images(std::string root, ImagesOptions options)
    : root_(std::move(root)), options_(std::move(options)) {
  if (options_.architecture.empty()) {
    auto [arch, variant] = host_platform();
    options_.architecture = arch;
    options_.variant = variant;
  }
}

Images::~Images() = default;

// A pair is a fact about the blob's bytes (content-addressed), so it never goes stale and
// garbage collection leaves it; each is one small file named by the blob's hex digest (only
// sha256 exists) holding the DiffID, so concurrent writers need no lock: the last atomic
// rename wins and they all write the same content.
bool Images::pair_verified(const Digest& blob, const DiffId& diff) const {
  auto text = base::read_file(root_ + "/verified/" + std::string(blob.hex()));
  return text && base::trim(*text) == diff.str();
}

void Images::remember_pair(const Digest& blob, const DiffId& diff) {
  if (blob == diff.digest() || pair_verified(blob, diff)) {
    return;  // an uncompressed blob is its own DiffID; nothing to remember
  }
  // Best effort (see images.h): the error only costs a re-check later.
  (void)base::write_file_atomic(root_ + "/verified/" + std::string(blob.hex()), diff.str() + "\n",
                                0600);
}

base::Result<std::unique_ptr<Images>> Images::open(const std::string& data_root,
                                                   ImagesOptions options) {
  std::unique_ptr<Images> self(new Images(data_root, std::move(options)));
  MYDOCKER_TRY(base::mkdir_all(data_root, 0710));
  self->content_ = MYDOCKER_TRY(content::ContentStore::open(data_root + "/content"));
  self->layers_ =
      MYDOCKER_TRY(layers::LayerStore::open(data_root + "/layers", self->options_.layers));
  MYDOCKER_TRY(base::mkdir_all(data_root + "/verified", 0700));
  {
    // Leftover temp files of an interrupted remember_pair().
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(data_root + "/verified", ec)) {
      if (e.path().filename().string().starts_with(".")) {
        std::filesystem::remove(e.path(), ec);
      }
    }
  }
  store::ImageStore::Hooks hooks;
  Images* raw = self.get();
  hooks.release_layers = [raw](const store::ImageRecord& rec) {
    return raw->release_image_layers(rec);
  };
  hooks.layer_diff_size = [raw](const ChainId& chain) -> std::optional<int64_t> {
    auto info = raw->layers_->get(chain);
    if (!info) {
      return std::nullopt;
    }
    return static_cast<int64_t>(info->size);
  };
  if (self->options_.container_usage) {
    hooks.container_usage = self->options_.container_usage;
  }
  self->images_ = MYDOCKER_TRY(store::ImageStore::open(data_root, *self->content_, hooks));
  for (const std::string& w : self->images_->load_warnings()) {
    self->recovery_log_.push_back(w);
  }
  MYDOCKER_TRY_CTX(self->recover(), "recover image store `{}`", data_root);
  return self;
}

std::optional<ChainId> Images::top_layer(const content::ImageConfig& config) {
  if (config.rootfs.diff_ids.empty()) {
    return std::nullopt;
  }
  return chain_ids(config.rootfs.diff_ids).back();
}

std::vector<store::ReleasedLayer> Images::release_image_layers(const store::ImageRecord& rec) {
  std::vector<store::ReleasedLayer> out;
  auto top = top_layer(rec.config);
  if (!top) {
    return out;
  }
  std::map<std::string, int64_t> sizes;
  if (auto lineage = layers_->lineage(*top)) {
    for (const auto& l : *lineage) {
      sizes[l.chain_id.str()] = static_cast<int64_t>(l.size);
    }
  }
  auto deleted = layers_->release(*top);
  if (!deleted) {
    return out;  // already gone (a damaged store); nothing to report
  }
  for (const ChainId& c : *deleted) {
    out.push_back({.chain_id = c.str(), .size = sizes[c.str()]});
  }
  return out;
}

std::map<std::string, bool> Images::referenced_blobs() const {
  std::map<std::string, bool> out;
  for (const store::ImageRecord& rec : images_->images()) {
    out[rec.id.str()] = true;
    for (const Digest& m : rec.manifests) {
      out[m.str()] = true;
      auto bytes = content_->read(m);
      if (!bytes) {
        continue;
      }
      auto manifest = content::Manifest::parse(*bytes);
      if (!manifest) {
        continue;
      }
      out[manifest->config.digest.str()] = true;
      for (const auto& l : manifest->layers) {
        out[l.digest.str()] = true;
      }
    }
  }
  return out;
}

base::Result<void> Images::recover() {
  // 2. Images whose layers are gone cannot run: drop them (their metadata is the only trace).
  for (const store::ImageRecord& rec : images_->images()) {
    auto top = top_layer(rec.config);
    if (top && !layers_->exists(*top)) {
      recovery_log_.push_back(
          fmt::format("removing image `{}`: layer `{}` is missing", rec.id.str(), top->str()));
      auto r = images_->remove(rec.id.str(), /*force=*/true, /*prune=*/false);
      if (!r) {
        recovery_log_.push_back(
            fmt::format("remove image `{}`: {}", rec.id.str(), r.error().to_string()));
      }
    }
  }
  // 3. Reference counts from the ground truth: images' top layers and containers' layers.
  std::map<std::string, uint64_t> want;
  for (const store::ImageRecord& rec : images_->images()) {
    if (auto top = top_layer(rec.config)) {
      ++want[top->str()];
    }
  }
  for (const std::string& snap_root : options_.snapshot_roots) {
    for (const ChainId& c : MYDOCKER_TRY(snapshot_parents(snap_root))) {
      ++want[c.str()];
    }
  }
  if (options_.container_layers) {
    for (const ChainId& c : MYDOCKER_TRY_CTX(options_.container_layers(), "container layers")) {
      ++want[c.str()];
    }
  }
  std::vector<layers::LayerInfo> all = layers_->list();
  // Raise before lowering: a release may cascade into a parent that still needs a reference.
  for (const auto& info : all) {
    uint64_t w = want[info.chain_id.str()];
    for (uint64_t n = info.refcount; n < w; ++n) {
      MYDOCKER_TRY(layers_->retain(info.chain_id));
    }
    if (info.refcount < w) {
      recovery_log_.push_back(fmt::format("layer `{}`: reference count {} -> {}",
                                          info.chain_id.str(), info.refcount, w));
    }
  }
  for (const auto& info : all) {
    uint64_t w = want[info.chain_id.str()];
    if (info.refcount <= w) {
      continue;
    }
    recovery_log_.push_back(
        fmt::format("layer `{}`: reference count {} -> {}", info.chain_id.str(), info.refcount, w));
    for (uint64_t n = info.refcount; n > w; --n) {
      if (!layers_->exists(info.chain_id)) {
        break;
      }
      MYDOCKER_TRY(layers_->release(info.chain_id));
    }
  }
  // 4. Blobs no image holds.
  size_t removed = MYDOCKER_TRY(collect_garbage());
  if (removed > 0) {
    recovery_log_.push_back(fmt::format("removed {} unreferenced blobs", removed));
  }
  return base::ok();
}

base::Result<size_t> Images::collect_garbage() {
  std::unique_lock gc(gc_mu_);
  std::map<std::string, bool> keep = referenced_blobs();
  size_t removed = 0;
  for (const content::BlobInfo& b : MYDOCKER_TRY(content_->list())) {
    if (keep.contains(b.digest.str())) {
      continue;
    }
    auto r = content_->remove(b.digest);
    if (!r && r.error().code() != ErrorCode::NotFound) {
      return std::move(r).error();
    }
    ++removed;
  }
  return removed;
}

base::Result<std::vector<store::DeleteItem>> Images::remove(std::string_view ref_or_id, bool force,
                                                            bool prune) {
  auto items = MYDOCKER_TRY(images_->remove(ref_or_id, force, prune));
  MYDOCKER_TRY(collect_garbage());
  return items;
}

base::Result<store::PruneReport> Images::prune(const store::Filters& filters) {
  auto report = MYDOCKER_TRY(images_->prune(filters));
  MYDOCKER_TRY(collect_garbage());
  return report;
}

base::Result<void> Images::export_rootfs(const std::string& dir, const Sink& out,
                                         const ExportOptions& opts) {
  return archive::export_directory(dir, out, opts);
}

// --- operations ---

void Images::pin(Op& op, const Digest& d) {
  std::lock_guard lock(pin_mu_);
  if (op.pinned.insert(d.str()).second) {
    ++pins_[d.str()];
  }
}

void Images::finish_op(Op& op) {
  // Layer references still held belong to no image: give them back.
  for (auto it = op.held.rbegin(); it != op.held.rend(); ++it) {
    (void)layers_->release(*it);
  }
  op.held.clear();
  // Blobs this operation brought that no image holds (a failed load's, or the manifest.json,
  // legacy json files, ... of a successful one). pin_mu_ is held throughout so that another
  // operation cannot commit an image holding one of them between the check and the unlink.
  std::lock_guard lock(pin_mu_);
  std::map<std::string, bool> keep;
  if (!op.pinned.empty()) {
    keep = referenced_blobs();
  }
  for (const std::string& d : op.pinned) {
    int& n = pins_[d];
    --n;
    if (n == 0) {
      pins_.erase(d);
      if (!keep.contains(d)) {
        if (auto digest = Digest::parse(d)) {
          (void)content_->remove(*digest);
        }
      }
    }
  }
  op.pinned.clear();
}

base::Result<ImageId> Images::commit_image(Op& op, const std::string& config_bytes,
                                           const Digest& manifest,
                                           const std::optional<ChainId>& top,
                                           const std::vector<reference::Reference>& tags,
                                           const std::optional<ImageId>& parent) {
  std::lock_guard lock(commit_mu_);
  ImageId id(Digest::sha256_of(config_bytes));
  bool existed = images_->exists(id);
  int64_t size = 0;
  if (top) {
    for (const auto& l : MYDOCKER_TRY(layers_->lineage(*top))) {
      size += static_cast<int64_t>(l.size);
    }
  }
  store::AddImageOptions add;
  add.config = config_bytes;
  add.size = size;
  add.manifest = manifest;
  add.parent = parent;
  MYDOCKER_TRY(images_->add(add));
  if (top) {
    auto it = std::find(op.held.begin(), op.held.end(), *top);
    if (it != op.held.end()) {
      op.held.erase(it);
      // The new image owns the reference; an image that existed already has its own.
      if (existed) {
        (void)layers_->release(*top);
      }
    }
  }
  for (const reference::Reference& ref : tags) {
    MYDOCKER_TRY(images_->tag(id, ref));
  }
  return id;
}

base::Result<ImageId> Images::import_image(layers::ByteSource& tar, const ImportOptions& opts) {
  std::vector<reference::Reference> tags;
  if (!opts.reference.empty()) {
    auto ref = reference::Reference::parse(opts.reference);
    if (!ref) {
      return std::move(ref).error();
    }
    if (ref->has_digest()) {
      return make_error(ErrorCode::InvalidArgument,
                        "refusing to create a tag with a digest reference");
    }
    tags.push_back(ref->with_default_tag());
  }
  content::RunConfig run;
  MYDOCKER_TRY(archive::apply_changes(run, opts.changes));

  Op op(gc_mu_);
  base::ScopeExit done([&] { finish_op(op); });

  // Spool the stream into the content store first: the blob is what save serves later.
  content::Writer w = MYDOCKER_TRY(content_->ingest());
  auto buf = std::make_unique<std::byte[]>(1 << 20);
  for (;;) {
    size_t n =
        MYDOCKER_TRY_CTX(tar.read(std::span<std::byte>(buf.get(), 1 << 20)), "read import stream");
    if (n == 0) {
      break;
    }
    MYDOCKER_TRY(w.write(std::string_view(reinterpret_cast<const char*>(buf.get()), n)));
  }
  Digest blob = MYDOCKER_TRY(w.commit());
  pin(op, blob);
  int64_t blob_size = MYDOCKER_TRY(content_->info(blob)).size;
  auto src = MYDOCKER_TRY(layers::FileSource::open(content_->blob_path(blob)));
  layers::RegisterResult reg =
      MYDOCKER_TRY_CTX(layers_->register_layer(std::nullopt, src), "import layer");
  op.held.push_back(reg.chain_id);
  layers::Compression compression = layers::Compression::None;
  if (reg.unpacked) {
    compression = reg.unpacked->compression;
    remember_pair(reg.unpacked->compressed_digest, reg.diff_id);
  } else {
    auto again = MYDOCKER_TRY(layers::FileSource::open(content_->blob_path(blob)));
    compression = MYDOCKER_TRY(layers::digest_layer(again)).compression;
  }

  std::string created = now_rfc3339();
  std::string message = opts.message.empty() ? "Imported from " + opts.source : opts.message;
  content::ImageConfig cfg;
  cfg.created = created;
  cfg.architecture = options_.architecture;
  cfg.variant = options_.variant;
  cfg.os = "linux";
  cfg.config = run;
  cfg.rootfs.diff_ids = {reg.diff_id};
  content::HistoryEntry h;
  h.created = created;
  h.comment = message;
  cfg.history = {h};
  cfg.comment = message;
  std::string config_bytes = cfg.serialize();
  Digest config_digest = MYDOCKER_TRY(content_->write_blob(config_bytes));
  pin(op, config_digest);

  content::Manifest m;
  m.schema_version = 2;
  m.media_type = std::string(content::media_type::kOciManifest);
  m.config.media_type = std::string(content::media_type::kOciConfig);
  m.config.digest = config_digest;
  m.config.size = static_cast<int64_t>(config_bytes.size());
  content::Descriptor layer;
  layer.media_type = archive_internal::layer_media_type(compression);
  layer.digest = blob;
  layer.size = blob_size;
  m.layers = {layer};
  std::string manifest_bytes = m.serialize();
  Digest manifest_digest = MYDOCKER_TRY(content_->write_blob(manifest_bytes));
  pin(op, manifest_digest);

  return commit_image(op, config_bytes, manifest_digest, reg.chain_id, tags);
}

}  // namespace mydocker::image
