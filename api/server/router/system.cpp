// SPDX-License-Identifier: Apache-2.0
// System routes: /_ping, /version, /info, /system/df (transcripts 001-011, 259).
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "api/server/render.h"
#include "api/server/router.h"
#include "api/wire/filters.h"
#include "engine/events/events.h"
#include "image/content/image_config.h"

namespace mydocker::api::server {
namespace {

using nlohmann::json;

struct Uname {
  std::string kernel;
  std::string machine;
  std::string hostname;
};

Uname host_uname() {
  struct utsname u {};
  ::uname(&u);
  return {u.release, u.machine, u.nodename};
}

std::string go_arch(const std::string& machine) {
  if (machine == "x86_64") {
    return "amd64";
  }
  if (machine == "aarch64") {
    return "arm64";
  }
  return machine;
}

// PRETTY_NAME and VERSION_ID of /etc/os-release, as dockerd reports them.
std::pair<std::string, std::string> os_release() {
  std::ifstream f("/etc/os-release");
  std::string line;
  std::string pretty = "Linux";
  std::string version;
  auto value = [](std::string v) {
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'')) {
      v = v.substr(1, v.size() - 2);
    }
    return v;
  };
  while (std::getline(f, line)) {
    if (line.rfind("PRETTY_NAME=", 0) == 0) {
      pretty = value(line.substr(12));
    } else if (line.rfind("VERSION_ID=", 0) == 0) {
      version = value(line.substr(11));
    }
  }
  return {pretty, version};
}

int64_t mem_total() {
  std::ifstream f("/proc/meminfo");
  std::string key;
  int64_t kb = 0;
  std::string unit;
  while (f >> key >> kb >> unit) {
    if (key == "MemTotal:") {
      return kb * 1024;
    }
  }
  return 0;
}

std::string now_rfc3339() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return image::content::format_rfc3339_nano(ts.tv_sec, static_cast<int32_t>(ts.tv_nsec));
}

int64_t open_fds() {
  int64_t n = 0;
  // Counting /proc/self/fd entries is what dockerd's NFd does.
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return n;
}

base::Result<void> get_ping(Context&, const Request& req, Response& resp) {
  resp.status = 200;
  resp.content_type = "text/plain; charset=utf-8";
  resp.headers.emplace("Cache-Control", "no-cache, no-store, must-revalidate");
  resp.headers.emplace("Pragma", "no-cache");
  // HEAD answers Content-Length: 0 (002).
  resp.body = req.method == "HEAD" ? "" : "OK";
  return base::ok();
}

base::Result<void> get_version(Context& ctx, const Request&, Response& resp) {
  Uname u = host_uname();
  std::string arch = go_arch(u.machine);
  const std::string& v = ctx.options.version;
  ordered_json engine_details = {{"ApiVersion", kApiVersion},
                                 {"Arch", arch},
                                 {"BuildTime", ""},
                                 {"Experimental", "false"},
                                 {"GitCommit", ""},
                                 {"GoVersion", ""},
                                 {"KernelVersion", u.kernel},
                                 {"MinAPIVersion", kMinApiVersion},
                                 {"Os", "linux"}};
  ordered_json j;
  j["Platform"] = {{"Name", "mydocker"}};
  j["Components"] = ordered_json::array(
      {{{"Name", "Engine"}, {"Version", v}, {"Details", engine_details}},
       {{"Name", "mydocker-shim"}, {"Version", v}, {"Details", {{"GitCommit", ""}}}}});
  j["Version"] = v;
  j["ApiVersion"] = kApiVersion;
  j["MinAPIVersion"] = kMinApiVersion;
  j["GitCommit"] = "";
  j["GoVersion"] = "";
  j["Os"] = "linux";
  j["Arch"] = arch;
  j["KernelVersion"] = u.kernel;
  j["BuildTime"] = "";
  resp.json(200, dump(j));
  return base::ok();
}

