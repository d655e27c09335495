// SPDX-License-Identifier: Apache-2.0
#include "image/dockerfile/instructions.h"

#include <algorithm>
#include <deque>
#include <nlohmann/json.hpp>

#include "image/dockerfile/quote.h"
#include "runtime/base/strings.h"

namespace mydocker::image::dockerfile {

namespace {

base::Error invalid(std::string message) {
  return base::Error(base::ErrorCode::InvalidArgument, std::move(message));
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

// An instruction's `--flags` (BuildKit's BFlags): each instruction declares what it takes;
// anything else is refused.
class Flags {
 public:
  enum class Type { Bool, String, Strings };
  struct Flag {
    std::string name;
    Type type;
    std::string value;
    std::vector<std::string> values;
    bool used = false;
    bool is_true() const { return value == "true"; }
  };

  explicit Flags(const std::vector<std::string>& args) : args_(args) {}

  Flag* add_bool(std::string name) { return add(std::move(name), Type::Bool, "false"); }
  Flag* add_string(std::string name) { return add(std::move(name), Type::String, ""); }
  Flag* add_strings(std::string name) { return add(std::move(name), Type::Strings, ""); }

  base::Result<void> parse() {
    for (const auto& raw : args_) {
      if (raw.rfind("--", 0) != 0) {
        return invalid(fmt::format("arg should start with -- : {}", raw));
      }
      if (raw == "--") {
        return base::ok();
      }
      std::string_view arg = std::string_view(raw).substr(2);
      std::string value;
      size_t eq = arg.find('=');
      bool has_value = eq != std::string_view::npos;
      if (has_value) {
        value = std::string(arg.substr(eq + 1));
        arg = arg.substr(0, eq);
      }
      auto it =
          std::find_if(flags_.begin(), flags_.end(), [&](const Flag& f) { return f.name == arg; });
      if (it == flags_.end()) {
        return invalid(fmt::format("unknown flag: {}", arg));
      }
      if (it->used && it->type != Type::Strings) {
        return invalid(fmt::format("duplicate flag specified: {}", arg));
      }
      it->used = true;
      switch (it->type) {
        case Type::Bool: {
          if (has_value && value.empty()) {
            return invalid(fmt::format("missing a value on flag: {}", arg));
          }
          std::string l = base::ascii_lower(value);
          if (l.empty() || l == "true") {
            it->value = "true";
          } else if (l == "false") {
            it->value = "false";
          } else {
            return invalid(fmt::format("expecting boolean value for flag {}, not: {}", arg, value));
          }
          break;
        }
        case Type::String:
          if (!has_value) {
            return invalid(fmt::format("missing a value on flag: {}", arg));
          }
          it->value = value;
          break;
        case Type::Strings:
          if (!has_value) {
            return invalid(fmt::format("missing a value on flag: {}", arg));
          }
          it->values.push_back(value);
          break;
      }
    }
    return base::ok();
  }

 private:
  Flag* add(std::string name, Type type, std::string def) {
    flags_.push_back(Flag{std::move(name), type, std::move(def), {}, false});
    return &flags_.back();
  }

  const std::vector<std::string>& args_;
  std::deque<Flag> flags_;  // stable addresses
};

// Node args as BuildKit's nodeArgs(): ONBUILD's are the trigger's keyword then its args.
std::vector<std::string> node_args(const Node& node) {
  if (!node.trigger.empty()) {
    std::vector<std::string> out{node.trigger[0].keyword};
    auto rest = node_args(node.trigger[0]);
    out.insert(out.end(), rest.begin(), rest.end());
    return out;
  }
  return node.args;
}

std::vector<std::string> handle_json_args(const std::vector<std::string>& args, bool json) {
  if (args.empty() || json) {
    return args;
  }
  return {base::join(args, " ")};
}

CommandLine command_line(const Node& node, bool with_files) {
  CommandLine c;
  c.args = handle_json_args(node.args, node.json);
  c.prepend_shell = !node.json;
  if (with_files) {
    c.files = node.heredocs;
  }
  return c;
}

base::Error at_least_one(std::string_view cmd) {
  return invalid(fmt::format("{} requires at least one argument", cmd));
}
base::Error exactly_one(std::string_view cmd) {
  return invalid(fmt::format("{} requires exactly one argument", cmd));
}
base::Error no_destination(std::string_view cmd) {
  return invalid(fmt::format(
      "{} requires at least two arguments, but only one was provided. Destination could not be "
      "determined",
      cmd));
}

base::Result<std::vector<KeyValue>> parse_kvps(const std::vector<std::string>& args,
                                               std::string_view cmd) {
  if (args.empty()) {
    return at_least_one(cmd);
  }
  if (args.size() % 2 != 0) {
    return invalid(fmt::format("Bad input to {}, too many arguments", cmd));
  }
  std::vector<KeyValue> out;
  for (size_t i = 0; i < args.size(); i += 2) {
    if (args[i].empty()) {
      return invalid(fmt::format("{} names can not be blank", cmd));
    }
    out.push_back({args[i], args[i + 1]});
  }
  return out;
}

base::Result<SourcesAndDest> sources_and_dest(const Node& node, std::string_view cmd) {
  SourcesAndDest out;
  const auto& args = node.args;
  out.dest = args.back();
  if (MYDOCKER_TRY(parse_heredoc_word(out.dest))) {
    return invalid(fmt::format("{} cannot accept a heredoc as a destination", cmd));
  }
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    auto doc = MYDOCKER_TRY(parse_heredoc_word(args[i]));
    if (!doc) {
      out.sources.push_back(args[i]);
      continue;
    }
    std::string data;
    for (const auto& h : node.heredocs) {
      if (h.name == doc->name) {
        data = h.content;
      }
    }
    if (doc->chomp) {
      data = chomp_heredoc(data);
    }
    out.contents.push_back({doc->name, std::move(data), doc->expand});
  }
  return out;
}

base::Result<int64_t> parse_interval(const Flags::Flag* f) {
  if (f->value.empty()) {
    return int64_t{0};
  }
  int64_t d = MYDOCKER_TRY(parse_go_duration(f->value));
  if (d == 0) {
    return int64_t{0};
  }
  if (d < 1'000'000) {
    return invalid(fmt::format("Interval {} cannot be less than 1ms", go_quote(f->name)));
  }
  return d;
}

base::Result<Command> parse_healthcheck(const Node& node) {
  const auto& args = node.args;
  if (args.empty()) {
    return at_least_one("HEALTHCHECK");
  }
  HealthcheckCmd h;
  std::string typ = upper(args[0]);
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (typ == "NONE") {
    // As Docker: the flags are not even looked at.
    if (!rest.empty()) {
      return invalid("HEALTHCHECK NONE takes no arguments");
    }
    h.test = {typ};
    return Command(std::move(h));
  }
  Flags flags(node.flags);
  auto* interval = flags.add_string("interval");
  auto* timeout = flags.add_string("timeout");
  auto* start_period = flags.add_string("start-period");
  auto* start_interval = flags.add_string("start-interval");
  auto* retries = flags.add_string("retries");
  MYDOCKER_TRY(flags.parse());
  if (typ != "CMD") {
    return invalid(fmt::format("Unknown type {} in HEALTHCHECK (try CMD)", go_quote(typ)));
  }
  auto cmd = handle_json_args(rest, node.json);
  if (cmd.empty()) {
    return invalid("Missing command after HEALTHCHECK CMD");
  }
  h.test = {node.json ? "CMD" : "CMD-SHELL"};
  h.test.insert(h.test.end(), cmd.begin(), cmd.end());
  h.interval_ns = MYDOCKER_TRY(parse_interval(interval));
  h.timeout_ns = MYDOCKER_TRY(parse_interval(timeout));
  h.start_period_ns = MYDOCKER_TRY(parse_interval(start_period));
  h.start_interval_ns = MYDOCKER_TRY(parse_interval(start_interval));
  if (!retries->value.empty()) {
    auto n = base::parse_int64(retries->value);
    if (!n || *n > INT32_MAX || *n < INT32_MIN) {
      return invalid(fmt::format("strconv.ParseInt: parsing {}: {}", go_quote(retries->value),
                                 n ? "value out of range" : "invalid syntax"));
    }
    if (*n < 0) {
      return invalid(fmt::format("--retries cannot be negative ({})", *n));
    }
    h.retries = static_cast<int>(*n);
  }
  return Command(std::move(h));
}

bool valid_stage_name(std::string_view s) {
  if (s.empty() || !(s[0] >= 'a' && s[0] <= 'z')) {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
  });
}

std::string strip_onbuild(std::string_view original) {
  size_t i = 0;
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; };
  while (i < original.size() && space(original[i])) {
    ++i;
  }
  if (base::ascii_lower(original.substr(i, 7)) == "onbuild") {
    i += 7;
    while (i < original.size() && space(original[i])) {
      ++i;
    }
    return std::string(original.substr(i));
  }
  return std::string(original);
}

