// SPDX-License-Identifier: Apache-2.0
// The verifiers against the vectors in cloud-apis.md (independent of our signers), plus the
// nonce cache and host-port handling.
#include "pkg/sim/auth.h"

#include <gtest/gtest.h>

namespace rebootd::sim {
namespace {

SystemTime At(const char* rfc3339) {
  SystemTime t;
  EXPECT_TRUE(ParseRfc3339(rfc3339, &t)) << rfc3339;
  return t;
}

TEST(SimAuth, Tc3PublishedDerivedVector) {
  KeyStore keys;
  keys.Add({"AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", ""});
  http::ServerRequest request;
  request.method = "POST";
  request.path = "/";
  request.target = "/";
  request.body = R"({"InstanceIdSet":["ein-496721al"],"StopType":"SOFT"})";
  request.headers.Set("Host", "ecm.tencentcloudapi.com");
  request.headers.Set("Content-Type", "application/json; charset=utf-8");
  request.headers.Set("X-TC-Timestamp", "1551113065");
  request.headers.Set("Authorization",
                      "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/"
                      "ecm/tc3_request, SignedHeaders=content-type;host, "
                      "Signature=4570d0d768f394dba7f7716c2c7160673bce2a4329f4e63b7e2c4979d72e0131");
  SystemTime now = std::chrono::system_clock::from_time_t(1551113065 + 120);
  EXPECT_EQ(VerifyTc3(request, keys, now), std::nullopt);
  http::ServerRequest other = request;
  other.headers.Set("Content-Type", "application/json");
  auto error = VerifyTc3(other, keys, now);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code, "AuthFailure.SignatureFailure");
  EXPECT_EQ(error->http_status, 200);
  EXPECT_TRUE(error->auth_failure);
}

TEST(SimAuth, RpcDerivedVectorGetAndPost) {
  KeyStore keys;
  keys.Add({"testid", "testsecret", ""});
  cloud::aliyun::Params params = {{"AccessKeyId", "testid"},
                                  {"Action", "RebootInstance"},
                                  {"ForceStop", "false"},
                                  {"Format", "JSON"},
                                  {"InstanceId", "i-bp67acfmxazb4ph****"},
                                  {"RegionId", "cn-hangzhou"},
                                  {"SignatureMethod", "HMAC-SHA1"},
                                  {"SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"},
                                  {"SignatureVersion", "1.0"},
                                  {"Timestamp", "2016-02-23T12:46:24Z"},
                                  {"Version", "2014-05-26"}};
  SystemTime now = At("2016-02-23T12:50:00Z");
  NonceCache nonces(kNonceTtl, 100);
  params["Signature"] = "xRB1HauIbVVqUJV4Rv3uoVtOWHQ=";
  EXPECT_EQ(VerifyRpc("GET", params, keys, nonces, now, SteadyTime{}), std::nullopt);
  params["Signature"] = "RLlvqjZ7a44D5wqMbYwH4KM/hDE=";
  params["SignatureNonce"] = "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf";
  auto replay = VerifyRpc("POST", params, keys, nonces, now, SteadyTime{});
  ASSERT_TRUE(replay.has_value());  // the signature is right, but the nonce was used
  EXPECT_EQ(replay->code, "SignatureNonceUsed");
  NonceCache fresh(kNonceTtl, 100);
  EXPECT_EQ(VerifyRpc("POST", params, keys, fresh, now, SteadyTime{}), std::nullopt);
  auto wrong_method = VerifyRpc("GET", params, keys, fresh, now, SteadyTime{});
  ASSERT_TRUE(wrong_method.has_value());
  EXPECT_EQ(wrong_method->code, "SignatureDoesNotMatch");
  EXPECT_EQ(wrong_method->message.find("testsecret"), std::string::npos);
}

TEST(SimAuth, Acs3DerivedVector) {
  KeyStore keys;
  keys.Add({"YourAccessKeyId", "YourAccessKeySecret", ""});
  http::ServerRequest request;
  request.method = "POST";
  request.path = "/";
  request.query = "InstanceId.1=i-bp67acfmxazb4ph%2A%2A%2A%2A&RegionId=cn-hangzhou";
  request.headers.Set("host", "ecs.cn-hangzhou.aliyuncs.com");
  request.headers.Set("x-acs-action", "DescribeInstanceStatus");
  request.headers.Set("x-acs-version", "2014-05-26");
  request.headers.Set("x-acs-date", "2023-10-26T10:22:32Z");
  request.headers.Set("x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d");
  request.headers.Set("x-acs-content-sha256",
                      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  request.headers.Set("accept", "application/json");
  request.headers.Set("Authorization",
                      "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;"
                      "x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,"
                      "Signature=72628cd18ec1a79093b1691fffe2d100ba6d8667bea1106605c06b7a3312c024");
  cloud::aliyun::Params query = {{"InstanceId.1", "i-bp67acfmxazb4ph****"},
                                 {"RegionId", "cn-hangzhou"}};
  NonceCache nonces(kNonceTtl, 100);
  SystemTime now = At("2023-10-26T10:30:00Z");
  EXPECT_EQ(VerifyAcs3(request, query, keys, nonces, now, SteadyTime{}), std::nullopt);
  NonceCache fresh(kNonceTtl, 100);
  query["RegionId"] = "cn-shanghai";
  auto error = VerifyAcs3(request, query, keys, fresh, now, SteadyTime{});
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code, "SignatureDoesNotMatch");
  EXPECT_EQ(error->http_status, 400);
}

TEST(SimAuth, NonceCacheExpiresAndIsBounded) {
  NonceCache cache(std::chrono::minutes(31), 3);
  SteadyTime t{};
  EXPECT_TRUE(cache.Use("k", "a", t));
  EXPECT_FALSE(cache.Use("k", "a", t + std::chrono::minutes(30)));
  EXPECT_TRUE(cache.Use("other", "a", t));
  EXPECT_TRUE(cache.Use("k", "a", t + std::chrono::minutes(31)));
  for (int i = 0; i < 10; ++i) cache.Use("k", std::to_string(i), t + std::chrono::minutes(32));
  EXPECT_LE(cache.size(), 3u);
}

TEST(SimAuth, StripPort) {
  EXPECT_EQ(StripPort("127.0.0.1:8080"), "127.0.0.1");
  EXPECT_EQ(StripPort("ecm.tencentcloudapi.com"), "ecm.tencentcloudapi.com");
  EXPECT_EQ(StripPort("[::1]:80"), "[::1]");
  EXPECT_EQ(StripPort("::1"), "::1");
}

}  // namespace
}  // namespace rebootd::sim
