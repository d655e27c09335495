// SPDX-License-Identifier: Apache-2.0
// Push: image store -> registry, as `docker push`.
//
// The image's recorded manifest whose blobs are all in the content store is pushed as it is
// (the same bytes, hence the same digest as the RepoDigest a pull of it gives): each blob
// (layers, then the config) is skipped when the registry has it (HEAD), mounted from another
// repository of the same registry that this store knows holds it (the image's other names on
// that registry), or uploaded from the stored blob (monolithic PUT, or PATCH chunks of
// PushOptions::chunk_size then PUT); then the manifest is PUT under the tag and the
// name@digest is recorded as a RepoDigest.
//
// An image whose recorded manifests have uncompressed layer blobs only (import, load of a
// docker-save archive, commit) is pushed as Docker does: each uncompressed layer is gzipped
// once into the content store (the blob recorded for its DiffID under
// <data-root>/compressed/, and the pair blob -> DiffID marked verified), a Docker schema2
// manifest naming the gzip blobs is made and recorded for the image (so the image holds the
// gzip blobs and a later push sends the same manifest without compressing again), then pushed
// as above. A layer already gzipped for another image is reused.
//
// Errors: NotFound "tag does not exist: <ref>" (Docker's); FailedPrecondition when no
// recorded manifest has all its blobs here; Cancelled "push cancelled"; the client's errors
// (client.h).
#pragma once

#include <functional>
#include <string>

#include "image/archive/images.h"
#include "image/reference/reference.h"
#include "image/registry/client.h"
#include "image/registry/progress.h"

namespace mydocker::image::registry {

struct PushOptions {
  int64_t chunk_size = 0;  // 0: one PUT per blob; else PATCH chunks of this size
  ProgressFn progress;
  // As PullOptions::cancelled: true stops the push (ErrorCode::Cancelled) between blobs and
  // chunks; nothing is tagged in the registry.
  std::function<bool()> cancelled;
};

struct PushResult {
  Digest digest;  // of the manifest pushed
  int64_t size = 0;
  std::string tag;
  size_t blobs_uploaded = 0;
  size_t blobs_mounted = 0;
  size_t blobs_existing = 0;
  // Docker's line: "<tag>: digest: sha256:... size: N".
  std::string digest_line() const;
};

// `ref` without a tag pushes `latest`. `client` must be for ref.domain().
base::Result<PushResult> push(Images& images, Client& client, const reference::Reference& ref,
                              const PushOptions& options = {});

}  // namespace mydocker::image::registry
