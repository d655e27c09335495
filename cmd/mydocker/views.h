// SPDX-License-Identifier: Apache-2.0
// What the listing verbs print, from the daemon's JSON (pure: `now` is a parameter so the
// "5 seconds ago" columns are testable).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "cmd/mydocker/template.h"
#include "runtime/base/error.h"

namespace mydocker::cli {

using Json = nlohmann::json;

struct PsView {
  bool quiet = false;
  bool no_trunc = false;
  bool size = false;
  std::string format{};  // "" -> docker's default table
};
// The template context of one /containers/json entry (docker's ContainerContext fields:
// ID, Image, Command, CreatedAt, RunningFor, Ports, State, Status, Size, Names, Labels,
// Label, Mounts, Networks, LocalVolumes).
OJson container_context(const Json& c, bool trunc, int64_t now);
base::Result<std::string> render_ps(const Json& list, const PsView& view, int64_t now);

struct ImagesView {
  bool quiet = false;
  bool no_trunc = false;
  bool digests = false;
  std::string format{};
};
base::Result<std::string> render_images(const Json& list, const ImagesView& view, int64_t now);

struct HistoryView {
  bool human = true;
  bool no_trunc = false;
  bool quiet = false;
  std::string format{};
};
base::Result<std::string> render_history(const Json& list, const HistoryView& view, int64_t now);

// `system df` from /system/df.
base::Result<std::string> render_df(const Json& df, const std::string& format);
// `top` from /containers/{id}/top (tabwriter minwidth 20).
std::string render_top(const Json& top);
// `diff` from /containers/{id}/changes: "C /etc", "A /x", "D /y".
std::string render_changes(const Json& changes);

}  // namespace mydocker::cli
