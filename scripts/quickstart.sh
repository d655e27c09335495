#!/usr/bin/env bash
# Quickstart: install, build, start mydockerd, make the default image busybox:latest from the
# host's busybox-static (no registry needed) and run a container with the mydocker CLI.
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
bin=$PWD/build-release/bin
mydocker=$bin/mydocker
sock=/run/mydocker.sock

if "$mydocker" -H "unix://$sock" version >/dev/null 2>&1; then
  echo "==> mydockerd already answers on $sock"
else
  echo "==> starting mydockerd (log: /var/log/mydockerd.log)"
  nohup "$bin/mydockerd" -H "unix://$sock" >>/var/log/mydockerd.log 2>&1 &
  for _ in $(seq 100); do
    "$mydocker" -H "unix://$sock" version >/dev/null 2>&1 && break
    sleep 0.1
  done
  "$mydocker" -H "unix://$sock" version >/dev/null || {
    echo "quickstart: mydockerd did not come up; see /var/log/mydockerd.log" >&2
    exit 1
  }
fi

if ! "$mydocker" image inspect busybox:latest >/dev/null 2>&1; then
  echo "==> making busybox:latest from the host's busybox-static"
  scripts/make-busybox-image.sh "$mydocker" busybox:latest
fi

echo "==> mydocker run --rm busybox ..."
"$mydocker" run --rm busybox sh -c 'echo "hello from $(hostname), pid $$, as $(id -un)"; ls /'

cat <<EOT

It works: mydockerd created that container from busybox:latest (overlay rootfs, its own
namespaces and cgroup, Docker's default capabilities and seccomp profile) and removed it.
Try next (the CLI is $mydocker; add $bin to PATH):
  mydocker run -it --rm busybox sh            # an interactive shell; ctrl-p ctrl-q detaches
  mydocker run -d --name web busybox sh -c 'while true; do date; sleep 1; done'
  mydocker logs -f web; mydocker exec -it web sh; mydocker stats web; mydocker events
  mydocker ps; mydocker top web; mydocker stop web; mydocker rm web
  mydocker images; mydocker info
  DOCKER_HOST=unix://$sock docker ps          # the real docker CLI works too
Stop the daemon with: kill \$(cat /run/mydocker/mydockerd.pid)
EOT
