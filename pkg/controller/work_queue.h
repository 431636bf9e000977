// SPDX-License-Identifier: Apache-2.0
// WorkQueue: a keyed queue in the style of client-go's rate-limited work queue. A key is in the
// queue at most once; a key being processed is not handed out again until Done(), and if it was
// re-added meanwhile it is queued again after Done(). Delayed adds and per-key exponential
// backoff with jitter (AddRateLimited / Forget). Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <stop_token>
#include <string>

#include "pkg/base/clock.h"
#include "pkg/base/random.h"

namespace rebootd::controller {

struct BackoffOptions {
  Duration base = std::chrono::milliseconds(500);
  Duration max = std::chrono::seconds(60);
  double jitter = 0.2;  // delay × (1 ± jitter)
};

class WorkQueue {
 public:
  // `clock` and `random` must outlive the queue.
  WorkQueue(Clock& clock, Random& random, BackoffOptions backoff = {});

  // Queues `key` now (no-op when already queued; re-queued after Done() when in flight).
  void Add(const std::string& key);
  // Queues `key` after `delay` (an earlier pending deadline wins).
  void AddAfter(const std::string& key, Duration delay);
  // Queues `key` after its backoff delay: base × 2^failures, capped, with jitter.
  void AddRateLimited(const std::string& key);
  // Resets the failure count of `key`.
  void Forget(const std::string& key);
  int Failures(const std::string& key) const;

  // Blocks until a key is ready or `stop` is requested / ShutDown() called (then nullopt).
  // Uses the injected clock for delayed keys.
  std::optional<std::string> Get(std::stop_token stop = {});
  // Non-blocking: a key that is ready now, if any.
  std::optional<std::string> TryGet();
  // Marks processing of `key` finished.
  void Done(const std::string& key);

  void ShutDown();
  size_t Depth() const;  // ready keys + delayed keys (the rebootd_workqueue_depth gauge)
  // The earliest time a delayed key becomes ready (for single-threaded drivers).
  std::optional<SteadyTime> NextReadyTime() const;

 private:
  void PromoteDueLocked();
  Duration BackoffLocked(const std::string& key);

  Clock& clock_;
  Random& random_;
  const BackoffOptions backoff_;
  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  std::deque<std::string> ready_;              // guarded by mu_
  std::set<std::string> queued_;               // keys in ready_, guarded by mu_
  std::set<std::string> processing_;           // guarded by mu_
  std::set<std::string> dirty_;                // re-added while processing, guarded by mu_
  std::map<std::string, SteadyTime> delayed_;  // key -> when, guarded by mu_
  std::map<std::string, int> failures_;        // guarded by mu_
  bool shut_down_ = false;                     // guarded by mu_
};

}  // namespace rebootd::controller
