// SPDX-License-Identifier: Apache-2.0
// The build context the CLI sends with POST /build, prepared as the docker CLI's classic
// builder path prepares it (cli/command/image/build and its build/ helpers):
//  - a directory: resolved (symlinks followed), `.dockerignore` read and applied with Docker's
//    rules (image/dockerfile/dockerignore.h: `!` exceptions, `**`), the Dockerfile and
//    `.dockerignore` always sent even when excluded (TrimBuildFilesFromExcludes), walked in
//    lexical order into a tar with uid/gid 0, mtimes in whole seconds, symlinks as symlinks
//    (never followed), hard links as links to the first name, sockets skipped;
//  - `-f` naming a file outside the directory, or `-f -` (Dockerfile from stdin): its text is
//    added as `.dockerfile.<random>` and that name appended to `.dockerignore` (added when
//    missing), as AddDockerfileToBuildContext does;
//  - `-` as the context: stdin is a tar (plain or compressed, detected by content, sent as it
//    is) or else a Dockerfile (then the context holds only it).
// The tar is produced block by block as the request body is sent: files are opened when their
// turn comes, so the context is never held in memory.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/error.h"

namespace mydocker::cli {

// One entry of the context tar.
struct ContextEntry {
  std::string name;   // tar name, `/`-separated, directories end with "/"
  std::string path;   // on disk; "" when `content` is set
  char type = '0';    // tar typeflag: '0' file, '1' hard link, '2' symlink, '3' char, '4' block,
                      // '5' directory, '6' fifo
  uint32_t mode = 0;  // permission bits with Docker's file-type bits (0100644, 040755, ...)
  uint64_t size = 0;
  int64_t mtime = 0;  // Unix seconds
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string link;  // symlink target, or the hard link's first name
  uint32_t dev_major = 0;
  uint32_t dev_minor = 0;
  std::optional<std::string> content;  // generated data (.dockerignore rewritten, stdin file)
};

// The bytes of one tar header block set (a PAX extended header first when the name, link or
// size does not fit USTAR, as Go's archive/tar writes it).
std::string tar_header(const ContextEntry& e);

struct LocalContext {
  std::string dir;         // absolute, symlinks resolved
  std::string dockerfile;  // relative to dir, `/`-separated; may start with "../"
  std::vector<ContextEntry> entries;
};

// docker's GetContextFromLocalDir, then the .dockerignore walk: `context` is a directory;
// `dockerfile` is the -f value ("" -> <dir>/Dockerfile, or <dir>/dockerfile when only that
// exists; "-" -> from stdin, added later; else relative to the current directory). Errors are
// docker's, with its prefixes: "unable to prepare context: context must be a directory: /x",
// "unable to prepare context: Cannot locate Dockerfile: \"/x/Dockerfile\"", "error checking
// context: no permission to read from '/x/f'", "error reading .dockerignore: ...".
base::Result<LocalContext> plan_local_context(const std::string& context,
                                              const std::string& dockerfile);

// Walks `dir` with the .dockerignore `patterns` (read_dockerignore() output): the entries, in
// docker's order. `dockerfile` (relative) is kept even when excluded unless `from_stdin`.
base::Result<std::vector<ContextEntry>> walk_context(const std::string& dir,
                                                     const std::vector<std::string>& patterns,
                                                     const std::string& dockerfile,
                                                     bool from_stdin);

// AddDockerfileToBuildContext: adds `text` as `name` (".dockerfile.<20 hex>") and appends
// "\n<name>\n" to .dockerignore (created as ".dockerignore\n<name>\n" when missing). `now` is
// the entries' mtime.
void add_dockerfile(std::vector<ContextEntry>& entries, const std::string& name, std::string text,
                    int64_t now);
// ".dockerfile." + 20 random hex digits.
std::string random_dockerfile_name();

// The context of a Dockerfile given on stdin as the build's only file.
std::vector<ContextEntry> dockerfile_only_context(std::string text, int64_t now);

// Go's IsArchive: compressed magic (gzip, bzip2, xz, zstd) or a valid tar header in the first
// 512 bytes.
bool is_archive(std::string_view header);

// Produces the tar of `entries`, block by block.
class TarStream {
 public:
  explicit TarStream(std::vector<ContextEntry> entries) : entries_(std::move(entries)) {}
  TarStream(TarStream&&) = default;
  ~TarStream();
  // Up to `len` bytes; 0 at the end. Errors: a file that cannot be read, or whose size changed
  // since the walk.
  base::Result<size_t> read(char* buf, size_t len);
  uint64_t sent() const { return sent_; }
  // The size of the whole tar (for tests and progress).
  static uint64_t size_of(const std::vector<ContextEntry>& entries);

 private:
  base::Result<void> next_piece();

  std::vector<ContextEntry> entries_;
  size_t index_ = 0;
  std::string pending_;  // header bytes (or generated content) not yet handed out
  size_t pending_pos_ = 0;
  int fd_ = -1;             // the current file's content
  uint64_t file_left_ = 0;  // bytes of it still to send
  uint64_t file_pad_ = 0;   // zero bytes after it
  const ContextEntry* file_entry_ = nullptr;
  bool ended_ = false;
  uint64_t sent_ = 0;
};

}  // namespace mydocker::cli
