// SPDX-License-Identifier: Apache-2.0
#include "image/digest/digest.h"

#include <openssl/evp.h>

namespace mydocker::image {
namespace {

bool is_lower_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

}  // namespace

base::Result<Digest> Digest::parse(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return base::make_error(base::ErrorCode::InvalidArgument, "invalid digest `{}`", text);
  }
  std::string_view algo = text.substr(0, colon);
  std::string_view hex = text.substr(colon + 1);
  if (algo != "sha256") {
    if (algo == "sha384" || algo == "sha512") {
      return base::make_error(base::ErrorCode::NotImplemented, "unsupported digest algorithm `{}`",
                              algo);
    }
    return base::make_error(base::ErrorCode::InvalidArgument, "invalid digest `{}`", text);
  }
  if (hex.size() != 64 || !is_lower_hex(hex)) {
    return base::make_error(base::ErrorCode::InvalidArgument, "invalid digest `{}`", text);
  }
  return Digest(std::string(text));
}

Digest Digest::from_sha256_hex(std::string hex) {
  return Digest("sha256:" + hex);
}

Digest Digest::sha256_of(std::string_view data) {
  Sha256 h;
  h.update(data);
  return h.finish();
}

std::string_view Digest::algorithm() const {
  std::string_view t(text_);
  return t.substr(0, t.find(':'));
}

std::string_view Digest::hex() const {
  std::string_view t(text_);
  size_t colon = t.find(':');
  return colon == std::string_view::npos ? t : t.substr(colon + 1);
}

ChainId chain_id(const ChainId& parent, const DiffId& diff) {
  if (parent.str().empty()) {
    return ChainId(diff.digest());
  }
  return ChainId(Digest::sha256_of(parent.str() + " " + diff.str()));
}

std::vector<ChainId> chain_ids(const std::vector<DiffId>& diffs) {
  std::vector<ChainId> out;
  ChainId cur;
  for (const DiffId& d : diffs) {
    cur = chain_id(cur, d);
    out.push_back(cur);
  }
  return out;
}

struct Sha256::Ctx {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  ~Ctx() { EVP_MD_CTX_free(md); }
};

Sha256::Sha256() : ctx_(std::make_unique<Ctx>()) {
  MYDOCKER_CHECK(ctx_->md != nullptr);
  MYDOCKER_CHECK(EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr) == 1);
}

Sha256::~Sha256() = default;

void Sha256::update(std::string_view data) {
  update(data.data(), data.size());
}

void Sha256::update(const void* data, size_t len) {
  MYDOCKER_CHECK(EVP_DigestUpdate(ctx_->md, data, len) == 1);
}

Digest Sha256::finish() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  MYDOCKER_CHECK(EVP_DigestFinal_ex(ctx_->md, out, &len) == 1);
  MYDOCKER_CHECK(EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr) == 1);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    hex.push_back(kHex[out[i] >> 4]);
    hex.push_back(kHex[out[i] & 0xf]);
  }
  return Digest::from_sha256_hex(std::move(hex));
}

}  // namespace mydocker::image
