// SPDX-License-Identifier: Apache-2.0
// rebootd: the controller and its command line. Everything is wired in pkg/app.
#include <malloc.h>

#include "pkg/app/cli.h"

int main(int argc, char** argv) {
  // Two malloc arenas: rebootd's many threads mostly wait, and glibc's per-thread arenas only
  // fragment its memory (peak RSS at 100,000 instances: 182 MB -> 158 MB; BENCHMARKS.md).
  mallopt(M_ARENA_MAX, 2);
  return rebootd::app::Main(argc, argv);
}
