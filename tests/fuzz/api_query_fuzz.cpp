// SPDX-License-Identifier: Apache-2.0
// What a client puts in a request line: the query string (strict percent-decoding, Go's
// rules), Docker's boolean and integer values, and the `filters` JSON. Invariants: errors are
// InvalidArgument; escape() output always unescapes back to its input; parsed filters print
// as JSON that parses back to the same filters.
#include <string>

#include "api/wire/filters.h"
#include "api/wire/query.h"
#include "runtime/base/error.h"
#include "tests/fuzz/fuzz_check.h"

namespace wire = mydocker::api::wire;
using mydocker::base::ErrorCode;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = mydocker::fuzz::as_text(data, size);

  if (auto query = wire::parse_query(text)) {
    for (const auto& [key, value] : *query) {
      (void)wire::parse_bool_value(value);
      if (auto n = wire::parse_int_value(value); !n) {
        FUZZ_CHECK(n.error().code() == ErrorCode::InvalidArgument);
      }
      if (key == "filters") {
        (void)wire::parse_filters(value);
      }
    }
  } else {
    FUZZ_CHECK(query.error().code() == ErrorCode::InvalidArgument);
  }

  auto round = wire::unescape(wire::escape(text), true);
  FUZZ_CHECK(round && *round == text);

  if (auto filters = wire::parse_filters(text)) {
    auto again = wire::parse_filters(wire::filters_to_json(*filters));
    FUZZ_CHECK(again && *again == *filters);
  } else {
    FUZZ_CHECK(filters.error().code() == ErrorCode::InvalidArgument);
  }
  return 0;
}
