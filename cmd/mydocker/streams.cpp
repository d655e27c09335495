// SPDX-License-Identifier: Apache-2.0
#include "cmd/mydocker/streams.h"

#include <fmt/format.h>
#include <time.h>

#include <cmath>
#include <vector>

#include "cmd/mydocker/format.h"

namespace mydocker::cli {
namespace {

uint64_t u64(const Json& j, const char* key) {
  if (!j.is_object()) {
    return 0;
  }
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) {
    return 0;
  }
  return it->is_number_unsigned() ? it->get<uint64_t>()
                                  : static_cast<uint64_t>(std::max<int64_t>(0, it->get<int64_t>()));
}

const Json& sub(const Json& j, const char* key) {
  static const Json kNull;
  if (!j.is_object()) {
    return kNull;
  }
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

std::string str(const Json& j, const char* key) {
  const Json& v = sub(j, key);
  return v.is_string() ? v.get<std::string>() : "";
}

// Go's time.Format(RFC3339NanoFixed) in local time.
std::string rfc3339_nano_fixed(int64_t nanos) {
  time_t secs = static_cast<time_t>(nanos / 1'000'000'000);
  int64_t frac = nanos % 1'000'000'000;
  if (frac < 0) {
    frac += 1'000'000'000;
    --secs;
  }
  struct tm tm {};
  ::localtime_r(&secs, &tm);
  char buf[64];
  ::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string zone = "Z";
  if (tm.tm_gmtoff != 0) {
    long off = tm.tm_gmtoff;
    char sign = off < 0 ? '-' : '+';
    off = std::labs(off);
    zone = fmt::format("{}{:02}:{:02}", sign, off / 3600, (off % 3600) / 60);
  }
  return fmt::format("{}.{:09}{}", buf, frac, zone);
}

}  // namespace

std::string event_line(const Json& event) {
  std::string out;
  int64_t nano = static_cast<int64_t>(u64(event, "timeNano"));
  int64_t secs = static_cast<int64_t>(u64(event, "time"));
  if (nano != 0) {
    out += rfc3339_nano_fixed(nano) + " ";
  } else if (secs != 0) {
    out += rfc3339_nano_fixed(secs * 1'000'000'000) + " ";
  }
  const Json& actor = sub(event, "Actor");
  out += fmt::format("{} {} {}", str(event, "Type"), str(event, "Action"), str(actor, "ID"));
  const Json& attrs = sub(actor, "Attributes");
  if (attrs.is_object() && !attrs.empty()) {
    std::vector<std::string> parts;
    for (const auto& [k, v] : attrs.items()) {  // nlohmann::json keeps keys sorted
      parts.push_back(k + "=" + (v.is_string() ? v.get<std::string>() : v.dump()));
    }
    out += " (";
    for (size_t i = 0; i < parts.size(); ++i) {
      out += (i == 0 ? "" : ", ") + parts[i];
    }
    out += ")";
  }
  return out + "\n";
}

OJson event_template_data(const Json& event) {
  const Json& actor = sub(event, "Actor");
  OJson attrs = OJson::object();
  if (const Json& a = sub(actor, "Attributes"); a.is_object()) {
    for (const auto& [k, v] : a.items()) {
      attrs[k] = v;
    }
  }
  OJson j = OJson::object();
  j["Status"] = str(event, "status");
  j["ID"] = str(event, "id");
  j["From"] = str(event, "from");
  j["Type"] = str(event, "Type");
  j["Action"] = str(event, "Action");
  j["Actor"] = {{"ID", str(actor, "ID")}, {"Attributes", attrs}};
  j["Scope"] = str(event, "scope");
  j["Time"] = u64(event, "time");
  j["TimeNano"] = u64(event, "timeNano");
  return j;
}

double cpu_percent(const Json& stats) {
  const Json& cpu = sub(stats, "cpu_stats");
  const Json& pre = sub(stats, "precpu_stats");
  double cpu_delta = static_cast<double>(u64(sub(cpu, "cpu_usage"), "total_usage")) -
                     static_cast<double>(u64(sub(pre, "cpu_usage"), "total_usage"));
  double system_delta = static_cast<double>(u64(cpu, "system_cpu_usage")) -
                        static_cast<double>(u64(pre, "system_cpu_usage"));
  double online = static_cast<double>(u64(cpu, "online_cpus"));
  if (online == 0.0) {
    const Json& per = sub(sub(cpu, "cpu_usage"), "percpu_usage");
    online = per.is_array() ? static_cast<double>(per.size()) : 0.0;
  }
  if (system_delta > 0.0 && cpu_delta > 0.0) {
    return cpu_delta / system_delta * online * 100.0;
  }
  return 0.0;
}

double mem_usage_no_cache(const Json& stats) {
  const Json& mem = sub(stats, "memory_stats");
  uint64_t usage = u64(mem, "usage");
  const Json& st = sub(mem, "stats");
  if (st.is_object() && st.contains("total_inactive_file")) {
    uint64_t v = u64(st, "total_inactive_file");
    if (v < usage) {
      return static_cast<double>(usage - v);
    }
  }
  uint64_t v = u64(st, "inactive_file");
  if (v < usage) {
    return static_cast<double>(usage - v);
  }
  return static_cast<double>(usage);
}

double mem_percent(const Json& stats) {
  double limit = static_cast<double>(u64(sub(stats, "memory_stats"), "limit"));
  return limit != 0 ? mem_usage_no_cache(stats) / limit * 100.0 : 0.0;
}

std::pair<uint64_t, uint64_t> block_io(const Json& stats) {
  uint64_t r = 0;
  uint64_t w = 0;
  const Json& entries = sub(sub(stats, "blkio_stats"), "io_service_bytes_recursive");
  if (entries.is_array()) {
    for (const auto& e : entries) {
      std::string op = str(e, "op");
      if (op.empty()) {
        continue;
      }
      if (op[0] == 'r' || op[0] == 'R') {
        r += u64(e, "value");
      } else if (op[0] == 'w' || op[0] == 'W') {
        w += u64(e, "value");
      }
    }
  }
  return {r, w};
}

std::pair<uint64_t, uint64_t> net_io(const Json& stats) {
  uint64_t rx = 0;
  uint64_t tx = 0;
  const Json& nets = sub(stats, "networks");
  if (nets.is_object()) {
    for (const auto& [name, n] : nets.items()) {
      rx += u64(n, "rx_bytes");
      tx += u64(n, "tx_bytes");
    }
  }
  return {rx, tx};
}

std::string bytes_size(double size) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"};
  size_t i = 0;
  while (size >= 1024.0 && i + 1 < std::size(units)) {
    size /= 1024.0;
    ++i;
  }
  return fmt::format("{:.4g}{}", size, units[i]);
}

OJson stats_headers() {
  return {{"ID", "CONTAINER ID"},
          {"Name", "NAME"},
          {"Container", "CONTAINER"},
          {"CPUPerc", "CPU %"},
          {"MemUsage", "MEM USAGE / LIMIT"},
          {"MemPerc", "MEM %"},
          {"NetIO", "NET I/O"},
          {"BlockIO", "BLOCK I/O"},
          {"PIDs", "PIDS"}};
}

OJson stats_row(const Json& stats, const std::string& container, bool no_trunc, bool valid) {
  std::string id = str(stats, "id");
  std::string name = str(stats, "name");
  if (name.starts_with("/")) {
    name.erase(0, 1);
  }
  OJson row = OJson::object();
  row["ID"] = no_trunc ? id : id.substr(0, 12);
  row["Name"] = name.empty() ? "--" : name;
  row["Container"] = container;
  if (!valid) {
    for (const char* k : {"CPUPerc", "MemUsage", "MemPerc", "NetIO", "BlockIO", "PIDs"}) {
      row[k] = "--";
    }
    return row;
  }
  row["CPUPerc"] = fmt::format("{:.2f}%", cpu_percent(stats));
  double limit = static_cast<double>(u64(sub(stats, "memory_stats"), "limit"));
  row["MemUsage"] = bytes_size(mem_usage_no_cache(stats)) + " / " + bytes_size(limit);
  row["MemPerc"] = fmt::format("{:.2f}%", mem_percent(stats));
  auto [rx, tx] = net_io(stats);
  row["NetIO"] = human_size(static_cast<double>(rx)) + " / " + human_size(static_cast<double>(tx));
  auto [br, bw] = block_io(stats);
  row["BlockIO"] =
      human_size(static_cast<double>(br)) + " / " + human_size(static_cast<double>(bw));
  row["PIDs"] = std::to_string(u64(sub(stats, "pids_stats"), "current"));
  return row;
}

}  // namespace mydocker::cli
