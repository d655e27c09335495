// SPDX-License-Identifier: Apache-2.0
// ImageStore: the image metadata of the daemon — which images exist, their names (tags and
// digests), and the Docker-shaped views of them (list, inspect, history) with Docker's
// remove / prune rules. It does not touch layers: the layer store owns those, and the engine
// (or image/archive) wires the two with the Hooks below.
//
// On-disk layout (StorePaths; `<data-root>` is a constructor parameter):
//
//   <data-root>/image/
//     repositories.json       {"Repositories": {"busybox": {"busybox:latest": "sha256:<id>",
//                                                "busybox@sha256:<manifest>": "sha256:<id>"}}}
//                             (Docker's format: familiar names and references)
//     metadata/<hex>.json     one per image: {"id", "manifests", "size", "parent",
//                                             "last_tag_time", "added"}
//   <data-root>/content/blobs/sha256/<hex>   the config (and manifest) blobs: ContentStore
//
// An image is: a config blob in the content store (image ID = sha256 of those bytes, exactly
// as Docker) + its metadata file. Every write is durable (temp + fsync + rename + fsync(dir)).
// Order on add: config blob, then metadata, then (separately, via tag()) the names; so a
// crash leaves at worst a complete but untagged image, never a half one. On open, metadata
// whose config blob is missing or unreadable is skipped (reported by load_warnings()), and
// names pointing at unknown images are dropped.
//
// Resolving what a user typed (resolve(), and every call taking `ref_or_id`) follows Docker's
// GetImage: a full 64-hex ID or "sha256:<hex>" is an ID; otherwise the text is a reference
// (default tag `latest`) looked up among the names; failing that, a hex prefix of an image ID
// ("e9577e1f", "sha256:e957"). Errors:
//   NotFound         "No such image: busybox:latest" / "No such image: sha256:<hex>"
//   InvalidArgument  reference syntax ("invalid reference format: ..."), an ambiguous ID prefix
//                    ("Multiple IDs found with provided prefix: ab" — Docker 20.10 says
//                    "No such image" here; we name the actual problem, as Docker does for
//                    containers), bad filters ("Invalid filter 'foo'", "Invalid filter
//                    'dangling=[maybe]'")
//   Conflict         remove refusals, in Docker's words:
//     "conflict: unable to remove repository reference \"X\" (must force) - container C is
//      using its referenced image I"
//     "conflict: unable to delete I (must be forced) - image is referenced in multiple
//      repositories"
//     "conflict: unable to delete I (cannot be forced) - image is being used by running
//      container C"
//     "conflict: unable to delete I (must be forced) - image is being used by stopped
//      container C"
//     "conflict: unable to delete I (cannot be forced) - image has dependent child images"
//   others           I/O errors of the durable writes (the in-memory state is unchanged then).
//
// Thread-safety: all methods may be called concurrently; one mutex (`mu_`) guards the
// in-memory maps and orders the file writes (held across those writes so the files always
// match some serial order of the calls). Results are snapshots (copies). Hooks are never
// called with `mu_` held, so they may take the engine's own locks (no lock-order inversion
// with threads that hold those locks and call into the store). A hook may even call the
// store: container_usage sees the state before the operation, release_layers the state after.
//
// Wiring (engine / image/archive), with a layers::LayerStore holding one reference per image
// on the image's top chain ID (taken when the layers are registered, before add()):
//   hooks.release_layers = [&](const ImageRecord& r) {
//     std::vector<ReleasedLayer> out;
//     if (r.config.rootfs.diff_ids.empty()) return out;
//     auto chains = chain_ids(r.config.rootfs.diff_ids);
//     std::map<ChainId, int64_t> sizes;  // read before release() deletes them
//     for (auto& c : chains) if (auto l = layers.get(c)) sizes[c] = l->size;
//     if (auto gone = layers.release(chains.back()))
//       for (auto& c : *gone) out.push_back({c.str(), sizes[c]});
//     return out;
//   };
//   hooks.layer_diff_size = [&](const ChainId& c) -> std::optional<int64_t> {
//     auto l = layers.get(c); return l ? std::optional<int64_t>(l->size) : std::nullopt; };
//   hooks.container_usage = [&] { /* snapshot of the container store: image ID -> users */ };
// Load/import order: register layers, write the manifest blob (if any) to the content store,
// add({config bytes, sum of layer sizes, manifest digest}), then tag() each RepoTag and each
// name@manifest-digest. Save: get() -> config bytes via ContentStore::read(id.digest()),
// diff IDs from record.config.rootfs, names from record.repo_tags()/repo_digests().
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "image/content/content_store.h"
#include "image/content/image_config.h"
#include "image/digest/digest.h"
#include "image/reference/reference.h"
#include "runtime/base/error.h"

