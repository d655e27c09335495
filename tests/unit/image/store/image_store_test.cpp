// SPDX-License-Identifier: Apache-2.0
// ImageStore against the Docker behaviour recorded in the dockerd transcripts (151-163,
// 175-185): shapes, wording, and the remove / list / prune rules.
#include "image/store/image_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>

#include <thread>

#include "runtime/base/file.h"
#include "tests/support/busybox_rootfs.h"

namespace mydocker::image::store {
namespace {

using base::ErrorCode;
using nlohmann::json;

// A config to add, built fluently: ConfigSpec().salt("a").layers(2).
struct ConfigSpec {
  std::string created_ = "2026-11-29T17:11:48.138651832Z";
  std::map<std::string, std::string> labels_;
  int layers_ = 1;
  std::string salt_;
  bool with_config_ = true;
  ConfigSpec& created(std::string v) {
    created_ = std::move(v);
    return *this;
  }
  ConfigSpec& labels(std::map<std::string, std::string> v) {
    labels_ = std::move(v);
    return *this;
  }
  ConfigSpec& layers(int v) {
    layers_ = v;
    return *this;
  }
  ConfigSpec& salt(std::string v) {
    salt_ = std::move(v);
    return *this;
  }
  ConfigSpec& with_config(bool v) {
    with_config_ = v;
    return *this;
  }
};

std::string make_config(const ConfigSpec& s) {
  content::ImageConfig c;
  c.created = s.created_;
  c.architecture = "amd64";
  c.os = "linux";
  c.comment = s.salt_;
  if (s.with_config_) {
    c.config.emplace();
    c.config->labels = s.labels_;
    c.config->env = {"PATH=/bin"};
    c.config->cmd = std::vector<std::string>{"sh"};
  }
  for (int i = 0; i < s.layers_; ++i) {
    c.rootfs.diff_ids.emplace_back(Digest::sha256_of(s.salt_ + "layer" + std::to_string(i)));
    c.history.push_back({s.created_, "layer " + std::to_string(i), "", "", false, json::object()});
  }
  return c.serialize();
}

Reference parse_ref(std::string_view text) {
  auto r = Reference::parse(text);
  EXPECT_TRUE(r) << text;
  return *r;
}

std::vector<DeleteItem> untagged_deleted(std::initializer_list<std::string> untagged,
                                         std::initializer_list<std::string> deleted) {
  std::vector<DeleteItem> out;
  for (const auto& u : untagged) {
    out.push_back({.untagged = u, .deleted = {}});
  }
  for (const auto& d : deleted) {
    out.push_back({.untagged = {}, .deleted = d});
  }
  return out;
}

class ImageStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = content::ContentStore::open(tmp_.path() + "/content");
    ASSERT_TRUE(c);
    content_ = std::move(*c);
    reopen();
  }

  void reopen() {
    store_.reset();
    ImageStore::Hooks hooks;
    hooks.container_usage = [this] {
      ContainerUsage out;
      for (const auto& [id, users] : users_) {
        out[*ImageId::parse(id)] = users;
      }
      return out;
    };
    hooks.release_layers = [this](const ImageRecord& rec) {
      released_.push_back(rec.id.str());
      std::vector<ReleasedLayer> out;
      for (const ChainId& c : chain_ids(rec.config.rootfs.diff_ids)) {
        out.push_back({c.str(), 100});
      }
      return out;
    };
    hooks.layer_diff_size = [](const ChainId&) { return std::optional<int64_t>(7); };
    hooks.now = [this] { return std::pair<int64_t, int32_t>(clock_, 537261169); };
    auto s = ImageStore::open(tmp_.path(), *content_, std::move(hooks));
    ASSERT_TRUE(s) << s.error().to_string();
    store_ = std::move(*s);
  }

  ImageRecord add(const ConfigSpec& spec, int64_t size = 1982391,
                  std::optional<ImageId> parent = std::nullopt) {
    AddImageOptions o;
    o.config = make_config(spec);
    o.size = size;
    o.parent = parent;
    auto r = store_->add(o);
    EXPECT_TRUE(r) << r.error().to_string();
    return *r;
  }

  void tag(const ImageRecord& img, std::string_view name) {
    auto r = store_->tag(img.id, parse_ref(name));
    ASSERT_TRUE(r) << r.error().to_string();
  }

  std::vector<std::string> ids(const std::vector<ImageSummary>& rows) {
    std::vector<std::string> out;
    for (const auto& r : rows) {
      out.push_back(r.id);
    }
    return out;
  }

  testing::TempDir tmp_;
  std::unique_ptr<content::ContentStore> content_;
  std::unique_ptr<ImageStore> store_;
  std::map<std::string, std::vector<ContainerUse>> users_;
  std::vector<std::string> released_;
  int64_t clock_ = 1795976744;
};

