// SPDX-License-Identifier: Apache-2.0
// Images: the image service for one data root — the content store, the layer store and the
// image store wired together, plus the operations that move images in and out: import, load,
// save, export, and the garbage collection behind remove and prune. The daemon holds one.
//
//   <data-root>/
//     content/   ContentStore: configs, manifests and the layer blobs as loaded/imported
//     layers/    LayerStore: each layer unpacked once, keyed by chain ID
//     image/     ImageStore: image metadata and names
//     verified/  one file per compressed layer blob whose DiffID was verified (see load())
//
// What an image holds (the rule the garbage collector and start-up recovery follow):
//   * its config blob and its manifests (ImageRecord::manifests), and every blob those
//     manifests name (the layer blobs as they arrived: compressed or not);
//   * exactly one layer-store reference, on its top layer (chain ID of all its DiffIDs); the
//     layers below stay through the layer store's parent links. An image without layers holds
//     none. Containers add their own references (Options::container_layers tells recovery).
// Every import and load records a manifest for the image (the OCI one it came with, or one
// made from a docker-save entry / the imported blob), so its layer blobs are always reachable.
//
// Save serves the original layer blobs (decompressed on the fly when they were stored
// compressed), whose uncompressed digest is the DiffID in the config. Re-tarring a diff
// directory cannot reproduce a DiffID byte for byte (tar header layout, field order, padding
// and PAX records differ between writers), so keeping the blob is what makes save -> load give
// the same image ID. The cost is disk: a layer is kept twice, as blob and unpacked.
//
// Crash safety: a load or import commits in this order: blobs (content store, each verified
// and atomically renamed) -> layers (layer store, atomically renamed) -> image metadata
// (ImageStore::add: the commit point) -> names. A kill -9 before the metadata leaves blobs no
// image names and layer references no image holds; open() removes both:
//   1. content ingest leftovers and layer-store temp dirs (ContentStore/LayerStore::open);
//   2. images whose layers are missing are removed (they could not run);
//   3. every layer's reference count is set to what images and containers hold (so references
//      taken by an interrupted load, or not dropped by an interrupted remove, are fixed);
//   4. blobs no image holds are deleted.
//
// Concurrency: all methods may be called from many threads. Loads and imports run in
// parallel; garbage collection (remove, prune, open) excludes them (gc_mu_), and blobs a
// running operation touches are pinned against another operation's failure cleanup.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "image/archive/export.h"
#include "image/archive/tar_io.h"
#include "image/content/content_store.h"
#include "image/digest/digest.h"
#include "image/layers/layer_store.h"
#include "image/layers/source.h"
#include "image/store/image_store.h"
#include "runtime/base/error.h"

namespace mydocker::image {

using archive::ExportOptions;
using archive::Sink;

struct ImagesOptions {
  layers::LayerStore::Options layers;  // Overlay whiteouts for root; Keep when unprivileged
  // Where containers' references come from, for open()'s reference counts. A daemon with
  // containers MUST give one of these (or both): with neither, recovery assumes no container
  // holds a layer and drops such references.
  //   snapshot_roots: roots of layers::Snapshotter stores (OverlayStore/CopyStore) on this
  //     layer store; each key `<root>/<key>/parent` holds one reference on that chain ID
  //     (keys starting with `.` are in-progress leftovers and hold none).
  //   container_layers: any other holders, one entry per reference.
  std::vector<std::string> snapshot_roots;
  std::function<base::Result<std::vector<ChainId>>()> container_layers;
  // Which containers use which image (remove's and prune's conflict rules; passed to the
  // ImageStore as Hooks::container_usage). Default: none.
  std::function<store::ContainerUsage()> container_usage;
  // Platform for import (Docker uses the daemon's). Default: this host (uname), os "linux".
  std::string architecture;
  std::string variant;
};

struct ImportOptions {
  std::string reference;             // "" (untagged) or "repo[:tag]"; no digest
  std::string message;               // history comment; default "Imported from <source>"
  std::string source = "-";          // where the tar came from, for the default message
  std::vector<std::string> changes;  // Dockerfile instructions (changes.h)
};

struct LoadedImage {
  ImageId id;
  std::vector<std::string> tags;  // familiar, e.g. "busybox:latest"
};

struct LoadResult {
  std::vector<LoadedImage> images;
  // Docker's output lines, without "\n", in order: "The image busybox:latest already exists,
  // renaming the old one with ID sha256:... to empty string" when a tag moves, then
  // "Loaded image: busybox:latest" per tag, or "Loaded image ID: sha256:..." for an image
  // without tags.
  std::vector<std::string> lines;
};

// A layer load() had to unpack (Docker's "Loading layer" progress is shown for these only).
struct LoadedLayer {
  ChainId chain_id;
  DiffId diff_id;
  int64_t size = 0;  // bytes read from the layer blob (its compressed size)
};

struct LoadOptions {
  // Called (on the loading thread) after each layer that was not in the store yet.
  std::function<void(const LoadedLayer&)> on_layer;
};

class Images {
 public:
  // Opens (creating) the stores under `data_root` and runs the start-up recovery above.
  // Errors: the stores' open errors; filesystem errors of the recovery.
  static base::Result<std::unique_ptr<Images>> open(const std::string& data_root,
                                                    ImagesOptions options = {});
  Images(const Images&) = delete;
  Images& operator=(const Images&) = delete;
  ~Images();

