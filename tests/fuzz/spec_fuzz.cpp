// SPDX-License-Identifier: Apache-2.0
// OCI runtime spec parsing: config.json (spec::parse) and the process.json of `exec
// --process` (spec::parse_process) come from the bundle's author, not from us. Every input
// must parse or fail with an InvalidArgument that names a field; nothing else.
#include "runtime/base/error.h"
#include "runtime/spec/spec.h"
#include "tests/fuzz/fuzz_check.h"

namespace spec = mydocker::runtime::spec;
using mydocker::base::ErrorCode;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = mydocker::fuzz::as_text(data, size);
  if (auto s = spec::parse(text)) {
    // What the runtime reads first off a parsed spec must be usable as is.
    for (const spec::Namespace& ns : s->linux.namespaces) {
      FUZZ_CHECK(s->find_namespace(ns.type) != nullptr);
      FUZZ_CHECK(!spec::namespace_type_name(ns.type).empty());
    }
  } else {
    FUZZ_CHECK(s.error().code() == ErrorCode::InvalidArgument);
    FUZZ_CHECK(!s.error().message().empty());
  }
  if (auto p = spec::parse_process(text); !p) {
    FUZZ_CHECK(p.error().code() == ErrorCode::InvalidArgument);
    FUZZ_CHECK(!p.error().message().empty());
  }
  return 0;
}
