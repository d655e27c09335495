// SPDX-License-Identifier: Apache-2.0
#include "engine/container/config.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>

#include "engine/container/go_json.h"
#include "runtime/base/strings.h"
#include "runtime/caps/names.h"
#include "runtime/spec/signals.h"

namespace mydocker::engine {
namespace {

using base::ErrorCode;
using json = nlohmann::json;

// Where a value sits, as Go's encoding/json names it in an UnmarshalTypeError: the innermost
// struct type being decoded, then the JSON field path from the root ("HostConfig" +
// "HostConfig.Memory" in a create body; "ContainerConfigWrapper" + "Image" for a promoted
// Config field).
struct Ctx {
  std::string struct_name;
  std::string prefix;  // "" or "HostConfig." ...
};

std::string json_kind(const json& v) {
  switch (v.type()) {
    case json::value_t::string:
      return "string";
    case json::value_t::boolean:
      return "bool";
    case json::value_t::object:
      return "object";
    case json::value_t::array:
      return "array";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return "number";
    default:
      return "null";
  }
}

base::Error type_error_text(std::string_view value, const Ctx& ctx, std::string_view field,
                            std::string_view go_type) {
  return base::make_error(ErrorCode::InvalidArgument,
                          "json: cannot unmarshal {} into Go struct field {}.{}{} of type {}",
                          value, ctx.struct_name, ctx.prefix, field, go_type);
}

base::Error type_error(const json& v, const Ctx& ctx, std::string_view field,
                       std::string_view go_type) {
  return type_error_text(json_kind(v), ctx, field, go_type);
}

// The kinds of Go field the known keys have. Used to type-check the fields kept verbatim in
// `extra`, and by the typed decoders.
enum class Kind {
  String,
  Bool,
  Int64,     // int64 / int
  Uint16,    // uint16
  Uint64,    // uint64
  Strings,   // []string
  StrSlice,  // strslice.StrSlice: an array of strings or one string
  StringMap,
  Set,     // map[string]struct{}
  Object,  // a struct (checked shallowly)
  Array,   // a slice of structs (checked shallowly)
  Pair,    // [2]uint
};

struct Field {
  std::string_view name;
  Kind kind;
  std::string_view go_type;
};

base::Result<int64_t> get_int(const json& v, const Ctx& ctx, std::string_view field,
                              std::string_view go_type, int64_t min, int64_t max) {
  if (v.is_number_integer() && !v.is_number_unsigned()) {
    int64_t n = v.get<int64_t>();
    if (n >= min && n <= max) {
      return n;
    }
  } else if (v.is_number_unsigned()) {
    uint64_t n = v.get<uint64_t>();
    if (n <= static_cast<uint64_t>(max)) {
      return static_cast<int64_t>(n);
    }
  } else if (!v.is_number_float()) {
    return type_error(v, ctx, field, go_type);
  }
  // Go reports the literal of a number that does not fit ("number 1.5", "number -1").
  return type_error_text("number " + v.dump(), ctx, field, go_type);
}

base::Result<uint64_t> get_uint64(const json& v, const Ctx& ctx, std::string_view field) {
  if (v.is_number_unsigned()) {
    return v.get<uint64_t>();
  }
  if (v.is_number_integer() && v.get<int64_t>() >= 0) {
    return static_cast<uint64_t>(v.get<int64_t>());
  }
  if (v.is_number()) {
    return type_error_text("number " + v.dump(), ctx, field, "uint64");
  }
  return type_error(v, ctx, field, "uint64");
}

base::Result<std::string> get_string(const json& v, const Ctx& ctx, std::string_view field) {
  if (!v.is_string()) {
    return type_error(v, ctx, field, "string");
  }
  return v.get<std::string>();
}

base::Result<bool> get_bool(const json& v, const Ctx& ctx, std::string_view field) {
  if (!v.is_boolean()) {
    return type_error(v, ctx, field, "bool");
  }
  return v.get<bool>();
}

base::Result<std::vector<std::string>> get_strings(const json& v, const Ctx& ctx,
                                                   std::string_view field) {
  if (!v.is_array()) {
    return type_error(v, ctx, field, "[]string");
  }
  std::vector<std::string> out;
  for (const auto& e : v) {
    if (e.is_null()) {
      out.emplace_back();
      continue;
    }
    if (!e.is_string()) {
      return type_error(e, ctx, field, "string");
    }
    out.push_back(e.get<std::string>());
  }
  return out;
}

// strslice.StrSlice's UnmarshalJSON tries []string, then string, and returns the second
// error, to which the decoder adds the field: "cannot unmarshal number into Go struct field
// ContainerConfigWrapper.Cmd of type string"; an array holding a non-string fails as "array".
base::Result<std::vector<std::string>> get_strslice(const json& v, const Ctx& ctx,
                                                    std::string_view field) {
  if (v.is_string()) {
    return std::vector<std::string>{v.get<std::string>()};
  }
  if (v.is_array()) {
    std::vector<std::string> out;
    for (const auto& e : v) {
      if (e.is_null()) {
        out.emplace_back();
      } else if (e.is_string()) {
        out.push_back(e.get<std::string>());
      } else {
        return type_error_text("array", ctx, field, "string");
      }
    }
    return out;
  }
  return type_error(v, ctx, field, "string");
}

base::Result<std::map<std::string, std::string>> get_string_map(const json& v, const Ctx& ctx,
                                                                std::string_view field) {
  if (!v.is_object()) {
    return type_error(v, ctx, field, "map[string]string");
  }
  std::map<std::string, std::string> out;
  for (const auto& [k, e] : v.items()) {
    if (e.is_null()) {
      out[k] = "";
      continue;
    }
    if (!e.is_string()) {
      return type_error(e, ctx, field, "string");
    }
    out[k] = e.get<std::string>();
  }
  return out;
}

base::Result<std::map<std::string, bool>> get_set(const json& v, const Ctx& ctx,
                                                  std::string_view field,
                                                  std::string_view go_type) {
  if (!v.is_object()) {
    return type_error(v, ctx, field, go_type);
  }
  std::map<std::string, bool> out;
  for (const auto& [k, e] : v.items()) {
    if (!e.is_object() && !e.is_null()) {
      return type_error(e, ctx, field, "struct {}");
    }
    out[k] = true;
  }
  return out;
}

// Type-checks a field kept verbatim.
base::Result<void> check_kind(const json& v, const Field& f, const Ctx& ctx) {
  switch (f.kind) {
    case Kind::String:
      MYDOCKER_TRY(get_string(v, ctx, f.name));
      break;
    case Kind::Bool:
      MYDOCKER_TRY(get_bool(v, ctx, f.name));
      break;
    case Kind::Int64:
      MYDOCKER_TRY(get_int(v, ctx, f.name, f.go_type, std::numeric_limits<int64_t>::min(),
                           std::numeric_limits<int64_t>::max()));
      break;
    case Kind::Uint16:
      MYDOCKER_TRY(get_int(v, ctx, f.name, f.go_type, 0, 65535));
      break;
    case Kind::Uint64:
      MYDOCKER_TRY(get_uint64(v, ctx, f.name));
      break;
    case Kind::Strings:
      MYDOCKER_TRY(get_strings(v, ctx, f.name));
      break;
    case Kind::StrSlice:
      MYDOCKER_TRY(get_strslice(v, ctx, f.name));
      break;
    case Kind::StringMap:
      MYDOCKER_TRY(get_string_map(v, ctx, f.name));
      break;
    case Kind::Set:
      MYDOCKER_TRY(get_set(v, ctx, f.name, f.go_type));
      break;
    case Kind::Object:
      if (!v.is_object()) {
        return type_error(v, ctx, f.name, f.go_type);
      }
      break;
    case Kind::Array:
      if (!v.is_array()) {
        return type_error(v, ctx, f.name, f.go_type);
      }
      break;
    case Kind::Pair:
      if (!v.is_array()) {
        return type_error(v, ctx, f.name, f.go_type);
      }
      for (const auto& e : v) {
        MYDOCKER_TRY(get_int(e, ctx, f.name, "uint", 0, std::numeric_limits<int64_t>::max()));
      }
      break;
  }
  return base::ok();
}

// Go matches keys to fields exactly first, then case-insensitively.
template <size_t N>
const Field* find_field(const std::array<Field, N>& fields, std::string_view key) {
  for (const auto& f : fields) {
    if (f.name == key) {
      return &f;
    }
  }
  for (const auto& f : fields) {
    if (base::ascii_iequals(f.name, key)) {
      return &f;
    }
  }
  return nullptr;
}

// container.Config (API v1.41), every field.
constexpr std::array<Field, 25> kConfigFields = {{
    {"Hostname", Kind::String, "string"},
    {"Domainname", Kind::String, "string"},
    {"User", Kind::String, "string"},
    {"AttachStdin", Kind::Bool, "bool"},
    {"AttachStdout", Kind::Bool, "bool"},
    {"AttachStderr", Kind::Bool, "bool"},
    {"ExposedPorts", Kind::Set, "nat.PortSet"},
    {"Tty", Kind::Bool, "bool"},
    {"OpenStdin", Kind::Bool, "bool"},
    {"StdinOnce", Kind::Bool, "bool"},
    {"Env", Kind::Strings, "[]string"},
    {"Cmd", Kind::StrSlice, "strslice.StrSlice"},
    {"Healthcheck", Kind::Object, "container.HealthConfig"},
    {"ArgsEscaped", Kind::Bool, "bool"},
    {"Image", Kind::String, "string"},
    {"Volumes", Kind::Set, "map[string]struct {}"},
    {"WorkingDir", Kind::String, "string"},
    {"Entrypoint", Kind::StrSlice, "strslice.StrSlice"},
    {"NetworkDisabled", Kind::Bool, "bool"},
    {"MacAddress", Kind::String, "string"},
    {"OnBuild", Kind::Strings, "[]string"},
    {"Labels", Kind::StringMap, "map[string]string"},
    {"StopSignal", Kind::String, "string"},
    {"StopTimeout", Kind::Int64, "int"},
    {"Shell", Kind::StrSlice, "strslice.StrSlice"},
}};

// container.HostConfig with its embedded Resources (API v1.41), every field.
constexpr std::array<Field, 70> kHostConfigFields = {{
    {"Binds", Kind::Strings, "[]string"},
    {"ContainerIDFile", Kind::String, "string"},
    {"LogConfig", Kind::Object, "container.LogConfig"},
    {"NetworkMode", Kind::String, "container.NetworkMode"},
    {"PortBindings", Kind::Object, "nat.PortMap"},
    {"RestartPolicy", Kind::Object, "container.RestartPolicy"},
    {"AutoRemove", Kind::Bool, "bool"},
    {"VolumeDriver", Kind::String, "string"},
    {"VolumesFrom", Kind::Strings, "[]string"},
    {"CapAdd", Kind::StrSlice, "strslice.StrSlice"},
    {"CapDrop", Kind::StrSlice, "strslice.StrSlice"},
    {"CgroupnsMode", Kind::String, "container.CgroupnsMode"},
    {"Dns", Kind::Strings, "[]string"},
    {"DnsOptions", Kind::Strings, "[]string"},
    {"DnsSearch", Kind::Strings, "[]string"},
    {"ExtraHosts", Kind::Strings, "[]string"},
    {"GroupAdd", Kind::Strings, "[]string"},
    {"IpcMode", Kind::String, "container.IpcMode"},
    {"Cgroup", Kind::String, "container.CgroupSpec"},
    {"Links", Kind::Strings, "[]string"},
    {"OomScoreAdj", Kind::Int64, "int"},
    {"PidMode", Kind::String, "container.PidMode"},
    {"Privileged", Kind::Bool, "bool"},
    {"PublishAllPorts", Kind::Bool, "bool"},
    {"ReadonlyRootfs", Kind::Bool, "bool"},
    {"SecurityOpt", Kind::Strings, "[]string"},
    {"StorageOpt", Kind::StringMap, "map[string]string"},
    {"Tmpfs", Kind::StringMap, "map[string]string"},
    {"UTSMode", Kind::String, "container.UTSMode"},
    {"UsernsMode", Kind::String, "container.UsernsMode"},
    {"ShmSize", Kind::Int64, "int64"},
    {"Sysctls", Kind::StringMap, "map[string]string"},
    {"Runtime", Kind::String, "string"},
    {"ConsoleSize", Kind::Pair, "[2]uint"},
    {"Isolation", Kind::String, "container.Isolation"},
    {"CpuShares", Kind::Int64, "int64"},
    {"Memory", Kind::Int64, "int64"},
    {"NanoCpus", Kind::Int64, "int64"},
    {"CgroupParent", Kind::String, "string"},
    {"BlkioWeight", Kind::Uint16, "uint16"},
    {"BlkioWeightDevice", Kind::Array, "[]*blkiodev.WeightDevice"},
    {"BlkioDeviceReadBps", Kind::Array, "[]*blkiodev.ThrottleDevice"},
    {"BlkioDeviceWriteBps", Kind::Array, "[]*blkiodev.ThrottleDevice"},
    {"BlkioDeviceReadIOps", Kind::Array, "[]*blkiodev.ThrottleDevice"},
    {"BlkioDeviceWriteIOps", Kind::Array, "[]*blkiodev.ThrottleDevice"},
    {"CpuPeriod", Kind::Int64, "int64"},
    {"CpuQuota", Kind::Int64, "int64"},
    {"CpuRealtimePeriod", Kind::Int64, "int64"},
    {"CpuRealtimeRuntime", Kind::Int64, "int64"},
    {"CpusetCpus", Kind::String, "string"},
    {"CpusetMems", Kind::String, "string"},
    {"Devices", Kind::Array, "[]container.DeviceMapping"},
    {"DeviceCgroupRules", Kind::Strings, "[]string"},
    {"DeviceRequests", Kind::Array, "[]container.DeviceRequest"},
    {"KernelMemory", Kind::Int64, "int64"},
    {"KernelMemoryTCP", Kind::Int64, "int64"},
    {"MemoryReservation", Kind::Int64, "int64"},
    {"MemorySwap", Kind::Int64, "int64"},
    {"MemorySwappiness", Kind::Int64, "int64"},
    {"OomKillDisable", Kind::Bool, "bool"},
    {"PidsLimit", Kind::Int64, "int64"},
    {"Ulimits", Kind::Array, "[]*units.Ulimit"},
    {"CpuCount", Kind::Int64, "int64"},
    {"CpuPercent", Kind::Int64, "int64"},
    {"IOMaximumIOps", Kind::Uint64, "uint64"},
    {"IOMaximumBandwidth", Kind::Uint64, "uint64"},
    {"Mounts", Kind::Array, "[]mount.Mount"},
    {"MaskedPaths", Kind::Strings, "[]string"},
    {"ReadonlyPaths", Kind::Strings, "[]string"},
    {"Init", Kind::Bool, "bool"},
}};

// What inspect prints for the untyped HostConfig keys when the client did not set them.
// Keys Go tags omitempty (StorageOpt, Sysctls, Runtime, Mounts) are absent.
const json& host_config_defaults() {
  static const json defaults = {
      {"Binds", nullptr},
      {"ContainerIDFile", ""},
      {"PortBindings", nullptr},
      {"VolumeDriver", ""},
      {"VolumesFrom", nullptr},
      {"Dns", nullptr},
      {"DnsOptions", nullptr},
      {"DnsSearch", nullptr},
      {"ExtraHosts", nullptr},
      {"GroupAdd", nullptr},
      {"Cgroup", ""},
      {"Links", nullptr},
      {"OomScoreAdj", 0},
      {"PublishAllPorts", false},
      {"UsernsMode", ""},
      {"ConsoleSize", {0, 0}},
      {"Isolation", ""},
      {"BlkioWeight", 0},
      {"BlkioWeightDevice", nullptr},
      {"BlkioDeviceReadBps", nullptr},
      {"BlkioDeviceWriteBps", nullptr},
      {"BlkioDeviceReadIOps", nullptr},
      {"BlkioDeviceWriteIOps", nullptr},
      {"CpuRealtimePeriod", 0},
      {"CpuRealtimeRuntime", 0},
      {"Devices", nullptr},
      {"DeviceCgroupRules", nullptr},
      {"DeviceRequests", nullptr},
      {"KernelMemory", 0},
      {"KernelMemoryTCP", 0},
      {"MemorySwappiness", nullptr},
      {"OomKillDisable", false},
      {"CpuCount", 0},
      {"CpuPercent", 0},
      {"IOMaximumIOps", 0},
      {"IOMaximumBandwidth", 0},
  };
  return defaults;
}

json optional_strings(const std::optional<std::vector<std::string>>& v) {
  return v ? json(*v) : json(nullptr);
}

base::Result<ContainerConfig> decode_config(const json& j, const Ctx& ctx) {
  ContainerConfig c;
  auto int_max = std::numeric_limits<int64_t>::max();
  auto int_min = std::numeric_limits<int64_t>::min();
  for (const auto& [key, v] : j.items()) {
    const Field* f = find_field(kConfigFields, key);
    // Unknown keys are ignored, as Go ignores them (transcript 038); null leaves a field unset.
    if (f == nullptr || v.is_null()) {
      continue;
    }
    std::string_view n = f->name;
    if (n == "Hostname") {
      c.hostname = MYDOCKER_TRY(get_string(v, ctx, n));
    } else if (n == "Domainname") {
      c.domainname = MYDOCKER_TRY(get_string(v, ctx, n));
    } else if (n == "User") {
      c.user = MYDOCKER_TRY(get_string(v, ctx, n));
    } else if (n == "AttachStdin") {
      c.attach_stdin = MYDOCKER_TRY(get_bool(v, ctx, n));
    } else if (n == "AttachStdout") {
      c.attach_stdout = MYDOCKER_TRY(get_bool(v, ctx, n));
    } else if (n == "AttachStderr") {
      c.attach_stderr = MYDOCKER_TRY(get_bool(v, ctx, n));
    } else if (n == "Tty") {
      c.tty = MYDOCKER_TRY(get_bool(v, ctx, n));
    } else if (n == "OpenStdin") {
      c.open_stdin = MYDOCKER_TRY(get_bool(v, ctx, n));
    } else if (n == "StdinOnce") {
      c.stdin_once = MYDOCKER_TRY(get_bool(v, ctx, n));
    } else if (n == "Env") {
      c.env = MYDOCKER_TRY(get_strings(v, ctx, n));
    } else if (n == "Cmd") {
      c.cmd = MYDOCKER_TRY(get_strslice(v, ctx, n));
    } else if (n == "Entrypoint") {
      c.entrypoint = MYDOCKER_TRY(get_strslice(v, ctx, n));
    } else if (n == "Image") {
      c.image = MYDOCKER_TRY(get_string(v, ctx, n));
    } else if (n == "WorkingDir") {
      c.working_dir = MYDOCKER_TRY(get_string(v, ctx, n));
    } else if (n == "Labels") {
      c.labels = MYDOCKER_TRY(get_string_map(v, ctx, n));
    } else if (n == "StopSignal") {
      c.stop_signal = MYDOCKER_TRY(get_string(v, ctx, n));
    } else if (n == "StopTimeout") {
      c.stop_timeout = MYDOCKER_TRY(get_int(v, ctx, n, "int", int_min, int_max));
    } else if (n == "ExposedPorts") {
      c.exposed_ports = MYDOCKER_TRY(get_set(v, ctx, n, f->go_type));
    } else if (n == "Volumes") {
      c.volumes = MYDOCKER_TRY(get_set(v, ctx, n, f->go_type));
    } else {
      MYDOCKER_TRY(check_kind(v, *f, ctx));
      c.extra[std::string(n)] = v;
    }
  }
  return c;
}

base::Result<RestartPolicy> decode_restart_policy(const json& v, const Ctx& outer) {
  Ctx ctx{"RestartPolicy", outer.prefix + "RestartPolicy."};
  RestartPolicy p;
  for (const auto& [key, e] : v.items()) {
    if (e.is_null()) {
      continue;
    }
    if (base::ascii_iequals(key, "Name")) {
      p.name = MYDOCKER_TRY(get_string(e, ctx, "Name"));
    } else if (base::ascii_iequals(key, "MaximumRetryCount")) {
      p.maximum_retry_count = MYDOCKER_TRY(get_int(e, ctx, "MaximumRetryCount", "int",
                                                   std::numeric_limits<int64_t>::min(),
                                                   std::numeric_limits<int64_t>::max()));
    }
  }
  return p;
}

base::Result<void> decode_log_config(const json& v, const Ctx& outer, HostConfig& hc) {
  Ctx ctx{"LogConfig", outer.prefix + "LogConfig."};
  for (const auto& [key, e] : v.items()) {
    if (e.is_null()) {
      continue;
    }
    if (base::ascii_iequals(key, "Type")) {
      hc.log_type = MYDOCKER_TRY(get_string(e, ctx, "Type"));
    } else if (base::ascii_iequals(key, "Config")) {
      hc.log_config = MYDOCKER_TRY(get_string_map(e, ctx, "Config"));
    }
  }
  return base::ok();
}

base::Result<std::vector<Ulimit>> decode_ulimits(const json& v, const Ctx& outer) {
  Ctx ctx{"Ulimit", outer.prefix + "Ulimits."};
  std::vector<Ulimit> out;
  for (const auto& e : v) {
    if (e.is_null()) {
      continue;
    }
    if (!e.is_object()) {
      return type_error(e, outer, "Ulimits", "units.Ulimit");
    }
    Ulimit u;
    for (const auto& [key, f] : e.items()) {
      if (f.is_null()) {
        continue;
      }
      auto lo = std::numeric_limits<int64_t>::min();
      auto hi = std::numeric_limits<int64_t>::max();
      if (base::ascii_iequals(key, "Name")) {
        u.name = MYDOCKER_TRY(get_string(f, ctx, "Name"));
      } else if (base::ascii_iequals(key, "Soft")) {
        u.soft = MYDOCKER_TRY(get_int(f, ctx, "Soft", "int64", lo, hi));
      } else if (base::ascii_iequals(key, "Hard")) {
        u.hard = MYDOCKER_TRY(get_int(f, ctx, "Hard", "int64", lo, hi));
      }
    }
    out.push_back(std::move(u));
  }
  return out;
}

base::Result<HostConfig> decode_host_config(const json& j, const Ctx& ctx) {
  HostConfig hc;
  auto lo = std::numeric_limits<int64_t>::min();
  auto hi = std::numeric_limits<int64_t>::max();
  for (const auto& [key, v] : j.items()) {
    const Field* f = find_field(kHostConfigFields, key);
    if (f == nullptr || v.is_null()) {
      continue;
    }
    std::string_view n = f->name;
    // Check the Go type first so every typed branch below sees the right JSON kind.
    MYDOCKER_TRY(check_kind(v, *f, ctx));
    if (n == "Memory") {
      hc.memory = MYDOCKER_TRY(get_int(v, ctx, n, "int64", lo, hi));
    } else if (n == "MemorySwap") {
      hc.memory_swap = MYDOCKER_TRY(get_int(v, ctx, n, "int64", lo, hi));
    } else if (n == "MemoryReservation") {
      hc.memory_reservation = MYDOCKER_TRY(get_int(v, ctx, n, "int64", lo, hi));
    } else if (n == "NanoCpus") {
      hc.nano_cpus = MYDOCKER_TRY(get_int(v, ctx, n, "int64", lo, hi));
    } else if (n == "CpuShares") {
      hc.cpu_shares = MYDOCKER_TRY(get_int(v, ctx, n, "int64", lo, hi));
    } else if (n == "CpuPeriod") {
      hc.cpu_period = MYDOCKER_TRY(get_int(v, ctx, n, "int64", lo, hi));
    } else if (n == "CpuQuota") {
      hc.cpu_quota = MYDOCKER_TRY(get_int(v, ctx, n, "int64", lo, hi));
    } else if (n == "CpusetCpus") {
      hc.cpuset_cpus = v.get<std::string>();
    } else if (n == "CpusetMems") {
      hc.cpuset_mems = v.get<std::string>();
    } else if (n == "PidsLimit") {
      hc.pids_limit = MYDOCKER_TRY(get_int(v, ctx, n, "int64", lo, hi));
    } else if (n == "Ulimits") {
      hc.ulimits = MYDOCKER_TRY(decode_ulimits(v, ctx));
      hc.ulimits_set = true;
    } else if (n == "Privileged") {
      hc.privileged = v.get<bool>();
    } else if (n == "ReadonlyRootfs") {
      hc.readonly_rootfs = v.get<bool>();
    } else if (n == "CapAdd") {
      hc.cap_add = MYDOCKER_TRY(get_strslice(v, ctx, n));
    } else if (n == "CapDrop") {
      hc.cap_drop = MYDOCKER_TRY(get_strslice(v, ctx, n));
    } else if (n == "SecurityOpt") {
      hc.security_opt = MYDOCKER_TRY(get_strings(v, ctx, n));
    } else if (n == "Tmpfs") {
      hc.tmpfs = MYDOCKER_TRY(get_string_map(v, ctx, n));
      hc.tmpfs_set = true;
    } else if (n == "Init") {
      hc.init = v.get<bool>();
    } else if (n == "ShmSize") {
      hc.shm_size = MYDOCKER_TRY(get_int(v, ctx, n, "int64", lo, hi));
    } else if (n == "MaskedPaths") {
      hc.masked_paths = MYDOCKER_TRY(get_strings(v, ctx, n));
    } else if (n == "ReadonlyPaths") {
      hc.readonly_paths = MYDOCKER_TRY(get_strings(v, ctx, n));
    } else if (n == "AutoRemove") {
      hc.auto_remove = v.get<bool>();
    } else if (n == "RestartPolicy") {
      hc.restart_policy = MYDOCKER_TRY(decode_restart_policy(v, ctx));
    } else if (n == "LogConfig") {
      MYDOCKER_TRY(decode_log_config(v, ctx, hc));
    } else if (n == "NetworkMode") {
      hc.network_mode = v.get<std::string>();
    } else if (n == "IpcMode") {
      hc.ipc_mode = v.get<std::string>();
    } else if (n == "PidMode") {
      hc.pid_mode = v.get<std::string>();
    } else if (n == "UTSMode") {
      hc.uts_mode = v.get<std::string>();
    } else if (n == "CgroupnsMode") {
      hc.cgroupns_mode = v.get<std::string>();
    } else if (n == "CgroupParent") {
      hc.cgroup_parent = v.get<std::string>();
    } else {
      hc.extra[std::string(n)] = v;
    }
  }
  return hc;
}

}  // namespace

base::Result<ContainerConfig> ContainerConfig::from_json(const nlohmann::json& j) {
  if (j.is_null()) {
    return ContainerConfig{};
  }
  if (!j.is_object()) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "json: cannot unmarshal {} into Go value of type container.Config",
                            json_kind(j));
  }
  return decode_config(j, Ctx{"Config", ""});
}

