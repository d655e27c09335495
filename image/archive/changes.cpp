// SPDX-License-Identifier: Apache-2.0
#include "image/archive/changes.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <optional>

#include "runtime/base/strings.h"

namespace mydocker::image::archive {

using base::ErrorCode;
using base::make_error;

namespace {

struct Line {
  int number = 0;
  std::string instruction;  // lower case
  std::string args;         // the rest, trimmed
};

std::string to_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

// Joins continuation lines and drops comments and blanks, numbering as Docker's parser does.
std::vector<Line> split_lines(const std::vector<std::string>& changes) {
  std::string all = base::join(changes, "\n");
  std::vector<Line> out;
  std::string pending;
  int start = 0;
  int number = 0;
  for (const std::string& raw : base::split(all, '\n')) {
    ++number;
    std::string_view t = base::trim(raw);
    if (pending.empty() && (t.empty() || t[0] == '#')) {
      continue;
    }
    if (pending.empty()) {
      start = number;
    }
    if (!t.empty() && t.back() == '\\') {
      pending += std::string(t.substr(0, t.size() - 1));
      pending += ' ';
      continue;
    }
    pending += std::string(t);
    std::string_view p = base::trim(pending);
    size_t sp = p.find_first_of(" \t");
    Line l;
    l.number = start;
    l.instruction = base::ascii_lower(p.substr(0, sp));
    l.args = sp == std::string_view::npos ? "" : std::string(base::trim(p.substr(sp)));
    out.push_back(std::move(l));
    pending.clear();
  }
  if (!pending.empty()) {
    std::string_view p = base::trim(pending);
    size_t sp = p.find_first_of(" \t");
    out.push_back({start, base::ascii_lower(p.substr(0, sp)),
                   sp == std::string_view::npos ? "" : std::string(base::trim(p.substr(sp)))});
  }
  return out;
}

// JSON form (`["a", "b"]`) when the text is a JSON array of strings; nullopt otherwise (shell
// form), as Docker's parser falls back.
std::optional<std::vector<std::string>> json_form(const std::string& args) {
  if (args.empty() || args[0] != '[') {
    return std::nullopt;
  }
  auto j = nlohmann::json::parse(args, nullptr, false);
  if (j.is_discarded() || !j.is_array()) {
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (const auto& v : j) {
    if (!v.is_string()) {
      return std::nullopt;
    }
    out.push_back(v.get<std::string>());
  }
  return out;
}

// Splits `k=v k2="v 2"` words honouring double/single quotes and backslash escapes.
base::Result<std::vector<std::string>> words(const Line& l) {
  std::vector<std::string> out;
  std::string cur;
  bool in_word = false;
  char quote = 0;
  const std::string& s = l.args;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quote != 0) {
      if (c == quote) {
        quote = 0;
      } else if (c == '\\' && quote == '"' && i + 1 < s.size()) {
        cur += s[++i];
      } else {
        cur += c;
      }
      continue;
    }
    if (c == '"' || c == '\'') {
      quote = c;
      in_word = true;
      continue;
    }
    if (c == '\\' && i + 1 < s.size()) {
      cur += s[++i];
      in_word = true;
      continue;
    }
    if (c == ' ' || c == '\t') {
      if (in_word) {
        out.push_back(std::move(cur));
        cur.clear();
        in_word = false;
      }
      continue;
    }
    cur += c;
    in_word = true;
  }
  if (quote != 0) {
    return make_error(ErrorCode::InvalidArgument,
                      "dockerfile parse error on line {}: unexpected end of statement while "
                      "looking for matching {}",
                      l.number, std::string(1, quote));
  }
  if (in_word) {
    out.push_back(std::move(cur));
  }
  return out;
}

// `k=v ...` or the legacy `k v` form (ENV and LABEL).
base::Result<std::vector<std::pair<std::string, std::string>>> pairs(const Line& l,
                                                                     std::string_view what) {
  std::vector<std::pair<std::string, std::string>> out;
  std::vector<std::string> w = MYDOCKER_TRY(words(l));
  if (w.empty()) {
    return make_error(ErrorCode::InvalidArgument, "{} requires at least one argument", what);
  }
  if (w[0].find('=') == std::string::npos) {
    // Legacy form: the first word is the name, the rest of the line the value.
    std::string_view rest =
        base::trim(std::string_view(l.args).substr(l.args.find(w[0]) + w[0].size()));
    if (rest.empty()) {
      return make_error(ErrorCode::InvalidArgument, "{} must have two arguments", what);
    }
    out.emplace_back(w[0], std::string(rest));
    return out;
  }
  for (const std::string& word : w) {
    size_t eq = word.find('=');
    if (eq == std::string::npos) {
      return make_error(ErrorCode::InvalidArgument,
                        "dockerfile parse error on line {}: {} names can not be blank", l.number,
                        what);
    }
    if (eq == 0) {
      return make_error(ErrorCode::InvalidArgument, "{} names can not be blank", what);
    }
    out.emplace_back(word.substr(0, eq), word.substr(eq + 1));
  }
  return out;
}

std::vector<std::string> command(const std::string& args) {
  if (auto j = json_form(args)) {
    return *j;
  }
  return {"/bin/sh", "-c", args};
}

base::Result<void> apply_one(content::RunConfig& c, const Line& l) {
  const std::string up = to_upper(l.instruction);
  if (l.args.empty()) {
    return make_error(ErrorCode::InvalidArgument, "{} requires at least one argument", up);
  }
  if (l.instruction == "cmd") {
    c.cmd = command(l.args);
  } else if (l.instruction == "entrypoint") {
    c.entrypoint = command(l.args);
    // Docker: an ENTRYPOINT resets a CMD inherited from the base config.
    c.cmd.reset();
  } else if (l.instruction == "env") {
    for (auto& [k, v] : MYDOCKER_TRY(pairs(l, "ENV"))) {
      std::string entry = k + "=" + v;
      auto it = std::find_if(c.env.begin(), c.env.end(), [&](const std::string& e) {
        return e.compare(0, k.size() + 1, k + "=") == 0;
      });
      if (it != c.env.end()) {
        *it = entry;
      } else {
        c.env.push_back(entry);
      }
    }
  } else if (l.instruction == "label") {
    for (auto& [k, v] : MYDOCKER_TRY(pairs(l, "LABEL"))) {
      c.labels[k] = v;
    }
  } else if (l.instruction == "expose") {
    for (std::string port : MYDOCKER_TRY(words(l))) {
      if (port.find('/') == std::string::npos) {
        port += "/tcp";
      }
      std::string proto = base::ascii_lower(port.substr(port.find('/') + 1));
      std::string num = port.substr(0, port.find('/'));
      if (num.empty() || (proto != "tcp" && proto != "udp" && proto != "sctp")) {
        return make_error(ErrorCode::InvalidArgument, "invalid containerPort: {}", num);
      }
      c.exposed_ports.insert(num + "/" + proto);
    }
  } else if (l.instruction == "user") {
    c.user = l.args;
  } else if (l.instruction == "workdir") {
    std::string dir = l.args;
    if (dir[0] != '/') {
      std::string base = c.working_dir.empty() ? "/" : c.working_dir;
      dir = base + (base.back() == '/' ? "" : "/") + dir;
    }
    c.working_dir = dir;
  } else if (l.instruction == "stopsignal") {
    c.stop_signal = l.args;
  } else if (l.instruction == "volume") {
    auto list = json_form(l.args);
    std::vector<std::string> vols = list ? *list : MYDOCKER_TRY(words(l));
    for (const std::string& v : vols) {
      if (base::trim(v).empty()) {
        return make_error(ErrorCode::InvalidArgument,
                          "VOLUME specified can not be an empty string");
      }
      c.volumes.insert(std::string(base::trim(v)));
    }
  } else if (l.instruction == "onbuild") {
    c.on_build.push_back(l.args);
  } else if (l.instruction == "healthcheck") {
    std::vector<std::string> w = MYDOCKER_TRY(words(l));
    if (to_upper(w[0]) == "NONE") {
      c.healthcheck = nlohmann::json{{"Test", {"NONE"}}};
    } else if (to_upper(w[0]) == "CMD") {
      std::string rest(base::trim(std::string_view(l.args).substr(3)));
      nlohmann::json test = nlohmann::json::array();
      if (auto j = json_form(rest)) {
        test.push_back("CMD");
        for (const auto& a : *j) {
          test.push_back(a);
        }
      } else {
        test = {"CMD-SHELL", rest};
      }
      c.healthcheck = nlohmann::json{{"Test", test}};
    } else {
      return make_error(ErrorCode::InvalidArgument, "Unknown type \"{}\" in HEALTHCHECK", w[0]);
    }
  }
  return base::ok();
}

bool valid_change(const std::string& instruction) {
  static constexpr std::string_view kValid[] = {"cmd",    "entrypoint", "healthcheck", "env",
                                                "expose", "label",      "onbuild",     "stopsignal",
                                                "user",   "volume",     "workdir"};
  return std::find(std::begin(kValid), std::end(kValid), instruction) != std::end(kValid);
}

}  // namespace

base::Result<void> apply_changes(content::RunConfig& config,
                                 const std::vector<std::string>& changes) {
  std::vector<Line> lines = split_lines(changes);
  // Docker checks every instruction before applying any.
  for (const Line& l : lines) {
    if (!valid_change(l.instruction)) {
      return make_error(ErrorCode::InvalidArgument, "{} is not a valid change command",
                        l.instruction);
    }
  }
  content::RunConfig next = config;
  for (const Line& l : lines) {
    MYDOCKER_TRY(apply_one(next, l));
  }
  config = std::move(next);
  return base::ok();
}

}  // namespace mydocker::image::archive
