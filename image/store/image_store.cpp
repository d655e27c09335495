// SPDX-License-Identifier: Apache-2.0
// The remove / list / prune rules follow moby 20.10 (daemon/images/image_delete.go,
// images.go, image_prune.go, image_history.go); comments name the Docker behaviour matched.
#include "image/store/image_store.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "runtime/base/file.h"
#include "runtime/base/scope_exit.h"
#include "runtime/base/strings.h"

namespace mydocker::image::store {
namespace {

using base::ErrorCode;
using base::make_error;
using nlohmann::json;

constexpr std::string_view kZeroTime = "0001-01-01T00:00:00Z";
// Go's time.Time{}.Unix(): what Docker reports for a history entry without "created".
constexpr int64_t kZeroTimeUnix = -62135596800;

std::string truncate_id(std::string_view id) {
  if (size_t colon = id.find(':'); colon != std::string_view::npos) {
    id = id.substr(colon + 1);
  }
  return std::string(id.substr(0, 12));
}

bool lower_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

base::Error no_such_image(std::string_view what) {
  return make_error(ErrorCode::NotFound, "No such image: {}", what);
}

// The key under which the reference store keeps a name (Docker's reference store normalize):
// a digest wins over a tag; a bare name means `latest`.
Reference store_form(const Reference& ref) {
  if (ref.has_digest()) {
    if (ref.has_tag()) {
      return *ref.with_digest(ref.digest());
    }
    return ref;
  }
  return ref.with_default_tag();
}

// Docker's isImageIDPrefix.
bool is_id_prefix(const ImageId& id, std::string_view s) {
  return id.str().starts_with(s) || std::string_view(id.hex()).starts_with(s);
}

// Docker's isSingleReference: one tag (plus digests of that same repository only).
bool is_single_reference(const std::vector<Reference>& refs) {
  if (refs.size() <= 1) {
    return refs.size() == 1;
  }
  const Reference* single = nullptr;
  std::set<std::string> canonical_names;
  for (const Reference& r : refs) {
    if (r.has_digest()) {
      canonical_names.insert(r.name());
    } else if (single == nullptr) {
      single = &r;
    } else {
      return false;
    }
  }
  if (single == nullptr) {
    single = &refs[0];
  }
  return canonical_names.size() == 1 && canonical_names.contains(single->name());
}

// Docker's filters: the values of a key as a set.
std::set<std::string> values_of(const Filters& f, const std::string& key) {
  auto it = f.find(key);
  if (it == f.end()) {
    return {};
  }
  return {it->second.begin(), it->second.end()};
}

// Docker's Args.ExactMatch: true when the key has no values or one equals `v`.
bool exact_match(const Filters& f, const std::string& key, const std::string& v) {
  std::set<std::string> vals = values_of(f, key);
  return vals.empty() || vals.contains(v);
}

base::Error invalid_filter_value(const Filters& f, const std::string& key) {
  std::set<std::string> vals = values_of(f, key);
  std::vector<std::string> sorted(vals.begin(), vals.end());
  return make_error(ErrorCode::InvalidArgument, "Invalid filter '{}=[{}]'", key,
                    base::join(sorted, " "));
}

base::Result<void> validate_filter_keys(const Filters& f, const std::set<std::string>& accepted) {
  for (const auto& [key, values] : f) {
    if (!accepted.contains(key)) {
      return make_error(ErrorCode::InvalidArgument, "Invalid filter '{}'", key);
    }
  }
  return base::ok();
}

// Docker's Args.MatchKVList: every "k" must exist, every "k=v" must equal.
bool match_kv_list(const Filters& f, const std::string& key,
                   const std::map<std::string, std::string>& labels) {
  std::set<std::string> vals = values_of(f, key);
  if (vals.empty()) {
    return true;
  }
  if (labels.empty()) {
    return false;
  }
  for (const std::string& v : vals) {
    size_t eq = v.find('=');
    auto it = labels.find(v.substr(0, eq));
    if (it == labels.end()) {
      return false;
    }
    if (eq != std::string::npos && it->second != v.substr(eq + 1)) {
      return false;
    }
  }
  return true;
}

using Timestamp = std::pair<int64_t, int32_t>;

Timestamp created_of(const ImageRecord& r) {
  return content::parse_rfc3339_ns(r.config.created).value_or(Timestamp{kZeroTimeUnix, 0});
}

// Go's time.ParseDuration for the units people use with `until` (h, m, s, ms).
std::optional<int64_t> parse_duration_ns(std::string_view s) {
  if (s.empty()) {
    return std::nullopt;
  }
  int64_t total = 0;
  while (!s.empty()) {
    size_t i = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      ++i;
    }
    if (i == 0) {
      return std::nullopt;
    }
    auto n = base::parse_int64(s.substr(0, i));
    s.remove_prefix(i);
    int64_t unit = 0;
    if (s.starts_with("ms")) {
      unit = 1000000;
      s.remove_prefix(2);
    } else if (s.starts_with("h")) {
      unit = 3600000000000;
      s.remove_prefix(1);
    } else if (s.starts_with("m")) {
      unit = 60000000000;
      s.remove_prefix(1);
    } else if (s.starts_with("s")) {
      unit = 1000000000;
      s.remove_prefix(1);
    } else {
      return std::nullopt;
    }
    if (!n) {
      return std::nullopt;
    }
    int64_t part = 0;
    if (__builtin_mul_overflow(*n, unit, &part) || __builtin_add_overflow(total, part, &total)) {
      return std::nullopt;  // Go: "invalid duration" (found by tests/fuzz/image_filters_fuzz)
    }
  }
  return total;
}

// Docker's timetypes.GetTimestamp, for the forms it documents: RFC 3339, Unix seconds with an
// optional fraction, or a duration before `now`.
std::optional<Timestamp> parse_until(std::string_view v, Timestamp now) {
  if (auto t = content::parse_rfc3339_ns(v)) {
    return *t;
  }
  if (auto d = parse_duration_ns(v)) {
    int64_t ns = now.first * 1000000000 + now.second - *d;
    int64_t sec = ns >= 0 ? ns / 1000000000 : -((-ns + 999999999) / 1000000000);
    return Timestamp{sec, static_cast<int32_t>(ns - sec * 1000000000)};
  }
  std::string_view whole = v.substr(0, v.find('.'));
  auto sec = base::parse_int64(whole);
  if (!sec) {
    return std::nullopt;
  }
  int32_t nanos = 0;
  if (whole.size() < v.size()) {
    std::string frac(v.substr(whole.size() + 1));
    if (frac.empty() || frac.size() > 9 || !base::parse_int64(frac)) {
      return std::nullopt;
    }
    frac.resize(9, '0');
    nanos = static_cast<int32_t>(*base::parse_int64(frac));
  }
  return Timestamp{*sec, nanos};
}

// container.Config as Docker marshals it: every non-omitempty field present (with Go's zero
// value when missing), omitempty ones only when set, unknown (OCI-only) keys dropped.
json docker_container_config(const json& in) {
  struct Field {
    const char* name;
    bool omitempty;
    json zero;
  };
  static const std::vector<Field> kFields = {
      {"Hostname", false, ""},
      {"Domainname", false, ""},
      {"User", false, ""},
      {"AttachStdin", false, false},
      {"AttachStdout", false, false},
      {"AttachStderr", false, false},
      {"ExposedPorts", true, nullptr},
      {"Tty", false, false},
      {"OpenStdin", false, false},
      {"StdinOnce", false, false},
      {"Env", false, nullptr},
      {"Cmd", false, nullptr},
      {"Healthcheck", true, nullptr},
      {"ArgsEscaped", true, nullptr},
      {"Image", false, ""},
      {"Volumes", false, nullptr},
      {"WorkingDir", false, ""},
      {"Entrypoint", false, nullptr},
      {"NetworkDisabled", true, nullptr},
      {"MacAddress", true, nullptr},
      {"OnBuild", false, nullptr},
      {"Labels", false, nullptr},
      {"StopSignal", true, nullptr},
      {"StopTimeout", true, nullptr},
      {"Shell", true, nullptr},
  };
  json out = json::object();
  for (const Field& f : kFields) {
    auto it = in.is_object() ? in.find(f.name) : in.end();
    bool present = in.is_object() && it != in.end();
    if (f.omitempty) {
      bool empty = !present || it->is_null() || (it->is_boolean() && !it->get<bool>()) ||
                   ((it->is_object() || it->is_array() || it->is_string()) && it->empty()) ||
                   (it->is_string() && it->get_ref<const std::string&>().empty());
      if (!empty) {
        out[f.name] = *it;
      }
      continue;
    }
    out[f.name] = present ? *it : f.zero;
  }
  return out;
}

}  // namespace

