// SPDX-License-Identifier: Apache-2.0
#include "cmd/mydocker/template.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <variant>
#include <vector>

#include "runtime/base/strings.h"

namespace mydocker::cli {

namespace {

using base::ErrorCode;

base::Error template_error(std::string_view what) {
  return base::make_error(ErrorCode::InvalidArgument, "template: {}", what);
}

// A value during execution; `missing` is Go's "<no value>" (a key absent from a map).
struct Value {
  OJson v;
  bool missing = false;
};

struct Pipeline;

struct Field {
  std::vector<std::string> path;  // empty: "."
};
struct Literal {
  OJson v;
};
struct Ident {
  std::string name;
};
using Arg = std::variant<Field, Literal, Ident, std::shared_ptr<Pipeline>>;
struct Command {
  std::vector<Arg> args;
};
struct Pipeline {
  std::vector<Command> commands;
};

}  // namespace

struct Template::Node {
  enum class Kind { List, Text, Action, If, Range, With } kind = Kind::List;
  std::string text;
  Pipeline pipe;
  std::vector<std::unique_ptr<Node>> children;  // List
  std::unique_ptr<Node> body;                   // If/Range/With
  std::unique_ptr<Node> else_body;
};

namespace {

using Node = Template::Node;

// ---- lexing of one action ----

struct Token {
  enum class Kind { Field, Ident, String, Number, Bool, Pipe, LParen, RParen, Nil } kind;
  std::string text;
};

base::Result<std::vector<Token>> lex(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '|') {
      out.push_back({Token::Kind::Pipe, "|"});
      ++i;
    } else if (c == '(') {
      out.push_back({Token::Kind::LParen, "("});
      ++i;
    } else if (c == ')') {
      out.push_back({Token::Kind::RParen, ")"});
      ++i;
    } else if (c == '"') {
      std::string v;
      ++i;
      bool closed = false;
      while (i < s.size()) {
        char d = s[i++];
        if (d == '"') {
          closed = true;
          break;
        }
        if (d == '\\' && i < s.size()) {
          char e = s[i++];
          switch (e) {
            case 'n':
              v += '\n';
              break;
            case 't':
              v += '\t';
              break;
            default:
              v += e;
          }
        } else {
          v += d;
        }
      }
      if (!closed) {
        return template_error("unterminated quoted string");
      }
      out.push_back({Token::Kind::String, v});
    } else if (c == '`') {
      size_t end = s.find('`', i + 1);
      if (end == std::string_view::npos) {
        return template_error("unterminated raw quoted string");
      }
      out.push_back({Token::Kind::String, std::string(s.substr(i + 1, end - i - 1))});
      i = end + 1;
    } else if (c == '.' || c == '$') {
      size_t j = i + 1;
      while (j < s.size() &&
             (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_' || s[j] == '.')) {
        ++j;
      }
      std::string text(s.substr(i, j - i));
      if (c == '$') {
        // `$` is the root; `$.X` a field of the root. Treated as fields of the current value
        // at the top level, which is where docker's formats use it.
        text = text.size() > 1 ? text.substr(1) : ".";
      }
      out.push_back({Token::Kind::Field, text});
      i = j;
    } else if (std::isdigit(static_cast<unsigned char>(c)) || c == '-') {
      size_t j = i + 1;
      while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '.')) {
        ++j;
      }
      out.push_back({Token::Kind::Number, std::string(s.substr(i, j - i))});
      i = j;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i + 1;
      while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) {
        ++j;
      }
      std::string word(s.substr(i, j - i));
      if (word == "true" || word == "false") {
        out.push_back({Token::Kind::Bool, word});
      } else if (word == "nil") {
        out.push_back({Token::Kind::Nil, word});
      } else {
        out.push_back({Token::Kind::Ident, word});
      }
      i = j;
    } else {
      return template_error(fmt::format("unexpected `{}` in command", c));
    }
  }
  return out;
}

