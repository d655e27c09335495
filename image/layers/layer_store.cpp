// SPDX-License-Identifier: Apache-2.0
#include "image/layers/layer_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "runtime/base/fd.h"
#include "runtime/base/file.h"
#include "runtime/base/scope_exit.h"
#include "runtime/base/strings.h"

namespace mydocker::image::layers {
namespace {

using base::ErrorCode;
using nlohmann::json;

constexpr const char* kMetaFile = "layer.json";
constexpr size_t kShortLinkLen = 12;

bool is_hex64(std::string_view s) {
  if (s.size() != 64) {
    return false;
  }
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

std::vector<std::string> list_names(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return out;
  }
  while (dirent* e = ::readdir(d)) {
    std::string_view n(e->d_name);
    if (n != "." && n != "..") {
      out.emplace_back(n);
    }
  }
  ::closedir(d);
  return out;
}

base::Result<void> fsync_dir(const std::string& dir) {
  base::Fd fd = MYDOCKER_TRY(base::Fd::open(dir, O_RDONLY | O_DIRECTORY));
  if (::fsync(fd.get()) < 0) {
    return base::sys_error("fsync `{}`", dir);
  }
  return base::ok();
}

std::string to_json(const LayerInfo& info) {
  json j = {{"chain_id", info.chain_id.str()},
            {"diff_id", info.diff_id.str()},
            {"parent", info.parent ? info.parent->str() : std::string()},
            {"size", info.size},
            {"refcount", info.refcount},
            {"link", info.link}};
  return j.dump(2) + "\n";
}

base::Result<LayerInfo> from_json(const std::string& path, const std::string& text) {
  json j = json::parse(text, nullptr, false);
  auto bad = [&](std::string_view why) {
    return base::make_error(ErrorCode::InvalidArgument, "corrupt layer metadata `{}`: {}", path,
                            why);
  };
  if (j.is_discarded() || !j.is_object()) {
    return bad("not a JSON object");
  }
  auto str = [&](const char* key) -> std::string {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto num = [&](const char* key) -> std::optional<uint64_t> {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_unsigned()) {
      return std::nullopt;
    }
    return it->get<uint64_t>();
  };
  LayerInfo info;
  auto chain = ChainId::parse(str("chain_id"));
  auto diff = DiffId::parse(str("diff_id"));
  if (!chain || !diff) {
    return bad("bad chain_id or diff_id");
  }
  info.chain_id = *chain;
  info.diff_id = *diff;
  if (std::string p = str("parent"); !p.empty()) {
    auto parent = ChainId::parse(p);
    if (!parent) {
      return bad("bad parent");
    }
    info.parent = *parent;
  }
  auto size = num("size");
  auto refs = num("refcount");
  if (!size || !refs) {
    return bad("bad size or refcount");
  }
  info.size = *size;
  info.refcount = *refs;
  info.link = str("link");
  if (info.link.empty() || info.link.find('/') != std::string::npos) {
    return bad("bad link");
  }
  return info;
}

base::Result<base::Fd> open_dir(const std::string& path) {
  return base::Fd::open(path, O_RDONLY | O_DIRECTORY);
}

}  // namespace

base::Result<uint64_t> directory_size(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec);
  if (ec) {
    return base::Error(base::code_from_errno(ec.value()), fmt::format("size of `{}`", dir),
                       ec.value());
  }
  uint64_t total = 0;
  std::set<std::pair<dev_t, ino_t>> seen;
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) {
      return base::Error(base::code_from_errno(ec.value()), fmt::format("size of `{}`", dir),
                         ec.value());
    }
    struct stat st;
    if (::lstat(it->path().c_str(), &st) < 0 || !S_ISREG(st.st_mode)) {
      continue;
    }
    if (st.st_nlink > 1 && !seen.insert({st.st_dev, st.st_ino}).second) {
      continue;
    }
    total += static_cast<uint64_t>(st.st_size);
  }
  if (ec) {
    return base::Error(base::code_from_errno(ec.value()), fmt::format("size of `{}`", dir),
                       ec.value());
  }
  return total;
}

