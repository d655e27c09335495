// SPDX-License-Identifier: Apache-2.0
// Output shaping shared by the verbs: docker's tables (Go tabwriter with minwidth 10,
// padding 3), --format handling, and the units docker prints (go-units HumanSize and
// HumanDuration, stringid.TruncateID, formatter.Ellipsis).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cmd/mydocker/template.h"
#include "runtime/base/error.h"
#include "runtime/base/units.h"

namespace mydocker::cli {

// go-units HumanSizeWithPrecision (base::human_size): decimal units ("B", "kB", "MB", ...),
// `precision` significant digits: 1982391 -> "1.98MB".
inline std::string human_size(double size, int precision = 3) {
  return base::human_size(size, precision);
}
// go-units HumanDuration: "Less than a second", "5 seconds", "About a minute", "3 hours",
// "2 weeks" ...
using base::human_duration;
// formatter.Ellipsis: at most `max` characters (runes), the last one "…" when cut.
std::string ellipsis(std::string_view s, size_t max);
// stringid.TruncateID: drops an algorithm prefix ("sha256:") and keeps 12 characters.
std::string short_id(std::string_view id);
// Go's time.Time.String() of a Unix time in local time: "2026-11-29 18:25:47 +0000 UTC".
std::string go_time_string(int64_t unix_seconds);
// Number of UTF-8 code points (what Go's tabwriter measures).
size_t rune_count(std::string_view s);

// Go's text/tabwriter as docker configures it: cells end at '\t'; a column is as wide as its
// widest cell plus `padding`, at least `minwidth`; the text after a line's last tab is not a
// cell and is not padded.
std::string tabwrite(std::string_view text, size_t minwidth = 10, size_t padding = 3);

// A --format value after docker's pre-processing: "table" prefix, "json" shorthand,
// literal "\t" and "\n" escapes turned into characters.
struct Format {
  bool table = false;
  std::string tmpl;
};
Format parse_format(std::string_view format);

// Renders rows through `format`: a table gets a header line (the template executed over
// `headers`, field name -> column title) and is aligned with tabwrite(); other formats print
// each row followed by a newline.
base::Result<std::string> render_rows(const Format& format, const OJson& headers,
                                      const std::vector<OJson>& rows);

}  // namespace mydocker::cli
