// SPDX-License-Identifier: Apache-2.0
#include "pkg/ratelimit/token_bucket.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <utility>
#include <vector>

namespace rebootd::ratelimit {
namespace {

using namespace std::chrono_literals;

// Forwards to a ManualClock and remembers the deadlines threads are sleeping on, so a driver can
// advance time exactly to the next deadline (never past it): every grant then happens at exactly
// its slot time and the recorded times are deterministic.
class SteppingClock final : public Clock {
 public:
  explicit SteppingClock(ManualClock& inner) : inner_(inner) {}
  SystemTime Now() const override { return inner_.Now(); }
  SteadyTime SteadyNow() const override { return inner_.SteadyNow(); }
  bool SleepUntil(SteadyTime deadline, std::stop_token stop = {}) override {
    {
      std::lock_guard lock(mu_);
      pending_.insert(deadline);
    }
    bool reached = inner_.SleepUntil(deadline, stop);
    std::lock_guard lock(mu_);
    pending_.erase(pending_.find(deadline));
    return reached;
  }

  // When exactly `threads` threads sleep and none of them is due, advances to the earliest
  // deadline and returns true; returns false (does nothing) otherwise.
  bool AdvanceToNextDeadline(int threads) {
    SteadyTime next;
    {
      std::lock_guard lock(mu_);
      if (static_cast<int>(pending_.size()) != threads || pending_.empty()) return false;
      next = *pending_.begin();
    }
    if (inner_.Sleepers() != threads) return false;
    SteadyTime now = inner_.SteadyNow();
    if (next <= now) return false;
    inner_.Advance(next - now);
    return true;
  }

 private:
  ManualClock& inner_;
  mutable std::mutex mu_;
  std::multiset<SteadyTime> pending_;
};

// The largest number of times inside any half-open window [t, t + width).
int MaxInWindow(std::vector<SteadyTime> times, Duration width) {
  std::sort(times.begin(), times.end());
  int best = 0;
  size_t end = 0;
  for (size_t begin = 0; begin < times.size(); ++begin) {
    end = std::max(end, begin);
    while (end < times.size() && times[end] < times[begin] + width) ++end;
    best = std::max(best, static_cast<int>(end - begin));
  }
  return best;
}

struct Grant {
  SteadyTime time;
  int thread;
};

// Runs `threads` threads doing `per_thread` Acquire() calls each, while this thread advances
// the clock from deadline to deadline. `after_grant(n)` runs in the granted thread after the
// n-th grant overall (0-based). Returns the grants in the order they were recorded.
template <class AfterGrant>
std::vector<Grant> RunConcurrently(TokenBucket& bucket, SteppingClock& clock, int threads,
                                   int per_thread, AfterGrant after_grant) {
  std::mutex mu;
  std::vector<Grant> grants;
  std::atomic<int> done{0};
  std::vector<std::jthread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        Result<Duration> waited = bucket.Acquire();
        EXPECT_TRUE(waited.has_value());
        size_t n;
        {
          std::lock_guard lock(mu);
          grants.push_back({clock.SteadyNow(), t});
          n = grants.size() - 1;
        }
        after_grant(n);
      }
      ++done;
    });
  }
  // Only yields (no sleeping): time moves only when every live worker sleeps on the clock.
  while (done.load() < threads) {
    if (!clock.AdvanceToNextDeadline(threads - done.load())) std::this_thread::yield();
  }
  workers.clear();
  return grants;
}

TEST(TokenBucketTest, StartsEmptySoAProcessAfterAnotherNeverExceedsTheLimit) {
  ManualClock clock;
  // The previous process (or leader) ran its bucket flat out until it stopped...
  TokenBucket before({.rate_per_second = 20, .safety_margin = 0.1}, clock);
  std::vector<SteadyTime> grants;
  for (int i = 0; i < 40; ++i) grants.push_back(before.Reserve());
  clock.Advance(grants.back() - clock.SteadyNow());
  // ...and the next one starts the moment after its last call.
  TokenBucket after({.rate_per_second = 20, .safety_margin = 0.1}, clock);
  const SteadyTime first = after.Reserve();
  EXPECT_EQ(first, clock.SteadyNow() + 55ms);
  grants.push_back(first);
  for (int i = 0; i < 40; ++i) grants.push_back(after.Reserve());
  // Together: never more than 20 grants in any half-open 1 s window.
  for (size_t i = 0; i < grants.size(); ++i) {
    size_t in_window = 0;
    for (SteadyTime g : grants) in_window += (g >= grants[i] && g < grants[i] + 1s) ? 1 : 0;
    EXPECT_LE(in_window, 20u) << "window starting at grant " << i;
  }
  // A full bucket (start_empty = false) would have put 21 into one second.
  TokenBucket full({.rate_per_second = 20, .safety_margin = 0.1, .start_empty = false}, clock);
  EXPECT_EQ(full.Reserve(), clock.SteadyNow());
}

