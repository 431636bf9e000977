// SPDX-License-Identifier: Apache-2.0
// Metrics on a fresh prometheus::Registry per test, inspected through Collect().
#include "pkg/metrics/metrics.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <chrono>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace rebootd::metrics {
namespace {

using namespace std::chrono_literals;
using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using LabelMap = std::map<std::string, std::string>;

class MetricsTest : public ::testing::Test {
 protected:
  // The family called `name` in a fresh Collect(), or nullopt.
  std::optional<MetricFamily> Family(std::string_view name) {
    for (MetricFamily& family : registry_.Collect()) {
      if (family.name == name) return family;
    }
    return std::nullopt;
  }

  // The sample of family `name` whose labels are exactly `labels`, or nullopt.
  std::optional<ClientMetric> Sample(std::string_view name, const LabelMap& labels) {
    auto family = Family(name);
    if (!family) return std::nullopt;
    for (const ClientMetric& metric : family->metric) {
      LabelMap have;
      for (const auto& label : metric.label) have[label.name] = label.value;
      if (have == labels) return metric;
    }
    return std::nullopt;
  }

  size_t SampleCount(std::string_view name) {
    auto family = Family(name);
    return family ? family->metric.size() : 0;
  }

  static cloud::CallRecord Call(std::string provider, std::string action, std::string code,
                                Duration latency = 100ms, Duration rate_wait = 0ms,
                                int batch_size = 0) {
    cloud::CallRecord record;
    record.provider = std::move(provider);
    record.action = std::move(action);
    record.code = std::move(code);
    record.latency = latency;
    record.rate_wait = rate_wait;
    record.batch_size = batch_size;
    record.http_status = 200;
    return record;
  }