TEST_F(ImageStoreTest, AddStoresConfigBlobAndMetadataAndResolvesById) {
  std::string config = make_config({});
  AddImageOptions o;
  o.config = config;
  o.size = 42;
  o.manifest = Digest::sha256_of("manifest");
  auto rec = store_->add(o);
  ASSERT_TRUE(rec) << rec.error().to_string();
  EXPECT_EQ(rec->id.str(), Digest::sha256_of(config).str());  // image ID = config digest
  EXPECT_TRUE(content_->exists(rec->id.digest()));
  EXPECT_EQ(*content_->read(rec->id.digest()), config);
  EXPECT_TRUE(base::path_exists(store_->paths().metadata(rec->id)));
  EXPECT_EQ(rec->size, 42);
  ASSERT_EQ(rec->manifests.size(), 1u);
  EXPECT_TRUE(rec->refs.empty());

  std::string hex(rec->id.hex());
  for (const std::string& text :
       {hex, "sha256:" + hex, hex.substr(0, 12), "sha256:" + hex.substr(0, 5)}) {
    SCOPED_TRACE(text);
    auto id = store_->resolve(text);
    ASSERT_TRUE(id) << id.error().to_string();
    EXPECT_EQ(*id, rec->id);
  }
  // Adding again is idempotent and keeps names.
  tag(*rec, "busybox");
  auto again = store_->add(o);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->id, rec->id);
  EXPECT_EQ(again->repo_tags(), std::vector<std::string>{"busybox:latest"});
  EXPECT_EQ(again->manifests.size(), 1u);
  EXPECT_EQ(store_->images().size(), 1u);
}

TEST_F(ImageStoreTest, AddRejectsBadInput) {
  AddImageOptions bad;
  bad.config = R"({"os":"linux","rootfs":{"type":"layers","diff_ids":[]}})";
  auto r = store_->add(bad);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
  EXPECT_EQ(r.error().message(), "invalid image config: `architecture` is missing");
  EXPECT_TRUE(content_->list()->empty());  // nothing stored for a bad config

  AddImageOptions orphan;
  orphan.config = make_config({});
  orphan.parent = ImageId(Digest::sha256_of("nope"));
  auto o = store_->add(orphan);
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().code(), ErrorCode::InvalidArgument);
  AddImageOptions negative;
  negative.config = make_config({});
  negative.size = -1;
  EXPECT_FALSE(store_->add(negative));
}

TEST_F(ImageStoreTest, ResolveErrorsUseDockerWording) {
  add(ConfigSpec());
  auto unknown = store_->resolve("tx-nosuch-image");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code(), ErrorCode::NotFound);
  EXPECT_EQ(unknown.error().message(), "No such image: tx-nosuch-image:latest");
  auto unknown_tag = store_->resolve("localhost:5000/x:1");
  ASSERT_FALSE(unknown_tag);
  EXPECT_EQ(unknown_tag.error().message(), "No such image: localhost:5000/x:1");
  std::string hex(64, 'f');
  auto unknown_id = store_->resolve(hex);
  ASSERT_FALSE(unknown_id);
  EXPECT_EQ(unknown_id.error().message(), "No such image: sha256:" + hex);
  auto upper = store_->resolve("TX-Upper");
  ASSERT_FALSE(upper);
  EXPECT_EQ(upper.error().code(), ErrorCode::InvalidArgument);
  EXPECT_EQ(upper.error().message(), "invalid reference format: repository name must be lowercase");
  auto bad = store_->resolve("a b");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "invalid reference format");
  auto empty = store_->resolve("");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code(), ErrorCode::InvalidArgument);
}

TEST_F(ImageStoreTest, AmbiguousIdPrefix) {
  // Make two images whose IDs share their first hex digit.
  std::map<char, ImageId> by_first;
  std::string shared;
  for (int i = 0; i < 64 && shared.empty(); ++i) {
    ImageRecord r = add(ConfigSpec().salt("img" + std::to_string(i)));
    char first = r.id.hex()[0];
    if (by_first.contains(first)) {
      shared = std::string(1, first);
    }
    by_first.emplace(first, r.id);
  }
  ASSERT_FALSE(shared.empty());
  auto r = store_->resolve(shared);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
  EXPECT_EQ(r.error().message(), "Multiple IDs found with provided prefix: " + shared);
  auto rm = store_->remove(shared);
  ASSERT_FALSE(rm);
  EXPECT_EQ(rm.error().message(), "Multiple IDs found with provided prefix: " + shared);
}

