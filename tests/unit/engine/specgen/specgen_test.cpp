// SPDX-License-Identifier: Apache-2.0
#include "engine/specgen/specgen.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "runtime/base/file.h"
#include "runtime/spec/spec.h"
#include "tests/support/busybox_rootfs.h"

namespace mydocker::engine::specgen {
namespace {

using json = nlohmann::json;
using image::content::RunConfig;
using Strings = std::vector<std::string>;

bool has(const json& arr, std::string_view s) {
  return std::find(arr.begin(), arr.end(), json(s)) != arr.end();
}

const json* find_mount(const json& spec, std::string_view dest) {
  for (const auto& m : spec["mounts"]) {
    if (m["destination"] == dest) {
      return &m;
    }
  }
  return nullptr;
}

bool has_syscall(const json& seccomp, std::string_view name) {
  for (const auto& s : seccomp["syscalls"]) {
    if (s["action"] == "SCMP_ACT_ALLOW" && has(s["names"], name)) {
      return true;
    }
  }
  return false;
}

// A create body through the config parser, then generate(); the spec must parse in the
// runtime's own parser.
struct Gen {
  ContainerConfig config;
  HostConfig host_config;
  RunConfig image;
  bool with_image = false;
  Input input;

  explicit Gen(std::string_view body) {
    auto b = parse_create_body(body);
    EXPECT_TRUE(b.has_value()) << body;
    if (b.has_value()) {
      config = b->config;
      host_config = b->host_config;
    }
    apply_create_defaults(host_config, false);
    input.rootfs = "/nonexistent-rootfs";
    input.hostname = "0123456789ab";
    input.cgroups_path = "/mydocker/test";
    input.init_path = "/usr/bin/tini-static";
  }

  base::Result<json> run() {
    input.config = &config;
    input.host_config = &host_config;
    input.image = with_image ? &image : nullptr;
    auto spec = generate(input);
    if (spec.has_value()) {
      auto parsed = runtime::spec::parse(spec->dump());
      EXPECT_TRUE(parsed.has_value()) << parsed.error().message() << "\n" << spec->dump(2);
    }
    return spec;
  }

  json ok() {
    auto r = run();
    EXPECT_TRUE(r.has_value()) << r.error().message();
    return r.has_value() ? *r : json();
  }

  std::string error() {
    auto r = run();
    EXPECT_FALSE(r.has_value());
    return r.has_value() ? "" : r.error().message();
  }
};

TEST(ResolveCommand, Rows) {
  struct Row {
    std::optional<Strings> entrypoint, cmd, image_entrypoint, image_cmd;
    Strings want;  // empty: "No command specified"
  };
  const std::optional<Strings> none;
  const Row rows[] = {
      {none, Strings{"true"}, none, none, {"true"}},
      {none, none, none, Strings{"sh"}, {"sh"}},
      {none, Strings{"ls", "-l"}, Strings{"/ep"}, Strings{"def"}, {"/ep", "ls", "-l"}},
      {none, none, Strings{"/ep"}, Strings{"def"}, {"/ep", "def"}},
      // A client Entrypoint resets the image's Cmd.
      {Strings{"/bin/echo"}, none, Strings{"/ep"}, Strings{"def"}, {"/bin/echo"}},
      {Strings{"/bin/echo"}, Strings{"hi"}, none, Strings{"def"}, {"/bin/echo", "hi"}},
      // [""] clears the image's Entrypoint.
      {Strings{""}, Strings{"true"}, Strings{"/ep"}, none, {"true"}},
      {Strings{""}, none, Strings{"/ep"}, Strings{"def"}, {}},
      // [] keeps no Entrypoint but takes the image's Cmd.
      {Strings{}, none, Strings{"/ep"}, Strings{"def"}, {"def"}},
      {none, none, none, none, {}},
      {none, Strings{}, none, none, {}},
  };
  for (const auto& row : rows) {
    ContainerConfig c;
    c.entrypoint = row.entrypoint;
    c.cmd = row.cmd;
    RunConfig img;
    img.entrypoint = row.image_entrypoint;
    img.cmd = row.image_cmd;
    auto r = resolve_command(c, &img);
    if (row.want.empty()) {
      ASSERT_FALSE(r.has_value());
      EXPECT_EQ(r.error().message(), "No command specified");
      EXPECT_EQ(r.error().code(), base::ErrorCode::InvalidArgument);
      continue;
    }
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->path, row.want[0]);
    EXPECT_EQ(r->args, Strings(row.want.begin() + 1, row.want.end()));
  }
  ContainerConfig c;
  c.cmd = Strings{"a", "b"};
  auto r = resolve_command(c, nullptr);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->path, "a");
  EXPECT_EQ(r->args, Strings{"b"});
}

