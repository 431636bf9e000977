// SPDX-License-Identifier: Apache-2.0
// EcmClient over a FakeTransport with a ManualClock: request shape, TC3 signatures (recomputed
// from the recorded request, plus a known answer), limits, answer parsing, error mapping,
// retries, ambiguity, observer records, and that secrets never leak.
#include "pkg/cloud/tencent/ecm_client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <vector>

#include "pkg/cloud/errors.h"
#include "pkg/cloud/tencent/errors.h"
#include "pkg/cloud/tencent/signer.h"
#include "pkg/http/url.h"
#include "pkg/json/json.h"
#include "tests/support/fake_transport.h"

namespace rebootd::cloud::tencent {
namespace {

using namespace std::chrono_literals;
using ::rebootd::testing::FakeTransport;

constexpr char kKeyId[] = "AKIDTestSecretIdValue";
constexpr char kSecret[] = "tencentSecretKeyValue-0123456789";
constexpr char kToken[] = "tencentSessionToken+with/special=chars";

constexpr char kRebootOk[] =
    R"({"Response":{"RequestId":"d40cdb72-7bc0-4b48-b3aa-djl3424-a6482"}})";

int64_t Seconds(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// Recomputes the TC3 signature from the recorded headers and body (service "ecm").
void ExpectTc3SignatureVerifies(const http::Request& request, std::string_view key_id,
                                std::string_view secret) {
  const std::string* auth = request.headers.Get("Authorization");
  const std::string* host = request.headers.Get("Host");
  const std::string* content_type = request.headers.Get("Content-Type");
  const std::string* timestamp = request.headers.Get("X-TC-Timestamp");
  ASSERT_TRUE(auth && host && content_type && timestamp);
  Tc3Input input;
  input.method = request.method;
  input.host = *host;
  input.service = "ecm";
  input.content_type = *content_type;
  input.payload = request.body;
  input.timestamp = std::stoll(*timestamp);
  const Tc3Signed expected =
      SignTc3(input, Credentials{std::string(key_id), std::string(secret), ""});
  EXPECT_EQ(*auth, expected.authorization);
  EXPECT_NE(auth->find("/" + Tc3Date(input.timestamp) + "/ecm/tc3_request, "), std::string::npos)
      << *auth;
  EXPECT_NE(auth->find("SignedHeaders=content-type;host, "), std::string::npos) << *auth;
}

http::Response Answer(int status, std::string body) {
  http::Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

std::string ApiError(const std::string& code, const std::string& message = "msg",
                     const std::string& request_id = "REQ-E") {
  json::Value error = json::Value::MakeObject();
  error.Set("Code", code);
  error.Set("Message", message);
  json::Value response = json::Value::MakeObject();
  response.Set("Error", std::move(error));
  response.Set("RequestId", request_id);
  json::Value body = json::Value::MakeObject();
  body.Set("Response", std::move(response));
  return body.Dump();
}

Error TransportError(ErrorCode code, bool ambiguous, std::string message = "transport failure") {
  Error e;
  e.code = code;
  e.ambiguous = ambiguous;
  e.message = std::move(message);
  return e;
}

template <class F>
auto PumpClock(ManualClock& clock, F fn) {
  auto future = std::async(std::launch::async, std::move(fn));
  while (future.wait_for(1ms) != std::future_status::ready) {
    if (clock.Sleepers() > 0) clock.Advance(10ms);
  }
  return future.get();
}

constexpr char kDescribeOk[] = R"({"Response":{"TotalCount":2,"InstanceSet":[
  {"InstanceId":"ein-496721al","InstanceName":"a","InstanceState":"RUNNING","CreateTime":"2020-01-01T00:00:00Z",
   "LatestOperation":"RebootInstances","LatestOperationState":"SUCCESS","RestrictState":"NORMAL"},
  {"InstanceId":"ein-438242bp","InstanceState":"REBOOTING","LatestOperation":"RebootInstances",
   "LatestOperationState":"OPERATING","RestrictState":"NORMAL"}],"RequestId":"DESC-1"}})";

