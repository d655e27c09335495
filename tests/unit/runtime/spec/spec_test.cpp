// SPDX-License-Identifier: Apache-2.0
#include "runtime/spec/spec.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/resource.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "runtime/base/file.h"
#include "tests/support/busybox_rootfs.h"
#include "tests/support/require.h"

namespace mydocker::runtime::spec {
namespace {

using json = nlohmann::json;
using mydocker::testing::TempDir;

// A small valid config touching most sections; bad-input rows each break one thing in it.
json base_config() {
  return json::parse(R"({
    "ociVersion": "1.0.2",
    "process": {
      "terminal": false,
      "user": {"uid": 1000, "gid": 1000, "umask": 18, "additionalGids": [10, 20]},
      "args": ["sh", "-c", "true"],
      "env": ["PATH=/bin"],
      "cwd": "/",
      "capabilities": {"bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"],
                       "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]},
      "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 512}],
      "noNewPrivileges": true,
      "oomScoreAdj": 100
    },
    "root": {"path": "rootfs", "readonly": true},
    "hostname": "box",
    "mounts": [
      {"destination": "/proc", "type": "proc", "source": "proc"},
      {"destination": "/data", "type": "bind", "source": "/tmp", "options": ["rbind", "ro"]}
    ],
    "hooks": {"prestart": [{"path": "/bin/true", "args": ["true"], "timeout": 5}]},
    "annotations": {"org.example": "yes"},
    "linux": {
      "namespaces": [{"type": "pid"}, {"type": "uts"}, {"type": "mount"},
                     {"type": "network", "path": "/proc/1/ns/net"}],
      "devices": [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229,
                   "fileMode": 438, "uid": 0, "gid": 0}],
      "cgroupsPath": "/mydocker/box",
      "resources": {
        "devices": [{"allow": false, "access": "rwm"},
                    {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rw"}],
        "memory": {"limit": 1048576, "swap": 2097152, "swappiness": 10},
        "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0-1", "mems": "0"},
        "pids": {"limit": 10},
        "blockIO": {"weight": 500, "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 100}]}
      },
      "sysctl": {"net.ipv4.ip_forward": "1"},
      "seccomp": {
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
                      "args": [{"index": 1, "value": 7, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]}]
      },
      "rootfsPropagation": "rprivate",
      "maskedPaths": ["/proc/kcore"],
      "readonlyPaths": ["/proc/sys"]
    }
  })");
}

TEST(SpecParseTest, ReadsEverySection) {
  auto r = parse(base_config().dump());
  ASSERT_TRUE(r) << r.error().to_string();
  const Spec& s = *r;
  EXPECT_EQ(s.oci_version, "1.0.2");
  ASSERT_TRUE(s.process);
  EXPECT_EQ(s.process->user.uid, 1000u);
  EXPECT_EQ(s.process->user.umask, 18u);
  EXPECT_EQ(s.process->user.additional_gids, (std::vector<uint32_t>{10, 20}));
  EXPECT_EQ(s.process->args.size(), 3u);
  ASSERT_TRUE(s.process->capabilities);
  EXPECT_EQ(s.process->capabilities->bounding.size(), 3u);
  EXPECT_TRUE(s.process->capabilities->ambient.empty());
  ASSERT_EQ(s.process->rlimits.size(), 1u);
  EXPECT_EQ(s.process->rlimits[0].resource, RLIMIT_NOFILE);
  EXPECT_EQ(s.process->rlimits[0].soft, 512u);
  EXPECT_TRUE(s.process->no_new_privileges);
  EXPECT_EQ(s.process->oom_score_adj, 100);
  EXPECT_EQ(s.root.path, "rootfs");
  EXPECT_TRUE(s.root.readonly);
  EXPECT_EQ(s.hostname, "box");
  ASSERT_EQ(s.mounts.size(), 2u);
  EXPECT_EQ(s.mounts[1].options, (std::vector<std::string>{"rbind", "ro"}));
  ASSERT_EQ(s.hooks.prestart.size(), 1u);
  EXPECT_EQ(s.hooks.prestart[0].timeout, 5);
  EXPECT_EQ(s.annotations.at("org.example"), "yes");
  EXPECT_TRUE(s.has_namespace(NamespaceType::Pid));
  EXPECT_FALSE(s.has_namespace(NamespaceType::User));
  ASSERT_NE(s.find_namespace(NamespaceType::Network), nullptr);
  EXPECT_EQ(s.find_namespace(NamespaceType::Network)->path, "/proc/1/ns/net");
  ASSERT_EQ(s.linux.devices.size(), 1u);
  EXPECT_EQ(s.linux.devices[0].type, 'c');
  EXPECT_EQ(s.linux.devices[0].minor, 229);
  EXPECT_EQ(s.linux.devices[0].file_mode, 438u);
  ASSERT_TRUE(s.linux.resources);
  const Resources& res = *s.linux.resources;
  ASSERT_EQ(res.devices.size(), 2u);
  EXPECT_EQ(res.devices[0].type, "a");
  EXPECT_FALSE(res.devices[0].major);
  EXPECT_EQ(res.devices[1].major, 1);
  ASSERT_TRUE(res.memory);
  EXPECT_EQ(res.memory->limit, 1048576);
  EXPECT_EQ(res.memory->swap, 2097152);
  EXPECT_FALSE(res.memory->reservation);
  ASSERT_TRUE(res.cpu);
  EXPECT_EQ(res.cpu->quota, 50000);
  EXPECT_EQ(res.cpu->cpus, "0-1");
  ASSERT_TRUE(res.pids);
  EXPECT_EQ(res.pids->limit, 10);
  ASSERT_TRUE(res.block_io);
  EXPECT_EQ(res.block_io->weight, 500);
  ASSERT_EQ(res.block_io->throttle_read_bps_device.size(), 1u);
  EXPECT_EQ(res.block_io->throttle_read_bps_device[0].rate, 100u);
  EXPECT_EQ(s.linux.sysctl.at("net.ipv4.ip_forward"), "1");
  ASSERT_TRUE(s.linux.seccomp);
  ASSERT_EQ(s.linux.seccomp->syscalls.size(), 1u);
  EXPECT_EQ(s.linux.seccomp->syscalls[0].errno_ret, 1u);
  ASSERT_EQ(s.linux.seccomp->syscalls[0].args.size(), 1u);
  EXPECT_EQ(s.linux.seccomp->syscalls[0].args[0].index, 1u);
  EXPECT_EQ(s.linux.seccomp->syscalls[0].args[0].value, 7u);
  EXPECT_EQ(s.linux.rootfs_propagation, "rprivate");
  EXPECT_EQ(s.linux.masked_paths, (std::vector<std::string>{"/proc/kcore"}));
}

TEST(SpecParseTest, MinimalConfigAndNullsAndUnknownKeys) {
  // No process (allowed by the spec for `create` of a process-less bundle), nulls as absent,
  // extension keys ignored, relative mount destinations accepted as runc does.
  auto r = parse(R"({"ociVersion": "1.0.0", "root": {"path": "/r"}, "process": null,
                     "mounts": [{"destination": "tmp", "type": "tmpfs"}],
                     "linux": {"resources": {"memory": {"limit": null}}},
                     "vm": {"hypervisor": {}}, "x-vendor": 1})");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_FALSE(r->process);
  EXPECT_EQ(r->mounts[0].destination, "tmp");
  ASSERT_TRUE(r->linux.resources);
  ASSERT_TRUE(r->linux.resources->memory);
  EXPECT_FALSE(r->linux.resources->memory->limit);
}