TEST(TokenBucketTest, ReserveSpacesSlotsByMarginOverRate) {
  ManualClock clock;
  TokenBucket bucket({.rate_per_second = 20, .safety_margin = 0.05, .start_empty = false}, clock);
  const SteadyTime t0 = clock.SteadyNow();
  EXPECT_EQ(bucket.Reserve(), t0);
  EXPECT_EQ(bucket.Reserve(), t0 + 52500us);  // 1.05 s / 20
  EXPECT_EQ(bucket.Reserve(), t0 + 105ms);
  // Burst 1: after a long idle period only one slot is due at once.
  clock.Advance(10s);
  const SteadyTime t1 = clock.SteadyNow();
  EXPECT_EQ(bucket.Reserve(), t1);
  EXPECT_EQ(bucket.Reserve(), t1 + 52500us);
}

TEST(TokenBucketTest, FractionalRatesNeverExceedTheFloor) {
  ManualClock clock;
  // 2.5/s may only mean 2 in any 1 s window, so slots are 500 ms apart, not 400 ms.
  TokenBucket fractional({.rate_per_second = 2.5, .safety_margin = 0, .start_empty = false}, clock);
  const SteadyTime t0 = clock.SteadyNow();
  EXPECT_EQ(fractional.Reserve(), t0);
  EXPECT_EQ(fractional.Reserve(), t0 + 500ms);
  // Below 1/s: one grant per 1/N seconds.
  TokenBucket slow({.rate_per_second = 0.5, .safety_margin = 0, .start_empty = false}, clock);
  EXPECT_EQ(slow.Reserve(), t0);
  EXPECT_EQ(slow.Reserve(), t0 + 2s);
}

TEST(TokenBucketTest, TryAcquireTakesOnlyDueSlots) {
  ManualClock clock;
  TokenBucket bucket({.rate_per_second = 10, .safety_margin = 0, .start_empty = false}, clock);
  EXPECT_TRUE(bucket.TryAcquire());
  EXPECT_FALSE(bucket.TryAcquire());
  clock.Advance(99ms);
  EXPECT_FALSE(bucket.TryAcquire());
  clock.Advance(1ms);
  EXPECT_TRUE(bucket.TryAcquire());
  EXPECT_FALSE(bucket.TryAcquire());
  // A reservation makes TryAcquire wait behind it.
  clock.Advance(100ms);
  EXPECT_EQ(bucket.Reserve(), clock.SteadyNow());
  EXPECT_FALSE(bucket.TryAcquire());
}

TEST(TokenBucketTest, AcquireReportsTheWait) {
  ManualClock manual;
  SteppingClock clock(manual);
  TokenBucket bucket({.rate_per_second = 20, .safety_margin = 0.05, .start_empty = false}, clock);
  Result<Duration> first = bucket.Acquire();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(*first, 0ns);
  Result<Duration> second;
  std::thread t([&] { second = bucket.Acquire(); });
  while (!clock.AdvanceToNextDeadline(1)) std::this_thread::yield();
  t.join();
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(*second, 52500us);
  // Part of the spacing already passed: only the rest is waited.
  manual.Advance(50ms);
  Result<Duration> third;
  std::thread t3([&] { third = bucket.Acquire(); });
  while (!clock.AdvanceToNextDeadline(1)) std::this_thread::yield();
  t3.join();
  ASSERT_TRUE(third.has_value());
  EXPECT_EQ(*third, 2500us);
}

TEST(TokenBucketTest, ConcurrentCallersNeverExceedTheLimitAndAllGetServed) {
  constexpr int kThreads = 50;
  constexpr int kPerThread = 10;
  ManualClock manual;
  SteppingClock clock(manual);
  TokenBucket bucket({.rate_per_second = 20, .safety_margin = 0.05, .start_empty = false}, clock);
  const SteadyTime start = clock.SteadyNow();
  std::vector<Grant> grants = RunConcurrently(bucket, clock, kThreads, kPerThread, [](size_t) {});

  ASSERT_EQ(grants.size(), static_cast<size_t>(kThreads * kPerThread));
  std::vector<SteadyTime> times;
  std::map<int, int> per_thread;
  for (const Grant& g : grants) {
    times.push_back(g.time);
    ++per_thread[g.thread];
  }
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(per_thread[t], kPerThread) << "thread " << t;
  EXPECT_LE(MaxInWindow(times, 1s), 20);
  // 1.05 s / 20 spacing gives exactly 20 grants in some 1 s windows: the bucket is not idle.
  EXPECT_EQ(MaxInWindow(times, 1s), 20);
  // Grant times are exactly the slots: distinct, 52.5 ms apart, none lost or doubled.
  std::sort(times.begin(), times.end());
  for (size_t i = 0; i < times.size(); ++i) EXPECT_EQ(times[i], start + i * 52500us) << i;
  // FIFO-ish fairness: grants are served in reservation order, so at no point has any thread
  // got more than two grants more than another.
  std::vector<Grant> ordered = grants;
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const Grant& a, const Grant& b) { return a.time < b.time; });
  std::vector<int> counts(kThreads, 0);
  for (const Grant& g : ordered) {
    ++counts[g.thread];
    auto [lo, hi] = std::minmax_element(counts.begin(), counts.end());
    ASSERT_LE(*hi - *lo, 2);
  }
}

