// SPDX-License-Identifier: Apache-2.0
#include "engine/build/steps.h"

#include <fmt/format.h>

#include <algorithm>

#include "image/dockerfile/quote.h"
#include "image/dockerfile/scope.h"
#include "runtime/base/strings.h"
#include "runtime/spec/signals.h"

namespace mydocker::engine::build {
namespace {

using base::ErrorCode;
using base::make_error;
namespace df = image::dockerfile;
using nlohmann::json;

std::string env_key(std::string_view kv) {
  return std::string(kv.substr(0, kv.find('=')));
}

// The command line of CMD/ENTRYPOINT as moby's resolveCmdLine makes it on Linux: an empty line
// stays empty, the shell form gets the shell.
std::vector<std::string> resolve_cmd_line(const df::CommandLine& cmd, const RunConfig& config) {
  if (cmd.args.empty()) {
    return {};
  }
  if (!cmd.prepend_shell) {
    return cmd.args;
  }
  std::vector<std::string> out = shell_of(config);
  out.insert(out.end(), cmd.args.begin(), cmd.args.end());
  return out;
}

// strconv.QuoteRune for the small integers Docker formats with %q (HEALTHCHECK's Retries).
std::string go_quote_rune(int64_t r) {
  switch (r) {
    case 7:
      return "'\\a'";
    case 8:
      return "'\\b'";
    case 9:
      return "'\\t'";
    case 10:
      return "'\\n'";
    case 11:
      return "'\\v'";
    case 12:
      return "'\\f'";
    case 13:
      return "'\\r'";
    case '\'':
      return "'\\''";
    case '\\':
      return "'\\\\'";
    default:
      break;
  }
  if (r >= 0x20 && r < 0x7f) {
    return fmt::format("'{}'", static_cast<char>(r));
  }
  if (r >= 0 && r < 0x80) {
    return fmt::format("'\\x{:02x}'", r);
  }
  if (r >= 0 && r < 0x10000) {
    return fmt::format("'\\u{:04x}'", r);
  }
  return fmt::format("'\\U{:08x}'", r);
}

std::string healthcheck_comment(const df::HealthcheckCmd& hc) {
  return fmt::format("&{{{} {} {} {} {}}}", go_quote_list(hc.test),
                     df::go_quote(go_duration(hc.interval_ns)),
                     df::go_quote(go_duration(hc.timeout_ns)),
                     df::go_quote(go_duration(hc.start_period_ns)), go_quote_rune(hc.retries));
}

std::optional<uint64_t> port_number(std::string_view s) {
  auto n = base::parse_uint64(s);
  if (!n || *n > 65535) {
    return std::nullopt;
  }
  return n;
}

}  // namespace

std::vector<std::string> shell_of(const RunConfig& config) {
  if (!config.shell.empty()) {
    return config.shell;
  }
  return {"/bin/sh", "-c"};
}

StageState begin_stage(const std::optional<RunConfig>& base) {
  StageState s;
  if (base) {
    s.config = *base;
  }
  bool has_path = std::any_of(s.config.env.begin(), s.config.env.end(),
                              [](const std::string& e) { return env_key(e) == "PATH"; });
  if (!has_path) {
    s.config.env.push_back("PATH=" + std::string(kDefaultPath));
  }
  if (s.config.extra.contains("OpenStdin")) {
    s.config.extra["OpenStdin"] = false;
  }
  if (s.config.extra.contains("StdinOnce")) {
    s.config.extra["StdinOnce"] = false;
  }
  if (!s.config.on_build.empty()) {
    s.config.on_build.clear();
    s.config.extra["OnBuild"] = nullptr;
  }
  return s;
}

base::Result<MetaStep> apply_metadata(StageState& state, const df::Instruction& ins) {
  StageState next = state;
  RunConfig& c = next.config;
  MetaStep step;
  if (const auto* env = ins.as<df::EnvCmd>()) {
    step.comment = "ENV";
    for (const auto& kv : env->env) {
      std::string var = kv.key + "=" + kv.value;
      step.comment += " " + var;
      auto it = std::find_if(c.env.begin(), c.env.end(),
                             [&](const std::string& e) { return env_key(e) == kv.key; });
      if (it != c.env.end()) {
        *it = var;
      } else {
        c.env.push_back(var);
      }
    }
  } else if (const auto* label = ins.as<df::LabelCmd>()) {
    step.comment = "LABEL";
    for (const auto& kv : label->labels) {
      c.labels[kv.key] = kv.value;
      step.comment += " " + kv.key + "=" + kv.value;
    }
  } else if (const auto* m = ins.as<df::MaintainerCmd>()) {
    next.maintainer = m->maintainer;
    step.comment = "MAINTAINER " + m->maintainer;
  } else if (const auto* cmd = ins.as<df::CmdCmd>()) {
    c.cmd = resolve_cmd_line(cmd->cmd, c);
    if (!cmd->cmd.args.empty()) {
      c.args_escaped.reset();  // false on Linux: Go's omitempty drops it
    }
    step.comment = "CMD " + go_quote_list(*c.cmd);
    if (!cmd->cmd.args.empty()) {
      next.cmd_set = true;
    }
  } else if (const auto* ep = ins.as<df::EntrypointCmd>()) {
    c.entrypoint = resolve_cmd_line(ep->cmd, c);
    if (!ep->cmd.args.empty()) {
      c.args_escaped.reset();
    }
    if (!next.cmd_set) {
      c.cmd.reset();
      c.extra["Cmd"] = nullptr;
    }
    step.comment = "ENTRYPOINT " + go_quote_list(*c.entrypoint);
  } else if (const auto* hc = ins.as<df::HealthcheckCmd>()) {
    if (c.healthcheck && c.healthcheck->is_object()) {
      auto test = c.healthcheck->find("Test");
      if (test != c.healthcheck->end() && test->is_array() && !test->empty()) {
        std::vector<std::string> old;
        for (const auto& w : *test) {
          old.push_back(w.is_string() ? w.get<std::string>() : w.dump());
        }
        if (old[0] != "NONE") {
          step.notes.push_back("Note: overriding previous HEALTHCHECK: " + go_list(old) + "\n");
        }
      }
    }
    c.healthcheck = healthcheck_json(*hc);
    step.comment = "HEALTHCHECK " + healthcheck_comment(*hc);
  } else if (const auto* ex = ins.as<df::ExposeCmd>()) {
    auto ports = MYDOCKER_TRY(parse_exposed_ports(ex->ports));
    c.exposed_ports.insert(ports.begin(), ports.end());
    step.comment = "EXPOSE " + base::join(ex->ports, " ");
  } else if (const auto* u = ins.as<df::UserCmd>()) {
    c.user = u->user;
    step.comment = "USER " + u->user;
  } else if (const auto* v = ins.as<df::VolumeCmd>()) {
    for (const auto& p : v->volumes) {
      if (p.empty()) {
        return make_error(ErrorCode::InvalidArgument,
                          "VOLUME specified can not be an empty string");
      }
      c.volumes.insert(p);
    }
    step.comment = "VOLUME " + go_list(v->volumes);
  } else if (const auto* ss = ins.as<df::StopSignalCmd>()) {
    if (!runtime::parse_signal(ss->signal)) {
      return make_error(ErrorCode::InvalidArgument, "Invalid signal: {}", ss->signal);
    }
    c.stop_signal = ss->signal;
    step.comment = "STOPSIGNAL " + ss->signal;
  } else if (const auto* sh = ins.as<df::ShellCmd>()) {
    c.shell = sh->shell;
    step.comment = "SHELL " + go_list(sh->shell);
  } else if (const auto* ob = ins.as<df::OnbuildCmd>()) {
    c.on_build.push_back(ob->expression);
    step.comment = "ONBUILD " + ob->expression;
  } else if (const auto* arg = ins.as<df::ArgCmd>()) {
    step.comment = "ARG ";
    for (size_t i = 0; i < arg->args.size(); ++i) {
      if (i > 0) {
        step.comment += " ";
      }
      step.comment += arg->args[i].key;
      if (arg->args[i].value) {
        step.comment += "=" + *arg->args[i].value;
      }
    }
  } else {
    return make_error(ErrorCode::InvalidArgument, "`{}` is not a metadata instruction",
                      ins.keyword);
  }
  state = std::move(next);
  return step;
}

std::string normalize_workdir(std::string_view current, std::string_view requested) {
  std::string joined;
  if (!requested.empty() && requested.front() == '/') {
    joined = std::string(requested);
  } else {
    joined = "/" + std::string(current) + "/" + std::string(requested);
  }
  std::vector<std::string> parts;
  for (const auto& p : base::split(joined, '/')) {
    if (p.empty() || p == ".") {
      continue;
    }
    if (p == "..") {
      if (!parts.empty()) {
        parts.pop_back();
      }
      continue;
    }
    parts.push_back(p);
  }
  return "/" + base::join(parts, "/");
}

RunConfig comment_config(const RunConfig& config, std::string_view comment, bool one_word) {
  RunConfig out = config;
  std::vector<std::string> cmd = shell_of(config);
  if (one_word) {
    cmd.push_back("#(nop) " + std::string(comment));
  } else {
    cmd.push_back("#(nop) ");
    cmd.push_back(std::string(comment));
  }
  out.cmd = std::move(cmd);
  return out;
}

RunStep plan_run_step(const StageState& state, std::vector<std::string> args,
                      const std::map<std::string, std::string, std::less<>>& run_args,
                      const std::set<std::string, std::less<>>& declared) {
  RunStep r;
  r.cmd = std::move(args);
  r.save_cmd = r.cmd;
  r.env = state.config.env;
  std::vector<std::string> recorded;
  for (const auto& [k, v] : run_args) {
    r.env.push_back(k + "=" + v);
    if (declared.count(k) > 0 || !df::is_predefined_arg(k)) {
      recorded.push_back(k + "=" + v);
    }
  }
  if (!run_args.empty()) {
    std::sort(recorded.begin(), recorded.end());
    std::vector<std::string> save;
    save.push_back(fmt::format("|{}", recorded.size()));
    save.insert(save.end(), recorded.begin(), recorded.end());
    save.insert(save.end(), r.cmd.begin(), r.cmd.end());
    r.save_cmd = std::move(save);
  }
  r.container_config = state.config;
  r.container_config.cmd = r.save_cmd;
  r.container_config.args_escaped.reset();
  if (!r.save_cmd.empty()) {
    r.container_config.entrypoint.reset();
    r.container_config.extra["Entrypoint"] = nullptr;
  }
  return r;
}

std::string run_failed_message(const std::vector<std::string>& cmd, int64_t code) {
  return fmt::format("The command '{}' returned a non-zero code: {}", base::join(cmd, " "), code);
}

RunConfig docker_config(RunConfig config, const std::string& image) {
  json& x = config.extra;
  auto zero = [&](const char* key, json value) {
    if (!x.contains(key)) {
      x[key] = std::move(value);
    }
  };
  zero("Hostname", "");
  zero("Domainname", "");
  zero("User", "");
  zero("AttachStdin", false);
  zero("AttachStdout", false);
  zero("AttachStderr", false);
  zero("Tty", false);
  zero("OpenStdin", false);
  zero("StdinOnce", false);
  zero("Env", nullptr);
  zero("Cmd", nullptr);
  zero("Volumes", nullptr);
  zero("WorkingDir", "");
  zero("Entrypoint", nullptr);
  zero("OnBuild", nullptr);
  zero("Labels", nullptr);
  x["Image"] = image;
  return config;
}

std::string go_duration(int64_t ns) {
  if (ns == 0) {
    return "0s";
  }
  bool neg = ns < 0;
  uint64_t u = neg ? static_cast<uint64_t>(-(ns + 1)) + 1 : static_cast<uint64_t>(ns);
  // Integer part and trimmed fraction of u / 10^prec.
  auto frac = [](uint64_t v, int prec) {
    uint64_t div = 1;
    for (int i = 0; i < prec; ++i) {
      div *= 10;
    }
    std::string out = std::to_string(v / div);
    uint64_t rest = v % div;
    if (rest != 0) {
      std::string digits = fmt::format("{:0{}}", rest, prec);
      while (!digits.empty() && digits.back() == '0') {
        digits.pop_back();
      }
      out += "." + digits;
    }
    return out;
  };
  std::string out;
  if (u < 1000000000ULL) {
    if (u < 1000) {
      out = std::to_string(u) + "ns";
    } else if (u < 1000000) {
      out = frac(u, 3) + "\u00b5s";
    } else {
      out = frac(u, 6) + "ms";
    }
  } else {
    uint64_t secs = u / 1000000000ULL;
    uint64_t sub = u % 1000000000ULL;
    out = frac((secs % 60) * 1000000000ULL + sub, 9) + "s";
    uint64_t mins = secs / 60;
    if (mins > 0) {
      out = std::to_string(mins % 60) + "m" + out;
      uint64_t hours = mins / 60;
      if (hours > 0) {
        out = std::to_string(hours) + "h" + out;
      }
    }
  }
  return neg ? "-" + out : out;
}

std::string go_quote_list(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) {
      out += " ";
    }
    out += df::go_quote(v[i]);
  }
  return out + "]";
}

