// SPDX-License-Identifier: Apache-2.0
// Kubeconfig parsing: never throws or crashes on any YAML; the description of an accepted
// configuration never contains the token it carries.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pkg/kube/config.h"
#include "tests/fuzz/fuzz_util.h"

using namespace rebootd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // Relative certificate and token paths resolve under a folder that does not exist, so the
  // fuzzer never reads files of the machine.
  auto config = kube::ParseKubeconfig(text, "/nonexistent-rebootd-fuzz");
  if (config && config->token.size() >= 8) {
    FUZZ_CHECK(config->Describe().find(config->token) == std::string::npos,
               "Describe() shows the bearer token");
  }
  (void)kube::ParseKubeconfig(text, "/nonexistent-rebootd-fuzz", "other");
  return 0;
}
