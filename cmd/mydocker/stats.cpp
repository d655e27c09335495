// SPDX-License-Identifier: Apache-2.0
// stats: one GET /containers/{id}/stats stream per container (a thread each), the latest
// sample of every container rendered as docker's table every half second, or once with
// --no-stream (stream=false: the daemon's sample already carries precpu).
#include <unistd.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "cmd/mydocker/cli.h"
#include "cmd/mydocker/format.h"
#include "cmd/mydocker/streams.h"

namespace mydocker::cli {
namespace {

constexpr const char* kDefaultStatsFormat =
    "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}"
    "\t{{.PIDs}}";

struct Entry {
  std::string container;  // as named by the user (or the ID)
  Json sample;            // latest; null until the first
  bool valid = true;
  bool done = false;  // the stream ended (container removed, daemon gone)
  std::optional<base::Error> error;
};

struct Shared {
  std::mutex mu;
  std::map<std::string, Entry> entries;  // key: what was asked for
  std::vector<std::string> order;
};

// Streams (or fetches once) the stats of `key` into shared.
void collect(api::client::Client client, std::shared_ptr<Shared> shared, std::string key,
             bool stream) {
  std::string pending;
  auto sink = [&](std::string_view data) {
    pending.append(data);
    size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      auto j = Json::parse(pending.substr(0, nl), nullptr, false);
      pending.erase(0, nl + 1);
      if (j.is_discarded()) {
        continue;
      }
      std::lock_guard lk(shared->mu);
      auto it = shared->entries.find(key);
      if (it == shared->entries.end()) {
        return false;  // no longer shown
      }
      it->second.sample = std::move(j);
      it->second.valid = true;
    }
    return true;
  };
  auto r = client.request("GET", "/containers/" + api::client::path_escape(key) + "/stats",
                          {{"stream", stream ? "1" : "0"}}, std::nullopt, sink);
  if (!pending.empty()) {
    sink("\n");
  }
  std::lock_guard lk(shared->mu);
  auto it = shared->entries.find(key);
  if (it == shared->entries.end()) {
    return;
  }
  it->second.done = true;
  if (!r) {
    it->second.error = r.error();
    it->second.valid = false;
  }
}

base::Result<std::string> render(Shared& shared, const Format& format, bool no_trunc) {
  std::vector<OJson> rows;
  {
    std::lock_guard lk(shared.mu);
    for (const auto& key : shared.order) {
      auto it = shared.entries.find(key);
      if (it == shared.entries.end() || (it->second.done && it->second.error)) {
        continue;
      }
      const Entry& e = it->second;
      Json sample = e.sample.is_null() ? Json{{"id", key}, {"name", ""}} : e.sample;
      rows.push_back(stats_row(sample, e.container, no_trunc, e.valid && !e.sample.is_null()));
    }
  }
  return render_rows(format, stats_headers(), rows);
}

}  // namespace

void register_stats(CLI::App& parent, Registry& reg) {
  auto* sub = parent.add_subcommand(
      "stats", "Display a live stream of container(s) resource usage statistics");
  struct Opts {
    std::vector<std::string> names;
    bool all = false;
    bool no_stream = false;
    bool no_trunc = false;
    std::string format;
  };
  auto o = std::make_shared<Opts>();
  sub->add_option("CONTAINER", o->names);
  sub->add_flag("-a,--all", o->all, "Show all containers (default shows just running)");
  sub->add_flag("--no-stream", o->no_stream,
                "Disable streaming stats and only pull the first result");
  sub->add_flag("--no-trunc", o->no_trunc, "Do not truncate output");
  sub->add_option("--format", o->format, "Format output using a custom template");
  Globals& g = reg.globals();
  reg.add(sub, [o, &g]() -> int {
    Format format = parse_format(o->format.empty() ? kDefaultStatsFormat : o->format);
    if (auto t = Template::parse(format.tmpl); !t) {
      return report(t.error(), 64);
    }
    auto c = make_client(g);
    if (!c) {
      return report(c.error());
    }
    auto shared = std::make_shared<Shared>();
    std::vector<std::thread> workers;
    auto add = [&](const std::string& key, const std::string& shown) {
      std::lock_guard lk(shared->mu);
      if (shared->entries.count(key) > 0) {
        return false;
      }
      shared->entries[key].container = shown;
      shared->order.push_back(key);
      return true;
    };
    bool listed = o->names.empty();
    auto refresh_list = [&]() -> base::Result<std::vector<std::string>> {
      api::client::ContainerListOptions lo;
      lo.all = o->all;
      Json list = MYDOCKER_TRY(c->container_list(lo));
      std::vector<std::string> ids;
      for (const auto& item : list) {
        ids.push_back(item.value("Id", ""));
      }
      return ids;
    };
    std::vector<std::string> initial;
    if (listed) {
      auto ids = refresh_list();
      if (!ids) {
        return report(ids.error());
      }
      initial = *ids;
    } else {
      initial = o->names;
    }
    for (const auto& key : initial) {
      if (add(key, key)) {
        workers.emplace_back(collect, *c, shared, key, !o->no_stream);
      }
    }
    if (o->no_stream) {
      for (auto& t : workers) {
        t.join();
      }
      int status = 0;
      {
        std::lock_guard lk(shared->mu);
        for (const auto& key : shared->order) {
          if (const auto& e = shared->entries[key]; e.error) {
            report(*e.error);
            status = 1;
          }
        }
      }
      auto text = render(*shared, format, o->no_trunc);
      if (!text) {
        return report(text.error());
      }
      write_out(*text);
      return status;
    }
    for (auto& t : workers) {
      t.detach();  // the streams end with the process (Ctrl-C)
    }
    bool tty = is_terminal(STDOUT_FILENO);
    auto last_list = std::chrono::steady_clock::now();
    for (;;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      if (listed && std::chrono::steady_clock::now() - last_list >= std::chrono::seconds(2)) {
        last_list = std::chrono::steady_clock::now();
        auto ids = refresh_list();
        if (!ids) {
          return report(ids.error());  // the daemon went away
        }
        {
          std::set<std::string> now(ids->begin(), ids->end());
          {
            std::lock_guard lk(shared->mu);
            std::vector<std::string> keep;
            for (const auto& key : shared->order) {
              if (now.count(key) > 0) {
                keep.push_back(key);
              } else {
                shared->entries.erase(key);
              }
            }
            shared->order = std::move(keep);
          }
          for (const auto& key : *ids) {
            if (add(key, key)) {
              std::thread(collect, *c, shared, key, true).detach();
            }
          }
        }
      }
      auto text = render(*shared, format, o->no_trunc);
      if (!text) {
        return report(text.error());
      }
      if (tty) {
        write_out("\033[2J\033[H");
      }
      write_out(*text);
      if (!listed) {
        // Named containers: stop once every stream has ended (removed, unknown, or the
        // daemon gone), with the errors there were.
        std::lock_guard lk(shared->mu);
        bool all_done = true;
        for (const auto& key : shared->order) {
          all_done = all_done && shared->entries[key].done;
        }
        if (all_done) {
          int status = 0;
          for (const auto& key : shared->order) {
            if (const auto& e = shared->entries[key]; e.error) {
              report(*e.error);
              status = 1;
            }
          }
          return status;
        }
      }
    }
  });
}

}  // namespace mydocker::cli
