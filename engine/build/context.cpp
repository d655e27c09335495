// SPDX-License-Identifier: Apache-2.0
#include "engine/build/context.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <vector>

#include "engine/build/tree_internal.h"
#include "image/dockerfile/dockerignore.h"
#include "image/layers/in_root.h"
#include "runtime/base/file.h"
#include "runtime/base/strings.h"

// One pass over the context tar: libarchive hands each file's data in blocks (pointers into
// its own buffers, no copy); every block is hashed and written before the next is read. The
// tree's metadata (mode, owner, size, link target, content hash) stays in memory, so match()
// and checksum() never touch the disk and a fully cached rebuild reads nothing back.
//
// Entries are written from the root's directory fd. A parent is known to be a directory we
// created (checked in memory), so a symlink planted by an earlier entry is never walked
// through: `link -> /` followed by `link/etc/x` is refused.

namespace mydocker::engine::build {

using base::ErrorCode;
using internal::NodeInfo;
using internal::Sha;

namespace {

// Memory for the context's bytes (the receive buffer, the file contents kept in memory) comes
// in blocks of one huge page, kept for the next build once freed (up to kPoolKeep): a cached
// rebuild of a 20 MB context then takes no page fault for it, where fresh allocations cost
// more than hashing the bytes. The blocks are 2 MiB aligned and asked for as transparent huge
// pages, so even a first use faults once per block. Kept blocks are MADV_FREE'd: the kernel
// may take their pages back under memory pressure.
constexpr size_t kBlock = 2 << 20;
constexpr size_t kPoolKeep = 16;

class BlockPool {
 public:
  static BlockPool& get() {
    static auto* pool = new BlockPool();  // never destroyed: blocks may be freed after exit()
    return *pool;
  }

  // A block that goes back to the pool with its last reference; nullptr when out of memory.
  std::shared_ptr<char> take() {
    char* p = nullptr;
    {
      std::lock_guard lock(mu_);
      if (!free_.empty()) {
        p = free_.back();
        free_.pop_back();
      }
    }
    if (p == nullptr && (p = map()) == nullptr) {
      return nullptr;
    }
    return std::shared_ptr<char>(p, [](char* b) { BlockPool::get().give(b); });
  }

 private:
  static char* map() {
    void* raw =
        ::mmap(nullptr, 2 * kBlock, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) {
      return nullptr;
    }
    auto addr = reinterpret_cast<uintptr_t>(raw);
    uintptr_t aligned = (addr + kBlock - 1) & ~(uintptr_t{kBlock} - 1);
    if (aligned > addr) {
      ::munmap(raw, aligned - addr);
    }
    if (uintptr_t end = addr + 2 * kBlock; end > aligned + kBlock) {
      ::munmap(reinterpret_cast<void*>(aligned + kBlock), end - aligned - kBlock);
    }
    auto* p = reinterpret_cast<char*>(aligned);
    ::madvise(p, kBlock, MADV_HUGEPAGE);  // EINVAL without THP: plain pages then
    return p;
  }

  void give(char* p) {
    {
      std::lock_guard lock(mu_);
      if (free_.size() < kPoolKeep) {
        ::madvise(p, kBlock, MADV_FREE);
        free_.push_back(p);
        return;
      }
    }
    ::munmap(p, kBlock);
  }

  std::mutex mu_;
  std::vector<char*> free_;
};

// A file's content kept in memory: pieces of pool blocks (which it keeps alive).
struct Content {
  std::vector<std::shared_ptr<char>> blocks;
  std::vector<std::string_view> pieces;

  std::string str() const {
    std::string out;
    for (std::string_view p : pieces) {
      out.append(p);
    }
    return out;
  }
};

// Appends bytes (or zeros) to Contents, filling pool blocks one after the other.
class Arena {
 public:
  base::Result<void> append(Content& c, const char* data, size_t size) {
    while (size > 0) {
      if (!block_ || used_ == kBlock) {
        block_ = BlockPool::get().take();
        used_ = 0;
        if (!block_) {
          return base::make_error(ErrorCode::Internal, "out of memory for the build context");
        }
      }
      if (c.blocks.empty() || c.blocks.back() != block_) {
        c.blocks.push_back(block_);
      }
      char* dst = block_.get() + used_;
      size_t n = std::min(size, kBlock - used_);
      if (data != nullptr) {
        std::memcpy(dst, data, n);
        data += n;
      } else {
        std::memset(dst, 0, n);
      }
      if (!c.pieces.empty() && c.pieces.back().data() + c.pieces.back().size() == dst) {
        c.pieces.back() = std::string_view(c.pieces.back().data(), c.pieces.back().size() + n);
      } else {
        c.pieces.emplace_back(dst, n);
      }
      used_ += n;
      size -= n;
    }
    return base::ok();
  }

