#!/usr/bin/env bash
# clang-format on every tracked C++ file, and the module dependency rules.
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t files < <(git ls-files '*.cpp' '*.h' 2>/dev/null || true)
if [ "${#files[@]}" -gt 0 ]; then
  if ! clang-format --dry-run --Werror "${files[@]}"; then
    echo "lint: clang-format differs; run: clang-format -i \$(git ls-files '*.cpp' '*.h')" >&2
    exit 1
  fi
fi
scripts/check-deps.sh