TEST_F(ImageStoreTest, TagMovesAndLeavesOldImageDangling) {
  ImageRecord a = add(ConfigSpec().salt("a"));
  ImageRecord b = add(ConfigSpec().salt("b"));
  tag(a, "busybox:latest");
  EXPECT_EQ(*store_->resolve("busybox"), a.id);
  tag(b, "busybox");  // default tag latest
  EXPECT_EQ(*store_->resolve("busybox:latest"), b.id);
  EXPECT_TRUE(store_->get(a.id)->refs.empty());
  auto dangling = store_->list({{"dangling", {"true"}}});
  ASSERT_TRUE(dangling);
  EXPECT_EQ(ids(*dangling), std::vector<std::string>{a.id.str()});
  auto rec = store_->get(b.id);
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->last_tag_time, "2026-11-29T18:25:44.537261169Z");
}

TEST_F(ImageStoreTest, TagImageLikeTheApi) {
  ImageRecord img = add(ConfigSpec());
  tag(img, "busybox");
  // 158 / 159: with and without &tag=.
  auto t1 = store_->tag_image("busybox", "tx-busybox", "t1");
  ASSERT_TRUE(t1) << t1.error().to_string();
  EXPECT_EQ(*t1, img.id);
  ASSERT_TRUE(store_->tag_image("busybox", "tx-busybox", ""));
  EXPECT_EQ(store_->get(img.id)->repo_tags(),
            (std::vector<std::string>{"busybox:latest", "tx-busybox:latest", "tx-busybox:t1"}));
  // 160: invalid repo.
  auto upper = store_->tag_image("busybox", "TX-Upper", "t1");
  ASSERT_FALSE(upper);
  EXPECT_EQ(upper.error().message(), "invalid reference format: repository name must be lowercase");
  // 161: unknown source is reported first.
  auto unknown = store_->tag_image("tx-nosuch-image", "tx-x", "1");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code(), ErrorCode::NotFound);
  EXPECT_EQ(unknown.error().message(), "No such image: tx-nosuch-image:latest");
  auto bad_tag = store_->tag_image("busybox", "x", "-bad");
  ASSERT_FALSE(bad_tag);
  EXPECT_EQ(bad_tag.error().message(), "invalid tag format");
  std::string dg = "sha256:" + std::string(64, 'd');
  auto digest_repo = store_->tag_image("busybox", "x@" + dg, "");
  ASSERT_FALSE(digest_repo);
  EXPECT_EQ(digest_repo.error().message(), "refusing to create a tag with a digest reference");
}

TEST_F(ImageStoreTest, DigestReferences) {
  ImageRecord a = add(ConfigSpec().salt("a"));
  ImageRecord b = add(ConfigSpec().salt("b"));
  std::string dg = "sha256:" + std::string(64, 'd');
  tag(a, "busybox@" + dg);
  EXPECT_EQ(store_->get(a.id)->repo_digests(), std::vector<std::string>{"busybox@" + dg});
  EXPECT_EQ(*store_->resolve("busybox@" + dg), a.id);
  EXPECT_EQ(*store_->resolve("busybox:whatever@" + dg), a.id);  // the digest wins
  EXPECT_TRUE(store_->tag(a.id, parse_ref("busybox@" + dg)));   // same image: fine
  auto over = store_->tag(b.id, parse_ref("busybox@" + dg));
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code(), ErrorCode::Conflict);
  EXPECT_EQ(over.error().message(), "Cannot overwrite digest " + dg);
  auto both = store_->tag(b.id, parse_ref("busybox:1@" + dg));
  ASSERT_FALSE(both);
  EXPECT_EQ(both.error().message(), "refusing to create a tag with a digest reference");
  auto missing = store_->tag(ImageId(Digest::sha256_of("x")), parse_ref("x"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::NotFound);
}

