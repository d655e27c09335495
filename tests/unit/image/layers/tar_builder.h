// SPDX-License-Identifier: Apache-2.0
// Test helper: crafts layer tars in memory with libarchive's writer, including entries no
// well-behaved tool would write (`../` names, absolute names, links out of the root).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "image/layers/unpack.h"

namespace mydocker::image::layers::testing {

enum class Kind { File, Dir, Symlink, Hardlink, Fifo, CharDev };

struct TarEntry {
  std::string name;
  Kind kind = Kind::File;
  std::string data;  // file contents
  std::string link;  // symlink or hard-link target
  mode_t perm = 0644;
  uint32_t uid = 0;
  uint32_t gid = 0;
  int64_t mtime = 1700000000;
  long mtime_ns = 0;
  unsigned dev_major = 0;
  unsigned dev_minor = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;
};

TarEntry file(std::string name, std::string data, mode_t perm = 0644);
TarEntry dir(std::string name, mode_t perm = 0755);
TarEntry symlink(std::string name, std::string target);
TarEntry hardlink(std::string name, std::string target);
TarEntry fifo(std::string name);
TarEntry chardev(std::string name, unsigned major, unsigned minor);

// The uncompressed tar (pax format, so xattrs and long names travel).
std::string make_tar(const std::vector<TarEntry>& entries);
// `data` compressed with gzip or zstd (None: unchanged).
std::string compress(const std::string& data, Compression c);

}  // namespace mydocker::image::layers::testing