TEST(MergeImageConfig, DockerdMerge) {
  ContainerConfig c;
  c.env = Strings{"A=client", "C=3"};
  c.labels = {{"l", "client"}};
  RunConfig img;
  img.env = {"PATH=/img/bin", "A=image"};
  img.labels = {{"l", "image"}, {"m", "image"}};
  img.user = "nobody";
  img.working_dir = "/srv";
  img.stop_signal = "SIGQUIT";
  img.cmd = Strings{"serve"};
  merge_image_config(c, img);
  EXPECT_EQ(*c.env, (Strings{"A=client", "C=3", "PATH=/img/bin"}));
  EXPECT_EQ(c.labels.at("l"), "client");
  EXPECT_EQ(c.labels.at("m"), "image");
  EXPECT_EQ(c.user, "nobody");
  EXPECT_EQ(c.working_dir, "/srv");
  EXPECT_EQ(c.stop_signal, "SIGQUIT");
  EXPECT_EQ(*c.cmd, Strings{"serve"});
}

TEST(Generate, MinimalSpecShape) {
  Gen g(R"({"Image":"busybox","Cmd":["true"]})");
  json s = g.ok();
  EXPECT_EQ(s["process"]["args"], json(Strings{"true"}));
  EXPECT_EQ(s["process"]["cwd"], "/");
  EXPECT_EQ(s["process"]["user"]["uid"], 0);
  EXPECT_EQ(s["process"]["terminal"], false);
  EXPECT_EQ(s["process"]["noNewPrivileges"], false);
  EXPECT_EQ(s["process"]["capabilities"]["bounding"], json(default_capabilities()));
  EXPECT_EQ(s["hostname"], "0123456789ab");
  EXPECT_EQ(s["root"]["path"], "/nonexistent-rootfs");
  EXPECT_EQ(s["root"]["readonly"], false);
  EXPECT_EQ(s["linux"]["cgroupsPath"], "/mydocker/test");
  EXPECT_EQ(s["linux"]["maskedPaths"].size(), 10u);
  EXPECT_TRUE(has(s["linux"]["readonlyPaths"], "/proc/sys"));
  for (const char* d :
       {"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup"}) {
    EXPECT_NE(find_mount(s, d), nullptr) << d;
  }
  EXPECT_TRUE(has((*find_mount(s, "/sys"))["options"], "ro"));
  EXPECT_TRUE(has((*find_mount(s, "/dev/pts"))["options"], "newinstance"));
  EXPECT_TRUE(has((*find_mount(s, "/dev/shm"))["options"], "size=67108864"));
  json types = json::array();
  for (const auto& n : s["linux"]["namespaces"]) {
    types.push_back(n["type"]);
  }
  EXPECT_EQ(types, json(Strings{"pid", "network", "ipc", "uts", "mount"}));
  // Deny all, then the default devices.
  const json& devices = s["linux"]["resources"]["devices"];
  EXPECT_EQ(devices[0]["allow"], false);
  EXPECT_TRUE(std::any_of(devices.begin(), devices.end(), [](const json& d) {
    return d["allow"] == true && d.value("major", -1) == 1 && d.value("minor", -1) == 3;
  }));
  EXPECT_TRUE(s["linux"].contains("seccomp"));
  EXPECT_FALSE(s["linux"]["resources"].contains("memory"));
}

TEST(Generate, EnvMerge) {
  Gen g(
      R"({"Image":"busybox","Cmd":["true"],"Tty":true,"Env":["A=client","PATH=/client","UNSET"]})");
  g.with_image = true;
  g.image.env = {"A=image", "B=image", "UNSET=image"};
  json s = g.ok();
  // Docker's order: the daemon's defaults (client's PATH replacing in place), then the merged
  // client+image env; a bare client key hides the image's value and sets nothing.
  EXPECT_EQ(s["process"]["env"], json(Strings{"PATH=/client", "HOSTNAME=0123456789ab", "TERM=xterm",
                                              "A=client", "B=image", "HOME=/"}));
  EXPECT_EQ(s["process"]["terminal"], true);

  Gen plain(R"({"Image":"busybox","Cmd":["true"]})");
  json p = plain.ok();
  EXPECT_EQ(p["process"]["env"],
            json(Strings{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                         "HOSTNAME=0123456789ab", "HOME=/"}));
}

