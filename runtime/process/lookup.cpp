// SPDX-License-Identifier: Apache-2.0
#include "runtime/process/lookup.h"

#include <sys/stat.h>

#include "runtime/base/strings.h"

namespace mydocker::runtime::process {

namespace {

enum class Check { Ok, Missing, NotExecutable };

// stat() follows symlinks relative to the current root, which is the container's after
// pivot_root. In tests (root != "/") an absolute symlink would leave the temp root, so the
// fixture uses regular files.
Check check_file(const std::string& host_path) {
  struct stat st {};
  if (::stat(host_path.c_str(), &st) != 0) {
    return Check::Missing;
  }
  if (S_ISDIR(st.st_mode)) {
    return Check::NotExecutable;
  }
  if ((st.st_mode & 0111) == 0) {
    return Check::NotExecutable;
  }
  return Check::Ok;
}

std::string under(const std::string& root, const std::string& path) {
  if (root.empty() || root == "/") {
    return path;
  }
  return root + path;
}

}  // namespace

std::string env_value(const std::vector<std::string>& env, std::string_view key) {
  std::string found;
  for (const auto& kv : env) {
    if (kv.size() > key.size() && kv.compare(0, key.size(), key) == 0 && kv[key.size()] == '=') {
      found = kv.substr(key.size() + 1);
    }
  }
  return found;
}

base::Result<std::string> resolve_executable(const std::string& root, const std::string& name,
                                             const std::vector<std::string>& env,
                                             const std::string& cwd) {
  if (name.empty()) {
    return base::make_error(base::ErrorCode::InvalidArgument, "process.args: empty command");
  }
  if (name.find('/') != std::string::npos) {
    std::string path = name;
    if (path[0] != '/') {
      path = (cwd.empty() || cwd.back() != '/' ? cwd + "/" : cwd) + path;
    }
    switch (check_file(under(root, path))) {
      case Check::Ok:
        return name;
      case Check::Missing:
        return base::make_error(base::ErrorCode::NotFound,
                                "exec: \"{}\": stat {}: no such file or directory", name, name);
      case Check::NotExecutable:
        return base::make_error(base::ErrorCode::PermissionDenied,
                                "exec: \"{}\": permission denied", name);
    }
  }
  std::string path_env = env_value(env, "PATH");
  bool has_path = false;
  for (const auto& kv : env) {
    has_path = has_path || kv.rfind("PATH=", 0) == 0;
  }
  if (!has_path) {
    path_env = std::string(kDefaultPath);
  }
  bool saw_non_executable = false;
  for (const std::string& entry : base::split(path_env, ':')) {
    // POSIX: an empty PATH entry is the current directory.
    const std::string dir = entry.empty() ? std::string(1, '.') : entry;
    std::string candidate = dir + "/" + name;
    std::string in_container = candidate[0] == '/' ? candidate : cwd + "/" + candidate;
    switch (check_file(under(root, in_container))) {
      case Check::Ok:
        return candidate;
      case Check::NotExecutable:
        saw_non_executable = true;
        break;
      case Check::Missing:
        break;
    }
  }
  if (saw_non_executable) {
    return base::make_error(base::ErrorCode::PermissionDenied, "exec: \"{}\": permission denied",
                            name);
  }
  return base::make_error(base::ErrorCode::NotFound,
                          "exec: \"{}\": executable file not found in $PATH", name);
}

}  // namespace mydocker::runtime::process
