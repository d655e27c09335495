// SPDX-License-Identifier: Apache-2.0
// Create bodies in, dockerd's answers out: the cases of the dockerd transcripts 024-038,
// 061-062 and the inspect shapes of 068/070.
#include "engine/container/config.h"

#include <gtest/gtest.h>

#include <string>

namespace mydocker::engine {
namespace {

using json = nlohmann::json;

// HostConfig and Config of transcript 070 (inspect of a created container, body of 024).
constexpr const char* kHostConfig070 =
    R"({"Binds":null,"ContainerIDFile":"","LogConfig":{"Type":"json-file","Config":{}},"NetworkMode":"default","PortBindings":null,"RestartPolicy":{"Name":"","MaximumRetryCount":0},"AutoRemove":false,"VolumeDriver":"","VolumesFrom":null,"CapAdd":null,"CapDrop":null,"CgroupnsMode":"host","Dns":null,"DnsOptions":null,"DnsSearch":null,"ExtraHosts":null,"GroupAdd":null,"IpcMode":"private","Cgroup":"","Links":null,"OomScoreAdj":0,"PidMode":"","Privileged":false,"PublishAllPorts":false,"ReadonlyRootfs":false,"SecurityOpt":null,"UTSMode":"","UsernsMode":"","ShmSize":67108864,"ConsoleSize":[0,0],"Isolation":"","CpuShares":0,"Memory":0,"NanoCpus":0,"CgroupParent":"","BlkioWeight":0,"BlkioWeightDevice":null,"BlkioDeviceReadBps":null,"BlkioDeviceWriteBps":null,"BlkioDeviceReadIOps":null,"BlkioDeviceWriteIOps":null,"CpuPeriod":0,"CpuQuota":0,"CpuRealtimePeriod":0,"CpuRealtimeRuntime":0,"CpusetCpus":"","CpusetMems":"","Devices":null,"DeviceCgroupRules":null,"DeviceRequests":null,"KernelMemory":0,"KernelMemoryTCP":0,"MemoryReservation":0,"MemorySwap":0,"MemorySwappiness":null,"OomKillDisable":false,"PidsLimit":null,"Ulimits":null,"CpuCount":0,"CpuPercent":0,"IOMaximumIOps":0,"IOMaximumBandwidth":0,"MaskedPaths":["/proc/asound","/proc/acpi","/proc/kcore","/proc/keys","/proc/latency_stats","/proc/timer_list","/proc/timer_stats","/proc/sched_debug","/proc/scsi","/sys/firmware"],"ReadonlyPaths":["/proc/bus","/proc/fs","/proc/irq","/proc/sys","/proc/sysrq-trigger"]})";
constexpr const char* kConfig070 =
    R"({"Hostname":"0645ee919f74","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":["true"],"Image":"busybox","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":{}})";
// Config of transcript 068 (the container created by 025).
constexpr const char* kConfig068 =
    R"({"Hostname":"4850cc3221be","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":["sh","-c","trap 'exit 0' TERM; while :; do sleep 1; done"],"Image":"busybox","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":{"tx-label":"1"},"StopTimeout":3})";

CreateBody create_ok(std::string_view body) {
  auto r = parse_create_body(body);
  EXPECT_TRUE(r.has_value()) << body << ": " << r.error().message();
  return r.has_value() ? *r : CreateBody{};
}

std::string create_error(std::string_view body) {
  auto r = parse_create_body(body);
  EXPECT_FALSE(r.has_value()) << body;
  if (r.has_value()) {
    return "";
  }
  EXPECT_EQ(r.error().code(), base::ErrorCode::InvalidArgument);
  return r.error().message();
}

TEST(CreateBody, MinimalMatchesInspect070) {
  CreateBody b = create_ok(R"({"Image":"busybox","Cmd":["true"]})");
  apply_create_defaults(b.host_config, /*cgroup_v2=*/false);
  ASSERT_TRUE(validate_host_config(b.host_config).has_value());
  b.config.hostname = "0645ee919f74";
  EXPECT_EQ(b.host_config.to_json(), json::parse(kHostConfig070));
  EXPECT_EQ(b.config.to_json(), json::parse(kConfig070));
}

TEST(CreateBody, NamedWithLabelsAndStopTimeoutMatchesInspect068) {
  CreateBody b = create_ok(
      R"({"Image":"busybox","Cmd":["sh","-c","trap 'exit 0' TERM; while :; do sleep 1; done"],"Labels":{"tx-label":"1"},"StopTimeout":3})");
  b.config.hostname = "4850cc3221be";
  EXPECT_EQ(b.config.to_json(), json::parse(kConfig068));
  EXPECT_EQ(b.config.stop_timeout, 3);
}

TEST(CreateBody, Resources026) {
  CreateBody b = create_ok(
      R"({"Image":"busybox","Cmd":["sh","-c","trap 'exit 0' TERM; while :; do sleep 1; done"],"Labels":{"tx-label":"2"},"HostConfig":{"Memory":67108864,"MemorySwap":134217728,"NanoCpus":500000000,"CpuShares":512,"PidsLimit":64,"BlkioWeight":300,"Ulimits":[{"Name":"nofile","Soft":1024,"Hard":2048}],"RestartPolicy":{"Name":"","MaximumRetryCount":0},"Init":true}})");
  const HostConfig& hc = b.host_config;
  EXPECT_EQ(hc.memory, 67108864);
  EXPECT_EQ(hc.memory_swap, 134217728);
  EXPECT_EQ(hc.nano_cpus, 500000000);
  EXPECT_EQ(hc.cpu_shares, 512);
  EXPECT_EQ(hc.pids_limit, 64);
  ASSERT_EQ(hc.ulimits.size(), 1u);
  EXPECT_EQ(hc.ulimits[0].name, "nofile");
  EXPECT_EQ(hc.ulimits[0].soft, 1024);
  EXPECT_EQ(hc.ulimits[0].hard, 2048);
  EXPECT_EQ(hc.init, true);
  EXPECT_TRUE(validate_host_config(hc).has_value());
  json j = hc.to_json();
  EXPECT_EQ(j["BlkioWeight"], 300);  // kept although mydocker does not act on it
  EXPECT_EQ(j["Init"], true);
  EXPECT_EQ(j["PidsLimit"], 64);
  EXPECT_EQ(j["Ulimits"], json::parse(R"([{"Name":"nofile","Hard":2048,"Soft":1024}])"));
  EXPECT_EQ(b.config.labels.at("tx-label"), "2");
}

// What docker CLI 28.2 sends (API 1.41) for `docker create --name t -m 64m --memory-swap 128m
// --cpus 0.5 --cpu-shares 512 --pids-limit 64 --read-only --tmpfs /run:rw,size=1m --cap-add
// NET_ADMIN --cap-drop chown --security-opt no-new-privileges --ulimit nofile=10:20 --init
// --shm-size 1m --restart on-failure:3 -e A=1 -w /tmp -u nobody -h myhost -l k=v --entrypoint
// /bin/sh busybox -c true`, captured on a socket.
constexpr const char* kCliBody =
    R"({"Hostname":"myhost","Domainname":"","User":"nobody","AttachStdin":false,"AttachStdout":true,"AttachStderr":true,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":["A=1"],"Cmd":["-c","true"],"Image":"busybox","Volumes":{},"WorkingDir":"/tmp","Entrypoint":["/bin/sh"],"OnBuild":null,"Labels":{"k":"v"},"HostConfig":{"Binds":null,"ContainerIDFile":"","LogConfig":{"Type":"","Config":{}},"NetworkMode":"default","PortBindings":{},"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":3},"AutoRemove":false,"VolumeDriver":"","VolumesFrom":null,"ConsoleSize":[0,0],"CapAdd":["CAP_NET_ADMIN"],"CapDrop":["CAP_CHOWN"],"CgroupnsMode":"","Dns":[],"DnsOptions":[],"DnsSearch":[],"ExtraHosts":null,"GroupAdd":null,"IpcMode":"","Cgroup":"","Links":null,"OomScoreAdj":0,"PidMode":"","Privileged":false,"PublishAllPorts":false,"ReadonlyRootfs":true,"SecurityOpt":["no-new-privileges"],"Tmpfs":{"/run":"rw,size=1m"},"UTSMode":"","UsernsMode":"","ShmSize":1048576,"Isolation":"","CpuShares":512,"Memory":67108864,"NanoCpus":500000000,"CgroupParent":"","BlkioWeight":0,"BlkioWeightDevice":[],"BlkioDeviceReadBps":[],"BlkioDeviceWriteBps":[],"BlkioDeviceReadIOps":[],"BlkioDeviceWriteIOps":[],"CpuPeriod":0,"CpuQuota":0,"CpuRealtimePeriod":0,"CpuRealtimeRuntime":0,"CpusetCpus":"","CpusetMems":"","Devices":[],"DeviceCgroupRules":null,"DeviceRequests":null,"MemoryReservation":0,"MemorySwap":134217728,"MemorySwappiness":-1,"OomKillDisable":false,"PidsLimit":64,"Ulimits":[{"Name":"nofile","Hard":20,"Soft":10}],"CpuCount":0,"CpuPercent":0,"IOMaximumIOps":0,"IOMaximumBandwidth":0,"MaskedPaths":null,"ReadonlyPaths":null,"Init":true},"NetworkingConfig":{"EndpointsConfig":{"default":{"IPAMConfig":null,"Links":null,"Aliases":null,"MacAddress":"","DriverOpts":null,"GwPriority":0,"NetworkID":"","EndpointID":"","Gateway":"","IPAddress":"","IPPrefixLen":0,"IPv6Gateway":"","GlobalIPv6Address":"","GlobalIPv6PrefixLen":0,"DNSNames":null}}}})";

