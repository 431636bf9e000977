// SPDX-License-Identifier: Apache-2.0
// Tencent ECM side of the simulator: TC3 verification, RebootInstances, DescribeInstances,
// rate limiting.
#include <gtest/gtest.h>

#include "pkg/sim/demo_credentials.h"
#include "tests/pkg/sim/sim_test_util.h"

namespace rebootd::sim::testing {
namespace {

using cloud::Provider;
using std::chrono::seconds;

int64_t NowSeconds(const SimFixture& f) {
  return std::chrono::duration_cast<seconds>(f.clock.Now().time_since_epoch()).count();
}

TencentAnswer Describe(SimFixture& f, const std::string& body) {
  TencentCall call;
  call.action = "DescribeInstances";
  call.body = body;
  return CallTencent(f, call);
}

TencentAnswer Reboot(SimFixture& f, const std::vector<std::string>& ids) {
  TencentCall call;
  call.body = TencentIds(ids);
  return CallTencent(f, call);
}

TEST(SimTencent, HistoryFromTheInventoryAndAGeneratedFraction) {
  SimOptions options = SimFixture::DefaultOptions();
  TencentEntry earlier("ein-hist0001");
  earlier.latest_operation = "RebootInstances";
  earlier.latest_operation_state = "SUCCESS";
  options.inventory.tencent.push_back(earlier);
  options.tencent_instances = 400;
  options.history_fraction = 0.5;
  SimFixture f(options);
  TencentAnswer one =
      Describe(f, R"({"Filters":[{"Name":"instance-id","Values":["ein-hist0001"]}]})");
  ASSERT_EQ(one.code, "") << one.message;
  const json::Value& item = one.response.Find("InstanceSet")->AsArray().at(0);
  EXPECT_EQ(item.Find("LatestOperation")->AsString(), "RebootInstances");
  EXPECT_EQ(item.Find("LatestOperationState")->AsString(), "SUCCESS");
  // About half of the generated instances were rebooted before (seeded); none was by us.
  int with_history = 0, total = 0;
  for (int offset = 0; offset < 405; offset += 100) {
    TencentAnswer page = Describe(f, R"({"Limit":100,"Offset":)" + std::to_string(offset) + "}");
    ASSERT_EQ(page.code, "") << page.message;
    for (const auto& i : page.response.Find("InstanceSet")->AsArray()) {
      if (!i.Find("InstanceId")->AsString().starts_with("ein-0")) continue;
      ++total;
      with_history += i.Find("LatestOperation")->is_string();
    }
  }
  EXPECT_EQ(total, 400);
  EXPECT_GT(with_history, 150);
  EXPECT_LT(with_history, 250);
  EXPECT_EQ(f.sim->GetReport().tencent.total_reboots, 0);
}

TEST(SimTencent, RebootRunsTheStateMachine) {
  SimFixture f;
  TencentAnswer answer = Reboot(f, {"ein-running1", "ein-running2"});
  ASSERT_EQ(answer.code, "") << answer.message;
  EXPECT_EQ(f.sim->InstanceState(Provider::kTencent, "ein-running1"), "REBOOTING");
  EXPECT_EQ(f.sim->InstanceState(Provider::kTencent, "ein-running3"), "RUNNING");

  TencentAnswer described =
      Describe(f, R"({"Filters":[{"Name":"instance-id","Values":["ein-running1"]}]})");
  ASSERT_EQ(described.code, "");
  const json::Value& item = described.response.Find("InstanceSet")->AsArray().at(0);
  EXPECT_EQ(item.Find("InstanceState")->AsString(), "REBOOTING");
  EXPECT_EQ(item.Find("LatestOperation")->AsString(), "RebootInstances");
  EXPECT_EQ(item.Find("LatestOperationState")->AsString(), "OPERATING");
  EXPECT_EQ(item.Find("LatestOperationRequestId"), nullptr);  // a CVM field, not ECM's
  EXPECT_EQ(item.Find("RestrictState")->AsString(), "NORMAL");

  f.clock.Advance(seconds(9));
  EXPECT_EQ(f.sim->InstanceState(Provider::kTencent, "ein-running1"), "REBOOTING");
  f.clock.Advance(seconds(1));
  EXPECT_EQ(f.sim->InstanceState(Provider::kTencent, "ein-running1"), "RUNNING");
  described = Describe(f, R"({"Filters":[{"Name":"instance-id","Values":["ein-running1"]}]})");
  const json::Value& after = described.response.Find("InstanceSet")->AsArray().at(0);
  EXPECT_EQ(after.Find("InstanceState")->AsString(), "RUNNING");
  EXPECT_EQ(after.Find("LatestOperationState")->AsString(), "SUCCESS");
  EXPECT_EQ(f.sim->RebootCount(Provider::kTencent, "ein-running1"), 1);
  EXPECT_EQ(f.sim->RebootCount(Provider::kTencent, "ein-running3"), 0);
}

TEST(SimTencent, TamperedBodyFailsSignature) {
  SimFixture f;
  TencentCall call;
  call.body = TencentIds({"ein-running1"});
  http::ServerRequest request = SignTencent(f, call);
  request.body = TencentIds({"ein-running2"});
  auto response = f.sim->Handle(request);
  EXPECT_NE(response.body.find("AuthFailure.SignatureFailure"), std::string::npos);
  EXPECT_EQ(response.body.find(kDemoTencentSecretKey), std::string::npos);
  EXPECT_EQ(f.sim->RebootCount(Provider::kTencent, "ein-running2"), 0);
  EXPECT_EQ(f.sim->GetReport().tencent.actions.at("RebootInstances").auth_failures, 1);
}

TEST(SimTencent, UnknownSecretId) {
  SimFixture f;
  TencentCall call;
  call.credentials = {"AKIDunknown", "whatever", ""};
  EXPECT_EQ(CallTencent(f, call).code, "AuthFailure.SecretIdNotFound");
}

TEST(SimTencent, TimestampWindowBothDirections) {
  SimFixture f;
  TencentCall call;
  call.action = "DescribeInstances";
  call.timestamp = NowSeconds(f) - 301;
  EXPECT_EQ(CallTencent(f, call).code, "AuthFailure.SignatureExpire");
  call.timestamp = NowSeconds(f) + 301;
  EXPECT_EQ(CallTencent(f, call).code, "AuthFailure.SignatureExpire");
  call.timestamp = NowSeconds(f) - 299;
  EXPECT_EQ(CallTencent(f, call).code, "");
  call.timestamp = NowSeconds(f) + 299;
  EXPECT_EQ(CallTencent(f, call).code, "");
}

TEST(SimTencent, WrongServiceOrScopeDate) {
  SimFixture f;
  TencentCall call;
  call.action = "DescribeInstances";
  call.service = "cvm";
  EXPECT_EQ(CallTencent(f, call).code, "AuthFailure.SignatureFailure");

  call.service = "ecm";
  http::ServerRequest request = SignTencent(f, call);
  std::string auth = *request.headers.Get("Authorization");
  std::string date = auth.substr(auth.find('/') + 1, 10);
  auth.replace(auth.find(date), 10, "2001-01-01");
  request.headers.Set("Authorization", auth);
  EXPECT_NE(f.sim->Handle(request).body.find("AuthFailure.SignatureFailure"), std::string::npos);
}

TEST(SimTencent, MalformedAuthorization) {
  SimFixture f;
  TencentCall call;
  call.action = "DescribeInstances";
  http::ServerRequest good = SignTencent(f, call);
  const std::string auth = *good.headers.Get("Authorization");
  for (std::string bad : {std::string("TC3-HMAC-SHA256"), std::string("TC3-HMAC-SHA256 garbage"),
                          auth.substr(0, auth.find(", Signature=")),
                          std::string("TC3-HMAC-SHA256 Credential=AKID/2026-01-01/ecm, "
                                      "SignedHeaders=content-type;host, Signature=ab"),
                          std::string("TC3-HMAC-SHA256 Credential=") + kDemoTencentSecretId +
                              "/2026-01-01/ecm/tc3_request, SignedHeaders=host, Signature=ab"}) {
    http::ServerRequest request = good;
    request.headers.Set("Authorization", bad);
    EXPECT_NE(f.sim->Handle(request).body.find("AuthFailure.InvalidAuthorization"),
              std::string::npos)
        << bad;
  }
  http::ServerRequest missing = good;
  missing.headers.items.erase(missing.headers.items.begin() + 5);  // Authorization
  EXPECT_EQ(missing.headers.Get("Authorization"), nullptr);
  EXPECT_NE(f.sim->Handle(missing).body.find("AuthFailure.InvalidAuthorization"),
            std::string::npos);
}

TEST(SimTencent, TokenRules) {
  SimOptions options = SimFixture::DefaultOptions();
  options.tencent_keys = {{"AKIDtemp", "temp-secret", "temp-token"}, {"AKIDlong", "long", ""}};
  SimFixture f(options);
  TencentCall call;
  call.action = "DescribeInstances";
  call.credentials = {"AKIDtemp", "temp-secret", "temp-token"};
  EXPECT_EQ(CallTencent(f, call).code, "");
  call.send_token = false;
  EXPECT_EQ(CallTencent(f, call).code, "AuthFailure.TokenFailure");
  call.send_token = true;
  call.credentials.token = "other-token";
  EXPECT_EQ(CallTencent(f, call).code, "AuthFailure.TokenFailure");
  call.credentials = {"AKIDlong", "long", "unexpected"};
  EXPECT_EQ(CallTencent(f, call).code, "AuthFailure.TokenFailure");
  // Explicit keys replace the demo pair.
  call.credentials = {};
  EXPECT_EQ(CallTencent(f, call).code, "AuthFailure.SecretIdNotFound");
}

TEST(SimTencent, EnvironmentKeysAreAccepted) {
  SimOptions options = SimFixture::DefaultOptions();
  options.getenv = [](const char* name) -> std::optional<std::string> {
    std::string n = name;
    if (n == "TENCENTCLOUD_SECRET_ID") return "AKIDfromenv";
    if (n == "TENCENTCLOUD_SECRET_KEY") return "env-secret";
    return std::nullopt;
  };
  SimFixture f(options);
  TencentCall call;
  call.action = "DescribeInstances";
  call.credentials = {"AKIDfromenv", "env-secret", ""};
  EXPECT_EQ(CallTencent(f, call).code, "");
  call.credentials = {};
  EXPECT_EQ(CallTencent(f, call).code, "AuthFailure.SecretIdNotFound");
}

TEST(SimTencent, HostSignedWithoutPortIsAccepted) {
  SimFixture f;
  TencentCall call;
  call.action = "DescribeInstances";
  call.signed_host = "127.0.0.1";
  EXPECT_EQ(CallTencent(f, call).code, "");
  call.signed_host = "ecm.tencentcloudapi.com";
  EXPECT_EQ(CallTencent(f, call).code, "AuthFailure.SignatureFailure");
}

TEST(SimTencent, VersionActionAndParameters) {
  SimFixture f;
  TencentCall call;
  call.action = "DescribeInstances";
  call.version = "2017-03-12";
  EXPECT_EQ(CallTencent(f, call).code, "NoSuchVersion");
  call.version = "2019-07-19";
  call.action = "TerminateInstances";
  EXPECT_EQ(CallTencent(f, call).code, "InvalidAction");
  call.action = "RebootInstances";
  call.body = R"({"InstanceIdSet":["ein-running1"],"Bogus":1})";
  EXPECT_EQ(CallTencent(f, call).code, "UnknownParameter");
  call.body = "not json";
  EXPECT_EQ(CallTencent(f, call).code, "InvalidParameter");
}

TEST(SimTencent, RebootParameterLimits) {
  SimFixture f;
  std::vector<std::string> many;
  for (int i = 0; i < 101; ++i) many.push_back(GeneratedTencentId(i + 1));
  EXPECT_EQ(Reboot(f, many).code, "InvalidParameterValue.ParameterValueTooLarge");
  EXPECT_EQ(Reboot(f, {}).code, "InvalidParameterValue");
  EXPECT_EQ(Reboot(f, {"ein-running1", "ein-running1"}).code, "InvalidParameterValue");
  TencentCall call;
  call.body = "{}";
  EXPECT_EQ(CallTencent(f, call).code, "MissingParameter");
  call.body = R"({"InstanceIdSet":["ein-running1"],"StopType":"GENTLE"})";
  EXPECT_EQ(CallTencent(f, call).code, "InvalidParameterValue");
  call.body = R"({"InstanceIdSet":["ein-running1"],"ForceReboot":"yes"})";
  EXPECT_EQ(CallTencent(f, call).code, "InvalidParameter");
  call.body = R"({"InstanceIdSet":["ein-running1"],"StopType":"SOFT_FIRST","ForceReboot":true})";
  EXPECT_EQ(CallTencent(f, call).code, "");
}

TEST(SimTencent, RebootIsAllOrNothing) {
  SimFixture f;
  TencentAnswer answer = Reboot(f, {"ein-running1", "ein-nothere1", "ein-nothere2"});
  EXPECT_EQ(answer.code, "ResourceNotFound.InstanceNotExist");
  EXPECT_NE(answer.message.find("`ein-nothere1`, `ein-nothere2`"), std::string::npos)
      << answer.message;
  EXPECT_EQ(answer.message.find("ein-running1"), std::string::npos);
  EXPECT_EQ(f.sim->RebootCount(Provider::kTencent, "ein-running1"), 0);

  answer = Reboot(f, {"ein-running1", "ein-BAD", "i-abc"});
  EXPECT_EQ(answer.code, "InvalidParameterValue.InvalidInstanceID");
  EXPECT_NE(answer.message.find("ein-BAD"), std::string::npos);

  answer = Reboot(f, {"ein-running1", "ein-stopped1"});
  EXPECT_EQ(answer.code, "ResourceUnavailable.InstanceNotRunning");
  EXPECT_EQ(answer.message, "The instance `ein-stopped1` is not running.");

  ASSERT_EQ(Reboot(f, {"ein-running2"}).code, "");
  answer = Reboot(f, {"ein-running1", "ein-running2"});
  EXPECT_EQ(answer.code, "OperationDenied.InstanceOperationInProgress");
  EXPECT_EQ(f.sim->RebootCount(Provider::kTencent, "ein-running1"), 0);
  EXPECT_EQ(f.sim->RebootCount(Provider::kTencent, "ein-running2"), 1);
}

TEST(SimTencent, DescribeLimitsAndFilters) {
  SimFixture f;
  EXPECT_EQ(Describe(f, R"({"Filters":[{"Name":"instance-id","Values":["ein-a","ein-b","ein-c",)"
                        R"("ein-d","ein-e","ein-f"]}]})")
                .code,
            "InvalidParameterValue.ParameterValueTooLarge");
  EXPECT_EQ(Describe(f, R"({"Filters":[{"Name":"zone","Values":["x"]}]})").code,
            "InvalidParameterValue.InvalidFilter");
  EXPECT_EQ(Describe(f, R"({"Filters":[{"Name":"instance-state","Values":["ASLEEP"]}]})").code,
            "InvalidParameterValue.InvalidFilter");
  EXPECT_EQ(Describe(f, R"({"Limit":101})").code, "InvalidParameterValue.InvaildPageParam");
  EXPECT_EQ(Describe(f, R"({"Limit":0})").code, "InvalidParameterValue.InvaildPageParam");
  EXPECT_EQ(Describe(f, R"({"Offset":-1})").code, "InvalidParameterValue.InvaildPageParam");

  TencentAnswer all = Describe(f, "{}");
  EXPECT_EQ(all.response.Find("TotalCount")->AsInt(), 4);
  TencentAnswer page = Describe(f, R"({"Offset":1,"Limit":2})");
  ASSERT_EQ(page.response.Find("InstanceSet")->size(), 2u);
  EXPECT_EQ(page.response.Find("InstanceSet")->AsArray()[0].Find("InstanceId")->AsString(),
            "ein-running2");
  EXPECT_EQ(page.response.Find("TotalCount")->AsInt(), 4);
  TencentAnswer stopped =
      Describe(f, R"({"Filters":[{"Name":"instance-state","Values":["STOPPED"]}]})");
  ASSERT_EQ(stopped.response.Find("TotalCount")->AsInt(), 1);
  EXPECT_EQ(stopped.response.Find("InstanceSet")->AsArray()[0].Find("InstanceId")->AsString(),
            "ein-stopped1");
  TencentAnswer unknown =
      Describe(f, R"({"Filters":[{"Name":"instance-id","Values":["ein-nope","ein-running3"]}]})");
  EXPECT_EQ(unknown.response.Find("TotalCount")->AsInt(), 1);
}

TEST(SimTencent, RateLimitSlidingWindow) {
  SimFixture f;
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(Describe(f, "{}").code, "") << i;
    f.clock.Advance(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(Describe(f, "{}").code, "RequestLimitExceeded");
  // The first call leaves the window (t-1s, t] exactly 1 s after it arrived.
  f.clock.Advance(std::chrono::milliseconds(800));
  EXPECT_EQ(Describe(f, "{}").code, "");
  EXPECT_EQ(Describe(f, "{}").code, "RequestLimitExceeded");
  // Reboots have their own window.
  EXPECT_EQ(Reboot(f, {"ein-running1"}).code, "");
  ActionReport report = f.sim->GetReport().tencent.actions.at("DescribeInstances");
  EXPECT_EQ(report.throttled, 2);
  EXPECT_EQ(report.calls, 23);
  EXPECT_EQ(report.errors.at("RequestLimitExceeded"), 2);
  EXPECT_EQ(report.max_calls_in_any_1s_window, 22);
  EXPECT_EQ(report.rate_limit, 20);
}

TEST(SimTencent, ConfiguredRateLimit) {
  SimOptions options = SimFixture::DefaultOptions();
  options.rate_limits["tencent.DescribeInstances"] = 2;
  SimFixture f(options);
  EXPECT_EQ(Describe(f, "{}").code, "");
  EXPECT_EQ(Describe(f, "{}").code, "");
  EXPECT_EQ(Describe(f, "{}").code, "RequestLimitExceeded");
  options.rate_limits["tencent.Nope"] = 2;
  ManualClock clock;
  EXPECT_FALSE(Simulator::Create(options, clock).has_value());
}

}  // namespace
}  // namespace rebootd::sim::testing
