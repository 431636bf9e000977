#!/usr/bin/env bash
# Checks a built rebootd image (scripts/build-image.sh builds it; this is not part of ctest
# because the image build takes minutes):
#   scripts/test-image.sh [IMAGE]        default localhost/rebootd:<version>
# With a docker engine it uses `docker run`; otherwise buildah (`buildah from` + `buildah run
# --isolation chroot`, as root). It checks the image config (non-root uid 65532, entrypoint
# rebootd), that the binaries find all their libraries and no compiler is left in the image,
# runs `rebootd version`, and runs the example RebootRequests against the in-process simulator
# with `rebootd run --simulate --until-done`, then checks every request Succeeded.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
version=$(sed -n 's/^project(rebootd VERSION \([0-9.]*\).*/\1/p' "$here/CMakeLists.txt")
image=${1:-${IMAGE:-localhost/rebootd:${version:-dev}}}
failures=0
pass() { echo "ok   $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }

if command -v docker >/dev/null 2>&1 && timeout 10 docker info >/dev/null 2>&1; then
  engine=docker
  user=$(docker image inspect -f '{{.Config.User}}' "$image")
  entrypoint=$(docker image inspect -f '{{json .Config.Entrypoint}}' "$image" | tr -d ' ')
  in_image() { docker run --rm --network host --entrypoint "$1" "$image" "${@:2}"; }
  in_image_root() { docker run --rm --user 0 --entrypoint "$1" "$image" "${@:2}"; }
else
  engine=buildah
  command -v buildah >/dev/null 2>&1 || { echo "test-image: neither docker nor buildah found" >&2; exit 1; }
  config=$(buildah inspect --type image "$image")
  user=$(/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["OCIv1"]["config"].get("User", ""))' <<<"$config")
  entrypoint=$(/usr/bin/python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["OCIv1"]["config"].get("Entrypoint"), separators=(",", ":")))' <<<"$config")
  ctr=$(buildah from --quiet "$image")
  trap 'buildah rm "$ctr" >/dev/null' EXIT
  # Runs as the image's user (buildah run applies the configured USER).
  in_image() { buildah run --isolation chroot --user 65532:65532 "$ctr" -- "$@"; }
  in_image_root() { buildah run --isolation chroot --user 0:0 "$ctr" -- "$@"; }
fi
echo "test-image: $image ($engine)"

[ "$user" = "65532:65532" ] && pass "image user is $user" || fail "image user is '$user', want 65532:65532"
[ "$entrypoint" = '["/usr/local/bin/rebootd"]' ] && pass "entrypoint $entrypoint" \
  || fail "entrypoint is $entrypoint, want [\"/usr/local/bin/rebootd\"]"

out=$(in_image /usr/local/bin/rebootd version 2>&1) || true
[ "$out" = "rebootd version ${version}" ] && pass "rebootd version -> $out" \
  || fail "rebootd version printed '$out', want 'rebootd version ${version}'"
out=$(in_image /usr/local/bin/rebootd-cloudsim --help 2>&1) || true
grep -q 'usage: rebootd-cloudsim' <<<"$out" && pass "rebootd-cloudsim runs" || fail "rebootd-cloudsim --help: $out"

# Every shared library resolves; the runtime stage holds no toolchain.
missing=$(in_image_root /bin/sh -c 'ldd /usr/local/bin/rebootd /usr/local/bin/rebootd-cloudsim | grep "not found" || true')
[ -z "$missing" ] && pass "all shared libraries found" || fail "missing libraries: $missing"
tools=$(in_image_root /bin/sh -c 'for t in gcc g++ cc c++ cmake ninja make; do command -v $t; done; ls /usr/include 2>/dev/null | head -3' || true)
[ -z "$tools" ] && pass "no compiler, build tool or headers in the runtime image" || fail "build tools left in the image: $tools"
in_image /usr/bin/id -u | grep -qx 65532 && pass "processes run as uid 65532" || fail "not running as uid 65532"

# The simulated run: the image's examples against the in-process simulator, on loopback, then
# the recorded status (one shell, so it also works with `docker run --rm`).
set +e
status=$(in_image /bin/sh -c '/usr/local/bin/rebootd run --simulate --until-done \
  --manifests /usr/share/rebootd/examples --state-dir /tmp/rebootd-state \
  --metrics-bind-address 127.0.0.1:0 --health-probe-bind-address 127.0.0.1:0 \
  --poll-interval 1s --progress-interval 0 --sim-reboot-seconds 1 >/tmp/rebootd-run.log 2>&1
rc=$?
/usr/local/bin/rebootd status --state-dir /tmp/rebootd-state -o json
[ $rc -eq 0 ] || tail -20 /tmp/rebootd-run.log >&2
exit $rc' 2>/tmp/rebootd-test-image.err)
rc=$?
set -e
[ $rc -eq 0 ] && pass "rebootd run --simulate --until-done exited 0" \
  || fail "rebootd run --simulate --until-done exited $rc: $(cat /tmp/rebootd-test-image.err)"
summary=$(/usr/bin/python3 -c '
import json, sys
items = json.loads(sys.stdin.read())
items = items.get("items", items) if isinstance(items, dict) else items
phases = sorted((i["metadata"]["name"], i["status"]["phase"]) for i in items)
print(" ".join(f"{n}={p}" for n, p in phases))
sys.exit(0 if len(phases) >= 3 and all(p == "Succeeded" for _, p in phases) else 1)' <<<"$status" 2>/dev/null) \
  && pass "every example request Succeeded: $summary" || fail "request phases: $summary ${status:0:500}"
rm -f /tmp/rebootd-test-image.err

if [ "$failures" -ne 0 ]; then
  echo "test-image: $failures check(s) failed"
  exit 1
fi
echo "test-image: all checks passed"
