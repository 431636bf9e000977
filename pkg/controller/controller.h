// SPDX-License-Identifier: Apache-2.0
// Controller: the reconcile loop of rebootd (DESIGN.md §2–§4). Sources fill the RequestCache and
// call Enqueue(key); one loop thread takes keys from the WorkQueue and reconciles them
// level-based: it re-reads the desired request and the recorded run, applies what the
// dispatcher and the poller reported for that key, decides the next steps, writes the run record
// durably (intent before every reboot call), and hands work to the per-provider Dispatcher and
// Poller. Thread-safe public methods; all status mutation happens on the loop thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "pkg/api/types.h"
#include "pkg/base/clock.h"
#include "pkg/base/random.h"
#include "pkg/cloud/provider.h"
#include "pkg/controller/dispatcher.h"
#include "pkg/controller/instance_logic.h"
#include "pkg/controller/poller.h"
#include "pkg/controller/work_queue.h"
#include "pkg/store/request_cache.h"
#include "pkg/store/status_store.h"

namespace rebootd::controller {

// Gives the CloudProvider that serves a request (shared by every request with the same
// provider, account and region). Errors (e.g. missing credentials) keep the request Pending with
// a condition and are retried with backoff, except kNotFound and kInvalidArgument (e.g. the
// request's credentials Secret is missing or malformed), which fail the request's unfinished
// instances with reason CredentialsError.
class ProviderFactory {
 public:
  virtual ~ProviderFactory() = default;
  // The provider for `request`, counted as used by it until Release(). Called once per run.
  virtual Result<cloud::CloudProvider*> ProviderFor(const api::RebootRequest& request) = 0;
  // One run that got `provider` from ProviderFor no longer uses it (its workers are stopped and
  // joined); the factory may destroy it once no run does.
  virtual void Release(cloud::CloudProvider* provider) { (void)provider; }
};

// Hooks for logs, metrics and events. Called on the loop thread; must be cheap.
class Recorder {
 public:
  virtual ~Recorder() = default;
  virtual void RequestStarted(const api::RebootRequest& /*run*/) {}
  virtual void RequestFinished(const api::RebootRequest& /*run*/) {}
  virtual void InstanceFinished(const api::RebootRequest& /*run*/,
                                const api::InstanceStatus& /*instance*/) {}
  virtual void InstancesRequested(const api::RebootRequest& /*run*/, int /*count*/) {}
  virtual void Escalated(const api::RebootRequest& /*run*/, const std::string& /*id*/) {}
  virtual void Warning(const std::string& /*key*/, const std::string& /*reason*/,
                       const std::string& /*message*/) {}
  virtual void ReconcileResult(std::string_view /*result*/) {}
  // A write of the run record failed (the metric rebootd_record_write_failures_total, a Warning
  // Event RecordWriteFailed, a log line). Called for each failed write.
  virtual void RecordWriteFailed(const std::string& /*key*/, const Error& /*error*/) {}
};

struct ControllerOptions {
  PollerOptions poller;
  DispatcherOptions dispatcher;
  LogicOptions logic;
  BackoffOptions backoff;
  // Coalescing of run-record writes that are not intents (intents are always written first).
  Duration persist_interval = std::chrono::milliseconds(500);
  // ... plus this much per instance of the record, since every write rewrites the whole record:
  // a 10,000-instance record is rewritten at most every 2.5 s (intents and first proofs of
  // reboots seen in progress are written at once, whatever the interval).
  Duration persist_interval_per_instance = std::chrono::microseconds(200);
  // Most instances of one request that may be Requesting (intent written, call not answered) at
  // once; bounds what a crash leaves to resolve by polling. New intents are written once at most
  // half of this is still Requesting (one durable write per half window, not per call).
  int max_requesting_per_request = 2000;
  // Instances with an ambiguous baseline (BaselineIsAmbiguous) get their intent only while fewer
  // than this many calls' worth (x MaxRebootBatch) of work waits in the dispatcher's queue.
  size_t ambiguous_lookahead_calls = 4;
  // SoftFirst on Aliyun: escalate to ForceStop when not running again after this fraction of
  // timeoutSeconds.
  double soft_first_fraction = 1.0 / 3.0;
};

// A snapshot for progress lines, metrics and `--until-done`.
struct RequestProgress {
  std::string key;
  cloud::Provider provider = cloud::Provider::kTencent;
  api::Phase phase = api::Phase::kPending;
  api::Summary summary;
  std::optional<SystemTime> started_at;
  std::optional<SystemTime> completed_at;
  bool desired = true;    // still present in the source
  int past_deadline = 0;  // unfinished instances whose deadline (DeadlineOf) has passed
};

class Controller {
 public:
  // Every reference must outlive the controller.
  Controller(ControllerOptions options, store::RequestCache& cache, store::StatusStore& status,
             ProviderFactory& providers, Recorder& recorder, Clock& clock, Random& random);
  ~Controller();