std::vector<std::string> ImageRecord::repo_tags() const {
  std::vector<std::string> out;
  for (const Reference& r : refs) {
    if (r.has_tag() && !r.has_digest()) {
      out.push_back(r.familiar());
    }
  }
  return out;
}

std::vector<std::string> ImageRecord::repo_digests() const {
  std::vector<std::string> out;
  for (const Reference& r : refs) {
    if (r.has_digest()) {
      out.push_back(r.familiar());
    }
  }
  return out;
}

json to_json(const std::vector<DeleteItem>& items) {
  json out = json::array();
  for (const DeleteItem& i : items) {
    if (!i.untagged.empty()) {
      out.push_back({{"Untagged", i.untagged}});
    } else {
      out.push_back({{"Deleted", i.deleted}});
    }
  }
  return out;
}

json to_json(const PruneReport& r) {
  json out = json::object();
  out["ImagesDeleted"] = r.deleted.empty() ? json(nullptr) : to_json(r.deleted);
  out["SpaceReclaimed"] = r.space_reclaimed;
  return out;
}

json to_json(const ImageSummary& s) {
  auto list_or_null = [](const std::vector<std::string>& v) {
    return v.empty() ? json(nullptr) : json(v);
  };
  json out = json::object();
  out["Containers"] = -1;
  out["Created"] = s.created;
  out["Id"] = s.id;
  out["Labels"] = s.has_labels ? json(s.labels) : json(nullptr);
  out["ParentId"] = s.parent_id;
  out["RepoDigests"] = list_or_null(s.repo_digests);
  out["RepoTags"] = list_or_null(s.repo_tags);
  out["SharedSize"] = -1;
  out["Size"] = s.size;
  out["VirtualSize"] = s.size;
  return out;
}

// One remove() or prune(): the container usage snapshot taken before locking, and the
// images deleted under the lock whose layers are released after it.
struct ImageStore::Pending {
  ContainerUsage usage;
  std::vector<ImageRecord> deleted;

  const std::vector<ContainerUse>* users(const ImageId& id) const {
    auto it = usage.find(id);
    return it == usage.end() || it->second.empty() ? nullptr : &it->second;
  }
};

