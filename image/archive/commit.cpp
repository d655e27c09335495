// SPDX-License-Identifier: Apache-2.0
#include "image/archive/commit.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include "image/archive/tar_io.h"
#include "image/content/manifest.h"
#include "runtime/base/fd.h"
#include "runtime/base/scope_exit.h"

namespace mydocker::image::archive {

using base::ErrorCode;
using base::make_error;

namespace {

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";
constexpr size_t kChunk = 1 << 20;

// One entry of the changes tree, planned before anything is written.
struct Planned {
  std::string path;  // relative to the changes dir, "a/b"
  struct stat st {};
  std::string link;  // symlink target
  std::vector<std::pair<std::string, std::string>> xattrs;
  bool whiteout = false;  // a 0/0 char device: written as `.wh.<name>`
  bool opaque = false;    // a directory marked opaque: followed by `.wh..wh..opq`
};

bool is_overlay_xattr(std::string_view name) {
  return name.starts_with("trusted.overlay.") || name.starts_with("user.overlay.");
}

// The xattrs of `name` in `dirfd` (via /proc/self/fd: there is no *xattrat before 6.13 in
// glibc). Sets `opaque` for overlay's opaque marker; refuses overlay features whose meaning a
// plain copy of the upper dir would lose (redirected directories, metacopy files).
base::Result<void> read_xattrs(int dirfd, const std::string& name, const std::string& rel,
                               Planned& p) {
  std::string path = "/proc/self/fd/" + std::to_string(dirfd) + "/" + name;
  std::string names(256, '\0');
  ssize_t n = 0;
  for (;;) {
    n = ::llistxattr(path.c_str(), names.data(), names.size());
    if (n >= 0) {
      break;
    }
    if (errno == ENOTSUP) {
      return base::ok();
    }
    if (errno != ERANGE) {
      return base::sys_error("list xattrs of `{}`", rel);
    }
    ssize_t want = ::llistxattr(path.c_str(), nullptr, 0);
    if (want < 0) {
      return base::sys_error("list xattrs of `{}`", rel);
    }
    names.resize(static_cast<size_t>(want) + 1);
  }
  std::string_view all(names.data(), static_cast<size_t>(n));
  while (!all.empty()) {
    size_t end = all.find('\0');
    std::string key(all.substr(0, end));
    all.remove_prefix(end == std::string_view::npos ? all.size() : end + 1);
    if (key.empty()) {
      continue;
    }
    bool overlay = is_overlay_xattr(key);
    bool carried = key == "security.capability" || (key.starts_with("user.") && !overlay);
    if (!overlay && !carried) {
      continue;
    }
    std::string value(64, '\0');
    ssize_t vn = 0;
    for (;;) {
      vn = ::lgetxattr(path.c_str(), key.c_str(), value.data(), value.size());
      if (vn >= 0) {
        break;
      }
      if (errno == ENODATA) {
        break;
      }
      if (errno != ERANGE) {
        return base::sys_error("read xattr `{}` of `{}`", key, rel);
      }
      ssize_t want = ::lgetxattr(path.c_str(), key.c_str(), nullptr, 0);
      if (want < 0) {
        return base::sys_error("read xattr `{}` of `{}`", key, rel);
      }
      value.resize(static_cast<size_t>(want));
    }
    if (vn < 0) {
      continue;
    }
    value.resize(static_cast<size_t>(vn));
    if (carried) {
      p.xattrs.emplace_back(key, std::move(value));
      continue;
    }
    std::string_view suffix = std::string_view(key).substr(key.find(".overlay.") + 9);
    if (suffix == "opaque" && value == "y") {
      p.opaque = true;
    } else if (suffix == "redirect" || suffix == "metacopy") {
      return make_error(ErrorCode::FailedPrecondition,
                        "`{}`: overlay {} is not supported (mount without redirect_dir/metacopy)",
                        rel, suffix);
    }
  }
  std::sort(p.xattrs.begin(), p.xattrs.end());
  return base::ok();
}

// Walks the changes tree depth first, names byte-sorted. Returns whether anything under `dirfd`
// was left out by `exclude` (so a directory holding nothing else is dropped with it).
class Planner {
 public:
  explicit Planner(const std::set<std::string>& exclude) : exclude_(exclude) {}

