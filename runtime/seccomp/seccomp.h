// SPDX-License-Identifier: Apache-2.0
// OCI linux.seccomp -> a loaded libseccomp filter.
// compile() runs before clone (it allocates; the child only loads): the result is the BPF
// program as bytes, which load() installs with seccomp(2) in the child.
#pragma once

#include <string>

#include "runtime/base/error.h"
#include "runtime/spec/spec.h"

namespace mydocker::runtime::seccomp {

struct Program {
  std::string bpf;        // struct sock_filter[] as bytes (seccomp_export_bpf)
  bool log_flag = false;  // SECCOMP_FILTER_FLAG_LOG requested
};

// Translates the spec (actions, errnoRet, architectures, syscall names, argument filters).
// Unknown syscall names are skipped, as runc and crun do (a newer profile on an older
// kernel); unknown actions/operators were already refused by spec::parse.
base::Result<Program> compile(const spec::Seccomp& s);

// Installs the program on the calling thread. Needs no_new_privs or CAP_SYS_ADMIN.
base::Result<void> load(const Program& p);

}  // namespace mydocker::runtime::seccomp
