// SPDX-License-Identifier: Apache-2.0
// Image configs (the document an image ID is the digest of), as read from `docker load`,
// `docker import` of a foreign image or a registry, and the RFC 3339 times inside them. Any
// bytes parse or fail with InvalidArgument; what parses round-trips (image_config.h).
#include "image/content/image_config.h"
#include "runtime/base/error.h"
#include "tests/fuzz/fuzz_check.h"

namespace content = mydocker::image::content;
using mydocker::base::ErrorCode;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = mydocker::fuzz::as_text(data, size);
  if (auto c = content::ImageConfig::parse(text)) {
    std::string bytes = c->serialize();
    auto again = content::ImageConfig::parse(bytes);
    FUZZ_CHECK(again && *again == *c);
    FUZZ_CHECK(again->serialize() == bytes);
    (void)c->created_unix();
  } else {
    FUZZ_CHECK(c.error().code() == ErrorCode::InvalidArgument ||
               c.error().code() == ErrorCode::NotImplemented);
  }
  // Times: whatever parses formats to a time that parses to the same instant.
  auto seconds = content::parse_rfc3339(text);
  auto ns = content::parse_rfc3339_ns(text);
  FUZZ_CHECK(seconds.has_value() == ns.has_value());
  // Outside years 0000..9999 an instant has no RFC 3339 text (offsets can push a parsed time
  // there), so only those round-trip.
  constexpr int64_t kYear0 = -62167219200;        // 0000-01-01T00:00:00Z
  constexpr int64_t kYear9999End = 253402300799;  // 9999-12-31T23:59:59Z
  if (ns && ns->first >= kYear0 && ns->first <= kYear9999End) {
    FUZZ_CHECK(*seconds == ns->first);
    FUZZ_CHECK(ns->second >= 0 && ns->second < 1000000000);
    std::string formatted = content::format_rfc3339_nano(ns->first, ns->second);
    auto back = content::parse_rfc3339_ns(formatted);
    FUZZ_CHECK(back && *back == *ns);
  }
  return 0;
}
