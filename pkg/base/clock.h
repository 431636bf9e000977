// SPDX-License-Identifier: Apache-2.0
// Clock: the only way pkg/ code reads time or sleeps. SystemClock is the real one; ManualClock is
// a simulated clock for deterministic tests (Advance() moves both clocks and wakes sleepers).
// Both implementations are thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <stop_token>

namespace rebootd {

using Duration = std::chrono::nanoseconds;
using SystemTime = std::chrono::system_clock::time_point;
using SteadyTime = std::chrono::steady_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time: status stamps, request signing.
  virtual SystemTime Now() const = 0;
  // Monotonic time: intervals, buckets, backoff, deadlines.
  virtual SteadyTime SteadyNow() const = 0;
  // Blocks until SteadyNow() >= deadline, or until `stop` is requested. Returns false when it
  // returned because of the stop request, true otherwise.
  virtual bool SleepUntil(SteadyTime deadline, std::stop_token stop = {}) = 0;
  bool SleepFor(Duration d, std::stop_token stop = {}) {
    return SleepUntil(SteadyNow() + d, std::move(stop));
  }
};

class SystemClock final : public Clock {
 public:
  SystemTime Now() const override { return std::chrono::system_clock::now(); }
  SteadyTime SteadyNow() const override { return std::chrono::steady_clock::now(); }
  bool SleepUntil(SteadyTime deadline, std::stop_token stop = {}) override;
  // A process-wide instance, for mains and tests that need real time.
  static SystemClock& Instance();
};

// Simulated time. Starts at the given wall time (default 2026-01-01T00:00:00Z) and an arbitrary
// steady epoch; only Advance()/Set*() move it.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(SystemTime start = DefaultStart());
  SystemTime Now() const override;
  SteadyTime SteadyNow() const override;
  bool SleepUntil(SteadyTime deadline, std::stop_token stop = {}) override;

  // Moves both clocks forward by `d` and wakes every sleeper whose deadline has passed.
  void Advance(Duration d);
  // Sets the wall clock only (e.g. to model clock skew); steady time is unchanged.
  void SetNow(SystemTime t);
  // Number of threads currently blocked in SleepUntil (lets tests wait for sleepers).
  int Sleepers() const;

  static SystemTime DefaultStart();

 private:
  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  SystemTime now_;     // guarded by mu_
  SteadyTime steady_;  // guarded by mu_
  int sleepers_ = 0;   // guarded by mu_
};

// A UTC calendar time as a SystemTime; nullopt when a field is out of range or the year is
// outside 1970..2200 (SystemTime counts int64 nanoseconds, which end in 2262: a later year
// from a peer would overflow). Days past the month's end roll over as timegm() does.
std::optional<SystemTime> FromUtcFields(int year, int month, int day, int hour, int minute,
                                        int second);

// RFC 3339 / ISO 8601 UTC with seconds, e.g. "2026-01-01T00:00:00Z".
std::string FormatRfc3339(SystemTime t);
// Parses "YYYY-MM-DDThh:mm:ssZ" and "YYYY-MM-DDThh:mmZ" (and an optional fraction). Returns
// false when the text is not of that form.
bool ParseRfc3339(std::string_view text, SystemTime* out);

}  // namespace rebootd
