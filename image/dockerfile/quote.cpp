// SPDX-License-Identifier: Apache-2.0
#include "image/dockerfile/quote.h"

#include <fmt/format.h>

namespace mydocker::image::dockerfile {

std::string go_quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (u < 0x20 || u == 0x7f) {
          out += fmt::format("\\x{:02x}", u);
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

}  // namespace mydocker::image::dockerfile
