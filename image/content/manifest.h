// SPDX-License-Identifier: Apache-2.0
// Typed image documents: descriptors, manifests and indexes, in both the OCI image spec form
// and Docker's schema2 form (which is the same shape with other media types).
//
// Parsing validates what a consumer relies on and names the field and the value on failure:
//   "invalid manifest: `layers[1].digest`: invalid digest `sha256:xyz`"
// (ErrorCode::InvalidArgument for any malformed document; NotImplemented for a schema
// version or media type we do not handle, e.g. Docker schema1).
//
// Round trips: fields we do not model are kept in `extra` (a JSON object) and written back, so
// parse(serialize(x)) == x and serialize(parse(bytes)) is the same JSON as `bytes`. It is not
// the same *bytes* (key order, spacing): anything identified by digest (an image ID is the
// digest of its config) must be stored and served as the original bytes, never re-serialized.
// serialize() is deterministic (sorted keys, compact), so a document we create has a stable
// digest.
//
// All types are plain values; no shared state.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "image/digest/digest.h"
#include "runtime/base/error.h"

namespace mydocker::image::content {

namespace media_type {
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kOciLayer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kOciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kOciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view kOciLayerNondistributableGzip =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerManifestV1 =
    "application/vnd.docker.distribution.manifest.v1+json";
inline constexpr std::string_view kDockerManifestV1Signed =
    "application/vnd.docker.distribution.manifest.v1+prettyjws";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kDockerLayer = "application/vnd.docker.image.rootfs.diff.tar";
inline constexpr std::string_view kDockerLayerGzip =
    "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr std::string_view kDockerLayerForeignGzip =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

bool is_manifest(std::string_view mt);  // OCI manifest or Docker schema2 manifest
bool is_index(std::string_view mt);     // OCI index or Docker manifest list
bool is_config(std::string_view mt);    // OCI or Docker image config
bool is_layer(std::string_view mt);     // any of the layer types above
}  // namespace media_type

struct Platform {
  std::string architecture;              // required
  std::string os;                        // required
  std::string os_version;                // "os.version"
  std::vector<std::string> os_features;  // "os.features"
  std::string variant;
  nlohmann::json extra = nlohmann::json::object();
  bool operator==(const Platform&) const = default;
};

// OCI content descriptor: what a manifest or index points at.
struct Descriptor {
  std::string media_type;  // required
  Digest digest;           // required
  int64_t size = 0;        // required, >= 0
  std::vector<std::string> urls;
  std::map<std::string, std::string> annotations;
  std::optional<Platform> platform;
  nlohmann::json extra = nlohmann::json::object();  // artifactType, data, ...
  bool operator==(const Descriptor&) const = default;
};

// An image manifest: OCI (mediaType optional, kOciManifest when present) or Docker schema2
// (mediaType kDockerManifest, required by Docker).
struct Manifest {
  int schema_version = 2;
  std::string media_type;  // "" when the document had none (legal in OCI)
  Descriptor config;
  std::vector<Descriptor> layers;
  std::map<std::string, std::string> annotations;
  nlohmann::json extra = nlohmann::json::object();

  static base::Result<Manifest> parse(std::string_view bytes);
  static base::Result<Manifest> from_json(const nlohmann::json& j);
  nlohmann::json to_json() const;
  std::string serialize() const;
  bool operator==(const Manifest&) const = default;
};

// An OCI image index or a Docker manifest list.
struct Index {
  int schema_version = 2;
  std::string media_type;
  std::vector<Descriptor> manifests;
  std::map<std::string, std::string> annotations;
  nlohmann::json extra = nlohmann::json::object();

  static base::Result<Index> parse(std::string_view bytes);
  static base::Result<Index> from_json(const nlohmann::json& j);
  nlohmann::json to_json() const;
  std::string serialize() const;
  bool operator==(const Index&) const = default;
};

base::Result<Descriptor> parse_descriptor(const nlohmann::json& j, std::string_view field);
nlohmann::json to_json(const Descriptor& d);
nlohmann::json to_json(const Platform& p);

// The media type a manifest-like document declares, or (when it has none, as OCI allows)
// the one its shape implies: `manifests` -> kOciIndex, `config` + `layers` -> kOciManifest.
// InvalidArgument when the bytes are not a JSON object or the shape is unknown.
base::Result<std::string> detect_media_type(std::string_view bytes);

}  // namespace mydocker::image::content
