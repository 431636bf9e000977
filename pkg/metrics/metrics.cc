// SPDX-License-Identifier: Apache-2.0
#include "pkg/metrics/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <chrono>
#include <initializer_list>
#include <mutex>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace rebootd::metrics {
namespace {

using prometheus::Counter;
using prometheus::Gauge;
using prometheus::Histogram;

// Family<T>::Add builds a new metric object (for histograms, a full bucket vector) before it
// looks the labels up, so the hot path (ObserveCall, once per HTTP attempt) caches the
// label-values -> metric mapping. Metric pointers stay valid for the registry's lifetime since
// nothing here ever calls Family::Remove.
template <class T>
class Series {
 public:
  Series(prometheus::Family<T>& family, std::vector<std::string> label_names,
         Histogram::BucketBoundaries buckets = {})
      : family_(family), label_names_(std::move(label_names)), buckets_(std::move(buckets)) {}

  // `values` are in the order of the label names given at construction.
  T& Get(std::initializer_list<std::string_view> values) {
    std::string key;
    for (std::string_view v : values) {
      key += std::to_string(v.size());  // length-prefixed: no separator can be ambiguous
      key += ':';
      key += v;
    }
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) return *it->second;
    prometheus::Labels labels;
    size_t i = 0;
    for (std::string_view v : values) labels.emplace(label_names_.at(i++), std::string(v));
    T* metric = nullptr;
    if constexpr (std::is_same_v<T, Histogram>) {
      metric = &family_.Add(labels, buckets_);
    } else {
      metric = &family_.Add(labels);
    }
    cache_.emplace(std::move(key), metric);
    return *metric;
  }

 private:
  // Constant after construction.
  prometheus::Family<T>& family_;
  const std::vector<std::string> label_names_;
  const Histogram::BucketBoundaries buckets_;

  std::mutex mu_;
  std::unordered_map<std::string, T*> cache_;  // guarded by mu_
};

template <class T>
prometheus::Family<T>& Register(prometheus::detail::Builder<T> builder,
                                prometheus::Registry& registry, std::string_view name,
                                const std::string& help) {
  return builder.Name(std::string(name)).Help(help).Register(registry);
}

double Seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

bool IsThrottlingCode(std::string_view code) {
  return code.starts_with("RequestLimitExceeded") || code.starts_with("Throttling");
}

bool IsRebootAction(std::string_view action) {
  return action == "RebootInstances" || action == "RebootInstance";
}

struct Metrics::Impl {
  explicit Impl(prometheus::Registry& registry)
      : instances(Register(prometheus::BuildGauge(), registry, kInstances,
                           "Instances of known reboot requests, by provider and state."),
                  {"provider", "state"}),
        past_deadline(
            Register(prometheus::BuildGauge(), registry, kPastDeadline,
                     "Unfinished instances whose per-instance deadline has passed, by provider."),
            {"provider"}),
        requests(Register(prometheus::BuildGauge(), registry, kRebootRequests,
                          "Known reboot requests, by phase."),
                 {"phase"}),
        reboots(Register(prometheus::BuildCounter(), registry, kInstanceReboots,
                         "Instances that finished a reboot, by provider and result."),
                {"provider", "result"}),
        reboot_duration(
            Register(prometheus::BuildHistogram(), registry, kRebootDuration,
                     "Seconds from an accepted reboot call until the instance ran again."),
            {"provider"}, {1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800}),
        api_requests(Register(prometheus::BuildCounter(), registry, kCloudApiRequests,
                              "Cloud API HTTP attempts, by provider, action and answer code "
                              "(OK on success)."),
                     {"provider", "action", "code"}),
        api_duration(Register(prometheus::BuildHistogram(), registry, kCloudApiRequestDuration,
                              "Seconds per cloud API HTTP attempt."),
                     {"provider", "action"},
                     {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}),
        ratelimit_wait(Register(prometheus::BuildHistogram(), registry, kRatelimitWait,
                                "Seconds a cloud API attempt waited for its rate limiter."),
                       {"provider", "action"},
                       {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}),
        batch_size(Register(prometheus::BuildHistogram(), registry, kRebootBatchSize,
                            "Instance IDs per reboot call attempt."),
                   {"provider"}, {1, 2, 5, 10, 20, 50, 100}),
        throttled(Register(prometheus::BuildCounter(), registry, kThrottled,
                           "Cloud API attempts answered with a throttling code."),
                  {"provider", "action"}),
        reconcile(Register(prometheus::BuildCounter(), registry, kReconcile,
                           "Reconcile calls, by result (success, requeue, error)."),
                  {"result"}),
        record_write_failures(Register(prometheus::BuildCounter(), registry, kRecordWriteFailures,
                                       "Failed writes of run records; no new reboot call is "
                                       "made for a request while its record cannot be written.")
                                  .Add({})),
        workqueue_depth(Register(prometheus::BuildGauge(), registry, kWorkqueueDepth,
                                 "Keys waiting in the work queue.")
                            .Add({})),
        leader(Register(prometheus::BuildGauge(), registry, kLeader,
                        "1 when this process is the active controller.")
                   .Add({})),
        build_info(Register(prometheus::BuildGauge(), registry, kBuildInfo,
                            "Always 1; the version label names the running build."),
                   {"version"}) {}