namespace mydocker::image::store {

using reference::Reference;

struct StorePaths {
  explicit StorePaths(const std::string& data_root)
      : dir(data_root + "/image"),
        repositories(dir + "/repositories.json"),
        metadata_dir(dir + "/metadata") {}
  std::string metadata(const ImageId& id) const {
    return metadata_dir + "/" + std::string(id.hex()) + ".json";
  }
  std::string dir;
  std::string repositories;
  std::string metadata_dir;
};

// A snapshot of one image.
struct ImageRecord {
  ImageId id;                     // = config digest
  content::ImageConfig config;    // parsed from the stored bytes
  std::vector<Digest> manifests;  // manifest digests this image was seen under (may be empty)
  int64_t size = 0;               // sum of layer sizes (given by the caller at add)
  std::string parent;             // parent image ID ("sha256:..."), "" when none
  std::string last_tag_time;      // RFC 3339 nano, "" when never tagged
  std::vector<Reference> refs;    // names: tagged and digested, sorted by str()

  std::vector<std::string> repo_tags() const;     // familiar "name:tag"
  std::vector<std::string> repo_digests() const;  // familiar "name@sha256:..."
};

struct AddImageOptions {
  std::string config;              // the config bytes, stored as is
  int64_t size = 0;                // sum of the layer sizes
  std::optional<Digest> manifest;  // digest of the manifest it came from, if any
  std::optional<ImageId> parent;   // local build parent; must exist when given
};

// A container that uses an image (for remove's conflict rules).
struct ContainerUse {
  std::string container_id;
  bool running = false;
};

// Image ID -> the containers using it.
using ContainerUsage = std::map<ImageId, std::vector<ContainerUse>>;

// A layer the layer store let go when an image was deleted.
struct ReleasedLayer {
  std::string chain_id;  // "sha256:..."; reported as {"Deleted": chain_id}
  int64_t size = 0;      // counted in prune's SpaceReclaimed
};

// One entry of Docker's ImageDeleteResponseItem: exactly one of the two is set.
struct DeleteItem {
  std::string untagged;  // familiar reference
  std::string deleted;   // image ID or layer chain ID
  bool operator==(const DeleteItem&) const = default;
};
nlohmann::json to_json(const std::vector<DeleteItem>& items);  // [] -> [], Docker's shape

struct PruneReport {
  std::vector<DeleteItem> deleted;
  int64_t space_reclaimed = 0;
};
nlohmann::json to_json(const PruneReport& r);  // {"ImagesDeleted": [...]|null, "SpaceReclaimed"}

// Docker's filters.Args: key -> values (a set; order and duplicates do not matter).
using Filters = std::map<std::string, std::vector<std::string>>;

// One row of `GET /images/json` (Docker's ImageSummary), already shaped the Docker way:
// a dangling image has RepoTags ["<none>:<none>"] and RepoDigests ["<none>@<none>"].
struct ImageSummary {
  std::string id;
  std::string parent_id;
  std::vector<std::string> repo_tags;
  std::vector<std::string> repo_digests;
  int64_t created = 0;  // Unix seconds
  int64_t size = 0;
  std::map<std::string, std::string> labels;
  bool has_labels = false;  // false -> "Labels": null
};
nlohmann::json to_json(const ImageSummary& s);

class ImageStore {
 public:
  struct Hooks {
    // A snapshot of which containers use which image, taken once at the start of remove()
    // and prune() (like moby's container view). Default: no containers.
    std::function<ContainerUsage()> container_usage;
    // Called after an image's metadata is deleted; returns the layers released (reported as
    // Deleted items right after the image, and counted by prune). Default: none.
    std::function<std::vector<ReleasedLayer>(const ImageRecord&)> release_layers;
    // The diff size of the layer with this chain ID (for history). Default: unknown, which
    // history reports as 0 (or the image size for a one-layer image).
    std::function<std::optional<int64_t>(const ChainId&)> layer_diff_size;
    // Wall clock for LastTagTime: {seconds, nanoseconds}. Default: the system clock.
    std::function<std::pair<int64_t, int32_t>()> now;
  };

  // Loads `<data_root>/image` (created if missing). `content` must outlive the store.
  static base::Result<std::unique_ptr<ImageStore>> open(const std::string& data_root,
                                                        const content::ContentStore& content,
                                                        Hooks hooks = {});

  const StorePaths& paths() const { return paths_; }
  // Records skipped at open (corrupt metadata, missing config blob), one line each.
  std::vector<std::string> load_warnings() const;

  // Adds an image: stores the config blob (verified to parse as an image config), writes its
  // metadata. Adding an existing image is not an error: its names are kept, the manifest is
  // added to its list and size/parent are updated. InvalidArgument for a bad config or an
  // unknown parent.
  base::Result<ImageRecord> add(const AddImageOptions& opts);

