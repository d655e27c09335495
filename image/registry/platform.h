// SPDX-License-Identifier: Apache-2.0
// Platform choice in a manifest list / OCI index, as Docker's platforms.Only matcher: os and
// architecture must match; the variant must match when the wanted one has a variant, with
// Docker's defaults (arm64 -> v8, arm -> v7; amd64 has none). A manifest without a platform
// matches only when it is the single entry. Attestation manifests (annotation
// vnd.docker.reference.type) are never chosen.
#pragma once

#include <string>
#include <string_view>

#include "image/content/manifest.h"
#include "runtime/base/error.h"

namespace mydocker::image::registry {

struct PlatformSpec {
  std::string os = "linux";
  std::string architecture = "amd64";
  std::string variant;
  std::string str() const;  // "linux/amd64", "linux/arm64/v8"
};

// "linux/amd64", "linux/arm/v7", "amd64" (os linux), case-insensitive; normalises Docker's
// aliases (x86_64 -> amd64, aarch64 -> arm64, armhf -> arm/v7, i386 -> 386). Errors:
// InvalidArgument "invalid platform `x`".
base::Result<PlatformSpec> parse_platform(std::string_view text);
// The platform of this host (uname), os linux.
PlatformSpec host_platform();

// The entry of `index` for `want`; NotFound "no matching manifest for linux/amd64 in the
// manifest list entries" (Docker's text) when none fits.
base::Result<content::Descriptor> select_platform(const content::Index& index,
                                                  const PlatformSpec& want);

}  // namespace mydocker::image::registry
