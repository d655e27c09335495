// SPDX-License-Identifier: Apache-2.0
// Root tests of the rootfs setup: a forked child unshares the mount, pid, uts, ipc and net
// namespaces, forks again (to be PID 1 of the new pid namespace, so procfs is its own), runs
// prepare_rootfs + pivot_into + finalize_rootfs on a copy of the busybox rootfs, and reports
// what it sees from inside as key=value lines on a pipe. The test asserts on those, and on the
// host: its mount table and /etc must be exactly as before.
#include "runtime/mount/rootfs.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "runtime/base/file.h"
#include "runtime/base/strings.h"
#include "tests/support/busybox_rootfs.h"
#include "tests/support/require.h"

namespace mydocker::runtime::mount {
namespace {

using Report = std::map<std::string, std::string>;

class Reporter {
 public:
  explicit Reporter(int fd) : fd_(fd) {}
  // One line per key; newlines in values travel as \x01 (read_report turns them back).
  void put(const std::string& key, const std::string& value) {
    std::string line = key + "=" + value;
    std::replace(line.begin(), line.end(), '\n', '\x01');
    line += '\n';
    (void)base::write_all(fd_, line);
  }

 private:
  int fd_;
};

std::string errno_name(int err) {
  const char* n = ::strerrorname_np(err);
  return n != nullptr ? n : std::to_string(err);
}

// "ok" or the errno name of a failing call.
std::string outcome(int rc) {
  return rc >= 0 ? "ok" : errno_name(errno);
}

std::string open_outcome(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
  if (fd < 0) {
    return errno_name(errno);
  }
  ::close(fd);
  return "ok";
}

std::string read_link(const std::string& path) {
  char buf[4096];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  return n < 0 ? errno_name(errno) : std::string(buf, static_cast<size_t>(n));
}

std::string node_kind(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return errno_name(errno);
  }
  if (S_ISCHR(st.st_mode)) {
    return "char " + std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev));
  }
  if (S_ISDIR(st.st_mode)) {
    return "dir";
  }
  if (S_ISREG(st.st_mode)) {
    return "file";
  }
  return "other";
}

bool is_readonly(const std::string& path) {
  struct statvfs st {};
  return ::statvfs(path.c_str(), &st) == 0 && (st.f_flag & ST_RDONLY) != 0;
}

std::string mountinfo() {
  return base::read_file("/proc/self/mountinfo").value_or("");
}

std::vector<std::string> mount_points(const std::string& info) {
  std::vector<std::string> out;
  for (const auto& line : base::split(info, '\n')) {
    auto f = base::split(line, ' ');
    if (f.size() > 4) {
      out.push_back(f[4]);
    }
  }
  return out;
}

// Maps the container's root to the host's (euid 0 here): the one mapping a process may write
// for itself from inside its new user namespace.
bool enter_user_namespace(Reporter& rep) {
  if (::unshare(CLONE_NEWUSER) != 0) {
    rep.put("harness", "unshare user: " + errno_name(errno));
    return false;
  }
  auto r = base::write_file("/proc/self/uid_map", "0 0 1\n");
  if (r) {
    r = base::write_file("/proc/self/setgroups", "deny");
  }
  if (r) {
    r = base::write_file("/proc/self/gid_map", "0 0 1\n");
  }
  if (!r) {
    rep.put("harness", r.error().to_string());
    return false;
  }
  return true;
}

struct Isolation {
  bool user = false;  // a user namespace of its own, owning the other namespaces
  int extra_flags = 0;
  int dropped_flags = 0;  // of the default mount, pid, uts, ipc and net
};

// Runs `body` as PID 1 of fresh namespaces; returns what it reported plus "exit".
Report run_in_container(const std::function<void(Reporter&)>& body, Isolation iso = {}) {
  auto pipe = base::make_pipe();
  if (!pipe) {
    return {{"harness", pipe.error().to_string()}};
  }
  pid_t child = ::fork();
  if (child < 0) {
    return {{"harness", "fork failed"}};
  }
  if (child == 0) {
    // Only _exit from here on: exit() would run the parent's atexit handlers (the shared
    // busybox fixture would delete itself).
    pipe->read.reset();
    Reporter rep(pipe->write.get());
    if (iso.user && !enter_user_namespace(rep)) {
      ::_exit(119);
    }
    int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET;
    if (::unshare((flags & ~iso.dropped_flags) | iso.extra_flags) != 0) {
      rep.put("harness", "unshare: " + errno_name(errno));
      ::_exit(120);
    }
    pid_t init = ::fork();
    if (init < 0) {
      ::_exit(121);
    }
    if (init == 0) {
      body(rep);
      ::_exit(0);
    }
    int status = 0;
    if (::waitpid(init, &status, 0) != init) {
      ::_exit(122);
    }
    ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  }
  pipe->write.reset();
  std::string text = base::read_all(pipe->read.get()).value_or("");
  int status = 0;
  ::waitpid(child, &status, 0);
  Report report;
  for (const auto& line : base::split(text, '\n')) {
    auto eq = line.find('=');
    if (eq != std::string::npos) {
      std::string value = line.substr(eq + 1);
      std::replace(value.begin(), value.end(), '\x01', '\n');
      report[line.substr(0, eq)] = value;
    }
  }
  report["exit"] = std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  return report;
}

