// SPDX-License-Identifier: Apache-2.0
// ByteSource: the input side of layer unpacking, a pull-based byte stream.
//
// A layer arrives from a blob file in the content store, from an entry inside a `docker save`
// tarball, or from a test's memory buffer; unpack() only needs "give me the next bytes". The
// stream is read once, front to back; nothing seeks.
//
// Thread-safety: a ByteSource is used by one thread at a time.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "runtime/base/error.h"
#include "runtime/base/fd.h"

namespace mydocker::image::layers {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Fills up to buf.size() bytes; returns the count, 0 only at end of stream. Errors are
  // reported as they are (unpack() wraps them with the layer context).
  virtual base::Result<size_t> read(std::span<std::byte> buf) = 0;
  // True when the source checks the digest of its own bytes before reporting their end (a
  // registry blob streamed into the content store): unpack() and digest_layer() then do not
  // hash them a second time, and leave UnpackResult::compressed_digest empty.
  virtual bool verifies_digest() const { return false; }
};

// Reads a file descriptor until EOF (EINTR retried). Does not own the descriptor.
class FdSource final : public ByteSource {
 public:
  explicit FdSource(int fd) : fd_(fd) {}
  base::Result<size_t> read(std::span<std::byte> buf) override;

 private:
  int fd_;
};

// Owns an opened file (e.g. a content-store blob) and reads it until EOF.
class FileSource final : public ByteSource {
 public:
  // NotFound / PermissionDenied ... from open(2), naming the path.
  static base::Result<FileSource> open(const std::string& path);
  base::Result<size_t> read(std::span<std::byte> buf) override;

 private:
  explicit FileSource(base::Fd fd) : fd_(std::move(fd)) {}
  base::Fd fd_;
};

// Serves a caller-owned buffer; the buffer must outlive the source.
class MemorySource final : public ByteSource {
 public:
  explicit MemorySource(std::string_view data) : data_(data) {}
  base::Result<size_t> read(std::span<std::byte> buf) override;

 private:
  std::string_view data_;
};

}  // namespace mydocker::image::layers
