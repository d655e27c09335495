// SPDX-License-Identifier: Apache-2.0
#include "image/content/manifest.h"

#include "image/content/json_reader.h"

namespace mydocker::image::content {
namespace {

using base::ErrorCode;
using base::make_error;
using detail::JsonReader;
using nlohmann::json;

base::Result<json> parse_json(std::string_view bytes, std::string_view doc) {
  json j = json::parse(bytes, nullptr, false);
  if (j.is_discarded()) {
    return make_error(ErrorCode::InvalidArgument, "{}: not valid JSON", doc);
  }
  if (!j.is_object()) {
    return make_error(ErrorCode::InvalidArgument, "{}: document is {}, want an object", doc,
                      detail::show(j));
  }
  return j;
}

base::Result<Platform> parse_platform(const json& j, const std::string& doc,
                                      const std::string& prefix) {
  JsonReader r(j, doc, prefix);
  MYDOCKER_TRY(r.check_object());
  Platform p;
  MYDOCKER_TRY(r.str("architecture", p.architecture, true));
  MYDOCKER_TRY(r.str("os", p.os, true));
  MYDOCKER_TRY(r.str("os.version", p.os_version));
  MYDOCKER_TRY(r.str_list("os.features", p.os_features));
  MYDOCKER_TRY(r.str("variant", p.variant));
  p.extra = r.extra();
  return p;
}

base::Result<Descriptor> parse_descriptor_in(const json& j, const std::string& doc,
                                             const std::string& prefix) {
  JsonReader r(j, doc, prefix);
  MYDOCKER_TRY(r.check_object());
  Descriptor d;
  MYDOCKER_TRY(r.str("mediaType", d.media_type, true));
  std::string digest;
  MYDOCKER_TRY(r.str("digest", digest, true));
  auto parsed = Digest::parse(digest);
  if (!parsed) {
    return make_error(parsed.error().code(), "{}: `{}`: {}", doc, r.field("digest"),
                      parsed.error().message());
  }
  d.digest = std::move(*parsed);
  MYDOCKER_TRY(r.int64("size", d.size, true));
  if (d.size < 0) {
    return r.error("size", d.size, "a size >= 0");
  }
  MYDOCKER_TRY(r.str_list("urls", d.urls));
  MYDOCKER_TRY(r.str_map("annotations", d.annotations));
  if (const json* p = r.member("platform")) {
    d.platform = MYDOCKER_TRY(parse_platform(*p, doc, prefix + "platform."));
  }
  d.extra = r.extra();
  return d;
}

base::Result<int> read_schema_version(JsonReader& r) {
  int64_t v = 0;
  MYDOCKER_TRY(r.int64("schemaVersion", v, true));
  if (v == 1) {
    return make_error(ErrorCode::NotImplemented,
                      "unsupported manifest: Docker schema1 (`schemaVersion` 1) is not supported");
  }
  if (v != 2) {
    return r.error("schemaVersion", v, "2");
  }
  return 2;
}

void put_annotations(json& out, const std::map<std::string, std::string>& a) {
  if (!a.empty()) {
    out["annotations"] = a;
  }
}

}  // namespace

namespace media_type {
bool is_manifest(std::string_view mt) {
  return mt == kOciManifest || mt == kDockerManifest;
}
bool is_index(std::string_view mt) {
  return mt == kOciIndex || mt == kDockerManifestList;
}
bool is_config(std::string_view mt) {
  return mt == kOciConfig || mt == kDockerConfig;
}
bool is_layer(std::string_view mt) {
  return mt == kOciLayer || mt == kOciLayerGzip || mt == kOciLayerZstd ||
         mt == kOciLayerNondistributableGzip || mt == kDockerLayer || mt == kDockerLayerGzip ||
         mt == kDockerLayerForeignGzip;
}
}  // namespace media_type

base::Result<Descriptor> parse_descriptor(const json& j, std::string_view field) {
  std::string prefix(field);
  if (!prefix.empty()) {
    prefix += ".";
  }
  return parse_descriptor_in(j, "invalid descriptor", prefix);
}

json to_json(const Platform& p) {
  json out = detail::start_object(p.extra);
  out["architecture"] = p.architecture;
  out["os"] = p.os;
  if (!p.os_version.empty()) {
    out["os.version"] = p.os_version;
  }
  if (!p.os_features.empty()) {
    out["os.features"] = p.os_features;
  }
  if (!p.variant.empty()) {
    out["variant"] = p.variant;
  }
  return out;
}

json to_json(const Descriptor& d) {
  json out = detail::start_object(d.extra);
  out["mediaType"] = d.media_type;
  out["digest"] = d.digest.str();
  out["size"] = d.size;
  if (!d.urls.empty()) {
    out["urls"] = d.urls;
  }
  put_annotations(out, d.annotations);
  if (d.platform) {
    out["platform"] = to_json(*d.platform);
  }
  return out;
}

base::Result<Manifest> Manifest::parse(std::string_view bytes) {
  return from_json(MYDOCKER_TRY(parse_json(bytes, "invalid manifest")));
}

base::Result<Manifest> Manifest::from_json(const json& j) {
  const std::string doc = "invalid manifest";
  JsonReader r(j, doc, "");
  MYDOCKER_TRY(r.check_object());
  Manifest m;
  m.schema_version = MYDOCKER_TRY(read_schema_version(r));
  MYDOCKER_TRY(r.str("mediaType", m.media_type));
  if (m.media_type == media_type::kDockerManifestV1 ||
      m.media_type == media_type::kDockerManifestV1Signed) {
    return make_error(ErrorCode::NotImplemented, "unsupported manifest media type `{}`",
                      m.media_type);
  }
  if (!m.media_type.empty() && !media_type::is_manifest(m.media_type)) {
    return r.error(
        "mediaType", m.media_type,
        fmt::format("`{}` or `{}`", media_type::kOciManifest, media_type::kDockerManifest));
  }
  const json* config = MYDOCKER_TRY(r.typed_member("config", json::value_t::object, "an object",
                                                   /*required=*/true));
  m.config = MYDOCKER_TRY(parse_descriptor_in(*config, doc, "config."));
  const json* layers = MYDOCKER_TRY(r.typed_member("layers", json::value_t::array, "an array",
                                                   /*required=*/true));
  for (size_t i = 0; i < layers->size(); ++i) {
    m.layers.push_back(
        MYDOCKER_TRY(parse_descriptor_in((*layers)[i], doc, fmt::format("layers[{}].", i))));
  }
  MYDOCKER_TRY(r.str_map("annotations", m.annotations));
  m.extra = r.extra();
  return m;
}

json Manifest::to_json() const {
  json out = detail::start_object(extra);
  out["schemaVersion"] = schema_version;
  if (!media_type.empty()) {
    out["mediaType"] = media_type;
  }
  out["config"] = content::to_json(config);
  json ls = json::array();
  for (const Descriptor& d : layers) {
    ls.push_back(content::to_json(d));
  }
  out["layers"] = std::move(ls);
  put_annotations(out, annotations);
  return out;
}

std::string Manifest::serialize() const {
  return to_json().dump();
}

base::Result<Index> Index::parse(std::string_view bytes) {
  return from_json(MYDOCKER_TRY(parse_json(bytes, "invalid index")));
}

base::Result<Index> Index::from_json(const json& j) {
  const std::string doc = "invalid index";
  JsonReader r(j, doc, "");
  MYDOCKER_TRY(r.check_object());
  Index x;
  x.schema_version = MYDOCKER_TRY(read_schema_version(r));
  MYDOCKER_TRY(r.str("mediaType", x.media_type));
  if (!x.media_type.empty() && !media_type::is_index(x.media_type)) {
    return r.error(
        "mediaType", x.media_type,
        fmt::format("`{}` or `{}`", media_type::kOciIndex, media_type::kDockerManifestList));
  }
  const json* ms = MYDOCKER_TRY(r.typed_member("manifests", json::value_t::array, "an array",
                                               /*required=*/true));
  for (size_t i = 0; i < ms->size(); ++i) {
    x.manifests.push_back(
        MYDOCKER_TRY(parse_descriptor_in((*ms)[i], doc, fmt::format("manifests[{}].", i))));
  }
  MYDOCKER_TRY(r.str_map("annotations", x.annotations));
  x.extra = r.extra();
  return x;
}

json Index::to_json() const {
  json out = detail::start_object(extra);
  out["schemaVersion"] = schema_version;
  if (!media_type.empty()) {
    out["mediaType"] = media_type;
  }
  json ms = json::array();
  for (const Descriptor& d : manifests) {
    ms.push_back(content::to_json(d));
  }
  out["manifests"] = std::move(ms);
  put_annotations(out, annotations);
  return out;
}

std::string Index::serialize() const {
  return to_json().dump();
}

base::Result<std::string> detect_media_type(std::string_view bytes) {
  json j = MYDOCKER_TRY(parse_json(bytes, "unknown document"));
  if (auto it = j.find("mediaType");
      it != j.end() && it->is_string() && !it->get_ref<const std::string&>().empty()) {
    return it->get<std::string>();
  }
  if (j.contains("manifests")) {
    return std::string(media_type::kOciIndex);
  }
  if (j.contains("config") && j.contains("layers")) {
    return std::string(media_type::kOciManifest);
  }
  return make_error(ErrorCode::InvalidArgument,
                    "unknown document: no `mediaType`, `manifests` or `config` and `layers`");
}

}  // namespace mydocker::image::content