nlohmann::json ContainerConfig::to_json() const {
  json j = {
      {"Hostname", hostname},
      {"Domainname", domainname},
      {"User", user},
      {"AttachStdin", attach_stdin},
      {"AttachStdout", attach_stdout},
      {"AttachStderr", attach_stderr},
      {"Tty", tty},
      {"OpenStdin", open_stdin},
      {"StdinOnce", stdin_once},
      {"Env", optional_strings(env)},
      {"Cmd", optional_strings(cmd)},
      {"Image", image},
      {"Volumes", nullptr},
      {"WorkingDir", working_dir},
      {"Entrypoint", optional_strings(entrypoint)},
      {"OnBuild", nullptr},
      {"Labels", labels},
  };
  for (const auto& [k, v] : extra.items()) {
    if (k != "NetworkingConfig") {
      j[k] = v;
    }
  }
  // omitempty fields, as Go prints them.
  if (!exposed_ports.empty()) {
    json ports = json::object();
    for (const auto& [p, _] : exposed_ports) {
      ports[p] = json::object();
    }
    j["ExposedPorts"] = ports;
  }
  if (volumes) {
    json vols = json::object();
    for (const auto& [p, _] : *volumes) {
      vols[p] = json::object();
    }
    j["Volumes"] = vols;
  }
  if (!stop_signal.empty()) {
    j["StopSignal"] = stop_signal;
  }
  if (stop_timeout) {
    j["StopTimeout"] = *stop_timeout;
  }
  for (const char* k : {"ArgsEscaped", "NetworkDisabled"}) {
    if (j.contains(k) && j[k] == false) {
      j.erase(k);
    }
  }
  for (const char* k : {"MacAddress"}) {
    if (j.contains(k) && j[k] == "") {
      j.erase(k);
    }
  }
  for (const char* k : {"Shell", "Healthcheck"}) {
    if (j.contains(k) && (j[k].is_null() || j[k].empty())) {
      j.erase(k);
    }
  }
  return j;
}

