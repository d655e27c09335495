// SPDX-License-Identifier: Apache-2.0
#include "image/dockerfile/expand.h"

#include <optional>

#include "image/dockerfile/quote.h"

namespace mydocker::image::dockerfile {

namespace {

constexpr int kEof = -1;

bool is_space(int ch) {
  return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\v' || ch == '\f' || ch == '\r';
}

bool is_digit(int ch) {
  return ch >= '0' && ch <= '9';
}

bool is_name_char(int ch) {
  return is_digit(ch) || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
}

// Words being split while the expansion goes: whitespace from the source and from variable
// values separates words, quoted text never does.
struct Words {
  std::string word;
  std::vector<std::string> words;
  bool in_word = false;

  void add_char(int ch) {
    if (is_space(ch) && in_word) {
      if (!word.empty()) {
        words.push_back(std::move(word));
        word.clear();
        in_word = false;
      }
    } else if (!is_space(ch)) {
      add_raw_char(ch);
    }
  }
  void add_raw_char(int ch) {
    word += static_cast<char>(ch);
    in_word = true;
  }
  void add_string(std::string_view s) {
    for (char c : s) {
      add_char(static_cast<unsigned char>(c));
    }
  }
  void add_raw_string(std::string_view s) {
    word += s;
    in_word = true;
  }
  std::vector<std::string> take() {
    if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
      in_word = false;
    }
    return std::move(words);
  }
};

// A `${X#pat}` / `${X%pat}` / `${X/pat/rep}` pattern: `*` any string, `?` any one character,
// `\` escapes `*`, `?`, `\` (and `}`/`/`, which only need it inside `${}`).
struct GlobToken {
  enum Kind { Literal, AnyOne, AnyString } kind;
  char ch;
};

base::Result<std::vector<GlobToken>> compile_glob(std::string_view pattern) {
  std::vector<GlobToken> out;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '*') {
      out.push_back({GlobToken::AnyString, 0});
    } else if (c == '?') {
      out.push_back({GlobToken::AnyOne, 0});
    } else if (c == '\\') {
      if (i + 1 < pattern.size() && (pattern[i + 1] == '}' || pattern[i + 1] == '/')) {
        continue;  // the escape is not part of the pattern
      }
      if (i + 1 >= pattern.size() ||
          (pattern[i + 1] != '*' && pattern[i + 1] != '?' && pattern[i + 1] != '\\')) {
        std::string bad = i + 1 < pattern.size() ? std::string(1, pattern[i + 1]) : "";
        return base::make_error(base::ErrorCode::InvalidArgument,
                                "invalid pattern ({}) in substitution: invalid escape '\\{}'",
                                pattern, bad);
      }
      out.push_back({GlobToken::Literal, pattern[++i]});
    } else {
      out.push_back({GlobToken::Literal, c});
    }
  }
  return out;
}

// Whole-string match; iterative with one backtracking point, so linear-ish, never exponential
// (the Dockerfile may come from an API client).
bool glob_match(const std::vector<GlobToken>& pat, std::string_view s) {
  size_t pi = 0, si = 0;
  size_t star = std::string_view::npos, star_si = 0;
  while (si < s.size()) {
    if (pi < pat.size() && pat[pi].kind == GlobToken::AnyString) {
      star = pi++;
      star_si = si;
      continue;
    }
    if (pi < pat.size() && (pat[pi].kind == GlobToken::AnyOne || pat[pi].ch == s[si])) {
      ++pi;
      ++si;
      continue;
    }
    if (star == std::string_view::npos) {
      return false;
    }
    pi = star + 1;
    si = ++star_si;
  }
  while (pi < pat.size() && pat[pi].kind == GlobToken::AnyString) {
    ++pi;
  }
  return pi == pat.size();
}

class ShellWord {
 public:
  ShellWord(std::string_view src, const Env& env, const LexOptions& options)
      : src_(src), env_(env), options_(options), raw_escapes_(options.raw_escapes) {}

  base::Result<std::pair<std::string, std::vector<std::string>>> run() {
    auto r = process_stop_on(kEof, raw_escapes_);
    if (!r.has_value()) {
      return std::move(r).error().wrap(fmt::format("failed to process {}", go_quote(src_)));
    }
    return r;
  }

 private:
  int peek() const { return pos_ < src_.size() ? static_cast<unsigned char>(src_[pos_]) : kEof; }
  int next() { return pos_ < src_.size() ? static_cast<unsigned char>(src_[pos_++]) : kEof; }

  static base::Error syntax(std::string_view what) {
    return base::Error(base::ErrorCode::InvalidArgument, std::string(what));
  }

