// SPDX-License-Identifier: Apache-2.0
// The JSON parser: never crashes; what it accepts dumps to text that parses to the same dump
// (Dump is a fixed point after one round). The decoders that read stored and API-server JSON
// (FromJson strict and lenient, StatusFromJson) run on every parsed value.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pkg/api/codec.h"
#include "pkg/json/json.h"
#include "tests/fuzz/fuzz_util.h"

using namespace rebootd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto value = json::Parse(text);
  if (!value) {
    FUZZ_CHECK(!value.error().message.empty(), "a parse error without a message");
    return 0;
  }
  std::string dumped = value->Dump();
  auto again = json::Parse(dumped);
  FUZZ_CHECK(again.has_value(), "Dump() wrote text that Parse() refuses");
  FUZZ_CHECK(again->Dump() == dumped, "Dump(Parse(Dump(v))) differs from Dump(v)");
  (void)json::Parse(value->DumpPretty());
  (void)api::FromJson(*value, /*strict_status=*/false);
  (void)api::FromJson(*value, /*strict_status=*/true);
  (void)api::StatusFromJson(*value);
  return 0;
}