TEST(Generate, WorkingDirFromClientThenImage) {
  Gen g(R"({"Image":"busybox","Cmd":["true"]})");
  g.with_image = true;
  g.image.working_dir = "/srv";
  EXPECT_EQ(g.ok()["process"]["cwd"], "/srv");
  g.config.working_dir = "/work";
  EXPECT_EQ(g.ok()["process"]["cwd"], "/work");
}

TEST(Generate, NoCommand) {
  Gen g(R"({"Image":"busybox"})");
  EXPECT_EQ(g.error(), "No command specified");
}

json caps_of(std::string_view host_config) {
  Gen g(fmt::format(R"({{"Image":"busybox","Cmd":["true"],"HostConfig":{}}})", host_config));
  json s = g.ok();
  return s["process"]["capabilities"]["bounding"];
}

TEST(Generate, Capabilities) {
  json add = caps_of(R"({"CapAdd":["net_admin","CAP_SYS_TIME"]})");
  EXPECT_TRUE(has(add, "CAP_NET_ADMIN"));
  EXPECT_TRUE(has(add, "CAP_SYS_TIME"));
  EXPECT_TRUE(has(add, "CAP_CHOWN"));
  EXPECT_EQ(add.size(), 16u);

  json drop = caps_of(R"({"CapDrop":["chown","Cap_Kill"]})");
  EXPECT_FALSE(has(drop, "CAP_CHOWN"));
  EXPECT_FALSE(has(drop, "CAP_KILL"));
  EXPECT_EQ(drop.size(), 12u);

  json only = caps_of(R"({"CapDrop":["ALL"],"CapAdd":["NET_BIND_SERVICE"]})");
  EXPECT_EQ(only, json(Strings{"CAP_NET_BIND_SERVICE"}));

  json all = caps_of(R"({"CapAdd":["all"],"CapDrop":["SYS_ADMIN"]})");
  EXPECT_TRUE(has(all, "CAP_SYS_MODULE"));
  EXPECT_FALSE(has(all, "CAP_SYS_ADMIN"));

  json priv = caps_of(R"({"Privileged":true,"CapDrop":["ALL"]})");
  EXPECT_TRUE(has(priv, "CAP_SYS_ADMIN"));  // privileged ignores CapDrop, as dockerd
  EXPECT_GT(priv.size(), 37u);

  Gen bad(R"({"Image":"busybox","Cmd":["true"],"HostConfig":{"CapAdd":["BOGUS"]}})");
  EXPECT_EQ(bad.error(), "unknown capability: \"CAP_BOGUS\"");
}

TEST(Generate, Privileged) {
  Gen g(R"({"Image":"busybox","Cmd":["true"],"HostConfig":{"Privileged":true}})");
  json s = g.ok();
  EXPECT_FALSE(s["linux"].contains("seccomp"));
  EXPECT_FALSE(s["linux"].contains("maskedPaths"));
  EXPECT_FALSE(s["linux"].contains("readonlyPaths"));
  EXPECT_FALSE(has((*find_mount(s, "/sys"))["options"], "ro"));
  EXPECT_FALSE(has((*find_mount(s, "/sys/fs/cgroup"))["options"], "ro"));
  EXPECT_EQ(s["linux"]["resources"]["devices"], json::parse(R"([{"allow":true,"access":"rwm"}])"));
  // The host's device nodes, as runc's HostDevices lists them.
  bool has_null = false;
  for (const auto& d : s["linux"].value("devices", json::array())) {
    EXPECT_NE(d["path"], "/dev/console");
    EXPECT_NE(d["path"], "/dev/ptmx");
    EXPECT_EQ(d["path"].get<std::string>().rfind("/dev/pts/", 0), std::string::npos);
    if (d["path"] == "/dev/null") {
      has_null = true;
      EXPECT_EQ(d["type"], "c");
      EXPECT_EQ(d["major"], 1);
      EXPECT_EQ(d["minor"], 3);
    }
  }
  EXPECT_EQ(has_null, base::path_exists("/dev/null"));
}

