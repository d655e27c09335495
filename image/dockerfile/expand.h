// SPDX-License-Identifier: Apache-2.0
// Word expansion as Docker's builder does it (BuildKit's shell lexer): `$VAR`, `${VAR}`,
// `${VAR:-word}`, `${VAR-word}`, `${VAR:+word}`, `${VAR+word}`, `${VAR:?msg}`, `${VAR?msg}`,
// `${VAR#pat}`/`##`, `${VAR%pat}`/`%%`, `${VAR/pat/rep}`/`//`, single quotes literal, double
// quotes, and the Dockerfile's escape character (`\` or `` ` ``).
//
// This is not a shell: no command substitution, no globbing, no arithmetic. The builder calls
// it per instruction, with the environment in effect at that step (ARGs and ENVs of the stage),
// and only for the instructions Docker expands (expands_variables()). RUN, CMD, ENTRYPOINT,
// SHELL and HEALTHCHECK are passed to the shell untouched.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/error.h"

namespace mydocker::image::dockerfile {

// The variables in effect: name -> value. A name present with an empty value is "set but
// null" (`${X-d}` gives "", `${X:-d}` gives "d").
using Env = std::map<std::string, std::string, std::less<>>;

struct LexOptions {
  char escape = '\\';
  // Keep quote characters in the output (the parser uses this to read heredoc words).
  bool raw_quotes = false;
  // Keep the escape character in the output.
  bool raw_escapes = false;
  // Leave `$X`/`${X...}` verbatim when X is not set (instead of expanding to "").
  bool skip_unset = false;
  // Treat quotes as ordinary characters (heredoc bodies: only `$` is special).
  bool skip_process_quotes = false;
};

// The word with variables replaced and quotes removed; spaces are kept (one word). Errors are
// Docker's: "failed to process \"${X\": syntax error: missing '}'".
base::Result<std::string> expand_word(std::string_view word, const Env& env,
                                      const LexOptions& options = {});

// The same, then split into words at unquoted whitespace (whitespace coming from a variable's
// value splits too, as Docker's ProcessWords does).
base::Result<std::vector<std::string>> expand_words(std::string_view word, const Env& env,
                                                    const LexOptions& options = {});

}  // namespace mydocker::image::dockerfile