class EcmClientTest : public ::testing::Test {
 protected:
  EcmClientOptions Options() {
    EcmClientOptions options;
    options.observer = [this](const CallRecord& r) {
      std::lock_guard lock(mu_);
      records_.push_back(r);
    };
    return options;
  }

  std::unique_ptr<EcmClient> Make(EcmClientOptions options,
                                  Credentials credentials = {kKeyId, kSecret, ""},
                                  ratelimit::Limiter* limiter = nullptr,
                                  http::Transport* transport = nullptr) {
    auto client = EcmClient::Create(std::move(options), std::move(credentials),
                                    transport ? *transport : transport_, clock_, random_, limiter);
    EXPECT_TRUE(client.has_value()) << client.error().ToString();
    return client ? std::move(*client) : nullptr;
  }

  std::vector<CallRecord> records() {
    std::lock_guard lock(mu_);
    return records_;
  }

  ManualClock clock_;
  SeededRandom random_{42};
  FakeTransport transport_;
  std::mutex mu_;
  std::vector<CallRecord> records_;
};

// ---- construction and endpoints ----

TEST_F(EcmClientTest, CreateRejectsBadOptionsAndCredentials) {
  auto options = Options();
  options.endpoint = "http://127.0.0.1:8080/v3";
  EXPECT_FALSE(
      EcmClient::Create(options, {kKeyId, kSecret, ""}, transport_, clock_, random_, nullptr));
  options = Options();
  options.endpoint = "not a url";
  EXPECT_FALSE(
      EcmClient::Create(options, {kKeyId, kSecret, ""}, transport_, clock_, random_, nullptr));
  options = Options();
  options.region = "AP_Guangzhou";
  EXPECT_FALSE(
      EcmClient::Create(options, {kKeyId, kSecret, ""}, transport_, clock_, random_, nullptr));
  options = Options();
  options.max_attempts = 0;
  EXPECT_FALSE(
      EcmClient::Create(options, {kKeyId, kSecret, ""}, transport_, clock_, random_, nullptr));
  auto no_key =
      EcmClient::Create(Options(), {"", kSecret, ""}, transport_, clock_, random_, nullptr);
  ASSERT_FALSE(no_key);
  EXPECT_EQ(no_key.error().code, ErrorCode::kUnauthenticated);
}

TEST_F(EcmClientTest, RebootRequestShape) {
  auto client = Make(Options());
  EXPECT_EQ(client->endpoint(), "https://ecm.tencentcloudapi.com");
  transport_.Respond(200, kRebootOk, FakeTransport::MethodAndAction("POST", "RebootInstances"));
  auto result = client->RebootInstances({"ein-496721al", "ein-438242bp"}, StopType::kSoft, false);
  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  EXPECT_EQ(*result, "d40cdb72-7bc0-4b48-b3aa-djl3424-a6482");

  const http::Request r = transport_.last_request();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://ecm.tencentcloudapi.com/");
  EXPECT_EQ(r.timeout, 30s);
  ASSERT_TRUE(r.idempotent.has_value());
  EXPECT_FALSE(*r.idempotent);
  EXPECT_EQ(r.headers.GetOr("Host"), "ecm.tencentcloudapi.com");
  EXPECT_EQ(r.headers.GetOr("Content-Type"), "application/json");
  EXPECT_EQ(r.headers.GetOr("X-TC-Action"), "RebootInstances");
  EXPECT_EQ(r.headers.GetOr("X-TC-Version"), "2019-07-19");
  EXPECT_EQ(r.headers.GetOr("X-TC-Timestamp"), std::to_string(Seconds(clock_.Now())));
  EXPECT_EQ(r.headers.Get("X-TC-Region"), nullptr);
  EXPECT_EQ(r.headers.Get("X-TC-Token"), nullptr);
  EXPECT_EQ(r.headers.Get("X-TC-Language"), nullptr);
  auto body = json::Parse(r.body);
  ASSERT_TRUE(body.has_value()) << r.body;
  json::Value expected = json::Value::MakeObject();
  json::Value ids = json::Value::MakeArray();
  ids.PushBack("ein-496721al");
  ids.PushBack("ein-438242bp");
  expected.Set("InstanceIdSet", std::move(ids));
  expected.Set("StopType", "SOFT");
  EXPECT_EQ(*body, expected) << r.body;
  ExpectTc3SignatureVerifies(r, kKeyId, kSecret);
  ASSERT_EQ(records().size(), 1u);
  EXPECT_EQ(records()[0].provider, "tencent");
  EXPECT_EQ(records()[0].action, "RebootInstances");
  EXPECT_EQ(records()[0].code, "OK");
  EXPECT_EQ(records()[0].batch_size, 2);
}