 private:
  std::shared_ptr<char> block_;
  size_t used_ = 0;
};

base::Result<void> write_content(int fd, const Content& c) {
  for (std::string_view p : c.pieces) {
    MYDOCKER_TRY(base::write_all(fd, p));
  }
  return base::ok();
}

struct Node {
  NodeInfo info;
  Sha sha{};
  std::shared_ptr<const Content> data;  // content not written yet (see materialize())
  std::string link_to;                  // a hard link still in memory: the first name of its file
  dev_t rdev = 0;                       // a device's number
};

void apply_dir_meta(int root, const std::string& path, const NodeInfo& info) {
  const char* name = path.empty() ? "." : path.c_str();
  ::fchmodat(root, name, info.mode & 07777, 0);
  timespec ts[2] = {{info.mtime, 0}, {info.mtime, 0}};
  ::utimensat(root, name, ts, AT_SYMLINK_NOFOLLOW);
}

struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};

struct MdFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

std::string archive_message(archive* a) {
  const char* s = archive_error_string(a);
  std::string msg = s != nullptr ? s : "unknown archive error";
  if (!msg.empty() && msg[0] >= 'A' && msg[0] <= 'Z' && (msg.size() < 2 || msg[1] > 'Z')) {
    msg[0] = static_cast<char>(msg[0] - 'A' + 'a');
  }
  return msg;
}

// The context's state; Context::Impl is it (a private nested name the receiver cannot use).
//
// Until a COPY needs the files, the tree lives in memory only (within ContextLimits::memory_bytes):
// a fully cached rebuild then touches the disk for nothing but its empty root directory.
// materialize() writes the tree out; a context over the budget is written out as soon as it
// goes over, and streamed to disk from there on.
struct State : internal::Backend {
  std::string root;
  base::Fd root_fd;
  bool created = false;
  std::map<std::string, Node> nodes;  // "" is the root; parents sort before children
  uint64_t received = 0;
  std::optional<image::dockerfile::IgnoreMatcher> ignore;
  mutable std::mutex mu;
  mutable std::map<std::string, std::string> sums;
  uint64_t linked_files = 0;  // NodeInfo::file numbers given out
  bool on_disk = false;       // the disk holds every node
  bool structure = false;     // the disk holds the directories and symlinks (root())
  std::mutex materialize_mu;

  // Directory modes and times last: their entries changed the times, and a read-only
  // directory must not stop its children from being written. Children first.
  void finish_dirs() {
    for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) {
      if (S_ISDIR(it->second.info.mode)) {
        apply_dir_meta(root_fd.get(), it->first, it->second.info);
      }
    }
  }

