// SPDX-License-Identifier: Apache-2.0
// apply() changes the calling process for good, so each case runs it in a
// forked child that reports /proc/self/status (or the error) through a pipe.
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>

#include "runtime/base/fd.h"
#include "runtime/base/file.h"
#include "runtime/base/strings.h"
#include "runtime/caps/caps.h"
#include "tests/support/require.h"

namespace mydocker::runtime::caps {
namespace {

using mydocker::testing::Need;

// The bounding set as /proc/self/status shows it.
uint64_t status_mask(const std::string& status, std::string_view key) {
  for (const std::string& line : base::split(status, '\n')) {
    if (line.rfind(std::string(key) + ":", 0) == 0) {
      return std::stoull(std::string(base::trim(line.substr(key.size() + 1))), nullptr, 16);
    }
  }
  ADD_FAILURE() << "no " << key << " in /proc/self/status";
  return 0;
}

uint64_t mask_of(std::initializer_list<const char*> names) {
  uint64_t m = 0;
  for (const char* n : names) {
    m |= uint64_t{1} << *from_name(n);
  }
  return m;
}

// What the child saw: apply()'s error (empty on success) and its /proc/self/status.
struct ChildReport {
  bool ok = false;
  std::string error;
  base::ErrorCode code = base::ErrorCode::Internal;
  std::string status;
};

// Forks; the child optionally switches to `uid` (keeping caps), runs apply(c) and writes
// "ok\n<status>" or "err <code>\n<message>" to a pipe.
ChildReport run_in_child(const spec::Capabilities& c, uid_t uid = 0) {
  auto pipe = base::make_pipe();
  EXPECT_TRUE(pipe);
  pid_t pid = fork();
  if (pid == 0) {
    pipe->read.reset();
    std::string out;
    if (uid != 0) {
      if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0 || setresgid(uid, uid, uid) != 0 ||
          setresuid(uid, uid, uid) != 0) {
        _exit(3);
      }
    }
    auto r = apply(c);
    if (r) {
      out = "ok\n" + base::read_file("/proc/self/status").value_or(std::string());
    } else {
      out = fmt::format("err {}\n{}", static_cast<int>(r.error().code()), r.error().to_string());
    }
    _exit(base::write_all(pipe->write.get(), out) ? 0 : 2);
  }
  pipe->write.reset();
  std::string out = base::read_all(pipe->read.get()).value_or(std::string());
  int wstatus = 0;
  EXPECT_EQ(waitpid(pid, &wstatus, 0), pid);
  EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) << "child status " << wstatus;
  ChildReport rep;
  auto nl = out.find('\n');
  std::string head = out.substr(0, nl);
  std::string rest = nl == std::string::npos ? "" : out.substr(nl + 1);
  if (head == "ok") {
    rep.ok = true;
    rep.status = rest;
  } else if (head.rfind("err ", 0) == 0) {
    rep.code = static_cast<base::ErrorCode>(std::stoi(head.substr(4)));
    rep.error = rest;
  } else {
    ADD_FAILURE() << "child said: " << out;
  }
  return rep;
}

class RootCapsApplyTest : public ::testing::Test {
 protected:
  void SetUp() override { MYDOCKER_REQUIRE(Need::Root); }
};

TEST_F(RootCapsApplyTest, SetsAllFiveSets) {
  spec::Capabilities c;
  c.bounding = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETPCAP"};
  c.permitted = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  c.effective = {"CAP_CHOWN", "CAP_KILL"};
  c.inheritable = {"CAP_KILL", "CAP_NET_BIND_SERVICE"};
  c.ambient = {"CAP_NET_BIND_SERVICE"};
  ChildReport rep = run_in_child(c);
  ASSERT_TRUE(rep.ok) << rep.error;
  EXPECT_EQ(status_mask(rep.status, "CapBnd"),
            mask_of({"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETPCAP"}));
  EXPECT_EQ(status_mask(rep.status, "CapPrm"),
            mask_of({"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"}));
  EXPECT_EQ(status_mask(rep.status, "CapEff"), mask_of({"CAP_CHOWN", "CAP_KILL"}));
  EXPECT_EQ(status_mask(rep.status, "CapInh"), mask_of({"CAP_KILL", "CAP_NET_BIND_SERVICE"}));
  EXPECT_EQ(status_mask(rep.status, "CapAmb"), mask_of({"CAP_NET_BIND_SERVICE"}));
}

