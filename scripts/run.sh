#!/usr/bin/env bash
# The main job: installs what is missing, builds rebootd, and reconciles the example
# RebootRequests (examples/) against the built-in cloud simulator until every one is finished,
# then prints their status. No cloud account or credentials are needed.
#   scripts/run.sh                     the examples, simulated
#   scripts/run.sh --manifests DIR     other manifests (any `rebootd run` flags are passed on)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SETUP_SKIP_NPM=1 "$here/scripts/setup.sh"
export BUILD_DIR=${BUILD_DIR:-$here/build}
if [ ! -x "$BUILD_DIR/cmd/rebootd/rebootd" ]; then
  echo "build: compiling rebootd into $BUILD_DIR (the first build takes about 4 minutes on 2 cores)"
fi
BUILD_PROGRESS=1 "$here/scripts/build.sh" --target rebootd rebootd-cloudsim
rebootd="$BUILD_DIR/cmd/rebootd/rebootd"
state_dir=${STATE_DIR:-$(mktemp -d /tmp/rebootd-state.XXXXXX)}
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--manifests "$here/examples")
echo "rebootd: state in $state_dir"
set +e
"$rebootd" run --simulate --until-done --state-dir "$state_dir" \
  --metrics-bind-address 127.0.0.1:0 --health-probe-bind-address 127.0.0.1:0 \
  --poll-interval 2s --progress-interval 2s "${args[@]}"
code=$?
set -e
echo
"$rebootd" status --state-dir "$state_dir"
echo
echo "rebootd run exited with $code (0: all Succeeded, 1: some Failed, 2: configuration error)"
echo "details: $rebootd status --state-dir $state_dir -o json"
exit $code
