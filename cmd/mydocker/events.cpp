// SPDX-License-Identifier: Apache-2.0
// events: GET /events streamed line by line, printed as docker prints them.
#include <memory>

#include "cmd/mydocker/cli.h"
#include "cmd/mydocker/format.h"
#include "cmd/mydocker/opts.h"
#include "cmd/mydocker/streams.h"

namespace mydocker::cli {

void register_events(CLI::App& parent, Registry& reg) {
  auto* sub = parent.add_subcommand("events", "Get real time events from the server");
  struct Opts {
    std::string since;
    std::string until;
    std::vector<std::string> filters;
    std::string format;
  };
  auto o = std::make_shared<Opts>();
  sub->add_option("--since", o->since, "Show all events created since timestamp");
  sub->add_option("--until", o->until, "Stream events until this timestamp");
  add_multi(sub, "-f,--filter", o->filters, "Filter output based on conditions provided");
  sub->add_option("--format", o->format, "Format output using a custom template");
  Globals& g = reg.globals();
  reg.add(sub, [o, &g]() -> int {
    api::client::Filters filters;
    for (const auto& f : o->filters) {
      auto kv = api::client::parse_filter_arg(f);
      if (!kv) {
        return report(kv.error());
      }
      filters[kv->first].push_back(kv->second);
    }
    std::optional<Template> tmpl;
    bool raw_json = false;
    if (!o->format.empty()) {
      Format f = parse_format(o->format);
      raw_json = f.tmpl == "{{json .}}";
      if (!raw_json) {
        auto t = Template::parse(f.tmpl);
        if (!t) {
          return report(t.error(), 64);
        }
        tmpl.emplace(std::move(*t));
      }
    }
    auto c = make_client(g);
    if (!c) {
      return report(c.error());
    }
    api::client::Query q;
    int64_t now = unix_now();
    if (!o->since.empty()) {
      q.emplace_back("since", parse_time_arg(o->since, now));
    }
    if (!o->until.empty()) {
      q.emplace_back("until", parse_time_arg(o->until, now));
    }
    if (!filters.empty()) {
      q.emplace_back("filters", api::client::encode_filters(filters));
    }
    std::string pending;
    std::optional<base::Error> failure;
    auto sink = [&](std::string_view data) {
      pending.append(data);
      size_t nl;
      while ((nl = pending.find('\n')) != std::string::npos) {
        std::string line = pending.substr(0, nl);
        pending.erase(0, nl + 1);
        if (line.empty()) {
          continue;
        }
        auto ev = Json::parse(line, nullptr, false);
        if (ev.is_discarded()) {
          continue;
        }
        if (raw_json) {
          write_out(line + "\n");
        } else if (tmpl) {
          auto text = tmpl->execute(event_template_data(ev));
          if (!text) {
            failure = text.error();
            return false;
          }
          write_out(*text + "\n");
        } else {
          write_out(event_line(ev));
        }
      }
      return true;
    };
    auto r = c->request("GET", "/events", q, std::nullopt, sink);
    if (failure) {
      return report(*failure);
    }
    if (!r) {
      return report(r.error());
    }
    return 0;
  });
}

}  // namespace mydocker::cli
