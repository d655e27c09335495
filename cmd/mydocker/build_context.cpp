// SPDX-License-Identifier: Apache-2.0
#include "cmd/mydocker/build_context.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <map>

#include "image/dockerfile/dockerignore.h"
#include "runtime/base/fd.h"
#include "runtime/base/file.h"
#include "runtime/base/strings.h"

namespace mydocker::cli {
namespace {

using base::ErrorCode;
namespace df = image::dockerfile;

constexpr size_t kBlock = 512;
// Go's archive/tar file-type bits that moby's FileInfoHeader puts back into the mode.
constexpr uint32_t kIsDir = 040000;
constexpr uint32_t kIsReg = 0100000;
constexpr uint32_t kIsLnk = 0120000;
constexpr uint32_t kIsFifo = 010000;
constexpr uint32_t kIsChr = 020000;
constexpr uint32_t kIsBlk = 060000;

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// Go's formatter.formatOctal: zero-padded to the field's width less one, NUL-terminated when it
// fits.
void put_octal(char* field, size_t len, uint64_t v) {
  std::string s = fmt::format("{:o}", v);
  if (s.size() + 1 < len) {
    s = std::string(len - 1 - s.size(), '0') + s;
  }
  std::memcpy(field, s.data(), std::min(s.size(), len));
}

void put_string(char* field, size_t len, std::string_view s) {
  std::memcpy(field, s.data(), std::min(s.size(), len));
}

bool fits_octal(uint64_t v, size_t len) {
  // len - 1 octal digits.
  return len - 1 >= 22 || v < (uint64_t{1} << (3 * (len - 1)));
}

// Go's splitUSTARPath.
bool split_ustar(std::string_view name, std::string* prefix, std::string* suffix) {
  size_t length = name.size();
  if (length <= 100 || !is_ascii(name)) {
    return false;
  }
  if (length > 156) {
    length = 156;
  } else if (name[length - 1] == '/') {
    --length;
  }
  size_t i = name.substr(0, length).rfind('/');
  if (i == std::string_view::npos || i == 0) {
    return false;
  }
  size_t nlen = name.size() - i - 1;
  if (nlen > 100 || nlen == 0 || i > 155) {
    return false;
  }
  *prefix = std::string(name.substr(0, i));
  *suffix = std::string(name.substr(i + 1));
  return true;
}

// One 512-byte header block: V7 fields, USTAR magic, checksum (Go's block.SetFormat).
std::string header_block(char type, std::string_view name, std::string_view link, uint64_t mode,
                         uint64_t uid, uint64_t gid, uint64_t size, int64_t mtime,
                         uint64_t dev_major, uint64_t dev_minor, std::string_view prefix) {
  std::string b(kBlock, '\0');
  char* p = b.data();
  put_string(p, 100, name);
  put_octal(p + 100, 8, mode);
  put_octal(p + 108, 8, uid);
  put_octal(p + 116, 8, gid);
  put_octal(p + 124, 12, size);
  put_octal(p + 136, 12, static_cast<uint64_t>(std::max<int64_t>(mtime, 0)));
  p[156] = type;
  put_string(p + 157, 100, link);
  std::memcpy(p + 257,
              "ustar\0"
              "00",
              8);
  put_octal(p + 329, 8, dev_major);
  put_octal(p + 337, 8, dev_minor);
  put_string(p + 345, 155, prefix);
  std::memset(p + 148, ' ', 8);
  uint64_t sum = 0;
  for (char c : b) {
    sum += static_cast<unsigned char>(c);
  }
  put_octal(p + 148, 7, sum);
  p[155] = ' ';
  return b;
}

// Go's formatPAXRecord: "<len> key=value\n", len counting itself.
std::string pax_record(std::string_view key, std::string_view value) {
  size_t size = key.size() + value.size() + 3;  // ' ', '=', '\n'
  size += std::to_string(size).size();
  std::string rec = fmt::format("{} {}={}\n", size, key, value);
  if (rec.size() != size) {
    size = rec.size();
    rec = fmt::format("{} {}={}\n", size, key, value);
  }
  return rec;
}

std::string pad(uint64_t n) {
  return std::string(static_cast<size_t>((kBlock - n % kBlock) % kBlock), '\0');
}

std::string join_path(const std::string& a, const std::string& b) {
  return a == "/" ? "/" + b : a + "/" + b;
}

uint32_t type_bits(mode_t m) {
  switch (m & S_IFMT) {
    case S_IFDIR:
      return kIsDir;
    case S_IFREG:
      return kIsReg;
    case S_IFLNK:
      return kIsLnk;
    case S_IFIFO:
      return kIsFifo;
    case S_IFCHR:
      return kIsChr;
    case S_IFBLK:
      return kIsBlk;
    default:
      return 0;
  }
}

class Walker {
 public:
  Walker(const df::IgnoreMatcher& matcher, std::vector<ContextEntry>& out)
      : matcher_(matcher), out_(out) {}