ImageStore::ImageStore(const std::string& data_root, const content::ContentStore& content,
                       Hooks hooks)
    : paths_(data_root), content_(content), hooks_(std::move(hooks)) {}

base::Result<std::unique_ptr<ImageStore>> ImageStore::open(const std::string& data_root,
                                                           const content::ContentStore& content,
                                                           Hooks hooks) {
  std::unique_ptr<ImageStore> s(new ImageStore(data_root, content, std::move(hooks)));
  MYDOCKER_TRY(base::mkdir_all(s->paths_.metadata_dir, 0700));
  MYDOCKER_TRY(s->load());
  return s;
}

base::Result<void> ImageStore::load() {
  std::lock_guard lock(mu_);
  // Leftover temp files of an interrupted write_file_atomic: never valid, remove them.
  for (const std::string& dir : {paths_.dir, paths_.metadata_dir}) {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) {
      return base::sys_error("open `{}`", dir);
    }
    base::ScopeExit close_dir([d] { ::closedir(d); });
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
      names.emplace_back(e->d_name);
    }
    for (const std::string& name : names) {
      if (name.starts_with(".") && name.find(".tmp-") != std::string::npos) {
        ::unlink((dir + "/" + name).c_str());
        continue;
      }
      if (dir != paths_.metadata_dir || !name.ends_with(".json")) {
        continue;
      }
      std::string hex = name.substr(0, name.size() - 5);
      if (hex.size() != 64 || !lower_hex(hex)) {
        continue;
      }
      auto text = base::read_file(dir + "/" + name);
      json j = text ? json::parse(*text, nullptr, false) : json();
      if (!text || j.is_discarded() || !j.is_object()) {
        warnings_.push_back(fmt::format("skip image `{}`: unreadable metadata", hex));
        continue;
      }
      Entry e;
      e.rec.id = ImageId(Digest::from_sha256_hex(hex));
      auto config = content_.read(e.rec.id.digest());
      if (!config) {
        warnings_.push_back(
            fmt::format("skip image `{}`: config blob: {}", hex, config.error().to_string()));
        continue;
      }
      auto parsed = content::ImageConfig::parse(*config);
      if (!parsed) {
        warnings_.push_back(fmt::format("skip image `{}`: {}", hex, parsed.error().message()));
        continue;
      }
      e.rec.config = std::move(*parsed);
      if (j.contains("manifests") && j["manifests"].is_array()) {
        for (const json& m : j["manifests"]) {
          if (m.is_string()) {
            if (auto md = Digest::parse(m.get<std::string>())) {
              e.rec.manifests.push_back(*md);
            }
          }
        }
      }
      e.rec.size = j.value("size", int64_t{0});
      e.rec.parent = j.value("parent", std::string());
      e.rec.last_tag_time = j.value("last_tag_time", std::string());
      e.added = j.value("added", int64_t{0});
      images_.emplace(hex, std::move(e));
    }
  }
  if (!base::path_exists(paths_.repositories)) {
    return base::ok();
  }
  std::string text = MYDOCKER_TRY(base::read_file(paths_.repositories));
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("Repositories") ||
      !j["Repositories"].is_object()) {
    return make_error(ErrorCode::Internal, "corrupt `{}`", paths_.repositories);
  }
  for (auto& [name, refs] : j["Repositories"].items()) {
    if (!refs.is_object()) {
      continue;
    }
    for (auto& [ref_text, id_text] : refs.items()) {
      auto ref = Reference::parse(ref_text);
      auto id = ImageId::parse(id_text.is_string() ? id_text.get<std::string>() : "");
      if (!ref || !id || !images_.contains(std::string(id->hex())) ||
          (!ref->has_tag() && !ref->has_digest())) {
        warnings_.push_back(fmt::format("drop name `{}`: no such image", ref_text));
        continue;
      }
      Reference key = store_form(*ref);
      refs_[key.str()] = {key, *id};
    }
  }
  return base::ok();
}

std::vector<std::string> ImageStore::load_warnings() const {
  std::lock_guard lock(mu_);
  return warnings_;
}

std::string ImageStore::now_rfc3339() const {
  std::pair<int64_t, int32_t> t;
  if (hooks_.now) {
    t = hooks_.now();
  } else {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
    t = {ns / 1000000000, static_cast<int32_t>(ns % 1000000000)};
  }
  return content::format_rfc3339_nano(t.first, t.second);
}

std::vector<Reference> ImageStore::refs_of_locked(const ImageId& id) const {
  std::vector<Reference> out;
  for (const auto& [key, v] : refs_) {
    if (v.second == id) {
      out.push_back(v.first);
    }
  }
  return out;
}

ImageRecord ImageStore::snapshot_locked(const Entry& e) const {
  ImageRecord r = e.rec;
  r.refs = refs_of_locked(r.id);
  return r;
}

base::Result<void> ImageStore::save_repositories_locked() const {
  json repos = json::object();
  for (const auto& [key, v] : refs_) {
    repos[v.first.familiar_name()][v.first.familiar()] = v.second.str();
  }
  json doc = {{"Repositories", repos}};
  return base::write_file_atomic(paths_.repositories, doc.dump(), 0600);
}

base::Result<void> ImageStore::save_metadata_locked(const Entry& e) const {
  json manifests = json::array();
  for (const Digest& d : e.rec.manifests) {
    manifests.push_back(d.str());
  }
  json doc = {{"id", e.rec.id.str()},
              {"manifests", manifests},
              {"size", e.rec.size},
              {"parent", e.rec.parent},
              {"last_tag_time", e.rec.last_tag_time},
              {"added", e.added}};
  return base::write_file_atomic(paths_.metadata(e.rec.id), doc.dump(), 0600);
}

