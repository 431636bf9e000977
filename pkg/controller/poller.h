// SPDX-License-Identifier: Apache-2.0
// Poller: the shared status poller of one CloudProvider. Every instance any request watches is
// observed once per round with one CloudProvider::Observe (which picks the cheapest plan:
// per-ID queries or an account scan); each describe call's observations are delivered as soon
// as they arrive, to every request that watches the instance at that moment. A round starts
// `first_look_delay` after new instances are watched, `after_reboot_delay` after a Nudge() (a
// reboot was just accepted), and otherwise `interval` after the previous one, or
// `close_interval` while any instance is watched closely (a reboot must not come and go
// between two observations of it). Thread-safe; one background thread.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "pkg/base/clock.h"
#include "pkg/cloud/provider.h"
#include "pkg/controller/events.h"

namespace rebootd::controller {

struct PollerOptions {
  Duration interval = std::chrono::seconds(5);
  Duration close_interval = std::chrono::seconds(2);
  Duration after_reboot_delay = std::chrono::seconds(1);
  Duration first_look_delay = std::chrono::milliseconds(50);
  // Minimum gap between the start of two rounds.
  Duration min_gap = std::chrono::milliseconds(500);
};

class Poller {
 public:
  using Deliver = std::function<void(const std::string& key, std::vector<ObservationEvent>)>;
  // A failed round: called once with the error, and with every key watched in that round.
  using OnError = std::function<void(const Error&, const std::vector<std::string>& keys)>;
  Poller(cloud::CloudProvider& provider, Clock& clock, PollerOptions options, Deliver deliver,
         OnError on_error = {});
  ~Poller();

  // Watches `ids` for `key`; `close` asks for the close interval (until Unwatch, or a Watch of
  // the same IDs with close = false).
  void Watch(const std::string& key, const std::vector<std::string>& ids, bool close = false);
  void Unwatch(const std::string& key, const std::vector<std::string>& ids);
  void UnwatchAll(const std::string& key);
  // Asks for a round soon (after_reboot_delay from now).
  void Nudge();
  void Stop();
  size_t Watched() const;
  size_t WatchedClosely() const;
  int64_t Rounds() const;
  // The latest clock time at which the poller had no round due or running (it then sleeps on
  // the clock for at most a short slice). Lets a test that drives a ManualClock wait until the
  // poller has acted on the time it just set, so observations are as close as configured.
  SteadyTime CaughtUpTo() const;

 private:
  void Loop(std::stop_token stop);
  void Round(std::stop_token stop);
  void WakeWithin(Duration d);  // mu_ held

  cloud::CloudProvider& provider_;
  Clock& clock_;
  const PollerOptions options_;
  const Deliver deliver_;
  const OnError on_error_;

  // One watcher of an instance: a request (by its index in key_names_) and how closely.
  struct Watcher {
    uint32_t key;
    bool close;
  };
  uint32_t KeyIndex(const std::string& key);  // mu_ held

  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  // Guarded by mu_. Sized for 100,000s of instances: keys are interned, one small vector each.
  std::unordered_map<std::string, std::vector<Watcher>> watchers_;  // instance id -> watchers
  std::vector<std::string> key_names_;
  std::unordered_map<std::string, uint32_t> key_index_;
  size_t close_count_ = 0;     // Watcher entries with close == true
  SteadyTime caught_up_to_{};  // see CaughtUpTo()
  static constexpr Duration kSlice = std::chrono::milliseconds(20);
  std::optional<SteadyTime> wake_at_;
  int64_t rounds_ = 0;
  std::jthread thread_;
};

}  // namespace rebootd::controller
