#!/usr/bin/env bash
# Streams benchmark (issue 5), mydockerd side by side with dockerd when installed (Debian's
# docker.io: a private dockerd + containerd on temp roots), each driven by its own CLI:
#   1. `exec <ctr> true`: median wall time over RUNS, interleaved (mydocker CLI -> mydockerd,
#      docker CLI -> dockerd; and the docker CLI -> mydockerd, to separate client from daemon)
#   2. keystroke round trip through `mydocker run -it` against a local pty (tty_bench): the
#      added latency is the difference of the medians
#   3. stdout throughput: 1 GiB of text piped through `run -i busybox cat` to /dev/null, with
#      the default json-file log and with --log-driver none (MB/s)
#
#   sudo tests/bench/streams.sh [RUNS]     (default 30; build/ must be built)
#   MYDOCKER_BIN=build-release/bin sudo tests/bench/streams.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-30}
bin=$(realpath "${MYDOCKER_BIN:-build/bin}")
for b in mydockerd mydocker mydocker-shim tty_bench; do
  [ -x "$bin/$b" ] || { echo "streams.sh: build first ($bin/$b missing)" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "streams.sh: run as root" >&2; exit 1; }
work=$(mktemp -d /tmp/mydocker-bench-XXXXXX)
. tests/bench/lib.sh
trap stop_daemons EXIT

start_mydockerd
have_docker=0
if start_dockerd; then have_docker=1; else echo "dockerd not installed: ratios skipped"; fi

# 1. exec true
md run -d --name bench busybox sleep 100000 >/dev/null
[ "$have_docker" = 0 ] || dk run -d --name bench busybox sleep 100000 >/dev/null
for _ in 1 2 3; do
  md exec bench true
  [ "$have_docker" = 0 ] || dk exec bench true
done
t_md= t_dk= t_dkmd=
for ((i = 0; i < runs; i++)); do
  s=$EPOCHREALTIME; md exec bench true; t_md+="$(ms_since "$s") "
  if [ "$have_docker" = 1 ]; then
    s=$EPOCHREALTIME; dk exec bench true; t_dk+="$(ms_since "$s") "
  fi
  s=$EPOCHREALTIME; docker -H "unix://$sock" exec bench true; t_dkmd+="$(ms_since "$s") "
done
exec_md=$(median <<<"$t_md")
exec_dkmd=$(median <<<"$t_dkmd")
exec_dk=$([ "$have_docker" = 1 ] && median <<<"$t_dk" || echo 0)

# 2. keystroke round trip
echoer="stty raw -echo; exec cat"
local_rt=$("$bin/tty_bench" 500 -- /bin/busybox sh -c "$echoer" | sed 's/.*median_us=\([0-9.]*\).*/\1/')
md_rt=$("$bin/tty_bench" 500 -- "$bin/mydocker" -H "unix://$sock" run -it --rm --name tty busybox \
  sh -c "$echoer" | sed 's/.*median_us=\([0-9.]*\).*/\1/')
md rm -f tty >/dev/null 2>&1 || true

# 3. throughput: 1 GiB of 64-byte text lines
gib=$((1 << 30))
line=$(printf '%063d' 0)
thr() {  # CLI... -> MB/s
  local s
  s=$EPOCHREALTIME
  yes "$line" | head -c "$gib" | "$@" run -i --rm "${log_args[@]}" busybox cat >/dev/null
  awk -v ms="$(ms_since "$s")" -v b="$gib" 'BEGIN { printf "%.0f", b / 1e6 / (ms / 1000) }'
}
log_args=()
thr_md_log=$(thr "$bin/mydocker" -H "unix://$sock")
thr_dk_log=$([ "$have_docker" = 1 ] && thr docker -H "unix://$dsock" || echo 0)
log_args=(--log-driver none)
thr_md_none=$(thr docker -H "unix://$sock")
thr_dk_none=$([ "$have_docker" = 1 ] && thr docker -H "unix://$dsock" || echo 0)

echo "streams benchmark ($(nproc) cores, $runs runs, binaries from $bin)"
printf '  exec true        mydocker %7.2f ms   docker CLI->mydockerd %7.2f ms   docker->dockerd %7.2f ms   ratio %s\n' \
  "$exec_md" "$exec_dkmd" "$exec_dk" "$(ratio "$exec_md" "$exec_dk")"
printf '  keystroke RTT    local pty %6.1f us   mydocker run -it %6.1f us   added %6.1f us\n' \
  "$local_rt" "$md_rt" "$(awk -v a="$md_rt" -v b="$local_rt" 'BEGIN { print a - b }')"
printf '  1 GiB via cat    json-file: mydocker %s MB/s, dockerd %s MB/s;  log none: mydockerd %s MB/s, dockerd %s MB/s\n' \
  "$thr_md_log" "$thr_dk_log" "$thr_md_none" "$thr_dk_none"