TEST(SpecParseTest, UnlimitedValuesAreAccepted) {
  json c = base_config();
  c["linux"]["resources"]["memory"] = {{"limit", -1}, {"swap", -1}};
  c["linux"]["resources"]["pids"]["limit"] = -1;
  c["linux"]["resources"]["cpu"]["quota"] = -1;
  c["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  c["linux"]["gidMappings"] = c["linux"]["uidMappings"];
  c["linux"]["namespaces"].push_back({{"type", "user"}});
  auto r = parse(c.dump());
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->linux.resources->memory->limit, -1);
  EXPECT_EQ(r->linux.resources->pids->limit, -1);
  ASSERT_EQ(r->linux.uid_mappings.size(), 1u);
  EXPECT_EQ(r->linux.uid_mappings[0].host_id, 100000u);
}

struct BadRow {
  const char* name;
  const char* pointer;  // JSON pointer into base_config()
  json value;           // the replacement; discarded() means "remove the field"
  const char* message;  // the whole expected message
};

json removed() {
  return json(json::value_t::discarded);
}

class SpecBadInputTest : public ::testing::TestWithParam<BadRow> {};

TEST_P(SpecBadInputTest, NamesFieldAndValue) {
  const BadRow& row = GetParam();
  json c = base_config();
  json::json_pointer ptr(row.pointer);
  if (row.value.is_discarded()) {
    c[ptr.parent_pointer()].erase(ptr.back());
  } else {
    c[ptr] = row.value;
  }
  auto r = parse(c.dump());
  ASSERT_FALSE(r) << "accepted: " << c.dump();
  EXPECT_EQ(r.error().code(), base::ErrorCode::InvalidArgument);
  EXPECT_EQ(r.error().to_string(), row.message);
  EXPECT_EQ(r.error().to_string().find('\n'), std::string::npos);
}

