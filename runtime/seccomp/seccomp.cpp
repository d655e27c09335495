// SPDX-License-Identifier: Apache-2.0
// linux.seccomp -> BPF with libseccomp, following runc's translation (libcontainer/seccomp)
// so that profiles written for runc and Docker behave the same here.
#include "runtime/seccomp/seccomp.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "runtime/base/fd.h"
#include "runtime/base/strings.h"

namespace mydocker::runtime::seccomp {
namespace {

using base::ErrorCode;
using base::Result;

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Ctx = std::unique_ptr<void, CtxDeleter>;

// `errno_ret` as the spec gives it; runc defaults ERRNO and TRACE to EPERM.
Result<uint32_t> to_action(const std::string& action, std::optional<uint32_t> errno_ret,
                           std::string_view field) {
  uint32_t ret = errno_ret.value_or(EPERM);
  if (action == "SCMP_ACT_KILL" || action == "SCMP_ACT_KILL_THREAD") {
    return SCMP_ACT_KILL_THREAD;
  }
  if (action == "SCMP_ACT_KILL_PROCESS") {
    return SCMP_ACT_KILL_PROCESS;
  }
  if (action == "SCMP_ACT_TRAP") {
    return SCMP_ACT_TRAP;
  }
  if (action == "SCMP_ACT_ERRNO") {
    return SCMP_ACT_ERRNO(ret);
  }
  if (action == "SCMP_ACT_TRACE") {
    return SCMP_ACT_TRACE(ret);
  }
  if (action == "SCMP_ACT_ALLOW") {
    return SCMP_ACT_ALLOW;
  }
  if (action == "SCMP_ACT_LOG") {
    return SCMP_ACT_LOG;
  }
  if (action == "SCMP_ACT_NOTIFY") {
    // A notify action needs a listener fd sent to listenerPath: not implemented yet.
    return base::make_error(ErrorCode::NotImplemented, "`{}`: seccomp action `{}` is not supported",
                            field, action);
  }
  return base::make_error(ErrorCode::InvalidArgument, "`{}`: unknown seccomp action `{}`", field,
                          action);
}

Result<scmp_compare> to_op(const std::string& op, std::string_view field) {
  static constexpr std::array<std::pair<std::string_view, scmp_compare>, 7> kOps = {{
      {"SCMP_CMP_NE", SCMP_CMP_NE},
      {"SCMP_CMP_LT", SCMP_CMP_LT},
      {"SCMP_CMP_LE", SCMP_CMP_LE},
      {"SCMP_CMP_EQ", SCMP_CMP_EQ},
      {"SCMP_CMP_GE", SCMP_CMP_GE},
      {"SCMP_CMP_GT", SCMP_CMP_GT},
      {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
  }};
  for (const auto& [name, value] : kOps) {
    if (name == op) {
      return value;
    }
  }
  return base::make_error(ErrorCode::InvalidArgument, "`{}`: unknown seccomp operator `{}`", field,
                          op);
}

// "SCMP_ARCH_X86_64" -> libseccomp's token for "x86_64".
Result<uint32_t> to_arch(const std::string& arch, std::string_view field) {
  constexpr std::string_view kPrefix = "SCMP_ARCH_";
  std::string name;
  if (arch.rfind(kPrefix, 0) == 0) {
    name = base::ascii_lower(std::string_view(arch).substr(kPrefix.size()));
  }
  uint32_t token = name.empty() ? 0 : seccomp_arch_resolve_name(name.c_str());
  if (token == 0) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "`{}`: seccomp architecture `{}` is unknown to libseccomp", field,
                            arch);
  }
  return token;
}

scmp_arg_cmp to_cmp(const spec::SeccompArg& a, scmp_compare op) {
  // Filled by hand: libseccomp's SCMP_A0() macros trip -Wmissing-field-initializers.
  scmp_arg_cmp c{};
  c.arg = a.index;
  c.op = op;
  c.datum_a = a.value;  // for SCMP_CMP_MASKED_EQ: the mask
  c.datum_b = a.value_two;
  return c;
}

Result<void> add_rule(scmp_filter_ctx ctx, uint32_t action, int nr, const std::string& name,
                      const std::vector<scmp_arg_cmp>& cmps, std::string_view field) {
  int rc = seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned int>(cmps.size()),
                                  cmps.empty() ? nullptr : cmps.data());
  if (rc != 0) {
    return base::sys_error_n(-rc, "`{}`: add seccomp rule for syscall `{}`", field, name);
  }
  return base::ok();
}

