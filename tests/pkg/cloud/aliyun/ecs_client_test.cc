// SPDX-License-Identifier: Apache-2.0
// EcsClient over a FakeTransport with a ManualClock and seeded randomness: request shape,
// signatures (recomputed from the recorded request), nonce/timestamp freshness, limits, answer
// parsing, error mapping, retries, ambiguity, observer records, and that secrets never leak.
#include "pkg/cloud/aliyun/ecs_client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "pkg/cloud/aliyun/signer.h"
#include "pkg/cloud/errors.h"
#include "pkg/crypto/crypto.h"
#include "pkg/http/url.h"
#include "pkg/json/json.h"
#include "tests/support/fake_transport.h"

namespace rebootd::cloud::aliyun {
namespace {

using namespace std::chrono_literals;
using ::rebootd::testing::FakeTransport;

constexpr char kKeyId[] = "LTAI5tKeyIdForTests";
constexpr char kSecret[] = "aliyunSecretValue-0123456789";
// '+', '/' and '=' exercise the percent-encoded forms.
constexpr char kToken[] = "STS.aliyunToken+with/special=chars";

constexpr char kRebootOk[] = R"({"RequestId":"473469C7-AA6F-4DC5-B3DB-A3DC0DE3C83E"})";

// Returns the queued values first, then seeded ones.
class FixedRandom final : public Random {
 public:
  explicit FixedRandom(std::deque<uint64_t> values) : values_(std::move(values)) {}
  uint64_t Next() override {
    if (values_.empty()) return fallback_.Next();
    uint64_t v = values_.front();
    values_.pop_front();
    return v;
  }

