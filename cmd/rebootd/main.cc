// SPDX-License-Identifier: Apache-2.0
// rebootd: the controller and its command line. Everything is wired in pkg/app.
#include <malloc.h>

#include <csignal>

#include "pkg/app/cli.h"

int main(int argc, char** argv) {
  // Two malloc arenas: rebootd's many threads mostly wait, and glibc's per-thread arenas only
  // fragment its memory (peak RSS at 100,000 instances: 182 MB -> 158 MB; BENCHMARKS.md).
  mallopt(M_ARENA_MAX, 2);
  // A write past the file-size limit fails with EFBIG (a failed record write, reported and
  // retried) instead of killing the process; a peer closing a socket is an error, not a signal.
  std::signal(SIGXFSZ, SIG_IGN);
  std::signal(SIGPIPE, SIG_IGN);
  return rebootd::app::Main(argc, argv);
}
