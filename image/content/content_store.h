// SPDX-License-Identifier: Apache-2.0
// ContentStore: blobs addressed by their sha256 digest, written so that a reader never sees a
// partial or unverified blob (containerd's content store: ingest -> verify -> rename).
//
// On-disk layout (root is a constructor parameter, normally `<data-root>/content`):
//
//   <root>/
//     blobs/sha256/<hex>     committed blobs; the file name is the sha256 of the content
//     ingest/<random>        partial writes, one file per Writer; never read by anyone
//
// Life of a blob:
//   ingest(expected digest?, expected size?) -> Writer
//   Writer::write(...)*      streams to ingest/<random>, hashing as it goes
//   Writer::commit()         checks size and digest, fsync(file), rename into blobs/,
//                            fsync(blobs/sha256). A blob that already exists is fine
//                            (idempotent): the ingest file is dropped and commit succeeds.
//   (Writer destroyed without commit: the ingest file is removed.)
//
// Crash safety: a kill -9 mid-ingest leaves only a file under ingest/, which no lookup sees;
// open() (and clean_ingest()) remove such leftovers. A blob in blobs/ was fsynced before its
// rename, and the directory after it, so a committed blob survives a power cut.
//
// Errors (base::ErrorCode):
//   InvalidArgument  digest mismatch ("digest mismatch: expected `X`, got `Y`"), size mismatch
//                    ("size mismatch: expected N bytes, got M"), a write past expected size
//   NotFound         read/open/info/remove of a blob that is not there ("blob `X` not found")
//   Internal         a stored blob whose content no longer matches its name (read() checks)
//   others           the errno of a failing syscall (PermissionDenied, ...)
//
// Thread-safety: a ContentStore may be used from many threads at once; it keeps no mutable
// in-memory state (the directory is the state). Two writers ingesting the same digest
// concurrently both succeed and leave one blob. A Writer belongs to one thread at a time.
// Removing a blob while another thread reads it is safe for the reader that already has it
// open (POSIX unlink semantics); who may remove what (garbage collection) is the caller's rule.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "image/digest/digest.h"
#include "runtime/base/error.h"
#include "runtime/base/fd.h"

namespace mydocker::image::content {

struct BlobInfo {
  Digest digest;
  int64_t size = 0;
};

class ContentStore;

// A streaming write into the store. Move-only; abandons (and deletes) its ingest file unless
// commit() succeeded.
class Writer {
 public:
  Writer(Writer&&) noexcept;
  Writer& operator=(Writer&&) noexcept;
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;
  ~Writer();

  // Appends `data`. Fails with InvalidArgument when the total passes the expected size.
  base::Result<void> write(std::string_view data);
  // Copies everything readable from `fd` (until EOF) into the blob.
  base::Result<void> write_from(int fd);
  int64_t written() const { return written_; }

  // Verifies size and digest and makes the blob visible. After a failure the ingest file is
  // gone and nothing is visible; the Writer is spent either way. Returns the blob's digest.
  base::Result<Digest> commit();
  // Drops the partial blob now (the destructor does the same).
  void abort();

 private:
  friend class ContentStore;
  Writer(const ContentStore* store, std::string ingest_path, base::Fd fd,
         std::optional<Digest> expected, int64_t expected_size);

  const ContentStore* store_ = nullptr;
  std::string ingest_path_;
  base::Fd fd_;
  std::optional<Digest> expected_;
  int64_t expected_size_ = -1;
  int64_t written_ = 0;
  std::unique_ptr<Sha256> hash_;
};

class ContentStore {
 public:
  // Creates `root`, blobs/sha256 and ingest/ if needed and removes leftover ingests (the
  // start-up cleanup). Fails if the directories cannot be made.
  static base::Result<std::unique_ptr<ContentStore>> open(std::string root);

  const std::string& root() const { return root_; }
  std::string blob_path(const Digest& digest) const;  // <root>/blobs/sha256/<hex>

  // Starts a write. `expected` / `expected_size` (-1: unknown) are checked at commit.
  base::Result<Writer> ingest(std::optional<Digest> expected = std::nullopt,
                              int64_t expected_size = -1) const;
  // ingest + write + commit in one call.
  base::Result<Digest> write_blob(std::string_view data,
                                  std::optional<Digest> expected = std::nullopt) const;

  // The whole blob, verified against its digest (meant for manifests and configs; stream
  // layers with open()).
  base::Result<std::string> read(const Digest& digest) const;
  // A read-only O_CLOEXEC descriptor; not verified.
  base::Result<base::Fd> open_blob(const Digest& digest) const;
  base::Result<BlobInfo> info(const Digest& digest) const;
  bool exists(const Digest& digest) const;
  // NotFound if absent.
  base::Result<void> remove(const Digest& digest) const;
  // Every committed blob, sorted by digest; files whose names are not 64 lower hex are
  // skipped.
  base::Result<std::vector<BlobInfo>> list() const;
  // Removes everything under ingest/. Call only when no Writer of this root is live (start-up).
  base::Result<void> clean_ingest() const;

 private:
  explicit ContentStore(std::string root) : root_(std::move(root)) {}
  friend class Writer;
  std::string blobs_dir() const { return root_ + "/blobs/sha256"; }
  std::string ingest_dir() const { return root_ + "/ingest"; }

  std::string root_;
};

}  // namespace mydocker::image::content
