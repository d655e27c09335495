#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Dockerfile build benchmark (issue 7): a 10-step Dockerfile on busybox (ENV, WORKDIR, COPY of
# ~20 MB in 140 files, RUN, LABEL, ARG, RUN, EXPOSE, CMD), built by
#   mydocker  `mydocker build` -> a private mydockerd
#   dockerd   `DOCKER_BUILDKIT=0 docker build` (the classic builder) -> a private dockerd +
#             containerd (Debian's docker.io), when installed
# Two figures each, interleaved per run (RUNS runs, default 5), medians and ratios printed:
#   cold    `build --no-cache -t bench:cold`, after the previous run's images were removed and
#           the page cache written back (sync): every step runs and commits
#   cached  `build -t bench:cached` after an untimed warm-up build of the same context: every
#           step is "Using cache" (checked once, outside the timing)
# Both clients send the same context directory (a tar of ~20 MB over the unix socket) and are
# timed from the shell (the CLI's own start-up included: docker's Go binary, mydocker's C++
# one). Ratios are mydocker / dockerd; < 1 means mydocker is faster.
#
#   sudo tests/bench/build.sh [RUNS]                  (MYDOCKER_BIN default build/bin, Release)
#   MYDOCKER_BIN=build-rel/bin sudo tests/bench/build.sh 7
#   BENCH_PROFILE=1 ...       also prints mydockerd's per-step log lines of the last cached build
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-5}
bin=$(realpath "${MYDOCKER_BIN:-build/bin}")
for b in mydockerd mydocker mydocker-shim; do
  [ -x "$bin/$b" ] || { echo "build.sh: build first ($bin/$b missing)" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "build.sh: run as root" >&2; exit 1; }
work=$(mktemp -d /var/tmp/mydocker-buildbench.XXXXXX)
. tests/bench/lib.sh
trap stop_daemons EXIT

# The context: 40 files of 448 KiB and 100 of 24 KiB (~20 MB, incompressible), a Dockerfile
# and a .dockerignore. Generated once; both daemons get the same bytes.
ctx=$work/ctx
mkdir -p "$ctx/data/big" "$ctx/data/small"
python3 - "$ctx/data" <<'PY'
import random, sys
rng = random.Random(7)
root = sys.argv[1]
for i in range(40):
    with open(f"{root}/big/blob{i:02d}.bin", "wb") as f:
        f.write(rng.randbytes(448 << 10))
for i in range(100):
    with open(f"{root}/small/part{i:03d}.dat", "wb") as f:
        f.write(rng.randbytes(24 << 10))
PY
cat >"$ctx/Dockerfile" <<'EOF'
FROM busybox
ENV APP_HOME=/app PATH=/app/bin:/usr/sbin:/usr/bin:/sbin:/bin
WORKDIR /app
COPY data/ /app/data/
RUN mkdir -p /app/bin && printf '#!/bin/sh\necho hello\n' >/app/bin/hello && chmod 755 /app/bin/hello
LABEL org.example.bench=build org.example.version=1
ARG FLAVOR=plain
RUN echo "$FLAVOR" >/app/flavor && ls /app/data/big | wc -l >/app/count
EXPOSE 8080
CMD ["hello"]
EOF
printf 'Dockerfile\n.dockerignore\n' >"$ctx/.dockerignore"
ctx_mb=$(du -sm "$ctx/data" | cut -f1)

start_mydockerd
have_docker=0
if start_dockerd; then have_docker=1; else echo "dockerd not installed: its column is skipped"; fi
dkb() { DOCKER_BUILDKIT=0 dk build "$@" 2>/dev/null; }

# Each daemon once untimed (first-touch costs: the image, the page cache of the context), and
# the cached path checked: every step after FROM must say "Using cache".
md build -q -t bench:warm "$ctx" >/dev/null
n=$(md build -t bench:warm "$ctx" | grep -c 'Using cache' || true)
[ "$n" -eq 9 ] || echo "warning: mydocker's rebuild used the cache for $n of 9 steps" >&2
if [ "$have_docker" = 1 ]; then
  dkb -q -t bench:warm "$ctx" >/dev/null
  n=$(dkb -t bench:warm "$ctx" | grep -c 'Using cache' || true)
  [ "$n" -eq 9 ] || echo "warning: dockerd's rebuild used the cache for $n of 9 steps" >&2
fi

t_mc= t_dc= t_mh= t_dh=
for run in $(seq "$runs"); do
  md rmi -f bench:cold >/dev/null 2>&1 || true
  [ "$have_docker" = 0 ] || dk rmi -f bench:cold >/dev/null 2>&1 || true
  sync
  s=$EPOCHREALTIME; md build -q --no-cache -t bench:cold "$ctx" >/dev/null; a=$(ms_since "$s")
  b=n/a
  if [ "$have_docker" = 1 ]; then
    sync
    s=$EPOCHREALTIME; dkb -q --no-cache -t bench:cold "$ctx" >/dev/null; b=$(ms_since "$s")
    t_dc+="$b "
  fi
  md build -q -t bench:cached "$ctx" >/dev/null
  s=$EPOCHREALTIME; md build -q -t bench:cached "$ctx" >/dev/null; c=$(ms_since "$s")
  d=n/a
  if [ "$have_docker" = 1 ]; then
    dkb -q -t bench:cached "$ctx" >/dev/null
    s=$EPOCHREALTIME; dkb -q -t bench:cached "$ctx" >/dev/null; d=$(ms_since "$s")
    t_dh+="$d "
  fi
  t_mc+="$a " t_mh+="$c "
  echo "run $run: cold mydocker $a ms, dockerd $b ms; cached mydocker $c ms, dockerd $d ms"
done

m_mc=$(median <<<"$t_mc")
m_mh=$(median <<<"$t_mh")
echo "context: ${ctx_mb} MB in 140 files; 10 steps; $runs runs; binaries from $bin"
echo "median: mydocker build cold $m_mc ms, cached $m_mh ms"
if [ "$have_docker" = 1 ]; then
  m_dc=$(median <<<"$t_dc")
  m_dh=$(median <<<"$t_dh")
  echo "median: docker build (DOCKER_BUILDKIT=0, dockerd) cold $m_dc ms, cached $m_dh ms"
  echo "ratio mydocker/dockerd: cold $(ratio "$m_mc" "$m_dc") (target <= 0.50x), cached $(ratio "$m_mh" "$m_dh") (target <= 0.20x)"
fi
if [ "${BENCH_PROFILE:-0}" = 1 ]; then
  echo "--- mydockerd log (tail)"
  tail -n 40 "$work/mydockerd.log"
fi
