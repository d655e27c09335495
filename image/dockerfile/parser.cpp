// SPDX-License-Identifier: Apache-2.0
#include "image/dockerfile/parser.h"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>

#include "image/dockerfile/expand.h"
#include "image/dockerfile/quote.h"
#include "runtime/base/strings.h"

namespace mydocker::image::dockerfile {

namespace {

// bufio.Scanner's default limit, which Docker's parser keeps.
constexpr size_t kMaxLine = 64 * 1024 - 1;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}
// Go's regexp `[\t\v\f\r ]` (the parser's separator: no newline).
bool is_separator(char c) {
  return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}
// Go's RE2 `\s`.
bool is_re_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

std::string_view trim_left(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && is_space(s[i])) {
    ++i;
  }
  return s.substr(i);
}

std::string_view trim(std::string_view s) {
  s = trim_left(s);
  while (!s.empty() && is_space(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

std::string_view trim_newline(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

bool is_comment(std::string_view line) {
  line = trim_left(line);
  return !line.empty() && line[0] == '#';
}

// Splits at runs of separators; empty input gives nothing.
std::vector<std::string> split_separators(std::string_view s, int max_parts = -1) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= s.size()) {
    if (max_parts > 0 && static_cast<int>(out.size()) == max_parts - 1) {
      out.emplace_back(s.substr(i));
      break;
    }
    size_t j = i;
    while (j < s.size() && !is_separator(s[j])) {
      ++j;
    }
    out.emplace_back(s.substr(i, j - i));
    if (j >= s.size()) {
      break;
    }
    while (j < s.size() && is_separator(s[j])) {
      ++j;
    }
    i = j;
  }
  return out;
}

class DirectiveParser {
 public:
  // A directive on `line`, nullopt when none; errors for a repeated one.
  base::Result<std::optional<Directive>> parse_line(std::string_view line, int line_no) {
    if (done_) {
      return std::optional<Directive>();
    }
    auto d = match(line);
    if (!d) {
      done_ = true;
      return std::optional<Directive>();
    }
    if (d->name != "syntax" && d->name != "escape" && d->name != "check") {
      done_ = true;
      return std::optional<Directive>();
    }
    for (const auto& s : seen_) {
      if (s == d->name) {
        return base::make_error(base::ErrorCode::InvalidArgument,
                                "only one {} parser directive can be used", d->name);
      }
    }
    seen_.push_back(d->name);
    d->line = line_no;
    return d;
  }

 private:
  // `^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$`
  static std::optional<Directive> match(std::string_view s) {
    size_t i = 0;
    if (s.empty() || s[0] != '#') {
      return std::nullopt;
    }
    ++i;
    while (i < s.size() && is_re_space(s[i])) {
      ++i;
    }
    auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
    if (i >= s.size() || !alpha(s[i])) {
      return std::nullopt;
    }
    size_t name_start = i;
    while (i < s.size() && (alpha(s[i]) || (s[i] >= '0' && s[i] <= '9'))) {
      ++i;
    }
    std::string name(s.substr(name_start, i - name_start));
    while (i < s.size() && is_re_space(s[i])) {
      ++i;
    }
    if (i >= s.size() || s[i] != '=') {
      return std::nullopt;
    }
    ++i;
    while (i < s.size() && is_re_space(s[i])) {
      ++i;
    }
    std::string_view value = s.substr(i);
    while (!value.empty() && is_re_space(value.back())) {
      value.remove_suffix(1);
    }
    if (value.empty()) {
      return std::nullopt;
    }
    return Directive{base::ascii_lower(name), std::string(value), 0};
  }

  bool done_ = false;
  std::vector<std::string> seen_;
};

class Parser {
 public:
  base::Result<Ast> parse(std::string_view text);

 private:
  base::Result<void> set_escape(std::string_view token) {
    if (token != "`" && token != "\\") {
      return base::make_error(base::ErrorCode::InvalidArgument,
                              "invalid escape token '{}' does not match ` or \\", token);
    }
    ast_.escape = token[0];
    return base::ok();
  }

  // One physical line: newline removed, (optionally) leading blanks removed, directives
  // recognised; a comment becomes empty.
  base::Result<std::string_view> process_line(std::string_view raw, bool strip_left, int line_no) {
    std::string_view token = trim_newline(raw);
    if (strip_left) {
      token = trim_left(token);
    }
    auto d = MYDOCKER_TRY(directives_.parse_line(token, line_no));
    if (d) {
      if (d->name == "escape") {
        MYDOCKER_TRY(set_escape(d->value));
      }
      ast_.directives.push_back(std::move(*d));
    }
    if (is_comment(token)) {
      return std::string_view();
    }
    return token;
  }

  // The escape character (with trailing blanks) at the end ends the line early, unless it is
  // itself escaped: `([^E])E[ \t]*$|^E[ \t]*$` in Docker's parser.
  std::pair<std::string_view, bool> trim_continuation(std::string_view line) const {
    size_t end = line.size();
    while (end > 0 && (line[end - 1] == ' ' || line[end - 1] == '\t')) {
      --end;
    }
    if (end == 0 || line[end - 1] != ast_.escape) {
      return {line, true};
    }
    if (end >= 2 && line[end - 2] == ast_.escape) {
      return {line, true};
    }
    return {line.substr(0, end - 1), false};
  }

  Ast ast_;
  DirectiveParser directives_;
};

std::vector<std::string> parse_words(std::string_view rest, char escape) {
  enum { InSpaces, InWord, InQuote } phase = InSpaces;
  std::vector<std::string> words;
  std::string word;
  char quote = 0;
  bool blank_ok = false;
  for (size_t pos = 0; pos <= rest.size(); ++pos) {
    char ch = pos < rest.size() ? rest[pos] : 0;
    if (phase == InSpaces) {
      if (pos == rest.size()) {
        break;
      }
      if (is_space(ch)) {
        continue;
      }
      phase = InWord;
    }
    if (pos == rest.size()) {
      if (blank_ok || !word.empty()) {
        words.push_back(word);
      }
      break;
    }
    if (phase == InWord) {
      if (is_space(ch)) {
        phase = InSpaces;
        if (blank_ok || !word.empty()) {
          words.push_back(word);
        }
        word.clear();
        blank_ok = false;
        continue;
      }
      if (ch == '\'' || ch == '"') {
        quote = ch;
        blank_ok = true;
        phase = InQuote;
      }
      if (ch == escape) {
        if (pos + 1 == rest.size()) {
          continue;  // an escape at the end of the line is dropped
        }
        // Outside quotes the escape and the escaped character are both kept (the expansion
        // removes the escape later), even for a quote.
        word += ch;
        ++pos;
        ch = rest[pos];
      }
      word += ch;
      continue;
    }
    // InQuote
    if (ch == quote) {
      phase = InWord;
    }
    if (ch == escape && quote != '\'') {
      if (pos + 1 == rest.size()) {
        phase = InWord;
        continue;
      }
      ++pos;
      word += ch;
      ch = rest[pos];
    }
    word += ch;
  }
  return words;
}

// The `--flag[=value]` words after the keyword; the rest of the line.
std::pair<std::string, std::vector<std::string>> extract_flags(std::string_view line, char escape) {
  enum { InSpaces, InWord, InQuote } phase = InSpaces;
  std::vector<std::string> words;
  std::string word;
  char quote = 0;
  bool blank_ok = false;
  for (size_t pos = 0; pos <= line.size(); ++pos) {
    char ch = pos < line.size() ? line[pos] : 0;
    if (phase == InSpaces) {
      if (pos == line.size()) {
        break;
      }
      if (is_space(ch)) {
        continue;
      }
      if (ch != '-' || pos + 1 == line.size() || line[pos + 1] != '-') {
        return {std::string(line.substr(pos)), words};
      }
      phase = InWord;
    }
    if (pos == line.size()) {
      if (word != "--" && (blank_ok || !word.empty())) {
        words.push_back(word);
      }
      break;
    }
    if (phase == InWord) {
      if (is_space(ch)) {
        phase = InSpaces;
        if (word == "--") {
          return {std::string(line.substr(pos)), words};
        }
        if (blank_ok || !word.empty()) {
          words.push_back(word);
        }
        word.clear();
        blank_ok = false;
        continue;
      }
      if (ch == '\'' || ch == '"') {
        quote = ch;
        blank_ok = true;
        phase = InQuote;
        continue;
      }
      if (ch == escape) {
        if (pos + 1 == line.size()) {
          continue;
        }
        ch = line[++pos];
      }
      word += ch;
      continue;
    }
    if (ch == quote) {
      phase = InWord;
      continue;
    }
    if (ch == escape) {
      if (pos + 1 == line.size()) {
        phase = InWord;
        continue;
      }
      ch = line[++pos];
    }
    word += ch;
  }
  return {"", words};
}

struct Parsed {
  std::vector<std::string> args;
  bool json = false;
};

enum class JsonResult { Ok, NotJson, NotStrings };

JsonResult parse_json(std::string_view rest, Parsed& out) {
  rest = trim_left(rest);
  if (rest.empty() || rest[0] != '[') {
    return JsonResult::NotJson;
  }
  auto j = nlohmann::json::parse(rest, nullptr, false);
  if (j.is_discarded() || !j.is_array()) {
    return JsonResult::NotJson;
  }
  out.args.clear();
  for (const auto& e : j) {
    if (!e.is_string()) {
      return JsonResult::NotStrings;
    }
    out.args.push_back(e.get<std::string>());
  }
  out.json = true;
  return JsonResult::Ok;
}

constexpr std::string_view kNotStringArray =
    "when using JSON array syntax, arrays must be comprised of strings only";

base::Result<Parsed> parse_maybe_json(std::string_view rest) {
  Parsed p;
  if (rest.empty()) {
    return p;
  }
  switch (parse_json(rest, p)) {
    case JsonResult::Ok:
      return p;
    case JsonResult::NotStrings:
      return base::Error(base::ErrorCode::InvalidArgument, std::string(kNotStringArray));
    case JsonResult::NotJson:
      break;
  }
  p.args = {std::string(rest)};
  return p;
}

base::Result<Parsed> parse_maybe_json_to_list(std::string_view rest) {
  Parsed p;
  switch (parse_json(rest, p)) {
    case JsonResult::Ok:
      return p;
    case JsonResult::NotStrings:
      return base::Error(base::ErrorCode::InvalidArgument, std::string(kNotStringArray));
    case JsonResult::NotJson:
      break;
  }
  if (!rest.empty()) {
    p.args = split_separators(rest);
  }
  return p;
}

// ENV and LABEL: `KEY name value` (old form, the rest of the line is the value) or
// `KEY a=b c="d e"` (quotes kept; the expansion removes them).
base::Result<Parsed> parse_name_val(std::string_view rest, std::string_view key, char escape) {
  Parsed p;
  auto words = parse_words(rest, escape);
  if (words.empty()) {
    return p;
  }
  if (words[0].find('=') == std::string::npos) {
    auto parts = split_separators(rest, 2);
    if (parts.size() < 2) {
      return base::make_error(base::ErrorCode::InvalidArgument, "{} must have two arguments", key);
    }
    p.args = {parts[0], parts[1]};
    return p;
  }
  for (const auto& w : words) {
    size_t eq = w.find('=');
    if (eq == std::string::npos) {
      return base::make_error(base::ErrorCode::InvalidArgument,
                              "Syntax error - can't find = in {}. Must be of the form: name=value",
                              go_quote(w));
    }
    p.args.push_back(w.substr(0, eq));
    p.args.push_back(w.substr(eq + 1));
  }
  return p;
}

base::Result<Node> node_from_line(std::string_view line, char escape);

base::Result<Parsed> parse_health_config(std::string_view rest) {
  size_t sep = 0;
  while (sep < rest.size() && !is_space(rest[sep])) {
    ++sep;
  }
  size_t next = sep;
  while (next < rest.size() && is_space(rest[next])) {
    ++next;
  }
  Parsed p;
  if (sep == 0) {
    return p;
  }
  auto cmd = MYDOCKER_TRY(parse_maybe_json(rest.substr(next)));
  p.args.emplace_back(rest.substr(0, sep));
  p.args.insert(p.args.end(), cmd.args.begin(), cmd.args.end());
  p.json = cmd.json;
  return p;
}

base::Result<Node> node_from_line(std::string_view line, char escape) {
  Node node;
  node.original = std::string(line);
  std::string_view t = trim(line);
  size_t k = 0;
  while (k < t.size() && !is_separator(t[k])) {
    ++k;
  }
  node.keyword = std::string(t.substr(0, k));
  std::string rest;
  if (k < t.size()) {
    size_t r = k;
    while (r < t.size() && is_separator(t[r])) {
      ++r;
    }
    auto [args, flags] = extract_flags(t.substr(r), escape);
    node.flags = std::move(flags);
    rest = std::string(trim(args));
  }
  std::string kw = node.lower_keyword();
  Parsed p;
  if (kw == "add" || kw == "copy" || kw == "volume") {
    p = MYDOCKER_TRY(parse_maybe_json_to_list(rest));
  } else if (kw == "cmd" || kw == "entrypoint" || kw == "run" || kw == "shell") {
    p = MYDOCKER_TRY(parse_maybe_json(rest));
  } else if (kw == "arg") {
    p.args = parse_words(rest, escape);
  } else if (kw == "env") {
    p = MYDOCKER_TRY(parse_name_val(rest, "ENV", escape));
  } else if (kw == "label") {
    p = MYDOCKER_TRY(parse_name_val(rest, "LABEL", escape));
  } else if (kw == "expose" || kw == "from") {
    if (!rest.empty()) {
      p.args = split_separators(rest);
    }
  } else if (kw == "healthcheck") {
    p = MYDOCKER_TRY(parse_health_config(rest));
  } else if (kw == "maintainer" || kw == "stopsignal" || kw == "user" || kw == "workdir") {
    if (!rest.empty()) {
      p.args = {rest};
    }
  } else if (kw == "onbuild") {
    if (!rest.empty()) {
      node.trigger.push_back(MYDOCKER_TRY(node_from_line(rest, escape)));
    }
  }
  node.args = std::move(p.args);
  node.json = p.json;
  return node;
}

bool can_contain_heredoc(const Node& node) {
  const Node* n = &node;
  if (n->lower_keyword() == "onbuild" && !n->trigger.empty()) {
    n = &n->trigger[0];
  }
  std::string kw = n->lower_keyword();
  return (kw == "add" || kw == "copy" || kw == "run") && !n->json;
}

}  // namespace

base::Result<std::optional<Heredoc>> parse_heredoc_word(std::string_view word) {
  size_t i = 0;
  while (i < word.size() && word[i] >= '0' && word[i] <= '9') {
    ++i;
  }
  std::string_view digits = word.substr(0, i);
  if (word.substr(i, 2) != "<<") {
    return std::optional<Heredoc>();
  }
  i += 2;
  bool chomp = false;
  if (i < word.size() && word[i] == '-') {
    chomp = true;
    ++i;
  }
  std::string_view rest = word.substr(i);
  if (rest.empty() || rest.find('<') != std::string_view::npos) {
    return std::optional<Heredoc>();
  }
  Env none;
  LexOptions opts;
  opts.skip_unset = true;
  auto words = MYDOCKER_TRY(expand_words(rest, none, opts));
  if (words.size() != 1) {
    return std::optional<Heredoc>();
  }
  opts.raw_quotes = true;
  auto raw = MYDOCKER_TRY(expand_words(rest, none, opts));
  if (raw.size() != words.size()) {
    return base::make_error(base::ErrorCode::InvalidArgument,
                            "internal lexing of heredoc produced inconsistent results: {}", rest);
  }
  auto quotes = [](const std::string& s) {
    size_t n = 0;
    for (char c : s) {
      n += (c == '\'' || c == '"') ? 1 : 0;
    }
    return n;
  };
  Heredoc h;
  h.name = words[0];
  h.expand = quotes(words[0]) == quotes(raw[0]);
  h.chomp = chomp;
  // As Docker (ParseUint, error ignored): an out-of-range descriptor is 0.
  auto fd = base::parse_uint64(digits);
  h.fd = fd && *fd <= UINT32_MAX ? static_cast<unsigned>(*fd) : 0;
  return std::optional<Heredoc>(std::move(h));
}

namespace {

base::Result<std::vector<Heredoc>> heredocs_from_line(std::string_view line) {
  LexOptions opts;
  opts.raw_quotes = true;
  opts.raw_escapes = true;
  opts.skip_unset = true;
  Env none;
  // As Docker: a line the lexer cannot read has no heredocs.
  auto words = expand_words(line, none, opts);
  std::vector<Heredoc> out;
  if (!words.has_value()) {
    return out;
  }
  for (const auto& w : *words) {
    auto h = MYDOCKER_TRY(parse_heredoc_word(w));
    if (h) {
      out.push_back(std::move(*h));
    }
  }
  return out;
}

std::string_view trim_leading_tabs(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && s[i] == '\t') {
    ++i;
  }
  return s.substr(i);
}

}  // namespace