TEST(CreateBody, DockerCliBody) {
  CreateBody b = create_ok(kCliBody);
  ASSERT_TRUE(validate_config(b.config).has_value());
  auto v = validate_host_config(b.host_config);
  ASSERT_TRUE(v.has_value()) << v.error().message();
  apply_create_defaults(b.host_config, false);
  json h = b.host_config.to_json();
  EXPECT_EQ(h["MemorySwappiness"], nullptr);  // the CLI's -1 is stored as unset
  EXPECT_EQ(h["LogConfig"]["Type"], "json-file");
  EXPECT_EQ(h["IpcMode"], "private");
  EXPECT_EQ(h["CgroupnsMode"], "host");
  EXPECT_EQ(h["MaskedPaths"].size(), 10u);
  EXPECT_EQ(h["Dns"], json::array());  // as sent
  EXPECT_EQ(h["ShmSize"], 1048576);
  EXPECT_EQ(h["RestartPolicy"]["MaximumRetryCount"], 3);
  EXPECT_EQ(b.host_config.cap_add, std::vector<std::string>{"CAP_NET_ADMIN"});
  json c = b.config.to_json();
  EXPECT_EQ(c["Entrypoint"], json::parse(R"(["/bin/sh"])"));
  EXPECT_EQ(c["Volumes"], json::object());
  EXPECT_FALSE(c.contains("NetworkingConfig"));
}