base::Result<Command> parse_command(const Node& node) {
  std::string kw = node.lower_keyword();
  const auto& args = node.args;
  Flags flags(node.flags);
  if (kw == "env" || kw == "label") {
    MYDOCKER_TRY(flags.parse());
    auto kvs = MYDOCKER_TRY(parse_kvps(args, upper(kw)));
    if (kw == "env") {
      return Command(EnvCmd{std::move(kvs)});
    }
    return Command(LabelCmd{std::move(kvs)});
  }
  if (kw == "maintainer") {
    if (args.size() != 1) {
      return exactly_one("MAINTAINER");
    }
    MYDOCKER_TRY(flags.parse());
    return Command(MaintainerCmd{args[0]});
  }
  if (kw == "add") {
    if (args.size() < 2) {
      return no_destination("ADD");
    }
    auto* chown = flags.add_string("chown");
    auto* chmod = flags.add_string("chmod");
    auto* link = flags.add_bool("link");
    auto* keep_git_dir = flags.add_bool("keep-git-dir");
    auto* checksum = flags.add_string("checksum");
    auto* exclude = flags.add_strings("exclude");
    auto* unpack = flags.add_bool("unpack");
    MYDOCKER_TRY(flags.parse());
    AddCmd c;
    c.paths = MYDOCKER_TRY(sources_and_dest(node, "ADD"));
    c.chown = chown->value;
    c.chmod = chmod->value;
    c.link = link->is_true();
    c.keep_git_dir = keep_git_dir->is_true();
    c.checksum = checksum->value;
    c.excludes = exclude->values;
    if (unpack->used) {
      c.unpack = unpack->is_true();
    }
    return Command(std::move(c));
  }
  if (kw == "copy") {
    if (args.size() < 2) {
      return no_destination("COPY");
    }
    auto* chown = flags.add_string("chown");
    auto* from = flags.add_string("from");
    auto* chmod = flags.add_string("chmod");
    auto* link = flags.add_bool("link");
    auto* parents = flags.add_bool("parents");
    auto* exclude = flags.add_strings("exclude");
    MYDOCKER_TRY(flags.parse());
    CopyCmd c;
    c.paths = MYDOCKER_TRY(sources_and_dest(node, "COPY"));
    c.from = from->value;
    c.chown = chown->value;
    c.chmod = chmod->value;
    c.link = link->is_true();
    c.parents = parents->is_true();
    c.excludes = exclude->values;
    return Command(std::move(c));
  }
  if (kw == "from") {
    FromCmd c;
    if (args.size() == 3 && base::ascii_lower(args[1]) == "as") {
      c.stage_name = base::ascii_lower(args[2]);
      if (!valid_stage_name(c.stage_name)) {
        return invalid(fmt::format(
            "invalid name for build stage: {}, name can't start with a number or contain symbols",
            go_quote(args[2])));
      }
    } else if (args.size() != 1) {
      return invalid("FROM requires either one or three arguments");
    }
    auto* platform = flags.add_string("platform");
    MYDOCKER_TRY(flags.parse());
    c.base = args[0];
    c.platform = platform->value;
    return Command(std::move(c));
  }
  if (kw == "onbuild") {
    auto all = node_args(node);
    if (all.empty()) {
      return at_least_one("ONBUILD");
    }
    MYDOCKER_TRY(flags.parse());
    std::string trigger = upper(base::trim(all[0]));
    if (trigger == "ONBUILD") {
      return invalid("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
    }
    if (trigger == "MAINTAINER" || trigger == "FROM") {
      return invalid(fmt::format("{} isn't allowed as an ONBUILD trigger", trigger));
    }
    OnbuildCmd c;
    c.expression = strip_onbuild(node.original);
    for (const auto& h : node.heredocs) {
      c.expression += "\n" + h.content + h.name;
    }
    c.trigger = node.trigger[0];
    c.trigger.heredocs = node.heredocs;
    return Command(std::move(c));
  }
  if (kw == "workdir" || kw == "user") {
    if (args.size() != 1) {
      return exactly_one(upper(kw));
    }
    MYDOCKER_TRY(flags.parse());
    if (kw == "user") {
      return Command(UserCmd{args[0]});
    }
    return Command(WorkdirCmd{args[0]});
  }
  if (kw == "run") {
    auto* mount = flags.add_strings("mount");
    auto* network = flags.add_string("network");
    auto* security = flags.add_string("security");
    MYDOCKER_TRY(flags.parse());
    RunCmd c;
    c.cmd = command_line(node, true);
    c.mounts = mount->values;
    c.network = network->value;
    if (network->used && c.network != "default" && c.network != "none" && c.network != "host") {
      return invalid(fmt::format("unsupported network mode {}", go_quote(c.network)));
    }
    c.security = security->value;
    if (security->used && c.security != "sandbox" && c.security != "insecure") {
      return invalid(fmt::format("unsupported security mode {}", go_quote(c.security)));
    }
    return Command(std::move(c));
  }
  if (kw == "cmd") {
    MYDOCKER_TRY(flags.parse());
    return Command(CmdCmd{command_line(node, false)});
  }
  if (kw == "entrypoint") {
    MYDOCKER_TRY(flags.parse());
    return Command(EntrypointCmd{command_line(node, false)});
  }
  if (kw == "healthcheck") {
    return parse_healthcheck(node);
  }
  if (kw == "expose") {
    if (args.empty()) {
      return at_least_one("EXPOSE");
    }
    MYDOCKER_TRY(flags.parse());
    ExposeCmd c{args};
    std::sort(c.ports.begin(), c.ports.end());
    return Command(std::move(c));
  }
  if (kw == "volume") {
    if (args.empty()) {
      return at_least_one("VOLUME");
    }
    MYDOCKER_TRY(flags.parse());
    VolumeCmd c;
    for (const auto& v : args) {
      auto t = base::trim(v);
      if (t.empty()) {
        return invalid("VOLUME specified can not be an empty string");
      }
      c.volumes.emplace_back(t);
    }
    return Command(std::move(c));
  }
  if (kw == "stopsignal") {
    // As Docker: STOPSIGNAL does not look at flags.
    if (args.size() != 1) {
      return exactly_one("STOPSIGNAL");
    }
    return Command(StopSignalCmd{args[0]});
  }
  if (kw == "arg") {
    // As Docker: ARG does not look at flags.
    if (args.empty()) {
      return at_least_one("ARG");
    }
    ArgCmd c;
    for (const auto& a : args) {
      size_t eq = a.find('=');
      if (eq == std::string::npos) {
        c.args.push_back({a, std::nullopt});
        continue;
      }
      if (eq == 0) {
        return invalid("ARG names can not be blank");
      }
      c.args.push_back({a.substr(0, eq), a.substr(eq + 1)});
    }
    return Command(std::move(c));
  }
  if (kw == "shell") {
    MYDOCKER_TRY(flags.parse());
    auto shell = handle_json_args(args, node.json);
    if (shell.empty()) {
      return at_least_one("SHELL");
    }
    if (!node.json) {
      return invalid("SHELL requires the arguments to be in JSON form");
    }
    return Command(ShellCmd{std::move(shell)});
  }
  // Docker 20.10's classic builder prints the keyword upper-cased.
  return invalid(fmt::format("unknown instruction: {}", upper(node.keyword)));
}

// --- dump ---

using ojson = nlohmann::ordered_json;

ojson heredocs_json(const std::vector<Heredoc>& docs) {
  ojson out = ojson::array();
  for (const auto& h : docs) {
    ojson j;
    j["name"] = h.name;
    j["expand"] = h.expand;
    j["chomp"] = h.chomp;
    if (h.fd != 0) {
      j["fd"] = h.fd;
    }
    j["content"] = h.content;
    out.push_back(std::move(j));
  }
  return out;
}

void put_cmdline(ojson& j, const CommandLine& c) {
  j[c.prepend_shell ? "shell" : "exec"] = c.args;
  if (!c.files.empty()) {
    j["files"] = heredocs_json(c.files);
  }
}

void put_paths(ojson& j, const SourcesAndDest& p) {
  j["sources"] = p.sources;
  if (!p.contents.empty()) {
    ojson arr = ojson::array();
    for (const auto& c : p.contents) {
      arr.push_back({{"path", c.path}, {"expand", c.expand}, {"data", c.data}});
    }
    j["contents"] = std::move(arr);
  }
  j["dest"] = p.dest;
}

void put_if(ojson& j, const char* key, const std::string& v) {
  if (!v.empty()) {
    j[key] = v;
  }
}

ojson kvs_json(const std::vector<KeyValue>& kvs) {
  ojson out = ojson::array();
  for (const auto& kv : kvs) {
    out.push_back(ojson::array({kv.key, kv.value}));
  }
  return out;
}

struct DumpVisitor {
  ojson& j;
  void operator()(const FromCmd& c) {
    j["base"] = c.base;
    put_if(j, "name", c.stage_name);
    put_if(j, "platform", c.platform);
  }
  void operator()(const RunCmd& c) {
    put_cmdline(j, c.cmd);
    if (!c.mounts.empty()) {
      j["mounts"] = c.mounts;
    }
    put_if(j, "network", c.network);
    put_if(j, "security", c.security);
  }
  void operator()(const CmdCmd& c) { put_cmdline(j, c.cmd); }
  void operator()(const EntrypointCmd& c) { put_cmdline(j, c.cmd); }
  void operator()(const ShellCmd& c) { j["shell"] = c.shell; }
  void operator()(const CopyCmd& c) {
    put_paths(j, c.paths);
    put_if(j, "from", c.from);
    put_if(j, "chown", c.chown);
    put_if(j, "chmod", c.chmod);
    if (c.link) {
      j["link"] = true;
    }
    if (c.parents) {
      j["parents"] = true;
    }
    if (!c.excludes.empty()) {
      j["excludes"] = c.excludes;
    }
  }
  void operator()(const AddCmd& c) {
    put_paths(j, c.paths);
    put_if(j, "chown", c.chown);
    put_if(j, "chmod", c.chmod);
    put_if(j, "checksum", c.checksum);
    if (c.link) {
      j["link"] = true;
    }
    if (c.keep_git_dir) {
      j["keep_git_dir"] = true;
    }
    if (c.unpack) {
      j["unpack"] = *c.unpack;
    }
    if (!c.excludes.empty()) {
      j["excludes"] = c.excludes;
    }
  }
  void operator()(const EnvCmd& c) { j["env"] = kvs_json(c.env); }
  void operator()(const LabelCmd& c) { j["labels"] = kvs_json(c.labels); }
  void operator()(const ArgCmd& c) {
    ojson arr = ojson::array();
    for (const auto& a : c.args) {
      if (a.value) {
        arr.push_back(ojson::array({a.key, *a.value}));
      } else {
        arr.push_back(ojson::array({a.key}));
      }
    }
    j["args"] = std::move(arr);
  }
  void operator()(const WorkdirCmd& c) { j["path"] = c.path; }
  void operator()(const UserCmd& c) { j["user"] = c.user; }
  void operator()(const ExposeCmd& c) { j["ports"] = c.ports; }
  void operator()(const VolumeCmd& c) { j["volumes"] = c.volumes; }
  void operator()(const StopSignalCmd& c) { j["signal"] = c.signal; }
  void operator()(const HealthcheckCmd& c) {
    j["test"] = c.test;
    if (c.interval_ns) {
      j["interval_ns"] = c.interval_ns;
    }
    if (c.timeout_ns) {
      j["timeout_ns"] = c.timeout_ns;
    }
    if (c.start_period_ns) {
      j["start_period_ns"] = c.start_period_ns;
    }
    if (c.start_interval_ns) {
      j["start_interval_ns"] = c.start_interval_ns;
    }
    if (c.retries) {
      j["retries"] = c.retries;
    }
  }
  void operator()(const OnbuildCmd& c) {
    j["expression"] = c.expression;
    j["trigger"] = upper(c.trigger.keyword);
  }
  void operator()(const MaintainerCmd& c) { j["maintainer"] = c.maintainer; }
};

}  // namespace