base::Result<ImageRecord> ImageStore::add(const AddImageOptions& opts) {
  auto config = content::ImageConfig::parse(opts.config);
  if (!config) {
    return std::move(config).error();
  }
  if (opts.size < 0) {
    return make_error(ErrorCode::InvalidArgument, "invalid image size {}", opts.size);
  }
  // The blob first: metadata must never name a config that is not on disk. Under `mu_`, so
  // collect_garbage() cannot remove it before the metadata names it.
  std::lock_guard lock(mu_);
  Digest digest = MYDOCKER_TRY(content_.write_blob(opts.config));
  ImageId id(digest);
  std::string parent;
  if (opts.parent) {
    if (!images_.contains(std::string(opts.parent->hex()))) {
      return make_error(ErrorCode::InvalidArgument, "parent image `{}` does not exist",
                        opts.parent->str());
    }
    parent = opts.parent->str();
  }
  auto it = images_.find(std::string(id.hex()));
  Entry e;
  if (it != images_.end()) {
    e = it->second;
  } else {
    e.rec.id = id;
    e.rec.config = std::move(*config);
    auto now = std::chrono::system_clock::now().time_since_epoch();
    e.added = std::chrono::duration_cast<std::chrono::seconds>(now).count();
  }
  e.rec.size = opts.size;
  if (!parent.empty()) {
    e.rec.parent = parent;
  }
  if (opts.manifest && std::find(e.rec.manifests.begin(), e.rec.manifests.end(), *opts.manifest) ==
                           e.rec.manifests.end()) {
    e.rec.manifests.push_back(*opts.manifest);
  }
  MYDOCKER_TRY(save_metadata_locked(e));
  auto [pos, inserted] = images_.insert_or_assign(std::string(id.hex()), std::move(e));
  return snapshot_locked(pos->second);
}

base::Result<void> ImageStore::tag(const ImageId& id, const Reference& ref_in) {
  if (ref_in.empty()) {
    return make_error(ErrorCode::InvalidArgument, "invalid reference format");
  }
  if (ref_in.has_tag() && ref_in.has_digest()) {
    return make_error(ErrorCode::InvalidArgument,
                      "refusing to create a tag with a digest reference");
  }
  Reference ref = store_form(ref_in);
  std::lock_guard lock(mu_);
  auto img = images_.find(std::string(id.hex()));
  if (img == images_.end()) {
    return no_such_image(id.str());
  }
  auto old = refs_.find(ref.str());
  if (old != refs_.end() && ref.has_digest() && old->second.second != id) {
    return make_error(ErrorCode::Conflict, "Cannot overwrite digest {}", ref.digest());
  }
  if (old != refs_.end() && old->second.second == id) {
    // Already so (a rebuild tagging its cached result): nothing to persist. LastTagTime moves
    // in memory only; writing two files durably for it cost half a cached rebuild.
    img->second.rec.last_tag_time = now_rfc3339();
    return base::ok();
  }
  auto saved = refs_;
  refs_[ref.str()] = {ref, id};
  if (auto r = save_repositories_locked(); !r) {
    refs_ = std::move(saved);
    return r;
  }
  // LastTagTime is bookkeeping: a failure to persist it must not undo the tag.
  Entry updated = img->second;
  updated.rec.last_tag_time = now_rfc3339();
  if (save_metadata_locked(updated)) {
    img->second = std::move(updated);
  }
  return base::ok();
}

base::Result<ImageId> ImageStore::tag_image(std::string_view source, std::string_view repo,
                                            std::string_view tag_text) {
  ImageId id = MYDOCKER_TRY(resolve(source));
  Reference ref = MYDOCKER_TRY(Reference::parse(repo));
  if (ref.has_digest()) {
    return make_error(ErrorCode::InvalidArgument,
                      "refusing to create a tag with a digest reference");
  }
  if (!tag_text.empty()) {
    ref = MYDOCKER_TRY(ref.with_tag(tag_text));
  }
  MYDOCKER_TRY(tag(id, ref));
  return id;
}

base::Result<ImageId> ImageStore::resolve_locked(std::string_view text) const {
  // Docker's ParseAnyReference: a bare 64-hex string or a full digest is an image ID.
  std::optional<Digest> as_id;
  if (reference::is_full_hex_id(text)) {
    as_id = Digest::from_sha256_hex(std::string(text));
  } else if (auto d = Digest::parse(text)) {
    as_id = *d;
  }
  if (as_id) {
    if (images_.contains(std::string(as_id->hex()))) {
      return ImageId(*as_id);
    }
    return no_such_image(as_id->str());
  }
  Reference ref = MYDOCKER_TRY(Reference::parse(text));
  if (auto it = refs_.find(store_form(ref).str()); it != refs_.end()) {
    if (images_.contains(std::string(it->second.second.hex()))) {
      return it->second.second;
    }
  }
  // Docker's imageStore.Search: a prefix of an ID, with or without "sha256:".
  std::string_view prefix = text;
  if (prefix.starts_with("sha256:")) {
    prefix.remove_prefix(7);
  }
  if (!prefix.empty() && lower_hex(prefix)) {
    auto it = images_.lower_bound(std::string(prefix));
    if (it != images_.end() && it->first.starts_with(prefix)) {
      auto next = std::next(it);
      if (next != images_.end() && next->first.starts_with(prefix)) {
        return make_error(ErrorCode::InvalidArgument, "Multiple IDs found with provided prefix: {}",
                          text);
      }
      return it->second.rec.id;
    }
  }
  return no_such_image(ref.with_default_tag().familiar());
}

