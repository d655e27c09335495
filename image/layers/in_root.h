// SPDX-License-Identifier: Apache-2.0
// Path handling inside a layer or container root, relative to a directory fd.
//
// Every tar entry and hard-link target is resolved against the root's directory fd as if the
// root were "/" (openat2 RESOLVE_IN_ROOT; a component-by-component O_NOFOLLOW walk that
// resolves symlinks itself when openat2 is unavailable, e.g. blocked by a seccomp filter).
// Symlinks planted by earlier entries therefore resolve inside the root, never onto the host:
// `evil -> /` followed by `evil/etc/x` writes `<root>/etc/x`. No host path string is ever built
// from entry names.
//
// Thread-safety: all functions are reentrant; the _for_test switch is process-global.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "runtime/base/error.h"
#include "runtime/base/fd.h"

namespace mydocker::image::layers {

// Lexically cleans an archive path into a root-relative one: leading `/` and `./` removed
// (absolute names are made relative, like GNU tar), `.` and empty components dropped, `..`
// applied. "" names the root itself. nullopt when `..` would climb above the root.
std::optional<std::string> clean_path(std::string_view path);

// Splits a cleaned path into (parent, name); parent "" is the root. `path` must be non-empty.
std::pair<std::string_view, std::string_view> split_parent(std::string_view path);

// Opens directory `rel` (a clean_path() result) under `root`, following symlinks as if `root`
// were "/". Returns an O_RDONLY|O_DIRECTORY descriptor (usable for *at calls, fchown,
// fsetxattr). Errors: NotFound (a component is missing), InvalidArgument (ENOTDIR / ELOOP),
// others from the syscalls; the message names `rel`.
base::Result<base::Fd> open_dir_in_root(const base::Fd& root, const std::string& rel);

// The same, creating missing directories (mode 0755, owner = caller) like `mkdir -p`.
base::Result<base::Fd> make_dirs_in_root(const base::Fd& root, const std::string& rel);

// rm -rf of `name` inside directory `dir`, never following symlinks. Missing is fine.
base::Result<void> remove_all_at(int dir, const std::string& name);

// Forces the manual walk instead of openat2 (the CI case of openat2 blocked by seccomp).
void set_openat2_disabled_for_test(bool disabled);

}  // namespace mydocker::image::layers
