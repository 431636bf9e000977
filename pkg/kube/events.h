// SPDX-License-Identifier: Apache-2.0
// EventRecorder: core/v1 Events about RebootRequests, aggregated and rate-bounded. Events with the
// same (object, type, reason) are ONE Event whose count, lastTimestamp and message are updated
// (merge patch) instead of new Events; each object has a token bucket (burst, refill) and updates
// that find it empty are coalesced and sent later, so counts stay right and nothing floods the
// API server. Emit() never blocks on the network: a background thread (Start) or Flush() sends.
//
// KubeEventRecorder adapts the controller's Recorder hooks to per-REQUEST events (started,
// succeeded, failed, escalated, timed out, cancelled): instance results are counted and
// summarised ("120 instances succeeded so far (450/1000 finished)"), never one Event per instance.
// Messages never hold secrets. Thread-safe.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>

#include "pkg/api/types.h"
#include "pkg/base/clock.h"
#include "pkg/base/random.h"
#include "pkg/controller/controller.h"
#include "pkg/kube/client.h"

namespace rebootd::kube {

struct ObjectRef {
  std::string api_version = "rebootd.io/v1alpha1";
  std::string kind = "RebootRequest";
  std::string namespace_;
  std::string name;
  std::string uid;
};
ObjectRef RefOf(const api::RebootRequest& request);

struct EventOptions {
  std::string component = "rebootd";
  std::string host;                            // source.host / reportingInstance
  int burst = 25;                              // events (creates or updates) per object at once
  Duration refill = std::chrono::seconds(10);  // one more token per object every `refill`
  // An aggregate that is fully sent and has not recurred for `forget_after` is forgotten (its
  // next occurrence makes a new Event, like client-go's 10-minute aggregation window), and so
  // is an object's token bucket once it is full again: a daemon that lives through many
  // requests keeps only what the recent ones need.
  Duration forget_after = std::chrono::minutes(10);
  // Distinct aggregates kept at once; beyond it new ones are dropped (only reached by that
  // many distinct events within `forget_after`).
  size_t max_pending = 10000;
  // A failed send. `lasting` is true when the server refused it for good (e.g. 403: RBAC does
  // not allow Events), so no retry will fix it: the daemon logs those at warn level, retried
  // ones at debug (they repeat every flush).
  std::function<void(const std::string& message, bool lasting)> on_problem;
};

class EventRecorder {
 public:
  // `client`, `clock` and `random` must outlive the recorder.
  EventRecorder(EventOptions options, Client& client, Clock& clock, Random& random);
  ~EventRecorder();

  // Records one occurrence. `type` is "Normal" or "Warning"; `reason` CamelCase.
  void Emit(const ObjectRef& object, const std::string& type, const std::string& reason,
            const std::string& message);
  // Sends every aggregate that changed and whose object has a token; returns the number of API
  // calls made. Called by the background thread; tests call it directly.
  int Flush();
  void Start();
  void Stop();

  // For tests: the count recorded for (object, type, reason), 0 when none.
  int64_t CountForTest(const ObjectRef& object, const std::string& type,
                       const std::string& reason) const;
  // For tests: aggregates and token buckets held.
  size_t AggregatesForTest() const;
  size_t BucketsForTest() const;

 private:
  struct Aggregate {
    ObjectRef object;
    std::string type, reason, message;
    int64_t count = 0;
    int64_t sent_count = 0;
    SystemTime first{}, last{};
    std::string event_name;  // "" until created
    bool dirty = false;
  };
  struct Bucket {
    double tokens = 0;
    SteadyTime at{};
  };
  bool TakeToken(const std::string& object_key, SteadyTime now);  // mu_ held
  void Forget(SystemTime now, SteadyTime steady_now);             // mu_ held
  json::Value EventJson(const Aggregate& a) const;

  const EventOptions options_;
  Client& client_;
  Clock& clock_;
  Random& random_;

  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  std::map<std::string, Aggregate> aggregates_;  // guarded by mu_
  std::map<std::string, Bucket> buckets_;        // guarded by mu_
  std::mutex send_mu_;                           // one Flush at a time
  std::jthread thread_;
};

// controller::Recorder → per-request Events (see above). Instance results are summarised at
// most once per `summary_interval` per request, and always when the request finishes.
class KubeEventRecorder final : public controller::Recorder {
 public:
  KubeEventRecorder(EventRecorder& events, Clock& clock,
                    Duration summary_interval = std::chrono::seconds(30));
  void RequestStarted(const api::RebootRequest& run) override;
  void RequestFinished(const api::RebootRequest& run) override;
  void InstanceFinished(const api::RebootRequest& run,
                        const api::InstanceStatus& instance) override;
  void InstancesRequested(const api::RebootRequest& run, int count) override;
  void Escalated(const api::RebootRequest& run, const std::string& id) override;
  void Warning(const std::string& key, const std::string& reason,
               const std::string& message) override;
  // A Warning Event RecordWriteFailed (aggregated like every Event).
  void RecordWriteFailed(const std::string& key, const Error& error) override;

 private:
  struct Tally {
    ObjectRef ref;
    int total = 0;
    int succeeded = 0;
    int failed = 0;
    int timed_out = 0;
    int cancelled = 0;
    std::map<std::string, int> failed_by_reason;
    int escalated = 0;
    int requested = 0;
    std::optional<SteadyTime> last_summary;
    bool dirty = false;
  };
  void Summarize(Tally& t, bool force);  // mu_ held

  EventRecorder& events_;
  Clock& clock_;
  const Duration summary_interval_;
  std::mutex mu_;
  std::map<std::string, Tally> tallies_;  // key -> tally; guarded by mu_
};

}  // namespace rebootd::kube