TEST(Generate, SecurityOpts) {
  struct Row {
    const char* opts;
    bool nnp;
    bool seccomp;
    const char* error;
  };
  const Row rows[] = {
      {R"(["no-new-privileges"])", true, true, nullptr},
      {R"(["no-new-privileges:true"])", true, true, nullptr},
      {R"(["no-new-privileges=true"])", true, true, nullptr},
      {R"(["no-new-privileges:false"])", false, true, nullptr},
      {R"(["seccomp=unconfined"])", false, false, nullptr},
      {R"(["seccomp:unconfined"])", false, false, nullptr},
      {R"(["bogus"])", false, false, "invalid --security-opt 1: \"bogus\""},
      {R"(["bogus=1"])", false, false, "invalid --security-opt 2: \"bogus=1\""},
      {R"(["seccomp={not json"])", false, false, "Decoding seccomp profile failed: invalid JSON"},
  };
  for (const auto& row : rows) {
    Gen g(fmt::format(R"({{"Image":"busybox","Cmd":["true"],"HostConfig":{{"SecurityOpt":{}}}}})",
                      row.opts));
    if (row.error != nullptr) {
      EXPECT_EQ(g.error(), row.error) << row.opts;
      continue;
    }
    json s = g.ok();
    EXPECT_EQ(s["process"]["noNewPrivileges"], row.nnp) << row.opts;
    EXPECT_EQ(s["linux"].contains("seccomp"), row.seccomp) << row.opts;
  }
  // An inline profile (what the CLI sends after reading the file).
  json profile = {{"defaultAction", "SCMP_ACT_ALLOW"},
                  {"syscalls", {{{"names", {"mount"}}, {"action", "SCMP_ACT_ERRNO"}}}}};
  json opts = json::array({"seccomp=" + profile.dump()});
  Gen g(fmt::format(R"({{"Image":"busybox","Cmd":["true"],"HostConfig":{{"SecurityOpt":{}}}}})",
                    opts.dump()));
  json s = g.ok();
  EXPECT_EQ(s["linux"]["seccomp"]["defaultAction"], "SCMP_ACT_ALLOW");
  EXPECT_EQ(s["linux"]["seccomp"]["syscalls"][0]["names"], json(Strings{"mount"}));
}

TEST(Seccomp, DefaultProfileFiltersByCapsArchAndKernel) {
  const json& profile = default_seccomp_profile();
  ASSERT_TRUE(profile.is_object());
  SeccompHost amd64{"amd64", 6, 1};
  auto base_caps = default_capabilities();
  auto d = seccomp_from_docker_profile(profile, base_caps, amd64);
  ASSERT_TRUE(d.has_value()) << d.error().message();
  EXPECT_EQ(d->at("defaultAction"), "SCMP_ACT_ERRNO");
  EXPECT_EQ(d->at("architectures"),
            json(Strings{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}));
  EXPECT_TRUE(has_syscall(*d, "read"));
  EXPECT_FALSE(has_syscall(*d, "mount"));  // CAP_SYS_ADMIN only
  EXPECT_TRUE(has_syscall(*d, "arch_prctl"));
  EXPECT_FALSE(has_syscall(*d, "set_tls"));  // arm only
  EXPECT_TRUE(has_syscall(*d, "ptrace"));    // minKernel 4.8

  auto admin_caps = base_caps;
  admin_caps.push_back("CAP_SYS_ADMIN");
  auto a = seccomp_from_docker_profile(profile, admin_caps, amd64);
  ASSERT_TRUE(a.has_value());
  EXPECT_TRUE(has_syscall(*a, "mount"));

  auto arm = seccomp_from_docker_profile(profile, base_caps, SeccompHost{"arm64", 6, 1});
  ASSERT_TRUE(arm.has_value());
  EXPECT_EQ(arm->at("architectures"), json(Strings{"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"}));
  EXPECT_FALSE(has_syscall(*arm, "arch_prctl"));
  EXPECT_TRUE(has_syscall(*arm, "set_tls"));

  auto old = seccomp_from_docker_profile(profile, base_caps, SeccompHost{"amd64", 4, 4});
  ASSERT_TRUE(old.has_value());
  EXPECT_FALSE(has_syscall(*old, "ptrace"));

  // The result is what the runtime's parser accepts.
  json spec = json::parse(runtime::spec::default_spec_json(false));
  spec["linux"]["seccomp"] = *d;
  auto parsed = runtime::spec::parse(spec.dump());
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message();
  ASSERT_TRUE(parsed->linux.seccomp.has_value());
  EXPECT_FALSE(parsed->linux.seccomp->syscalls.empty());
}

TEST(Seccomp, MalformedProfiles) {
  auto caps = default_capabilities();
  SeccompHost h{"amd64", 6, 1};
  EXPECT_FALSE(seccomp_from_docker_profile(json::array(), caps, h).has_value());
  EXPECT_FALSE(seccomp_from_docker_profile(json::object(), caps, h).has_value());
  auto both = seccomp_from_docker_profile(
      json::parse(R"({"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],
                      "archMap":[{"architecture":"SCMP_ARCH_X86_64"}]})"),
      caps, h);
  ASSERT_FALSE(both.has_value());
  EXPECT_NE(both.error().message().find("use either 'architectures' or 'archMap'"),
            std::string::npos);
  auto bad_args = seccomp_from_docker_profile(
      json::parse(R"({"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["x"],
                      "action":"SCMP_ACT_ALLOW","args":[{"index":"0","op":"SCMP_CMP_EQ"}]}]})"),
      caps, h);
  EXPECT_FALSE(bad_args.has_value());
  auto name = seccomp_from_docker_profile(
      json::parse(R"({"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,
                      "syscalls":[{"name":"read","action":"SCMP_ACT_ALLOW"}]})"),
      caps, h);
  ASSERT_TRUE(name.has_value());
  EXPECT_EQ(name->at("defaultErrnoRet"), 1);
  EXPECT_EQ(name->at("syscalls")[0]["names"], json(Strings{"read"}));
}