  content::ContentStore& content() { return *content_; }
  layers::LayerStore& layers() { return *layers_; }
  store::ImageStore& images() { return *images_; }  // tag, list, inspect, history, resolve
  const std::string& data_root() const { return root_; }
  // What open()'s recovery did, one line each (for the daemon log).
  const std::vector<std::string>& recovery_log() const { return recovery_log_; }

  // `docker import`: `tar` (a rootfs as tar, tar+gzip or tar+zstd) becomes a one-layer image
  // with a config for this host's platform and `opts.changes` applied. Returns the image ID.
  // Errors: InvalidArgument for a bad reference ("invalid reference format..."), a bad change
  // (changes.h) — both before `tar` is read — or a bad stream (naming the entry); nothing is
  // left behind on error.
  base::Result<ImageId> import_image(layers::ByteSource& tar, const ImportOptions& opts);

  // `docker load`: a `docker save` tarball or an OCI image layout, as a tar (plain or
  // compressed), detected by content (manifest.json wins when both are present, as Docker).
  // Streams: each member goes to the content store as it is read; memory stays bounded.
  // All digests are verified (OCI blobs against their names and descriptors, layers against
  // the DiffIDs in their config). Errors (InvalidArgument, naming the problem): a malformed or
  // truncated archive, a member name that escapes (`../x`, `/x`), a digest or size mismatch,
  // a manifest naming a blob the archive lacks, a bad manifest/config/reference, a layer
  // count that does not match the config; NotImplemented for legacy (pre-1.10) archives.
  // On error no image of the archive is added and the blobs and layers it brought are gone.
  // An OCI blob the store already has is read past, not written again (the stored copy was
  // verified when it came in), so an image sharing a base costs the time of its own layers
  // plus reading the base's bytes off the stream. Likewise a compressed layer blob whose DiffID
  // was verified before (when a load or import unpacked it, or a load decompressed it to check
  // it) is not decompressed again when its layer already exists: the pair blob digest ->
  // DiffID is a fact about the blob's bytes, kept under verified/. A pair never verified is
  // still checked by decompressing the blob.
  base::Result<LoadResult> load(layers::ByteSource& archive, const LoadOptions& options = {});

  // `docker save`: the images named by `names` (references or IDs; a name without tag saves
  // every tag of that repository, as Docker) as one tar that is both a docker-save archive
  // (manifest.json, repositories) and an OCI layout (oci-layout, index.json, blobs/sha256/),
  // as Docker 25 writes: configs, manifests and uncompressed layers under blobs/sha256/.
  // Errors: NotFound "No such image: X" before anything is written; a missing layer blob
  // (FailedPrecondition); errors of `out`.
  base::Result<void> save(const std::vector<std::string>& names, const Sink& out);

  // `docker export`: see export.h.
  base::Result<void> export_rootfs(const std::string& dir, const Sink& out,
                                   const ExportOptions& opts = {});

  // `docker rmi` (ImageStore::remove) followed by garbage collection of the blobs the deleted
  // images held.
  base::Result<std::vector<store::DeleteItem>> remove(std::string_view ref_or_id,
                                                      bool force = false, bool prune = true);
  // `docker image prune` (ImageStore::prune) followed by garbage collection.
  base::Result<store::PruneReport> prune(const store::Filters& filters = {});
  // Deletes blobs no image holds and layers no image or container holds. Returns the number
  // of blobs removed.
  base::Result<size_t> collect_garbage();