// cloud-apis.md §2.4 DERIVED ECM vector (Content-Type application/json) end to end.
TEST_F(EcmClientTest, KnownAnswerSignature) {
  ManualClock clock(SystemTime(std::chrono::seconds(1551113065)));
  auto client = EcmClient::Create(
      EcmClientOptions{},
      {"AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", ""}, transport_,
      clock, random_, nullptr);
  ASSERT_TRUE(client.has_value());
  transport_.Respond(200, kRebootOk);
  ASSERT_TRUE((*client)->RebootInstances({"ein-496721al"}, StopType::kSoft, false));
  const http::Request r = transport_.last_request();
  EXPECT_EQ(r.body, R"({"InstanceIdSet":["ein-496721al"],"StopType":"SOFT"})");
  EXPECT_EQ(r.headers.GetOr("X-TC-Timestamp"), "1551113065");
  EXPECT_EQ(r.headers.GetOr("Authorization"),
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/ecm/"
            "tc3_request, SignedHeaders=content-type;host, "
            "Signature=86d29142b9f652470cfc3898ceccf8d734749249ba1d80c30a0ab4c08f865cd3");
}

TEST_F(EcmClientTest, StopTypesAndForceReboot) {
  EXPECT_EQ(StopTypeName(StopType::kSoft), "SOFT");
  EXPECT_EQ(StopTypeName(StopType::kHard), "HARD");
  EXPECT_EQ(StopTypeName(StopType::kSoftFirst), "SOFT_FIRST");
  auto client = Make(Options());
  transport_.Respond(200, kRebootOk).Respond(200, kRebootOk);
  ASSERT_TRUE(client->RebootInstances({"ein-1"}, StopType::kHard, true));
  auto body = json::Parse(transport_.last_request().body);
  ASSERT_TRUE(body);
  EXPECT_EQ(body->Find("StopType")->AsString(), "HARD");
  EXPECT_TRUE(body->Find("ForceReboot")->AsBool());
  ASSERT_TRUE(client->RebootInstances({"ein-1"}, StopType::kSoftFirst, false));
  body = json::Parse(transport_.last_request().body);
  EXPECT_EQ(body->Find("StopType")->AsString(), "SOFT_FIRST");
  EXPECT_EQ(body->Find("ForceReboot"), nullptr);
}

TEST_F(EcmClientTest, RegionAndTokenHeaders) {
  auto options = Options();
  options.region = "ap-guangzhou";
  auto client = Make(options, {kKeyId, kSecret, kToken});
  transport_.Respond(200, kRebootOk);
  ASSERT_TRUE(client->RebootInstances({"ein-1"}, StopType::kSoft, false));
  const http::Request r = transport_.last_request();
  EXPECT_EQ(r.headers.GetOr("X-TC-Region"), "ap-guangzhou");
  EXPECT_EQ(r.headers.GetOr("X-TC-Token"), kToken);
  ExpectTc3SignatureVerifies(r, kKeyId, kSecret);
}

