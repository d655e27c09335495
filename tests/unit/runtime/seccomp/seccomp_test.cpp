// SPDX-License-Identifier: Apache-2.0
// Filters are loaded for real, each in a forked child (a filter cannot be removed), after
// PR_SET_NO_NEW_PRIVS so no privilege is needed. The child probes syscalls directly with
// syscall(2) (libc wrappers may use a different syscall, mkdir -> mkdirat) and reports one
// line per probe through a pipe.
#include "runtime/seccomp/seccomp.h"

#include <gtest/gtest.h>
#include <linux/filter.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <functional>
#include <nlohmann/json.hpp>

#include "runtime/base/fd.h"
#include "runtime/base/file.h"
#include "runtime/base/strings.h"
#include "runtime/spec/spec.h"
#include "tests/support/busybox_rootfs.h"

namespace mydocker::runtime::seccomp {
namespace {

using mydocker::testing::TempDir;

spec::Seccomp parse_seccomp(const nlohmann::json& seccomp) {
  nlohmann::json config = {
      {"ociVersion", "1.0.2"}, {"root", {{"path", "rootfs"}}}, {"linux", {{"seccomp", seccomp}}}};
  auto s = spec::parse(config.dump());
  EXPECT_TRUE(s) << s.error().to_string();
  return *s->linux.seccomp;
}

// mkdir(2) on `path` with `mode`: "0" on success, else the errno.
std::string probe_mkdir(const std::string& path, mode_t mode) {
  long rc = syscall(SYS_mkdir, path.c_str(), mode);
  return rc == 0 ? "0" : std::to_string(errno);
}

struct ChildResult {
  std::string output;  // what probe() returned, or the load error
  int wait_status = 0;
};

// Forks; the child sets no_new_privs, loads `p` and writes probe()'s answer to a pipe.
ChildResult run_filtered(const Program& p, const std::function<std::string()>& probe) {
  auto pipe = base::make_pipe();
  EXPECT_TRUE(pipe);
  pid_t pid = fork();
  if (pid == 0) {
    pipe->read.reset();
    std::string out;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
      out = "no_new_privs failed";
    } else if (auto r = load(p); !r) {
      out = "load: " + r.error().to_string();
    } else {
      out = probe();
    }
    _exit(base::write_all(pipe->write.get(), out) ? 0 : 2);
  }
  pipe->write.reset();
  ChildResult res;
  res.output = base::read_all(pipe->read.get()).value_or(std::string());
  EXPECT_EQ(waitpid(pid, &res.wait_status, 0), pid);
  return res;
}

TEST(SeccompTest, ErrnoRetDeniesOneSyscall) {
  auto s = parse_seccomp({{"defaultAction", "SCMP_ACT_ALLOW"},
                          {"syscalls",
                           {{{"names", {"mkdir", "no_such_syscall_xyz"}},
                             {"action", "SCMP_ACT_ERRNO"},
                             {"errnoRet", 42}}}}});
  auto p = compile(s);
  ASSERT_TRUE(p) << p.error().to_string();
  EXPECT_EQ(p->bpf.size() % sizeof(sock_filter), 0u);
  TempDir dir;
  auto res = run_filtered(*p, [&] {
    std::string out = probe_mkdir(dir.path() + "/a", 0755);
    out += getpid() > 0 ? " getpid-ok" : " getpid-bad";
    // rmdir is not filtered: ENOENT proves it ran.
    out += syscall(SYS_rmdir, (dir.path() + "/missing").c_str()) != 0 && errno == ENOENT
               ? " rmdir-ok"
               : " rmdir-bad";
    return out;
  });
  EXPECT_EQ(res.output, "42 getpid-ok rmdir-ok");
  EXPECT_TRUE(WIFEXITED(res.wait_status) && WEXITSTATUS(res.wait_status) == 0);
  EXPECT_FALSE(base::path_exists(dir.path() + "/a"));
}

TEST(SeccompTest, ErrnoDefaultsToEperm) {
  auto s = parse_seccomp({{"defaultAction", "SCMP_ACT_ALLOW"},
                          {"syscalls", {{{"names", {"mkdir"}}, {"action", "SCMP_ACT_ERRNO"}}}}});
  auto p = compile(s);
  ASSERT_TRUE(p) << p.error().to_string();
  TempDir dir;
  auto res = run_filtered(*p, [&] { return probe_mkdir(dir.path() + "/a", 0755); });
  EXPECT_EQ(res.output, std::to_string(EPERM));
}

TEST(SeccompTest, ArgumentFilterMatchesOnlyThatValue) {
  // Deny mkdir only with mode 0700 (argument 1).
  auto s =
      parse_seccomp({{"defaultAction", "SCMP_ACT_ALLOW"},
                     {"syscalls",
                      {{{"names", {"mkdir"}},
                        {"action", "SCMP_ACT_ERRNO"},
                        {"errnoRet", 13},
                        {"args", {{{"index", 1}, {"value", 0700}, {"op", "SCMP_CMP_EQ"}}}}}}}});
  auto p = compile(s);
  ASSERT_TRUE(p) << p.error().to_string();
  TempDir dir;
  auto res = run_filtered(*p, [&] {
    return probe_mkdir(dir.path() + "/a", 0700) + " " + probe_mkdir(dir.path() + "/b", 0755);
  });
  EXPECT_EQ(res.output, "13 0");
}

TEST(SeccompTest, ConditionsOnDifferentArgumentsAreAnded) {
  // Argument 0 is a pointer we cannot predict: compare it with NE 0 (always true) and
  // argument 1 with EQ 0700; only mode 0700 is denied.
  auto s = parse_seccomp({{"defaultAction", "SCMP_ACT_ALLOW"},
                          {"syscalls",
                           {{{"names", {"mkdir"}},
                             {"action", "SCMP_ACT_ERRNO"},
                             {"errnoRet", 21},
                             {"args",
                              {{{"index", 0}, {"value", 0}, {"op", "SCMP_CMP_NE"}},
                               {{"index", 1}, {"value", 0700}, {"op", "SCMP_CMP_EQ"}}}}}}}});
  auto p = compile(s);
  ASSERT_TRUE(p) << p.error().to_string();
  TempDir dir;
  auto res = run_filtered(*p, [&] {
    return probe_mkdir(dir.path() + "/a", 0700) + " " + probe_mkdir(dir.path() + "/b", 0711);
  });
  EXPECT_EQ(res.output, "21 0");
}

TEST(SeccompTest, SeveralConditionsOnOneArgumentAreAlternatives) {
  auto s = parse_seccomp({{"defaultAction", "SCMP_ACT_ALLOW"},
                          {"syscalls",
                           {{{"names", {"mkdir"}},
                             {"action", "SCMP_ACT_ERRNO"},
                             {"errnoRet", 7},
                             {"args",
                              {{{"index", 1}, {"value", 0700}, {"op", "SCMP_CMP_EQ"}},
                               {{"index", 1}, {"value", 0711}, {"op", "SCMP_CMP_EQ"}}}}}}}});
  auto p = compile(s);
  ASSERT_TRUE(p) << p.error().to_string();
  TempDir dir;
  auto res = run_filtered(*p, [&] {
    return probe_mkdir(dir.path() + "/a", 0700) + " " + probe_mkdir(dir.path() + "/b", 0711) + " " +
           probe_mkdir(dir.path() + "/c", 0755);
  });
  EXPECT_EQ(res.output, "7 7 0");
}

TEST(SeccompTest, MaskedEqual) {
  // Deny when (mode & 0070) == 0070: group rwx.
  auto s = parse_seccomp({{"defaultAction", "SCMP_ACT_ALLOW"},
                          {"syscalls",
                           {{{"names", {"mkdir"}},
                             {"action", "SCMP_ACT_ERRNO"},
                             {"errnoRet", 9},
                             {"args",
                              {{{"index", 1},
                                {"value", 0070},
                                {"valueTwo", 0070},
                                {"op", "SCMP_CMP_MASKED_EQ"}}}}}}}});
  auto p = compile(s);
  ASSERT_TRUE(p) << p.error().to_string();
  TempDir dir;
  auto res = run_filtered(*p, [&] {
    return probe_mkdir(dir.path() + "/a", 0770) + " " + probe_mkdir(dir.path() + "/b", 0750);
  });
  EXPECT_EQ(res.output, "9 0");
}

TEST(SeccompTest, DefaultErrnoWithAllowList) {
  // Memory and signal-stack calls are allowed too: the sanitizer runtimes (ASan/UBSan builds)
  // make them in the child on their way out.
  auto s = parse_seccomp({{"defaultAction", "SCMP_ACT_ERRNO"},
                          {"defaultErrnoRet", 99},
                          {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
                          {"syscalls",
                           {{{"names",
                              {"write", "exit", "exit_group", "getpid", "rt_sigreturn", "munmap",
                               "mmap", "madvise", "sigaltstack", "rt_sigaction", "rt_sigprocmask"}},
                             {"action", "SCMP_ACT_ALLOW"}}}}});
  auto p = compile(s);
  ASSERT_TRUE(p) << p.error().to_string();
  TempDir dir;
  auto res = run_filtered(*p, [&] {
    long pid = syscall(SYS_getpid);
    long rc = syscall(SYS_getppid);
    int err = errno;
    std::string out = probe_mkdir(dir.path() + "/a", 0755);
    out += pid > 0 ? " getpid-ok " : " getpid-bad ";
    out += rc == -1 ? std::to_string(err) : "getppid-allowed";
    return out;
  });
  EXPECT_EQ(res.output, "99 getpid-ok 99");
  EXPECT_TRUE(WIFEXITED(res.wait_status) && WEXITSTATUS(res.wait_status) == 0);
}

TEST(SeccompTest, KillProcessAndTrapRaiseSigsys) {
  for (const char* action : {"SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL", "SCMP_ACT_TRAP"}) {
    auto s = parse_seccomp({{"defaultAction", "SCMP_ACT_ALLOW"},
                            {"syscalls", {{{"names", {"getppid"}}, {"action", action}}}}});
    auto p = compile(s);
    ASSERT_TRUE(p) << p.error().to_string();
    auto res = run_filtered(*p, [] {
      syscall(SYS_getppid);
      return std::string("survived");
    });
    EXPECT_TRUE(WIFSIGNALED(res.wait_status)) << action << " " << res.output;
    EXPECT_EQ(WTERMSIG(res.wait_status), SIGSYS) << action;
    EXPECT_EQ(res.output, "") << action;
  }
}

TEST(SeccompTest, LogAndTraceCompile) {
  auto s =
      parse_seccomp({{"defaultAction", "SCMP_ACT_ALLOW"},
                     {"flags", {"SECCOMP_FILTER_FLAG_LOG"}},
                     {"syscalls",
                      {{{"names", {"getppid"}}, {"action", "SCMP_ACT_LOG"}},
                       {{"names", {"getpid"}}, {"action", "SCMP_ACT_TRACE"}, {"errnoRet", 5}}}}});
  auto p = compile(s);
  ASSERT_TRUE(p) << p.error().to_string();
  EXPECT_TRUE(p->log_flag);
  // With no tracer attached, SCMP_ACT_TRACE fails the syscall with ENOSYS; LOG allows it.
  auto res = run_filtered(*p, [] {
    long ppid = syscall(SYS_getppid);
    long pid = syscall(SYS_getpid);
    int err = errno;
    return std::string(ppid > 0 ? "ppid-ok " : "ppid-bad ") +
           (pid == -1 ? std::to_string(err) : "pid-allowed");
  });
  EXPECT_EQ(res.output, "ppid-ok " + std::to_string(ENOSYS));
}

TEST(SeccompTest, NotifyIsNotImplemented) {
  auto s = parse_seccomp({{"defaultAction", "SCMP_ACT_ALLOW"},
                          {"syscalls", {{{"names", {"mkdir"}}, {"action", "SCMP_ACT_NOTIFY"}}}}});
  auto p = compile(s);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code(), base::ErrorCode::NotImplemented);
  EXPECT_EQ(p.error().to_string(),
            "`linux.seccomp.syscalls[0].action`: seccomp action `SCMP_ACT_NOTIFY` is not "
            "supported");
}

TEST(SeccompTest, RuleWithDefaultActionIsSkipped) {
  // libseccomp refuses such a rule; the spec's meaning (allow) is kept by skipping it.
  auto s = parse_seccomp({{"defaultAction", "SCMP_ACT_ALLOW"},
                          {"syscalls", {{{"names", {"mkdir"}}, {"action", "SCMP_ACT_ALLOW"}}}}});
  auto p = compile(s);
  ASSERT_TRUE(p) << p.error().to_string();
  TempDir dir;
  auto res = run_filtered(*p, [&] { return probe_mkdir(dir.path() + "/a", 0755); });
  EXPECT_EQ(res.output, "0");
}

TEST(SeccompTest, LoadRefusesGarbage) {
  Program p;
  p.bpf = "abc";
  auto r = load(p);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), base::ErrorCode::InvalidArgument);
  p.bpf.clear();
  EXPECT_FALSE(load(p));
}

