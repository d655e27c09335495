// SPDX-License-Identifier: Apache-2.0
#include "image/layers/unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <unordered_set>
#include <utility>
#include <vector>

#include "image/layers/in_root.h"

#ifdef MYDOCKER_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

// Why two chained libarchive readers. The DiffID is the sha256 of the *uncompressed* tar
// stream, but a tar reader hands out entries, never the bytes they came from. So:
//   outer: filters gzip+zstd (none is implicit) and format "raw" — libarchive detects the
//          compression by magic bytes and exposes the decompressed stream as one raw entry;
//          its read callback pulls from the ByteSource and hashes the compressed bytes;
//   inner: format tar only, no filters; its read callback pulls decompressed blocks from the
//          outer reader (archive_read_data_block: no copy), hashes them, and hands libarchive
//          the very same buffer.
// Every uncompressed byte passes the inner callback exactly once, in order; after the tar's
// end-of-archive marker the rest (record padding) is drained into the hash too. Single pass,
// no temp file, no second decompression. The alternatives were worse: hashing in a second
// pass decompresses twice, and archive_write_disk cannot resolve paths inside a root fd.
//
// gzip, the common case (every registry layer), skips the outer libarchive reader when
// ISA-L is built in: its igzip inflates about twice as fast as zlib (which libarchive uses),
// and decompression is most of a pull's CPU time. The first source block decides; the other
// formats, and builds without ISA-L, go through libarchive as before.
//
// The writer is our own: every path is resolved from the root's directory fd (in_root.h),
// created with O_EXCL/O_NOFOLLOW or an *at call that does not follow the final symlink.

namespace mydocker::image::layers {
namespace {

using base::ErrorCode;

// Big reads keep syscalls and callback round trips off the profile (GNU tar reads 10 KiB
// records; the gzip/zstd filters decode into their own buffers).
constexpr size_t kSourceBuffer = 1 << 20;

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kWhiteoutMetaPrefix = ".wh..wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";
constexpr std::string_view kOverlayXattrPrefix = "trusted.overlay.";

struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveFree>;

std::string archive_message(archive* a) {
  const char* s = archive_error_string(a);
  std::string msg = s != nullptr ? s : "unknown libarchive error";
  // libarchive capitalises; our messages are lower case.
  if (!msg.empty() && msg[0] >= 'A' && msg[0] <= 'Z' && (msg.size() < 2 || msg[1] > 'Z')) {
    msg[0] = static_cast<char>(msg[0] - 'A' + 'a');
  }
  return msg;
}

// The decompressing half: source -> outer reader -> uncompressed blocks.
class Stream {
 public:
  explicit Stream(ByteSource& src)
      : src_(src), buf_(new std::byte[kSourceBuffer]), hash_compressed_(!src.verifies_digest()) {}

  base::Result<void> open() {
    // The first block decides between our gzip path and libarchive's filters; libarchive gets
    // it from source_cb as if read then.
    pending_ = MYDOCKER_TRY(read_source());
#ifdef MYDOCKER_HAVE_ISAL
    if (pending_ >= 2 && buf_[0] == std::byte{0x1f} && buf_[1] == std::byte{0x8b}) {
      gzip_ = std::make_unique<Gzip>();
      isal_inflate_init(&gzip_->state);
      gzip_->state.crc_flag = ISAL_GZIP;
      gzip_->state.next_in = reinterpret_cast<uint8_t*>(buf_.get());
      gzip_->state.avail_in = static_cast<uint32_t>(pending_);
      pending_ = 0;
      compression_ = Compression::Gzip;
      return base::ok();
    }
#endif
    outer_.reset(archive_read_new());
    if (!outer_) {
      return base::make_error(ErrorCode::Internal, "allocate archive reader");
    }
    archive_read_support_filter_gzip(outer_.get());
    // ARCHIVE_WARN means "via an external zstd program": slower but correct.
    archive_read_support_filter_zstd(outer_.get());
    archive_read_support_format_raw(outer_.get());
    if (archive_read_open2(outer_.get(), this, nullptr, &Stream::source_cb, nullptr, nullptr) !=
        ARCHIVE_OK) {
      return error("open layer stream", outer_.get());
    }
    archive_entry* e = nullptr;
    int r = archive_read_next_header(outer_.get(), &e);
    if (r == ARCHIVE_EOF) {
      eof_ = true;  // empty input: the inner reader reports it
    } else if (r < ARCHIVE_WARN) {
      return error("read layer stream", outer_.get());
    }
    switch (archive_filter_code(outer_.get(), 0)) {
      case ARCHIVE_FILTER_GZIP:
        compression_ = Compression::Gzip;
        break;
      case ARCHIVE_FILTER_ZSTD:
        compression_ = Compression::Zstd;
        break;
      default:
        compression_ = Compression::None;
    }
    return base::ok();
  }

