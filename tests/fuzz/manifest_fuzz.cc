// SPDX-License-Identifier: Apache-2.0
// Manifest decoding (YAML to RebootRequest): never throws or crashes; every request it accepts
// passes Validate() and survives the JSON round trip the Kubernetes mode and the run records use.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pkg/api/codec.h"
#include "tests/fuzz/fuzz_util.h"

using namespace rebootd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  api::DecodeResult decoded = api::DecodeManifests(text, "fuzz.yaml");
  for (const auto& request : decoded.requests) {
    FUZZ_CHECK(api::Validate(request).empty(), "an accepted manifest fails validation");
    auto back = api::FromJson(api::ToJson(request, /*include_status=*/false));
    FUZZ_CHECK(back.has_value(), "an accepted manifest does not survive ToJson/FromJson");
    FUZZ_CHECK(api::SpecHash(back->spec) == api::SpecHash(request.spec),
               "the JSON round trip changes the spec");
  }
  return 0;
}