base::Result<void> get_info(Context& ctx, const Request&, Response& resp) {
  engine::SystemInfo info = ctx.daemon.info();
  Uname u = host_uname();
  auto [os_name, os_version] = os_release();
  bool v2 = info.cgroup_version == "2";
  ordered_json j;
  j["ID"] = "";
  j["Containers"] = info.containers;
  j["ContainersRunning"] = info.running;
  j["ContainersPaused"] = info.paused;
  j["ContainersStopped"] = info.stopped;
  j["Images"] = info.images;
  j["Driver"] = info.driver;
  j["DriverStatus"] = ordered_json::array();
  j["Plugins"] = {{"Volume", ordered_json::array()},
                  {"Network", {"host", "null"}},
                  {"Authorization", nullptr},
                  {"Log", {"json-file", "none"}}};
  j["MemoryLimit"] = true;
  j["SwapLimit"] = true;
  j["KernelMemory"] = !v2;
  j["KernelMemoryTCP"] = !v2;
  j["CpuCfsPeriod"] = true;
  j["CpuCfsQuota"] = true;
  j["CPUShares"] = true;
  j["CPUSet"] = true;
  j["PidsLimit"] = true;
  j["IPv4Forwarding"] = false;
  j["BridgeNfIptables"] = false;
  j["BridgeNfIp6tables"] = false;
  j["Debug"] = ctx.options.debug;
  j["NFd"] = open_fds();
  j["OomKillDisable"] = !v2;
  j["NGoroutines"] = 0;
  j["SystemTime"] = now_rfc3339();
  j["LoggingDriver"] = "json-file";
  j["CgroupDriver"] = info.cgroup_driver;
  j["CgroupVersion"] = info.cgroup_version;
  j["NEventsListener"] = 0;
  j["KernelVersion"] = u.kernel;
  j["OperatingSystem"] = os_name;
  j["OSVersion"] = os_version;
  j["OSType"] = "linux";
  j["Architecture"] = u.machine;
  j["IndexServerAddress"] = "https://index.docker.io/v1/";
  j["RegistryConfig"] = {{"AllowNondistributableArtifactsCIDRs", ordered_json::array()},
                         {"AllowNondistributableArtifactsHostnames", ordered_json::array()},
                         {"InsecureRegistryCIDRs", {"127.0.0.0/8"}},
                         {"IndexConfigs",
                          {{"docker.io",
                            {{"Name", "docker.io"},
                             {"Mirrors", ordered_json::array()},
                             {"Secure", true},
                             {"Official", true}}}}},
                         {"Mirrors", ordered_json::array()}};
  j["NCPU"] = ::sysconf(_SC_NPROCESSORS_ONLN);
  j["MemTotal"] = mem_total();
  j["GenericResources"] = nullptr;
  j["DockerRootDir"] = info.data_root;
  j["HttpProxy"] = "";
  j["HttpsProxy"] = "";
  j["NoProxy"] = "";
  j["Name"] = u.hostname;
  j["Labels"] = ordered_json::array();
  j["ExperimentalBuild"] = false;
  j["ServerVersion"] = ctx.options.version;
  j["Runtimes"] = {{"runc", {{"path", "mydocker-shim"}}}};
  j["DefaultRuntime"] = "runc";
  j["Swarm"] = {{"NodeID", ""},
                {"NodeAddr", ""},
                {"LocalNodeState", "inactive"},
                {"ControlAvailable", false},
                {"Error", ""},
                {"RemoteManagers", nullptr}};
  j["LiveRestoreEnabled"] = info.live_restore;
  j["Isolation"] = "";
  j["InitBinary"] = "tini";
  j["ContainerdCommit"] = {{"ID", ""}, {"Expected", ""}};
  j["RuncCommit"] = {{"ID", ""}, {"Expected", ""}};
  j["InitCommit"] = {{"ID", ""}, {"Expected", ""}};
  ordered_json sec = ordered_json::array({"name=seccomp,profile=builtin"});
  if (v2) {
    sec.push_back("name=cgroupns");
  }
  j["SecurityOptions"] = sec;
  j["Warnings"] = info.warnings.empty() ? ordered_json(nullptr) : ordered_json(info.warnings);
  resp.json(200, dump(j));
  return base::ok();
}

base::Result<void> get_system_df(Context& ctx, const Request&, Response& resp) {
  auto du = MYDOCKER_TRY(ctx.daemon.disk_usage());
  auto images = MYDOCKER_TRY(ctx.daemon.images().images().list({}, true));
  std::map<std::string, int64_t> users;
  for (const auto& c : du.containers) {
    users[c.image_id]++;
  }
  int64_t now = ::time(nullptr);
  ordered_json imgs = ordered_json::array();
  for (const auto& s : images) {
    ordered_json item = ordered_json(image::store::to_json(s));
    item["Containers"] = users.count(s.id) != 0 ? users[s.id] : 0;
    item["SharedSize"] = 0;
    imgs.push_back(std::move(item));
  }
  ordered_json containers = ordered_json::array();
  for (const auto& c : du.containers) {
    containers.push_back(container_summary(c, now));
  }
  ordered_json j;
  j["LayersSize"] = du.layers_size;
  j["Images"] = std::move(imgs);
  j["Containers"] = std::move(containers);
  j["Volumes"] = ordered_json::array();
  j["BuildCache"] = nullptr;
  j["BuilderSize"] = 0;
  resp.json(200, dump(j));
  return base::ok();
}

// GET /events (transcripts 216-222): one JSON object per line, each flushed as it happens;
// the head goes out at once. Filters and times are checked before it.
base::Result<void> get_events(Context& ctx, const Request& req, Response& resp) {
  engine::EventsOptions opts;
  opts.since_nano =
      MYDOCKER_TRY(engine::events::parse_timestamp(req.query_value("since").value_or("")));
  opts.until_nano =
      MYDOCKER_TRY(engine::events::parse_timestamp(req.query_value("until").value_or("")));
  auto filters = wire::parse_filters(req.query_value("filters").value_or(""));
  if (!filters) {
    return base::Error(base::ErrorCode::Internal, filters.error().message());
  }
  opts.filters = std::move(*filters);
  MYDOCKER_TRY(engine::events::Filter::parse(opts.filters));  // a bad key is a 400 up front
  resp.status = 200;
  resp.content_type = "application/json";
  engine::Daemon& daemon = ctx.daemon;
  resp.stream = [&daemon, opts](StreamWriter& w) mutable {
    opts.client_alive = [&w] { return w.alive(); };
    auto r = daemon.events(opts, [&](const engine::Event& e) {
      return w.write(dump(engine::events::to_json(e)) + "\n");
    });
    (void)r;  // the head is out: a failure can only end the stream
  };
  return base::ok();
}

}  // namespace

std::vector<Route> system_routes() {
  return {
      {"GET", "/_ping", BodyMode::Buffered, get_ping},
      {"GET", "/version", BodyMode::Buffered, get_version},
      {"GET", "/info", BodyMode::Buffered, get_info},
      {"GET", "/system/df", BodyMode::Buffered, get_system_df},
      {"GET", "/events", BodyMode::Buffered, get_events},
  };
}

}  // namespace mydocker::api::server
