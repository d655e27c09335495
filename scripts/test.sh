#!/usr/bin/env bash
# Installs what is needed, builds, checks style and module boundaries, and runs every test
# (ctest: unit, then root integration). Must run as root: the root tests create namespaces,
# cgroups and mounts. Set MYDOCKER_SANITIZE=address,undefined to run under the sanitizers.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "scripts/test.sh: run as root (sudo scripts/test.sh): the integration tests need it" >&2
  exit 1
fi

scripts/install-deps.sh
scripts/lint.sh

build_dir=${BUILD_DIR:-build}
if [ -n "${MYDOCKER_SANITIZE:-}" ]; then
  build_dir=${BUILD_DIR:-build-sanitize}
  BUILD_DIR=$build_dir scripts/build.sh -DMYDOCKER_SANITIZE="$MYDOCKER_SANITIZE"
else
  BUILD_DIR=$build_dir scripts/build.sh
fi

cd "$build_dir"
# Unit tests are independent and run in parallel; root tests are RUN_SERIAL in CMake.
ctest --output-on-failure -j "$(nproc)" -L unit
ctest --output-on-failure -L root
