#!/usr/bin/env bash
# Quickstart: install, build, make a busybox bundle from the host's busybox-static, and run a
# container in it with mydocker-runtime. (The daemon and CLI arrive with the next issues.)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "quickstart: run as root (sudo scripts/quickstart.sh): containers need namespaces and cgroups" >&2
  exit 1
fi

echo "==> installing build dependencies (apt-get)"
scripts/install-deps.sh
echo "==> building"
BUILD_TYPE=Release BUILD_DIR=build-release scripts/build.sh -DBUILD_TESTING=OFF
runtime=$PWD/build-release/cmd/mydocker-runtime/mydocker-runtime

bundle=/var/lib/mydocker/quickstart/busybox
echo "==> making an OCI bundle in $bundle from /bin/busybox"
rm -rf "$bundle"
mkdir -p "$bundle"
scripts/make-busybox-bundle.sh "$bundle" "$runtime"

echo "==> running a container"
tmp=$(mktemp)
jq '.process.args = ["sh", "-c", "echo \"hello from $(hostname), pid $$, as $(id -un)\"; echo \"cgroup: $(head -n1 /proc/self/cgroup)\"; ls /"]' \
  "$bundle/config.json" >"$tmp" && mv "$tmp" "$bundle/config.json"
"$runtime" --root /run/mydocker-runtime run --bundle "$bundle" "quickstart-$$"

cat <<EOT

It works: that was PID 1 of a new container (its own pid, mount, uts, ipc and network
namespaces, a cgroup, pivot_root into the busybox rootfs, Docker's default capabilities).
Try next:
  sudo $runtime run --bundle $bundle demo          # the bundle's default command
  cd $bundle && sudo jq '.process.terminal=true | .process.args=["sh"]' config.json > c && sudo mv c config.json
  sudo $runtime run --bundle $bundle shell         # an interactive shell in the container
  sudo $runtime list                               # containers and their state
  sudo MYDOCKER_RUNTIME=$runtime tests/bench/runtime-start.sh   # start time against runc
EOT