// clang-format off
const BadRow kBadRows[] = {
  {"UnknownCapability", "/process/capabilities/bounding/2", "CAP_FOO",
   "config.json: `process.capabilities.bounding[2]`: unknown capability `CAP_FOO`"},
  {"LowercaseCapability", "/process/capabilities/effective/0", "cap_kill",
   "config.json: `process.capabilities.effective[0]`: unknown capability `cap_kill`"},
  {"CapabilityNotString", "/process/capabilities/ambient", json::array({7}),
   "config.json: `process.capabilities.ambient[0]`: expected a string, got `7`"},
  {"MemoryLimitString", "/linux/resources/memory/limit", "abc",
   "config.json: `linux.resources.memory.limit`: expected an integer, got `\"abc\"`"},
  {"MemoryLimitFloat", "/linux/resources/memory/limit", 1.5,
   "config.json: `linux.resources.memory.limit`: expected an integer, got `1.5`"},
  {"MemoryLimitNegative", "/linux/resources/memory/limit", -5,
   "config.json: `linux.resources.memory.limit`: must be -1 (unlimited) or a number of bytes, got `-5`"},
  {"SwapBelowLimit", "/linux/resources/memory/swap", 4096,
   "config.json: `linux.resources.memory.swap`: memory+swap limit `4096` is below the memory limit `1048576`"},
  {"Swappiness", "/linux/resources/memory/swappiness", 101,
   "config.json: `linux.resources.memory.swappiness`: must be in [0, 100], got `101`"},
  {"MissingOciVersion", "/ociVersion", removed(),
   "config.json: `ociVersion`: required field is missing"},
  {"OciVersionNotString", "/ociVersion", 1,
   "config.json: `ociVersion`: expected a string, got `1`"},
  {"MissingRoot", "/root", removed(), "config.json: `root`: required field is missing"},
  {"MissingRootPath", "/root/path", removed(),
   "config.json: `root.path`: required field is missing"},
  {"EmptyRootPath", "/root/path", "", "config.json: `root.path`: must not be empty"},
  {"EmptyArgs", "/process/args", json::array(),
   "config.json: `process.args`: must name the program to run, got `[]`"},
  {"MissingArgs", "/process/args", removed(),
   "config.json: `process.args`: must name the program to run, got `null`"},
  {"ArgsNotArray", "/process/args", "sh",
   "config.json: `process.args`: expected an array, got `\"sh\"`"},
  {"MissingCwd", "/process/cwd", removed(),
   "config.json: `process.cwd`: required field is missing"},
  {"RelativeCwd", "/process/cwd", "tmp",
   "config.json: `process.cwd`: must be an absolute path, got `tmp`"},
  {"TerminalNotBool", "/process/terminal", "yes",
   "config.json: `process.terminal`: expected true or false, got `\"yes\"`"},
  {"NegativeUid", "/process/user/uid", -1,
   "config.json: `process.user.uid`: expected an integer in [0, 4294967295], got `-1`"},
  {"HugeGid", "/process/user/additionalGids/1", 4294967296LL,
   "config.json: `process.user.additionalGids[1]`: expected an integer in [0, 4294967295], got `4294967296`"},
  {"OomScoreAdj", "/process/oomScoreAdj", 2000,
   "config.json: `process.oomScoreAdj`: must be in [-1000, 1000], got `2000`"},
  {"UnknownRlimit", "/process/rlimits/0/type", "RLIMIT_FOO",
   "config.json: `process.rlimits[0].type`: unknown rlimit `RLIMIT_FOO`"},
  {"RlimitSoftAboveHard", "/process/rlimits/0/soft", 2048,
   "config.json: `process.rlimits[0]`: soft limit 2048 of `RLIMIT_NOFILE` exceeds its hard limit 1024"},
  {"RlimitMissingHard", "/process/rlimits/0/hard", removed(),
   "config.json: `process.rlimits[0].hard`: required field is missing"},
  {"DuplicateRlimit", "/process/rlimits/1",
   json({{"type", "RLIMIT_NOFILE"}, {"hard", 1}, {"soft", 1}}),
   "config.json: `process.rlimits[1].type`: duplicate rlimit `RLIMIT_NOFILE`"},
  {"UnknownNamespace", "/linux/namespaces/1/type", "bogus",
   "config.json: `linux.namespaces[1].type`: unknown namespace type `bogus`"},
  {"DuplicateNamespace", "/linux/namespaces/4", json({{"type", "pid"}}),
   "config.json: `linux.namespaces[4].type`: duplicate namespace `pid`"},
  {"RelativeNamespacePath", "/linux/namespaces/3/path", "proc/1/ns/net",
   "config.json: `linux.namespaces[3].path`: must be an absolute path, got `proc/1/ns/net`"},
  {"HostnameWithoutUts", "/linux/namespaces/1/type", "ipc",
   "config.json: `hostname`: `box` needs a private uts namespace (add it to `linux.namespaces`)"},
  {"MappingsWithoutUserns", "/linux/uidMappings",
   json::array({{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}}),
   "config.json: `linux.uidMappings`: id mappings need a user namespace in `linux.namespaces`"},
  {"MappingZeroSize", "/linux/gidMappings",
   json::array({{{"containerID", 0}, {"hostID", 1000}, {"size", 0}}}),
   "config.json: `linux.gidMappings[0].size`: must be at least 1, got `0`"},
  {"UnknownSeccompDefaultAction", "/linux/seccomp/defaultAction", "SCMP_ACT_FOO",
   "config.json: `linux.seccomp.defaultAction`: unknown seccomp action `SCMP_ACT_FOO`"},
  {"MissingSeccompDefaultAction", "/linux/seccomp/defaultAction", removed(),
   "config.json: `linux.seccomp.defaultAction`: required field is missing"},
  {"UnknownSeccompAction", "/linux/seccomp/syscalls/0/action", "SCMP_ACT_MAYBE",
   "config.json: `linux.seccomp.syscalls[0].action`: unknown seccomp action `SCMP_ACT_MAYBE`"},
  {"UnknownSeccompOperator", "/linux/seccomp/syscalls/0/args/0/op", "SCMP_CMP_FOO",
   "config.json: `linux.seccomp.syscalls[0].args[0].op`: unknown seccomp operator `SCMP_CMP_FOO`"},
  {"SeccompArgIndex", "/linux/seccomp/syscalls/0/args/0/index", 6,
   "config.json: `linux.seccomp.syscalls[0].args[0].index`: must be in [0, 5], got `6`"},
  {"UnknownSeccompArch", "/linux/seccomp/architectures/0", "SCMP_ARCH_Z80",
   "config.json: `linux.seccomp.architectures[0]`: unknown seccomp architecture `SCMP_ARCH_Z80`"},
  {"UnknownSeccompFlag", "/linux/seccomp/flags", json::array({"SECCOMP_FILTER_FLAG_FOO"}),
   "config.json: `linux.seccomp.flags[0]`: unknown seccomp flag `SECCOMP_FILTER_FLAG_FOO`"},
  {"SeccompNoNames", "/linux/seccomp/syscalls/0/names", json::array(),
   "config.json: `linux.seccomp.syscalls[0].names`: must name at least one syscall, got `[]`"},
  {"MountMissingDestination", "/mounts/1/destination", removed(),
   "config.json: `mounts[1].destination`: required field is missing"},
  {"MountEscapes", "/mounts/1/destination", "/data/../../etc",
   "config.json: `mounts[1].destination`: `/data/../../etc` escapes the container's root filesystem"},
  {"MountRelativeEscapes", "/mounts/1/destination", "../etc",
   "config.json: `mounts[1].destination`: `../etc` escapes the container's root filesystem"},
  {"MountOptionsNotStrings", "/mounts/1/options/1", false,
   "config.json: `mounts[1].options[1]`: expected a string, got `false`"},
  {"MountsNotArray", "/mounts", json::object(),
   "config.json: `mounts`: expected an array, got `{}`"},
  {"NegativePids", "/linux/resources/pids/limit", -2,
   "config.json: `linux.resources.pids.limit`: must be -1 (unlimited) or a positive number, got `-2`"},
  {"PidsMissingLimit", "/linux/resources/pids/limit", removed(),
   "config.json: `linux.resources.pids.limit`: required field is missing"},
  {"CpuQuotaTooSmall", "/linux/resources/cpu/quota", 10,
   "config.json: `linux.resources.cpu.quota`: must be -1 (unlimited) or at least 1000 (µs), got `10`"},
  {"CpuPeriodTooLarge", "/linux/resources/cpu/period", 2000000,
   "config.json: `linux.resources.cpu.period`: must be in [1000, 1000000] (µs), got `2000000`"},
  {"NegativeShares", "/linux/resources/cpu/shares", -1,
   "config.json: `linux.resources.cpu.shares`: expected an integer in [0, 18446744073709551615], got `-1`"},
  {"BadCpus", "/linux/resources/cpu/cpus", "0-a",
   "config.json: `linux.resources.cpu.cpus`: `0-a` is not a CPU list like `0-3,5`"},
  {"BlkioWeight", "/linux/resources/blockIO/weight", 5,
   "config.json: `linux.resources.blockIO.weight`: must be in [10, 1000], got `5`"},
  {"DeviceRuleType", "/linux/resources/devices/1/type", "x",
   "config.json: `linux.resources.devices[1].type`: unknown device type `x` (want a, c or b)"},
  {"DeviceRuleAccess", "/linux/resources/devices/1/access", "rx",
   "config.json: `linux.resources.devices[1].access`: `rx` is not a subset of `rwm`"},
  {"DeviceRuleMissingAllow", "/linux/resources/devices/0/allow", removed(),
   "config.json: `linux.resources.devices[0].allow`: required field is missing"},
  {"DeviceRelativePath", "/linux/devices/0/path", "dev/fuse",
   "config.json: `linux.devices[0].path`: must be an absolute path, got `dev/fuse`"},
  {"DeviceType", "/linux/devices/0/type", "x",
   "config.json: `linux.devices[0].type`: unknown device type `x` (want c, b, u or p)"},
  {"DeviceMissingMajor", "/linux/devices/0/major", removed(),
   "config.json: `linux.devices[0].major`: required field is missing"},
  {"UnifiedKeyPath", "/linux/resources/unified", json({{"../x", "1"}}),
   "config.json: `linux.resources.unified.../x`: `../x` is not a cgroup file name"},
  {"Propagation", "/linux/rootfsPropagation", "sideways",
   "config.json: `linux.rootfsPropagation`: unknown propagation `sideways`"},
  {"SysctlNotString", "/linux/sysctl/net.ipv4.ip_forward", 1,
   "config.json: `linux.sysctl.net.ipv4.ip_forward`: expected a string, got `1`"},
  {"HookRelativePath", "/hooks/prestart/0/path", "true",
   "config.json: `hooks.prestart[0].path`: must be an absolute path, got `true`"},
  {"HookTimeout", "/hooks/prestart/0/timeout", 0,
   "config.json: `hooks.prestart[0].timeout`: must be at least 1 second, got `0`"},
  {"AnnotationNotString", "/annotations/org.example", true,
   "config.json: `annotations.org.example`: expected a string, got `true`"},
  {"LinuxNotObject", "/linux", json::array(), "config.json: `linux`: expected an object, got `[]`"},
  {"Umask", "/process/user/umask", 4096,
   "config.json: `process.user.umask`: umask `10000` (octal) is not a permission mask"},
};
// clang-format on

