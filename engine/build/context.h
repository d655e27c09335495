// SPDX-License-Identifier: Apache-2.0
// The build context: the tar the client sends with POST /build, received into a private
// directory, with each entry's content hash taken while it streams in (so a fully cached
// rebuild hashes nothing twice and reads nothing back).
//
// Paths are relative to the context root, `/`-separated, cleaned (clean_path()). Nothing in
// the context may lead outside it: tar entries named `../x` or `/x` are refused, and symlinks
// are kept as symlinks but never followed out of the root when sources are resolved.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "image/layers/source.h"
#include "runtime/base/error.h"

namespace mydocker::engine::build {

struct ContextLimits {
  uint64_t max_bytes = 0;  // 0: no limit; beyond it: InvalidArgument naming the limit
  // File contents up to this total are kept in memory and written to `dir` only when a COPY
  // needs them (materialize()): a fully cached rebuild writes no file. Past it, the context
  // streams to disk.
  uint64_t memory_bytes = 64ull << 20;
};

// A tree a COPY/ADD reads from: the context, or (COPY --from) a stage's or an image's root
// filesystem mounted read-only.
class SourceTree {
 public:
  virtual ~SourceTree() = default;
  virtual const std::string& root() const = 0;
  // Resolves one COPY/ADD source (as written, after variable expansion; Go filepath.Match
  // wildcards) to the paths it names, sorted. Errors (Docker's words):
  //   outside the root: "forbidden path outside the build context: ../x ()"
  //   nothing matched:  NotFound "file not found in build context or excluded by
  //                     .dockerignore: stat x: file does not exist" (a mounted tree:
  //                     "stat x: file does not exist")
  // A wildcard matching nothing is no error here: an empty list (copy_sources() then says
  // Docker's "no source files were specified"). Symlinks in the source resolve inside the
  // root (FollowSymlinkInScope), so `link -> /etc` names the tree's etc, never the host's.
  virtual base::Result<std::vector<std::string>> match(std::string_view source) const = 0;
  // A hash of the path's content and metadata (mode, owner, link target, and for a directory
  // every entry below it): equal hashes mean COPY would produce the same files. Memoized.
  // "file:<hex>" or "dir:<hex>" (Docker's history prefixes); the mtime is left out, as
  // Docker's tarsum v1 does.
  virtual base::Result<std::string> checksum(std::string_view path) const = 0;
};

class Context final : public SourceTree {
 public:
  // Reads the context tar (plain, gzip, bzip2, xz or zstd, detected by content) into `dir`
  // (created; removed with everything in it when the Context is destroyed). Errors:
  // InvalidArgument for a malformed archive or an entry escaping the root (naming it), the
  // limit exceeded; the source's errors. Nothing is left in `dir`'s parent on error.
  // As dockerd: a .dockerignore that excludes itself is dropped from the tree, and so is the
  // Dockerfile once dockerfile() has read it (the client already left out the rest).
  static base::Result<std::unique_ptr<Context>> receive(image::layers::ByteSource& tar,
                                                        std::string dir,
                                                        const ContextLimits& limits = {});
  ~Context() override;

  // The directory the tree is written to. While the files are in memory (see
  // ContextLimits::memory_bytes) it holds the directories and symlinks only (so a stat tells
  // a directory from a file); materialize() writes the files, and copy_sources() calls it.
  const std::string& root() const override;
  // Writes the files still in memory under root(). Idempotent; thread-safe.
  base::Result<void> materialize() const;
  base::Result<std::vector<std::string>> match(std::string_view source) const override;
  base::Result<std::string> checksum(std::string_view path) const override;

  // The Dockerfile's text. `name` is the `dockerfile` query value, relative to the root (an
  // absolute path or `../` is refused). Errors: NotFound "Cannot locate specified
  // Dockerfile: <name>" (dockerd answers it with 500).
  base::Result<std::string> dockerfile(std::string_view name) const;
  uint64_t bytes() const;  // bytes received

 private:
  Context() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A mounted root filesystem as a SourceTree (COPY --from=<stage|image>).
std::unique_ptr<SourceTree> open_tree(std::string root);

}  // namespace mydocker::engine::build
