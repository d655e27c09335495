// SPDX-License-Identifier: Apache-2.0
// The body of `POST /containers/create` (and the durable records, which share its shapes):
// parse_create_body, then the value checks. Invariants: a parse never aborts, errors are
// InvalidArgument, and a parsed body survives a round trip through Docker's inspect shape
// (to_json -> from_json -> to_json is a fixed point), so what the store writes it reads back.
#include <string>

#include "engine/container/config.h"
#include "runtime/base/error.h"
#include "tests/fuzz/fuzz_check.h"

namespace engine = mydocker::engine;
using mydocker::base::ErrorCode;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto body = engine::parse_create_body(mydocker::fuzz::as_text(data, size));
  if (!body) {
    FUZZ_CHECK(body.error().code() == ErrorCode::InvalidArgument);
    return 0;
  }
  for (const auto& check :
       {engine::validate_host_config(body->host_config), engine::validate_config(body->config)}) {
    if (!check) {
      FUZZ_CHECK(check.error().code() == ErrorCode::InvalidArgument);
    }
  }
  if (body->host_config.security_opt) {
    if (auto sec = engine::parse_security_opts(*body->host_config.security_opt); !sec) {
      FUZZ_CHECK(sec.error().code() == ErrorCode::InvalidArgument);
    }
  }

  nlohmann::json config = body->config.to_json();
  auto config2 = engine::ContainerConfig::from_json(config);
  FUZZ_CHECK(config2);
  FUZZ_CHECK(config2->to_json() == config);

  engine::HostConfig hc = body->host_config;
  engine::apply_create_defaults(hc, false);
  nlohmann::json host = hc.to_json();
  auto host2 = engine::HostConfig::from_json(host);
  FUZZ_CHECK(host2);
  FUZZ_CHECK(host2->to_json() == host);
  return 0;
}
