// SPDX-License-Identifier: Apache-2.0
// Go's path.Match / filepath.Match on Linux, for the places that must glob as Docker does
// (COPY sources, image and other list filters).
#pragma once

#include <string_view>

#include "runtime/base/error.h"

namespace mydocker::base {

// Whether `name` matches the shell pattern `pattern` as Go's path.Match decides: `*` (any
// run of non-`/` characters), `?` (one non-`/` character), `[...]` classes with `^`
// negation and `a-z` ranges, `\` escapes. Characters are UTF-8 code points (an invalid byte
// counts as U+FFFD), as Go's runes. A malformed pattern is InvalidArgument "syntax error in
// pattern", also when the match failed before reaching the malformed part (Go >= 1.16).
Result<bool> path_match(std::string_view pattern, std::string_view name);

}  // namespace mydocker::base