  base::Result<void> walk_dir(const std::string& abs, const std::string& rel) {
    DIR* d = ::opendir(abs.c_str());
    if (d == nullptr) {
      if (errno == EACCES) {
        return base::make_error(ErrorCode::PermissionDenied,
                                "error checking context: can't stat '{}'", abs);
      }
      return base::sys_error("open directory `{}`", abs);
    }
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") {
        names.push_back(std::move(n));
      }
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    for (const auto& n : names) {
      MYDOCKER_TRY(visit(join_path(abs, n), rel.empty() ? n : rel + "/" + n));
    }
    return base::ok();
  }

 private:
  base::Result<void> visit(const std::string& abs, const std::string& rel) {
    struct stat st {};
    if (::lstat(abs.c_str(), &st) != 0) {
      if (errno == ENOENT) {
        return base::ok();  // gone since readdir
      }
      return base::make_error(ErrorCode::PermissionDenied,
                              "error checking context: can't stat '{}'", abs);
    }
    bool dir = S_ISDIR(st.st_mode);
    if (matcher_.excluded(rel)) {
      if (dir && matcher_.may_include_children(rel)) {
        return walk_dir(abs, rel);  // an exception may re-include something below
      }
      return base::ok();
    }
    if (S_ISSOCK(st.st_mode)) {
      return base::ok();  // docker skips sockets
    }
    ContextEntry e;
    e.path = abs;
    e.name = dir ? rel + "/" : rel;
    e.mode = static_cast<uint32_t>(st.st_mode & 07777) | type_bits(st.st_mode);
    e.mtime = st.st_mtim.tv_sec;
    if (S_ISREG(st.st_mode)) {
      // ValidateContextDirectory: every file sent must be readable.
      int fd = ::open(abs.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
      if (fd < 0 && errno == EACCES) {
        return base::make_error(ErrorCode::PermissionDenied,
                                "error checking context: no permission to read from '{}'", abs);
      }
      if (fd >= 0) {
        ::close(fd);
      }
      e.type = '0';
      e.size = static_cast<uint64_t>(st.st_size);
      if (st.st_nlink > 1) {
        auto [it, fresh] = inodes_.emplace(st.st_ino, e.name);
        if (!fresh) {
          e.type = '1';
          e.link = it->second;
          e.size = 0;
          e.mode &= 07777;  // docker's link headers carry no file-type bits
        }
      }
    } else if (dir) {
      e.type = '5';
    } else if (S_ISLNK(st.st_mode)) {
      e.type = '2';
      std::string target(static_cast<size_t>(PATH_MAX), '\0');
      ssize_t n = ::readlink(abs.c_str(), target.data(), target.size());
      if (n < 0) {
        return base::sys_error("readlink `{}`", abs);
      }
      target.resize(static_cast<size_t>(n));
      e.link = std::move(target);
    } else if (S_ISFIFO(st.st_mode)) {
      e.type = '6';
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      e.type = S_ISCHR(st.st_mode) ? '3' : '4';
      e.dev_major = major(st.st_rdev);
      e.dev_minor = minor(st.st_rdev);
    } else {
      return base::ok();
    }
    out_.push_back(std::move(e));
    if (dir) {
      return walk_dir(abs, rel);
    }
    return base::ok();
  }

  const df::IgnoreMatcher& matcher_;
  std::vector<ContextEntry>& out_;
  std::map<ino_t, std::string> inodes_;
};

// Go's filepath.Abs + Clean.
std::string absolute(const std::string& path) {
  if (path.starts_with("/")) {
    return df::clean_path(path);
  }
  char cwd[PATH_MAX];
  if (::getcwd(cwd, sizeof(cwd)) == nullptr) {
    return df::clean_path(path);
  }
  return df::clean_path(std::string(cwd) + "/" + path);
}

// Go's filepath.Rel for two clean absolute paths.
std::string relative(const std::string& base, const std::string& target) {
  auto b = base == "/" ? std::vector<std::string>() : base::split(base.substr(1), '/');
  auto t = target == "/" ? std::vector<std::string>() : base::split(target.substr(1), '/');
  size_t i = 0;
  while (i < b.size() && i < t.size() && b[i] == t[i]) {
    ++i;
  }
  std::vector<std::string> parts;
  for (size_t k = i; k < b.size(); ++k) {
    parts.emplace_back("..");
  }
  for (size_t k = i; k < t.size(); ++k) {
    parts.push_back(t[k]);
  }
  return parts.empty() ? "." : base::join(parts, "/");
}

ContextEntry generated(std::string name, std::string text, uint32_t mode, int64_t now) {
  ContextEntry e;
  e.name = std::move(name);
  e.type = '0';
  e.mode = mode;
  e.size = text.size();
  e.mtime = now;
  e.content = std::move(text);
  return e;
}

}  // namespace

std::string tar_header(const ContextEntry& e) {
  std::map<std::string, std::string> pax;
  std::string prefix;
  std::string name = e.name;
  if (name.size() > 100 || !is_ascii(name)) {
    std::string pre;
    std::string suf;
    if (split_ustar(name, &pre, &suf)) {
      prefix = std::move(pre);
      name = std::move(suf);
    } else {
      pax["path"] = e.name;
    }
  }
  if (e.link.size() > 100 || !is_ascii(e.link)) {
    pax["linkpath"] = e.link;
  }
  if (!fits_octal(e.size, 12)) {
    pax["size"] = std::to_string(e.size);
  }
  if (!fits_octal(e.uid, 8)) {
    pax["uid"] = std::to_string(e.uid);
  }
  if (!fits_octal(e.gid, 8)) {
    pax["gid"] = std::to_string(e.gid);
  }
  std::string out;
  if (!pax.empty()) {
    std::string records;
    for (const auto& [k, v] : pax) {  // sorted, as Go sorts the keys
      records += pax_record(k, v);
    }
    // path.Join(dir, "PaxHeaders.0", file), ASCII, at most 100 bytes, no trailing "/".
    std::string clean = df::clean_path(e.name);
    size_t slash = clean.rfind('/');
    std::string xname = slash == std::string::npos
                            ? "PaxHeaders.0/" + clean
                            : clean.substr(0, slash) + "/PaxHeaders.0/" + clean.substr(slash + 1);
    for (char& c : xname) {
      if (static_cast<unsigned char>(c) >= 0x80) {
        c = '?';
      }
    }
    xname = xname.substr(0, 100);
    while (!xname.empty() && xname.back() == '/') {
      xname.pop_back();
    }
    out += header_block('x', xname, "", 0, 0, 0, records.size(), 0, 0, 0, "");
    out += records + pad(records.size());
    prefix.clear();
    name = e.name.substr(0, 100);
  }
  std::string link = e.link.substr(0, 100);
  out += header_block(e.type, name, link, e.mode, std::min<uint64_t>(e.uid, 07777777),
                      std::min<uint64_t>(e.gid, 07777777), fits_octal(e.size, 12) ? e.size : 0,
                      e.mtime, e.dev_major, e.dev_minor, prefix);
  return out;
}

base::Result<std::vector<ContextEntry>> walk_context(const std::string& dir,
                                                     const std::vector<std::string>& patterns,
                                                     const std::string& dockerfile,
                                                     bool from_stdin) {
  // TrimBuildFilesFromExcludes: the daemon needs both files, and removes them itself.
  std::vector<std::string> excludes = patterns;
  auto plain = MYDOCKER_TRY(df::IgnoreMatcher::from_patterns(patterns));
  if (plain.excluded(".dockerignore")) {
    excludes.push_back("!.dockerignore");
  }
  if (!from_stdin && !dockerfile.empty() && plain.excluded(dockerfile)) {
    excludes.push_back("!" + dockerfile);
  }
  auto matcher = MYDOCKER_TRY(df::IgnoreMatcher::from_patterns(excludes));
  std::vector<ContextEntry> out;
  Walker w(matcher, out);
  MYDOCKER_TRY(w.walk_dir(dir, ""));
  return out;
}

base::Result<LocalContext> plan_local_context(const std::string& context,
                                              const std::string& dockerfile) {
  LocalContext lc;
  // ResolveAndValidateContextPath.
  std::string abs = absolute(context);
  char resolved[PATH_MAX];
  if (::realpath(abs.c_str(), resolved) == nullptr) {
    return base::make_error(
        ErrorCode::InvalidArgument,
        "unable to prepare context: unable to evaluate symlinks in context path: lstat {}: {}", abs,
        std::strerror(errno));
  }
  lc.dir = resolved;
  struct stat st {};
  if (::lstat(lc.dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "unable to prepare context: context must be a directory: {}", lc.dir);
  }
  // getDockerfileRelPath.
  bool from_stdin = dockerfile == "-";
  if (from_stdin) {
    lc.dockerfile = "-";
  } else {
    std::string abs_df;
    if (dockerfile.empty()) {
      abs_df = join_path(lc.dir, "Dockerfile");
      struct stat ds {};
      if (::lstat(abs_df.c_str(), &ds) != 0 && errno == ENOENT) {
        std::string alt = join_path(lc.dir, "dockerfile");
        if (::lstat(alt.c_str(), &ds) == 0) {
          abs_df = alt;
        }
      }
    } else {
      abs_df = absolute(dockerfile);
    }
    struct stat ds {};
    if (::lstat(abs_df.c_str(), &ds) != 0) {
      if (errno == ENOENT) {
        return base::make_error(ErrorCode::NotFound,
                                "unable to prepare context: Cannot locate Dockerfile: \"{}\"",
                                abs_df);
      }
      return base::make_error(ErrorCode::InvalidArgument,
                              "unable to prepare context: unable to stat Dockerfile: {}",
                              std::strerror(errno));
    }
    lc.dockerfile = relative(lc.dir, abs_df);
  }
  // ReadDockerignore.
  std::vector<std::string> patterns;
  std::string ignore_path = join_path(lc.dir, ".dockerignore");
  if (base::path_exists(ignore_path)) {
    auto text = base::read_file(ignore_path);
    if (!text) {
      return base::make_error(ErrorCode::InvalidArgument, "error reading .dockerignore: {}",
                              text.error().message());
    }
    patterns = df::read_dockerignore(*text);
  }
  bool outside = lc.dockerfile.starts_with("../");
  auto entries =
      walk_context(lc.dir, patterns, from_stdin || outside ? "" : lc.dockerfile, from_stdin);
  if (!entries) {
    return std::move(entries).error();
  }
  lc.entries = std::move(*entries);
  return lc;
}

void add_dockerfile(std::vector<ContextEntry>& entries, const std::string& name, std::string text,
                    int64_t now) {
  bool has_ignore = false;
  for (auto& e : entries) {
    if (e.name != ".dockerignore" || e.type != '0') {
      continue;
    }
    std::string old;
    if (e.content) {
      old = *e.content;
    } else if (auto t = base::read_file(e.path)) {
      old = std::move(*t);
    }
    e.content = old + "\n" + name + "\n";
    e.size = e.content->size();
    e.path.clear();
    has_ignore = true;
  }
  // Go's map range order is random: the new files follow the walked ones.
  entries.push_back(generated(name, std::move(text), 0600, now));
  if (!has_ignore) {
    entries.push_back(generated(".dockerignore", ".dockerignore\n" + name + "\n", 0600, now));
  }
}

std::string random_dockerfile_name() {
  unsigned char bytes[10] = {};
  if (auto fd = base::Fd::open("/dev/urandom", O_RDONLY | O_CLOEXEC)) {
    (void)::read(fd->get(), bytes, sizeof(bytes));
  }
  std::string out = ".dockerfile.";
  for (unsigned char b : bytes) {
    out += fmt::format("{:02x}", b);
  }
  return out;
}

std::vector<ContextEntry> dockerfile_only_context(std::string text, int64_t now) {
  mode_t mask = ::umask(0);
  ::umask(mask);
  return {generated("Dockerfile", std::move(text), kIsReg | (0666 & ~static_cast<uint32_t>(mask)),
                    now)};
}

bool is_archive(std::string_view h) {
  auto starts = [&h](std::string_view magic) { return h.substr(0, magic.size()) == magic; };
  if (starts("\x1f\x8b\x08") || starts("BZh") ||
      starts(std::string_view("\xfd"
                              "7zXZ\x00",
                              6)) ||
      starts("\x28\xb5\x2f\xfd")) {
    return true;
  }
  if (h.size() < kBlock) {
    return false;
  }
  std::string_view blk = h.substr(0, kBlock);
  if (blk.find_first_not_of('\0') == std::string_view::npos) {
    return false;  // a zero block: Go's reader sees the end of an empty archive (io.EOF)
  }
  // Go's getFormat: the stored checksum (octal, spaces and NULs trimmed) equals the header's
  // sum with the checksum field read as spaces, unsigned or signed.
  std::string_view field = blk.substr(148, 8);
  size_t b = field.find_first_not_of(std::string_view(" \0", 2));
  size_t e = field.find_last_not_of(std::string_view(" \0", 2));
  uint64_t stored = 0;
  if (b != std::string_view::npos) {
    for (char c : field.substr(b, e - b + 1)) {
      if (c < '0' || c > '7') {
        return false;
      }
      stored = stored * 8 + static_cast<uint64_t>(c - '0');
    }
  }
  int64_t unsigned_sum = 0;
  int64_t signed_sum = 0;
  for (size_t i = 0; i < kBlock; ++i) {
    char c = i >= 148 && i < 156 ? ' ' : blk[i];
    unsigned_sum += static_cast<unsigned char>(c);
    signed_sum += static_cast<signed char>(c);
  }
  return static_cast<int64_t>(stored) == unsigned_sum || static_cast<int64_t>(stored) == signed_sum;
}

TarStream::~TarStream() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

uint64_t TarStream::size_of(const std::vector<ContextEntry>& entries) {
  uint64_t n = 0;
  for (const auto& e : entries) {
    n += tar_header(e).size();
    uint64_t data = e.type == '0' ? e.size : 0;
    n += data + pad(data).size();
  }
  return n + 2 * kBlock;
}

base::Result<void> TarStream::next_piece() {
  pending_.clear();
  pending_pos_ = 0;
  if (index_ == entries_.size()) {
    pending_.assign(2 * kBlock, '\0');  // Go's Writer.Close: two zero blocks
    ended_ = true;
    return base::ok();
  }
  const ContextEntry& e = entries_[index_++];
  pending_ = tar_header(e);
  if (e.type != '0' || e.size == 0) {
    return base::ok();
  }
  if (e.content) {
    pending_ += *e.content + pad(e.content->size());
    return base::ok();
  }
  int fd = ::open(e.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    return base::sys_error("open `{}`", e.path);
  }
  fd_ = fd;
  file_left_ = e.size;
  file_pad_ = pad(e.size).size();
  file_entry_ = &e;
  return base::ok();
}

base::Result<size_t> TarStream::read(char* buf, size_t len) {
  size_t done = 0;
  while (done < len) {
    if (pending_pos_ < pending_.size()) {
      size_t n = std::min(len - done, pending_.size() - pending_pos_);
      std::memcpy(buf + done, pending_.data() + pending_pos_, n);
      pending_pos_ += n;
      done += n;
      continue;
    }
    if (fd_ >= 0) {
      if (file_left_ > 0) {
        size_t want = static_cast<size_t>(std::min<uint64_t>(file_left_, len - done));
        ssize_t n = ::read(fd_, buf + done, want);
        if (n < 0) {
          if (errno == EINTR) {
            continue;
          }
          return base::sys_error("read `{}`", file_entry_->path);
        }
        if (n == 0) {
          return base::make_error(ErrorCode::Internal,
                                  "archive/tar: missed writing {} bytes: `{}` shrank while it "
                                  "was sent",
                                  file_left_, file_entry_->path);
        }
        file_left_ -= static_cast<uint64_t>(n);
        done += static_cast<size_t>(n);
        continue;
      }
      char probe;
      if (::read(fd_, &probe, 1) > 0) {
        return base::make_error(ErrorCode::Internal,
                                "archive/tar: write too long: `{}` grew while it was sent",
                                file_entry_->path);
      }
      ::close(fd_);
      fd_ = -1;
      pending_.assign(static_cast<size_t>(file_pad_), '\0');
      pending_pos_ = 0;
      continue;
    }
    if (ended_) {
      break;
    }
    MYDOCKER_TRY(next_piece());
  }
  sent_ += done;
  return done;
}

}  // namespace mydocker::cli