  base::Result<void> write_node(int dir, const std::string& path, const std::string& name,
                                Node& node) {
    if (S_ISDIR(node.info.mode)) {
      if (::mkdirat(dir, name.c_str(), 0700) < 0 && errno != EEXIST) {
        return base::sys_error("create directory `{}` in the build context", path);
      }
      return base::ok();
    }
    if (S_ISLNK(node.info.mode)) {
      if (::symlinkat(node.info.link.c_str(), dir, name.c_str()) < 0) {
        return base::sys_error("create symlink `{}` in the build context", path);
      }
      timespec ts[2] = {{node.info.mtime, 0}, {node.info.mtime, 0}};
      ::utimensat(dir, name.c_str(), ts, AT_SYMLINK_NOFOLLOW);
      return base::ok();
    }
    if (S_ISCHR(node.info.mode) || S_ISBLK(node.info.mode) || S_ISFIFO(node.info.mode)) {
      // As dockerd's untar of the context (root): the node itself, which COPY copies.
      if (::mknodat(dir, name.c_str(), node.info.mode, node.rdev) < 0 ||
          ::fchmodat(dir, name.c_str(), node.info.mode & 07777, 0) < 0) {
        return base::sys_error("create `{}` in the build context", path);
      }
      timespec ts[2] = {{node.info.mtime, 0}, {node.info.mtime, 0}};
      ::utimensat(dir, name.c_str(), ts, AT_SYMLINK_NOFOLLOW);
      return base::ok();
    }
    if (!node.data) {
      return base::ok();
    }
    base::Fd fd = base::Fd::adopt(
        ::openat(dir, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) {
      return base::sys_error("create `{}` in the build context", path);
    }
    MYDOCKER_TRY_CTX(write_content(fd.get(), *node.data), "write `{}` in the build context", path);
    if (::fchmod(fd.get(), node.info.mode & 07777) < 0) {
      return base::sys_error("chmod `{}` in the build context", path);
    }
    timespec ts[2] = {{node.info.mtime, 0}, {node.info.mtime, 0}};
    ::futimens(fd.get(), ts);
    node.data.reset();
    return base::ok();
  }

  // Writes the tree kept in memory out: all of it (`files`: COPY reads it there), or its
  // directories and symlinks only (what root()'s readers may lstat). `finish`: directory
  // modes and times too (not while more entries are coming).
  base::Result<void> materialize(bool files, bool finish = true) {
    std::lock_guard lock(materialize_mu);
    if (on_disk || (!files && structure)) {
      return base::ok();
    }
    if (structure) {  // files go into directories that may be read-only by now
      for (const auto& [path, node] : nodes) {
        if (S_ISDIR(node.info.mode)) {
          ::fchmodat(root_fd.get(), path.empty() ? "." : path.c_str(), 0700, 0);
        }
      }
    }
    base::Fd dir;
    std::string dir_path = "\n";  // no path is this
    // Hard links after the files they name (which may sort after them).
    for (bool links : {false, true}) {
      for (auto& [path, node] : nodes) {
        bool file = !S_ISDIR(node.info.mode) && !S_ISLNK(node.info.mode);  // devices too
        if (path.empty() || (file && !files) || (!file && structure) ||
            (links != !node.link_to.empty())) {
          continue;
        }
        auto [parent, name] = image::layers::split_parent(path);
        if (parent != dir_path) {
          dir = MYDOCKER_TRY(image::layers::open_dir_in_root(root_fd, std::string(parent)));
          dir_path = std::string(parent);
        }
        if (links) {
          if (::linkat(root_fd.get(), node.link_to.c_str(), dir.get(), std::string(name).c_str(),
                       0) < 0) {
            return base::sys_error("link `{}` in the build context", path);
          }
          node.data.reset();
          continue;
        }
        MYDOCKER_TRY(write_node(dir.get(), path, std::string(name), node));
      }
    }
    structure = true;
    on_disk = files;
    if (finish) {
      finish_dirs();
    }
    return base::ok();
  }

  ~State() override {
    if (!created) {
      return;
    }
    if (structure) {
      // Directories may have come without write permission; only root ignores that.
      for (const auto& [path, node] : nodes) {
        if (S_ISDIR(node.info.mode)) {
          ::fchmodat(root_fd.get(), path.empty() ? "." : path.c_str(), 0700, 0);
        }
      }
    }
    root_fd.reset();
    (void)base::remove_all(root);
  }

  base::Result<std::optional<NodeInfo>> lstat(const std::string& rel) const override {
    auto it = nodes.find(rel);
    if (it == nodes.end()) {
      return std::optional<NodeInfo>();
    }
    return std::optional<NodeInfo>(it->second.info);
  }

  base::Result<std::vector<std::string>> list(const std::string& dir, size_t depth) const override {
    std::vector<std::string> out;
    std::string prefix = dir.empty() ? std::string() : dir + "/";
    for (auto it = nodes.lower_bound(prefix); it != nodes.end(); ++it) {
      const std::string& p = it->first;
      if (!p.starts_with(prefix)) {
        break;
      }
      if (p.empty()) {
        continue;  // the root itself
      }
      if (depth != 0 && static_cast<size_t>(std::count(p.begin(), p.end(), '/')) + 1 != depth) {
        continue;
      }
      out.push_back(p);
    }
    return out;
  }

  base::Result<Sha> content(const std::string& rel) const override {
    auto it = nodes.find(rel);
    if (it == nodes.end()) {
      return base::make_error(ErrorCode::NotFound, "`{}` is not in the context", rel);
    }
    return it->second.sha;
  }

  // Drops `rel` and everything below it, from memory and disk.
  void remove(const std::string& rel) {
    std::string prefix = rel + "/";
    for (auto& [path, node] : nodes) {  // hard links to what goes become copies
      if (node.link_to == rel || node.link_to.starts_with(prefix)) {
        node.link_to.clear();
        node.info.file = {0, 0};
      }
    }
    for (auto it = nodes.lower_bound(prefix); it != nodes.end() && it->first.starts_with(prefix);) {
      it = nodes.erase(it);
    }
    nodes.erase(rel);
    if (structure) {
      auto [parent, name] = image::layers::split_parent(rel);
      base::Result<base::Fd> dir = image::layers::open_dir_in_root(root_fd, std::string(parent));
      if (dir) {
        (void)image::layers::remove_all_at(dir->get(), std::string(name));
      }
    }
    std::lock_guard lock(mu);
    sums.clear();
  }
};

class Receiver {
 public:
  Receiver(State& impl, image::layers::ByteSource& src, const ContextLimits& limits)
      : impl_(impl), src_(src), limits_(limits) {}

