// SPDX-License-Identifier: Apache-2.0
// Aliyun ECS side of the simulator: RPC V1 and ACS3 verification, RebootInstance,
// DescribeInstanceStatus, DescribeInstances, XML answers, throttling.
#include <gtest/gtest.h>

#include "pkg/http/transport.h"
#include "pkg/sim/demo_credentials.h"
#include "tests/pkg/sim/sim_test_util.h"

namespace rebootd::sim::testing {
namespace {

using cloud::Provider;
using std::chrono::minutes;
using std::chrono::seconds;

AliyunCall RebootCall(const std::string& id) {
  AliyunCall call;
  call.params = {{"Action", "RebootInstance"}, {"InstanceId", id}, {"RegionId", "cn-hangzhou"}};
  return call;
}

AliyunAnswer DescribeStatus(SimFixture& f, cloud::aliyun::Params extra) {
  AliyunCall call;
  call.params = {{"Action", "DescribeInstanceStatus"}, {"RegionId", "cn-hangzhou"}};
  for (auto& [k, v] : extra) call.params[k] = v;
  return CallAliyun(f, call);
}

AliyunAnswer DescribeInstances(SimFixture& f, cloud::aliyun::Params extra) {
  AliyunCall call;
  call.params = {{"Action", "DescribeInstances"}, {"RegionId", "cn-hangzhou"}};
  for (auto& [k, v] : extra) call.params[k] = v;
  return CallAliyun(f, call);
}

const json::Value& FirstInstance(const AliyunAnswer& answer) {
  return answer.body.Find("Instances")->Find("Instance")->AsArray().at(0);
}

TEST(SimAliyun, RebootStateMachineAndStartTime) {
  SimFixture f;
  AliyunAnswer before = DescribeInstances(f, {{"InstanceIds", R"(["i-run1"])"}});
  ASSERT_EQ(before.code, "") << before.raw;
  const std::string start_before = FirstInstance(before).Find("StartTime")->AsString();
  EXPECT_EQ(start_before.size(), 17u) << start_before;  // YYYY-MM-DDThh:mmZ

  f.clock.Advance(minutes(5));
  AliyunAnswer answer = CallAliyun(f, RebootCall("i-run1"));
  ASSERT_EQ(answer.status, 200) << answer.raw;
  ASSERT_EQ(answer.code, "");
  EXPECT_EQ(f.sim->InstanceState(Provider::kAliyun, "i-run1"), "Stopping");
  f.clock.Advance(seconds(2));
  EXPECT_EQ(f.sim->InstanceState(Provider::kAliyun, "i-run1"), "Starting");
  AliyunAnswer status = DescribeStatus(f, {{"InstanceId.1", "i-run1"}});
  EXPECT_EQ(status.body.Find("InstanceStatuses")
                ->Find("InstanceStatus")
                ->AsArray()
                .at(0)
                .Find("Status")
                ->AsString(),
            "Starting");
  f.clock.Advance(seconds(8));
  EXPECT_EQ(f.sim->InstanceState(Provider::kAliyun, "i-run1"), "Running");
  AliyunAnswer after = DescribeInstances(f, {{"InstanceIds", R"(["i-run1"])"}});
  const std::string start_after = FirstInstance(after).Find("StartTime")->AsString();
  EXPECT_GT(start_after, start_before);
  EXPECT_EQ(f.sim->RebootCount(Provider::kAliyun, "i-run1"), 1);
}

TEST(SimAliyun, StartTimeWithSecondsOption) {
  SimOptions options = SimFixture::DefaultOptions();
  options.start_time_with_seconds = true;
  SimFixture f(options);
  AliyunAnswer answer = DescribeInstances(f, {{"InstanceIds", R"(["i-run1"])"}});
  EXPECT_EQ(FirstInstance(answer).Find("StartTime")->AsString().size(), 20u);
}

TEST(SimAliyun, HistoryAndTheCloudsTimeOfEachAnswer) {
  SimOptions options = SimFixture::DefaultOptions();
  AliyunEntry earlier("i-hist1", "cn-hangzhou");
  SystemTime started;
  ASSERT_TRUE(ParseRfc3339("2025-12-31T23:58:30Z", &started));
  earlier.start_time = started;
  options.inventory.aliyun.push_back(earlier);
  SimFixture f(options);
  AliyunAnswer answer = DescribeInstances(f, {{"InstanceIds", R"(["i-hist1"])"}});
  ASSERT_EQ(answer.code, "") << answer.raw;
  EXPECT_EQ(FirstInstance(answer).Find("StartTime")->AsString(), "2025-12-31T23:58Z");
  // Like any origin server, the simulator dates its answers (with its own clock).
  AliyunCall call;
  call.params = {{"Action", "DescribeInstances"}, {"RegionId", "cn-hangzhou"}};
  http::ServerResponse raw = f.sim->Handle(SignAliyunRpc(f, call));
  ASSERT_NE(raw.headers.Get("Date"), nullptr);
  EXPECT_EQ(http::ParseHttpDate(*raw.headers.Get("Date")),
            std::chrono::floor<std::chrono::seconds>(f.clock.Now()));
}

TEST(SimAliyun, XmlWhenFormatAbsent) {
  SimFixture f;
  AliyunCall call = RebootCall("i-run2");
  call.json = false;
  AliyunAnswer ok = CallAliyun(f, call);
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.raw.rfind("<?xml", 0), 0u);
  EXPECT_NE(ok.raw.find("<RebootInstanceResponse><RequestId>"), std::string::npos) << ok.raw;
  AliyunAnswer error = CallAliyun(f, RebootCall("i-missing"));  // JSON
  EXPECT_EQ(error.code, "InvalidInstanceId.NotFound");
  call = RebootCall("i-missing");
  call.json = false;
  AliyunAnswer xml_error = CallAliyun(f, call);
  EXPECT_EQ(xml_error.status, 404);
  EXPECT_NE(xml_error.raw.find("<Error><RequestId>"), std::string::npos) << xml_error.raw;
  EXPECT_NE(xml_error.raw.find("<Code>InvalidInstanceId.NotFound</Code>"), std::string::npos);
  EXPECT_NE(xml_error.raw.find("<HostId>ecs.aliyuncs.com</HostId>"), std::string::npos);

