#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Image load benchmark (issue 3): `docker load` of a multi-layer image with mydocker
# (tests/bench/load_bench) against skopeo copying the same archive, interleaved, RUNS runs
# each (default 5). Two archives, as Docker 25's `docker save` writes them (manifest.json +
# OCI layout, uncompressed layers under blobs/sha256/; LAYERS=gzip stores them gzipped):
#   base.tar    4 layers, ~150 MB uncompressed (many small files plus some larger ones)
#   second.tar  the same 4 base layers + 1 top layer of ~5 MB (the whole image, as saved)
# Per run:
#   mydocker    fresh data root; load base.tar (A1), then second.tar into the SAME root (A2:
#               must unpack exactly 1 layer; the base layers' blobs are read past)
#   skopeo dir  `skopeo copy docker-archive:X dir:D`: copies the blobs, unpacks nothing, fresh D
#               for each image (dir: cannot share): a lower bound, not the same work
#   skopeo cs   `skopeo copy docker-archive:X containers-storage:[overlay@R+T]name`: verifies
#               and unpacks every layer into a usable store (the comparable work); second.tar
#               into the SAME store (reuses the base layers). Skipped with a note when it fails.
# Prints each run, the medians of wall and CPU time (user+sys), the ratios mydocker/skopeo and
# A2/A1 against (top layer bytes / all layer bytes).
#
#   tests/bench/load.sh [BUILD_DIR]      (default build-loadbench; needs target load_bench)
#   RUNS=7 WORK=/var/tmp/x LAYERS=gzip tests/bench/load.sh
#   SYNC=0 tests/bench/load.sh           (load_bench --no-sync: layers not synced to disk)
#
# The trees are generated deterministically (seeded Python PRNG, fixed mtimes and owners; no
# network, no registry). Run as root: owners kept and overlay whiteouts, as the daemon does;
# containers-storage needs root too. Each tool runs in a private mount namespace (unshare), so
# the overlay driver's mounts vanish with it.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build-loadbench}
RUNS=${RUNS:-5}
LAYERS=${LAYERS:-tar}
SYNC=${SYNC:-1}
BENCH=$PWD/$BUILD/tests/bench/load_bench
[ -x /usr/bin/time ] || { echo "load.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
[ -x "$BENCH" ] || { echo "load.sh: build $BENCH first (ninja -C $BUILD load_bench)" >&2; exit 1; }
command -v skopeo >/dev/null || { echo "load.sh: needs skopeo (apt-get install skopeo)" >&2; exit 1; }
case $LAYERS in tar | gzip) ;; *) echo "load.sh: LAYERS=tar or gzip" >&2; exit 1 ;; esac
bench_flags=()
[ "$SYNC" = 1 ] || bench_flags=(--no-sync)
WORK=${WORK:-$(mktemp -d /var/tmp/mydocker-load-bench.XXXXXX)}
# A store left behind by an interrupted containers-storage run may hold overlay mounts in the
# private namespace only; they die with it, so removing the tree is enough.
trap 'rm -rf "$WORK"' EXIT

python3 - "$WORK" "$LAYERS" <<'PY'
import gzip, hashlib, io, json, os, platform, random, sys, tarfile
work, compress = sys.argv[1], sys.argv[2] == "gzip"
rng = random.Random(1234)
MTIME = 1700000000
words = [bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 10)))
         for _ in range(2000)]
corpus = bytearray()
while len(corpus) < (4 << 20):
    corpus += rng.choice(words) + (b"\n" if rng.random() < 0.1 else b" ")
corpus = bytes(corpus)
pattern = bytes(range(256)) * 16

def small(size):
    off = rng.randrange(len(corpus) - size)
    return corpus[off:off + size]