base::Result<ImageId> ImageStore::resolve(std::string_view ref_or_id) const {
  std::lock_guard lock(mu_);
  return resolve_locked(ref_or_id);
}

base::Result<ImageRecord> ImageStore::get(std::string_view ref_or_id) const {
  std::lock_guard lock(mu_);
  ImageId id = MYDOCKER_TRY(resolve_locked(ref_or_id));
  return snapshot_locked(images_.at(std::string(id.hex())));
}

base::Result<ImageRecord> ImageStore::get(const ImageId& id) const {
  std::lock_guard lock(mu_);
  auto it = images_.find(std::string(id.hex()));
  if (it == images_.end()) {
    return no_such_image(id.str());
  }
  return snapshot_locked(it->second);
}

bool ImageStore::exists(const ImageId& id) const {
  std::lock_guard lock(mu_);
  return images_.contains(std::string(id.hex()));
}

base::Result<ImageId> ImageStore::lookup_reference(const Reference& ref) const {
  std::lock_guard lock(mu_);
  Reference key = store_form(ref);
  auto it = refs_.find(key.str());
  if (it == refs_.end()) {
    return no_such_image(key.familiar());
  }
  return it->second.second;
}

base::Result<std::string> ImageStore::untag(const Reference& ref) {
  std::lock_guard lock(mu_);
  Reference key = store_form(ref);
  auto it = refs_.find(key.str());
  if (it == refs_.end()) {
    return no_such_image(key.familiar());
  }
  auto saved = refs_;
  refs_.erase(key.str());
  if (auto r = save_repositories_locked(); !r) {
    refs_ = std::move(saved);
    return std::move(r).error();
  }
  return key.familiar();
}

std::vector<ImageId> ImageStore::children_locked(const ImageId& id) const {
  std::vector<ImageId> out;
  for (const auto& [hex, e] : images_) {
    if (e.rec.parent == id.str()) {
      out.push_back(e.rec.id);
    }
  }
  return out;
}

std::vector<ImageId> ImageStore::children(const ImageId& id) const {
  std::lock_guard lock(mu_);
  return children_locked(id);
}

bool ImageStore::dangling_locked(const ImageId& id) const {
  return refs_of_locked(id).empty() && children_locked(id).empty();
}

// Docker's checkImageDeleteConflict. Hard conflicts (children, a running container) always
// count; soft ones (other names when `check_refs`, a stopped container) only without force.
std::optional<base::Error> ImageStore::delete_conflict_locked(const ImageId& id, bool hard_only,
                                                              bool check_refs, bool* used,
                                                              const Pending& op) const {
  auto conflict = [&](bool hard, std::string msg) {
    return make_error(ErrorCode::Conflict, "conflict: unable to delete {} ({}) - {}",
                      truncate_id(id.str()), hard ? "cannot be forced" : "must be forced", msg);
  };
  if (!children_locked(id).empty()) {
    return conflict(true, "image has dependent child images");
  }
  std::vector<ContainerUse> users;
  if (const auto* u = op.users(id)) {
    users = *u;
  }
  for (const ContainerUse& c : users) {
    if (c.running) {
      if (used != nullptr) {
        *used = true;
      }
      return conflict(true, fmt::format("image is being used by running container {}",
                                        truncate_id(c.container_id)));
    }
  }
  if (hard_only) {
    return std::nullopt;
  }
  if (check_refs && !refs_of_locked(id).empty()) {
    return conflict(false, "image is referenced in multiple repositories");
  }
  for (const ContainerUse& c : users) {
    if (!c.running) {
      if (used != nullptr) {
        *used = true;
      }
      return conflict(false, fmt::format("image is being used by stopped container {}",
                                         truncate_id(c.container_id)));
    }
  }
  return std::nullopt;
}

base::Result<std::vector<DeleteItem>> ImageStore::remove_locked(std::string_view text, bool force,
                                                                bool prune, Pending& pending) {
  ImageId id = MYDOCKER_TRY(resolve_locked(text));
  std::vector<DeleteItem> items;
  std::vector<Reference> repo_refs = refs_of_locked(id);
  bool removed_repository_ref = false;

  auto drop_ref = [&](const Reference& r) -> base::Result<void> {
    auto saved = refs_;
    refs_.erase(store_form(r).str());
    if (auto res = save_repositories_locked(); !res) {
      refs_ = std::move(saved);
      return res;
    }
    items.push_back({.untagged = store_form(r).familiar(), .deleted = {}});
    return base::ok();
  };

  if (!is_id_prefix(id, text)) {
    // A name was given: untag it. Refuse when that would leave a container's image dangling.
    if (!force && is_single_reference(repo_refs)) {
      if (const auto* users = pending.users(id)) {
        return make_error(ErrorCode::Conflict,
                          "conflict: unable to remove repository reference \"{}\" (must force) - "
                          "container {} is using its referenced image {}",
                          text, truncate_id(users->front().container_id), truncate_id(id.str()));
      }
    }
    Reference parsed = store_form(MYDOCKER_TRY(Reference::parse(text)));
    if (!refs_.contains(parsed.str())) {
      return no_such_image(parsed.familiar());
    }
    MYDOCKER_TRY(drop_ref(parsed));
    repo_refs = refs_of_locked(id);
    // Docker: once the last tag of a repository goes, that repository's digests go too.
    if (!parsed.has_digest()) {
      bool tag_left = std::any_of(repo_refs.begin(), repo_refs.end(), [&](const Reference& r) {
        return !r.has_digest() && r.name() == parsed.name();
      });
      if (!tag_left) {
        std::vector<Reference> remaining;
        for (const Reference& r : repo_refs) {
          if (r.has_digest() && r.name() == parsed.name()) {
            MYDOCKER_TRY(drop_ref(r));
          } else {
            remaining.push_back(r);
          }
        }
        repo_refs = std::move(remaining);
      }
    }
    if (!repo_refs.empty()) {
      return items;
    }
    removed_repository_ref = true;
  } else if (is_single_reference(repo_refs)) {
    // An ID with one name (plus its digests): the names go with the image.
    if (auto c = delete_conflict_locked(id, force, /*check_refs=*/false, nullptr, pending)) {
      return std::move(*c);
    }
    for (const Reference& r : repo_refs) {
      MYDOCKER_TRY(drop_ref(r));
    }
  }
  MYDOCKER_TRY(delete_helper_locked(id, items, force, prune, removed_repository_ref, pending));
  return items;
}