base::Result<HostConfig> HostConfig::from_json(const nlohmann::json& j) {
  if (j.is_null()) {
    return HostConfig{};
  }
  if (!j.is_object()) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "json: cannot unmarshal {} into Go value of type container.HostConfig",
                            json_kind(j));
  }
  return decode_host_config(j, Ctx{"HostConfig", ""});
}

nlohmann::json HostConfig::to_json() const {
  json j = host_config_defaults();
  for (const auto& [k, v] : extra.items()) {
    j[k] = v;
  }
  json ulimits_json = nullptr;
  if (ulimits_set || !ulimits.empty()) {
    ulimits_json = json::array();
    for (const auto& u : ulimits) {
      ulimits_json.push_back({{"Name", u.name}, {"Hard", u.hard}, {"Soft", u.soft}});
    }
  }
  j["Memory"] = memory;
  j["MemorySwap"] = memory_swap;
  j["MemoryReservation"] = memory_reservation;
  j["NanoCpus"] = nano_cpus;
  j["CpuShares"] = cpu_shares;
  j["CpuPeriod"] = cpu_period;
  j["CpuQuota"] = cpu_quota;
  j["CpusetCpus"] = cpuset_cpus;
  j["CpusetMems"] = cpuset_mems;
  j["PidsLimit"] = pids_limit ? json(*pids_limit) : json(nullptr);
  j["Ulimits"] = ulimits_json;
  j["Privileged"] = privileged;
  j["ReadonlyRootfs"] = readonly_rootfs;
  j["CapAdd"] = optional_strings(cap_add);
  j["CapDrop"] = optional_strings(cap_drop);
  j["SecurityOpt"] = optional_strings(security_opt);
  if (!tmpfs.empty()) {
    j["Tmpfs"] = tmpfs;
  }
  if (init) {
    j["Init"] = *init;
  }
  j["ShmSize"] = shm_size;
  j["MaskedPaths"] = optional_strings(masked_paths);
  j["ReadonlyPaths"] = optional_strings(readonly_paths);
  j["AutoRemove"] = auto_remove;
  j["RestartPolicy"] = {{"Name", restart_policy.name},
                        {"MaximumRetryCount", restart_policy.maximum_retry_count}};
  j["LogConfig"] = {{"Type", log_type}, {"Config", log_config}};
  j["NetworkMode"] = network_mode;
  j["IpcMode"] = ipc_mode;
  j["PidMode"] = pid_mode;
  j["UTSMode"] = uts_mode;
  j["CgroupnsMode"] = cgroupns_mode;
  j["CgroupParent"] = cgroup_parent;
  // omitempty fields.
  for (const char* k : {"StorageOpt", "Sysctls", "Mounts"}) {
    if (j.contains(k) && (j[k].is_null() || j[k].empty())) {
      j.erase(k);
    }
  }
  if (j.contains("Runtime") && j["Runtime"] == "") {
    j.erase("Runtime");
  }
  return j;
}

