// SPDX-License-Identifier: Apache-2.0
#include "pkg/base/clock.h"

#include <gtest/gtest.h>

#include <ctime>

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

// Found by fuzzing (tests/fuzz json and aliyun_response): a year past 2262 overflowed the
// nanosecond SystemTime (undefined behaviour); years outside 1970..2200 are refused now.
TEST(Rfc3339Test, YearsASystemTimeCannotHoldAreRefused) {
  SystemTime t;
  EXPECT_FALSE(ParseRfc3339("9999-12-31T23:59:59Z", &t));
  EXPECT_FALSE(ParseRfc3339("6197-01-01T00:00Z", &t));
  EXPECT_FALSE(ParseRfc3339("1969-12-31T23:59:59Z", &t));
  EXPECT_FALSE(ParseRfc3339("-001-01-01T00:00:00Z", &t));
  ASSERT_TRUE(ParseRfc3339("2200-12-31T23:59:59Z", &t));
  EXPECT_EQ(FormatRfc3339(t), "2200-12-31T23:59:59Z");
  EXPECT_FALSE(FromUtcFields(2026, 13, 1, 0, 0, 0).has_value());
  EXPECT_TRUE(FromUtcFields(1970, 1, 1, 0, 0, 0).has_value());
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

TEST(Rfc3339Test, FormatMatchesGmtimeAcrossCalendarEdges) {
  // Every day boundary, leap day and century rule the civil-date arithmetic must get right,
  // checked against the C library.
  const int64_t samples[] = {0,          59,         86399,      86400,      951782400,
                             951868800,  4107542399, 4107542400, 1709164800, 1709251199,
                             1735689599, 1735689600, 7258118399, 7258118400};
  for (int64_t secs : samples) {
    std::time_t tt = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char want[32];
    std::strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%SZ", &tm);
    EXPECT_EQ(FormatRfc3339(SystemTime(std::chrono::seconds(secs))), want) << secs;
  }
  for (int64_t secs = 0; secs < 4102444800; secs += 86400 * 7 + 3601) {
    std::time_t tt = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char want[32];
    std::strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%SZ", &tm);
    ASSERT_EQ(FormatRfc3339(SystemTime(std::chrono::seconds(secs))), want) << secs;
  }
}

}  // namespace
}  // namespace rebootd
