// SPDX-License-Identifier: Apache-2.0
// Poller: the shared status poller of one CloudProvider. Every instance any request watches is
// observed once per round with one CloudProvider::Describe (which picks the cheapest plan:
// per-ID queries or an account scan). A round starts `after_reboot_delay` after a Nudge() (a
// reboot was just accepted) or `interval` after the previous round, whichever comes first.
// Thread-safe; one background thread.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "pkg/base/clock.h"
#include "pkg/cloud/provider.h"
#include "pkg/controller/events.h"

namespace rebootd::controller {

struct PollerOptions {
  Duration interval = std::chrono::seconds(5);
  Duration after_reboot_delay = std::chrono::seconds(1);
  // Minimum gap between the start of two rounds.
  Duration min_gap = std::chrono::milliseconds(500);
};

class Poller {
 public:
  using Deliver = std::function<void(const std::string& key, std::vector<ObservationEvent>)>;
  using OnError = std::function<void(const Error&)>;
  Poller(cloud::CloudProvider& provider, Clock& clock, PollerOptions options, Deliver deliver,
         OnError on_error = {});
  ~Poller();

  void Watch(const std::string& key, const std::vector<std::string>& ids);
  void Unwatch(const std::string& key, const std::vector<std::string>& ids);
  void UnwatchAll(const std::string& key);
  // Asks for a round soon (after_reboot_delay from now). Watch() of new IDs does the same.
  void Nudge();
  void Stop();
  size_t Watched() const;
  int64_t Rounds() const;

 private:
  void Loop(std::stop_token stop);
  void Round(std::stop_token stop);

  cloud::CloudProvider& provider_;
  Clock& clock_;
  const PollerOptions options_;
  const Deliver deliver_;
  const OnError on_error_;

  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  std::map<std::string, std::set<std::string>> keys_by_id_;  // guarded by mu_
  std::map<std::string, std::set<std::string>> ids_by_key_;  // guarded by mu_
  std::optional<SteadyTime> wake_at_;                        // guarded by mu_
  int64_t rounds_ = 0;                                       // guarded by mu_
  std::jthread thread_;
};

}  // namespace rebootd::controller
