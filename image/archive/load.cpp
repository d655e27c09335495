// SPDX-License-Identifier: Apache-2.0
// Images::load: `docker save` tarballs and OCI image layouts.
//
//   archive tar ──► every regular member streamed into the content store (OCI blobs verified
//   (any order)     against their names) ──► name -> blob map (+ symlinks / hard links)
//               ──► manifest.json (docker save) or index.json (OCI) -> candidates
//               ──► configs parsed, descriptors checked against the archive
//               ──► layers registered (DiffIDs verified) ──► image metadata ──► names
#include <array>
#include <map>
#include <set>

#include "image/archive/images.h"
#include "image/archive/images_internal.h"
#include "image/archive/tar_io.h"
#include "image/content/manifest.h"
#include "runtime/base/scope_exit.h"
#include "runtime/base/strings.h"

namespace mydocker::image {

using base::ErrorCode;
using base::make_error;
using reference::Reference;

namespace {

constexpr std::string_view kContainerdName = "io.containerd.image.name";
constexpr std::string_view kOciRefName = "org.opencontainers.image.ref.name";

// Lexically cleaned member name ("./a//b/" -> "a/b"); "" for the archive root. Names that
// are absolute or climb out with `..` are refused: a loader that later resolves them against
// a directory must never be able to leave it.
base::Result<std::string> clean_name(std::string_view raw, std::string_view shown) {
  if (!raw.empty() && raw[0] == '/') {
    return make_error(ErrorCode::InvalidArgument, "archive entry `{}`: absolute name", shown);
  }
  std::vector<std::string> parts;
  for (const std::string& p : base::split(raw, '/')) {
    if (p.empty() || p == ".") {
      continue;
    }
    if (p == "..") {
      if (parts.empty()) {
        return make_error(ErrorCode::InvalidArgument,
                          "archive entry `{}`: escapes the archive root", shown);
      }
      parts.pop_back();
      continue;
    }
    parts.push_back(p);
  }
  return base::join(parts, "/");
}

bool is_hex64(std::string_view s) {
  if (s.size() != 64) {
    return false;
  }
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

// "blobs/sha256/<hex>" -> its digest.
std::optional<Digest> blob_name_digest(const std::string& name) {
  constexpr std::string_view kPrefix = "blobs/sha256/";
  if (name.rfind(kPrefix, 0) != 0 || !is_hex64(std::string_view(name).substr(kPrefix.size()))) {
    return std::nullopt;
  }
  return Digest::from_sha256_hex(name.substr(kPrefix.size()));
}

struct Member {
  Digest digest;
  int64_t size = 0;
};

// What the archive holds, by cleaned name.
struct Contents {
  std::map<std::string, Member> files;
  std::map<std::string, std::string> links;  // symlinks and hard links -> cleaned target
  std::map<std::string, int64_t> by_digest;  // every blob the archive brought -> size

  // Follows links (bounded) to a file; NotFound-ish InvalidArgument naming who asked.
  base::Result<Member> lookup(const std::string& raw, std::string_view named_by) const {
    std::string name = MYDOCKER_TRY(clean_name(raw, raw));
    for (int hops = 0; hops < 16; ++hops) {
      if (auto f = files.find(name); f != files.end()) {
        return f->second;
      }
      auto l = links.find(name);
      if (l == links.end()) {
        break;
      }
      name = l->second;
    }
    return make_error(ErrorCode::InvalidArgument, "`{}` named by `{}` is missing from the archive",
                      raw, named_by);
  }

  // An OCI descriptor's blob must have come with the archive, with the size it declares.
  base::Result<void> check(const content::Descriptor& d, std::string_view named_by) const {
    auto it = by_digest.find(d.digest.str());
    if (it == by_digest.end()) {
      return make_error(ErrorCode::InvalidArgument,
                        "blob `{}` named by `{}` is missing from the archive", d.digest.str(),
                        named_by);
    }
    if (it->second != d.size) {
      return make_error(ErrorCode::InvalidArgument,
                        "blob `{}` named by `{}`: size mismatch: expected {} bytes, got {}",
                        d.digest.str(), named_by, d.size, it->second);
    }
    return base::ok();
  }
};

struct Candidate {
  Digest config;
  std::vector<Digest> layers;
  std::optional<Digest> manifest;  // the OCI manifest it came with
  std::vector<Reference> tags;
  std::string source;  // "manifest.json[0]" / "index.json" for messages
};

base::Result<std::vector<Candidate>> parse_docker_save(const Contents& c,
                                                       const content::ContentStore& store) {
  Member m = MYDOCKER_TRY(c.lookup("manifest.json", "the archive"));
  std::string text = MYDOCKER_TRY(store.read(m.digest));
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_array()) {
    return make_error(ErrorCode::InvalidArgument, "invalid `manifest.json`: not a JSON array");
  }
  std::vector<Candidate> out;
  for (size_t i = 0; i < j.size(); ++i) {
    const auto& e = j[i];
    std::string where = fmt::format("manifest.json[{}]", i);
    if (!e.is_object() || !e.contains("Config") || !e["Config"].is_string() ||
        !e.contains("Layers") || !e["Layers"].is_array()) {
      return make_error(ErrorCode::InvalidArgument,
                        "invalid `{}`: want an object with `Config` and `Layers`", where);
    }
    Candidate cand;
    cand.source = where;
    cand.config = MYDOCKER_TRY(c.lookup(e["Config"].get<std::string>(), where)).digest;
    // A config named <hex>.json must hash to <hex>: anything else is a damaged archive.
    std::string cfg_name = e["Config"].get<std::string>();
    std::string stem = cfg_name.substr(cfg_name.rfind('/') + 1);
    if (stem.size() == 69 && stem.ends_with(".json")) {
      stem.resize(64);
    }
    if (is_hex64(stem) && stem != cand.config.hex()) {
      return make_error(ErrorCode::InvalidArgument,
                        "`{}`: digest mismatch: expected `sha256:{}`, got `{}`", cfg_name, stem,
                        cand.config.str());
    }
    for (const auto& l : e["Layers"]) {
      if (!l.is_string()) {
        return make_error(ErrorCode::InvalidArgument, "invalid `{}`: `Layers` holds a non-string",
                          where);
      }
      cand.layers.push_back(MYDOCKER_TRY(c.lookup(l.get<std::string>(), where)).digest);
    }
    if (e.contains("RepoTags") && e["RepoTags"].is_array()) {
      for (const auto& t : e["RepoTags"]) {
        if (!t.is_string()) {
          continue;
        }
        auto ref = Reference::parse(t.get<std::string>());
        if (!ref || ref->has_digest() || !ref->has_tag()) {
          return make_error(ErrorCode::InvalidArgument, "invalid tag \"{}\" in `{}`",
                            t.get<std::string>(), where);
        }
        cand.tags.push_back(*ref);
      }
    }
    out.push_back(std::move(cand));
  }
  return out;
}

base::Result<content::Manifest> read_manifest(const Contents& c, const content::ContentStore& store,
                                              const content::Descriptor& d,
                                              std::string_view named_by) {
  MYDOCKER_TRY(c.check(d, named_by));
  std::string bytes = MYDOCKER_TRY(store.read(d.digest));
  content::Manifest m =
      MYDOCKER_TRY_CTX(content::Manifest::parse(bytes), "manifest `{}`", d.digest.str());
  std::string where = "manifest " + d.digest.str();
  MYDOCKER_TRY(c.check(m.config, where));
  for (const auto& l : m.layers) {
    MYDOCKER_TRY(c.check(l, where));
  }
  return m;
}

base::Result<std::vector<Candidate>> parse_oci_layout(const Contents& c,
                                                      const content::ContentStore& store,
                                                      const std::string& arch) {
  Member im = MYDOCKER_TRY(c.lookup("index.json", "the archive"));
  std::string text = MYDOCKER_TRY(store.read(im.digest));
  content::Index index = MYDOCKER_TRY_CTX(content::Index::parse(text), "`index.json`");
  std::vector<Candidate> out;
  for (const content::Descriptor& top : index.manifests) {
    content::Descriptor desc = top;
    if (content::media_type::is_index(desc.media_type)) {
      MYDOCKER_TRY(c.check(desc, "index.json"));
      std::string bytes = MYDOCKER_TRY(store.read(desc.digest));
      content::Index inner =
          MYDOCKER_TRY_CTX(content::Index::parse(bytes), "index `{}`", desc.digest.str());
      const content::Descriptor* pick = nullptr;
      for (const auto& d : inner.manifests) {
        if (!content::media_type::is_manifest(d.media_type)) {
          continue;
        }
        if (!d.platform || (d.platform->os == "linux" && d.platform->architecture == arch)) {
          pick = &d;
          break;
        }
      }
      if (pick == nullptr) {
        return make_error(ErrorCode::NotFound, "index `{}`: no manifest for platform linux/{}",
                          desc.digest.str(), arch);
      }
      desc = *pick;
    } else if (!content::media_type::is_manifest(desc.media_type)) {
      continue;  // attestations, artifacts
    }
    content::Manifest m = MYDOCKER_TRY(read_manifest(c, store, desc, "index.json"));
    std::optional<Reference> ref;
    if (auto it = top.annotations.find(std::string(kContainerdName)); it != top.annotations.end()) {
      auto r = Reference::parse(it->second);
      if (!r) {
        return std::move(r).error().wrap(fmt::format("`{}` in `index.json`", kContainerdName));
      }
      ref = *r;
    } else if (auto it2 = top.annotations.find(std::string(kOciRefName));
               it2 != top.annotations.end()) {
      // A full reference names the image; a bare tag ("latest", as skopeo's oci:dir:tag
      // writes) carries no repository, so the image loads untagged.
      if (it2->second.find_first_of("/:@") != std::string::npos) {
        auto r = Reference::parse(it2->second);
        if (!r) {
          return std::move(r).error().wrap(fmt::format("`{}` in `index.json`", kOciRefName));
        }
        ref = *r;
      }
    }
    if (ref) {
      if (ref->has_digest()) {
        ref.reset();  // digests are not names we can tag with
      } else {
        ref = ref->with_default_tag();
      }
    }
    auto same = std::find_if(out.begin(), out.end(),
                             [&](const Candidate& k) { return k.manifest == desc.digest; });
    if (same != out.end()) {
      if (ref) {
        same->tags.push_back(*ref);
      }
      continue;
    }
    Candidate cand;
    cand.source = "index.json";
    cand.config = m.config.digest;
    for (const auto& l : m.layers) {
      cand.layers.push_back(l.digest);
    }
    cand.manifest = desc.digest;
    if (ref) {
      cand.tags.push_back(*ref);
    }
    out.push_back(std::move(cand));
  }
  if (out.empty()) {
    return make_error(ErrorCode::InvalidArgument, "`index.json` names no image manifest");
  }
  return out;
}

// Compression by magic bytes (gzip 1f 8b, zstd 28 b5 2f fd).
layers::Compression sniff(const content::ContentStore& store, const Digest& d) {
  auto fd = store.open_blob(d);
  if (!fd) {
    return layers::Compression::None;
  }
  std::array<unsigned char, 4> m{};
  ssize_t n = ::pread(fd->get(), m.data(), m.size(), 0);
  if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b) {
    return layers::Compression::Gzip;
  }
  if (n == 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) {
    return layers::Compression::Zstd;
  }
  return layers::Compression::None;
}

}  // namespace

