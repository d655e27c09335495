// SPDX-License-Identifier: Apache-2.0
// LayerStore: every image layer unpacked once, keyed by its chain ID, shared by all images
// that contain it (Docker's layer store / overlay2 graph driver, OCI image-spec chain IDs).
//
// On disk, under the root given to open() (normally <data-root>/layers):
//
//   <root>/
//     <chain-id hex>/
//       diff/              the unpacked layer (whiteouts in the store's WhiteoutFormat)
//       layer.json         {"chain_id", "diff_id", "parent", "size", "refcount", "link"}
//     l/<short>            -> ../<chain-id hex>/diff: short names for overlay's lowerdir=,
//                          whose option string must fit one page (overlay_store.cpp)
//     tmp/<random>/        unpacks in progress and layers being deleted; cleanup() empties it
//     format               the whiteout format of every layer here ("overlay" or "keep")
//
// A layer appears atomically: it is unpacked into tmp/, its layer.json written and fsynced
// (and the filesystem synced when Options::sync), then the directory is renamed into place.
// A kill -9 at any point leaves at most a tmp/ entry, which open() removes.
//
// References. Each layer has `refcount` (explicit references: register_*() and retain() add
// one, release() drops one) and `children` (layers registered on top of it; derived from
// the parents' links at open(), never trusted from disk). A layer is deleted when both are 0;
// deleting it drops its parent's `children`, which may delete the parent in turn.
// The expected pattern for an image with layers L0..Ln:
//     c0 = register(nullopt, L0); c1 = register(c0, L1); release(c0); ... release(c(n-1))
// so the image holds one reference, on its top layer, and the layers below stay alive
// through `children`. A container's RW layer retains its image's top layer (snapshotter.h).
//
// Thread-safety: all methods may be called concurrently. Unpacking runs unlocked (two
// registrations of the same new layer both unpack; the second to commit is discarded and
// counted as a reference). Metadata updates are serialised by `mu_`. One process per root.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "image/digest/digest.h"
#include "image/layers/source.h"
#include "image/layers/unpack.h"
#include "runtime/base/error.h"

namespace mydocker::image::layers {

struct LayerInfo {
  ChainId chain_id;
  DiffId diff_id;
  std::optional<ChainId> parent;
  uint64_t size = 0;      // bytes of regular files in diff/ (hard links counted once)
  uint64_t refcount = 0;  // explicit references
  uint64_t children = 0;  // layers directly on top of this one
  std::string link;       // short name under <root>/l/
};

struct RegisterResult {
  ChainId chain_id;
  DiffId diff_id;
  bool created = false;  // false: the layer existed; only a reference was added
  // Digests and sizes of the stream, when it was read (always except the fast path of
  // register_with_diff_id). The compressed digest is what a content store verifies.
  std::optional<UnpackResult> unpacked;
};

class LayerStore {
 public:
  struct Options {
    // Overlay for the overlay snapshotter (root); Keep for unprivileged stores. CopyStore
    // reads both. Fixed per root: open() with another one is FailedPrecondition; Apply is
    // InvalidArgument.
    WhiteoutFormat whiteouts = WhiteoutFormat::Overlay;
    bool preserve_owners = true;
    // syncfs() before a new layer is renamed into place, so a layer that exists after a crash
    // has its content on disk. Tests turn it off for speed.
    bool sync = true;
  };

  // Creates `root` if needed, runs cleanup() and loads the layers. Errors: from the
  // filesystem; InvalidArgument for a corrupt layer.json (naming it).
  static base::Result<std::unique_ptr<LayerStore>> open(std::string root, Options options);
  // Opens with default Options.
  static base::Result<std::unique_ptr<LayerStore>> open(std::string root);

  LayerStore(const LayerStore&) = delete;
  LayerStore& operator=(const LayerStore&) = delete;
  ~LayerStore();

