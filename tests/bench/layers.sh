#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Layer unpack benchmark (issue 3): mydocker's unpack (tests/bench/layers_bench) against
# GNU `tar -xzf` of the same ~200 MB tar+gzip layer, interleaved, RUNS runs each (default 5).
# Prints each run, the medians of wall time (the target: ratio <= 1.2) and of CPU time
# (user+sys, tar's gzip child included; steadier than wall time on a loaded host).
#
#   tests/bench/layers.sh [BUILD_DIR]      (default build-layers; needs target layers_bench)
#   RUNS=7 WORK=/var/tmp/x tests/bench/layers.sh
#
# The tree is generated deterministically (seeded Python PRNG, no /dev/urandom): 16000 small
# text-like files in 400 dirs plus 4 files of 16 MiB (half pseudo-random, half a pattern).
# Run as root for the real configuration (owners kept, as tar does for root).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build-layers}
RUNS=${RUNS:-5}
BENCH=$BUILD/tests/bench/layers_bench
[ -x /usr/bin/time ] || { echo "layers.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
[ -x "$BENCH" ] || { echo "layers.sh: build $BENCH first (ninja -C $BUILD layers_bench)" >&2; exit 1; }
WORK=${WORK:-$(mktemp -d /var/tmp/mydocker-layers-bench.XXXXXX)}
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/tree"

python3 - "$WORK/tree" <<'PY'
import os, random, sys
root = sys.argv[1]
rng = random.Random(42)
words = [bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 10)))
         for _ in range(2000)]
for d in range(400):
    path = os.path.join(root, "d%03d" % (d // 20), "s%03d" % d)
    os.makedirs(path, exist_ok=True)
    for f in range(40):
        size = rng.randint(512, 16384)
        out = bytearray()
        while len(out) < size:
            out += rng.choice(words) + (b"\n" if rng.random() < 0.1 else b" ")
        with open(os.path.join(path, "f%03d.txt" % f), "wb") as fh:
            fh.write(out[:size])
os.makedirs(os.path.join(root, "big"), exist_ok=True)
pattern = bytes(range(256)) * 16
for i in range(4):
    with open(os.path.join(root, "big", "blob%d.bin" % i), "wb") as fh:
        fh.write(rng.randbytes(8 << 20))
        fh.write(pattern * ((8 << 20) // len(pattern)))
PY
tar -C "$WORK/tree" -cf "$WORK/layer.tar" --sort=name --mtime=@1700000000 --owner=0 --group=0 .
gzip -6 -n -c "$WORK/layer.tar" > "$WORK/layer.tar.gz"
echo "tree: $(du -sm "$WORK/tree" | cut -f1) MB, $(find "$WORK/tree" | wc -l) entries;" \
  "tar $(( $(stat -c %s "$WORK/layer.tar") >> 20 )) MB, gzip $(( $(stat -c %s "$WORK/layer.tar.gz") >> 20 )) MB"
rm -rf "$WORK/tree"

median() { sort -g | awk '{a[NR]=$1} END {m=int((NR+1)/2); if (NR%2) print a[m]; else printf "%.3f\n", (a[m]+a[m+1])/2}'; }
# run NAME CMD...: wall and CPU (user+sys, children included: tar's gzip counts) seconds.
run() {
  local name=$1
  shift
  rm -rf "$WORK/out" && mkdir "$WORK/out" && sync
  /usr/bin/time -f "%e %U %S" -o "$WORK/time" "$@" > "$WORK/$name.out"
  read -r wall user sys < "$WORK/time"
  echo "$wall" >> "$WORK/$name.wall"
  echo "$user + $sys" | bc >> "$WORK/$name.cpu"
  printf 'run %d %-13s wall %6.2fs  cpu %6.2fs\n' "$i" "$name:" "$wall" "$(tail -1 "$WORK/$name.cpu")"
}
: > "$WORK/tar.wall" ; : > "$WORK/tar.cpu" ; : > "$WORK/ours.wall" ; : > "$WORK/ours.cpu"
for i in $(seq "$RUNS"); do
  run tar tar -xzf "$WORK/layer.tar.gz" -C "$WORK/out"
  run ours "$BENCH" "$WORK/layer.tar.gz" "$WORK/out"
done
rm -rf "$WORK/out"
expected="sha256:$(sha256sum < "$WORK/layer.tar" | cut -d' ' -f1)"
got=$(cut -d' ' -f2 "$WORK/ours.out")
[ "$got" = "$expected" ] || { echo "layers.sh: diff id $got, expected $expected" >&2; exit 1; }
for m in wall cpu; do
  t=$(median < "$WORK/tar.$m")
  o=$(median < "$WORK/ours.$m")
  echo "median $m: tar -xzf ${t}s  mydocker unpack ${o}s  ratio $(echo "scale=2; $o / $t" | bc)"
done
echo "diff id verified: $got"
