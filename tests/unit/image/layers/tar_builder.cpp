// SPDX-License-Identifier: Apache-2.0
#include "tests/unit/image/layers/tar_builder.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cstdlib>
#include <memory>

namespace mydocker::image::layers::testing {
namespace {

la_ssize_t append_cb(archive*, void* out, const void* buf, size_t n) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(buf), n);
  return static_cast<la_ssize_t>(n);
}

void check(int r, archive* a) {
  if (r < ARCHIVE_WARN) {
    ADD_FAILURE() << "libarchive: " << archive_error_string(a);
    std::abort();
  }
}

struct WriteFree {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

}  // namespace

TarEntry file(std::string name, std::string data, mode_t perm) {
  TarEntry e;
  e.name = std::move(name);
  e.data = std::move(data);
  e.perm = perm;
  return e;
}
TarEntry dir(std::string name, mode_t perm) {
  TarEntry e;
  e.name = std::move(name);
  e.kind = Kind::Dir;
  e.perm = perm;
  return e;
}
TarEntry symlink(std::string name, std::string target) {
  TarEntry e;
  e.name = std::move(name);
  e.kind = Kind::Symlink;
  e.link = std::move(target);
  e.perm = 0777;
  return e;
}
TarEntry hardlink(std::string name, std::string target) {
  TarEntry e;
  e.name = std::move(name);
  e.kind = Kind::Hardlink;
  e.link = std::move(target);
  return e;
}
TarEntry fifo(std::string name) {
  TarEntry e;
  e.name = std::move(name);
  e.kind = Kind::Fifo;
  return e;
}
TarEntry chardev(std::string name, unsigned major, unsigned minor) {
  TarEntry e;
  e.name = std::move(name);
  e.kind = Kind::CharDev;
  e.dev_major = major;
  e.dev_minor = minor;
  e.perm = 0666;
  return e;
}

std::string make_tar(const std::vector<TarEntry>& entries) {
  std::string out;
  std::unique_ptr<archive, WriteFree> a(archive_write_new());
  check(archive_write_set_format_pax(a.get()), a.get());
  check(archive_write_open2(a.get(), &out, nullptr, append_cb, nullptr, nullptr), a.get());
  for (const TarEntry& t : entries) {
    std::unique_ptr<archive_entry, EntryFree> e(archive_entry_new());
    archive_entry_set_pathname(e.get(), t.name.c_str());
    archive_entry_set_perm(e.get(), t.perm);
    archive_entry_set_uid(e.get(), t.uid);
    archive_entry_set_gid(e.get(), t.gid);
    archive_entry_set_mtime(e.get(), t.mtime, t.mtime_ns);
    for (const auto& [k, v] : t.xattrs) {
      archive_entry_xattr_add_entry(e.get(), k.c_str(), v.data(), v.size());
    }
    switch (t.kind) {
      case Kind::File:
        archive_entry_set_filetype(e.get(), AE_IFREG);
        archive_entry_set_size(e.get(), static_cast<la_int64_t>(t.data.size()));
        break;
      case Kind::Dir:
        archive_entry_set_filetype(e.get(), AE_IFDIR);
        break;
      case Kind::Symlink:
        archive_entry_set_filetype(e.get(), AE_IFLNK);
        archive_entry_set_symlink(e.get(), t.link.c_str());
        break;
      case Kind::Hardlink:
        archive_entry_set_filetype(e.get(), AE_IFREG);
        archive_entry_set_hardlink(e.get(), t.link.c_str());
        archive_entry_set_size(e.get(), 0);
        break;
      case Kind::Fifo:
        archive_entry_set_filetype(e.get(), AE_IFIFO);
        break;
      case Kind::CharDev:
        archive_entry_set_filetype(e.get(), AE_IFCHR);
        archive_entry_set_rdev(e.get(), makedev(t.dev_major, t.dev_minor));
        break;
    }
    check(archive_write_header(a.get(), e.get()), a.get());
    if (t.kind == Kind::File && !t.data.empty()) {
      EXPECT_EQ(archive_write_data(a.get(), t.data.data(), t.data.size()),
                static_cast<la_ssize_t>(t.data.size()));
    }
  }
  check(archive_write_close(a.get()), a.get());
  return out;
}

std::string compress(const std::string& data, Compression c) {
  if (c == Compression::None) {
    return data;
  }
  std::string out;
  std::unique_ptr<archive, WriteFree> a(archive_write_new());
  check(c == Compression::Gzip ? archive_write_add_filter_gzip(a.get())
                               : archive_write_add_filter_zstd(a.get()),
        a.get());
  if (c == Compression::Gzip) {
    // No mtime in the gzip header: the same input must give the same blob on every call
    // (tests compare blob digests across calls made seconds apart).
    check(archive_write_set_filter_option(a.get(), "gzip", "timestamp", nullptr), a.get());
  }
  check(archive_write_set_format_raw(a.get()), a.get());
  // Raw output: no record padding after the compressed stream.
  check(archive_write_set_bytes_in_last_block(a.get(), 1), a.get());
  check(archive_write_open2(a.get(), &out, nullptr, append_cb, nullptr, nullptr), a.get());
  std::unique_ptr<archive_entry, EntryFree> e(archive_entry_new());
  archive_entry_set_pathname(e.get(), "layer.tar");
  archive_entry_set_filetype(e.get(), AE_IFREG);
  archive_entry_set_size(e.get(), static_cast<la_int64_t>(data.size()));
  check(archive_write_header(a.get(), e.get()), a.get());
  EXPECT_EQ(archive_write_data(a.get(), data.data(), data.size()),
            static_cast<la_ssize_t>(data.size()));
  check(archive_write_close(a.get()), a.get());
  return out;
}

}  // namespace mydocker::image::layers::testing
