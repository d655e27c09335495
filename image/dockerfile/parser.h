// SPDX-License-Identifier: Apache-2.0
// The Dockerfile lexer/parser: bytes -> one Node per instruction, as Docker's parser (BuildKit's
// frontend/dockerfile/parser, which the classic builder uses too) splits them:
//  - parser directives on the first lines (`# syntax=`, `# escape=` with `\` or `` ` ``,
//    `# check=`; case-insensitive, each at most once; the first line that is not a known
//    directive ends them),
//  - comments (a line whose first non-blank character is `#`; inside a continuation they are
//    skipped), line continuations (the escape character at the end of a line, blanks after it
//    allowed), empty continuation lines (skipped, with a warning),
//  - the keyword (case-insensitive) and the `--flag[=value]` words after it,
//  - arguments as each instruction reads them: JSON exec form (a JSON array of strings) or
//    shell form, whitespace-separated lists, `k=v` pairs (ENV, LABEL), words (ARG),
//  - heredocs (`<<EOF`, `<<-EOF`, quoted delimiters, several per line) for RUN, COPY and ADD
//    (and ONBUILD of those).
// Pure: no I/O. Unknown instructions are kept here (as Docker does) and refused by
// parse_dockerfile() (instructions.h), after the whole file has been read.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/error.h"

namespace mydocker::image::dockerfile {

struct Heredoc {
  std::string name;     // the delimiter, quotes removed
  std::string content;  // the lines as written, each with its line ending
  bool expand = true;   // false when the delimiter was quoted (`<<"EOF"`, `<<'EOF'`)
  bool chomp = false;   // `<<-EOF`: leading tabs are stripped (see chomp_heredoc())
  unsigned fd = 0;      // `2<<EOF`
};

// The heredoc that `word` (`<<EOF`, `<<-"EOF"`, `2<<EOF`) opens, nullopt if it opens none:
// `^(\d*)<<(-?)([^<]*)$`, the delimiter being a single shell word.
base::Result<std::optional<Heredoc>> parse_heredoc_word(std::string_view word);

// `content` with the leading tabs of every line removed (what `<<-` means).
std::string chomp_heredoc(std::string_view content);

struct Node {
  std::string keyword;             // as written (`run`, `RUN`, ...)
  std::string original;            // the logical line (continuations joined)
  std::vector<std::string> flags;  // `--name[=value]`, quotes and escapes removed
  // The arguments. Shell form: one string (the rest of the line) for RUN/CMD/ENTRYPOINT/SHELL;
  // words for the list forms. ENV and LABEL: key, value, key, value...
  std::vector<std::string> args;
  bool json = false;  // exec form: args came from a JSON array
  std::vector<Heredoc> heredocs;
  std::vector<Node> trigger;  // ONBUILD: the one nested instruction
  int start_line = 0;         // 1-based, first physical line
  int end_line = 0;           // last physical line (heredoc bodies included)

  std::string lower_keyword() const;
};

struct Directive {
  std::string name;  // lower case: syntax, escape, check
  std::string value;
  int line = 0;
};

struct Warning {
  std::string message;
  int line = 0;
};

struct Ast {
  std::vector<Directive> directives;
  char escape = '\\';
  std::vector<Node> nodes;
  std::vector<Warning> warnings;
};

// Errors read "dockerfile parse error line N: <Docker's text>" (e.g. "unterminated heredoc",
// "file with no instructions", "invalid escape token 'x' does not match ` or \").
base::Result<Ast> parse_ast(std::string_view text);

// "dockerfile parse error line N: msg": the one shape of every parse error.
base::Error parse_error(int line, std::string_view message);

}  // namespace mydocker::image::dockerfile