TEST(CreateBody, TruncationsAndByteFlipsOfTheCliBody) {
  const std::string full = kCliBody;
  // Every strict prefix is a truncated value.
  for (size_t n = 1; n < full.size(); ++n) {
    auto r = parse_create_body(full.substr(0, n));
    ASSERT_FALSE(r.has_value()) << n;
    EXPECT_EQ(r.error().message(), "unexpected EOF") << full.substr(0, n);
  }
  // A byte replaced anywhere: an InvalidArgument or a body whose inspect shape is a fixed
  // point of print -> parse -> print.
  for (size_t i = 0; i < full.size(); ++i) {
    for (char flip : {'}', '"', '1', 'x', '[', '-', ' ', '\\'}) {
      std::string body = full;
      body[i] = flip;
      auto r = parse_create_body(body);
      if (!r.has_value()) {
        EXPECT_EQ(r.error().code(), base::ErrorCode::InvalidArgument);
        EXPECT_FALSE(r.error().message().empty());
        continue;
      }
      (void)validate_host_config(r->host_config);
      apply_create_defaults(r->host_config, false);
      json h = r->host_config.to_json();
      auto h2 = HostConfig::from_json(h);
      ASSERT_TRUE(h2.has_value()) << body << ": " << h2.error().message();
      EXPECT_EQ(h2->to_json(), h) << body;
      json c = r->config.to_json();
      auto c2 = ContainerConfig::from_json(c);
      ASSERT_TRUE(c2.has_value()) << body;
      EXPECT_EQ(c2->to_json(), c) << body;
    }
  }
}

