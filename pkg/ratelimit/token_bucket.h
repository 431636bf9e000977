// SPDX-License-Identifier: Apache-2.0
// TokenBucket: guarantees at most `rate_per_second` grants in any 1-second window, measured on an
// injected Clock, with adaptive slow-down after throttling answers (AIMD). Thread-safe: any number
// of callers may Acquire() concurrently; grants are handed out in FIFO order of reservation.
//
// Guarantee: for any half-open interval [t, t + 1 s) of steady time, the number of grant times
// inside it is <= floor(rate_per_second) (burst 1 and slots spaced by (1 s + margin) / rate).
// `safety_margin` widens the spacing so that jitter between the grant and the moment the request
// reaches the server does not make the server see more than the limit. For a fractional limit
// N >= 1 the spacing is also never below 1 s / floor(N); for N < 1 grants are >= 1 s / N apart.
// Throttling only ever widens the gaps, so the guarantee (in terms of the configured
// rate_per_second) holds through any throttle/recover cycle.
#pragma once

#include <mutex>
#include <stop_token>
#include <string>

#include "pkg/base/clock.h"
#include "pkg/base/result.h"

namespace rebootd::ratelimit {

struct TokenBucketOptions {
  double rate_per_second = 10;  // the limit N; must be > 0
  // Fractional widening of the spacing between grants (0.10 = slots 10% further apart: 21 calls
  // span 1.1 s, so up to 100 ms of network and scheduling jitter cannot put 21 of them into one
  // server-side second).
  double safety_margin = 0.10;
  // After a throttling answer: the rate is multiplied by `throttle_factor` (not below
  // `min_rate_per_second`) and no grant is given for `throttle_pause`.
  double throttle_factor = 0.5;
  double min_rate_per_second = 0.5;
  Duration throttle_pause = std::chrono::seconds(1);
  // Recovery: after `recovery_delay` without throttling, each success raises the rate by
  // `recovery_step` * rate_per_second, up to rate_per_second.
  Duration recovery_delay = std::chrono::seconds(2);
  double recovery_step = 0.1;
  // The first grant comes one spacing after construction, not at once (an empty bucket). A
  // process that starts, or a standby that takes over leadership, cannot know when the previous
  // process made its last calls; starting empty keeps the merged sequence of both spaced by at
  // least (1 s + margin) / rate, so together they never exceed the limit in any second. Costs
  // one spacing (55 ms at 20/s) once per bucket.
  bool start_empty = true;
};

class TokenBucket {
 public:
  // `clock` must outlive the bucket. Nonsensical options are replaced by safe ones (rate <= 0
  // becomes 1/s, a negative margin 0, min_rate_per_second is capped at rate_per_second, ...);
  // options() returns the values in effect.
  TokenBucket(TokenBucketOptions options, Clock& clock);

  // Takes the next slot and blocks (on the Clock) until it arrives. Returns how long the caller
  // waited (0 when the slot was due at once), or kCancelled when `stop` was requested before
  // the slot arrived (the slot is then given back if nobody reserved after it).
  Result<Duration> Acquire(std::stop_token stop = {});
  // Takes the next slot without blocking and returns its time; the caller must not start its
  // call before then. For single-threaded schedulers that sleep on their own.
  SteadyTime Reserve();
  // Non-blocking: takes a slot only if it is due now. Returns true when taken.
  bool TryAcquire();

  // Feedback from the caller's answers.
  void OnThrottled();
  void OnSuccess();

  // The current limit in grants per second: rate_per_second, or less after throttling (grants
  // are spaced (1 + safety_margin) / CurrentRate() seconds apart).
  double CurrentRate() const;
  const TokenBucketOptions& options() const { return options_; }

 private:
  Duration SpacingLocked() const;

  const TokenBucketOptions options_;
  Clock& clock_;
  mutable std::mutex mu_;
  double rate_;                  // guarded by mu_
  SteadyTime next_slot_;         // guarded by mu_
  SteadyTime last_throttle_{};   // guarded by mu_
  bool throttled_ever_ = false;  // guarded by mu_
};

}  // namespace rebootd::ratelimit
