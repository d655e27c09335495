// SPDX-License-Identifier: Apache-2.0
// Registry credentials as the docker CLI keeps them: the config file
// ($DOCKER_CONFIG/config.json, else ~/.docker/config.json) with
//   {"auths": {"<server>": {"auth": base64("user:password")}}}
// and the X-Registry-Auth header the CLI sends with pull, push and create's pull.
//
// The file is shared with the real docker CLI, so everything this module does not manage
// (other top-level keys, other fields) is kept as it was, in its order. Docker Hub's key is
// "https://index.docker.io/v1/" as docker writes it. Credential helpers (credsStore,
// credHelpers) are not supported: helper_for() names the one the file sets for a server so
// callers can say so.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/error.h"

namespace mydocker::api::client {

// Docker Hub's key in config.json `auths` and its serveraddress.
inline constexpr std::string_view kIndexServer = "https://index.docker.io/v1/";

// Docker's AuthConfig (the fields the CLI sends; empty ones are left out).
struct AuthConfig {
  std::string username;
  std::string password;
  std::string auth;
  std::string email;
  std::string serveraddress;
  std::string identitytoken;
  std::string registrytoken;
  nlohmann::ordered_json to_json() const;
};

// Standard base64 with padding; url = true uses '-' and '_' (Go's URLEncoding, padded).
std::string base64_encode(std::string_view data, bool url = false);
// Accepts both alphabets, with or without padding. InvalidArgument on other characters.
base::Result<std::string> base64_decode(std::string_view text);

// The X-Registry-Auth value: base64url (padded) of the AuthConfig JSON; "e30=" for none.
std::string encode_registry_auth(const AuthConfig& auth);

// Docker's ConvertToHostname: "https://host:5000/v2/" -> "host:5000".
std::string convert_to_hostname(std::string_view address);
// The config key of a registry domain (as image::reference::Reference::domain() gives it):
// docker.io and index.docker.io -> kIndexServer, else the domain itself.
std::string auth_key_for_domain(std::string_view domain);
// The key `mydocker login [SERVER]` / `logout [SERVER]` use: "" and Docker Hub's names ->
// kIndexServer, else convert_to_hostname(server).
std::string auth_key_for_server(std::string_view server);

using GetEnv = std::function<std::optional<std::string>(const char* name)>;
// $DOCKER_CONFIG/config.json, else $HOME/.docker/config.json. InvalidArgument without either.
base::Result<std::string> config_file_path(const GetEnv& getenv);

class ConfigFile {
 public:
  // Reads `path`; a missing file is an empty config. Errors: unreadable, not a JSON object,
  // `auths` not an object.
  static base::Result<ConfigFile> load(std::string path);

  const std::string& path() const { return path_; }
  // The credentials for `key`: the exact key, else (docker's legacy fallback) the first key
  // whose convert_to_hostname() equals `key`. serveraddress is set to `key`. An entry whose
  // `auth` is not base64 of "user:password" yields nothing.
  std::optional<AuthConfig> get(std::string_view key) const;
  // The credential helper the file names for `key` (credHelpers[key], else credsStore); "" when
  // none.
  std::string helper_for(std::string_view key) const;
  // The `auths` keys present among `keys`.
  std::vector<std::string> present(const std::vector<std::string>& keys) const;
  // Stores {"auth": base64(user:password)} (plus identitytoken when set) under `key`, replacing
  // what was there.
  void set(const std::string& key, const AuthConfig& auth);
  // Removes `key` from `auths`; false when it was not there.
  bool erase(const std::string& key);
  // Writes the file atomically with mode 0600 (its directory made 0700 when missing), tab
  // indented as docker writes it. A symlinked config.json is written through to its target.
  base::Result<void> save() const;
  const nlohmann::ordered_json& document() const { return doc_; }

 private:
  ConfigFile(std::string path, nlohmann::ordered_json doc)
      : path_(std::move(path)), doc_(std::move(doc)) {}
  std::string path_;
  nlohmann::ordered_json doc_;
};

}  // namespace mydocker::api::client
