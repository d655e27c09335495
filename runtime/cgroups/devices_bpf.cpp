// SPDX-License-Identifier: Apache-2.0
#include "runtime/cgroups/devices_bpf.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>

namespace mydocker::runtime::cgroups::bpf {
namespace {

using base::ErrorCode;

// Registers: r1 = ctx on entry; r2 = device type, r3 = access asked, r4 = major,
// r5 = minor, r6 = scratch, r0 = verdict (1 allow, 0 deny).
constexpr uint8_t kCtx = 1, kType = 2, kAccess = 3, kMajor = 4, kMinor = 5, kScratch = 6;

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i;
  std::memset(&i, 0, sizeof i);
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

bpf_insn load_ctx_word(uint8_t dst, size_t offset) {
  return insn(BPF_LDX | BPF_MEM | BPF_W, dst, kCtx, static_cast<int16_t>(offset), 0);
}
bpf_insn alu_k(uint8_t op, uint8_t dst, int32_t imm) {
  return insn(BPF_ALU64 | op | BPF_K, dst, 0, 0, imm);
}
bpf_insn mov_x(uint8_t dst, uint8_t src) {
  return insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0);
}
// Jump offsets are filled in once the block's length is known.
bpf_insn jump_k(uint8_t op, uint8_t dst, int32_t imm) {
  return insn(BPF_JMP | op | BPF_K, dst, 0, 0, imm);
}
bpf_insn exit_insn() {
  return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

base::Result<int32_t> access_bits(const spec::DeviceRule& r, size_t index) {
  if (r.access.empty() || r.access.find_first_not_of("rwm") != std::string::npos) {
    return base::make_error(ErrorCode::InvalidArgument,
                            "linux.resources.devices[{}].access: `{}` is not made of r, w, m",
                            index, r.access);
  }
  int32_t bits = 0;
  for (char c : r.access) {
    bits |= c == 'r' ? BPF_DEVCG_ACC_READ : c == 'w' ? BPF_DEVCG_ACC_WRITE : BPF_DEVCG_ACC_MKNOD;
  }
  return bits;
}

long sys_bpf(int cmd, bpf_attr& attr) {
  return ::syscall(SYS_bpf, cmd, &attr, sizeof attr);
}

uint64_t ptr(const void* p) {
  return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p));
}

}  // namespace

base::Result<std::vector<bpf_insn>> device_program(const std::vector<spec::DeviceRule>& rules) {
  for (size_t i = 0; i < rules.size(); ++i) {
    const std::string& t = rules[i].type;
    if (t != "a" && t != "c" && t != "b") {
      return base::make_error(ErrorCode::InvalidArgument,
                              "linux.resources.devices[{}].type: `{}` is not a, c or b", i, t);
    }
    MYDOCKER_TRY(access_bits(rules[i], i));
  }
  size_t first = 0;
  int32_t fallback = 1;
  for (size_t i = rules.size(); i-- > 0;) {
    if (rules[i].type == "a") {
      first = i + 1;
      fallback = rules[i].allow ? 1 : 0;
      break;
    }
  }

  std::vector<bpf_insn> prog = {
      load_ctx_word(kType, offsetof(bpf_cgroup_dev_ctx, access_type)),
      mov_x(kAccess, kType),
      alu_k(BPF_AND, kType, 0xffff),
      alu_k(BPF_RSH, kAccess, 16),
      load_ctx_word(kMajor, offsetof(bpf_cgroup_dev_ctx, major)),
      load_ctx_word(kMinor, offsetof(bpf_cgroup_dev_ctx, minor)),
  };
  for (size_t i = rules.size(); i-- > first;) {
    const spec::DeviceRule& r = rules[i];
    int32_t bits = MYDOCKER_TRY(access_bits(r, i));
    std::vector<bpf_insn> block;
    block.push_back(
        jump_k(BPF_JNE, kType, r.type == "c" ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK));
    block.push_back(mov_x(kScratch, kAccess));
    if (r.allow) {
      // Skip unless every bit asked for is granted.
      block.push_back(alu_k(BPF_AND, kScratch, ~bits & 7));
      block.push_back(jump_k(BPF_JNE, kScratch, 0));
    } else {
      // Skip unless some bit asked for is forbidden.
      block.push_back(alu_k(BPF_AND, kScratch, bits));
      block.push_back(jump_k(BPF_JEQ, kScratch, 0));
    }
    if (r.major && *r.major >= 0) {
      block.push_back(jump_k(BPF_JNE, kMajor, static_cast<int32_t>(*r.major)));
    }
    if (r.minor && *r.minor >= 0) {
      block.push_back(jump_k(BPF_JNE, kMinor, static_cast<int32_t>(*r.minor)));
    }
    block.push_back(alu_k(BPF_MOV, 0, r.allow ? 1 : 0));
    block.push_back(exit_insn());
    for (size_t k = 0; k < block.size(); ++k) {
      if (BPF_CLASS(block[k].code) == BPF_JMP && BPF_OP(block[k].code) != BPF_EXIT) {
        block[k].off = static_cast<int16_t>(block.size() - k - 1);
      }
    }
    prog.insert(prog.end(), block.begin(), block.end());
  }
  prog.push_back(alu_k(BPF_MOV, 0, fallback));
  prog.push_back(exit_insn());
  return prog;
}

