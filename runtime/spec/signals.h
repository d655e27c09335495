// SPDX-License-Identifier: Apache-2.0
// Signal names as runc/docker accept them: "SIGTERM", "TERM", "term", "15", "SIGRTMIN+3".
#pragma once

#include <string>
#include <string_view>

#include "runtime/base/error.h"

namespace mydocker::runtime {

// InvalidArgument "invalid signal `SIGFOO`" for unknown names and out-of-range numbers.
base::Result<int> parse_signal(std::string_view name);
std::string signal_name(int sig);  // 15 -> "SIGTERM"

}  // namespace mydocker::runtime