INSTANTIATE_TEST_SUITE_P(Rows, SpecBadInputTest, ::testing::ValuesIn(kBadRows),
                         [](const ::testing::TestParamInfo<BadRow>& row) {
                           return std::string(row.param.name);
                         });

TEST(SpecParseTest, BrokenJsonNamesTheByte) {
  auto r = parse(R"({"ociVersion": })");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), base::ErrorCode::InvalidArgument);
  EXPECT_EQ(r.error().to_string().rfind("config.json: broken JSON at byte 16: ", 0), 0u)
      << r.error().to_string();
  auto empty = parse("");
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().to_string().find("broken JSON at byte"), std::string::npos);
}

TEST(SpecParseTest, TopLevelMustBeObject) {
  auto r = parse("[1, 2]");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().to_string(), "config.json: expected a JSON object, got `[1,2]`");
}

TEST(SpecParseTest, LongValuesAreShortenedInMessages) {
  json c = base_config();
  c["process"]["cwd"] = json::array();
  for (int i = 0; i < 100; ++i) {
    c["process"]["cwd"].push_back(i);
  }
  auto r = parse(c.dump());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().to_string(),
            "config.json: `process.cwd`: expected a string, got "
            "`[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,...`");
}

TEST(SpecDefaultTest, RoundTripsThroughParse) {
  for (bool terminal : {true, false}) {
    auto r = parse(default_spec_json(terminal));
    ASSERT_TRUE(r) << r.error().to_string();
    ASSERT_TRUE(r->process);
    EXPECT_EQ(r->process->terminal, terminal);
    EXPECT_EQ(r->process->args, std::vector<std::string>{"sh"});
    ASSERT_TRUE(r->process->capabilities);
    const auto& caps = r->process->capabilities->bounding;
    EXPECT_EQ(caps.size(), 14u);
    for (const char* want :
         {"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
          "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
          "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"}) {
      EXPECT_NE(std::find(caps.begin(), caps.end(), want), caps.end()) << want;
    }
    EXPECT_EQ(r->process->capabilities->effective, caps);
    EXPECT_EQ(r->process->capabilities->permitted, caps);
    EXPECT_EQ(r->root.path, "rootfs");
    EXPECT_TRUE(r->root.readonly);
    EXPECT_EQ(r->mounts.size(), 7u);
    EXPECT_EQ(r->linux.namespaces.size(), 5u);
    EXPECT_FALSE(r->has_namespace(NamespaceType::User));
    EXPECT_EQ(r->linux.masked_paths.size(), 10u);
    EXPECT_EQ(r->linux.readonly_paths.size(), 5u);
    ASSERT_EQ(r->process->rlimits.size(), 1u);
    EXPECT_EQ(r->process->rlimits[0].resource, RLIMIT_NOFILE);
  }
}

