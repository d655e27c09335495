// SPDX-License-Identifier: Apache-2.0
// Container filesystems ("RW layers") over the LayerStore, behind one interface with two
// implementations (containerd's Snapshotter shape; moby's overlay2 and vfs drivers):
//
//   OverlayStore  overlayfs: lowerdir = the image's layer diffs (top first), an upper and a
//                 work dir per container. Needs root and overlay; layers in the Overlay
//                 whiteout format.
//   CopyStore     vfs-like: the image's layers copied into a private rootfs, whiteouts applied
//                 by deleting (either whiteout format), bind-mounted. For hosts without
//                 overlayfs; costs a full copy per container.
//
// Plan, then apply: prepare()/mounts() return the mounts as data (MountSpec, what mount(2)
// will get); mount() performs them and returns an RAII Mount that unmounts.
//
// On disk, under the root given to open() (a per-driver dir, e.g. <data-root>/rw/overlay):
//
//   <root>/<key>/parent     chain ID of the image's top layer ("" for an empty rootfs)
//   <root>/<key>/upper/     OverlayStore: the container's changes (whiteouts as 0/0 devices)
//   <root>/<key>/work/      OverlayStore: overlayfs work dir
//   <root>/<key>/lower/     OverlayStore: an empty lower for images with no layers
//   <root>/<key>/rootfs/    CopyStore: the private copy
//   <root>/.tmp-*           prepare()/remove() in progress; open() removes leftovers
//
// References: prepare() retains the parent layer in the LayerStore, remove() releases it, so
// an image's layers outlive every container made from them.
//
// Thread-safety: calls for different keys may run concurrently; calls for the same key must
// be serialised by the caller (the engine's per-container lock). The LayerStore must outlive
// the snapshotter.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "image/digest/digest.h"
#include "image/layers/layer_store.h"
#include "runtime/base/error.h"

namespace mydocker::image::layers {

// One mount as data. type "overlay": source "overlay", options lowerdir=/upperdir=/workdir=
// (values escaped for overlayfs: `\`, `,`, `:`). type "bind": source a directory, options
// "rbind" and "rw"/"ro".
struct MountSpec {
  std::string type;
  std::string source;
  std::vector<std::string> options;

  bool operator==(const MountSpec&) const = default;
};

// A mounted filesystem; unmounts (lazily if busy) when destroyed unless release()d.
class Mount {
 public:
  Mount() = default;
  Mount(const Mount&) = delete;
  Mount& operator=(const Mount&) = delete;
  Mount(Mount&& other) noexcept;
  Mount& operator=(Mount&& other) noexcept;
  ~Mount();

  const std::string& target() const { return target_; }
  bool active() const { return count_ > 0; }
  // Unmounts now, reporting errors (the destructor cannot). Idempotent.
  base::Result<void> unmount();
  // Gives up ownership: the mounts stay; returns the target.
  std::string release();

 private:
  friend base::Result<Mount> mount_all(const std::vector<MountSpec>& mounts,
                                       const std::string& target);
  Mount(std::string target, int count) : target_(std::move(target)), count_(count) {}
  std::string target_;
  int count_ = 0;  // mounts stacked on target_
};

// Performs `mounts` on `target` (an existing directory), in order. On error, what was
// mounted is undone. An overlay lowerdir= too long for mount(2)'s one-page limit is passed
// as /proc/self/fd/<n> paths of descriptors opened for the call (mountinfo shows those). Errors:
// PermissionDenied without CAP_SYS_ADMIN; InvalidArgument for an unknown type or option; others
// from mount(2), naming the target.
base::Result<Mount> mount_all(const std::vector<MountSpec>& mounts, const std::string& target);

class Snapshotter {
 public:
  virtual ~Snapshotter() = default;
  virtual std::string_view name() const = 0;

  // Creates the filesystem `key` ([A-Za-z0-9_.-]{1,128}, not "." or "..") on top of the
  // image whose top layer is `parent` (nullopt: empty), retaining `parent`. Returns its
  // mounts. Errors: InvalidArgument (key), AlreadyExists (key), NotFound (parent),
  // FailedPrecondition (store/format mismatch), filesystem errors. Atomic: on error nothing
  // is left and no reference is kept.
  virtual base::Result<std::vector<MountSpec>> prepare(const std::string& key,
                                                       const std::optional<ChainId>& parent) = 0;
  // The mounts of an existing `key` (NotFound). Pure apart from reading metadata.
  virtual base::Result<std::vector<MountSpec>> mounts(const std::string& key) const = 0;
  // The directory holding the container's own changes (overlay: upper; copy: the rootfs).
  virtual std::string rw_path(const std::string& key) const = 0;
  // Deletes `key` (it must not be mounted) and releases its parent. NotFound when absent.
  virtual base::Result<void> remove(const std::string& key) = 0;
  // Keys that exist, sorted.
  virtual std::vector<std::string> list() const = 0;

  // mounts(key) then mount_all() on `target`.
  base::Result<Mount> mount(const std::string& key, const std::string& target) const;
};

class OverlayStore final : public Snapshotter {
 public:
  // FailedPrecondition if `layers` does not store overlay-format whiteouts. Creates `root`
  // and removes leftovers of interrupted prepare() calls.
  static base::Result<std::unique_ptr<OverlayStore>> open(LayerStore& layers, std::string root);

  std::string_view name() const override { return "overlay"; }
  base::Result<std::vector<MountSpec>> prepare(const std::string& key,
                                               const std::optional<ChainId>& parent) override;
  base::Result<std::vector<MountSpec>> mounts(const std::string& key) const override;
  std::string rw_path(const std::string& key) const override;
  base::Result<void> remove(const std::string& key) override;
  std::vector<std::string> list() const override;

  // Pure: the overlay mount for lowers `diffs`/`links` (top first; links are the short
  // aliases, used when the full paths would not fit overlay's one-page option limit; if even
  // those do not fit, mount_all() passes the lowers as descriptors).
  static MountSpec plan(const std::vector<std::string>& diffs,
                        const std::vector<std::string>& links, const std::string& upper,
                        const std::string& work);

 private:
  OverlayStore(LayerStore& layers, std::string root) : layers_(layers), root_(std::move(root)) {}
  LayerStore& layers_;
  const std::string root_;
};

class CopyStore final : public Snapshotter {
 public:
  // Creates `root` and removes leftovers of interrupted prepare() calls.
  static base::Result<std::unique_ptr<CopyStore>> open(LayerStore& layers, std::string root);

  std::string_view name() const override { return "copy"; }
  base::Result<std::vector<MountSpec>> prepare(const std::string& key,
                                               const std::optional<ChainId>& parent) override;
  base::Result<std::vector<MountSpec>> mounts(const std::string& key) const override;
  std::string rw_path(const std::string& key) const override;
  base::Result<void> remove(const std::string& key) override;
  std::vector<std::string> list() const override;

 private:
  CopyStore(LayerStore& layers, std::string root) : layers_(layers), root_(std::move(root)) {}
  LayerStore& layers_;
  const std::string root_;
};

// Copies the layer directory `src` onto the tree `dst` as overlayfs would show it on top:
// entries replace what is below, whiteouts (0/0 devices or `.wh.` files) delete, opaque
// directories (trusted.overlay.opaque=y or a `.wh..wh..opq` file) hide what was below.
// Keeps owners (when preserve_owners), modes, times, xattrs (not trusted.overlay.*), hard
// links within `src`, symlinks, devices, fifos.
base::Result<void> copy_layer(const std::string& src, const std::string& dst, bool preserve_owners);

}  // namespace mydocker::image::layers