std::string dump_instruction(const Instruction& ins) {
  ojson j = ojson::object();
  std::visit(DumpVisitor{j}, ins.cmd);
  std::string lines = ins.end_line != ins.line ? fmt::format("{}-{}", ins.line, ins.end_line)
                                               : fmt::format("{}", ins.line);
  return fmt::format("{} {} {}", lines, ins.keyword, j.dump());
}

namespace {

// --- expansion ---

struct ExpandVisitor {
  const Env& env;
  LexOptions opts;

  base::Result<void> word(std::string& s) {
    s = MYDOCKER_TRY(expand_word(s, env, opts));
    return base::ok();
  }
  base::Result<void> each(std::vector<std::string>& v) {
    for (auto& s : v) {
      MYDOCKER_TRY(word(s));
    }
    return base::ok();
  }
  base::Result<void> paths(SourcesAndDest& p) {
    MYDOCKER_TRY(each(p.sources));
    MYDOCKER_TRY(word(p.dest));
    // Heredoc bodies (unquoted delimiter): only `$` is special there, and the escape is
    // always `\`, as BuildKit's raw expansion.
    LexOptions raw;
    raw.skip_process_quotes = true;
    for (auto& c : p.contents) {
      if (c.expand) {
        c.data = MYDOCKER_TRY(expand_word(c.data, env, raw));
      }
    }
    return base::ok();
  }