std::string go_list(const std::vector<std::string>& v) {
  return "[" + base::join(v, " ") + "]";
}

base::Result<std::vector<std::string>> parse_exposed_ports(const std::vector<std::string>& words) {
  std::vector<std::string> out;
  for (const auto& raw : words) {
    std::string_view container = raw;
    if (auto colon = container.rfind(':'); colon != std::string_view::npos) {
      container = container.substr(colon + 1);
    }
    std::string proto = "tcp";
    std::string_view port = container;
    if (auto slash = container.find('/'); slash != std::string_view::npos) {
      port = container.substr(0, slash);
      if (slash + 1 < container.size()) {
        proto = std::string(container.substr(slash + 1));
      }
    }
    std::string lower = proto;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    if (lower != "tcp" && lower != "udp" && lower != "sctp") {
      return make_error(ErrorCode::InvalidArgument, "invalid proto: {}", proto);
    }
    if (port.empty()) {
      return make_error(ErrorCode::InvalidArgument, "no port specified: {}<empty>", raw);
    }
    std::optional<uint64_t> start;
    std::optional<uint64_t> end;
    if (auto dash = port.find('-'); dash != std::string_view::npos) {
      start = port_number(port.substr(0, dash));
      end = port_number(port.substr(dash + 1));
    } else {
      start = port_number(port);
      end = start;
    }
    if (!start || !end || *end < *start) {
      return make_error(ErrorCode::InvalidArgument, "invalid containerPort: {}", port);
    }
    for (uint64_t p = *start; p <= *end; ++p) {
      out.push_back(fmt::format("{}/{}", p, lower));
    }
  }
  return out;
}

json healthcheck_json(const df::HealthcheckCmd& hc) {
  json j = json::object();
  j["Test"] = hc.test;
  if (hc.interval_ns != 0) {
    j["Interval"] = hc.interval_ns;
  }
  if (hc.timeout_ns != 0) {
    j["Timeout"] = hc.timeout_ns;
  }
  if (hc.start_period_ns != 0) {
    j["StartPeriod"] = hc.start_period_ns;
  }
  if (hc.start_interval_ns != 0) {
    j["StartInterval"] = hc.start_interval_ns;
  }
  if (hc.retries != 0) {
    j["Retries"] = hc.retries;
  }
  return j;
}

}  // namespace mydocker::engine::build