TEST_F(ImageStoreTest, PersistsAcrossReopenInDockerFormat) {
  ImageRecord a = add(ConfigSpec().salt("a"));
  ImageRecord b = add(ConfigSpec().salt("b"));
  std::string dg = "sha256:" + std::string(64, 'd');
  tag(a, "busybox");
  tag(a, "busybox@" + dg);
  tag(b, "localhost:5000/team/app:v1");
  auto text = base::read_file(store_->paths().repositories);
  ASSERT_TRUE(text);
  json repos = json::parse(*text);
  EXPECT_EQ(repos, json::parse(R"({"Repositories":{
      "busybox":{"busybox:latest":")" +
                               a.id.str() + R"(","busybox@)" + dg + R"(":")" + a.id.str() + R"("},
      "localhost:5000/team/app":{"localhost:5000/team/app:v1":")" +
                               b.id.str() + R"("}}})"));

  // Debris a crash could leave, and records that no longer hold together.
  ASSERT_TRUE(base::write_file(store_->paths().metadata_dir + "/.x.json.tmp-1", "{", O_CREAT));
  ImageRecord gone = add(ConfigSpec().salt("gone"));
  tag(gone, "gone:1");
  ASSERT_TRUE(content_->remove(gone.id.digest()));
  ASSERT_TRUE(base::write_file(store_->paths().metadata(ImageId(Digest::sha256_of("junk"))),
                               "not json", O_CREAT));
  reopen();
  EXPECT_FALSE(base::path_exists(store_->paths().metadata_dir + "/.x.json.tmp-1"));
  EXPECT_EQ(store_->images().size(), 2u);
  EXPECT_EQ(store_->load_warnings().size(), 3u);  // missing blob, junk metadata, dropped name
  EXPECT_EQ(*store_->resolve("busybox"), a.id);
  EXPECT_EQ(*store_->resolve("busybox@" + dg), a.id);
  EXPECT_EQ(*store_->resolve("localhost:5000/team/app:v1"), b.id);
  EXPECT_FALSE(store_->resolve("gone:1"));
  EXPECT_EQ(store_->get(a.id)->last_tag_time, "2026-11-29T18:25:44.537261169Z");
  EXPECT_EQ(store_->get(a.id)->size, 1982391);
}

TEST_F(ImageStoreTest, RemoveUntagsThenDeletesWithLayers) {
  ImageRecord img = add(ConfigSpec().layers(2));
  tag(img, "tx-built:1");
  tag(img, "tx-built:q");
  // 184: another tag remains -> untag only.
  auto r1 = store_->remove("tx-built:q");
  ASSERT_TRUE(r1) << r1.error().to_string();
  EXPECT_EQ(*r1, untagged_deleted({"tx-built:q"}, {}));
  EXPECT_EQ(to_json(*r1).dump(), R"([{"Untagged":"tx-built:q"}])");
  EXPECT_TRUE(released_.empty());
  // 185: last tag -> untag, delete the image, then its layers.
  auto r2 = store_->remove("tx-built:1");
  ASSERT_TRUE(r2) << r2.error().to_string();
  auto chains = chain_ids(img.config.rootfs.diff_ids);
  EXPECT_EQ(*r2,
            untagged_deleted({"tx-built:1"}, {img.id.str(), chains[0].str(), chains[1].str()}));
  EXPECT_EQ(released_, std::vector<std::string>{img.id.str()});
  EXPECT_FALSE(store_->exists(img.id));
  EXPECT_FALSE(content_->exists(img.id.digest()));
  EXPECT_FALSE(base::path_exists(store_->paths().metadata(img.id)));
  // 163: unknown.
  auto r3 = store_->remove("tx-nosuch-image");
  ASSERT_FALSE(r3);
  EXPECT_EQ(r3.error().code(), ErrorCode::NotFound);
  EXPECT_EQ(r3.error().message(), "No such image: tx-nosuch-image:latest");
  reopen();
  EXPECT_TRUE(store_->images().empty());
}

TEST_F(ImageStoreTest, RemoveByIdWithSeveralRepositories) {
  ImageRecord img = add(ConfigSpec());
  tag(img, "busybox");
  tag(img, "tx-busybox:t1");
  std::string short_id(img.id.hex().substr(0, 12));
  // 177.
  auto r = store_->remove(short_id);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::Conflict);
  EXPECT_EQ(r.error().message(), "conflict: unable to delete " + short_id +
                                     " (must be forced) - image is referenced in multiple "
                                     "repositories");
  auto forced = store_->remove(short_id, /*force=*/true);
  ASSERT_TRUE(forced) << forced.error().to_string();
  EXPECT_EQ(*forced,
            untagged_deleted({"busybox:latest", "tx-busybox:t1"},
                             {img.id.str(), chain_ids(img.config.rootfs.diff_ids)[0].str()}));
}

TEST_F(ImageStoreTest, RemoveByIdWithOneNameTakesTheNameAlong) {
  ImageRecord img = add(ConfigSpec());
  tag(img, "busybox");
  auto r = store_->remove(std::string(img.id.hex()));
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_GE(r->size(), 2u);
  EXPECT_EQ((*r)[0].untagged, "busybox:latest");
  EXPECT_EQ((*r)[1].deleted, img.id.str());
}