TEST(CreateBody, ErrorsWordedAsDockerd) {
  struct Row {
    const char* body;
    const char* message;
  };
  const Row rows[] = {
      // 027, 028, 029
      {R"({"Image":"busybox","Cmd":["true"])", "unexpected EOF"},
      {R"({"Image":123})",
       "json: cannot unmarshal number into Go struct field ContainerConfigWrapper.Image of type "
       "string"},
      {"", "EOF"},
      {"  \n", "EOF"},
      {R"({"Image":x})", "invalid character 'x' looking for beginning of value"},
      {R"({"Image" "x"})", "invalid character '\"' after object key"},
      {R"({"Image":"x" "Cmd":[]})", "invalid character '\"' after object key:value pair"},
      {R"({Image:1})", "invalid character 'I' looking for beginning of object key string"},
      {R"({"Cmd":["a" 1]})", "invalid character '1' after array element"},
      {R"({"Tty":tru})", "invalid character '}' in literal true (expecting 'e')"},
      {R"({"Memory":-})", "invalid character '}' in numeric literal"},
      {R"([1,2])",
       "json: cannot unmarshal array into Go value of type runconfig.ContainerConfigWrapper"},
      {R"("x")",
       "json: cannot unmarshal string into Go value of type runconfig.ContainerConfigWrapper"},
      {R"({"Tty":"yes"})",
       "json: cannot unmarshal string into Go struct field ContainerConfigWrapper.Tty of type "
       "bool"},
      {R"({"Env":"A=1"})",
       "json: cannot unmarshal string into Go struct field ContainerConfigWrapper.Env of type "
       "[]string"},
      {R"({"Env":[1]})",
       "json: cannot unmarshal number into Go struct field ContainerConfigWrapper.Env of type "
       "string"},
      {R"({"Cmd":5})",
       "json: cannot unmarshal number into Go struct field ContainerConfigWrapper.Cmd of type "
       "string"},
      {R"({"Cmd":["a",1]})",
       "json: cannot unmarshal array into Go struct field ContainerConfigWrapper.Cmd of type "
       "string"},
      {R"({"Labels":{"a":1}})",
       "json: cannot unmarshal number into Go struct field ContainerConfigWrapper.Labels of type "
       "string"},
      {R"({"Labels":[]})",
       "json: cannot unmarshal array into Go struct field ContainerConfigWrapper.Labels of type "
       "map[string]string"},
      {R"({"StopTimeout":1.5})",
       "json: cannot unmarshal number 1.5 into Go struct field ContainerConfigWrapper.StopTimeout "
       "of type int"},
      {R"({"HostConfig":5})",
       "json: cannot unmarshal number into Go struct field ContainerConfigWrapper.HostConfig of "
       "type container.HostConfig"},
      {R"({"HostConfig":{"Memory":"1g"}})",
       "json: cannot unmarshal string into Go struct field HostConfig.HostConfig.Memory of type "
       "int64"},
      {R"({"HostConfig":{"Privileged":1}})",
       "json: cannot unmarshal number into Go struct field HostConfig.HostConfig.Privileged of "
       "type bool"},
      {R"({"HostConfig":{"BlkioWeight":-1}})",
       "json: cannot unmarshal number -1 into Go struct field HostConfig.HostConfig.BlkioWeight "
       "of type uint16"},
      {R"({"HostConfig":{"Dns":"8.8.8.8"}})",
       "json: cannot unmarshal string into Go struct field HostConfig.HostConfig.Dns of type "
       "[]string"},
      {R"({"HostConfig":{"RestartPolicy":{"Name":1}}})",
       "json: cannot unmarshal number into Go struct field "
       "RestartPolicy.HostConfig.RestartPolicy.Name of type string"},
      {R"({"HostConfig":{"RestartPolicy":{"MaximumRetryCount":"3"}}})",
       "json: cannot unmarshal string into Go struct field "
       "RestartPolicy.HostConfig.RestartPolicy.MaximumRetryCount of type int"},
      {R"({"HostConfig":{"Ulimits":[{"Name":"nofile","Soft":"1"}]}})",
       "json: cannot unmarshal string into Go struct field Ulimit.HostConfig.Ulimits.Soft of "
       "type int64"},
      {R"({"HostConfig":{"LogConfig":{"Config":{"max-size":10}}}})",
       "json: cannot unmarshal number into Go struct field LogConfig.HostConfig.LogConfig.Config "
       "of type string"},
  };
  for (const auto& row : rows) {
    EXPECT_EQ(create_error(row.body), row.message) << row.body;
  }
}