TEST(TokenBucketTest, ConcurrentCallersStayWithinTheLimitThroughThrottleAndRecovery) {
  constexpr int kThreads = 50;
  constexpr int kPerThread = 10;
  ManualClock manual;
  SteppingClock clock(manual);
  TokenBucketOptions options{.rate_per_second = 20, .safety_margin = 0.05, .start_empty = false};
  TokenBucket bucket(options, clock);
  std::atomic<int> throttles{0};
  std::vector<Grant> grants = RunConcurrently(bucket, clock, kThreads, kPerThread, [&](size_t n) {
    // Two throttling answers (one a double hit), successes otherwise.
    if (n == 100 || n == 250 || n == 251) {
      bucket.OnThrottled();
      ++throttles;
    } else {
      bucket.OnSuccess();
    }
  });
  ASSERT_EQ(grants.size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(throttles.load(), 3);
  std::vector<SteadyTime> times;
  for (const Grant& g : grants) times.push_back(g.time);
  EXPECT_LE(MaxInWindow(times, 1s), 20);
  std::sort(times.begin(), times.end());
  EXPECT_EQ(std::adjacent_find(times.begin(), times.end()), times.end()) << "duplicate grant";
  for (size_t i = 1; i < times.size(); ++i) EXPECT_GE(times[i] - times[i - 1], 52500us) << i;
  // Slower than unthrottled (499 * 52.5 ms = 26.2 s): reservations made while throttled are
  // 105 ms (then 210 ms) apart ...
  EXPECT_GT(times.back() - times.front(), 499 * 52500us + 5s);
  // ... and recovered to the full rate by the end.
  EXPECT_EQ(bucket.CurrentRate(), 20);
}

// Reserves and moves the clock to each slot (a single caller that always has work) for `d`;
// returns the grant times.
std::vector<SteadyTime> DriveFor(TokenBucket& bucket, ManualClock& clock, Duration d) {
  std::vector<SteadyTime> times;
  const SteadyTime end = clock.SteadyNow() + d;
  while (true) {
    SteadyTime slot = bucket.Reserve();
    if (slot >= end) break;
    if (slot > clock.SteadyNow()) clock.Advance(slot - clock.SteadyNow());
    times.push_back(slot);
    bucket.OnSuccess();
  }
  return times;
}

TEST(TokenBucketTest, ThrottlingHalvesTheRateAndSuccessRecoversIt) {
  ManualClock clock;
  TokenBucket bucket({.rate_per_second = 20,
                      .safety_margin = 0,
                      .throttle_factor = 0.5,
                      .min_rate_per_second = 2,
                      .throttle_pause = 1s,
                      .recovery_delay = 2s,
                      .recovery_step = 0.1,
                      .start_empty = false},
                     clock);
  EXPECT_EQ(bucket.Reserve(), clock.SteadyNow());
  clock.Advance(50ms);
  EXPECT_EQ(DriveFor(bucket, clock, 1s).size(), 20u);

  // Throttled: nothing for the pause, then half the rate.
  bucket.OnThrottled();
  const SteadyTime throttled_at = clock.SteadyNow();
  EXPECT_EQ(bucket.CurrentRate(), 10);
  SteadyTime next = bucket.Reserve();
  EXPECT_GE(next, throttled_at + 1s);
  clock.Advance(next - clock.SteadyNow() + 100ms);  // the next slot is 100 ms later
  // Successes within recovery_delay of the throttle do not raise the rate.
  bucket.OnSuccess();
  EXPECT_EQ(bucket.CurrentRate(), 10);
  std::vector<SteadyTime> slow;
  const SteadyTime window_start = bucket.Reserve();
  slow.push_back(window_start);
  for (int i = 0; i < 9; ++i) slow.push_back(bucket.Reserve());
  EXPECT_EQ(slow.back() - window_start, 900ms);  // 10 per second
  EXPECT_EQ(bucket.CurrentRate(), 10);

  // Repeated throttling bottoms out at min_rate_per_second.
  for (int i = 0; i < 10; ++i) bucket.OnThrottled();
  EXPECT_EQ(bucket.CurrentRate(), 2);

  // Recovery: after recovery_delay, each success adds 10% of the limit.
  clock.Advance(2s - 1ns);
  bucket.OnSuccess();
  EXPECT_EQ(bucket.CurrentRate(), 2);
  clock.Advance(1ns);
  bucket.OnSuccess();
  EXPECT_EQ(bucket.CurrentRate(), 4);
  for (int i = 0; i < 20; ++i) bucket.OnSuccess();
  EXPECT_EQ(bucket.CurrentRate(), 20);  // capped at the limit
  clock.Advance(10s);                   // let the queued slots pass
  bucket.Reserve();
  clock.Advance(50ms);
  EXPECT_EQ(DriveFor(bucket, clock, 1s).size(), 20u);
}

TEST(TokenBucketTest, StopCancelsAWaitingAcquireAndGivesTheSlotBack) {
  ManualClock manual;
  SteppingClock clock(manual);
  TokenBucket bucket({.rate_per_second = 1, .safety_margin = 0, .start_empty = false}, clock);
  const SteadyTime t0 = clock.SteadyNow();
  ASSERT_TRUE(bucket.Acquire().has_value());
  std::stop_source stop;
  Result<Duration> result;
  std::thread t([&] { result = bucket.Acquire(stop.get_token()); });
  while (manual.Sleepers() == 0) std::this_thread::yield();
  stop.request_stop();
  t.join();
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kCancelled);
  EXPECT_EQ(clock.SteadyNow(), t0);
  // The unused slot (t0 + 1 s) goes to the next caller.
  EXPECT_EQ(bucket.Reserve(), t0 + 1s);
  // A stop requested before the call cancels at once, without taking a slot.
  Result<Duration> early = bucket.Acquire(stop.get_token());
  ASSERT_FALSE(early.has_value());
  EXPECT_EQ(early.error().code, ErrorCode::kCancelled);
  EXPECT_EQ(bucket.Reserve(), t0 + 2s);
}

