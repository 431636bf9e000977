#!/usr/bin/env bash
# The whole test suite: installs what is missing (scripts/setup.sh), builds everything with
# warnings as errors, and runs every test registered with ctest (unit, integration, interop).
#   scripts/test.sh              everything
#   scripts/test.sh -L unit      only tests with a ctest label (extra args go to ctest)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$here/scripts/setup.sh"
export BUILD_DIR=${BUILD_DIR:-$here/build}
CMAKE_ARGS="-DREBOOTD_WERROR=ON ${CMAKE_ARGS:-}" "$here/scripts/build.sh"
cd "$BUILD_DIR"
ctest --output-on-failure --timeout 600 -j "${TEST_JOBS:-2}" "$@"