base::Result<CreateBody> parse_create_body(std::string_view body) {
  json j = MYDOCKER_TRY(go_json::decode_first_value(body));
  CreateBody out;
  if (j.is_null()) {
    return out;
  }
  if (!j.is_object()) {
    return base::make_error(
        ErrorCode::InvalidArgument,
        "json: cannot unmarshal {} into Go value of type runconfig.ContainerConfigWrapper",
        json_kind(j));
  }
  // ContainerConfigWrapper embeds *container.Config, so its fields are promoted to the top.
  Ctx top{"ContainerConfigWrapper", ""};
  out.config = MYDOCKER_TRY(decode_config(j, top));
  for (const auto& [key, v] : j.items()) {
    if (v.is_null()) {
      continue;
    }
    if (base::ascii_iequals(key, "HostConfig")) {
      if (!v.is_object()) {
        return type_error(v, top, "HostConfig", "container.HostConfig");
      }
      out.host_config = MYDOCKER_TRY(decode_host_config(v, Ctx{"HostConfig", "HostConfig."}));
    } else if (base::ascii_iequals(key, "NetworkingConfig")) {
      if (!v.is_object()) {
        return type_error(v, top, "NetworkingConfig", "network.NetworkingConfig");
      }
      out.config.extra["NetworkingConfig"] = v;
    }
  }
  return out;
}

