#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Registry pull benchmark (issue 6): cold pull of a ~200 MB, 6-layer image from a local
# docker-registry (127.0.0.1, temp storage), interleaved, RUNS runs each (default 5):
#   mydocker  `mydocker pull` -> a private mydockerd (download, verify, unpack; layers synced)
#   dockerd   `docker pull` -> a private dockerd + containerd (Debian's docker.io), when installed
#   skopeo    `skopeo copy docker://... dir:D`: download and verify only (unpacks nothing)
#   library   pull_bench: image/registry's pull() in one process, no daemon, no API (when
#             built next to mydockerd)
# Each pull is cold: the image is removed (and its layers with it) before each run. Medians and
# ratios (mydocker / other) are printed; ratios < 1 mean mydocker is faster.
#
#   sudo tests/bench/pull.sh [RUNS]                    (MYDOCKER_BIN default build/bin, Release)
#   MYDOCKER_BIN=build-release/bin sudo tests/bench/pull.sh 7
#
# The image is generated deterministically (seeded Python PRNG: per layer, half incompressible
# bytes and half text, ~2:1 under gzip), saved as a docker archive and pushed with skopeo
# (which gzips the layers). Nothing leaves 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-5}
bin=$(realpath "${MYDOCKER_BIN:-build/bin}")
for b in mydockerd mydocker mydocker-shim; do
  [ -x "$bin/$b" ] || { echo "pull.sh: build first ($bin/$b missing)" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "pull.sh: run as root" >&2; exit 1; }
command -v skopeo >/dev/null || { echo "pull.sh: needs skopeo" >&2; exit 1; }
[ -x /usr/bin/docker-registry ] || { echo "pull.sh: needs docker-registry" >&2; exit 1; }
work=$(mktemp -d /var/tmp/mydocker-pullbench.XXXXXX)
. tests/bench/lib.sh
reg_pid=
cleanup() {
  if [ -n "$reg_pid" ]; then
    kill "$reg_pid" 2>/dev/null || true
    wait "$reg_pid" 2>/dev/null || true
  fi
  stop_daemons
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/registry"
cat > "$work/registry/config.yml" <<YAML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/registry/storage
http:
  addr: 127.0.0.1:$port
  secret: pull-bench
YAML
/usr/bin/docker-registry serve "$work/registry/config.yml" >"$work/registry/log" 2>&1 &
reg_pid=$!
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/v2/" >/dev/null && break
  sleep 0.1
done

echo "==> generating the image"
python3 - "$work/image.tar" <<'PY'
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
skopeo copy -q --dest-tls-verify=false "docker-archive:$work/image.tar" "docker://$ref"
ref=127.0.0.1:$port/bench:v1
skopeo copy -q --dest-tls-verify=false "docker-archive:$work/image.tar" "docker://$ref"
rm -f "$work/image.tar"
gz=$(curl -fs -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
  "http://127.0.0.1:$port/v2/bench/manifests/v1" | python3 -c 'import json,sys; print(sum(l["size"] for l in json.load(sys.stdin)["layers"]))')
echo "image: 6 layers, $((gz >> 20)) MiB gzip, 200 MiB unpacked"

start_mydockerd
have_docker=0
if start_dockerd; then have_docker=1; else echo "dockerd not installed: its column is skipped"; fi

t_md= t_dk= t_sk= t_lib=
for run in $(seq "$runs"); do
  md rmi -f "$ref" >/dev/null 2>&1 || true
  sync
  s=$EPOCHREALTIME; md pull -q "$ref" >/dev/null; a=$(ms_since "$s")
  b=n/a
  if [ "$have_docker" = 1 ]; then
    dk rmi -f "$ref" >/dev/null 2>&1 || true
    sync
    s=$EPOCHREALTIME; dk pull -q "$ref" >/dev/null; b=$(ms_since "$s")
    t_dk+="$b "
  fi
  rm -rf "$work/skopeo"
  sync
  s=$EPOCHREALTIME; skopeo copy -q --src-tls-verify=false "docker://$ref" "dir:$work/skopeo"; c=$(ms_since "$s")
  d=n/a
  if [ -x "$bin/pull_bench" ]; then
    rm -rf "$work/lib"
    sync
    s=$EPOCHREALTIME; "$bin/pull_bench" "$work/lib" "$ref" >/dev/null; d=$(ms_since "$s")
    t_lib+="$d "
  fi
  t_md+="$a " t_sk+="$c "
  echo "run $run: mydocker $a ms, dockerd $b ms, skopeo dir $c ms, library $d ms"
done
m_md=$(median <<<"$t_md")
m_sk=$(median <<<"$t_sk")
m_lib=$([ -n "$t_lib" ] && median <<<"$t_lib" || echo 0)
echo "median: mydocker pull $m_md ms, skopeo copy to dir $m_sk ms (no unpack), library pull $m_lib ms"
if [ "$have_docker" = 1 ]; then
  m_dk=$(median <<<"$t_dk")
  echo "median: docker pull (dockerd) $m_dk ms"
  echo "ratio mydocker/dockerd: $(ratio "$m_md" "$m_dk") (target <= 0.50x)"
fi
echo "ratio mydocker/skopeo: $(ratio "$m_md" "$m_sk"); library/skopeo: $(ratio "$m_lib" "$m_sk")"
