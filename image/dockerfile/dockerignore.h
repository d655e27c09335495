// SPDX-License-Identifier: Apache-2.0
// `.dockerignore` with Docker's rules (docker/cli's ReadAll + moby/patternmatcher):
//  - one pattern a line; lines starting with `#` are comments; blank lines are skipped;
//  - patterns are cleaned like Go's filepath.Clean, a leading `/` is dropped (paths are
//    relative to the context root);
//  - `*` any run of characters but `/`, `?` one character but `/`, `[a-z]` classes, `\`
//    escapes, `**` any number of directories (also none);
//  - `!pattern` is an exception: it re-includes what earlier patterns excluded;
//  - the last pattern that matches a path decides; a pattern matching a parent directory
//    matches everything below it.
// The context sender walks the tree: an excluded file is skipped; an excluded directory is
// skipped whole unless may_include_children() says an exception could re-include something
// inside it. (Docker sends the Dockerfile and .dockerignore even when they are excluded: that is
// the sender's business, not the matcher's.)
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/error.h"

namespace mydocker::image::dockerfile {

// The patterns of a .dockerignore file, cleaned as Docker cleans them (exceptions keep `!`).
std::vector<std::string> read_dockerignore(std::string_view text);

// Go's filepath.Clean for `/`-separated paths ("" -> ".").
std::string clean_path(std::string_view path);

class IgnoreMatcher {
 public:
  // Errors for a malformed pattern (`[` not closed, a lone `!`).
  static base::Result<IgnoreMatcher> from_patterns(const std::vector<std::string>& patterns);
  static base::Result<IgnoreMatcher> from_dockerignore(std::string_view text) {
    return from_patterns(read_dockerignore(text));
  }

  // `path` relative to the context root, `/`-separated ("dir/file"); it is cleaned first.
  bool excluded(std::string_view path) const;

  // For an excluded directory: whether an exception pattern could match something inside it
  // (so the walk must go in). Conservative: true when unsure.
  bool may_include_children(std::string_view dir) const;

  bool has_exceptions() const { return exceptions_; }
  bool empty() const { return patterns_.empty(); }

  struct Pattern {
    std::string text;  // cleaned, without `!`
    bool exception = false;
  };
  const std::vector<Pattern>& patterns() const { return patterns_; }

 private:
  std::vector<Pattern> patterns_;
  bool exceptions_ = false;
};

// Whether `pattern` (.dockerignore syntax, cleaned) matches `path` exactly (not its children).
bool match_ignore_pattern(std::string_view pattern, std::string_view path);

}  // namespace mydocker::image::dockerfile
