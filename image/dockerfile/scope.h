// SPDX-License-Identifier: Apache-2.0
// Docker's scoping of build-time variables (the classic builder's BuildArgs), for the builder:
//  - the ARGs before the first FROM are the global scope (resolve_meta_args(), instructions.h):
//    FROM lines expand with them, nothing else sees them unless a stage redeclares the name;
//  - inside a stage an `ARG NAME[=default]` makes NAME visible to the following steps, valued
//    (in this order) by the --build-arg, the default (expanded), the global value;
//  - ENV wins over an ARG of the same name; ARGs are not saved in the image config but the
//    classic builder puts the ones in effect into RUN's environment;
//  - the predefined proxy args (HTTP_PROXY, http_proxy, ...) need no ARG.
#pragma once

#include <string>
#include <vector>

#include "image/dockerfile/expand.h"
#include "image/dockerfile/instructions.h"
#include "runtime/base/error.h"

namespace mydocker::image::dockerfile {

// HTTP_PROXY, HTTPS_PROXY, FTP_PROXY, NO_PROXY, ALL_PROXY, in both cases.
bool is_predefined_arg(std::string_view name);

class StageScope {
 public:
  // `meta_args`: resolve_meta_args(); `image_env`: the base image's config Env.
  StageScope(Env meta_args, Env build_args, Env image_env);

  // An ARG step (as parsed; its names and defaults are expanded here, as Docker does). Errors
  // carry the line: "dockerfile parse error line N: failed to process ...". Not an ARG: no-op.
  base::Result<void> declare(const Instruction& arg, char escape);

  // An ENV step, already expanded with expansion_env().
  void set_env(const std::string& key, const std::string& value);

  // What the next step's words expand with: the visible ARGs overridden by the ENVs.
  Env expansion_env() const;

  // The visible ARGs that no ENV overrides: extra environment for RUN.
  Env run_args() const;

  const Env& env() const { return env_; }

 private:
  Env meta_, build_, args_, env_;
};

// The build args no ARG (global or in any stage) declares and that are not predefined:
// Docker warns "[Warning] One or more build-args [A B] were not consumed".
std::vector<std::string> unused_build_args(const Dockerfile& dockerfile, const Env& build_args);

}  // namespace mydocker::image::dockerfile