TEST_F(EcmClientTest, EndpointOverrideKeepsServiceEcm) {
  auto options = Options();
  options.endpoint = "http://127.0.0.1:18080";
  auto client = Make(options);
  transport_.Respond(200, kRebootOk);
  ASSERT_TRUE(client->RebootInstances({"ein-1"}, StopType::kSoft, false));
  const http::Request r = transport_.last_request();
  EXPECT_EQ(r.url, "http://127.0.0.1:18080/");
  EXPECT_EQ(r.headers.GetOr("Host"), "127.0.0.1:18080");
  EXPECT_NE(r.headers.GetOr("Authorization").find("/ecm/tc3_request"), std::string::npos);
  ExpectTc3SignatureVerifies(r, kKeyId, kSecret);

  options.endpoint = "https://ecm.ap-guangzhou.tencentcloudapi.com";
  auto regional = Make(options);
  transport_.Respond(200, kRebootOk);
  ASSERT_TRUE(regional->RebootInstances({"ein-1"}, StopType::kSoft, false));
  EXPECT_EQ(transport_.last_request().headers.GetOr("Host"),
            "ecm.ap-guangzhou.tencentcloudapi.com");
  EXPECT_NE(transport_.last_request().headers.GetOr("Authorization").find("/ecm/tc3_request"),
            std::string::npos);
}

TEST_F(EcmClientTest, TimestampFollowsTheClock) {
  auto client = Make(Options());
  transport_.Respond(200, kRebootOk).Respond(200, kRebootOk);
  ASSERT_TRUE(client->RebootInstances({"ein-1"}, StopType::kSoft, false));
  clock_.Advance(90s);
  ASSERT_TRUE(client->RebootInstances({"ein-1"}, StopType::kSoft, false));
  auto rs = transport_.requests();
  EXPECT_EQ(std::stoll(rs[1].headers.GetOr("X-TC-Timestamp")) -
                std::stoll(rs[0].headers.GetOr("X-TC-Timestamp")),
            90);
  EXPECT_NE(rs[0].headers.GetOr("Authorization"), rs[1].headers.GetOr("Authorization"));
  for (const auto& r : rs) ExpectTc3SignatureVerifies(r, kKeyId, kSecret);
}

// ---- validation ----

TEST_F(EcmClientTest, InvalidInputIsRejectedWithoutCalling) {
  auto client = Make(Options());
  std::vector<std::string> ids101;
  for (int i = 0; i < 101; ++i) ids101.push_back("ein-" + std::to_string(i));
  auto expect_invalid = [](const auto& result) {
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument) << result.error().ToString();
  };
  expect_invalid(client->RebootInstances({}, StopType::kSoft, false));
  expect_invalid(client->RebootInstances(ids101, StopType::kSoft, false));
  expect_invalid(client->RebootInstances({"ein-1", ""}, StopType::kSoft, false));
  expect_invalid(client->RebootInstances({"ein-1", "ein-1"}, StopType::kSoft, false));
  expect_invalid(client->DescribeInstances({}, 0, 0));
  expect_invalid(client->DescribeInstances({}, 0, 101));
  expect_invalid(client->DescribeInstances({}, -1, 10));
  expect_invalid(client->DescribeInstances(
      {{"instance-id", {"ein-1", "ein-2", "ein-3", "ein-4", "ein-5", "ein-6"}}}, 0, 100));
  expect_invalid(client->DescribeInstances({{"instance-id", {}}}, 0, 100));
  expect_invalid(client->DescribeInstances({{"", {"x"}}}, 0, 100));
  expect_invalid(client->DescribeInstances({{"instance-id", {"ein-1", ""}}}, 0, 100));
  EXPECT_EQ(transport_.request_count(), 0u);
  EXPECT_TRUE(records().empty());
}

TEST_F(EcmClientTest, HundredIdsAreAccepted) {
  std::vector<std::string> ids;
  for (int i = 0; i < 100; ++i) ids.push_back("ein-" + std::to_string(i));
  auto client = Make(Options());
  transport_.Respond(200, kRebootOk);
  ASSERT_TRUE(client->RebootInstances(ids, StopType::kSoft, false));
  EXPECT_EQ(records()[0].batch_size, 100);
}

