// SPDX-License-Identifier: Apache-2.0
// Internals shared by images.cpp, load.cpp and save.cpp (not a public header).
#pragma once

#include <set>
#include <shared_mutex>
#include <string>
#include <vector>

#include "image/archive/images.h"
#include "image/layers/unpack.h"

namespace mydocker::image {

// One running import or load. Holds gc_mu_ shared for its whole life, the blobs it touched
// (pinned, so another operation's cleanup leaves them alone) and the layer references it has
// not handed to an image yet. Images::finish_op() releases all of it.
struct Images::Op {
  explicit Op(std::shared_mutex& mu) : gc(mu) {}
  std::shared_lock<std::shared_mutex> gc;
  std::set<std::string> pinned;
  std::vector<ChainId> held;
};

namespace archive_internal {
// The OCI layer media type for a compression.
std::string layer_media_type(layers::Compression c);
}  // namespace archive_internal

}  // namespace mydocker::image