  base::Result<void> operator()(FromCmd& c) {
    MYDOCKER_TRY(word(c.base));
    return word(c.platform);
  }
  base::Result<void> operator()(CopyCmd& c) {
    MYDOCKER_TRY(paths(c.paths));
    MYDOCKER_TRY(word(c.from));
    MYDOCKER_TRY(word(c.chown));
    return word(c.chmod);
  }
  base::Result<void> operator()(AddCmd& c) {
    MYDOCKER_TRY(paths(c.paths));
    MYDOCKER_TRY(word(c.chown));
    MYDOCKER_TRY(word(c.chmod));
    return word(c.checksum);
  }
  base::Result<void> operator()(EnvCmd& c) {
    for (auto& kv : c.env) {
      MYDOCKER_TRY(word(kv.key));
      MYDOCKER_TRY(word(kv.value));
    }
    return base::ok();
  }
  base::Result<void> operator()(LabelCmd& c) {
    for (auto& kv : c.labels) {
      MYDOCKER_TRY(word(kv.key));
      MYDOCKER_TRY(word(kv.value));
    }
    return base::ok();
  }
  base::Result<void> operator()(ArgCmd& c) {
    for (auto& a : c.args) {
      MYDOCKER_TRY(word(a.key));
      if (a.value) {
        MYDOCKER_TRY(word(*a.value));
      }
    }
    return base::ok();
  }
  base::Result<void> operator()(WorkdirCmd& c) { return word(c.path); }
  base::Result<void> operator()(UserCmd& c) { return word(c.user); }
  base::Result<void> operator()(StopSignalCmd& c) { return word(c.signal); }
  base::Result<void> operator()(VolumeCmd& c) { return each(c.volumes); }
  base::Result<void> operator()(ExposeCmd& c) {
    std::vector<std::string> out;
    for (const auto& p : c.ports) {
      auto words = MYDOCKER_TRY(expand_words(p, env, opts));
      out.insert(out.end(), words.begin(), words.end());
    }
    c.ports = std::move(out);
    return base::ok();
  }
  template <typename T>
  base::Result<void> operator()(T&) {
    return base::ok();
  }
};

}  // namespace