  base::Result<void> run() {
    buf_ = BlockPool::get().take();
    if (!buf_) {
      return base::make_error(ErrorCode::Internal, "out of memory for the build context");
    }
    // An empty body is an empty context (dockerd then reports the missing Dockerfile).
    size_t first = MYDOCKER_TRY(read_source());
    if (first == 0) {
      return base::ok();
    }
    pending_ = first;
    std::unique_ptr<archive, ArchiveFree> a(archive_read_new());
    if (!a) {
      return base::make_error(ErrorCode::Internal, "allocate archive reader");
    }
    archive_read_support_filter_gzip(a.get());
    archive_read_support_filter_bzip2(a.get());
    archive_read_support_filter_xz(a.get());
    archive_read_support_filter_zstd(a.get());
    archive_read_support_format_tar(a.get());
    archive_read_support_format_empty(a.get());
    if (archive_read_open2(a.get(), this, nullptr, &Receiver::read_cb, nullptr, nullptr) !=
        ARCHIVE_OK) {
      return fail(a.get());
    }
    md_.reset(EVP_MD_CTX_new());
    for (;;) {
      archive_entry* e = nullptr;
      int r = archive_read_next_header(a.get(), &e);
      if (r == ARCHIVE_EOF) {
        break;
      }
      if (r < ARCHIVE_WARN) {
        return fail(a.get());
      }
      MYDOCKER_TRY(entry(a.get(), e));
    }
    if (impl_.on_disk) {
      impl_.finish_dirs();
    }
    return base::ok();
  }

 private:
  static la_ssize_t read_cb(archive*, void* self, const void** out) {
    auto* r = static_cast<Receiver*>(self);
    if (r->pending_ > 0) {
      *out = r->buf_.get();
      return static_cast<la_ssize_t>(std::exchange(r->pending_, 0));
    }
    base::Result<size_t> n = r->read_source();
    if (!n) {
      r->error_ = std::move(n).error();
      return -1;
    }
    *out = r->buf_.get();
    return static_cast<la_ssize_t>(*n);
  }

  base::Result<size_t> read_source() {
    size_t n = MYDOCKER_TRY(src_.read(std::span(reinterpret_cast<std::byte*>(buf_.get()), kBlock)));
    impl_.received += n;
    if (limits_.max_bytes != 0 && impl_.received > limits_.max_bytes) {
      return too_big();
    }
    return n;
  }

  base::Error too_big() const {
    return base::make_error(ErrorCode::InvalidArgument,
                            "build context is larger than the limit of {} bytes",
                            limits_.max_bytes);
  }

  base::Error fail(archive* a) {
    if (error_) {
      return std::move(*error_);
    }
    return base::make_error(ErrorCode::InvalidArgument, "read build context: {}",
                            archive_message(a));
  }

  static base::Error bad_entry(std::string_view name, std::string_view why) {
    return base::make_error(ErrorCode::InvalidArgument, "build context entry `{}` {}", name, why);
  }

