// SPDX-License-Identifier: Apache-2.0
// COPY and ADD into a container's root filesystem, with Docker's rules (the classic
// builder's copier):
//  - a source directory copies its contents, not itself; a file copies as the file;
//  - the destination is a directory when it ends in `/` (required for several sources, a
//    wildcard's matches counting one each) or when it already is one; else the file's name;
//    relative destinations are under WORKDIR; missing parents are made 0755 (owned by
//    root, except a copied file's parents, which get the --chown identity as in Docker);
//  - symlinks in the destination path resolve inside the rootfs, never out of it;
//  - ownership: --chown user[:group] (names looked up in the rootfs's /etc/passwd and
//    /etc/group, numbers as given), else 0:0, except COPY --from without --chown, which keeps
//    each source entry's owner (moby's preserveOwnership); --chmod octal; modes and times
//    kept from the source, except that a file whose owner was set (not kept) loses its
//    set-uid/set-gid bits as the chown after Docker's untar clears them (moby#36239); kept
//    owners keep the bits and the `security.capability` xattr;
//  - hard links between the entries of one copied directory stay hard links (the classic
//    builder copies a directory through a tar, which records them);
//  - ADD: a local tar archive (plain, gzip, bzip2, xz) is extracted at the destination
//    instead of copied; a URL source is downloaded (its file name from the URL, mtime from
//    Last-Modified, mode 0600) and never extracted.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/build/context.h"
#include "runtime/base/error.h"

namespace mydocker::engine::build {

struct Owner {
  uint32_t uid = 0;
  uint32_t gid = 0;
};

// --chown's value against `rootfs` (a name without /etc/passwd entry: InvalidArgument
// "unable to convert uid/gid chown string to host mapping: ..." as Docker).
base::Result<Owner> resolve_chown(const std::string& rootfs, std::string_view spec);

struct CopyOptions {
  std::optional<Owner> owner;    // --chown; default 0:0 (see keep_owner)
  bool keep_owner = false;       // without `owner`: each entry keeps its source uid/gid
  std::optional<uint32_t> mode;  // --chmod (permission bits)
  bool unpack_archives = false;  // ADD
  std::string workdir = "/";     // the stage's WORKDIR, for a relative destination
};

// Copies `sources` (paths in `tree`, as tree.match() returned them; `wildcard` when a source
// pattern had one) to `dest` inside `rootfs`. Errors: "When using COPY with more than one
// source file, the destination must be a directory and end with a /" (ADD says ADD); "no
// source files were specified" for an empty `sources`; NotFound for a missing source;
// filesystem errors naming the path. `wildcard` changes nothing: Docker counts the matches.
base::Result<void> copy_sources(const SourceTree& tree, const std::vector<std::string>& sources,
                                bool wildcard, const std::string& rootfs, std::string_view dest,
                                const CopyOptions& options);

// ADD <url>: the file downloaded into `dir`.
struct Download {
  std::string url;       // as given (named in errors)
  std::string path;      // the downloaded file
  std::string name;      // its name in the destination (from the URL's path)
  int64_t mtime = 0;     // Last-Modified (Unix seconds), 0 when absent
  std::string checksum;  // sha256 of the content, for the cache
};
// The bytes received so far and the total (Content-Length, -1 when unknown), reported as
// moby's progress reader does for ADD: every 1% of the total (at most every 512 KiB), at most
// every 100 ms, and always at the end.
using DownloadProgress = std::function<void(int64_t current, int64_t total)>;
// Errors: InvalidArgument for a URL that is not http(s); the HTTP status or transfer error
// ("failed to GET <url> with status 404 Not Found").
base::Result<Download> download(std::string_view url, const std::string& dir,
                                const DownloadProgress& progress = {});

// Copies the downloaded file to `dest` (a destination ending in `/` or an existing directory
// gets `download.name` appended).
base::Result<void> copy_download(const Download& download, const std::string& rootfs,
                                 std::string_view dest, const CopyOptions& options);

}  // namespace mydocker::engine::build