base::Result<int64_t> parse_go_duration(std::string_view s) {
  const std::string orig(s);
  auto bad = [&] { return invalid("time: invalid duration " + go_quote(orig)); };
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") {
    return int64_t{0};
  }
  if (s.empty()) {
    return bad();
  }
  long double total = 0;
  while (!s.empty()) {
    if (!(std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '.')) {
      return bad();
    }
    size_t i = 0;
    long double v = 0;
    bool digits = false;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      v = v * 10 + (s[i] - '0');
      ++i;
      digits = true;
    }
    if (i < s.size() && s[i] == '.') {
      ++i;
      long double scale = 0.1L;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
        v += (s[i] - '0') * scale;
        scale /= 10;
        ++i;
        digits = true;
      }
    }
    if (!digits) {
      return bad();
    }
    size_t u = i;
    while (u < s.size() && s[u] != '.' && !std::isdigit(static_cast<unsigned char>(s[u]))) {
      ++u;
    }
    std::string_view unit = s.substr(i, u - i);
    if (unit.empty()) {
      return invalid("time: missing unit in duration " + go_quote(orig));
    }
    long double mult;
    if (unit == "ns") {
      mult = 1;
    } else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") {
      mult = 1e3L;
    } else if (unit == "ms") {
      mult = 1e6L;
    } else if (unit == "s") {
      mult = 1e9L;
    } else if (unit == "m") {
      mult = 60e9L;
    } else if (unit == "h") {
      mult = 3600e9L;
    } else {
      return invalid(
          fmt::format("time: unknown unit {} in duration {}", go_quote(unit), go_quote(orig)));
    }
    total += v * mult;
    if (total > 9.2233720368547758e18L) {
      return bad();
    }
    s.remove_prefix(u);
  }
  auto ns = static_cast<int64_t>(total);
  return neg ? -ns : ns;
}

