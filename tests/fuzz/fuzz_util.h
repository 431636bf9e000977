// SPDX-License-Identifier: Apache-2.0
// Shared bits of the libFuzzer targets: a check that aborts with a message (a finding), so
// that properties beyond "does not crash" are reported like crashes.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond, what)                                                \
  do {                                                                        \
    if (!(cond)) {                                                            \
      std::fprintf(stderr, "fuzz property violated: %s (%s)\n", what, #cond); \
      std::abort();                                                           \
    }                                                                         \
  } while (0)
