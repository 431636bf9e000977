// SPDX-License-Identifier: Apache-2.0
// Dispatcher: issues reboot calls for one CloudProvider (one provider, account and region).
// Instances from every request are queued together and packed into calls of at most
// MaxRebootBatch() IDs that share mode, force and dry-run (Tencent: up to 100 per call; Aliyun:
// one per call, several calls in flight). The provider's rate limiter paces the calls.
// A rejected Tencent batch is all-or-nothing: the culprits named in the error are failed and the
// rest re-queued; otherwise the batch is bisected until the bad IDs are isolated.
// Thread-safe. Outcomes are delivered through the `deliver` callback from worker threads.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pkg/base/clock.h"
#include "pkg/cloud/provider.h"
#include "pkg/controller/events.h"

namespace rebootd::controller {

struct RebootWork {
  std::string key;  // the request's key
  std::string id;
  cloud::RebootMode mode = cloud::RebootMode::kSoft;
  bool force = false;
  bool dry_run = false;
};

struct DispatcherOptions {
  int workers = 4;  // concurrent calls in flight
  // Back-off before re-sending a batch that could not be delivered (connection refused).
  Duration retry_delay = std::chrono::seconds(1);
  // Throttled / undeliverable attempts before an instance is handed back as kNotSent.
  int max_retries = 20;
};

class Dispatcher {
 public:
  using Deliver = std::function<void(const std::string& key, std::vector<RebootOutcome>)>;
  // `provider` and `clock` must outlive the dispatcher.
  Dispatcher(cloud::CloudProvider& provider, Clock& clock, DispatcherOptions options,
             Deliver deliver);
  ~Dispatcher();  // Stop()

  void Submit(std::vector<RebootWork> work);
  // Stops taking work; calls in flight finish (their outcomes are delivered); queued work is
  // handed back as kNotSent. Joins the workers.
  void Stop();
  // Takes the queued (not yet sent) work of request `key` back and delivers it as kNotSent; calls
  // in flight are not affected. Used when a request is deleted mid-run.
  void Cancel(const std::string& key);
  size_t Queued() const;
  size_t InFlight() const;
  int Workers() const { return options_.workers; }

 private:
  struct Batch {
    std::vector<RebootWork> items;
    int retries = 0;
  };
  void WorkerLoop(std::stop_token stop);
  bool TakeBatchLocked(Batch* out);
  void Process(Batch batch, std::stop_token stop);
  void Requeue(Batch batch, bool front);

  cloud::CloudProvider& provider_;
  Clock& clock_;
  const DispatcherOptions options_;
  const Deliver deliver_;

  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  std::deque<Batch> queue_;  // guarded by mu_; single items or bisected batches
  size_t in_flight_ = 0;     // guarded by mu_
  bool stopping_ = false;    // guarded by mu_
  std::vector<std::jthread> workers_;
};

// IDs of `batch` that `message` names (the services name the offending instances).
std::vector<std::string> IdsNamedIn(std::string_view message,
                                    const std::vector<std::string>& batch);

}  // namespace rebootd::controller
