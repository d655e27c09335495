// SPDX-License-Identifier: Apache-2.0
#include "image/reference/reference.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mydocker::image::reference {
namespace {

const std::string kHex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const std::string kDigest = "sha256:" + kHex;

struct Valid {
  std::string input;
  std::string domain;
  std::string path;
  std::string tag;
  std::string digest;
  std::string str;
  std::string familiar;
};

TEST(ReferenceTest, ValidTable) {
  const std::vector<Valid> cases = {
      {"ubuntu", "docker.io", "library/ubuntu", "", "", "docker.io/library/ubuntu", "ubuntu"},
      {"ubuntu:14.04", "docker.io", "library/ubuntu", "14.04", "", "docker.io/library/ubuntu:14.04",
       "ubuntu:14.04"},
      {"docker.io/library/ubuntu:14.04", "docker.io", "library/ubuntu", "14.04", "",
       "docker.io/library/ubuntu:14.04", "ubuntu:14.04"},
      {"index.docker.io/ubuntu", "docker.io", "library/ubuntu", "", "", "docker.io/library/ubuntu",
       "ubuntu"},
      {"library/ubuntu", "docker.io", "library/ubuntu", "", "", "docker.io/library/ubuntu",
       "ubuntu"},
      {"docker.io/library/a/b", "docker.io", "library/a/b", "", "", "docker.io/library/a/b",
       "library/a/b"},
      {"foo/bar", "docker.io", "foo/bar", "", "", "docker.io/foo/bar", "foo/bar"},
      {"localhost/foo", "localhost", "foo", "", "", "localhost/foo", "localhost/foo"},
      {"localhost:5000/foo/bar:v1", "localhost:5000", "foo/bar", "v1", "",
       "localhost:5000/foo/bar:v1", "localhost:5000/foo/bar:v1"},
      // Without a slash, "localhost:5000" is the name `localhost` with tag `5000`.
      {"localhost:5000", "docker.io", "library/localhost", "5000", "",
       "docker.io/library/localhost:5000", "localhost:5000"},
      {"example.com:8080/a/b/c", "example.com:8080", "a/b/c", "", "", "example.com:8080/a/b/c",
       "example.com:8080/a/b/c"},
      {"my-registry.example.com/team/app:1.2.3", "my-registry.example.com", "team/app", "1.2.3", "",
       "my-registry.example.com/team/app:1.2.3", "my-registry.example.com/team/app:1.2.3"},
      {"[::1]:5000/foo", "[::1]:5000", "foo", "", "", "[::1]:5000/foo", "[::1]:5000/foo"},
      {"[2001:db8::1]/foo:tag", "[2001:db8::1]", "foo", "tag", "", "[2001:db8::1]/foo:tag",
       "[2001:db8::1]/foo:tag"},
      // An upper-case first component is taken as a domain, as Docker does.
      {"Example/bar", "Example", "bar", "", "", "Example/bar", "Example/bar"},
      {"foo_bar", "docker.io", "library/foo_bar", "", "", "docker.io/library/foo_bar", "foo_bar"},
      {"foo__bar.baz---qux", "docker.io", "library/foo__bar.baz---qux", "", "",
       "docker.io/library/foo__bar.baz---qux", "foo__bar.baz---qux"},
      {"ubuntu:Latest_1.0-x", "docker.io", "library/ubuntu", "Latest_1.0-x", "",
       "docker.io/library/ubuntu:Latest_1.0-x", "ubuntu:Latest_1.0-x"},
      {"ubuntu:_x", "docker.io", "library/ubuntu", "_x", "", "docker.io/library/ubuntu:_x",
       "ubuntu:_x"},
      {"ubuntu:" + std::string(128, 't'), "docker.io", "library/ubuntu", std::string(128, 't'), "",
       "docker.io/library/ubuntu:" + std::string(128, 't'), "ubuntu:" + std::string(128, 't')},
      {"ubuntu@" + kDigest, "docker.io", "library/ubuntu", "", kDigest,
       "docker.io/library/ubuntu@" + kDigest, "ubuntu@" + kDigest},
      {"ubuntu:14.04@" + kDigest, "docker.io", "library/ubuntu", "14.04", kDigest,
       "docker.io/library/ubuntu:14.04@" + kDigest, "ubuntu:14.04@" + kDigest},
      {"localhost:5000/x@" + kDigest, "localhost:5000", "x", "", kDigest,
       "localhost:5000/x@" + kDigest, "localhost:5000/x@" + kDigest},
      // "sha256:<hex>" alone is a name with a (64-character) tag, exactly as in Docker.
      {kDigest, "docker.io", "library/sha256", kHex, "", "docker.io/library/sha256:" + kHex,
       "sha256:" + kHex},
      // 255 characters of normalised name is the limit (docker.io/library/ is 18).
      {std::string(237, 'a'), "docker.io", "library/" + std::string(237, 'a'), "", "",
       "docker.io/library/" + std::string(237, 'a'), std::string(237, 'a')},
  };
  for (const Valid& c : cases) {
    SCOPED_TRACE(c.input);
    auto r = Reference::parse(c.input);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(r->domain(), c.domain);
    EXPECT_EQ(r->path(), c.path);
    EXPECT_EQ(r->tag(), c.tag);
    EXPECT_EQ(r->digest(), c.digest);
    EXPECT_EQ(r->str(), c.str);
    EXPECT_EQ(r->familiar(), c.familiar);
    // Parsing the normalised and the familiar form gives the same reference back.
    auto again = Reference::parse(r->str());
    ASSERT_TRUE(again) << again.error().to_string();
    EXPECT_EQ(*again, *r);
    auto fam = Reference::parse(r->familiar());
    ASSERT_TRUE(fam) << fam.error().to_string();
    EXPECT_EQ(fam->str(), r->str());
  }
}

struct Invalid {
  std::string input;
  std::string message;
};

TEST(ReferenceTest, InvalidTable) {
  const std::string fmt = "invalid reference format";
  const std::string upper = "invalid reference format: repository name must be lowercase";
  const std::vector<Invalid> cases = {
      {"", fmt},
      {"Ubuntu", upper},
      {"ubuntU:latest", upper},
      {"library/Ubuntu", upper},
      {"example.com/Foo", upper},
      {"[::1]:5000/Foo", upper},
      {"ubuntu:", fmt},
      {":tag", fmt},
      {"ubuntu:-bad", fmt},
      {"ubuntu:.bad", fmt},
      {"ubuntu:" + std::string(129, 't'), fmt},
      {"ubuntu:a:b", fmt},
      {"ubuntu:t@g", fmt},
      {"foo//bar", fmt},
      {"foo/", fmt},
      {"/foo", fmt},
      {"-foo", fmt},
      {"foo-", fmt},
      {"foo..bar", fmt},
      {"foo___bar", fmt},
      {"foo-_bar", fmt},
      {"foo bar", fmt},
      {"foo/bar:tag:tag2", fmt},
      {"localhost:port/foo", fmt},
      {"exa_mple.com:5000/foo", fmt},
      {"[zz::1]:5000/foo", fmt},
      {"@" + kDigest, fmt},
      {"ubuntu@", fmt},
      {"ubuntu@sha256:abc", fmt},
      {"ubuntu@@" + kDigest, fmt},
      {"ubuntu@" + kDigest + "@" + kDigest, fmt},
      {"ubuntu@sha256:" + std::string(40, 'a'), "invalid checksum digest length"},
      {"ubuntu@sha256:" + std::string(64, 'A'), "invalid checksum digest format"},
      {"ubuntu@md5:" + std::string(32, 'a'), "unsupported digest algorithm"},
      {"ubuntu:1@sha512:" + std::string(64, 'a'), "invalid checksum digest length"},
      {std::string(238, 'a'), "repository name must not be more than 255 characters"},
      {"a/" + std::string(254, 'b'), "repository name must not be more than 255 characters"},
      {kHex, "invalid repository name (" + kHex + "), cannot specify 64-byte hexadecimal strings"},
  };
  for (const Invalid& c : cases) {
    SCOPED_TRACE(c.input);
    auto r = Reference::parse(c.input);
    ASSERT_FALSE(r) << r->str();
    EXPECT_EQ(r.error().code(), base::ErrorCode::InvalidArgument);
    EXPECT_EQ(r.error().message(), c.message);
  }
}

TEST(ReferenceTest, DefaultTagOnlyWithoutDigest) {
  auto plain = Reference::parse("busybox");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->with_default_tag().familiar(), "busybox:latest");
  EXPECT_EQ(plain->with_default_tag().str(), "docker.io/library/busybox:latest");
  auto digested = Reference::parse("busybox@" + kDigest);
  ASSERT_TRUE(digested);
  EXPECT_EQ(digested->with_default_tag().familiar(), "busybox@" + kDigest);
  auto tagged = Reference::parse("busybox:1");
  ASSERT_TRUE(tagged);
  EXPECT_EQ(tagged->with_default_tag().tag(), "1");
}

