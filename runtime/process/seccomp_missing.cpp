// SPDX-License-Identifier: Apache-2.0
// Compiled only while runtime/seccomp has no library target (see CMakeLists.txt): a spec with
// linux.seccomp then fails create with a clear message instead of the build failing.
#include "runtime/seccomp/seccomp.h"

namespace mydocker::runtime::seccomp {

base::Result<Program> compile(const spec::Seccomp&) {
  return base::make_error(base::ErrorCode::NotImplemented,
                          "seccomp is not available in this build (runtime/seccomp missing)");
}

base::Result<void> load(const Program&) {
  return base::make_error(base::ErrorCode::NotImplemented,
                          "seccomp is not available in this build (runtime/seccomp missing)");
}

}  // namespace mydocker::runtime::seccomp