def big(size):
    half = size // 2
    return rng.randbytes(half) + (pattern * (size // len(pattern) + 1))[:size - half]

def layer(name, prefix, dirs, files_per_dir, bigs):
    """One layer tar: `dirs` dirs of small text files plus big files of the given sizes."""
    path = os.path.join(work, name + ".tar")
    entries = 0
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tf:
        def add(arcname, data=None):
            nonlocal entries
            ti = tarfile.TarInfo(arcname)
            ti.mtime, ti.uid, ti.gid, ti.uname, ti.gname = MTIME, 0, 0, "root", "root"
            if data is None:
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                tf.addfile(ti)
            else:
                ti.size, ti.mode = len(data), 0o644
                tf.addfile(ti, io.BytesIO(data))
            entries += 1
        add(prefix)
        for d in range(dirs):
            dpath = "%s/d%03d" % (prefix, d)
            add(dpath)
            for f in range(files_per_dir):
                add("%s/f%03d.txt" % (dpath, f), small(rng.randint(256, 8192)))
        if bigs:
            add(prefix + "/big")
        for i, size in enumerate(bigs):
            add("%s/big/blob%d.bin" % (prefix, i), big(size))
    with open(path, "rb") as fh:
        raw = fh.read()
    blob = gzip.compress(raw, compresslevel=6, mtime=0) if compress else raw
    return {"diff_id": "sha256:" + hashlib.sha256(raw).hexdigest(), "blob": blob,
            "size": len(raw), "entries": entries}

MiB = 1 << 20
base = [layer("l1", "usr", 120, 50, [6 * MiB, 6 * MiB]),
        layer("l2", "opt", 80, 50, [7 * MiB, 7 * MiB, 7 * MiB]),
        layer("l3", "srv", 60, 50, [12 * MiB, 12 * MiB]),
        layer("l4", "var", 100, 50, [8 * MiB, 8 * MiB])]
top = layer("l5", "app", 6, 50, [4 * MiB])
for n in ("l1", "l2", "l3", "l4", "l5"):
    os.remove(os.path.join(work, n + ".tar"))

arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
layer_type = "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if compress else "")

def archive(name, tag, layers):
    """A docker-save archive as Docker 25 writes it (docker-save manifest + OCI layout)."""
    config = json.dumps({
        "architecture": arch, "os": "linux", "created": "2023-11-14T22:13:20Z",
        "config": {"Cmd": ["/bin/sh"], "Env": ["PATH=/usr/bin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": [l["diff_id"] for l in layers]},
        "history": [{"created": "2023-11-14T22:13:20Z", "created_by": "layer %d" % i}
                    for i in range(len(layers))],
    }, separators=(",", ":")).encode()
    blobs = {}
    def put(data):
        h = hashlib.sha256(data).hexdigest()
        blobs[h] = data
        return h
    cfg = put(config)
    lh = [put(l["blob"]) for l in layers]
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": "sha256:" + cfg, "size": len(config)},
        "layers": [{"mediaType": layer_type, "digest": "sha256:" + h, "size": len(blobs[h])}
                   for h in lh],
    }, separators=(",", ":")).encode()
    mh = put(manifest)
    index = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "digest": "sha256:" + mh, "size": len(manifest),
                       "annotations": {"io.containerd.image.name": "docker.io/" + tag,
                                       "org.opencontainers.image.ref.name": tag.split(":")[1]}}],
    }, separators=(",", ":")).encode()
    docker_manifest = json.dumps([{
        "Config": "blobs/sha256/" + cfg, "RepoTags": [tag],
        "Layers": ["blobs/sha256/" + h for h in lh]}], separators=(",", ":")).encode()
    with tarfile.open(os.path.join(work, name), "w", format=tarfile.PAX_FORMAT) as tf:
        def add(arcname, data=None):
            ti = tarfile.TarInfo(arcname)
            ti.mtime, ti.uid, ti.gid = MTIME, 0, 0
            if data is None:
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                tf.addfile(ti)
            else:
                ti.size, ti.mode = len(data), 0o644
                tf.addfile(ti, io.BytesIO(data))
        add("blobs")
        add("blobs/sha256")
        for h in sorted(blobs):
            add("blobs/sha256/" + h, blobs[h])
        add("index.json", index)
        add("manifest.json", docker_manifest)
        add("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')

archive("base.tar", "bench/base:1", base)
archive("second.tar", "bench/second:1", base + [top])
total = sum(l["size"] for l in base + [top])
with open(os.path.join(work, "sizes"), "w") as fh:
    fh.write("%d %d %d %d\n" % (top["size"], total, sum(l["entries"] for l in base),
                                top["entries"]))
for i, l in enumerate(base + [top]):
    print("layer %d: %5.1f MB tar, %5.1f MB blob, %5d entries" %
          (i + 1, l["size"] / 1e6, len(l["blob"]) / 1e6, l["entries"]))
PY
read -r top_bytes all_bytes base_entries top_entries < "$WORK/sizes"
echo "layers: $LAYERS; base.tar $(( $(stat -c %s "$WORK/base.tar") >> 20 )) MiB ($base_entries entries)," \
  "second.tar $(( $(stat -c %s "$WORK/second.tar") >> 20 )) MiB (+$top_entries entries)"

median() { sort -g | awk '{a[NR]=$1} END {m=int((NR+1)/2); if (NR%2) print a[m]; else printf "%.3f\n", (a[m]+a[m+1])/2}'; }
# run NAME CMD...: wall and CPU (user+sys, children included) seconds of CMD in a private
# mount namespace; stdout to $WORK/NAME.out.
run() {
  local name=$1
  shift
  /usr/bin/time -f "%e %U %S" -o "$WORK/time" unshare --mount --propagation private -- "$@" \
    > "$WORK/$name.out" 2> "$WORK/$name.err" || {
    echo "load.sh: $name failed:" >&2
    cat "$WORK/$name.err" >&2
    return 1
  }
  read -r wall user sys < "$WORK/time"
  echo "$wall" >> "$WORK/$name.wall"
  echo "$user + $sys" | bc >> "$WORK/$name.cpu"
  printf 'run %d %-17s wall %6.2fs  cpu %6.2fs\n' "$i" "$name:" "$wall" "$(tail -1 "$WORK/$name.cpu")"
}
# unpacked NAME: the number of layers load_bench's last run unpacked.
unpacked() { sed -n 's/.* ms load, \([0-9]*\) layers unpacked.*/\1/p' "$WORK/$1.out"; }

# containers-storage: does it work here (offline, as root)? One try up front.
cs_spec() { echo "containers-storage:[overlay@$WORK/cs/root+$WORK/cs/run]$1"; }
use_cs=1
if ! unshare --mount --propagation private -- \
  skopeo copy --quiet "docker-archive:$WORK/base.tar" "$(cs_spec bench/base:1)" \
  > "$WORK/cs-probe.err" 2>&1; then
  echo "note: skopeo containers-storage:[overlay@...] failed; skipped:" \
    "$(head -c 300 "$WORK/cs-probe.err")"
  use_cs=0
fi
rm -rf "$WORK/cs"

names=(A1-mydocker-base A2-mydocker-second B1-skopeo-dir-base B2-skopeo-dir-second)
[ "$use_cs" = 1 ] && names+=(C1-skopeo-cs-base C2-skopeo-cs-second)
for n in "${names[@]}"; do : > "$WORK/$n.wall"; : > "$WORK/$n.cpu"; done
for i in $(seq "$RUNS"); do
  rm -rf "$WORK/root" && sync
  run A1-mydocker-base "$BENCH" "${bench_flags[@]}" "$WORK/root" "$WORK/base.tar"
  [ "$(unpacked A1-mydocker-base)" = 4 ] || { echo "load.sh: A1 unpacked $(unpacked A1-mydocker-base) layers, want 4" >&2; exit 1; }
  sync
  run A2-mydocker-second "$BENCH" "${bench_flags[@]}" "$WORK/root" "$WORK/second.tar"
  [ "$(unpacked A2-mydocker-second)" = 1 ] || { echo "load.sh: A2 unpacked $(unpacked A2-mydocker-second) layers, want 1" >&2; exit 1; }
  rm -rf "$WORK/root" "$WORK/dir1" "$WORK/dir2" && sync
  run B1-skopeo-dir-base skopeo copy --quiet "docker-archive:$WORK/base.tar" "dir:$WORK/dir1"
  sync
  run B2-skopeo-dir-second skopeo copy --quiet "docker-archive:$WORK/second.tar" "dir:$WORK/dir2"
  rm -rf "$WORK/dir1" "$WORK/dir2"
  if [ "$use_cs" = 1 ]; then
    rm -rf "$WORK/cs" && sync
    run C1-skopeo-cs-base skopeo copy --quiet "docker-archive:$WORK/base.tar" "$(cs_spec bench/base:1)"
    sync
    run C2-skopeo-cs-second skopeo copy --quiet "docker-archive:$WORK/second.tar" "$(cs_spec bench/second:1)"
    rm -rf "$WORK/cs"
  fi
done

declare -A med
for n in "${names[@]}"; do
  for m in wall cpu; do med[$n.$m]=$(median < "$WORK/$n.$m"); done
done
ratio() { echo "scale=2; $1 / $2" | bc | sed 's/^\./0./'; }
echo
echo "medians of $RUNS runs (wall / cpu seconds; layers=$LAYERS, sync=$SYNC):"
for n in "${names[@]}"; do
  printf '  %-22s %6.2fs / %6.2fs\n' "$n" "${med[$n.wall]}" "${med[$n.cpu]}"
done
for m in wall cpu; do
  echo "$m ratios:" \
    "mydocker/skopeo-dir base $(ratio "${med[A1-mydocker-base.$m]}" "${med[B1-skopeo-dir-base.$m]}")," \
    "second $(ratio "${med[A2-mydocker-second.$m]}" "${med[B2-skopeo-dir-second.$m]}")"
  if [ "$use_cs" = 1 ]; then
    echo "$m ratios:" \
      "mydocker/skopeo-containers-storage base $(ratio "${med[A1-mydocker-base.$m]}" "${med[C1-skopeo-cs-base.$m]}")," \
      "second $(ratio "${med[A2-mydocker-second.$m]}" "${med[C2-skopeo-cs-second.$m]}")"
  fi
  echo "$m: mydocker A2/A1 $(ratio "${med[A2-mydocker-second.$m]}" "${med[A1-mydocker-base.$m]}")" \
    "vs top layer / all layers $(ratio "$top_bytes" "$all_bytes") ($top_bytes / $all_bytes bytes)"
done
echo "A1 unpacked 4 layers, A2 unpacked 1 layer (LoadOptions::on_layer), every run."
echo "note: skopeo dir: only copies the blobs (nothing unpacked, no layer sharing); mydocker"
echo "  verifies every blob and DiffID, unpacks every new layer and keeps the blobs too."