// The shape of Docker's default profile (moby profiles/seccomp/default.json): default ERRNO,
// three x86 architectures, a long allow list including names this kernel or arch lacks, and
// argument rules (personality: several values of one argument; clone: a masked namespace
// flag check).
TEST(SeccompTest, DockerDefaultProfileShapeCompiles) {
  const std::vector<std::string> allow = base::split(
      "accept accept4 access adjtimex alarm bind brk capget capset chdir chmod chown chown32 "
      "clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime "
      "clock_gettime64 clock_nanosleep clock_nanosleep_time64 close close_range connect "
      "copy_file_range creat dup dup2 dup3 epoll_create epoll_create1 epoll_ctl epoll_ctl_old "
      "epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old eventfd eventfd2 execve execveat exit "
      "exit_group faccessat faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark fchdir "
      "fchmod fchmodat fchown fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr flistxattr "
      "flock fork fremovexattr fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64 fsync "
      "ftruncate ftruncate64 futex futex_time64 futex_waitv futimesat getcpu getcwd getdents "
      "getdents64 getegid getegid32 geteuid geteuid32 getgid getgid32 getgroups getgroups32 "
      "getitimer getpeername getpgid getpgrp getpid getppid getpriority getrandom getresgid "
      "getresgid32 getresuid getresuid32 getrlimit get_robust_list getrusage getsid getsockname "
      "getsockopt get_thread_area gettid gettimeofday getuid getuid32 getxattr inotify_add_watch "
      "inotify_init inotify_init1 inotify_rm_watch io_cancel ioctl io_destroy io_getevents "
      "io_pgetevents io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit io_uring_enter "
      "io_uring_register io_uring_setup ipc kill landlock_add_rule landlock_create_ruleset "
      "landlock_restrict_self lchown lchown32 lgetxattr link linkat listen listxattr llistxattr "
      "_llseek lremovexattr lseek lsetxattr lstat lstat64 madvise membarrier memfd_create "
      "memfd_secret mincore mkdir mkdirat mknod mknodat mlock mlock2 mlockall mmap mmap2 mprotect "
      "mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedreceive_time64 mq_timedsend "
      "mq_timedsend_time64 mq_unlink mremap msgctl msgget msgrcv msgsnd msync munlock munlockall "
      "munmap name_to_handle_at nanosleep newfstatat _newselect open openat openat2 pause "
      "pidfd_open "
      "pidfd_send_signal pipe pipe2 pkey_alloc pkey_free pkey_mprotect poll ppoll ppoll_time64 "
      "prctl pread64 preadv preadv2 prlimit64 process_mrelease pselect6 pselect6_time64 pwrite64 "
      "pwritev pwritev2 read readahead readlink readlinkat readv recv recvfrom recvmmsg "
      "recvmmsg_time64 recvmsg remap_file_pages removexattr rename renameat renameat2 "
      "restart_syscall rmdir rseq rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo "
      "rt_sigreturn rt_sigsuspend rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo "
      "sched_getaffinity sched_getattr sched_getparam sched_get_priority_max "
      "sched_get_priority_min sched_getscheduler sched_rr_get_interval "
      "sched_rr_get_interval_time64 sched_setaffinity sched_setattr sched_setparam "
      "sched_setscheduler sched_yield seccomp select semctl semget semop semtimedop "
      "semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg sendto setfsgid setfsgid32 "
      "setfsuid setfsuid32 setgid setgid32 setgroups setgroups32 setitimer setpgid setpriority "
      "setregid setregid32 setresgid setresgid32 setresuid setresuid32 setreuid setreuid32 "
      "setrlimit set_robust_list setsid setsockopt set_thread_area set_tid_address setuid "
      "setuid32 setxattr shmat shmctl shmdt shmget shutdown sigaltstack signalfd signalfd4 "
      "sigprocmask sigreturn socketcall socketpair splice stat stat64 statfs statfs64 statx "
      "symlink symlinkat sync sync_file_range syncfs sysinfo tee tgkill time timer_create "
      "timer_delete timer_getoverrun timer_gettime timer_gettime64 timer_settime "
      "timer_settime64 timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime "
      "timerfd_settime64 times tkill truncate truncate64 ugetrlimit umask uname unlink unlinkat "
      "utime utimensat utimensat_time64 utimes vfork vmsplice wait4 waitid waitpid write writev "
      "arch_prctl modify_ldt",
      ' ');
  nlohmann::json profile = {
      {"defaultAction", "SCMP_ACT_ERRNO"},
      {"defaultErrnoRet", 1},
      {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
      {"syscalls",
       {{{"names", allow}, {"action", "SCMP_ACT_ALLOW"}},
        {{"names", {"personality"}},
         {"action", "SCMP_ACT_ALLOW"},
         {"args",
          {{{"index", 0}, {"value", 0}, {"op", "SCMP_CMP_EQ"}},
           {{"index", 0}, {"value", 8}, {"op", "SCMP_CMP_EQ"}},
           {{"index", 0}, {"value", 131072}, {"op", "SCMP_CMP_EQ"}},
           {{"index", 0}, {"value", 131080}, {"op", "SCMP_CMP_EQ"}},
           {{"index", 0}, {"value", 4294967295}, {"op", "SCMP_CMP_EQ"}}}}},
        {{"names", {"clone"}},
         {"action", "SCMP_ACT_ALLOW"},
         {"args",
          {{{"index", 0}, {"value", 2114060288}, {"valueTwo", 0}, {"op", "SCMP_CMP_MASKED_EQ"}}}}},
        {{"names", {"clone3"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 38}},
        {{"names", {"socket"}},
         {"action", "SCMP_ACT_ALLOW"},
         {"args", {{{"index", 0}, {"value", 40}, {"op", "SCMP_CMP_NE"}}}}}}}};
  auto s = parse_seccomp(profile);
  ASSERT_GT(s.syscalls[0].names.size(), 300u);
  auto p = compile(s);
  ASSERT_TRUE(p) << p.error().to_string();
  EXPECT_GT(p->bpf.size(), 300 * sizeof(sock_filter));
  EXPECT_EQ(p->bpf.size() % sizeof(sock_filter), 0u);

  // And it behaves: allowed calls work, clone3 gets ENOSYS, others EPERM.
  TempDir dir;
  auto res = run_filtered(*p, [&] {
    long rc = syscall(SYS_clone3, nullptr, 0);
    int err = errno;
    std::string out = rc == -1 ? std::to_string(err) : "clone3-ran";
    out += " " + probe_mkdir(dir.path() + "/a", 0755);
    long r2 = syscall(SYS_pivot_root, "/", "/");
    int err2 = errno;
    out += " " + (r2 == -1 ? std::to_string(err2) : std::string("pivot-ran"));
    return out;
  });
  EXPECT_EQ(res.output, fmt::format("{} 0 {}", ENOSYS, EPERM));
}

}  // namespace
}  // namespace mydocker::runtime::seccomp