  // Next uncompressed block (hashed); size 0 at the end. The block stays valid until the next
  // call. -1 on error (kept in error_).
  la_ssize_t next(const void** out) {
#ifdef MYDOCKER_HAVE_ISAL
    if (gzip_) {
      return gzip_next(out);
    }
#endif
    while (!eof_) {
      const void* block = nullptr;
      size_t size = 0;
      la_int64_t offset = 0;
      int r = archive_read_data_block(outer_.get(), &block, &size, &offset);
      if (r == ARCHIVE_EOF) {
        eof_ = true;
        break;
      }
      if (r < ARCHIVE_WARN) {
        if (!error_) {
          error_ = error("read layer stream", outer_.get());
        }
        return -1;
      }
      if (size == 0) {
        continue;
      }
      uncompressed_.update(block, size);
      uncompressed_size_ += size;
      *out = block;
      return static_cast<la_ssize_t>(size);
    }
    return 0;
  }

  // Reads and hashes what is left: the tar's trailing padding, then any bytes of the source
  // after the compressed stream (so the compressed digest is the digest of the whole blob).
  base::Result<void> drain() {
    const void* block = nullptr;
    la_ssize_t n;
    while ((n = next(&block)) > 0) {
    }
    if (n < 0) {
      return *error_;
    }
    for (;;) {
      size_t got = MYDOCKER_TRY(src_.read(std::span(buf_.get(), kSourceBuffer)));
      if (got == 0) {
        break;
      }
      if (hash_compressed_) {
        compressed_.update(buf_.get(), got);
      }
      compressed_size_ += got;
    }
    return base::ok();
  }

  void finish(UnpackResult& out) {
    out.diff_id = DiffId(uncompressed_.finish());
    if (hash_compressed_) {
      out.compressed_digest = compressed_.finish();
    }
    out.compressed_size = compressed_size_;
    out.uncompressed_size = uncompressed_size_;
    out.compression = compression_;
  }

  const std::optional<base::Error>& error() const {
    return error_;
  }

 private:
  base::Error error(std::string_view what, archive* a) {
    if (source_error_) {
      return *source_error_;
    }
    return base::make_error(ErrorCode::InvalidArgument, "{}: {}", what, archive_message(a));
  }

  // Reads the next source block into buf_, hashed as compressed bytes.
  base::Result<size_t> read_source() {
    size_t got = MYDOCKER_TRY(src_.read(std::span(buf_.get(), kSourceBuffer)));
    if (hash_compressed_) {
      compressed_.update(buf_.get(), got);
    }
    compressed_size_ += got;
    return got;
  }

  static la_ssize_t source_cb(archive* a, void* self_ptr, const void** out) {
    auto* self = static_cast<Stream*>(self_ptr);
    *out = self->buf_.get();
    if (self->pending_ > 0) {
      return static_cast<la_ssize_t>(std::exchange(self->pending_, 0));
    }
    base::Result<size_t> got = self->read_source();
    if (!got) {
      self->source_error_ = std::move(got).error();
      archive_set_error(a, EIO, "read layer source");
      return -1;
    }
    return static_cast<la_ssize_t>(*got);
  }

#ifdef MYDOCKER_HAVE_ISAL
  static constexpr size_t kInflateBuffer = 1 << 20;
  struct Gzip {
    inflate_state state{};
    std::unique_ptr<uint8_t[]> out{new uint8_t[kInflateBuffer]};
    bool source_eof = false;
    bool done = false;
  };

  la_ssize_t gzip_fail(std::string_view what) {
    if (!error_) {
      error_ = base::make_error(ErrorCode::InvalidArgument, "read layer stream: {}", what);
    }
    return -1;
  }

