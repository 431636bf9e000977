// SPDX-License-Identifier: Apache-2.0
#include "pkg/cloud/credentials.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdlib>
#include <map>
#include <ostream>
#include <string>

namespace rebootd::cloud {
namespace {

constexpr char kSecret[] = "Sup3rS3cretValue-xyzzy";
constexpr char kToken[] = "STS.T0kenValue-plugh";

Getenv FromMap(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::map<std::string, std::string> AliyunVars() {
  return {{"ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI5tExampleId"},
          {"ALIBABA_CLOUD_ACCESS_KEY_SECRET", kSecret},
          {"ALIBABA_CLOUD_SECURITY_TOKEN", kToken}};
}

std::map<std::string, std::string> TencentVars() {
  return {{"TENCENTCLOUD_SECRET_ID", "AKIDExampleId"},
          {"TENCENTCLOUD_SECRET_KEY", kSecret},
          {"TENCENTCLOUD_TOKEN", kToken}};
}

TEST(ProviderTest, NamesRoundTrip) {
  EXPECT_EQ(ProviderName(Provider::kAliyun), "aliyun");
  EXPECT_EQ(ProviderName(Provider::kTencent), "tencent");
  EXPECT_EQ(ParseProvider("aliyun"), Provider::kAliyun);
  EXPECT_EQ(ParseProvider("tencent"), Provider::kTencent);
  EXPECT_EQ(ParseProvider("Aliyun"), std::nullopt);
  EXPECT_EQ(ParseProvider(""), std::nullopt);
  EXPECT_EQ(ParseProvider("aws"), std::nullopt);
}

TEST(CredentialsFromEnvTest, ReadsAliyunVariables) {
  auto creds = CredentialsFromEnv(Provider::kAliyun, FromMap(AliyunVars()));
  ASSERT_TRUE(creds.has_value()) << creds.error().ToString();
  EXPECT_EQ(creds->key_id, "LTAI5tExampleId");
  EXPECT_EQ(creds->secret, kSecret);
  EXPECT_EQ(creds->token, kToken);
}

TEST(CredentialsFromEnvTest, ReadsTencentVariables) {
  auto creds = CredentialsFromEnv(Provider::kTencent, FromMap(TencentVars()));
  ASSERT_TRUE(creds.has_value()) << creds.error().ToString();
  EXPECT_EQ(creds->key_id, "AKIDExampleId");
  EXPECT_EQ(creds->secret, kSecret);
  EXPECT_EQ(creds->token, kToken);
}

TEST(CredentialsFromEnvTest, TokenIsOptional) {
  auto vars = TencentVars();
  vars.erase("TENCENTCLOUD_TOKEN");
  auto creds = CredentialsFromEnv(Provider::kTencent, FromMap(vars));
  ASSERT_TRUE(creds.has_value());
  EXPECT_TRUE(creds->token.empty());
  vars["TENCENTCLOUD_TOKEN"] = "";
  creds = CredentialsFromEnv(Provider::kTencent, FromMap(vars));
  ASSERT_TRUE(creds.has_value());
  EXPECT_TRUE(creds->token.empty());
}

struct BadVarCase {
  Provider provider;
  std::string variable;
  std::optional<std::string> value;  // nullopt = unset
  std::string expect_in_message;
};

// What ctest's test names show after "# GetParam() =" (by default gtest prints the struct's
// bytes: a 300-character name). Never the value: some cases hold a secret.
void PrintTo(const BadVarCase& c, std::ostream* os) { *os << c.variable; }

class BadVariableTest : public ::testing::TestWithParam<BadVarCase> {};

TEST_P(BadVariableTest, UnauthenticatedNamingTheVariableWithoutTheValue) {
  const BadVarCase& c = GetParam();
  auto vars = c.provider == Provider::kAliyun ? AliyunVars() : TencentVars();
  if (c.value.has_value()) {
    vars[c.variable] = *c.value;
  } else {
    vars.erase(c.variable);
  }
  auto creds = CredentialsFromEnv(c.provider, FromMap(vars));
  ASSERT_FALSE(creds.has_value());
  const std::string text = creds.error().ToString();
  EXPECT_EQ(creds.error().code, ErrorCode::kUnauthenticated);
  EXPECT_NE(text.find(c.variable), std::string::npos) << text;
  EXPECT_NE(text.find(c.expect_in_message), std::string::npos) << text;
  EXPECT_EQ(text.find("Sup3rS3cret"), std::string::npos) << text;
  EXPECT_EQ(text.find("T0kenValue"), std::string::npos) << text;
  EXPECT_EQ(text.find("ExampleId"), std::string::npos) << text;
}

INSTANTIATE_TEST_SUITE_P(
    All, BadVariableTest,
    ::testing::Values(
        BadVarCase{Provider::kAliyun, "ALIBABA_CLOUD_ACCESS_KEY_ID", std::nullopt, "not set"},
        BadVarCase{Provider::kAliyun, "ALIBABA_CLOUD_ACCESS_KEY_SECRET", std::nullopt, "not set"},
        BadVarCase{Provider::kAliyun, "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "", "empty"},
        BadVarCase{Provider::kAliyun, "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "  \t ", "empty"},
        BadVarCase{Provider::kAliyun, "ALIBABA_CLOUD_ACCESS_KEY_SECRET", std::string(" ") + kSecret,
                   "whitespace"},
        BadVarCase{Provider::kAliyun, "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
                   std::string(kSecret) + "\n", "whitespace"},
        BadVarCase{Provider::kAliyun, "ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI5tExampleId ",
                   "whitespace"},
        BadVarCase{Provider::kAliyun, "ALIBABA_CLOUD_SECURITY_TOKEN", std::string(kToken) + " ",
                   "whitespace"},
        BadVarCase{Provider::kAliyun, "ALIBABA_CLOUD_SECURITY_TOKEN", "   ", "empty"},
        BadVarCase{Provider::kTencent, "TENCENTCLOUD_SECRET_ID", std::nullopt, "not set"},
        BadVarCase{Provider::kTencent, "TENCENTCLOUD_SECRET_ID", "", "empty"},
        BadVarCase{Provider::kTencent, "TENCENTCLOUD_SECRET_KEY", std::nullopt, "not set"},
        BadVarCase{Provider::kTencent, "TENCENTCLOUD_SECRET_KEY", "\t", "empty"},
        BadVarCase{Provider::kTencent, "TENCENTCLOUD_SECRET_KEY", std::string("\t") + kSecret,
                   "whitespace"},
        BadVarCase{Provider::kTencent, "TENCENTCLOUD_TOKEN", std::string("\n") + kToken,
                   "whitespace"}),
    // Named by index, variable and expectation: without a name, CMake's test discovery names
    // each case after the parameter's bytes (a 300-character name that padded every ctest line).
    [](const ::testing::TestParamInfo<BadVarCase>& info) {
      std::string name = std::to_string(info.index) + "_" +
                         std::string(ProviderName(info.param.provider)) + "_" +
                         info.param.expect_in_message;
      for (char& ch : name) {
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
      }
      return name;
    });

TEST(CredentialsFromEnvTest, ProcessGetenvReadsTheEnvironment) {
  ::setenv("REBOOTD_CREDENTIALS_TEST_VAR", "value-1", 1);
  ::unsetenv("REBOOTD_CREDENTIALS_TEST_UNSET");
  Getenv getenv = ProcessGetenv();
  EXPECT_EQ(getenv("REBOOTD_CREDENTIALS_TEST_VAR"), "value-1");
  EXPECT_EQ(getenv("REBOOTD_CREDENTIALS_TEST_UNSET"), std::nullopt);
  ::unsetenv("REBOOTD_CREDENTIALS_TEST_VAR");
}

TEST(RedactKeyIdTest, ShowsPrefixAndHashOnly) {
  const std::string id = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
  const std::string redacted = RedactKeyId(id);
  EXPECT_EQ(redacted.rfind("AKID", 0), 0u) << redacted;
  EXPECT_EQ(redacted.find("z8krbs"), std::string::npos) << redacted;
  EXPECT_LT(redacted.size(), 16u);
  EXPECT_EQ(redacted, RedactKeyId(id));  // deterministic
  EXPECT_NE(redacted, RedactKeyId("AKIDotherKeyIdentifier"));
  EXPECT_EQ(RedactKeyId(""), "<none>");
  // A short id never shows more than half of itself.
  EXPECT_EQ(RedactKeyId("abcd").rfind("ab", 0), 0u);
  EXPECT_EQ(RedactKeyId("abcd").find("abc"), std::string::npos);
}

}  // namespace
}  // namespace rebootd::cloud