TEST_F(ImageStoreTest, RemoveRefusesWhileContainersUseTheImage) {
  ImageRecord img = add(ConfigSpec());
  tag(img, "tx-built:1");
  std::string short_id(img.id.hex().substr(0, 12));
  std::string cid = std::string(64, '4');
  users_[img.id.str()] = {{cid, true}};
  // 175 / 176: a running container is a hard conflict, force or not.
  for (bool force : {false, true}) {
    auto r = store_->remove(short_id, force);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ErrorCode::Conflict);
    EXPECT_EQ(r.error().message(), "conflict: unable to delete " + short_id +
                                       " (cannot be forced) - image is being used by running "
                                       "container 444444444444");
  }
  // By name, the only name: refused unless forced.
  auto by_name = store_->remove("tx-built:1");
  ASSERT_FALSE(by_name);
  EXPECT_EQ(by_name.error().message(),
            "conflict: unable to remove repository reference \"tx-built:1\" (must force) - "
            "container 444444444444 is using its referenced image " +
                short_id);
  // Forced by name: the name goes, the image stays (a container uses it).
  auto forced = store_->remove("tx-built:1", true);
  ASSERT_TRUE(forced) << forced.error().to_string();
  EXPECT_EQ(*forced, untagged_deleted({"tx-built:1"}, {}));
  EXPECT_TRUE(store_->exists(img.id));
  // A stopped container is a soft conflict.
  users_[img.id.str()] = {{cid, false}};
  auto soft = store_->remove(short_id);
  ASSERT_FALSE(soft);
  EXPECT_EQ(soft.error().message(), "conflict: unable to delete " + short_id +
                                        " (must be forced) - image is being used by stopped "
                                        "container 444444444444");
  auto gone = store_->remove(short_id, true);
  ASSERT_TRUE(gone) << gone.error().to_string();
  EXPECT_EQ((*gone)[0].deleted, img.id.str());
}

TEST_F(ImageStoreTest, LastTagOfARepositoryTakesItsDigestsAlong) {
  ImageRecord img = add(ConfigSpec());
  std::string dg = "sha256:" + std::string(64, 'd');
  tag(img, "busybox:1");
  tag(img, "busybox@" + dg);
  tag(img, "other:2");
  auto r = store_->remove("busybox:1");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(*r, untagged_deleted({"busybox:1", "busybox@" + dg}, {}));
  EXPECT_EQ(store_->get(img.id)->repo_tags(), std::vector<std::string>{"other:2"});
}

TEST_F(ImageStoreTest, ParentsAndChildren) {
  ImageRecord parent = add(ConfigSpec().salt("p"));
  ImageRecord child = add(ConfigSpec().layers(2).salt("c"), 10, parent.id);
  tag(child, "app:1");
  EXPECT_EQ(store_->children(parent.id), std::vector<ImageId>{child.id});
  std::string short_parent(parent.id.hex().substr(0, 12));
  auto r = store_->remove(std::string(parent.id.hex()), true);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "conflict: unable to delete " + short_parent +
                                     " (cannot be forced) - image has dependent child images");
  // The intermediate parent is hidden from the default list, shown with all.
  EXPECT_EQ(ids(*store_->list()), std::vector<std::string>{child.id.str()});
  EXPECT_EQ(store_->list({}, true)->size(), 2u);
  // History walks to the parent for IDs.
  auto h = store_->history("app:1");
  ASSERT_TRUE(h);
  ASSERT_EQ(h->size(), 2u);
  EXPECT_EQ((*h)[0]["Id"], child.id.str());
  EXPECT_EQ((*h)[1]["Id"], parent.id.str());
  // Deleting the child prunes the now-dangling parent.
  auto del = store_->remove("app:1");
  ASSERT_TRUE(del) << del.error().to_string();
  std::vector<std::string> deleted;
  for (const auto& i : *del) {
    if (!i.deleted.empty() && i.deleted == child.id.str()) {
      deleted.push_back("child");
    } else if (i.deleted == parent.id.str()) {
      deleted.push_back("parent");
    }
  }
  EXPECT_EQ(deleted, (std::vector<std::string>{"child", "parent"}));
  EXPECT_TRUE(store_->images().empty());
}