  // Inflates the next block of the (possibly multi-member) gzip stream. After the last
  // member, bytes that do not start another member end the stream; drain() hashes them.
  la_ssize_t gzip_next(const void** out) {
    inflate_state& st = gzip_->state;
    while (!gzip_->done) {
      if (st.avail_in == 0 && !gzip_->source_eof) {
        base::Result<size_t> got = read_source();
        if (!got) {
          if (!error_) {
            error_ = std::move(got).error();
          }
          return -1;
        }
        gzip_->source_eof = *got == 0;
        st.next_in = reinterpret_cast<uint8_t*>(buf_.get());
        st.avail_in = static_cast<uint32_t>(*got);
      }
      if (st.block_state == ISAL_BLOCK_FINISH) {
        if (st.avail_in == 0) {
          if (gzip_->source_eof) {
            gzip_->done = true;
          }
          continue;
        }
        if (st.next_in[0] != 0x1f || (st.avail_in >= 2 && st.next_in[1] != 0x8b)) {
          gzip_->done = true;  // not another member: trailing bytes
          continue;
        }
        uint8_t* next_in = st.next_in;
        uint32_t avail_in = st.avail_in;
        isal_inflate_reset(&st);
        st.crc_flag = ISAL_GZIP;
        st.next_in = next_in;
        st.avail_in = avail_in;
      }
      st.next_out = gzip_->out.get();
      st.avail_out = static_cast<uint32_t>(kInflateBuffer);
      int r = isal_inflate(&st);
      if (r == ISAL_INCORRECT_CHECKSUM) {
        return gzip_fail("gzip: checksum mismatch");
      }
      if (r < 0) {
        return gzip_fail(fmt::format("gzip: invalid compressed data (igzip error {})", r));
      }
      size_t produced = kInflateBuffer - st.avail_out;
      if (produced > 0) {
        uncompressed_.update(gzip_->out.get(), produced);
        uncompressed_size_ += produced;
        *out = gzip_->out.get();
        return static_cast<la_ssize_t>(produced);
      }
      if (st.block_state != ISAL_BLOCK_FINISH && st.avail_in == 0 && gzip_->source_eof) {
        return gzip_fail("truncated gzip input");
      }
    }
    return 0;
  }

  std::unique_ptr<Gzip> gzip_;
#endif

  ByteSource& src_;
  std::unique_ptr<std::byte[]> buf_;
  const bool hash_compressed_;
  ArchivePtr outer_;
  bool eof_ = false;
  Compression compression_ = Compression::None;
  Sha256 compressed_;
  Sha256 uncompressed_;
  uint64_t compressed_size_ = 0;
  uint64_t uncompressed_size_ = 0;
  size_t pending_ = 0;  // bytes of buf_ read by open() and not handed out yet
  std::optional<base::Error> source_error_;
  std::optional<base::Error> error_;
};

la_ssize_t inner_read_cb(archive* a, void* stream_ptr, const void** out) {
  auto* stream = static_cast<Stream*>(stream_ptr);
  la_ssize_t n = stream->next(out);
  if (n < 0) {
    archive_set_error(a, EIO, "read layer stream");
  }
  return n;
}

struct DirTimes {
  std::string path;
  timespec times[2];
};

// Writes the entries of one layer under `root_`.
class Applier {
 public:
  Applier(const base::Fd& root, const UnpackOptions& options, archive* tar, Stream& stream)
      : root_(root), opts_(options), tar_(tar), stream_(stream) {}

  base::Result<void> apply(archive_entry* e) {
    const char* raw_name = archive_entry_pathname(e);
    if (raw_name == nullptr || *raw_name == '\0') {
      return base::make_error(ErrorCode::InvalidArgument, "layer entry with an empty name");
    }
    std::optional<std::string> clean = clean_path(raw_name);
    if (!clean) {
      return base::make_error(ErrorCode::InvalidArgument,
                              "layer entry `{}`: escapes the layer root", raw_name);
    }
    base::Result<void> r = apply_clean(e, *clean);
    if (!r) {
      return std::move(r).error().wrap(fmt::format("layer entry `{}`", raw_name));
    }
    return base::ok();
  }

  // Directory times last: creating entries inside a directory bumps its mtime.
  base::Result<void> finish() {
    for (auto it = dir_times_.rbegin(); it != dir_times_.rend(); ++it) {
      if (it->path.empty()) {
        if (::futimens(root_.get(), it->times) < 0) {
          return base::sys_error("set times of the layer root");
        }
        continue;
      }
      auto [parent, name] = split_parent(it->path);
      base::Fd dir = MYDOCKER_TRY(open_dir_in_root(root_, std::string(parent)));
      std::string n(name);
      if (::utimensat(dir.get(), n.c_str(), it->times, AT_SYMLINK_NOFOLLOW) < 0) {
        return base::sys_error("set times of `{}`", it->path);
      }
    }
    return base::ok();
  }

