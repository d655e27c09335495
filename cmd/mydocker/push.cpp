// SPDX-License-Identifier: Apache-2.0
// `mydocker push [-a] [-q] NAME[:TAG]` (also `mydocker image push`): POST
// /images/{name}/push?tag= with X-Registry-Auth from the docker config file, the daemon's
// progress stream rendered as docker does ("The push refers to repository [...]", per-layer
// Preparing/Waiting/Pushing/Pushed/Layer already exists/Mounted from ..., "<tag>: digest:
// sha256:... size: N"). -q prints the pushed reference only. -a pushes every local tag of the
// repository, one push per tag (dockerd does it in one stream).
#include <algorithm>
#include <memory>

#include "cmd/mydocker/cli.h"

namespace mydocker::cli {

namespace {

using image::reference::Reference;

struct PushFlags {
  std::string name;
  bool all_tags = false;
  bool quiet = false;
};

// The local tags of `repo` (its familiar name), sorted.
base::Result<std::vector<std::string>> local_tags(const api::client::Client& c,
                                                  const Reference& repo) {
  api::client::Json list =
      MYDOCKER_TRY(c.image_list(false, {{"reference", {repo.familiar_name()}}}, false));
  std::vector<std::string> tags;
  for (const auto& img : list) {
    if (!img.contains("RepoTags") || !img["RepoTags"].is_array()) {
      continue;
    }
    for (const auto& t : img["RepoTags"]) {
      if (!t.is_string()) {
        continue;
      }
      auto r = Reference::parse(t.get<std::string>());
      if (r && r->name() == repo.name() && r->has_tag()) {
        tags.push_back(r->tag());
      }
    }
  }
  std::sort(tags.begin(), tags.end());
  tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
  return tags;
}

int run_push(const Globals& g, const PushFlags& f) {
  auto parsed = Reference::parse(f.name);
  if (!parsed) {
    return report(parsed.error());
  }
  if (parsed->has_digest()) {
    return report(
        base::make_error(base::ErrorCode::InvalidArgument, "cannot push a digest reference"));
  }
  if (f.all_tags && parsed->has_tag()) {
    return report(
        base::make_error(base::ErrorCode::InvalidArgument, "tag can't be used with --all-tags/-a"));
  }
  auto c = make_client(g);
  if (!c) {
    return report(c.error());
  }
  std::vector<Reference> refs;
  if (f.all_tags) {
    auto tags = local_tags(*c, *parsed);
    if (!tags) {
      return report(tags.error());
    }
    if (tags->empty()) {
      return report(base::make_error(base::ErrorCode::NotFound,
                                     "Error response from daemon: An image does not exist "
                                     "locally with the tag: {}",
                                     parsed->familiar_name()));
    }
    for (const auto& t : *tags) {
      refs.push_back(*parsed->with_tag(t));
    }
  } else {
    if (!parsed->has_tag() && !f.quiet) {
      write_out("Using default tag: latest\n");
    }
    refs.push_back(parsed->with_default_tag());
  }
  std::string auth = registry_auth_for(*parsed);
  for (const auto& ref : refs) {
    auto r = stream_progress(
        *c, "/images/" + api::client::path_escape(ref.familiar_name()) + "/push",
        {{"tag", ref.tag()}}, {{"X-Registry-Auth", auth}}, f.quiet ? nullptr : stdout, nullptr);
    if (!r) {
      return report(r.error());
    }
    if (f.quiet) {
      write_out(ref.str() + "\n");
    }
  }
  return 0;
}

}  // namespace

void register_push(CLI::App& parent, Registry& reg) {
  auto* sub = parent.add_subcommand("push", "Upload an image to a registry");
  auto f = std::make_shared<PushFlags>();
  sub->add_option("NAME", f->name, "NAME[:TAG]")->required();
  sub->add_flag("-a,--all-tags", f->all_tags, "Push all tags of an image to the repository");
  sub->add_flag("-q,--quiet", f->quiet, "Suppress verbose output");
  Globals& g = reg.globals();
  reg.add(sub, [f, &g]() -> int { return run_push(g, *f); });
}

}  // namespace mydocker::cli
