// SPDX-License-Identifier: Apache-2.0
// ps (container ls).
#include <memory>

#include "cmd/mydocker/cli.h"
#include "cmd/mydocker/views.h"

namespace mydocker::cli {

void register_ps(CLI::App& parent, Registry& reg, const std::string& name) {
  auto* sub = parent.add_subcommand(name, "List containers");
  if (name == "ls") {
    sub->alias("ps");
    sub->alias("list");
  }
  struct Opts {
    bool all = false;
    bool quiet = false;
    std::vector<std::string> filters;
    std::optional<int> last;
    bool latest = false;
    bool size = false;
    bool no_trunc = false;
    std::string format;
  };
  auto o = std::make_shared<Opts>();
  sub->add_flag("-a,--all", o->all, "Show all containers (default shows just running)");
  sub->add_flag("-q,--quiet", o->quiet, "Only display container IDs");
  add_multi(sub, "-f,--filter", o->filters, "Filter output based on conditions provided");
  sub->add_option("-n,--last", o->last, "Show n last created containers (includes all states)");
  sub->add_flag("-l,--latest", o->latest,
                "Show the latest created container (includes all "
                "states)");
  sub->add_flag("-s,--size", o->size, "Display total file sizes");
  sub->add_flag("--no-trunc", o->no_trunc, "Don't truncate output");
  sub->add_option("--format", o->format, "Format output using a custom template");
  Globals& g = reg.globals();
  reg.add(sub, [o, &g]() -> int {
    api::client::ContainerListOptions lo;
    lo.all = o->all;
    lo.limit = o->latest ? std::optional<int>(1) : o->last;
    if (lo.limit && *lo.limit <= 0) {
      lo.limit.reset();
    }
    // A template that shows the size needs the daemon to compute it (docker does the same).
    // docker 28 asks for sizes for {{json .}} too (its template pre-pass touches every
    // field), but not for the `--format json` shorthand.
    lo.size = o->size || (!o->quiet && (o->format.find(".Size") != std::string::npos ||
                                        o->format.find("json .") != std::string::npos));
    for (const auto& arg : o->filters) {
      auto kv = api::client::parse_filter_arg(arg);
      if (!kv) {
        return report(kv.error());
      }
      lo.filters[kv->first].push_back(kv->second);
    }
    auto c = make_client(g);
    if (!c) {
      return report(c.error());
    }
    auto list = c->container_list(lo);
    if (!list) {
      return report(list.error());
    }
    PsView view{.quiet = o->quiet, .no_trunc = o->no_trunc, .size = o->size, .format = o->format};
    auto out = render_ps(*list, view, unix_now());
    if (!out) {
      return report(out.error());
    }
    write_out(*out);
    return 0;
  });
}

}  // namespace mydocker::cli
