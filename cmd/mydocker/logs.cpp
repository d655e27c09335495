// SPDX-License-Identifier: Apache-2.0
// logs: the container's Tty decides whether the stream is multiplexed (docker inspects first
// too).
#include <memory>

#include "cmd/mydocker/cli.h"
#include "cmd/mydocker/opts.h"

namespace mydocker::cli {

void register_logs(CLI::App& parent, Registry& reg) {
  auto* sub = parent.add_subcommand("logs", "Fetch the logs of a container");
  struct Opts {
    std::string name;
    bool follow = false;
    bool timestamps = false;
    std::string tail = "all";
    std::string since;
    std::string until;
    bool details = false;
  };
  auto o = std::make_shared<Opts>();
  sub->add_option("CONTAINER", o->name)->required();
  sub->add_flag("-f,--follow", o->follow, "Follow log output");
  sub->add_flag("-t,--timestamps", o->timestamps, "Show timestamps");
  sub->add_option("-n,--tail", o->tail, "Number of lines to show from the end of the logs");
  sub->add_option("--since", o->since, "Show logs since timestamp or relative (e.g. 42m)");
  sub->add_option("--until", o->until, "Show logs before a timestamp or relative (e.g. 42m)");
  sub->add_flag("--details", o->details, "Show extra details provided to logs");
  Globals& g = reg.globals();
  reg.add(sub, [o, &g]() -> int {
    auto c = make_client(g);
    if (!c) {
      return report(c.error());
    }
    auto info = c->container_inspect(o->name);
    if (!info) {
      return report(info.error());
    }
    bool tty = false;
    if (info->contains("Config") && (*info)["Config"].is_object()) {
      tty = (*info)["Config"].value("Tty", false);
    }
    std::string id = info->value("Id", o->name);
    api::client::LogsOptions lo;
    lo.follow = o->follow;
    lo.timestamps = o->timestamps;
    lo.tail = o->tail == "all" ? "" : o->tail;
    int64_t now = unix_now();
    if (!o->since.empty()) {
      lo.since = parse_time_arg(o->since, now);
    }
    if (!o->until.empty()) {
      lo.until = parse_time_arg(o->until, now);
    }
    auto r =
        c->container_logs(id, lo, tty, [](api::client::StreamKind kind, std::string_view data) {
          if (kind == api::client::StreamKind::Stdout) {
            write_out(data);
          } else {
            write_err(data);
          }
        });
    if (!r) {
      return report(r.error());
    }
    return 0;
  });
}

}  // namespace mydocker::cli