// ---- DescribeInstances ----

TEST_F(EcmClientTest, DescribeInstancesRequestAndParsing) {
  auto client = Make(Options());
  transport_.Respond(200, kDescribeOk, FakeTransport::Action("DescribeInstances"));
  auto page = client->DescribeInstances(
      {{"instance-id", {"ein-496721al", "ein-438242bp"}}, {"instance-state", {"RUNNING"}}}, 20,
      100);
  ASSERT_TRUE(page.has_value()) << page.error().ToString();
  EXPECT_EQ(page->request_id, "DESC-1");
  EXPECT_EQ(page->total_count, 2);
  ASSERT_EQ(page->instances.size(), 2u);
  EXPECT_EQ(page->instances[0].id, "ein-496721al");
  EXPECT_EQ(page->instances[0].state, "RUNNING");
  EXPECT_EQ(page->instances[0].latest_operation, "RebootInstances");
  EXPECT_EQ(page->instances[0].latest_operation_state, "SUCCESS");
  EXPECT_EQ(page->instances[0].restrict_state, "NORMAL");
  EXPECT_EQ(page->instances[0].create_time, "2020-01-01T00:00:00Z");
  EXPECT_EQ(page->instances[1].state, "REBOOTING");
  EXPECT_EQ(page->instances[1].latest_operation_state, "OPERATING");

  const http::Request r = transport_.last_request();
  EXPECT_EQ(r.headers.GetOr("X-TC-Action"), "DescribeInstances");
  ASSERT_TRUE(r.idempotent.has_value());
  EXPECT_TRUE(*r.idempotent);
  EXPECT_EQ(r.body,
            R"({"Filters":[{"Name":"instance-id","Values":["ein-496721al","ein-438242bp"]},)"
            R"({"Name":"instance-state","Values":["RUNNING"]}],"Offset":20,"Limit":100})");
  ExpectTc3SignatureVerifies(r, kKeyId, kSecret);
  EXPECT_EQ(records()[0].batch_size, 2);
}

TEST_F(EcmClientTest, DescribeInstancesNullSetAndNoFilters) {
  auto client = Make(Options());
  transport_.Respond(200, R"({"Response":{"TotalCount":0,"InstanceSet":null,"RequestId":"N"}})");
  auto page = client->DescribeInstances({}, 0, 20);
  ASSERT_TRUE(page.has_value()) << page.error().ToString();
  EXPECT_TRUE(page->instances.empty());
  EXPECT_EQ(transport_.last_request().body, R"({"Offset":0,"Limit":20})");
}

// ---- errors ----

TEST_F(EcmClientTest, ApiErrorsAreMapped) {
  struct Case {
    const char* code;
    ErrorCode expected;
  };
  const Case cases[] = {
      {"ResourceNotFound.InstanceNotExist", ErrorCode::kNotFound},
      {"ResourceUnavailable.InstanceNotRunning", ErrorCode::kFailedPrecondition},
      {"OperationDenied.InstanceOperationInProgress", ErrorCode::kFailedPrecondition},
      {"InvalidParameterValue.InvalidInstanceID", ErrorCode::kInvalidArgument},
      {"AuthFailure.SignatureFailure", ErrorCode::kUnauthenticated},
      {"UnauthorizedOperation.ForbiddenOperation", ErrorCode::kPermissionDenied},
      {"RequestLimitExceeded", ErrorCode::kResourceExhausted},
  };
  auto client = Make(Options());
  for (const Case& c : cases) {
    transport_.Respond(200, ApiError(c.code, "The instance ein-496721al is bad", "REQ-42"));
    auto result = client->RebootInstances({"ein-496721al", "ein-438242bp"}, StopType::kSoft, false);
    ASSERT_FALSE(result.has_value()) << c.code;
    const Error& e = result.error();
    EXPECT_EQ(e.code, c.expected) << c.code;
    EXPECT_EQ(e.provider_code, c.code);
    EXPECT_EQ(e.provider_request_id, "REQ-42");
    EXPECT_EQ(e.http_status, 200);
    EXPECT_FALSE(e.ambiguous) << c.code;
    EXPECT_EQ(ExtractInstanceIds(e.message), std::vector<std::string>{"ein-496721al"});
  }
  EXPECT_EQ(transport_.request_count(), std::size(cases));
}

