// SPDX-License-Identifier: Apache-2.0
// Tar streams for archives (libarchive underneath, kept out of the public headers):
//   TarReader        reads a tar (plain, gzip, zstd, bzip2, xz) from a ByteSource, entry by entry,
//                    streaming each entry's data: nothing is held in memory but one buffer
//   TarWriter        writes a pax tar to a Sink (deterministic: the caller's order and times)
//   DecompressSource serves the uncompressed bytes of a tar, tar+gzip or tar+zstd source
//
// Errors are InvalidArgument naming the problem ("archive: truncated tar archive", ...), or
// whatever the ByteSource / Sink returned. All types are single-threaded and move-only.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "image/layers/source.h"
#include "runtime/base/error.h"

namespace mydocker::image::archive {

// Where written bytes go: returns an error to stop the writer (e.g. the client went away).
using Sink = std::function<base::Result<void>(std::string_view)>;
// A Sink writing to a file descriptor (not owned).
Sink fd_sink(int fd);

struct TarEntryHeader {
  enum class Type { File, Dir, Symlink, Hardlink, Other };
  std::string name;  // as stored in the archive (not cleaned)
  Type type = Type::Other;
  std::string link;  // symlink or hard-link target
  int64_t size = 0;  // data bytes of a File
};

class TarReader {
 public:
  // Starts reading `src` (which must outlive the reader). Compression is detected.
  static base::Result<TarReader> open(layers::ByteSource& src);
  TarReader(TarReader&&) noexcept;
  TarReader& operator=(TarReader&&) noexcept;
  ~TarReader();

  // The next entry, or nullopt at the end of the archive. Skips unread data of the previous
  // entry.
  base::Result<std::optional<TarEntryHeader>> next();
  // Reads data of the current entry; 0 at its end.
  base::Result<size_t> read(std::span<std::byte> buf);

 private:
  struct State;
  explicit TarReader(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;
};

struct TarWriteEntry {
  std::string name;
  TarEntryHeader::Type type = TarEntryHeader::Type::File;
  std::string link;
  int64_t size = 0;
  mode_t mode = 0644;  // permission bits (and setuid/setgid/sticky)
  int64_t mtime = 0;
  long mtime_ns = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string uname;
  std::string gname;
  dev_t rdev = 0;        // for char/block devices (type Other with `mode_type`)
  mode_t mode_type = 0;  // S_IFCHR, S_IFBLK, S_IFIFO for type Other
  std::vector<std::pair<std::string, std::string>> xattrs;
};

class TarWriter {
 public:
  // Writes to `sink` (which must outlive the writer).
  static base::Result<TarWriter> open(const Sink& sink);
  TarWriter(TarWriter&&) noexcept;
  TarWriter& operator=(TarWriter&&) noexcept;
  ~TarWriter();

  // Writes the header; for a File, exactly `size` bytes must follow through write_data().
  base::Result<void> add(const TarWriteEntry& e);
  base::Result<void> write_data(std::string_view data);
  // A whole File in one call.
  base::Result<void> add_file(const std::string& name, std::string_view data, int64_t mtime = 0);
  // A File whose data is read from `src` (exactly `size` bytes; fewer is an error).
  base::Result<void> add_stream(const std::string& name, int64_t size, layers::ByteSource& src,
                                int64_t mtime = 0);
  // Writes the end-of-archive blocks. Must be called for a complete archive.
  base::Result<void> finish();

 private:
  struct State;
  explicit TarWriter(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;
};

// The uncompressed bytes of `src` (tar, tar+gzip, tar+zstd, detected by magic).
class DecompressSource final : public layers::ByteSource {
 public:
  static base::Result<std::unique_ptr<DecompressSource>> open(layers::ByteSource& src);
  ~DecompressSource() override;
  base::Result<size_t> read(std::span<std::byte> buf) override;

 private:
  struct State;
  explicit DecompressSource(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;
};

}  // namespace mydocker::image::archive
