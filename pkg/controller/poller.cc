// SPDX-License-Identifier: Apache-2.0
#include "pkg/controller/poller.h"

#include <algorithm>

namespace rebootd::controller {

Poller::Poller(cloud::CloudProvider& provider, Clock& clock, PollerOptions options, Deliver deliver,
               OnError on_error)
    : provider_(provider),
      clock_(clock),
      options_(options),
      deliver_(std::move(deliver)),
      on_error_(std::move(on_error)) {
  thread_ = std::jthread([this](std::stop_token st) { Loop(st); });
}

Poller::~Poller() { Stop(); }

void Poller::Stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    cv_.notify_all();
    thread_.join();
  }
}

void Poller::Watch(const std::string& key, const std::vector<std::string>& ids) {
  std::lock_guard lock(mu_);
  bool added = false;
  for (const auto& id : ids) {
    added |= keys_by_id_[id].insert(key).second;
    ids_by_key_[key].insert(id);
  }
  // New instances are looked at soon (a dry run, a state check, a restart's resolution) rather
  // than a whole interval later.
  if (added) {
    SteadyTime soon = clock_.SteadyNow() + options_.after_reboot_delay;
    if (!wake_at_ || soon < *wake_at_) wake_at_ = soon;
  }
}

void Poller::Unwatch(const std::string& key, const std::vector<std::string>& ids) {
  std::lock_guard lock(mu_);
  auto kit = ids_by_key_.find(key);
  for (const auto& id : ids) {
    auto it = keys_by_id_.find(id);
    if (it != keys_by_id_.end()) {
      it->second.erase(key);
      if (it->second.empty()) keys_by_id_.erase(it);
    }
    if (kit != ids_by_key_.end()) kit->second.erase(id);
  }
  if (kit != ids_by_key_.end() && kit->second.empty()) ids_by_key_.erase(kit);
}

void Poller::UnwatchAll(const std::string& key) {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(mu_);
    auto it = ids_by_key_.find(key);
    if (it == ids_by_key_.end()) return;
    ids.assign(it->second.begin(), it->second.end());
  }
  Unwatch(key, ids);
}

void Poller::Nudge() {
  {
    std::lock_guard lock(mu_);
    SteadyTime soon = clock_.SteadyNow() + options_.after_reboot_delay;
    if (!wake_at_ || soon < *wake_at_) wake_at_ = soon;
  }
  cv_.notify_all();
}

size_t Poller::Watched() const {
  std::lock_guard lock(mu_);
  return keys_by_id_.size();
}

int64_t Poller::Rounds() const {
  std::lock_guard lock(mu_);
  return rounds_;
}

void Poller::Loop(std::stop_token stop) {
  SteadyTime last_start = clock_.SteadyNow() - options_.min_gap;
  while (!stop.stop_requested()) {
    bool due = false;
    {
      std::unique_lock lock(mu_);
      SteadyTime now = clock_.SteadyNow();
      if (wake_at_ && *wake_at_ <= now && now - last_start >= options_.min_gap &&
          !keys_by_id_.empty()) {
        due = true;
        wake_at_.reset();
      } else if (wake_at_ && keys_by_id_.empty()) {
        wake_at_.reset();
      } else {
        // Time is the injected clock's; wake at least every slice to re-check it.
        cv_.wait_for(lock, stop, std::chrono::milliseconds(20), [] { return false; });
      }
    }
    if (!due) continue;
    last_start = clock_.SteadyNow();
    Round(stop);
    std::lock_guard lock(mu_);
    ++rounds_;
    SteadyTime next = last_start + options_.interval;
    if (!keys_by_id_.empty() && (!wake_at_ || next < *wake_at_)) wake_at_ = next;
  }
}

void Poller::Round(std::stop_token stop) {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(mu_);
    ids.reserve(keys_by_id_.size());
    for (const auto& [id, keys] : keys_by_id_) ids.push_back(id);
  }
  if (ids.empty()) return;
  SystemTime at = clock_.Now();
  auto result = provider_.Describe(ids, stop);
  if (!result) {
    if (on_error_ && result.error().code != ErrorCode::kCancelled) on_error_(result.error());
    return;
  }
  std::map<std::string, const cloud::Observation*> seen;
  for (const auto& o : *result) seen[o.id] = &o;
  std::map<std::string, std::vector<ObservationEvent>> by_key;
  {
    std::lock_guard lock(mu_);
    for (const auto& id : ids) {
      auto kit = keys_by_id_.find(id);
      if (kit == keys_by_id_.end()) continue;  // unwatched meanwhile
      ObservationEvent ev;
      ev.id = id;
      ev.at = at;
      auto sit = seen.find(id);
      if (sit != seen.end()) ev.observation = *sit->second;
      for (const auto& key : kit->second) by_key[key].push_back(ev);
    }
  }
  for (auto& [key, events] : by_key) deliver_(key, std::move(events));
}

}  // namespace rebootd::controller
