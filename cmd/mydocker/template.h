// SPDX-License-Identifier: Apache-2.0
// A subset of Go's text/template, as docker's --format flags use it, evaluated over JSON.
//
// Supported: text and {{actions}} with {{- / -}} trimming; pipelines with `|`; field chains
// (`.State.Status`, `.`), string/number/bool literals; {{if}}/{{else}}/{{end}},
// {{range}}/{{end}}, {{with}}/{{end}}; functions json, index, join, split, lower, upper,
// title, truncate, pad, len, print, println, printf (%s %d %v %q), eq, ne, not, and, or; a
// field applied to arguments looks the argument up in that field (`{{.Label "k"}}`, as docker's
// ContainerContext.Label method).
//
// Values print as Go prints decoded JSON: integral numbers without exponent, maps as
// `map[k:v]` (keys sorted), arrays as `[a b]`, null as `<no value>` (missing key) or `<nil>`.
// Errors: InvalidArgument for a template that does not parse or fails to execute, with Go's
// "template: ..." wording where it matters to scripts.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "runtime/base/error.h"

namespace mydocker::cli {

using OJson = nlohmann::ordered_json;

class Template {
 public:
  static base::Result<Template> parse(std::string_view text);
  // `escape_root_json`: `{{json .}}` of the whole data HTML-escapes <, > and & (\u003c ...),
  // as docker's list contexts do (their MarshalJSON goes through json.Marshal); elsewhere the
  // json function does not escape.
  base::Result<std::string> execute(const OJson& data, bool escape_root_json = false) const;

  struct Node;
  Template(Template&&) noexcept;
  Template& operator=(Template&&) noexcept;
  ~Template();

 private:
  Template();
  std::unique_ptr<Node> root_;
};

// Go's fmt %v of a decoded JSON value.
std::string go_print(const OJson& v);
// docker's `json` template function: compact, no HTML escaping unless `escape_html`.
std::string go_json(const OJson& v, bool escape_html = false);

}  // namespace mydocker::cli