TEST(SpecDefaultTest, ParsesWhatRuncSpecWrites) {
  MYDOCKER_REQUIRE(mydocker::testing::Need::Runc);
  TempDir dir;
  std::string cmd = "cd '" + dir.path() + "' && runc spec >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);  // NOLINT(concurrency-mt-unsafe): single-threaded test
  auto text = base::read_file(dir.path() + "/config.json");
  ASSERT_TRUE(text) << text.error().to_string();
  auto r = parse(*text);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->process->args, std::vector<std::string>{"sh"});
  EXPECT_EQ(r->hostname, "runc");
  EXPECT_TRUE(r->has_namespace(NamespaceType::Mount));
}

TEST(SpecDefaultTest, ParsesWhatRuncSpecRootlessWrites) {
  MYDOCKER_REQUIRE(mydocker::testing::Need::Runc);
  TempDir dir;
  std::string cmd = "cd '" + dir.path() + "' && runc spec --rootless >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);  // NOLINT(concurrency-mt-unsafe): single-threaded test
  auto text = base::read_file(dir.path() + "/config.json");
  ASSERT_TRUE(text) << text.error().to_string();
  auto r = parse(*text);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE(r->has_namespace(NamespaceType::User));
  EXPECT_EQ(r->linux.uid_mappings.size(), 1u);
}

