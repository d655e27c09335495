// SPDX-License-Identifier: Apache-2.0
#include "image/registry/platform.h"

#include <sys/utsname.h>

#include "runtime/base/strings.h"

namespace mydocker::image::registry {

using base::ErrorCode;
using base::make_error;

namespace {

void normalize(PlatformSpec& p) {
  std::string& a = p.architecture;
  if (a == "x86_64" || a == "x86-64") {
    a = "amd64";
  } else if (a == "aarch64") {
    a = "arm64";
  } else if (a == "armhf") {
    a = "arm";
    p.variant = p.variant.empty() ? "v7" : p.variant;
  } else if (a == "armel") {
    a = "arm";
    p.variant = p.variant.empty() ? "v6" : p.variant;
  } else if (a == "i386" || a == "i686") {
    a = "386";
  }
  if (a == "arm64" && p.variant == "8") {
    p.variant = "v8";
  }
  if (a == "arm" && (p.variant == "7" || p.variant == "6" || p.variant == "5")) {
    p.variant = "v" + p.variant;
  }
  if (a == "amd64" && p.variant == "v1") {
    p.variant.clear();
  }
}

// The variant an entry without one stands for (Docker's defaults).
std::string default_variant(const std::string& arch) {
  if (arch == "arm64") {
    return "v8";
  }
  if (arch == "arm") {
    return "v7";
  }
  return "";
}

}  // namespace

std::string PlatformSpec::str() const {
  return variant.empty() ? os + "/" + architecture : os + "/" + architecture + "/" + variant;
}

base::Result<PlatformSpec> parse_platform(std::string_view text) {
  std::vector<std::string> parts = base::split(base::ascii_lower(text), '/');
  PlatformSpec p;
  bool bad = parts.empty() || parts.size() > 3;
  for (const std::string& s : parts) {
    bad = bad || s.empty();
  }
  if (bad) {
    return make_error(ErrorCode::InvalidArgument, "invalid platform `{}`", text);
  }
  if (parts.size() == 1) {
    if (parts[0] == "linux" || parts[0] == "windows" || parts[0] == "darwin") {
      p.os = parts[0];
      p.architecture = host_platform().architecture;
    } else {
      p.architecture = parts[0];
    }
  } else {
    p.os = parts[0];
    p.architecture = parts[1];
    if (parts.size() == 3) {
      p.variant = parts[2];
    }
  }
  normalize(p);
  return p;
}

PlatformSpec host_platform() {
  PlatformSpec p;
  struct utsname u {};
  if (::uname(&u) == 0) {
    p.architecture = u.machine;
    if (p.architecture.rfind("armv7", 0) == 0) {
      p.architecture = "arm";
      p.variant = "v7";
    } else if (p.architecture.rfind("armv6", 0) == 0) {
      p.architecture = "arm";
      p.variant = "v6";
    }
  }
  normalize(p);
  return p;
}

base::Result<content::Descriptor> select_platform(const content::Index& index,
                                                  const PlatformSpec& want) {
  const content::Descriptor* best = nullptr;
  size_t candidates = 0;
  for (const content::Descriptor& d : index.manifests) {
    if (d.annotations.contains("vnd.docker.reference.type") ||
        !(content::media_type::is_manifest(d.media_type) ||
          content::media_type::is_index(d.media_type))) {
      continue;
    }
    ++candidates;
    if (!d.platform) {
      continue;
    }
    PlatformSpec have{base::ascii_lower(d.platform->os),
                      base::ascii_lower(d.platform->architecture),
                      base::ascii_lower(d.platform->variant)};
    normalize(have);
    if (have.os != want.os || have.architecture != want.architecture) {
      continue;
    }
    std::string hv = have.variant.empty() ? default_variant(have.architecture) : have.variant;
    std::string wv = want.variant.empty() ? default_variant(want.architecture) : want.variant;
    if (!wv.empty() && !hv.empty() && hv != wv) {
      continue;
    }
    if (best == nullptr) {
      best = &d;
    }
  }
  if (best == nullptr && candidates == 1) {
    for (const content::Descriptor& d : index.manifests) {
      if (!d.platform && content::media_type::is_manifest(d.media_type) &&
          !d.annotations.contains("vnd.docker.reference.type")) {
        best = &d;
      }
    }
  }
  if (best == nullptr) {
    return make_error(ErrorCode::NotFound,
                      "no matching manifest for {} in the manifest list entries", want.str());
  }
  return *best;
}

}  // namespace mydocker::image::registry
