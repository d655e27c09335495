// SPDX-License-Identifier: Apache-2.0
#include "image/registry/push.h"

#include <zlib.h>

#include <set>

#include "image/content/image_config.h"
#include "image/content/manifest.h"
#include "image/layers/source.h"
#include "runtime/base/file.h"
#include "runtime/base/scope_exit.h"
#include "runtime/base/strings.h"

namespace mydocker::image::registry {

using base::ErrorCode;
using base::make_error;
using reference::Reference;

namespace {

constexpr int64_t kProgressStep = 512 * 1024;

base::Result<void> check_cancelled(const std::function<bool()>& cancelled) {
  if (cancelled && cancelled()) {
    return make_error(ErrorCode::Cancelled, "push cancelled");
  }
  return base::ok();
}

// Reads at most `limit` bytes of `inner`, reporting progress; polls `cancelled` before each
// block (an error of the source aborts the upload request).
class CountingSource final : public layers::ByteSource {
 public:
  CountingSource(layers::ByteSource& inner, int64_t limit, int64_t base, int64_t total,
                 std::string id, const ProgressFn& progress, const std::function<bool()>& cancelled)
      : inner_(inner),
        left_(limit),
        done_(base),
        total_(total),
        id_(std::move(id)),
        progress_(progress),
        cancelled_(cancelled) {}
  base::Result<size_t> read(std::span<std::byte> buf) override {
    MYDOCKER_TRY(check_cancelled(cancelled_));
    if (left_ <= 0) {
      return size_t{0};
    }
    if (static_cast<int64_t>(buf.size()) > left_) {
      buf = buf.subspan(0, static_cast<size_t>(left_));
    }
    size_t n = MYDOCKER_TRY(inner_.read(buf));
    left_ -= static_cast<int64_t>(n);
    done_ += static_cast<int64_t>(n);
    if (progress_ && (done_ - reported_ >= kProgressStep || (n > 0 && done_ == total_))) {
      reported_ = done_;
      progress_(ProgressEvent{id_, "Pushing", done_, total_});
    }
    return n;
  }

