// SPDX-License-Identifier: Apache-2.0
// The shared token buckets keep many concurrent callers under the simulator's per-action rate
// limits on the wall clock: no call is throttled and no 1-second window holds more calls than
// the limit (the simulator's report measures both).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "tests/integration/harness.h"

namespace rebootd::integration {
namespace {

TEST(RateLimitIntegration, SharedBucketsKeepConcurrentCallersUnderTheLimits) {
  auto options = DefaultSimOptions();
  options.rate_limits["tencent.DescribeInstances"] = 10;
  options.rate_limits["aliyun.DescribeInstanceStatus"] = 10;
  Harness h(options, /*real_time=*/true);
  // 8/s against a limit of 10/s: the margin absorbs loopback scheduling jitter.
  ratelimit::Limiter limiter(
      ratelimit::TokenBucketOptions{},
      {{"tencent.DescribeInstances", 8.0}, {"aliyun.DescribeInstanceStatus", 8.0}},
      SystemClock::Instance());
  auto ecm = h.Ecm(FastEcmOptions(), nullptr, &limiter);
  auto ecs = h.Ecs(cloud::aliyun::SignatureMethod::kRpcV1, FastEcsOptions(), nullptr, &limiter);

  constexpr int kCallsPerThread = 5;
  std::atomic<int> failures{0};
  std::vector<std::jthread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kCallsPerThread; ++i) {
        if (!ecm->DescribeInstances({}, 0, 10)) ++failures;
      }
    });
    threads.emplace_back([&] {
      for (int i = 0; i < kCallsPerThread; ++i) {
        if (!ecs->DescribeInstanceStatus({"i-run1"}, 1, 10)) ++failures;
      }
    });
  }
  threads.clear();  // joins
  EXPECT_EQ(failures.load(), 0);

  const auto tencent = h.TencentAction("DescribeInstances");
  const auto aliyun = h.AliyunAction("DescribeInstanceStatus");
  EXPECT_EQ(tencent.calls, 15);
  EXPECT_EQ(aliyun.calls, 15);
  EXPECT_EQ(tencent.throttled, 0);
  EXPECT_EQ(aliyun.throttled, 0);
  EXPECT_LE(tencent.max_calls_in_any_1s_window, 10);
  EXPECT_LE(aliyun.max_calls_in_any_1s_window, 10);
  EXPECT_GE(tencent.max_calls_in_any_1s_window, 5);  // the callers did press on the limit
  EXPECT_FALSE(h.sim()
                   .ReportJson()
                   .Find("totals")
                   ->Find("max_calls_in_any_1s_window_exceeded_limit")
                   ->AsBool());
}

}  // namespace
}  // namespace rebootd::integration
