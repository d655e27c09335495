// SPDX-License-Identifier: Apache-2.0
// `mydocker pull [-q] [--platform P] NAME[:TAG|@DIGEST]` (also `mydocker image pull`): POST
// /images/create?fromImage=&tag= and the daemon's JSON progress stream printed as docker does
// when stdout is not a terminal: one line per status ("<id>: Pull complete"), progress-bar
// updates dropped; an in-stream error is printed on stderr and exits 1.
#include <memory>
#include <nlohmann/json.hpp>

#include "cmd/mydocker/cli.h"
#include "image/reference/reference.h"

namespace mydocker::cli {

namespace {

struct PullFlags {
  std::string name;
  std::string platform;
  bool quiet = false;
  bool all_tags = false;
};

// Splits the daemon's stream into messages; returns the in-stream error, if any.
class PullPrinter {
 public:
  explicit PullPrinter(bool quiet) : quiet_(quiet) {}
  bool feed(std::string_view data) {
    buf_.append(data);
    size_t nl;
    while ((nl = buf_.find('\n')) != std::string::npos) {
      std::string line = buf_.substr(0, nl);
      buf_.erase(0, nl + 1);
      handle(line);
    }
    return true;
  }
  const std::optional<std::string>& error() const { return error_; }

 private:
  void handle(const std::string& line) {
    auto m = nlohmann::json::parse(line, nullptr, false);
    if (m.is_discarded() || !m.is_object()) {
      return;
    }
    if (m.contains("error")) {
      error_ = m["error"].is_string() ? m["error"].get<std::string>() : m["error"].dump();
      return;
    }
    if (quiet_ || (m.contains("progressDetail") && m["progressDetail"].is_object() &&
                   m["progressDetail"].contains("current"))) {
      return;
    }
    if (m.contains("status") && m["status"].is_string()) {
      std::string text = m["status"].get<std::string>();
      if (m.contains("id") && m["id"].is_string()) {
        text = m["id"].get<std::string>() + ": " + text;
      }
      write_out(text + "\n");
    }
  }

  bool quiet_;
  std::string buf_;
  std::optional<std::string> error_;
};

}  // namespace

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
    api::client::Query q = {{"fromImage", full.name_only().familiar()},
                            {"tag", full.has_digest() ? full.digest() : full.tag()}};
    if (!f->platform.empty()) {
      q.emplace_back("platform", f->platform);
    }
    auto c = make_client(g);
    if (!c) {
      return report(c.error());
    }
    PullPrinter printer(f->quiet);
    auto r = c->request("POST", "/images/create", q, std::nullopt,
                        [&](std::string_view data) { return printer.feed(data); });
    if (!r) {
      return report(r.error());
    }
    if (printer.error()) {
      write_err(*printer.error() + "\n");
      return 1;
    }
    write_out(full.str() + "\n");  // docker ends with the full reference, also with -q
    return 0;
  });
}

}  // namespace mydocker::cli