base::Result<HostConfig> parse_update_body(std::string_view body) {
  json j = MYDOCKER_TRY(go_json::decode_first_value(body));
  if (j.is_null()) {
    return HostConfig{};
  }
  if (!j.is_object()) {
    return base::make_error(
        ErrorCode::InvalidArgument,
        "json: cannot unmarshal {} into Go value of type container.UpdateConfig", json_kind(j));
  }
  // Only Resources (CpuShares ... IOMaximumBandwidth in the table) and RestartPolicy exist in
  // an UpdateConfig; anything else is an unknown key to Go.
  json filtered = json::object();
  bool in_resources = false;
  for (const auto& f : kHostConfigFields) {
    if (f.name == "CpuShares") {
      in_resources = true;
    }
    for (const auto& [key, v] : j.items()) {
      if ((in_resources || f.name == "RestartPolicy") && find_field(kHostConfigFields, key) == &f) {
        filtered[key] = v;
      }
    }
    if (f.name == "IOMaximumBandwidth") {
      in_resources = false;
    }
  }
  return decode_host_config(filtered, Ctx{"UpdateConfig", ""});
}

base::Result<void> apply_update(HostConfig& current, const HostConfig& update) {
  const auto conflict = [](std::string_view msg) {
    return base::Error(ErrorCode::InvalidArgument, std::string(msg));
  };
  if (update.nano_cpus > 0 && current.cpu_period > 0) {
    return conflict(
        "Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set");
  }
  if (update.nano_cpus > 0 && current.cpu_quota > 0) {
    return conflict(
        "Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set");
  }
  if (update.cpu_period > 0 && current.nano_cpus > 0) {
    return conflict(
        "Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set");
  }
  if (update.cpu_quota > 0 && current.nano_cpus > 0) {
    return conflict(
        "Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set");
  }
  if (update.memory != 0 && current.memory_swap > 0 && update.memory > current.memory_swap &&
      update.memory_swap == 0) {
    return conflict(
        "Memory limit should be smaller than already set memoryswap limit, update the "
        "memoryswap at the same time");
  }
  const RestartPolicy& rp = update.restart_policy;
  if (!rp.name.empty() && current.auto_remove && !(rp.name == "no")) {
    return conflict(
        "Restart policy cannot be updated because AutoRemove is enabled for the container");
  }
  HostConfig next = current;
  if (update.cpu_shares != 0) {
    next.cpu_shares = update.cpu_shares;
  }
  if (update.nano_cpus != 0) {
    next.nano_cpus = update.nano_cpus;
  }
  if (update.cpu_period != 0) {
    next.cpu_period = update.cpu_period;
  }
  if (update.cpu_quota != 0) {
    next.cpu_quota = update.cpu_quota;
  }
  if (!update.cpuset_cpus.empty()) {
    next.cpuset_cpus = update.cpuset_cpus;
  }
  if (!update.cpuset_mems.empty()) {
    next.cpuset_mems = update.cpuset_mems;
  }
  if (update.memory != 0) {
    next.memory = update.memory;
  }
  if (update.memory_swap != 0) {
    next.memory_swap = update.memory_swap;
  }
  if (update.memory_reservation != 0) {
    next.memory_reservation = update.memory_reservation;
  }
  if (update.pids_limit) {
    next.pids_limit = *update.pids_limit > 0 ? update.pids_limit : std::nullopt;
  }
  for (const char* k : {"BlkioWeight", "KernelMemory", "CpuRealtimePeriod", "CpuRealtimeRuntime"}) {
    if (auto it = update.extra.find(k); it != update.extra.end() && *it != 0) {
      next.extra[k] = *it;
    }
  }
  if (!rp.name.empty()) {
    next.restart_policy = rp;
  }
  current = std::move(next);
  return base::ok();
}

