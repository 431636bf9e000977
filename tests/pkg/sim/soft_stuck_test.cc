// SPDX-License-Identifier: Apache-2.0
// The soft-stuck fault: an Aliyun soft reboot that never finishes its stop until a
// ForceStop=true call arrives (the case SoftFirst escalation exists for), and the per-call log
// of RebootInstance in the report.
#include <gtest/gtest.h>

#include "tests/pkg/sim/sim_test_util.h"

namespace rebootd::sim::testing {
namespace {

using cloud::Provider;
using std::chrono::minutes;
using std::chrono::seconds;

AliyunAnswer Reboot(SimFixture& f, const std::string& id, bool force) {
  AliyunCall call;
  call.params = {{"Action", "RebootInstance"},
                 {"InstanceId", id},
                 {"RegionId", "cn-hangzhou"},
                 {"ForceStop", force ? "true" : "false"}};
  return CallAliyun(f, call);
}

std::string StartTimeOf(SimFixture& f, const std::string& id) {
  AliyunCall call;
  call.params = {{"Action", "DescribeInstances"},
                 {"RegionId", "cn-hangzhou"},
                 {"InstanceIds", "[\"" + id + "\"]"}};
  AliyunAnswer answer = CallAliyun(f, call);
  EXPECT_EQ(answer.code, "") << answer.raw;
  if (!answer.code.empty()) return "";
  return answer.body.Find("Instances")
      ->Find("Instance")
      ->AsArray()
      .at(0)
      .Find("StartTime")
      ->AsString();
}

SimOptions StuckOptions(double probability) {
  SimOptions options = SimFixture::DefaultOptions();  // 10 s reboots, no jitter
  options.faults = {{FaultKind::kSoftStuck, "RebootInstance", probability}};
  return options;
}

TEST(SimSoftStuck, ParsesAsAFaultKind) {
  auto rule = ParseFaultFlag("soft-stuck:RebootInstance=1");
  ASSERT_TRUE(rule.has_value()) << rule.error().message;
  EXPECT_EQ(rule->kind, FaultKind::kSoftStuck);
  EXPECT_EQ(rule->action, "RebootInstance");
  EXPECT_EQ(FaultKindName(FaultKind::kSoftStuck), "soft-stuck");
  EXPECT_TRUE(IsEffectFault(FaultKind::kSoftStuck));
  EXPECT_FALSE(IsAfterEffect(FaultKind::kSoftStuck));
  auto rules = FaultsFromJson(
      *json::Parse(R"({"faults":[{"kind":"soft-stuck","action":"aliyun.RebootInstance",)"
                   R"("probability":0.5}]})"));
  ASSERT_TRUE(rules.has_value()) << rules.error().message;
  EXPECT_EQ(rules->at(0).kind, FaultKind::kSoftStuck);
}

TEST(SimSoftStuck, InstanceListsOnlyForSoftStuck) {
  auto rule = ParseFaultFlag("soft-stuck:aliyun.RebootInstance@i-run1,i-run2=1");
  ASSERT_TRUE(rule.has_value()) << rule.error().message;
  EXPECT_EQ(rule->action, "aliyun.RebootInstance");
  EXPECT_EQ(rule->instances, (std::vector<std::string>{"i-run1", "i-run2"}));
  for (const char* bad : {"hang:RebootInstance@i-run1=1", "soft-stuck@=1", "soft-stuck@i-a,,i-b=1",
                          "soft-stuck@i-a,=1"}) {
    EXPECT_FALSE(ParseFaultFlag(bad).has_value()) << bad;
  }
  json::Value round = FaultsToJson({*rule});
  auto back = FaultsFromJson(round);
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(back->at(0).instances, rule->instances);
  EXPECT_FALSE(FaultsFromJson(*json::Parse(R"({"faults":[{"kind":"reset","probability":1,)"
                                           R"("instances":["i-run1"]}]})"))
                   .has_value());
  EXPECT_FALSE(FaultsFromJson(*json::Parse(R"({"faults":[{"kind":"soft-stuck","probability":1,)"
                                           R"("instances":"i-run1"}]})"))
                   .has_value());
}

TEST(SimSoftStuck, InstanceListSelectsWhichSoftRebootsHang) {
  SimOptions options = SimFixture::DefaultOptions();
  options.faults = {{FaultKind::kSoftStuck, "RebootInstance", 1.0, {"i-run2"}}};
  SimFixture f(options);
  ASSERT_EQ(Reboot(f, "i-run1", false).code, "");
  ASSERT_EQ(Reboot(f, "i-run2", false).code, "");
  f.clock.Advance(seconds(11));
  EXPECT_EQ(f.sim->InstanceState(Provider::kAliyun, "i-run1"), "Running");
  EXPECT_EQ(f.sim->InstanceState(Provider::kAliyun, "i-run2"), "Stopping");
}

TEST(SimSoftStuck, SoftRebootHangsInStoppingUntilAForcedReboot) {
  SimFixture f(StuckOptions(1.0));
  f.clock.Advance(minutes(5));  // StartTime has minute precision: let a new one differ
  const std::string start_before = StartTimeOf(f, "i-run1");

  AliyunAnswer soft = Reboot(f, "i-run1", false);
  ASSERT_EQ(soft.status, 200) << soft.raw;
  EXPECT_EQ(soft.code, "");
  EXPECT_FALSE(soft.body.Find("RequestId")->AsString().empty());
  EXPECT_EQ(f.sim->InstanceState(Provider::kAliyun, "i-run1"), "Stopping");

  // Far beyond the 10 s reboot: still Stopping, StartTime unchanged.
  f.clock.Advance(minutes(10));
  EXPECT_EQ(f.sim->InstanceState(Provider::kAliyun, "i-run1"), "Stopping");
  EXPECT_EQ(StartTimeOf(f, "i-run1"), start_before);
  // Another soft call is refused as for any instance that is not Running.
  EXPECT_EQ(Reboot(f, "i-run1", false).code, "IncorrectInstanceStatus");
  EXPECT_EQ(f.sim->InstanceState(Provider::kAliyun, "i-run1"), "Stopping");

  // The forced call is accepted and completes a normal reboot from now.
  AliyunAnswer force = Reboot(f, "i-run1", true);
  ASSERT_EQ(force.status, 200) << force.raw;
  EXPECT_FALSE(force.body.Find("RequestId")->AsString().empty());
  EXPECT_EQ(f.sim->InstanceState(Provider::kAliyun, "i-run1"), "Stopping");
  f.clock.Advance(seconds(3));
  EXPECT_EQ(f.sim->InstanceState(Provider::kAliyun, "i-run1"), "Starting");
  f.clock.Advance(seconds(8));
  EXPECT_EQ(f.sim->InstanceState(Provider::kAliyun, "i-run1"), "Running");
  EXPECT_GT(StartTimeOf(f, "i-run1"), start_before);
  // One reboot of the instance, reached by two calls.
  EXPECT_EQ(f.sim->RebootCount(Provider::kAliyun, "i-run1"), 1);

  Report report = f.sim->GetReport();
  const ActionReport& action = report.aliyun.actions.at("RebootInstance");
  EXPECT_EQ(action.calls, 3);
  EXPECT_EQ(action.ok, 2);
  EXPECT_EQ(action.effects, 2);
  EXPECT_EQ(action.faults.at("soft-stuck"), 1);
  EXPECT_TRUE(report.aliyun.rebooted_more_than_once.empty());
  EXPECT_EQ(
      report.aliyun.reboot_calls.at("i-run1"),
      (std::vector<AliyunRebootCall>{
          {false, false, "OK"}, {false, false, "IncorrectInstanceStatus"}, {true, false, "OK"}}));
  json::Value calls = report.ToJson()
                          .Find("providers")
                          ->Find("aliyun")
                          ->Find("reboot_calls")
                          ->Find("i-run1")
                          ->AsArray()
                          .at(2);
  EXPECT_TRUE(calls.Find("force_stop")->AsBool());
  EXPECT_EQ(calls.Find("code")->AsString(), "OK");
}

TEST(SimSoftStuck, ForcedRebootsAreNeverStuck) {
  SimFixture f(StuckOptions(1.0));
  ASSERT_EQ(Reboot(f, "i-run2", true).code, "");
  f.clock.Advance(seconds(11));
  EXPECT_EQ(f.sim->InstanceState(Provider::kAliyun, "i-run2"), "Running");
  EXPECT_EQ(f.sim->GetReport().aliyun.actions.at("RebootInstance").faults.count("soft-stuck"), 0u);
}

TEST(SimSoftStuck, ProbabilityZeroAndOtherActionsAreUnaffected) {
  SimFixture f(StuckOptions(0.0));
  ASSERT_EQ(Reboot(f, "i-run1", false).code, "");
  f.clock.Advance(seconds(11));
  EXPECT_EQ(f.sim->InstanceState(Provider::kAliyun, "i-run1"), "Running");

  // A rule without an action matches every call but changes nothing except soft reboots:
  // describes and Tencent reboots answer normally.
  SimOptions options = SimFixture::DefaultOptions();
  options.faults = {{FaultKind::kSoftStuck, "", 1.0}};
  SimFixture g(options);
  EXPECT_FALSE(StartTimeOf(g, "i-run1").empty());
  TencentCall call;
  call.body = TencentIds({"ein-running1"});
  EXPECT_EQ(CallTencent(g, call).code, "");
  g.clock.Advance(seconds(11));
  EXPECT_EQ(g.sim->InstanceState(Provider::kTencent, "ein-running1"), "RUNNING");
}

TEST(SimSoftStuck, CombinesWithAnswerFaults) {
  // error-after: the stuck soft reboot happened, the answer is an InternalError.
  SimOptions options = StuckOptions(1.0);
  options.faults.push_back({FaultKind::kErrorAfter, "aliyun.RebootInstance", 1.0});
  SimFixture f(options);
  AliyunAnswer answer = Reboot(f, "i-run1", false);
  EXPECT_EQ(answer.status, 500);
  EXPECT_EQ(answer.code, "InternalError");
  f.clock.Advance(minutes(1));
  EXPECT_EQ(f.sim->InstanceState(Provider::kAliyun, "i-run1"), "Stopping");
  Report report = f.sim->GetReport();
  EXPECT_EQ(report.aliyun.actions.at("RebootInstance").faults.at("error-after"), 1);
  EXPECT_EQ(report.aliyun.actions.at("RebootInstance").faults.at("soft-stuck"), 1);
  EXPECT_EQ(report.aliyun.reboot_calls.at("i-run1"),
            (std::vector<AliyunRebootCall>{{false, false, "InternalError"}}));
}

TEST(SimSoftStuck, ForceStopDuringAnOrdinaryStopRestartsTheReboot) {
  SimFixture f;  // no faults; Stopping is the first 2 s of a 10 s reboot
  ASSERT_EQ(Reboot(f, "i-run1", false).code, "");
  f.clock.Advance(seconds(1));
  ASSERT_EQ(f.sim->InstanceState(Provider::kAliyun, "i-run1"), "Stopping");
  ASSERT_EQ(Reboot(f, "i-run1", true).code, "");
  f.clock.Advance(seconds(9));  // the first reboot would have ended here
  EXPECT_EQ(f.sim->InstanceState(Provider::kAliyun, "i-run1"), "Starting");
  f.clock.Advance(seconds(2));
  EXPECT_EQ(f.sim->InstanceState(Provider::kAliyun, "i-run1"), "Running");
  EXPECT_EQ(f.sim->RebootCount(Provider::kAliyun, "i-run1"), 1);
  // Starting is past the point of no return: a forced call is refused there.
  ASSERT_EQ(Reboot(f, "i-run2", false).code, "");
  f.clock.Advance(seconds(3));
  ASSERT_EQ(f.sim->InstanceState(Provider::kAliyun, "i-run2"), "Starting");
  EXPECT_EQ(Reboot(f, "i-run2", true).code, "IncorrectInstanceStatus");
}

TEST(SimSoftStuck, DryRunOfTheForcedCallChangesNothing) {
  SimFixture f(StuckOptions(1.0));
  ASSERT_EQ(Reboot(f, "i-run1", false).code, "");
  AliyunCall call;
  call.params = {{"Action", "RebootInstance"},
                 {"InstanceId", "i-run1"},
                 {"ForceStop", "true"},
                 {"DryRun", "true"}};
  EXPECT_EQ(CallAliyun(f, call).code, "DryRunOperation");
  f.clock.Advance(minutes(1));
  EXPECT_EQ(f.sim->InstanceState(Provider::kAliyun, "i-run1"), "Stopping");
  EXPECT_EQ(f.sim->GetReport().aliyun.reboot_calls.at("i-run1").at(1),
            (AliyunRebootCall{true, true, "DryRunOperation"}));
}

TEST(SimSoftStuck, ResetReportClearsTheCallLog) {
  SimFixture f(StuckOptions(1.0));
  ASSERT_EQ(Reboot(f, "i-run1", false).code, "");
  EXPECT_EQ(f.sim->GetReport().aliyun.reboot_calls.size(), 1u);
  f.sim->ResetReport();
  EXPECT_TRUE(f.sim->GetReport().aliyun.reboot_calls.empty());
  EXPECT_EQ(f.sim->InstanceState(Provider::kAliyun, "i-run1"), "Stopping");  // state kept
}

}  // namespace
}  // namespace rebootd::sim::testing
