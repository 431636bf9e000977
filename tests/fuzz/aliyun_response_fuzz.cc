// SPDX-License-Identifier: Apache-2.0
// Alibaba Cloud ECS answers: RebootInstance, DescribeInstanceStatus and DescribeInstances decode
// any status and body without crashing, and no error they return carries the secret.
#include <cstddef>
#include <cstdint>

#include "pkg/base/clock.h"
#include "pkg/base/random.h"
#include "pkg/cloud/aliyun/ecs_client.h"
#include "tests/fuzz/cloud_fuzz_util.h"

using namespace rebootd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto transport = fuzz::AnsweringTransport(data, size);
  ManualClock clock;
  SeededRandom random(1);
  cloud::aliyun::EcsClientOptions options;
  options.region = "cn-hangzhou";
  options.endpoint = "http://127.0.0.1:9";
  options.max_attempts = 1;  // no backoff sleeps on the manual clock
  auto client = cloud::aliyun::EcsClient::Create(
      options, cloud::Credentials{"LTAIfuzzkeyid", std::string(fuzz::kSecret), ""}, transport,
      clock, random, nullptr);
  FUZZ_CHECK(client.has_value(), "the client could not be created");
  fuzz::CheckNoSecret((*client)->RebootInstance("i-fuzz0000001", false, false));
  fuzz::CheckNoSecret((*client)->RebootInstance("i-fuzz0000001", true, true));
  fuzz::CheckNoSecret((*client)->DescribeInstanceStatus({"i-fuzz0000001", "i-fuzz0000002"}, 1, 50));
  cloud::aliyun::DescribeInstancesQuery query;
  query.ids = {"i-fuzz0000001", "i-fuzz0000002"};
  fuzz::CheckNoSecret((*client)->DescribeInstances(query));
  return 0;
}