  // Unpacks `tar` (tar, tar+gzip or tar+zstd) on top of `parent` (nullopt: a base layer) and
  // returns the new layer's chain ID, holding one reference for the caller. If the layer
  // already exists, it is only counted: the DiffID (hence the chain ID) is known only once the
  // stream has been read, so it is unpacked into tmp/ in the same single pass and that copy is
  // discarded; the store never holds two copies. Callers that know the DiffID (from an image
  // config) should use register_with_diff_id, which skips the stream entirely.
  // Errors: NotFound (parent missing), unpack() errors (InvalidArgument for bad streams and
  // refused entries, naming them), filesystem errors. Nothing is left behind on error.
  base::Result<RegisterResult> register_layer(const std::optional<ChainId>& parent,
                                              ByteSource& tar);

  // The same when the caller knows the DiffID (from an image config): if the chain ID exists,
  // `tar` is not read at all. Otherwise it is unpacked and its DiffID must match:
  // InvalidArgument "layer diff id mismatch: expected X, got Y" and nothing is kept.
  base::Result<RegisterResult> register_with_diff_id(const std::optional<ChainId>& parent,
                                                     const DiffId& diff_id, ByteSource& tar);
  // The same for layers unpacked in parallel (a registry pull): `parent` need not exist while
  // `tar` is unpacked. `before_commit` runs after the unpack and the DiffID check (e.g. it waits
  // until another thread has registered the parent, or fails); the parent must exist when it
  // returns. An error from it is returned and nothing is kept.
  base::Result<RegisterResult> register_with_diff_id(
      const std::optional<ChainId>& parent, const DiffId& diff_id, ByteSource& tar,
      const std::function<base::Result<void>()>& before_commit);

  // Adds one reference. NotFound when absent.
  base::Result<void> retain(const ChainId& chain);
  // Drops one reference; deletes the layer (and parents, recursively) that nothing uses any
  // more, returning the chain IDs deleted. NotFound when absent; FailedPrecondition when its
  // refcount is already 0.
  base::Result<std::vector<ChainId>> release(const ChainId& chain);

  bool exists(const ChainId& chain) const;
  base::Result<LayerInfo> get(const ChainId& chain) const;  // NotFound
  std::vector<LayerInfo> list() const;                      // a snapshot, by chain ID
  // The layer and its ancestors, top first (the order of overlay's lowerdir). NotFound.
  base::Result<std::vector<LayerInfo>> lineage(const ChainId& top) const;

  const std::string& root() const { return root_; }
  const Options& options() const { return options_; }
  std::string diff_path(const ChainId& chain) const;   // <root>/<hex>/diff (may not exist)
  std::string link_path(const LayerInfo& info) const;  // <root>/l/<link>

  // Removes tmp/ leftovers of interrupted unpacks and deletions, directories without a
  // layer.json, dangling l/ links, and layers with no references and no children (a crash
  // between a release and the deletion). open() calls it; safe to call again.
  base::Result<void> cleanup();

 private:
  LayerStore(std::string root, Options options);
  base::Result<void> load();
  base::Result<void> check_format();
  base::Result<RegisterResult> register_impl(
      const std::optional<ChainId>& parent, const DiffId* expected, ByteSource& tar,
      const std::function<base::Result<void>()>* before_commit = nullptr);
  // Under mu_: persists `info` (temp + fsync + rename).
  base::Result<void> save_locked(const LayerInfo& info);
  // Under mu_: moves the layer dir into tmp/ (the caller removes it unlocked) and fixes the
  // parent's children, cascading. Appends what it deleted.
  base::Result<void> delete_locked(const ChainId& chain, std::vector<ChainId>& deleted,
                                   std::vector<std::string>& trash);
  base::Result<std::string> make_temp_dir();

  const std::string root_;
  const Options options_;
  mutable std::mutex mu_;
  // Guarded by mu_: every committed layer, by chain ID string.
  std::map<std::string, LayerInfo> layers_;
};

// Apparent size of the regular files under `dir` (hard links counted once), as Docker sizes
// layers. Symlinks are not followed.
base::Result<uint64_t> directory_size(const std::string& dir);

}  // namespace mydocker::image::layers
