#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Registry pull benchmark (issue 6): cold pull of a ~200 MB, 6-layer image from a local
# docker-registry (127.0.0.1, temp storage) by mydocker (tests/bench/pull_bench: download,
# verify and unpack into a fresh image store, overlapped) and by skopeo (`skopeo copy
# docker://... dir:D`: download and verify only, unpacks nothing: a lower bound), interleaved,
# RUNS runs each (default 5). dockerd is not run here (never start one on a shared host); the
# issue's dockerd figure for a comparable image is 1.5 s.
#
#   tests/bench/pull.sh [BUILD_DIR]        (default build-registry; needs target pull_bench)
#   RUNS=7 WORK=/var/tmp/x PARALLEL=4 SYNC=0 tests/bench/pull.sh
#
# The image is generated deterministically (seeded Python PRNG: per layer, half incompressible
# bytes and half text, ~2:1 under gzip), saved as a docker archive and pushed with skopeo
# (which gzips the layers). Nothing leaves 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build-registry}
RUNS=${RUNS:-5}
PARALLEL=${PARALLEL:-3}
SYNC=${SYNC:-1}
BENCH=$PWD/$BUILD/bin/pull_bench
[ -x "$BENCH" ] || { echo "pull.sh: build $BENCH first (ninja -C $BUILD pull_bench)" >&2; exit 1; }
command -v skopeo >/dev/null || { echo "pull.sh: needs skopeo" >&2; exit 1; }
[ -x /usr/bin/docker-registry ] || { echo "pull.sh: needs docker-registry" >&2; exit 1; }
WORK=${WORK:-$(mktemp -d /var/tmp/mydocker-pullbench.XXXXXX)}
mkdir -p "$WORK"
reg_pid=
cleanup() {
  if [ -n "$reg_pid" ]; then
    kill "$reg_pid" 2>/dev/null || true
    wait "$reg_pid" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$WORK/config.yml" <<YAML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $WORK/storage
http:
  addr: 127.0.0.1:$port
  secret: pull-bench
YAML
/usr/bin/docker-registry serve "$WORK/config.yml" >"$WORK/registry.log" 2>&1 &
reg_pid=$!
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/v2/" >/dev/null && break
  sleep 0.1
done

echo "==> generating the image"
python3 - "$WORK/image.tar" <<'PY'
import hashlib, io, json, random, sys, tarfile
rng = random.Random(6)
words = [bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
         for _ in range(4000)]
def text(n):
    out = bytearray()
    while len(out) < n:
        out += rng.choice(words) + b" "
        if rng.random() < 0.1:
            out += b"\n"
    return bytes(out[:n])
sizes = [60, 50, 40, 25, 15, 10]  # MiB uncompressed per layer, ~200 MiB in all
layers, diff_ids = [], []
for i, mib in enumerate(sizes):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        left, n = mib << 20, 0
        while left > 0:
            size = min(left, rng.choice([4096, 65536, 1 << 20, 4 << 20]))
            data = rng.randbytes(size) if n % 2 == 0 else text(size)
            info = tarfile.TarInfo(f"layer{i}/dir{n % 17}/file{n}")
            info.size, info.mtime, info.mode = size, 1700000000, 0o644
            t.addfile(info, io.BytesIO(data))
            left -= size
            n += 1
    blob = buf.getvalue()
    layers.append(blob)
    diff_ids.append("sha256:" + hashlib.sha256(blob).hexdigest())
config = json.dumps({"architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
                     "config": {"Cmd": ["/bin/sh"]},
                     "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
chex = hashlib.sha256(config).hexdigest()
with tarfile.open(sys.argv[1], "w") as out:
    def add(name, data):
        info = tarfile.TarInfo(name)
        info.size, info.mtime = len(data), 1700000000
        out.addfile(info, io.BytesIO(data))
    names = []
    for blob in layers:
        name = hashlib.sha256(blob).hexdigest() + "/layer.tar"
        add(name, blob)
        names.append(name)
    add(chex + ".json", config)
    add("manifest.json", json.dumps([{"Config": chex + ".json", "RepoTags": ["bench:v1"],
                                       "Layers": names}]).encode())
PY
ref=127.0.0.1:$port/bench:v1
skopeo copy -q --dest-tls-verify=false "docker-archive:$WORK/image.tar" "docker://$ref"
rm -f "$WORK/image.tar"
gz=$(curl -fs -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
  "http://127.0.0.1:$port/v2/bench/manifests/v1" | python3 -c 'import json,sys; print(sum(l["size"] for l in json.load(sys.stdin)["layers"]))')
echo "image: 6 layers, $((gz >> 20)) MiB gzip, 200 MiB unpacked"

flags=(--parallel "$PARALLEL")
[ "$SYNC" = 1 ] || flags+=(--no-sync)
now_ms() { date +%s%3N; }
mine=() skop=()
for run in $(seq "$RUNS"); do
  rm -rf "$WORK/root" "$WORK/dir"
  sync
  t0=$(now_ms)
  "$BENCH" "${flags[@]}" "$WORK/root" "$ref" >/dev/null
  t1=$(now_ms)
  skopeo copy -q --src-tls-verify=false "docker://$ref" "dir:$WORK/dir"
  t2=$(now_ms)
  mine+=($((t1 - t0)))
  skop+=($((t2 - t1)))
  echo "run $run: mydocker $((t1 - t0)) ms, skopeo dir $((t2 - t1)) ms"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
m=$(median "${mine[@]}")
s=$(median "${skop[@]}")
echo "median: mydocker pull $m ms (download+verify+unpack), skopeo copy to dir $s ms (download+verify only)"
echo "dockerd reference (issue 6, comparable image): 1500 ms; 2x target: 750 ms"
