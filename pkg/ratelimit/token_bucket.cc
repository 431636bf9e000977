// SPDX-License-Identifier: Apache-2.0
#include "pkg/ratelimit/token_bucket.h"

#include <algorithm>
#include <cmath>

namespace rebootd::ratelimit {

namespace {

using std::chrono::nanoseconds;

constexpr double kNanosPerSecond = 1e9;
constexpr double kMinRate = 1e-3;  // one grant per 1,000 s at the least
constexpr double kMaxRate = 1e6;

// Replaces nonsensical options with safe ones (the constructor cannot fail).
TokenBucketOptions Sanitize(TokenBucketOptions o) {
  if (!(o.rate_per_second > 0) || !std::isfinite(o.rate_per_second)) o.rate_per_second = 1;
  // Bounded so that the spacing (1 s + margin) / rate always fits in a Duration.
  o.rate_per_second = std::clamp(o.rate_per_second, kMinRate, kMaxRate);
  if (!(o.safety_margin >= 0) || !std::isfinite(o.safety_margin)) o.safety_margin = 0;
  o.safety_margin = std::min(o.safety_margin, 10.0);
  if (!(o.throttle_factor > 0 && o.throttle_factor <= 1)) o.throttle_factor = 0.5;
  if (!(o.min_rate_per_second > 0)) o.min_rate_per_second = o.rate_per_second;
  o.min_rate_per_second = std::clamp(o.min_rate_per_second, kMinRate, o.rate_per_second);
  if (o.throttle_pause < Duration::zero()) o.throttle_pause = Duration::zero();
  if (o.recovery_delay < Duration::zero()) o.recovery_delay = Duration::zero();
  if (!(o.recovery_step > 0) || !std::isfinite(o.recovery_step)) o.recovery_step = 0.1;
  return o;
}

Duration CeilNanos(double nanos) { return nanoseconds(static_cast<int64_t>(std::ceil(nanos))); }

}  // namespace

TokenBucket::TokenBucket(TokenBucketOptions options, Clock& clock)
    : options_(Sanitize(options)),
      clock_(clock),
      rate_(options_.rate_per_second),
      next_slot_(clock.SteadyNow()) {
  if (options_.start_empty) next_slot_ += SpacingLocked();  // no other thread sees us yet
}

Duration TokenBucket::SpacingLocked() const {
  // Rounded up to whole nanoseconds so that rounding never packs grants closer than the limit.
  Duration spacing = CeilNanos(kNanosPerSecond * (1 + options_.safety_margin) / rate_);
  // For a fractional limit N >= 1 (say 2.5), slots 1 s / N apart would fit ceil(N) = 3 grants
  // into some 1 s windows; the contract promises floor(N), so never go below 1 s / floor(N).
  const double whole = std::floor(options_.rate_per_second);
  if (whole >= 1) spacing = std::max(spacing, CeilNanos(kNanosPerSecond / whole));
  return spacing;
}

SteadyTime TokenBucket::Reserve() {
  std::lock_guard lock(mu_);
  const SteadyTime slot = std::max(clock_.SteadyNow(), next_slot_);
  next_slot_ = slot + SpacingLocked();
  return slot;
}

Result<Duration> TokenBucket::Acquire(std::stop_token stop) {
  if (stop.stop_requested()) {
    return MakeError(ErrorCode::kCancelled, "rate limiter wait cancelled");
  }
  const SteadyTime start = clock_.SteadyNow();
  SteadyTime slot;
  SteadyTime after_slot;
  {
    std::lock_guard lock(mu_);
    slot = std::max(start, next_slot_);
    next_slot_ = slot + SpacingLocked();
    after_slot = next_slot_;
  }
  if (slot > start && !clock_.SleepUntil(slot, stop)) {
    std::lock_guard lock(mu_);
    // Give the slot back only when nobody reserved after us and no throttle moved next_slot_;
    // otherwise the later slots stay where they are (wasting this one is always safe).
    if (next_slot_ == after_slot) next_slot_ = slot;
    return MakeError(ErrorCode::kCancelled, "rate limiter wait cancelled");
  }
  return clock_.SteadyNow() - start;
}

bool TokenBucket::TryAcquire() {
  std::lock_guard lock(mu_);
  const SteadyTime now = clock_.SteadyNow();
  if (next_slot_ > now) return false;
  next_slot_ = now + SpacingLocked();
  return true;
}

void TokenBucket::OnThrottled() {
  std::lock_guard lock(mu_);
  const SteadyTime now = clock_.SteadyNow();
  rate_ = std::max(options_.min_rate_per_second, rate_ * options_.throttle_factor);
  next_slot_ = std::max(next_slot_, now + options_.throttle_pause);
  last_throttle_ = now;
  throttled_ever_ = true;
}

void TokenBucket::OnSuccess() {
  std::lock_guard lock(mu_);
  if (!throttled_ever_ || rate_ >= options_.rate_per_second) return;
  if (clock_.SteadyNow() - last_throttle_ < options_.recovery_delay) return;
  rate_ =
      std::min(options_.rate_per_second, rate_ + options_.recovery_step * options_.rate_per_second);
}

double TokenBucket::CurrentRate() const {
  std::lock_guard lock(mu_);
  return rate_;
}

}  // namespace rebootd::ratelimit