LayerStore::LayerStore(std::string root, Options options)
    : root_(std::move(root)), options_(options) {}

LayerStore::~LayerStore() = default;

base::Result<std::unique_ptr<LayerStore>> LayerStore::open(std::string root) {
  return open(std::move(root), Options{});
}

base::Result<std::unique_ptr<LayerStore>> LayerStore::open(std::string root, Options options) {
  while (root.size() > 1 && root.back() == '/') {
    root.pop_back();
  }
  std::unique_ptr<LayerStore> store(new LayerStore(std::move(root), options));
  MYDOCKER_TRY_CTX(base::mkdir_all(store->root_ + "/l", 0700), "open layer store `{}`",
                   store->root_);
  MYDOCKER_TRY_CTX(base::mkdir_all(store->root_ + "/tmp", 0700), "open layer store `{}`",
                   store->root_);
  MYDOCKER_TRY_CTX(store->check_format(), "open layer store `{}`", store->root_);
  MYDOCKER_TRY_CTX(store->cleanup(), "open layer store `{}`", store->root_);
  return store;
}

base::Result<void> LayerStore::check_format() {
  std::string_view want;
  switch (options_.whiteouts) {
    case WhiteoutFormat::Overlay:
      want = "overlay";
      break;
    case WhiteoutFormat::Keep:
      want = "keep";
      break;
    case WhiteoutFormat::Apply:
      return base::make_error(ErrorCode::InvalidArgument,
                              "a layer store cannot apply whiteouts to its layers");
  }
  // Layers of one store must share a whiteout format: the snapshotters read them all alike.
  std::string path = root_ + "/format";
  base::Result<std::string> have = base::read_file(path);
  if (!have) {
    if (have.error().code() != ErrorCode::NotFound) {
      return std::move(have).error();
    }
    return base::write_file_atomic(path, std::string(want) + "\n", 0600);
  }
  if (base::trim(*have) != want) {
    return base::make_error(ErrorCode::FailedPrecondition,
                            "the store holds layers with `{}` whiteouts, not `{}`",
                            base::trim(*have), want);
  }
  return base::ok();
}

std::string LayerStore::diff_path(const ChainId& chain) const {
  return fmt::format("{}/{}/diff", root_, chain.hex());
}

std::string LayerStore::link_path(const LayerInfo& info) const {
  return fmt::format("{}/l/{}", root_, info.link);
}

base::Result<void> LayerStore::load() {
  std::map<std::string, LayerInfo> loaded;
  for (const std::string& name : list_names(root_)) {
    if (!is_hex64(name)) {
      continue;  // l/, tmp/ and anything not ours
    }
    std::string dir = root_ + "/" + name;
    std::string meta = dir + "/" + kMetaFile;
    base::Result<std::string> text = base::read_file(meta);
    if (!text) {
      if (text.error().code() != ErrorCode::NotFound) {
        return std::move(text).error();
      }
      // Not from us (a layer is renamed in with its layer.json): set it aside.
      MYDOCKER_TRY(base::remove_all(dir));
      continue;
    }
    LayerInfo info = MYDOCKER_TRY(from_json(meta, *text));
    if (info.chain_id.hex() != name) {
      return base::make_error(ErrorCode::InvalidArgument,
                              "corrupt layer metadata `{}`: chain id `{}`", meta,
                              info.chain_id.str());
    }
    loaded.emplace(info.chain_id.str(), std::move(info));
  }
  for (auto& [key, info] : loaded) {
    if (info.parent) {
      auto it = loaded.find(info.parent->str());
      if (it == loaded.end()) {
        return base::make_error(ErrorCode::InvalidArgument,
                                "layer `{}`: parent layer `{}` is missing", key,
                                info.parent->str());
      }
      ++it->second.children;
    }
  }
  std::lock_guard lock(mu_);
  layers_ = std::move(loaded);
  return base::ok();
}

