// SPDX-License-Identifier: Apache-2.0
// Manifests and indexes (OCI and Docker schema2 / manifest lists) as read from a `docker load`
// tarball, an OCI layout or a registry: any bytes either parse or fail with InvalidArgument or
// NotImplemented, and what parses round-trips: parse(serialize(x)) == x (manifest.h).
#include "image/content/manifest.h"
#include "runtime/base/error.h"
#include "tests/fuzz/fuzz_check.h"

namespace content = mydocker::image::content;
using mydocker::base::ErrorCode;

namespace {

bool parse_error(const mydocker::base::Error& e) {
  return e.code() == ErrorCode::InvalidArgument || e.code() == ErrorCode::NotImplemented;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = mydocker::fuzz::as_text(data, size);
  if (auto m = content::Manifest::parse(text)) {
    std::string bytes = m->serialize();
    auto again = content::Manifest::parse(bytes);
    FUZZ_CHECK(again && *again == *m);
    FUZZ_CHECK(again->serialize() == bytes);
    FUZZ_CHECK(m->config.size >= 0);
    for (const content::Descriptor& l : m->layers) {
      FUZZ_CHECK(l.size >= 0);
    }
  } else {
    FUZZ_CHECK(parse_error(m.error()));
  }
  if (auto x = content::Index::parse(text)) {
    std::string bytes = x->serialize();
    auto again = content::Index::parse(bytes);
    FUZZ_CHECK(again && *again == *x);
    FUZZ_CHECK(again->serialize() == bytes);
  } else {
    FUZZ_CHECK(parse_error(x.error()));
  }
  if (auto mt = content::detect_media_type(text); !mt) {
    FUZZ_CHECK(parse_error(mt.error()));
  }
  return 0;
}
