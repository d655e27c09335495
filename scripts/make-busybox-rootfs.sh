#!/usr/bin/env bash
# make-busybox-rootfs.sh DIR
# Fills DIR with a minimal root filesystem from the host's static busybox (Debian's
# busybox-static): the binary, its applet links, /etc/passwd and /etc/group.
set -euo pipefail
rootfs=$1
busybox=/bin/busybox
[ -x "$busybox" ] || { echo "make-busybox-rootfs: $busybox missing (apt-get install busybox-static)" >&2; exit 1; }

mkdir -p "$rootfs"/{bin,etc,proc,sys,dev,tmp,root,var}
chmod 1777 "$rootfs/tmp"
cp "$busybox" "$rootfs/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$rootfs/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
  >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
