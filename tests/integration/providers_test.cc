// SPDX-License-Identifier: Apache-2.0
// The CloudProvider implementations (TencentProvider, AliyunProvider) over the real clients and
// transport against rebootd-cloudsim: reboot a batch, then observe completion through the
// providers' poll plans, with the simulator's report as the witness of every call made.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>

#include "pkg/cloud/aliyun/provider.h"
#include "pkg/cloud/tencent/provider.h"
#include "tests/integration/harness.h"

namespace rebootd::integration {
namespace {

using cloud::Observation;
using cloud::PollPlan;
using cloud::RebootCall;
using cloud::RebootMode;
using Phase = Observation::Phase;
using sim::FaultKind;

std::map<std::string, Observation> ById(const std::vector<Observation>& observations) {
  std::map<std::string, Observation> out;
  for (const auto& o : observations) out[o.id] = o;
  return out;
}

std::vector<std::string> TencentIds(int first, int last) {
  std::vector<std::string> ids;
  for (int i = first; i <= last; ++i) ids.push_back(sim::GeneratedTencentId(i));
  return ids;
}

std::vector<std::string> AliyunIds(int first, int last) {
  std::vector<std::string> ids;
  for (int i = first; i <= last; ++i) ids.push_back(sim::GeneratedAliyunId(i));
  return ids;
}

// ---- Tencent ----

TEST(TencentProviderIntegration, RebootsABatchInOneCallAndSeesItCompleteByAccountScan) {
  auto options = DefaultSimOptions();
  options.tencent_instances = 250;  // 254 in the account
  Harness h(options);
  cloud::tencent::TencentProvider provider(h.Ecm());
  const auto ids = TencentIds(1, 30);

  auto accepted = provider.Reboot(RebootCall{ids, RebootMode::kSoftFirst, false, false}, {});
  ASSERT_TRUE(accepted.has_value()) << accepted.error().ToString();
  EXPECT_FALSE(accepted->request_id.empty());
  EXPECT_EQ(h.TencentAction("RebootInstances").calls, 1);
  EXPECT_EQ(h.TencentAction("RebootInstances").batch_sizes.at(30), 1);

  // First round: the account size is unknown, so one scan page is read (it holds all 30).
  auto first = provider.Describe(ids, {});
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  auto seen = ById(*first);
  ASSERT_EQ(seen.size(), 30u);
  for (const auto& id : ids) {
    EXPECT_EQ(seen[id].phase, Phase::kTransitional) << id;
    EXPECT_EQ(seen[id].raw_state, "REBOOTING");
    EXPECT_EQ(seen[id].evidence, "REBOOTING RebootInstances:OPERATING");
    EXPECT_EQ(provider.Read("RUNNING -", seen[id]), cloud::Sign::kInProgress);
  }
  EXPECT_EQ(h.TencentAction("DescribeInstances").calls, 1);
  EXPECT_EQ(provider.LastPlan(), PollPlan::kAccountScan);

  // Later rounds: 3 scan pages beat 6 per-ID calls of 5 filter values.
  h.AdvanceSim(std::chrono::seconds(11));
  auto done = provider.Describe(ids, {});
  ASSERT_TRUE(done.has_value()) << done.error().ToString();
  EXPECT_EQ(provider.LastPlan(), PollPlan::kAccountScan);
  EXPECT_EQ(h.TencentAction("DescribeInstances").calls, 1 + 3);
  seen = ById(*done);
  ASSERT_EQ(seen.size(), 30u);
  for (const auto& id : ids) {
    EXPECT_EQ(seen[id].phase, Phase::kRunning) << id;
    EXPECT_EQ(seen[id].evidence, "RUNNING RebootInstances:SUCCESS");
    EXPECT_EQ(provider.Read("RUNNING -", seen[id]), cloud::Sign::kRebooted);
  }
  const auto report = h.sim().GetReport();
  EXPECT_EQ(report.tencent.total_reboots, 30);
  EXPECT_TRUE(report.tencent.rebooted_more_than_once.empty());
}

TEST(TencentProviderIntegration, FewInstancesArePolledPerIdAndAbsentIdsAreOmitted) {
  auto options = DefaultSimOptions();
  options.tencent_instances = 250;
  Harness h(options);
  cloud::tencent::TencentProvider provider(h.Ecm());
  auto ids = TencentIds(240, 245);
  ids.push_back("ein-gone0001");  // 7 IDs: 2 per-ID calls < 3 scan pages
  ASSERT_TRUE(provider.Describe({"ein-running1"}, {}).has_value());  // learns nothing of size
  ASSERT_TRUE(provider.Describe(TencentIds(1, 6), {}).has_value());  // first scan page: size
  const int64_t before = h.TencentAction("DescribeInstances").calls;
  auto observed = provider.Describe(ids, {});
  ASSERT_TRUE(observed.has_value()) << observed.error().ToString();
  EXPECT_EQ(provider.LastPlan(), PollPlan::kPerId);
  EXPECT_EQ(h.TencentAction("DescribeInstances").calls - before, 2);
  auto seen = ById(*observed);
  EXPECT_EQ(seen.size(), 6u);
  EXPECT_EQ(seen.count("ein-gone0001"), 0u);
}

TEST(TencentProviderIntegration, ABadIdFailsTheBatchAndIsNamed) {
  Harness h;
  cloud::tencent::TencentProvider provider(h.Ecm());
  auto r = provider.Reboot(
      RebootCall{{"ein-running1", "ein-stopped1", "ein-running2"}, RebootMode::kHard, false, false},
      {});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(r.error().message.find("ein-stopped1"), std::string::npos) << r.error().message;
  EXPECT_EQ(h.sim().GetReport().tencent.total_reboots, 0);
}

TEST(TencentProviderIntegration, AmbiguousRebootIsResolvedByTheEvidenceOfAPoll) {
  Harness h;
  h.sim().SetFaults({Always(FaultKind::kResetAfter, "tencent.RebootInstances")});
  cloud::tencent::TencentProvider provider(h.Ecm());
  auto baseline = provider.Describe({"ein-running1"}, {});
  ASSERT_TRUE(baseline.has_value() && baseline->size() == 1);
  auto r = provider.Reboot(RebootCall{{"ein-running1"}, RebootMode::kSoft, false, false}, {});
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().ambiguous);
  h.AdvanceSim(std::chrono::seconds(11));  // the reboot already finished when we look
  auto observed = provider.Describe({"ein-running1"}, {});
  ASSERT_TRUE(observed.has_value()) << observed.error().ToString();
  ASSERT_EQ(observed->size(), 1u);
  const Observation& o = observed->front();
  EXPECT_EQ(o.phase, Phase::kRunning);
  // Evidence against the baseline: the last operation moved to a finished RebootInstances.
  EXPECT_EQ(provider.Read(baseline->front().evidence, o), cloud::Sign::kRebooted);
  EXPECT_EQ(h.TencentReboots("ein-running1"), 1);
}

// ---- Aliyun ----

TEST(AliyunProviderIntegration, RebootsOneCallPerInstanceAndSeesThemComplete) {
  auto options = DefaultSimOptions();
  options.aliyun_instances = 6;
  Harness h(options);
  cloud::aliyun::AliyunProvider provider(h.Ecs());
  EXPECT_EQ(provider.scope(), "aliyun/cn-hangzhou");
  const auto ids = AliyunIds(1, 6);
  auto before = provider.Describe(ids, {});
  ASSERT_TRUE(before.has_value()) << before.error().ToString();
  auto start_times = ById(*before);

  for (size_t i = 0; i < ids.size(); ++i) {
    RebootCall call{{ids[i]}, i % 2 == 0 ? RebootMode::kSoft : RebootMode::kHard, false, false};
    auto accepted = provider.Reboot(call, {});
    ASSERT_TRUE(accepted.has_value()) << accepted.error().ToString();
  }
  auto rebooting = provider.Describe(ids, {});
  ASSERT_TRUE(rebooting.has_value()) << rebooting.error().ToString();
  for (const auto& o : *rebooting) EXPECT_EQ(o.phase, Phase::kTransitional) << o.id;

  h.AdvanceSim(std::chrono::seconds(11));
  auto done = provider.Describe(ids, {});
  ASSERT_TRUE(done.has_value()) << done.error().ToString();
  ASSERT_EQ(done->size(), 6u);
  for (const auto& o : *done) {
    EXPECT_EQ(o.phase, Phase::kRunning) << o.id;
    // Evidence of the reboot: a later StartTime than the baseline's.
    EXPECT_EQ(provider.Read(start_times[o.id].evidence, o), cloud::Sign::kRebooted)
        << start_times[o.id].evidence << " -> " << o.evidence;
  }
  EXPECT_EQ(h.AliyunAction("RebootInstance").calls, 6);
  EXPECT_EQ(h.AliyunAction("RebootInstance").effects, 6);
  EXPECT_EQ(h.AliyunAction("DescribeInstances").calls, 3);  // one per round for <= 100 IDs
  EXPECT_EQ(h.sim().GetReport().aliyun.total_reboots, 6);
}

TEST(AliyunProviderIntegration, DryRunLocksAndLargeDescribes) {
  auto options = DefaultSimOptions();
  options.aliyun_instances = 150;
  Harness h(options);
  cloud::aliyun::AliyunProvider provider(h.Ecs());
  ASSERT_TRUE(provider.SupportsDryRun());
  auto dry = provider.Reboot(RebootCall{{"i-run1"}, RebootMode::kSoft, false, true}, {});
  ASSERT_TRUE(dry.has_value()) << dry.error().ToString();
  EXPECT_TRUE(dry->dry_run_passed);
  auto locked = provider.Reboot(RebootCall{{"i-lock1"}, RebootMode::kSoft, false, true}, {});
  ASSERT_FALSE(locked.has_value());
  EXPECT_EQ(locked.error().provider_code, "InstanceLockedForSecurity");
  auto two = provider.Reboot(RebootCall{{"i-run1", "i-run2"}, RebootMode::kSoft, false, false}, {});
  ASSERT_FALSE(two.has_value());
  EXPECT_EQ(two.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(h.sim().GetReport().aliyun.total_reboots, 0);

  auto ids = AliyunIds(1, 150);
  ids.push_back("i-lock1");
  ids.push_back("i-stop1");
  auto observed = provider.Describe(ids, {});
  ASSERT_TRUE(observed.has_value()) << observed.error().ToString();
  auto seen = ById(*observed);
  EXPECT_EQ(seen.size(), 152u);
  EXPECT_TRUE(seen["i-lock1"].security_locked);
  EXPECT_EQ(seen["i-stop1"].phase, Phase::kStopped);
  EXPECT_EQ(h.AliyunAction("DescribeInstances").calls, 2);  // 100 IDs per call
}

// ---- both, in real time: the simulator on the SystemClock too ----

// Completion as DESIGN.md §4 defines it: seen in progress and then running, or running with
// evidence that moved from the baseline (taken before the call) the way a reboot moves it.
class CompletionWatcher {
 public:
  CompletionWatcher(cloud::CloudProvider& provider, std::vector<std::string> ids)
      : provider_(provider), ids_(std::move(ids)) {}

  void Baseline() {
    auto observed = provider_.Describe(ids_, {});
    ASSERT_TRUE(observed.has_value()) << observed.error().ToString();
    for (const auto& o : *observed) baseline_[o.id] = o.evidence;
  }
  void Poll() {
    auto observed = provider_.Describe(ids_, {});
    ASSERT_TRUE(observed.has_value()) << observed.error().ToString();
    for (const auto& o : *observed) {
      const cloud::Sign sign = provider_.Read(baseline_[o.id], o);
      if (sign == cloud::Sign::kInProgress) transitional_.insert(o.id);
      if (o.phase != Phase::kRunning) continue;
      if (transitional_.count(o.id) || sign == cloud::Sign::kRebooted) done_.insert(o.id);
    }
  }
  bool Done() const { return done_.size() == ids_.size(); }
  size_t done() const { return done_.size(); }

 private:
  cloud::CloudProvider& provider_;
  const std::vector<std::string> ids_;
  std::map<std::string, std::string> baseline_;
  std::set<std::string> transitional_, done_;
};

TEST(ProvidersRealTime, BothProvidersRebootAndCompleteOnTheWallClock) {
  auto options = DefaultSimOptions();
  options.reboot_seconds = 0.6;
  options.reboot_jitter = 0.3;
  options.tencent_instances = 12;
  options.aliyun_instances = 4;
  Harness h(options, /*real_time=*/true);

  cloud::tencent::TencentProvider tencent(h.Ecm());
  const auto tencent_ids = TencentIds(1, 12);
  cloud::aliyun::AliyunProvider aliyun(h.Ecs(cloud::aliyun::SignatureMethod::kAcs3));
  const auto aliyun_ids = AliyunIds(1, 4);
  CompletionWatcher tencent_watch(tencent, tencent_ids);
  CompletionWatcher aliyun_watch(aliyun, aliyun_ids);
  ASSERT_NO_FATAL_FAILURE(tencent_watch.Baseline());
  ASSERT_NO_FATAL_FAILURE(aliyun_watch.Baseline());
  ASSERT_TRUE(
      tencent.Reboot(RebootCall{tencent_ids, RebootMode::kSoft, false, false}, {}).has_value());
  for (const auto& id : aliyun_ids) {
    ASSERT_TRUE(aliyun.Reboot(RebootCall{{id}, RebootMode::kSoft, false, false}, {}).has_value());
  }

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (!(tencent_watch.Done() && aliyun_watch.Done()) &&
         std::chrono::steady_clock::now() < deadline) {
    ASSERT_NO_FATAL_FAILURE(tencent_watch.Poll());
    ASSERT_NO_FATAL_FAILURE(aliyun_watch.Poll());
    SystemClock::Instance().SleepFor(std::chrono::milliseconds(150));
  }
  EXPECT_EQ(tencent_watch.done(), tencent_ids.size());
  EXPECT_EQ(aliyun_watch.done(), aliyun_ids.size());

  const auto report = h.sim().GetReport();
  EXPECT_EQ(report.tencent.total_reboots, 12);
  EXPECT_EQ(report.aliyun.total_reboots, 4);
  EXPECT_TRUE(report.tencent.rebooted_more_than_once.empty());
  EXPECT_TRUE(report.aliyun.rebooted_more_than_once.empty());
  EXPECT_FALSE(
      report.ToJson().Find("totals")->Find("max_calls_in_any_1s_window_exceeded_limit")->AsBool());
}

}  // namespace
}  // namespace rebootd::integration