base::Result<Pipeline> parse_pipeline(const std::vector<Token>& toks, size_t& pos, bool in_paren) {
  Pipeline p;
  Command cmd;
  while (pos < toks.size()) {
    const Token& t = toks[pos];
    if (t.kind == Token::Kind::RParen) {
      if (!in_paren) {
        return template_error("unexpected right paren");
      }
      break;
    }
    ++pos;
    switch (t.kind) {
      case Token::Kind::Pipe:
        if (cmd.args.empty()) {
          return template_error("missing command before `|`");
        }
        p.commands.push_back(std::move(cmd));
        cmd = Command{};
        break;
      case Token::Kind::LParen: {
        auto sub = std::make_shared<Pipeline>(MYDOCKER_TRY(parse_pipeline(toks, pos, true)));
        if (pos >= toks.size() || toks[pos].kind != Token::Kind::RParen) {
          return template_error("unclosed left paren");
        }
        ++pos;
        cmd.args.emplace_back(std::move(sub));
        break;
      }
      case Token::Kind::Field: {
        Field f;
        if (t.text != ".") {
          for (auto& part : base::split(std::string_view(t.text).substr(1), '.')) {
            if (part.empty()) {
              return template_error(fmt::format("bad field `{}`", t.text));
            }
            f.path.push_back(part);
          }
        }
        cmd.args.emplace_back(std::move(f));
        break;
      }
      case Token::Kind::Ident:
        cmd.args.emplace_back(Ident{t.text});
        break;
      case Token::Kind::String:
        cmd.args.emplace_back(Literal{OJson(t.text)});
        break;
      case Token::Kind::Number: {
        OJson n = OJson::parse(t.text, nullptr, false);
        if (n.is_discarded()) {
          return template_error(fmt::format("bad number `{}`", t.text));
        }
        cmd.args.emplace_back(Literal{n});
        break;
      }
      case Token::Kind::Bool:
        cmd.args.emplace_back(Literal{OJson(t.text == "true")});
        break;
      case Token::Kind::Nil:
        cmd.args.emplace_back(Literal{OJson()});
        break;
      default:
        break;
    }
  }
  if (cmd.args.empty()) {
    return template_error("missing value for command");
  }
  p.commands.push_back(std::move(cmd));
  return p;
}

base::Result<Pipeline> parse_action(std::string_view s) {
  auto toks = MYDOCKER_TRY(lex(s));
  size_t pos = 0;
  Pipeline p = MYDOCKER_TRY(parse_pipeline(toks, pos, false));
  if (pos != toks.size()) {
    return template_error("unexpected `)`");
  }
  return p;
}

// ---- parsing of the text ----

struct Item {
  bool action = false;
  std::string text;
};

base::Result<std::vector<Item>> split_items(std::string_view text) {
  std::vector<Item> items;
  size_t i = 0;
  while (i < text.size()) {
    size_t open = text.find("{{", i);
    if (open == std::string_view::npos) {
      items.push_back({false, std::string(text.substr(i))});
      break;
    }
    std::string lit(text.substr(i, open - i));
    size_t start = open + 2;
    if (start + 1 < text.size() && text[start] == '-' &&
        std::isspace(static_cast<unsigned char>(text[start + 1]))) {
      while (!lit.empty() && std::isspace(static_cast<unsigned char>(lit.back()))) {
        lit.pop_back();
      }
      start += 1;
    }
    if (!lit.empty()) {
      items.push_back({false, lit});
    }
    // Find the closing braces outside string literals.
    size_t j = start;
    char quote = 0;
    size_t close = std::string_view::npos;
    while (j < text.size()) {
      char c = text[j];
      if (quote != 0) {
        if (c == '\\' && quote == '"') {
          j += 2;
          continue;
        }
        if (c == quote) {
          quote = 0;
        }
      } else if (c == '"' || c == '`') {
        quote = c;
      } else if (c == '}' && j + 1 < text.size() && text[j + 1] == '}') {
        close = j;
        break;
      }
      ++j;
    }
    if (close == std::string_view::npos) {
      return template_error("unclosed action");
    }
    std::string_view inner = text.substr(start, close - start);
    bool trim_right = false;
    if (inner.size() >= 2 && inner.back() == '-' &&
        std::isspace(static_cast<unsigned char>(inner[inner.size() - 2]))) {
      inner.remove_suffix(1);
      trim_right = true;
    }
    items.push_back({true, std::string(base::trim(inner))});
    i = close + 2;
    if (trim_right) {
      while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) {
        ++i;
      }
    }
  }
  return items;
}

bool keyword(const std::string& action, std::string_view kw, std::string_view* rest) {
  if (action == kw) {
    *rest = "";
    return true;
  }
  if (action.size() > kw.size() && action.starts_with(kw) &&
      std::isspace(static_cast<unsigned char>(action[kw.size()]))) {
    *rest = base::trim(std::string_view(action).substr(kw.size()));
    return true;
  }
  return false;
}

