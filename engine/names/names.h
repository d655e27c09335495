// SPDX-License-Identifier: Apache-2.0
// Container identity: random IDs, Docker-style random names, name validation, and the
// lookup of what a user typed (a name, a full ID or a unique ID prefix), in Docker's words.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "runtime/base/error.h"

namespace mydocker::engine::names {

// 64 lower-hex characters from the kernel's CSPRNG. Like Docker's stringid, an ID whose
// 12-character short form is all digits is drawn again (it would read as a number).
std::string generate_id();

// "adjective_surname" from built-in lists (~100 each). `attempt` > 0 appends a digit, as
// Docker does after a collision.
std::string random_name(int attempt = 0);

// Docker's rule: /?[a-zA-Z0-9][a-zA-Z0-9_.-]+. InvalidArgument "Invalid container name (x),
// only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed". Returns the name with its leading "/".
base::Result<std::string> validate_name(std::string_view name);

// Docker's conflict text for a name already taken by `holder_id`.
std::string name_conflict_message(std::string_view name_with_slash, std::string_view holder_id);

// The ID index: names (with "/") -> ID, and the set of IDs.
struct Index {
  std::map<std::string, std::string> names;
  std::set<std::string> ids;
};

// Docker's GetContainer order: full ID, then name, then unique ID prefix.
// NotFound "No such container: <ref>"; Internal (dockerd's 500, transcript 144) "Multiple IDs
// found with provided prefix: <ref>".
base::Result<std::string> resolve(const Index& index, std::string_view ref);

}  // namespace mydocker::engine::names