base::Result<base::Fd> load_device_program(const std::vector<bpf_insn>& program) {
  static const char kLicense[] = "Apache-2.0";  // no GPL-only helper is called
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = ptr(program.data());
  attr.insn_cnt = static_cast<uint32_t>(program.size());
  attr.license = ptr(kLicense);
  long fd = sys_bpf(BPF_PROG_LOAD, attr);
  if (fd >= 0) {
    return base::Fd::adopt(static_cast<int>(fd));
  }
  int err = errno;
  // Load again with a log only on failure: the verifier's text says what it disliked.
  std::string log(16384, '\0');
  attr.log_level = 1;
  attr.log_buf = ptr(log.data());
  attr.log_size = static_cast<uint32_t>(log.size());
  fd = sys_bpf(BPF_PROG_LOAD, attr);
  if (fd >= 0) {
    ::close(static_cast<int>(fd));
  }
  log.resize(std::strlen(log.c_str()));
  return base::sys_error_n(err, "load cgroup device program ({} instructions){}{}", program.size(),
                           log.empty() ? "" : ": verifier: ", log);
}

base::Result<void> attach_device_program(const std::string& cgroup_dir, const base::Fd& program) {
  base::Fd dir = MYDOCKER_TRY(base::Fd::open(cgroup_dir, O_RDONLY | O_DIRECTORY));

  std::vector<uint32_t> old(64);
  bpf_attr query;
  std::memset(&query, 0, sizeof query);
  query.query.target_fd = static_cast<uint32_t>(dir.get());
  query.query.attach_type = BPF_CGROUP_DEVICE;
  query.query.prog_ids = ptr(old.data());
  query.query.prog_cnt = static_cast<uint32_t>(old.size());
  if (sys_bpf(BPF_PROG_QUERY, query) < 0) {
    return base::sys_error("query device programs of cgroup `{}`", cgroup_dir);
  }
  old.resize(query.query.prog_cnt);

  bpf_attr attach;
  std::memset(&attach, 0, sizeof attach);
  attach.target_fd = static_cast<uint32_t>(dir.get());
  attach.attach_bpf_fd = static_cast<uint32_t>(program.get());
  attach.attach_type = BPF_CGROUP_DEVICE;
  attach.attach_flags = BPF_F_ALLOW_MULTI;
  if (sys_bpf(BPF_PROG_ATTACH, attach) < 0) {
    return base::sys_error("attach device program to cgroup `{}`", cgroup_dir);
  }

  // The new rules are in force before the old ones go: no window with neither.
  for (uint32_t id : old) {
    bpf_attr get;
    std::memset(&get, 0, sizeof get);
    get.prog_id = id;
    long fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, get);
    if (fd < 0) {
      continue;  // detached meanwhile
    }
    base::Fd old_prog = base::Fd::adopt(static_cast<int>(fd));
    bpf_attr detach;
    std::memset(&detach, 0, sizeof detach);
    detach.target_fd = static_cast<uint32_t>(dir.get());
    detach.attach_bpf_fd = static_cast<uint32_t>(old_prog.get());
    detach.attach_type = BPF_CGROUP_DEVICE;
    if (sys_bpf(BPF_PROG_DETACH, detach) < 0 && errno != ENOENT) {
      return base::sys_error("detach old device program {} from cgroup `{}`", id, cgroup_dir);
    }
  }
  return base::ok();
}

}  // namespace mydocker::runtime::cgroups::bpf
