// SPDX-License-Identifier: Apache-2.0
// Source resolution shared by the context and COPY --from's trees: Go's filepath.Match (see
// base::path_match), FollowSymlinkInScope, Docker's source errors, and the checksum (see
// checksum_in).
#include <dirent.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <mutex>

#include "engine/build/context.h"
#include "engine/build/tree_internal.h"
#include "image/dockerfile/dockerignore.h"
#include "runtime/base/path_match.h"
#include "runtime/base/strings.h"

namespace mydocker::engine::build {
namespace internal {
namespace {

using base::ErrorCode;

// Go's os.ReadLink loop limit in FollowSymlinkInScope.
constexpr int kMaxLinks = 255;

std::vector<std::string_view> components(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view c = path.substr(0, slash);
    if (!c.empty()) {
      out.push_back(c);
    }
    if (slash == std::string_view::npos) {
      break;
    }
    path.remove_prefix(slash + 1);
  }
  return out;
}

// filepath.Walk order: component by component.
bool walk_less(const std::string& a, const std::string& b) {
  std::vector<std::string_view> ca = components(a);
  std::vector<std::string_view> cb = components(b);
  return std::lexicographical_compare(ca.begin(), ca.end(), cb.begin(), cb.end());
}

base::Error forbidden(std::string_view orig) {
  return base::make_error(ErrorCode::InvalidArgument,
                          "forbidden path outside the build context: {} ()", orig);
}

// What COPY reads of an entry: type, permissions, owner, size, link target, content; a
// device's number; for the second and later names of a hard-linked file, the first one
// within the hashed set (`first_name`: COPY links them the same way). An entry without
// either keeps the text it always had (cache entries recorded before stay valid); one with
// them starts with `+`, which no octal mode does, and its fields are length-prefixed.
base::Result<void> hash_node(EVP_MD_CTX* ctx, const Backend& tree, const std::string& rel,
                             const NodeInfo& info, std::string_view first_name = {}) {
  uint64_t size = S_ISREG(info.mode) ? info.size : 0;
  std::string meta;
  if (S_ISCHR(info.mode) || S_ISBLK(info.mode) || !first_name.empty()) {
    auto rdev = static_cast<dev_t>(info.rdev);
    meta = fmt::format("+{:o} {} {} {} {}:{} {}:{} {}", info.mode, info.uid, info.gid, size,
                       major(rdev), minor(rdev), first_name.size(), first_name, info.link);
  } else {
    meta = fmt::format("{:o} {} {} {} {}", info.mode, info.uid, info.gid, size, info.link);
  }
  meta.push_back('\0');
  EVP_DigestUpdate(ctx, meta.data(), meta.size());
  if (S_ISREG(info.mode)) {
    Sha sha = MYDOCKER_TRY(tree.content(rel));
    EVP_DigestUpdate(ctx, sha.data(), sha.size());
  }
  return base::ok();
}

struct MdFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

}  // namespace

bool go_match(std::string_view pattern, std::string_view name) {
  // Docker ignores filepath.Match's error: a malformed pattern matches nothing.
  return base::path_match(pattern, name).value_or(false);
}

bool has_wildcards(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '*' || s[i] == '?' || s[i] == '[') {
      return true;
    }
  }
  return false;
}

std::optional<std::string> clean_rel(std::string_view path) {
  while (!path.empty() && path[0] == '/') {
    path.remove_prefix(1);
  }
  std::string c = image::dockerfile::clean_path(path);
  if (c == ".") {
    return std::string();
  }
  if (c == ".." || c.starts_with("../")) {
    return std::nullopt;
  }
  return c;
}

base::Result<std::string> resolve_in_scope(const Backend& tree, const std::string& rel,
                                           bool follow_last) {
  std::deque<std::string> todo;
  for (std::string_view c : components(rel)) {
    todo.emplace_back(c);
  }
  std::vector<std::string> done;
  int links = 0;
  bool missing = false;
  while (!todo.empty()) {
    std::string c = std::move(todo.front());
    todo.pop_front();
    if (c == ".") {
      continue;
    }
    if (c == "..") {
      if (!done.empty()) {
        done.pop_back();
      }
      continue;
    }
    if (missing || (todo.empty() && !follow_last)) {
      done.push_back(std::move(c));
      continue;
    }
    std::string candidate = done.empty() ? c : base::join(done, "/") + "/" + c;
    std::optional<NodeInfo> info = MYDOCKER_TRY(tree.lstat(candidate));
    if (!info) {
      missing = true;
      done.push_back(std::move(c));
      continue;
    }
    if (S_ISLNK(info->mode)) {
      if (++links > kMaxLinks) {
        return base::make_error(ErrorCode::InvalidArgument, "too many symlinks resolving `{}`",
                                rel);
      }
      if (!info->link.empty() && info->link[0] == '/') {
        done.clear();
      }
      std::vector<std::string_view> parts = components(info->link);
      for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
        todo.emplace_front(*it);
      }
      continue;
    }
    done.push_back(std::move(c));
  }
  return base::join(done, "/");
}