  AliyunCall list;
  list.json = false;
  list.params = {{"Action", "DescribeInstanceStatus"}, {"RegionId", "cn-hangzhou"}};
  AliyunAnswer statuses = CallAliyun(f, list);
  EXPECT_NE(statuses.raw.find("<InstanceStatuses><InstanceStatus><InstanceId>i-run1</InstanceId>"),
            std::string::npos)
      << statuses.raw;
}

TEST(SimAliyun, PostFormBodyIsSigned) {
  SimFixture f;
  AliyunCall call = RebootCall("i-run1");
  call.method = "POST";
  call.in_body = true;
  EXPECT_EQ(CallAliyun(f, call).code, "");
  call = RebootCall("i-run2");
  call.method = "POST";
  call.in_body = true;
  http::ServerRequest request = SignAliyunRpc(f, call);
  request.body.replace(request.body.find("i-run2"), 6, "i-bj1x");
  AliyunAnswer tampered = Send(f, request);
  EXPECT_EQ(tampered.status, 400);
  EXPECT_EQ(tampered.code, "SignatureDoesNotMatch");
  // POST with the parameters in the query, as the official SDKs do.
  call = RebootCall("i-run2");
  call.method = "POST";
  EXPECT_EQ(CallAliyun(f, call).code, "");
  // The method is part of the string to sign.
  request = SignAliyunRpc(f, RebootCall("i-bj1"));
  request.method = "POST";
  EXPECT_EQ(Send(f, request).code, "SignatureDoesNotMatch");
}

TEST(SimAliyun, RpcVerificationFailures) {
  SimFixture f;
  http::ServerRequest request = SignAliyunRpc(f, RebootCall("i-run1"));
  request.query.replace(request.query.find("i-run1"), 6, "i-run2");
  AliyunAnswer bad = Send(f, request);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.code, "SignatureDoesNotMatch");
  EXPECT_NE(bad.message.find("server string to sign is:GET&%2F&"), std::string::npos);
  EXPECT_EQ(bad.raw.find(kDemoAliyunAccessKeySecret), std::string::npos);
  EXPECT_EQ(f.sim->RebootCount(Provider::kAliyun, "i-run2"), 0);

  AliyunCall call = RebootCall("i-run1");
  call.credentials = {"LTAIunknown", "x", ""};
  AliyunAnswer unknown = CallAliyun(f, call);
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(unknown.code, "InvalidAccessKeyId.NotFound");