  // An image brought in piece by piece by a caller (a registry pull), with the guarantees of a
  // load: see Ingest below.
  class Ingest;
  std::unique_ptr<Ingest> begin_ingest();

  // The top-layer chain ID of an image (nullopt for an image without layers).
  static std::optional<ChainId> top_layer(const content::ImageConfig& config);

  // How many times load() decompressed an existing layer's blob to check its DiffID.
  uint64_t layer_rechecks_for_test() const { return layer_rechecks_.load(); }

 private:
  struct Op;  // one running import/load: the blobs it pins and the layer refs it holds
  Images(std::string root, ImagesOptions options);
  base::Result<void> recover();
  // Blobs every image holds (config, manifests, the manifests' blobs).
  std::map<std::string, bool> referenced_blobs() const;
  void pin(Op& op, const Digest& d);
  void finish_op(Op& op);
  std::vector<store::ReleasedLayer> release_image_layers(const store::ImageRecord& rec);
  // Registers blobs[i] as the layers with DiffIDs diffs[i], bottom first; the op holds one
  // reference on the top. Verifies each DiffID, also when the layer existed already.
  base::Result<std::optional<ChainId>> register_layers(Op& op, const std::vector<DiffId>& diffs,
                                                       const std::vector<Digest>& blobs,
                                                       const LoadOptions& options);
  // Whether `blob` (a compressed layer blob) was verified to decompress to `diff` before.
  bool pair_verified(const Digest& blob, const DiffId& diff) const;
  // Records that it does. Best effort: a pair that could not be recorded is only checked
  // again next time.
  void remember_pair(const Digest& blob, const DiffId& diff);
  base::Result<ImageId> commit_image(Op& op, const std::string& config_bytes,
                                     const Digest& manifest, const std::optional<ChainId>& top,
                                     const std::vector<reference::Reference>& tags,
                                     const std::optional<ImageId>& parent = std::nullopt);

  const std::string root_;
  ImagesOptions options_;
  std::unique_ptr<content::ContentStore> content_;
  std::unique_ptr<layers::LayerStore> layers_;
  std::unique_ptr<store::ImageStore> images_;
  std::vector<std::string> recovery_log_;

  // Shared by imports and loads for their whole run; exclusive for garbage collection.
  std::shared_mutex gc_mu_;
  // Serialises the commit step (exists? -> add) so two loads of one image take one reference.
  std::mutex commit_mu_;
  // Guards pins_: digest -> number of running operations that touch the blob.
  std::mutex pin_mu_;
  std::map<std::string, int> pins_;
  std::atomic<uint64_t> layer_rechecks_{0};
};

// One image arriving from outside image/archive (image/registry's pull). Like a load, it holds
// garbage collection off for its life; the blobs it pin()s are kept from other operations'
// cleanup, and the layer references it hold()s belong to it until commit() gives the top one
// to the image. Destroyed (committed or not) it drops the references still held and the pinned
// blobs no image holds: a failed pull leaves nothing behind. Order for the caller: pin a blob
// before writing or relying on it; register layers (LayerStore) and hold() each reference
// taken; release() the ones below the top once the top is registered; commit().
// Thread-safety: all methods may be called from several threads.
class Images::Ingest {
 public:
  ~Ingest();
  Ingest(const Ingest&) = delete;
  Ingest& operator=(const Ingest&) = delete;

  void pin(const Digest& blob);
  void hold(const ChainId& layer);
  // Gives back one reference this ingest holds (LayerStore::release). NotFound if it holds none.
  base::Result<void> release(const ChainId& layer);
  // Whether the compressed `blob` was verified to decompress to `diff` before; record that it
  // was (see load()).
  bool pair_verified(const Digest& blob, const DiffId& diff) const;
  void remember_pair(const Digest& blob, const DiffId& diff);
  // Adds the image (config bytes as received; `manifest` must be in the content store and name
  // the image's layer blobs; `top` held by this ingest) and tags it with `names` (tags and
  // name@digest references). `parent`: the local build parent recorded with the image (must
  // exist). Returns the image ID.
  base::Result<ImageId> commit(const std::string& config_bytes, const Digest& manifest,
                               const std::optional<ChainId>& top,
                               const std::vector<reference::Reference>& names,
                               const std::optional<ImageId>& parent = std::nullopt);

 private:
  friend class Images;
  explicit Ingest(Images& images);
  Images& images_;
  std::unique_ptr<Op> op_;
  mutable std::mutex mu_;  // guards op_->held
};

}  // namespace mydocker::image