base::Result<void> LayerStore::cleanup() {
  std::string tmp = root_ + "/tmp";
  for (const std::string& name : list_names(tmp)) {
    MYDOCKER_TRY(base::remove_all(tmp + "/" + name));
  }
  MYDOCKER_TRY(load());
  std::vector<std::string> trash;
  {
    std::lock_guard lock(mu_);
    std::vector<ChainId> unused;
    for (const auto& [key, info] : layers_) {
      if (info.refcount == 0 && info.children == 0) {
        unused.push_back(info.chain_id);
      }
    }
    std::vector<ChainId> deleted;
    for (const ChainId& c : unused) {
      if (layers_.count(c.str()) != 0) {
        MYDOCKER_TRY(delete_locked(c, deleted, trash));
      }
    }
    // Links: drop the dangling ones, recreate missing ones (a crash between the rename of a
    // new layer and its link).
    std::set<std::string> wanted;
    for (const auto& [key, info] : layers_) {
      wanted.insert(info.link);
      std::string target = fmt::format("../{}/diff", info.chain_id.hex());
      std::string path = link_path(info);
      if (::symlink(target.c_str(), path.c_str()) < 0 && errno != EEXIST) {
        return base::sys_error("create link `{}`", path);
      }
    }
    for (const std::string& name : list_names(root_ + "/l")) {
      if (wanted.count(name) == 0) {
        ::unlink((root_ + "/l/" + name).c_str());
      }
    }
  }
  for (const std::string& t : trash) {
    MYDOCKER_TRY(base::remove_all(t));
  }
  return base::ok();
}

base::Result<std::string> LayerStore::make_temp_dir() {
  std::string tmpl = root_ + "/tmp/layer-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return base::sys_error("create temp dir in `{}/tmp`", root_);
  }
  return tmpl;
}

base::Result<void> LayerStore::save_locked(const LayerInfo& info) {
  return base::write_file_atomic(fmt::format("{}/{}/{}", root_, info.chain_id.hex(), kMetaFile),
                                 to_json(info), 0600);
}

base::Result<RegisterResult> LayerStore::register_layer(const std::optional<ChainId>& parent,
                                                        ByteSource& tar) {
  return register_impl(parent, nullptr, tar);
}

base::Result<RegisterResult> LayerStore::register_with_diff_id(const std::optional<ChainId>& parent,
                                                               const DiffId& diff_id,
                                                               ByteSource& tar) {
  ChainId chain = chain_id(parent.value_or(ChainId()), diff_id);
  {
    std::lock_guard lock(mu_);
    auto it = layers_.find(chain.str());
    if (it != layers_.end()) {
      LayerInfo updated = it->second;
      ++updated.refcount;
      MYDOCKER_TRY(save_locked(updated));
      it->second = updated;
      return RegisterResult{chain, diff_id, false, std::nullopt};
    }
  }
  return register_impl(parent, &diff_id, tar);
}

base::Result<RegisterResult> LayerStore::register_with_diff_id(
    const std::optional<ChainId>& parent, const DiffId& diff_id, ByteSource& tar,
    const std::function<base::Result<void>()>& before_commit) {
  ChainId chain = chain_id(parent.value_or(ChainId()), diff_id);
  {
    std::lock_guard lock(mu_);
    auto it = layers_.find(chain.str());
    if (it != layers_.end()) {
      LayerInfo updated = it->second;
      ++updated.refcount;
      MYDOCKER_TRY(save_locked(updated));
      it->second = updated;
      return RegisterResult{chain, diff_id, false, std::nullopt};
    }
  }
  return register_impl(parent, &diff_id, tar, &before_commit);
}