// Parses items[pos...] into `list` until {{end}} or {{else...}}; returns that terminator.
base::Result<std::string> parse_list(const std::vector<Item>& items, size_t& pos, Node& list) {
  while (pos < items.size()) {
    const Item& it = items[pos++];
    if (!it.action) {
      auto n = std::make_unique<Node>();
      n->kind = Node::Kind::Text;
      n->text = it.text;
      list.children.push_back(std::move(n));
      continue;
    }
    if (it.text.starts_with("/*")) {
      continue;  // comment
    }
    std::string_view rest;
    if (it.text == "end" || keyword(it.text, "else", &rest)) {
      return it.text;
    }
    Node::Kind kind = Node::Kind::Action;
    if (keyword(it.text, "if", &rest)) {
      kind = Node::Kind::If;
    } else if (keyword(it.text, "range", &rest)) {
      kind = Node::Kind::Range;
    } else if (keyword(it.text, "with", &rest)) {
      kind = Node::Kind::With;
    } else {
      rest = it.text;
    }
    auto n = std::make_unique<Node>();
    n->kind = kind;
    if (rest.empty()) {
      return template_error("missing value for command");
    }
    n->pipe = MYDOCKER_TRY(parse_action(rest));
    if (kind != Node::Kind::Action) {
      // Block: body, optional else (possibly "else if"), end.
      Node* cur = n.get();
      for (;;) {
        cur->body = std::make_unique<Node>();
        std::string term = MYDOCKER_TRY(parse_list(items, pos, *cur->body));
        if (term == "end") {
          break;
        }
        if (term.empty()) {
          return template_error("unexpected EOF");
        }
        std::string_view else_rest;
        keyword(term, "else", &else_rest);
        cur->else_body = std::make_unique<Node>();
        if (else_rest.empty()) {
          std::string t2 = MYDOCKER_TRY(parse_list(items, pos, *cur->else_body));
          if (t2 != "end") {
            return template_error("expected end");
          }
          break;
        }
        std::string_view cond;
        const std::string else_text(else_rest);  // `cond` points into it
        if (!keyword(else_text, "if", &cond) || cond.empty()) {
          return template_error(fmt::format("unexpected `{}` in else", else_rest));
        }
        auto nested = std::make_unique<Node>();
        nested->kind = Node::Kind::If;
        nested->pipe = MYDOCKER_TRY(parse_action(cond));
        Node* next = nested.get();
        cur->else_body->children.push_back(std::move(nested));
        cur = next;
      }
    }
    list.children.push_back(std::move(n));
  }
  return std::string();
}

// ---- printing ----

std::string format_number(const OJson& v) {
  if (v.is_number_integer()) {
    return v.dump();
  }
  double d = v.get<double>();
  if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e21) {
    return fmt::format("{:.0f}", d);
  }
  // Go's %v of a float64: shortest representation, exponent for large/small values.
  std::string s = fmt::format("{}", d);
  return s;
}

bool truthy(const Value& val) {
  if (val.missing) {
    return false;
  }
  const OJson& v = val.v;
  if (v.is_null()) {
    return false;
  }
  if (v.is_boolean()) {
    return v.get<bool>();
  }
  if (v.is_number()) {
    return v.get<double>() != 0;
  }
  if (v.is_string()) {
    return !v.get_ref<const std::string&>().empty();
  }
  return !v.empty();
}

std::string print_value(const Value& val) {
  if (val.missing) {
    return "<no value>";
  }
  return go_print(val.v);
}

struct Ctx {
  const OJson* root;
  bool escape_root_json = false;
};

base::Result<Value> eval_pipeline(const Pipeline& p, const Value& dot, const Ctx& ctx);

base::Result<Value> field_of(const Value& base_val, const std::vector<std::string>& path) {
  Value cur = base_val;
  for (const auto& name : path) {
    if (cur.missing || cur.v.is_null()) {
      if (cur.missing) {
        return Value{OJson(), true};
      }
      return template_error(fmt::format("nil pointer evaluating .{}", name));
    }
    if (!cur.v.is_object()) {
      return template_error(fmt::format("can't evaluate field {} in type {}", name,
                                        cur.v.is_array() ? "[]interface {}" : cur.v.type_name()));
    }
    auto it = cur.v.find(name);
    if (it == cur.v.end()) {
      cur = Value{OJson(), true};
    } else {
      cur = Value{*it, false};
    }
  }
  return cur;
}