base::Result<std::optional<ChainId>> Images::register_layers(Op& op,
                                                             const std::vector<DiffId>& diffs,
                                                             const std::vector<Digest>& blobs,
                                                             const LoadOptions& options) {
  std::optional<ChainId> parent;
  for (size_t i = 0; i < diffs.size(); ++i) {
    auto src = MYDOCKER_TRY(layers::FileSource::open(content_->blob_path(blobs[i])));
    layers::RegisterResult r =
        MYDOCKER_TRY_CTX(layers_->register_with_diff_id(parent, diffs[i], src), "layer {} (`{}`)",
                         i, blobs[i].str());
    op.held.push_back(r.chain_id);
    if (r.unpacked && r.created && options.on_layer) {
      options.on_layer({.chain_id = r.chain_id,
                        .diff_id = r.diff_id,
                        .size = static_cast<int64_t>(r.unpacked->compressed_size)});
    }
    if (r.unpacked) {
      // register_with_diff_id checked the DiffID while unpacking.
      remember_pair(r.unpacked->compressed_digest, r.diff_id);
    }
    // The layer existed, so its tar was not read: check that this blob really is that layer
    // (an uncompressed blob is its own DiffID), unless this pair was checked before.
    if (!r.unpacked && blobs[i] != diffs[i].digest() && !pair_verified(blobs[i], diffs[i])) {
      layer_rechecks_.fetch_add(1);
      auto again = MYDOCKER_TRY(layers::FileSource::open(content_->blob_path(blobs[i])));
      layers::UnpackResult d =
          MYDOCKER_TRY_CTX(layers::digest_layer(again), "layer {} (`{}`)", i, blobs[i].str());
      if (d.diff_id != diffs[i]) {
        return make_error(ErrorCode::InvalidArgument,
                          "layer {} (`{}`): layer diff id mismatch: expected {}, got {}", i,
                          blobs[i].str(), diffs[i].str(), d.diff_id.str());
      }
      remember_pair(blobs[i], diffs[i]);
    }
    if (parent) {
      auto it = std::find(op.held.begin(), op.held.end(), *parent);
      if (it != op.held.end()) {
        op.held.erase(it);
      }
      MYDOCKER_TRY(layers_->release(*parent));
    }
    parent = r.chain_id;
  }
  return parent;
}

