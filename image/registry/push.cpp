// SPDX-License-Identifier: Apache-2.0
#include "image/registry/push.h"

#include <set>

#include "image/content/manifest.h"
#include "image/layers/source.h"

namespace mydocker::image::registry {

using base::ErrorCode;
using base::make_error;
using reference::Reference;

namespace {

constexpr int64_t kProgressStep = 512 * 1024;

// Reads at most `limit` bytes of `inner`, reporting progress.
class CountingSource final : public layers::ByteSource {
 public:
  CountingSource(layers::ByteSource& inner, int64_t limit, int64_t base, int64_t total,
                 std::string id, const ProgressFn& progress)
      : inner_(inner),
        left_(limit),
        done_(base),
        total_(total),
        id_(std::move(id)),
        progress_(progress) {}
  base::Result<size_t> read(std::span<std::byte> buf) override {
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

  // The manifest to push: one recorded for this image whose blobs are all here.
  std::optional<content::Manifest> manifest;
  std::string manifest_bytes;
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
    for (const auto& l : parsed->layers) {
      all = all && cs.exists(l.digest);
    }
    if (all) {
      manifest = std::move(*parsed);
      manifest_bytes = std::move(*bytes);
      break;
    }
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
        CountingSource chunk(file, n, off, size, sid, fn);
        *session = MYDOCKER_TRY(client.upload_chunk(repo, *session, chunk, off, n));
        off += n;
      }
      MYDOCKER_TRY(client.finish_upload(repo, *session, d.digest, nullptr, 0));
    } else {
      CountingSource all(file, size, 0, size, sid, fn);
      MYDOCKER_TRY(client.finish_upload(repo, *session, d.digest, &all, size));
    }
    ++result.blobs_uploaded;
    if (!is_config) {
      emit(options.progress, sid, "Pushed");
    }
  }

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
