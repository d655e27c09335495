#!/usr/bin/env bash
# Runtime start benchmark: median wall time of `RUNTIME run` of a busybox `true` bundle,
# mydocker-runtime against runc (and crun when installed), interleaved so that all see the
# same machine state, >= 30 runs each. Prints medians and ratios to runc.
#
#   sudo tests/bench/runtime-start.sh [RUNS]        (default 30; build/ must be built)
#
# The bundle's config.json is written by `runc spec` and adjusted (args ["true"], no
# terminal), so every runtime gets the very same bundle. crun 1.8 refuses this host's hybrid
# cgroup layout, so the whole loop runs in a private mount namespace with the empty cgroup2
# mount hidden: every runtime is measured in the same namespace.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-30}
mydocker=${MYDOCKER_RUNTIME:-$PWD/build/bin/mydocker-runtime}
[ -x "$mydocker" ] || { echo "runtime-start: build first ($mydocker missing)" >&2; exit 1; }
command -v runc >/dev/null || { echo "runtime-start: runc missing (apt-get install runc)" >&2; exit 1; }

if [ -z "${MYDOCKER_BENCH_INNER:-}" ]; then
  export MYDOCKER_BENCH_INNER=1 MYDOCKER_RUNTIME=$mydocker
  exec unshare --mount --propagation private -- "$0" "$@"
fi
if grep -q ' - cgroup2 ' /proc/self/mountinfo && grep -q ' - cgroup cgroup ' /proc/self/mountinfo; then
  umount "$(awk '$0 ~ / - cgroup2 / {print $5}' /proc/self/mountinfo | head -n1)" || true
fi

work=$(mktemp -d /tmp/mydocker-bench-XXXXXX)
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
bundle=$work/bundle
scripts/make-busybox-bundle.sh "$bundle" "$mydocker" >/dev/null
rm -f "$bundle/config.json"
(cd "$bundle" && runc spec)
jq '.process.terminal = false | .process.args = ["true"]' "$bundle/config.json" >"$work/c"
mv "$work/c" "$bundle/config.json"

declare -A bin=([mydocker-runtime]=$mydocker [runc]=$(command -v runc))
if command -v crun >/dev/null; then bin[crun]=$(command -v crun); fi
names=("${!bin[@]}")
declare -A times
for name in "${names[@]}"; do
  mkdir -p "$work/root-$name"
  # One warm-up run each (page cache, binary load).
  "${bin[$name]}" --root "$work/root-$name" run --bundle "$bundle" "warm-$name" >/dev/null 2>&1 || {
    echo "runtime-start: $name failed to run the bundle; skipping it" >&2
    unset "bin[$name]"
  }
done
names=("${!bin[@]}")

for ((i = 0; i < runs; i++)); do
  for name in "${names[@]}"; do
    start=$EPOCHREALTIME
    "${bin[$name]}" --root "$work/root-$name" run --bundle "$bundle" "b$i" >/dev/null
    end=$EPOCHREALTIME
    times[$name]+="$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", (e - s) * 1000 }') "
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
declare -A med
for name in "${names[@]}"; do med[$name]=$(median <<<"${times[$name]}"); done
echo "runtime start: median wall time of \`run\` of a busybox \`true\` bundle, $runs runs each, interleaved"
for name in mydocker-runtime runc crun; do
  [ -n "${med[$name]:-}" ] || continue
  ratio=$(awk -v a="${med[$name]}" -v b="${med[runc]}" 'BEGIN { printf "%.2f", a / b }')
  printf '  %-17s %8.2f ms   %sx runc\n' "$name" "${med[$name]}" "$ratio"
done
