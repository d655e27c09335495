// SPDX-License-Identifier: Apache-2.0
// Commit: a container's filesystem changes become an image (the builder's steps; `docker
// commit` later). The changes are read from the RW layer's directory, written once as an
// uncompressed layer tar into the content store while its DiffID is hashed, registered in the
// layer store on top of the parent's layers, and recorded under a manifest that names the
// blob, so save and push serve it like a pulled layer.
//
// Whiteouts: an overlay upper dir holds deletions as 0/0 character devices and opaque
// directories as trusted.overlay.opaque=y; the tar carries them as `.wh.<name>` and
// `.wh..wh..opq` entries (the image-spec's layer format). Paths in `exclude` (and below) are
// left out: the mount points the runtime made in the rootfs (/etc/hosts, /proc, ...), which
// Docker keeps in a hidden init layer; so is a directory left holding nothing once they are
// (the copied-up parent of a mount point: Docker's init layer has it, the RW layer not).
// Regular `.wh.*` files and a `.wh..wh..opq` file (a Keep-format tree) go into the tar as
// they are. Entries are written in a fixed order (depth first, names byte-sorted), with
// whole-second mtimes and no user/group names, so the same changes give the same bytes.
//
// Crash safety and GC: the commit runs as an Images::Ingest (blobs pinned, layer references
// held until the image holds its top layer), so a failed or interrupted commit leaves nothing.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "image/archive/images.h"
#include "image/content/image_config.h"
#include "image/digest/digest.h"
#include "runtime/base/error.h"

namespace mydocker::image::archive {

struct CommitRequest {
  // The image the changes apply to (its layers are the new image's lower layers); nullopt for
  // `FROM scratch`. Recorded as the new image's parent (Docker's local build parent).
  std::optional<ImageId> parent;
  // The new image's config: everything but rootfs, which commit fills (the parent's DiffIDs,
  // plus the new layer's when one is made). The caller appends the history entry for this
  // step as the last one; commit sets its empty_layer (the caller cannot tell: excluded paths
  // do not count as changes).
  content::ImageConfig config;
  // The RW layer's directory (overlay upper). "" or an empty directory: no new layer (a
  // metadata-only step).
  std::string changes_dir;
  std::set<std::string> exclude;           // absolute paths in the rootfs
  std::vector<reference::Reference> tags;  // names to give the new image (may be empty)
};

struct CommitResult {
  ImageId id;
  std::optional<DiffId> layer;  // the new layer, when one was made
  int64_t layer_size = 0;       // bytes of the new layer's files
};

// Errors: NotFound (the parent image), filesystem errors reading `changes_dir` (naming the
// path), the stores' errors. Nothing is left on error.
base::Result<CommitResult> commit(Images& images, const CommitRequest& request);

// Writes the changes of an overlay upper dir as a layer tar (whiteouts converted as above,
// entries sorted by path so the same changes give the same bytes).
base::Result<void> write_changes_tar(const std::string& changes_dir,
                                     const std::set<std::string>& exclude, const Sink& out);

}  // namespace mydocker::image::archive
