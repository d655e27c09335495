// SPDX-License-Identifier: Apache-2.0
#include "image/content/content_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>

#include "runtime/base/file.h"
#include "runtime/base/scope_exit.h"

namespace mydocker::image::content {
namespace {

using base::ErrorCode;
using base::make_error;
using base::sys_error;

base::Result<std::string> random_name() {
  std::array<unsigned char, 16> buf{};
  size_t got = 0;
  while (got < buf.size()) {
    ssize_t n = ::getrandom(buf.data() + got, buf.size() - got, 0);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return sys_error("getrandom");
    }
    got += static_cast<size_t>(n);
  }
  std::string out;
  for (unsigned char c : buf) {
    out += fmt::format("{:02x}", c);
  }
  return out;
}

base::Result<void> fsync_dir(const std::string& dir) {
  base::Fd d = MYDOCKER_TRY(base::Fd::open(dir, O_RDONLY | O_DIRECTORY));
  if (::fsync(d.get()) < 0) {
    return sys_error("fsync `{}`", dir);
  }
  return base::ok();
}

bool lower_hex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

base::Error not_found(const Digest& d) {
  return make_error(ErrorCode::NotFound, "blob `{}` not found", d.str());
}

}  // namespace

Writer::Writer(const ContentStore* store, std::string ingest_path, base::Fd fd,
               std::optional<Digest> expected, int64_t expected_size)
    : store_(store),
      ingest_path_(std::move(ingest_path)),
      fd_(std::move(fd)),
      expected_(std::move(expected)),
      expected_size_(expected_size),
      hash_(std::make_unique<Sha256>()) {}

Writer::Writer(Writer&& other) noexcept
    : store_(std::exchange(other.store_, nullptr)),
      ingest_path_(std::exchange(other.ingest_path_, {})),
      fd_(std::move(other.fd_)),
      expected_(std::move(other.expected_)),
      expected_size_(other.expected_size_),
      written_(other.written_),
      hash_(std::move(other.hash_)) {}

Writer& Writer::operator=(Writer&& other) noexcept {
  if (this != &other) {
    abort();
    store_ = std::exchange(other.store_, nullptr);
    ingest_path_ = std::exchange(other.ingest_path_, {});
    fd_ = std::move(other.fd_);
    expected_ = std::move(other.expected_);
    expected_size_ = other.expected_size_;
    written_ = other.written_;
    hash_ = std::move(other.hash_);
  }
  return *this;
}

Writer::~Writer() {
  abort();
}

void Writer::abort() {
  fd_.reset();
  if (!ingest_path_.empty()) {
    ::unlink(ingest_path_.c_str());
    ingest_path_.clear();
  }
}

base::Result<void> Writer::write(std::string_view data) {
  if (!fd_) {
    return make_error(ErrorCode::FailedPrecondition, "write to a closed content writer");
  }
  if (expected_size_ >= 0 && written_ + static_cast<int64_t>(data.size()) > expected_size_) {
    return make_error(ErrorCode::InvalidArgument, "size mismatch: expected {} bytes, got more",
                      expected_size_);
  }
  MYDOCKER_TRY_CTX(base::write_all(fd_.get(), data), "write `{}`", ingest_path_);
  hash_->update(data);
  written_ += static_cast<int64_t>(data.size());
  return base::ok();
}

base::Result<void> Writer::write_from(int fd) {
  std::string buf(1 << 16, '\0');
  while (true) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return sys_error("read blob source");
    }
    if (n == 0) {
      return base::ok();
    }
    MYDOCKER_TRY(write(std::string_view(buf.data(), static_cast<size_t>(n))));
  }
}

base::Result<Digest> Writer::commit() {
  if (!fd_ || store_ == nullptr) {
    return make_error(ErrorCode::FailedPrecondition, "commit of a closed content writer");
  }
  // Whatever happens below, this writer is spent: failures leave no file behind.
  base::ScopeExit cleanup([this] { abort(); });
  Digest got = hash_->finish();
  if (expected_size_ >= 0 && written_ != expected_size_) {
    return make_error(ErrorCode::InvalidArgument, "size mismatch: expected {} bytes, got {}",
                      expected_size_, written_);
  }
  if (expected_ && *expected_ != got) {
    return make_error(ErrorCode::InvalidArgument, "digest mismatch: expected `{}`, got `{}`",
                      expected_->str(), got.str());
  }
  if (::fsync(fd_.get()) < 0) {
    return sys_error("fsync `{}`", ingest_path_);
  }
  fd_.reset();
  std::string target = store_->blob_path(got);
  // rename() replaces an existing blob of the same digest atomically; the content is the same
  // by construction, so concurrent commits of one digest all succeed.
  if (::rename(ingest_path_.c_str(), target.c_str()) < 0) {
    return sys_error("rename `{}` to `{}`", ingest_path_, target);
  }
  ingest_path_.clear();
  MYDOCKER_TRY(fsync_dir(store_->blobs_dir()));
  return got;
}