 private:
  layers::ByteSource& inner_;
  int64_t left_;
  int64_t done_;
  int64_t total_;
  int64_t reported_ = 0;
  std::string id_;
  const ProgressFn& progress_;
  const std::function<bool()>& cancelled_;
};

void emit(const ProgressFn& fn, std::string id, std::string status) {
  if (fn) {
    fn(ProgressEvent{std::move(id), std::move(status), -1, -1});
  }
}

// Repositories of the same registry that hold `blob`, by what this store knows: the names of
// the images whose manifests list it.
std::vector<std::string> mount_sources(Images& images, const std::string& domain,
                                       const std::string& repo, const Digest& blob) {
  std::set<std::string> out;
  for (const store::ImageRecord& rec : images.images().images()) {
    bool has = false;
    for (const Digest& m : rec.manifests) {
      auto bytes = images.content().read(m);
      if (!bytes) {
        continue;
      }
      auto man = content::Manifest::parse(*bytes);
      if (!man) {
        continue;
      }
      for (const auto& l : man->layers) {
        has = has || l.digest == blob;
      }
    }
    if (!has) {
      continue;
    }
    for (const Reference& r : rec.refs) {
      if (r.domain() == domain && r.path() != repo && r.has_digest()) {
        out.insert(r.path());  // a digest name means it was pushed or pulled there
      }
    }
  }
  return {out.begin(), out.end()};
}

content::Descriptor descriptor(std::string_view media_type, const Digest& d, int64_t size) {
  content::Descriptor out;
  out.media_type = std::string(media_type);
  out.digest = d;
  out.size = size;
  return out;
}

bool is_uncompressed(std::string_view mt) {
  return mt == content::media_type::kOciLayer || mt == content::media_type::kDockerLayer;
}
bool is_gzip(std::string_view mt) {
  return mt == content::media_type::kOciLayerGzip || mt == content::media_type::kDockerLayerGzip ||
         mt == content::media_type::kDockerLayerForeignGzip ||
         mt == content::media_type::kOciLayerNondistributableGzip;
}

// <data-root>/compressed/sha256/<diff hex>: "sha256:<gzip blob>", the blob a push made for
// that layer (a hint, trusted only while the blob exists and its pair is verified).
std::string compressed_record(Images& images, const DiffId& diff) {
  return images.data_root() + "/compressed/sha256/" + std::string(diff.digest().hex());
}

std::optional<content::Descriptor> recorded_gzip(Images& images, Images::Ingest& ingest,
                                                 const DiffId& diff) {
  auto text = base::read_file(compressed_record(images, diff));
  if (!text) {
    return std::nullopt;
  }
  auto d = Digest::parse(base::trim(*text));
  if (!d || !images.content().exists(*d) || !ingest.pair_verified(*d, diff)) {
    return std::nullopt;
  }
  auto info = images.content().info(*d);
  if (!info) {
    return std::nullopt;
  }
  return descriptor(content::media_type::kDockerLayerGzip, *d, info->size);
}

// Streams the uncompressed layer blob `blob` through gzip (Docker's default level) into the
// content store, once; polls `cancelled` per block.
base::Result<content::Descriptor> gzip_blob(Images& images, const Digest& blob,
                                            const std::function<bool()>& cancelled) {
  auto& cs = images.content();
  auto in = MYDOCKER_TRY(layers::FileSource::open(cs.blob_path(blob)));
  content::Writer w = MYDOCKER_TRY(cs.ingest());
  z_stream z{};
  // windowBits 15 + 16: a gzip wrapper (mtime 0, so the same layer gives the same bytes).
  if (deflateInit2_(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                    ZLIB_VERSION, static_cast<int>(sizeof(z_stream))) != Z_OK) {
    return make_error(ErrorCode::Internal, "gzip layer `{}`: deflateInit failed", blob.str());
  }
  base::ScopeExit end([&] { deflateEnd(&z); });
  std::vector<std::byte> inbuf(1 << 20);
  std::string out(1 << 20, '\0');
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    MYDOCKER_TRY(check_cancelled(cancelled));
    size_t n = MYDOCKER_TRY(in.read(inbuf));
    z.next_in = reinterpret_cast<Bytef*>(inbuf.data());
    z.avail_in = static_cast<uInt>(n);
    int flush = n == 0 ? Z_FINISH : Z_NO_FLUSH;
    do {
      z.next_out = reinterpret_cast<Bytef*>(out.data());
      z.avail_out = static_cast<uInt>(out.size());
      rc = deflate(&z, flush);
      if (rc == Z_STREAM_ERROR) {
        return make_error(ErrorCode::Internal, "gzip layer `{}`: deflate failed", blob.str());
      }
      size_t produced = out.size() - z.avail_out;
      if (produced > 0) {
        MYDOCKER_TRY(w.write(std::string_view(out.data(), produced)));
      }
    } while (z.avail_out == 0);
  }
  int64_t size = w.written();
  Digest d = MYDOCKER_TRY(w.commit());
  return descriptor(content::media_type::kDockerLayerGzip, d, size);
}

// `from` with each uncompressed layer replaced by its gzip blob (made once per DiffID, then
// reused): a Docker schema2 manifest, or OCI when a layer is neither gzip nor uncompressed.
base::Result<content::Manifest> compressed_manifest(Images& images, Images::Ingest& ingest,
                                                    const ImageId& id,
                                                    const content::Manifest& from,
                                                    const PushOptions& options) {
  auto& cs = images.content();
  std::string config_bytes = MYDOCKER_TRY(cs.read(id.digest()));
  auto config = MYDOCKER_TRY(content::ImageConfig::parse(config_bytes));
  const auto& diffs = config.rootfs.diff_ids;
  if (diffs.size() != from.layers.size()) {
    return make_error(ErrorCode::FailedPrecondition,
                      "image {}: {} layers, but its config has {} diff_ids", id.str(),
                      from.layers.size(), diffs.size());
  }
  content::Manifest m;
  m.media_type = std::string(content::media_type::kDockerManifest);
  m.config = descriptor(content::media_type::kDockerConfig, id.digest(),
                        static_cast<int64_t>(config_bytes.size()));
  bool docker = true;
  for (size_t i = 0; i < from.layers.size(); ++i) {
    const content::Descriptor& l = from.layers[i];
    if (is_gzip(l.media_type)) {
      content::Descriptor d = l;
      d.media_type = std::string(content::media_type::kDockerLayerGzip);
      m.layers.push_back(std::move(d));
      continue;
    }
    if (!is_uncompressed(l.media_type)) {
      docker = false;  // zstd: schema2 cannot say it
      m.layers.push_back(l);
      continue;
    }
    if (l.digest != diffs[i].digest()) {
      return make_error(ErrorCode::FailedPrecondition,
                        "image {}: uncompressed layer blob {} is not its diff id {}", id.str(),
                        l.digest.str(), diffs[i].str());
    }
    ingest.pin(l.digest);
    std::optional<content::Descriptor> gz = recorded_gzip(images, ingest, diffs[i]);
    if (gz) {
      ingest.pin(gz->digest);
    } else {
      gz = MYDOCKER_TRY(gzip_blob(images, l.digest, options.cancelled));
      ingest.pin(gz->digest);
      ingest.remember_pair(gz->digest, diffs[i]);
      // Best effort: without the record the next push compresses again.
      std::string path = compressed_record(images, diffs[i]);
      if (base::mkdir_all(path.substr(0, path.rfind('/')), 0700)) {
        (void)base::write_file_atomic(path, gz->digest.str() + "\n", 0600);
      }
    }
    m.layers.push_back(std::move(*gz));
  }
  if (!docker) {
    m.media_type = std::string(content::media_type::kOciManifest);
    m.config.media_type = std::string(content::media_type::kOciConfig);
    for (auto& l : m.layers) {
      if (l.media_type == content::media_type::kDockerLayerGzip) {
        l.media_type = std::string(content::media_type::kOciLayerGzip);
      }
    }
  }
  return m;
}

}  // namespace