Result<std::string> export_bpf(scmp_filter_ctx ctx) {
  int fd = memfd_create("mydocker-seccomp", MFD_CLOEXEC);
  if (fd < 0) {
    return base::sys_error("memfd_create");
  }
  base::Fd mem = base::Fd::adopt(fd);
  int rc = seccomp_export_bpf(ctx, mem.get());
  if (rc != 0) {
    return base::sys_error_n(-rc, "export seccomp filter");
  }
  if (lseek(mem.get(), 0, SEEK_SET) != 0) {
    return base::sys_error("seek seccomp filter");
  }
  return base::read_all(mem.get());
}

}  // namespace

Result<Program> compile(const spec::Seccomp& s) {
  uint32_t default_action =
      MYDOCKER_TRY(to_action(s.default_action, s.default_errno_ret, "linux.seccomp.defaultAction"));
  Ctx ctx(seccomp_init(default_action));
  if (!ctx) {
    return base::make_error(ErrorCode::Internal, "seccomp_init with default action `{}` failed",
                            s.default_action);
  }
  for (size_t i = 0; i < s.architectures.size(); ++i) {
    std::string field = fmt::format("linux.seccomp.architectures[{}]", i);
    uint32_t arch = MYDOCKER_TRY(to_arch(s.architectures[i], field));
    int rc = seccomp_arch_add(ctx.get(), arch);
    if (rc != 0 && rc != -EEXIST) {  // the native arch is already in the filter
      return base::sys_error_n(-rc, "`{}`: add seccomp architecture `{}`", field,
                               s.architectures[i]);
    }
  }

  for (size_t i = 0; i < s.syscalls.size(); ++i) {
    const spec::SeccompSyscall& call = s.syscalls[i];
    std::string field = fmt::format("linux.seccomp.syscalls[{}]", i);
    uint32_t action =
        MYDOCKER_TRY(to_action(call.action, call.errno_ret, fmt::format("{}.action", field)));
    // libseccomp refuses a rule whose action is the default one; it would change nothing.
    if (action == default_action) {
      continue;
    }
    std::vector<scmp_arg_cmp> cmps;
    std::array<int, 6> per_index{};
    bool repeated_index = false;
    for (size_t j = 0; j < call.args.size(); ++j) {
      const spec::SeccompArg& a = call.args[j];
      scmp_compare op = MYDOCKER_TRY(to_op(a.op, fmt::format("{}.args[{}].op", field, j)));
      if (a.index >= per_index.size()) {
        return base::make_error(ErrorCode::InvalidArgument,
                                "`{}.args[{}].index`: must be in [0, 5], got `{}`", field, j,
                                a.index);
      }
      repeated_index |= ++per_index[a.index] > 1;
      cmps.push_back(to_cmp(a, op));
    }
    for (const std::string& name : call.names) {
      int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) {
        continue;  // a newer profile on an older kernel/libseccomp: runc and crun skip too
      }
      if (repeated_index) {
        // libseccomp ANDs the conditions of one rule and cannot hold two on the same argument;
        // the spec means them as alternatives, so (as runc) each becomes its own rule.
        for (const scmp_arg_cmp& c : cmps) {
          MYDOCKER_TRY(add_rule(ctx.get(), action, nr, name, {c}, field));
        }
      } else {
        MYDOCKER_TRY(add_rule(ctx.get(), action, nr, name, cmps, field));
      }
    }
  }

  Program p;
  p.bpf = MYDOCKER_TRY(export_bpf(ctx.get()));
  for (const std::string& f : s.flags) {
    if (f == "SECCOMP_FILTER_FLAG_LOG") {
      p.log_flag = true;
    }
  }
  return p;
}

Result<void> load(const Program& p) {
  if (p.bpf.empty() || p.bpf.size() % sizeof(sock_filter) != 0) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "seccomp program of {} bytes is not a list of BPF instructions",
                            p.bpf.size());
  }
  // Copy into properly aligned storage; the string's buffer carries no alignment promise.
  std::vector<sock_filter> filter(p.bpf.size() / sizeof(sock_filter));
  std::memcpy(filter.data(), p.bpf.data(), p.bpf.size());
  if (filter.size() > BPF_MAXINSNS) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "seccomp program has {} instructions, the kernel takes at most {}",
                            filter.size(), BPF_MAXINSNS);
  }
  sock_fprog prog{};
  prog.len = static_cast<unsigned short>(filter.size());
  prog.filter = filter.data();
  unsigned int flags = p.log_flag ? SECCOMP_FILTER_FLAG_LOG : 0;
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog) != 0) {
    return base::sys_error("load seccomp filter");
  }
  return base::ok();
}

}  // namespace mydocker::runtime::seccomp
