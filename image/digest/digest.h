// SPDX-License-Identifier: Apache-2.0
// Content digests ("sha256:<64 hex>") and streaming SHA-256 (OpenSSL EVP).
//
// Typed IDs keep the kinds apart (moby's layer.DiffID vs layer.ChainID): a DiffId (digest of
// an uncompressed layer tar) cannot be passed where a ChainId is expected. All share the
// Digest representation and parse rules.
#pragma once

#include <compare>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/error.h"

namespace mydocker::image {

class Digest {
 public:
  Digest() = default;
  // Accepts "sha256:<64 lower-case hex>" (other algorithms: NotImplemented; malformed:
  // InvalidArgument "invalid digest `...`").
  static base::Result<Digest> parse(std::string_view text);
  static Digest from_sha256_hex(std::string hex);  // caller guarantees 64 lower hex
  static Digest sha256_of(std::string_view data);

  const std::string& str() const { return text_; }                   // "sha256:abc..."
  std::string_view algorithm() const;                                // "sha256"
  std::string_view hex() const;                                      // "abc..."
  std::string_view short_id() const { return hex().substr(0, 12); }  // as docker prints IDs
  bool empty() const { return text_.empty(); }

  auto operator<=>(const Digest&) const = default;

 private:
  explicit Digest(std::string text) : text_(std::move(text)) {}
  std::string text_;
};

// Distinct kinds sharing the representation.
template <typename Tag>
class TypedDigest {
 public:
  TypedDigest() = default;
  explicit TypedDigest(Digest d) : d_(std::move(d)) {}
  static base::Result<TypedDigest> parse(std::string_view text) {
    return TypedDigest(MYDOCKER_TRY(Digest::parse(text)));
  }
  const Digest& digest() const { return d_; }
  const std::string& str() const { return d_.str(); }
  std::string_view hex() const { return d_.hex(); }
  auto operator<=>(const TypedDigest&) const = default;

 private:
  Digest d_;
};

using DiffId = TypedDigest<struct DiffIdTag>;    // sha256 of an uncompressed layer tar
using ChainId = TypedDigest<struct ChainIdTag>;  // OCI image spec chain ID of a layer stack
using ImageId = TypedDigest<struct ImageIdTag>;  // = config digest, as Docker

// ChainID(L0) = DiffID(L0); ChainID(L0..n) = sha256(ChainID(L0..n-1) + " " + DiffID(Ln)).
ChainId chain_id(const ChainId& parent, const DiffId& diff);
std::vector<ChainId> chain_ids(const std::vector<DiffId>& diffs);

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view data);
  void update(const void* data, size_t len);
  Digest finish();  // resets for reuse

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

}  // namespace mydocker::image
