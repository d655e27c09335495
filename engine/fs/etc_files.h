// SPDX-License-Identifier: Apache-2.0
// The three files Docker bind-mounts over a container's /etc: hostname, hosts, resolv.conf.
// Contents are computed (pure) and written durably at create.
#pragma once

#include <string>
#include <string_view>

#include "runtime/base/error.h"

namespace mydocker::engine::fs {

// "<hostname>\n".
std::string hostname_file(std::string_view hostname);
// Docker's default hosts (localhost, the ip6 names) plus a line for the container's own
// hostname. Until networking lands a container has loopback only, so its name resolves to
// 127.0.1.1 (Debian's convention), a loopback address inside its own network namespace.
std::string hosts_file(std::string_view hostname);
// The host's resolv.conf with loopback nameservers dropped (in a private network namespace
// 127.x is the container's own loopback, not the host's resolver); when none is left,
// Docker's defaults (8.8.8.8, 8.8.4.4) are added. With the host network the text is kept.
std::string resolv_conf(std::string_view host_text, bool host_network);

// Writes <dir>/hostname, hosts, resolv.conf (host network: the host's /etc/hosts).
struct EtcPaths {
  std::string hostname;
  std::string hosts;
  std::string resolv_conf;
};
base::Result<EtcPaths> write_etc_files(const std::string& dir, std::string_view hostname,
                                       bool host_network);

}  // namespace mydocker::engine::fs