// Docker's imageDeleteHelper. `quiet`: the caller only untagged, so conflicts are not errors
// unless the image is now dangling and unused.
base::Result<void> ImageStore::delete_helper_locked(const ImageId& id,
                                                    std::vector<DeleteItem>& items, bool force,
                                                    bool prune, bool quiet, Pending& pending) {
  bool used = false;
  if (auto c = delete_conflict_locked(id, force, /*check_refs=*/true, &used, pending)) {
    if (quiet && (!dangling_locked(id) || used)) {
      return base::ok();
    }
    return std::move(*c);
  }
  auto it = images_.find(std::string(id.hex()));
  if (it == images_.end()) {
    return no_such_image(id.str());
  }
  std::string parent = it->second.rec.parent;
  for (const Reference& r : refs_of_locked(id)) {
    auto saved = refs_;
    refs_.erase(r.str());
    if (auto res = save_repositories_locked(); !res) {
      refs_ = std::move(saved);
      return res;
    }
    items.push_back({.untagged = r.familiar(), .deleted = {}});
  }
  // Metadata first: once it is gone the image is gone; the blobs are then unreferenced.
  if (::unlink(paths_.metadata(id).c_str()) < 0 && errno != ENOENT) {
    return base::sys_error("remove `{}`", paths_.metadata(id));
  }
  ImageRecord rec = snapshot_locked(it->second);
  images_.erase(it);
  (void)content_.remove(id.digest());
  for (const Digest& m : rec.manifests) {
    (void)content_.remove(m);
  }
  items.push_back({.untagged = {}, .deleted = id.str()});
  pending.deleted.push_back(std::move(rec));
  if (!prune || parent.empty()) {
    return base::ok();
  }
  auto parent_id = ImageId::parse(parent);
  if (!parent_id || !images_.contains(std::string(parent_id->hex()))) {
    return base::ok();
  }
  return delete_helper_locked(*parent_id, items, false, true, true, pending);
}

void ImageStore::finish_pending(Pending& pending, std::vector<DeleteItem>& items,
                                int64_t* reclaimed) {
  for (const ImageRecord& rec : pending.deleted) {
    if (!hooks_.release_layers) {
      continue;
    }
    std::vector<ReleasedLayer> layers = hooks_.release_layers(rec);
    auto pos = std::find_if(items.begin(), items.end(),
                            [&](const DeleteItem& i) { return i.deleted == rec.id.str(); });
    std::vector<DeleteItem> extra;
    for (const ReleasedLayer& l : layers) {
      extra.push_back({.untagged = {}, .deleted = l.chain_id});
      if (reclaimed != nullptr) {
        *reclaimed += l.size;
      }
    }
    if (pos == items.end()) {
      items.insert(items.end(), extra.begin(), extra.end());
    } else {
      items.insert(std::next(pos), extra.begin(), extra.end());
    }
  }
}

base::Result<std::vector<DeleteItem>> ImageStore::remove(std::string_view ref_or_id, bool force,
                                                         bool prune) {
  Pending pending;
  if (hooks_.container_usage) {
    pending.usage = hooks_.container_usage();
  }
  std::vector<DeleteItem> items;
  {
    std::lock_guard lock(mu_);
    items = MYDOCKER_TRY(remove_locked(ref_or_id, force, prune, pending));
  }
  finish_pending(pending, items, nullptr);
  return items;
}