std::string PushResult::digest_line() const {
  return fmt::format("{}: digest: {} size: {}", tag, digest.str(), size);
}

base::Result<PushResult> push(Images& images, Client& client, const Reference& input,
                              const PushOptions& options) {
  if (input.has_digest()) {
    return make_error(ErrorCode::InvalidArgument, "cannot push a digest reference");
  }
  Reference ref = input.with_default_tag();
  std::string repo = ref.path();
  emit(options.progress, "",
       fmt::format("The push refers to repository [{}]", ref.name_only().familiar()));
  auto id = images.images().lookup_reference(ref);
  if (!id) {
    return make_error(ErrorCode::NotFound, "tag does not exist: {}", ref.familiar());
  }
  store::ImageRecord rec = MYDOCKER_TRY(images.images().get(*id));
  auto& cs = images.content();

  // The manifest to push: one recorded for this image whose blobs are all here, preferably
  // with compressed layers only; else one made from a manifest with uncompressed layers.
  std::optional<content::Manifest> manifest;
  std::string manifest_bytes;
  std::optional<content::Manifest> uncompressed;
  for (const Digest& m : rec.manifests) {
    auto bytes = cs.read(m);
    if (!bytes) {
      continue;
    }
    auto parsed = content::Manifest::parse(*bytes);
    if (!parsed || parsed->config.digest != id->digest()) {
      continue;
    }
    bool all = true;
    bool compressed = true;
    for (const auto& l : parsed->layers) {
      all = all && cs.exists(l.digest);
      compressed = compressed && !is_uncompressed(l.media_type);
    }
    if (all && compressed) {
      manifest = std::move(*parsed);
      manifest_bytes = std::move(*bytes);
      break;
    }
    if (all && !uncompressed) {
      uncompressed = std::move(*parsed);
    }
  }
  std::unique_ptr<Images::Ingest> ingest;
  if (!manifest && uncompressed) {
    ingest = images.begin_ingest();
    manifest = MYDOCKER_TRY(compressed_manifest(images, *ingest, *id, *uncompressed, options));
    manifest_bytes = manifest->serialize();
    Digest md = Digest::sha256_of(manifest_bytes);
    ingest->pin(md);
    MYDOCKER_TRY(cs.write_blob(manifest_bytes, md));
    // The image records the manifest now, so it holds the gzip blobs: a push that fails
    // later, or the next one, does not compress again.
    std::string config_bytes = MYDOCKER_TRY(cs.read(id->digest()));
    auto config = MYDOCKER_TRY(content::ImageConfig::parse(config_bytes));
    MYDOCKER_TRY(ingest->commit(config_bytes, md, Images::top_layer(config), {}));
  }
  if (!manifest) {
    return make_error(ErrorCode::FailedPrecondition,
                      "image {}: no recorded manifest has all its layer blobs here", id->str());
  }

  PushResult result;
  result.tag = ref.tag();
  for (const auto& l : manifest->layers) {
    emit(options.progress, std::string(l.digest.short_id()), "Preparing");
  }
  std::vector<content::Descriptor> blobs = manifest->layers;
  blobs.push_back(manifest->config);
  std::set<std::string> done;
  for (size_t i = 0; i < blobs.size(); ++i) {
    const content::Descriptor& d = blobs[i];
    bool is_config = i + 1 == blobs.size();
    std::string sid(d.digest.short_id());
    MYDOCKER_TRY(check_cancelled(options.cancelled));
    if (!done.insert(d.digest.str()).second) {
      continue;
    }
    if (MYDOCKER_TRY(client.blob_exists(repo, d.digest))) {
      ++result.blobs_existing;
      if (!is_config) {
        emit(options.progress, sid, "Layer already exists");
      }
      continue;
    }
    std::optional<UploadSession> session;
    bool mounted = false;
    if (!is_config) {
      for (const std::string& from : mount_sources(images, client.host(), repo, d.digest)) {
        auto s = MYDOCKER_TRY(client.start_upload(repo, &d.digest, from));
        if (!s) {
          mounted = true;
          ++result.blobs_mounted;
          emit(options.progress, sid, "Mounted from " + from);
          break;
        }
        session = *s;  // not mounted: the registry opened an upload instead
        break;
      }
    }
    if (mounted) {
      continue;
    }
    if (!session) {
      session = MYDOCKER_TRY(client.start_upload(repo, nullptr, ""));
    }
    int64_t size = MYDOCKER_TRY(cs.info(d.digest)).size;
    auto file = MYDOCKER_TRY(layers::FileSource::open(cs.blob_path(d.digest)));
    ProgressFn none;
    const ProgressFn& fn = is_config ? none : options.progress;
    if (options.chunk_size > 0 && size > 0) {
      int64_t off = 0;
      while (off < size) {
        int64_t n = std::min(options.chunk_size, size - off);
        MYDOCKER_TRY(check_cancelled(options.cancelled));
        CountingSource chunk(file, n, off, size, sid, fn, options.cancelled);
        *session = MYDOCKER_TRY(client.upload_chunk(repo, *session, chunk, off, n));
        off += n;
      }
      MYDOCKER_TRY(client.finish_upload(repo, *session, d.digest, nullptr, 0));
    } else {
      CountingSource all(file, size, 0, size, sid, fn, options.cancelled);
      MYDOCKER_TRY(client.finish_upload(repo, *session, d.digest, &all, size));
    }
    ++result.blobs_uploaded;
    if (!is_config) {
      emit(options.progress, sid, "Pushed");
    }
  }

  MYDOCKER_TRY(check_cancelled(options.cancelled));
  std::string media_type = manifest->media_type.empty()
                               ? std::string(content::media_type::kOciManifest)
                               : manifest->media_type;
  result.digest = MYDOCKER_TRY(client.put_manifest(repo, ref.tag(), media_type, manifest_bytes));
  result.size = static_cast<int64_t>(manifest_bytes.size());
  MYDOCKER_TRY(
      images.images().tag(*id, MYDOCKER_TRY(ref.name_only().with_digest(result.digest.str()))));
  emit(options.progress, "", result.digest_line());
  return result;
}

}  // namespace mydocker::image::registry