// Every JSON pointer into `v` (objects and arrays included, the root excluded).
void all_pointers(const json& v, const json::json_pointer& at,
                  std::vector<json::json_pointer>& out) {
  if (v.is_object()) {
    for (const auto& [k, child] : v.items()) {
      out.push_back(at / k);
      all_pointers(child, at / k, out);
    }
  } else if (v.is_array()) {
    for (size_t i = 0; i < v.size(); ++i) {
      out.push_back(at / i);
      all_pointers(v[i], at / i, out);
    }
  }
}

// Every node of base_config() replaced by every JSON type: parse must never throw or crash,
// and a refusal is always one InvalidArgument line.
TEST(SpecParseTest, AnyTypeInAnyFieldIsHandled) {
  const json config = base_config();
  std::vector<json::json_pointer> pointers;
  all_pointers(config, json::json_pointer(), pointers);
  ASSERT_GT(pointers.size(), 100u);
  const json replacements[] = {nullptr,
                               "x",
                               -1,
                               4294967296LL,
                               1.5,
                               true,
                               json::array(),
                               json::object(),
                               json::array({json::object()})};
  for (const auto& ptr : pointers) {
    for (const json& repl : replacements) {
      json c = config;
      c[ptr] = repl;
      std::string text = c.dump();
      auto r = parse(text);
      if (!r) {
        EXPECT_EQ(r.error().code(), base::ErrorCode::InvalidArgument) << text;
        EXPECT_EQ(r.error().to_string().find('\n'), std::string::npos);
        EXPECT_EQ(r.error().to_string().rfind("config.json: ", 0), 0u);
      }
    }
  }
}