TEST_F(ImageStoreTest, ListShapesAndFilters) {
  ImageRecord old_img =
      add(ConfigSpec().created("2026-01-01T00:00:00Z").labels({{"tx-prune", "1"}}).salt("old"));
  ImageRecord mid = add(ConfigSpec().created("2026-06-01T00:00:00.5Z").salt("mid"));
  ImageRecord recent = add(ConfigSpec()
                               .created("2026-11-29T17:11:48.138651832Z")
                               .labels({{"tx-gen", "1"}, {"tx-prune", "2"}})
                               .salt("new"));
  tag(mid, "busybox:latest");
  tag(recent, "busybox:1.36");
  tag(recent, "tx-busybox:t1");

  auto all = store_->list();
  ASSERT_TRUE(all);
  EXPECT_EQ(ids(*all), (std::vector<std::string>{recent.id.str(), mid.id.str(), old_img.id.str()}));
  // 151's shape for a tagged image without digests.
  EXPECT_EQ(to_json((*all)[1]),
            json::parse(R"({"Containers":-1,"Created":1780272000,"Id":")" + mid.id.str() +
                        R"(","Labels":null,"ParentId":"","RepoDigests":null,
      "RepoTags":["busybox:latest"],"SharedSize":-1,"Size":1982391,"VirtualSize":1982391})"));
  // 178's shape for a dangling image.
  json d = to_json((*all)[2]);
  EXPECT_EQ(d["RepoTags"], json::parse(R"(["<none>:<none>"])"));
  EXPECT_EQ(d["RepoDigests"], json::parse(R"(["<none>@<none>"])"));
  EXPECT_EQ(d["Labels"], json::parse(R"({"tx-prune":"1"})"));

  auto check = [&](const Filters& f, std::vector<std::string> want) {
    auto got = store_->list(f);
    ASSERT_TRUE(got) << got.error().to_string();
    EXPECT_EQ(ids(*got), want);
  };
  check({{"dangling", {"true"}}}, {old_img.id.str()});
  check({{"dangling", {"false"}}}, {recent.id.str(), mid.id.str()});
  check({{"reference", {"busybox*"}}}, {recent.id.str(), mid.id.str()});
  check({{"reference", {"busy*:1*"}}}, {recent.id.str()});
  check({{"reference", {"tx-*", "nomatch"}}}, {recent.id.str()});
  check({{"label", {"tx-prune"}}}, {recent.id.str(), old_img.id.str()});
  check({{"label", {"tx-prune=1"}}}, {old_img.id.str()});
  check({{"label", {"tx-prune", "tx-gen=1"}}}, {recent.id.str()});
  check({{"dangling", {"true"}}, {"label", {"tx-prune=1"}}}, {old_img.id.str()});
  check({{"before", {"busybox:latest"}}}, {old_img.id.str()});
  check({{"since", {"busybox"}}}, {recent.id.str()});
  check({{"since", {std::string(old_img.id.hex().substr(0, 12))}}, {"before", {"busybox:1.36"}}},
        {mid.id.str()});
  // With a reference filter, only the matching names are shown.
  auto refs = store_->list({{"reference", {"tx-*"}}});
  ASSERT_TRUE(refs);
  EXPECT_EQ((*refs)[0].repo_tags, std::vector<std::string>{"tx-busybox:t1"});

  struct Bad {
    Filters f;
    ErrorCode code;
    std::string message;
  };
  for (const Bad& b : std::vector<Bad>{
           {{{"nosuch", {"x"}}}, ErrorCode::InvalidArgument, "Invalid filter 'nosuch'"},
           {{{"dangling", {"maybe"}}},
            ErrorCode::InvalidArgument,
            "Invalid filter 'dangling=[maybe]'"},
           {{{"before", {"tx-nosuch-image"}}},
            ErrorCode::NotFound,
            "No such image: tx-nosuch-image:latest"},
           {{{"since", {"Bad"}}},
            ErrorCode::InvalidArgument,
            "invalid reference format: repository name must be lowercase"},
           {{{"reference", {"busybox["}}}, ErrorCode::InvalidArgument, "syntax error in pattern"},
       }) {
    SCOPED_TRACE(b.message);
    auto r = store_->list(b.f);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), b.code);
    EXPECT_EQ(r.error().message(), b.message);
  }
}

TEST_F(ImageStoreTest, InspectHasDockerShape) {
  ImageRecord img = add(ConfigSpec());
  auto before_tag = store_->inspect(std::string(img.id.hex()));
  ASSERT_TRUE(before_tag);
  EXPECT_EQ((*before_tag)["Metadata"]["LastTagTime"], "0001-01-01T00:00:00Z");
  EXPECT_EQ((*before_tag)["RepoTags"], json::array());
  tag(img, "busybox");
  auto j = store_->inspect("busybox");
  ASSERT_TRUE(j) << j.error().to_string();
  // The keys of transcript 155.
  std::vector<std::string> keys;
  for (auto it = j->begin(); it != j->end(); ++it) {
    keys.push_back(it.key());
  }
  std::vector<std::string> want = {
      "Architecture", "Author",        "Comment",     "Config", "Container", "ContainerConfig",
      "Created",      "DockerVersion", "GraphDriver", "Id",     "Metadata",  "Os",
      "Parent",       "RepoDigests",   "RepoTags",    "RootFS", "Size",      "VirtualSize"};
  EXPECT_EQ(keys, want);
  EXPECT_EQ((*j)["Id"], img.id.str());
  EXPECT_EQ((*j)["RepoTags"], json::parse(R"(["busybox:latest"])"));
  EXPECT_EQ((*j)["RepoDigests"], json::array());
  EXPECT_EQ((*j)["Created"], "2026-11-29T17:11:48.138651832Z");
  EXPECT_EQ((*j)["Config"]["Cmd"], json::parse(R"(["sh"])"));
  EXPECT_EQ((*j)["Config"]["Hostname"], "");
  EXPECT_TRUE((*j)["Config"]["Entrypoint"].is_null());
  EXPECT_FALSE((*j)["Config"].contains("ExposedPorts"));
  EXPECT_EQ((*j)["ContainerConfig"]["Env"], nullptr);
  EXPECT_EQ((*j)["ContainerConfig"].size(), 17u);  // transcript 155's ContainerConfig keys
  EXPECT_EQ((*j)["RootFS"]["Type"], "layers");
  EXPECT_EQ((*j)["RootFS"]["Layers"][0], img.config.rootfs.diff_ids[0].str());
  EXPECT_EQ((*j)["Metadata"]["LastTagTime"], "2026-11-29T18:25:44.537261169Z");
  EXPECT_EQ((*j)["Size"], 1982391);
  auto missing = store_->inspect("tx-nosuch-image");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(), "No such image: tx-nosuch-image:latest");
  ImageRecord bare = add(ConfigSpec().salt("bare").with_config(false));
  EXPECT_TRUE((*store_->inspect(bare.id.str()))["Config"].is_null());
}

