// SPDX-License-Identifier: Apache-2.0
#include "image/archive/tar_io.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <array>
#include <cstring>

#include "runtime/base/fd.h"

namespace mydocker::image::archive {

using base::ErrorCode;
using base::make_error;

namespace {

constexpr size_t kBufSize = 1 << 20;

struct ArchiveDeleter {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
struct WriteDeleter {
  void operator()(struct archive* a) const { archive_write_free(a); }
};

std::string lower_first(std::string s) {
  if (!s.empty() && s[0] >= 'A' && s[0] <= 'Z') {
    s[0] = static_cast<char>(s[0] - 'A' + 'a');
  }
  return s;
}

// Reading side shared by TarReader and DecompressSource: pulls from a ByteSource and remembers
// its error so the caller reports it rather than libarchive's generic text.
struct Pull {
  layers::ByteSource* src = nullptr;
  std::unique_ptr<std::byte[]> buf = std::make_unique<std::byte[]>(kBufSize);
  std::optional<base::Error> error;

  static la_ssize_t cb(struct archive* a, void* self, const void** out) {
    auto* p = static_cast<Pull*>(self);
    auto n = p->src->read(std::span<std::byte>(p->buf.get(), kBufSize));
    if (!n) {
      p->error = std::move(n).error();
      archive_set_error(a, EIO, "read error");
      return -1;
    }
    *out = p->buf.get();
    return static_cast<la_ssize_t>(*n);
  }
};

base::Error archive_error(struct archive* a, const Pull& pull, std::string_view what) {
  if (pull.error) {
    base::Error e = *pull.error;
    return std::move(e).wrap(what);
  }
  const char* msg = archive_error_string(a);
  std::string text = msg != nullptr ? lower_first(msg) : "unknown error";
  return make_error(ErrorCode::InvalidArgument, "{}: {}", what, text);
}

}  // namespace

Sink fd_sink(int fd) {
  return [fd](std::string_view data) { return base::write_all(fd, data); };
}

// --- TarReader ---

struct TarReader::State {
  Pull pull;
  std::unique_ptr<struct archive, ArchiveDeleter> a;
};

TarReader::TarReader(std::unique_ptr<State> s) : s_(std::move(s)) {}
TarReader::TarReader(TarReader&&) noexcept = default;
TarReader& TarReader::operator=(TarReader&&) noexcept = default;
TarReader::~TarReader() = default;

base::Result<TarReader> TarReader::open(layers::ByteSource& src) {
  auto s = std::make_unique<State>();
  s->pull.src = &src;
  s->a.reset(archive_read_new());
  if (!s->a) {
    return make_error(ErrorCode::Internal, "archive: out of memory");
  }
  archive_read_support_filter_gzip(s->a.get());
  archive_read_support_filter_zstd(s->a.get());
  archive_read_support_filter_bzip2(s->a.get());
  archive_read_support_filter_xz(s->a.get());
  archive_read_support_format_tar(s->a.get());
  archive_read_support_format_gnutar(s->a.get());
  if (archive_read_open2(s->a.get(), &s->pull, nullptr, &Pull::cb, nullptr, nullptr) !=
      ARCHIVE_OK) {
    return archive_error(s->a.get(), s->pull, "invalid archive");
  }
  return TarReader(std::move(s));
}

base::Result<std::optional<TarEntryHeader>> TarReader::next() {
  struct archive_entry* entry = nullptr;
  int r = archive_read_next_header(s_->a.get(), &entry);
  if (r == ARCHIVE_EOF) {
    return std::optional<TarEntryHeader>();
  }
  if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
    return archive_error(s_->a.get(), s_->pull, "invalid archive");
  }
  TarEntryHeader h;
  const char* name = archive_entry_pathname(entry);
  h.name = name != nullptr ? name : "";
  const char* hard = archive_entry_hardlink(entry);
  if (hard != nullptr) {
    h.type = TarEntryHeader::Type::Hardlink;
    h.link = hard;
    return std::optional<TarEntryHeader>(std::move(h));
  }
  switch (archive_entry_filetype(entry)) {
    case AE_IFREG:
      h.type = TarEntryHeader::Type::File;
      h.size = archive_entry_size(entry);
      break;
    case AE_IFDIR:
      h.type = TarEntryHeader::Type::Dir;
      break;
    case AE_IFLNK: {
      h.type = TarEntryHeader::Type::Symlink;
      const char* t = archive_entry_symlink(entry);
      h.link = t != nullptr ? t : "";
      break;
    }
    default:
      h.type = TarEntryHeader::Type::Other;
      break;
  }
  return std::optional<TarEntryHeader>(std::move(h));
}

base::Result<size_t> TarReader::read(std::span<std::byte> buf) {
  la_ssize_t n = archive_read_data(s_->a.get(), buf.data(), buf.size());
  if (n < 0) {
    return archive_error(s_->a.get(), s_->pull, "invalid archive");
  }
  return static_cast<size_t>(n);
}

// --- TarWriter ---

struct TarWriter::State {
  const Sink* sink = nullptr;
  std::optional<base::Error> error;
  std::unique_ptr<struct archive, WriteDeleter> a;
  bool finished = false;