  // Checks (in memory) that the parents of `rel` are directories of the context, making the
  // missing ones; refuses a parent that is a symlink or a file. On disk: the parent's fd,
  // else -1.
  base::Result<int> parent_fd(const std::string& rel, std::string_view name) {
    std::string parent(image::layers::split_parent(rel).first);
    if (parent == checked_parent_) {
      return parent_fd_ ? parent_fd_.get() : -1;
    }
    std::string cur;
    for (std::string_view c : base::split(parent, '/')) {
      if (!cur.empty()) {
        cur.push_back('/');
      }
      cur.append(c);
      auto it = impl_.nodes.find(cur);
      if (it == impl_.nodes.end()) {
        // A tar need not list parents: make them as tar(1) does.
        if (impl_.on_disk && ::mkdirat(impl_.root_fd.get(), cur.c_str(), 0700) < 0) {
          return base::sys_error("create directory `{}` in the build context", cur);
        }
        Node n;
        n.info.mode = S_IFDIR | 0755;
        impl_.nodes.emplace(cur, n);
      } else if (S_ISLNK(it->second.info.mode)) {
        return bad_entry(name, fmt::format("goes through the symlink `{}`", cur));
      } else if (!S_ISDIR(it->second.info.mode)) {
        return bad_entry(name, fmt::format("is below `{}`, which is not a directory", cur));
      }
    }
    parent_fd_.reset();
    if (impl_.on_disk) {
      parent_fd_ = MYDOCKER_TRY(image::layers::open_dir_in_root(impl_.root_fd, parent));
    }
    checked_parent_ = parent;
    return parent_fd_ ? parent_fd_.get() : -1;
  }

  void forget_parent() {
    parent_fd_.reset();
    checked_parent_ = "\n";  // no path is this
  }

  base::Result<void> entry(archive* a, archive_entry* e) {
    const char* raw = archive_entry_pathname(e);
    std::string_view name = raw != nullptr ? raw : "";
    if (name.starts_with('/')) {
      return bad_entry(name, "has an absolute name");
    }
    std::optional<std::string> clean = image::layers::clean_path(name);
    if (!clean) {
      return bad_entry(name, "is outside the build context");
    }
    const std::string& rel = *clean;
    const char* hard = archive_entry_hardlink(e);
    mode_t type = archive_entry_filetype(e);
    Node node;
    node.info.mode = (archive_entry_perm(e) & 07777) | (hard != nullptr ? S_IFREG : type);
    node.info.uid = static_cast<uint32_t>(archive_entry_uid(e));
    node.info.gid = static_cast<uint32_t>(archive_entry_gid(e));
    node.info.mtime = archive_entry_mtime(e);
    if (rel.empty()) {
      if (type != AE_IFDIR || hard != nullptr) {
        return bad_entry(name, "names the root but is not a directory");
      }
      impl_.nodes[""].info = node.info;
      return base::ok();
    }
    int dir = MYDOCKER_TRY(parent_fd(rel, name));
    std::string base(image::layers::split_parent(rel).second);
    auto existing = impl_.nodes.find(rel);
    if (existing != impl_.nodes.end()) {
      if (S_ISDIR(existing->second.info.mode) && type == AE_IFDIR && hard == nullptr) {
        existing->second.info = node.info;
        return base::ok();
      }
      impl_.remove(rel);  // a later entry replaces an earlier one, as tar(1) does
      forget_parent();
      dir = MYDOCKER_TRY(parent_fd(rel, name));
    }
    if (hard != nullptr) {
      std::optional<std::string> target = image::layers::clean_path(hard);
      auto t = target ? impl_.nodes.find(*target) : impl_.nodes.end();
      if (t == impl_.nodes.end() || !S_ISREG(t->second.info.mode)) {
        return bad_entry(name, fmt::format("links to `{}`, not a file of the context", hard));
      }
      if (impl_.on_disk &&
          ::linkat(impl_.root_fd.get(), target->c_str(), dir, base.c_str(), 0) < 0) {
        return base::sys_error("link `{}` in the build context", rel);
      }
      if (t->second.info.file == std::pair<uint64_t, uint64_t>{0, 0}) {
        t->second.info.file = {1, ++impl_.linked_files};
      }
      Node link = t->second;
      if (!impl_.on_disk && link.link_to.empty()) {
        link.link_to = *target;  // linked when written out (materialize())
      }
      impl_.nodes.emplace(rel, std::move(link));
      return base::ok();
    }
    switch (type) {
      case AE_IFCHR:
      case AE_IFBLK:
      case AE_IFIFO:
        node.rdev = archive_entry_rdev(e);
        node.info.rdev = type == AE_IFIFO ? 0 : node.rdev;
        [[fallthrough]];
      case AE_IFDIR:
      case AE_IFLNK: {
        if (type == AE_IFLNK) {
          const char* target = archive_entry_symlink(e);
          node.info.link = target != nullptr ? target : "";
          node.info.size = node.info.link.size();
        }
        if (impl_.on_disk) {
          MYDOCKER_TRY(impl_.write_node(dir, rel, base, node));
        }
        impl_.nodes.emplace(rel, std::move(node));
        return base::ok();
      }
      case AE_IFREG:
        MYDOCKER_TRY(file(a, e, base, rel, node));
        impl_.nodes.emplace(rel, std::move(node));
        return base::ok();
      default:
        return base::ok();  // sockets: the client never sends them
    }
  }

