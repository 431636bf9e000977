#!/usr/bin/env bash
# The whole test suite: installs what is missing (scripts/setup.sh), builds everything (the same
# configuration as scripts/run.sh, warnings as errors, so nothing is built twice), and runs every
# test registered with ctest.
#   scripts/test.sh                     everything
#   scripts/test.sh -L unit             only tests with a ctest label (extra args go to ctest)
#   scripts/test.sh --sanitize address  every test that runs our C++ (all but label no-cxx),
#                                       built with AddressSanitizer and UndefinedBehaviorSanitizer,
#                                       in build-address/
#   scripts/test.sh --sanitize thread   ThreadSanitizer, in build-thread/, on the concurrent
#                                       parts: controller, dispatcher, poller, kube, e2e
# A sanitizer report fails the test that triggered it (halt_on_error).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
sanitize=""
if [ "${1:-}" = "--sanitize" ]; then
  sanitize=${2:?"--sanitize needs address or thread"}
  shift 2
  case "$sanitize" in address|thread) ;; *) echo "--sanitize: address or thread" >&2; exit 2 ;; esac
fi
"$here/scripts/setup.sh"
if [ -n "$sanitize" ]; then
  export BUILD_DIR=${BUILD_DIR:-$here/build-$sanitize}
  export REBOOTD_SANITIZE=$sanitize  # the Python tests loosen what a sanitizer makes meaningless
  export CMAKE_ARGS="-DREBOOTD_SANITIZE=$sanitize ${CMAKE_ARGS:-}"
  # Reports go to stderr and fail the process; leaks are reported at exit.
  export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=0:detect_leaks=1:detect_stack_use_after_return=0}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1:suppressions=$here/scripts/ubsan.supp}
  export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$here/scripts/tsan.supp}
  export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$here/scripts/lsan.supp}
fi
export BUILD_DIR=${BUILD_DIR:-$here/build}
targets=()
if [ "$sanitize" = "thread" ] && [ $# -eq 0 ]; then
  # The concurrent parts only: what these tests run is all that is built.
  targets=(--target controller_test kube_test rebootd rebootd-cloudsim)
  set -- -R '^(Controller|Dispatcher|Poller|WorkQueue|Kube|LeaderElect|EventRecorder|KubeSource|StatusStore|Secret|e2e\.|kube\.rebootd_)'
fi
if [ "$sanitize" = "address" ] && [ $# -eq 0 ]; then
  # Every test that runs our C++; the chart, rule and stand-in checks (label no-cxx) run no
  # binary of ours, so a sanitizer build adds nothing to them.
  set -- -LE no-cxx
fi
"$here/scripts/build.sh" "${targets[@]}"
cd "$BUILD_DIR"
ctest --output-on-failure --timeout 900 -j "${TEST_JOBS:-2}" "$@"