std::string str_arg(const Value& v) {
  if (v.v.is_string()) {
    return v.v.get<std::string>();
  }
  return print_value(v);
}

std::string go_quote(std::string_view s) {
  return OJson(std::string(s)).dump();
}

base::Result<std::string> go_sprintf(const std::string& fmtstr, const std::vector<Value>& args) {
  std::string out;
  size_t ai = 0;
  for (size_t i = 0; i < fmtstr.size(); ++i) {
    char c = fmtstr[i];
    if (c != '%' || i + 1 >= fmtstr.size()) {
      out += c;
      continue;
    }
    char verb = fmtstr[++i];
    if (verb == '%') {
      out += '%';
      continue;
    }
    if (ai >= args.size()) {
      out += fmt::format("%!{}(MISSING)", verb);
      continue;
    }
    const Value& a = args[ai++];
    switch (verb) {
      case 'q':
        out += go_quote(str_arg(a));
        break;
      default:  // s, d, v
        out += print_value(a);
    }
  }
  return out;
}

base::Result<Value> call_function(const std::string& name, const std::vector<Value>& args,
                                  const Ctx& ctx) {
  auto need = [&](size_t n) -> base::Result<void> {
    if (args.size() != n) {
      return template_error(
          fmt::format("wrong number of args for {}: want {} got {}", name, n, args.size()));
    }
    return base::ok();
  };
  if (name == "json") {
    MYDOCKER_TRY(need(1));
    bool escape = ctx.escape_root_json && args[0].v == *ctx.root;
    return Value{OJson(args[0].missing ? std::string("null") : go_json(args[0].v, escape))};
  }
  if (name == "index") {
    if (args.empty()) {
      return template_error("wrong number of args for index");
    }
    Value cur = args[0];
    for (size_t i = 1; i < args.size(); ++i) {
      if (cur.missing || cur.v.is_null()) {
        return Value{OJson(), true};
      }
      if (cur.v.is_object()) {
        auto it = cur.v.find(str_arg(args[i]));
        cur = it == cur.v.end() ? Value{OJson(), true} : Value{*it, false};
      } else if (cur.v.is_array() && args[i].v.is_number_integer()) {
        int64_t k = args[i].v.get<int64_t>();
        if (k < 0 || static_cast<size_t>(k) >= cur.v.size()) {
          return template_error(fmt::format("error calling index: index out of range: {}", k));
        }
        cur = Value{cur.v[static_cast<size_t>(k)], false};
      } else {
        return template_error("error calling index: can't index item");
      }
    }
    return cur;
  }
  if (name == "join") {
    MYDOCKER_TRY(need(2));
    std::vector<std::string> parts;
    if (args[0].v.is_array()) {
      for (const auto& e : args[0].v) {
        parts.push_back(str_arg(Value{e, false}));
      }
    }
    return Value{OJson(base::join(parts, str_arg(args[1])))};
  }
  if (name == "split") {
    MYDOCKER_TRY(need(2));
    std::string s = str_arg(args[0]);
    std::string sep = str_arg(args[1]);
    OJson arr = OJson::array();
    if (sep.empty()) {
      for (char c : s) {
        arr.push_back(std::string(1, c));
      }
    } else {
      size_t start = 0;
      for (;;) {
        size_t p = s.find(sep, start);
        arr.push_back(s.substr(start, p == std::string::npos ? std::string::npos : p - start));
        if (p == std::string::npos) {
          break;
        }
        start = p + sep.size();
      }
    }
    return Value{arr};
  }
  if (name == "lower" || name == "upper" || name == "title") {
    MYDOCKER_TRY(need(1));
    std::string s = str_arg(args[0]);
    bool start = true;
    for (char& c : s) {
      unsigned char u = static_cast<unsigned char>(c);
      if (name == "lower") {
        c = static_cast<char>(std::tolower(u));
      } else if (name == "upper" || start) {
        c = static_cast<char>(std::toupper(u));
      }
      start = std::isspace(u) != 0;
    }
    return Value{OJson(s)};
  }
  if (name == "truncate") {
    MYDOCKER_TRY(need(2));
    std::string s = str_arg(args[0]);
    int64_t n = args[1].v.is_number() ? args[1].v.get<int64_t>() : 0;
    if (n >= 0 && static_cast<size_t>(n) < s.size()) {
      s.resize(static_cast<size_t>(n));
    }
    return Value{OJson(s)};
  }
  if (name == "pad") {
    MYDOCKER_TRY(need(3));
    int64_t l = args[1].v.is_number() ? args[1].v.get<int64_t>() : 0;
    int64_t r = args[2].v.is_number() ? args[2].v.get<int64_t>() : 0;
    return Value{OJson(std::string(static_cast<size_t>(std::max<int64_t>(l, 0)), ' ') +
                       str_arg(args[0]) +
                       std::string(static_cast<size_t>(std::max<int64_t>(r, 0)), ' '))};
  }
  if (name == "len") {
    MYDOCKER_TRY(need(1));
    const OJson& v = args[0].v;
    if (v.is_string()) {
      return Value{OJson(v.get_ref<const std::string&>().size())};
    }
    if (v.is_array() || v.is_object()) {
      return Value{OJson(v.size())};
    }
    return template_error("error calling len: len of type " + std::string(v.type_name()));
  }
  if (name == "print" || name == "println") {
    std::string out;
    for (size_t i = 0; i < args.size(); ++i) {
      bool both_nonstring = i > 0 && !args[i].v.is_string() && !args[i - 1].v.is_string();
      if (i > 0 && (name == "println" || both_nonstring)) {
        out += ' ';
      }
      out += print_value(args[i]);
    }
    if (name == "println") {
      out += '\n';
    }
    return Value{OJson(out)};
  }
  if (name == "printf") {
    if (args.empty()) {
      return template_error("wrong number of args for printf");
    }
    std::vector<Value> rest(args.begin() + 1, args.end());
    return Value{OJson(MYDOCKER_TRY(go_sprintf(str_arg(args[0]), rest)))};
  }
  if (name == "eq" || name == "ne") {
    if (args.size() < 2) {
      return template_error("wrong number of args for " + name);
    }
    bool eq = false;
    for (size_t i = 1; i < args.size(); ++i) {
      eq = eq || args[0].v == args[i].v;
    }
    return Value{OJson(name == "eq" ? eq : !eq)};
  }
  if (name == "not") {
    MYDOCKER_TRY(need(1));
    return Value{OJson(!truthy(args[0]))};
  }
  if (name == "and" || name == "or") {
    if (args.empty()) {
      return template_error("wrong number of args for " + name);
    }
    for (size_t i = 0; i + 1 < args.size(); ++i) {
      if (truthy(args[i]) != (name == "and")) {
        return args[i];
      }
    }
    return args.back();
  }
  return template_error(fmt::format("function \"{}\" not defined", name));
}