  void hash_zeros(uint64_t count) {
    static const std::vector<char> zeros(1 << 16, 0);
    for (uint64_t left = count; left > 0;) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(left, zeros.size()));
      EVP_DigestUpdate(md_.get(), zeros.data(), n);
      left -= n;
    }
  }

  base::Result<void> file(archive* a, archive_entry* e, const std::string& base,
                          const std::string& rel, Node& node) {
    auto want = static_cast<uint64_t>(std::max<la_int64_t>(archive_entry_size(e), 0));
    // Within the budget: kept in memory (hashing it is all a cached rebuild needs); past it,
    // the tree so far is written out and the rest streams to disk.
    auto mem = std::make_shared<Content>();
    base::Fd fd;
    bool keep = !impl_.on_disk && in_memory_ + want <= limits_.memory_bytes;
    if (!keep) {
      if (!impl_.on_disk) {
        MYDOCKER_TRY(impl_.materialize(true, false));
        forget_parent();
      }
      int dir = MYDOCKER_TRY(parent_fd(rel, base));
      fd = base::Fd::adopt(
          ::openat(dir, base.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
      if (!fd) {
        return base::sys_error("create `{}` in the build context", rel);
      }
    }
    EVP_DigestInit_ex(md_.get(), EVP_sha256(), nullptr);
    uint64_t pos = 0;
    auto hole = [&](uint64_t to) -> base::Result<void> {  // sparse: zeros in the content
      hash_zeros(to - pos);
      if (keep) {
        MYDOCKER_TRY(arena_.append(*mem, nullptr, to - pos));
      } else if (::lseek(fd.get(), static_cast<off_t>(to), SEEK_SET) < 0) {
        return base::sys_error("seek in `{}`", rel);
      }
      pos = to;
      return base::ok();
    };
    for (;;) {
      const void* block = nullptr;
      size_t size = 0;
      la_int64_t offset = 0;
      int r = archive_read_data_block(a, &block, &size, &offset);
      if (r == ARCHIVE_EOF) {
        break;
      }
      if (r < ARCHIVE_WARN) {
        return fail(a);
      }
      if (auto off = static_cast<uint64_t>(offset); off > pos) {
        MYDOCKER_TRY(hole(off));
      }
      written_ += size;
      if (limits_.max_bytes != 0 && written_ > limits_.max_bytes) {
        return too_big();
      }
      EVP_DigestUpdate(md_.get(), block, size);
      if (keep) {
        MYDOCKER_TRY(arena_.append(*mem, static_cast<const char*>(block), size));
      } else {
        MYDOCKER_TRY_CTX(
            base::write_all(fd.get(), std::string_view(static_cast<const char*>(block), size)),
            "write `{}` in the build context", rel);
      }
      pos += size;
    }
    if (want > pos) {  // a sparse file ending in a hole
      MYDOCKER_TRY(hole(want));
    }
    EVP_DigestFinal_ex(md_.get(), node.sha.data(), nullptr);
    node.info.size = pos;
    if (keep) {
      in_memory_ += pos;
      node.data = std::move(mem);
      return base::ok();
    }
    if (::ftruncate(fd.get(), static_cast<off_t>(pos)) < 0) {
      return base::sys_error("truncate `{}`", rel);
    }
    if (::fchmod(fd.get(), node.info.mode & 07777) < 0) {
      return base::sys_error("chmod `{}` in the build context", rel);
    }
    timespec ts[2] = {{node.info.mtime, 0}, {node.info.mtime, 0}};
    ::futimens(fd.get(), ts);
    return base::ok();
  }

  State& impl_;
  image::layers::ByteSource& src_;
  const ContextLimits& limits_;
  std::shared_ptr<char> buf_;  // a pool block
  Arena arena_;
  size_t pending_ = 0;
  uint64_t written_ = 0;
  uint64_t in_memory_ = 0;
  std::optional<base::Error> error_;
  std::unique_ptr<EVP_MD_CTX, MdFree> md_;
  base::Fd parent_fd_;
  std::string checked_parent_ = "\n";
};

}  // namespace

