// SPDX-License-Identifier: Apache-2.0
// Image references and the globs that filter them (`docker pull X`, `docker tag`, the API's
// `fromImage=`/`repo=`/`tag=` and `reference=` filters). The whole input is parsed as a
// reference; split at newlines it is also (name, tag, digest) for from_parts and
// (pattern, name) for path_match.
//
// Invariants: a parsed reference round-trips through str() and familiar(); its normalised
// name is at most 255 characters; every error is InvalidArgument.
#include <vector>

#include "image/reference/reference.h"
#include "runtime/base/error.h"
#include "runtime/base/path_match.h"
#include "tests/fuzz/fuzz_check.h"

namespace ref = mydocker::image::reference;
using mydocker::base::ErrorCode;

namespace {

void check_reference(const ref::Reference& r) {
  FUZZ_CHECK(!r.empty());
  FUZZ_CHECK(r.name().size() <= ref::kNameTotalLengthMax);
  FUZZ_CHECK(!r.has_tag() || ref::valid_tag(r.tag()));
  FUZZ_CHECK(!r.has_digest() || ref::validate_digest(r.digest()));
  auto again = ref::Reference::parse(r.str());
  FUZZ_CHECK(again && *again == r);
  auto familiar = ref::Reference::parse(r.familiar());
  FUZZ_CHECK(familiar && *familiar == r);
  FUZZ_CHECK(r.with_default_tag().has_tag() || r.has_digest());
  // A reference matches its own familiar string used as a pattern: the only glob character a
  // valid reference can hold is the `[` of an IPv6 domain.
  if (r.familiar().find('[') == std::string::npos) {
    auto self = ref::familiar_match(r.familiar(), r);
    FUZZ_CHECK(self && *self);
  }
}

std::vector<std::string_view> split_lines(std::string_view text, size_t max) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < max) {
    size_t nl = text.find('\n');
    if (nl == std::string_view::npos) {
      break;
    }
    out.push_back(text.substr(0, nl));
    text.remove_prefix(nl + 1);
  }
  out.push_back(text);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = mydocker::fuzz::as_text(data, size);
  auto r = ref::Reference::parse(text);
  if (r) {
    check_reference(*r);
  } else {
    FUZZ_CHECK(r.error().code() == ErrorCode::InvalidArgument);
  }
  (void)ref::valid_tag(text);
  (void)ref::validate_digest(text);
  (void)ref::is_full_hex_id(text);

  std::vector<std::string_view> parts = split_lines(text, 3);
  parts.resize(3);
  if (auto p = ref::Reference::from_parts(parts[0], parts[1], parts[2])) {
    check_reference(*p);
  } else {
    FUZZ_CHECK(p.error().code() == ErrorCode::InvalidArgument);
  }
  std::vector<std::string_view> glob = split_lines(text, 2);
  glob.resize(2);
  if (auto m = mydocker::base::path_match(glob[0], glob[1]); !m) {
    FUZZ_CHECK(m.error().code() == ErrorCode::InvalidArgument);
  }
  if (auto named = ref::Reference::parse(glob[1])) {
    (void)ref::familiar_match(glob[0], *named);
    if (auto tagged = named->with_tag(glob[0])) {
      check_reference(*tagged);
    }
    if (auto digested = named->with_digest(glob[0])) {
      check_reference(*digested);
    }
  }
  return 0;
}
