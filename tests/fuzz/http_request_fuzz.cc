// SPDX-License-Identifier: Apache-2.0
// The HTTP server's request parser (used by the health, metrics and simulator servers): any byte
// stream ends in parsed requests and at most one error answer, without crashing, hanging or
// reading past the limits.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pkg/http/server.h"
#include "tests/fuzz/fuzz_util.h"

using namespace rebootd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::vector<int> outcomes = http::Server::ParseStream(bytes, /*max_body_bytes=*/4096);
  for (size_t i = 0; i < outcomes.size(); ++i) {
    int status = outcomes[i];
    FUZZ_CHECK(status == 0 || (status >= 400 && status <= 599),
               "an outcome is not an error status");
    FUZZ_CHECK(status == 0 || i + 1 == outcomes.size(), "parsing went on after an error");
  }
  return 0;
}