struct Context::Impl final : State {};

base::Result<std::unique_ptr<Context>> Context::receive(image::layers::ByteSource& tar,
                                                        std::string dir,
                                                        const ContextLimits& limits) {
  std::unique_ptr<Context> ctx(new Context());
  ctx->impl_ = std::make_unique<Impl>();
  Impl& impl = *ctx->impl_;
  impl.root = std::move(dir);
  if (::mkdir(impl.root.c_str(), 0700) < 0) {
    return base::sys_error("create build context directory `{}`", impl.root);
  }
  impl.created = true;
  impl.root_fd = MYDOCKER_TRY(base::Fd::open(impl.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  Node root;
  root.info.mode = S_IFDIR | 0755;
  impl.nodes.emplace("", root);
  Receiver receiver(impl, tar, limits);
  MYDOCKER_TRY(receiver.run());

  // dockerd drops .dockerignore from the context when it excludes itself (the client already
  // left out what it excludes); the Dockerfile goes the same way once read (dockerfile()).
  auto it = impl.nodes.find(".dockerignore");
  if (it != impl.nodes.end() && S_ISREG(it->second.info.mode)) {
    std::string text = it->second.data
                           ? it->second.data->str()
                           : MYDOCKER_TRY(base::read_file(impl.root + "/.dockerignore"));
    base::Result<image::dockerfile::IgnoreMatcher> m =
        image::dockerfile::IgnoreMatcher::from_dockerignore(text);
    if (m) {
      impl.ignore = std::move(*m);
      if (impl.ignore->excluded(".dockerignore")) {
        impl.remove(".dockerignore");
      }
    }
  }
  return ctx;
}

Context::~Context() = default;

const std::string& Context::root() const {
  // Its directories and symlinks, for whoever looks at the tree there; an error shows as
  // the missing entry. The files wait for materialize().
  (void)impl_->materialize(false);
  return impl_->root;
}

base::Result<void> Context::materialize() const {
  return impl_->materialize(true);
}

uint64_t Context::bytes() const {
  return impl_->received;
}

base::Result<std::vector<std::string>> Context::match(std::string_view source) const {
  return internal::match_in(*impl_, source, true);
}

base::Result<std::string> Context::checksum(std::string_view path) const {
  std::string key(path);
  {
    std::lock_guard lock(impl_->mu);
    if (auto it = impl_->sums.find(key); it != impl_->sums.end()) {
      return it->second;
    }
  }
  std::string sum = MYDOCKER_TRY(internal::checksum_in(*impl_, path, true));
  std::lock_guard lock(impl_->mu);
  impl_->sums.emplace(std::move(key), sum);
  return sum;
}

base::Result<std::string> Context::dockerfile(std::string_view name) const {
  std::string want = name.empty() ? std::string("Dockerfile") : std::string(name);
  std::optional<std::string> clean = internal::clean_rel(want);
  if (!clean) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "forbidden path outside the build context: {} ()", want);
  }
  std::string resolved = MYDOCKER_TRY(internal::resolve_in_scope(*impl_, *clean, true));
  auto it = impl_->nodes.find(resolved);
  if (it == impl_->nodes.end() || !S_ISREG(it->second.info.mode)) {
    // dockerd's one fallback: the default name in lower case.
    if (want == "Dockerfile" && impl_->nodes.contains("dockerfile")) {
      return dockerfile("dockerfile");
    }
    return base::make_error(ErrorCode::NotFound, "Cannot locate specified Dockerfile: {}", want);
  }
  std::string text;
  if (it->second.data) {
    text = it->second.data->str();
  } else {
    base::Fd fd = MYDOCKER_TRY(
        base::Fd::open_at(impl_->root_fd, resolved, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    text = MYDOCKER_TRY(base::read_all(fd.get()));
  }
  if (text.empty()) {
    return base::make_error(ErrorCode::InvalidArgument, "the Dockerfile ({}) cannot be empty",
                            want);
  }
  if (impl_->ignore && impl_->ignore->excluded(*clean)) {
    impl_->remove(*clean);
  }
  return text;
}

}  // namespace mydocker::engine::build
