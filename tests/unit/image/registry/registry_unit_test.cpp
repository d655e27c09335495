// SPDX-License-Identifier: Apache-2.0
// Parsing without a network: WWW-Authenticate challenges, Docker config.json credentials, token
// responses and their cache, registry error bodies, insecure-registry matching, platform
// choice in a manifest list / OCI index.
#include <gtest/gtest.h>

#include "image/registry/auth.h"
#include "image/registry/client.h"
#include "image/registry/platform.h"

namespace mydocker::image::registry {
namespace {

using base::ErrorCode;

TEST(Challenge, BearerWithQuotedParamsAndCommasInScope) {
  auto r = parse_challenges(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",)"
      R"(scope="repository:library/ubuntu:pull,push")");
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ(r->at(0).scheme, "bearer");
  EXPECT_EQ(r->at(0).param("realm"), "https://auth.docker.io/token");
  EXPECT_EQ(r->at(0).param("service"), "registry.docker.io");
  EXPECT_EQ(r->at(0).param("scope"), "repository:library/ubuntu:pull,push");
}

TEST(Challenge, BasicAndSeveralChallengesAndCaseAndSpacing) {
  auto r = parse_challenges(R"(basic REALM="Registry Realm" ,  Bearer realm="http://h/t", x=1)");
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ(r->at(0).scheme, "basic");
  EXPECT_EQ(r->at(0).param("realm"), "Registry Realm");
  EXPECT_EQ(r->at(1).scheme, "bearer");
  EXPECT_EQ(r->at(1).param("realm"), "http://h/t");
  EXPECT_EQ(r->at(1).param("x"), "1");
  auto escaped = parse_challenges(R"(Basic realm="a \"quoted\" realm")");
  ASSERT_TRUE(escaped);
  EXPECT_EQ(escaped->at(0).param("realm"), "a \"quoted\" realm");
}

TEST(Challenge, MalformedHeadersAreClearErrors) {
  struct Case {
    const char* header;
    const char* why;
  };
  for (const Case& c : {
           Case{"", "empty header"},
           Case{"Bearer realm=", "missing value for `realm`"},
           Case{R"(Bearer realm="https://x/token)", "unterminated quoted value for `realm`"},
           Case{R"(Bearer service="s")", "bearer challenge without `realm`"},
           Case{R"(Bearer realm="ftp://x/token")",
                "bearer realm `ftp://x/token` is not an http(s) URL"},
           Case{R"(Bearer realm="https://a" service="b")", "expected `,` after `realm`"},
           Case{R"(Bearer realm="https://a",=x)", "unexpected `=`"},
       }) {
    auto r = parse_challenges(c.header);
    ASSERT_FALSE(r) << c.header;
    EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
    EXPECT_NE(r.error().message().find(c.why), std::string::npos)
        << c.header << " -> " << r.error().message();
    EXPECT_TRUE(r.error().message().starts_with("malformed WWW-Authenticate header"));
  }
}

TEST(Base64, RoundTripsAndAcceptsUrlSafe) {
  for (const std::string& s : std::vector<std::string>{
           "", "a", "ab", "abc", "abcd", "user:p@ss:word", std::string("\xff\xfe\x00", 3)}) {
    auto d = base64_decode(base64_encode(s));
    ASSERT_TRUE(d);
    EXPECT_EQ(*d, s);
  }
  EXPECT_EQ(base64_encode("alice:s3cret"), "YWxpY2U6czNjcmV0");
  EXPECT_EQ(*base64_decode("-_8"), "\xfb\xff");
  EXPECT_FALSE(base64_decode("a*b"));
}

TEST(AuthConfigs, ParsesDockerConfigJson) {
  auto r = AuthConfigs::parse(R"({
    "auths": {
      "https://index.docker.io/v1/": {"auth": "YWxpY2U6czNjcmV0"},
      "localhost:5000": {"auth": "Ym9iOnB3OndpdGg6Y29sb25z"},
      "http://reg.example.com:8443/v2/": {"username": "carol", "password": "x"},
      "ghcr.io": {"identitytoken": "refresh-me"}
    },
    "credsStore": "desktop"
  })");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->size(), 4u);
  auto hub = r->find("docker.io");
  ASSERT_TRUE(hub);
  EXPECT_EQ(hub->username, "alice");
  EXPECT_EQ(hub->password, "s3cret");
  EXPECT_TRUE(r->find("index.docker.io"));
  auto local = r->find("localhost:5000");
  ASSERT_TRUE(local);
  EXPECT_EQ(local->username, "bob");
  EXPECT_EQ(local->password, "pw:with:colons");
  auto ex = r->find("reg.example.com:8443");
  ASSERT_TRUE(ex);
  EXPECT_EQ(ex->username, "carol");
  EXPECT_EQ(r->find("ghcr.io")->identity_token, "refresh-me");
  EXPECT_FALSE(r->find("localhost:5001"));

  // Serialised back: Docker Hub under its historical key, other keys of the file kept.
  std::string out = r->serialize(R"({"credsStore":"desktop"})");
  auto again = AuthConfigs::parse(out);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->find("docker.io")->password, "s3cret");
  EXPECT_NE(out.find("https://index.docker.io/v1/"), std::string::npos);
  EXPECT_NE(out.find("credsStore"), std::string::npos);
}

TEST(AuthConfigs, BadFilesAreErrorsAndAMissingFileIsEmpty) {
  EXPECT_FALSE(AuthConfigs::parse("not json"));
  EXPECT_FALSE(AuthConfigs::parse(R"({"auths": []})"));
  auto bad64 = AuthConfigs::parse(R"({"auths": {"h": {"auth": "!!!"}}})");
  ASSERT_FALSE(bad64);
  EXPECT_NE(bad64.error().message().find("`auths.h.auth`"), std::string::npos);
  auto nocolon = AuthConfigs::parse(R"({"auths": {"h": {"auth": "YWxpY2U="}}})");
  ASSERT_FALSE(nocolon);
  EXPECT_NE(nocolon.error().message().find("not `user:password`"), std::string::npos);
  auto missing = AuthConfigs::load("/nonexistent/config.json");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->size(), 0u);
  EXPECT_EQ(normalize_registry_host("https://Registry-1.docker.io/v2/"), "docker.io");
}

TEST(Token, ResponseFieldsAndCacheExpiry) {
  auto now = std::chrono::steady_clock::now();
  auto t = parse_token_response(R"({"token":"abc","expires_in":300})", now);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->value, "abc");
  EXPECT_EQ(t->expires, now + std::chrono::seconds(300));
  auto oauth = parse_token_response(R"({"access_token":"xyz","expires_in":5})", now);
  ASSERT_TRUE(oauth);
  EXPECT_EQ(oauth->value, "xyz");
  EXPECT_EQ(oauth->expires, now + std::chrono::seconds(60));  // Docker's minimum
  auto none = parse_token_response(R"({"expires_in":5})", now);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message(), "authorization server did not include a token in the response");