  for (auto skew : {minutes(-16), minutes(16)}) {
    call = RebootCall("i-run1");
    call.time = f.clock.Now() + skew;
    AliyunAnswer expired = CallAliyun(f, call);
    EXPECT_EQ(expired.status, 400);
    EXPECT_EQ(expired.code, "InvalidTimeStamp.Expired");
  }
  call = RebootCall("i-run1");
  call.time = f.clock.Now() - minutes(14);
  call.nonce = "same-nonce";
  EXPECT_EQ(CallAliyun(f, call).code, "");
  f.clock.Advance(minutes(20));  // replay within the nonce memory: timestamp now too old
  call.time = f.clock.Now();
  call.params["InstanceId"] = "i-run2";
  AliyunAnswer replay = CallAliyun(f, call);
  EXPECT_EQ(replay.status, 400);
  EXPECT_EQ(replay.code, "SignatureNonceUsed");
  EXPECT_EQ(f.sim->RebootCount(Provider::kAliyun, "i-run2"), 0);
  EXPECT_EQ(f.sim->GetReport().aliyun.actions.at("RebootInstance").auth_failures, 5);

  request = SignAliyunRpc(f, RebootCall("i-run2"));
  request.query += "&SignatureMethod=HMAC-SHA256";
  EXPECT_EQ(Send(f, request).code, "IncompleteSignature");
  AliyunCall missing;
  missing.params = {{"Action", "RebootInstance"}, {"InstanceId", "i-run2"}};
  request = SignAliyunRpc(f, missing);
  request.query = request.query.substr(0, request.query.find("&Signature="));
  AliyunAnswer no_signature = Send(f, request);
  EXPECT_EQ(no_signature.code, "MissingParameter");
  EXPECT_NE(no_signature.message.find("\"Signature\""), std::string::npos);
  missing.params["Version"] = "2016-01-01";
  EXPECT_EQ(CallAliyun(f, missing).code, "InvalidVersion");
  missing.params["Version"] = "2014-05-26";
  missing.params["Action"] = "DeleteInstance";
  AliyunAnswer action = CallAliyun(f, missing);
  EXPECT_EQ(action.status, 403);
  EXPECT_EQ(action.code, "InvalidAction");
}

TEST(SimAliyun, SecurityTokenRules) {
  SimOptions options = SimFixture::DefaultOptions();
  options.aliyun_keys = {{"STS.temp", "temp-secret", "sts-token"}, {"LTAIlong", "long", ""}};
  SimFixture f(options);
  AliyunCall call = RebootCall("i-run1");
  call.credentials = {"STS.temp", "temp-secret", "sts-token"};
  EXPECT_EQ(CallAliyun(f, call).code, "");
  call = RebootCall("i-run2");
  call.credentials = {"STS.temp", "temp-secret", ""};
  EXPECT_EQ(CallAliyun(f, call).code, "MissingSecurityToken");
  call.credentials = {"STS.temp", "temp-secret", "other"};
  EXPECT_EQ(CallAliyun(f, call).code, "InvalidSecurityToken.MismatchWithAccessKey");
  call.credentials = {"LTAIlong", "long", "unexpected"};
  EXPECT_EQ(CallAliyun(f, call).code, "InvalidSecurityToken.MismatchWithAccessKey");
}

TEST(SimAliyun, RebootErrors) {
  SimFixture f;
  AliyunAnswer answer = CallAliyun(f, RebootCall("i-nope"));
  EXPECT_EQ(answer.status, 404);
  EXPECT_EQ(answer.code, "InvalidInstanceId.NotFound");
  answer = CallAliyun(f, RebootCall("i-bj1"));  // other region
  EXPECT_EQ(answer.status, 404);
  answer = CallAliyun(f, RebootCall("i-lock1"));
  EXPECT_EQ(answer.status, 403);
  EXPECT_EQ(answer.code, "InstanceLockedForSecurity");
  answer = CallAliyun(f, RebootCall("i-stop1"));
  EXPECT_EQ(answer.status, 403);
  EXPECT_EQ(answer.code, "IncorrectInstanceStatus");
  AliyunCall call = RebootCall("i-run1");
  call.params["DryRun"] = "true";
  answer = CallAliyun(f, call);
  EXPECT_EQ(answer.status, 400);
  EXPECT_EQ(answer.code, "DryRunOperation");
  EXPECT_EQ(answer.message, "Request validation has been passed with DryRun flag set.");
  EXPECT_EQ(f.sim->InstanceState(Provider::kAliyun, "i-run1"), "Running");
  call.params["DryRun"] = "maybe";
  EXPECT_EQ(CallAliyun(f, call).code, "InvalidParameter");
  call = RebootCall("i-run1");
  call.params.erase("InstanceId");
  EXPECT_EQ(CallAliyun(f, call).code, "MissingParameter");
  ASSERT_EQ(CallAliyun(f, RebootCall("i-run1")).code, "");
  answer = CallAliyun(f, RebootCall("i-run1"));  // mid-reboot
  EXPECT_EQ(answer.status, 403);
  EXPECT_EQ(answer.code, "IncorrectInstanceStatus");
  // Without RegionId (not a documented parameter of RebootInstance).
  call = RebootCall("i-bj1");
  call.params.erase("RegionId");
  EXPECT_EQ(CallAliyun(f, call).code, "");
}

