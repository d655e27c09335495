// SPDX-License-Identifier: Apache-2.0
#include "image/dockerfile/dockerignore.h"

#include "runtime/base/strings.h"

namespace mydocker::image::dockerfile {

namespace {

struct Token {
  enum Kind { Literal, AnyOne, Star, DoubleStarDir, DoubleStarEnd, Class } kind = Literal;
  char ch = 0;
  bool negated = false;
  std::vector<std::pair<char, char>> ranges;  // Class
};

Token tok(Token::Kind kind, char ch = 0) {
  Token t;
  t.kind = kind;
  t.ch = ch;
  return t;
}

base::Error bad_pattern(std::string_view p) {
  return base::make_error(base::ErrorCode::InvalidArgument, "syntax error in pattern `{}`", p);
}

base::Result<std::vector<Token>> compile(std::string_view p) {
  std::vector<Token> out;
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '*') {
      if (i + 1 < p.size() && p[i + 1] == '*') {
        ++i;
        if (i + 1 < p.size() && p[i + 1] == '/') {
          ++i;  // `**/` is `**`
        }
        out.push_back(tok(i + 1 >= p.size() ? Token::DoubleStarEnd : Token::DoubleStarDir));
      } else {
        out.push_back(tok(Token::Star));
      }
    } else if (c == '?') {
      out.push_back(tok(Token::AnyOne));
    } else if (c == '\\') {
      if (i + 1 >= p.size()) {
        return bad_pattern(p);  // as Go's filepath.Match: nothing to escape
      }
      out.push_back(tok(Token::Literal, p[++i]));
    } else if (c == '[') {
      // Go's filepath.Match syntax (what Docker validates patterns with): ranges `lo[-hi]`,
      // an unescaped `-` or `]` cannot be an endpoint, `]` closes a non-empty class.
      Token t = tok(Token::Class);
      size_t j = i + 1;
      if (j < p.size() && p[j] == '^') {
        t.negated = true;
        ++j;
      }
      auto endpoint = [&](char& ch) {
        if (j >= p.size() || p[j] == '-' || p[j] == ']') {
          return false;
        }
        if (p[j] == '\\') {
          if (++j >= p.size()) {
            return false;
          }
        }
        ch = p[j++];
        return true;
      };
      for (;;) {
        if (j < p.size() && p[j] == ']' && !t.ranges.empty()) {
          break;
        }
        char lo = 0, hi = 0;
        if (!endpoint(lo)) {
          return bad_pattern(p);
        }
        hi = lo;
        if (j < p.size() && p[j] == '-') {
          ++j;
          if (!endpoint(hi)) {
            return bad_pattern(p);
          }
        }
        t.ranges.emplace_back(lo, hi);
      }
      out.push_back(std::move(t));
      i = j;
    } else {
      out.push_back(tok(Token::Literal, c));
    }
  }
  return out;
}

// Failed (token, offset) entry points are remembered, so `*a*a*a*b`-style patterns stay
// polynomial.
struct Matcher {
  const std::vector<Token>& toks;
  std::string_view s;
  std::vector<bool> failed;

  Matcher(const std::vector<Token>& t, std::string_view str)
      : toks(t), s(str), failed((t.size() + 1) * (str.size() + 1), false) {}

  bool match(size_t ti, size_t si) {
    size_t key = ti * (s.size() + 1) + si;
    if (failed[key]) {
      return false;
    }
    bool ok = match_from(ti, si);
    if (!ok) {
      failed[key] = true;
    }
    return ok;
  }

  bool match_from(size_t ti, size_t si);
};

bool Matcher::match_from(size_t ti, size_t si) {
  for (; ti < toks.size(); ++ti) {
    const Token& t = toks[ti];
    switch (t.kind) {
      case Token::Star:
        for (size_t k = si;; ++k) {
          if (match(ti + 1, k)) {
            return true;
          }
          if (k >= s.size() || s[k] == '/') {
            return false;
          }
        }
      case Token::DoubleStarEnd:
        return true;
      case Token::DoubleStarDir:
        // `(.*/)?`: nothing, or anything ending with a `/`.
        if (match(ti + 1, si)) {
          return true;
        }
        for (size_t k = si; k < s.size(); ++k) {
          if (s[k] == '/' && match(ti + 1, k + 1)) {
            return true;
          }
        }
        return false;
      case Token::AnyOne:
        if (si >= s.size() || s[si] == '/') {
          return false;
        }
        ++si;
        break;
      case Token::Literal:
        if (si >= s.size() || s[si] != t.ch) {
          return false;
        }
        ++si;
        break;
      case Token::Class: {
        if (si >= s.size()) {
          return false;
        }
        bool in = false;
        for (auto [a, b] : t.ranges) {
          in = in || (s[si] >= a && s[si] <= b);
        }
        if (in == t.negated) {
          return false;
        }
        ++si;
        break;
      }
    }
  }
  return si == s.size();
}