  base::Result<bool> walk(int dirfd, const std::string& rel, std::vector<Planned>& out) {
    std::vector<std::string> names;
    {
      int dup = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
      if (dup < 0) {
        return base::sys_error("read directory `{}`", rel.empty() ? "/" : rel);
      }
      DIR* d = ::fdopendir(dup);
      if (d == nullptr) {
        ::close(dup);
        return base::sys_error("read directory `{}`", rel.empty() ? "/" : rel);
      }
      base::ScopeExit close_dir([&] { ::closedir(d); });
      errno = 0;
      while (struct dirent* e = ::readdir(d)) {
        std::string_view n = e->d_name;
        if (n != "." && n != "..") {
          names.emplace_back(n);
        }
        errno = 0;
      }
      if (errno != 0) {
        return base::sys_error("read directory `{}`", rel.empty() ? "/" : rel);
      }
    }
    std::sort(names.begin(), names.end());
    bool excluded_any = false;
    for (const std::string& name : names) {
      std::string path = rel.empty() ? name : rel + "/" + name;
      if (exclude_.count("/" + path) != 0) {
        excluded_any = true;
        continue;
      }
      Planned p;
      p.path = path;
      if (::fstatat(dirfd, name.c_str(), &p.st, AT_SYMLINK_NOFOLLOW) < 0) {
        return base::sys_error("stat `{}`", path);
      }
      mode_t type = p.st.st_mode & S_IFMT;
      if (type == S_IFSOCK) {
        continue;  // tar cannot carry a socket
      }
      if (type == S_IFCHR && p.st.st_rdev == 0) {
        p.whiteout = true;
        out.push_back(std::move(p));
        continue;
      }
      MYDOCKER_TRY(read_xattrs(dirfd, name, path, p));
      if (type == S_IFLNK) {
        std::string target(static_cast<size_t>(std::max<off_t>(p.st.st_size, 0)) + 1, '\0');
        ssize_t n = ::readlinkat(dirfd, name.c_str(), target.data(), target.size());
        if (n < 0) {
          return base::sys_error("read link `{}`", path);
        }
        target.resize(static_cast<size_t>(n));
        p.link = std::move(target);
      }
      if (type != S_IFDIR) {
        out.push_back(std::move(p));
        continue;
      }
      base::Fd sub = base::Fd::adopt(
          ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!sub.valid()) {
        return base::sys_error("open directory `{}`", path);
      }
      size_t at = out.size();
      bool opaque = p.opaque;
      out.push_back(std::move(p));
      bool sub_excluded = MYDOCKER_TRY(walk(sub.get(), path, out));
      excluded_any = excluded_any || sub_excluded;
      if (sub_excluded && !opaque && out.size() == at + 1) {
        // Only there as the parent of excluded mount points.
        out.pop_back();
      }
    }
    return excluded_any;
  }

