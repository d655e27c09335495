// SPDX-License-Identifier: Apache-2.0
// api/client/auth.h: the docker config file the CLI shares with the real docker CLI, and the
// X-Registry-Auth encoding.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "api/client/auth.h"
#include "runtime/base/file.h"
#include "tests/support/busybox_rootfs.h"

namespace mydocker::api::client {
namespace {

using testing::TempDir;

mode_t mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

TEST(RegistryAuth, EncodesAsDockerDoes) {
  EXPECT_EQ(encode_registry_auth(AuthConfig{}), "e30=");
  AuthConfig a;
  a.username = "txuser";
  a.password = "txpass";
  a.serveraddress = "127.0.0.1:42655";
  // The value the docker CLI sent in transcript 215.
  EXPECT_EQ(encode_registry_auth(a),
            "eyJ1c2VybmFtZSI6InR4dXNlciIsInBhc3N3b3JkIjoidHhwYXNzIiwic2VydmVyYWRkcmVzcyI6IjEyNy4w"
            "LjAuMTo0MjY1NSJ9");
  EXPECT_EQ(base64_encode("\xfb\xff", true), "-_8=");
  EXPECT_EQ(base64_encode("\xfb\xff"), "+/8=");
  EXPECT_EQ(*base64_decode("-_8="), "\xfb\xff");
  EXPECT_EQ(*base64_decode("+/8"), "\xfb\xff");
  EXPECT_EQ(*base64_decode(base64_encode("user:pa:ss")), "user:pa:ss");
  EXPECT_FALSE(base64_decode("a*b="));
}

TEST(RegistryAuth, KeysFollowDocker) {
  EXPECT_EQ(auth_key_for_domain("docker.io"), "https://index.docker.io/v1/");
  EXPECT_EQ(auth_key_for_domain("localhost:5000"), "localhost:5000");
  EXPECT_EQ(auth_key_for_server(""), "https://index.docker.io/v1/");
  EXPECT_EQ(auth_key_for_server("docker.io"), "https://index.docker.io/v1/");
  EXPECT_EQ(auth_key_for_server("https://index.docker.io/v1/"), "https://index.docker.io/v1/");
  EXPECT_EQ(auth_key_for_server("http://127.0.0.1:5000/v2/"), "127.0.0.1:5000");
  EXPECT_EQ(convert_to_hostname("https://r.example.com/x"), "r.example.com");
  auto env = [](std::map<std::string, std::string> m) {
    return [m](const char* n) -> std::optional<std::string> {
      auto it = m.find(n);
      return it == m.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
  };
  EXPECT_EQ(*config_file_path(env({{"DOCKER_CONFIG", "/d"}, {"HOME", "/h"}})), "/d/config.json");
  EXPECT_EQ(*config_file_path(env({{"HOME", "/h"}})), "/h/.docker/config.json");
  EXPECT_FALSE(config_file_path(env({})));
}

TEST(ConfigFile, MissingFileIsEmptyAndSaveMakesA0600FileInA0700Dir) {
  TempDir tmp;
  std::string path = tmp.path() + "/cfg/config.json";
  auto cfg = ConfigFile::load(path);
  ASSERT_TRUE(cfg) << cfg.error().to_string();
  EXPECT_FALSE(cfg->get("localhost:5000"));
  AuthConfig a;
  a.username = "u";
  a.password = "p:w";
  cfg->set(auth_key_for_domain("docker.io"), a);
  ASSERT_TRUE(cfg->save());
  EXPECT_EQ(mode_of(path), 0600u);
  EXPECT_EQ(mode_of(tmp.path() + "/cfg"), 0700u);
  EXPECT_EQ(*base::read_file(path),
            "{\n\t\"auths\": {\n\t\t\"https://index.docker.io/v1/\": {\n\t\t\t\"auth\": "
            "\"dTpwOnc=\"\n\t\t}\n\t}\n}");
  auto back = ConfigFile::load(path);
  ASSERT_TRUE(back);
  auto got = back->get("https://index.docker.io/v1/");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->username, "u");
  EXPECT_EQ(got->password, "p:w");
  EXPECT_EQ(got->serveraddress, "https://index.docker.io/v1/");
}

TEST(ConfigFile, KeepsWhatItDoesNotManageInItsOrder) {
  TempDir tmp;
  std::string path = tmp.path() + "/config.json";
  ASSERT_TRUE(base::write_file_atomic(path, R"({
  "proxies": {"default": {"httpProxy": "http://p:3128"}},
  "auths": {"other:1": {"auth": "YTpi", "email": "x@y"}, "gone:2": {"auth": "YTpi"}},
  "currentContext": "ctx",
  "plugins": {"x": {"k": "v"}}
})",
                                      0644));
  auto cfg = ConfigFile::load(path);
  ASSERT_TRUE(cfg) << cfg.error().to_string();
  AuthConfig a;
  a.username = "me";
  a.password = "pw";
  cfg->set("localhost:5000", a);
  EXPECT_TRUE(cfg->erase("gone:2"));
  EXPECT_FALSE(cfg->erase("gone:2"));
  ASSERT_TRUE(cfg->save());
  EXPECT_EQ(mode_of(path), 0600u);
  auto doc = nlohmann::ordered_json::parse(*base::read_file(path));
  std::vector<std::string> keys;
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    keys.push_back(it.key());
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"proxies", "auths", "currentContext", "plugins"}));
  EXPECT_EQ(doc["proxies"]["default"]["httpProxy"], "http://p:3128");
  EXPECT_EQ(doc["plugins"]["x"]["k"], "v");
  EXPECT_EQ(doc["auths"]["other:1"]["email"], "x@y");
  EXPECT_EQ(doc["auths"]["localhost:5000"],
            nlohmann::ordered_json::parse(R"({"auth":"bWU6cHc="})"));
  EXPECT_FALSE(doc["auths"].contains("gone:2"));
}