TEST(TokenBucketTest, CancelledSlotIsKeptWhenSomeoneReservedAfterIt) {
  ManualClock manual;
  SteppingClock clock(manual);
  TokenBucket bucket({.rate_per_second = 1, .safety_margin = 0, .start_empty = false}, clock);
  const SteadyTime t0 = clock.SteadyNow();
  bucket.Reserve();  // t0
  std::stop_source stop;
  Result<Duration> result;
  std::thread t([&] { result = bucket.Acquire(stop.get_token()); });  // t0 + 1 s
  while (manual.Sleepers() == 0) std::this_thread::yield();
  EXPECT_EQ(bucket.Reserve(), t0 + 2s);
  stop.request_stop();
  t.join();
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(bucket.Reserve(), t0 + 3s);  // later slots stay put
}

TEST(TokenBucketTest, NonsensicalOptionsAreMadeSafe) {
  ManualClock clock;
  TokenBucket bucket(
      {.rate_per_second = 0, .safety_margin = -1, .throttle_factor = 3, .min_rate_per_second = 50},
      clock);
  EXPECT_EQ(bucket.options().rate_per_second, 1);
  EXPECT_EQ(bucket.options().safety_margin, 0);
  EXPECT_EQ(bucket.options().throttle_factor, 0.5);
  EXPECT_EQ(bucket.options().min_rate_per_second, 1);
  const SteadyTime t0 = bucket.Reserve();
  EXPECT_EQ(bucket.Reserve(), t0 + 1s);
  bucket.OnThrottled();
  EXPECT_EQ(bucket.CurrentRate(), 1);
}

TEST(TokenBucketTest, ExtremeRatesAreClampedSoTheSpacingCannotOverflow) {
  ManualClock clock;
  // 1e-12/s would be a spacing of 1.1e21 ns, past what a Duration holds.
  TokenBucket slow({.rate_per_second = 1e-12, .min_rate_per_second = 1e-300}, clock);
  EXPECT_EQ(slow.options().rate_per_second, 1e-3);
  EXPECT_EQ(slow.options().min_rate_per_second, 1e-3);
  const SteadyTime t0 = clock.SteadyNow();
  EXPECT_EQ(slow.Reserve(), t0 + 1100s);  // empty at the start: one spacing of 1.1 / 1e-3 s
  EXPECT_EQ(slow.Reserve(), t0 + 2200s);
  slow.OnThrottled();
  EXPECT_GT(slow.Reserve(), t0 + 2200s);
  TokenBucket fast({.rate_per_second = 1e300, .safety_margin = 1e300}, clock);
  EXPECT_EQ(fast.options().rate_per_second, 1e6);
  EXPECT_EQ(fast.options().safety_margin, 10);
}

}  // namespace
}  // namespace rebootd::ratelimit