// prepare + pivot + finalize, reporting "setup=ok" or the error; false on error. `planned`:
// ops planned earlier (else plan(spec) now).
bool set_up_rootfs(Reporter& rep, const spec::Spec& spec,
                   const std::vector<MountOp>* planned = nullptr) {
  auto ops = planned != nullptr ? base::Result<std::vector<MountOp>>(*planned) : plan(spec);
  if (!ops) {
    rep.put("setup", "plan: " + ops.error().to_string());
    return false;
  }
  auto r = prepare_rootfs(spec, *ops);
  if (!r) {
    rep.put("setup", r.error().to_string());
    return false;
  }
  r = pivot_into(spec.root.path);
  if (!r) {
    rep.put("setup", r.error().to_string());
    return false;
  }
  r = finalize_rootfs(spec);
  if (!r) {
    rep.put("setup", r.error().to_string());
    return false;
  }
  rep.put("setup", "ok");
  return true;
}

std::vector<spec::Mount> runc_default_mounts() {
  return {
      {"/proc", "proc", "proc", {}},
      {"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}},
      {"/dev/pts",
       "devpts",
       "devpts",
       {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
      {"/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
      {"/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}},
      {"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}},
      {"/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}},
  };
}

class RootMountTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MYDOCKER_REQUIRE(testing::Need::Root);
    rootfs_ = testing::copy_rootfs(tmp_.path());
    host_mounts_ = mountinfo();
    host_etc_ = list_dir("/etc");
  }

  void TearDown() override {
    if (host_mounts_.empty()) {
      return;  // skipped
    }
    force_open_in_root_fallback_for_test(false);
    EXPECT_EQ(mountinfo(), host_mounts_) << "the host's mount table changed";
    EXPECT_EQ(list_dir("/etc"), host_etc_) << "the host's /etc changed";
  }

  static std::string list_dir(const std::string& dir) {
    std::error_code ec;
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
      names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return base::join(names, "\n");
  }

  spec::Spec base_spec() const {
    spec::Spec s;
    s.root.path = rootfs_;
    s.mounts = runc_default_mounts();
    s.linux.namespaces = {{spec::NamespaceType::Pid, ""},
                          {spec::NamespaceType::Mount, ""},
                          {spec::NamespaceType::Uts, ""},
                          {spec::NamespaceType::Ipc, ""},
                          {spec::NamespaceType::Network, ""}};
    return s;
  }

  testing::TempDir tmp_;
  std::string rootfs_;
  std::string host_mounts_;
  std::string host_etc_;
};

TEST_F(RootMountTest, RuncDefaultsWithReadonlyRootAndBind) {
  std::string vol = tmp_.path() + "/vol";
  ASSERT_TRUE(base::mkdir_all(vol));
  ASSERT_TRUE(base::write_file(vol + "/hello", "hello from the host", O_CREAT));
  std::string file = tmp_.path() + "/hostfile";
  ASSERT_TRUE(base::write_file(file, "a file", O_CREAT));

  spec::Spec spec = base_spec();
  spec.root.readonly = true;
  // Docker's proc options (runc's default has none): readonlyPaths must keep them.
  spec.mounts[0].options = {"nosuid", "noexec", "nodev"};
  spec.mounts.push_back({"/data", "bind", vol, {"rbind", "ro", "nosuid"}});
  spec.mounts.push_back({"etc/hostfile", "bind", file, {"bind", "ro"}});
  spec.mounts.push_back({"/scratch", "tmpfs", "tmpfs", {"size=1m"}});
  spec.linux.masked_paths = {"/proc/acpi",        "/proc/asound",     "/proc/kcore",
                             "/proc/keys",        "/proc/timer_list", "/proc/sched_debug",
                             "/proc/no-such-one", "/sys/firmware",    "/proc/scsi"};
  spec.linux.readonly_paths = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                               "/proc/sysrq-trigger"};
  spec.linux.devices = {{"/dev/fuse", 'c', 10, 229, 0600, 0, 0}};
  std::string host_tmp = tmp_.path();
  bool host_has_kcore = base::path_exists("/proc/kcore");
  bool host_has_memory_cgroup = base::path_exists("/sys/fs/cgroup/memory/memory.limit_in_bytes");

  Report r = run_in_container([&](Reporter& rep) {
    if (!set_up_rootfs(rep, spec)) {
      return;
    }
    rep.put("pid", std::to_string(::getpid()));
    for (const char* masked : {"kcore", "keys", "timer_list"}) {
      std::string path = std::string("/proc/") + masked;
      char buf[64];
      int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      rep.put(std::string(masked) + "_read",
              fd < 0 ? errno_name(errno) : std::to_string(::read(fd, buf, sizeof buf)));
      if (fd >= 0) {
        ::close(fd);
      }
      rep.put(std::string(masked) + "_node", node_kind(path));
    }
    rep.put("proc_sys_open_write", open_outcome("/proc/sys/kernel/hostname", O_WRONLY));
    rep.put("proc_irq_ro", std::to_string(is_readonly("/proc/irq")));
    rep.put("proc_sys_nosuid", [] {
      struct statvfs st {};
      return ::statvfs("/proc/sys", &st) == 0 && (st.f_flag & ST_NOSUID) != 0 ? "1" : "0";
    }());
    rep.put("proc_acpi_ro", std::to_string(is_readonly("/proc/acpi")));
    rep.put("sys_firmware", std::to_string(is_readonly("/sys/firmware")) +
                                (list_dir("/sys/firmware").empty() ? " empty" : " not-empty"));
    rep.put("root_create", open_outcome("/newfile", O_CREAT | O_WRONLY));
    rep.put("root_mkdir", outcome(::mkdir("/newdir", 0755)));
    rep.put("data_read", base::read_file("/data/hello").value_or("unreadable"));
    rep.put("data_create", open_outcome("/data/new", O_CREAT | O_WRONLY));
    struct statvfs st {};
    rep.put("data_nosuid",
            ::statvfs("/data", &st) == 0 && (st.f_flag & ST_NOSUID) != 0 ? "1" : "0");
    rep.put("hostfile_read", base::read_file("/etc/hostfile").value_or("unreadable"));
    rep.put("hostfile_write", open_outcome("/etc/hostfile", O_WRONLY));
    rep.put("scratch_write", outcome(::mkdir("/scratch/x", 0755)));
    rep.put("shm_write", open_outcome("/dev/shm/x", O_CREAT | O_WRONLY));
    rep.put("sys_ro", std::to_string(is_readonly("/sys")));
    rep.put("cgroup_ro", std::to_string(is_readonly("/sys/fs/cgroup")));
    rep.put("cgroup_memory", node_kind("/sys/fs/cgroup/memory/memory.limit_in_bytes"));
    rep.put("cgroup_memory_ro", std::to_string(is_readonly("/sys/fs/cgroup/memory")));
    rep.put("dev_null", node_kind("/dev/null"));
    rep.put("dev_null_write", open_outcome("/dev/null", O_WRONLY));
    rep.put("dev_zero", node_kind("/dev/zero"));
    rep.put("dev_urandom", node_kind("/dev/urandom"));
    rep.put("dev_tty", node_kind("/dev/tty"));
    rep.put("dev_fuse", node_kind("/dev/fuse"));
    struct stat fuse {};
    rep.put("dev_fuse_mode", ::stat("/dev/fuse", &fuse) == 0
                                 ? fmt::format("{:o}", fuse.st_mode & 07777)
                                 : errno_name(errno));
    rep.put("dev_fd", read_link("/dev/fd"));
    rep.put("dev_stdin", read_link("/dev/stdin"));
    rep.put("dev_stderr", read_link("/dev/stderr"));
    rep.put("dev_ptmx", read_link("/dev/ptmx"));
    rep.put("dev_pts_ptmx", node_kind("/dev/pts/ptmx"));
    rep.put("dev_self_fd", node_kind("/dev/fd/"));
    rep.put("host_tmp_visible", node_kind(host_tmp));
    std::string foreign;
    for (const auto& mp : mount_points(mountinfo())) {
      bool expected = mp == "/" || mp.rfind("/proc", 0) == 0 || mp.rfind("/dev", 0) == 0 ||
                      mp.rfind("/sys", 0) == 0 || mp == "/data" || mp == "/etc/hostfile" ||
                      mp == "/scratch";
      if (!expected) {
        foreign += mp + " ";
      }
    }
    rep.put("foreign_mounts", foreign);
  });

  ASSERT_EQ(r["setup"], "ok");
  EXPECT_EQ(r["exit"], "0");
  EXPECT_EQ(r["pid"], "1");
  // Masked: /proc/kcore is /dev/null, directories are empty read-only tmpfs, missing skipped.
  if (host_has_kcore) {
    EXPECT_EQ(r["kcore_read"], "0");
    EXPECT_EQ(r["kcore_node"], "char 1:3");
  } else {
    EXPECT_EQ(r["kcore_read"], "ENOENT");  // this kernel has none: skipped, not an error
  }
  EXPECT_EQ(r["keys_read"], "0");
  EXPECT_EQ(r["keys_node"], "char 1:3");
  EXPECT_EQ(r["timer_list_read"], "0");
  EXPECT_EQ(r["timer_list_node"], "char 1:3");
  EXPECT_EQ(r["sys_firmware"], "1 empty");
  EXPECT_EQ(r["proc_sys_open_write"], "EROFS");
  EXPECT_EQ(r["proc_irq_ro"], "1");
  EXPECT_EQ(r["proc_sys_nosuid"], "1") << "readonlyPaths must keep nosuid";
  EXPECT_EQ(r["root_create"], "EROFS");
  EXPECT_EQ(r["root_mkdir"], "EROFS");
  EXPECT_EQ(r["data_read"], "hello from the host");
  EXPECT_EQ(r["data_create"], "EROFS");
  EXPECT_EQ(r["data_nosuid"], "1");
  EXPECT_EQ(r["hostfile_read"], "a file");
  EXPECT_EQ(r["hostfile_write"], "EROFS");
  EXPECT_EQ(r["scratch_write"], "ok");
  EXPECT_EQ(r["shm_write"], "ok");
  EXPECT_EQ(r["sys_ro"], "1");
  EXPECT_EQ(r["cgroup_ro"], "1");
  if (host_has_memory_cgroup) {
    EXPECT_EQ(r["cgroup_memory"], "file");
    EXPECT_EQ(r["cgroup_memory_ro"], "1");
  }
  EXPECT_EQ(r["dev_null"], "char 1:3");
  EXPECT_EQ(r["dev_null_write"], "ok");
  EXPECT_EQ(r["dev_zero"], "char 1:5");
  EXPECT_EQ(r["dev_urandom"], "char 1:9");
  EXPECT_EQ(r["dev_tty"], "char 5:0");
  EXPECT_EQ(r["dev_fuse"], "char 10:229");
  EXPECT_EQ(r["dev_fuse_mode"], "600");
  EXPECT_EQ(r["dev_fd"], "/proc/self/fd");
  EXPECT_EQ(r["dev_stdin"], "/proc/self/fd/0");
  EXPECT_EQ(r["dev_stderr"], "/proc/self/fd/2");
  EXPECT_EQ(r["dev_ptmx"], "pts/ptmx");
  EXPECT_EQ(r["dev_pts_ptmx"], "char 5:2");
  EXPECT_EQ(r["dev_self_fd"], "dir");
  EXPECT_EQ(r["host_tmp_visible"], "ENOENT") << "the old root is still reachable";
  EXPECT_EQ(r["foreign_mounts"], "");
  // Nothing was created in the image's own files either: /dev is a tmpfs.
  EXPECT_FALSE(base::path_exists(rootfs_ + "/dev/null"));
}

// An image that points a directory at the host's /etc (absolute or by `..`) gets its mounts
// inside its own /etc. Checked through openat2 and through the fallback walk.
class RootMountSymlinkTest : public RootMountTest, public ::testing::WithParamInterface<bool> {};

TEST_P(RootMountSymlinkTest, ImageSymlinksCannotRedirectMounts) {
  bool fallback = GetParam();
  force_open_in_root_fallback_for_test(fallback);
  ASSERT_EQ(::symlink("/etc", (rootfs_ + "/evil").c_str()), 0);
  ASSERT_EQ(::symlink("../../../../../../../etc", (rootfs_ + "/evil2").c_str()), 0);
  ASSERT_EQ(::symlink("/etc/passwd", (rootfs_ + "/evil-file").c_str()), 0);
  std::string vol = tmp_.path() + "/vol";
  ASSERT_TRUE(base::mkdir_all(vol));
  std::string name = "mydocker-evil-" + std::to_string(::getpid());

  spec::Spec spec = base_spec();
  spec.mounts.push_back({"/evil/" + name, "tmpfs", "tmpfs", {"size=1m"}});
  spec.mounts.push_back({"/evil2/" + name + "-bind/deeper", "bind", vol, {"rbind"}});
  std::string host_file = tmp_.path() + "/secret";
  ASSERT_TRUE(base::write_file(host_file, "overmounted", O_CREAT));
  spec.mounts.push_back({"/evil-file", "bind", host_file, {"bind", "ro"}});

  // plan() refuses the climbing symlink outright...
  auto refused = plan(spec);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().to_string(),
            fmt::format("mounts[8].destination `/evil2/{}-bind/deeper`: symlink `/evil2` -> "
                        "`../../../../../../../etc` escapes the root filesystem",
                        name));
  // ...and if the image only gets it after plan() (a shared volume, a race), prepare_rootfs
  // still keeps the mount inside.
  ASSERT_EQ(::rename((rootfs_ + "/evil2").c_str(), (rootfs_ + "/evil2-later").c_str()), 0);
  auto ops = plan(spec);
  ASSERT_TRUE(ops) << ops.error().to_string();
  ASSERT_EQ(::rename((rootfs_ + "/evil2-later").c_str(), (rootfs_ + "/evil2").c_str()), 0);

  Report r = run_in_container([&](Reporter& rep) {
    if (!set_up_rootfs(rep, spec, &*ops)) {
      return;
    }
    auto points = mount_points(mountinfo());
    auto mounted = [&](const std::string& p) {
      return std::find(points.begin(), points.end(), p) != points.end() ? "1" : "0";
    };
    rep.put("tmpfs_is_mount", mounted("/etc/" + name));
    rep.put("bind_is_mount", mounted("/etc/" + name + "-bind/deeper"));
    rep.put("file_is_mount", mounted("/etc/passwd"));
    rep.put("passwd", base::read_file("/etc/passwd").value_or("unreadable"));
  });

  ASSERT_EQ(r["setup"], "ok") << (fallback ? "fallback" : "openat2");
  EXPECT_EQ(r["tmpfs_is_mount"], "1");
  EXPECT_EQ(r["bind_is_mount"], "1");
  EXPECT_EQ(r["file_is_mount"], "1");
  // The file symlink led to the image's /etc/passwd, and that is what got overmounted.
  EXPECT_EQ(r["passwd"], "overmounted");
  // Inside the image, not on the host.
  EXPECT_TRUE(base::path_exists(rootfs_ + "/etc/" + name));
  EXPECT_TRUE(base::path_exists(rootfs_ + "/etc/" + name + "-bind/deeper"));
  EXPECT_FALSE(base::path_exists("/etc/" + name));
  EXPECT_FALSE(base::path_exists("/etc/" + name + "-bind"));
  // TearDown compares the host's mountinfo and /etc.
}

INSTANTIATE_TEST_SUITE_P(Resolvers, RootMountSymlinkTest, ::testing::Values(false, true),
                         [](const auto& p) { return p.param ? "fallback" : "openat2"; });

TEST_F(RootMountTest, SymlinkLoopFailsNamingTheMount) {
  spec::Spec spec = base_spec();
  spec.mounts.push_back({"/loop/x", "tmpfs", "tmpfs", {}});
  auto ops = plan(spec);  // before the loop exists: prepare_rootfs meets it
  ASSERT_TRUE(ops) << ops.error().to_string();
  ASSERT_EQ(::symlink("loop", (rootfs_ + "/loop").c_str()), 0);
  auto refused = plan(spec);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().to_string(),
            "mounts[7].destination `/loop/x`: Too many levels of symbolic links");

  Report r = run_in_container([&](Reporter& rep) { set_up_rootfs(rep, spec, &*ops); });
  EXPECT_EQ(r["setup"],
            "mount `tmpfs` on `/loop/x` (mounts[7]): resolve `/loop/x` inside the root: Too many "
            "levels of symbolic links");
}

TEST_F(RootMountTest, MountErrorsNameTheMountAndErrno) {
  spec::Spec spec = base_spec();
  spec.mounts.push_back({"/bad", "no-such-fs", "nothing", {}});
  Report r = run_in_container([&](Reporter& rep) { set_up_rootfs(rep, spec); });
  EXPECT_EQ(r["setup"], "mount `nothing` on `/bad` (mounts[7]): No such device");
}

TEST_F(RootMountTest, BoundDevIsLeftAlone) {
  spec::Spec spec;
  spec.root.path = rootfs_;
  spec.mounts = {{"/proc", "proc", "proc", {}}, {"/dev", "bind", "/dev", {"rbind"}}};
  Report r = run_in_container([&](Reporter& rep) {
    if (!set_up_rootfs(rep, spec)) {
      return;
    }
    rep.put("dev_fd", read_link("/dev/fd"));
    rep.put("dev_null", node_kind("/dev/null"));
  });
  ASSERT_EQ(r["setup"], "ok");
  EXPECT_EQ(r["dev_null"], "char 1:3");
  // The host's /dev has its own fd link (udev makes it); what matters is no EEXIST failure.
  EXPECT_NE(r["dev_fd"], "");
}

TEST_F(RootMountTest, NoProcMeansMaskingByPath) {
  spec::Spec spec;
  spec.root.path = rootfs_;
  spec.mounts = {{"/dev", "tmpfs", "tmpfs", {"mode=755"}}};
  spec.linux.masked_paths = {"/etc/group", "/home"};
  spec.linux.readonly_paths = {"/var"};
  Report r = run_in_container([&](Reporter& rep) {
    if (!set_up_rootfs(rep, spec)) {
      return;
    }
    rep.put("group", base::read_file("/etc/group").value_or("unreadable"));
    rep.put("home_ro", std::to_string(is_readonly("/home")));
    rep.put("var_create", open_outcome("/var/x", O_CREAT | O_WRONLY));
    rep.put("tmp_create", open_outcome("/tmp/x", O_CREAT | O_WRONLY));
  });
  ASSERT_EQ(r["setup"], "ok");
  EXPECT_EQ(r["group"], "");
  EXPECT_EQ(r["home_ro"], "1");
  EXPECT_EQ(r["var_create"], "EROFS");
  EXPECT_EQ(r["tmp_create"], "ok");
}

// In a user namespace mknod is refused and devpts has no gid 5: the host's device nodes are
// bound instead and devpts mounts without gid; remounts keep the flags the kernel locked.
TEST_F(RootMountTest, UserNamespaceBindsDevices) {
  MYDOCKER_REQUIRE(testing::Need::UserNs);
  spec::Spec spec = base_spec();
  spec.root.readonly = true;
  spec.linux.namespaces.push_back({spec::NamespaceType::User, ""});
  spec.mounts.push_back({"/data", "bind", tmp_.path(), {"rbind", "ro"}});
  spec.linux.masked_paths = {"/proc/keys", "/proc/acpi"};
  spec.linux.readonly_paths = {"/proc/sys"};
  Report r = run_in_container(
      [&](Reporter& rep) {
        if (!set_up_rootfs(rep, spec)) {
          return;
        }
        rep.put("dev_null", node_kind("/dev/null"));
        rep.put("dev_null_write", open_outcome("/dev/null", O_WRONLY));
        rep.put("dev_ptmx", read_link("/dev/ptmx"));
        rep.put("keys_node", node_kind("/proc/keys"));
        rep.put("proc_sys_ro", std::to_string(is_readonly("/proc/sys")));
        rep.put("root_create", open_outcome("/newfile", O_CREAT | O_WRONLY));
        rep.put("data_create", open_outcome("/data/x", O_CREAT | O_WRONLY));
        auto points = mount_points(mountinfo());
        rep.put("dev_null_is_mount",
                std::find(points.begin(), points.end(), "/dev/null") != points.end() ? "1" : "0");
      },
      {.user = true});
  ASSERT_EQ(r["setup"], "ok") << r["harness"];
  EXPECT_EQ(r["dev_null"], "char 1:3");
  EXPECT_EQ(r["dev_null_is_mount"], "1") << "mknod should have failed in the user namespace";
  EXPECT_EQ(r["dev_null_write"], "ok");
  EXPECT_EQ(r["dev_ptmx"], "pts/ptmx");
  EXPECT_EQ(r["keys_node"], "char 1:3");
  EXPECT_EQ(r["proc_sys_ro"], "1");
  EXPECT_EQ(r["root_create"], "EROFS");
  EXPECT_EQ(r["data_create"], "EROFS");
}

// With a cgroup namespace, /sys/fs/cgroup holds fresh cgroupfs mounts rooted at the
// namespace's cgroup, read-only as asked.
TEST_F(RootMountTest, CgroupNamespaceMountsCgroupfs) {
  MYDOCKER_REQUIRE(testing::Need::CgroupV1);
  spec::Spec spec = base_spec();
  spec.linux.namespaces.push_back({spec::NamespaceType::Cgroup, ""});
  Report r = run_in_container(
      [&](Reporter& rep) {
        if (!set_up_rootfs(rep, spec)) {
          return;
        }
        rep.put("memory_limit", node_kind("/sys/fs/cgroup/memory/memory.limit_in_bytes"));
        rep.put("memory_ro", std::to_string(is_readonly("/sys/fs/cgroup/memory")));
        rep.put("memory_mkdir", outcome(::mkdir("/sys/fs/cgroup/memory/x", 0755)));
        rep.put("unified", node_kind("/sys/fs/cgroup/unified/cgroup.procs"));
        rep.put("systemd", node_kind("/sys/fs/cgroup/systemd/cgroup.procs"));
        std::string types;
        for (const auto& line : base::split(mountinfo(), '\n')) {
          auto f = base::split(line, ' ');
          if (f.size() > 4 && f[4] == "/sys/fs/cgroup/memory") {
            types = f[3];  // the mount's root inside the hierarchy
          }
        }
        rep.put("memory_root", types);
      },
      {.extra_flags = CLONE_NEWCGROUP});
  ASSERT_EQ(r["setup"], "ok") << r["harness"];
  EXPECT_EQ(r["memory_limit"], "file");
  EXPECT_EQ(r["memory_ro"], "1");
  EXPECT_EQ(r["memory_mkdir"], "EROFS");
  EXPECT_EQ(r["unified"], "file");
  EXPECT_EQ(r["systemd"], "file");
  EXPECT_EQ(r["memory_root"], "/");
}

TEST_F(RootMountTest, PropagationAndRecursiveOptions) {
  std::string vol = tmp_.path() + "/vol";
  ASSERT_TRUE(base::mkdir_all(vol + "/sub"));
  spec::Spec spec = base_spec();
  spec.linux.rootfs_propagation = "rslave";
  spec.mounts.push_back({"/vol", "bind", vol, {"rbind", "rro", "rshared"}});
  spec.mounts.push_back({"/vol/sub", "tmpfs", "tmpfs", {"size=1m"}});
  spec.mounts.push_back({"/priv", "tmpfs", "tmpfs", {"size=1m", "unbindable"}});
  Report r = run_in_container([&](Reporter& rep) {
    if (!set_up_rootfs(rep, spec)) {
      return;
    }
    for (const auto& line : base::split(mountinfo(), '\n')) {
      auto f = base::split(line, ' ');
      if (f.size() > 6 && (f[4] == "/vol" || f[4] == "/priv")) {
        rep.put(f[4].substr(1) + "_optional", f[6]);
      }
    }
    rep.put("vol_create", open_outcome("/vol/x", O_CREAT | O_WRONLY));
    rep.put("sub_create", open_outcome("/vol/sub/x", O_CREAT | O_WRONLY));
  });
  ASSERT_EQ(r["setup"], "ok");
  EXPECT_EQ(r["vol_optional"].rfind("shared:", 0), 0u) << r["vol_optional"];
  EXPECT_EQ(r["priv_optional"], "unbindable");
  EXPECT_EQ(r["vol_create"], "EROFS");
  // The tmpfs came after the rro bind: it is writable; rro covers what was bound.
  EXPECT_EQ(r["sub_create"], "ok");
}

TEST_F(RootMountTest, TmpfsCopyUpKeepsTheImageContent) {
  ASSERT_EQ(::symlink("passwd", (rootfs_ + "/etc/link").c_str()), 0);
  ASSERT_TRUE(base::mkdir_all(rootfs_ + "/etc/sub", 0750));
  ASSERT_TRUE(base::write_file(rootfs_ + "/etc/sub/secret", "s3cret", O_CREAT));
  ASSERT_EQ(::chmod((rootfs_ + "/etc/sub/secret").c_str(), 0600), 0);
  ASSERT_EQ(::chown((rootfs_ + "/etc/sub/secret").c_str(), 1, 2), 0);
  std::string passwd = base::read_file(rootfs_ + "/etc/passwd").value_or("?");
  spec::Spec spec = base_spec();
  spec.mounts.push_back({"/etc", "tmpfs", "tmpfs", {"tmpcopyup", "size=1m", "nosuid"}});
  Report r = run_in_container([&](Reporter& rep) {
    if (!set_up_rootfs(rep, spec)) {
      return;
    }
    auto points = mount_points(mountinfo());
    rep.put("etc_is_mount",
            std::find(points.begin(), points.end(), "/etc") != points.end() ? "1" : "0");
    rep.put("passwd", base::read_file("/etc/passwd").value_or("unreadable"));
    rep.put("link", read_link("/etc/link"));
    rep.put("secret", base::read_file("/etc/sub/secret").value_or("unreadable"));
    struct stat st {};
    ::stat("/etc/sub/secret", &st);
    rep.put("secret_meta", fmt::format("{:o} {}:{}", st.st_mode & 07777, st.st_uid, st.st_gid));
    ::stat("/etc/sub", &st);
    rep.put("sub_mode", fmt::format("{:o}", st.st_mode & 07777));
    rep.put("new_file", open_outcome("/etc/new", O_CREAT | O_WRONLY));
  });
  ASSERT_EQ(r["setup"], "ok");
  EXPECT_EQ(r["etc_is_mount"], "1");
  EXPECT_EQ(r["passwd"], passwd);
  EXPECT_EQ(r["link"], "passwd");
  EXPECT_EQ(r["secret"], "s3cret");
  EXPECT_EQ(r["secret_meta"], "600 1:2");
  EXPECT_EQ(r["sub_mode"], "750");
  EXPECT_EQ(r["new_file"], "ok");
  EXPECT_FALSE(base::path_exists(rootfs_ + "/etc/new")) << "written through to the image";
}

// /etc/resolv.conf -> ../run/resolv.conf with no /run in the image: the file bind lands on
// the symlink's target, created inside the rootfs.
TEST_F(RootMountTest, FileBindOntoDanglingSymlink) {
  ASSERT_EQ(::symlink("../run/systemd/resolv.conf", (rootfs_ + "/etc/resolv.conf").c_str()), 0);
  ASSERT_EQ(::symlink("/etc/nowhere", (rootfs_ + "/etc/hosts").c_str()), 0);
  std::string resolv = tmp_.path() + "/resolv.conf";
  ASSERT_TRUE(base::write_file(resolv, "nameserver 192.0.2.53\n", O_CREAT));
  spec::Spec spec = base_spec();
  spec.mounts.push_back({"/etc/resolv.conf", "bind", resolv, {"rbind", "ro"}});
  spec.mounts.push_back({"/etc/hosts", "bind", resolv, {"rbind"}});
  Report r = run_in_container([&](Reporter& rep) {
    if (!set_up_rootfs(rep, spec)) {
      return;
    }
    rep.put("resolv", base::read_file("/etc/resolv.conf").value_or("unreadable"));
    rep.put("hosts", base::read_file("/etc/hosts").value_or("unreadable"));
    rep.put("resolv_write", open_outcome("/etc/resolv.conf", O_WRONLY));
  });
  ASSERT_EQ(r["setup"], "ok");
  EXPECT_EQ(r["resolv"], "nameserver 192.0.2.53\n");
  EXPECT_EQ(r["hosts"], "nameserver 192.0.2.53\n");
  EXPECT_EQ(r["resolv_write"], "EROFS");
  EXPECT_TRUE(base::path_exists(rootfs_ + "/run/systemd/resolv.conf"));
  EXPECT_TRUE(base::path_exists(rootfs_ + "/etc/nowhere"));
  EXPECT_FALSE(base::path_exists("/etc/nowhere"));
}

// Without a network namespace of its own, a user namespace may not mount sysfs: the host's is
// bound instead, read-only as asked.
TEST_F(RootMountTest, UserNamespaceWithoutNetnsBindsSysfs) {
  MYDOCKER_REQUIRE(testing::Need::UserNs);
  spec::Spec spec = base_spec();
  spec.linux.namespaces.push_back({spec::NamespaceType::User, ""});
  // A fresh procfs needs the pid namespace to belong to the user namespace: it does here.
  Report r = run_in_container(
      [&](Reporter& rep) {
        if (!set_up_rootfs(rep, spec)) {
          return;
        }
        rep.put("sys_ro", std::to_string(is_readonly("/sys")));
        rep.put("sys_kernel", node_kind("/sys/kernel"));
        auto points = mount_points(mountinfo());
        rep.put("sys_mounted",
                std::find(points.begin(), points.end(), "/sys") != points.end() ? "1" : "0");
        // The rbind brought the host's /sys submounts along: its /sys/fs/cgroup lies under ours.
        rep.put("cgroup_stack",
                std::to_string(std::count(points.begin(), points.end(), "/sys/fs/cgroup")));
      },
      {.user = true, .dropped_flags = CLONE_NEWNET});
  ASSERT_EQ(r["setup"], "ok") << r["harness"];
  EXPECT_EQ(r["sys_ro"], "1");
  EXPECT_EQ(r["sys_kernel"], "dir");
  EXPECT_EQ(r["sys_mounted"], "1");
  auto host_points = mount_points(host_mounts_);
  bool host_has_cgroup_mount =
      std::find(host_points.begin(), host_points.end(), "/sys/fs/cgroup") != host_points.end();
  EXPECT_EQ(r["cgroup_stack"], host_has_cgroup_mount ? "2" : "1");
}

// A read-only /dev still gets its devices: it is remounted read-only at the end.
TEST_F(RootMountTest, ReadonlyDevGetsDevicesFirst) {
  spec::Spec spec = base_spec();
  spec.mounts[1].options.push_back("ro");
  Report r = run_in_container([&](Reporter& rep) {
    if (!set_up_rootfs(rep, spec)) {
      return;
    }
    rep.put("dev_null", node_kind("/dev/null"));
    rep.put("dev_ro", std::to_string(is_readonly("/dev")));
    rep.put("dev_create", open_outcome("/dev/new", O_CREAT | O_WRONLY));
    rep.put("shm_create", open_outcome("/dev/shm/new", O_CREAT | O_WRONLY));
  });
  ASSERT_EQ(r["setup"], "ok");
  EXPECT_EQ(r["dev_null"], "char 1:3");
  EXPECT_EQ(r["dev_ro"], "1");
  EXPECT_EQ(r["dev_create"], "EROFS");
  EXPECT_EQ(r["shm_create"], "ok");
}

TEST_F(RootMountTest, SharedRootfsPropagationStillPivots) {
  spec::Spec spec = base_spec();
  spec.linux.rootfs_propagation = "rshared";
  Report r = run_in_container([&](Reporter& rep) { set_up_rootfs(rep, spec); });
  EXPECT_EQ(r["setup"], "ok");
}

}  // namespace
}  // namespace mydocker::runtime::mount