 private:
  base::Result<void> apply_clean(archive_entry* e, const std::string& path) {
    mode_t type = archive_entry_filetype(e);
    if (path.empty()) {
      // "./": the layer root itself; only its metadata can apply.
      if (type != AE_IFDIR) {
        return base::make_error(ErrorCode::InvalidArgument, "the layer root must be a directory");
      }
      MYDOCKER_TRY(set_fd_meta(root_.get(), e));
      defer_dir_times(path, e);
      return base::ok();
    }
    auto [parent, name_view] = split_parent(path);
    name_.assign(name_view);

    if (opts_.whiteouts != WhiteoutFormat::Keep && name_.starts_with(kWhiteoutPrefix)) {
      return apply_whiteout(parent);
    }
    int dir = MYDOCKER_TRY(parent_dir(parent));
    if (opts_.whiteouts == WhiteoutFormat::Apply) {
      layer_paths_.insert(path);
    }

    if (const char* link = archive_entry_hardlink(e)) {
      return make_hardlink(dir, link);
    }
    switch (type) {
      case AE_IFREG:
        return make_file(dir, e);
      case AE_IFDIR:
        return make_dir(dir, path, e);
      case AE_IFLNK:
        return make_symlink(dir, e);
      case AE_IFCHR:
      case AE_IFBLK:
      case AE_IFIFO:
        return make_node(dir, type, e);
      case AE_IFSOCK:
        return base::ok();
      default:
        return base::make_error(ErrorCode::InvalidArgument, "unsupported entry type {:o}", type);
    }
  }

  // The descriptor of `parent` (made if missing). Consecutive entries mostly share a parent,
  // so the last one is cached; removing a directory invalidates it (a path's resolution can
  // only change when one of its directories is replaced).
  base::Result<int> parent_dir(std::string_view parent) {
    if (parent.empty()) {
      return root_.get();
    }
    if (!cached_dir_ || cached_path_ != parent) {
      cached_path_.assign(parent);
      cached_dir_ = MYDOCKER_TRY(make_dirs_in_root(root_, cached_path_));
    }
    return cached_dir_.get();
  }

