#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang, AddressSanitizer and UBSan in
# build-fuzz/, replays each seed corpus, then fuzzes each target for a bounded time.
#   scripts/fuzz.sh                       every target for 20 s (what CI runs)
#   scripts/fuzz.sh --time 600            every target for 10 minutes
#   scripts/fuzz.sh --time 600 json http_request   only these targets
#   FUZZ_JOBS=2 scripts/fuzz.sh ...       two targets at a time
# The repository's corpora (tests/fuzz/corpus/<target>) are read, never written: new inputs go
# to build-fuzz/corpus/<target>, crashes to build-fuzz/artifacts/<target>/. Prints the
# executions of every target; exits 1 when any target found a crash, a leak or a timeout.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=20
if [ "${1:-}" = "--time" ]; then
  seconds=${2:?"--time needs seconds"}
  shift 2
fi
build_dir=${FUZZ_BUILD_DIR:-$here/build-fuzz}
SETUP_SKIP_NPM=1 "$here/scripts/setup.sh" >/dev/null
command -v clang++ >/dev/null || apt-get install -y -qq --no-install-recommends clang >/dev/null
exec 9>/tmp/rebootd-build.lock
flock 9
if [ ! -f "$build_dir/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S "$here" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DREBOOTD_FUZZ=ON -DREBOOTD_BUILD_TESTS=OFF >/dev/null
fi
echo "fuzz: building the targets in $build_dir (log: $build_dir/build.log)"
if ! cmake --build "$build_dir" -j "${BUILD_JOBS:-$(nproc)}" --target fuzzers >"$build_dir/build.log" 2>&1; then
  tail -40 "$build_dir/build.log"
  exit 1
fi
flock -u 9

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in "$here"/tests/fuzz/*_fuzz.cc; do
    n=$(basename "$f" _fuzz.cc)
    targets+=("$n")
  done
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
run_one() {
  local t=$1 log="$build_dir/logs/$1.log"
  mkdir -p "$build_dir/corpus/$t" "$build_dir/artifacts/$t" "$build_dir/logs"
  # Replay first: every seed must pass as it is.
  if ! "$build_dir/tests/fuzz/fuzz_$t" -runs=0 "$here/tests/fuzz/corpus/$t" >"$log" 2>&1; then
    echo "fuzz: $t: a seed of tests/fuzz/corpus/$t fails (see $log)"
    return 1
  fi
  local rc=0
  "$build_dir/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$build_dir/artifacts/$t/" \
    "$build_dir/corpus/$t" "$here/tests/fuzz/corpus/$t" >>"$log" 2>&1 || rc=$?
  local execs
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo "?")
  local found
  found=$(ls "$build_dir/artifacts/$t" | wc -l)
  if [ "$rc" -ne 0 ]; then
    echo "fuzz: $t: FAILED after $execs executions in ${seconds}s; artifacts in $build_dir/artifacts/$t (log $log)"
    grep -m3 -E 'ERROR|fuzz property|runtime error' "$log" | sed 's/^/  /' || true
    return 1
  fi
  echo "fuzz: $t: ok, $execs executions in ${seconds}s, corpus $(ls "$build_dir/corpus/$t" | wc -l) new + $(ls "$here/tests/fuzz/corpus/$t" | wc -l) seeds, $found artifacts"
}

status=0
jobs=${FUZZ_JOBS:-1}
if [ "$jobs" -gt 1 ]; then
  pids=()
  for t in "${targets[@]}"; do
    run_one "$t" & pids+=($!)
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do sleep 1; done
  done
  for p in "${pids[@]}"; do wait "$p" || status=1; done
else
  for t in "${targets[@]}"; do run_one "$t" || status=1; done
fi
exit $status
