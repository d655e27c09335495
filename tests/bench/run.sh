#!/usr/bin/env bash
# Daemon benchmark (issue 4): a private mydockerd (temp data root, exec root, socket and cgroup
# parent), driven by the mydocker CLI.
#   1. `mydocker run --rm busybox true`: median wall time over RUNS runs (after 3 warm-ups)
#   2. idle daemon RSS (VmRSS of mydockerd with busybox:latest and no containers)
#   3. per-running-container overhead with 50 `sleep` containers: PSS of each shim
#      (/proc/<pid>/smaps_rollup) plus the daemon's PSS growth, divided by 50
#   4. `mydocker ps -a` with 500 containers (median of 10), and the bare GET /containers/json
#   5. 50 create/start/wait/rm cycles at 8-way parallelism (wall time, cycles per second)
#   6. sequential create-start-wait-rm rate (RUNS cycles)
# The issue's dockerd figures (docs/benchmarks.md) were measured elsewhere; this script does
# not start dockerd yet (TODO(e2e): interleave a private dockerd + containerd when installed,
# #4) and prints "dockerd not installed: ratios skipped".
#
#   sudo tests/bench/run.sh [RUNS]        (default 30; build/ must be built)
#   MYDOCKER_BIN=build-rel/bin sudo tests/bench/run.sh    (binaries from another build dir)
#   N_SLEEP=5 N_PS=20 N_PAR=8 tests/bench/run.sh 3          (a quick check of the script)
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-30}
n_sleep=${N_SLEEP:-50}
n_ps=${N_PS:-500}
n_par=${N_PAR:-50}
bin=$(realpath "${MYDOCKER_BIN:-build/bin}")
for b in mydockerd mydocker mydocker-shim; do
  [ -x "$bin/$b" ] || { echo "run.sh: build first ($bin/$b missing)" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "run.sh: run as root" >&2; exit 1; }

work=$(mktemp -d /tmp/mydocker-bench-XXXXXX)
sock=$work/mydockerd.sock
cgparent=/mydocker-bench-$$
echo '{}' >"$work/daemon.json"
dpid=
md() { "$bin/mydocker" -H "unix://$sock" "$@"; }

