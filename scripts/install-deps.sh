#!/usr/bin/env bash
# Installs every Debian 12 package that building, testing and the quickstart use.
# Idempotent: skips apt when everything is already there.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git lld
  libseccomp-dev libcap-dev nlohmann-json3-dev libcpp-httplib-dev libcli11-dev
  libspdlog-dev libfmt-dev libgtest-dev libgmock-dev googletest
  libarchive-dev libssl-dev libcurl4-openssl-dev zlib1g-dev libisal-dev
  libnl-3-dev libnl-route-3-dev libnftables-dev
  busybox-static runc skopeo clang-format iproute2 jq util-linux procps
  tini curl tmux
  docker-registry
  apache2-utils
  openssl
  python3-docker
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