TEST(SimAliyun, DescribeInstanceStatusLimits) {
  SimFixture f;
  AliyunCall call;
  call.params = {{"Action", "DescribeInstanceStatus"}};
  EXPECT_EQ(CallAliyun(f, call).code, "MissingParameter");
  EXPECT_EQ(DescribeStatus(f, {{"PageSize", "51"}}).code, "InvalidParameter");
  EXPECT_EQ(DescribeStatus(f, {{"PageSize", "0"}}).code, "InvalidParameter");
  EXPECT_EQ(DescribeStatus(f, {{"PageNumber", "0"}}).code, "InvalidParameter");
  EXPECT_EQ(DescribeStatus(f, {{"InstanceId.101", "i-run1"}}).code, "InvalidParameter");
  AliyunAnswer page = DescribeStatus(f, {{"PageSize", "50"}});
  EXPECT_EQ(page.code, "");
  EXPECT_EQ(page.body.Find("TotalCount")->AsInt(), 4);  // cn-hangzhou only
  AliyunAnswer some = DescribeStatus(
      f, {{"InstanceId.1", "i-run1"}, {"InstanceId.2", "i-unknown"}, {"InstanceId.3", "i-lock1"}});
  EXPECT_EQ(some.body.Find("TotalCount")->AsInt(), 2);
  const auto& list = some.body.Find("InstanceStatuses")->Find("InstanceStatus")->AsArray();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[1].Find("Status")->AsString(), "Stopped");
  AliyunAnswer second = DescribeStatus(f, {{"PageSize", "3"}, {"PageNumber", "2"}});
  EXPECT_EQ(second.body.Find("InstanceStatuses")->Find("InstanceStatus")->size(), 1u);
  EXPECT_EQ(second.body.Find("PageNumber")->AsInt(), 2);
}

TEST(SimAliyun, DescribeInstancesLimitsAndPaging) {
  SimOptions options = SimFixture::DefaultOptions();
  options.aliyun_instances = 25;
  SimFixture f(options);
  AliyunCall call;
  call.params = {{"Action", "DescribeInstances"}};
  EXPECT_EQ(CallAliyun(f, call).code, "MissingParameter");
  EXPECT_EQ(DescribeInstances(f, {{"InstanceIds", "i-run1"}}).code, "InvalidInstanceIds.Malformed");
  EXPECT_EQ(DescribeInstances(f, {{"InstanceIds", "[1,2]"}}).code, "InvalidInstanceIds.Malformed");
  std::string many = "[";
  for (int i = 1; i <= 101; ++i) many += (i > 1 ? ",\"" : "\"") + GeneratedAliyunId(i) + "\"";
  many += "]";
  EXPECT_EQ(DescribeInstances(f, {{"InstanceIds", many}}).code, "InvalidInstanceIds.Malformed");
  EXPECT_EQ(DescribeInstances(f, {{"PageSize", "101"}}).code, "InvalidParameter");
  EXPECT_EQ(DescribeInstances(f, {{"Status", "Asleep"}}).code, "InvalidParameter");
  EXPECT_EQ(DescribeInstances(f, {{"NextToken", "garbage"}}).code, "InvalidParameter");

  AliyunAnswer locked = DescribeInstances(f, {{"InstanceIds", R"(["i-lock1"])"}});
  const json::Value& lock = FirstInstance(locked);
  EXPECT_EQ(lock.Find("Status")->AsString(), "Stopped");
  EXPECT_EQ(lock.Find("OperationLocks")
                ->Find("LockReason")
                ->AsArray()
                .at(0)
                .Find("LockReason")
                ->AsString(),
            "security");
  EXPECT_EQ(DescribeInstances(f, {{"InstanceIds", "[]"}}).body.Find("TotalCount")->AsInt(), 0);

  // 4 + 25 instances in cn-hangzhou; token paging with MaxResults 10.
  std::vector<std::string> seen;
  std::string token;
  for (int page = 0; page < 5; ++page) {
    cloud::aliyun::Params extra = {{"MaxResults", "10"}};
    if (!token.empty()) extra["NextToken"] = token;
    AliyunAnswer answer = DescribeInstances(f, extra);
    ASSERT_EQ(answer.code, "") << answer.raw;
    for (const auto& item : answer.body.Find("Instances")->Find("Instance")->AsArray()) {
      seen.push_back(item.Find("InstanceId")->AsString());
    }
    token = answer.body.Find("NextToken")->AsString();
    if (token.empty()) break;
  }
  EXPECT_EQ(seen.size(), 29u);
  EXPECT_EQ(seen.back(), GeneratedAliyunId(25));
  AliyunAnswer running = DescribeInstances(f, {{"Status", "Running"}, {"PageSize", "100"}});
  EXPECT_EQ(running.body.Find("TotalCount")->AsInt(), 27);
}