TEST(Generate, Resources) {
  Gen g(
      R"({"Image":"busybox","Cmd":["true"],"HostConfig":{"Memory":67108864,"MemorySwap":134217728,"MemoryReservation":33554432,"NanoCpus":500000000,"CpuShares":512,"PidsLimit":64,"CpusetCpus":"0","Ulimits":[{"Name":"nofile","Soft":1024,"Hard":2048}]}})");
  g.input.default_ulimits = {{"nofile", 100, 200}, {"nproc", 50, 60}};
  json s = g.ok();
  const json& r = s["linux"]["resources"];
  EXPECT_EQ(r["memory"]["limit"], 67108864);
  EXPECT_EQ(r["memory"]["swap"], 134217728);
  EXPECT_EQ(r["memory"]["reservation"], 33554432);
  EXPECT_EQ(r["cpu"]["shares"], 512);
  EXPECT_EQ(r["cpu"]["period"], 100000);
  EXPECT_EQ(r["cpu"]["quota"], 50000);
  EXPECT_EQ(r["cpu"]["cpus"], "0");
  EXPECT_EQ(r["pids"]["limit"], 64);
  EXPECT_EQ(s["process"]["rlimits"],
            json::parse(R"([{"type":"RLIMIT_NOFILE","hard":2048,"soft":1024},
                            {"type":"RLIMIT_NPROC","hard":60,"soft":50}])"));

  Gen swap(R"({"Image":"busybox","Cmd":["true"],"HostConfig":{"Memory":67108864}})");
  EXPECT_EQ(swap.ok()["linux"]["resources"]["memory"]["swap"], 134217728);  // 2 x Memory
  Gen unlimited(
      R"({"Image":"busybox","Cmd":["true"],"HostConfig":{"Memory":67108864,"MemorySwap":-1}})");
  EXPECT_EQ(unlimited.ok()["linux"]["resources"]["memory"]["swap"], -1);
  Gen quota(
      R"({"Image":"busybox","Cmd":["true"],"HostConfig":{"CpuPeriod":50000,"CpuQuota":25000}})");
  json q = quota.ok();
  EXPECT_EQ(q["linux"]["resources"]["cpu"]["period"], 50000);
  EXPECT_EQ(q["linux"]["resources"]["cpu"]["quota"], 25000);
  Gen nopids(R"({"Image":"busybox","Cmd":["true"],"HostConfig":{"PidsLimit":-1}})");
  EXPECT_FALSE(nopids.ok()["linux"]["resources"].contains("pids"));
}

