// SPDX-License-Identifier: Apache-2.0
// Layer unpacking (image/layers/unpack.h): a layer blob is whatever the image's author put in
// it. Input: one options byte, then the tar / tar+gzip / tar+zstd stream.
//   bits 0-1  whiteouts: 0 Keep, 1 Apply (onto a small pre-populated tree), 2 Overlay, 3 Keep
//   bit 2     preserve_owners
//   bit 3     keep_overlay_xattrs
//   bit 4     resolve paths with the manual walk instead of openat2 (the seccomp-blocked case)
// Each input unpacks into <base>/root, a fresh directory inside a per-process <base>.
//
// Invariants, success or not:
//   * nothing is written outside the root: afterwards <base> holds exactly `root`, and `root`
//     is still a real directory (not replaced by a symlink);
//   * every error is a returned Result (no crash, no leak under ASan);
//   * on success, digest_layer() over the same bytes agrees on both digests and the sizes.
// Run it unprivileged (scripts/fuzz.sh does): a path-resolution bug must not be able to
// write onto the host.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "image/layers/in_root.h"
#include "image/layers/source.h"
#include "image/layers/unpack.h"
#include "runtime/base/fd.h"
#include "runtime/base/file.h"
#include "tests/fuzz/fuzz_check.h"

namespace layers = mydocker::image::layers;
namespace base = mydocker::base;

namespace {

// rm -rf that also gets through directories the layer left without permissions (mode 000
// dirs are legal in a tar) when we are not root.
void remove_tree_at(int dir, const char* name) {
  struct stat st {};
  if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return;
  }
  if (S_ISDIR(st.st_mode)) {
    fchmodat(dir, name, 0700, 0);
    int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
      DIR* d = fdopendir(fd);
      if (d == nullptr) {
        close(fd);
      } else {
        std::vector<std::string> names;
        while (dirent* e = readdir(d)) {
          std::string n = e->d_name;
          if (n != "." && n != "..") {
            names.push_back(std::move(n));
          }
        }
        for (const std::string& n : names) {
          remove_tree_at(dirfd(d), n.c_str());
        }
        closedir(d);
      }
    }
    unlinkat(dir, name, AT_REMOVEDIR);
  } else {
    unlinkat(dir, name, 0);
  }
}

std::vector<std::string> list_dir(const std::string& path) {
  std::vector<std::string> out;
  DIR* d = opendir(path.c_str());
  FUZZ_CHECK(d != nullptr);
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") {
      out.push_back(std::move(n));
    }
  }
  closedir(d);
  return out;
}

// The exit handler reads a plain buffer: the static std::string below is destroyed before a
// handler registered during its construction runs.
char g_base_dir_for_exit[4096];

const std::string& base_dir() {
  static const std::string dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/mydocker-unpack-fuzz-XXXXXX";
    FUZZ_CHECK(mkdtemp(templ.data()) != nullptr);
    FUZZ_CHECK(templ.size() < sizeof g_base_dir_for_exit);
    std::memcpy(g_base_dir_for_exit, templ.c_str(), templ.size() + 1);
    std::atexit([] { remove_tree_at(AT_FDCWD, g_base_dir_for_exit); });
    return templ;
  }();
  return dir;
}

// What an Apply-mode layer lands on: a lower layer with files, a directory and a symlink
// pointing out of the root (which must not be followed).
void populate_lower(const std::string& root) {
  FUZZ_CHECK(base::mkdir_all(root + "/etc/sub"));
  FUZZ_CHECK(base::write_file(root + "/etc/passwd", "root:x:0:0::/root:/bin/sh\n", O_CREAT));
  FUZZ_CHECK(base::write_file(root + "/etc/sub/file", "lower\n", O_CREAT));
  FUZZ_CHECK(symlink("/", (root + "/escape").c_str()) == 0);
  FUZZ_CHECK(symlink("../../..", (root + "/etc/up").c_str()) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  const uint8_t flags = data[0];
  std::string_view stream = mydocker::fuzz::as_text(data + 1, size - 1);

  layers::UnpackOptions opts;
  switch (flags & 3) {
    case 1:
      opts.whiteouts = layers::WhiteoutFormat::Apply;
      break;
    case 2:
      opts.whiteouts = layers::WhiteoutFormat::Overlay;
      break;
    default:
      opts.whiteouts = layers::WhiteoutFormat::Keep;
      break;
  }
  opts.preserve_owners = (flags & 4) != 0;
  opts.keep_overlay_xattrs = (flags & 8) != 0;
  layers::set_openat2_disabled_for_test((flags & 16) != 0);

  const std::string& base = base_dir();
  const std::string root = base + "/root";
  FUZZ_CHECK(mkdir(root.c_str(), 0755) == 0);
  if (opts.whiteouts == layers::WhiteoutFormat::Apply) {
    populate_lower(root);
  }
  {
    auto root_fd = base::Fd::open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    FUZZ_CHECK(root_fd);
    layers::MemorySource src(stream);
    auto unpacked = layers::unpack(src, *root_fd, opts);

    std::vector<std::string> left = list_dir(base);
    if (left.size() != 1 || left[0] != "root") {
      for (const std::string& n : left) {
        std::fprintf(stderr, "outside the layer root: %s/%s\n", base.c_str(), n.c_str());
      }
      FUZZ_CHECK(!"unpack wrote outside its root");
    }
    struct stat st {};
    FUZZ_CHECK(lstat(root.c_str(), &st) == 0 && S_ISDIR(st.st_mode));

    if (unpacked) {
      layers::MemorySource again(stream);
      auto digested = layers::digest_layer(again);
      FUZZ_CHECK(digested);
      FUZZ_CHECK(digested->diff_id == unpacked->diff_id);
      FUZZ_CHECK(digested->compressed_digest == unpacked->compressed_digest);
      FUZZ_CHECK(digested->compressed_size == unpacked->compressed_size);
      FUZZ_CHECK(digested->uncompressed_size == unpacked->uncompressed_size);
      FUZZ_CHECK(digested->compression == unpacked->compression);
      FUZZ_CHECK(unpacked->compressed_size == stream.size());
    } else {
      // digest_layer checks framing only; it must not crash on what unpack refused.
      layers::MemorySource again(stream);
      (void)layers::digest_layer(again);
    }
  }
  remove_tree_at(AT_FDCWD, root.c_str());
  return 0;
}