base::Result<Value> eval_arg(const Arg& arg, const Value& dot, const Ctx& ctx) {
  if (const auto* f = std::get_if<Field>(&arg)) {
    return field_of(dot, f->path);
  }
  if (const auto* l = std::get_if<Literal>(&arg)) {
    return Value{l->v};
  }
  if (const auto* p = std::get_if<std::shared_ptr<Pipeline>>(&arg)) {
    return eval_pipeline(**p, dot, ctx);
  }
  const auto& id = std::get<Ident>(arg);
  return call_function(id.name, {}, ctx);
}

base::Result<Value> eval_command(const Command& cmd, const Value& dot, const Ctx& ctx,
                                 const std::optional<Value>& piped) {
  const Arg& head = cmd.args.front();
  std::vector<Value> args;
  for (size_t i = 1; i < cmd.args.size(); ++i) {
    args.push_back(MYDOCKER_TRY(eval_arg(cmd.args[i], dot, ctx)));
  }
  if (piped) {
    args.push_back(*piped);
  }
  if (const auto* id = std::get_if<Ident>(&head)) {
    return call_function(id->name, args, ctx);
  }
  Value v = MYDOCKER_TRY(eval_arg(head, dot, ctx));
  if (args.empty()) {
    return v;
  }
  // A field given arguments: docker's context methods such as .Label "key".
  if (std::holds_alternative<Field>(head) && v.v.is_object() && args.size() == 1) {
    auto it = v.v.find(str_arg(args[0]));
    return it == v.v.end() ? Value{OJson("")} : Value{*it, false};
  }
  if (std::holds_alternative<Field>(head) && v.v.is_string()) {
    return v;  // a header context: the column title stands for the whole call
  }
  return template_error("can't give argument to non-function");
}