  base::Result<void> remove_existing(int dir) {
    struct stat st;
    if (::fstatat(dir, name_.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
      return errno == ENOENT ? base::ok() : base::sys_error("stat existing entry");
    }
    if (S_ISDIR(st.st_mode)) {
      cached_dir_.reset();
    }
    return remove_all_at(dir, name_);
  }

  base::Result<void> make_file(int dir, archive_entry* e) {
    int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    int fd = ::openat(dir, name_.c_str(), flags, 0600);
    if (fd < 0 && errno == EEXIST) {
      MYDOCKER_TRY(remove_existing(dir));
      fd = ::openat(dir, name_.c_str(), flags, 0600);
    }
    if (fd < 0) {
      return base::sys_error("create file");
    }
    base::Fd file = base::Fd::adopt(fd);
    int64_t end = 0;
    for (;;) {
      const void* block = nullptr;
      size_t size = 0;
      la_int64_t offset = 0;
      int r = archive_read_data_block(tar_, &block, &size, &offset);
      if (r == ARCHIVE_EOF) {
        break;
      }
      if (r < ARCHIVE_WARN) {
        return read_error();
      }
      const char* p = static_cast<const char*>(block);
      while (size > 0) {
        ssize_t n = ::pwrite(fd, p, size, offset);
        if (n < 0) {
          if (errno == EINTR) {
            continue;
          }
          return base::sys_error("write file");
        }
        p += n;
        size -= static_cast<size_t>(n);
        offset += n;
      }
      end = std::max<int64_t>(end, offset);
    }
    // Sparse files end in a hole that no data block covers.
    int64_t size = archive_entry_size(e);
    if (size > end && ::ftruncate(fd, size) < 0) {
      return base::sys_error("extend sparse file");
    }
    MYDOCKER_TRY(set_fd_meta(fd, e));
    timespec times[2];
    entry_times(e, times);
    if (::futimens(fd, times) < 0) {
      return base::sys_error("set times");
    }
    return base::ok();
  }

  base::Result<void> make_dir(int dir, const std::string& path, archive_entry* e) {
    if (::mkdirat(dir, name_.c_str(), 0700) < 0) {
      if (errno != EEXIST) {
        return base::sys_error("create directory");
      }
      struct stat st;
      if (::fstatat(dir, name_.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
        return base::sys_error("stat existing entry");
      }
      if (!S_ISDIR(st.st_mode)) {
        MYDOCKER_TRY(remove_existing(dir));
        if (::mkdirat(dir, name_.c_str(), 0700) < 0) {
          return base::sys_error("create directory");
        }
      }
    }
    int fd = ::openat(dir, name_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      return base::sys_error("open directory");
    }
    base::Fd d = base::Fd::adopt(fd);
    MYDOCKER_TRY(set_fd_meta(fd, e));
    defer_dir_times(path, e);
    return base::ok();
  }

  base::Result<void> make_symlink(int dir, archive_entry* e) {
    const char* target = archive_entry_symlink(e);
    if (target == nullptr) {
      return base::make_error(ErrorCode::InvalidArgument, "symlink without a target");
    }
    // The target is stored verbatim: it is resolved later, inside the container's root, and
    // never followed by this unpacker when writing.
    if (::symlinkat(target, dir, name_.c_str()) < 0) {
      if (errno != EEXIST) {
        return base::sys_error("create symlink");
      }
      MYDOCKER_TRY(remove_existing(dir));
      if (::symlinkat(target, dir, name_.c_str()) < 0) {
        return base::sys_error("create symlink");
      }
    }
    return set_at_meta(dir, e, /*chmod=*/false, /*xattrs=*/false);
  }

  base::Result<void> make_node(int dir, mode_t type, archive_entry* e) {
    mode_t kind = type == AE_IFCHR ? S_IFCHR : type == AE_IFBLK ? S_IFBLK : S_IFIFO;
    dev_t dev = type == AE_IFIFO ? 0 : archive_entry_rdev(e);
    if (::mknodat(dir, name_.c_str(), kind | 0600, dev) < 0) {
      if (errno != EEXIST) {
        return base::sys_error("create device node");
      }
      MYDOCKER_TRY(remove_existing(dir));
      if (::mknodat(dir, name_.c_str(), kind | 0600, dev) < 0) {
        return base::sys_error("create device node");
      }
    }
    return set_at_meta(dir, e, /*chmod=*/true, /*xattrs=*/true);
  }

  base::Result<void> make_hardlink(int dir, const char* link) {
    std::optional<std::string> target = clean_path(link);
    if (!target || target->empty()) {
      return base::make_error(ErrorCode::InvalidArgument,
                              "hard link target `{}` escapes the layer root", link);
    }
    auto [tparent, tname_view] = split_parent(*target);
    base::Result<base::Fd> tdir = open_dir_in_root(root_, std::string(tparent));
    if (!tdir) {
      return base::make_error(ErrorCode::InvalidArgument,
                              "hard link target `{}` not found in the layer", link);
    }
    std::string tname(tname_view);
    // flags 0: never follow a symlink target; the link names that inode, inside the root.
    if (::linkat(tdir->get(), tname.c_str(), dir, name_.c_str(), 0) < 0) {
      if (errno == EEXIST) {
        MYDOCKER_TRY(remove_existing(dir));
        if (::linkat(tdir->get(), tname.c_str(), dir, name_.c_str(), 0) == 0) {
          return base::ok();
        }
      }
      if (errno == ENOENT) {
        return base::make_error(ErrorCode::InvalidArgument,
                                "hard link target `{}` not found in the layer", link);
      }
      return base::sys_error("hard link to `{}`", link);
    }
    return base::ok();
  }

  base::Result<void> apply_whiteout(std::string_view parent) {
    if (name_.starts_with(kWhiteoutMetaPrefix) && name_ != kOpaqueMarker) {
      return base::ok();  // aufs bookkeeping (.wh..wh.plnk, .wh..wh.aufs): not content
    }
    bool opaque = name_ == kOpaqueMarker;
    std::string hidden = opaque ? std::string() : name_.substr(kWhiteoutPrefix.size());
    if (!opaque && (hidden.empty() || hidden == "." || hidden == "..")) {
      return base::make_error(ErrorCode::InvalidArgument, "invalid whiteout name");
    }
    if (opts_.whiteouts == WhiteoutFormat::Overlay) {
      int dir = MYDOCKER_TRY(parent_dir(parent));
      if (opaque) {
        if (::fsetxattr(dir, "trusted.overlay.opaque", "y", 1, 0) < 0) {
          return base::sys_error("mark directory opaque");
        }
        return base::ok();
      }
      name_ = hidden;
      MYDOCKER_TRY(remove_existing(dir));
      // overlayfs's whiteout: a character device 0/0 hides the lower layers' entry.
      if (::mknodat(dir, name_.c_str(), S_IFCHR | 0, makedev(0, 0)) < 0) {
        return base::sys_error("create whiteout device");
      }
      if (opts_.preserve_owners && ::fchownat(dir, name_.c_str(), 0, 0, AT_SYMLINK_NOFOLLOW) < 0) {
        return base::sys_error("chown whiteout");
      }
      return base::ok();
    }
    // Apply: delete from the tree below, leaving what this layer itself wrote.
    base::Result<base::Fd> dir = open_dir_in_root(root_, std::string(parent));
    if (!dir) {
      return dir.error().code() == ErrorCode::NotFound ? base::ok() : std::move(dir).error();
    }
    std::string prefix = parent.empty() ? std::string() : std::string(parent) + "/";
    if (opaque) {
      cached_dir_.reset();
      return remove_lower(dir->get(), prefix);
    }
    if (layer_paths_.count(prefix + hidden) != 0) {
      return base::ok();
    }
    cached_dir_.reset();
    return remove_all_at(dir->get(), hidden);
  }

  // Removes every entry under `dir` (whose root-relative path is `prefix`) that this layer did
  // not write, descending into directories it did write.
  base::Result<void> remove_lower(int dir, const std::string& prefix) {
    base::Fd copy = base::Fd::adopt(::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!copy) {
      return base::sys_error("open directory `{}`", prefix);
    }
    DIR* d = ::fdopendir(copy.get());
    if (d == nullptr) {
      return base::sys_error("open directory `{}`", prefix);
    }
    copy.release();
    std::vector<std::string> names;
    while (dirent* ent = ::readdir(d)) {
      std::string_view n(ent->d_name);
      if (n != "." && n != "..") {
        names.emplace_back(n);
      }
    }
    base::Result<void> result = base::ok();
    for (const std::string& n : names) {
      std::string path = prefix + n;
      if (layer_paths_.count(path) == 0) {
        result = remove_all_at(::dirfd(d), n);
      } else {
        int sub = ::openat(::dirfd(d), n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub >= 0) {
          base::Fd subfd = base::Fd::adopt(sub);
          result = remove_lower(sub, path + "/");
        }
      }
      if (!result) {
        break;
      }
    }
    ::closedir(d);
    return result;
  }

  static void entry_times(archive_entry* e, timespec times[2]) {
    times[1].tv_sec = archive_entry_mtime(e);
    times[1].tv_nsec = archive_entry_mtime_nsec(e);
    if (archive_entry_atime_is_set(e) != 0) {
      times[0].tv_sec = archive_entry_atime(e);
      times[0].tv_nsec = archive_entry_atime_nsec(e);
    } else {
      times[0] = times[1];
    }
  }

  void defer_dir_times(const std::string& path, archive_entry* e) {
    DirTimes& t = dir_times_.emplace_back();
    t.path = path;
    entry_times(e, t.times);
  }

  // Owner, then mode (chown clears setuid/setgid), then xattrs (a chown or write clears
  // security.capability).
  base::Result<void> set_fd_meta(int fd, archive_entry* e) {
    if (opts_.preserve_owners && ::fchown(fd, static_cast<uid_t>(archive_entry_uid(e)),
                                          static_cast<gid_t>(archive_entry_gid(e))) < 0) {
      return base::sys_error("chown");
    }
    if (::fchmod(fd, archive_entry_perm(e)) < 0) {
      return base::sys_error("chmod");
    }
    return set_xattrs(e, [fd](const char* name, const void* value, size_t size) {
      return ::fsetxattr(fd, name, value, size, 0);
    });
  }

  base::Result<void> set_at_meta(int dir, archive_entry* e, bool chmod, bool xattrs) {
    if (opts_.preserve_owners &&
        ::fchownat(dir, name_.c_str(), static_cast<uid_t>(archive_entry_uid(e)),
                   static_cast<gid_t>(archive_entry_gid(e)), AT_SYMLINK_NOFOLLOW) < 0) {
      return base::sys_error("chown");
    }
    // fchmodat follows symlinks, but `name_` is the node just created here, not a symlink.
    if (chmod && ::fchmodat(dir, name_.c_str(), archive_entry_perm(e), 0) < 0) {
      return base::sys_error("chmod");
    }
    if (xattrs && archive_entry_xattr_count(e) > 0) {
      // Devices and fifos cannot be opened for fsetxattr without side effects; an O_PATH
      // descriptor reached through /proc/self/fd names the inode itself.
      int fd = ::openat(dir, name_.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) {
        return base::sys_error("open for xattrs");
      }
      base::Fd node = base::Fd::adopt(fd);
      std::string proc = fmt::format("/proc/self/fd/{}", fd);
      MYDOCKER_TRY(set_xattrs(e, [&proc](const char* name, const void* value, size_t size) {
        return ::setxattr(proc.c_str(), name, value, size, 0);
      }));
    }
    timespec times[2];
    entry_times(e, times);
    if (::utimensat(dir, name_.c_str(), times, AT_SYMLINK_NOFOLLOW) < 0) {
      return base::sys_error("set times");
    }
    return base::ok();
  }

  template <typename SetFn>
  base::Result<void> set_xattrs(archive_entry* e, SetFn&& set) {
    if (archive_entry_xattr_reset(e) == 0) {
      return base::ok();
    }
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
      if (!opts_.keep_overlay_xattrs && std::string_view(name).starts_with(kOverlayXattrPrefix)) {
        continue;
      }
      if (set(name, value, size) < 0) {
        if (errno == ENOTSUP) {
          continue;  // the filesystem has no xattrs of this namespace: nothing to keep them in
        }
        return base::sys_error("set xattr `{}`", name);
      }
    }
    return base::ok();
  }

  base::Error read_error() {
    if (stream_.error()) {
      return *stream_.error();
    }
    return base::make_error(ErrorCode::InvalidArgument, "read data: {}", archive_message(tar_));
  }

  const base::Fd& root_;
  const UnpackOptions& opts_;
  archive* tar_;
  Stream& stream_;
  std::string name_;  // final component of the current entry (reused buffer)
  std::string cached_path_;
  base::Fd cached_dir_;
  std::vector<DirTimes> dir_times_;
  std::unordered_set<std::string> layer_paths_;  // Apply mode: what this layer wrote
};

}  // namespace

std::string_view compression_name(Compression c) {
  switch (c) {
    case Compression::None:
      return "none";
    case Compression::Gzip:
      return "gzip";
    case Compression::Zstd:
      return "zstd";
  }
  return "unknown";
}

base::Result<UnpackResult> unpack(ByteSource& src, const base::Fd& root,
                                  const UnpackOptions& options) {
  Stream stream(src);
  MYDOCKER_TRY(stream.open());
  ArchivePtr tar(archive_read_new());
  if (!tar) {
    return base::make_error(ErrorCode::Internal, "allocate archive reader");
  }
  archive_read_support_format_tar(tar.get());
  auto tar_error = [&](std::string_view what) -> base::Error {
    if (stream.error()) {
      return *stream.error();
    }
    return base::make_error(ErrorCode::InvalidArgument, "{}: {}", what, archive_message(tar.get()));
  };
  if (archive_read_open2(tar.get(), &stream, nullptr, &inner_read_cb, nullptr, nullptr) !=
      ARCHIVE_OK) {
    return tar_error("read layer tar");
  }
  UnpackResult result;
  Applier applier(root, options, tar.get(), stream);
  for (;;) {
    archive_entry* e = nullptr;
    int r = archive_read_next_header(tar.get(), &e);
    if (r == ARCHIVE_EOF) {
      break;
    }
    if (r < ARCHIVE_WARN) {
      return tar_error(result.entries == 0 ? "read layer tar" : "read layer tar header");
    }
    ++result.entries;
    MYDOCKER_TRY(applier.apply(e));
  }
  MYDOCKER_TRY(applier.finish());
  MYDOCKER_TRY(stream.drain());
  stream.finish(result);
  return result;
}

base::Result<UnpackResult> digest_layer(ByteSource& src) {
  Stream stream(src);
  MYDOCKER_TRY(stream.open());
  MYDOCKER_TRY(stream.drain());
  UnpackResult result;
  stream.finish(result);
  return result;
}

}  // namespace mydocker::image::layers