base::Result<std::vector<std::string>> normalize_capabilities(
    const std::vector<std::string>& caps) {
  std::vector<std::string> out;
  for (const auto& c : caps) {
    std::string name = c;
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char x) { return static_cast<char>(std::toupper(x)); });
    if (name == "ALL") {
      out.push_back(name);
      continue;
    }
    if (name.rfind("CAP_", 0) != 0) {
      name = "CAP_" + name;
    }
    if (!runtime::caps::from_name(name)) {
      return base::make_error(ErrorCode::InvalidArgument, "unknown capability: \"{}\"", name);
    }
    out.push_back(std::move(name));
  }
  return out;
}

base::Result<SecurityOptions> parse_security_opts(const std::vector<std::string>& opts) {
  SecurityOptions out;
  for (const auto& opt : opts) {
    if (opt == "no-new-privileges") {
      out.no_new_privileges = true;
      continue;
    }
    if (opt == "disable") {
      out.label_opts.push_back("disable");
      continue;
    }
    size_t sep = opt.find('=');
    if (sep == std::string::npos) {
      sep = opt.find(':');  // the deprecated separator dockerd still reads
    }
    if (sep == std::string::npos) {
      return base::make_error(ErrorCode::InvalidArgument, "invalid --security-opt 1: \"{}\"", opt);
    }
    std::string key = opt.substr(0, sep);
    std::string value = opt.substr(sep + 1);
    if (key == "label") {
      out.label_opts.push_back(value);
    } else if (key == "apparmor") {
      out.apparmor_profile = value;
    } else if (key == "seccomp") {
      out.seccomp_profile = value;
    } else if (key == "no-new-privileges") {
      // Go's strconv.ParseBool.
      static const std::vector<std::string> kTrue = {"1", "t", "T", "TRUE", "true", "True"};
      static const std::vector<std::string> kFalse = {"0", "f", "F", "FALSE", "false", "False"};
      if (std::find(kTrue.begin(), kTrue.end(), value) != kTrue.end()) {
        out.no_new_privileges = true;
      } else if (std::find(kFalse.begin(), kFalse.end(), value) != kFalse.end()) {
        out.no_new_privileges = false;
      } else {
        return base::make_error(ErrorCode::InvalidArgument, "invalid --security-opt 2: \"{}\"",
                                opt);
      }
    } else {
      return base::make_error(ErrorCode::InvalidArgument, "invalid --security-opt 2: \"{}\"", opt);
    }
  }
  return out;
}