  TokenCache cache;
  std::string k = TokenCache::key("https://r/t", "svc", "repository:a:pull");
  cache.put(k, *t);
  EXPECT_EQ(cache.get(k, now).value_or(""), "abc");
  EXPECT_FALSE(cache.get(TokenCache::key("https://r/t", "svc", "repository:b:pull"), now));
  EXPECT_FALSE(cache.get(k, now + std::chrono::seconds(295)));  // about to expire: renew
}

TEST(RegistryErrors, DockersWording) {
  EXPECT_EQ(
      registry_error_text(
          R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{}}]})"),
      "manifest unknown: manifest unknown");
  EXPECT_EQ(
      registry_error_text(
          R"({"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]})"),
      "denied: requested access to the resource is denied");
  EXPECT_EQ(registry_error_text("<html>"), "");
}

TEST(Insecure, LoopbackListedHostsAndCidrs) {
  EXPECT_TRUE(is_insecure_host("localhost:5000", {}));
  EXPECT_TRUE(is_insecure_host("127.0.0.1:5000", {}));
  EXPECT_FALSE(is_insecure_host("127.0.0.1:5000", {}, /*loopback=*/false));
  EXPECT_FALSE(is_insecure_host("registry.example.com", {}));
  EXPECT_TRUE(is_insecure_host("registry.example.com:5000", {"registry.example.com:5000"}));
  EXPECT_FALSE(is_insecure_host("registry.example.com:5001", {"registry.example.com:5000"}));
  EXPECT_TRUE(is_insecure_host("10.1.2.3:5000", {"10.0.0.0/8"}));
  EXPECT_FALSE(is_insecure_host("11.1.2.3:5000", {"10.0.0.0/8"}));
}

content::Index index_of(const std::string& json) {
  auto r = content::Index::parse(json);
  EXPECT_TRUE(r) << r.error().to_string();
  return *r;
}

std::string entry(char hex, const std::string& arch, const std::string& variant,
                  const std::string& extra = "") {
  std::string platform = R"("platform":{"architecture":")" + arch + R"(","os":"linux")" +
                         (variant.empty() ? "" : R"(,"variant":")" + variant + "\"") + "}";
  return R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:)" +
         std::string(64, hex) + R"(","size":10,)" + platform + extra + "}";
}

TEST(Platform, ParseAndNormalise) {
  EXPECT_EQ(parse_platform("linux/amd64")->str(), "linux/amd64");
  EXPECT_EQ(parse_platform("Linux/X86_64")->str(), "linux/amd64");
  EXPECT_EQ(parse_platform("linux/aarch64")->str(), "linux/arm64");
  EXPECT_EQ(parse_platform("linux/arm64/8")->str(), "linux/arm64/v8");
  EXPECT_EQ(parse_platform("arm")->str(), "linux/arm");
  EXPECT_FALSE(parse_platform("linux//amd64"));
  EXPECT_FALSE(parse_platform("a/b/c/d"));
}

TEST(Platform, SelectsFromAnIndex) {
  auto idx =
      index_of(R"({"schemaVersion":2,"manifests":[)" + entry('a', "arm", "v6") + "," +
               entry('b', "arm", "v7") + "," + entry('c', "arm64", "v8") + "," +
               entry('d', "amd64", "") + "," +
               entry('e', "unknown", "",
                     R"(,"annotations":{"vnd.docker.reference.type":"attestation-manifest"})") +
               "]}");
  auto pick = [&](const std::string& p) {
    auto d = select_platform(idx, *parse_platform(p));
    EXPECT_TRUE(d) << p;
    return d ? std::string(1, d->digest.hex()[0]) : std::string();
  };
  EXPECT_EQ(pick("linux/amd64"), "d");
  EXPECT_EQ(pick("linux/arm64"), "c");
  EXPECT_EQ(pick("linux/arm"), "b");  // arm means v7
  EXPECT_EQ(pick("linux/arm/v6"), "a");
  auto none = select_platform(idx, *parse_platform("linux/s390x"));
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), ErrorCode::NotFound);
  EXPECT_EQ(none.error().message(),
            "no matching manifest for linux/s390x in the manifest list entries");
  // A single entry without a platform is taken; the attestation never is.
  auto single = index_of(
      R"({"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:)" +
      std::string(64, 'f') + R"(","size":1}]})");
  EXPECT_TRUE(select_platform(single, *parse_platform("linux/amd64")));
}

}  // namespace
}  // namespace mydocker::image::registry