TEST(CreateBody, UnknownFieldsIgnoredAndNotPrinted038) {
  CreateBody b = create_ok(R"({"Image":"busybox","Cmd":["true"],"NoSuchField":42})");
  EXPECT_FALSE(b.config.to_json().contains("NoSuchField"));
  EXPECT_FALSE(b.host_config.to_json().contains("NoSuchField"));
}

TEST(CreateBody, GoDecoderLeniency) {
  // Keys match case-insensitively, a string Cmd is one argument, null means unset, and the
  // bytes after the first value are not read.
  CreateBody b = create_ok(R"({"image":"busybox","cmd":"true","Env":null,"WorkingDir":null} junk)");
  EXPECT_EQ(b.config.image, "busybox");
  ASSERT_TRUE(b.config.cmd.has_value());
  EXPECT_EQ(*b.config.cmd, std::vector<std::string>{"true"});
  EXPECT_FALSE(b.config.env.has_value());
  CreateBody empty = create_ok("null");
  EXPECT_TRUE(empty.config.image.empty());
}

TEST(CreateBody, ExtraFieldsRoundTrip) {
  CreateBody b = create_ok(
      R"({"Image":"busybox","ExposedPorts":{"80/tcp":{}},"Healthcheck":{"Test":["NONE"]},"HostConfig":{"Dns":["1.1.1.1"],"PortBindings":{"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"8080"}]},"Sysctls":{"net.ipv4.ip_forward":"1"},"Tmpfs":{"/run":"rw,size=64m"},"CapAdd":"NET_ADMIN"},"NetworkingConfig":{"EndpointsConfig":{}}})");
  json c = b.config.to_json();
  EXPECT_EQ(c["ExposedPorts"], json::parse(R"({"80/tcp":{}})"));
  EXPECT_EQ(c["Healthcheck"], json::parse(R"({"Test":["NONE"]})"));
  EXPECT_FALSE(c.contains("NetworkingConfig"));
  json h = b.host_config.to_json();
  EXPECT_EQ(h["Dns"], json::parse(R"(["1.1.1.1"])"));
  EXPECT_EQ(h["PortBindings"]["80/tcp"][0]["HostPort"], "8080");
  EXPECT_EQ(h["Sysctls"]["net.ipv4.ip_forward"], "1");
  EXPECT_EQ(h["Tmpfs"]["/run"], "rw,size=64m");
  EXPECT_EQ(h["CapAdd"], json::parse(R"(["NET_ADMIN"])"));
  // The printed record parses back to the same thing.
  auto again = HostConfig::from_json(h);
  ASSERT_TRUE(again.has_value()) << again.error().message();
  EXPECT_EQ(again->to_json(), h);
  auto config_again = ContainerConfig::from_json(c);
  ASSERT_TRUE(config_again.has_value());
  EXPECT_EQ(config_again->to_json(), c);
}

TEST(HostConfigJson, UpdateBody061ParsesAndValidates) {
  auto hc = HostConfig::from_json(json::parse(
      R"({"CpuShares":256,"Memory":134217728,"MemorySwap":268435456,"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":2}})"));
  ASSERT_TRUE(hc.has_value());
  EXPECT_EQ(hc->restart_policy.name, "on-failure");
  EXPECT_EQ(hc->restart_policy.maximum_retry_count, 2);
  EXPECT_TRUE(validate_host_config(*hc).has_value());
  auto bad = HostConfig::from_json(json::parse(R"({"Memory":"x"})"));
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(),
            "json: cannot unmarshal string into Go struct field HostConfig.Memory of type int64");
}