base::Result<std::unique_ptr<ContentStore>> ContentStore::open(std::string root) {
  std::unique_ptr<ContentStore> store(new ContentStore(std::move(root)));
  MYDOCKER_TRY(base::mkdir_all(store->blobs_dir(), 0700));
  MYDOCKER_TRY(base::mkdir_all(store->ingest_dir(), 0700));
  MYDOCKER_TRY(store->clean_ingest());
  return store;
}

std::string ContentStore::blob_path(const Digest& digest) const {
  return blobs_dir() + "/" + std::string(digest.hex());
}

base::Result<Writer> ContentStore::ingest(std::optional<Digest> expected,
                                          int64_t expected_size) const {
  std::string path = ingest_dir() + "/" + MYDOCKER_TRY(random_name());
  base::Fd fd = MYDOCKER_TRY(base::Fd::open(path, O_WRONLY | O_CREAT | O_EXCL, 0644));
  return Writer(this, std::move(path), std::move(fd), std::move(expected), expected_size);
}

base::Result<Digest> ContentStore::write_blob(std::string_view data,
                                              std::optional<Digest> expected) const {
  if (expected && exists(*expected)) {
    // Already stored: verify the caller's bytes match the name without rewriting the file.
    Digest got = Digest::sha256_of(data);
    if (got != *expected) {
      return make_error(ErrorCode::InvalidArgument, "digest mismatch: expected `{}`, got `{}`",
                        expected->str(), got.str());
    }
    return got;
  }
  Writer w = MYDOCKER_TRY(ingest(std::move(expected), static_cast<int64_t>(data.size())));
  MYDOCKER_TRY(w.write(data));
  return w.commit();
}

base::Result<std::string> ContentStore::read(const Digest& digest) const {
  auto data = base::read_file(blob_path(digest));
  if (!data) {
    if (data.error().code() == ErrorCode::NotFound) {
      return not_found(digest);
    }
    return std::move(data).error();
  }
  Digest got = Digest::sha256_of(*data);
  if (got != digest) {
    return make_error(ErrorCode::Internal, "blob `{}` is corrupt: content hashes to `{}`",
                      digest.str(), got.str());
  }
  return std::move(*data);
}

base::Result<base::Fd> ContentStore::open_blob(const Digest& digest) const {
  auto fd = base::Fd::open(blob_path(digest), O_RDONLY);
  if (!fd && fd.error().code() == ErrorCode::NotFound) {
    return not_found(digest);
  }
  return fd;
}

base::Result<BlobInfo> ContentStore::info(const Digest& digest) const {
  struct stat st {};
  if (::stat(blob_path(digest).c_str(), &st) < 0) {
    if (errno == ENOENT) {
      return not_found(digest);
    }
    return sys_error("stat `{}`", blob_path(digest));
  }
  return BlobInfo{digest, static_cast<int64_t>(st.st_size)};
}

bool ContentStore::exists(const Digest& digest) const {
  return !digest.empty() && ::access(blob_path(digest).c_str(), F_OK) == 0;
}

base::Result<void> ContentStore::remove(const Digest& digest) const {
  if (::unlink(blob_path(digest).c_str()) < 0) {
    if (errno == ENOENT) {
      return not_found(digest);
    }
    return sys_error("remove `{}`", blob_path(digest));
  }
  return base::ok();
}

base::Result<std::vector<BlobInfo>> ContentStore::list() const {
  std::vector<BlobInfo> out;
  std::string dir = blobs_dir();
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return sys_error("open `{}`", dir);
  }
  base::ScopeExit close_dir([d] { ::closedir(d); });
  while (dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (!lower_hex64(name)) {
      continue;
    }
    Digest digest = Digest::from_sha256_hex(std::string(name));
    struct stat st {};
    if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
      if (errno == ENOENT) {
        continue;  // removed while listing
      }
      return sys_error("stat `{}/{}`", dir, name);
    }
    if (!S_ISREG(st.st_mode)) {
      continue;
    }
    out.push_back(BlobInfo{std::move(digest), static_cast<int64_t>(st.st_size)});
  }
  std::sort(out.begin(), out.end(),
            [](const BlobInfo& a, const BlobInfo& b) { return a.digest < b.digest; });
  return out;
}

base::Result<void> ContentStore::clean_ingest() const {
  std::string dir = ingest_dir();
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return sys_error("open `{}`", dir);
  }
  base::ScopeExit close_dir([d] { ::closedir(d); });
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name != "." && name != "..") {
      names.emplace_back(name);
    }
  }
  for (const std::string& name : names) {
    MYDOCKER_TRY(base::remove_all(dir + "/" + name));
  }
  return base::ok();
}

}  // namespace mydocker::image::content
