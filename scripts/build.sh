#!/usr/bin/env bash
# Configures and builds rebootd (Ninja, RelWithDebInfo) into ${BUILD_DIR:-build}.
# Extra arguments go to `cmake --build` (e.g. --target base_test). Builds are serialised with a
# lock so that parallel shells on a 2-core machine do not compete.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-$here/build}
jobs=${BUILD_JOBS:-$(nproc)}
exec 9>/tmp/rebootd-build.lock
flock 9
if [ ! -f "$build_dir/build.ninja" ] || [ -n "${CMAKE_ARGS:-}" ]; then
  cmake -S "$here" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    ${CMAKE_ARGS:-} >/dev/null
fi
cmake --build "$build_dir" -j "$jobs" "$@"