base::Result<RunPlan> plan_run(const CommandLine& cmd, const std::vector<std::string>& shell) {
  RunPlan plan;
  plan.args = cmd.args;
  if (!cmd.files.empty()) {
    if (plan.args.size() != 1 || !cmd.prepend_shell) {
      return invalid(
          fmt::format("parsing produced an invalid run command: [{}]", base::join(cmd.args, " ")));
    }
    auto single = MYDOCKER_TRY(parse_heredoc_word(plan.args[0]));
    const Heredoc& first = cmd.files[0];
    if (single) {
      std::string data = first.chomp ? chomp_heredoc(first.content) : first.content;
      if (first.content.rfind("#!", 0) == 0) {
        plan.script_path = "/dev/pipes/" + first.name;
        plan.script = std::move(data);
        plan.args = {plan.script_path};
      } else {
        plan.args = {std::move(data)};
      }
    } else {
      std::string full = plan.args[0];
      for (const auto& f : cmd.files) {
        full += "\n" + f.content + f.name;
      }
      plan.args = {std::move(full)};
    }
  }
  if (cmd.prepend_shell) {
    std::vector<std::string> out = shell;
    out.insert(out.end(), plan.args.begin(), plan.args.end());
    plan.args = std::move(out);
  }
  return plan;
}

