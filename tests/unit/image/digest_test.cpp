// SPDX-License-Identifier: Apache-2.0
#include "image/digest/digest.h"

#include <gtest/gtest.h>

namespace mydocker::image {
namespace {

TEST(DigestTest, Sha256OfKnownInputs) {
  EXPECT_EQ(Digest::sha256_of("").str(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Sha256 h;
  h.update("ab");
  h.update("c");
  EXPECT_EQ(h.finish().str(),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(DigestTest, ParseAcceptsAndRejects) {
  const std::string good =
      "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  auto d = Digest::parse(good);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->hex().size(), 64u);
  EXPECT_EQ(d->short_id(), "e3b0c44298fc");
  struct Bad {
    std::string text;
    base::ErrorCode code;
  };
  for (const Bad& bad : std::vector<Bad>{
           {"", base::ErrorCode::InvalidArgument},
           {"sha256:", base::ErrorCode::InvalidArgument},
           {"sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
            base::ErrorCode::InvalidArgument},
           {"sha256:e3b0", base::ErrorCode::InvalidArgument},
           {"md5:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            base::ErrorCode::InvalidArgument},
           {"sha512:" + std::string(128, 'a'), base::ErrorCode::NotImplemented},
       }) {
    auto r = Digest::parse(bad.text);
    ASSERT_FALSE(r) << bad.text;
    EXPECT_EQ(r.error().code(), bad.code) << bad.text;
  }
}

TEST(DigestTest, ChainIdsFollowTheOciFormula) {
  DiffId a(Digest::sha256_of("layer-a"));
  DiffId b(Digest::sha256_of("layer-b"));
  auto ids = chain_ids({a, b});
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids[0].str(), a.str());
  EXPECT_EQ(ids[1].str(), Digest::sha256_of(a.str() + " " + b.str()).str());
}

}  // namespace
}  // namespace mydocker::image
