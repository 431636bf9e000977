// SPDX-License-Identifier: Apache-2.0
#include "pkg/kube/secrets.h"

#include <gtest/gtest.h>

#include "pkg/crypto/crypto.h"
#include "tests/pkg/kube/kube_test_util.h"

namespace rebootd::kube {
namespace {

using testutil::Call;

std::string SecretJson(const std::map<std::string, std::string>& data) {
  std::string out = R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"creds"},"data":{)";
  bool first = true;
  for (const auto& [k, v] : data) {
    out += (first ? "" : ",") + json::Quote(k) + ":" + json::Quote(v);
    first = false;
  }
  return out + "}}";
}

std::string B64(const std::string& s) { return crypto::Base64Encode(s); }

class SecretCredentialsTest : public ::testing::Test {
 protected:
  testing::FakeTransport transport_;
  ManualClock clock_;
  Client client_{testutil::TestConfig(), transport_, clock_};
  SecretCredentials secrets_{client_};
};

TEST_F(SecretCredentialsTest, TencentAndAliyunKeys) {
  transport_.RespondJson(200,
                         SecretJson({{"secretId", B64("AKIDxyz")},
                                     {"secretKey", B64("s3cr3t-value")},
                                     {"token", B64("tok")}}),
                         Call("GET", "/api/v1/namespaces/ops/secrets/creds"));
  auto t = secrets_.Read(cloud::Provider::kTencent, "ops", "creds");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->key_id, "AKIDxyz");
  EXPECT_EQ(t->secret, "s3cr3t-value");
  EXPECT_EQ(t->token, "tok");
  transport_.RespondJson(
      200, SecretJson({{"accessKeyId", B64("LTAI1")}, {"accessKeySecret", B64("s3cr3t-value")}}));
  auto a = secrets_.Read(cloud::Provider::kAliyun, "ops", "creds");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->key_id, "LTAI1");
  EXPECT_EQ(a->token, "");
}

TEST_F(SecretCredentialsTest, MissingMalformedAndForbiddenAreClearAndNeverLeakValues) {
  transport_.RespondJson(404, testutil::StatusJson(404, "NotFound", "secrets \"creds\" not found"));
  auto missing = secrets_.Read(cloud::Provider::kTencent, "ops", "creds");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message.find("Secret ops/creds"), std::string::npos);

  transport_.RespondJson(200, SecretJson({{"secretId", B64("AKIDxyz")}}));
  auto no_key = secrets_.Read(cloud::Provider::kTencent, "ops", "creds");
  ASSERT_FALSE(no_key);
  EXPECT_EQ(no_key.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(no_key.error().message.find("\"secretKey\""), std::string::npos);

  transport_.RespondJson(
      200, SecretJson({{"secretId", B64("AKIDxyz")}, {"secretKey", "%%%not-base64-s3cr3t"}}));
  auto bad = secrets_.Read(cloud::Provider::kTencent, "ops", "creds");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("base64"), std::string::npos);
  EXPECT_EQ(bad.error().message.find("s3cr3t"), std::string::npos);

  transport_.RespondJson(
      200, SecretJson({{"secretId", B64("AKIDxyz")}, {"secretKey", B64("s3cr3t-value\n")}}));
  auto newline = secrets_.Read(cloud::Provider::kTencent, "ops", "creds");
  ASSERT_FALSE(newline);
  EXPECT_NE(newline.error().message.find("whitespace"), std::string::npos);
  EXPECT_EQ(newline.error().message.find("s3cr3t"), std::string::npos);

  transport_.RespondJson(403, testutil::StatusJson(403, "Forbidden", "cannot get secrets"));
  auto denied = secrets_.Read(cloud::Provider::kAliyun, "ops", "creds");
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code, ErrorCode::kPermissionDenied);
}

}  // namespace
}  // namespace rebootd::kube
