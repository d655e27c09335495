// SPDX-License-Identifier: Apache-2.0
// Pull: registry -> image store (Images), as `docker pull`.
//
//   manifest (by tag or digest; digest verified) ── index? ── platform choice ── manifest
//   config blob (verified) ── diff IDs ── per layer, on a pool of `parallel` threads:
//     present (chain ID in the layer store and blob in the content store)  -> "Already exists"
//     else  GET blob ──► content-store ingest (sha256 checked at the end, before the layer
//           commits) ──► decompress (gzip/zstd/none) ──► unpack into the layer store (DiffID
//           checked against the config)
//   one pass over the bytes, no temporary tar file; layers unpack in parallel and commit bottom
//   up (a layer waits only for its parent to be registered before its own rename).
//   image record (the commit point) ──► tag + RepoDigest (name@<manifest digest>)
//
// A dropped connection during a blob resumes with a Range request from the byte reached
// (RegistryOptions::retries times). Failure at any point leaves nothing visible: the
// Images::Ingest drops the blobs and layer references of the pull.
//
// Errors (Docker's wording):
//   NotFound "manifest for <ref> not found: manifest unknown: manifest unknown"
//   Unauthorized/PermissionDenied "pull access denied for <name>, repository does not exist or
//     may require 'docker login': denied: requested access to the resource is denied"
//   NotFound "no matching manifest for linux/amd64 in the manifest list entries"
//   NotFound "image with reference X was found but its platform (linux/arm64) does not match
//     the specified platform (linux/amd64)" (platform_required only)
//   InvalidArgument "manifest verification failed for digest ...",
//     "filesystem layer verification failed for digest sha256:...", "layer diff id mismatch"
//   NotImplemented for schema1 manifests; Cancelled "pull cancelled" (PullOptions::cancelled).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "image/archive/images.h"
#include "image/reference/reference.h"
#include "image/registry/client.h"
#include "image/registry/platform.h"
#include "image/registry/progress.h"

namespace mydocker::image::registry {

struct PullOptions {
  PlatformSpec platform = host_platform();
  // The platform was asked for (--platform): a single manifest whose config names another
  // platform is refused (NotFound "image with reference X was found but its platform (a)
  // does not match the specified platform (b)", Docker 24's text). Without it such an image is
  // pulled, as Docker does (it may still run under emulation).
  bool platform_required = false;
  int parallel = 3;  // concurrent layer downloads (Docker's default)
  ProgressFn progress;
  // Polled between blocks of every download and unpack (and before each step): true stops
  // the pull with ErrorCode::Cancelled, leaving nothing visible, as any failure. The daemon
  // sets it when the API client leaves or the daemon shuts down. Empty: never cancelled.
  std::function<bool()> cancelled;
};

struct PullResult {
  ImageId id;
  Digest digest;            // the digest the reference resolved to (an index's for a list)
  std::string reference;    // familiar, as shown: "busybox:latest", "x@sha256:..."
  bool up_to_date = false;  // the name already pointed at this image
  size_t layers_downloaded = 0;
  // Docker's closing line: "Status: Downloaded newer image for X" / "... Image is up to date ..."
  std::string status_line() const;
};

// `ref` without tag or digest pulls `latest`. `client` must be for ref.domain().
base::Result<PullResult> pull(Images& images, Client& client, const reference::Reference& ref,
                              const PullOptions& options = {});

}  // namespace mydocker::image::registry
