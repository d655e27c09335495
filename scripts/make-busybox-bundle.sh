#!/usr/bin/env bash
# make-busybox-bundle.sh DIR [mydocker-runtime]
# Makes an OCI bundle in DIR: rootfs/ from the host's static busybox (Debian's busybox-static)
# and a config.json from `mydocker-runtime spec` (terminal off, so it runs in scripts).
set -euo pipefail
dir=$1
runtime=${2:-mydocker-runtime}
busybox=/bin/busybox
[ -x "$busybox" ] || { echo "make-busybox-bundle: $busybox missing (apt-get install busybox-static)" >&2; exit 1; }

rootfs=$dir/rootfs
mkdir -p "$rootfs"/{bin,etc,proc,sys,dev,tmp,root,var}
chmod 1777 "$rootfs/tmp"
cp "$busybox" "$rootfs/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$rootfs/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
  >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"

rm -f "$dir/config.json"
(cd "$dir" && "$runtime" spec)
# No terminal: the bundle is run from scripts and benchmarks.
tmp=$(mktemp)
jq '.process.terminal = false' "$dir/config.json" >"$tmp" && mv "$tmp" "$dir/config.json"