bool is_plain(std::string_view s) {
  return s.find_first_of("*?[]\\") == std::string_view::npos;
}

std::string relative(std::string_view path) {
  std::string p = clean_path(path);
  while (p.size() > 1 && p[0] == '/') {
    p.erase(0, 1);
  }
  return p;
}

}  // namespace

std::string clean_path(std::string_view path) {
  if (path.empty()) {
    return ".";
  }
  bool rooted = path[0] == '/';
  std::vector<std::string> out;
  for (auto& part : base::split(path, '/')) {
    if (part.empty() || part == ".") {
      continue;
    }
    if (part == "..") {
      if (!out.empty() && out.back() != "..") {
        out.pop_back();
      } else if (!rooted) {
        out.push_back(part);
      }
      continue;
    }
    out.push_back(part);
  }
  std::string joined = base::join(out, "/");
  if (rooted) {
    return "/" + joined;
  }
  return joined.empty() ? "." : joined;
}

std::vector<std::string> read_dockerignore(std::string_view text) {
  std::vector<std::string> out;
  bool first = true;
  for (auto& raw : base::split(text, '\n')) {
    std::string_view line = raw;
    if (first && line.substr(0, 3) == "\xEF\xBB\xBF") {
      line.remove_prefix(3);
    }
    first = false;
    if (!line.empty() && line[0] == '#') {
      continue;
    }
    std::string pattern(base::trim(line));
    if (pattern.empty()) {
      continue;
    }
    bool invert = pattern[0] == '!';
    if (invert) {
      pattern = std::string(base::trim(std::string_view(pattern).substr(1)));
    }
    if (!pattern.empty()) {
      pattern = clean_path(pattern);
      if (pattern.size() > 1 && pattern[0] == '/') {
        pattern.erase(0, 1);
      }
    }
    out.push_back(invert ? "!" + pattern : pattern);
  }
  return out;
}

bool match_ignore_pattern(std::string_view pattern, std::string_view path) {
  // Docker's fast path for `**<literal>`: a suffix test (so `**foo` also matches `xfoo`).
  if (pattern.substr(0, 2) == "**" && is_plain(pattern.substr(2))) {
    std::string_view suffix = pattern.substr(2);
    if (path.size() >= suffix.size() && path.substr(path.size() - suffix.size()) == suffix) {
      return true;
    }
    return !suffix.empty() && suffix[0] == '/' && path == suffix.substr(1);
  }
  auto toks = compile(pattern);
  if (!toks.has_value()) {
    return false;
  }
  Matcher m(*toks, path);
  return m.match(0, 0);
}

base::Result<IgnoreMatcher> IgnoreMatcher::from_patterns(const std::vector<std::string>& patterns) {
  IgnoreMatcher m;
  for (const auto& raw : patterns) {
    std::string p(base::trim(raw));
    if (p.empty()) {
      continue;
    }
    p = clean_path(p);
    Pattern pat;
    if (p[0] == '!') {
      if (p.size() == 1) {
        return base::make_error(base::ErrorCode::InvalidArgument,
                                "illegal exclusion pattern: \"!\"");
      }
      pat.exception = true;
      p.erase(0, 1);
      m.exceptions_ = true;
    }
    MYDOCKER_TRY(compile(p));
    pat.text = std::move(p);
    m.patterns_.push_back(std::move(pat));
  }
  return m;
}

bool IgnoreMatcher::excluded(std::string_view path) const {
  std::string file = relative(path);
  std::vector<std::string> parents;
  size_t slash = file.rfind('/');
  if (slash != std::string::npos && slash != 0) {
    parents = base::split(std::string_view(file).substr(0, slash), '/');
  }
  bool matched = false;
  for (const auto& p : patterns_) {
    // Only a pattern that could change the answer is looked at.
    if (p.exception != matched) {
      continue;
    }
    bool match = match_ignore_pattern(p.text, file);
    std::string prefix;
    for (size_t i = 0; !match && i < parents.size(); ++i) {
      prefix += (i ? "/" : "") + parents[i];
      match = match_ignore_pattern(p.text, prefix);
    }
    if (match) {
      matched = !p.exception;
    }
  }
  return matched;
}

bool IgnoreMatcher::may_include_children(std::string_view dir) const {
  if (!exceptions_) {
    return false;
  }
  std::string d = relative(dir);
  auto comps = d == "." ? std::vector<std::string>() : base::split(d, '/');
  for (const auto& p : patterns_) {
    if (!p.exception) {
      continue;
    }
    auto segs = base::split(p.text, '/');
    for (size_t k = 0;; ++k) {
      if (k == comps.size() || k == segs.size()) {
        // The pattern goes deeper than `dir` (it may match a child), or it matches `dir`'s
        // ancestor (and so everything below it).
        return true;
      }
      if (segs[k].find("**") != std::string::npos) {
        return true;
      }
      if (!match_ignore_pattern(segs[k], comps[k])) {
        break;
      }
    }
  }
  return false;
}

}  // namespace mydocker::image::dockerfile
