// SPDX-License-Identifier: Apache-2.0
#include "pkg/base/clock.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace rebootd {
namespace {

using namespace std::chrono_literals;

TEST(ManualClockTest, AdvanceMovesBothClocks) {
  ManualClock clock;
  SystemTime w0 = clock.Now();
  SteadyTime s0 = clock.SteadyNow();
  clock.Advance(1500ms);
  EXPECT_EQ(clock.Now() - w0, 1500ms);
  EXPECT_EQ(clock.SteadyNow() - s0, 1500ms);
}

TEST(ManualClockTest, SleeperWakesOnlyWhenDeadlinePasses) {
  ManualClock clock;
  std::atomic<bool> woke{false};
  SteadyTime deadline = clock.SteadyNow() + 10s;
  std::thread t([&] {
    EXPECT_TRUE(clock.SleepUntil(deadline));
    woke = true;
  });
  while (clock.Sleepers() == 0) std::this_thread::yield();
  clock.Advance(9s);
  std::this_thread::sleep_for(20ms);
  EXPECT_FALSE(woke.load());
  clock.Advance(1s);
  t.join();
  EXPECT_TRUE(woke.load());
}

TEST(ManualClockTest, StopRequestEndsSleepWithFalse) {
  ManualClock clock;
  std::stop_source stop;
  bool result = true;
  std::thread t([&] { result = clock.SleepUntil(clock.SteadyNow() + 1h, stop.get_token()); });
  while (clock.Sleepers() == 0) std::this_thread::yield();
  stop.request_stop();
  t.join();
  EXPECT_FALSE(result);
}

TEST(SystemClockTest, SleepForReturnsAfterDeadline) {
  SystemClock& clock = SystemClock::Instance();
  SteadyTime start = clock.SteadyNow();
  EXPECT_TRUE(clock.SleepFor(5ms));
  EXPECT_GE(clock.SteadyNow() - start, 5ms);
}

TEST(Rfc3339Test, FormatAndParseRoundTrip) {
  SystemTime t = SystemTime(std::chrono::seconds(1456231584));  // 2016-02-23T12:46:24Z
  EXPECT_EQ(FormatRfc3339(t), "2016-02-23T12:46:24Z");
  SystemTime parsed;
  ASSERT_TRUE(ParseRfc3339("2016-02-23T12:46:24Z", &parsed));
  EXPECT_EQ(parsed, t);
  ASSERT_TRUE(ParseRfc3339("2017-12-10T04:04Z", &parsed));  // Aliyun StartTime has no seconds
  EXPECT_EQ(FormatRfc3339(parsed), "2017-12-10T04:04:00Z");
  ASSERT_TRUE(ParseRfc3339("2016-02-23T12:46:24.123Z", &parsed));
  EXPECT_EQ(parsed, t);
  EXPECT_FALSE(ParseRfc3339("2016-02-23 12:46:24", &parsed));
  EXPECT_FALSE(ParseRfc3339("2016-13-23T12:46:24Z", &parsed));
  EXPECT_FALSE(ParseRfc3339("", &parsed));
}

}  // namespace
}  // namespace rebootd
