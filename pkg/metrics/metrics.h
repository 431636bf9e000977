// SPDX-License-Identifier: Apache-2.0
// Metrics: the fixed rebootd metric families (DESIGN.md section 7) plus a few extras, built on an
// injected prometheus::Registry (never a global). The registry must outlive this object. All
// methods are thread-safe and never throw.
#pragma once

#include <memory>
#include <string_view>

#include "pkg/cloud/call.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace rebootd::metrics {

// Metric names (fixed: dashboards, alert rules and tests depend on them).
inline constexpr std::string_view kInstances = "rebootd_instances";
inline constexpr std::string_view kRebootRequests = "rebootd_reboot_requests";
inline constexpr std::string_view kInstanceReboots = "rebootd_instance_reboots_total";
inline constexpr std::string_view kRebootDuration = "rebootd_reboot_duration_seconds";
inline constexpr std::string_view kCloudApiRequests = "rebootd_cloud_api_requests_total";
inline constexpr std::string_view kCloudApiRequestDuration =
    "rebootd_cloud_api_request_duration_seconds";
inline constexpr std::string_view kRatelimitWait = "rebootd_ratelimit_wait_seconds";
inline constexpr std::string_view kRebootBatchSize = "rebootd_reboot_batch_size";
inline constexpr std::string_view kReconcile = "rebootd_reconcile_total";
inline constexpr std::string_view kWorkqueueDepth = "rebootd_workqueue_depth";
inline constexpr std::string_view kLeader = "rebootd_leader";
inline constexpr std::string_view kBuildInfo = "rebootd_build_info";
// Extra: attempts answered with a throttling code (RequestLimitExceeded*, Throttling*).
inline constexpr std::string_view kThrottled = "rebootd_throttled_total";
// Extra: unfinished instances whose deadline (timeoutSeconds after the reboot was accepted, or
// requested, or the run started) has passed. The controller fails such instances with Timeout at
// its next look, so anything but a brief non-zero value means the controller is stuck.
inline constexpr std::string_view kPastDeadline = "rebootd_instances_past_deadline";
// Extra: failed writes of run records (full or read-only state directory, API server refusing
// the status). While they fail, the affected requests make no new reboot call.
inline constexpr std::string_view kRecordWriteFailures = "rebootd_record_write_failures_total";

// True for the vendor codes that mean "throttled" (RequestLimitExceeded*, Throttling*).
bool IsThrottlingCode(std::string_view code);
// True for the actions that reboot instances (RebootInstances, RebootInstance).
bool IsRebootAction(std::string_view action);

class Metrics {
 public:
  // Registers every family on `registry` and sets rebootd_build_info{version} = 1.
  // Precondition: `registry` holds no family of the same name with another type (a wiring bug;
  // prometheus-cpp would throw std::invalid_argument). Constructing two Metrics on one registry
  // shares the families.
  Metrics(prometheus::Registry& registry, std::string_view version);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // rebootd_instances{provider,state} = n. state: Pending, Requesting, Rebooting, Succeeded,
  // Failed (api::InstanceState names). The caller sets every state it tracks, zeros included.
  void SetInstances(std::string_view provider, std::string_view state, double n);
  // rebootd_instances_past_deadline{provider} = n (see kPastDeadline).
  void SetPastDeadline(std::string_view provider, double n);
  // rebootd_reboot_requests{phase} = n. phase: Pending, InProgress, Succeeded, Failed.
  void SetRequests(std::string_view phase, double n);
  // rebootd_instance_reboots_total{provider,result=succeeded|failed} += 1, once per instance
  // that reaches a terminal state.
  void InstanceFinished(std::string_view provider, bool succeeded);
  // rebootd_reboot_duration_seconds{provider}: reboot accepted -> seen running again.
  void ObserveRebootDuration(std::string_view provider, double seconds);

  // One cloud HTTP attempt: rebootd_cloud_api_requests_total{provider,action,code} += 1,
  // rebootd_cloud_api_request_duration_seconds{provider,action} <- latency,
  // rebootd_ratelimit_wait_seconds{provider,action} <- rate_wait,
  // rebootd_reboot_batch_size{provider} <- batch_size (reboot actions with batch_size > 0 only;
  // per attempt, so a retried batch is observed again), and
  // rebootd_throttled_total{provider,action} += 1 for throttling codes. The code is recorded as
  // given ("OK" on success; see CallRecord for the bounded set of non-vendor codes).
  void ObserveCall(const cloud::CallRecord& record);
  // A CallObserver bound to this object (which must outlive it), for the cloud clients.
  cloud::CallObserver Observer();

  // rebootd_reconcile_total{result} += 1. result: success, requeue, error.
  void ReconcileResult(std::string_view result);
  // rebootd_record_write_failures_total += 1.
  void RecordWriteFailed();
  // rebootd_workqueue_depth = depth.
  void SetWorkqueueDepth(double depth);
  // rebootd_leader = 1 when this process holds the leader lease (or runs without election).
  void SetLeader(bool leader);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;  // constant after construction; Impl is internally synchronised
};

}  // namespace rebootd::metrics
