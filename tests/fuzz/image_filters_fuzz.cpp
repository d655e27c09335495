// SPDX-License-Identifier: Apache-2.0
// The image store's user-text entry points: `GET /images/json` filters (dangling, label,
// before, since, reference globs), `POST /images/prune` filters (label, label!, until: RFC 3339,
// Unix time or Go duration) and name-or-ID resolution (`docker inspect X`). The store has no
// filter parser of its own (the API turns its JSON into Filters), so the input is read as
// lines `key=value` (a line without `=` is a key with no value).
//
// The store is built once per process in a temp dir: four images, one name each, all used by
// a running container, so prune can never delete anything; that is checked too.
#include <cstdlib>
#include <memory>
#include <string>

#include "image/content/content_store.h"
#include "image/content/image_config.h"
#include "image/reference/reference.h"
#include "image/store/image_store.h"
#include "runtime/base/error.h"
#include "runtime/base/file.h"
#include "tests/fuzz/fuzz_check.h"

namespace image = mydocker::image;
namespace store = mydocker::image::store;
using mydocker::base::ErrorCode;

namespace {

struct Fixture {
  std::string dir;
  std::unique_ptr<image::content::ContentStore> content;
  std::unique_ptr<store::ImageStore> images;
  size_t count = 0;
};

std::string make_config(const std::string& salt, const std::string& created,
                        std::map<std::string, std::string> labels) {
  image::content::ImageConfig c;
  c.created = created;
  c.architecture = "amd64";
  c.os = "linux";
  c.comment = salt;
  c.config.emplace();
  c.config->labels = std::move(labels);
  c.config->cmd = std::vector<std::string>{"sh"};
  c.rootfs.diff_ids.emplace_back(image::Digest::sha256_of(salt));
  return c.serialize();
}

Fixture& fixture() {
  static Fixture* f = [] {
    auto* fx = new Fixture;
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
                        "/mydocker-filters-fuzz-XXXXXX";
    FUZZ_CHECK(mkdtemp(templ.data()) != nullptr);
    fx->dir = templ;
    std::atexit([] { (void)mydocker::base::remove_all(fixture().dir); });
    auto content = image::content::ContentStore::open(fx->dir + "/content");
    FUZZ_CHECK(content);
    fx->content = std::move(*content);

    auto ids = std::make_shared<std::vector<image::ImageId>>();
    store::ImageStore::Hooks hooks;
    hooks.container_usage = [ids] {
      store::ContainerUsage usage;
      for (const image::ImageId& id : *ids) {
        usage[id].push_back(
            {.container_id = "c" + std::string(id.hex().substr(0, 8)), .running = true});
      }
      return usage;
    };
    hooks.now = [] { return std::pair<int64_t, int32_t>(1795972308, 138651832); };
    auto s = store::ImageStore::open(fx->dir, *fx->content, std::move(hooks));
    FUZZ_CHECK(s);
    fx->images = std::move(*s);

    struct Spec {
      std::string salt, created, name;
      std::map<std::string, std::string> labels;
    };
    const std::string digest = "sha256:" + std::string(64, 'a');
    const std::vector<Spec> specs = {
        {"a", "2026-11-29T17:11:48.138651832Z", "busybox:latest", {{"maintainer", "x"}}},
        {"b", "2025-01-01T00:00:00Z", "localhost:5000/app/web:v1", {{"a", "1"}, {"b", ""}}},
        {"c", "2020-02-29T12:00:00+01:00", "", {}},
        {"d", "1970-01-01T00:00:00Z", "ubuntu@" + digest, {{"a", "2"}}},
    };
    for (const Spec& sp : specs) {
      store::AddImageOptions o;
      o.config = make_config(sp.salt, sp.created, sp.labels);
      o.size = 1000;
      auto rec = fx->images->add(o);
      FUZZ_CHECK(rec);
      ids->push_back(rec->id);
      if (!sp.name.empty()) {
        auto ref = image::reference::Reference::parse(sp.name);
        FUZZ_CHECK(ref);
        FUZZ_CHECK(fx->images->tag(rec->id, *ref));
      }
    }
    fx->count = fx->images->images().size();
    return fx;
  }();
  return *f;
}

bool user_error(const mydocker::base::Error& e) {
  return e.code() == ErrorCode::InvalidArgument || e.code() == ErrorCode::NotFound;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Fixture& fx = fixture();
  std::string_view text = mydocker::fuzz::as_text(data, size);
  store::Filters filters;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    size_t eq = line.find('=');
    std::vector<std::string>& values = filters[std::string(line.substr(0, eq))];
    if (eq != std::string_view::npos) {
      values.emplace_back(line.substr(eq + 1));
      if (auto id = fx.images->resolve(values.back()); !id) {
        FUZZ_CHECK(user_error(id.error()));
      }
    }
  }
  for (bool all : {false, true}) {
    if (auto rows = fx.images->list(filters, all)) {
      FUZZ_CHECK(rows->size() <= fx.count);
    } else {
      FUZZ_CHECK(user_error(rows.error()));
    }
  }
  if (auto report = fx.images->prune(filters)) {
    FUZZ_CHECK(report->deleted.empty());
    FUZZ_CHECK(report->space_reclaimed == 0);
  } else {
    FUZZ_CHECK(user_error(report.error()));
  }
  FUZZ_CHECK(fx.images->images().size() == fx.count);
  return 0;
}