base::Result<void> validate_config(const ContainerConfig& config) {
  if (!config.working_dir.empty() && config.working_dir[0] != '/') {
    return base::make_error(
        ErrorCode::InvalidArgument,
        "the working directory '{}' is invalid, it needs to be an absolute path",
        config.working_dir);
  }
  if (!config.stop_signal.empty()) {
    // moby pkg/signal ParseSignal: a number, or a name with or without SIG, any case.
    std::string name = config.stop_signal;
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char x) { return static_cast<char>(std::toupper(x)); });
    if (!runtime::parse_signal(name) || name == "0") {
      return base::make_error(ErrorCode::InvalidArgument, "Invalid signal: {}", config.stop_signal);
    }
  }
  if (config.env) {
    for (const auto& e : *config.env) {
      if (e.empty() || e[0] == '=') {
        return base::make_error(ErrorCode::InvalidArgument, "invalid environment variable: {}", e);
      }
    }
  }
  return base::ok();
}

base::Result<void> validate_host_config(const HostConfig& hc) {
  constexpr int64_t kMinMemory = 6 * 1024 * 1024;  // dockerd's linuxMinMemory
  const auto inv = ErrorCode::InvalidArgument;
  const RestartPolicy& rp = hc.restart_policy;
  // Order and wording follow dockerd 20.10: validateHostConfig, then the platform checks.
  if (hc.auto_remove && !(rp.name.empty() || rp.name == "no")) {
    return base::make_error(inv, "can't create 'AutoRemove' container with restart policy");
  }
  if (rp.name == "always" || rp.name == "unless-stopped" || rp.name == "no") {
    if (rp.maximum_retry_count != 0) {
      return base::make_error(inv, "maximum retry count cannot be used with restart policy '{}'",
                              rp.name);
    }
  } else if (rp.name == "on-failure") {
    if (rp.maximum_retry_count < 0) {
      return base::make_error(inv, "maximum retry count cannot be negative");
    }
  } else if (!rp.name.empty()) {
    return base::make_error(inv, "invalid restart policy '{}'", rp.name);
  }
  if (hc.cap_add) {
    MYDOCKER_TRY_CTX(normalize_capabilities(*hc.cap_add), "invalid CapAdd");
  }
  if (hc.cap_drop) {
    MYDOCKER_TRY_CTX(normalize_capabilities(*hc.cap_drop), "invalid CapDrop");
  }
  if (hc.security_opt) {
    MYDOCKER_TRY(parse_security_opts(*hc.security_opt));
  }
  if (hc.shm_size < 0) {
    return base::make_error(inv, "SHM size can not be less than 0");
  }
  int64_t oom_score_adj = hc.extra.value("OomScoreAdj", int64_t{0});
  if (oom_score_adj < -1000 || oom_score_adj > 1000) {
    return base::make_error(inv, "Invalid value {}, range for oom score adj is [-1000, 1000]",
                            oom_score_adj);
  }
  if (!hc.ipc_mode.empty() && hc.ipc_mode != "private" && hc.ipc_mode != "shareable" &&
      hc.ipc_mode != "host" && hc.ipc_mode != "none" && hc.ipc_mode.rfind("container:", 0) != 0) {
    return base::make_error(inv, "invalid IPC mode: {}", hc.ipc_mode);
  }
  if (!hc.pid_mode.empty() && hc.pid_mode != "host" && hc.pid_mode.rfind("container:", 0) != 0) {
    return base::make_error(inv, "invalid PID mode: {}", hc.pid_mode);
  }
  if (!hc.uts_mode.empty() && hc.uts_mode != "host") {
    return base::make_error(inv, "invalid UTS mode: {}", hc.uts_mode);
  }
  if (!hc.cgroupns_mode.empty() && hc.cgroupns_mode != "host" && hc.cgroupns_mode != "private") {
    return base::make_error(inv, "invalid cgroup namespace mode: {}", hc.cgroupns_mode);
  }
  // Resources (daemon_unix.go verifyPlatformContainerResources).
  if (hc.memory != 0 && hc.memory < kMinMemory) {
    return base::make_error(inv, "Minimum memory limit allowed is 6MB");
  }
  if (hc.memory > 0 && hc.memory_swap > 0 && hc.memory_swap < hc.memory) {
    return base::make_error(
        inv, "Minimum memoryswap limit should be larger than memory limit, see usage");
  }
  if (hc.memory == 0 && hc.memory_swap > 0) {
    return base::make_error(
        inv, "You should always set the Memory limit when using Memoryswap limit, see usage");
  }
  if (auto it = hc.extra.find("MemorySwappiness"); it != hc.extra.end() && it->is_number()) {
    int64_t s = it->get<int64_t>();
    // -1 is "unset": the docker CLI sends it on every create (dockerd accepts it).
    if (s != -1 && (s < 0 || s > 100)) {
      return base::make_error(inv, "Invalid value: {}, valid memory swappiness range is 0-100", s);
    }
  }
  if (hc.memory_reservation > 0 && hc.memory_reservation < kMinMemory) {
    return base::make_error(inv, "Minimum memory reservation allowed is 6MB");
  }
  if (hc.memory > 0 && hc.memory_reservation > 0 && hc.memory < hc.memory_reservation) {
    return base::make_error(
        inv, "Minimum memory limit can not be less than memory reservation limit, see usage");
  }
  if (hc.nano_cpus > 0 && hc.cpu_period > 0) {
    return base::make_error(inv,
                            "Conflicting options: Nano CPUs and CPU Period cannot both be set");
  }
  if (hc.nano_cpus > 0 && hc.cpu_quota > 0) {
    return base::make_error(inv, "Conflicting options: Nano CPUs and CPU Quota cannot both be set");
  }
  long ncpu = ::sysconf(_SC_NPROCESSORS_ONLN);
  if (ncpu < 1) {
    ncpu = 1;
  }
  if (hc.nano_cpus < 0 || hc.nano_cpus > static_cast<int64_t>(ncpu) * 1000000000) {
    return base::make_error(inv,
                            "Range of CPUs is from 0.01 to {}.00, as there are only {} CPUs "
                            "available",
                            ncpu, ncpu);
  }
  if (hc.cpu_period != 0 && (hc.cpu_period < 1000 || hc.cpu_period > 1000000)) {
    return base::make_error(
        inv,
        "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)");
  }
  if (hc.cpu_quota > 0 && hc.cpu_quota < 1000) {
    return base::make_error(inv, "CPU cfs quota can not be less than 1ms (i.e. 1000)");
  }
  for (const auto& u : hc.ulimits) {
    static const std::vector<std::string> kNames = {
        "as",   "core",   "cpu",   "data", "fsize",  "locks",  "memlock",    "msgqueue",
        "nice", "nofile", "nproc", "rss",  "rtprio", "rttime", "sigpending", "stack"};
    if (std::find(kNames.begin(), kNames.end(), u.name) == kNames.end()) {
      return base::make_error(inv, "invalid ulimit type: {}", u.name);
    }
    if (u.soft > u.hard) {
      return base::make_error(inv,
                              "ulimit soft limit must be less than or equal to hard limit: {} > {}",
                              u.soft, u.hard);
    }
  }
  for (const auto& [path, _] : hc.tmpfs) {
    if (path.empty() || path[0] != '/') {
      return base::make_error(inv,
                              "invalid mount config for type \"tmpfs\": invalid mount path: '{}' "
                              "mount path must be absolute",
                              path);
    }
  }
  return base::ok();
}

