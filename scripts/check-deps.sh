#!/usr/bin/env bash
# Module boundaries (docs/architecture.md): a module may include only what it may link.
# Fails naming the file and the include that crosses a boundary.
set -euo pipefail
cd "$(dirname "$0")/.."

status=0
check() {  # check DIR ALLOWED-PREFIXES...
  local dir=$1
  shift
  local allowed="$*"
  [ -d "$dir" ] || return 0
  while IFS=: read -r file _ inc; do
    local target
    target=$(sed -E 's/.*#include "([^"]+)".*/\1/' <<<"$inc")
    local ok=0
    for prefix in $allowed; do
      case "$target" in "$prefix"*) ok=1 ;; esac
    done
    if [ "$ok" -eq 0 ]; then
      echo "check-deps: $file includes \"$target\", which $dir/ may not use" >&2
      status=1
    fi
  done < <(grep -rn --include='*.h' --include='*.cpp' '#include "' "$dir" || true)
}

check runtime/base runtime/base/
check runtime runtime/
check image/reference runtime/base/ image/reference/
check image/dockerfile runtime/base/ image/dockerfile/
check image/registry runtime/base/ image/digest/ image/reference/ image/content/ image/layers/ image/archive/ image/store/ image/registry/
check image runtime/base/ image/
check engine/logs runtime/base/ engine/logs/
check engine/shim runtime/base/ engine/shim/
check engine/events runtime/base/ image/content/ engine/daemon.h engine/container/ image/ engine/events/
check engine/stats runtime/base/ runtime/cgroups/ image/content/ engine/stats/
check engine runtime/ image/ engine/
check api/wire runtime/base/ api/wire/
check api/client runtime/base/ api/wire/ api/client/ image/reference/
check api runtime/base/ engine/ image/ api/
check cmd/mydockerd runtime/base/ engine/ api/server/ api/wire/ cmd/mydockerd/
check cmd/mydocker-shim runtime/ engine/shim/ engine/logs/ cmd/mydocker-shim/
check cmd/mydocker-runtime runtime/ cmd/mydocker-runtime/
check cmd/mydocker runtime/base/ api/wire/ api/client/ image/reference/ image/dockerfile/ cmd/mydocker/
exit $status
