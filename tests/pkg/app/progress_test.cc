// SPDX-License-Identifier: Apache-2.0
// The daemon's reporting parts on their own: progress lines (text and JSON), each request's rate
// between lines, the --until-done summary, and the gauges set from a snapshot of every run.
#include "pkg/app/progress.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <map>
#include <optional>
#include <string>

#include "pkg/json/json.h"

namespace rebootd::app {
namespace {

using namespace std::chrono_literals;

controller::RequestProgress Snap(std::string key, api::Phase phase, int total, int succeeded,
                                 int failed = 0, Provider provider = Provider::kTencent) {
  controller::RequestProgress p;
  p.key = std::move(key);
  p.provider = provider;
  p.phase = phase;
  p.summary.total = total;
  p.summary.succeeded = succeeded;
  p.summary.failed = failed;
  p.summary.rebooting = total - succeeded - failed;
  return p;
}

TEST(ProgressLineTest, TextLineCarriesCountsRateAndEta) {
  auto p = Snap("ops/web", api::Phase::kInProgress, 8, 5);
  SystemTime now{};
  p.started_at = now - 4s;
  EXPECT_EQ(ProgressLine(p, 2.5, now, false),
            "progress request=ops/web provider=tencent phase=InProgress done=5/8 succeeded=5 "
            "failed=0 rebooting=3 rate=2.5/s elapsed=4s eta=1s");
  EXPECT_NE(ProgressLine(p, 0, now, false).find("eta=-"), std::string::npos);
}

TEST(ProgressLineTest, JsonLineHasTypedFieldsInTheLogShape) {
  auto p = Snap("ops/db", api::Phase::kInProgress, 4, 1, 1, Provider::kAliyun);
  auto line = json::Parse(ProgressLine(p, 0, SystemTime{}, true));
  ASSERT_TRUE(line) << line.error().ToString();
  EXPECT_EQ(line->Find("logger")->AsString(), "progress");
  EXPECT_EQ(line->Find("ts")->AsString(), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(line->Find("provider")->AsString(), "aliyun");
  EXPECT_EQ(line->Find("done")->AsInt(), 2);
  EXPECT_EQ(line->Find("total")->AsInt(), 4);
  EXPECT_TRUE(line->Find("etaSeconds")->is_null());
}

TEST(ProgressReporterTest, RateIsPerRequestSinceItsPreviousLineAndFinishedOnesAreQuiet) {
  ProgressReporter reporter(false);
  SteadyTime t0{};
  auto first = reporter.Lines(
      {Snap("a/one", api::Phase::kInProgress, 100, 0), Snap("a/two", api::Phase::kSucceeded, 3, 3)},
      t0, SystemTime{});
  ASSERT_EQ(first.size(), 1u);  // a finished request prints no progress line
  EXPECT_NE(first[0].find("request=a/one"), std::string::npos);
  EXPECT_NE(first[0].find("rate=0.0/s"), std::string::npos) << first[0];
  auto second = reporter.Lines({Snap("a/one", api::Phase::kInProgress, 100, 40),
                                Snap("a/two", api::Phase::kSucceeded, 3, 3)},
                               t0 + 2s, SystemTime{});
  ASSERT_EQ(second.size(), 1u);
  EXPECT_NE(second[0].find("rate=20.0/s"), std::string::npos) << second[0];
  EXPECT_NE(second[0].find("eta=3s"), std::string::npos) << second[0];
  EXPECT_EQ(reporter.TrackedForTest(), 2u);
  // A request gone from the snapshot is forgotten.
  (void)reporter.Lines({Snap("a/one", api::Phase::kInProgress, 100, 50)}, t0 + 3s, SystemTime{});
  EXPECT_EQ(reporter.TrackedForTest(), 1u);
}

TEST(ProgressReporterTest, RequestsNoLongerDesiredGetNoLines) {
  ProgressReporter reporter(false);
  auto gone = Snap("a/gone", api::Phase::kInProgress, 10, 1);
  gone.desired = false;
  EXPECT_TRUE(reporter.Lines({gone}, SteadyTime{}, SystemTime{}).empty());
  EXPECT_TRUE(reporter.FinalLines({gone}, SystemTime{}).empty());
  auto finals = reporter.FinalLines(
      {Snap("a/ok", api::Phase::kSucceeded, 2, 2), Snap("a/bad", api::Phase::kFailed, 2, 1, 1)},
      SystemTime{});
  ASSERT_EQ(finals.size(), 2u);
  EXPECT_NE(finals[1].find("phase=Failed"), std::string::npos);
}

class GaugesTest : public ::testing::Test {
 protected:
  std::optional<double> Gauge(std::string_view name, const std::map<std::string, std::string>& l) {
    for (const auto& family : registry_.Collect()) {
      if (family.name != name) continue;
      for (const auto& metric : family.metric) {
        std::map<std::string, std::string> have;
        for (const auto& label : metric.label) have[label.name] = label.value;
        if (have == l) return metric.gauge.value;
      }
    }
    return std::nullopt;
  }
  prometheus::Registry registry_;
  metrics::Metrics metrics_{registry_, "test"};
};

TEST_F(GaugesTest, EverySeriesIsSetAndFinishedRunsDropToZero) {
  auto a = Snap("a/one", api::Phase::kInProgress, 10, 4, 1);
  a.past_deadline = 2;
  PublishGauges(metrics_, {a, Snap("a/two", api::Phase::kInProgress, 5, 0, 0, Provider::kAliyun)});
  EXPECT_EQ(Gauge(metrics::kInstances, {{"provider", "tencent"}, {"state", "Succeeded"}}), 4);
  EXPECT_EQ(Gauge(metrics::kInstances, {{"provider", "tencent"}, {"state", "Rebooting"}}), 5);
  EXPECT_EQ(Gauge(metrics::kInstances, {{"provider", "aliyun"}, {"state", "Rebooting"}}), 5);
  EXPECT_EQ(Gauge(metrics::kInstances, {{"provider", "aliyun"}, {"state", "Requesting"}}), 0);
  EXPECT_EQ(Gauge(metrics::kRebootRequests, {{"phase", "InProgress"}}), 2);
  EXPECT_EQ(Gauge(metrics::kRebootRequests, {{"phase", "Failed"}}), 0);
  EXPECT_EQ(Gauge(metrics::kPastDeadline, {{"provider", "tencent"}}), 2);
  PublishGauges(metrics_, {});
  EXPECT_EQ(Gauge(metrics::kInstances, {{"provider", "tencent"}, {"state", "Succeeded"}}), 0);
  EXPECT_EQ(Gauge(metrics::kRebootRequests, {{"phase", "InProgress"}}), 0);
  EXPECT_EQ(Gauge(metrics::kPastDeadline, {{"provider", "tencent"}}), 0);
}

}  // namespace
}  // namespace rebootd::app
