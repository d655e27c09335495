// SPDX-License-Identifier: Apache-2.0
// Pull mirrors: which endpoints a pull tries, in which order, and when it moves on.
//
// docker.io images are pulled from RegistryOptions::mirrors (daemon.json "registry-mirrors",
// as Docker), any other registry's from RegistryOptions::host_mirrors[host] (daemon.json
// "registry-host-mirrors": {"host[:port]": ["https://mirror", ...]}; Docker has no such
// setting). Each mirror is tried in order, then the registry itself. A mirror is left for the
// next endpoint on errors that say "not here" or "not reachable": connection failures, TLS
// failures, 404 / manifest or blob unknown, 5xx, 401/403 at the mirror, a platform the mirror
// lacks. Data that fails verification (a digest or diff ID mismatch: InvalidArgument) and a
// cancelled pull stop the pull: a mirror serving wrong bytes is not papered over. Push never
// uses mirrors. Mirrors read the same repository paths as the registry (docker.io's
// "library/busybox") and are given the same credentials.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "image/registry/client.h"
#include "image/registry/pull.h"

namespace mydocker::image::registry {

// A mirror URL as configured, checked and normalised (no trailing "/"): scheme http or https,
// a host, no user info, query or fragment. InvalidArgument "invalid mirror: ..." otherwise.
base::Result<std::string> normalize_mirror(std::string_view url);

// The mirrors a pull from `host` tries before `host` itself.
std::vector<std::string> mirrors_for(const std::string& host, const RegistryOptions& options);

// Whether a pull that failed at a mirror with `e` tries the next endpoint.
bool mirror_fallback(const base::Error& e);

struct MirrorAttempt {
  std::string endpoint;  // the mirror's URL, "" for the registry
  std::string error;     // "" when this endpoint served the pull
};

// pull() through the mirrors of ref.domain() and then the registry. The error is the
// registry's own when every endpoint failed (or the first one that does not fall back).
// `attempts` (optional) records each endpoint tried.
base::Result<PullResult> pull_with_mirrors(Images& images, const RegistryOptions& options,
                                           const reference::Reference& ref,
                                           const PullOptions& pull_options,
                                           std::vector<MirrorAttempt>* attempts = nullptr);

}  // namespace mydocker::image::registry
