// SPDX-License-Identifier: Apache-2.0
#include "pkg/controller/poller.h"

#include <algorithm>
#include <map>

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

uint32_t Poller::KeyIndex(const std::string& key) {
  auto [it, added] = key_index_.emplace(key, static_cast<uint32_t>(key_names_.size()));
  if (added) key_names_.push_back(key);
  return it->second;
}

void Poller::Watch(const std::string& key, const std::vector<std::string>& ids, bool close) {
  {
    std::lock_guard lock(mu_);
    const uint32_t k = KeyIndex(key);
    bool added = false;
    bool closer = false;
    for (const auto& id : ids) {
      auto& list = watchers_[id];
      auto w = std::find_if(list.begin(), list.end(), [&](const Watcher& x) { return x.key == k; });
      if (w == list.end()) {
        list.push_back(Watcher{k, close});
        added = true;
        closer |= close;
        close_count_ += close;
      } else if (w->close != close) {
        closer |= close;
        if (close) {
          ++close_count_;
        } else {
          --close_count_;
        }
        w->close = close;
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
  auto kit = key_index_.find(key);
  if (kit == key_index_.end()) return;
  const uint32_t k = kit->second;
  for (const auto& id : ids) {
    auto it = watchers_.find(id);
    if (it == watchers_.end()) continue;
    auto& list = it->second;
    auto w = std::find_if(list.begin(), list.end(), [&](const Watcher& x) { return x.key == k; });
    if (w == list.end()) continue;
    close_count_ -= w->close;
    list.erase(w);
    if (list.empty()) watchers_.erase(it);
  }
}

void Poller::UnwatchAll(const std::string& key) {
  std::lock_guard lock(mu_);
  auto kit = key_index_.find(key);
  if (kit == key_index_.end()) return;
  const uint32_t k = kit->second;
  for (auto it = watchers_.begin(); it != watchers_.end();) {
    auto& list = it->second;
    auto w = std::find_if(list.begin(), list.end(), [&](const Watcher& x) { return x.key == k; });
    if (w != list.end()) {
      close_count_ -= w->close;
      list.erase(w);
    }
    it = list.empty() ? watchers_.erase(it) : std::next(it);
  }
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
  return watchers_.size();
}

size_t Poller::WatchedClosely() const {
  std::lock_guard lock(mu_);
  return close_count_;
}

SteadyTime Poller::CaughtUpTo() const {
  std::lock_guard lock(mu_);
  return caught_up_to_;
}

int64_t Poller::Rounds() const {
  std::lock_guard lock(mu_);
  return rounds_;
}

void Poller::Loop(std::stop_token stop) {
  SteadyTime last_start = clock_.SteadyNow() - options_.min_gap;
  while (!stop.stop_requested()) {
    bool due = false;
    std::optional<SteadyTime> sleep_until;
    {
      std::unique_lock lock(mu_);
      SteadyTime now = clock_.SteadyNow();
      if (wake_at_ && *wake_at_ <= now && now - last_start >= options_.min_gap &&
          !watchers_.empty()) {
        due = true;
        wake_at_.reset();
      } else if (wake_at_ && watchers_.empty()) {
        wake_at_.reset();
      } else {
        caught_up_to_ = now;
        // Sleep on the injected clock (a manual clock wakes it when a test advances time), at
        // most a short slice so that Watch() and Nudge() are noticed soon.
        sleep_until = now + kSlice;
      }
    }
    if (sleep_until) {
      clock_.SleepUntil(*sleep_until, stop);
      continue;
    }
    if (!due) continue;
    last_start = clock_.SteadyNow();
    Round(stop);
    std::lock_guard lock(mu_);
    ++rounds_;
    if (watchers_.empty()) continue;
    SteadyTime next =
        last_start + (close_count_ == 0 ? options_.interval : options_.close_interval);
    if (!wake_at_ || next < *wake_at_) wake_at_ = next;
  }
}

void Poller::Round(std::stop_token stop) {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(mu_);
    ids.reserve(watchers_.size());
    for (const auto& [id, list] : watchers_) ids.push_back(id);
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
        auto it = watchers_.find(id);
        if (it == watchers_.end()) return;  // not watched (any more)
        for (const Watcher& w : it->second) {
          by_key[key_names_[w.key]].push_back(ObservationEvent{id, at, until, o});
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
      std::vector<bool> seen(key_names_.size());
      for (const auto& [id, list] : watchers_) {
        for (const Watcher& w : list) seen[w.key] = true;
      }
      for (size_t k = 0; k < seen.size(); ++k) {
        if (seen[k]) keys.push_back(key_names_[k]);
      }
    }
    on_error_(s.error(), keys);
  }
}

}  // namespace rebootd::controller