TEST(Generate, TmpfsReadonlyShmAndBinds) {
  Gen g(
      R"({"Image":"busybox","Cmd":["true"],"HostConfig":{"ReadonlyRootfs":true,"ShmSize":1048576,"Tmpfs":{"/run":"rw,exec,size=64m","/tmp":""}}})");
  g.input.hostname_path = "/var/lib/mydocker/containers/x/hostname";
  g.input.hosts_path = "/var/lib/mydocker/containers/x/hosts";
  g.input.resolv_conf_path = "/var/lib/mydocker/containers/x/resolv.conf";
  json s = g.ok();
  EXPECT_EQ(s["root"]["readonly"], true);
  const json* run = find_mount(s, "/run");
  ASSERT_NE(run, nullptr);
  EXPECT_EQ((*run)["type"], "tmpfs");
  EXPECT_EQ((*run)["options"], json(Strings{"nosuid", "nodev", "rw", "exec", "size=64m"}));
  const json* tmp = find_mount(s, "/tmp");
  ASSERT_NE(tmp, nullptr);
  EXPECT_EQ((*tmp)["options"], json(Strings{"noexec", "nosuid", "nodev"}));
  EXPECT_TRUE(has((*find_mount(s, "/dev/shm"))["options"], "size=1048576"));
  const json* hosts = find_mount(s, "/etc/hosts");
  ASSERT_NE(hosts, nullptr);
  EXPECT_EQ((*hosts)["source"], "/var/lib/mydocker/containers/x/hosts");
  EXPECT_TRUE(has((*hosts)["options"], "ro"));  // read-only rootfs: the binds too
  EXPECT_NE(find_mount(s, "/etc/hostname"), nullptr);
  EXPECT_NE(find_mount(s, "/etc/resolv.conf"), nullptr);

  // A tmpfs on /dev/shm replaces the default one.
  Gen shm(R"({"Image":"busybox","Cmd":["true"],"HostConfig":{"Tmpfs":{"/dev/shm":"size=1m"}}})");
  json t = shm.ok();
  int count = 0;
  for (const auto& m : t["mounts"]) {
    count += m["destination"] == "/dev/shm" ? 1 : 0;
  }
  EXPECT_EQ(count, 1);
  EXPECT_TRUE(has((*find_mount(t, "/dev/shm"))["options"], "size=1m"));

  Gen rel(R"({"Image":"busybox","Cmd":["true"],"HostConfig":{"Tmpfs":{"run":""}}})");
  EXPECT_NE(rel.error().find("mount path must be absolute"), std::string::npos);
}

TEST(Generate, Init) {
  Gen g(R"({"Image":"busybox","Cmd":["sleep","1"],"HostConfig":{"Init":true}})");
  json s = g.ok();
  EXPECT_EQ(s["process"]["args"], json(Strings{"/sbin/docker-init", "--", "sleep", "1"}));
  const json* m = find_mount(s, "/sbin/docker-init");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ((*m)["source"], "/usr/bin/tini-static");
  EXPECT_TRUE(has((*m)["options"], "ro"));
  g.input.init_path.clear();
  EXPECT_NE(g.error().find("init"), std::string::npos);
}

TEST(Generate, NamespacesPerMode) {
  struct Row {
    const char* host_config;
    Strings want;
  };
  const Row rows[] = {
      {R"({})", {"pid", "network", "ipc", "uts", "mount"}},
      {R"({"NetworkMode":"host"})", {"pid", "ipc", "uts", "mount"}},
      {R"({"NetworkMode":"none"})", {"pid", "network", "ipc", "uts", "mount"}},
      {R"({"NetworkMode":"container:abc"})", {"pid", "network", "ipc", "uts", "mount"}},
      {R"({"PidMode":"host"})", {"network", "ipc", "uts", "mount"}},
      {R"({"IpcMode":"host"})", {"pid", "network", "uts", "mount"}},
      {R"({"UTSMode":"host"})", {"pid", "network", "ipc", "mount"}},
      {R"({"CgroupnsMode":"private"})", {"pid", "network", "ipc", "uts", "mount", "cgroup"}},
  };
  for (const auto& row : rows) {
    Gen g(fmt::format(R"({{"Image":"busybox","Cmd":["true"],"HostConfig":{}}})", row.host_config));
    json s = g.ok();
    Strings types;
    for (const auto& n : s["linux"]["namespaces"]) {
      types.push_back(n["type"]);
    }
    EXPECT_EQ(types, row.want) << row.host_config;
    EXPECT_EQ(s.contains("hostname"),
              std::string(row.host_config).find("UTS") == std::string::npos);
  }
  Gen ipc_host(R"({"Image":"busybox","Cmd":["true"],"HostConfig":{"IpcMode":"host"}})");
  EXPECT_EQ((*find_mount(ipc_host.ok(), "/dev/shm"))["type"], "bind");
  Gen joined(R"({"Image":"busybox","Cmd":["true"],"HostConfig":{"PidMode":"container:abc"}})");
  EXPECT_NE(joined.error().find("not supported"), std::string::npos);
}

