#!/usr/bin/env bash
# make-busybox-bundle.sh DIR [mydocker-runtime]
# Makes an OCI bundle in DIR: rootfs/ from the host's static busybox (Debian's busybox-static)
# and a config.json from `mydocker-runtime spec` (terminal off, so it runs in scripts).
set -euo pipefail
dir=$1
runtime=${2:-mydocker-runtime}
"$(dirname "$0")/make-busybox-rootfs.sh" "$dir/rootfs"

rm -f "$dir/config.json"
(cd "$dir" && "$runtime" spec)
# No terminal: the bundle is run from scripts and benchmarks.
tmp=$(mktemp)
jq '.process.terminal = false' "$dir/config.json" >"$tmp" && mv "$tmp" "$dir/config.json"
