// SPDX-License-Identifier: Apache-2.0
// Images::save: one tar that is both a `docker save` archive and an OCI image layout, the way
// Docker 25 writes it:
//
//   oci-layout                 {"imageLayoutVersion":"1.0.0"}
//   blobs/sha256/<diff id>     each layer once, uncompressed (so its digest is the DiffID)
//   blobs/sha256/<image id>    each config, byte for byte as stored (the image ID is its hash)
//   blobs/sha256/<manifest>    an OCI manifest per image (uncompressed layer descriptors)
//   index.json                 one descriptor per name (io.containerd.image.name +
//                              org.opencontainers.image.ref.name), one per untagged image
//   manifest.json              [{"Config":"blobs/sha256/..","RepoTags":[..],"Layers":[..]}]
//   repositories               {"busybox":{"latest":"<top layer hex>"}} (legacy readers)
#include <set>

#include "image/archive/images.h"
#include "image/archive/images_internal.h"
#include "image/archive/tar_io.h"
#include "image/content/manifest.h"

namespace mydocker::image {

using base::ErrorCode;
using base::make_error;
using reference::Reference;

namespace {

constexpr std::string_view kBlobDir = "blobs/sha256/";

std::string blob_name(const Digest& d) {
  return std::string(kBlobDir) + std::string(d.hex());
}

struct Item {
  ImageId id;
  std::vector<Reference> tags;
};

void add_item(std::vector<Item>& items, const ImageId& id, std::optional<Reference> tag) {
  auto it = std::find_if(items.begin(), items.end(), [&](const Item& i) { return i.id == id; });
  if (it == items.end()) {
    items.push_back({id, {}});
    it = std::prev(items.end());
  }
  if (tag && std::find(it->tags.begin(), it->tags.end(), *tag) == it->tags.end()) {
    it->tags.push_back(*tag);
  }
}

}  // namespace

base::Result<void> Images::save(const std::vector<std::string>& names, const Sink& out) {
  // Resolve everything before the first byte goes out: an unknown name is a clean 404.
  std::vector<Item> items;
  for (const std::string& name : names) {
    auto ref = Reference::parse(name);
    bool is_id = reference::is_full_hex_id(name) || name.rfind("sha256:", 0) == 0;
    if (ref && !is_id && !ref->has_tag() && !ref->has_digest()) {
      // Docker: a bare repository name saves every tag of it.
      bool found = false;
      for (const store::ImageRecord& rec : images_->images()) {
        for (const Reference& r : rec.refs) {
          if (r.has_tag() && !r.has_digest() && r.name() == ref->name()) {
            add_item(items, rec.id, r);
            found = true;
          }
        }
      }
      if (found) {
        continue;
      }
    }
    auto resolved = images_->resolve(name);
    if (!resolved) {
      if (resolved.error().code() == ErrorCode::NotFound) {
        // Docker names the image as the client wrote it (transcript 183).
        return make_error(ErrorCode::NotFound, "No such image: {}", name);
      }
      return std::move(resolved).error();
    }
    ImageId id = *resolved;
    std::optional<Reference> tag;
    if (ref && !is_id && ref->has_tag() && !ref->has_digest()) {
      tag = *ref;
    }
    add_item(items, id, tag);
  }
  if (items.empty()) {
    return make_error(ErrorCode::InvalidArgument, "no images to save");
  }

  // Blobs must not be collected while they are being written.
  std::shared_lock gc(gc_mu_);

  struct Prepared {
    std::string config;
    content::ImageConfig cfg;
    content::Manifest stored;  // the manifest naming the layer blobs we keep
  };
  std::vector<Prepared> prepared;
  for (const Item& item : items) {
    store::ImageRecord rec = MYDOCKER_TRY(images_->get(item.id));
    Prepared p;
    p.config = MYDOCKER_TRY(content_->read(item.id.digest()));
    p.cfg = rec.config;
    bool found = false;
    for (const Digest& md : rec.manifests) {
      auto bytes = content_->read(md);
      if (!bytes) {
        continue;
      }
      auto m = content::Manifest::parse(*bytes);
      if (!m || m->config.digest != item.id.digest() ||
          m->layers.size() != p.cfg.rootfs.diff_ids.size()) {
        continue;
      }
      bool all = std::all_of(m->layers.begin(), m->layers.end(), [&](const content::Descriptor& d) {
        return content_->exists(d.digest);
      });
      if (all) {
        p.stored = std::move(*m);
        found = true;
        break;
      }
    }
    if (!found && !p.cfg.rootfs.diff_ids.empty()) {
      return make_error(ErrorCode::FailedPrecondition,
                        "image `{}`: the layer blobs are not in the content store", item.id.str());
    }
    prepared.push_back(std::move(p));
  }

  archive::TarWriter w = MYDOCKER_TRY(archive::TarWriter::open(out));
  MYDOCKER_TRY(w.add_file("oci-layout", R"({"imageLayoutVersion":"1.0.0"})"));
  for (std::string dir : {"blobs", "blobs/sha256"}) {
    archive::TarWriteEntry e;
    e.name = dir;
    e.type = archive::TarEntryHeader::Type::Dir;
    e.mode = 0755;
    MYDOCKER_TRY(w.add(e));
  }

  std::set<std::string> written;
  nlohmann::json docker_manifest = nlohmann::json::array();
  nlohmann::json repositories = nlohmann::json::object();
  content::Index index;
  index.schema_version = 2;
  index.media_type = std::string(content::media_type::kOciIndex);

  for (size_t i = 0; i < items.size(); ++i) {
    const Item& item = items[i];
    const Prepared& p = prepared[i];
    content::Manifest m;
    m.media_type = std::string(content::media_type::kOciManifest);
    m.config.media_type = std::string(content::media_type::kOciConfig);
    m.config.digest = item.id.digest();
    m.config.size = static_cast<int64_t>(p.config.size());
    nlohmann::json layer_names = nlohmann::json::array();
    for (size_t l = 0; l < p.cfg.rootfs.diff_ids.size(); ++l) {
      const DiffId& diff = p.cfg.rootfs.diff_ids[l];
      const Digest& blob = p.stored.layers[l].digest;
      std::string name = blob_name(diff.digest());
      int64_t size = 0;
      if (blob == diff.digest()) {
        size = MYDOCKER_TRY(content_->info(blob)).size;
      } else {
        // Stored compressed: one pass to learn the size (and check the DiffID), one to copy.
        auto src = MYDOCKER_TRY(layers::FileSource::open(content_->blob_path(blob)));
        layers::UnpackResult d =
            MYDOCKER_TRY_CTX(layers::digest_layer(src), "layer `{}`", blob.str());
        if (d.diff_id != diff) {
          return make_error(ErrorCode::Internal, "layer blob `{}`: diff id is {}, config says {}",
                            blob.str(), d.diff_id.str(), diff.str());
        }
        size = static_cast<int64_t>(d.uncompressed_size);
      }
      if (written.insert(name).second) {
        auto src = MYDOCKER_TRY(layers::FileSource::open(content_->blob_path(blob)));
        if (blob == diff.digest()) {
          MYDOCKER_TRY_CTX(w.add_stream(name, size, src), "save layer `{}`", diff.str());
        } else {
          auto plain = MYDOCKER_TRY(archive::DecompressSource::open(src));
          MYDOCKER_TRY_CTX(w.add_stream(name, size, *plain), "save layer `{}`", diff.str());
        }
      }
      content::Descriptor d;
      d.media_type = std::string(content::media_type::kOciLayer);
      d.digest = diff.digest();
      d.size = size;
      m.layers.push_back(std::move(d));
      layer_names.push_back(name);
    }
    std::string config_name = blob_name(item.id.digest());
    if (written.insert(config_name).second) {
      MYDOCKER_TRY(w.add_file(config_name, p.config));
    }
    std::string manifest_bytes = m.serialize();
    Digest md = Digest::sha256_of(manifest_bytes);
    if (written.insert(blob_name(md)).second) {
      MYDOCKER_TRY(w.add_file(blob_name(md), manifest_bytes));
    }

    content::Descriptor desc;
    desc.media_type = std::string(content::media_type::kOciManifest);
    desc.digest = md;
    desc.size = static_cast<int64_t>(manifest_bytes.size());
    nlohmann::json tags = nlohmann::json::array();
    for (const Reference& t : item.tags) {
      content::Descriptor named = desc;
      named.annotations["io.containerd.image.name"] = t.str();
      named.annotations["org.opencontainers.image.ref.name"] = t.tag();
      index.manifests.push_back(std::move(named));
      tags.push_back(t.familiar());
      if (!p.cfg.rootfs.diff_ids.empty()) {
        repositories[t.familiar_name()][t.tag()] = std::string(p.cfg.rootfs.diff_ids.back().hex());
      }
    }
    if (item.tags.empty()) {
      index.manifests.push_back(desc);
    }
    docker_manifest.push_back({{"Config", config_name},
                               {"RepoTags", item.tags.empty() ? nlohmann::json() : tags},
                               {"Layers", layer_names}});
  }
  MYDOCKER_TRY(w.add_file("index.json", index.serialize()));
  MYDOCKER_TRY(w.add_file("manifest.json", docker_manifest.dump()));
  if (!repositories.empty()) {
    MYDOCKER_TRY(w.add_file("repositories", repositories.dump()));
  }
  return w.finish();
}

}  // namespace mydocker::image