 private:
  const std::set<std::string>& exclude_;
};

base::Result<std::vector<Planned>> plan_changes(const std::string& changes_dir,
                                                const std::set<std::string>& exclude) {
  std::vector<Planned> out;
  if (changes_dir.empty()) {
    return out;
  }
  base::Fd root = base::Fd::adopt(::open(changes_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) {
    return base::sys_error("open changes directory `{}`", changes_dir);
  }
  Planner planner(exclude);
  MYDOCKER_TRY_CTX(planner.walk(root.get(), "", out), "read changes `{}`", changes_dir);
  return out;
}

// Opens `rel` below `root` without following any symlink (the tree is the container's).
base::Result<base::Fd> open_beneath(int root, const std::string& rel) {
  struct open_how how {};
  how.flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  long fd = ::syscall(SYS_openat2, root, rel.c_str(), &how, sizeof(how));
  if (fd < 0) {
    return base::sys_error("open `{}`", rel);
  }
  return base::Fd::adopt(static_cast<int>(fd));
}

std::string parent_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash + 1);
}

std::string base_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

TarWriteEntry header_for(const Planned& p, const std::string& name) {
  TarWriteEntry e;
  e.name = name;
  e.mode = p.st.st_mode & 07777;
  e.mtime = p.st.st_mtim.tv_sec;
  e.uid = p.st.st_uid;
  e.gid = p.st.st_gid;
  e.xattrs = p.xattrs;
  return e;
}

base::Result<void> write_planned(const std::string& changes_dir, const std::vector<Planned>& plan,
                                 const Sink& out) {
  base::Fd root;
  TarWriter w = MYDOCKER_TRY(TarWriter::open(out));
  std::map<std::pair<dev_t, ino_t>, std::string> first_link;
  std::unique_ptr<char[]> buf;
  for (const Planned& p : plan) {
    mode_t type = p.st.st_mode & S_IFMT;
    if (p.whiteout) {
      // As Docker writes them: an empty file carrying the device's owner and permissions.
      TarWriteEntry e =
          header_for(p, parent_of(p.path) + std::string(kWhiteoutPrefix) + base_of(p.path));
      e.type = TarEntryHeader::Type::File;
      e.xattrs.clear();
      MYDOCKER_TRY(w.add(e));
      continue;
    }
    TarWriteEntry e = header_for(p, p.path);
    switch (type) {
      case S_IFDIR:
        e.type = TarEntryHeader::Type::Dir;
        MYDOCKER_TRY(w.add(e));
        if (p.opaque) {
          TarWriteEntry o = header_for(p, p.path + "/" + std::string(kOpaqueMarker));
          o.type = TarEntryHeader::Type::File;
          o.xattrs.clear();
          MYDOCKER_TRY(w.add(o));
        }
        continue;
      case S_IFLNK:
        e.type = TarEntryHeader::Type::Symlink;
        e.link = p.link;
        MYDOCKER_TRY(w.add(e));
        continue;
      case S_IFREG:
        break;
      default:
        e.type = TarEntryHeader::Type::Other;
        e.mode_type = type;
        e.rdev = p.st.st_rdev;
        MYDOCKER_TRY(w.add(e));
        continue;
    }
    if (p.st.st_nlink > 1) {
      auto [it, added] = first_link.emplace(std::make_pair(p.st.st_dev, p.st.st_ino), p.path);
      if (!added) {
        e.type = TarEntryHeader::Type::Hardlink;
        e.link = it->second;
        e.xattrs.clear();
        MYDOCKER_TRY(w.add(e));
        continue;
      }
    }
    e.type = TarEntryHeader::Type::File;
    e.size = p.st.st_size;
    MYDOCKER_TRY(w.add(e));
    if (e.size == 0) {
      continue;
    }
    if (!root.valid()) {
      root = base::Fd::adopt(::open(changes_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (!root.valid()) {
        return base::sys_error("open changes directory `{}`", changes_dir);
      }
    }
    if (!buf) {
      buf = std::make_unique<char[]>(kChunk);
    }
    base::Fd f = MYDOCKER_TRY(open_beneath(root.get(), p.path));
    int64_t left = e.size;
    while (left > 0) {
      ssize_t n = ::read(f.get(), buf.get(), static_cast<size_t>(std::min<int64_t>(left, kChunk)));
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        return base::sys_error("read `{}`", p.path);
      }
      if (n == 0) {
        return make_error(ErrorCode::FailedPrecondition, "`{}` shrank while it was read", p.path);
      }
      MYDOCKER_TRY(w.write_data(std::string_view(buf.get(), static_cast<size_t>(n))));
      left -= n;
    }
  }
  return w.finish();
}

// Batches the tar writer's 10 KiB blocks into larger writes.
class BufferedSink {
 public:
  explicit BufferedSink(const Sink& out) : out_(out) { buf_.reserve(kChunk); }
  base::Result<void> write(std::string_view data) {
    if (buf_.size() + data.size() > kChunk) {
      MYDOCKER_TRY(flush());
    }
    if (data.size() >= kChunk) {
      return out_(data);
    }
    buf_.append(data);
    return base::ok();
  }
  base::Result<void> flush() {
    if (!buf_.empty()) {
      MYDOCKER_TRY(out_(buf_));
      buf_.clear();
    }
    return base::ok();
  }

 private:
  const Sink& out_;
  std::string buf_;
};

// Hands the tar from the thread writing it to the one unpacking it, a few chunks at a time, so
// the layer is made while the blob is written (one pass over the changes, two cores).
class Channel final : public layers::ByteSource {
 public:
  // Producer side. Fails once the consumer has stopped reading (it failed).
  base::Result<void> push(std::string_view data) {
    std::unique_lock lock(mu_);
    space_.wait(lock, [&] { return queued_ < kMaxQueued || abandoned_; });
    if (abandoned_) {
      return make_error(ErrorCode::Cancelled, "layer unpack stopped");
    }
    queue_.emplace_back(data);
    queued_ += data.size();
    ready_.notify_one();
    return base::ok();
  }
  // Producer side: the end of the stream (or its failure, which the consumer reports).
  void close(std::optional<base::Error> error) {
    std::lock_guard lock(mu_);
    closed_ = true;
    error_ = std::move(error);
    ready_.notify_one();
  }
  // Consumer side: stops the producer (after the consumer failed).
  void abandon() {
    std::lock_guard lock(mu_);
    abandoned_ = true;
    space_.notify_one();
  }

  base::Result<size_t> read(std::span<std::byte> buf) override {
    std::unique_lock lock(mu_);
    ready_.wait(lock, [&] { return !queue_.empty() || closed_; });
    if (queue_.empty()) {
      if (error_) {
        return *error_;
      }
      return size_t{0};
    }
    std::string& front = queue_.front();
    size_t n = std::min(buf.size(), front.size() - offset_);
    std::memcpy(buf.data(), front.data() + offset_, n);
    offset_ += n;
    if (offset_ == front.size()) {
      queued_ -= front.size();
      queue_.pop_front();
      offset_ = 0;
      space_.notify_one();
    }
    return n;
  }

 private:
  static constexpr size_t kMaxQueued = 4 * kChunk;
  std::mutex mu_;
  std::condition_variable ready_;
  std::condition_variable space_;
  std::deque<std::string> queue_;
  size_t offset_ = 0;  // into queue_.front()
  size_t queued_ = 0;
  bool closed_ = false;
  bool abandoned_ = false;
  std::optional<base::Error> error_;
};

// The manifest to extend: one of the parent's whose layer blobs are all here (what save needs).
std::optional<content::Manifest> usable_manifest(Images& images, const store::ImageRecord& rec) {
  for (const Digest& md : rec.manifests) {
    auto bytes = images.content().read(md);
    if (!bytes) {
      continue;
    }
    auto m = content::Manifest::parse(*bytes);
    if (!m || m->layers.size() != rec.config.rootfs.diff_ids.size()) {
      continue;
    }
    bool all = std::all_of(m->layers.begin(), m->layers.end(), [&](const content::Descriptor& d) {
      return images.content().exists(d.digest);
    });
    if (all) {
      return std::move(*m);
    }
  }
  return std::nullopt;
}

}  // namespace

base::Result<void> write_changes_tar(const std::string& changes_dir,
                                     const std::set<std::string>& exclude, const Sink& out) {
  std::vector<Planned> plan = MYDOCKER_TRY(plan_changes(changes_dir, exclude));
  BufferedSink buffered(out);
  Sink sink = [&](std::string_view data) { return buffered.write(data); };
  MYDOCKER_TRY(write_planned(changes_dir, plan, sink));
  return buffered.flush();
}

base::Result<CommitResult> commit(Images& images, const CommitRequest& request) {
  auto ingest = images.begin_ingest();
  auto& cs = images.content();
  auto& ls = images.layers();

  content::ImageConfig config = request.config;
  config.rootfs.type = "layers";
  config.rootfs.diff_ids.clear();
  std::optional<ChainId> parent_top;
  std::vector<content::Descriptor> layer_descs;
  if (request.parent) {
    store::ImageRecord parent = MYDOCKER_TRY(images.images().get(*request.parent));
    config.rootfs.diff_ids = parent.config.rootfs.diff_ids;
    parent_top = Images::top_layer(parent.config);
    if (auto m = usable_manifest(images, parent)) {
      layer_descs = std::move(m->layers);
    } else {
      // No manifest names the parent's blobs (they are gone): name the uncompressed layers by
      // their DiffIDs, so this image is no worse than its parent (save fails for both).
      for (const DiffId& d : parent.config.rootfs.diff_ids) {
        content::Descriptor desc;
        desc.media_type = std::string(content::media_type::kDockerLayer);
        desc.digest = d.digest();
        layer_descs.push_back(std::move(desc));
      }
    }
    for (const content::Descriptor& d : layer_descs) {
      ingest->pin(d.digest);
    }
  }

  CommitResult result;
  std::optional<ChainId> top = parent_top;
  std::vector<Planned> plan = MYDOCKER_TRY(plan_changes(request.changes_dir, request.exclude));
  if (!plan.empty()) {
    // The layer blob, hashed as it is written (its digest is the DiffID), and at the same time
    // the layer, unpacked from the same bytes by the layer store.
    content::Writer writer = MYDOCKER_TRY(cs.ingest());
    Channel channel;
    std::optional<base::Error> produce_error;
    std::thread producer([&] {
      Sink tee = [&](std::string_view data) -> base::Result<void> {
        MYDOCKER_TRY(writer.write(data));
        return channel.push(data);
      };
      BufferedSink buffered(tee);
      Sink sink = [&](std::string_view data) { return buffered.write(data); };
      auto r = write_planned(request.changes_dir, plan, sink);
      if (r) {
        r = buffered.flush();
      }
      if (!r) {
        produce_error = r.error();
      }
      channel.close(produce_error);
    });
    auto registered = ls.register_layer(parent_top, channel);
    // The unpack read the stream to its end, or failed: either way nothing more is read.
    channel.abandon();
    producer.join();
    if (!registered) {
      // The unpack's own failure, or the tar's (which it read and reports as is).
      return std::move(registered).error().wrap("register layer");
    }
    ingest->hold(registered->chain_id);
    if (produce_error) {
      return std::move(*produce_error);
    }
    layers::RegisterResult reg = std::move(*registered);
    int64_t blob_size = writer.written();
    Digest blob = MYDOCKER_TRY(writer.commit());
    ingest->pin(blob);
    if (!cs.exists(blob)) {
      // Another operation with the same blob failed and cleaned it up before the pin above.
      return make_error(ErrorCode::Unavailable, "layer blob `{}` was removed meanwhile; retry",
                        blob.str());
    }
    DiffId diff(blob);
    if (reg.diff_id != diff) {
      return make_error(ErrorCode::Internal, "layer {} was unpacked as {}", diff.str(),
                        reg.diff_id.str());
    }
    top = reg.chain_id;
    result.layer = diff;
    result.layer_size = static_cast<int64_t>(MYDOCKER_TRY(ls.get(reg.chain_id)).size);
    config.rootfs.diff_ids.push_back(diff);
    content::Descriptor desc;
    desc.media_type = std::string(content::media_type::kDockerLayer);
    desc.digest = blob;
    desc.size = blob_size;
    layer_descs.push_back(std::move(desc));
  } else if (top) {
    // The image holds one reference on its top layer, here the parent's.
    MYDOCKER_TRY(ls.retain(*top));
    ingest->hold(*top);
  }
  if (!config.history.empty()) {
    config.history.back().empty_layer = !result.layer.has_value();
  }

  std::string config_bytes = config.serialize();
  Digest config_digest = Digest::sha256_of(config_bytes);
  // ImageStore::add (in ingest->commit) writes the config blob; pinned from here on.
  ingest->pin(config_digest);

  content::Manifest m;
  m.schema_version = 2;
  m.media_type = std::string(content::media_type::kDockerManifest);
  m.config.media_type = std::string(content::media_type::kDockerConfig);
  m.config.digest = config_digest;
  m.config.size = static_cast<int64_t>(config_bytes.size());
  m.layers = std::move(layer_descs);
  std::string manifest_bytes = m.serialize();
  Digest manifest_digest = Digest::sha256_of(manifest_bytes);
  ingest->pin(manifest_digest);
  MYDOCKER_TRY(cs.write_blob(manifest_bytes, manifest_digest));

  result.id = MYDOCKER_TRY(
      ingest->commit(config_bytes, manifest_digest, top, request.tags, request.parent));
  return result;
}

}  // namespace mydocker::image::archive