TEST_F(RootCapsApplyTest, EmptySetsDropEverything) {
  ChildReport rep = run_in_child(spec::Capabilities{});
  ASSERT_TRUE(rep.ok) << rep.error;
  for (const char* key : {"CapBnd", "CapPrm", "CapEff", "CapInh", "CapAmb"}) {
    EXPECT_EQ(status_mask(rep.status, key), 0u) << key;
  }
}

TEST_F(RootCapsApplyTest, WorksAfterSetuidWithKeepCaps) {
  spec::Capabilities c;
  c.bounding = {"CAP_KILL", "CAP_NET_RAW"};
  c.permitted = c.bounding;
  c.effective = c.bounding;
  ChildReport rep = run_in_child(c, 1000);
  ASSERT_TRUE(rep.ok) << rep.error;
  EXPECT_EQ(status_mask(rep.status, "CapBnd"), mask_of({"CAP_KILL", "CAP_NET_RAW"}));
  EXPECT_EQ(status_mask(rep.status, "CapEff"), mask_of({"CAP_KILL", "CAP_NET_RAW"}));
}

TEST_F(RootCapsApplyTest, AmbientWithoutInheritableIsSkipped) {
  // The shape `runc spec` writes: ambient listed, inheritable empty.
  spec::Capabilities c;
  c.bounding = {"CAP_KILL", "CAP_AUDIT_WRITE"};
  c.permitted = c.bounding;
  c.effective = c.bounding;
  c.ambient = c.bounding;
  ChildReport rep = run_in_child(c);
  ASSERT_TRUE(rep.ok) << rep.error;
  EXPECT_EQ(status_mask(rep.status, "CapAmb"), 0u);
  EXPECT_EQ(status_mask(rep.status, "CapEff"), mask_of({"CAP_KILL", "CAP_AUDIT_WRITE"}));
}

// A capability this host withholds from root (CAP_SYS_RESOURCE here), or skip.
std::optional<int> missing_host_cap() {
  std::vector<int> host = host_bounding_set();
  for (int c = 0; c <= last_cap(); ++c) {
    if (std::find(host.begin(), host.end(), c) == host.end()) {
      return c;
    }
  }
  return std::nullopt;
}

TEST_F(RootCapsApplyTest, CapabilityOutsideHostBoundingSetIsNamed) {
  auto missing = missing_host_cap();
  if (!missing) {
    GTEST_SKIP() << "the host's bounding set is full; nothing to withhold";
  }
  std::string name = to_name(*missing);
  spec::Capabilities c;
  c.bounding = {"CAP_KILL", name};
  c.permitted = {"CAP_KILL", name};
  c.effective = {"CAP_KILL"};
  ChildReport rep = run_in_child(c);
  ASSERT_FALSE(rep.ok);
  EXPECT_EQ(rep.code, base::ErrorCode::PermissionDenied);
  EXPECT_EQ(rep.error, fmt::format("capability `{}` (process.capabilities.permitted) is not in "
                                   "the host's bounding set, so it cannot be granted",
                                   name));
  // Only in bounding: named as such.
  c.permitted = {"CAP_KILL"};
  rep = run_in_child(c);
  ASSERT_FALSE(rep.ok);
  EXPECT_EQ(rep.error, fmt::format("capability `{}` (process.capabilities.bounding) is not in "
                                   "the host's bounding set, so it cannot be granted",
                                   name));
}

TEST_F(RootCapsApplyTest, EffectiveMustBePermitted) {
  spec::Capabilities c;
  c.bounding = {"CAP_KILL", "CAP_CHOWN"};
  c.permitted = {"CAP_KILL"};
  c.effective = {"CAP_KILL", "CAP_CHOWN"};
  ChildReport rep = run_in_child(c);
  ASSERT_FALSE(rep.ok);
  EXPECT_EQ(rep.code, base::ErrorCode::InvalidArgument);
  EXPECT_NE(rep.error.find("`CAP_CHOWN` is in process.capabilities.effective"), std::string::npos)
      << rep.error;
}

}  // namespace
}  // namespace mydocker::runtime::caps
