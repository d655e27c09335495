// SPDX-License-Identifier: Apache-2.0
#include "engine/names/names.h"

#include <gtest/gtest.h>

#include <set>

namespace mydocker::engine::names {
namespace {

TEST(NamesTest, IdsAre64HexAndNotNumericShortIds) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    std::string id = generate_id();
    ASSERT_EQ(id.size(), 64u);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_NE(id.substr(0, 12).find_first_not_of("0123456789"), std::string::npos);
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 200u);
}

TEST(NamesTest, RandomNamesAreValidAdjectiveSurname) {
  for (int i = 0; i < 100; ++i) {
    std::string n = random_name(i % 3);
    auto v = validate_name(n);
    ASSERT_TRUE(v.has_value()) << n;
    EXPECT_EQ(*v, "/" + n);
    EXPECT_NE(n.find('_'), std::string::npos);
  }
}

TEST(NamesTest, Validation) {
  for (const char* ok : {"tx-c1", "/tx-c1", "a1", "A.b_c-d", "0abc"}) {
    auto v = validate_name(ok);
    ASSERT_TRUE(v.has_value()) << ok;
    EXPECT_EQ(v->front(), '/');
  }
  for (const char* bad : {"a", "/a", "", "/", "_abc", ".abc", "-abc", "tx bad/name", "a/b", "é1"}) {
    auto v = validate_name(bad);
    ASSERT_FALSE(v.has_value()) << bad;
    EXPECT_EQ(v.error().code(), base::ErrorCode::InvalidArgument);
  }
  EXPECT_EQ(validate_name("tx bad/name").error().message(),
            "Invalid container name (tx bad/name), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
}

TEST(NamesTest, ConflictWording) {
  EXPECT_EQ(name_conflict_message("/tx-c1", "4850cc"),
            "Conflict. The container name \"/tx-c1\" is already in use by container \"4850cc\". "
            "You have to remove (or rename) that container to be able to reuse that name.");
}

TEST(NamesTest, ResolveByIdNameAndPrefix) {
  Index idx;
  std::string a(64, 'a');
  std::string b = "ab" + std::string(62, '1');
  std::string c = "1e46" + std::string(60, '0');
  std::string d = "1e47" + std::string(60, '0');
  idx.ids = {a, b, c, d};
  idx.names = {{"/web", a}, {"/db", b}, {"/" + std::string(64, 'b'), c}};
  EXPECT_EQ(*resolve(idx, a), a);
  EXPECT_EQ(*resolve(idx, "web"), a);
  EXPECT_EQ(*resolve(idx, "/db"), b);
  EXPECT_EQ(*resolve(idx, "aaaa"), a);
  EXPECT_EQ(*resolve(idx, "ab1"), b);
  EXPECT_EQ(*resolve(idx, "1e46"), c);
  // A name wins over an ID prefix.
  EXPECT_EQ(*resolve(idx, std::string(64, 'b')), c);
  auto amb = resolve(idx, "1");
  ASSERT_FALSE(amb.has_value());
  EXPECT_EQ(amb.error().code(), base::ErrorCode::Internal);
  EXPECT_EQ(amb.error().message(), "Multiple IDs found with provided prefix: 1");
  auto amb2 = resolve(idx, "a");
  ASSERT_FALSE(amb2.has_value());
  EXPECT_EQ(amb2.error().message(), "Multiple IDs found with provided prefix: a");
  for (const char* missing : {"tx-nosuch", "ff", "", "1e48"}) {
    auto r = resolve(idx, missing);
    ASSERT_FALSE(r.has_value()) << missing;
    EXPECT_EQ(r.error().code(), base::ErrorCode::NotFound);
    EXPECT_EQ(r.error().message(), std::string("No such container: ") + missing);
  }
}

}  // namespace
}  // namespace mydocker::engine::names