base::Result<Instruction> parse_instruction(const Node& node) {
  auto cmd = parse_command(node);
  if (!cmd.has_value()) {
    return parse_error(node.start_line, cmd.error().message());
  }
  Instruction ins;
  ins.cmd = std::move(*cmd);
  ins.keyword = upper(node.keyword);
  ins.original = node.original;
  ins.line = node.start_line;
  ins.end_line = node.end_line;
  return ins;
}

base::Result<Dockerfile> parse_dockerfile(std::string_view text) {
  Ast ast = MYDOCKER_TRY(parse_ast(text));
  Dockerfile df;
  df.directives = std::move(ast.directives);
  df.escape = ast.escape;
  df.warnings = std::move(ast.warnings);
  for (const auto& node : ast.nodes) {
    Instruction ins = MYDOCKER_TRY(parse_instruction(node));
    if (df.stages.empty() && ins.as<ArgCmd>()) {
      df.meta_args.push_back(std::move(ins));
      continue;
    }
    if (const auto* from = ins.as<FromCmd>()) {
      Stage st;
      st.name = from->stage_name;
      st.base = from->base;
      st.platform = from->platform;
      st.source = std::string(base::trim(ins.original));
      st.line = ins.line;
      df.stages.push_back(std::move(st));
      continue;
    }
    if (df.stages.empty()) {
      return parse_error(ins.line, "no build stage in current context");
    }
    df.stages.back().commands.push_back(std::move(ins));
  }
  return df;
}