base::Result<RegisterResult> LayerStore::register_impl(
    const std::optional<ChainId>& parent, const DiffId* expected, ByteSource& tar,
    const std::function<base::Result<void>()>* before_commit) {
  if (before_commit == nullptr && parent && !exists(*parent)) {
    return base::make_error(ErrorCode::NotFound, "parent layer `{}` not found", parent->str());
  }
  std::string tmp = MYDOCKER_TRY(make_temp_dir());
  base::ScopeExit remove_tmp([&] { (void)base::remove_all(tmp); });
  std::string diff = tmp + "/diff";
  if (::mkdir(diff.c_str(), 0755) < 0) {
    return base::sys_error("create `{}`", diff);
  }
  base::Fd diff_fd = MYDOCKER_TRY(open_dir(diff));
  UnpackOptions uopts;
  uopts.whiteouts = options_.whiteouts;
  uopts.preserve_owners = options_.preserve_owners;
  UnpackResult unpacked = MYDOCKER_TRY_CTX(unpack(tar, diff_fd, uopts), "register layer");
  if (expected != nullptr && unpacked.diff_id != *expected) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "register layer: layer diff id mismatch: expected {}, got {}",
                            expected->str(), unpacked.diff_id.str());
  }
  if (before_commit != nullptr && *before_commit) {
    MYDOCKER_TRY((*before_commit)());
  }
  LayerInfo info;
  info.diff_id = unpacked.diff_id;
  info.chain_id = chain_id(parent.value_or(ChainId()), info.diff_id);
  info.parent = parent;
  info.refcount = 1;
  info.size = MYDOCKER_TRY(directory_size(diff));
  RegisterResult result{info.chain_id, info.diff_id, false, unpacked};
  if (exists(info.chain_id)) {
    MYDOCKER_TRY(retain(info.chain_id));
    return result;
  }
  if (options_.sync && ::syncfs(diff_fd.get()) < 0) {
    return base::sys_error("sync layer `{}`", info.chain_id.str());
  }
  diff_fd.reset();

  std::lock_guard lock(mu_);
  if (auto it = layers_.find(info.chain_id.str()); it != layers_.end()) {
    LayerInfo updated = it->second;  // registered concurrently while we unpacked
    ++updated.refcount;
    MYDOCKER_TRY(save_locked(updated));
    it->second = updated;
    return result;
  }
  auto parent_it = layers_.end();
  if (parent) {
    parent_it = layers_.find(parent->str());
    if (parent_it == layers_.end()) {
      return base::make_error(ErrorCode::NotFound, "parent layer `{}` not found", parent->str());
    }
  }
  // A short link name no other layer uses (a 48-bit prefix practically never collides).
  std::set<std::string> used;
  for (const auto& [key, other] : layers_) {
    used.insert(other.link);
  }
  std::string_view hex = info.chain_id.hex();
  for (size_t len = kShortLinkLen; len <= hex.size(); len += 4) {
    info.link = std::string(hex.substr(0, len));
    if (used.count(info.link) == 0) {
      break;
    }
  }
  MYDOCKER_TRY(base::write_file_atomic(tmp + "/" + kMetaFile, to_json(info), 0600));
  std::string final_dir = fmt::format("{}/{}", root_, hex);
  if (::rename(tmp.c_str(), final_dir.c_str()) < 0) {
    return base::sys_error("commit layer `{}`", info.chain_id.str());
  }
  remove_tmp.dismiss();
  MYDOCKER_TRY(fsync_dir(root_));
  std::string link = link_path(info);
  std::string target = fmt::format("../{}/diff", hex);
  ::unlink(link.c_str());  // a stale link of a deleted layer; cleanup() would drop it
  if (::symlink(target.c_str(), link.c_str()) < 0) {
    return base::sys_error("create link `{}`", link);
  }
  if (parent_it != layers_.end()) {
    ++parent_it->second.children;
  }
  layers_.emplace(info.chain_id.str(), info);
  result.created = true;
  return result;
}