cleanup() {
  set +e
  if [ -n "$dpid" ] && kill -0 "$dpid" 2>/dev/null; then
    ids=$(md ps -aq --no-trunc 2>/dev/null)
    [ -z "$ids" ] || md rm -f $ids >/dev/null 2>&1
    kill -TERM "$dpid"
    wait "$dpid" 2>/dev/null
  fi
  # Anything the daemon left: mounts under the temp dir, our cgroup parent.
  awk -v w="$work/" 'index($5, w) == 1 {print $5}' /proc/self/mountinfo | sort -r |
    while read -r m; do umount -l "$m"; done
  for h in /sys/fs/cgroup/*/; do
    [ -d "$h$cgparent" ] && find "$h$cgparent" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  rm -rf "$work"
}
trap cleanup EXIT

# The exec root is volatile state, on a tmpfs as /run is on a systemd host (this machine's
# /run is plain ext4, where each fsync of a shim's exit record costs milliseconds).
# BENCH_EXEC_TMPFS=0 keeps it on the temp dir's filesystem.
mkdir -p "$work/exec"
if [ "${BENCH_EXEC_TMPFS:-1}" = 1 ]; then
  mount -t tmpfs -o mode=0700 tmpfs "$work/exec"
fi
"$bin/mydockerd" --data-root "$work/data" --exec-root "$work/exec" -H "unix://$sock" \
  --pidfile "$work/mydockerd.pid" --config-file "$work/daemon.json" \
  --cgroup-parent "$cgparent" 2>"$work/mydockerd.log" &
dpid=$!
for _ in $(seq 1 1000); do
  curl -sf --unix-socket "$sock" http://d/_ping >/dev/null 2>&1 && break
  kill -0 "$dpid" 2>/dev/null || { cat "$work/mydockerd.log" >&2; exit 1; }
  sleep 0.01
done
MYDOCKER_HOST=unix://$sock scripts/make-busybox-image.sh "$bin/mydocker" >/dev/null

ms_since() { awk -v s="$1" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.3f", (e - s) * 1000 }'; }
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
kib() { awk -v k="$1" 'BEGIN { printf "%.2f MiB", k / 1024 }'; }
pss_kib() { awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup"; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

if command -v dockerd >/dev/null; then
  echo "dockerd installed, but this script does not drive it yet: ratios skipped"
else
  echo "dockerd not installed: ratios skipped"
fi

# 2 first (idle right after start-up and import), then again after the run loop.
idle_rss=$(rss_kib "$dpid")

# 1. run --rm
for _ in 1 2 3; do md run --rm busybox true; done
times=
for ((i = 0; i < runs; i++)); do
  s=$EPOCHREALTIME
  md run --rm busybox true
  times+="$(ms_since "$s") "
done
run_med=$(median <<<"$times")
idle_rss_after=$(rss_kib "$dpid")

# 3. 50 running sleep containers
daemon_pss0=$(pss_kib "$dpid")
for _ in $(seq 1 "$n_sleep"); do md run -d busybox sleep 100000 >/dev/null; done
shim_pss=0
nshims=0
for p in /proc/[0-9]*; do
  [ "$(readlink "$p/exe" 2>/dev/null)" = "$bin/mydocker-shim" ] || continue
  [ "$(awk '{print $4}' "$p/stat")" = "$dpid" ] || continue
  shim_pss=$((shim_pss + $(pss_kib "${p#/proc/}")))
  nshims=$((nshims + 1))
done
daemon_pss1=$(pss_kib "$dpid")
per_container=$(( (shim_pss + daemon_pss1 - daemon_pss0) / n_sleep ))
ids=$(md ps -q --no-trunc)
md rm -f $ids >/dev/null

# 4. ps -a with 500 containers (created in parallel: creation is not what is measured here)
seq 1 "$n_ps" | xargs -P 8 -I{} "$bin/mydocker" -H "unix://$sock" create busybox true >/dev/null
count=$(md ps -aq | wc -l)
times=
api_times=
for _ in $(seq 1 10); do
  s=$EPOCHREALTIME
  md ps -a >/dev/null
  times+="$(ms_since "$s") "
  s=$EPOCHREALTIME
  curl -sf --unix-socket "$sock" 'http://d/v1.41/containers/json?all=1' >/dev/null
  api_times+="$(ms_since "$s") "
done
ps_med=$(median <<<"$times")
api_med=$(median <<<"$api_times")
ids=$(md ps -aq --no-trunc)
md rm -f $ids >/dev/null

# 5. 50 create/start/wait/rm at 8-way parallelism
cycle() {
  local id
  id=$("$bin/mydocker" -H "unix://$sock" create busybox true)
  "$bin/mydocker" -H "unix://$sock" start "$id" >/dev/null
  "$bin/mydocker" -H "unix://$sock" wait "$id" >/dev/null
  "$bin/mydocker" -H "unix://$sock" rm "$id" >/dev/null
}
export -f cycle
export bin sock
s=$EPOCHREALTIME
seq 1 "$n_par" | xargs -P 8 -I{} bash -c cycle
par_ms=$(ms_since "$s")
par_rate=$(awk -v m="$par_ms" -v n="$n_par" 'BEGIN { printf "%.1f", n / (m / 1000) }')

# 6. sequential create-start-wait-rm
s=$EPOCHREALTIME
for ((i = 0; i < runs; i++)); do cycle; done
seq_ms=$(ms_since "$s")
seq_rate=$(awk -v m="$seq_ms" -v n="$runs" 'BEGIN { printf "%.1f", n / (m / 1000) }')

left=$(md ps -aq | wc -l)
echo "mydockerd benchmark ($(nproc) cores, $runs runs, binaries from $bin)"
printf '  run --rm busybox true          median %8.2f ms\n' "$run_med"
printf '  idle daemon RSS                %s after start-up, %s after the run loop\n' \
  "$(kib "$idle_rss")" "$(kib "$idle_rss_after")"
printf '  per running container          %s PSS (%d sleep containers, %d shims: %s; daemon growth %s)\n' \
  "$(kib "$per_container")" "$n_sleep" "$nshims" "$(kib "$shim_pss")" "$(kib $((daemon_pss1 - daemon_pss0)))"
printf '  ps -a with %d containers      median %8.2f ms (GET /containers/json?all=1: %.2f ms)\n' \
  "$count" "$ps_med" "$api_med"
printf '  %d create/start/wait/rm, -P 8  %8.0f ms (%s per second)\n' "$n_par" "$par_ms" "$par_rate"
printf '  sequential create-start-wait-rm %s per second (%d cycles)\n' "$seq_rate" "$runs"
[ "$left" -eq 0 ] || echo "  warning: $left containers left" >&2
