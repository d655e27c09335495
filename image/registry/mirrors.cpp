// SPDX-License-Identifier: Apache-2.0
#include "image/registry/mirrors.h"

#include <spdlog/spdlog.h>

namespace mydocker::image::registry {

using base::ErrorCode;
using base::make_error;

base::Result<std::string> normalize_mirror(std::string_view url) {
  std::string u(url);
  size_t sep = u.find("://");
  std::string scheme = sep == std::string::npos ? "" : u.substr(0, sep);
  if (scheme != "http" && scheme != "https") {
    return make_error(ErrorCode::InvalidArgument,
                      "invalid mirror: unsupported scheme \"{}\" in \"{}\"", scheme, u);
  }
  std::string rest = u.substr(sep + 3);
  std::string authority = rest.substr(0, rest.find('/'));
  if (authority.empty()) {
    return make_error(ErrorCode::InvalidArgument, "invalid mirror: no host in \"{}\"", u);
  }
  if (authority.find('@') != std::string::npos) {
    return make_error(ErrorCode::InvalidArgument,
                      "invalid mirror: does not support user info in \"{}\"", u);
  }
  if (rest.find_first_of("?#") != std::string::npos) {
    return make_error(ErrorCode::InvalidArgument,
                      "invalid mirror: unsupported query or fragment in \"{}\"", u);
  }
  while (u.ends_with("/")) {
    u.pop_back();
  }
  return u;
}

std::vector<std::string> mirrors_for(const std::string& host, const RegistryOptions& options) {
  if (host == "docker.io") {
    return options.mirrors;
  }
  auto it = options.host_mirrors.find(host);
  return it == options.host_mirrors.end() ? std::vector<std::string>{} : it->second;
}

bool mirror_fallback(const base::Error& e) {
  switch (e.code()) {
    case ErrorCode::InvalidArgument:  // verification of data, a bad manifest
    case ErrorCode::Cancelled:
    case ErrorCode::NotImplemented:  // schema1: the registry would serve the same document
      return false;
    default:
      return true;
  }
}

base::Result<PullResult> pull_with_mirrors(Images& images, const RegistryOptions& options,
                                           const reference::Reference& ref,
                                           const PullOptions& pull_options,
                                           std::vector<MirrorAttempt>* attempts) {
  for (const std::string& raw : mirrors_for(ref.domain(), options)) {
    auto mirror = normalize_mirror(raw);
    if (!mirror) {
      spdlog::warn("registry mirror `{}` skipped: {}", raw, mirror.error().message());
      continue;
    }
    Client client(ref.domain(), options, *mirror);
    auto r = pull(images, client, ref, pull_options);
    if (attempts != nullptr) {
      attempts->push_back({*mirror, r ? "" : r.error().message()});
    }
    if (r) {
      return r;
    }
    if (!mirror_fallback(r.error())) {
      return std::move(r).error();
    }
    spdlog::info("pull {} from mirror {} failed, trying the next endpoint: {}", ref.familiar(),
                 *mirror, r.error().message());
  }
  Client client(ref.domain(), options);
  auto r = pull(images, client, ref, pull_options);
  if (attempts != nullptr) {
    attempts->push_back({"", r ? "" : r.error().message()});
  }
  return r;
}

}  // namespace mydocker::image::registry
