// SPDX-License-Identifier: Apache-2.0
// The device program is checked by running it: a small interpreter for the instructions it
// uses stands in for the kernel (the root tests load it into the real one).
#include "runtime/cgroups/devices_bpf.h"

#include <gtest/gtest.h>

#include <cstddef>

namespace mydocker::runtime::cgroups::bpf {
namespace {

// Runs `prog` on one access; nullopt when it uses anything the interpreter does not know, or
// jumps/falls off the end (the verifier would refuse those).
std::optional<int64_t> run(const std::vector<bpf_insn>& prog, uint32_t type, uint32_t access,
                           uint32_t major, uint32_t minor) {
  bpf_cgroup_dev_ctx ctx{(access << 16) | type, major, minor};
  uint64_t reg[11] = {};
  for (size_t pc = 0; pc < prog.size(); ++pc) {
    const bpf_insn& i = prog[pc];
    uint64_t& dst = reg[i.dst_reg];
    uint64_t imm = static_cast<uint64_t>(static_cast<int64_t>(i.imm));
    switch (i.code) {
      case BPF_LDX | BPF_MEM | BPF_W: {
        if (i.src_reg != 1 || i.off < 0 || static_cast<size_t>(i.off) + 4 > sizeof ctx) {
          return std::nullopt;
        }
        uint32_t v;
        std::memcpy(&v, reinterpret_cast<const char*>(&ctx) + i.off, 4);
        dst = v;
        break;
      }
      case BPF_ALU64 | BPF_MOV | BPF_X:
        dst = reg[i.src_reg];
        break;
      case BPF_ALU64 | BPF_MOV | BPF_K:
        dst = imm;
        break;
      case BPF_ALU64 | BPF_AND | BPF_K:
        dst &= imm;
        break;
      case BPF_ALU64 | BPF_RSH | BPF_K:
        dst >>= i.imm;
        break;
      case BPF_JMP | BPF_JNE | BPF_K:
      case BPF_JMP | BPF_JEQ | BPF_K: {
        bool eq = dst == imm;
        if (eq == (BPF_OP(i.code) == BPF_JEQ)) {
          if (i.off < 0 || pc + i.off + 1 >= prog.size()) {
            return std::nullopt;
          }
          pc += static_cast<size_t>(i.off);
        }
        break;
      }
      case BPF_JMP | BPF_EXIT:
        return static_cast<int64_t>(reg[0]);
      default:
        return std::nullopt;
    }
  }
  return std::nullopt;
}

spec::DeviceRule rule(bool allow, std::string type, std::optional<int64_t> major,
                      std::optional<int64_t> minor, std::string access) {
  spec::DeviceRule d;
  d.allow = allow;
  d.type = std::move(type);
  d.major = major;
  d.minor = minor;
  d.access = std::move(access);
  return d;
}

constexpr uint32_t C = BPF_DEVCG_DEV_CHAR, B = BPF_DEVCG_DEV_BLOCK;
constexpr uint32_t R = BPF_DEVCG_ACC_READ, W = BPF_DEVCG_ACC_WRITE, M = BPF_DEVCG_ACC_MKNOD;

struct Ask {
  uint32_t type, access, major, minor;
  int64_t want;
};

void expect_verdicts(const std::vector<spec::DeviceRule>& rules, const std::vector<Ask>& asks,
                     const char* name) {
  auto prog = device_program(rules);
  ASSERT_TRUE(prog) << name << ": " << prog.error().to_string();
  for (const Ask& a : asks) {
    EXPECT_EQ(run(*prog, a.type, a.access, a.major, a.minor), a.want)
        << name << ": type " << a.type << " access " << a.access << " " << a.major << ":"
        << a.minor;
  }
}

const spec::DeviceRule kDenyAll = rule(false, "a", std::nullopt, std::nullopt, "rwm");

TEST(DeviceProgramTest, NoRulesAllowsEverything) {
  expect_verdicts({}, {{C, R | W, 1, 3, 1}, {B, M, 8, 0, 1}}, "empty");
}

TEST(DeviceProgramTest, DockerDefaultShape) {
  std::vector<spec::DeviceRule> rules = {
      kDenyAll,
      rule(true, "c", std::nullopt, std::nullopt, "m"),  // mknod of any char device
      rule(true, "b", std::nullopt, std::nullopt, "m"),
      rule(true, "c", 1, 3, "rwm"),               // /dev/null
      rule(true, "c", 136, std::nullopt, "rwm"),  // /dev/pts/*
  };
  expect_verdicts(rules,
                  {
                      {C, R | W, 1, 3, 1},  // null read-write
                      {C, R, 1, 5, 0},      // zero is not listed
                      {C, M, 1, 5, 1},      // but may be made
                      {B, M, 8, 0, 1},      // any block device may be made
                      {B, R, 8, 0, 0},      // not read
                      {C, W, 136, 7, 1},    // any pts
                      {C, R, 137, 7, 0},    // not another major
                  },
                  "docker default");
}

TEST(DeviceProgramTest, PartialAccessMustBeFullyGranted) {
  std::vector<spec::DeviceRule> rules = {kDenyAll, rule(true, "c", 1, 5, "r")};
  expect_verdicts(rules, {{C, R, 1, 5, 1}, {C, R | W, 1, 5, 0}, {C, W, 1, 5, 0}}, "partial");
}

TEST(DeviceProgramTest, LaterRulesOverrideEarlierOnes) {
  std::vector<spec::DeviceRule> rules = {kDenyAll, rule(true, "c", 1, std::nullopt, "rwm"),
                                         rule(false, "c", 1, 9, "w")};
  expect_verdicts(rules,
                  {{C, R, 1, 9, 1}, {C, W, 1, 9, 0}, {C, R | W, 1, 9, 0}, {C, R | W, 1, 3, 1}},
                  "override");
}

TEST(DeviceProgramTest, WithoutLeadingDenyAllOnlyListedDenialsApply) {
  // v1 semantics: a new cgroup starts as its parent's allow-all.
  std::vector<spec::DeviceRule> rules = {rule(false, "b", 8, 0, "rwm")};
  expect_verdicts(rules, {{B, R, 8, 0, 0}, {B, R, 8, 1, 1}, {C, R, 8, 0, 1}}, "deny one");
}

TEST(DeviceProgramTest, AnAllRuleResetsWhatCameBefore) {
  std::vector<spec::DeviceRule> rules = {rule(false, "c", 1, 3, "rwm"),
                                         rule(true, "a", std::nullopt, std::nullopt, "rwm")};
  expect_verdicts(rules, {{C, R, 1, 3, 1}}, "allow all last");
  auto prog = device_program(rules);
  ASSERT_TRUE(prog);
  EXPECT_EQ(prog->size(), 8u) << "rules before the last `a` rule are dropped";
  expect_verdicts({rule(true, "c", 1, 3, "rwm"), kDenyAll}, {{C, R, 1, 3, 0}}, "deny all last");
}

TEST(DeviceProgramTest, BadRulesAreRefused) {
  auto bad_type = device_program({rule(true, "x", 1, 3, "rwm")});
  ASSERT_FALSE(bad_type);
  EXPECT_EQ(bad_type.error().code(), base::ErrorCode::InvalidArgument);
  EXPECT_NE(bad_type.error().message().find("devices[0].type: `x`"), std::string::npos);
  auto bad_access = device_program({kDenyAll, rule(true, "c", 1, 3, "rwx")});
  ASSERT_FALSE(bad_access);
  EXPECT_NE(bad_access.error().message().find("devices[1].access: `rwx`"), std::string::npos);
}

}  // namespace
}  // namespace mydocker::runtime::cgroups::bpf
