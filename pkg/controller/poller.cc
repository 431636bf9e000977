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

void Poller::WakeWithin(Duration d) {
  SteadyTime soon = clock_.SteadyNow() + d;
  if (!wake_at_ || soon < *wake_at_) wake_at_ = soon;
}

void Poller::Watch(const std::string& key, const std::vector<std::string>& ids, bool close) {
  {
    std::lock_guard lock(mu_);
    bool added = false;
    bool closer = false;
    for (const auto& id : ids) {
      added |= keys_by_id_[id].insert(key).second;
      ids_by_key_[key].insert(id);
      if (close) {
        closer |= close_.emplace(id, key).second;
      } else {
        close_.erase({id, key});
      }
    }
    // New instances are looked at soon (a baseline, a dry run, a restart's resolution) rather
    // than a whole interval later; closer watching starts within the close interval.
    if (added) WakeWithin(options_.first_look_delay);
    if (closer) WakeWithin(options_.close_interval);
  }
  cv_.notify_all();
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
    close_.erase({id, key});
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
    WakeWithin(options_.after_reboot_delay);
  }
  cv_.notify_all();
}

size_t Poller::Watched() const {
  std::lock_guard lock(mu_);
  return keys_by_id_.size();
}

size_t Poller::WatchedClosely() const {
  std::lock_guard lock(mu_);
  return close_.size();
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
    if (keys_by_id_.empty()) continue;
    SteadyTime next = last_start + (close_.empty() ? options_.interval : options_.close_interval);
    if (!wake_at_ || next < *wake_at_) wake_at_ = next;
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
  // Each describe call's observations go to the requests that watch the instance now (a request
  // that started watching during the round gets what the rest of the round sees).
  auto sink = [&](cloud::ObservedChunk chunk) {
    std::map<std::string, std::vector<ObservationEvent>> by_key;
    SystemTime now = clock_.Now();
    {
      std::lock_guard lock(mu_);
      auto add = [&](const std::string& id, SystemTime at, SystemTime until,
                     std::optional<cloud::Observation> o) {
        auto kit = keys_by_id_.find(id);
        if (kit == keys_by_id_.end()) return;  // not watched (any more)
        for (const auto& key : kit->second) {
          by_key[key].push_back(ObservationEvent{id, at, until, o});
        }
      };
      for (auto& o : chunk.observations) {
        SystemTime at = o.from, until = o.until;
        std::string id = o.id;
        add(id, at, until, std::move(o));
      }
      for (const auto& id : chunk.absent) add(id, now, now, std::nullopt);
    }
    for (auto& [key, events] : by_key) deliver_(key, std::move(events));
  };
  Status s = provider_.Observe(ids, stop, sink);
  if (!s && on_error_ && s.error().code != ErrorCode::kCancelled) {
    std::vector<std::string> keys;
    {
      std::lock_guard lock(mu_);
      for (const auto& [key, watched] : ids_by_key_) keys.push_back(key);
    }
    on_error_(s.error(), keys);
  }
}

}  // namespace rebootd::controller