  // Loads every stored run record (resume after a restart) and enqueues every key of the cache
  // and of the records. Call once before Run().
  Status Init();
  // Sources call this after the cache changed for `key`.
  void Enqueue(const std::string& key);
  // Processes keys until `stop` is requested; then stops the workers and persists every run.
  void Run(std::stop_token stop);
  // Processes every key that is ready now (single-threaded driving in tests). Returns the
  // number of keys processed.
  int RunOnce();
  // Stops dispatchers and pollers and writes every dirty record (called by Run at the end).
  void Shutdown();

  std::vector<RequestProgress> Progress() const;
  // True when the source has synced and every desired request's run is Succeeded or Failed.
  bool AllFinished() const;
  size_t QueueDepth() const { return queue_.Depth(); }
  // For tests that drive a ManualClock with RunOnce(): true when every poller has acted on
  // clock time `t` and sleeps again, no dispatcher has work waiting for an idle worker, and every
  // call in flight is waiting for time (`sleeping_on_clock` = ManualClock::Sleepers(): the
  // caught-up pollers plus the calls blocked on the clock, e.g. in the rate limiter).
  bool WorkersCaughtUp(SteadyTime t, int sleeping_on_clock) const;

 private:
  struct RunState;
  struct Workers;

  void Reconcile(const std::string& key);
  Result<RunState*> LoadRun(const std::string& key);
  void ApplyInbox(RunState& run, Workers* workers);
  void Decide(RunState& run, Workers* workers);
  Status Persist(RunState& run);
  // Drops `run`'s provider once none of its calls is in flight; when no other run uses it, stops
  // and joins its dispatcher and poller and hands it back to the factory (credential rotations
  // must not leave threads behind).
  void ReleaseProvider(RunState& run);
  // Persist, and on failure a rate-limited retry of the request (a failure is never dropped).
  void PersistOrRetry(RunState& run);
  Duration PersistInterval(const RunState& run) const;
  void UpdatePhase(RunState& run);
  Workers* WorkersFor(cloud::CloudProvider* provider);
  void DeliverOutcomes(const std::string& key, std::vector<RebootOutcome> outcomes);
  void DeliverObservations(const std::string& key, std::vector<ObservationEvent> events);

  const ControllerOptions options_;
  store::RequestCache& cache_;
  store::StatusStore& status_;
  ProviderFactory& providers_;
  Recorder& recorder_;
  Clock& clock_;
  Random& random_;
  WorkQueue queue_;

  // Loop-thread state (read under mu_ by Progress()). Only the loop thread changes it, so the
  // loop releases mu_ around its I/O (record writes, credential reads): a slow or hanging store
  // or API server never blocks Progress(), and so never the daemon's signal and leadership loop.
  mutable std::mutex mu_;
  std::unique_lock<std::mutex>* reconcile_lock_ = nullptr;  // set while Reconcile holds mu_
  // Runs `f` with mu_ released when Reconcile holds it (loop thread only).
  template <typename F>
  auto Unlocked(F&& f) {
    struct Relock {
      std::unique_lock<std::mutex>* lock;
      ~Relock() {
        if (lock) lock->lock();
      }
    } relock{reconcile_lock_};
    if (reconcile_lock_) reconcile_lock_->unlock();
    return f();
  }
  std::map<std::string, std::unique_ptr<RunState>> runs_;
  std::map<cloud::CloudProvider*, std::unique_ptr<Workers>> workers_;

  // Inbox: outcomes and observations per key, filled by worker threads.
  std::mutex inbox_mu_;
  std::map<std::string, std::vector<RebootOutcome>> inbox_outcomes_;
  std::map<std::string, std::vector<ObservationEvent>> inbox_observations_;
  std::map<std::string, PollFailure> inbox_failures_;
};

}  // namespace rebootd::controller
