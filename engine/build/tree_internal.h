// SPDX-License-Identifier: Apache-2.0
// Internal to mydocker::build_context: what the context (in memory) and a mounted root
// filesystem (on disk) share to resolve COPY/ADD sources and hash them.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/base/error.h"
#include "runtime/base/fd.h"

namespace mydocker::engine::build::internal {

using Sha = std::array<unsigned char, 32>;

struct NodeInfo {
  uint32_t mode = 0;  // st_mode: type and permission bits
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t size = 0;
  int64_t mtime = 0;
  std::string link;   // a symlink's target
  uint64_t rdev = 0;  // a character or block device's number
  // The file of an entry with hard links: entries with the same non-zero value are one file
  // (names of one inode). {0, 0} for an entry without links, and for directories.
  std::pair<uint64_t, uint64_t> file{0, 0};
};

// A tree of entries addressed by root-relative cleaned paths ("" is the root).
class Backend {
 public:
  virtual ~Backend() = default;
  // The entry at `rel`, not following a final symlink (`rel` has no symlink among its
  // parents); nullopt when missing.
  virtual base::Result<std::optional<NodeInfo>> lstat(const std::string& rel) const = 0;
  // Every entry below directory `dir`, root-relative, any order, not entering symlinks.
  // `depth` > 0: only the entries that many components below the root.
  virtual base::Result<std::vector<std::string>> list(const std::string& dir,
                                                      size_t depth) const = 0;
  // sha256 of a regular file's content.
  virtual base::Result<Sha> content(const std::string& rel) const = 0;
};

// Go's filepath.Match for `/`-separated names (`*`, `?`, `[...]` with `^` negation and
// ranges, `\` escapes); a malformed pattern matches nothing.
bool go_match(std::string_view pattern, std::string_view name);
// Docker's containsWildcards: an unescaped `*`, `?` or `[`.
bool has_wildcards(std::string_view s);

// Go's path.Clean, then "." -> "" (the root); nullopt when `..` climbs above the root.
std::optional<std::string> clean_rel(std::string_view path);

// symlink.FollowSymlinkInScope: every symlink in `rel` (cleaned) resolved as if the root
// were `/` (`..` stops at the root); a missing component ends the resolution (the rest is
// appended). `follow_last`: the final component too.
base::Result<std::string> resolve_in_scope(const Backend& tree, const std::string& rel,
                                           bool follow_last);

// SourceTree::match over `tree`; `context` picks the wording of the not-found error.
base::Result<std::vector<std::string>> match_in(const Backend& tree, std::string_view source,
                                                bool context);

// SourceTree::checksum over `tree` ("file:<hex>" or "dir:<hex>").
base::Result<std::string> checksum_in(const Backend& tree, std::string_view path, bool context);

std::string hex(const Sha& sha);

// A directory on disk as a Backend (COPY --from's mounted root, and copy's source side).
class DiskBackend final : public Backend {
 public:
  explicit DiskBackend(base::Fd root) : root_(std::move(root)) {}
  base::Result<std::optional<NodeInfo>> lstat(const std::string& rel) const override;
  base::Result<std::vector<std::string>> list(const std::string& dir, size_t depth) const override;
  base::Result<Sha> content(const std::string& rel) const override;
  const base::Fd& fd() const { return root_; }

 private:
  base::Fd root_;
};

// The not-found error of a source, in Docker's words.
base::Error source_not_found(std::string_view orig, bool context);

}  // namespace mydocker::engine::build::internal