TEST(SpecNamespaceTest, NamesAndFlags) {
  EXPECT_EQ(namespace_type_name(NamespaceType::Network), "network");
  EXPECT_EQ(namespace_type_name(NamespaceType::Mount), "mount");
  EXPECT_EQ(namespace_type_name(NamespaceType::Cgroup), "cgroup");
  EXPECT_EQ(namespace_clone_flag(NamespaceType::Pid), CLONE_NEWPID);
  EXPECT_EQ(namespace_clone_flag(NamespaceType::Mount), CLONE_NEWNS);
  EXPECT_EQ(namespace_clone_flag(NamespaceType::User), CLONE_NEWUSER);
  EXPECT_EQ(namespace_clone_flag(NamespaceType::Uts), CLONE_NEWUTS);
  EXPECT_EQ(namespace_clone_flag(NamespaceType::Time), 0x80);
}

TEST(SpecProcessTest, ParsesBareProcess) {
  auto p = parse_process(R"({"args": ["ps"], "cwd": "/tmp", "env": ["A=1"],
                             "user": {"uid": 5, "gid": 6}, "terminal": true,
                             "capabilities": {"bounding": ["CAP_KILL"]}})");
  ASSERT_TRUE(p) << p.error().to_string();
  EXPECT_EQ(p->args, std::vector<std::string>{"ps"});
  EXPECT_EQ(p->cwd, "/tmp");
  EXPECT_EQ(p->user.gid, 6u);
  EXPECT_TRUE(p->terminal);
}