TEST(UpdateBody, ParseAndApply061) {
  auto u = parse_update_body(
      R"({"CpuShares":256,"Memory":134217728,"MemorySwap":268435456,"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":2},"Privileged":"ignored"})");
  ASSERT_TRUE(u.has_value()) << u.error().message();
  EXPECT_FALSE(u->privileged);
  HostConfig current;
  current.memory = 64 << 20;
  current.memory_swap = 128 << 20;
  current.cpuset_cpus = "0";
  ASSERT_TRUE(apply_update(current, *u).has_value());
  EXPECT_EQ(current.cpu_shares, 256);
  EXPECT_EQ(current.memory, 134217728);
  EXPECT_EQ(current.memory_swap, 268435456);
  EXPECT_EQ(current.cpuset_cpus, "0");  // untouched
  EXPECT_EQ(current.restart_policy.name, "on-failure");
  EXPECT_EQ(current.restart_policy.maximum_retry_count, 2);
  EXPECT_TRUE(validate_host_config(current).has_value());

  // 062: the value check runs on the merged config.
  auto bad = parse_update_body(R"({"RestartPolicy":{"Name":"sometimes"}})");
  ASSERT_TRUE(bad.has_value());
  HostConfig merged = current;
  ASSERT_TRUE(apply_update(merged, *bad).has_value());
  auto v = validate_host_config(merged);
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().message(), "invalid restart policy 'sometimes'");
}

TEST(UpdateBody, ErrorsAndConflicts) {
  auto t = parse_update_body(R"({"Memory":"1g"})");
  ASSERT_FALSE(t.has_value());
  EXPECT_EQ(t.error().message(),
            "json: cannot unmarshal string into Go struct field UpdateConfig.Memory of type int64");
  EXPECT_EQ(parse_update_body("{").error().message(), "unexpected EOF");

  HostConfig nano;
  nano.nano_cpus = 1000000000;
  auto period = parse_update_body(R"({"CpuPeriod":100000})");
  ASSERT_TRUE(period.has_value());
  auto r = apply_update(nano, *period);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(),
            "Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set");
  EXPECT_EQ(nano.cpu_period, 0);  // unchanged on error

  HostConfig swap;
  swap.memory = 64 << 20;
  swap.memory_swap = 128 << 20;
  auto mem = parse_update_body(R"({"Memory":268435456})");
  ASSERT_TRUE(mem.has_value());
  r = apply_update(swap, *mem);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(),
            "Memory limit should be smaller than already set memoryswap limit, update the "
            "memoryswap at the same time");

  HostConfig rm;
  rm.auto_remove = true;
  auto always = parse_update_body(R"({"RestartPolicy":{"Name":"always"}})");
  ASSERT_TRUE(always.has_value());
  r = apply_update(rm, *always);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(),
            "Restart policy cannot be updated because AutoRemove is enabled for the container");

  HostConfig pids;
  pids.pids_limit = 10;
  auto unlimited = parse_update_body(R"({"PidsLimit":-1})");
  ASSERT_TRUE(unlimited.has_value());
  ASSERT_TRUE(apply_update(pids, *unlimited).has_value());
  EXPECT_FALSE(pids.pids_limit.has_value());
}

std::string validation_error(std::string_view host_config_json) {
  auto hc = HostConfig::from_json(json::parse(host_config_json));
  EXPECT_TRUE(hc.has_value()) << host_config_json;
  if (!hc.has_value()) {
    return "";
  }
  auto r = validate_host_config(*hc);
  if (r.has_value()) {
    return "";
  }
  EXPECT_EQ(r.error().code(), base::ErrorCode::InvalidArgument);
  return r.error().message();
}