base::Result<std::vector<ImageSummary>> ImageStore::list(const Filters& filters, bool all) const {
  MYDOCKER_TRY(
      validate_filter_keys(filters, {"dangling", "label", "before", "since", "reference"}));
  bool dangling_only = false;
  if (filters.contains("dangling")) {
    if (exact_match(filters, "dangling", "true")) {
      dangling_only = true;
    } else if (!exact_match(filters, "dangling", "false")) {
      return invalid_filter_value(filters, "dangling");
    }
  }
  std::vector<std::string> patterns;
  if (auto it = filters.find("reference"); it != filters.end()) {
    patterns = it->second;
  }
  std::lock_guard lock(mu_);
  std::optional<Timestamp> before;
  std::optional<Timestamp> since;
  for (const std::string& v : values_of(filters, "before")) {
    ImageId id = MYDOCKER_TRY(resolve_locked(v));
    before = created_of(images_.at(std::string(id.hex())).rec);
  }
  for (const std::string& v : values_of(filters, "since")) {
    ImageId id = MYDOCKER_TRY(resolve_locked(v));
    since = created_of(images_.at(std::string(id.hex())).rec);
  }
  std::vector<std::pair<Timestamp, ImageSummary>> rows;
  for (const auto& [hex, e] : images_) {
    const ImageRecord& rec = e.rec;
    bool has_children = !children_locked(rec.id).empty();
    if (dangling_only && has_children) {
      continue;  // Docker lists only heads for dangling=true
    }
    Timestamp created = created_of(rec);
    if (before && created >= *before) {
      continue;
    }
    if (since && created <= *since) {
      continue;
    }
    if (filters.contains("label")) {
      if (!rec.config.config || !match_kv_list(filters, "label", rec.config.config->labels)) {
        continue;
      }
    }
    ImageSummary s;
    s.id = rec.id.str();
    s.parent_id = rec.parent;
    s.created = created.first;
    s.size = rec.size;
    if (rec.config.config && !rec.config.config->labels.empty()) {
      s.labels = rec.config.config->labels;
      s.has_labels = true;
    }
    for (const Reference& r : refs_of_locked(rec.id)) {
      if (!patterns.empty()) {
        bool found = false;
        for (const std::string& p : patterns) {
          found = MYDOCKER_TRY(reference::familiar_match(p, r));
          if (found) {
            break;
          }
        }
        if (!found) {
          continue;
        }
      }
      if (r.has_digest()) {
        s.repo_digests.push_back(r.familiar());
      } else {
        s.repo_tags.push_back(r.familiar());
      }
    }
    if (s.repo_digests.empty() && s.repo_tags.empty()) {
      if (!all && has_children) {
        continue;
      }
      if (filters.contains("dangling") && !dangling_only) {
        continue;
      }
      if (filters.contains("reference")) {
        continue;
      }
      s.repo_digests = {"<none>@<none>"};
      s.repo_tags = {"<none>:<none>"};
    } else if (dangling_only && !s.repo_tags.empty()) {
      continue;
    }
    rows.emplace_back(created, std::move(s));
  }
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    if (a.first != b.first) {
      return a.first > b.first;
    }
    return a.second.id < b.second.id;
  });
  std::vector<ImageSummary> out;
  for (auto& [t, s] : rows) {
    out.push_back(std::move(s));
  }
  return out;
}

base::Result<json> ImageStore::inspect(std::string_view ref_or_id) const {
  ImageRecord rec = MYDOCKER_TRY(get(ref_or_id));
  const content::ImageConfig& c = rec.config;
  json out = json::object();
  out["Id"] = rec.id.str();
  out["RepoTags"] = rec.repo_tags();
  out["RepoDigests"] = rec.repo_digests();
  out["Parent"] = rec.parent;
  out["Comment"] = c.comment;
  out["Created"] = c.created.empty() ? std::string(kZeroTime) : c.created;
  out["Container"] = c.container;
  out["ContainerConfig"] =
      docker_container_config(c.container_config ? c.container_config->to_json() : json());
  out["DockerVersion"] = c.docker_version;
  out["Author"] = c.author;
  out["Config"] = c.config ? docker_container_config(c.config->to_json()) : json(nullptr);
  out["Architecture"] = c.architecture;
  if (!c.variant.empty()) {
    out["Variant"] = c.variant;
  }
  out["Os"] = c.os;
  if (!c.os_version.empty()) {
    out["OsVersion"] = c.os_version;
  }
  out["Size"] = rec.size;
  out["VirtualSize"] = rec.size;
  out["GraphDriver"] = {{"Data", nullptr}, {"Name", ""}};
  json layers = json::array();
  for (const DiffId& d : c.rootfs.diff_ids) {
    layers.push_back(d.str());
  }
  json rootfs = {{"Type", c.rootfs.type}};
  if (!layers.empty()) {
    rootfs["Layers"] = std::move(layers);
  }
  out["RootFS"] = std::move(rootfs);
  out["Metadata"] = {
      {"LastTagTime", rec.last_tag_time.empty() ? std::string(kZeroTime) : rec.last_tag_time}};
  return out;
}