  base::Result<std::pair<std::string, std::vector<std::string>>> process_stop_on(int stop,
                                                                                 bool raw_escapes) {
    bool saved = raw_escapes_;
    raw_escapes_ = raw_escapes;
    auto r = process_stop_on_inner(stop);
    raw_escapes_ = saved;
    return r;
  }

  base::Result<std::pair<std::string, std::vector<std::string>>> process_stop_on_inner(int stop) {
    std::string result;
    Words words;
    const int esc = static_cast<unsigned char>(options_.escape);
    while (peek() != kEof) {
      int ch = peek();
      if (stop != kEof && ch == stop) {
        next();
        return std::make_pair(std::move(result), words.take());
      }
      bool quote = !options_.skip_process_quotes && (ch == '\'' || ch == '"');
      if (ch == '$' || quote) {
        std::string tmp;
        if (ch == '$') {
          tmp = MYDOCKER_TRY(process_dollar());
          words.add_string(tmp);
        } else {
          tmp = ch == '\'' ? MYDOCKER_TRY(process_single_quote())
                           : MYDOCKER_TRY(process_double_quote());
          words.add_raw_string(tmp);
        }
        result += tmp;
        continue;
      }
      ch = next();
      if (ch == esc) {
        if (raw_escapes_) {
          words.add_raw_char(ch);
          result += static_cast<char>(ch);
        }
        ch = next();
        if (ch == kEof) {
          break;
        }
        words.add_raw_char(ch);
      } else {
        words.add_char(ch);
      }
      result += static_cast<char>(ch);
    }
    if (stop != kEof) {
      return syntax(fmt::format("unexpected end of statement while looking for matching {}",
                                static_cast<char>(stop)));
    }
    return std::make_pair(std::move(result), words.take());
  }

  base::Result<std::string> process_single_quote() {
    std::string result;
    int ch = next();
    if (options_.raw_quotes) {
      result += static_cast<char>(ch);
    }
    for (;;) {
      ch = next();
      if (ch == kEof) {
        return syntax("unexpected end of statement while looking for matching single-quote");
      }
      if (ch == '\'') {
        if (options_.raw_quotes) {
          result += static_cast<char>(ch);
        }
        return result;
      }
      result += static_cast<char>(ch);
    }
  }

  base::Result<std::string> process_double_quote() {
    std::string result;
    int ch = next();
    if (options_.raw_quotes) {
      result += static_cast<char>(ch);
    }
    const int esc = static_cast<unsigned char>(options_.escape);
    for (;;) {
      int p = peek();
      if (p == kEof) {
        return syntax("unexpected end of statement while looking for matching double-quote");
      }
      if (p == '"') {
        ch = next();
        if (options_.raw_quotes) {
          result += static_cast<char>(ch);
        }
        return result;
      }
      if (p == '$') {
        result += MYDOCKER_TRY(process_dollar());
        continue;
      }
      ch = next();
      if (ch == esc) {
        if (raw_escapes_) {
          result += static_cast<char>(ch);
        }
        int n = peek();
        if (n == kEof) {
          continue;  // an escape at the very end is dropped
        }
        // Only `"`, `$` and the escape itself can be escaped; other escapes stay literal.
        if (n == '"' || n == '$' || n == esc) {
          ch = next();
        }
      }
      result += static_cast<char>(ch);
    }
  }

  std::string process_name() {
    std::string name;
    while (peek() != kEof) {
      int ch = peek();
      if (name.empty() && is_digit(ch)) {
        while (peek() != kEof && is_digit(peek())) {
          name += static_cast<char>(next());
        }
        return name;
      }
      if (name.empty() && (ch == '@' || ch == '*' || ch == '#' || ch == '?' || ch == '-' ||
                           ch == '$' || ch == '!' || ch == '0')) {
        name += static_cast<char>(next());
        return name;
      }
      if (!is_name_char(ch)) {
        break;
      }
      name += static_cast<char>(next());
    }
    return name;
  }

  std::optional<std::string> get_env(std::string_view name) const {
    auto it = env_.find(name);
    if (it == env_.end()) {
      return std::nullopt;
    }
    return it->second;
  }