base::Error source_not_found(std::string_view orig, bool context) {
  if (context) {
    return base::make_error(ErrorCode::NotFound,
                            "file not found in build context or excluded by .dockerignore: "
                            "stat {}: file does not exist",
                            orig);
  }
  return base::make_error(ErrorCode::NotFound, "stat {}: file does not exist", orig);
}

base::Result<std::vector<std::string>> match_in(const Backend& tree, std::string_view source,
                                                bool context) {
  // Docker trims one leading `/` and one `./`, and names the source so in its errors.
  std::string orig(source);
  if (orig.starts_with('/')) {
    orig.erase(0, 1);
  }
  if (orig.starts_with("./")) {
    orig.erase(0, 2);
  }
  if (has_wildcards(orig)) {
    // Every match has as many components as the pattern (`*` never crosses a `/`).
    size_t depth = static_cast<size_t>(std::count(orig.begin(), orig.end(), '/')) + 1;
    std::vector<std::string> out;
    for (std::string& p : MYDOCKER_TRY(tree.list("", depth))) {
      if (!go_match(orig, p)) {
        continue;
      }
      std::string resolved = MYDOCKER_TRY(resolve_in_scope(tree, p, true));
      if (!MYDOCKER_TRY(tree.lstat(resolved))) {
        return source_not_found(p, context);
      }
      out.push_back(std::move(p));
    }
    std::sort(out.begin(), out.end(), walk_less);
    return out;
  }
  std::optional<std::string> clean = clean_rel(orig);
  if (!clean) {
    return forbidden(orig);
  }
  std::string resolved = MYDOCKER_TRY(resolve_in_scope(tree, *clean, true));
  if (!MYDOCKER_TRY(tree.lstat(resolved))) {
    return source_not_found(orig, context);
  }
  return std::vector<std::string>{clean->empty() ? std::string(".") : *clean};
}

std::string hex(const Sha& sha) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(sha.size() * 2, '0');
  for (size_t i = 0; i < sha.size(); ++i) {
    out[2 * i] = kDigits[sha[i] >> 4];
    out[2 * i + 1] = kDigits[sha[i] & 0xF];
  }
  return out;
}

// A file's checksum covers its name (a renamed match lands elsewhere) and what COPY writes;
// a directory's covers every entry below it with its relative name. The mtime is left out,
// as Docker's tarsum v1 leaves it out of the classic builder's cache keys.
base::Result<std::string> checksum_in(const Backend& tree, std::string_view path, bool context) {
  std::optional<std::string> clean = clean_rel(path);
  if (!clean) {
    return forbidden(path);
  }
  std::string resolved = MYDOCKER_TRY(resolve_in_scope(tree, *clean, true));
  std::optional<NodeInfo> info = MYDOCKER_TRY(tree.lstat(resolved));
  if (!info) {
    return source_not_found(path, context);
  }
  std::unique_ptr<EVP_MD_CTX, MdFree> ctx(EVP_MD_CTX_new());
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::string kind;
  if (S_ISDIR(info->mode)) {
    kind = "dir";
    EVP_DigestUpdate(ctx.get(), "dir", 4);
    MYDOCKER_TRY(hash_node(ctx.get(), tree, resolved, *info));
    std::vector<std::string> below = MYDOCKER_TRY(tree.list(resolved, 0));
    std::sort(below.begin(), below.end());
    size_t cut = resolved.empty() ? 0 : resolved.size() + 1;
    // A hard-linked file's first name in the set (links to names outside it are copies).
    std::map<std::pair<uint64_t, uint64_t>, std::string_view> first;
    for (const std::string& p : below) {
      std::optional<NodeInfo> child = MYDOCKER_TRY(tree.lstat(p));
      if (!child) {
        continue;
      }
      std::string_view name(p.data() + cut, p.size() - cut);
      std::string_view first_name;
      if (child->file != std::pair<uint64_t, uint64_t>{0, 0} && !S_ISDIR(child->mode)) {
        auto [it, inserted] = first.try_emplace(child->file, name);
        if (!inserted) {
          first_name = it->second;
        }
      }
      EVP_DigestUpdate(ctx.get(), name.data(), name.size() + 1);  // with its NUL
      MYDOCKER_TRY(hash_node(ctx.get(), tree, p, *child, first_name));
    }
  } else {
    kind = "file";
    std::string_view base = *clean;
    if (size_t slash = base.rfind('/'); slash != std::string_view::npos) {
      base.remove_prefix(slash + 1);
    }
    EVP_DigestUpdate(ctx.get(), "file", 5);
    EVP_DigestUpdate(ctx.get(), base.data(), base.size());
    EVP_DigestUpdate(ctx.get(), "", 1);
    MYDOCKER_TRY(hash_node(ctx.get(), tree, resolved, *info));
  }
  Sha sha{};
  EVP_DigestFinal_ex(ctx.get(), sha.data(), nullptr);
  return kind + ":" + hex(sha);
}