TEST_F(EcmClientTest, RebootTransientOutcomesAreAmbiguous) {
  struct Case {
    const char* name;
    Result<http::Response> answer;
    ErrorCode expected;
    bool ambiguous;
  };
  std::vector<Case> cases;
  cases.push_back({"502", Answer(502, "<html>Bad Gateway</html>"), ErrorCode::kUnavailable, true});
  cases.push_back(
      {"500 json", Answer(500, ApiError("InternalError")), ErrorCode::kUnavailable, true});
  cases.push_back({"404", Answer(404, "not found"), ErrorCode::kUnavailable, true});
  cases.push_back(
      {"200 InternalError", Answer(200, ApiError("InternalError")), ErrorCode::kUnavailable, true});
  cases.push_back({"200 InternalOperationFailure",
                   Answer(200, ApiError("FailedOperation.InternalOperationFailure")),
                   ErrorCode::kUnavailable, true});
  cases.push_back({"200 truncated", Answer(200, R"({"Req)"), ErrorCode::kInternal, true});
  cases.push_back({"timeout", tl::unexpected(TransportError(ErrorCode::kDeadlineExceeded, false)),
                   ErrorCode::kDeadlineExceeded, true});
  cases.push_back({"reset", tl::unexpected(TransportError(ErrorCode::kUnavailable, true)),
                   ErrorCode::kUnavailable, true});
  cases.push_back({"connect failed", tl::unexpected(TransportError(ErrorCode::kUnavailable, false)),
                   ErrorCode::kUnavailable, false});
  cases.push_back({"throttled", Answer(200, ApiError("RequestLimitExceeded")),
                   ErrorCode::kResourceExhausted, false});
  auto options = Options();
  options.max_attempts = 5;
  auto client = Make(options);
  for (Case& c : cases) {
    transport_.Expect(c.answer);
    const size_t before = transport_.request_count();
    auto result = client->RebootInstances({"ein-1"}, StopType::kSoft, false);
    ASSERT_FALSE(result.has_value()) << c.name;
    EXPECT_EQ(result.error().code, c.expected) << c.name << ": " << result.error().ToString();
    EXPECT_EQ(result.error().ambiguous, c.ambiguous) << c.name;
    EXPECT_EQ(transport_.request_count(), before + 1) << c.name;  // never retried
  }
  auto rs = records();
  EXPECT_EQ(rs[0].code, "HTTP5xx");
  EXPECT_EQ(rs[3].code, "InternalError");
  EXPECT_EQ(rs[5].code, "BadResponse");
  EXPECT_EQ(rs[6].code, "Timeout");
  EXPECT_EQ(rs[7].code, "ConnectionReset");
  EXPECT_EQ(rs[8].code, "ConnectionFailed");
}

TEST_F(EcmClientTest, UnparseableAnswersGiveClearErrors) {
  struct Case {
    int status;
    std::string body;
    ErrorCode expected;
  };
  const Case cases[] = {
      {200, "definitely not json", ErrorCode::kInternal},
      {200, "<html><body>Gateway</body></html>", ErrorCode::kInternal},
      {200, R"({"Req)", ErrorCode::kInternal},
      {200, R"(<?xml version="1.0"?><Error><Code>InternalError</Code></Error>)",
       ErrorCode::kInternal},
      {200, "", ErrorCode::kInternal},
      {200, R"({"RequestId":"top-level-only"})", ErrorCode::kInternal},
      {200, R"({"Response":"string"})", ErrorCode::kInternal},
      {200, R"({"Response":{"TotalCount":1}})", ErrorCode::kInternal},  // no RequestId
      {200, R"({"Response":{"Error":{"Message":"no code"},"RequestId":"R"}})",
       ErrorCode::kInternal},
      {200, R"({"Response":{"RequestId":"R","InstanceSet":[]}})", ErrorCode::kInternal},
      {200, R"({"Response":{"RequestId":"R","TotalCount":1}})", ErrorCode::kInternal},
      {200,
       R"({"Response":{"RequestId":"R","TotalCount":1,"InstanceSet":[{"InstanceState":"RUNNING"}]}})",
       ErrorCode::kInternal},
      {503, std::string(50000, 'x'), ErrorCode::kUnavailable},
  };
  auto options = Options();
  options.max_attempts = 1;
  auto client = Make(options);
  for (const Case& c : cases) {
    transport_.Respond(c.status, c.body);
    auto result = client->DescribeInstances({}, 0, 10);
    ASSERT_FALSE(result.has_value()) << c.body.substr(0, 80);
    const Error& e = result.error();
    EXPECT_EQ(e.code, c.expected) << e.ToString();
    EXPECT_NE(e.message.find("DescribeInstances"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("HTTP " + std::to_string(c.status)), std::string::npos) << e.message;
    EXPECT_LT(e.message.size(), 700u);
  }
}

// ---- retries ----

TEST_F(EcmClientTest, DescribeRetriesThrottlingAndSlowsTheBucket) {
  ratelimit::Limiter limiter(ratelimit::TokenBucketOptions{.start_empty = false},
                             {{"tencent.DescribeInstances", 20}}, clock_);
  auto client = Make(Options(), {kKeyId, kSecret, ""}, &limiter);
  transport_.Respond(200, ApiError("RequestLimitExceeded.UinLimitExceeded"))
      .Respond(200, kDescribeOk);
  const SteadyTime start = clock_.SteadyNow();
  auto page = PumpClock(clock_, [&] { return client->DescribeInstances({}, 0, 100); });
  ASSERT_TRUE(page.has_value()) << page.error().ToString();
  EXPECT_EQ(transport_.request_count(), 2u);
  EXPECT_GE(clock_.SteadyNow() - start, 500ms);  // throttled backoff [0.5 s, 1 s)
  EXPECT_LT(limiter.Bucket("tencent.DescribeInstances").CurrentRate(), 20.0);
  auto rs = records();
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[0].code, "RequestLimitExceeded.UinLimitExceeded");
  EXPECT_EQ(rs[1].code, "OK");
  EXPECT_EQ(rs[1].attempt, 2);
  EXPECT_GT(rs[1].rate_wait, Duration(0));
}

TEST_F(EcmClientTest, DescribeRetriesTransientUpToMaxAttempts) {
  auto client = Make(Options());
  transport_.Respond(502, "bad gateway")
      .Respond(200, ApiError("InternalError"))
      .Fail(TransportError(ErrorCode::kUnavailable, true));
  auto page = PumpClock(clock_, [&] { return client->DescribeInstances({}, 0, 100); });
  ASSERT_FALSE(page.has_value());
  EXPECT_EQ(page.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(transport_.request_count(), 3u);
}

TEST_F(EcmClientTest, DescribeDoesNotRetryTerminalOrWrongState) {
  auto client = Make(Options());
  transport_.Respond(200, ApiError("InvalidParameterValue.InvalidFilter"));
  auto page = client->DescribeInstances({}, 0, 100);
  ASSERT_FALSE(page.has_value());
  EXPECT_EQ(page.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(transport_.request_count(), 1u);
}

TEST_F(EcmClientTest, RebootThrottledIsNotRetriedButSlowsTheBucket) {
  ratelimit::Limiter limiter(ratelimit::TokenBucketOptions{.start_empty = false}, {}, clock_);
  auto client = Make(Options(), {kKeyId, kSecret, ""}, &limiter);
  const double before = limiter.Bucket("tencent.RebootInstances").CurrentRate();
  transport_.Respond(200, ApiError("RequestLimitExceeded"));
  auto result = client->RebootInstances({"ein-1"}, StopType::kSoft, false);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kResourceExhausted);
  EXPECT_EQ(transport_.request_count(), 1u);
  EXPECT_LT(limiter.Bucket("tencent.RebootInstances").CurrentRate(), before);
}

TEST_F(EcmClientTest, CancelledWhileWaitingForTheLimiter) {
  ratelimit::Limiter limiter(ratelimit::TokenBucketOptions{.start_empty = false}, {}, clock_);
  auto client = Make(Options(), {kKeyId, kSecret, ""}, &limiter);
  std::stop_source stop;
  stop.request_stop();
  auto result = client->RebootInstances({"ein-1"}, StopType::kSoft, false, stop.get_token());
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kCancelled);
  EXPECT_EQ(transport_.request_count(), 0u);
  EXPECT_TRUE(records().empty());
}

// ---- secrets ----

std::string Echo(const http::Request& r) {
  std::string out = "token=" + std::string(kToken) + " secret=" + kSecret;
  for (const auto& [name, value] : r.headers.items) out += " " + name + ": " + value;
  return out;
}

TEST_F(EcmClientTest, SecretsNeverAppearInErrorsOrRecords) {
  using Responder = std::function<Result<http::Response>(const http::Request&)>;
  const std::vector<Responder> responders = {
      [](const http::Request& r) -> Result<http::Response> {
        return tl::unexpected(TransportError(ErrorCode::kUnavailable, true, Echo(r)));
      },
      [](const http::Request& r) -> Result<http::Response> {
        return tl::unexpected(TransportError(ErrorCode::kDeadlineExceeded, true, Echo(r)));
      },
      [](const http::Request& r) -> Result<http::Response> {
        return Answer(200, ApiError("AuthFailure.SignatureFailure", Echo(r), Echo(r)));
      },
      [](const http::Request& r) -> Result<http::Response> {
        return Answer(200, ApiError(std::string("Weird.") + kToken, Echo(r)));
      },
      [](const http::Request& r) -> Result<http::Response> { return Answer(500, Echo(r)); },
      [](const http::Request& r) -> Result<http::Response> {
        return Answer(200, "<html>" + Echo(r));
      },
      [](const http::Request& r) -> Result<http::Response> {
        return Answer(200, R"({"Response":{"Error":{"Message":")" + Echo(r) + R"("}}})");
      },
  };
  for (size_t i = 0; i < responders.size(); ++i) {
    SCOPED_TRACE("responder #" + std::to_string(i));
    std::vector<http::Request> sent;
    http::FunctionTransport transport([&](const http::Request& r) {
      sent.push_back(r);
      return responders[i](r);
    });
    auto options = Options();
    options.max_attempts = 1;
    auto client = Make(options, {kKeyId, kSecret, kToken}, nullptr, &transport);
    std::vector<Error> errors;
    auto reboot = client->RebootInstances({"ein-1"}, StopType::kSoft, false);
    if (!reboot) errors.push_back(reboot.error());
    auto page = client->DescribeInstances({}, 0, 10);
    if (!page) errors.push_back(page.error());
    ASSERT_EQ(errors.size(), 2u);
    std::vector<std::string> forbidden = {kSecret, kToken, http::PercentEncode(kToken)};
    for (const http::Request& r : sent) {
      const std::string auth = r.headers.GetOr("Authorization");
      forbidden.push_back(auth.substr(auth.find("Signature=") + 10));
    }
    auto check = [&](const std::string& text) {
      for (const std::string& f : forbidden) {
        EXPECT_EQ(text.find(f), std::string::npos) << "leaked \"" << f << "\" in: " << text;
      }
    };
    for (const Error& e : errors) {
      check(e.ToString());
      check(e.message);
      check(e.provider_code);
      check(e.provider_request_id);
    }
    for (const CallRecord& r : records()) check(r.provider + r.action + r.code);
  }
}

}  // namespace
}  // namespace rebootd::cloud::tencent