  prometheus::Registry registry_;
  Metrics metrics_{registry_, "0.1.0-test"};
};

TEST_F(MetricsTest, EveryFixedMetricHasItsTypeAndLabelsAfterUse) {
  metrics_.SetInstances("tencent", "Rebooting", 3);
  metrics_.SetRequests("InProgress", 1);
  metrics_.InstanceFinished("tencent", true);
  metrics_.ObserveRebootDuration("tencent", 42);
  metrics_.ObserveCall(Call("tencent", "RebootInstances", "OK", 100ms, 5ms, 10));
  metrics_.ReconcileResult("success");
  metrics_.SetWorkqueueDepth(2);
  metrics_.SetLeader(true);

  struct Want {
    std::string_view name;
    MetricType type;
    std::set<std::string> labels;
  };
  const std::vector<Want> wants = {
      {"rebootd_instances", MetricType::Gauge, {"provider", "state"}},
      {"rebootd_reboot_requests", MetricType::Gauge, {"phase"}},
      {"rebootd_instance_reboots_total", MetricType::Counter, {"provider", "result"}},
      {"rebootd_reboot_duration_seconds", MetricType::Histogram, {"provider"}},
      {"rebootd_cloud_api_requests_total", MetricType::Counter, {"provider", "action", "code"}},
      {"rebootd_cloud_api_request_duration_seconds", MetricType::Histogram, {"provider", "action"}},
      {"rebootd_ratelimit_wait_seconds", MetricType::Histogram, {"provider", "action"}},
      {"rebootd_reboot_batch_size", MetricType::Histogram, {"provider"}},
      {"rebootd_reconcile_total", MetricType::Counter, {"result"}},
      {"rebootd_workqueue_depth", MetricType::Gauge, {}},
      {"rebootd_leader", MetricType::Gauge, {}},
      {"rebootd_build_info", MetricType::Gauge, {"version"}},
  };
  for (const Want& want : wants) {
    SCOPED_TRACE(std::string(want.name));
    auto family = Family(want.name);
    ASSERT_TRUE(family.has_value());
    EXPECT_EQ(family->type, want.type);
    EXPECT_FALSE(family->help.empty());
    ASSERT_EQ(family->metric.size(), 1u);
    std::set<std::string> labels;
    for (const auto& label : family->metric[0].label) labels.insert(label.name);
    EXPECT_EQ(labels, want.labels);
  }
  // Never labelled by instance.
  for (const MetricFamily& family : registry_.Collect()) {
    for (const ClientMetric& metric : family.metric) {
      for (const auto& label : metric.label) {
        EXPECT_EQ(label.name.find("instance"), std::string::npos) << family.name;
      }
    }
  }
}

TEST_F(MetricsTest, BuildInfoIsSetByTheConstructor) {
  auto sample = Sample(kBuildInfo, {{"version", "0.1.0-test"}});
  ASSERT_TRUE(sample.has_value());
  EXPECT_EQ(sample->gauge.value, 1);
  EXPECT_EQ(SampleCount(kBuildInfo), 1u);
}

TEST_F(MetricsTest, GaugesTakeTheLatestValue) {
  metrics_.SetInstances("tencent", "Rebooting", 3);
  metrics_.SetInstances("tencent", "Rebooting", 1);
  metrics_.SetInstances("aliyun", "Succeeded", 7);
  metrics_.SetRequests("Pending", 4);
  metrics_.SetWorkqueueDepth(12);
  metrics_.SetLeader(true);
  EXPECT_EQ(Sample(kInstances, {{"provider", "tencent"}, {"state", "Rebooting"}})->gauge.value, 1);
  EXPECT_EQ(Sample(kInstances, {{"provider", "aliyun"}, {"state", "Succeeded"}})->gauge.value, 7);
  EXPECT_EQ(Sample(kRebootRequests, {{"phase", "Pending"}})->gauge.value, 4);
  EXPECT_EQ(Sample(kWorkqueueDepth, {})->gauge.value, 12);
  EXPECT_EQ(Sample(kLeader, {})->gauge.value, 1);
  metrics_.SetLeader(false);
  EXPECT_EQ(Sample(kLeader, {})->gauge.value, 0);
}

TEST_F(MetricsTest, InstanceFinishedCountsByResult) {
  metrics_.InstanceFinished("tencent", true);
  metrics_.InstanceFinished("tencent", true);
  metrics_.InstanceFinished("tencent", false);
  EXPECT_EQ(
      Sample(kInstanceReboots, {{"provider", "tencent"}, {"result", "succeeded"}})->counter.value,
      2);
  EXPECT_EQ(
      Sample(kInstanceReboots, {{"provider", "tencent"}, {"result", "failed"}})->counter.value, 1);
}

TEST_F(MetricsTest, RebootDurationUsesMinuteScaleBuckets) {
  metrics_.ObserveRebootDuration("aliyun", 45);
  metrics_.ObserveRebootDuration("aliyun", 0.5);
  auto sample = Sample(kRebootDuration, {{"provider", "aliyun"}});
  ASSERT_TRUE(sample.has_value());
  EXPECT_EQ(sample->histogram.sample_count, 2u);
  EXPECT_DOUBLE_EQ(sample->histogram.sample_sum, 45.5);
  std::vector<double> bounds;
  for (const auto& bucket : sample->histogram.bucket) bounds.push_back(bucket.upper_bound);
  const std::vector<double> want = {
      1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, std::numeric_limits<double>::infinity()};
  EXPECT_EQ(bounds, want);
  EXPECT_EQ(sample->histogram.bucket[0].cumulative_count, 1u);  // le=1: the 0.5 s one
  EXPECT_EQ(sample->histogram.bucket[5].cumulative_count, 1u);  // le=30
  EXPECT_EQ(sample->histogram.bucket[6].cumulative_count, 2u);  // le=60
}

TEST_F(MetricsTest, ObserveCallFeedsTheFourCallFamilies) {
  metrics_.ObserveCall(Call("tencent", "RebootInstances", "OK", 120ms, 30ms, 37));
  const LabelMap pa = {{"provider", "tencent"}, {"action", "RebootInstances"}};
  auto requests = Sample(kCloudApiRequests,
                         {{"provider", "tencent"}, {"action", "RebootInstances"}, {"code", "OK"}});
  ASSERT_TRUE(requests.has_value());
  EXPECT_EQ(requests->counter.value, 1);
  auto duration = Sample(kCloudApiRequestDuration, pa);
  ASSERT_TRUE(duration.has_value());
  EXPECT_EQ(duration->histogram.sample_count, 1u);
  EXPECT_NEAR(duration->histogram.sample_sum, 0.120, 1e-9);
  EXPECT_EQ(duration->histogram.bucket.front().upper_bound, 0.005);
  EXPECT_EQ(duration->histogram.bucket[duration->histogram.bucket.size() - 2].upper_bound, 30);
  auto wait = Sample(kRatelimitWait, pa);
  ASSERT_TRUE(wait.has_value());
  EXPECT_EQ(wait->histogram.sample_count, 1u);
  EXPECT_NEAR(wait->histogram.sample_sum, 0.030, 1e-9);
  EXPECT_EQ(wait->histogram.bucket.front().upper_bound, 0.001);
  EXPECT_EQ(wait->histogram.bucket[wait->histogram.bucket.size() - 2].upper_bound, 60);
  auto batch = Sample(kRebootBatchSize, {{"provider", "tencent"}});
  ASSERT_TRUE(batch.has_value());
  EXPECT_EQ(batch->histogram.sample_count, 1u);
  EXPECT_EQ(batch->histogram.sample_sum, 37);
  std::vector<double> bounds;
  for (const auto& bucket : batch->histogram.bucket) bounds.push_back(bucket.upper_bound);
  const std::vector<double> want = {1,  2,  5,   10,
                                    20, 50, 100, std::numeric_limits<double>::infinity()};
  EXPECT_EQ(bounds, want);
  EXPECT_EQ(SampleCount(kThrottled), 0u);  // OK is not throttling
}

TEST_F(MetricsTest, CodesAreSeparateSeries) {
  metrics_.ObserveCall(Call("aliyun", "DescribeInstanceStatus", "OK"));
  metrics_.ObserveCall(Call("aliyun", "DescribeInstanceStatus", "OK"));
  metrics_.ObserveCall(Call("aliyun", "DescribeInstanceStatus", "InternalError"));
  EXPECT_EQ(Sample(kCloudApiRequests,
                   {{"provider", "aliyun"}, {"action", "DescribeInstanceStatus"}, {"code", "OK"}})
                ->counter.value,
            2);
  EXPECT_EQ(Sample(kCloudApiRequests, {{"provider", "aliyun"},
                                       {"action", "DescribeInstanceStatus"},
                                       {"code", "InternalError"}})
                ->counter.value,
            1);
  EXPECT_EQ(Sample(kCloudApiRequestDuration,
                   {{"provider", "aliyun"}, {"action", "DescribeInstanceStatus"}})
                ->histogram.sample_count,
            3u);
}

TEST_F(MetricsTest, BatchSizeIsObservedOnlyForRebootActions) {
  metrics_.ObserveCall(Call("tencent", "DescribeInstances", "OK", 10ms, 0ms, 100));
  metrics_.ObserveCall(Call("aliyun", "DescribeInstanceStatus", "OK", 10ms, 0ms, 50));
  EXPECT_EQ(SampleCount(kRebootBatchSize), 0u);
  metrics_.ObserveCall(Call("aliyun", "RebootInstance", "OK", 10ms, 0ms, 1));
  metrics_.ObserveCall(Call("tencent", "RebootInstances", "OK", 10ms, 0ms, 100));
  EXPECT_EQ(SampleCount(kRebootBatchSize), 2u);
  EXPECT_EQ(Sample(kRebootBatchSize, {{"provider", "aliyun"}})->histogram.sample_sum, 1);
  EXPECT_EQ(Sample(kRebootBatchSize, {{"provider", "tencent"}})->histogram.sample_sum, 100);
}

TEST_F(MetricsTest, ThrottlingCodesAreCounted) {
  metrics_.ObserveCall(Call("tencent", "RebootInstances", "RequestLimitExceeded"));
  metrics_.ObserveCall(Call("tencent", "RebootInstances", "RequestLimitExceeded.UinLimitExceeded"));
  metrics_.ObserveCall(Call("aliyun", "RebootInstance", "Throttling.User"));
  metrics_.ObserveCall(Call("aliyun", "RebootInstance", "InternalError"));
  metrics_.ObserveCall(Call("aliyun", "RebootInstance", "HTTP5xx"));
  EXPECT_EQ(
      Sample(kThrottled, {{"provider", "tencent"}, {"action", "RebootInstances"}})->counter.value,
      2);
  EXPECT_EQ(
      Sample(kThrottled, {{"provider", "aliyun"}, {"action", "RebootInstance"}})->counter.value, 1);
}

TEST(MetricsHelpersTest, ThrottlingCodesAndRebootActions) {
  EXPECT_TRUE(IsThrottlingCode("RequestLimitExceeded"));
  EXPECT_TRUE(IsThrottlingCode("RequestLimitExceeded.IPLimitExceeded"));
  EXPECT_TRUE(IsThrottlingCode("Throttling"));
  EXPECT_TRUE(IsThrottlingCode("Throttling.Api"));
  EXPECT_FALSE(IsThrottlingCode("OK"));
  EXPECT_FALSE(IsThrottlingCode("LimitExceeded"));
  EXPECT_FALSE(IsThrottlingCode(""));
  EXPECT_TRUE(IsRebootAction("RebootInstances"));
  EXPECT_TRUE(IsRebootAction("RebootInstance"));
  EXPECT_FALSE(IsRebootAction("DescribeInstances"));
  EXPECT_FALSE(IsRebootAction("StartInstance"));
}

TEST_F(MetricsTest, ObserverIsBoundToThisMetrics) {
  cloud::CallObserver observer = metrics_.Observer();
  observer(Call("tencent", "DescribeInstances", "OK"));
  observer(Call("tencent", "DescribeInstances", "OK"));
  EXPECT_EQ(Sample(kCloudApiRequests,
                   {{"provider", "tencent"}, {"action", "DescribeInstances"}, {"code", "OK"}})
                ->counter.value,
            2);
}

TEST_F(MetricsTest, ReconcileResultsAreCountedByResult) {
  metrics_.ReconcileResult("success");
  metrics_.ReconcileResult("requeue");
  metrics_.ReconcileResult("requeue");
  metrics_.ReconcileResult("error");
  EXPECT_EQ(Sample(kReconcile, {{"result", "success"}})->counter.value, 1);
  EXPECT_EQ(Sample(kReconcile, {{"result", "requeue"}})->counter.value, 2);
  EXPECT_EQ(Sample(kReconcile, {{"result", "error"}})->counter.value, 1);
}

TEST_F(MetricsTest, ConcurrentObserversLoseNoUpdates) {
  constexpr int kThreads = 4;
  constexpr int kCalls = 2000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto observer = metrics_.Observer();
      for (int i = 0; i < kCalls; ++i) {
        // Half the calls share one series; the others spread over a few more.
        observer(Call("tencent", i % 2 == 0 ? "RebootInstances" : "DescribeInstances",
                      i % 2 == 0 ? "OK" : "Code" + std::to_string(t), 1ms, 0ms, 5));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(Sample(kCloudApiRequests,
                   {{"provider", "tencent"}, {"action", "RebootInstances"}, {"code", "OK"}})
                ->counter.value,
            kThreads * kCalls / 2);
  EXPECT_EQ(Sample(kRebootBatchSize, {{"provider", "tencent"}})->histogram.sample_count,
            static_cast<uint64_t>(kThreads * kCalls / 2));
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(Sample(kCloudApiRequests, {{"provider", "tencent"},
                                         {"action", "DescribeInstances"},
                                         {"code", "Code" + std::to_string(t)}})
                  ->counter.value,
              kCalls / 2);
  }
}

TEST(MetricsRegistryTest, TwoBundlesOnOneRegistryShareFamilies) {
  prometheus::Registry registry;
  Metrics a(registry, "1");
  Metrics b(registry, "1");
  a.ReconcileResult("success");
  b.ReconcileResult("success");
  for (const MetricFamily& family : registry.Collect()) {
    if (family.name != kReconcile) continue;
    ASSERT_EQ(family.metric.size(), 1u);
    EXPECT_EQ(family.metric[0].counter.value, 2);
  }
}

}  // namespace
}  // namespace rebootd::metrics