base::Result<Value> eval_pipeline(const Pipeline& p, const Value& dot, const Ctx& ctx) {
  std::optional<Value> cur;
  for (const auto& cmd : p.commands) {
    cur = MYDOCKER_TRY(eval_command(cmd, dot, ctx, cur));
  }
  return *cur;
}

base::Result<void> exec_node(const Node& n, const Value& dot, const Ctx& ctx, std::string& out) {
  switch (n.kind) {
    case Node::Kind::List:
      for (const auto& c : n.children) {
        MYDOCKER_TRY(exec_node(*c, dot, ctx, out));
      }
      return base::ok();
    case Node::Kind::Text:
      out += n.text;
      return base::ok();
    case Node::Kind::Action: {
      Value v = MYDOCKER_TRY(eval_pipeline(n.pipe, dot, ctx));
      out += print_value(v);
      return base::ok();
    }
    case Node::Kind::If:
    case Node::Kind::With: {
      Value v = MYDOCKER_TRY(eval_pipeline(n.pipe, dot, ctx));
      if (truthy(v)) {
        return exec_node(*n.body, n.kind == Node::Kind::With ? v : dot, ctx, out);
      }
      if (n.else_body) {
        return exec_node(*n.else_body, dot, ctx, out);
      }
      return base::ok();
    }
    case Node::Kind::Range: {
      Value v = MYDOCKER_TRY(eval_pipeline(n.pipe, dot, ctx));
      if ((v.v.is_array() || v.v.is_object()) && !v.v.empty()) {
        for (const auto& e : v.v) {
          MYDOCKER_TRY(exec_node(*n.body, Value{e, false}, ctx, out));
        }
      } else if (!v.missing && !v.v.is_null() && !v.v.is_array() && !v.v.is_object()) {
        return template_error("range can't iterate over " + print_value(v));
      } else if (n.else_body) {
        return exec_node(*n.else_body, dot, ctx, out);
      }
      return base::ok();
    }
  }
  return base::ok();
}

}  // namespace

Template::Template() = default;
Template::Template(Template&&) noexcept = default;
Template& Template::operator=(Template&&) noexcept = default;
Template::~Template() = default;

base::Result<Template> Template::parse(std::string_view text) {
  auto items = MYDOCKER_TRY(split_items(text));
  Template t;
  t.root_ = std::make_unique<Node>();
  size_t pos = 0;
  std::string term = MYDOCKER_TRY(parse_list(items, pos, *t.root_));
  if (!term.empty()) {
    return template_error(fmt::format("unexpected {{{{{}}}}}", term));
  }
  return t;
}

base::Result<std::string> Template::execute(const OJson& data, bool escape_root_json) const {
  std::string out;
  Ctx ctx{&data, escape_root_json};
  MYDOCKER_TRY(exec_node(*root_, Value{data, false}, ctx, out));
  return out;
}

std::string go_print(const OJson& v) {
  switch (v.type()) {
    case OJson::value_t::null:
      return "<nil>";
    case OJson::value_t::string:
      return v.get<std::string>();
    case OJson::value_t::boolean:
      return v.get<bool>() ? "true" : "false";
    case OJson::value_t::number_integer:
    case OJson::value_t::number_unsigned:
    case OJson::value_t::number_float:
      return format_number(v);
    case OJson::value_t::array: {
      std::string out = "[";
      bool first = true;
      for (const auto& e : v) {
        if (!first) {
          out += ' ';
        }
        first = false;
        out += go_print(e);
      }
      return out + "]";
    }
    case OJson::value_t::object: {
      std::vector<std::string> keys;
      for (const auto& [k, _] : v.items()) {
        keys.push_back(k);
      }
      std::sort(keys.begin(), keys.end());
      std::string out = "map[";
      bool first = true;
      for (const auto& k : keys) {
        if (!first) {
          out += ' ';
        }
        first = false;
        out += k + ":" + go_print(v.at(k));
      }
      return out + "]";
    }
    default:
      return v.dump();
  }
}

std::string go_json(const OJson& v, bool escape_html) {
  std::string s = v.dump(-1, ' ', false, OJson::error_handler_t::replace);
  if (!escape_html) {
    return s;
  }
  // Only string contents can hold these characters in compact JSON.
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "\\u003c";
        break;
      case '>':
        out += "\\u003e";
        break;
      case '&':
        out += "\\u0026";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace mydocker::cli