base::Result<void> LayerStore::retain(const ChainId& chain) {
  std::lock_guard lock(mu_);
  auto it = layers_.find(chain.str());
  if (it == layers_.end()) {
    return base::make_error(ErrorCode::NotFound, "layer `{}` not found", chain.str());
  }
  LayerInfo updated = it->second;
  ++updated.refcount;
  MYDOCKER_TRY(save_locked(updated));
  it->second = updated;
  return base::ok();
}

base::Result<std::vector<ChainId>> LayerStore::release(const ChainId& chain) {
  std::vector<ChainId> deleted;
  std::vector<std::string> trash;
  {
    std::lock_guard lock(mu_);
    auto it = layers_.find(chain.str());
    if (it == layers_.end()) {
      return base::make_error(ErrorCode::NotFound, "layer `{}` not found", chain.str());
    }
    if (it->second.refcount == 0) {
      return base::make_error(ErrorCode::FailedPrecondition, "layer `{}` is not referenced",
                              chain.str());
    }
    LayerInfo updated = it->second;
    --updated.refcount;
    MYDOCKER_TRY(save_locked(updated));
    it->second = updated;
    if (updated.refcount == 0 && updated.children == 0) {
      MYDOCKER_TRY(delete_locked(chain, deleted, trash));
    }
  }
  for (const std::string& t : trash) {
    MYDOCKER_TRY(base::remove_all(t));
  }
  return deleted;
}

base::Result<void> LayerStore::delete_locked(const ChainId& chain, std::vector<ChainId>& deleted,
                                             std::vector<std::string>& trash) {
  std::optional<ChainId> next = chain;
  while (next) {
    auto it = layers_.find(next->str());
    if (it == layers_.end()) {
      break;
    }
    // Out of sight first (one rename), then removed unlocked; a crash in between leaves a
    // tmp/ entry for cleanup().
    std::string dir = fmt::format("{}/{}", root_, next->hex());
    std::string grave = MYDOCKER_TRY(make_temp_dir());
    if (::rename(dir.c_str(), (grave + "/layer").c_str()) < 0) {
      return base::sys_error("delete layer `{}`", next->str());
    }
    trash.push_back(grave);
    ::unlink(link_path(it->second).c_str());
    std::optional<ChainId> parent = it->second.parent;
    deleted.push_back(*next);
    layers_.erase(it);
    next.reset();
    if (parent) {
      auto pit = layers_.find(parent->str());
      if (pit != layers_.end()) {
        --pit->second.children;
        if (pit->second.children == 0 && pit->second.refcount == 0) {
          next = parent;
        }
      }
    }
  }
  return fsync_dir(root_);
}

bool LayerStore::exists(const ChainId& chain) const {
  std::lock_guard lock(mu_);
  return layers_.count(chain.str()) != 0;
}

base::Result<LayerInfo> LayerStore::get(const ChainId& chain) const {
  std::lock_guard lock(mu_);
  auto it = layers_.find(chain.str());
  if (it == layers_.end()) {
    return base::make_error(ErrorCode::NotFound, "layer `{}` not found", chain.str());
  }
  return it->second;
}

std::vector<LayerInfo> LayerStore::list() const {
  std::lock_guard lock(mu_);
  std::vector<LayerInfo> out;
  out.reserve(layers_.size());
  for (const auto& [key, info] : layers_) {
    out.push_back(info);
  }
  return out;
}

base::Result<std::vector<LayerInfo>> LayerStore::lineage(const ChainId& top) const {
  std::lock_guard lock(mu_);
  std::vector<LayerInfo> out;
  std::optional<ChainId> cur = top;
  while (cur) {
    auto it = layers_.find(cur->str());
    if (it == layers_.end()) {
      return base::make_error(ErrorCode::NotFound, "layer `{}` not found", cur->str());
    }
    out.push_back(it->second);
    cur = it->second.parent;
  }
  return out;
}

}  // namespace mydocker::image::layers
