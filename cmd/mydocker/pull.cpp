// SPDX-License-Identifier: Apache-2.0
// `mydocker pull [-q] [--platform P] NAME[:TAG|@DIGEST]` (also `mydocker image pull`): POST
// /images/create?fromImage=&tag= with X-Registry-Auth from the docker config file, and the
// daemon's JSON progress stream rendered as docker does (progress.h: per-layer lines updated
// in place with bars on a terminal, one line per status otherwise); an in-stream error is
// printed on stderr and exits 1.
#include <unistd.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "cmd/mydocker/cli.h"
#include "cmd/mydocker/progress.h"
#include "cmd/mydocker/tty.h"

namespace mydocker::cli {

namespace {

struct PullFlags {
  std::string name;
  std::string platform;
  bool quiet = false;
  bool all_tags = false;
};

}  // namespace

base::Result<void> stream_progress(const api::client::Client& client, std::string_view path,
                                   const api::client::Query& query,
                                   const api::client::Headers& headers, std::FILE* out,
                                   const std::function<void(const api::client::Json&)>& aux) {
  int fd = out != nullptr ? ::fileno(out) : -1;
  bool tty = fd >= 0 && is_terminal(fd);
  int width = 200;  // docker's width when the terminal size is unknown
  if (auto size = tty ? terminal_size(fd) : std::nullopt) {
    width = size->second;
  }
  ProgressRenderer renderer(tty, width);
  if (aux) {
    renderer.on_aux(aux);
  }
  auto emit = [&](const std::string& bytes) {
    if (out != nullptr && !bytes.empty()) {
      std::fwrite(bytes.data(), 1, bytes.size(), out);
      std::fflush(out);
    }
  };
  auto r = client.request(
      "POST", path, query, std::nullopt,
      [&](std::string_view data) {
        emit(renderer.feed(data));
        return !renderer.error().has_value();
      },
      headers);
  if (!r) {
    return std::move(r).error();
  }
  emit(renderer.finish());
  if (renderer.error()) {
    return base::Error(base::ErrorCode::Internal, *renderer.error());
  }
  return base::ok();
}

base::Result<void> pull_image(const api::client::Client& client,
                              const image::reference::Reference& ref, const std::string& platform,
                              std::FILE* out) {
  api::client::Query q = {{"fromImage", ref.name_only().familiar()},
                          {"tag", ref.has_digest() ? ref.digest() : ref.tag()}};
  if (!platform.empty()) {
    q.emplace_back("platform", platform);
  }
  return stream_progress(client, "/images/create", q, {{"X-Registry-Auth", registry_auth_for(ref)}},
                         out, nullptr);
}

void register_pull(CLI::App& parent, Registry& reg) {
  auto* sub = parent.add_subcommand("pull", "Download an image from a registry");
  auto f = std::make_shared<PullFlags>();
  sub->add_option("NAME", f->name, "NAME[:TAG|@DIGEST]")->required();
  sub->add_option("--platform", f->platform, "Set platform if server is multi-platform capable");
  sub->add_flag("-q,--quiet", f->quiet, "Suppress verbose output");
  sub->add_flag("-a,--all-tags", f->all_tags, "Download all tagged images in the repository");
  Globals& g = reg.globals();
  reg.add(sub, [f, &g]() -> int {
    if (f->all_tags) {
      return report(
          base::make_error(base::ErrorCode::NotImplemented, "--all-tags is not supported yet"));
    }
    auto ref = image::reference::Reference::parse(f->name);
    if (!ref) {
      return report(ref.error());
    }
    image::reference::Reference full = ref->with_default_tag();
    if (!ref->has_tag() && !ref->has_digest() && !f->quiet) {
      write_out("Using default tag: latest\n");
    }
    auto c = make_client(g);
    if (!c) {
      return report(c.error());
    }
    if (auto r = pull_image(*c, full, f->platform, f->quiet ? nullptr : stdout); !r) {
      return report(r.error());
    }
    write_out(full.str() + "\n");  // docker ends with the full reference, also with -q
    return 0;
  });
}

}  // namespace mydocker::cli