TEST(ResolveUser, Rows) {
  const std::string passwd =
      "root:x:0:0:root:/root:/bin/sh\n"
      "# comment\n"
      "daemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
      "www:x:33:33:www:/var/www:/bin/false\n";
  const std::string group =
      "root:x:0:\n"
      "www:x:33:\n"
      "staff:x:50:www,daemon\n"
      "adm:x:4:www\n";
  struct Row {
    const char* user;
    uint32_t uid, gid;
    std::vector<uint32_t> extra;
    const char* home;
  };
  const Row rows[] = {
      {"", 0, 0, {}, "/"},
      {"root", 0, 0, {}, "/root"},
      {"www", 33, 33, {50, 4}, "/var/www"},
      {"33", 33, 33, {50, 4}, "/var/www"},
      {"1000", 1000, 0, {}, "/"},
      {"1000:1000", 1000, 1000, {}, "/"},
      {"www:staff", 33, 50, {}, "/var/www"},
      {"daemon:0", 1, 0, {}, "/usr/sbin"},
  };
  for (const auto& row : rows) {
    auto r = resolve_user(row.user, passwd, group);
    ASSERT_TRUE(r.has_value()) << row.user << ": " << r.error().message();
    EXPECT_EQ(r->uid, row.uid) << row.user;
    EXPECT_EQ(r->gid, row.gid) << row.user;
    EXPECT_EQ(r->additional_gids, row.extra) << row.user;
    EXPECT_EQ(r->home, row.home) << row.user;
  }
  auto missing = resolve_user("nobody", passwd, group);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().message(),
            "unable to find user nobody: no matching entries in passwd file");
  auto missing_group = resolve_user("www:nogroup", passwd, group);
  ASSERT_FALSE(missing_group.has_value());
  EXPECT_EQ(missing_group.error().message(),
            "unable to find group nogroup: no matching entries in group file");
  auto no_files = resolve_user("5:6", "", "");
  ASSERT_TRUE(no_files.has_value());
  EXPECT_EQ(no_files->uid, 5u);
  EXPECT_EQ(no_files->gid, 6u);
}

// The body docker CLI 28.2 sends for `docker create -m 64m --memory-swap 128m --cpus 0.5
// --cpu-shares 512 --pids-limit 64 --read-only --tmpfs /run:rw,size=1m --cap-add NET_ADMIN
// --cap-drop chown --security-opt no-new-privileges --ulimit nofile=10:20 --init --shm-size 1m
// --restart on-failure:3 -e A=1 -w /tmp -u nobody -h myhost -l k=v --entrypoint /bin/sh
// busybox -c true` (see tests/unit/engine/container/config_test.cpp).
constexpr const char* kCliBody =
    R"({"Hostname":"myhost","Domainname":"","User":"nobody","AttachStdin":false,"AttachStdout":true,"AttachStderr":true,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":["A=1"],"Cmd":["-c","true"],"Image":"busybox","Volumes":{},"WorkingDir":"/tmp","Entrypoint":["/bin/sh"],"OnBuild":null,"Labels":{"k":"v"},"HostConfig":{"Binds":null,"ContainerIDFile":"","LogConfig":{"Type":"","Config":{}},"NetworkMode":"default","PortBindings":{},"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":3},"AutoRemove":false,"VolumeDriver":"","VolumesFrom":null,"ConsoleSize":[0,0],"CapAdd":["CAP_NET_ADMIN"],"CapDrop":["CAP_CHOWN"],"CgroupnsMode":"","Dns":[],"DnsOptions":[],"DnsSearch":[],"ExtraHosts":null,"GroupAdd":null,"IpcMode":"","Cgroup":"","Links":null,"OomScoreAdj":0,"PidMode":"","Privileged":false,"PublishAllPorts":false,"ReadonlyRootfs":true,"SecurityOpt":["no-new-privileges"],"Tmpfs":{"/run":"rw,size=1m"},"UTSMode":"","UsernsMode":"","ShmSize":1048576,"Isolation":"","CpuShares":512,"Memory":67108864,"NanoCpus":500000000,"CgroupParent":"","BlkioWeight":0,"BlkioWeightDevice":[],"BlkioDeviceReadBps":[],"BlkioDeviceWriteBps":[],"BlkioDeviceReadIOps":[],"BlkioDeviceWriteIOps":[],"CpuPeriod":0,"CpuQuota":0,"CpuRealtimePeriod":0,"CpuRealtimeRuntime":0,"CpusetCpus":"","CpusetMems":"","Devices":[],"DeviceCgroupRules":null,"DeviceRequests":null,"MemoryReservation":0,"MemorySwap":134217728,"MemorySwappiness":-1,"OomKillDisable":false,"PidsLimit":64,"Ulimits":[{"Name":"nofile","Hard":20,"Soft":10}],"CpuCount":0,"CpuPercent":0,"IOMaximumIOps":0,"IOMaximumBandwidth":0,"MaskedPaths":null,"ReadonlyPaths":null,"Init":true},"NetworkingConfig":{"EndpointsConfig":{"default":{"IPAMConfig":null,"Links":null,"Aliases":null,"MacAddress":"","DriverOpts":null,"GwPriority":0,"NetworkID":"","EndpointID":"","Gateway":"","IPAddress":"","IPPrefixLen":0,"IPv6Gateway":"","GlobalIPv6Address":"","GlobalIPv6PrefixLen":0,"DNSNames":null}}}})";