void apply_create_defaults(HostConfig& hc, bool cgroup_v2) {
  // dockerd's fixMemorySwappiness: the CLI's -1 means unset, stored as null.
  if (auto it = hc.extra.find("MemorySwappiness"); it != hc.extra.end() && *it == -1) {
    hc.extra.erase(it);
  }
  // dockerd's adaptContainerSettings.
  if (hc.memory > 0 && hc.memory_swap == 0) {
    hc.memory_swap = hc.memory * 2;
  }
  if (hc.shm_size == 0) {
    hc.shm_size = 64 * 1024 * 1024;
  }
  if (hc.ipc_mode.empty()) {
    hc.ipc_mode = "private";
  }
  if (hc.cgroupns_mode.empty()) {
    hc.cgroupns_mode = cgroup_v2 ? "private" : "host";
  }
  if (hc.pids_limit && *hc.pids_limit <= 0) {
    hc.pids_limit.reset();  // 0 and -1 both mean unlimited; inspect shows null
  }
  if (hc.network_mode.empty()) {
    hc.network_mode = "default";
  }
  if (hc.log_type.empty()) {
    hc.log_type = "json-file";
  }
  // Docker's oci.DefaultSpec paths, in its order; a privileged container keeps null.
  if (!hc.masked_paths && !hc.privileged) {
    hc.masked_paths = std::vector<std::string>{
        "/proc/asound",        "/proc/acpi",       "/proc/kcore",       "/proc/keys",
        "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
        "/proc/scsi",          "/sys/firmware"};
  }
  if (!hc.readonly_paths && !hc.privileged) {
    hc.readonly_paths = std::vector<std::string>{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                                 "/proc/sysrq-trigger"};
  }
}

base::Result<int64_t> parse_size(std::string_view text) {
  // go-units RAMInBytes: ^(\d+(\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$ with 1024 multiples.
  auto invalid = [&] {
    return base::make_error(ErrorCode::InvalidArgument, "invalid size: '{}'", text);
  };
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      ++i;
    }
    return i > start;
  };
  if (!digits()) {
    return invalid();
  }
  while (i < text.size() && text[i] == '.') {
    ++i;
    if (!digits()) {
      return invalid();
    }
  }
  std::string number(text.substr(0, i));
  if (i < text.size() && text[i] == ' ') {
    ++i;
  }
  double mult = 1;
  if (i < text.size()) {
    switch (std::tolower(static_cast<unsigned char>(text[i]))) {
      case 'k':
        mult = 1024.0;
        ++i;
        break;
      case 'm':
        mult = 1024.0 * 1024;
        ++i;
        break;
      case 'g':
        mult = 1024.0 * 1024 * 1024;
        ++i;
        break;
      case 't':
        mult = 1024.0 * 1024 * 1024 * 1024;
        ++i;
        break;
      case 'p':
        mult = 1024.0 * 1024 * 1024 * 1024 * 1024;
        ++i;
        break;
      default:
        break;
    }
  }
  if (i < text.size() && (text[i] == 'i' || text[i] == 'I')) {
    ++i;
  }
  if (i < text.size() && (text[i] == 'b' || text[i] == 'B')) {
    ++i;
  }
  if (i != text.size()) {
    return invalid();
  }
  // Go's ParseFloat accepts "1.2.3"? No: the regexp does, ParseFloat then fails.
  if (std::count(number.begin(), number.end(), '.') > 1) {
    return invalid();
  }
  double value = std::strtod(number.c_str(), nullptr) * mult;
  if (!std::isfinite(value) || value >= 9.2e18) {
    return invalid();
  }
  return static_cast<int64_t>(value);
}

}  // namespace mydocker::engine
