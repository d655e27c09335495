// SPDX-License-Identifier: Apache-2.0
// `docker import --change` / `docker commit --change`: Dockerfile instructions applied to an
// image's run config (moby's BuildFromConfig).
//
// Accepted instructions (case-insensitive, as Docker's validCommitCommands): CMD, ENTRYPOINT,
// ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR, HEALTHCHECK (NONE or CMD
// without options). Each change may hold several lines; blank lines and `#` comments are
// skipped, a trailing `\` continues a line. Variables ($VAR) are not expanded (Docker expands
// them against the config's Env; not needed by any caller yet).
//
// Errors (InvalidArgument), in Docker's words:
//   "run is not a valid change command"     (any other instruction, lower-cased as Docker does)
//   "ENV requires at least one argument"    (and the same for the other instructions)
//   "ENV names can not be blank", "LABEL names can not be blank"
//   "dockerfile parse error on line N: ..." (malformed JSON-form arguments, unbalanced quotes)
#pragma once

#include <string>
#include <vector>

#include "image/content/image_config.h"
#include "runtime/base/error.h"

namespace mydocker::image::archive {

// Applies `changes` in order to `config` (which is left unchanged on error).
base::Result<void> apply_changes(content::RunConfig& config,
                                 const std::vector<std::string>& changes);

}  // namespace mydocker::image::archive