TEST_F(ImageStoreTest, HistoryNewestFirst) {
  content::ImageConfig c;
  c.created = "2026-11-29T17:11:48Z";
  c.architecture = "amd64";
  c.os = "linux";
  c.rootfs.diff_ids = {DiffId(Digest::sha256_of("l0")), DiffId(Digest::sha256_of("l1"))};
  c.history = {
      {"2026-11-29T17:00:00Z", "ADD rootfs /", "", "base", false, json::object()},
      {"2026-11-29T17:05:00Z", "ENV A=b", "", "", true, json::object()},
      {"2026-11-29T17:11:48Z", "RUN touch /x", "", "", false, json::object()},
  };
  AddImageOptions o;
  o.config = c.serialize();
  o.size = 99;
  auto img = store_->add(o);
  ASSERT_TRUE(img);
  tag(*img, "tx-built:1");
  auto h = store_->history("tx-built:1");
  ASSERT_TRUE(h) << h.error().to_string();
  EXPECT_EQ(*h, json::parse(R"([
    {"Comment":"","Created":1795972308,"CreatedBy":"RUN touch /x","Id":")" +
                            img->id.str() +
                            R"(","Size":7,"Tags":["tx-built:1"]},
    {"Comment":"","Created":1795971900,"CreatedBy":"ENV A=b","Id":"<missing>","Size":0,"Tags":null},
    {"Comment":"base","Created":1795971600,"CreatedBy":"ADD rootfs /","Id":"<missing>","Size":7,
     "Tags":null}])"));

  c.history.push_back({"", "RUN more", "", "", false, json::object()});
  o.config = c.serialize();
  auto broken = store_->add(o);
  ASSERT_TRUE(broken);
  auto bad = store_->history(broken->id.str());
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "too many non-empty layers in History section");
  auto unknown = store_->history("nope");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code(), ErrorCode::NotFound);
}