base::Result<json> ImageStore::history(std::string_view ref_or_id) const {
  std::vector<json> entries;  // newest first
  // Per entry: the chain ID of its layer (for the size hook, called after unlocking), or none
  // for an empty layer.
  std::vector<std::optional<ChainId>> chains;
  bool single_layer = false;
  int64_t image_size = 0;
  {
    std::lock_guard lock(mu_);
    ImageId id = MYDOCKER_TRY(resolve_locked(ref_or_id));
    const ImageRecord& rec = images_.at(std::string(id.hex())).rec;
    const auto& diff_ids = rec.config.rootfs.diff_ids;
    single_layer = diff_ids.size() == 1;
    image_size = rec.size;
    size_t layer_counter = 0;
    ChainId chain;
    for (const content::HistoryEntry& h : rec.config.history) {
      std::optional<ChainId> entry_chain;
      if (!h.empty_layer) {
        if (layer_counter >= diff_ids.size()) {
          return make_error(ErrorCode::Internal, "too many non-empty layers in History section");
        }
        chain = chain_id(chain, diff_ids[layer_counter]);
        entry_chain = chain;
        ++layer_counter;
      }
      int64_t created = h.created.empty()
                            ? kZeroTimeUnix
                            : content::parse_rfc3339(h.created).value_or(kZeroTimeUnix);
      json e = {{"Comment", h.comment}, {"Created", created}, {"CreatedBy", h.created_by},
                {"Id", "<missing>"},    {"Size", 0},          {"Tags", nullptr}};
      entries.insert(entries.begin(), std::move(e));
      chains.insert(chains.begin(), entry_chain);
    }
    // The top entry is this image; below it, local parents (built images) if we have them.
    std::optional<ImageId> cur = id;
    for (json& e : entries) {
      if (!cur) {
        break;
      }
      e["Id"] = cur->str();
      std::vector<std::string> tags;
      for (const Reference& r : refs_of_locked(*cur)) {
        if (!r.has_digest()) {
          tags.push_back(r.familiar());
        }
      }
      e["Tags"] = tags.empty() ? json(nullptr) : json(tags);
      const std::string& parent = images_.at(std::string(cur->hex())).rec.parent;
      cur.reset();
      if (auto p = ImageId::parse(parent); p && images_.contains(std::string(p->hex()))) {
        cur = *p;
      }
    }
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    if (!chains[i]) {
      continue;
    }
    std::optional<int64_t> known;
    if (hooks_.layer_diff_size) {
      known = hooks_.layer_diff_size(*chains[i]);
    }
    // Without a layer store the only size we know is the whole image's.
    entries[i]["Size"] = known.value_or(single_layer ? image_size : 0);
  }
  return json(entries);
}

base::Result<PruneReport> ImageStore::prune(const Filters& filters) {
  MYDOCKER_TRY(validate_filter_keys(filters, {"dangling", "label", "label!", "until"}));
  bool dangling_only = true;
  if (filters.contains("dangling")) {
    if (exact_match(filters, "dangling", "false") || exact_match(filters, "dangling", "0")) {
      dangling_only = false;
    } else if (!exact_match(filters, "dangling", "true") &&
               !exact_match(filters, "dangling", "1")) {
      return invalid_filter_value(filters, "dangling");
    }
  }
  std::optional<Timestamp> until;
  std::set<std::string> untils = values_of(filters, "until");
  if (untils.size() > 1) {
    return make_error(ErrorCode::InvalidArgument, "more than one until filter specified");
  }
  if (!untils.empty()) {
    Timestamp now{};
    if (hooks_.now) {
      now = hooks_.now();
    } else {
      auto s = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
      now = {s, 0};
    }
    until = parse_until(*untils.begin(), now);
    if (!until) {
      return make_error(ErrorCode::InvalidArgument,
                        "failed to parse value as time or duration: \"{}\"", *untils.begin());
    }
  }
  PruneReport report;
  Pending pending;
  if (hooks_.container_usage) {
    pending.usage = hooks_.container_usage();
  }
  {
    std::lock_guard lock(mu_);
    std::vector<ImageId> top;
    for (const auto& [hex, e] : images_) {
      const ImageRecord& rec = e.rec;
      bool has_children = !children_locked(rec.id).empty();
      if (dangling_only && has_children) {
        continue;  // Docker: only heads
      }
      if (refs_of_locked(rec.id).empty() && has_children) {
        continue;  // an intermediate image goes with its child
      }
      if (until && created_of(rec) > *until) {
        continue;
      }
      if (rec.config.config) {
        const auto& labels = rec.config.config->labels;
        if (!match_kv_list(filters, "label", labels)) {
          continue;
        }
        if (filters.contains("label!") && match_kv_list(filters, "label!", labels)) {
          continue;
        }
      }
      top.push_back(rec.id);
    }
    for (const ImageId& id : top) {
      if (!images_.contains(std::string(id.hex()))) {
        continue;  // already went as some other image's parent
      }
      std::vector<Reference> refs = refs_of_locked(id);
      if (!refs.empty()) {
        bool should_delete = !dangling_only;
        if (!should_delete) {
          should_delete = std::none_of(refs.begin(), refs.end(),
                                       [](const Reference& r) { return !r.has_digest(); });
        }
        if (!should_delete) {
          continue;
        }
        for (const Reference& r : refs) {
          // Failures (conflicts: in use, children) skip the image, as Docker does.
          if (auto items = remove_locked(r.str(), false, true, pending)) {
            report.deleted.insert(report.deleted.end(), items->begin(), items->end());
          }
        }
      } else if (auto items = remove_locked(id.hex(), false, true, pending)) {
        report.deleted.insert(report.deleted.end(), items->begin(), items->end());
      }
    }
  }
  finish_pending(pending, report.deleted, &report.space_reclaimed);
  return report;
}

base::Result<std::vector<Digest>> ImageStore::collect_garbage() {
  std::lock_guard lock(mu_);
  std::set<Digest> referenced;
  for (const auto& [hex, e] : images_) {
    referenced.insert(e.rec.id.digest());
    referenced.insert(e.rec.manifests.begin(), e.rec.manifests.end());
  }
  std::vector<Digest> removed;
  for (const content::BlobInfo& b : MYDOCKER_TRY(content_.list())) {
    if (referenced.contains(b.digest)) {
      continue;
    }
    if (auto r = content_.remove(b.digest); !r && r.error().code() != ErrorCode::NotFound) {
      return std::move(r).error();
    }
    removed.push_back(b.digest);
  }
  return removed;
}

std::vector<ImageRecord> ImageStore::images() const {
  std::lock_guard lock(mu_);
  std::vector<ImageRecord> out;
  for (const auto& [hex, e] : images_) {
    out.push_back(snapshot_locked(e));
  }
  return out;
}

}  // namespace mydocker::image::store