TEST(ValidateHostConfig, Rows) {
  struct Row {
    const char* host_config;
    const char* message;  // "" -> valid
  };
  const Row rows[] = {
      {R"({})", ""},
      {R"({"Memory":1000})", "Minimum memory limit allowed is 6MB"},  // 037
      {R"({"Memory":6291456})", ""},
      {R"({"RestartPolicy":{"Name":"sometimes"}})", "invalid restart policy 'sometimes'"},  // 062
      {R"({"RestartPolicy":{"Name":"always"}})", ""},
      {R"({"RestartPolicy":{"Name":"unless-stopped"}})", ""},
      {R"({"RestartPolicy":{"Name":"no"}})", ""},
      {R"({"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":3}})", ""},
      {R"({"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":-1}})",
       "maximum retry count cannot be negative"},
      {R"({"RestartPolicy":{"Name":"always","MaximumRetryCount":2}})",
       "maximum retry count cannot be used with restart policy 'always'"},
      {R"({"AutoRemove":true,"RestartPolicy":{"Name":"always"}})",
       "can't create 'AutoRemove' container with restart policy"},
      {R"({"AutoRemove":true,"RestartPolicy":{"Name":"no"}})", ""},
      {R"({"Memory":67108864,"MemorySwap":33554432})",
       "Minimum memoryswap limit should be larger than memory limit, see usage"},
      {R"({"Memory":67108864,"MemorySwap":-1})", ""},
      {R"({"MemorySwap":67108864})",
       "You should always set the Memory limit when using Memoryswap limit, see usage"},
      {R"({"MemoryReservation":1000})", "Minimum memory reservation allowed is 6MB"},
      {R"({"Memory":10000000,"MemoryReservation":20000000})",
       "Minimum memory limit can not be less than memory reservation limit, see usage"},
      {R"({"NanoCpus":500000000,"CpuPeriod":100000})",
       "Conflicting options: Nano CPUs and CPU Period cannot both be set"},
      {R"({"NanoCpus":500000000,"CpuQuota":50000})",
       "Conflicting options: Nano CPUs and CPU Quota cannot both be set"},
      {R"({"CpuPeriod":100})",
       "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"},
      {R"({"CpuQuota":100})", "CPU cfs quota can not be less than 1ms (i.e. 1000)"},
      {R"({"CpuPeriod":100000,"CpuQuota":50000})", ""},
      {R"({"MemorySwappiness":101})", "Invalid value: 101, valid memory swappiness range is 0-100"},
      {R"({"MemorySwappiness":-2})", "Invalid value: -2, valid memory swappiness range is 0-100"},
      {R"({"MemorySwappiness":-1})", ""},
      {R"({"CapAdd":["net_admin","CAP_SYS_TIME","ALL"]})", ""},
      {R"({"CapAdd":["FOO"]})", "invalid CapAdd: unknown capability: \"CAP_FOO\""},
      {R"({"CapDrop":["cap_bar"]})", "invalid CapDrop: unknown capability: \"CAP_BAR\""},
      {R"({"SecurityOpt":["no-new-privileges","seccomp=unconfined"]})", ""},
      {R"({"SecurityOpt":["foo"]})", "invalid --security-opt 1: \"foo\""},
      {R"({"SecurityOpt":["foo=bar"]})", "invalid --security-opt 2: \"foo=bar\""},
      {R"({"SecurityOpt":["no-new-privileges=maybe"]})",
       "invalid --security-opt 2: \"no-new-privileges=maybe\""},
      {R"({"ShmSize":-1})", "SHM size can not be less than 0"},
      {R"({"OomScoreAdj":1001})", "Invalid value 1001, range for oom score adj is [-1000, 1000]"},
      {R"({"IpcMode":"weird"})", "invalid IPC mode: weird"},
      {R"({"CgroupnsMode":"weird"})", "invalid cgroup namespace mode: weird"},
      {R"({"Ulimits":[{"Name":"nofile","Soft":2048,"Hard":1024}]})",
       "ulimit soft limit must be less than or equal to hard limit: 2048 > 1024"},
      {R"({"Ulimits":[{"Name":"bogus","Soft":1,"Hard":1}]})", "invalid ulimit type: bogus"},
      {R"({"Tmpfs":{"run":""}})",
       "invalid mount config for type \"tmpfs\": invalid mount path: 'run' mount path must be "
       "absolute"},
  };
  for (const auto& row : rows) {
    EXPECT_EQ(validation_error(row.host_config), row.message) << row.host_config;
  }
}

