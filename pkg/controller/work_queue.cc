// SPDX-License-Identifier: Apache-2.0
#include "pkg/controller/work_queue.h"

#include <algorithm>
#include <cmath>

namespace rebootd::controller {

WorkQueue::WorkQueue(Clock& clock, Random& random, BackoffOptions backoff)
    : clock_(clock), random_(random), backoff_(backoff) {}

void WorkQueue::Add(const std::string& key) {
  {
    std::lock_guard lock(mu_);
    if (shut_down_) return;
    delayed_.erase(key);
    if (processing_.count(key)) {
      dirty_.insert(key);
      return;
    }
    if (queued_.insert(key).second) ready_.push_back(key);
  }
  cv_.notify_all();
}

void WorkQueue::AddAfter(const std::string& key, Duration delay) {
  if (delay <= Duration::zero()) return Add(key);
  {
    std::lock_guard lock(mu_);
    if (shut_down_ || queued_.count(key)) return;
    SteadyTime when = clock_.SteadyNow() + delay;
    auto it = delayed_.find(key);
    if (it == delayed_.end() || when < it->second) delayed_[key] = when;
  }
  cv_.notify_all();
}

Duration WorkQueue::BackoffLocked(const std::string& key) {
  int n = failures_[key]++;
  double factor = std::pow(2.0, std::min(n, 30));
  double d = std::min(static_cast<double>(backoff_.base.count()) * factor,
                      static_cast<double>(backoff_.max.count()));
  double j = 1.0 + backoff_.jitter * (2.0 * random_.Uniform01() - 1.0);
  return Duration(static_cast<Duration::rep>(d * j));
}

void WorkQueue::AddRateLimited(const std::string& key) {
  Duration d;
  {
    std::lock_guard lock(mu_);
    d = BackoffLocked(key);
  }
  AddAfter(key, d);
}

void WorkQueue::Forget(const std::string& key) {
  std::lock_guard lock(mu_);
  failures_.erase(key);
}

int WorkQueue::Failures(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

void WorkQueue::PromoteDueLocked() {
  SteadyTime now = clock_.SteadyNow();
  for (auto it = delayed_.begin(); it != delayed_.end();) {
    if (it->second <= now) {
      const std::string& key = it->first;
      if (processing_.count(key)) {
        dirty_.insert(key);
      } else if (queued_.insert(key).second) {
        ready_.push_back(key);
      }
      it = delayed_.erase(it);
    } else {
      ++it;
    }
  }
}

std::optional<std::string> WorkQueue::TryGet() {
  std::lock_guard lock(mu_);
  PromoteDueLocked();
  if (ready_.empty()) return std::nullopt;
  std::string key = std::move(ready_.front());
  ready_.pop_front();
  queued_.erase(key);
  processing_.insert(key);
  return key;
}

std::optional<std::string> WorkQueue::Get(std::stop_token stop) {
  std::unique_lock lock(mu_);
  while (!stop.stop_requested()) {
    if (shut_down_) return std::nullopt;
    PromoteDueLocked();
    if (!ready_.empty()) {
      std::string key = std::move(ready_.front());
      ready_.pop_front();
      queued_.erase(key);
      processing_.insert(key);
      return key;
    }
    // Add() notifies; delayed keys are checked against the injected clock every slice, so a
    // ManualClock advanced by a test is honoured within one slice.
    cv_.wait_for(lock, stop, std::chrono::milliseconds(20),
                 [&] { return !ready_.empty() || shut_down_; });
  }
  return std::nullopt;
}

void WorkQueue::Done(const std::string& key) {
  {
    std::lock_guard lock(mu_);
    processing_.erase(key);
    if (dirty_.erase(key) && !shut_down_) {
      if (queued_.insert(key).second) ready_.push_back(key);
    }
  }
  cv_.notify_all();
}

void WorkQueue::ShutDown() {
  {
    std::lock_guard lock(mu_);
    shut_down_ = true;
  }
  cv_.notify_all();
}

size_t WorkQueue::Depth() const {
  std::lock_guard lock(mu_);
  return ready_.size() + delayed_.size();
}

std::optional<SteadyTime> WorkQueue::NextReadyTime() const {
  std::lock_guard lock(mu_);
  std::optional<SteadyTime> best;
  for (const auto& [k, t] : delayed_) {
    if (!best || t < *best) best = t;
  }
  return best;
}

}  // namespace rebootd::controller
