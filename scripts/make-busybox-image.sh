#!/usr/bin/env bash
# make-busybox-image.sh [mydocker] [REF]
# Makes the image REF (default busybox:latest) in a running mydockerd from the host's
# busybox-static: no registry needed. Its default command is `sh`, as Docker Hub's busybox.
set -euo pipefail
mydocker=${1:-mydocker}
ref=${2:-busybox:latest}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$(dirname "$0")/make-busybox-rootfs.sh" "$tmp/rootfs"
tar -C "$tmp/rootfs" --numeric-owner -cf - . |
  "$mydocker" import -c 'CMD ["sh"]' -m "busybox from the host's busybox-static" - "$ref" >/dev/null
echo "made $ref from $(/bin/busybox | head -n1)"