TEST(SimAliyun, ThrottlingUser) {
  SimFixture f;
  for (int i = 0; i < 20; ++i) ASSERT_EQ(DescribeStatus(f, {}).code, "") << i;
  AliyunAnswer throttled = DescribeStatus(f, {});
  EXPECT_EQ(throttled.status, 400);
  EXPECT_EQ(throttled.code, "Throttling.User");
  EXPECT_EQ(throttled.message, "Request was denied due to user flow control.");
  EXPECT_EQ(CallAliyun(f, RebootCall("i-run1")).code, "");  // separate action
  f.clock.Advance(seconds(1));
  EXPECT_EQ(DescribeStatus(f, {}).code, "");
  ActionReport report = f.sim->GetReport().aliyun.actions.at("DescribeInstanceStatus");
  EXPECT_EQ(report.throttled, 1);
  EXPECT_EQ(report.max_calls_in_any_1s_window, 21);
}

TEST(SimAliyun, Acs3Verification) {
  SimFixture f;
  AliyunAcs3Call call;
  call.action = "DescribeInstanceStatus";
  call.query = {{"RegionId", "cn-hangzhou"}, {"InstanceId.1", "i-run1"}};
  AliyunAnswer ok = Send(f, SignAliyunAcs3(f, call));
  ASSERT_EQ(ok.code, "") << ok.raw;
  EXPECT_EQ(ok.body.Find("TotalCount")->AsInt(), 1);

  call.action = "RebootInstance";
  call.query = {{"InstanceId", "i-run1"}};
  http::ServerRequest tampered = SignAliyunAcs3(f, call);
  tampered.query = "InstanceId=i-run2";
  AliyunAnswer bad = Send(f, tampered);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.code, "SignatureDoesNotMatch");
  EXPECT_NE(bad.message.find("ACS3-HMAC-SHA256\n"), std::string::npos);

  http::ServerRequest body = SignAliyunAcs3(f, call);
  body.body = "x=1";
  EXPECT_EQ(Send(f, body).code, "SignatureDoesNotMatch");

  http::ServerRequest unsigned_header = SignAliyunAcs3(f, call);
  std::string auth = *unsigned_header.headers.Get("authorization");
  auth.replace(auth.find("x-acs-date;"), 11, "");
  unsigned_header.headers.Set("authorization", auth);
  EXPECT_EQ(Send(f, unsigned_header).code, "IncompleteSignature");

  http::ServerRequest malformed = SignAliyunAcs3(f, call);
  malformed.headers.Set("authorization", "ACS3-HMAC-SHA256 Credential=x");
  EXPECT_EQ(Send(f, malformed).code, "IncompleteSignature");

  call.time = f.clock.Now() - minutes(16);
  EXPECT_EQ(Send(f, SignAliyunAcs3(f, call)).code, "InvalidTimeStamp.Expired");
  call.time = {};
  call.nonce = "acs3-fixed";
  EXPECT_EQ(Send(f, SignAliyunAcs3(f, call)).code, "");
  EXPECT_EQ(f.sim->RebootCount(Provider::kAliyun, "i-run1"), 1);
  call.query = {{"InstanceId", "i-run2"}};
  EXPECT_EQ(Send(f, SignAliyunAcs3(f, call)).code, "SignatureNonceUsed");
  EXPECT_EQ(f.sim->RebootCount(Provider::kAliyun, "i-run2"), 0);
}

}  // namespace
}  // namespace rebootd::sim::testing