TEST(ReferenceTest, WithTagDigestAndParts) {
  auto r = Reference::parse("localhost:5000/app:1@" + kDigest);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->name(), "localhost:5000/app");
  EXPECT_EQ(r->familiar_name(), "localhost:5000/app");
  EXPECT_EQ(r->name_only().str(), "localhost:5000/app");
  auto t = r->with_tag("2");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->str(), "localhost:5000/app:2");
  auto bad_tag = r->with_tag("-x");
  ASSERT_FALSE(bad_tag);
  EXPECT_EQ(bad_tag.error().message(), "invalid tag format");
  auto d = r->with_digest(kDigest);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->str(), "localhost:5000/app@" + kDigest);
  EXPECT_FALSE(r->with_digest("sha256:00"));

  auto p = Reference::from_parts("tx-busybox", "t1", "");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->familiar(), "tx-busybox:t1");
  auto upper = Reference::from_parts("TX-Upper", "t1", "");
  ASSERT_FALSE(upper);
  EXPECT_EQ(upper.error().message(), "invalid reference format: repository name must be lowercase");
  EXPECT_FALSE(Reference::from_parts("a:b", "c", ""));
  EXPECT_FALSE(Reference::from_parts("a", "", "sha256:1"));
}

TEST(ReferenceTest, ValidatorsAlone) {
  EXPECT_TRUE(valid_tag("latest"));
  EXPECT_TRUE(valid_tag("A_b.c-D"));
  EXPECT_FALSE(valid_tag(""));
  EXPECT_FALSE(valid_tag(".x"));
  EXPECT_FALSE(valid_tag(std::string(129, 'a')));
  EXPECT_TRUE(validate_digest(kDigest));
  EXPECT_TRUE(validate_digest("sha512:" + std::string(128, 'f')));
  EXPECT_FALSE(validate_digest("sha256"));
  EXPECT_FALSE(validate_digest(":" + kHex));
  EXPECT_TRUE(is_full_hex_id(kHex));
  EXPECT_FALSE(is_full_hex_id(kHex.substr(1)));
  EXPECT_FALSE(is_full_hex_id(std::string(64, 'A')));
}

