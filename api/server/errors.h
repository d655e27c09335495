// SPDX-License-Identifier: Apache-2.0
// ErrorCode -> HTTP status: the one place it is decided (moby's httpstatus.FromError;
// api/client holds the inverse).
#pragma once

#include "runtime/base/error.h"

namespace mydocker::api::server {

int http_status(base::ErrorCode code);

}  // namespace mydocker::api::server