  base::Result<std::string> process_dollar() {
    next();  // '$'
    if (peek() != '{') {
      std::string name = process_name();
      if (name.empty()) {
        return std::string("$");
      }
      auto value = get_env(name);
      if (!value && options_.skip_unset) {
        return "$" + name;
      }
      return value.value_or("");
    }
    next();  // '{'
    int p = peek();
    if (p == kEof) {
      return syntax("syntax error: missing '}'");
    }
    if (p == '{' || p == '}' || p == ':') {
      return syntax("syntax error: bad substitution");
    }
    std::string name = process_name();
    int ch = next();
    if (ch == kEof) {
      return syntax("syntax error: missing '}'");
    }
    std::string chs(1, static_cast<char>(ch));
    bool null_is_unset = false;
    if (ch == '}') {
      auto value = get_env(name);
      if (!value && options_.skip_unset) {
        return "${" + name + "}";
      }
      return value.value_or("");
    }
    if (ch == ':') {
      null_is_unset = true;
      ch = next();
      if (ch == kEof) {
        return syntax("syntax error: missing '}'");
      }
      chs += static_cast<char>(ch);
    }
    if (ch == '+' || ch == '-' || ch == '?' || ch == '#' || ch == '%') {
      bool raw = ch == '#' || ch == '%';
      auto r = process_stop_on('}', raw);
      if (!r.has_value()) {
        if (peek() == kEof) {
          return syntax("syntax error: missing '}'");
        }
        return std::move(r).error();
      }
      std::string word = std::move(r->first);
      auto value = get_env(name);
      if (options_.skip_unset && !value) {
        return "${" + name + chs + word + "}";
      }
      bool unset_or_null = !value || (null_is_unset && value->empty());
      switch (ch) {
        case '-':
          return unset_or_null ? word : *value;
        case '+':
          return unset_or_null ? std::string() : word;
        case '?':
          if (!value) {
            return syntax(
                fmt::format("{}: {}", name, word.empty() ? "is not allowed to be unset" : word));
          }
          if (null_is_unset && value->empty()) {
            return syntax(
                fmt::format("{}: {}", name, word.empty() ? "is not allowed to be empty" : word));
          }
          return *value;
        default:
          break;
      }
      // '#' / '%': remove the shortest (or, doubled, the longest) matching prefix / suffix.
      bool greedy = !word.empty() && word[0] == static_cast<char>(ch);
      if (greedy) {
        word.erase(0, 1);
      }
      auto glob = MYDOCKER_TRY(compile_glob(word));
      std::string v = value.value_or("");
      if (ch == '#') {
        std::optional<size_t> cut;
        for (size_t len = 0; len <= v.size(); ++len) {
          if (glob_match(glob, std::string_view(v).substr(0, len))) {
            cut = len;
            if (!greedy) {
              break;
            }
          }
        }
        return cut ? v.substr(*cut) : v;
      }
      std::optional<size_t> start;
      for (size_t s = v.size() + 1; s-- > 0;) {
        if (glob_match(glob, std::string_view(v).substr(s))) {
          start = s;
          if (!greedy) {
            break;
          }
        }
      }
      return start ? v.substr(0, *start) : v;
    }
    if (ch == '/' && !null_is_unset) {
      bool all = peek() == '/';
      if (all) {
        next();
      }
      auto pat = process_stop_on('/', true);
      if (!pat.has_value()) {
        if (peek() == kEof) {
          return syntax("syntax error: missing '/' in ${}");
        }
        return std::move(pat).error();
      }
      auto rep = process_stop_on('}', true);
      if (!rep.has_value()) {
        if (peek() == kEof) {
          return syntax("syntax error: missing '}'");
        }
        return std::move(rep).error();
      }
      auto value = get_env(name);
      if (options_.skip_unset && !value) {
        return "${" + name + "/" + pat->first + "/" + rep->first + "}";
      }
      auto glob = MYDOCKER_TRY(compile_glob(pat->first));
      std::string v = value.value_or("");
      std::string out;
      size_t i = 0;
      bool replaced = false;
      while (i <= v.size()) {
        std::optional<size_t> end;
        if (!(replaced && !all)) {
          for (size_t e = v.size() + 1; e-- > i;) {  // leftmost, longest
            if (glob_match(glob, std::string_view(v).substr(i, e - i))) {
              end = e;
              break;
            }
          }
        }
        if (end && *end > i) {
          out += rep->first;
          i = *end;
          replaced = true;
          continue;
        }
        if (i < v.size()) {
          out += v[i];
        }
        ++i;
      }
      return out;
    }
    return syntax(fmt::format("unsupported modifier ({}) in substitution", chs));
  }

  std::string_view src_;
  size_t pos_ = 0;
  const Env& env_;
  const LexOptions& options_;
  bool raw_escapes_;
};

}  // namespace

base::Result<std::string> expand_word(std::string_view word, const Env& env,
                                      const LexOptions& options) {
  ShellWord sw(word, env, options);
  auto r = MYDOCKER_TRY(sw.run());
  return std::move(r.first);
}

base::Result<std::vector<std::string>> expand_words(std::string_view word, const Env& env,
                                                    const LexOptions& options) {
  ShellWord sw(word, env, options);
  auto r = MYDOCKER_TRY(sw.run());
  return std::move(r.second);
}

}  // namespace mydocker::image::dockerfile
