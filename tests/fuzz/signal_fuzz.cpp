// SPDX-License-Identifier: Apache-2.0
// Signal names from `kill`, `docker kill --signal`, the API's `signal=` and an image's
// StopSignal: parse_signal accepts exactly 1..64, and signal_name(n) parses back to n.
#include "runtime/base/error.h"
#include "runtime/spec/signals.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = mydocker::fuzz::as_text(data, size);
  auto sig = mydocker::runtime::parse_signal(text);
  if (!sig) {
    FUZZ_CHECK(sig.error().code() == mydocker::base::ErrorCode::InvalidArgument);
    return 0;
  }
  FUZZ_CHECK(*sig >= 1 && *sig <= 64);
  std::string name = mydocker::runtime::signal_name(*sig);
  auto back = mydocker::runtime::parse_signal(name);
  FUZZ_CHECK(back && *back == *sig);
  return 0;
}
