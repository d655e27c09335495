// SPDX-License-Identifier: Apache-2.0
#include "image/dockerfile/scope.h"

#include <set>

namespace mydocker::image::dockerfile {

bool is_predefined_arg(std::string_view name) {
  for (std::string_view p : {"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY",
                             "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"}) {
    if (name == p) {
      return true;
    }
  }
  return false;
}

StageScope::StageScope(Env meta_args, Env build_args, Env image_env)
    : meta_(std::move(meta_args)), build_(std::move(build_args)), env_(std::move(image_env)) {
  for (const auto& [k, v] : build_) {
    if (is_predefined_arg(k)) {
      args_[k] = v;
    }
  }
}

base::Result<void> StageScope::declare(const Instruction& ins, char escape) {
  const auto* arg = ins.as<ArgCmd>();
  if (arg == nullptr) {
    return base::ok();
  }
  LexOptions opts;
  opts.escape = escape;
  for (const auto& def : arg->args) {
    Env now = expansion_env();
    auto key = expand_word(def.key, now, opts);
    if (!key.has_value()) {
      return parse_error(ins.line, key.error().message());
    }
    if (auto b = build_.find(*key); b != build_.end()) {
      args_[*key] = b->second;
    } else if (def.value) {
      auto value = expand_word(*def.value, now, opts);
      if (!value.has_value()) {
        return parse_error(ins.line, value.error().message());
      }
      args_[*key] = std::move(*value);
    } else if (auto m = meta_.find(*key); m != meta_.end()) {
      args_[*key] = m->second;
    } else {
      args_.erase(*key);  // declared, without a value: stays unset
    }
  }
  return base::ok();
}

void StageScope::set_env(const std::string& key, const std::string& value) {
  env_[key] = value;
}

Env StageScope::expansion_env() const {
  Env out = args_;
  for (const auto& [k, v] : env_) {
    out[k] = v;
  }
  return out;
}

Env StageScope::run_args() const {
  Env out;
  for (const auto& [k, v] : args_) {
    if (env_.find(k) == env_.end()) {
      out[k] = v;
    }
  }
  return out;
}

std::vector<std::string> unused_build_args(const Dockerfile& dockerfile, const Env& build_args) {
  std::set<std::string, std::less<>> declared;
  auto collect = [&](const Instruction& ins) {
    if (const auto* a = ins.as<ArgCmd>()) {
      for (const auto& d : a->args) {
        declared.insert(d.key);
      }
    }
  };
  for (const auto& ins : dockerfile.meta_args) {
    collect(ins);
  }
  for (const auto& st : dockerfile.stages) {
    for (const auto& ins : st.commands) {
      collect(ins);
    }
  }
  std::vector<std::string> out;
  for (const auto& [k, v] : build_args) {
    if (!declared.count(k) && !is_predefined_arg(k)) {
      out.push_back(k);
    }
  }
  return out;
}

}  // namespace mydocker::image::dockerfile
