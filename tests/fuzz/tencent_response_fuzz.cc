// SPDX-License-Identifier: Apache-2.0
// Tencent Cloud ECM answers: RebootInstances and DescribeInstances decode any status and body
// without crashing, and no error they return carries the secret.
#include <cstddef>
#include <cstdint>

#include "pkg/base/clock.h"
#include "pkg/base/random.h"
#include "pkg/cloud/tencent/ecm_client.h"
#include "tests/fuzz/cloud_fuzz_util.h"

using namespace rebootd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto transport = fuzz::AnsweringTransport(data, size);
  ManualClock clock;
  SeededRandom random(1);
  cloud::tencent::EcmClientOptions options;
  options.endpoint = "http://127.0.0.1:9";
  options.max_attempts = 1;  // no backoff sleeps on the manual clock
  auto client = cloud::tencent::EcmClient::Create(
      options, cloud::Credentials{"AKIDfuzzsecretid", std::string(fuzz::kSecret), ""}, transport,
      clock, random, nullptr);
  FUZZ_CHECK(client.has_value(), "the client could not be created");
  fuzz::CheckNoSecret((*client)->RebootInstances({"ein-fuzz0001", "ein-fuzz0002"},
                                                 cloud::tencent::StopType::kSoft, false));
  fuzz::CheckNoSecret((*client)->DescribeInstances(
      {cloud::tencent::Filter{"instance-id", {"ein-fuzz0001", "ein-fuzz0002"}}}, 0, 100));
  fuzz::CheckNoSecret((*client)->DescribeInstances({}, 0, 100));
  return 0;
}
