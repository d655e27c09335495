// SPDX-License-Identifier: Apache-2.0
#include "engine/fs/etc_files.h"

#include <fcntl.h>
#include <fmt/format.h>

#include "runtime/base/file.h"
#include "runtime/base/strings.h"

namespace mydocker::engine::fs {

std::string hostname_file(std::string_view hostname) {
  return fmt::format("{}\n", hostname);
}

std::string hosts_file(std::string_view hostname) {
  return fmt::format(
      "127.0.0.1\tlocalhost\n"
      "::1\tlocalhost ip6-localhost ip6-loopback\n"
      "fe00::0\tip6-localnet\n"
      "ff00::0\tip6-mcastprefix\n"
      "ff02::1\tip6-allnodes\n"
      "ff02::2\tip6-allrouters\n"
      "127.0.1.1\t{}\n",
      hostname);
}

std::string resolv_conf(std::string_view host_text, bool host_network) {
  if (host_network) {
    return std::string(host_text);
  }
  std::string out;
  bool has_nameserver = false;
  for (const auto& line : base::split(host_text, '\n')) {
    std::string_view t = base::trim(line);
    if (t.starts_with("nameserver")) {
      std::string_view addr = base::trim(t.substr(10));
      if (addr.starts_with("127.") || addr == "::1") {
        continue;
      }
      has_nameserver = true;
    }
    if (!line.empty() || !out.empty()) {
      out += line;
      out += '\n';
    }
  }
  while (out.size() >= 2 && out.ends_with("\n\n")) {
    out.pop_back();
  }
  if (!has_nameserver) {
    out += "nameserver 8.8.8.8\nnameserver 8.8.4.4\n";
  }
  return out;
}

// Plain writes, not fsynced: the files are derived from the record (which is durable) and
// Docker does not sync them either; three fsync pairs would double the cost of a create.
base::Result<EtcPaths> write_etc_files(const std::string& dir, std::string_view hostname,
                                       bool host_network) {
  EtcPaths p{dir + "/hostname", dir + "/hosts", dir + "/resolv.conf"};
  MYDOCKER_TRY(base::write_file(p.hostname, hostname_file(hostname), O_CREAT));
  std::string hosts = hosts_file(hostname);
  if (host_network) {
    if (auto h = base::read_file("/etc/hosts")) {
      hosts = *h;
    }
  }
  MYDOCKER_TRY(base::write_file(p.hosts, hosts, O_CREAT));
  std::string host_resolv = base::read_file("/etc/resolv.conf").value_or("");
  MYDOCKER_TRY(base::write_file(p.resolv_conf, resolv_conf(host_resolv, host_network), O_CREAT));
  return p;
}

}  // namespace mydocker::engine::fs