TEST(Generate, DockerCliBody) {
  mydocker::testing::TempDir dir;
  ASSERT_TRUE(base::mkdir_all(dir.path() + "/etc", 0755).has_value());
  ASSERT_TRUE(base::write_file_atomic(dir.path() + "/etc/passwd",
                                      "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
                  .has_value());
  Gen g(kCliBody);
  g.input.rootfs = dir.path();
  g.input.hostname = "myhost";
  json s = g.ok();
  const json& p = s["process"];
  EXPECT_EQ(p["args"], json(Strings{"/sbin/docker-init", "--", "/bin/sh", "-c", "true"}));
  EXPECT_EQ(p["cwd"], "/tmp");
  EXPECT_EQ(p["user"]["uid"], 65534);
  EXPECT_EQ(p["noNewPrivileges"], true);
  EXPECT_TRUE(has(p["capabilities"]["bounding"], "CAP_NET_ADMIN"));
  EXPECT_FALSE(has(p["capabilities"]["bounding"], "CAP_CHOWN"));
  EXPECT_EQ(p["rlimits"], json::parse(R"([{"type":"RLIMIT_NOFILE","hard":20,"soft":10}])"));
  EXPECT_TRUE(has(p["env"], "A=1"));
  EXPECT_TRUE(has(p["env"], "HOSTNAME=myhost"));
  EXPECT_EQ(s["root"]["readonly"], true);
  EXPECT_EQ(s["linux"]["resources"]["memory"]["swap"], 134217728);
  EXPECT_FALSE(s["linux"]["resources"]["memory"].contains("swappiness"));
  EXPECT_EQ(s["linux"]["resources"]["cpu"]["quota"], 50000);
  EXPECT_TRUE(has((*find_mount(s, "/dev/shm"))["options"], "size=1048576"));
  EXPECT_NE(find_mount(s, "/run"), nullptr);
}

TEST(Generate, UserFromRootfsPasswd) {
  mydocker::testing::TempDir dir;
  ASSERT_TRUE(base::mkdir_all(dir.path() + "/etc", 0755).has_value());
  ASSERT_TRUE(
      base::write_file_atomic(dir.path() + "/etc/passwd",
                              "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n")
          .has_value());
  ASSERT_TRUE(base::write_file_atomic(dir.path() + "/etc/group", "app:x:1001:\nwheel:x:10:app\n")
                  .has_value());
  Gen g(R"({"Image":"busybox","Cmd":["id"],"User":"app"})");
  g.input.rootfs = dir.path();
  json s = g.ok();
  EXPECT_EQ(s["process"]["user"], json::parse(R"({"uid":1000,"gid":1001,"additionalGids":[10]})"));
  EXPECT_TRUE(has(s["process"]["env"], "HOME=/home/app"));

  Gen groups(
      R"({"Image":"busybox","Cmd":["id"],"User":"app","HostConfig":{"GroupAdd":["wheel","app","42"]}})");
  groups.input.rootfs = dir.path();
  EXPECT_EQ(groups.ok()["process"]["user"]["additionalGids"], json::parse("[10,1001,42]"));
  Gen bad_group(R"({"Image":"busybox","Cmd":["id"],"HostConfig":{"GroupAdd":["nosuch"]}})");
  bad_group.input.rootfs = dir.path();
  EXPECT_EQ(bad_group.error(), "unable to find group nosuch: no matching entries in group file");

  Gen root(R"({"Image":"busybox","Cmd":["id"]})");
  root.input.rootfs = dir.path();
  EXPECT_TRUE(has(root.ok()["process"]["env"], "HOME=/root"));

  Gen image_user(R"({"Image":"busybox","Cmd":["id"]})");
  image_user.input.rootfs = dir.path();
  image_user.with_image = true;
  image_user.image.user = "1000:10";
  EXPECT_EQ(image_user.ok()["process"]["user"], json::parse(R"({"uid":1000,"gid":10})"));

  Gen missing(R"({"Image":"busybox","Cmd":["id"],"User":"ghost"})");
  missing.input.rootfs = dir.path();
  EXPECT_EQ(missing.error(), "unable to find user ghost: no matching entries in passwd file");
}

}  // namespace
}  // namespace mydocker::engine::specgen
