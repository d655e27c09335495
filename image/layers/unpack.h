// SPDX-License-Identifier: Apache-2.0
// Layer unpacking: a tar, tar+gzip or tar+zstd stream applied to a directory, safely.
//
//   ByteSource ──► outer libarchive reader ──► uncompressed bytes ──► inner libarchive reader
//   (compressed)   (gzip/zstd/none filters,     (sha256 = DiffID)     (format tar) ──► entries
//    sha256 = compressed digest)  format raw)                                          ──► root fd
//
// One pass over the input; the DiffID, the compressed digest and the sizes fall out as the
// entries are written (see unpack.cpp for why two chained readers).
//
// Safety (the contract tests/unit/image/layers checks, one attack per test):
//   * entry names are cleaned lexically; a name whose `..` climbs above the root is refused:
//     "layer entry `../../etc/x`: escapes the layer root"; absolute names are made relative.
//   * parents are resolved against the root fd as if it were "/" (in_root.h), so symlinks
//     from earlier entries (`evil -> /`, `up -> ../../..`) resolve inside the root.
//   * a final component is never followed: existing entries are replaced, not written
//     through (O_NOFOLLOW, O_EXCL, *at calls with AT_SYMLINK_NOFOLLOW).
//   * hard-link targets are resolved inside the root the same way; one that escapes or does
//     not exist in the layer (e.g. `/etc/passwd`) is refused naming both.
// What is kept: regular files (sparse holes too), directories, symlinks, hard links, char and
// block devices, fifos; modes incl. setuid/setgid/sticky; owners (when preserve_owners);
// atime/mtime (ns); xattrs (security.capability, user.*; trusted.overlay.* dropped unless
// keep_overlay_xattrs; none on symlinks; ENOTSUP from the filesystem is ignored). Directory mtimes
// are set after all entries are written. Sockets are skipped (tar cannot carry them meaningfully).
//
// On error the root may hold part of the layer: the caller owns the directory and removes it
// (LayerStore unpacks into a temp dir and renames only on success).
//
// Thread-safety: unpack() calls on different roots may run concurrently.
#pragma once

#include <cstdint>
#include <string>

#include "image/digest/digest.h"
#include "image/layers/source.h"
#include "runtime/base/error.h"
#include "runtime/base/fd.h"

namespace mydocker::image::layers {

// How OCI whiteout entries (`.wh.<name>`, `.wh..wh..opq`, image-spec layer.md) are stored.
enum class WhiteoutFormat {
  // overlayfs format: `.wh.x` becomes a 0/0 character device `x`; `.wh..wh..opq` sets
  // trusted.overlay.opaque=y on its directory. Needs CAP_MKNOD and CAP_SYS_ADMIN (root).
  Overlay,
  // Stored as the tar has them (empty regular files named `.wh.*`), for consumers that
  // interpret them later (CopyStore does) and for unprivileged unpacking.
  Keep,
  // Applied to an existing tree (the root already holds the lower layers): `.wh.x` deletes x,
  // `.wh..wh..opq` deletes what the directory held before this layer. Entries of the same
  // layer are never deleted by its own whiteouts (image-spec rule).
  Apply,
};

enum class Compression { None, Gzip, Zstd };
std::string_view compression_name(Compression c);

struct UnpackOptions {
  WhiteoutFormat whiteouts = WhiteoutFormat::Overlay;
  // lchown entries to the tar's numeric uid/gid. Needs CAP_CHOWN; off for rootless use.
  bool preserve_owners = true;
  // Keep trusted.overlay.* xattrs found in the tar (normally they would let an image forge
  // overlay metadata such as opaque markers or redirects, so they are dropped).
  bool keep_overlay_xattrs = false;
};

struct UnpackResult {
  DiffId diff_id;  // sha256 of the uncompressed tar stream
  // sha256 of the bytes read from the source (= diff id if None); empty when the source
  // verifies its own digest (ByteSource::verifies_digest).
  Digest compressed_digest;
  uint64_t compressed_size = 0;  // bytes read from the source
  uint64_t uncompressed_size = 0;
  Compression compression = Compression::None;
  uint64_t entries = 0;  // tar entries seen (whiteouts included)
};

// Unpacks `src` into the directory `root` (which must exist; normally empty unless whiteouts
// is Apply). Reads `src` to its end, so the digests cover the whole stream.
// Errors (message names the entry or the problem):
//   InvalidArgument: malformed/truncated tar, gzip or zstd stream; unrecognised format;
//     refused entry (escape, hard link to a target missing from the layer, unsupported type);
//   errno-derived codes for write failures (PermissionDenied, ...); errors of `src` as is.
base::Result<UnpackResult> unpack(ByteSource& src, const base::Fd& root,
                                  const UnpackOptions& options);

// Decompresses and hashes `src` without writing anything (e.g. to compute a DiffID when
// saving or to verify a blob). Validates the compression framing, not the tar structure.
base::Result<UnpackResult> digest_layer(ByteSource& src);

}  // namespace mydocker::image::layers
