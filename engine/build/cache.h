// SPDX-License-Identifier: Apache-2.0
// The build cache: which image a step produced, by what the step depends on.
//
// A step's key is (the image it ran on, a text describing the step). The builder puts into
// the text everything that decides the result: the instruction as expanded, the build args
// and environment in effect for RUN, and for COPY/ADD the checksums of the sources and the
// options (--chown, --chmod, destination). A hit is "Using cache". Only successful steps are
// recorded, so a failed step never poisons the cache.
//
// On disk: <root>/<sha256 of parent + text>.json = {"image": "sha256:...", "parent": ...,
// "created": ...}, written atomically; the file's mtime is the entry's last use (its record,
// then every hit: one utimensat, no write). An entry whose image is gone is a miss (and
// removed).
// Thread-safety: all methods may be called from several builds at once.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/base/error.h"

namespace mydocker::engine::build {

class Cache {
 public:
  // Creates `root` if needed.
  static base::Result<std::unique_ptr<Cache>> open(std::string root);

  // The image recorded for (parent, key), if `exists(image)` still holds. A hit is a use
  // (Entry::last_used).
  std::optional<std::string> lookup(const std::string& parent, const std::string& key,
                                    const std::function<bool(const std::string&)>& exists);
  base::Result<void> record(const std::string& parent, const std::string& key,
                            const std::string& image);

  struct Entry {
    std::string id;  // the entry's name (64 hex), as `builder prune` reports it
    std::string image;
    std::string parent;
    int64_t created = 0;    // Unix seconds
    int64_t last_used = 0;  // Unix seconds: the last hit, else the record
  };
  std::vector<Entry> list() const;
  // Removes the entries `select` picks; returns them.
  base::Result<std::vector<Entry>> remove_if(const std::function<bool(const Entry&)>& select);

 private:
  explicit Cache(std::string root) : root_(std::move(root)) {}
  std::string root_;
};

}  // namespace mydocker::engine::build
