#!/usr/bin/env bash
# Installs what is needed, builds, checks style and module boundaries, and runs every test
# (ctest: unit, root integration, then e2e against a private mydockerd) twice: an optimised build, then an ASan/UBSan build.
# Must run as root: the root tests create namespaces, cgroups and mounts.
#   MYDOCKER_SANITIZE=0     skip the sanitizer pass (quicker local runs)
#   MYDOCKER_SANITIZE=only  run only the sanitizer pass
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "scripts/test.sh: run as root (sudo scripts/test.sh): the integration tests need it" >&2
  exit 1
fi

scripts/install-deps.sh
scripts/lint.sh

# run_suite BUILD_DIR BUILD_TYPE [cmake args...]
run_suite() {
  local dir=$1 type=$2
  shift 2
  echo "==> build $dir ($type $*)"
  BUILD_DIR=$dir BUILD_TYPE=$type scripts/build.sh "$@"
  echo "==> tests in $dir"
  # Unit tests are independent and run in parallel; root tests run one at a time (RUN_SERIAL).
  (cd "$dir" && ctest --output-on-failure -j "$(nproc)" -L unit)
  (cd "$dir" && ctest --output-on-failure -L root)
  (cd "$dir" && ctest --output-on-failure -L e2e)
}

mode=${MYDOCKER_SANITIZE:-1}
if [ "$mode" != only ]; then
  run_suite "${BUILD_DIR:-build}" RelWithDebInfo
fi
if [ "$mode" != 0 ]; then
  run_suite build-sanitize Debug -DMYDOCKER_SANITIZE=address,undefined
fi