  static la_ssize_t cb(struct archive* a, void* self, const void* data, size_t len) {
    auto* s = static_cast<State*>(self);
    auto r = (*s->sink)(std::string_view(static_cast<const char*>(data), len));
    if (!r) {
      s->error = std::move(r).error();
      archive_set_error(a, EIO, "write error");
      return -1;
    }
    return static_cast<la_ssize_t>(len);
  }

  base::Error fail(std::string_view what) {
    if (error) {
      base::Error e = *error;
      return std::move(e).wrap(what);
    }
    const char* msg = archive_error_string(a.get());
    return make_error(ErrorCode::Internal, "{}: {}", what, msg != nullptr ? msg : "unknown error");
  }
};

TarWriter::TarWriter(std::unique_ptr<State> s) : s_(std::move(s)) {}
TarWriter::TarWriter(TarWriter&&) noexcept = default;
TarWriter& TarWriter::operator=(TarWriter&&) noexcept = default;
TarWriter::~TarWriter() = default;

base::Result<TarWriter> TarWriter::open(const Sink& sink) {
  auto s = std::make_unique<State>();
  s->sink = &sink;
  s->a.reset(archive_write_new());
  if (!s->a) {
    return make_error(ErrorCode::Internal, "archive: out of memory");
  }
  // pax: long names, big sizes, nanosecond mtimes and xattrs travel; "restricted" writes
  // extended headers only when a field does not fit ustar, as Go's archive/tar does.
  archive_write_set_format_pax_restricted(s->a.get());
  archive_write_set_bytes_per_block(s->a.get(), 10240);
  archive_write_set_bytes_in_last_block(s->a.get(), 1);
  if (archive_write_open(s->a.get(), s.get(), nullptr, &State::cb, nullptr) != ARCHIVE_OK) {
    return s->fail("open tar writer");
  }
  return TarWriter(std::move(s));
}

base::Result<void> TarWriter::add(const TarWriteEntry& e) {
  struct archive_entry* entry = archive_entry_new();
  if (entry == nullptr) {
    return make_error(ErrorCode::Internal, "archive: out of memory");
  }
  archive_entry_set_pathname(entry, e.name.c_str());
  switch (e.type) {
    case TarEntryHeader::Type::File:
      archive_entry_set_filetype(entry, AE_IFREG);
      archive_entry_set_size(entry, e.size);
      break;
    case TarEntryHeader::Type::Dir:
      archive_entry_set_filetype(entry, AE_IFDIR);
      break;
    case TarEntryHeader::Type::Symlink:
      archive_entry_set_filetype(entry, AE_IFLNK);
      archive_entry_set_symlink(entry, e.link.c_str());
      break;
    case TarEntryHeader::Type::Hardlink:
      archive_entry_set_filetype(entry, AE_IFREG);
      archive_entry_set_hardlink(entry, e.link.c_str());
      archive_entry_set_size(entry, 0);
      break;
    case TarEntryHeader::Type::Other:
      archive_entry_set_filetype(entry, e.mode_type);
      archive_entry_set_rdev(entry, e.rdev);
      break;
  }
  archive_entry_set_perm(entry, e.mode & 07777);
  archive_entry_set_mtime(entry, e.mtime, e.mtime_ns);
  archive_entry_set_uid(entry, e.uid);
  archive_entry_set_gid(entry, e.gid);
  if (!e.uname.empty()) {
    archive_entry_set_uname(entry, e.uname.c_str());
  }
  if (!e.gname.empty()) {
    archive_entry_set_gname(entry, e.gname.c_str());
  }
  for (const auto& [k, v] : e.xattrs) {
    archive_entry_xattr_add_entry(entry, k.c_str(), v.data(), v.size());
  }
  int r = archive_write_header(s_->a.get(), entry);
  archive_entry_free(entry);
  if (r != ARCHIVE_OK) {
    return s_->fail(fmt::format("write tar header `{}`", e.name));
  }
  return base::ok();
}

base::Result<void> TarWriter::write_data(std::string_view data) {
  while (!data.empty()) {
    la_ssize_t n = archive_write_data(s_->a.get(), data.data(), data.size());
    if (n <= 0) {
      return s_->fail("write tar data");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return base::ok();
}

base::Result<void> TarWriter::add_file(const std::string& name, std::string_view data,
                                       int64_t mtime) {
  TarWriteEntry e;
  e.name = name;
  e.size = static_cast<int64_t>(data.size());
  e.mtime = mtime;
  MYDOCKER_TRY(add(e));
  return write_data(data);
}

base::Result<void> TarWriter::add_stream(const std::string& name, int64_t size,
                                         layers::ByteSource& src, int64_t mtime) {
  TarWriteEntry e;
  e.name = name;
  e.size = size;
  e.mtime = mtime;
  MYDOCKER_TRY(add(e));
  auto buf = std::make_unique<std::byte[]>(kBufSize);
  int64_t left = size;
  while (left > 0) {
    size_t want = static_cast<size_t>(std::min<int64_t>(left, kBufSize));
    size_t n = MYDOCKER_TRY(src.read(std::span<std::byte>(buf.get(), want)));
    if (n == 0) {
      return make_error(ErrorCode::Internal, "`{}`: source ended {} bytes early", name, left);
    }
    MYDOCKER_TRY(write_data(std::string_view(reinterpret_cast<const char*>(buf.get()), n)));
    left -= static_cast<int64_t>(n);
  }
  return base::ok();
}

base::Result<void> TarWriter::finish() {
  if (s_->finished) {
    return base::ok();
  }
  s_->finished = true;
  if (archive_write_close(s_->a.get()) != ARCHIVE_OK) {
    return s_->fail("finish tar");
  }
  return base::ok();
}

// --- DecompressSource ---

struct DecompressSource::State {
  Pull pull;
  std::unique_ptr<struct archive, ArchiveDeleter> a;
};

DecompressSource::DecompressSource(std::unique_ptr<State> s) : s_(std::move(s)) {}
DecompressSource::~DecompressSource() = default;

base::Result<std::unique_ptr<DecompressSource>> DecompressSource::open(layers::ByteSource& src) {
  auto s = std::make_unique<State>();
  s->pull.src = &src;
  s->a.reset(archive_read_new());
  if (!s->a) {
    return make_error(ErrorCode::Internal, "archive: out of memory");
  }
  archive_read_support_filter_gzip(s->a.get());
  archive_read_support_filter_zstd(s->a.get());
  archive_read_support_format_raw(s->a.get());
  if (archive_read_open2(s->a.get(), &s->pull, nullptr, &Pull::cb, nullptr, nullptr) !=
      ARCHIVE_OK) {
    return archive_error(s->a.get(), s->pull, "decompress layer");
  }
  struct archive_entry* entry = nullptr;
  if (archive_read_next_header(s->a.get(), &entry) != ARCHIVE_OK) {
    return archive_error(s->a.get(), s->pull, "decompress layer");
  }
  return std::unique_ptr<DecompressSource>(new DecompressSource(std::move(s)));
}

base::Result<size_t> DecompressSource::read(std::span<std::byte> buf) {
  la_ssize_t n = archive_read_data(s_->a.get(), buf.data(), buf.size());
  if (n < 0) {
    return archive_error(s_->a.get(), s_->pull, "decompress layer");
  }
  return static_cast<size_t>(n);
}

}  // namespace mydocker::image::archive
