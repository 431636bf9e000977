// SPDX-License-Identifier: Apache-2.0
// Compiled by check_nodiscard.cmake, not linked: discarding a Status or a Result must not
// compile under -Werror (REBOOTD_DISCARD defined), and `(void)` must (not defined).
#include "pkg/base/result.h"

namespace {
rebootd::Status Write() { return rebootd::OkStatus(); }
rebootd::Result<int> Read() { return 1; }
}  // namespace

int main() {
#ifdef REBOOTD_DISCARD_STATUS
  Write();
#elif defined(REBOOTD_DISCARD_RESULT)
  Read();
#else
  (void)Write();  // the decision to drop it, in words, where it is made
  (void)Read();
#endif
  return 0;
}