base::Result<Env> resolve_meta_args(const Dockerfile& dockerfile, const Env& build_args) {
  Env scope;
  LexOptions opts;
  opts.escape = dockerfile.escape;
  for (const auto& ins : dockerfile.meta_args) {
    const auto* arg = ins.as<ArgCmd>();
    if (arg == nullptr) {
      continue;
    }
    for (const auto& def : arg->args) {
      auto key = expand_word(def.key, scope, opts);
      if (!key.has_value()) {
        return parse_error(ins.line, key.error().message());
      }
      if (auto given = build_args.find(*key); given != build_args.end()) {
        scope[*key] = given->second;
        continue;
      }
      if (!def.value) {
        scope.erase(*key);
        continue;
      }
      auto value = expand_word(*def.value, scope, opts);
      if (!value.has_value()) {
        return parse_error(ins.line, value.error().message());
      }
      scope[*key] = std::move(*value);
    }
  }
  return scope;
}

base::Result<std::vector<Instruction>> parse_triggers(const std::vector<std::string>& onbuild) {
  std::vector<Instruction> out;
  for (const auto& step : onbuild) {
    Ast ast = MYDOCKER_TRY(parse_ast(step));
    for (const auto& node : ast.nodes) {
      std::string kw = upper(node.keyword);
      if (kw == "ONBUILD") {
        return parse_error(node.start_line, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
      }
      if (kw == "MAINTAINER" || kw == "FROM") {
        return parse_error(node.start_line,
                           fmt::format("{} isn't allowed as an ONBUILD trigger", kw));
      }
      out.push_back(MYDOCKER_TRY(parse_instruction(node)));
    }
  }
  return out;
}

bool expands_variables(const Instruction& instruction) {
  return std::visit(
      [](const auto& c) {
        using T = std::decay_t<decltype(c)>;
        return std::is_same_v<T, FromCmd> || std::is_same_v<T, CopyCmd> ||
               std::is_same_v<T, AddCmd> || std::is_same_v<T, EnvCmd> ||
               std::is_same_v<T, LabelCmd> || std::is_same_v<T, ArgCmd> ||
               std::is_same_v<T, WorkdirCmd> || std::is_same_v<T, UserCmd> ||
               std::is_same_v<T, StopSignalCmd> || std::is_same_v<T, VolumeCmd> ||
               std::is_same_v<T, ExposeCmd>;
      },
      instruction.cmd);
}

base::Result<void> expand_instruction(Instruction& instruction, const Env& env, char escape) {
  LexOptions opts;
  opts.escape = escape;
  ExpandVisitor v{env, opts};
  auto r = std::visit(v, instruction.cmd);
  if (!r.has_value()) {
    return parse_error(instruction.line, r.error().message());
  }
  return base::ok();
}

std::string dump(const Dockerfile& df) {
  std::string out;
  for (const auto& d : df.directives) {
    out += fmt::format("directive {}={} (line {})\n", d.name, d.value, d.line);
  }
  if (df.escape != '\\') {
    out += fmt::format("escape {}\n", df.escape);
  }
  for (const auto& a : df.meta_args) {
    out += "meta " + dump_instruction(a) + "\n";
  }
  for (size_t i = 0; i < df.stages.size(); ++i) {
    const auto& st = df.stages[i];
    ojson j = ojson::object();
    j["base"] = st.base;
    put_if(j, "name", st.name);
    put_if(j, "platform", st.platform);
    out += fmt::format("stage {} {} FROM {}\n", i, st.line, j.dump());
    for (const auto& c : st.commands) {
      out += "  " + dump_instruction(c) + "\n";
    }
  }
  for (const auto& w : df.warnings) {
    out += fmt::format("warning {}: {}\n", w.line, w.message);
  }
  return out;
}

}  // namespace mydocker::image::dockerfile
