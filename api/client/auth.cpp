// SPDX-License-Identifier: Apache-2.0
#include "api/client/auth.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include "runtime/base/file.h"

namespace mydocker::api::client {

namespace {

using ojson = nlohmann::ordered_json;

constexpr std::string_view kStd =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kUrl =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  if (c == '+' || c == '-') {
    return 62;
  }
  if (c == '/' || c == '_') {
    return 63;
  }
  return -1;
}

std::string str_field(const ojson& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

ojson AuthConfig::to_json() const {
  ojson j = ojson::object();
  auto put = [&](const char* k, const std::string& v) {
    if (!v.empty()) {
      j[k] = v;
    }
  };
  put("username", username);
  put("password", password);
  put("auth", auth);
  put("email", email);
  put("serveraddress", serveraddress);
  put("identitytoken", identitytoken);
  put("registrytoken", registrytoken);
  return j;
}

std::string base64_encode(std::string_view data, bool url) {
  std::string_view alphabet = url ? kUrl : kStd;
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    uint32_t v = (static_cast<uint32_t>(static_cast<unsigned char>(data[i])) << 16) |
                 (static_cast<uint32_t>(static_cast<unsigned char>(data[i + 1])) << 8) |
                 static_cast<uint32_t>(static_cast<unsigned char>(data[i + 2]));
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  size_t rest = data.size() - i;
  if (rest > 0) {
    uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(data[i])) << 16;
    if (rest == 2) {
      v |= static_cast<uint32_t>(static_cast<unsigned char>(data[i + 1])) << 8;
    }
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += rest == 2 ? alphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

base::Result<std::string> base64_decode(std::string_view text) {
  while (!text.empty() && text.back() == '=') {
    text.remove_suffix(1);
  }
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = b64_value(c);
    if (v < 0) {
      return base::make_error(base::ErrorCode::InvalidArgument, "invalid base64 data");
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

std::string encode_registry_auth(const AuthConfig& auth) {
  return base64_encode(auth.to_json().dump(), true);
}

std::string convert_to_hostname(std::string_view address) {
  if (address.starts_with("http://")) {
    address.remove_prefix(7);
  } else if (address.starts_with("https://")) {
    address.remove_prefix(8);
  }
  return std::string(address.substr(0, address.find('/')));
}

std::string auth_key_for_domain(std::string_view domain) {
  if (domain == "docker.io" || domain == "index.docker.io" || domain == "registry-1.docker.io") {
    return std::string(kIndexServer);
  }
  return std::string(domain);
}

std::string auth_key_for_server(std::string_view server) {
  if (server.empty() || server == kIndexServer) {
    return std::string(kIndexServer);
  }
  return auth_key_for_domain(convert_to_hostname(server));
}

base::Result<std::string> config_file_path(const GetEnv& getenv) {
  if (auto dir = getenv("DOCKER_CONFIG"); dir && !dir->empty()) {
    return *dir + "/config.json";
  }
  if (auto home = getenv("HOME"); home && !home->empty()) {
    return *home + "/.docker/config.json";
  }
  return base::make_error(base::ErrorCode::InvalidArgument,
                          "cannot find the docker config directory: neither DOCKER_CONFIG nor "
                          "HOME is set");
}

base::Result<ConfigFile> ConfigFile::load(std::string path) {
  if (!base::path_exists(path)) {
    return ConfigFile(std::move(path), ojson::object());
  }
  std::string text = MYDOCKER_TRY_CTX(base::read_file(path), "read config file `{}`", path);
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    return ConfigFile(std::move(path), ojson::object());
  }
  ojson doc = ojson::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return base::make_error(base::ErrorCode::InvalidArgument,
                            "config file `{}` is not a JSON object", path);
  }
  if (doc.contains("auths") && !doc["auths"].is_object() && !doc["auths"].is_null()) {
    return base::make_error(base::ErrorCode::InvalidArgument,
                            "config file `{}`: `auths` is not an object", path);
  }
  return ConfigFile(std::move(path), std::move(doc));
}

std::optional<AuthConfig> ConfigFile::get(std::string_view key) const {
  auto auths = doc_.find("auths");
  if (auths == doc_.end() || !auths->is_object()) {
    return std::nullopt;
  }
  const ojson* entry = nullptr;
  if (auto it = auths->find(std::string(key)); it != auths->end()) {
    entry = &*it;
  } else {
    for (auto it2 = auths->begin(); it2 != auths->end(); ++it2) {
      if (convert_to_hostname(it2.key()) == key) {
        entry = &it2.value();
        break;
      }
    }
  }
  if (entry == nullptr || !entry->is_object()) {
    return std::nullopt;
  }
  AuthConfig a;
  a.username = str_field(*entry, "username");
  a.password = str_field(*entry, "password");
  a.email = str_field(*entry, "email");
  a.identitytoken = str_field(*entry, "identitytoken");
  a.registrytoken = str_field(*entry, "registrytoken");
  if (std::string auth = str_field(*entry, "auth"); !auth.empty()) {
    auto up = base64_decode(auth);
    if (!up || up->find(':') == std::string::npos) {
      return std::nullopt;
    }
    a.username = up->substr(0, up->find(':'));
    a.password = up->substr(up->find(':') + 1);
  }
  a.serveraddress = std::string(key);
  return a;
}

std::string ConfigFile::helper_for(std::string_view key) const {
  auto helpers = doc_.find("credHelpers");
  if (helpers != doc_.end() && helpers->is_object()) {
    auto it = helpers->find(std::string(key));
    if (it == helpers->end() && key == kIndexServer) {
      it = helpers->find("docker.io");
    }
    if (it != helpers->end() && it->is_string() && !it->get<std::string>().empty()) {
      return it->get<std::string>();
    }
  }
  return str_field(doc_, "credsStore");
}

std::vector<std::string> ConfigFile::present(const std::vector<std::string>& keys) const {
  std::vector<std::string> out;
  auto auths = doc_.find("auths");
  if (auths == doc_.end() || !auths->is_object()) {
    return out;
  }
  for (const auto& k : keys) {
    if (auths->contains(k) && std::find(out.begin(), out.end(), k) == out.end()) {
      out.push_back(k);
    }
  }
  return out;
}

void ConfigFile::set(const std::string& key, const AuthConfig& auth) {
  if (!doc_.contains("auths") || !doc_["auths"].is_object()) {
    doc_["auths"] = ojson::object();
  }
  ojson entry = ojson::object();
  entry["auth"] = base64_encode(auth.username + ":" + auth.password);
  if (!auth.identitytoken.empty()) {
    entry["identitytoken"] = auth.identitytoken;
  }
  doc_["auths"][key] = std::move(entry);
}

bool ConfigFile::erase(const std::string& key) {
  auto auths = doc_.find("auths");
  if (auths == doc_.end() || !auths->is_object()) {
    return false;
  }
  return auths->erase(key) > 0;
}

base::Result<void> ConfigFile::save() const {
  std::string target = path_;
  std::error_code ec;
  if (std::filesystem::is_symlink(target, ec)) {
    auto real = std::filesystem::canonical(target, ec);
    if (!ec) {
      target = real.string();
    }
  }
  std::string dir = std::filesystem::path(target).parent_path().string();
  if (!dir.empty() && !base::path_exists(dir)) {
    MYDOCKER_TRY_CTX(base::mkdir_all(dir, 0700), "create config directory `{}`", dir);
  }
  ojson doc = doc_;
  if (!doc.contains("auths")) {
    // docker always writes the (possibly empty) auths map.
    ojson with = ojson::object();
    with["auths"] = ojson::object();
    for (auto it = doc.begin(); it != doc.end(); ++it) {
      with[it.key()] = it.value();
    }
    doc = std::move(with);
  }
  MYDOCKER_TRY_CTX(base::write_file_atomic(target, doc.dump(1, '\t'), 0600),
                   "write config file `{}`", target);
  return base::ok();
}

}  // namespace mydocker::api::client
