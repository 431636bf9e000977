#!/usr/bin/env bash
# Keeps the chart's copies of deploy/ files identical to their sources (Helm can only read files
# inside the chart directory):
#   deploy/crds/*.yaml                      -> charts/rebootd/crds/
#   deploy/grafana/rebootd-dashboard.json   -> charts/rebootd/files/rebootd-dashboard.json
#   deploy/prometheus/rebootd-rules.yaml    -> charts/rebootd/files/rebootd-rules.yaml
#   scripts/sync-crds.sh           copy (stale chart CRDs without a source are removed)
#   scripts/sync-crds.sh --check   change nothing; exit 1 and show a diff when out of sync
# ctest runs the --check form (tests/chart, test chart_files_in_sync).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
check=0
[ "${1:-}" = --check ] && check=1
chart=$here/charts/rebootd

pairs=()
shopt -s nullglob
crds=("$here"/deploy/crds/*.yaml)
status=0
if ((${#crds[@]} == 0)); then
  echo "sync-crds: no CRD in deploy/crds/ (expected deploy/crds/rebootd.io_rebootrequests.yaml)" >&2
  status=1
fi
for f in "${crds[@]}"; do pairs+=("$f" "$chart/crds/$(basename "$f")"); done
pairs+=("$here/deploy/grafana/rebootd-dashboard.json" "$chart/files/rebootd-dashboard.json")
pairs+=("$here/deploy/prometheus/rebootd-rules.yaml" "$chart/files/rebootd-rules.yaml")

for ((i = 0; i < ${#pairs[@]}; i += 2)); do
  src=${pairs[i]} dst=${pairs[i + 1]}
  [ -f "$src" ] || { echo "sync-crds: missing source ${src#$here/}" >&2; status=1; continue; }
  if [ -f "$dst" ] && cmp -s "$src" "$dst"; then continue; fi
  if ((check)); then
    echo "sync-crds: ${dst#$here/} differs from ${src#$here/}; run scripts/sync-crds.sh" >&2
    diff -u "$src" "$dst" 2>&1 | head -40 >&2 || true
    status=1
  else
    mkdir -p "$(dirname "$dst")"
    cp "$src" "$dst"
    echo "sync-crds: ${src#$here/} -> ${dst#$here/}"
  fi
done
# A CRD in the chart without a source in deploy/crds/ would be installed but never maintained.
for f in "$chart"/crds/*; do
  [ -f "$here/deploy/crds/$(basename "$f")" ] && continue
  if ((check)); then
    echo "sync-crds: ${f#$here/} has no source in deploy/crds/" >&2
    status=1
  else
    rm -f "$f"
    echo "sync-crds: removed stale ${f#$here/}"
  fi
done
exit $status
