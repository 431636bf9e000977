// SPDX-License-Identifier: Apache-2.0
#include "pkg/controller/work_queue.h"

#include <gtest/gtest.h>

namespace rebootd::controller {
namespace {

using namespace std::chrono_literals;

TEST(WorkQueueTest, DeduplicatesAndRequeuesKeysAddedWhileProcessing) {
  ManualClock clock;
  SeededRandom random(1);
  WorkQueue q(clock, random);
  q.Add("a");
  q.Add("a");
  q.Add("b");
  EXPECT_EQ(q.Depth(), 2u);
  auto k = q.TryGet();
  ASSERT_EQ(*k, "a");
  q.Add("a");  // while processing: comes back after Done
  EXPECT_EQ(*q.TryGet(), "b");
  EXPECT_FALSE(q.TryGet().has_value());
  q.Done("a");
  EXPECT_EQ(*q.TryGet(), "a");
}

TEST(WorkQueueTest, DelayedKeysBecomeReadyOnTheInjectedClock) {
  ManualClock clock;
  SeededRandom random(1);
  WorkQueue q(clock, random);
  q.AddAfter("x", 5s);
  EXPECT_FALSE(q.TryGet().has_value());
  clock.Advance(4s);
  EXPECT_FALSE(q.TryGet().has_value());
  clock.Advance(1s);
  EXPECT_EQ(*q.TryGet(), "x");
}

TEST(WorkQueueTest, BackoffGrowsExponentiallyWithJitterAndForgetResets) {
  ManualClock clock;
  SeededRandom random(1);
  BackoffOptions b;
  b.base = 1s;
  b.max = 8s;
  b.jitter = 0.2;
  WorkQueue q(clock, random, b);
  std::vector<double> delays;
  for (int i = 0; i < 5; ++i) {
    q.AddRateLimited("k");
    SteadyTime start = clock.SteadyNow();
    std::optional<std::string> got;
    while (!(got = q.TryGet())) clock.Advance(10ms);
    delays.push_back(std::chrono::duration<double>(clock.SteadyNow() - start).count());
    q.Done("k");
  }
  double expected[] = {1, 2, 4, 8, 8};
  for (int i = 0; i < 5; ++i) {
    EXPECT_GE(delays[i], expected[i] * 0.8 - 0.011) << i;
    EXPECT_LE(delays[i], expected[i] * 1.2 + 0.011) << i;
  }
  EXPECT_EQ(q.Failures("k"), 5);
  q.Forget("k");
  EXPECT_EQ(q.Failures("k"), 0);
}

TEST(WorkQueueTest, GetReturnsOnShutdown) {
  ManualClock clock;
  SeededRandom random(1);
  WorkQueue q(clock, random);
  std::thread t([&] { EXPECT_FALSE(q.Get().has_value()); });
  q.ShutDown();
  t.join();
}

}  // namespace
}  // namespace rebootd::controller