TEST(ConfigFile, LegacyKeysWithASchemeStillMatch) {
  TempDir tmp;
  std::string path = tmp.path() + "/config.json";
  ASSERT_TRUE(base::write_file_atomic(
      path,
      R"({"auths": {"http://localhost:5000/v2/": {"auth": "YTpi"}, "bad:1": {"auth": "!!"}}})",
      0600));
  auto cfg = ConfigFile::load(path);
  ASSERT_TRUE(cfg);
  auto a = cfg->get("localhost:5000");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->username, "a");
  EXPECT_EQ(a->password, "b");
  EXPECT_FALSE(cfg->get("bad:1"));
  EXPECT_EQ(cfg->present({"localhost:5000", "http://localhost:5000/v2/"}),
            std::vector<std::string>{"http://localhost:5000/v2/"});
}

TEST(ConfigFile, NamesTheCredentialHelperForAServer) {
  TempDir tmp;
  std::string path = tmp.path() + "/config.json";
  ASSERT_TRUE(
      base::write_file_atomic(path, R"({"credHelpers": {"gcr.io": "gcloud"}, "auths": {}})", 0600));
  auto cfg = ConfigFile::load(path);
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->helper_for("gcr.io"), "gcloud");
  EXPECT_EQ(cfg->helper_for("localhost:5000"), "");
  ASSERT_TRUE(base::write_file_atomic(path, R"({"credsStore": "desktop"})", 0600));
  cfg = ConfigFile::load(path);
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->helper_for("localhost:5000"), "desktop");
}

TEST(ConfigFile, ABrokenFileIsAnErrorAndLeftAlone) {
  TempDir tmp;
  std::string path = tmp.path() + "/config.json";
  ASSERT_TRUE(base::write_file_atomic(path, "{not json", 0600));
  EXPECT_FALSE(ConfigFile::load(path));
  ASSERT_TRUE(base::write_file_atomic(path, R"({"auths": []})", 0600));
  EXPECT_FALSE(ConfigFile::load(path));
  EXPECT_EQ(*base::read_file(path), R"({"auths": []})");
}

}  // namespace
}  // namespace mydocker::api::client