base::Result<LoadResult> Images::load(layers::ByteSource& input, const LoadOptions& options) {
  Op op(gc_mu_);
  base::ScopeExit done([&] { finish_op(op); });

  // 1. Stream every member into the content store.
  Contents c;
  archive::TarReader reader = MYDOCKER_TRY(archive::TarReader::open(input));
  auto buf = std::make_unique<std::byte[]>(1 << 20);
  for (;;) {
    auto h = MYDOCKER_TRY(reader.next());
    if (!h) {
      break;
    }
    std::string name = MYDOCKER_TRY(clean_name(h->name, h->name));
    if (name.empty()) {
      continue;
    }
    using Type = archive::TarEntryHeader::Type;
    if (h->type == Type::Symlink) {
      if (!h->link.empty() && h->link[0] == '/') {
        return make_error(ErrorCode::InvalidArgument,
                          "archive entry `{}`: symlink to absolute `{}`", h->name, h->link);
      }
      size_t slash = name.rfind('/');
      std::string dir = slash == std::string::npos ? "" : name.substr(0, slash + 1);
      c.links[name] = MYDOCKER_TRY(clean_name(dir + h->link, h->name));
      continue;
    }
    if (h->type == Type::Hardlink) {
      c.links[name] = MYDOCKER_TRY(clean_name(h->link, h->name));
      continue;
    }
    if (h->type != Type::File) {
      continue;
    }
    std::optional<Digest> expected = blob_name_digest(name);
    if (expected) {
      pin(op, *expected);
      if (content_->exists(*expected)) {
        auto info = MYDOCKER_TRY(content_->info(*expected));
        int64_t seen = 0;
        for (;;) {
          size_t n = MYDOCKER_TRY_CTX(reader.read(std::span<std::byte>(buf.get(), 1 << 20)),
                                      "archive entry `{}`", h->name);
          if (n == 0) {
            break;
          }
          seen += static_cast<int64_t>(n);
        }
        if (seen != info.size) {
          return make_error(ErrorCode::InvalidArgument,
                            "archive entry `{}`: size mismatch: expected {} bytes, got {}", h->name,
                            info.size, seen);
        }
        c.files[name] = {*expected, seen};
        c.by_digest[expected->str()] = seen;
        continue;
      }
    }
    content::Writer w = MYDOCKER_TRY(content_->ingest(expected, h->size));
    for (;;) {
      size_t n = MYDOCKER_TRY_CTX(reader.read(std::span<std::byte>(buf.get(), 1 << 20)),
                                  "archive entry `{}`", h->name);
      if (n == 0) {
        break;
      }
      MYDOCKER_TRY_CTX(w.write(std::string_view(reinterpret_cast<const char*>(buf.get()), n)),
                       "archive entry `{}`", h->name);
    }
    Digest d = MYDOCKER_TRY_CTX(w.commit(), "archive entry `{}`", h->name);
    pin(op, d);
    c.files[name] = {d, h->size};
    c.by_digest[d.str()] = h->size;
  }

  // 2. What kind of archive.
  std::vector<Candidate> cands;
  if (c.files.contains("manifest.json") || c.links.contains("manifest.json")) {
    cands = MYDOCKER_TRY(parse_docker_save(c, *content_));
  } else if (c.files.contains("index.json")) {
    cands = MYDOCKER_TRY(parse_oci_layout(c, *content_, options_.architecture));
  } else if (c.files.contains("repositories")) {
    return make_error(ErrorCode::NotImplemented,
                      "legacy image archive without `manifest.json` is not supported");
  } else {
    return make_error(ErrorCode::InvalidArgument,
                      "invalid image archive: neither `manifest.json` nor `index.json` found");
  }
  if (cands.empty()) {
    return make_error(ErrorCode::InvalidArgument, "image archive holds no image");
  }

  // 3. Configs, then 4. layers, for every image before any is committed.
  struct Ready {
    std::string config_bytes;
    std::optional<ChainId> top;
    Digest manifest;
  };
  std::vector<Ready> ready;
  for (const Candidate& cand : cands) {
    std::string bytes =
        MYDOCKER_TRY_CTX(content_->read(cand.config), "config of `{}`", cand.source);
    content::ImageConfig cfg =
        MYDOCKER_TRY_CTX(content::ImageConfig::parse(bytes), "config `{}`", cand.config.str());
    if (cfg.rootfs.diff_ids.size() != cand.layers.size()) {
      return make_error(ErrorCode::InvalidArgument,
                        "`{}`: {} layers, but config `{}` has {} diff_ids", cand.source,
                        cand.layers.size(), cand.config.str(), cfg.rootfs.diff_ids.size());
    }
    Ready r;
    r.config_bytes = std::move(bytes);
    r.top = MYDOCKER_TRY(register_layers(op, cfg.rootfs.diff_ids, cand.layers, options));
    if (cand.manifest) {
      r.manifest = *cand.manifest;
    } else {
      // A docker-save entry has no manifest: record one, so the image holds its layer blobs.
      content::Manifest m;
      m.media_type = std::string(content::media_type::kOciManifest);
      m.config.media_type = std::string(content::media_type::kOciConfig);
      m.config.digest = cand.config;
      m.config.size = static_cast<int64_t>(r.config_bytes.size());
      for (const Digest& l : cand.layers) {
        content::Descriptor d;
        d.media_type = archive_internal::layer_media_type(sniff(*content_, l));
        d.digest = l;
        d.size = c.by_digest.at(l.str());
        m.layers.push_back(std::move(d));
      }
      r.manifest = MYDOCKER_TRY(content_->write_blob(m.serialize()));
      pin(op, r.manifest);
    }
    ready.push_back(std::move(r));
  }

  // 5. Commit: metadata, then names.
  LoadResult result;
  for (size_t i = 0; i < cands.size(); ++i) {
    ImageId new_id(Digest::sha256_of(ready[i].config_bytes));
    for (const Reference& t : cands[i].tags) {
      auto old = images_->lookup_reference(t);
      if (old && *old != new_id) {
        // Docker's wording (moby image/tarexport/load.go).
        result.lines.push_back(fmt::format(
            "The image {} already exists, renaming the old one with ID {} to empty string",
            t.familiar(), old->str()));
      }
    }
    ImageId id = MYDOCKER_TRY(
        commit_image(op, ready[i].config_bytes, ready[i].manifest, ready[i].top, cands[i].tags));
    LoadedImage li;
    li.id = id;
    for (const Reference& t : cands[i].tags) {
      li.tags.push_back(t.familiar());
      result.lines.push_back("Loaded image: " + t.familiar());
    }
    if (li.tags.empty()) {
      result.lines.push_back("Loaded image ID: " + id.str());
    }
    result.images.push_back(std::move(li));
  }
  return result;
}

}  // namespace mydocker::image