TEST_F(ImageStoreTest, PruneDanglingAndUnused) {
  ImageRecord dangling = add(ConfigSpec().labels({{"tx-prune", "1"}}).salt("d"));
  ImageRecord dangling_other = add(ConfigSpec().labels({{"tx-prune", "2"}}).salt("d2"));
  ImageRecord tagged = add(ConfigSpec().salt("t"));
  ImageRecord used = add(ConfigSpec().salt("u"));
  tag(tagged, "keep:1");
  tag(used, "used:1");
  users_[used.id.str()] = {{std::string(64, '9'), false}};

  auto bad = store_->prune({{"nosuch", {"x"}}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "Invalid filter 'nosuch'");
  auto bad_dangling = store_->prune({{"dangling", {"maybe"}}});
  ASSERT_FALSE(bad_dangling);
  EXPECT_EQ(bad_dangling.error().message(), "Invalid filter 'dangling=[maybe]'");
  EXPECT_FALSE(store_->prune({{"until", {"whenever"}}}));

  // 179: label-filtered prune of dangling images.
  auto r = store_->prune({{"label", {"tx-prune=1"}}});
  ASSERT_TRUE(r) << r.error().to_string();
  std::string chain = chain_ids(dangling.config.rootfs.diff_ids)[0].str();
  EXPECT_EQ(r->deleted, untagged_deleted({}, {dangling.id.str(), chain}));
  EXPECT_EQ(r->space_reclaimed, 100);
  // 180: nothing left to prune with that label.
  auto none = store_->prune({{"label", {"tx-prune=1"}}});
  ASSERT_TRUE(none);
  EXPECT_EQ(to_json(*none).dump(), R"({"ImagesDeleted":null,"SpaceReclaimed":0})");
  // label! keeps what matches; until keeps what is newer.
  auto excluded = store_->prune({{"label!", {"tx-prune"}}});
  ASSERT_TRUE(excluded);
  EXPECT_TRUE(excluded->deleted.empty());
  auto too_old = store_->prune({{"until", {"2020-01-01T00:00:00Z"}}});
  ASSERT_TRUE(too_old);
  EXPECT_TRUE(too_old->deleted.empty());
  // dangling=false: every image no container uses, tagged or not.
  auto all = store_->prune({{"dangling", {"false"}}});
  ASSERT_TRUE(all) << all.error().to_string();
  EXPECT_TRUE(store_->exists(used.id));
  EXPECT_FALSE(store_->exists(tagged.id));
  EXPECT_FALSE(store_->exists(dangling_other.id));
  EXPECT_EQ(store_->images().size(), 1u);
}

TEST_F(ImageStoreTest, ConcurrentTaggingAndListing) {
  ImageRecord img = add(ConfigSpec());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        EXPECT_TRUE(
            store_->tag(img.id, parse_ref("app:" + std::to_string(t) + "-" + std::to_string(i))));
        EXPECT_TRUE(store_->list());
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(store_->get(img.id)->repo_tags().size(), 40u);
  reopen();
  EXPECT_EQ(store_->get(img.id)->repo_tags().size(), 40u);
}

TEST_F(ImageStoreTest, UntagAndLookup) {
  ImageRecord img = add(ConfigSpec());
  tag(img, "busybox:1");
  EXPECT_EQ(*store_->lookup_reference(parse_ref("busybox:1")), img.id);
  auto u = store_->untag(parse_ref("busybox:1"));
  ASSERT_TRUE(u);
  EXPECT_EQ(*u, "busybox:1");
  EXPECT_TRUE(store_->exists(img.id));  // untag never deletes
  auto again = store_->untag(parse_ref("busybox:1"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::NotFound);
  EXPECT_FALSE(store_->lookup_reference(parse_ref("busybox:1")));
}

TEST_F(ImageStoreTest, CollectGarbageKeepsReferencedBlobs) {
  AddImageOptions o;
  o.config = make_config(ConfigSpec());
  auto manifest = content_->write_blob("{\"manifest\":1}");
  ASSERT_TRUE(manifest);
  o.manifest = *manifest;
  auto img = store_->add(o);
  ASSERT_TRUE(img);
  // Left by a load that died after writing its config: no image names it.
  auto orphan = content_->write_blob(make_config(ConfigSpec().salt("orphan")));
  ASSERT_TRUE(orphan);
  auto removed = store_->collect_garbage();
  ASSERT_TRUE(removed) << removed.error().to_string();
  EXPECT_EQ(*removed, std::vector<Digest>{*orphan});
  EXPECT_TRUE(content_->exists(img->id.digest()));
  EXPECT_TRUE(content_->exists(*manifest));
  EXPECT_FALSE(content_->exists(*orphan));
}

// Hooks run without the store's lock held: a hook that takes the engine's locks cannot
// deadlock against a thread that holds those and calls the store. Here the hooks call the
// store itself, which would self-deadlock on a held std::mutex.
TEST(ImageStoreHooksTest, HooksRunWithoutTheStoreLock) {
  testing::TempDir tmp;
  auto content = content::ContentStore::open(tmp.path() + "/content");
  ASSERT_TRUE(content);
  ImageStore* self = nullptr;
  int calls = 0;
  ImageStore::Hooks hooks;
  hooks.container_usage = [&] {
    ++calls;
    (void)self->images();
    return ContainerUsage{};
  };
  hooks.release_layers = [&](const ImageRecord&) {
    ++calls;
    (void)self->images();
    return std::vector<ReleasedLayer>{};
  };
  hooks.layer_diff_size = [&](const ChainId&) {
    ++calls;
    (void)self->images();
    return std::optional<int64_t>(1);
  };
  auto s = ImageStore::open(tmp.path(), **content, std::move(hooks));
  ASSERT_TRUE(s);
  self = s->get();
  AddImageOptions o;
  o.config = make_config(ConfigSpec());
  auto img = (*s)->add(o);
  ASSERT_TRUE(img);
  ASSERT_TRUE((*s)->history(img->id.str()));
  ASSERT_TRUE((*s)->prune({}));
  EXPECT_EQ(calls, 3);  // size, usage, release
  EXPECT_TRUE((*s)->images().empty());
}

}  // namespace
}  // namespace mydocker::image::store