TEST(SpecProcessTest, ErrorsNameTopLevelFields) {
  auto p = parse_process(R"({"args": [], "cwd": "/"})");
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().to_string(), "process.json: `args`: must name the program to run, got `[]`");
  auto q = parse_process(R"({"args": ["x"], "cwd": "/", "capabilities": {"ambient": ["CAP_X"]}})");
  ASSERT_FALSE(q);
  EXPECT_EQ(q.error().to_string(),
            "process.json: `capabilities.ambient[0]`: unknown capability `CAP_X`");
  auto r = parse_process("nope");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().to_string().rfind("process.json: broken JSON at byte", 0), 0u);
}

class SpecBundleTest : public ::testing::Test {
 protected:
  void write_config(const json& c) {
    ASSERT_TRUE(base::write_file_atomic(dir_.path() + "/config.json", c.dump()));
  }
  TempDir dir_;
};

TEST_F(SpecBundleTest, MakesRootAbsolute) {
  ASSERT_TRUE(base::mkdir_all(dir_.path() + "/rootfs"));
  write_config(base_config());
  auto s = load_bundle(dir_.path() + "/./");
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_EQ(s->root.path, dir_.path() + "/rootfs");
}

TEST_F(SpecBundleTest, KeepsAbsoluteRoot) {
  json c = base_config();
  c["root"]["path"] = dir_.path() + "/elsewhere/";
  ASSERT_TRUE(base::mkdir_all(dir_.path() + "/elsewhere"));
  write_config(c);
  auto s = load_bundle(dir_.path());
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_EQ(s->root.path, dir_.path() + "/elsewhere");
}

TEST_F(SpecBundleTest, MissingConfig) {
  auto s = load_bundle(dir_.path());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), base::ErrorCode::NotFound);
  EXPECT_EQ(s.error().to_string(), "bundle `" + dir_.path() + "`: no config.json");
}

TEST_F(SpecBundleTest, MissingRootfs) {
  write_config(base_config());
  auto s = load_bundle(dir_.path());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), base::ErrorCode::NotFound);
  EXPECT_EQ(s.error().to_string(), "root.path `" + dir_.path() + "/rootfs` does not exist");
}

TEST_F(SpecBundleTest, RootfsIsAFile) {
  ASSERT_TRUE(base::write_file_atomic(dir_.path() + "/rootfs", "x"));
  write_config(base_config());
  auto s = load_bundle(dir_.path());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), base::ErrorCode::InvalidArgument);
  EXPECT_EQ(s.error().to_string(), "root.path `" + dir_.path() + "/rootfs` is not a directory");
}

TEST_F(SpecBundleTest, InvalidConfigIsReported) {
  ASSERT_TRUE(base::mkdir_all(dir_.path() + "/rootfs"));
  ASSERT_TRUE(base::write_file_atomic(dir_.path() + "/config.json", "{"));
  auto s = load_bundle(dir_.path());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), base::ErrorCode::InvalidArgument);
  EXPECT_NE(s.error().to_string().find("config.json: broken JSON"), std::string::npos);
}

}  // namespace
}  // namespace mydocker::runtime::spec