  Series<Gauge> instances;
  Series<Gauge> past_deadline;
  Series<Gauge> requests;
  Series<Counter> reboots;
  Series<Histogram> reboot_duration;
  Series<Counter> api_requests;
  Series<Histogram> api_duration;
  Series<Histogram> ratelimit_wait;
  Series<Histogram> batch_size;
  Series<Counter> throttled;
  Series<Counter> reconcile;
  Counter& record_write_failures;
  Gauge& workqueue_depth;
  Gauge& leader;
  Series<Gauge> build_info;
};

Metrics::Metrics(prometheus::Registry& registry, std::string_view version)
    : impl_(std::make_unique<Impl>(registry)) {
  impl_->build_info.Get({version}).Set(1);
}

Metrics::~Metrics() = default;

// Every method below catches everything: metrics are best effort and must never take the
// controller (or a cloud client's observer callback) down. Only std::bad_alloc can occur.
void Metrics::SetInstances(std::string_view provider, std::string_view state, double n) {
  try {
    impl_->instances.Get({provider, state}).Set(n);
  } catch (...) {
  }
}

void Metrics::SetPastDeadline(std::string_view provider, double n) {
  try {
    impl_->past_deadline.Get({provider}).Set(n);
  } catch (...) {
  }
}

void Metrics::SetRequests(std::string_view phase, double n) {
  try {
    impl_->requests.Get({phase}).Set(n);
  } catch (...) {
  }
}

void Metrics::InstanceFinished(std::string_view provider, bool succeeded) {
  try {
    impl_->reboots.Get({provider, succeeded ? "succeeded" : "failed"}).Increment();
  } catch (...) {
  }
}

void Metrics::ObserveRebootDuration(std::string_view provider, double seconds) {
  try {
    impl_->reboot_duration.Get({provider}).Observe(seconds);
  } catch (...) {
  }
}

void Metrics::ObserveCall(const cloud::CallRecord& record) {
  try {
    impl_->api_requests.Get({record.provider, record.action, record.code}).Increment();
    impl_->api_duration.Get({record.provider, record.action}).Observe(Seconds(record.latency));
    impl_->ratelimit_wait.Get({record.provider, record.action}).Observe(Seconds(record.rate_wait));
    if (IsRebootAction(record.action) && record.batch_size > 0) {
      impl_->batch_size.Get({record.provider}).Observe(record.batch_size);
    }
    if (IsThrottlingCode(record.code)) {
      impl_->throttled.Get({record.provider, record.action}).Increment();
    }
  } catch (...) {
  }
}

cloud::CallObserver Metrics::Observer() {
  return [this](const cloud::CallRecord& record) { ObserveCall(record); };
}

void Metrics::RecordWriteFailed() { impl_->record_write_failures.Increment(); }

void Metrics::ReconcileResult(std::string_view result) {
  try {
    impl_->reconcile.Get({result}).Increment();
  } catch (...) {
  }
}

void Metrics::SetWorkqueueDepth(double depth) { impl_->workqueue_depth.Set(depth); }

void Metrics::SetLeader(bool leader) { impl_->leader.Set(leader ? 1 : 0); }

}  // namespace rebootd::metrics