  // Names image `id` with `ref` (Docker's `docker tag`): a tag (or no tag: `latest`) moves from
  // whatever image had it (that image may become dangling); a digest reference
  // (name@sha256:...) is added, and Conflict "Cannot overwrite digest X" if it names another
  // image. A reference with both tag and digest is InvalidArgument "refusing to create a tag
  // with a digest reference"; "sha256" as a name is refused too. Sets LastTagTime.
  base::Result<void> tag(const ImageId& id, const Reference& ref);
  // `tag()` for the API's (source, repo, tag) triple: resolves `source`, parses `repo` and
  // `tag` with Docker's errors (NotFound "No such image: X", "invalid reference format...").
  base::Result<ImageId> tag_image(std::string_view source, std::string_view repo,
                                  std::string_view tag);

  // Docker's GetImage (see the header comment).
  base::Result<ImageId> resolve(std::string_view ref_or_id) const;
  base::Result<ImageRecord> get(std::string_view ref_or_id) const;
  base::Result<ImageRecord> get(const ImageId& id) const;
  bool exists(const ImageId& id) const;
  // The image a name points to (no ID-prefix fallback); NotFound when the name is unknown.
  base::Result<ImageId> lookup_reference(const Reference& ref) const;

  // Removes one name. Returns the removed name, familiar (Docker's "Untagged" text).
  // NotFound when the name is unknown. Never deletes the image itself.
  base::Result<std::string> untag(const Reference& ref);

  // `docker rmi` (DELETE /images/{name}) with Docker's rules: a name untags (and deletes the
  // image once no name is left); an ID deletes the image and its names; `force` overrides soft
  // conflicts (several names, stopped containers); `prune` also deletes now-dangling parents.
  base::Result<std::vector<DeleteItem>> remove(std::string_view ref_or_id, bool force = false,
                                               bool prune = true);

  // `GET /images/json`: filters dangling=true|false, label=k|k=v, before=<image>,
  // since=<image>, reference=<glob>. `all` shows untagged intermediate images too. Newest
  // first.
  base::Result<std::vector<ImageSummary>> list(const Filters& filters = {}, bool all = false) const;

  // Docker's ImageInspect as JSON. "GraphDriver" is {"Data": null, "Name": ""}: the caller
  // fills it from the layer store.
  base::Result<nlohmann::json> inspect(std::string_view ref_or_id) const;

  // Docker's image history: newest first, [{"Id","Created","CreatedBy","Tags","Size",
  // "Comment"}]; entries below the image's own are "<missing>" unless a local parent chain
  // provides IDs.
  base::Result<nlohmann::json> history(std::string_view ref_or_id) const;

  // `POST /images/prune`: filters dangling=true|false (default true: only untagged images;
  // false: every image no container uses), label, label!, until.
  base::Result<PruneReport> prune(const Filters& filters = {});

  // Garbage collection of the content store: removes every blob that no image references
  // (configs and recorded manifests are referenced). Returns the removed digests. A blob
  // written for an image that is not added yet (a load or pull in progress) is unreferenced
  // too: run this at start-up, or while the engine holds off loads and pulls.
  base::Result<std::vector<Digest>> collect_garbage();

  // Snapshot of every image, sorted by ID.
  std::vector<ImageRecord> images() const;
  // Images whose parent is `id`.
  std::vector<ImageId> children(const ImageId& id) const;

 private:
  struct Entry {
    ImageRecord rec;  // rec.refs is rebuilt from refs_ when a snapshot is taken
    int64_t added = 0;
  };
  struct Pending;  // one remove/prune: the usage snapshot in, the deleted images out

  ImageStore(const std::string& data_root, const content::ContentStore& content, Hooks hooks);
  base::Result<void> load();

  // All below: `mu_` held.
  ImageRecord snapshot_locked(const Entry& e) const;
  std::vector<Reference> refs_of_locked(const ImageId& id) const;
  base::Result<ImageId> resolve_locked(std::string_view ref_or_id) const;
  base::Result<void> save_repositories_locked() const;
  base::Result<void> save_metadata_locked(const Entry& e) const;
  std::string now_rfc3339() const;
  bool dangling_locked(const ImageId& id) const;
  std::vector<ImageId> children_locked(const ImageId& id) const;
  base::Result<std::vector<DeleteItem>> remove_locked(std::string_view ref_or_id, bool force,
                                                      bool prune, Pending& pending);
  base::Result<void> delete_helper_locked(const ImageId& id, std::vector<DeleteItem>& items,
                                          bool force, bool prune, bool quiet, Pending& pending);
  std::optional<base::Error> delete_conflict_locked(const ImageId& id, bool hard_only,
                                                    bool check_refs, bool* used,
                                                    const Pending& op) const;
  void finish_pending(Pending& pending, std::vector<DeleteItem>& items, int64_t* reclaimed);

  const StorePaths paths_;
  const content::ContentStore& content_;
  Hooks hooks_;

  mutable std::mutex mu_;
  // Guarded by mu_: images by ID hex; names by normalised reference string -> (ref, image);
  // the warnings of load().
  std::map<std::string, Entry> images_;
  std::map<std::string, std::pair<Reference, ImageId>> refs_;
  std::vector<std::string> warnings_;
};

}  // namespace mydocker::image::store
