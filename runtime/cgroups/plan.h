// SPDX-License-Identifier: Apache-2.0
// Plan, then apply: spec::Resources -> the cgroup file writes that realise them, in order.
// Pure functions: nothing here touches the filesystem; what they need to know about the host
// comes in as a V1Features / V2Features value the manager probes first.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/base/error.h"
#include "runtime/spec/spec.h"

namespace mydocker::runtime::cgroups {

// One write: <controller's dir>/<file> = value. v1 resolves `controller` to its hierarchy;
// v2 has one dir and uses it only to know which controllers must be enabled.
struct FileWrite {
  std::string controller;
  std::string file;
  std::string value;

  bool operator==(const FileWrite&) const = default;
};

namespace v1 {

struct Features {
  // memory.memsw.* exist (the kernel accounts swap). Without it a swap limit is refused.
  bool swap_accounting = true;
  // The current memory+swap limit (update): raising both limits must write memsw first,
  // lowering must write it last, as the kernel keeps memsw >= limit at every step. Unset
  // means a fresh cgroup (unlimited).
  std::optional<int64_t> current_memsw_limit;
  // blkio.weight is gone with CFQ; BFQ calls it blkio.bfq.weight(_device).
  bool blkio_bfq = false;
};

// InvalidArgument naming the field for values no kernel takes (a swap below the limit, a
// device rule with a bad type or access) and for `unified` keys (v2 only).
base::Result<std::vector<FileWrite>> writes(const spec::Resources& resources,
                                            const Features& features);

}  // namespace v1

namespace v2 {

// InvalidArgument as v1 (a swap limit without a memory limit, a bad unified key, a bad
// device rule); NotImplemented for realtime cpu settings. Device rules produce no file
// write: v2 enforces them with a BPF program (devices_bpf.h) the manager attaches.
base::Result<std::vector<FileWrite>> writes(const spec::Resources& resources);

}  // namespace v2

}  // namespace mydocker::runtime::cgroups