TEST(ReferenceTest, FamiliarMatchTriesStringThenName) {
  auto r = Reference::parse("busybox:latest");
  ASSERT_TRUE(r);
  EXPECT_TRUE(*familiar_match("busy*", *r));  // matches the name
  EXPECT_TRUE(*familiar_match("busy*:*", *r));
  EXPECT_TRUE(*familiar_match("busybox:latest", *r));
  EXPECT_FALSE(*familiar_match("busybox:1*", *r));
  EXPECT_FALSE(*familiar_match("library/*", *r));
  auto reg = Reference::parse("localhost:5000/team/app:v1");
  ASSERT_TRUE(reg);
  EXPECT_FALSE(*familiar_match("team/*", *reg));
  EXPECT_TRUE(*familiar_match("localhost:5000/team/*", *reg));
  EXPECT_TRUE(*familiar_match("*/*/app:v?", *reg));
}

// Deterministic random strings over the grammar's alphabet: whatever parses must print back to
// itself, in both the normalised and the familiar form; nothing may crash.
TEST(ReferenceTest, RandomInputsRoundTrip) {
  const std::string alphabet = "abAZ09._-:/@[]";
  uint32_t state = 12345;
  auto next = [&] {
    state = state * 1103515245u + 12345u;
    return (state >> 16) & 0x7fff;
  };
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    size_t len = next() % 24;
    for (size_t j = 0; j < len; ++j) {
      s += alphabet[next() % alphabet.size()];
    }
    if (next() % 4 == 0) {
      s += "@" + kDigest;
    }
    auto r = Reference::parse(s);
    if (!r) {
      EXPECT_EQ(r.error().code(), base::ErrorCode::InvalidArgument) << s;
      continue;
    }
    ++parsed;
    auto again = Reference::parse(r->str());
    ASSERT_TRUE(again) << s << " -> " << r->str();
    EXPECT_EQ(*again, *r) << s;
    auto fam = Reference::parse(r->familiar());
    ASSERT_TRUE(fam) << s << " -> " << r->familiar();
    EXPECT_EQ(fam->str(), r->str()) << s;
  }
  EXPECT_GT(parsed, 100);
}

}  // namespace
}  // namespace mydocker::image::reference
