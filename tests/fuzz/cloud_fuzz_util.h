// SPDX-License-Identifier: Apache-2.0
// The cloud targets' common part: the fuzz input is one HTTP answer (its first byte picks the
// status, the rest is the body) given to a real client through a FunctionTransport.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "pkg/base/result.h"
#include "pkg/http/transport.h"
#include "tests/fuzz/fuzz_util.h"

namespace rebootd::fuzz {

// The secret every fuzzed client signs with; seeds echo it so the fuzzer can try answers that
// carry it back. No error text may contain it.
inline constexpr std::string_view kSecret = "FuzzSecretKeyValue0123456789abcd";

inline http::Response AnswerOf(const uint8_t* data, size_t size) {
  static constexpr int kStatuses[] = {200, 200, 200, 200, 400, 403, 404, 429, 500, 502, 503, 302};
  http::Response r;
  r.status = size == 0 ? 200 : kStatuses[data[0] % (sizeof(kStatuses) / sizeof(kStatuses[0]))];
  if (size > 0) r.body.assign(reinterpret_cast<const char*>(data) + 1, size - 1);
  r.headers.Set("Content-Type", "application/json");
  return r;
}

// A transport that gives every request the fuzzed answer.
inline http::FunctionTransport AnsweringTransport(const uint8_t* data, size_t size) {
  return http::FunctionTransport([data, size](const http::Request&) -> Result<http::Response> {
    return AnswerOf(data, size);
  });
}

template <typename T>
void CheckNoSecret(const Result<T>& result) {
  if (!result) {
    FUZZ_CHECK(result.error().message.find(kSecret) == std::string::npos,
               "an error message carries the secret");
    FUZZ_CHECK(result.error().provider_code.find(kSecret) == std::string::npos,
               "an error code carries the secret");
  }
}

}  // namespace rebootd::fuzz
