// SPDX-License-Identifier: Apache-2.0
// Go's %q (strconv.Quote) for the error texts that Docker formats with it.
#pragma once

#include <string>
#include <string_view>

namespace mydocker::image::dockerfile {

std::string go_quote(std::string_view s);

}  // namespace mydocker::image::dockerfile
