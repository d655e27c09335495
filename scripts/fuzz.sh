#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang, ASan + UBSan, MYDOCKER_FUZZ=ON) into
# build-fuzz-clang (or $BUILD_DIR) and runs each for SECONDS (default 60), one at a time.
# Not run by CI (CI replays the seed corpora under gcc: ctest -R fuzz_replay).
#
#   scripts/fuzz.sh [SECONDS]            every target
#   FUZZ_TARGETS="spec reference" scripts/fuzz.sh 300
#
# New inputs go to <build>/fuzz/corpus/<name>/ (seeded from tests/fuzz/corpus/<name>/), crashes
# to <build>/fuzz/artifacts/<name>/, logs to <build>/fuzz/<name>.log. Run as root, the fuzzers
# drop to nobody (setpriv) in a user namespace: a layer that escaped the unpack root must not
# reach the host.
# Exits 1 when any target left a crash, leak or timeout artifact.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
build_dir=${BUILD_DIR:-build-fuzz-clang}
all_targets=(spec signal reference manifest image_config layer_unpack image_filters)
read -ra targets <<<"${FUZZ_TARGETS:-${all_targets[*]}}"

CC=clang CXX=clang++ cmake -S . -B "$build_dir" -G Ninja -DMYDOCKER_FUZZ=ON \
  -DMYDOCKER_WERROR=OFF -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" \
  -DCMAKE_C_FLAGS_DEBUG="-g -O1" >/dev/null
ninja -C "$build_dir" -j "${JOBS:-2}" "${targets[@]/%/_fuzz}"

repo=$(pwd)
bin_dir=$(realpath "$build_dir")/tests/fuzz
work=$(realpath "$build_dir")/fuzz
mkdir -p "$work"
run_as=()
if [ "$(id -u)" -eq 0 ]; then
  # nobody, as "root" of its own user namespace: chown/owner paths of the unpacker run, yet
  # no host file that nobody could not write is writable.
  run_as=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all
    unshare --user --map-root-user)
fi

# The unpack and store targets create and delete a tree per input: keep that off the disk.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ]; then
  export TMPDIR=/dev/shm
fi

failed=()
for t in "${targets[@]}"; do
  corpus=$work/corpus/$t
  artifacts=$work/artifacts/$t
  mkdir -p "$corpus" "$artifacts"
  [ "${#run_as[@]}" -eq 0 ] || chown -R 65534:65534 "$corpus" "$artifacts"
  dict=()
  case $t in
    spec | manifest | image_config) dict=(-dict="$repo/tests/fuzz/json.dict") ;;
    layer_unpack) dict=(-dict="$repo/tests/fuzz/tar.dict") ;;
  esac
  echo "fuzz: $t for ${seconds}s (log: $work/$t.log)"
  set +e
  # From $work: libFuzzer's own files (e.g. -fork leftovers) land there, not in the tree.
  (cd "$work" && "${run_as[@]}" "$bin_dir/${t}_fuzz" -max_total_time="$seconds" \
    -rss_limit_mb=2048 -timeout=30 -print_final_stats=1 -artifact_prefix="$artifacts/" \
    "${dict[@]}" "$corpus" "$repo/tests/fuzz/corpus/$t") >"$work/$t.log" 2>&1
  rc=$?
  set -e
  grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|Done )' "$work/$t.log" | tail -2 || true
  if [ "$rc" -ne 0 ] || [ -n "$(ls -A "$artifacts")" ]; then
    echo "fuzz: $t FAILED (exit $rc); artifacts:" >&2
    ls -l "$artifacts" >&2
    grep -m1 -A30 -E 'ERROR: |fuzz invariant failed' "$work/$t.log" >&2 || true
    failed+=("$t")
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz: failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets ran ${seconds}s each without findings"