base::Result<std::optional<NodeInfo>> DiskBackend::lstat(const std::string& rel) const {
  struct stat st;
  if (::fstatat(root_.get(), rel.empty() ? "." : rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return std::optional<NodeInfo>();
    }
    return base::sys_error("stat `{}`", rel);
  }
  NodeInfo info;
  info.mode = st.st_mode;
  info.uid = st.st_uid;
  info.gid = st.st_gid;
  info.size = static_cast<uint64_t>(st.st_size);
  info.mtime = st.st_mtim.tv_sec;
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
    info.rdev = st.st_rdev;
  }
  if (st.st_nlink > 1 && !S_ISDIR(st.st_mode)) {
    info.file = {st.st_dev, st.st_ino};
  }
  if (S_ISLNK(st.st_mode)) {
    std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
    ssize_t n = ::readlinkat(root_.get(), rel.c_str(), target.data(), target.size());
    if (n < 0) {
      return base::sys_error("read link `{}`", rel);
    }
    target.resize(static_cast<size_t>(n));
    info.link = std::move(target);
  }
  return std::optional<NodeInfo>(std::move(info));
}

base::Result<std::vector<std::string>> DiskBackend::list(const std::string& dir,
                                                         size_t depth) const {
  std::vector<std::string> out;
  // (directory, its depth below the root)
  std::vector<std::pair<std::string, size_t>> todo{{dir, components(dir).size()}};
  while (!todo.empty()) {
    auto [d, level] = std::move(todo.back());
    todo.pop_back();
    int fd = ::openat(root_.get(), d.empty() ? "." : d.c_str(),
                      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      return base::sys_error("open directory `{}`", d);
    }
    DIR* dp = ::fdopendir(fd);
    if (dp == nullptr) {
      ::close(fd);
      return base::sys_error("read directory `{}`", d);
    }
    std::unique_ptr<DIR, int (*)(DIR*)> guard(dp, ::closedir);
    while (dirent* e = ::readdir(dp)) {
      std::string_view name = e->d_name;
      if (name == "." || name == "..") {
        continue;
      }
      std::string p = d.empty() ? std::string(name) : d + "/" + std::string(name);
      if (depth == 0 || level + 1 == depth) {
        out.push_back(p);
      }
      bool is_dir = e->d_type == DT_DIR;
      if (e->d_type == DT_UNKNOWN) {
        struct stat st;
        is_dir =
            ::fstatat(::dirfd(dp), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
      }
      if (is_dir && (depth == 0 || level + 1 < depth)) {
        todo.emplace_back(std::move(p), level + 1);
      }
    }
  }
  return out;
}

base::Result<Sha> DiskBackend::content(const std::string& rel) const {
  base::Fd fd =
      base::Fd::adopt(::openat(root_.get(), rel.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    return base::sys_error("open `{}`", rel);
  }
  std::unique_ptr<EVP_MD_CTX, MdFree> ctx(EVP_MD_CTX_new());
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::vector<char> buf(1 << 20);
  for (;;) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return base::sys_error("read `{}`", rel);
    }
    if (n == 0) {
      break;
    }
    EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(n));
  }
  Sha sha{};
  EVP_DigestFinal_ex(ctx.get(), sha.data(), nullptr);
  return sha;
}

}  // namespace internal

namespace {

// COPY --from's source: a mounted root filesystem, hashed by reading it (memoized).
class OpenTree final : public SourceTree {
 public:
  explicit OpenTree(std::string root) : root_(std::move(root)) {
    int fd = ::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      error_ = base::sys_error("open root `{}`", root_);
    }
    disk_ = std::make_unique<internal::DiskBackend>(base::Fd::adopt(fd));
  }
  const std::string& root() const override { return root_; }
  base::Result<std::vector<std::string>> match(std::string_view source) const override {
    if (error_) {
      return *error_;
    }
    return internal::match_in(*disk_, source, false);
  }
  base::Result<std::string> checksum(std::string_view path) const override {
    if (error_) {
      return *error_;
    }
    std::lock_guard lock(mu_);
    std::string key(path);
    if (auto it = sums_.find(key); it != sums_.end()) {
      return it->second;
    }
    std::string sum = MYDOCKER_TRY(internal::checksum_in(*disk_, path, false));
    sums_.emplace(std::move(key), sum);
    return sum;
  }

 private:
  std::string root_;
  std::optional<base::Error> error_;
  std::unique_ptr<internal::DiskBackend> disk_;
  mutable std::mutex mu_;
  mutable std::map<std::string, std::string> sums_;
};

}  // namespace

std::unique_ptr<SourceTree> open_tree(std::string root) {
  return std::make_unique<OpenTree>(std::move(root));
}

}  // namespace mydocker::engine::build
