// SPDX-License-Identifier: Apache-2.0
#include "tests/support/busybox_rootfs.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;

namespace mydocker::testing {
namespace {

constexpr const char* kBusybox = "/bin/busybox";

std::string run_capture(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) {
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) {
    out.append(buf, n);
  }
  ::pclose(p);
  return out;
}

void write(const fs::path& p, const std::string& text) {
  std::ofstream out(p);
  out << text;
}

std::string make_temp_dir() {
  static std::atomic<int> counter{0};
  std::string base = fs::temp_directory_path().string() + "/mydocker-test-" +
                     std::to_string(::getpid()) + "-" + std::to_string(counter++);
  fs::remove_all(base);
  fs::create_directories(base);
  return base;
}

class Fixture {
 public:
  Fixture() {
    if (::access(kBusybox, X_OK) != 0) {
      std::fprintf(stderr, "busybox fixture: %s missing (apt-get install busybox-static)\n",
                   kBusybox);
      std::abort();
    }
    dir_ = make_temp_dir();
    rootfs_ = dir_ + "/rootfs";
    build(rootfs_);
  }
  ~Fixture() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  const std::string& rootfs() const { return rootfs_; }

 private:
  static void build(const fs::path& root) {
    for (const char* d : {"bin", "etc", "proc", "sys", "dev", "tmp", "root", "home", "var"}) {
      fs::create_directories(root / d);
    }
    fs::permissions(root / "tmp", fs::perms::all | fs::perms::sticky_bit);
    fs::copy_file(kBusybox, root / "bin/busybox");
    std::string list = run_capture(std::string(kBusybox) + " --list");
    size_t start = 0;
    while (start < list.size()) {
      size_t end = list.find('\n', start);
      if (end == std::string::npos) {
        end = list.size();
      }
      std::string applet = list.substr(start, end - start);
      start = end + 1;
      if (applet.empty() || applet == "busybox") {
        continue;
      }
      std::error_code ec;
      fs::create_symlink("busybox", root / "bin" / applet, ec);
    }
    write(root / "etc/passwd",
          "root:x:0:0:root:/root:/bin/sh\n"
          "daemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
          "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
    write(root / "etc/group",
          "root:x:0:\n"
          "daemon:x:1:\n"
          "nogroup:x:65534:\n");
    write(root / "etc/hostname", "busybox\n");
  }

  std::string dir_;
  std::string rootfs_;
};

}  // namespace

const std::string& busybox_rootfs() {
  static Fixture fixture;
  return fixture.rootfs();
}

std::string copy_rootfs(const std::string& parent_dir) {
  std::string dst = parent_dir + "/rootfs";
  std::string cmd = "cp -a '" + busybox_rootfs() + "' '" + dst + "'";
  if (std::system(cmd.c_str()) != 0) {
    std::fprintf(stderr, "copy_rootfs: `%s` failed\n", cmd.c_str());
    std::abort();
  }
  return dst;
}

std::set<std::string> list_dir(const std::string& path) {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(path, ec)) {
    out.insert(e.path().filename().string());
  }
  return out;
}

TempDir::TempDir() : path_(make_temp_dir()) {}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

}  // namespace mydocker::testing
