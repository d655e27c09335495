// SPDX-License-Identifier: Apache-2.0
#include "engine/build/cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <ctime>
#include <nlohmann/json.hpp>
#include <random>

#include "image/digest/digest.h"
#include "runtime/base/fd.h"
#include "runtime/base/file.h"

namespace mydocker::engine::build {

namespace {

constexpr std::string_view kSuffix = ".json";
constexpr std::string_view kTempPrefix = ".tmp-";

bool is_hex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// The entry's name: the parent and the text, separated by a byte neither holds.
std::string entry_id(const std::string& parent, const std::string& key) {
  std::string both;
  both.reserve(parent.size() + 1 + key.size());
  both.append(parent).push_back('\0');
  both.append(key);
  return std::string(image::Digest::sha256_of(both).hex());
}

std::optional<Cache::Entry> parse_entry(const std::string& id, const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return std::nullopt;
  }
  auto image = j.find("image");
  auto parent = j.find("parent");
  auto created = j.find("created");
  if (image == j.end() || !image->is_string() || parent == j.end() || !parent->is_string() ||
      created == j.end() || !created->is_number_integer()) {
    return std::nullopt;
  }
  Cache::Entry e;
  e.id = id;
  e.image = image->get<std::string>();
  e.parent = parent->get<std::string>();
  e.created = created->get<int64_t>();
  return e;
}

std::optional<std::string> read_small(const std::string& path) {
  auto text = base::read_file(path);
  if (!text) {
    return std::nullopt;
  }
  return std::move(*text);
}

std::vector<std::string> dir_names(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return out;
  }
  while (struct dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n != "." && n != "..") {
      out.emplace_back(n);
    }
  }
  ::closedir(d);
  return out;
}

}  // namespace

base::Result<std::unique_ptr<Cache>> Cache::open(std::string root) {
  MYDOCKER_TRY_CTX(base::mkdir_all(root, 0700), "build cache `{}`", root);
  // Writes interrupted by a crash; nothing else writes here before open() returns.
  for (const std::string& n : dir_names(root)) {
    if (n.starts_with(kTempPrefix)) {
      ::unlink((root + "/" + n).c_str());
    }
  }
  return std::unique_ptr<Cache>(new Cache(std::move(root)));
}

std::optional<std::string> Cache::lookup(const std::string& parent, const std::string& key,
                                         const std::function<bool(const std::string&)>& exists) {
  std::string id = entry_id(parent, key);
  std::string path = root_ + "/" + id + std::string(kSuffix);
  auto text = read_small(path);
  if (!text) {
    return std::nullopt;
  }
  auto e = parse_entry(id, *text);
  if (e && e->parent == parent && exists(e->image)) {
    // The last use, for `builder prune --filter until=`; losing it only ages the entry.
    ::utimensat(AT_FDCWD, path.c_str(), nullptr, 0);
    return e->image;
  }
  // Unreadable (a write lost in a crash) or its image is gone: a miss, and never a hit again.
  // A record() racing with this unlink may lose its entry: a later build misses once.
  ::unlink(path.c_str());
  return std::nullopt;
}

base::Result<void> Cache::record(const std::string& parent, const std::string& key,
                                 const std::string& image) {
  static std::atomic<uint64_t> counter{0};
  std::string id = entry_id(parent, key);
  nlohmann::json j = {
      {"image", image}, {"parent", parent}, {"created", static_cast<int64_t>(::time(nullptr))}};
  std::string text = j.dump();
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string tmp = root_ + "/" + std::string(kTempPrefix) + std::to_string(::getpid()) + "-" +
                    std::to_string(counter.fetch_add(1)) + "-" + std::to_string(rng() & 0xffffff);
  // Temp + rename, without fsync: an entry a crash loses or leaves empty is only a miss
  // (lookup removes it), and the build's own commits are durable already.
  {
    base::Fd fd = MYDOCKER_TRY_CTX(base::Fd::open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600),
                                   "build cache entry");
    if (auto r = base::write_all(fd.get(), text); !r) {
      ::unlink(tmp.c_str());
      return std::move(r).error().wrap(fmt::format("write build cache entry `{}`", tmp));
    }
  }
  std::string path = root_ + "/" + id + std::string(kSuffix);
  if (::rename(tmp.c_str(), path.c_str()) < 0) {
    base::Error e = base::sys_error("rename `{}` to `{}`", tmp, path);
    ::unlink(tmp.c_str());
    return e;
  }
  return base::ok();
}

std::vector<Cache::Entry> Cache::list() const {
  std::vector<Entry> out;
  for (const std::string& n : dir_names(root_)) {
    if (!n.ends_with(kSuffix)) {
      continue;
    }
    std::string id = n.substr(0, n.size() - kSuffix.size());
    if (!is_hex64(id)) {
      continue;
    }
    std::string path = root_ + "/" + n;
    auto text = read_small(path);
    struct stat st {};
    if (!text || ::stat(path.c_str(), &st) < 0) {
      continue;
    }
    if (auto e = parse_entry(id, *text)) {
      e->last_used = std::max<int64_t>(e->created, st.st_mtim.tv_sec);
      out.push_back(std::move(*e));
    }
  }
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.id < b.id; });
  return out;
}

base::Result<std::vector<Cache::Entry>> Cache::remove_if(
    const std::function<bool(const Entry&)>& select) {
  std::vector<Entry> removed;
  for (Entry& e : list()) {
    if (!select(e)) {
      continue;
    }
    std::string path = root_ + "/" + e.id + std::string(kSuffix);
    if (::unlink(path.c_str()) < 0) {
      if (errno == ENOENT) {
        continue;  // removed by someone else meanwhile
      }
      return base::sys_error("remove build cache entry `{}`", path);
    }
    removed.push_back(std::move(e));
  }
  return removed;
}

}  // namespace mydocker::engine::build