base::Error parse_error(int line, std::string_view message) {
  return base::Error(base::ErrorCode::InvalidArgument,
                     fmt::format("dockerfile parse error line {}: {}", line, message));
}

std::string Node::lower_keyword() const {
  return base::ascii_lower(keyword);
}

std::string chomp_heredoc(std::string_view content) {
  std::string out;
  bool at_start = true;
  for (char c : content) {
    if (at_start && c == '\t') {
      continue;
    }
    at_start = c == '\n';
    out += c;
  }
  return out;
}

base::Result<Ast> Parser::parse(std::string_view text) {
  // Lines with their endings, as Docker's scanner gives them.
  std::vector<std::string_view> lines;
  for (size_t pos = 0; pos < text.size();) {
    size_t nl = text.find('\n', pos);
    size_t end = nl == std::string_view::npos ? text.size() : nl + 1;
    lines.push_back(text.substr(pos, end - pos));
    pos = end;
  }
  int line_no = 0;
  size_t i = 0;
  auto fail = [](int line, const base::Error& e) { return parse_error(line, e.message()); };
  for (const auto& l : lines) {
    if (trim_newline(l).size() > kMaxLine) {
      return parse_error(
          static_cast<int>(&l - lines.data()) + 1,
          fmt::format("dockerfile line greater than max allowed size of {}", kMaxLine));
    }
  }
  while (i < lines.size()) {
    std::string_view raw = lines[i++];
    if (line_no == 0 && raw.substr(0, 3) == "\xEF\xBB\xBF") {
      raw.remove_prefix(3);
    }
    auto processed = process_line(raw, true, line_no + 1);
    if (!processed.has_value()) {
      return fail(line_no + 1, processed.error());
    }
    ++line_no;
    int start = line_no;
    auto [first, eol] = trim_continuation(*processed);
    if (eol && first.empty()) {
      continue;
    }
    std::string buf(first);
    bool empty_continuation = false;
    while (!eol && i < lines.size()) {
      std::string_view raw2 = lines[i++];
      auto p2 = process_line(raw2, false, line_no + 1);
      if (!p2.has_value()) {
        return fail(line_no + 1, p2.error());
      }
      ++line_no;
      if (is_comment(raw2)) {
        continue;
      }
      if (trim_left(trim_newline(*p2)).empty()) {
        empty_continuation = true;
        continue;
      }
      auto [part, end] = trim_continuation(*p2);
      buf += part;
      eol = end;
    }
    if (empty_continuation) {
      ast_.warnings.push_back({"Empty continuation line found in: " + buf, line_no});
    }
    auto node = node_from_line(buf, ast_.escape);
    if (!node.has_value()) {
      return fail(start, node.error());
    }
    if (can_contain_heredoc(*node) && buf.find("<<") != std::string::npos) {
      auto docs = heredocs_from_line(buf);
      if (!docs.has_value()) {
        return fail(start, docs.error());
      }
      for (auto& doc : *docs) {
        bool terminated = false;
        while (i < lines.size()) {
          std::string_view body = lines[i++];
          ++line_no;
          std::string_view candidate = trim_newline(body);
          if (doc.chomp) {
            candidate = trim_leading_tabs(candidate);
          }
          if (candidate == doc.name) {
            terminated = true;
            break;
          }
          doc.content += body;
        }
        if (!terminated) {
          return parse_error(start, "unterminated heredoc");
        }
        node->heredocs.push_back(std::move(doc));
      }
    }
    node->start_line = start;
    node->end_line = line_no;
    for (auto& t : node->trigger) {
      t.start_line = start;
      t.end_line = line_no;
    }
    ast_.nodes.push_back(std::move(*node));
  }
  if (ast_.nodes.empty()) {
    return parse_error(line_no, "file with no instructions");
  }
  return std::move(ast_);
}

base::Result<Ast> parse_ast(std::string_view text) {
  Parser p;
  return p.parse(text);
}

}  // namespace mydocker::image::dockerfile