 private:
  std::deque<uint64_t> values_;
  SeededRandom fallback_{1};
};

std::map<std::string, std::string> QueryMap(const http::Request& request) {
  std::map<std::string, std::string> out;
  size_t q = request.url.find('?');
  if (q == std::string::npos) return out;
  auto parsed = http::ParseQuery(std::string_view(request.url).substr(q + 1));
  EXPECT_TRUE(parsed.has_value());
  if (!parsed) return out;
  for (auto& [k, v] : *parsed) {
    EXPECT_EQ(out.count(k), 0u) << "duplicate query parameter " << k;
    out[k] = v;
  }
  return out;
}

std::string UrlBase(const http::Request& request) {
  return request.url.substr(0, request.url.find('?'));
}

// Recomputes the V1 signature from the recorded query parameters.
void ExpectRpcSignatureVerifies(const http::Request& request, std::string_view secret) {
  auto params = QueryMap(request);
  ASSERT_EQ(params.count("Signature"), 1u);
  const std::string signature = params["Signature"];
  params.erase("Signature");
  Params signed_params(params.begin(), params.end());
  EXPECT_EQ(signature, RpcSignature(secret, RpcStringToSign(request.method, signed_params)));
}

// Recomputes the ACS3 signature from the recorded headers, query and body.
void ExpectAcs3SignatureVerifies(const http::Request& request, std::string_view key_id,
                                 std::string_view secret) {
  const std::string* auth = request.headers.Get("Authorization");
  ASSERT_NE(auth, nullptr);
  const std::string prefix =
      "ACS3-HMAC-SHA256 Credential=" + std::string(key_id) + ",SignedHeaders=";
  ASSERT_EQ(auth->rfind(prefix, 0), 0u) << *auth;
  const size_t sig_pos = auth->find(",Signature=");
  ASSERT_NE(sig_pos, std::string::npos);
  const std::string signed_list = auth->substr(prefix.size(), sig_pos - prefix.size());
  const std::string signature = auth->substr(sig_pos + 11);
  std::map<std::string, std::string> signed_headers;
  size_t start = 0;
  while (start <= signed_list.size()) {
    size_t end = signed_list.find(';', start);
    if (end == std::string::npos) end = signed_list.size();
    const std::string name = signed_list.substr(start, end - start);
    const std::string* value = request.headers.Get(name);
    EXPECT_NE(value, nullptr) << "signed header not sent: " << name;
    if (value != nullptr) signed_headers[name] = *value;
    start = end + 1;
  }
  const std::string* hash = request.headers.Get("x-acs-content-sha256");
  ASSERT_NE(hash, nullptr);
  EXPECT_EQ(*hash, crypto::Sha256Hex(request.body));
  auto query = QueryMap(request);
  Params query_params(query.begin(), query.end());
  const std::string canonical =
      Acs3CanonicalRequest(request.method, "/", query_params, signed_headers, *hash);
  EXPECT_EQ(signature, Acs3Signature(secret, Acs3StringToSign(canonical)));
}

http::Response JsonResponse(int status, std::string body) {
  http::Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Error TransportError(ErrorCode code, bool ambiguous, std::string message = "transport failure") {
  Error e;
  e.code = code;
  e.ambiguous = ambiguous;
  e.message = std::move(message);
  return e;
}

// Runs `fn` on another thread and advances the ManualClock whenever something sleeps on it
// (rate-limiter waits, retry backoff), so retries complete without real waiting.
template <class F>
auto PumpClock(ManualClock& clock, F fn) {
  auto future = std::async(std::launch::async, std::move(fn));
  while (future.wait_for(1ms) != std::future_status::ready) {
    if (clock.Sleepers() > 0) clock.Advance(10ms);
  }
  return future.get();
}

class EcsClientTest : public ::testing::Test {
 protected:
  EcsClientOptions Options() {
    EcsClientOptions options;
    options.region = "cn-shanghai";
    options.observer = [this](const CallRecord& r) {
      std::lock_guard lock(mu_);
      records_.push_back(r);
    };
    return options;
  }

  std::unique_ptr<EcsClient> Make(EcsClientOptions options,
                                  Credentials credentials = {kKeyId, kSecret, ""},
                                  ratelimit::Limiter* limiter = nullptr,
                                  http::Transport* transport = nullptr, Random* random = nullptr) {
    auto client = EcsClient::Create(std::move(options), std::move(credentials),
                                    transport ? *transport : transport_, clock_,
                                    random ? *random : random_, limiter);
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

// ---- endpoints and construction ----

TEST(DefaultEndpointTest, RegionalPatternAndSpecialCases) {
  EXPECT_EQ(DefaultEndpoint("cn-hangzhou"), "https://ecs-cn-hangzhou.aliyuncs.com");
  EXPECT_EQ(DefaultEndpoint("ap-southeast-1"), "https://ecs.ap-southeast-1.aliyuncs.com");
  EXPECT_EQ(DefaultEndpoint("cn-shanghai"), "https://ecs.cn-shanghai.aliyuncs.com");
  EXPECT_EQ(DefaultEndpoint("eu-central-1"), "https://ecs.eu-central-1.aliyuncs.com");
  EXPECT_EQ(DefaultEndpoint("cn-hangzhou-finance"), "https://ecs.aliyuncs.com");
  EXPECT_EQ(DefaultEndpoint("cn-north-2-gov-1"), "https://ecs.aliyuncs.com");
}

TEST(ValidateRegionTest, AcceptsOnlyLowercaseIdForm) {
  EXPECT_TRUE(ValidateRegion("cn-hangzhou").has_value());
  EXPECT_TRUE(ValidateRegion("ap-southeast-1").has_value());
  for (const char* bad : {"", "CN-HANGZHOU", "cn_hangzhou", "cn hangzhou", "cn-hangzhou/x",
                          "../etc", "cn-hangzhou.evil.com"}) {
    auto status = ValidateRegion(bad);
    ASSERT_FALSE(status.has_value()) << bad;
    EXPECT_EQ(status.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST_F(EcsClientTest, CreateRejectsBadOptionsAndCredentials) {
  auto options = Options();
  options.region = "Bad Region";
  EXPECT_EQ(EcsClient::Create(options, {kKeyId, kSecret, ""}, transport_, clock_, random_, nullptr)
                .error()
                .code,
            ErrorCode::kInvalidArgument);
  options = Options();
  options.endpoint = "ftp://example.com";
  EXPECT_FALSE(
      EcsClient::Create(options, {kKeyId, kSecret, ""}, transport_, clock_, random_, nullptr));
  options.endpoint = "http://127.0.0.1:8080/some/path";
  EXPECT_FALSE(
      EcsClient::Create(options, {kKeyId, kSecret, ""}, transport_, clock_, random_, nullptr));
  options = Options();
  options.max_attempts = 0;
  EXPECT_FALSE(
      EcsClient::Create(options, {kKeyId, kSecret, ""}, transport_, clock_, random_, nullptr));
  auto no_secret =
      EcsClient::Create(Options(), {kKeyId, "", ""}, transport_, clock_, random_, nullptr);
  ASSERT_FALSE(no_secret);
  EXPECT_EQ(no_secret.error().code, ErrorCode::kUnauthenticated);
}

TEST_F(EcsClientTest, DefaultEndpointIsUsed) {
  auto options = Options();
  options.region = "cn-hangzhou";
  auto client = Make(options);
  EXPECT_EQ(client->endpoint(), "https://ecs-cn-hangzhou.aliyuncs.com");
  transport_.Respond(200, kRebootOk);
  ASSERT_TRUE(client->RebootInstance("i-1", false, false));
  EXPECT_EQ(UrlBase(transport_.last_request()), "https://ecs-cn-hangzhou.aliyuncs.com/");
  EXPECT_EQ(QueryMap(transport_.last_request())["RegionId"], "cn-hangzhou");
}

TEST_F(EcsClientTest, EndpointOverride) {
  auto options = Options();
  options.endpoint = "http://127.0.0.1:8080";
  auto client = Make(options);
  EXPECT_EQ(client->endpoint(), "http://127.0.0.1:8080");
  transport_.Respond(200, kRebootOk);
  ASSERT_TRUE(client->RebootInstance("i-1", false, false));
  EXPECT_EQ(UrlBase(transport_.last_request()), "http://127.0.0.1:8080/");
  EXPECT_EQ(QueryMap(transport_.last_request())["RegionId"], "cn-shanghai");
  ExpectRpcSignatureVerifies(transport_.last_request(), kSecret);
}

// ---- request shape and signatures ----

TEST_F(EcsClientTest, RebootRequestShapeRpcV1) {
  auto client = Make(Options());
  transport_.Respond(200, kRebootOk, FakeTransport::MethodAndAction("POST", "RebootInstance"));
  auto result = client->RebootInstance("i-bp67acfmxazb4ph0001", false, false);
  ASSERT_TRUE(result.has_value()) << result.error().ToString();
  EXPECT_EQ(result->request_id, "473469C7-AA6F-4DC5-B3DB-A3DC0DE3C83E");
  EXPECT_FALSE(result->dry_run_passed);

  const http::Request r = transport_.last_request();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(UrlBase(r), "https://ecs.cn-shanghai.aliyuncs.com/");
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(r.timeout, 27s);
  ASSERT_TRUE(r.idempotent.has_value());
  EXPECT_FALSE(*r.idempotent);
  auto q = QueryMap(r);
  EXPECT_EQ(q["Action"], "RebootInstance");
  EXPECT_EQ(q["Version"], "2014-05-26");
  EXPECT_EQ(q["Format"], "JSON");
  EXPECT_EQ(q["RegionId"], "cn-shanghai");
  EXPECT_EQ(q["InstanceId"], "i-bp67acfmxazb4ph0001");
  EXPECT_EQ(q["ForceStop"], "false");
  EXPECT_EQ(q["AccessKeyId"], kKeyId);
  EXPECT_EQ(q["SignatureMethod"], "HMAC-SHA1");
  EXPECT_EQ(q["SignatureVersion"], "1.0");
  EXPECT_EQ(q["Timestamp"], "2026-01-01T00:00:00Z");
  EXPECT_EQ(q["SignatureNonce"].size(), 36u);
  EXPECT_EQ(q.count("DryRun"), 0u);
  EXPECT_EQ(q.count("SecurityToken"), 0u);
  EXPECT_EQ(r.url.find(kSecret), std::string::npos);
  ExpectRpcSignatureVerifies(r, kSecret);
}

TEST_F(EcsClientTest, ForceStopAndDryRunParameters) {
  auto client = Make(Options());
  transport_.Respond(200, kRebootOk);
  ASSERT_TRUE(client->RebootInstance("i-1", true, false));
  EXPECT_EQ(QueryMap(transport_.last_request())["ForceStop"], "true");
  transport_.Respond(400, R"({"RequestId":"R","Code":"DryRunOperation","Message":"ok"})");
  ASSERT_TRUE(client->RebootInstance("i-1", false, true));
  EXPECT_EQ(QueryMap(transport_.last_request())["DryRun"], "true");
}

// cloud-apis.md §1.4 DERIVED vector: the POST RebootInstance request signs to
// RLlvqjZ7a44D5wqMbYwH4KM/hDE= end to end through the client.
TEST_F(EcsClientTest, KnownAnswerRebootSignature) {
  ManualClock clock(std::chrono::sys_days{std::chrono::year{2016} / 2 / 23} + 12h + 46min + 24s);
  // Uuid4() of these two words is the vector's nonce 3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf.
  FixedRandom random({0x3ee8c1b883d344afULL, 0xa94f4e0ad82fd6cfULL});
  EcsClientOptions options;
  options.region = "cn-hangzhou";
  auto client =
      EcsClient::Create(options, {"testid", "testsecret", ""}, transport_, clock, random, nullptr);
  ASSERT_TRUE(client.has_value());
  transport_.Respond(200, kRebootOk);
  ASSERT_TRUE((*client)->RebootInstance("i-bp67acfmxazb4ph****", false, false));
  const http::Request r = transport_.last_request();
  EXPECT_EQ(r.url,
            "https://ecs-cn-hangzhou.aliyuncs.com/?AccessKeyId=testid&Action=RebootInstance&"
            "ForceStop=false&Format=JSON&InstanceId=i-bp67acfmxazb4ph%2A%2A%2A%2A&RegionId=cn-"
            "hangzhou&SignatureMethod=HMAC-SHA1&SignatureNonce=3ee8c1b8-83d3-44af-a94f-"
            "4e0ad82fd6cf&SignatureVersion=1.0&Timestamp=2016-02-23T12%3A46%3A24Z&Version=2014-"
            "05-26&Signature=RLlvqjZ7a44D5wqMbYwH4KM%2FhDE%3D");
}

TEST_F(EcsClientTest, FreshNonceAndTimestampPerAttempt) {
  auto client = Make(Options());
  transport_.Respond(200, kRebootOk).Respond(200, kRebootOk).Respond(200, kRebootOk);
  ASSERT_TRUE(client->RebootInstance("i-1", false, false));
  ASSERT_TRUE(client->RebootInstance("i-1", false, false));
  clock_.Advance(5s);
  ASSERT_TRUE(client->RebootInstance("i-1", false, false));
  auto requests = transport_.requests();
  ASSERT_EQ(requests.size(), 3u);
  auto q0 = QueryMap(requests[0]);
  auto q1 = QueryMap(requests[1]);
  auto q2 = QueryMap(requests[2]);
  EXPECT_NE(q0["SignatureNonce"], q1["SignatureNonce"]);
  EXPECT_NE(q1["SignatureNonce"], q2["SignatureNonce"]);
  EXPECT_NE(q0["Signature"], q1["Signature"]);
  EXPECT_EQ(q0["Timestamp"], "2026-01-01T00:00:00Z");
  EXPECT_EQ(q1["Timestamp"], "2026-01-01T00:00:00Z");
  EXPECT_EQ(q2["Timestamp"], "2026-01-01T00:00:05Z");
  for (const auto& r : requests) ExpectRpcSignatureVerifies(r, kSecret);
}

TEST_F(EcsClientTest, SecurityTokenIsSentAndSigned) {
  auto client = Make(Options(), {kKeyId, kSecret, kToken});
  transport_.Respond(200, kRebootOk);
  ASSERT_TRUE(client->RebootInstance("i-1", false, false));
  auto q = QueryMap(transport_.last_request());
  EXPECT_EQ(q["SecurityToken"], kToken);
  ExpectRpcSignatureVerifies(transport_.last_request(), kSecret);
}

TEST_F(EcsClientTest, Acs3RequestShape) {
  auto options = Options();
  options.signature = SignatureMethod::kAcs3;
  options.endpoint = "http://127.0.0.1:9090";
  auto client = Make(options, {kKeyId, kSecret, kToken});
  transport_.Respond(200, kRebootOk, FakeTransport::MethodAndAction("POST", "RebootInstance"));
  ASSERT_TRUE(client->RebootInstance("i-1", true, false));
  const http::Request r = transport_.last_request();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(UrlBase(r), "http://127.0.0.1:9090/");
  EXPECT_TRUE(r.body.empty());
  auto q = QueryMap(r);
  EXPECT_EQ(q["RegionId"], "cn-shanghai");
  EXPECT_EQ(q["InstanceId"], "i-1");
  EXPECT_EQ(q["ForceStop"], "true");
  EXPECT_EQ(q.count("Signature"), 0u);
  EXPECT_EQ(q.count("AccessKeyId"), 0u);
  ASSERT_NE(r.headers.Get("x-acs-action"), nullptr);
  EXPECT_EQ(*r.headers.Get("x-acs-action"), "RebootInstance");
  EXPECT_EQ(*r.headers.Get("x-acs-version"), "2014-05-26");
  EXPECT_EQ(*r.headers.Get("x-acs-date"), "2026-01-01T00:00:00Z");
  EXPECT_EQ(*r.headers.Get("x-acs-security-token"), kToken);
  EXPECT_EQ(*r.headers.Get("host"), "127.0.0.1:9090");
  EXPECT_FALSE(r.headers.Get("x-acs-signature-nonce")->empty());
  ExpectAcs3SignatureVerifies(r, kKeyId, kSecret);
}

TEST_F(EcsClientTest, Acs3FreshNoncePerAttempt) {
  auto options = Options();
  options.signature = SignatureMethod::kAcs3;
  auto client = Make(options);
  transport_.Respond(200, kRebootOk).Respond(200, kRebootOk);
  ASSERT_TRUE(client->RebootInstance("i-1", false, false));
  clock_.Advance(1s);
  ASSERT_TRUE(client->RebootInstance("i-1", false, false));
  auto rs = transport_.requests();
  EXPECT_NE(*rs[0].headers.Get("x-acs-signature-nonce"),
            *rs[1].headers.Get("x-acs-signature-nonce"));
  EXPECT_EQ(*rs[1].headers.Get("x-acs-date"), "2026-01-01T00:00:01Z");
  for (const auto& r : rs) ExpectAcs3SignatureVerifies(r, kKeyId, kSecret);
}

// ---- client-side validation ----

TEST_F(EcsClientTest, InvalidInputIsRejectedWithoutCalling) {
  auto client = Make(Options());
  std::vector<std::string> ids101;
  for (int i = 0; i < 101; ++i) ids101.push_back("i-" + std::to_string(i));
  std::vector<std::string> ids100(ids101.begin(), ids101.end() - 1);

  auto expect_invalid = [](const auto& result) {
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument) << result.error().ToString();
  };
  expect_invalid(client->RebootInstance("", false, false));
  expect_invalid(client->DescribeInstanceStatus(ids101, 1, 50));
  expect_invalid(client->DescribeInstanceStatus(ids100, 1, 51));
  expect_invalid(client->DescribeInstanceStatus(ids100, 1, 0));
  expect_invalid(client->DescribeInstanceStatus(ids100, 0, 10));
  expect_invalid(client->DescribeInstanceStatus({"i-1", ""}, 1, 10));
  expect_invalid(client->DescribeAllInstanceStatus({}));
  expect_invalid(client->DescribeAllInstanceStatus(ids101));
  DescribeInstancesQuery query;
  query.ids = ids101;
  expect_invalid(client->DescribeInstances(query));
  query.ids = {"i-1"};
  query.max_results = 0;
  expect_invalid(client->DescribeInstances(query));
  query.max_results = 101;
  expect_invalid(client->DescribeInstances(query));
  EXPECT_EQ(transport_.request_count(), 0u);
  EXPECT_TRUE(records().empty());
}

// ---- dry run ----

TEST_F(EcsClientTest, DryRunOperationMeansPassed) {
  auto client = Make(Options());
  for (int status : {400, 200, 403}) {
    transport_.Respond(
        status,
        R"({"RequestId":"DRY-1","Code":"DryRunOperation","Message":"Request validation has been passed with DryRun flag set."})");
    auto result = client->RebootInstance("i-1", false, true);
    ASSERT_TRUE(result.has_value()) << status << " " << result.error().ToString();
    EXPECT_TRUE(result->dry_run_passed);
    EXPECT_EQ(result->request_id, "DRY-1");
  }
  ASSERT_EQ(records().size(), 3u);
  EXPECT_EQ(records()[0].code, "DryRunOperation");
}

TEST_F(EcsClientTest, DryRunFailureIsTheRealError) {
  auto client = Make(Options());
  transport_.Respond(403, R"({"RequestId":"R","Code":"IncorrectInstanceStatus","Message":"x"})");
  auto result = client->RebootInstance("i-1", false, true);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(result.error().provider_code, "IncorrectInstanceStatus");
}

TEST_F(EcsClientTest, DryRunOperationWithoutDryRunIsAnError) {
  auto client = Make(Options());
  transport_.Respond(400, R"({"RequestId":"R","Code":"DryRunOperation","Message":"x"})");
  auto result = client->RebootInstance("i-1", false, false);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().provider_code, "DryRunOperation");
}

// ---- errors through the client ----

TEST_F(EcsClientTest, VendorErrorsAreMapped) {
  struct Case {
    int status;
    const char* code;
    ErrorCode expected;
  };
  const Case cases[] = {
      {404, "InvalidInstanceId.NotFound", ErrorCode::kNotFound},
      {403, "IncorrectInstanceStatus", ErrorCode::kFailedPrecondition},
      {403, "InstanceLockedForSecurity", ErrorCode::kPermissionDenied},
      {403, "InstanceExpiredOrInArrears", ErrorCode::kPermissionDenied},
      {400, "SignatureDoesNotMatch", ErrorCode::kUnauthenticated},
      {400, "InvalidAccessKeyId.NotFound", ErrorCode::kUnauthenticated},
      {400, "MissingParameter", ErrorCode::kInvalidArgument},
      {400, "Throttling.User", ErrorCode::kResourceExhausted},
  };
  auto client = Make(Options());
  for (const Case& c : cases) {
    transport_.Respond(c.status, std::string(R"({"RequestId":"REQ-)") + c.code +
                                     R"(","HostId":"ecs.aliyuncs.com","Code":")" + c.code +
                                     R"(","Message":"message for )" + c.code + R"("})");
    auto result = client->RebootInstance("i-1", false, false);
    ASSERT_FALSE(result.has_value()) << c.code;
    const Error& e = result.error();
    EXPECT_EQ(e.code, c.expected) << c.code;
    EXPECT_EQ(e.provider_code, c.code);
    EXPECT_EQ(e.provider_request_id, std::string("REQ-") + c.code);
    EXPECT_EQ(e.http_status, c.status);
    EXPECT_FALSE(e.ambiguous) << c.code;
    EXPECT_NE(e.message.find(std::string("message for ") + c.code), std::string::npos);
    EXPECT_NE(e.message.find("RebootInstance"), std::string::npos);
  }
  EXPECT_EQ(transport_.request_count(), std::size(cases));
}

TEST_F(EcsClientTest, RebootTransientOutcomesAreAmbiguous) {
  struct Case {
    const char* name;
    Result<http::Response> answer;
    ErrorCode expected;
    bool ambiguous;
  };
  std::vector<Case> cases;
  cases.push_back({"500 InternalError",
                   JsonResponse(500, R"({"RequestId":"R","Code":"InternalError","Message":"x"})"),
                   ErrorCode::kUnavailable, true});
  cases.push_back({"503 ServiceUnavailable",
                   JsonResponse(503, R"({"RequestId":"R","Code":"ServiceUnavailable"})"),
                   ErrorCode::kUnavailable, true});
  cases.push_back({"502 html", JsonResponse(502, "<html><body>Bad Gateway</body></html>"),
                   ErrorCode::kUnavailable, true});
  cases.push_back({"200 truncated", JsonResponse(200, R"({"Req)"), ErrorCode::kInternal, true});
  cases.push_back(
      {"200 no RequestId", JsonResponse(200, R"({"Foo":1})"), ErrorCode::kInternal, true});
  cases.push_back({"timeout", tl::unexpected(TransportError(ErrorCode::kDeadlineExceeded, false)),
                   ErrorCode::kDeadlineExceeded, true});
  cases.push_back({"reset", tl::unexpected(TransportError(ErrorCode::kUnavailable, true)),
                   ErrorCode::kUnavailable, true});
  cases.push_back({"connect failed", tl::unexpected(TransportError(ErrorCode::kUnavailable, false)),
                   ErrorCode::kUnavailable, false});
  cases.push_back({"429 throttled", JsonResponse(429, R"({"RequestId":"R","Code":"Throttling"})"),
                   ErrorCode::kResourceExhausted, false});
  cases.push_back(
      {"403 html", JsonResponse(403, "<html>Forbidden</html>"), ErrorCode::kInternal, false});
  auto client = Make(Options());
  for (Case& c : cases) {
    transport_.Expect(c.answer);
    const size_t before = transport_.request_count();
    auto result = client->RebootInstance("i-1", false, false);
    ASSERT_FALSE(result.has_value()) << c.name;
    EXPECT_EQ(result.error().code, c.expected) << c.name << ": " << result.error().ToString();
    EXPECT_EQ(result.error().ambiguous, c.ambiguous) << c.name;
    // Never retried inside the client.
    EXPECT_EQ(transport_.request_count(), before + 1) << c.name;
  }
}

TEST_F(EcsClientTest, UnparseableAnswersGiveClearErrors) {
  const std::string xml =
      R"(<?xml version="1.0" encoding="UTF-8"?><Error><RequestId>X</RequestId><Code>InternalError</Code></Error>)";
  struct Case {
    int status;
    std::string body;
    ErrorCode expected;
  };
  const Case cases[] = {
      {200, "not json at all", ErrorCode::kInternal},
      {200, "<html><head><title>502</title></head></html>", ErrorCode::kInternal},
      {200, R"({"Req)", ErrorCode::kInternal},
      {200, xml, ErrorCode::kInternal},
      {200, "", ErrorCode::kInternal},
      {200, "[1,2,3]", ErrorCode::kInternal},
      {200, R"({"RequestId":"R"})", ErrorCode::kInternal},  // no InstanceStatuses
      {200, R"({"RequestId":"R","TotalCount":3,"InstanceStatuses":{}})", ErrorCode::kInternal},
      {200,
       R"({"RequestId":"R","TotalCount":1,"InstanceStatuses":{"InstanceStatus":[{"Status":"Running"}]}})",
       ErrorCode::kInternal},
      {500, xml, ErrorCode::kUnavailable},
      {503, "<html>Service Unavailable</html>", ErrorCode::kUnavailable},
      {400, "<html>Bad Request</html>", ErrorCode::kInternal},
      {404, R"({"RequestId":"R","Message":"no code"})", ErrorCode::kInternal},
      {200, std::string(100000, '{'), ErrorCode::kInternal},
  };
  auto options = Options();
  options.max_attempts = 1;
  auto client = Make(options);
  for (const Case& c : cases) {
    transport_.Respond(c.status, c.body);
    auto result = client->DescribeInstanceStatus({"i-1"}, 1, 10);
    ASSERT_FALSE(result.has_value()) << c.body.substr(0, 80);
    const Error& e = result.error();
    EXPECT_EQ(e.code, c.expected) << e.ToString();
    EXPECT_NE(e.message.find("DescribeInstanceStatus"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("HTTP " + std::to_string(c.status)), std::string::npos) << e.message;
    EXPECT_LT(e.message.size(), 700u) << e.message;
    EXPECT_EQ(e.http_status, c.status);
  }
  auto rs = records();
  ASSERT_EQ(rs.size(), std::size(cases));
  EXPECT_EQ(rs[0].code, "BadResponse");
}

// ---- Describe* parsing ----

TEST_F(EcsClientTest, DescribeInstanceStatusPage) {
  auto client = Make(Options());
  transport_.Respond(
      200,
      R"({"PageNumber":2,"PageSize":50,"TotalCount":52,"RequestId":"S-1","InstanceStatuses":{"InstanceStatus":[{"InstanceId":"i-a","Status":"Running"},{"InstanceId":"i-b","Status":"Starting"}]}})",
      FakeTransport::Action("DescribeInstanceStatus"));
  auto page = client->DescribeInstanceStatus({"i-a", "i-b", "i-c"}, 2, 50);
  ASSERT_TRUE(page.has_value()) << page.error().ToString();
  EXPECT_EQ(page->request_id, "S-1");
  EXPECT_EQ(page->total_count, 52);
  EXPECT_EQ(page->page_number, 2);
  EXPECT_EQ(page->page_size, 50);
  ASSERT_EQ(page->statuses.size(), 2u);
  EXPECT_EQ(page->statuses[0].id, "i-a");
  EXPECT_EQ(page->statuses[0].status, "Running");
  EXPECT_EQ(page->statuses[1].status, "Starting");
  const http::Request r = transport_.last_request();
  auto q = QueryMap(r);
  EXPECT_EQ(q["Action"], "DescribeInstanceStatus");
  EXPECT_EQ(q["InstanceId.1"], "i-a");
  EXPECT_EQ(q["InstanceId.2"], "i-b");
  EXPECT_EQ(q["InstanceId.3"], "i-c");
  EXPECT_EQ(q.count("InstanceId.0"), 0u);
  EXPECT_EQ(q["PageNumber"], "2");
  EXPECT_EQ(q["PageSize"], "50");
  EXPECT_EQ(r.timeout, 26s);
  // Even a read-only call may not be replayed by the transport: the replay would reuse the nonce.
  ASSERT_TRUE(r.idempotent.has_value());
  EXPECT_FALSE(*r.idempotent);
  ExpectRpcSignatureVerifies(r, kSecret);
  ASSERT_EQ(records().size(), 1u);
  EXPECT_EQ(records()[0].batch_size, 3);
  EXPECT_EQ(records()[0].code, "OK");
  EXPECT_EQ(records()[0].http_status, 200);
}

TEST_F(EcsClientTest, DescribeInstanceStatusEmptyResult) {
  auto client = Make(Options());
  transport_.Respond(
      200,
      R"({"RequestId":"S","TotalCount":0,"PageNumber":1,"PageSize":10,"InstanceStatuses":{"InstanceStatus":[]}})");
  transport_.Respond(200, R"({"RequestId":"S","TotalCount":0,"InstanceStatuses":{}})");
  for (int i = 0; i < 2; ++i) {
    auto page = client->DescribeInstanceStatus({"i-gone"}, 1, 10);
    ASSERT_TRUE(page.has_value()) << page.error().ToString();
    EXPECT_TRUE(page->statuses.empty());
    EXPECT_EQ(page->total_count, 0);
  }
}

TEST_F(EcsClientTest, DescribeAllInstanceStatusFetchesEveryPage) {
  std::vector<std::string> ids;
  for (int i = 0; i < 60; ++i) ids.push_back("i-" + std::to_string(i));
  auto page_body = [&](int first, int count) {
    std::string items;
    for (int i = first; i < first + count; ++i) {
      if (!items.empty()) items += ",";
      items += R"({"InstanceId":"i-)" + std::to_string(i) + R"(","Status":"Running"})";
    }
    return R"({"RequestId":"P","TotalCount":60,"PageSize":50,"InstanceStatuses":{"InstanceStatus":[)" +
           items + "]}}";
  };
  transport_.Respond(200, page_body(0, 50)).Respond(200, page_body(50, 10));
  auto client = Make(Options());
  auto all = client->DescribeAllInstanceStatus(ids);
  ASSERT_TRUE(all.has_value()) << all.error().ToString();
  ASSERT_EQ(all->size(), 60u);
  EXPECT_EQ((*all)[59].id, "i-59");
  auto rs = transport_.requests();
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(QueryMap(rs[0])["PageNumber"], "1");
  EXPECT_EQ(QueryMap(rs[1])["PageNumber"], "2");
  EXPECT_EQ(QueryMap(rs[1])["PageSize"], "50");
  EXPECT_EQ(QueryMap(rs[1])["InstanceId.60"], "i-59");
}

TEST_F(EcsClientTest, DescribeInstancesRequestAndParsing) {
  auto client = Make(Options());
  transport_.Respond(
      200,
      R"({"RequestId":"D-1","TotalCount":2,"NextToken":"tok-2","PageSize":100,"Instances":{"Instance":[
        {"InstanceId":"i-a","Status":"Running","StartTime":"2017-12-10T04:04Z","RegionId":"cn-shanghai","ZoneId":"cn-shanghai-b",
         "OperationLocks":{"LockReason":[{"LockReason":"security","LockMsg":"x"}]}},
        {"InstanceId":"i-b","Status":"Stopped","StartTime":"2026-01-01T00:00:05Z","OperationLocks":{"LockReason":[]}}]}})");
  DescribeInstancesQuery query;
  query.ids = {"i-a", "i-b"};
  query.next_token = "tok-1";
  query.max_results = 50;
  query.status = "Running";
  auto page = client->DescribeInstances(query);
  ASSERT_TRUE(page.has_value()) << page.error().ToString();
  EXPECT_EQ(page->request_id, "D-1");
  EXPECT_EQ(page->next_token, "tok-2");
  EXPECT_EQ(page->total_count, 2);
  ASSERT_EQ(page->instances.size(), 2u);
  const Instance& a = page->instances[0];
  EXPECT_EQ(a.id, "i-a");
  EXPECT_EQ(a.status, "Running");
  EXPECT_EQ(a.start_time, "2017-12-10T04:04Z");
  ASSERT_TRUE(a.start_time_parsed.has_value());
  EXPECT_EQ(*a.start_time_parsed,
            std::chrono::sys_days{std::chrono::year{2017} / 12 / 10} + 4h + 4min);
  EXPECT_EQ(a.region, "cn-shanghai");
  EXPECT_EQ(a.zone, "cn-shanghai-b");
  EXPECT_EQ(a.lock_reasons, std::vector<std::string>{"security"});
  const Instance& b = page->instances[1];
  ASSERT_TRUE(b.start_time_parsed.has_value());
  EXPECT_EQ(*b.start_time_parsed, ManualClock::DefaultStart() + 5s);
  EXPECT_TRUE(b.lock_reasons.empty());

  const http::Request r = transport_.last_request();
  auto q = QueryMap(r);
  EXPECT_EQ(q["Action"], "DescribeInstances");
  EXPECT_EQ(q["InstanceIds"], R"(["i-a","i-b"])");
  EXPECT_EQ(q["MaxResults"], "50");
  EXPECT_EQ(q["NextToken"], "tok-1");
  EXPECT_EQ(q["Status"], "Running");
  EXPECT_EQ(q["RegionId"], "cn-shanghai");
  EXPECT_EQ(r.timeout, 10s);
  // The JSON array is percent-encoded in the query and covered by the signature.
  EXPECT_NE(r.url.find("InstanceIds=%5B%22i-a%22%2C%22i-b%22%5D"), std::string::npos) << r.url;
  ExpectRpcSignatureVerifies(r, kSecret);
}

TEST_F(EcsClientTest, DescribeInstancesBadStartTimeIsKeptRaw) {
  auto client = Make(Options());
  transport_.Respond(
      200,
      R"({"RequestId":"D","TotalCount":1,"Instances":{"Instance":[{"InstanceId":"i-a","Status":"Running","StartTime":"yesterday"}]}})");
  auto page = client->DescribeInstances({});
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->instances[0].start_time, "yesterday");
  EXPECT_FALSE(page->instances[0].start_time_parsed.has_value());
  EXPECT_EQ(QueryMap(transport_.last_request()).count("InstanceIds"), 0u);
}

TEST_F(EcsClientTest, DescribeInstancesMissingArrayIsAnError) {
  auto options = Options();
  options.max_attempts = 1;
  auto client = Make(options);
  transport_.Respond(200, R"({"RequestId":"D","TotalCount":4})");
  auto page = client->DescribeInstances({});
  ASSERT_FALSE(page.has_value());
  EXPECT_EQ(page.error().code, ErrorCode::kInternal);
  EXPECT_NE(page.error().message.find("Instances.Instance"), std::string::npos);
  EXPECT_EQ(page.error().provider_request_id, "D");
}

// ---- retries ----

TEST_F(EcsClientTest, DescribeRetriesThrottlingAndSlowsTheBucket) {
  ratelimit::Limiter limiter(ratelimit::TokenBucketOptions{.start_empty = false},
                             {{"aliyun.DescribeInstances", 20}}, clock_);
  auto client = Make(Options(), {kKeyId, kSecret, ""}, &limiter);
  transport_.Respond(400, R"({"RequestId":"T","Code":"Throttling.User","Message":"flow control"})")
      .Respond(200, R"({"RequestId":"D","TotalCount":0,"Instances":{"Instance":[]}})");
  const SteadyTime start = clock_.SteadyNow();
  auto page = PumpClock(clock_, [&] { return client->DescribeInstances({}); });
  ASSERT_TRUE(page.has_value()) << page.error().ToString();
  EXPECT_EQ(transport_.request_count(), 2u);
  // Throttled backoff: [250 ms, 500 ms) plus the bucket's pause after OnThrottled.
  EXPECT_GE(clock_.SteadyNow() - start, 250ms);
  EXPECT_LT(limiter.Bucket("aliyun.DescribeInstances").CurrentRate(), 20.0);
  EXPECT_EQ(limiter.Keys(), std::vector<std::string>{"aliyun.DescribeInstances"});
  auto rs = records();
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[0].code, "Throttling.User");
  EXPECT_EQ(rs[0].attempt, 1);
  EXPECT_EQ(rs[1].code, "OK");
  EXPECT_EQ(rs[1].attempt, 2);
  EXPECT_GT(rs[1].rate_wait, Duration(0));
  auto requests = transport_.requests();
  EXPECT_NE(QueryMap(requests[0])["SignatureNonce"], QueryMap(requests[1])["SignatureNonce"]);
}

TEST_F(EcsClientTest, DescribeGivesUpAfterMaxAttempts) {
  auto client = Make(Options());
  for (int i = 0; i < 3; ++i) {
    transport_.Respond(503, R"({"RequestId":"U","Code":"ServiceUnavailable","Message":"x"})");
  }
  auto page = PumpClock(clock_, [&] { return client->DescribeInstanceStatus({"i-1"}, 1, 10); });
  ASSERT_FALSE(page.has_value());
  EXPECT_EQ(page.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(transport_.request_count(), 3u);
}

TEST_F(EcsClientTest, DescribeRetriesTransportErrors) {
  auto client = Make(Options());
  transport_.Fail(TransportError(ErrorCode::kDeadlineExceeded, true))
      .Respond(200, R"({"RequestId":"S","TotalCount":0,"InstanceStatuses":{"InstanceStatus":[]}})");
  auto page = PumpClock(clock_, [&] { return client->DescribeInstanceStatus({"i-1"}, 1, 10); });
  ASSERT_TRUE(page.has_value()) << page.error().ToString();
  ASSERT_EQ(records().size(), 2u);
  EXPECT_EQ(records()[0].code, "Timeout");
}

TEST_F(EcsClientTest, DescribeDoesNotRetryTerminalErrors) {
  auto client = Make(Options());
  transport_.Respond(400, R"({"RequestId":"R","Code":"InvalidParameter","Message":"bad"})");
  auto page = client->DescribeInstanceStatus({"i-1"}, 1, 10);
  ASSERT_FALSE(page.has_value());
  EXPECT_EQ(page.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(transport_.request_count(), 1u);
}

TEST_F(EcsClientTest, RebootIsNeverRetriedButThrottlingSlowsTheBucket) {
  ratelimit::Limiter limiter(ratelimit::TokenBucketOptions{.start_empty = false}, {}, clock_);
  auto options = Options();
  options.max_attempts = 5;
  auto client = Make(options, {kKeyId, kSecret, ""}, &limiter);
  transport_.Respond(400, R"({"RequestId":"T","Code":"Throttling","Message":"x"})");
  const double before = limiter.Bucket("aliyun.RebootInstance").CurrentRate();
  auto result = client->RebootInstance("i-1", false, false);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kResourceExhausted);
  EXPECT_FALSE(result.error().ambiguous);
  EXPECT_EQ(transport_.request_count(), 1u);
  EXPECT_LT(limiter.Bucket("aliyun.RebootInstance").CurrentRate(), before);
}

TEST_F(EcsClientTest, LimiterScopeSelectsTheBucket) {
  ratelimit::Limiter limiter(ratelimit::TokenBucketOptions{.start_empty = false}, {}, clock_);
  auto options = Options();
  options.limiter_scope = "acct1/cn-shanghai";
  auto client = Make(options, {kKeyId, kSecret, ""}, &limiter);
  transport_.Respond(200, kRebootOk);
  ASSERT_TRUE(client->RebootInstance("i-1", false, false));
  EXPECT_EQ(limiter.Keys(), std::vector<std::string>{"aliyun.RebootInstance@acct1/cn-shanghai"});
}

TEST_F(EcsClientTest, CancelledBeforeSendingOrDuringBackoff) {
  ratelimit::Limiter limiter(ratelimit::TokenBucketOptions{.start_empty = false}, {}, clock_);
  auto client = Make(Options(), {kKeyId, kSecret, ""}, &limiter);
  std::stop_source stop;
  stop.request_stop();
  auto result = client->RebootInstance("i-1", false, false, stop.get_token());
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kCancelled);
  EXPECT_EQ(transport_.request_count(), 0u);

  auto unlimited = Make(Options());
  transport_.Respond(503, R"({"RequestId":"U","Code":"ServiceUnavailable"})");
  auto page = unlimited->DescribeInstanceStatus({"i-1"}, 1, 10, stop.get_token());
  ASSERT_FALSE(page.has_value());
  EXPECT_EQ(page.error().code, ErrorCode::kCancelled);
  EXPECT_EQ(transport_.request_count(), 1u);
}

// ---- secrets ----

// Builds error text that echoes everything the request carried: URL (with Signature and
// SecurityToken), headers (with the ACS3 Authorization), and the raw values.
std::string Echo(const http::Request& r) {
  std::string out = "token=" + std::string(kToken) + " secret=" + kSecret + " url=" + r.url;
  for (const auto& [name, value] : r.headers.items) out += " " + name + ": " + value;
  return out;
}

void ExpectNoSecrets(const std::string& text, const std::vector<std::string>& forbidden) {
  for (const std::string& f : forbidden) {
    EXPECT_EQ(text.find(f), std::string::npos) << "leaked \"" << f << "\" in: " << text;
  }
}

TEST_F(EcsClientTest, SecretsNeverAppearInErrorsOrRecords) {
  using Answer = std::function<Result<http::Response>(const http::Request&)>;
  const std::vector<Answer> answers = {
      [](const http::Request& r) -> Result<http::Response> {
        return tl::unexpected(TransportError(ErrorCode::kUnavailable, true, Echo(r)));
      },
      [](const http::Request& r) -> Result<http::Response> {
        return tl::unexpected(TransportError(ErrorCode::kDeadlineExceeded, false, Echo(r)));
      },
      [](const http::Request& r) -> Result<http::Response> {
        json::Value body = json::Value::MakeObject();
        body.Set("RequestId", "R");
        body.Set("Code", "SignatureDoesNotMatch");
        body.Set("Message",
                 "Specified signature is not matched. server string to sign is:" + Echo(r));
        return JsonResponse(400, body.Dump());
      },
      [](const http::Request& r) -> Result<http::Response> {
        json::Value body = json::Value::MakeObject();
        body.Set("RequestId", Echo(r));
        body.Set("Code", std::string("Weird.") + kToken);
        body.Set("Message", Echo(r));
        return JsonResponse(500, body.Dump());
      },
      [](const http::Request& r) -> Result<http::Response> {
        return JsonResponse(200, "<html>" + Echo(r) + "</html>");
      },
      [](const http::Request& r) -> Result<http::Response> { return JsonResponse(502, Echo(r)); },
      [](const http::Request& r) -> Result<http::Response> {
        return JsonResponse(403, R"({"RequestId":"R","Message":")" + Echo(r) + R"("})");
      },
  };
  for (SignatureMethod method : {SignatureMethod::kRpcV1, SignatureMethod::kAcs3}) {
    for (size_t i = 0; i < answers.size(); ++i) {
      SCOPED_TRACE("answer #" + std::to_string(i));
      std::vector<http::Request> sent;
      http::FunctionTransport transport([&](const http::Request& r) {
        sent.push_back(r);
        return answers[i](r);
      });
      auto options = Options();
      options.signature = method;
      auto client = Make(options, {kKeyId, kSecret, kToken}, nullptr, &transport);
      std::vector<Error> errors;
      // Transient answers are retried with backoff on the manual clock: pump it.
      PumpClock(clock_, [&] {
        auto reboot = client->RebootInstance("i-1", false, false);
        if (!reboot) errors.push_back(reboot.error());
        auto status = client->DescribeInstanceStatus({"i-1"}, 1, 10);
        if (!status) errors.push_back(status.error());
      });
      ASSERT_EQ(errors.size(), 2u);
      ASSERT_FALSE(sent.empty());

      std::vector<std::string> forbidden = {kSecret, kToken, http::PercentEncode(kToken),
                                            http::PercentEncode(http::PercentEncode(kToken))};
      for (const http::Request& r : sent) {
        auto q = QueryMap(r);
        if (q.count("Signature")) {
          forbidden.push_back(q["Signature"]);
          forbidden.push_back(http::PercentEncode(q["Signature"]));
        }
        if (const std::string* auth = r.headers.Get("Authorization")) {
          forbidden.push_back(auth->substr(auth->find("Signature=") + 10));
        }
      }
      for (const Error& e : errors) {
        ExpectNoSecrets(e.ToString(), forbidden);
        ExpectNoSecrets(e.message, forbidden);
        ExpectNoSecrets(e.provider_code, forbidden);
        ExpectNoSecrets(e.provider_request_id, forbidden);
      }
      for (const CallRecord& r : records()) {
        ExpectNoSecrets(r.provider + r.action + r.code, forbidden);
      }
    }
  }
}

}  // namespace
}  // namespace rebootd::cloud::aliyun