TEST(ValidateConfig, Rows) {
  ContainerConfig c;
  EXPECT_TRUE(validate_config(c).has_value());
  c.working_dir = "relative";
  auto r = validate_config(c);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(),
            "the working directory 'relative' is invalid, it needs to be an absolute path");
  c.working_dir = "/ok";
  c.env = std::vector<std::string>{"A=1", "=x"};
  r = validate_config(c);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(), "invalid environment variable: =x");
  c.env.reset();
  for (const char* ok : {"SIGTERM", "term", "9", "SIGRTMIN+3"}) {
    c.stop_signal = ok;
    EXPECT_TRUE(validate_config(c).has_value()) << ok;
  }
  c.stop_signal = "SIGFOO";
  r = validate_config(c);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(), "Invalid signal: SIGFOO");
}

TEST(ApplyCreateDefaults, Rows) {
  HostConfig hc;
  hc.memory = 64 << 20;
  hc.pids_limit = -1;
  apply_create_defaults(hc, /*cgroup_v2=*/true);
  EXPECT_EQ(hc.memory_swap, 128 << 20);  // dockerd stores 2 x Memory
  EXPECT_EQ(hc.shm_size, 67108864);
  EXPECT_EQ(hc.ipc_mode, "private");
  EXPECT_EQ(hc.cgroupns_mode, "private");
  EXPECT_FALSE(hc.pids_limit.has_value());
  EXPECT_EQ(hc.log_type, "json-file");
  ASSERT_TRUE(hc.masked_paths.has_value());
  EXPECT_EQ(hc.masked_paths->size(), 10u);

  HostConfig priv;
  priv.privileged = true;
  priv.shm_size = 1 << 20;
  priv.ipc_mode = "host";
  apply_create_defaults(priv, /*cgroup_v2=*/false);
  EXPECT_FALSE(priv.masked_paths.has_value());
  EXPECT_FALSE(priv.readonly_paths.has_value());
  EXPECT_EQ(priv.shm_size, 1 << 20);
  EXPECT_EQ(priv.ipc_mode, "host");
  EXPECT_EQ(priv.cgroupns_mode, "host");
  EXPECT_EQ(priv.to_json()["MaskedPaths"], nullptr);
}

TEST(ParseSize, Rows) {
  struct Row {
    const char* text;
    int64_t bytes;  // -1: invalid
  };
  const Row rows[] = {
      {"100", 100},
      {"512k", 512 * 1024},
      {"10m", 10 * 1024 * 1024},
      {"64MB", 64LL * 1024 * 1024},
      {"1g", 1024LL * 1024 * 1024},
      {"1 GiB", 1024LL * 1024 * 1024},
      {"1.5k", 1536},
      {"2T", 2LL << 40},
      {"", -1},
      {"abc", -1},
      {"-1", -1},
      {"10x", -1},
      {"1.2.3m", -1},
      {"m", -1},
  };
  for (const auto& row : rows) {
    auto r = parse_size(row.text);
    if (row.bytes < 0) {
      ASSERT_FALSE(r.has_value()) << row.text;
      EXPECT_EQ(r.error().message(), fmt::format("invalid size: '{}'", row.text));
    } else {
      ASSERT_TRUE(r.has_value()) << row.text;
      EXPECT_EQ(*r, row.bytes) << row.text;
    }
  }
}

TEST(SecurityOpts, Rows) {
  auto r = parse_security_opts({"no-new-privileges:true", "seccomp={\"defaultAction\":\"x\"}"});
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->no_new_privileges);
  EXPECT_EQ(r->seccomp_profile, "{\"defaultAction\":\"x\"}");
  r = parse_security_opts({"no-new-privileges", "no-new-privileges=false"});
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->no_new_privileges);
  r = parse_security_opts({"seccomp:unconfined"});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->seccomp_profile, "unconfined");
}

TEST(NormalizeCapabilities, Rows) {
  auto r = normalize_capabilities({"net_admin", "CAP_SYS_TIME", "all", "Chown"});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, (std::vector<std::string>{"CAP_NET_ADMIN", "CAP_SYS_TIME", "ALL", "CAP_CHOWN"}));
  auto bad = normalize_capabilities({"cap_nope"});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(), "unknown capability: \"CAP_NOPE\"");
}

}  // namespace
}  // namespace mydocker::engine
