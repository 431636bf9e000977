#!/usr/bin/env bash
# Configures and builds rebootd (Ninja, RelWithDebInfo, warnings as errors) into
# ${BUILD_DIR:-build}. Extra arguments go to `cmake --build` (e.g. --target base_test).
# scripts/run.sh and scripts/test.sh use this one configuration, so the test command after the
# run command only builds what the run did not (the tests). Builds are serialised with a lock
# so that parallel shells on a 2-core machine do not compete.
#   BUILD_PROGRESS=1   instead of ninja's line per step, print a line at every tenth of the
#                      build (and the whole output only if the build fails)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-$here/build}
jobs=${BUILD_JOBS:-$(nproc)}
exec 9>/tmp/rebootd-build.lock
flock 9
# Re-configure when asked for other options, or when the cache says other than what we use
# (configuring with the same options again changes nothing and rebuilds nothing).
cmake_args=(-DREBOOTD_WERROR=ON ${CMAKE_ARGS:-})
if [ ! -f "$build_dir/build.ninja" ] || [ -n "${CMAKE_ARGS:-}" ] ||
  ! grep -q '^REBOOTD_WERROR:BOOL=ON$' "$build_dir/CMakeCache.txt"; then
  cmake -S "$here" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "${cmake_args[@]}" >/dev/null
fi
if [ "${BUILD_PROGRESS:-0}" != 1 ]; then
  exec cmake --build "$build_dir" -j "$jobs" "$@"
fi
log=$(mktemp /tmp/rebootd-build.XXXXXX.log)
start=$SECONDS
set +e
# Ninja prints "[done/total] step" per step; show one line per tenth, with the elapsed time.
progress() {
  local shown=-1 line n total tenth
  while IFS= read -r line; do
    [[ $line =~ ^\[([0-9]+)/([0-9]+)\] ]] || continue
    n=${BASH_REMATCH[1]} total=${BASH_REMATCH[2]}
    [ "$n" -gt 0 ] || continue # "[0/2] Re-checking globbed directories..."
    tenth=$((10 * n / total))
    if [ "$tenth" -gt "$shown" ]; then
      shown=$tenth
      printf 'build: %3d%% (%d of %d steps, %d s)\n' $((100 * n / total)) "$n" "$total" \
        $((SECONDS - start))
    fi
  done
}
cmake --build "$build_dir" -j "$jobs" "$@" 2>&1 | tee "$log" | progress
code=${PIPESTATUS[0]}
set -e
if [ "$code" -ne 0 ]; then
  echo "build failed (exit $code); its output:" >&2
  grep -v '^\[[0-9]*/[0-9]*\] ' "$log" | tail -n 60 >&2
  rm -f "$log"
  exit "$code"
fi
if grep -q 'no work to do' "$log"; then
  echo "build: up to date"
else
  echo "build: done in $((SECONDS - start)) s"
fi
rm -f "$log"
