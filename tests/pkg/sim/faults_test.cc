// SPDX-License-Identifier: Apache-2.0
// Fault injection and the report.
#include <gtest/gtest.h>

#include "tests/pkg/sim/sim_test_util.h"

namespace rebootd::sim::testing {
namespace {

using cloud::Provider;
using Disposition = http::ServerResponse::Disposition;

http::ServerResponse TencentReboot(SimFixture& f, const std::vector<std::string>& ids) {
  TencentCall call;
  call.body = TencentIds(ids);
  return f.sim->Handle(SignTencent(f, call));
}

http::ServerResponse AliyunReboot(SimFixture& f, const std::string& id) {
  AliyunCall call;
  call.params = {{"Action", "RebootInstance"}, {"InstanceId", id}};
  return f.sim->Handle(SignAliyunRpc(f, call));
}

TEST(SimFaults, ParseFlag) {
  auto rule = ParseFaultFlag("error-after:RebootInstances=0.1");
  ASSERT_TRUE(rule.has_value());
  EXPECT_EQ(rule->kind, FaultKind::kErrorAfter);
  EXPECT_EQ(rule->action, "RebootInstances");
  EXPECT_DOUBLE_EQ(rule->probability, 0.1);
  rule = ParseFaultFlag("hang=1");
  ASSERT_TRUE(rule.has_value());
  EXPECT_EQ(rule->action, "");
  EXPECT_TRUE(ParseFaultFlag("reset:aliyun.RebootInstance=0.5").has_value());
  for (const char* bad :
       {"explode=0.1", "hang", "hang=1.5", "hang=x", "hang:=0.1", "hang:gcp.RebootInstance=0.1"}) {
    EXPECT_FALSE(ParseFaultFlag(bad).has_value()) << bad;
  }
  EXPECT_TRUE(
      RuleMatches({FaultKind::kHang, "DescribeInstances", 1}, "aliyun", "DescribeInstances"));
  EXPECT_FALSE(RuleMatches({FaultKind::kHang, "tencent.DescribeInstances", 1}, "aliyun",
                           "DescribeInstances"));
}

TEST(SimFaults, ErrorBeforeHasNoEffect) {
  SimOptions options = SimFixture::DefaultOptions();
  options.faults = {{FaultKind::kErrorBefore, "RebootInstances", 1.0}};
  SimFixture f(options);
  http::ServerResponse response = TencentReboot(f, {"ein-running1"});
  EXPECT_EQ(response.status, 200);
  EXPECT_NE(response.body.find("\"InternalError\""), std::string::npos);
  EXPECT_EQ(f.sim->InstanceState(Provider::kTencent, "ein-running1"), "RUNNING");
  EXPECT_EQ(f.sim->RebootCount(Provider::kTencent, "ein-running1"), 0);
  ActionReport report = f.sim->GetReport().tencent.actions.at("RebootInstances");
  EXPECT_EQ(report.faults.at("error-before"), 1);
  EXPECT_EQ(report.effects, 0);
}

TEST(SimFaults, ErrorAfterTakesEffect) {
  SimOptions options = SimFixture::DefaultOptions();
  options.faults = {{FaultKind::kErrorAfter, "", 1.0}};
  SimFixture f(options);
  http::ServerResponse response = TencentReboot(f, {"ein-running1", "ein-running2"});
  EXPECT_NE(response.body.find("\"InternalError\""), std::string::npos);
  EXPECT_EQ(f.sim->InstanceState(Provider::kTencent, "ein-running1"), "REBOOTING");
  EXPECT_EQ(f.sim->RebootCount(Provider::kTencent, "ein-running2"), 1);
  response = AliyunReboot(f, "i-run1");
  EXPECT_EQ(response.status, 500);
  EXPECT_NE(response.body.find("\"InternalError\""), std::string::npos);
  EXPECT_EQ(f.sim->InstanceState(Provider::kAliyun, "i-run1"), "Stopping");
  Report report = f.sim->GetReport();
  EXPECT_EQ(report.tencent.actions.at("RebootInstances").batch_sizes.at(2), 1);
  EXPECT_EQ(report.tencent.actions.at("RebootInstances").ok, 0);
  EXPECT_EQ(report.aliyun.actions.at("RebootInstance").effects, 1);
}

TEST(SimFaults, ResetAndHangDispositions) {
  SimFixture f;
  f.sim->SetFaults({{FaultKind::kReset, "tencent.RebootInstances", 1.0}});
  EXPECT_EQ(TencentReboot(f, {"ein-running1"}).disposition, Disposition::kReset);
  EXPECT_EQ(f.sim->RebootCount(Provider::kTencent, "ein-running1"), 0);
  f.sim->SetFaults({{FaultKind::kResetAfter, "tencent.RebootInstances", 1.0}});
  EXPECT_EQ(TencentReboot(f, {"ein-running1"}).disposition, Disposition::kReset);
  EXPECT_EQ(f.sim->RebootCount(Provider::kTencent, "ein-running1"), 1);
  f.sim->SetFaults({{FaultKind::kHang, "RebootInstance", 1.0}});
  EXPECT_EQ(AliyunReboot(f, "i-run1").disposition, Disposition::kHang);
  EXPECT_EQ(f.sim->RebootCount(Provider::kAliyun, "i-run1"), 0);
  f.sim->SetFaults({{FaultKind::kHangAfter, "RebootInstance", 1.0}});
  EXPECT_EQ(AliyunReboot(f, "i-run1").disposition, Disposition::kHang);
  EXPECT_EQ(f.sim->RebootCount(Provider::kAliyun, "i-run1"), 1);
  f.sim->SetFaults({{FaultKind::kUnavailable, "RebootInstance", 1.0}});
  http::ServerResponse unavailable = AliyunReboot(f, "i-run2");
  EXPECT_EQ(unavailable.status, 503);
  EXPECT_NE(unavailable.body.find("ServiceUnavailable"), std::string::npos);
  f.sim->SetFaults({{FaultKind::kThrottle, "RebootInstance", 1.0}});
  EXPECT_NE(AliyunReboot(f, "i-run2").body.find("Throttling.User"), std::string::npos);
  EXPECT_EQ(f.sim->RebootCount(Provider::kAliyun, "i-run2"), 0);
  ActionReport report = f.sim->GetReport().aliyun.actions.at("RebootInstance");
  EXPECT_EQ(report.faults.at("hang"), 1);
  EXPECT_EQ(report.faults.at("hang-after"), 1);
  EXPECT_EQ(report.faults.at("throttle"), 1);
  EXPECT_EQ(report.throttled, 0);
}

TEST(SimFaults, FaultsSkipUnauthenticatedCalls) {
  SimOptions options = SimFixture::DefaultOptions();
  options.faults = {{FaultKind::kHang, "", 1.0}};
  SimFixture f(options);
  TencentCall call;
  call.body = TencentIds({"ein-running1"});
  call.credentials = {"AKIDnobody", "x", ""};
  http::ServerResponse response = f.sim->Handle(SignTencent(f, call));
  EXPECT_EQ(response.disposition, Disposition::kRespond);
  EXPECT_NE(response.body.find("AuthFailure.SecretIdNotFound"), std::string::npos);
}

TEST(SimFaults, ProbabilityIsSeeded) {
  auto run = [](uint64_t seed) {
    SimOptions options = SimFixture::DefaultOptions();
    options.seed = seed;
    options.faults = {{FaultKind::kErrorBefore, "DescribeInstances", 0.5}};
    options.rate_limits["tencent.DescribeInstances"] = 0;
    SimFixture f(options);
    std::string pattern;
    for (int i = 0; i < 40; ++i) {
      TencentCall call;
      call.action = "DescribeInstances";
      pattern += f.sim->Handle(SignTencent(f, call)).body.find("InternalError") == std::string::npos
                     ? '.'
                     : 'x';
    }
    return pattern;
  };
  std::string a = run(42);
  EXPECT_EQ(a, run(42));
  EXPECT_NE(a.find('x'), std::string::npos);
  EXPECT_NE(a.find('.'), std::string::npos);
}

TEST(SimFaults, ControlEndpoints) {
  SimFixture f;
  http::ServerRequest request;
  request.method = "POST";
  request.path = "/_sim/faults";
  request.target = request.path;
  request.body =
      R"({"faults":[{"kind":"error-after","action":"RebootInstances","probability":1}]})";
  http::ServerResponse response = f.sim->Handle(request);
  EXPECT_EQ(response.status, 200) << response.body;
  ASSERT_EQ(f.sim->Faults().size(), 1u);
  EXPECT_EQ(f.sim->Faults()[0].kind, FaultKind::kErrorAfter);
  request.body = R"({"faults":[{"kind":"explode","probability":1}]})";
  EXPECT_EQ(f.sim->Handle(request).status, 400);
  request.body = "{";
  EXPECT_EQ(f.sim->Handle(request).status, 400);
  EXPECT_EQ(f.sim->Faults().size(), 1u);

  TencentReboot(f, {"ein-running1"});
  http::ServerRequest get;
  get.method = "GET";
  get.path = "/_sim/report";
  auto report = json::Parse(f.sim->Handle(get).body);
  ASSERT_TRUE(report.has_value());
  const json::Value* tencent = report->Find("providers")->Find("tencent");
  EXPECT_EQ(tencent->Find("reboots")->Find("ein-running1")->AsInt(), 1);
  EXPECT_EQ(tencent->Find("actions")
                ->Find("RebootInstances")
                ->Find("faults")
                ->Find("error-after")
                ->AsInt(),
            1);
  get.path = "/_sim/instances";
  auto instances = json::Parse(f.sim->Handle(get).body);
  ASSERT_TRUE(instances.has_value());
  EXPECT_EQ(instances->Find("tencent")->AsArray()[0].Find("state")->AsString(), "REBOOTING");
  get.path = "/_sim/healthz";
  EXPECT_EQ(f.sim->Handle(get).body, "ok\n");
  get.path = "/_sim/nope";
  EXPECT_EQ(f.sim->Handle(get).status, 404);
  http::ServerRequest reset;
  reset.method = "POST";
  reset.path = "/_sim/reset-report";
  EXPECT_EQ(f.sim->Handle(reset).status, 200);
  EXPECT_EQ(f.sim->GetReport().tencent.total_reboots, 0);
}

TEST(SimReport, RebootsAndBatches) {
  SimOptions options = SimFixture::DefaultOptions();
  options.reboot_seconds = 3;
  options.reboot_jitter = 0.3;
  SimFixture f(options);
  ASSERT_EQ(TencentReboot(f, {"ein-running1", "ein-running2"}).body.find("Error"),
            std::string::npos);
  f.clock.Advance(std::chrono::seconds(4));  // 3 s x 1.3 at most
  EXPECT_EQ(f.sim->InstanceState(Provider::kTencent, "ein-running1"), "RUNNING");
  ASSERT_EQ(TencentReboot(f, {"ein-running1"}).body.find("Error"), std::string::npos);
  ASSERT_EQ(AliyunReboot(f, "i-run1").status, 200);
  Report report = f.sim->GetReport();
  EXPECT_EQ(report.tencent.reboots.at("ein-running1"), 2);
  EXPECT_EQ(report.tencent.reboots.at("ein-running2"), 1);
  EXPECT_EQ(report.tencent.total_reboots, 3);
  EXPECT_EQ(report.tencent.rebooted_more_than_once, std::vector<std::string>{"ein-running1"});
  EXPECT_EQ(report.tencent.actions.at("RebootInstances").batch_sizes,
            (std::map<int, int64_t>{{1, 1}, {2, 1}}));
  EXPECT_EQ(report.aliyun.total_reboots, 1);
  json::Value json = report.ToJson();
  EXPECT_EQ(json.Find("totals")->Find("reboots")->AsInt(), 4);
  EXPECT_EQ(json.Find("totals")->Find("instances_rebooted_more_than_once")->AsInt(), 1);
  EXPECT_FALSE(json.Find("totals")->Find("max_calls_in_any_1s_window_exceeded_limit")->AsBool());
}

TEST(SimReport, RebootDurationsFollowJitter) {
  SimOptions options = SimFixture::DefaultOptions();
  options.reboot_seconds = 10;
  options.reboot_jitter = 0.3;
  options.tencent_instances = 100;
  options.inventory = {};
  SimFixture f(options);
  std::vector<std::string> ids;
  for (int i = 1; i <= 100; ++i) ids.push_back(GeneratedTencentId(i));
  ASSERT_EQ(TencentReboot(f, ids).body.find("Error"), std::string::npos);
  f.clock.Advance(std::chrono::milliseconds(6999));
  int running = 0;
  for (const auto& id : ids) running += f.sim->InstanceState(Provider::kTencent, id) == "RUNNING";
  EXPECT_EQ(running, 0);
  f.clock.Advance(std::chrono::milliseconds(3001));  // 10 s: about half are done
  running = 0;
  for (const auto& id : ids) running += f.sim->InstanceState(Provider::kTencent, id) == "RUNNING";
  EXPECT_GT(running, 20);
  EXPECT_LT(running, 80);
  f.clock.Advance(std::chrono::milliseconds(3001));  // 13.001 s: all done
  running = 0;
  for (const auto& id : ids) running += f.sim->InstanceState(Provider::kTencent, id) == "RUNNING";
  EXPECT_EQ(running, 100);
}

}  // namespace
}  // namespace rebootd::sim::testing
